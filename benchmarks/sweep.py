"""Sweep throughput: 1,000 timing-only points of a 1024^3 int8 GEMM, process pool against Dask.

The grid is 5 array heights x 5 widths (16 ... 256) x 8 SRAM sizes (256 KiB ... 32 MiB) x 5 DRAM
bandwidths on the edge NPU, all run with the auto mapping; points whose tiles cannot fit are
failed rows and count like the others. Target: under 60 s per backend on a 2-core machine.
--phases instead prints the CPU milliseconds a point of the shipped array-vs-sram sweep spends in
each phase of a run, in this process, once its caches are warm (the best of three passes).
--serial runs array-vs-sram once on 2 processes (run it in a fresh process, as a user does) and
prints its wall time, every process's CPU, the parent's serial CPU (until it begins its own
first point, the workers started, and after the last row lands: no other process computes then)
and the points/s two idle cores would give: serial + (CPU - serial) / 2, for a loaded machine
where the wall time measures the other jobs.

    python benchmarks/sweep.py [--jobs 2] [--points 1000] [--skip-dask] [--phases | --serial]
"""

import argparse
import resource
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
from simulator.sweep import run as sweep_run
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


def serial() -> None:
    """One 2-process run of array-vs-sram: wall, CPU and serial CPU in ms, 2-core points/s."""
    sweep = load_sweep("array-vs-sram")
    marks: dict[str, float] = {}

    def first(point):  # notes when this process begins its own first point: the workers began
        marks.setdefault("handed", time.process_time())
        return run_point(point)

    def landed(done: int, total: int, row: dict) -> None:
        marks["last"] = time.process_time()

    sweep_run.run_point = first
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as folder:
        start, wall = time.process_time(), time.perf_counter()
        run_sweep(sweep, Path(folder) / "out.csv", jobs=2, progress=landed)
        end, wall = time.process_time(), time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (
        end
        - start
        + sum(getattr(after, f) - getattr(children, f) for f in ("ru_utime", "ru_stime"))
    )
    before, tail = marks["handed"] - start, end - marks["last"]
    two_cores = before + tail + (cpu - before - tail) / 2
    points = len(sweep.points)
    table = Table(title=f"array-vs-sram, {points} points, jobs=2 (ms)")
    for column in ("wall", "CPU", "CPU/point", "serial: before", "serial: after", "2-core"):
        table.add_column(column, justify="right")
    table.add_column("2-core points/s", justify="right")
    cells = (wall, cpu, cpu / points, before, tail, two_cores)
    table.add_row(*(f"{1e3 * value:.1f}" for value in cells), f"{points / two_cores:.0f}")
    Console().print(table)


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
    parser.add_argument(
        "--serial",
        action="store_true",
        help="array-vs-sram on 2 processes: CPU, serial CPU and the 2-core points/s they give",
    )
    args = parser.parse_args()
    if args.phases:
        phases()
        return
    if args.serial:
        serial()
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
