"""Write a100_vector.csv: the calibration subset for a100-like's DRAM efficiency.

The rows are LLMCompass's A100 80 GB measurements (benchmarks/data/llmcompass, ISCA 2024 Fig. 5)
of GELU on fp16 vectors of at least 128 Mi elements: an elementwise op streams its input and
output once (a STREAM-like kernel), and at these sizes the fixed cost of one launch plus the
harness's host synchronisation is a few percent. Softmax and LayerNorm are left out: their times
depend on the row shape at equal bytes (LayerNorm 4096 x 32768 takes 1.9x 32768 x 4096), a kernel
choice the model does not have. `accsim calibrate a100-like a100_vector.csv` fits on these rows;
every other validation row stays held out.
"""

from pathlib import Path

from simulator.sweep.calibrate import write_measurements

HERE = Path(__file__).parent
SOURCE = HERE.parent / "llmcompass" / "gelu_A100.csv"
SMALLEST = 128 * 2**20  # elements
ROW = 1024  # validate.py simulates a GELU over n elements as (n / 1024) x 1024


def rows():
    for line in SOURCE.read_text().splitlines():
        if not line.strip():
            continue
        elements, throughput = (float(cell) for cell in line.split(","))
        if elements >= SMALLEST:
            workload = f"gelu:rows={int(elements) // ROW},cols={ROW},dtype=fp16"
            yield workload, elements / (throughput * 1e9)


if __name__ == "__main__":
    write_measurements(HERE / "a100_vector.csv", rows())
