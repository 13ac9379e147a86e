"""Write h100_deepgemm.csv: DeepGEMM's fp8 GEMMs on an H800 SXM5 (M = 64 and 128) as a
calibration subset for h100-like's per-kernel cost, to compare with the vidur fit (h100_gemv.csv).

Both sources time kernels, not the host: DeepGEMM's `bench_kineto` and vidur's default
`record_function` method read the kernels' durations from a PyTorch profiler trace. So
`accsim calibrate h100-like h100_deepgemm.csv --efficiency 0.9` (the preset's DRAM efficiency)
fits what DeepGEMM's kernels cost each beyond streaming their bytes; h100-like keeps the vidur
fit, which whole-model CUDA-graph runs bear out (docs/validation.md, `kernel_cost.py`). The rows
come from benchmarks/data/short_gemms_h100.csv, which cites them.
"""

import csv
import sys
from pathlib import Path

from simulator.sweep.calibrate import write_measurements

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))
import short_gemms  # noqa: E402  (a script in benchmarks/, not a package)


def rows():
    with short_gemms.DATA.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["source"].startswith("deepseek-ai/DeepGEMM"):
                shape = f"M={row['M']},N={row['N']},K={row['K']}"
                dtypes = f"dtype={row['dtype']},output_dtype={row['output_dtype']}"
                yield f"gemm:{shape},{dtypes}", short_gemms.published_seconds(row)


if __name__ == "__main__":
    write_measurements(HERE / "h100_deepgemm.csv", rows())
