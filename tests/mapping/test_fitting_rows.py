"""Elementwise ops whose one row overflows a core's buffers run the same elements in rows of a
fraction of the columns (`fitting_rows`): the piece count checked by hand, and the timing and
numbers equal to the same elements given as those rows (hypothesis); reductions keep their rows."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import CapacityError
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
