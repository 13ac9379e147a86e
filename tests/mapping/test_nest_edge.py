"""Explicit nests that do not divide the problem along M or N: the last tile is an edge tile,
run as pieces of the nest with fewer iterations of a dim's outermost loops (or a partial
spatial unrolling). Hand-derived counts and times, and integers reproduce numpy exactly."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import simulate
from simulator.components import build_machine
from simulator.errors import SpecError
from simulator.spec import load_arch, load_workload
from simulator.sweep import search
from tests.mapping.one_pe import one_pe
from tests.mapping.test_nest_search import _arch

WS = {"dataflow": "ws", "loop_order": ["M", "N", "K"], "double_buffering": False}


def _counts(report):
    return report.levels.groupby(["level", "operand", "action"])["elements"].sum()


@pytest.mark.parametrize(
    ("m", "nest", "reads", "cycles"),
    [
        # one PE, M innermost (4 iterations): tiles of M 4, 4, 2; the weight register holds each
        # weight across the M loop, so each tile reads its 6 x 4 weights once: 3 x 24
        (10, [["M", 4], ["N", 6], ["K", 4]], 3 * 24, (4 + 4 + 2) * 24),
        # M not innermost: every MAC reads its weight, 10 x 6 x 4
        (10, [["N", 6], ["M", 4], ["K", 4]], 240, (4 + 4 + 2) * 24),
        # M as two loops of 2 (inner and outer): the edge tile of 2 runs the outer loop once,
        # 2 x 6 x 4 MACs at 2 per weight read: 48 + 48 + 24
        (10, [["M", 2], ["N", 6], ["M", 2], ["K", 4]], 48 + 48 + 24, 10 * 24),
        # an edge of 3: the outer loop once (24 reads) and a remainder piece of M 1 (24 more)
        (11, [["M", 2], ["N", 6], ["M", 2], ["K", 4]], 48 + 48 + 48, 11 * 24),
    ],
)
def test_edge_tiles_along_m_by_hand(m, nest, reads, cycles):
    """A 1 x 1 array: one cycle a MAC (no skew), so the tiles' compute is M x 6 x 4 cycles."""
    workload = f"gemm:M={m},N=6,K=4,dtype=int8"
    report = simulate(one_pe(), workload, {**WS, "nest": nest}, numerics=True)
    counts = _counts(report)
    assert counts[("wbuf", "weight", "read")] == reads
    assert report.record.counts[("gemm", "pe", "mac_int8")] == m * 6 * 4
    assert json.loads(report.ops.iloc[0]["map_tile"])["M"] == 4
    assert report.record.busy["pe"] == cycles
    check = report.numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


def test_a_partial_spatial_unrolling_by_hand():
    """N 6 on 4 columns with N 2 loops (8 covered): one tile of N 6, run as a piece on all 4
    columns and one on 2; M 3 innermost, so each PE reads each of its weights once: 4 x 6."""
    report = simulate(
        _arch(4, 4, 1, 4), "gemm:M=3,N=6,K=4,dtype=int8", {**WS, "nest": [["M", 3], ["N", 2]]}
    )
    counts = _counts(report)
    assert counts[("wreg", "weight", "read")] == 4 * 6
    assert counts[("oreg", "output", "update")] == 3 * 6 * 4  # one per MAC (per-PE registers)
    assert json.loads(report.ops.iloc[0]["map_tile"]) == {"M": 3, "N": 6, "K": 4}
    # the pieces' 3 + 3 iterations and the array's skew 4 + 4 - 2 once
    assert report.record.busy["pe"] == 3 + 3 + 6
    check = report.numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


@pytest.mark.parametrize(
    ("nest", "fragment"),
    [
        ([["K", 3]], "cover 12, a whole iteration past the K = 4"),
        ([["N", 3]], "cover 12, a whole iteration past the N = 6"),
    ],
)
def test_no_iteration_lies_wholly_past(nest, fragment):
    with pytest.raises(SpecError, match=fragment):
        simulate(_arch(4, 4, 1, 4), "gemm:M=3,N=6,K=4,dtype=int8", {**WS, "nest": nest})


def _split(n: int, cut: int) -> list[int]:
    """n as one loop, or two (a divisor and the rest) when `cut` picks a divisor."""
    divisors = [d for d in range(2, n) if n % d == 0]
    if not divisors or cut == 0:
        return [n]
    first = divisors[cut % len(divisors)]
    return [first, n // first]


@settings(max_examples=15, deadline=None)
@given(
    rows=st.sampled_from([2, 3, 4]),
    cols=st.sampled_from([2, 3, 4]),
    dims=st.tuples(*[st.integers(1, 13) for _ in "MNK"]),
    picks=st.tuples(*[st.integers(0, 10**6) for _ in range(6)]),
    order=st.randoms(use_true_random=False),
)
def test_random_edge_nests_count_every_mac_and_compute_exactly(rows, cols, dims, picks, order):
    """Random shapes and nests (M and N need not divide, K does): every MAC is counted once at
    the per-PE output registers, and integers reproduce numpy exactly."""
    m, n, k = dims
    k = k if k < rows else k - k % rows  # the array's rows unroll K, which must divide
    unroll = {"M": 1, "N": min(cols, n), "K": min(rows, k)}
    extent = {"M": m, "N": n, "K": k}
    reach = {d: -(-extent[d] // unroll[d]) for d in "MN"}
    iterations = {d: 1 + picks[i] % reach[d] for i, d in enumerate("MN")}
    k_options = [i for i in range(1, k + 1) if k % (i * unroll["K"]) == 0]
    iterations["K"] = k_options[picks[2] % len(k_options)]
    loops = [[d, f] for i, d in enumerate("MNK") for f in _split(iterations[d], picks[3 + i])]
    order.shuffle(loops)
    loops = [loop for loop in loops if loop[1] > 1] or [["M", 1]]
    report = simulate(
        _arch(rows, cols, 4, 4), f"gemm:M={m},N={n},K={k},dtype=int8", {**WS, "nest": loops}
    )
    assert _counts(report)[("oreg", "output", "update")] == m * n * k
    check = report.numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


def test_the_search_offers_edge_nests_where_no_tile_divides():
    """N 5 on 3 columns: no multiple of 3 divides 5, so the search's N tiles are one per count
    of tiles: 2 iterations (a tile of 5, its second iteration on 2 of the 3 columns) and 1 (tiles
    of 3 and 2); K 6 on 3 rows still divides (tiles 3 and 6). Every nest it offers runs, and
    one of each N tile computes exactly."""
    arch, workload = _arch(3, 3, 4, 4), "gemm:M=4,N=5,K=6,dtype=int8"
    machine = build_machine(load_arch(arch))
    ops = list(load_workload(workload).ops)
    found, _ = search._nested(ops, machine, search.OBJECTIVES["energy"], 400)
    ws = [c.mapping for c in found if c.mapping["spatial"] == {"rows": "K", "cols": "N"}]
    assert {m["tile"]["N"] for m in ws} == {3, 5}
    assert {m["tile"]["K"] for m in ws} <= {3, 6}
    for size in (3, 5):
        chosen = next(m for m in ws if m["tile"]["N"] == size)
        check = simulate(arch, workload, chosen, numerics=True).numerics["gemm"]
        assert check.ok and check.max_abs_error == 0
