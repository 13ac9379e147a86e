"""Step counts worked out without making the steps (OpProgram.step_count, read by the cost guard:
engine/work.py): a vector op's row chunks, a pooling's channel blocks and a convolution's tiles
in closed form, through the wrappers that move, rename or launch them, equal the steps their
streams make when walked, on random shapes and buffer sizes."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.errors import CapacityError, UnsupportedError
from simulator.mapping import compile_program
from simulator.spec import load_arch, load_mapping, load_workload

SRAMS = st.sampled_from(["2 KiB", "6 KiB", "24 KiB", "100 KiB", "1 MiB"])
ARCHS = st.sampled_from(["edge-npu", "mesh-4x4", "small-gpu"])


def _examples(count: int):
    """Hypothesis settings: `count` examples, each compiling a program (no deadline)."""
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _arch(name: str, sram: str):
    """edge-npu or mesh-4x4 with an SRAM of `sram` (many chunks where it is small), or a100-like
    cut to 4 SMs with its kernel launch step (a wrapper that adds one step to each part)."""
    if name == "small-gpu":
        return load_arch("a100-like", [(["cores", "count"], 4)])
    where = ["cores", "components", "spad"] if name == "mesh-4x4" else ["components", "sram"]
    return load_arch(name, [([*where, "capacity"], sram)])


def _counts_walked(arch, workload, double_buffering: bool = True) -> list[tuple[int, int]]:
    """(count, walked steps) of every op of the compiled program; refused programs give none."""
    machine = build_machine(arch)
    mapping = load_mapping({"double_buffering": double_buffering})
    try:
        program, _ = compile_program(workload, mapping, machine, False, 0)
    except (CapacityError, UnsupportedError):
        return []
    return [(op.step_count.of(op), sum(1 for _ in op.steps())) for op in program.ops]


def _assert_counted_as_walked(arch, workload, double_buffering: bool = True) -> None:
    """Every op's count equals its walked steps (a program the buffers refuse is no example)."""
    counts = _counts_walked(arch, workload, double_buffering)
    assume(counts)
    assert [count for count, _ in counts] == [walked for _, walked in counts]


@_examples(40)
@given(
    arch=ARCHS,
    sram=SRAMS,
    kind=st.sampled_from(["relu", "gelu", "add", "mul", "softmax", "layernorm", "rmsnorm"]),
    rows=st.integers(1, 3000),
    cols=st.integers(1, 5000),
    double_buffering=st.booleans(),
)
def test_a_vector_op_counts_its_row_chunks(arch, sram, kind, rows, cols, double_buffering):
    workload = load_workload(f"{kind}:rows={rows},cols={cols},dtype=fp16")
    _assert_counted_as_walked(_arch(arch, sram), workload, double_buffering)


@_examples(30)
@given(
    arch=st.sampled_from(["edge-npu", "mesh-4x4"]),
    sram=SRAMS,
    n=st.integers(1, 4),
    c=st.integers(1, 300),
    h=st.integers(3, 40),
    window=st.integers(1, 3),
)
def test_a_pooling_counts_its_channel_blocks(arch, sram, n, c, h, window):
    op = {"kind": "pool", "name": "p", "N": n, "C": c, "H": h, "W": h, "R": window, "S": window}
    workload = load_workload({"name": "w", "ops": [op | {"stride": window}]})
    _assert_counted_as_walked(_arch(arch, sram), workload)


@_examples(30)
@given(
    arch=st.sampled_from(["edge-npu", "mesh-4x4"]),
    sram=SRAMS,
    n=st.integers(1, 3),
    c=st.integers(1, 96),
    k=st.integers(1, 96),
    h=st.integers(3, 40),
    r=st.sampled_from([1, 3, 5]),
    stride=st.integers(1, 2),
    depthwise=st.booleans(),
)
def test_a_convolution_counts_its_tiles(arch, sram, n, c, k, h, r, stride, depthwise):
    op = {"kind": "conv2d", "name": "c", "N": n, "C": c, "H": h, "W": h + 1, "K": k, "R": r}
    op |= {"S": r, "stride": stride, "padding": r // 2}
    if depthwise:
        op |= {"K": c, "groups": c}
    _assert_counted_as_walked(_arch(arch, sram), load_workload({"name": "w", "ops": [op]}))


def test_a_vector_op_count_by_hand():
    """relu over 1,000 rows of 64 fp16 values on edge-npu with 6 KiB of SRAM: a row is 128 B in
    and 128 B out, double-buffered 512 B, so 12 rows a step and ceil(1000 / 12) = 84 steps."""
    arch = _arch("edge-npu", "6 KiB")
    counts = _counts_walked(arch, load_workload("relu:rows=1000,cols=64,dtype=fp16"))
    assert counts == [(84, 84)]
