"""Elementwise ops whose one row overflows a core's buffers run the same elements in rows of a
fraction of the columns (`fitting_rows`): the piece count checked by hand, and the timing and
numbers equal to the same elements given as those rows (hypothesis); reductions keep their rows."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.errors import CapacityError
from simulator.mapping.vector_ops import fitting_rows, units_that_fit
from simulator.spec.precision import nbytes
from tests.mapping.test_cta import gpu_doc


def vector(kind, rows, cols):
    return {
        "name": "v",
        "ops": [{"kind": kind, "name": "v", "rows": rows, "cols": cols, "dtype": "fp16"}],
    }


def same_run(a, b):
    keys = ("cycles", "dram_bytes", "energy_pj", "compute_busy_cycles")
    return {k: a.summary[k] for k in keys} == {k: b.summary[k] for k in keys}


def test_a_row_wider_than_the_gpu_buffers_runs_in_thirds_by_hand():
    """The tiny GPU double-buffers two 64 KiB buffers: a fp16 mul row fits at 8,192 columns
    (2 operands x 16 KiB x 2 in shared memory); 24,576 columns are cut into the least divisor
    that fits, 3 (2 would leave 12,288), so 2 rows run as 6 rows of 8,192."""
    wide = simulator.simulate(gpu_doc(), vector("mul", 2, 24576), numerics=True)
    pieces = simulator.simulate(gpu_doc(), vector("mul", 6, 8192), numerics=True)
    assert same_run(wide, pieces)
    assert wide.summary["numerics_ok"]


def test_a_row_wider_than_a_single_core_sram_runs_in_thirds_by_hand():
    """edge-npu's one 1 MiB SRAM holds both roles, double-buffered: a fp16 mul row needs
    2 x (2 x 2 + 2) B a column, so 87,381 columns at most; 196,608 = 3 x 65,536 is cut in 3."""
    wide = simulator.simulate("edge-npu", vector("mul", 1, 196608), numerics=True)
    pieces = simulator.simulate("edge-npu", vector("mul", 3, 65536), numerics=True)
    assert same_run(wide, pieces)
    assert wide.summary["numerics_ok"]


def test_a_reduction_row_that_does_not_fit_is_still_an_error():
    with pytest.raises(CapacityError):
        simulator.simulate(gpu_doc(), vector("rmsnorm", 1, 65536), numerics=False)


@settings(max_examples=12, deadline=None)
@given(
    kind=st.sampled_from(["mul", "add", "silu", "gelu", "relu"]),
    rows=st.integers(1, 6),
    piece=st.sampled_from([1000, 4096, 6000, 8192]),
    k=st.integers(1, 7),
)
def test_wide_rows_run_as_their_pieces_given_as_rows(kind, rows, piece, k):
    """Any elementwise op on the tiny GPU: rows x (piece x k) runs as the least-divisor pieces
    that fit (8,192 columns for two operands, 16,384 for one, the output's own buffer), given
    explicitly; its numbers check."""
    cols = piece * k
    limit = 8192 if kind in ("mul", "add") else 16384
    least = next(d for d in range(1, cols + 1) if cols % d == 0 and cols // d <= limit)
    wide = simulator.simulate(gpu_doc(), vector(kind, rows, cols), numerics=True)
    pieces = simulator.simulate(gpu_doc(), vector(kind, rows * least, cols // least), numerics=True)
    assert same_run(wide, pieces)
    assert wide.summary["numerics_ok"]


def _least_divisor_that_fits(op, mapping, machine):
    """The definition, by trying every divisor k of cols in turn (small cols only)."""
    in_buf, out_buf = machine.buffer_for("input"), machine.buffer_for("output")
    operands = 2 if op.kind in ("add", "mul") else 1
    factor = 2 if mapping.double_buffering else 1
    for k in (d for d in range(1, op.cols + 1) if op.cols % d == 0):
        row = nbytes(op.cols // k, op.dtype)
        if units_that_fit(in_buf, out_buf, row * operands, row, factor) >= 1:
            return (op.rows * k, op.cols // k)
    return (op.rows, op.cols)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["mul", "gelu"]),
    cols=st.integers(1, 20000),
    capacity=st.sampled_from(["64 B", "1 KiB", "8 KiB", "64 KiB"]),
)
def test_the_piece_is_the_least_divisor_that_fits(kind, cols, capacity):
    """Against the definition on edge-npu with a small SRAM (primes, powers of two, rows that
    fit whole and rows no piece fits)."""
    arch = simulator.load_arch("edge-npu", [(["components", "sram", "capacity"], capacity)])
    machine, mapping = build_machine(arch), simulator.load_mapping("auto")
    (op,) = simulator.load_workload(vector(kind, 2, cols)).ops
    got = fitting_rows(op, mapping, machine)
    assert (got.rows, got.cols) == _least_divisor_that_fits(op, mapping, machine)


def test_a_huge_prime_row_is_cut_without_trying_every_divisor():
    """2**31 - 1 columns (prime): one column a row, found in about 46,000 steps, not 2**31."""
    arch = simulator.load_arch("edge-npu")
    (op,) = simulator.load_workload(vector("gelu", 1, 2**31 - 1)).ops
    got = fitting_rows(op, simulator.load_mapping("auto"), build_machine(arch))
    assert (got.rows, got.cols) == (2**31 - 1, 1)
