"""Steady-state coalescing: periodic runs of identical steps advanced in closed form give the same
cycles, bytes, stalls, op spans and energy as the event-by-event run, with fewer events."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine.coalesce import shape
from simulator.engine.memo import execute
from simulator.errors import CapacityError
from simulator.mapping import compile_program
from simulator.report import Report
from simulator.spec import load_arch, load_mapping, load_workload
from tests.conftest import tiny_arch
from tests.engine.test_memo import _chain, _plain
from tests.strategies import shapes_and_mappings

TABLES = (
    "counts",
    "busy",
    "interface_busy",
    "op_dram",
    "op_noc",
    "op_start",
    "op_end",
    "unit_stalls",
    "op_busy",
    "op_stalls",
    "link_bytes",
    "link_busy",
    "l2_bytes",
    "hop_bytes",
)


def _both(arch, workload, mapping=None):
    """(coalesced record, event-by-event record, report of each) of one workload."""
    machine = build_machine(arch)
    mapping = load_mapping(mapping)
    records = []
    for coalesce in (True, False):
        program, _ = compile_program(workload, mapping, machine, False, 0)
        record = execute(program, machine, coalesce=coalesce)
        report = Report(arch.name, workload.name, mapping.name, machine, program, record, None)
        records.append((record, report))
    return records


def assert_identical(coalesced, events):
    (fast, fast_report), (slow, slow_report) = coalesced, events
    assert fast.cycles == slow.cycles
    assert fast.steps == slow.steps
    for table in TABLES:
        assert _plain(getattr(fast, table)) == _plain(getattr(slow, table)), table
    energy = fast_report.energy.groupby(["op", "component", "action"])["energy_pj"].sum()
    reference = slow_report.energy.groupby(["op", "component", "action"])["energy_pj"].sum()
    assert energy.to_dict() == reference.to_dict()
    assert fast_report.summary == slow_report.summary


@st.composite
def single_core_runs(draw):
    """A tiny array with random DRAM bandwidth, latency, buffer size and port width (narrow ports
    make the DMA and the array wait for each other), a random GEMM and tiling."""
    shape, mapping = draw(shapes_and_mappings(max_dim=160))
    arch = tiny_arch(
        draw(st.integers(1, 16)),
        draw(st.integers(1, 16)),
        bandwidth=draw(st.sampled_from(["350 MB/s", "700 MB/s", "7 GB/s", "70 GB/s"])),
        latency=draw(st.sampled_from(["0 ns", "10 ns", "300 ns"])),
        capacity=draw(st.sampled_from(["1 MiB", "64 KiB", "8 KiB"])),
        width=draw(st.sampled_from(["64 B", "4 B", "1 B"])),
    )
    layers = draw(st.integers(1, 3))
    assume(layers == 1 or shape["K"] <= shape["N"])  # a chained GEMM's A: a slice of a C
    return arch, shape, mapping, layers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_core_runs())
def test_coalesced_runs_equal_event_runs(run):
    """Property: random shapes, tilings, loop orders, buffering and DRAM; chains of 1 to 3 GEMMs."""
    arch, shape, mapping, layers = run
    workload = _chain(layers, {**shape, "dtype": "int8"})
    try:
        coalesced, events = _both(load_arch(arch), workload, {"name": "p", **mapping})
    except CapacityError:
        return  # a tile that does not fit the drawn buffer: refused either way
    assert_identical(coalesced, events)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(16, 200), n=st.integers(16, 200), k=st.integers(16, 200))
def test_multicore_runs_equal_event_runs(m, n, k):
    """Multi-core chips (shared NoC, controllers, L2) keep their events: the same result."""
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=int8")
    assert_identical(*_both(load_arch("mesh-4x4"), workload))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cores=st.integers(2, 16),
    m=st.integers(64, 640),
    n=st.integers(64, 640),
    k=st.integers(64, 512),
)
def test_cta_waves_equal_event_runs(cores, m, n, k):
    """GPU-like chips (CTA waves, split-K, a shared L2 and fine-interleaved memory pools) with 2 to
    16 SMs: the same result with coalescing asked for (benchmarks/waves.py: their waves seldom
    repeat, see docs/performance.md)."""
    arch = load_arch("a100-like", [(["cores", "count"], cores)])
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    assert_identical(*_both(arch, workload))


def test_a_long_gemm_runs_a_few_periods():
    """2048^3 on a 32x32 array: 4,096 steps in 128 identical K folds of 32 steps; coalesced, a
    few folds run as events (the pipeline filling, one fold to find the period, the drain) and
    the result equals the event-by-event run's."""
    arch = load_arch(
        "edge-npu",
        [(["components", "mac_array", "rows"], 32), (["components", "mac_array", "cols"], 32)],
    )
    workload = load_workload("gemm:M=2048,N=2048,K=2048,dtype=int8")
    mapping = {"name": "t", "tile": {"M": 256, "N": 256, "K": 64}, "loop_order": ["M", "N", "K"]}
    coalesced, events = _both(arch, workload, mapping)
    assert_identical(coalesced, events)
    assert events[0].steps == (2048 // 256) ** 2 * (2048 // 64)
    assert coalesced[0].events_processed < events[0].events_processed / 10


def test_layers_coalesce_inside_memoized_runs():
    arch = load_arch("datacenter-hbm")
    workload = load_workload("llama-2-7b-decode", [(["layers"], 2)])
    assert_identical(*_both(arch, workload))


@settings(max_examples=40, deadline=None)
@given(
    shapes_and_mappings(max_dim=120),
    st.integers(1, 16),
    st.integers(1, 16),
    st.integers(0, 10**6),
)
def test_steps_of_one_class_have_one_shape(drawn, rows, cols, where):
    """The GEMM's step classes (first/last loop indices) are complete: equal class, equal step
    (regions aside), and resuming at any step (the end included) gives the rest of the stream."""
    shape_, mapping = drawn
    machine = build_machine(load_arch(tiny_arch(rows, cols)))
    workload = load_workload("gemm:M={M},N={N},K={K},dtype=int8".format(**shape_))
    program, _ = compile_program(
        workload, load_mapping({"name": "p", **mapping}), machine, False, 0
    )
    (op,) = program.ops
    steps = list(op.steps())
    classes = op.classes(0)
    assert len(classes) == len(steps)
    by_class = {}
    for cls, step in zip(classes.tolist(), steps):
        assert by_class.setdefault(cls, shape(step)) == shape(step)
    for at in (len(steps) // 2, where % (len(steps) + 1)):
        assert list(op.resume(at)) == steps[at:]
        assert op.classes(at).tolist() == classes[at:].tolist()


def test_prefill_layers_are_exact():
    """Attention, norm and MLP ops of a prefill layer: watched, compared step by step as they are
    generated (a causal attention's steps rarely repeat in a short window), and exact."""
    workload = load_workload(
        "llama-2-7b-prefill",
        [
            (["context"], 512),
            (["hidden"], 1024),
            (["heads"], 8),
            (["kv_heads"], 8),
            (["ffn"], 2752),
        ],
    )
    coalesced, events = _both(load_arch("datacenter-hbm"), workload)
    assert_identical(coalesced, events)
