"""The check's references computed ahead on a background thread give the very results of the
check computing them itself, for any shapes, formats, blocks and memory limit."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
import simulator.numerics.gemm as gemm
from simulator.numerics.ahead import Ahead
from simulator.numerics.gemm import GemmNumerics, references_ahead

FORMATS = [
    ("fp16", "fp32", None),
    ("fp32", "fp32", None),
    ("bf16", "fp32", None),
    ("int8", "int32", None),
    ("int8", "int16", None),  # wraps
    ("int8", "int32", "int8"),  # requantized: two passes over the blocks
]


def _gemms(cases, faults):
    """Finished GEMMs (every output as one tile), some outputs made wrong."""
    states = []
    for (dtype, accumulator, output), (M, N, K), seed in cases:
        state = GemmNumerics(M, N, K, dtype, accumulator, seed=seed, output=output)
        state.tile((0, M), (0, N), (0, K))
        for where in faults:
            state.c.reshape(-1)[where % state.c.size] += 3
        states.append(state)
    return states


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(FORMATS),
            st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(1, 200)),
            st.integers(0, 2**16),
        ),
        min_size=1,
        max_size=3,
    ),
    st.integers(1, 16),
    st.integers(1, 16),
    st.integers(0, 20_000),
    st.lists(st.integers(0, 2**16), max_size=3),
)
def test_checks_with_references_ahead_equal_checks_computing_them(
    cases, block_rows, block_cols, limit, faults
):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gemm, "BLOCK_ROWS", block_rows)
        patch.setattr(gemm, "BLOCK_COLS", block_cols)
        patch.setattr(gemm, "AHEAD_BYTES", limit)
        alone = [state.check() for state in _gemms(cases, faults)]
        states = _gemms(cases, faults)
        ahead = references_ahead(states)
        try:
            assert [state.check() for state in states] == alone
        finally:
            ahead.stop()


def test_a_gemm_listed_twice_takes_only_its_own_references():
    cases = [(FORMATS[0], (20, 30, 40), 1), (FORMATS[3], (10, 20, 30), 2)]
    alone = [state.check() for state in _gemms(cases, [5])]
    first, second = _gemms(cases, [5])
    ahead = references_ahead([first, first, second])
    try:
        assert [first.check(), first.check(), second.check()] == [alone[0], alone[0], alone[1]]
    finally:
        ahead.stop()


def test_a_sampled_check_computes_its_own_references():
    state = GemmNumerics(64, 64, 64, "fp16", "fp32", seed=1)
    state.sample_tiles(seed=0)
    assert references_ahead([state]) is None


def test_every_task_runs_once_in_order_of_results_within_the_memory_limit():
    ran, held = [], []
    lock = threading.Lock()

    def task(i):
        def run():
            with lock:
                ran.append(i)
            return np.zeros(10, dtype=np.uint8) + i  # 10 bytes

        return run

    ahead = Ahead([task(i) for i in range(50)], limit=30)
    results = []
    for result in ahead.results():
        held.append(ahead._held)
        results.append(int(result[0]))
    assert results == list(range(50))
    assert sorted(ran) == list(range(50))
    assert max(held) <= 30  # the thread stops at the limit (three results of 10 bytes)


def test_an_error_on_the_thread_is_raised_where_its_result_is_taken():
    def fail():
        raise ValueError("boom")

    ahead = Ahead([lambda: 1, fail, lambda: 3], limit=1 << 20)
    results = ahead.results()
    assert next(results) == 1
    with pytest.raises(ValueError, match="boom"):
        next(results)


def test_simulate_full_check_equals_the_check_without_the_thread():
    workload = "gemm:M=300,N=260,K=500,dtype=fp16"
    arch = "edge-npu"
    with_thread = simulator.simulate(arch, workload, numerics="full")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulator.api, "references_ahead", lambda gemms: None)
        without = simulator.simulate(arch, workload, numerics="full")
    assert with_thread.numerics == without.numerics
    assert not [t for t in threading.enumerate() if t.name == "numerics-ahead"]  # ended
