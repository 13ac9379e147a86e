"""A transposed copy (`VectorOpSpec.transposed`) on a GPU-like chip: each element read fetches a
32-byte sector of its own, so the L2 serves every sector once per element it holds; DRAM moves
what a plain copy moves. Checked against the plain copy and by hand on a tiny GPU-like chip."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import SpecError
from simulator.spec import load_arch, load_workload
from tests.mapping.test_cta import gpu_doc

SIZE = {"fp16": 2, "fp32": 4, "int8": 1}


def _copy(rows, cols, dtype, transposed):
    op = {"kind": "concat", "name": "k", "rows": rows, "cols": cols, "dtype": dtype}
    return {"name": "k", "ops": [op | {"transposed": transposed}]}


def same_copy(arch, plain_doc, doc, elements, dtype):
    """Both copies simulated with numerics: each exact, each loading and storing `elements`
    values of `dtype` from and to DRAM. Returns (plain, other) reports."""
    plain = simulator.simulate(arch, plain_doc, numerics=True)
    report = simulator.simulate(arch, doc, numerics=True)
    assert report.summary["numerics_ok"] and plain.summary["numerics_ok"]
    for kind in ("load", "store"):
        moved = [sum(o[kind] for o in r.record.op_dram.values()) for r in (plain, report)]
        assert moved == [elements * SIZE[dtype]] * 2
    return plain, report


def _with_l2():
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["l2"] = {"kind": "sram", "capacity": "4 MiB", "banks": 16, "width": "64 B"}
    return load_arch(doc)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 96), st.integers(1, 256), st.sampled_from(sorted(SIZE)))
def test_a_transposed_copy_reads_each_sector_once_per_element(rows, cols, dtype):
    """The same DRAM loads and stores as the plain copy, the same values; the L2 serves the
    source 32 / element size times over (a fp16 sector holds 16 elements: 1 miss, 15 hits)."""
    arch = _with_l2()
    plain, report = same_copy(
        arch, _copy(rows, cols, dtype, False), _copy(rows, cols, dtype, True), rows * cols, dtype
    )
    source = rows * cols * SIZE[dtype]
    assert report.record.l2_bytes["miss"] == plain.record.l2_bytes["miss"] == source
    assert plain.record.l2_bytes["hit"] == 0
    assert report.record.l2_bytes["hit"] == (32 // SIZE[dtype] - 1) * source
    assert report.cycles >= plain.cycles


def test_transposed_is_for_a_copy_only():
    """A softmax cannot be `transposed`: a one-line error naming the op's key."""
    doc = {"name": "s", "ops": [{"kind": "softmax", "rows": 4, "cols": 8, "transposed": True}]}
    with pytest.raises(SpecError) as error:
        load_workload(doc)
    assert "transposed is for concat" in str(error.value)
    assert "\n" not in str(error.value)
