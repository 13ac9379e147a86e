"""Write gv100_power.csv: AccelWattch's measured Quadro GV100 kernel powers for the GEMMs accsim can
express, the calibration set of simulator/tech/chip.yaml mma_residual (benchmarks/gpu_power_fit.py).

Source: the AccelWattch artifact (Kandiah et al., MICRO 2021), accel-sim/accel-sim-framework commit
2260456, util/accelwattch/accelwattch_hw_profiler/: hw_power_validation_volta.csv (mean board power of
5 runs and its standard deviation) and hw_perf.csv (Elapsed_Cycles, Nsight's sm__cycles_elapsed.avg, at
the 1132 MHz clock the runs used). Shapes: util/job_launching/apps/define-power.yml (cutlass_perf_test
--m --n --k, wmma_gemm_nn: fp16 inputs, fp32 accumulation) and the CUDA 11.0 sample cudaTensorCoreGemm
(M_TILES = N_TILES = K_TILES = 256 tiles of 16).

Run: python benchmarks/data/calibration/make_gv100_power.py HW_POWER_CSV HW_PERF_CSV
"""

import csv
import sys
from pathlib import Path

OUT = Path(__file__).parent / "gv100_power.csv"
# measured kernel name -> (hw_perf.csv benchmark, M, N, K)
GEMMS = {
    "cudaTensorCoreGemm_k1": ("cudaTensorCoreGemm", 4096, 4096, 4096),
    "cutlass_k1": ("cutlass_perf_test_k1", 2560, 16, 2560),
    "cutlass_k2": ("cutlass_perf_test_k2", 4096, 128, 4096),
    "cutlass_k3": ("cutlass_perf_test_k3", 2560, 512, 2560),
}


def main(power_csv: str, perf_csv: str) -> None:
    with open(power_csv) as f:
        power = {row[""]: row for row in csv.DictReader(f)}
    with open(perf_csv) as f:
        cycles = {row["Benchmark"]: float(row["Elapsed_Cycles"]) for row in csv.DictReader(f)}
    with OUT.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["kernel", "workload", "cycles", "clock_mhz", "measured_w", "stdev_w"])
        for kernel, (bench, m, n, k) in GEMMS.items():
            row = power[kernel]
            workload = f"gemm:M={m},N={n},K={k},dtype=fp16"
            out.writerow(
                [kernel, workload, cycles[bench], 1132, row["mean HW_power"], row["st_dev"]]
            )


if __name__ == "__main__":
    main(*sys.argv[1:])
