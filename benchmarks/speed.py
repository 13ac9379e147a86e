"""Simulator speed: wall time and simulated tiles per second for GEMMs 256^3 ... 4096^3.

Runs each GEMM on a 32x32 and a 128x128 array (edge-npu and datacenter-hbm with the array size
overridden), timing-only and with numerics, and prints one table. The peer column is one float64
numpy matmul of the whole problem, timed in the same process: the numerics target is <= 3x of it.

    python benchmarks/speed.py [--sizes 256 1024 4096]
"""

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

import simulator

ARRAYS = {32: "edge-npu", 128: "datacenter-hbm"}


def _arch(edge: int):
    unit = {"edge-npu": "mac_array", "datacenter-hbm": "mxu"}[ARRAYS[edge]]
    return simulator.load_arch(
        ARRAYS[edge], [(["components", unit, "rows"], edge), (["components", unit, "cols"], edge)]
    )


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    args = parser.parse_args()
    table = Table(title="accsim speed (wall seconds; tiles/s = simulated SRAM tiles per second)")
    for column in (
        "GEMM",
        "array",
        "tiles",
        "events",
        "timing-only s",
        "tiles/s",
        "events/s",
        "numerics s",
        "numpy f64 matmul s",
        "numerics / matmul",
    ):
        table.add_column(column, justify="right")
    for size in args.sizes:
        a = np.random.default_rng(0).standard_normal((size, size))
        _, matmul_s = _timed(lambda a=a: a @ a)
        for edge in ARRAYS:
            arch = _arch(edge)
            workload = f"gemm:M={size},N={size},K={size},dtype=int8"
            report, timing_s = _timed(
                lambda arch=arch, workload=workload: simulator.simulate(arch, workload, numerics=False)
            )
            tiles = report.record.steps
            events = report.record.events_processed
            _, numerics_s = _timed(
                lambda arch=arch, workload=workload: simulator.simulate(arch, workload, numerics="full")
            )
            table.add_row(
                f"{size}³",
                f"{edge}x{edge}",
                f"{tiles:,}",
                f"{events:,}",
                f"{timing_s:.3f}",
                f"{tiles / timing_s:,.0f}",
                f"{events / timing_s:,.0f}",
                f"{numerics_s:.2f}",
                f"{matmul_s:.2f}",
                f"{numerics_s / matmul_s:.1f}x",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
