"""Explicit nests whose K does not divide the problem: the last K tile runs as pieces of the
nest, and the partial sums carried from one piece to the next stay in the DMA buffer at the
accumulator precision (each piece's first accumulation of an output reads them back down, no
reuse credited across pieces). Hand-counted cases and hypothesis: every MAC once, integers
exact, an int16 accumulator that wraps still a mismatch."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import simulate
from simulator.components import build_machine
from simulator.errors import CapacityError
from simulator.spec import load_arch, load_workload
from simulator.sweep import search
from tests.mapping.test_nest_edge import WS, _counts, _split
from tests.mapping.test_nest_search import _arch


def test_k_pieces_on_one_pe_by_hand():
    """M 2, K 7 on one PE under K2 M2 K2 (innermost first): tiles of K 4 and 3. The output
    register holds one int32 sum, so it keeps an output over the inner K2 only: an output's
    visit is one (M, outer K) iteration. Full tile: 2 outputs x 2 outer K = 4 visits. The edge
    tile (K 3) runs K2 M2 K1, then K1 M2 K1: 2 visits each. Every visit drains to the buffer
    (4 + 2 + 2 = 8); every visit but each output's first fills from it (8 - 2 = 6); the register
    takes one update a MAC (2 x 7) and reads a partial sum on all but each output's first (14 - 2)."""
    report = simulate(
        _arch(1, 1, 1, 4),
        "gemm:M=2,N=1,K=7,dtype=int8",
        {**WS, "nest": [["K", 2], ["M", 2], ["K", 2]]},
    )
    counts = _counts(report)
    assert json.loads(report.ops.iloc[0]["map_tile"]) == {"M": 2, "N": 1, "K": 4}
    assert counts[("oreg", "output", "update")] == 14
    assert counts[("oreg", "output", "read")] == 12
    assert counts[("oreg", "output", "drain")] == 8
    assert counts[("oreg", "output", "fill")] == 6
    assert counts[("buf", "output", "update")] == 8
    assert counts[("buf", "output", "read")] == 6
    # the 1-weight register holds a weight only across a loop that leaves it unchanged: every
    # MAC reads one in K2 M2 K2 (8) and K2 M2 K1 (4); K1 M2 K1 holds its one weight over M (1)
    assert counts[("wreg", "weight", "read")] == 8 + 4 + 1
    # one cycle an iteration on one PE: 8 + 4 + 2
    assert report.record.busy["pe"] == 14
    # the partial sums between pieces are int32 (4 B each)
    levels = report.levels.set_index(["level", "operand", "action"])
    assert levels.loc[("buf", "output", "read"), "bytes"] == 6 * 4
    check = report.numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


def test_a_partial_k_unrolling_carries_its_partial_sums_by_hand():
    """K 7 on 2 rows under M2 K2: tiles of K 4 and 3; the edge tile runs K1 on both rows, then
    K1 on one row. Per-PE output registers of one sum: each (M, K iteration) leaves a partial
    sum per row that is reduced down the column, so a visit holds one output: the full tile 2 x
    2 = 4 visits, each piece 2; the edge pieces start from the buffer's partial sums (2 + 2
    fills) and the full tile's second K iteration refills each output (2)."""
    report = simulate(
        _arch(2, 1, 1, 4), "gemm:M=2,N=1,K=7,dtype=int8", {**WS, "nest": [["M", 2], ["K", 2]]}
    )
    counts = _counts(report)
    assert counts[("oreg", "output", "fill")] == 2 + 2 + 2
    assert counts[("buf", "output", "read")] == 2 + 2 + 2
    assert counts[("buf", "output", "update")] == 4 + 2 + 2
    # skew of a 2 x 1 array (1 cycle) with each tile's iterations: 4 + 1, then 2 + 2 + 1
    assert report.record.busy["pe"] == 5 + 5
    check = report.numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


def _random_nest(rows, cols, dims, picks, order):
    m, n, k = dims
    unroll = {"M": 1, "N": min(cols, n), "K": min(rows, k)}
    extent = {"M": m, "N": n, "K": k}
    reach = {d: -(-extent[d] // unroll[d]) for d in "MNK"}
    iterations = {d: 1 + picks[i] % reach[d] for i, d in enumerate("MNK")}
    loops = [[d, f] for i, d in enumerate("MNK") for f in _split(iterations[d], picks[3 + i])]
    order.shuffle(loops)
    return [loop for loop in loops if loop[1] > 1] or [["M", 1]]


@settings(max_examples=15, deadline=None)
@given(
    rows=st.sampled_from([2, 3, 4]),
    cols=st.sampled_from([2, 3]),
    dims=st.tuples(*[st.integers(1, 11) for _ in "MNK"]),
    picks=st.tuples(*[st.integers(0, 10**6) for _ in range(6)]),
    order=st.randoms(use_true_random=False),
)
def test_random_k_edge_nests_count_every_mac_once_and_compute_exactly(
    rows, cols, dims, picks, order
):
    """Random shapes and nests, no dim need divide: every MAC is one update of the per-PE output
    registers, every output's first accumulation is its only one that reads no partial sum, and
    integers equal numpy's exactly."""
    m, n, k = dims
    nest = _random_nest(rows, cols, dims, picks, order)
    report = simulate(
        _arch(rows, cols, 4, 4), f"gemm:M={m},N={n},K={k},dtype=int8", {**WS, "nest": nest}
    )
    counts = _counts(report)
    assert counts[("oreg", "output", "update")] == m * n * k
    # ZigZag's convention: only each output's first accumulation skips its partial-sum read,
    # however many pieces (and K tiles) carry it
    assert m * n * k - counts.get(("oreg", "output", "read"), 0) == m * n
    check = report.numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


@settings(max_examples=6, deadline=None)
@given(
    k=st.integers(300, 400),
    picks=st.tuples(*[st.integers(0, 10**6) for _ in range(6)]),
    order=st.randoms(use_true_random=False),
)
def test_an_int16_accumulator_that_wraps_is_still_a_mismatch(k, picks, order):
    """Random int8 operands over 300+ terms (a sum's spread about 5,000 x sqrt(K), past 2^15)
    wrap an int16 accumulator, whatever the K pieces: a mismatch, not silently right."""
    arch = _arch(2, 2, 4, 4)
    arch["components"]["pe"]["accumulator_precision"] = "int16"
    nest = _random_nest(2, 2, (3, 3, k), picks, order)
    workload = f"gemm:M=3,N=3,K={k},dtype=int8"
    check = simulate(arch, workload, {**WS, "nest": nest}).numerics["gemm"]
    assert not check.ok and "wrapped in the int16 accumulator" in check.coverage_message


def _array_accumulators(capacity: int) -> dict:
    """A 4 x 4 ws array whose outputs the DMA fills and drains from an array-wide register
    level (one instance shared by every PE) of `capacity` bytes."""
    arch = _arch(4, 4, 4, 4)
    components = arch["components"]
    del components["oreg"]
    components["acc"] = {"kind": "regfile", "unit": "pe", "holds": ["output"],
                         "capacity": f"{capacity} B", "instances": "array"}  # fmt: skip
    components["buf"]["holds"] = ["input", "weight"]
    return arch


def test_a_register_dma_level_holds_an_edge_tile_not_the_nests_reach():
    """N 6 on 4 columns under M3 N2: the nest reaches N 8, the tile is N 6, so the accumulators
    hold 3 x 6 int32 sums (72 B), not 3 x 8 (96 B): 80 B is enough, 64 B is not."""
    workload, mapping = "gemm:M=3,N=6,K=4,dtype=int8", {**WS, "nest": [["M", 3], ["N", 2]]}
    check = simulate(_array_accumulators(80), workload, mapping).numerics["gemm"]
    assert check.ok and check.max_abs_error == 0
    with pytest.raises(CapacityError, match="needs 72 B in acc but it holds 64 B"):
        simulate(_array_accumulators(64), workload, mapping)


def test_the_search_offers_k_edge_nests_where_no_tile_divides():
    """K 7 on 3 rows (ws K/N): no multiple of 3 divides 7, so the search's K tiles are one per
    count of tiles, each with the fewest iterations that cover 7 in that many: 3 iterations (a
    tile of 7, its last iteration on 1 of the 3 rows), 2 (tiles of 6 and 1) and 1 (tiles of 3,
    3 and 1). One nest of each computes exactly."""
    arch, workload = _arch(3, 3, 4, 4), "gemm:M=4,N=6,K=7,dtype=int8"
    machine = build_machine(load_arch(arch))
    ops = list(load_workload(workload).ops)
    found, _ = search._nested(ops, machine, search.OBJECTIVES["energy"], 400)
    ws = [c.mapping for c in found if c.mapping["spatial"] == {"rows": "K", "cols": "N"}]
    assert {m["tile"]["K"] for m in ws} == {3, 6, 7}
    for size in (3, 6, 7):
        chosen = next(m for m in ws if m["tile"]["K"] == size)
        check = simulate(arch, workload, chosen, numerics=True).numerics["gemm"]
        assert check.ok and check.max_abs_error == 0
