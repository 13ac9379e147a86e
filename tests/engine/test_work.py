"""The engine's own work counted before it runs (engine/work.py): never below the steps the engine
really simulates as events, equal to them where neither coalescing nor the memo's turn can
change them, and the cost guard on it (spec/guards.py: check_work) refuses runs the spec guard
lets through before any engine starts."""

from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator.api
from simulator import simulate
from simulator.components import build_machine
from simulator.engine.budget import SETTLE
from simulator.engine.coalesce import Stream
from simulator.engine.memo import execute
from simulator.engine.work import Work, check_work, engine_work
from simulator.errors import CapacityError
from simulator.mapping import compile_program
from simulator.mapping.program import Program, altered
from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.guards import DEFAULT_LIMITS, Limits, check_cost
from simulator.spec.scalesim import import_scalesim
from tests.engine.test_budget import takes_counted
from tests.engine.test_memo import _TINY_LLAMA, _small_gpu

ARCHS = {
    "edge-npu": lambda: load_arch("edge-npu"),
    "mesh-4x4": lambda: load_arch("mesh-4x4"),
    "datacenter-hbm": lambda: load_arch("datacenter-hbm"),
    "small-gpu": _small_gpu,
}


def simulated_steps(program, machine, **options) -> tuple[int, int]:
    """(steps the engine takes from its op streams, events it processes) of one run: each step
    taken is simulated as events; steps a coalesced jump skips, runs the memo accounts from
    another and a class's members' steps are never taken (benchmarks/guard_cost.py too)."""
    taken = [0]
    take = Stream.next

    def counted(stream):
        step = take(stream)
        taken[0] += step is not None
        return step

    with patch.object(Stream, "next", counted):
        record = execute(program, machine, **options)
    return taken[0], record.events_processed


def _compiled(arch, workload):
    machine = build_machine(arch)
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    return program, machine


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arch=st.sampled_from(sorted(ARCHS)),
    m=st.integers(1, 300),
    n=st.integers(1, 300),
    k=st.integers(1, 300),
    layers=st.integers(0, 3),
)
def test_the_count_bounds_the_steps_the_engine_simulates(arch, m, n, k, layers):
    """A GEMM, or (layers > 0) a stack of tiny LLaMA decode layers the memo runs once each: the
    count is at least the steps the engine takes, with coalescing on or off; without coalescing
    on a chip whose memory-node turn changes nothing, exactly them."""
    spec = ARCHS[arch]()
    if layers:
        overrides = [(["layers"], layers), (["dtype"], "fp16"), *_TINY_LLAMA]
        workload = load_workload("llama-2-7b-decode", overrides)
    else:
        workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    program, machine = _compiled(spec, workload)
    count = engine_work(program, machine, 10**9).steps
    assert count >= simulated_steps(program, machine)[0]
    uncoalesced = simulated_steps(program, machine, coalesce=False)[0]
    assert count >= uncoalesced
    if len({op.core for op in program.ops}) == 1:  # one core: the memo's entry is known
        assert count == uncoalesced


def test_without_the_memo_and_classes_every_step_counts():
    """On one core a GEMM's count is its tile loop's trip count, the steps its stream makes."""
    program, machine = _compiled(load_arch("edge-npu"), load_workload("gemm:M=300,N=200,K=100"))
    (op,) = program.ops
    assert engine_work(program, machine, 10**9).steps == sum(1 for _ in op.steps())


def test_a_class_counts_one_member():
    """Decode layers on a GPU-like chip: the count is a fraction of every core's steps of every
    layer (one member per core class)."""
    for layers in (2, 4):
        workload = load_workload("llama-2-7b-decode", [(["layers"], layers), *_TINY_LLAMA])
        program, machine = _compiled(_small_gpu(), workload)
        every = sum(sum(1 for _ in op.steps()) for op in program.ops)
        assert engine_work(program, machine, 10**9).steps < every / 4


@pytest.mark.parametrize("arch", ["mesh-4x4", "small-gpu"])
def test_multi_core_prefill_layers_count_every_run(arch):
    """Prefill layers on several cores: the order the cores resume in varies between layers and
    is part of the memo's key, so the memo simulates a layer again where a count crediting
    repeats would not; the count bounds the steps taken, coalescing off."""
    workload = load_workload("llama-2-7b-prefill", [(["layers"], 8), *_TINY_LLAMA])
    program, machine = _compiled(ARCHS[arch](), workload)
    taken = simulated_steps(program, machine, coalesce=False)[0]
    assert engine_work(program, machine, 10**9).steps >= taken


def _no_engine(*args, **kwargs):
    raise AssertionError("the engine ran")


def test_a_mesh_gemm_the_spec_guard_passes_is_refused_before_the_engine(monkeypatch):
    """mesh-4x4's 16 cores each take a 16384x16384 block of C in 64 x 32 x 128 tiles of
    256x512x512: 4,194,304 steps, about 9x the spec guard's lower bound."""
    arch, workload = load_arch("mesh-4x4"), load_workload("gemm:M=65536,N=65536,K=65536")
    assert check_cost(arch, workload, False, DEFAULT_LIMITS).tiles < DEFAULT_LIMITS.max_tiles
    monkeypatch.setattr(simulator.api, "execute", _no_engine)
    with pytest.raises(CapacityError) as refused:
        simulate(arch, workload, numerics=False)
    assert str(refused.value) == (
        "gemm-65536x65536x65536: 4,194,304 tile steps to simulate (most in gemm), above the "
        "limit of 1,000,000; shrink gemm or the layers, give the arch more SRAM, or raise the "
        "limit with --max-tiles"
    )


def test_a_raised_limit_lets_the_count_pass():
    program, machine = _compiled(load_arch("edge-npu"), load_workload("gemm:M=300,N=200,K=100"))
    steps = engine_work(program, machine, 10**9).steps
    assert check_work(program, machine, "w", Limits(max_tiles=steps)).steps == steps
    with pytest.raises(CapacityError, match=f"w: {steps:,} tile steps to simulate"):
        check_work(program, machine, "w", Limits(max_tiles=steps - 1))


_CONV = {"kind": "conv2d", "name": "c1", "N": 1, "C": 64, "H": 56, "W": 56, "K": 64, "R": 3}
_CONV |= {"S": 3, "padding": 1}


def test_steps_walked_to_be_counted_stop_past_the_limit():
    """Ops without a step count (a wrapper that drops it) are walked only until the count passes
    the limit; the message says so."""
    program, machine = _compiled(
        load_arch("edge-npu"), load_workload({"name": "c", "ops": [_CONV]})
    )
    program = Program(tuple(altered(op, step_count=None) for op in program.ops), program.meta)
    steps = sum(1 for _ in program.ops[0].steps())
    assert engine_work(program, machine, 10**9).steps == steps
    with pytest.raises(
        CapacityError, match=rf"c: over {steps // 2:,} tile steps to simulate \(most in c1\)"
    ):
        check_work(program, machine, "c", Limits(max_tiles=steps // 2))


def test_steps_no_coalescing_can_skip_are_refused_before_a_budget_runs():
    """edge-npu, timing only (where a count over the limit may run under a budget): a
    convolution's steps (its stream has no resume: a jump takes the steps it skips) and those of
    ops too short to be watched (fewer than MIN_STEPS) are all taken, so a program whose such
    steps pass the limit is refused before the engine starts, as a GEMM's are not."""
    edge = load_arch("edge-npu", [(["components", "sram", "capacity"], "64 KiB")])
    conv = load_workload({"name": "c", "ops": [_CONV | {"H": 112, "W": 112}]})
    program, machine = _compiled(edge, conv)
    assert program.ops[0].details["tile"] == {"n": 1, "g": 1, "k": 64, "p": 1, "q": 56, "c": 8}
    # 112 output rows x 2 column tiles (112 / 56) x 8 channel tiles (64 / 8), one each of the rest
    assert engine_work(program, machine, 10**9) == Work(1792, "c1", True, 1792, 1792, "c1")
    rows = [{"kind": "relu", "name": f"r{i}", "rows": 128 * (40 + i), "cols": 64} for i in range(9)]
    relus = load_workload({"name": "r", "ops": [row | {"dtype": "fp16"} for row in rows]})
    # 128 rows a step (a 128 B row in and one out, double-buffered, in 64 KiB): 40 + i each
    assert engine_work(*_compiled(edge, relus), 10**9).sure == sum(40 + i for i in range(9))
    same = [{"kind": "relu", "name": f"s{i}", "rows": 128 * 63, "cols": 64} for i in range(20)]
    same = load_workload({"name": "s", "ops": [op | {"dtype": "fp16"} for op in same]})
    # 20 ops of 63 steps, equal (one signature): counted whole past a smaller cap
    assert engine_work(*_compiled(edge, same), 1000) == Work(1260, "s0", True, 63, 1260, "s0")
    gemm = load_workload("gemm:M=2048,N=2048,K=2048,dtype=int8")
    for workload, steps in ((conv, 1792), (relus, 396), (same, 1260)):
        program, machine = _compiled(edge, workload)
        limits = Limits(max_tiles=steps - 1)
        with pytest.raises(CapacityError, match=f"{steps:,} tile steps to simulate"):
            check_work(program, machine, workload.name, limits, coalescing=True)
        assert check_work(program, machine, "w", Limits(max_tiles=steps), True).steps == steps
    program, machine = _compiled(edge, gemm)
    work = engine_work(program, machine, 10**9)
    assert work.sure == 0
    check_work(program, machine, "g", Limits(max_tiles=work.steps // 4), coalescing=True)


def test_a_refusal_for_steps_no_coalescing_can_skip_names_the_op_that_has_most_of_them():
    """edge-npu with 64 KiB, timing only: a GEMM (every step skippable) beside the 1,792-step
    convolution above (none skippable) under a limit of 1,791: the GEMM simulates most, but
    shrinking it cannot get under the limit, so the message names the convolution."""
    edge = load_arch("edge-npu", [(["components", "sram", "capacity"], "64 KiB")])
    gemm = {"kind": "gemm", "name": "g", "M": 2048, "N": 2048, "K": 2048, "dtype": "int8"}
    conv = _CONV | {"H": 112, "W": 112}
    program, machine = _compiled(edge, load_workload({"name": "w", "ops": [gemm, conv]}))
    work = engine_work(program, machine, 10**9)
    assert (work.biggest_op, work.sure, work.surest_op) == ("g", 1792, "c1")
    with pytest.raises(CapacityError) as refused:
        check_work(program, machine, "w", Limits(max_tiles=1791), coalescing=True)
    assert str(refused.value) == (
        f"w: {work.steps:,} tile steps to simulate (most in g), above the limit of 1,791, and "
        "1,792 of them no coalescing can skip (most in c1); shrink c1 or the layers, give the "
        "arch more SRAM, or raise the limit with --max-tiles"
    )


def test_a_count_coalescing_may_shorten_runs_under_a_budget_with_the_same_result():
    """edge-npu (one core, no NoC): a timing-only GEMM counted over the limit runs, its periods
    jumped, with the record of a run under no limit; a traced one (no coalescing) is refused."""
    arch, workload = load_arch("edge-npu"), load_workload("gemm:M=2048,N=2048,K=2048,dtype=int8")
    steps = engine_work(*_compiled(arch, workload), 10**9).steps
    tight = Limits(max_tiles=steps // 4)
    free = simulate(arch, workload, numerics=False)
    budgeted = simulate(arch, workload, numerics=False, limits=tight)
    assert (budgeted.record.cycles, budgeted.record.steps) == (free.record.cycles, steps)
    assert budgeted.record.events_processed == free.record.events_processed
    with pytest.raises(CapacityError, match=f"{steps:,} tile steps to simulate"):
        simulate(arch, workload, numerics=False, limits=tight, trace=True)


def test_a_stream_that_never_settles_is_refused_once_its_coalescer_gives_up(tmp_path):
    """A SCALE-Sim GEMM on per-operand interfaces whose pipeline has no steady state (100 GB of
    ifmap SRAM, a 1.5 M-row tile): refused after SETTLE steps, with the steps still to come."""
    cfg, topology = tmp_path / "c.cfg", tmp_path / "t.csv"
    cfg.write_text(
        "[general]\nrun_name : r\n\n[architecture_presets]\nArrayHeight : 8\nArrayWidth : 8\n"
        "IfmapSramSzkB : 100000000\nFilterSramSzkB : 100000000\nOfmapSramSzkB : 100000000\n"
        "Bandwidth : 10\nDataflow : ws\n\n[run_presets]\nInterfaceBandwidth : USER\n"
    )
    topology.write_text("Layer, M, N, K,\ng, 100000000000, 8, 8,\n")
    arch, workload, mapping = import_scalesim(cfg, topology)
    arch, workload = load_arch(arch), load_workload(workload)
    with takes_counted() as taken, pytest.raises(CapacityError) as refused:
        simulate(arch, workload, mapping, numerics=False, limits=Limits(max_tiles=10_000))
    assert str(refused.value) == (
        f"t: over 10,000 tile steps to simulate (in g: no steady state in {SETTLE} steps, "
        f"{65536 - SETTLE:,} to come); shrink g or the layers, or raise the limit with "
        "--max-tiles"
    )
    assert len(taken) == SETTLE  # none spent on looking for tile kernels


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mapping=st.sampled_from(["flash-attention", "naive-attention", "unfused-attention"]),
    q_len=st.integers(1, 300),
    extra=st.integers(0, 200),
    kv_heads=st.sampled_from([1, 2, 4]),
    causal=st.booleans(),
)
def test_an_attention_counts_its_steps_without_making_them(mapping, q_len, extra, kv_heads, causal):
    """An attention op's count (a class per step) equals the steps its stream makes."""
    workload = load_workload(
        f"attention:heads=4,kv_heads={kv_heads},head_dim=64,q_len={q_len},"
        f"kv_len={q_len + extra},causal={str(causal).lower()},dtype=fp16"
    )
    machine = build_machine(load_arch("datacenter-hbm"))
    program, _ = compile_program(workload, load_mapping(mapping), machine, False, 0)
    (op,) = program.ops
    assert op.step_count.of(op) == sum(1 for _ in op.steps())
