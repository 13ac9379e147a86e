"""A copy from a strided source (`VectorOpSpec.strided_dims`) on a GPU-like chip: PyTorch's
non-vectorised copy, bound by its instruction issue or its loads' latency as well as by the
bytes it moves. Checked against the contiguous copy and by hand."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import SpecError
from simulator.mapping.strided_copy import strided_floor
from simulator.spec import load_arch, load_workload
from simulator.spec.arch import KernelsSpec
from simulator.spec.workload import VectorOpSpec
from tests.mapping.test_cta import gpu_doc
from tests.mapping.test_transposed_copy import SIZE, same_copy


def _copy(rows, cols, dtype, dims):
    op = {"kind": "concat", "name": "q", "rows": rows, "cols": cols, "dtype": dtype}
    return {"name": "q", "ops": [op | ({"strided_dims": dims} if dims else {})]}


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 96), st.integers(1, 256), st.sampled_from(sorted(SIZE)), st.integers(1, 6))
def test_a_strided_copy_moves_the_same_bytes_no_faster_than_it_issues(rows, cols, dtype, dims):
    """The same values and DRAM bytes as the contiguous copy; no sooner than the contiguous copy
    nor than its busiest core issues 18 + 13 x dims warp instructions per element at 4 a cycle
    (the 4-core, 1 GHz chip: core cycles are the report's), and no later than both one after
    the other."""
    arch = load_arch(gpu_doc())
    plain, report = same_copy(
        arch, _copy(rows, cols, dtype, None), _copy(rows, cols, dtype, dims), rows * cols, dtype
    )
    busiest = -(-rows // 4) * cols
    issue = -(-busiest * (18 + 13 * dims) // 128)
    assert report.cycles >= max(plain.cycles, issue)
    assert report.cycles <= plain.cycles + issue


def test_a_strided_copy_waits_on_its_loads_where_the_chip_gives_latencies():
    """Little's law by hand: 2,048 resident threads (16 CTAs of 128) each with one load in
    flight; 64 x 128 elements are 4 rounds of a 1,000-cycle DRAM load (4,000 cycles) against
    8,192 x 31 / 128 = 1,984 issue cycles. A transposed copy's loads are 1 DRAM and 15 L2 hits
    (200 cycles) a sector: 250 a load on average, 1,000 cycles, so the issue bound holds."""
    kernels = KernelsSpec(latency={"dram": 1000, "l2": 200, "shared": 20})
    op = VectorOpSpec(kind="concat", rows=64, cols=128, strided_dims=1)
    assert strided_floor(op, kernels, 0) == 4000
    assert strided_floor(op, kernels, 15) == 1984
    assert strided_floor(op, KernelsSpec(), 0) == 1984
    two_dies = KernelsSpec(latency={"dram": 1000, "l2": 200, "shared": 20, "other_die": 400})
    assert strided_floor(op, two_dies, 0) == 4 * 1200  # half the loads cross: 200 more each


def test_the_latency_bound_reaches_the_simulated_copy():
    """On a chip with load latencies the copy takes at least its rounds of DRAM latency."""
    doc = copy.deepcopy(gpu_doc(cores=1))
    doc["cores"]["kernels"]["latency"] = {"dram": 5000, "l2": 200, "shared": 20}
    report = simulator.simulate(load_arch(doc), _copy(64, 128, "fp16", 1), numerics=False)
    assert report.cycles >= 4 * 5000


def test_strided_dims_is_for_a_copy_only():
    """A GELU cannot be `strided_dims`: a one-line error naming the key."""
    doc = {"name": "g", "ops": [{"kind": "gelu", "rows": 4, "cols": 8, "strided_dims": 2}]}
    with pytest.raises(SpecError) as error:
        load_workload(doc)
    assert "strided_dims is for concat" in str(error.value)
    assert "\n" not in str(error.value)
