"""RoPE: the `rope` op equals rotary embedding written as complex multiplication, on the chip
and on a system of chips, and moves each value once."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import SpecError
from simulator.numerics.rope import rotate
from simulator.spec.workload import RopeOpSpec
from simulator.system.shard import shard


def complex_rope(x: np.ndarray, op: RopeOpSpec) -> np.ndarray:
    """RoFormer's definition: value pairs as complex numbers times e^(i m theta_j), theta_j =
    base^(-2j / rotary_dim), m the row's position; float64, head by head."""
    rows, d, rot = len(x), op.head_dim, op.rotated
    out = x.astype(np.float64).reshape(rows, -1, d).copy()
    positions = op.start + np.arange(rows) % (op.seq_len or op.rows)
    theta = op.base ** (-np.arange(0, rot, 2) / rot)
    turn = np.exp(1j * positions[:, None, None] * theta[None, None, :])
    if op.style == "half":
        z = (out[:, :, : rot // 2] + 1j * out[:, :, rot // 2 : rot]) * turn
        out[:, :, : rot // 2], out[:, :, rot // 2 : rot] = z.real, z.imag
    else:
        z = (out[:, :, 0:rot:2] + 1j * out[:, :, 1:rot:2]) * turn
        out[:, :, 0:rot:2], out[:, :, 1:rot:2] = z.real, z.imag
    return out.reshape(x.shape)


@st.composite
def ropes(draw):
    head_dim = 2 * draw(st.integers(1, 16))
    seq_len = draw(st.none() | st.integers(1, 10))
    rows = (seq_len or 1) * draw(st.integers(1, 40 // (seq_len or 1)))  # whole sequences
    return {
        "kind": "rope",
        "name": "rope",
        "rows": rows,
        "cols": head_dim * draw(st.integers(1, 6)),
        "head_dim": head_dim,
        "rotary_dim": 2 * draw(st.integers(1, head_dim // 2)),
        "style": draw(st.sampled_from(["half", "interleaved"])),
        "base": draw(st.sampled_from([10000.0, 500000.0, 37.5])),
        "start": draw(st.integers(0, 5000)),
        "seq_len": seq_len,
    }


@settings(max_examples=80, deadline=None)
@given(ropes(), st.integers(0, 2**16))
def test_rotation_equals_the_complex_definition(op, seed):
    spec = RopeOpSpec(**op)
    x = np.random.default_rng(seed).standard_normal((spec.rows, spec.cols))
    assert np.allclose(rotate(spec, x, 0), complex_rope(x, spec), rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(ropes(), st.sampled_from(["bf16", "fp16", "fp32"]), st.integers(0, 2**16))
def test_rope_on_the_chip_is_within_the_bound_and_moves_each_value_once(op, dtype, seed):
    spec = RopeOpSpec(**op | {"dtype": dtype})
    report = simulator.simulate(
        "edge-npu", {"name": "w", "ops": [op | {"dtype": dtype}]}, seed=seed
    )
    check = report.numerics["rope"]
    assert check.ok and check.coverage_ok, check
    row = report.ops.iloc[0]
    size = {"bf16": 2, "fp16": 2, "fp32": 4}[dtype]
    assert row.dram_bytes == 2 * spec.rows * spec.cols * size  # read once, written in place
    # 2 multiplies and an add per rotated value: heads x rotary_dim of them a row
    assert row.flops == 3 * spec.rows * (spec.cols // spec.head_dim) * spec.rotated


def test_a_rope_whose_rotation_does_not_fit_its_head_is_refused():
    bad = {"kind": "rope", "name": "r", "rows": 4, "cols": 96, "head_dim": 64}
    with pytest.raises(SpecError, match="cols \\(96\\) must be a multiple of head_dim"):
        simulator.load_workload({"name": "w", "ops": [bad]})
    with pytest.raises(SpecError, match="rotary_dim \\(66\\) must be even and at most"):
        simulator.load_workload({"name": "w", "ops": [bad | {"cols": 128, "rotary_dim": 66}]})


def test_tensor_parallelism_gives_each_chip_whole_heads():
    model = simulator.load_workload("llama-3-8b-prefill", [(["rope"], "half")])
    part = {op.name: op for op in shard(model, 4, 1, "test").workload.ops}
    assert part["L0.rope"].cols == (32 + 8) * 128 // 4  # 8 query and 2 key heads a chip
    with pytest.raises(SpecError, match="does not divide L0.rope's heads \\(40\\)"):
        shard(model, 16, 1, "test")


@pytest.mark.parametrize("rows, seq_len", [(10, 4), (4, 10)])
def test_rows_that_are_no_whole_sequences_are_refused(rows, seq_len):
    """Rows 10 of seq_len 4 ended in half a sequence (positions 0-3, 0-3, 0-1) and seq_len 10 of
    4 rows said nothing rows did not; both were accepted silently."""
    bad = {"kind": "rope", "name": "r", "rows": rows, "cols": 64, "head_dim": 64}
    with pytest.raises(
        SpecError, match=rf"ops\.0: seq_len \({seq_len}\) must divide rows \({rows}\)"
    ):
        simulator.load_workload({"name": "w", "ops": [bad | {"seq_len": seq_len}]})
    assert RopeOpSpec(**bad | {"rows": 2 * seq_len, "seq_len": seq_len}).seq_len == seq_len
