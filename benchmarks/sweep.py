"""Sweep throughput: 1,000 timing-only points of a 1024^3 int8 GEMM, process pool against Dask.

The grid is 5 array heights x 5 widths (16 ... 256) x 8 SRAM sizes (256 KiB ... 32 MiB) x 5 DRAM
bandwidths on the edge NPU, all run with the auto mapping; points whose tiles cannot fit are
failed rows and count like the others. Target: under 60 s per backend on a 2-core machine.

    python benchmarks/sweep.py [--jobs 2] [--points 1000] [--skip-dask]
"""

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from simulator.sweep import load_sweep, run_sweep

EDGES = [16, 32, 64, 128, 256]
SRAM = ["256 KiB", "512 KiB", "1 MiB", "2 MiB", "4 MiB", "8 MiB", "16 MiB", "32 MiB"]
BANDWIDTH = ["12.8 GB/s", "25.6 GB/s", "51.2 GB/s", "102.4 GB/s", "204.8 GB/s"]


def sweep_spec() -> dict:
    return {
        "name": "bench-1024",
        "base": {"arch": "edge-npu", "workload": "gemm-1024"},
        "grid": {
            "arch.components.mac_array.rows": EDGES,
            "arch.components.mac_array.cols": EDGES,
            "arch.components.sram.capacity": SRAM,
            "arch.components.dram.bandwidth": BANDWIDTH,
        },
    }


def timed_run(sweep, output: Path, **backend) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    outcome = run_sweep(sweep, output, **backend)
    return time.perf_counter() - start, outcome.results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--points", type=int, default=1000, help="run the first N points")
    parser.add_argument("--skip-dask", action="store_true", help="time the process pool only")
    args = parser.parse_args()
    sweep = load_sweep(sweep_spec())
    table = Table(
        title=f"accsim sweep: {args.points:,} timing-only points, 1024³ GEMM, {args.jobs} workers"
    )
    for column in ("backend", "points", "failed", "wall s", "points/s"):
        table.add_column(column, justify="right")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        backends = {"processes": {"jobs": args.jobs}}
        if not args.skip_dask:
            backends["dask LocalCluster"] = {"jobs": args.jobs, "scheduler": "local"}
        for name, backend in backends.items():
            seconds, df = timed_run(
                sweep, Path(folder) / f"{len(results)}.parquet", limit=args.points, **backend
            )
            results[name] = df
            failed = int((df.status != "ok").sum())
            table.add_row(
                name, f"{len(df):,}", f"{failed:,}", f"{seconds:.1f}", f"{len(df) / seconds:,.1f}"
            )
    console = Console()
    console.print(table)
    frames = list(results.values())
    if len(frames) == 2:
        same = frames[0].equals(frames[1])
        console.print(f"rows identical across backends: {same}")


if __name__ == "__main__":
    main()
