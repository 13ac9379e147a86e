"""simulate(): the one call that runs spec -> mapping -> engine -> report, for every kind of run."""

from __future__ import annotations

import contextlib
import gc
import numbers
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.components import Machine, build_machine
from simulator.engine import execute
from simulator.engine.budget import Budget
from simulator.engine.progress import Progress, ProgressCallback
from simulator.engine.work import check_work
from simulator.errors import SpecError, UnsupportedError, a_or_an
from simulator.mapping import compile_program
from simulator.numerics import GemmNumerics
from simulator.numerics.gemm import references_ahead
from simulator.numerics.pages import small_pages
from simulator.report import Report
from simulator.report.power_cap import cap_power
from simulator.report.progress import ProgressBar
from simulator.spec import (
    ArchSpec,
    MappingSpec,
    WorkloadSpec,
    load_arch,
    load_mapping,
    load_workload,
)
from simulator.spec.guards import DEFAULT_LIMITS, Limits, check_cost, check_spiking_cost
from simulator.spec.validate import locate

if TYPE_CHECKING:  # spiking networks and systems of chips load their modules when they run
    from simulator.report import SpikingReport
    from simulator.report.system import SystemReport
    from simulator.spec.snn import SnnSpec
    from simulator.spec.system import SystemArchSpec

SpecRef = str | Path | dict


def simulate(
    arch: ArchSpec | SystemArchSpec | SpecRef,
    workload: WorkloadSpec | SnnSpec | SpecRef,
    mapping: MappingSpec | SpecRef | None = None,
    numerics: bool | str = True,
    seed: int = 0,
    trace: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: ProgressCallback | bool | None = None,
) -> Report | SpikingReport | SystemReport:
    """Simulate `workload` on `arch` under `mapping` (None: auto) and return the Report.

    Each argument is a loaded spec, a preset name, a YAML path or a dict; a workload may also be
    inline text like 'gemm:M=512,N=512,K=512,dtype=int8'. `numerics` is a mode: "full" checks
    every output, "sample" a seeded sample of each GEMM's output tiles (every edge tile and 30
    interior ones), "off" (or False) none, timing only, for sweeps; True ("auto") samples GEMMs
    above SAMPLE_ABOVE MACs, where the full check would dominate the run. `trace=True` keeps the
    timeline for `Report.chrome_trace()`. A spiking workload (`kind: snn`) runs on the arch's
    neuro cores and returns a SpikingReport; an arch that is a system of chips (`system:`) returns
    a SystemReport (simulator/system). A run estimated above `limits` (tile steps, host
    memory, cores) is refused with a CapacityError, from its specs and again, once compiled,
    by the steps the engine will simulate (a run coalescing may shorten: under a budget).
    `progress=True` shows a bar with an ETA once the run takes over a second (terminal or
    notebook); a callable gets progress(phase, done, total) as the work gets done
    (engine/progress.py says in which units); None or False: nothing.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise SpecError(f"seed={seed!r}: give an integer in [0, 2**32)")
    if not isinstance(limits, Limits):
        raise SpecError(f"limits={limits!r}: give a Limits(max_tiles, max_memory, max_cores)")
    if not isinstance(trace, bool):  # a numpy bool or 'no' was taken as its truth
        raise SpecError(f"trace={trace!r}: give True or False")
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise SpecError(f"progress={progress!r}: give True, False, None or a callable")
    if progress is True:
        with ProgressBar() as bar:
            return simulate(arch, workload, mapping, numerics, seed, trace, limits, bar)
    with rarer_collections():
        return _simulate(arch, workload, mapping, numerics, seed, trace, limits, progress)


def _simulate(arch, workload, mapping, numerics, seed, trace, limits, progress):
    """simulate() once its progress bar, if any, is up."""
    tracker = Progress(progress) if callable(progress) else None
    arch = load_arch(arch) if isinstance(arch, SpecRef) else arch
    if isinstance(workload, SpecRef):
        workload = load_workload(workload)
    if not isinstance(arch, ArchSpec):  # a system of chips
        from simulator.spec.system import SystemArchSpec
        from simulator.system import simulate_system

        _expect(arch, SystemArchSpec, "arch")
        if not isinstance(workload, WorkloadSpec):
            raise UnsupportedError(
                f"{arch.name} is a system of chips; spiking networks run on one arch"
            )
        if trace:
            raise UnsupportedError(
                f"{arch.name} is a system of chips: no trace is written for it; trace its chip "
                f"({arch.chip_arch.name}) instead"
            )
        mapping = mapping if isinstance(mapping, MappingSpec) else load_mapping(mapping)

        def on(one: ArchSpec, part: WorkloadSpec, how: MappingSpec) -> Report:
            return simulate(one, part, how, numerics, seed, trace, limits, progress)

        return simulate_system(arch, workload, mapping, on)
    if not isinstance(workload, WorkloadSpec):  # spiking: neuro cores, placement in the workload
        from simulator.spec.snn import SnnSpec

        _expect(workload, SnnSpec, "workload")
        named = mapping.name if isinstance(mapping, MappingSpec) else mapping
        if named not in (None, "auto"):
            raise UnsupportedError(
                f"{workload.name} is a spiking network: its placement is the workload's "
                f"placement: (fill, layer, spread or ranges), not mapping {named}"
            )
        check = numerics_mode(numerics) != "off"
        return _simulate_snn(arch, workload, check, seed, trace, tracker, limits)
    if arch.neuromorphic:
        raise UnsupportedError(
            f"{arch.name} has neuro cores, which run spiking networks (kind: snn); "
            f"{workload.name} is {a_or_an(workload.ops[0].kind)} workload"
        )
    mapping = mapping if isinstance(mapping, MappingSpec) else load_mapping(mapping)
    mode = numerics_mode(numerics)
    check_cost(arch, workload, mode != "off", limits)

    def run(arch: ArchSpec, voltage_scale: float = 1.0, throttle: dict | None = None) -> Report:
        machine = build_machine(arch)
        with small_pages() if mode != "off" else contextlib.nullcontext():
            program, states = compile_program(workload, mapping, machine, mode != "off", seed)
            timing = mode == "off" and not trace  # steady-state coalescing may skip steps
            work = check_work(program, machine, workload.name, limits, coalescing=timing)
            budget = None
            if work.steps > limits.max_tiles:  # passed as it may coalesce: under a budget
                budget = Budget(workload.name, limits.max_tiles)
            with _one_blas_thread(states), _checks_ahead(states, mode, seed):
                record = execute(program, machine, trace=trace, progress=tracker, budget=budget)
                _check_span(record.cycles, arch)
                checked = _check(states, tracker) if mode != "off" else None
        return Report(
            arch.name, workload.name, mapping.name, machine, program, record, checked,
            voltage_scale, throttle,
        )  # fmt: skip

    report = run(arch)
    return cap_power(report, run) if arch.chip.tdp else report


MAX_CYCLES = 2**53
"""The longest run a report counts exactly (float64 holds every integer up to 2**53)."""


def _check_span(cycles: int, arch: ArchSpec) -> None:
    """Refuse a run too long to count exactly: an arch whose clock, bandwidth or latency units
    are off by many orders (a clock in GHz written as THz, a bandwidth in B/s as GB/s)."""
    if cycles >= MAX_CYCLES:
        raise SpecError(
            f"{arch.name}: the run lasts {cycles:.3g} cycles, more than a report counts exactly "
            f"(2**53); check the units of its clock ({arch.clock:g} Hz), bandwidths and latencies"
        )


@contextlib.contextmanager
def rarer_collections():
    """A run allocates millions of small objects that live until it ends (steps, programs,
    events, rows): at CPython's default threshold the cycle collector scans the young ones every
    700 allocations, a quarter to a third of a many-core run's CPU. A first generation of 50,000
    objects scans them far less often; the threshold is restored after the run (a sweep holds it
    over all its points: sweep/run.py)."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], YOUNG), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


YOUNG = 50_000
"""Objects allocated between two collections of the youngest generation during a run."""


SAMPLE_ABOVE = 2**33
"""MACs above which `numerics=True` checks a GEMM on a sample of its tiles (a 2048^3 GEMM is
exactly 2^33: it and anything smaller is checked in full)."""


def numerics_mode(numerics: bool | str) -> str:
    """True -> 'auto', False -> 'off'; 'full', 'sample', 'off' and 'auto' stay as they are."""
    mode = {True: "auto", False: "off"}.get(numerics) if isinstance(numerics, bool) else numerics
    if not isinstance(mode, str) or mode not in ("auto", "full", "sample", "off"):
        raise UnsupportedError(f"numerics={numerics!r}: use full, sample, off or auto (True)")
    return mode


def _samples(mode: str, state: GemmNumerics) -> bool:
    macs = state.c.shape[0] * state.c.shape[1] * state.K
    return mode == "sample" or (mode == "auto" and macs > SAMPLE_ABOVE)


@contextlib.contextmanager
def _checks_ahead(states: dict, mode: str, seed: int):
    """Each GEMM's sample chosen, and its full check's references computed on a background
    thread while the engine runs (numerics.gemm.references_ahead); the thread ends with the run,
    also where it fails."""
    gemms = [state for state in states.values() if isinstance(state, GemmNumerics)]
    for state in gemms:
        if _samples(mode, state):
            state.sample_tiles(seed)
    ahead = references_ahead(gemms)
    try:
        yield
    finally:
        if ahead is not None:
            ahead.stop()


def _check(states: dict, tracker: Progress | None) -> dict:
    """Each op's numerics against its reference, one op at a time (a phase of the progress)."""
    if tracker is not None:
        tracker.start("check numerics", len(states))
    checked = {}
    for name, state in states.items():
        checked[name] = state.check()
        if tracker is not None:
            tracker.advance(1)
    if tracker is not None:
        tracker.finish()
    return checked


def _expect(spec, kind: type, role: str) -> None:
    """A spec passed in as an object must be one simulate() runs."""
    if not isinstance(spec, kind):
        raise UnsupportedError(
            f"{role} {spec!r}: give a spec, a preset name, a YAML path or a dict "
            f"(not {a_or_an(type(spec).__name__)})"
        )


def _one_blas_thread(states: dict):
    """The checks' references are matmuls of blocks or sampled tiles of outputs: on one BLAS
    thread, as the tile kernels run, since a threaded BLAS on matmuls that size spends more
    waking its threads than computing (a sampled 4096 x 4096 x 1024 check: 9x the CPU on a
    loaded 2-core machine). Set for the whole run, engine included: the references computed on
    a background thread meanwhile (`_checks_ahead`) use a core of their own, not BLAS threads."""
    if not states:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _simulate_snn(
    arch: ArchSpec,
    workload: SnnSpec,
    numerics: bool,
    seed: int,
    trace: bool,
    tracker: Progress | None,
    limits: Limits,
) -> SpikingReport:
    """One inference of `workload` on `arch`'s neuro cores. The cores' fixed-point neurons always
    run (their spikes are the work); numerics=True also reruns the network in float64 and, for a
    converted ANN, measures the agreement on the test inputs."""
    if not arch.neuromorphic:
        raise UnsupportedError(
            f"{workload.name} is a spiking network; {arch.name} has no neuro_core "
            "(try loihi-like or truenorth-like)"
        )
    from simulator.engine.spiking import run_spiking
    from simulator.mapping.placement import place
    from simulator.mapping.snn import compile_network
    from simulator.numerics.snn_check import agreement_bytes_per_step, check_snn
    from simulator.report import SpikingReport

    check_spiking_cost(workload, limits)
    machine: Machine = build_machine(arch)
    names = [n for n, c in machine.components.items() if c.kind == "neuro_core"]
    core = machine.components[names[0]]
    net = compile_network(workload, core, seed)
    if numerics:
        check_spiking_cost(workload, limits, agreement_bytes_per_step(net))
    placement = place(net, workload.placement, core, len(names), locate(workload, "placement"))
    record = run_spiking(net, placement, machine, trace, tracker)
    checked = (
        check_snn(net, record.fired, record.spike_counts, record.final_potential)
        if numerics
        else None
    )
    return SpikingReport(arch.name, workload.name, machine, net, placement, record, checked)
