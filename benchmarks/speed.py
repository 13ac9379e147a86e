"""Simulator speed against the targets of issue #13: wall time and engine events per case.

Engine rows run simulate() in this process, timing only (with --before, also with the engine's
steady-state coalescing off, or for the GPU-like rows with every SM simulated on its own instead
of as core classes, on the same machine in the same run); process rows time a fresh `accsim`
command; the sweep row runs the shipped array-vs-sram sweep (timing only) with jobs=2 (the
parent and one forked worker run points; before the parent ran points too, two workers did);
numerics rows compare a run with tile kernels to one float64 numpy matmul of the whole problem;
check rows time the numerics check alone, in CPU seconds on one thread.
The machine this runs on may be shared: rerun on a quiet machine before quoting a number.

    python benchmarks/speed.py [--rows engine process sweep numerics check] [--skip-slow] [--before]
                               [--cases TEXT ...]
"""

import argparse
import contextlib
import functools
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

import simulator
import simulator.api
from simulator.engine import memo
from simulator.sweep import load_sweep, run_sweep


def _edge(size: int):
    """edge-npu with a size x size MAC array."""
    unit = ["components", "mac_array"]
    return simulator.load_arch("edge-npu", [(unit + ["rows"], size), (unit + ["cols"], size)])


def _gemm(m: int, n: int, k: int, dtype: str) -> str:
    return f"gemm:M={m},N={n},K={k},dtype={dtype}"


SCALESIM = "SCALE-Sim 1024³, 32x32 os (per-operand DRAM interfaces)"
ENGINE = [  # (case, arch, workload, target seconds, slow: left out by --skip-slow)
    (
        "datacenter-hbm LLaMA-2-7B decode, 32 layers",
        lambda: "datacenter-hbm",
        lambda: simulator.load_workload("llama-2-7b-decode", [(["layers"], 32)]),
        None,
        False,
    ),
    (
        "datacenter-hbm LLaMA-2-7B prefill, 8 layers",
        lambda: "datacenter-hbm",
        lambda: simulator.load_workload("llama-2-7b-prefill", [(["layers"], 8)]),
        None,
        False,
    ),
    (
        "edge-npu 32x32, 16384³ int8",
        lambda: _edge(32),
        _gemm(16384, 16384, 16384, "int8"),
        0.2,
        False,
    ),
    (SCALESIM, lambda: _scalesim_specs()[0], lambda: _scalesim_specs()[1], None, False),
    ("a100-like 4096³ fp16", lambda: "a100-like", _gemm(4096, 4096, 4096, "fp16"), 0.5, False),
    (
        "h100-like LLaMA-2-7B decode, 32 layers",
        lambda: "h100-like",
        lambda: simulator.load_workload("llama-2-7b-decode", [(["layers"], 32)]),
        2.0,
        False,
    ),
    (
        "a100-like 8192x12288x12288 fp16",
        lambda: "a100-like",
        _gemm(8192, 12288, 12288, "fp16"),
        2.0,
        True,
    ),
    (
        "a100x4-nvlink GPT-3 175B prefill layer",
        lambda: "a100x4-nvlink",
        "gpt-3-175b-prefill",
        10.0,
        True,
    ),
]
MAPPINGS = {SCALESIM: lambda: _scalesim_specs()[2]}  # case -> its mapping (others: auto)
MULTICORE = {"a100-like", "h100-like"}  # NoC and L2: --before reruns them per core, not as classes
PROCESS = [  # (case, argv, target seconds); SCALE-Sim's files are written by _scalesim_files
    ("accsim --help", ["--help"], 0.3),
    (
        "accsim run tpu-v1-like gemm-1024 --no-numerics",
        ["run", "tpu-v1-like", "gemm-1024", "--no-numerics"],
        0.5,
    ),
    (
        "accsim run run.cfg topo.csv --no-numerics (SCALE-Sim 1024³, 32x32 os)",
        ["run", "run.cfg", "topo.csv", "--no-numerics"],
        0.5,
    ),
]
NUMERICS = [256, 2048]  # GEMM edge on a 32x32 array, int8 and fp16
SAMPLED = (4096, 4096, 1024)  # 2^34 MACs: numerics=True checks a sample of its output tiles


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


class _Rows(Table):
    """The result table, each row also printed as it lands (a slow run still shows its progress)."""

    def add_row(self, *cells: str) -> None:
        super().add_row(*cells)
        print(" | ".join(cells), flush=True)


def _target(seconds: float | None) -> str:
    return f"< {seconds:g} s" if seconds is not None else "-"


@contextlib.contextmanager
def _execute_with(**option: bool):
    """simulate() with one engine option changed: `coalesce=False` runs every step as events,
    `classes=False` every core of a CTA kernel on its own (no core classes)."""
    execute = simulator.api.execute
    simulator.api.execute = functools.partial(execute, **option)
    try:
        yield
    finally:
        simulator.api.execute = execute


def _engine_run(arch, workload, mapping=None) -> tuple[int, float, float]:
    """Events, wall seconds and CPU seconds of one timing-only simulate() (CPU time stays
    comparable when other work shares the machine; wall time does not)."""
    cpu = time.process_time()
    report, seconds = _timed(lambda: simulator.simulate(arch(), workload, mapping, numerics=False))
    chip = getattr(report, "chip", report)  # a system's: its chip run's (its links run apart)
    return chip.record.events_processed, seconds, time.process_time() - cpu


def engine_rows(table: Table, skip_slow: bool, before: bool, cases: list[str] | None) -> None:
    for case, arch, workload, target, slow in ENGINE:
        if (slow and skip_slow) or (cases and not any(c in case for c in cases)):
            continue
        spec = workload() if callable(workload) else workload
        mapping = MAPPINGS[case]() if case in MAPPINGS else None
        off = ("-", "-")
        if before and isinstance(arch(), str) and arch() in MULTICORE:
            with _execute_with(classes=False):
                events, seconds, cpu = _engine_run(arch, spec)
            off = (f"{events:,}", f"{seconds:.2f} ({cpu:.2f} CPU)")
        elif before and not slow:
            with _execute_with(coalesce=False):
                events, seconds, _ = _engine_run(arch, spec, mapping)
            off = (f"{events:,}", f"{seconds:.2f}")
        events, seconds, cpu = _engine_run(arch, spec, mapping)
        note = f"in process; {cpu:.2f} s CPU"
        table.add_row(case, *off, f"{events:,}", f"{seconds:.2f}", _target(target), note)


def _scalesim_files(folder: Path) -> None:
    """vs_scalesim.py's --big case as SCALE-Sim files: 1024³ on a 32x32 output-stationary array,
    8 MiB SRAMs (run.cfg, topo.csv in `folder`)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_scalesim_golden import cfg_text, gemm_topology, make_config

    config = make_config("bench", 32, 32, "os", ifmap_kb=8192, filter_kb=8192, ofmap_kb=8192)
    (folder / "run.cfg").write_text(cfg_text(config))
    (folder / "topo.csv").write_text(gemm_topology([("g", 1024, 1024, 1024)]))


@functools.cache
def _scalesim_specs() -> tuple:
    """The (arch, workload, mapping) specs SCALE-Sim's 1024³ files import to."""
    from simulator.spec.scalesim import import_scalesim

    with tempfile.TemporaryDirectory() as folder:
        _scalesim_files(Path(folder))
        arch, workload, mapping = import_scalesim(Path(folder, "run.cfg"), Path(folder, "topo.csv"))
    return simulator.load_arch(arch), simulator.load_workload(workload), mapping


def process_rows(table: Table) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _scalesim_files(Path(folder))
        for case, argv, target in PROCESS:
            _process_row(table, case, argv, target, Path(folder))


def _process_row(table: Table, case: str, argv: list[str], target: float, folder: Path) -> None:
    """One fresh `accsim` process as a user runs it (in `folder`): wall and CPU seconds."""
    command = [str(Path(sys.executable).parent / "accsim"), *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    _, seconds = _timed(
        lambda: subprocess.run(command, capture_output=True, check=True, cwd=folder)
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    table.add_row(
        case, "-", "-", "-", f"{seconds:.2f}", _target(target), f"process wall; {cpu:.2f} s CPU"
    )


def sweep_rows(table: Table) -> None:
    """The sweep's wall time, every process's CPU, and what the kernel spent of it (page faults
    after the fork, mostly: they grow with the memory the process held before, see
    docs/performance.md) with the parent's anonymous memory at the start."""
    sweep = load_sweep("array-vs-sram")
    held = _anonymous_mb()
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    parent = time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        outcome, seconds = _timed(lambda: run_sweep(sweep, Path(folder) / "out.csv", jobs=2))
    parent = time.process_time() - parent
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(getattr(after[1], f) - getattr(before[1], f) for f in ("ru_utime", "ru_stime"))
    total = cpu + parent  # the parent runs points too and writes the results
    kernel = sum(a.ru_stime - b.ru_stime for a, b in zip(after, before))
    faults = sum(a.ru_minflt - b.ru_minflt for a, b in zip(after, before))
    rate = outcome.ran / seconds
    table.add_row(
        f"sweep array-vs-sram, {outcome.ran} points, jobs=2",
        "-",
        "-",
        "-",
        f"{seconds:.2f}",
        "≥ 300 points/s",
        f"{rate:.0f} points/s; forked workers {cpu:.2f} s CPU "
        f"({1e3 * cpu / outcome.ran:.1f} ms/point), "
        f"with the parent's {total:.2f} s ({1e3 * total / outcome.ran:.1f} ms/point); "
        f"{1e3 * kernel:.0f} ms of it in the kernel, {faults:,} page faults; "
        f"the parent held {held:.0f} MB",
    )


def _anonymous_mb() -> float:
    """This process's anonymous resident memory (heap) in MB (Linux; NaN elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return float("nan")
    kib = next((line.split()[1] for line in status if line.startswith("RssAnon:")), "nan")
    return float(kib) / 1024


def numerics_rows(table: Table) -> None:
    """Wall time against one threaded float64 matmul's; CPU time (all threads) against one
    matmul's CPU on one BLAS thread, which a loaded machine blurs less."""
    from threadpoolctl import threadpool_limits

    for size in NUMERICS:
        a = np.random.default_rng(0).standard_normal((size, size))
        _, matmul = _timed(lambda a=a: a @ a)
        with threadpool_limits(limits=1, user_api="blas"):
            matmul_cpu = _best_cpu(lambda a=a: a @ a)
        for dtype in ("int8", "fp16"):
            workload = _gemm(size, size, size, dtype)
            cpu = time.process_time()
            _, seconds = _timed(lambda w=workload: simulator.simulate(_edge(32), w, numerics=True))
            cpu = time.process_time() - cpu
            table.add_row(
                f"numerics {size}³ {dtype} on 32x32",
                "-",
                "-",
                "-",
                f"{seconds:.2f}",
                "≤ 2x one matmul",
                f"{seconds / matmul:.1f}x one f64 matmul ({matmul:.2f} s), check included; "
                f"{cpu:.2f} s CPU (all threads), {cpu / matmul_cpu:.1f}x one f64 matmul's CPU "
                f"on one thread ({matmul_cpu:.2f} s)",
            )
    workload = _gemm(*SAMPLED, "fp16")
    cpu = time.process_time()
    _, seconds = _timed(lambda: simulator.simulate(_edge(32), workload, numerics=True))
    table.add_row(
        "numerics {}x{}x{} fp16 on 32x32, sampled check".format(*SAMPLED),
        "-",
        "-",
        "-",
        f"{seconds:.2f}",
        "-",
        f"{time.process_time() - cpu:.2f} s CPU (all threads), check included",
    )
    # the 2048³ fp16 run's own numerics (operands and tile kernels), its check left out: CPU on one
    # BLAS thread against one float64 matmul's on one thread, best of three
    workload = _gemm(NUMERICS[-1], NUMERICS[-1], NUMERICS[-1], "fp16")
    from simulator.numerics.gemm import GemmNumerics

    with threadpool_limits(limits=1, user_api="blas"):
        timing = _best_cpu(lambda: simulator.simulate(_edge(32), workload, numerics=False))
        with (
            _patched(GemmNumerics, "check", lambda self: None),
            _patched(simulator.api, "references_ahead", lambda gemms: None),
        ):
            kernels = _best_cpu(lambda: simulator.simulate(_edge(32), workload, numerics=True))
    table.add_row(
        f"numerics {NUMERICS[-1]}³ fp16 on 32x32, operands and tile kernels (no check)",
        "-",
        "-",
        "-",
        "-",
        "≤ 2x one matmul",
        f"{kernels:.2f} s CPU, {kernels / matmul_cpu:.1f}x one f64 matmul's CPU on one thread "
        f"(timing only: {timing:.2f} s)",
    )
    # the 2048³ fp16 run with its check's references computed after the engine, on the main thread
    with _patched(simulator.api, "references_ahead", lambda gemms: None):
        cpu = time.process_time()
        _, seconds = _timed(lambda: simulator.simulate(_edge(32), workload, numerics=True))
        cpu = time.process_time() - cpu
    table.add_row(
        f"numerics {NUMERICS[-1]}³ fp16 on 32x32, references after the engine",
        "-",
        "-",
        "-",
        f"{seconds:.2f}",
        "-",
        f"{seconds / matmul:.1f}x one f64 matmul, check included; {cpu:.2f} s CPU (all threads)",
    )
    # the same run on a threaded BLAS, as before threadpoolctl limited the kernels and the check
    with (
        _patched(memo, "_tile_kernels", _unlimited),
        _patched(simulator.api, "_one_blas_thread", _unlimited),
    ):
        _, seconds = _timed(lambda: simulator.simulate(_edge(32), workload, numerics=True))
    table.add_row(
        f"numerics {NUMERICS[-1]}³ fp16 on 32x32, threaded BLAS",
        "-",
        "-",
        "-",
        f"{seconds:.2f}",
        "-",
        f"{seconds / matmul:.1f}x one f64 matmul, check included",
    )


def _unlimited(*args) -> contextlib.AbstractContextManager:
    """BLAS threads left as they are (in place of a threadpoolctl limit)."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def _patched(module, name: str, value):
    """`module.name` replaced by `value` while the block runs."""
    kept = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, kept)


def check_rows(table: Table) -> None:
    """CPU seconds of the numerics check alone (GemmNumerics.check on a finished 2048³ GEMM), one
    BLAS thread, best of three, beside one float64 matmul of the same size on one thread: CPU time
    on one thread is what a loaded machine does not blur."""
    from threadpoolctl import threadpool_limits

    from simulator.numerics.gemm import GemmNumerics

    size = NUMERICS[-1]
    with threadpool_limits(limits=1, user_api="blas"):
        _check_memory_row(table)
        _requantized_check_row(table)
        a = np.random.default_rng(0).standard_normal((size, size))
        matmul = _best_cpu(lambda: a @ a)
        for dtype, accumulator in (("int8", "int32"), ("fp16", "fp32")):
            state = GemmNumerics(size, size, size, dtype, accumulator, seed=0)
            state.tile((0, size), (0, size), (0, size))  # the kernels' sums, as one tile
            seconds = _best_cpu(state.check)
            table.add_row(
                f"numerics check alone, {size}³ {dtype}",
                "-",
                "-",
                "-",
                f"{seconds:.2f}",
                "-",
                f"CPU s, one thread; one f64 matmul {matmul:.2f} s CPU ({seconds / matmul:.1f}x)",
            )


def _check_memory_row(table: Table) -> None:
    """How much the full check of a 4096x4096x1024 fp16 GEMM raises the process's peak memory
    (first in its process, so the peak is the check's own)."""
    from simulator.numerics.gemm import GemmNumerics

    m, n, k = SAMPLED
    state = GemmNumerics(m, n, k, "fp16", "fp32", seed=0)
    state.tile((0, m), (0, n), (0, k))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = _best_cpu(state.check, repeats=1)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    table.add_row(
        f"numerics check alone, {m}x{n}x{k} fp16, all outputs",
        "-",
        "-",
        "-",
        f"{seconds:.2f}",
        "-",
        f"CPU s, one thread; peak memory +{grown:.0f} MiB",
    )


def _requantized_check_row(table: Table) -> None:
    """CPU seconds and added peak memory of the full check of a 4096x4096x1024 int8 GEMM with an
    int32 accumulator and int8 output (requantized with one per-tensor scale). tracemalloc sees
    numpy's buffers and starts after the GEMM's own arrays, so its peak is the check's alone."""
    from simulator.numerics.gemm import GemmNumerics

    m, n, k = SAMPLED
    state = GemmNumerics(m, n, k, "int8", "int32", seed=0, output="int8")
    state.tile((0, m), (0, n), (0, k))
    tracemalloc.start()
    start = time.process_time()
    state.check()
    seconds = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    table.add_row(
        f"numerics check alone, {m}x{n}x{k} int8 -> int8, all outputs",
        "-",
        "-",
        "-",
        f"{seconds:.2f}",
        "-",
        f"CPU s, one thread; peak memory +{peak:.0f} MiB (tracemalloc)",
    )


def _best_cpu(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        nargs="+",
        default=["engine", "process", "sweep", "numerics", "check"],
        choices=["engine", "process", "sweep", "numerics", "check"],
    )
    parser.add_argument(
        "--skip-slow", action="store_true", help="leave out the slowest row (minutes today)"
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="also run each engine row with coalescing off (every step as events)",
    )
    parser.add_argument(
        "--cases", nargs="+", help="only the engine rows whose case contains one of these"
    )
    args = parser.parse_args()
    table = _Rows(title="accsim speed (wall seconds on this machine; events = simpy events run)")
    columns = ("case", "events, off", "seconds, off", "events", "seconds", "target", "note")
    for column in columns:
        numeric = column.startswith(("events", "seconds"))
        table.add_column(column, justify="right" if numeric else "left")
    rows = {
        "engine": lambda: engine_rows(table, args.skip_slow, args.before, args.cases),
        "process": lambda: process_rows(table),
        "sweep": lambda: sweep_rows(table),
        "numerics": lambda: numerics_rows(table),
        "check": lambda: check_rows(table),
    }
    for name in args.rows:
        rows[name]()
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
