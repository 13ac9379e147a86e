"""Step classes and resume of attention, vector and pool ops (what lets coalescing skip their
periodic steps without generating them), and coalesced runs of them equal to event-by-event runs."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine.coalesce import shape
from simulator.errors import CapacityError
from simulator.mapping import compile_program
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_coalesce import _both, assert_identical


def _arch(capacity: str, width: str):
    """edge-npu (a 16x16 array and a vector unit) with a small SRAM, so ops take many steps."""
    sram = ["components", "sram"]
    return load_arch("edge-npu", [(sram + ["capacity"], capacity), (sram + ["width"], width)])


@st.composite
def attention(draw):
    heads = draw(st.sampled_from([1, 2, 4]))
    q_len = draw(st.integers(1, 48))
    workload = (
        f"attention:batch={draw(st.integers(1, 2))},heads={heads},"
        f"kv_heads={draw(st.sampled_from([h for h in (1, 2, 4) if heads % h == 0]))},"
        f"q_len={q_len},kv_len={q_len + draw(st.integers(0, 40))},"
        f"head_dim={draw(st.sampled_from([8, 16]))},causal={draw(st.booleans())},dtype=fp16"
    )
    blocks = {"block_q": draw(st.integers(1, 16)), "block_kv": draw(st.integers(1, 16))}
    algorithm = draw(st.sampled_from(["flash", "naive", "unfused"]))
    return workload, {"attention": {"algorithm": algorithm, **blocks}}


@st.composite
def streamed(draw):
    """A vector op or a pooling op."""
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["softmax", "layernorm", "gelu", "add"]))
        return f"{kind}:rows={draw(st.integers(1, 300))},cols={draw(st.integers(1, 96))}", {}
    side = draw(st.integers(2, 12))
    return (
        f"pool:N={draw(st.integers(1, 3))},C={draw(st.integers(1, 96))},H={side},W={side},"
        f"R=2,S=2,stride=2,mode={draw(st.sampled_from(['max', 'avg']))}"
    ), {}


def _ops(arch, workload: str, mapping: dict):
    program, _ = compile_program(
        load_workload(workload),
        load_mapping({"name": "p", "double_buffering": False, **mapping}),
        build_machine(arch),
        False,
        0,
    )
    return program.ops


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(attention(), streamed()), st.sampled_from(["4 KiB", "16 KiB", "1 MiB"]))
def test_steps_of_one_class_have_one_shape(drawn, capacity):
    """Equal class, equal step (regions aside); resuming at any step gives the rest of the stream."""
    workload, mapping = drawn
    try:
        ops = _ops(_arch(capacity, "16 B"), workload, mapping)
    except CapacityError:
        return
    for op in ops:
        steps = list(op.steps())
        classes = op.classes(0)
        assert len(classes) == len(steps)
        by_class = {}
        for cls, step in zip(classes.tolist(), steps):
            assert by_class.setdefault(cls, shape(step)) == shape(step)
        for at in {0, 1, len(steps) // 3, len(steps) // 2, len(steps) - 1, len(steps)}:
            assert list(op.resume(at)) == steps[at:]
            assert op.classes(at).tolist() == classes[at:].tolist()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(attention(), streamed()),
    st.sampled_from(["4 KiB", "16 KiB"]),
    st.sampled_from(["16 B", "1 B"]),
    st.booleans(),
)
def test_coalesced_runs_equal_event_runs(drawn, capacity, width, double_buffering):
    """Property: attention (flash, naive, unfused), vector and pooling ops, coalesced and not."""
    workload, mapping = drawn
    arch = _arch(capacity, width)
    try:
        both = _both(
            arch,
            load_workload(workload),
            {"name": "p", "double_buffering": double_buffering, **mapping},
        )
    except CapacityError:
        return
    assert_identical(*both)


LONG = [  # (workload, SRAM capacity, attention algorithm): hundreds of steps, mostly alike
    ("attention:heads=2,q_len=512,kv_len=1024,head_dim=16,dtype=fp16", "64 KiB", "flash"),
    ("attention:batch=16,heads=4,q_len=128,head_dim=16,dtype=fp16", "64 KiB", "naive"),
    ("attention:batch=16,heads=4,q_len=128,head_dim=16,dtype=fp16", "64 KiB", "unfused"),
    ("softmax:rows=8192,cols=256", "16 KiB", "flash"),
    ("pool:N=4,C=512,H=32,W=32,R=2,S=2,stride=2", "16 KiB", "flash"),
]


@pytest.mark.parametrize(("workload", "capacity", "algorithm"), LONG)
def test_long_ops_jump_without_building_their_steps(workload, capacity, algorithm):
    """Coalesced, a long op processes well under half the events, with the same result."""
    mapping = {"name": "p", "attention": {"block_q": 16, "block_kv": 64, "algorithm": algorithm}}
    coalesced, events = _both(_arch(capacity, "16 B"), load_workload(workload), mapping)
    assert_identical(coalesced, events)
    assert coalesced[0].events_processed < events[0].events_processed / 2
