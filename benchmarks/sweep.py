"""Sweep throughput: 1,000 timing-only points of a 1024^3 int8 GEMM, process pool against Dask.

The grid is 5 array heights x 5 widths (16 ... 256) x 8 SRAM sizes (256 KiB ... 32 MiB) x 5 DRAM
bandwidths on the edge NPU, all run with the auto mapping; points whose tiles cannot fit are
failed rows and count like the others. Target: under 60 s per backend on a 2-core machine.
--phases instead prints the CPU milliseconds a point of the shipped array-vs-sram sweep spends in
each phase of a run, in this process, once its caches are warm (the best of three passes).

    python benchmarks/sweep.py [--jobs 2] [--points 1000] [--skip-dask] [--phases]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from simulator.components import build_machine
from simulator.engine import execute
from simulator.mapping import auto, compile_program, plan_cache
from simulator.report import Report
from simulator.spec import load_arch, load_mapping, load_workload
from simulator.sweep import load_sweep, run_sweep
from simulator.sweep.point import flatten_summary, run_point

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


def phases() -> None:
    """CPU ms per point of array-vs-sram by phase, as run_point runs them (timing only): with the
    mapper's memos cleared before each pass (a fresh worker running these 30 points) and kept
    (a worker deep in a long sweep of these shapes)."""
    sweep = load_sweep("array-vs-sram")
    for point in sweep.points:  # warm: tech tables, memoized traffic, code paths
        run_point(point)
    names = ("load specs", "build machine", "compile (auto mapping)", "engine", "summary")
    table = Table(title=f"array-vs-sram: CPU ms per point by phase ({len(sweep.points)} points)")
    table.add_column("phase")
    columns = {"memos cleared each pass": True, "memos kept": False}
    best = {}
    for title, clear in columns.items():
        table.add_column(f"ms per point, {title}", justify="right")
        best[title] = min(
            (_phase_pass(sweep, names, clear) for _ in range(3)),
            key=lambda spent: sum(spent.values()),
        )
    per_point = 1e3 / len(sweep.points)
    for name in names:
        table.add_row(name, *(f"{per_point * best[t][name]:.2f}" for t in columns))
    table.add_row("total", *(f"{per_point * sum(best[t].values()):.2f}" for t in columns))
    Console().print(table)


def _phase_pass(sweep, names: tuple, clear: bool) -> dict:
    """CPU seconds by phase of one pass over the sweep's points."""
    spent = dict.fromkeys(names, 0.0)
    plan_cache._PLANS.clear()  # every point searches its mapping, as in a fresh worker
    if clear:
        _clear_memos()
    for point in sweep.points:
        start = time.process_time()
        arch = load_spec(point, "arch")
        workload = load_spec(point, "workload")
        mapping = load_spec(point, "mapping")
        start = _add(spent, "load specs", start)
        machine = build_machine(arch)
        start = _add(spent, "build machine", start)
        program, _ = compile_program(workload, mapping, machine, False, point.base.seed)
        start = _add(spent, "compile (auto mapping)", start)
        record = execute(program, machine)
        start = _add(spent, "engine", start)
        report = Report(arch.name, workload.name, mapping.name, machine, program, record, None)
        flatten_summary(report.summary)
        _add(spent, "summary", start)
    return spent


def load_spec(point, kind: str):
    """A point's spec as run_point loads it (trees before simulator.sweep.bases: the loaders)."""
    try:
        from simulator.sweep.bases import load_spec as load
    except ImportError:
        load = {"arch": load_arch, "workload": load_workload, "mapping": load_mapping}[kind]
        return load(getattr(point.base, kind), point.overrides(kind))
    return load(point.base, kind, point.overrides(kind))


def _clear_memos() -> None:
    """Empty the auto mapper's memos that outlive a point (those a tree has: the script also
    measures older trees on PYTHONPATH)."""
    for name in ("_ESTIMATES", "_FOOTPRINTS", "_RANKINGS"):
        getattr(auto, name, {}).clear()
    nests = sys.modules.get("simulator.mapping.auto_nest")  # absent from older trees
    for module, name in ((auto, "_least_moved"), (auto, "_moved"), (nests, "_fewest_bytes")):
        memo = getattr(module, name, None)
        if memo is not None:
            memo.cache_clear()


def _add(spent: dict, phase: str, start: float) -> float:
    now = time.process_time()
    spent[phase] += now - start
    return now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="processes that run points (default 2)")
    parser.add_argument("--points", type=int, default=1000, help="run the first N points")
    parser.add_argument("--skip-dask", action="store_true", help="time the process pool only")
    parser.add_argument(
        "--phases", action="store_true", help="CPU per point of array-vs-sram, by phase"
    )
    args = parser.parse_args()
    if args.phases:
        phases()
        return
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
