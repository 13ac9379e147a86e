"""Write a100_vector.csv: the calibration subset for a100-like's DRAM efficiency and launch cost.

The rows are LLMCompass's A100 measurements (benchmarks/data/llmcompass, ISCA 2024 Fig. 5) of
softmax, LayerNorm and GELU with 32-64 Mi fp16 elements: large enough that the per-kernel fixed
cost is a few percent, small enough to simulate in seconds. `accsim calibrate a100-like
benchmarks/data/calibration/a100_vector.csv` fits the constants on them; the other validation
rows (validate.py's default and llmcompass suites) stay held out, except these ten.
"""

import csv
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE.parent / "llmcompass"
LOW, HIGH = 32 * 2**20, 64 * 2**20  # elements


def rows():
    def read(name):
        lines = (SOURCE / name).read_text().splitlines()
        return [[float(cell) for cell in line.split(",")] for line in lines if line.strip()]

    for kind in ("softmax", "layernorm"):
        for m, n, throughput in read(f"{kind}_A100.csv"):
            if LOW <= m * n <= HIGH:
                yield f"{kind}:rows={int(m)},cols={int(n)},dtype=fp16", m * n / (throughput * 1e9)
    for elements, throughput in read("gelu_A100.csv"):
        if LOW <= elements <= HIGH:
            yield (
                f"gelu:rows={int(elements) // 1024},cols=1024,dtype=fp16",
                elements / (throughput * 1e9),
            )


if __name__ == "__main__":
    with (HERE / "a100_vector.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["workload", "seconds"])
        for workload, seconds in rows():
            writer.writerow([workload, f"{seconds:.6e}"])
