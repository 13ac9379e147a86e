"""An add or mul of n operands (a parallel block's residual, an ONNX Sum) reads every operand and
does n - 1 of its primitive per element: bytes and cycles by hand on edge-npu's vector unit and
on the host, numerics against numpy's sum (hypothesis), and inputs that outnumber the operands
refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.mapping.host import input_bytes
from simulator.numerics.formats import storage
from simulator.numerics.vector_ops import VectorNumerics
from simulator.spec.precision import precision
from simulator.spec.workload import VectorOpSpec

ROUNDOFF = {"fp32": 2.0**-24, "fp16": 2.0**-11, "bf16": 2.0**-8}
"""Unit roundoff: half the spacing at 1 of 24, 11 and 8 significand bits."""


def _add(operands=None, rows=16, cols=256, kind="add"):
    op = {"kind": kind, "name": "a", "rows": rows, "cols": cols, "dtype": "fp16"}
    return {"name": "t", "ops": [op | ({"operands": operands} if operands else {})]}


def test_a_three_input_add_reads_three_tensors_and_adds_twice_by_hand():
    """16 x 256 fp16 = 8 KiB a tensor: three read and one written are 32 KiB of DRAM traffic (a
    two-input add's 24 KiB); two adds of each of 4,096 elements on 64 lanes at one add a cycle are
    128 vector cycles (64 for two inputs); DRAM is busy bytes / its bytes a cycle."""
    two = simulator.simulate("edge-npu", _add())
    three = simulator.simulate("edge-npu", _add(3))
    tensor = 16 * 256 * 2
    assert (two.summary["dram_bytes"], three.summary["dram_bytes"]) == (3 * tensor, 4 * tensor)
    busy = dict(zip(three.components["component"], three.components["busy_cycles"]))
    assert busy["vector"] == 2 * 16 * 256 / 64 == 128
    assert dict(zip(two.components["component"], two.components["busy_cycles"]))["vector"] == 64
    assert busy["dram"] == pytest.approx(4 * tensor / 51.2)  # LPDDR5's 51.2 GB/s at 1 GHz
    assert three.ops.iloc[0]["flops"] == 2 * 16 * 256
    assert three.summary["numerics_ok"]


def test_a_host_add_reads_each_operand():
    """The host path's input bytes: n tensors of rows x cols (fp16: 2 B an element)."""
    for n in (2, 3, 5):
        op = VectorOpSpec(kind="add", name="a", rows=4, cols=8, dtype="fp16", operands=n)
        assert input_bytes(op) == n * 4 * 8 * 2
    relu = VectorOpSpec(kind="relu", name="r", rows=4, cols=8, dtype="fp16")
    assert input_bytes(relu) == 4 * 8 * 2


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 7),
    rows=st.integers(1, 9),
    cols=st.integers(1, 40),
    dtype=st.sampled_from(["fp32", "fp16", "bf16", "int8"]),
    seed=st.integers(0, 2**16),
)
def test_an_n_input_add_computes_numpys_sum(n, rows, cols, dtype, seed):
    """Every operand is summed: the output is numpy's float64 sum of the same operands, rounded
    to the op's format, within fp32's rounding of the n - 1 partial sums (exact for int8)."""
    op = VectorOpSpec(kind="add", name="a", rows=rows, cols=cols, dtype=dtype, operands=n)
    state = VectorNumerics(op, seed)
    state.rows(0, rows)
    operands = np.concatenate([state.x[None], state.y]).astype(np.float64)  # [n, rows, cols]
    assert operands.shape == (n, rows, cols)
    exact = operands.sum(axis=0)
    if precision(dtype).is_int:
        half = 2 ** (precision(dtype).bits - 1)
        assert np.array_equal(state.out, np.clip(exact, -half, half - 1))
    else:
        rounded = exact.astype(storage(dtype)).astype(np.float64)
        magnitudes = np.abs(operands).sum(axis=0)
        bound = ROUNDOFF[dtype] * np.abs(exact) + n * ROUNDOFF["fp32"] * magnitudes
        assert np.all(np.abs(state.out - rounded) <= 2 * bound + 1e-30)
    assert state.check().ok


def test_inputs_that_outnumber_an_adds_operands_are_refused():
    """Three ops each writing the whole 4 x 8 tensor into a two-operand add: it would read (and
    price) one of them too few."""
    ops = [{"kind": "relu", "name": f"r{i}", "rows": 4, "cols": 8} for i in range(3)]
    add = {"kind": "add", "name": "s", "rows": 4, "cols": 8, "inputs": ["r0", "r1", "r2"]}
    with pytest.raises(simulator.SpecError, match="ops.3.operands: s reads 2 tensors of 4x8"):
        simulator.load_workload({"name": "w", "ops": [*ops, add]})
    loaded = simulator.load_workload({"name": "w", "ops": [*ops, add | {"operands": 3}]})
    assert loaded.ops[3].reads == 3


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ({"kind": "relu", "operands": 2}, "operands is for add and mul, not relu"),
        ({"kind": "add", "operands": 1}, r"operands \(1\) must be at least 2"),
    ],
)
def test_operands_only_for_adds_and_muls_of_two_or_more(op, message):
    with pytest.raises(simulator.SpecError, match=message):
        simulator.load_workload({"name": "w", "ops": [{"name": "v", "rows": 2, "cols": 2} | op]})
