"""Write h100_gemv.csv (and a100_gemv.csv): calibration subsets for a GPU-like preset's DRAM
efficiency and per-kernel cost.

The rows are vidur's measurements (benchmarks/data/vidur_kernels.csv, MLSys 2024 artefact) of
LLaMA-2-7B's four projections at one token: fp16 GEMVs of 34-180 MB that stream their weights
once, so their times are bytes over the achievable bandwidth plus a fixed device-side cost per
kernel (ramp and tail), the two constants `accsim calibrate h100-like h100_gemv.csv` fits. The
other models' GEMVs in the same file (phi-2 to Qwen-72B, 13-940 MB) stay held out. h100-like
holds the H100 fit, a100-like the A100 one (its efficiency, 0.80, agrees with the GELU fit of
a100_vector.csv).
"""

import csv
from pathlib import Path

from simulator.sweep.calibrate import write_measurements

HERE = Path(__file__).parent
SOURCE = HERE.parent / "vidur_kernels.csv"
MODEL, TOKENS = "meta-llama/Llama-2-7b-hf", 1


def rows(gpu: str):
    with SOURCE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["gpu"], row["model"], int(row["M"])) == (gpu, MODEL, TOKENS):
                workload = f"gemm:M={row['M']},N={row['N']},K={row['K']},dtype=fp16"
                yield workload, float(row["median_ms"]) / 1e3


if __name__ == "__main__":
    for gpu in ("h100", "a100"):
        write_measurements(HERE / f"{gpu}_gemv.csv", rows(gpu))
