"""Write b200_stream.csv: the calibration subset for b200-like's DRAM efficiency and per-kernel
cost, and print the streaming rate each B200 row-reduction kernel reaches.

The rows are LinkedIn Liger-Kernel's B200 forward medians (triton.testing.do_bench) in
benchmark/data/all_benchmark_data_cutile.csv at commit ead96b618e5c (github.com/linkedin/
Liger-Kernel), softmax over (T, 4096) bf16 tensors, T = 1024 to 8192, written by
benchmark/scripts/benchmark_softmax.py at 7a12e092. cuTile's softmax is the fastest B200 kernel
in that file on these bytes (one read and one write of each element, a STREAM-like "scale"):
`accsim calibrate b200-like b200_stream.csv` fits on it, each row simulated as one elementwise op
moving the same bytes (as validate.py's gpu-stream rows). The other kernels are printed beside it
to show how far a kernel's own code sets its rate on the same chip; every published_b200.yaml row
but the four calibration ones stays held out.
"""

from pathlib import Path

import numpy as np

from simulator.sweep.calibrate import write_measurements

HERE = Path(__file__).parent
COLS, BYTES = 4096, 2  # bf16 elements of a row
T = (1024, 2048, 4096, 8192)
# y_value_50 in ms, forward, NVIDIA B200 (softmax 2026-07-24, layer_norm 2026-06-16)
MEDIAN_MS = {
    ("softmax", "liger_cutile"): (
        0.010239999741315842,
        0.01228800043463707,
        0.016383999958634377,
        0.026655999943614006,
    ),
    ("softmax", "liger_triton"): (
        0.010239999741315842,
        0.01228800043463707,
        0.018464000895619392,
        0.028704000636935234,
    ),
    ("softmax", "torch"): (
        0.02051199972629547,
        0.03280000016093254,
        0.05536000058054924,
        0.10444799810647964,
    ),
    ("layer_norm", "liger_cutile"): (
        0.01228800043463707,
        0.014368000440299511,
        0.022447999566793442,
        0.03484800085425377,
    ),
    ("layer_norm", "liger_triton"): (
        0.022688000462949276,
        0.01740800030529499,
        0.02454400062561035,
        0.038943998515605927,
    ),
    ("layer_norm", "torch"): (
        0.016448000445961952,
        0.028672000393271446,
        0.03891199827194214,
        0.0634239986538887,
    ),
}
CALIBRATION = ("softmax", "liger_cutile")


def moved(rows: int) -> int:
    """DRAM bytes of a row kernel over (rows, COLS): each element read once and written once."""
    return 2 * rows * COLS * BYTES


def line_fit(times_s) -> tuple[float, float]:
    """Least-squares seconds = bytes / rate + intercept over T: (rate in B/s, intercept in s)."""
    slope, intercept = np.polyfit([moved(t) for t in T], times_s, 1)
    return 1 / slope, intercept


def rows():
    for t, ms in zip(T, MEDIAN_MS[CALIBRATION], strict=True):
        yield f"relu:rows={t},cols={COLS},dtype=bf16", ms / 1e3


if __name__ == "__main__":
    write_measurements(HERE / "b200_stream.csv", rows())
    print(f"{'kernel':<12} {'provider':<13} {'TB/s':>6} {'of 8 TB/s':>9} {'intercept':>10}")
    for (kernel, provider), medians in MEDIAN_MS.items():
        rate, intercept = line_fit([ms / 1e3 for ms in medians])
        print(
            f"{kernel:<12} {provider:<13} {rate / 1e12:6.2f} {rate / 8e12:9.3f}"
            f" {intercept * 1e6:7.2f} us"
        )
