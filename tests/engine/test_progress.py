"""Progress: a run reports each phase from 0 to its total, never backwards, in units a reader can
derive (a GEMM's M N K MACs); the CLI shows a bar only on a terminal, never in piped output."""

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console

import simulator
from simulator.engine.progress import Progress
from simulator.report.progress import ProgressBar
from simulator.spec import load_workload


def _calls(*args, **kwargs):
    calls = []
    simulator.simulate(*args, progress=lambda *c: calls.append(c), **kwargs)
    return calls


def _phases(calls):
    """phase -> its calls' (done, total), in the order the phases came."""
    phases: dict[str, list] = {}
    for phase, done, total in calls:
        phases.setdefault(phase, []).append((done, total))
    return phases


def _assert_monotonic_to_completion(points):
    totals = {total for _, total in points}
    assert len(totals) == 1
    (total,) = totals
    dones = [done for done, _ in points]
    assert dones[0] == 0 and dones[-1] == total
    assert all(a <= b for a, b in zip(dones, dones[1:]))
    assert all(0 <= d <= total for d in dones)


def test_a_gemm_reports_its_macs_then_its_check():
    calls = _calls("edge-npu", "gemm:M=200,N=130,K=300,dtype=int8", numerics="full")
    phases = _phases(calls)
    assert list(phases) == ["simulate", "check numerics"]
    assert phases["simulate"][0][1] == 200 * 130 * 300
    assert phases["check numerics"][0][1] == 1  # one op to check
    for points in phases.values():
        _assert_monotonic_to_completion(points)


def test_memoized_layers_report_simulation_then_their_tile_kernels():
    """Five identical chained GEMMs: one is simulated, the rest credited at once; their deferred
    tile kernels are a phase of their own."""
    ops = [
        {"name": f"g{i}", "kind": "gemm", "M": 64, "N": 48, "K": 48, "dtype": "int8"}
        | {"inputs": [f"g{i - 1}"] if i else []}
        for i in range(5)
    ]
    workload = load_workload({"name": "chain", "ops": ops})
    phases = _phases(_calls("datacenter-hbm", workload, numerics="full"))
    assert list(phases) == ["simulate", "tile kernels", "check numerics"]
    assert phases["simulate"][0][1] == 5 * 64 * 48 * 48  # the MACs of five GEMMs
    assert phases["check numerics"][0][1] == 5
    for points in phases.values():
        _assert_monotonic_to_completion(points)


def test_a_spiking_run_counts_its_time_steps():
    phases = _phases(_calls("loihi-like", "snn-mnist-mlp", numerics=False))
    steps = simulator.load_workload("snn-mnist-mlp").time_steps
    assert phases["simulate"][0][1] == steps
    _assert_monotonic_to_completion(phases["simulate"])


def test_the_callback_is_throttled():
    """With an interval longer than any run, only each phase's start and end reach the callback."""
    calls = []
    tracker = Progress(lambda *c: calls.append(c), interval=1e9)
    tracker.start("simulate", 10_000)
    for _ in range(10_000):
        tracker.advance(1)
    tracker.finish()
    assert calls == [("simulate", 0.0, 10_000.0), ("simulate", 10_000.0, 10_000.0)]


def test_the_bar_draws_on_a_terminal_after_its_delay_only():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with ProgressBar(console, delay=0.0) as bar:
        bar("simulate", 0, 10)
        bar("simulate", 5, 10)
    assert "simulate" in out.getvalue()
    quiet = io.StringIO()
    with ProgressBar(Console(file=quiet, force_terminal=True), delay=60.0) as bar:
        bar("simulate", 10, 10)  # a run shorter than the delay
    assert quiet.getvalue() == ""


def test_no_bar_where_output_cannot_redraw_or_when_disabled():
    assert ProgressBar(Console(file=io.StringIO())).__enter__() is None  # a pipe or a file
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert ProgressBar(terminal, enabled=False).__enter__() is None


def test_piped_cli_output_has_no_progress():
    """A run long enough for the bar (over a second here) prints only its result when piped."""
    command = [str(Path(sys.executable).with_name("accsim")), "run", "edge-npu"]
    command += ["gemm:M=1024,N=1024,K=1024,dtype=int8", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert done.stderr == ""
    assert done.stdout.lstrip().startswith("{")
    quiet = subprocess.run([*command, "--no-progress"], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stdout == done.stdout


def test_studies_name_each_run_in_its_phases():
    """The mapper confirms its candidates and auto, scaling runs each core count: one labelled
    simulate phase per run, each from 0 to its total."""
    from simulator.sweep.scaling import scaling
    from simulator.sweep.search import search_mapping

    calls = []
    search_mapping(
        "edge-npu",
        "gemm:M=256,N=256,K=256,dtype=int8",
        top_k=2,
        progress=lambda *c: calls.append(c),
    )
    phases = _phases(calls)
    assert list(phases) == [
        "candidate 1 of 2: simulate",
        "candidate 2 of 2: simulate",
        "auto: simulate",
    ]
    for points in phases.values():
        _assert_monotonic_to_completion(points)
    calls = []
    scaling("mesh-4x4", "gemm-256", "split-mn", [1, 4], progress=lambda *c: calls.append(c))
    assert list(_phases(calls)) == ["1 core: simulate", "4 cores: simulate"]
