"""A nest's streamed DMA shares the one DRAM bus with every other transfer (issue 12): no run
moves its DRAM bytes faster than the bus allows."""

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import simulate
from simulator.spec import load_arch, load_workload
from tests.engine.test_coalesce import _both, assert_identical
from tests.mapping.zigzag_cases import TPU

BYTES_PER_CYCLE = 8  # zigzag-tpu-like's DRAM: 8 GB/s at its 1 GHz clock


def test_two_streamed_tiles_queue_on_the_bus_by_hand():
    """1 x 128 x 32 int8 on the 32 x 32 tpu_like array, nest N 2: two tiles of N 64. A tile's
    array takes 2 cycles plus the skew 62; its DMA streams over the 2 N periods of 1 cycle:
    first the 1 KiB weight half (and, for tile 0, the 32 B input row), during period 0 the other
    1 KiB half (128 cycles), during period 1 period 0's 32 B of outputs (4): 64 + 127 + 3 = 194
    cycles a tile, its last 32 B after it.
    On the bus (8 B a cycle): tile 0's 1,056 B (0-132, here at 133 after the cycle of
    latency), tile 1's 1,024 B (132-260, double-buffered), then tile 0's streamed 1,056 B
    (260-392): tile 0 ends at 392, not 133 + 194 = 327. Tile 1 runs 194 cycles (its streamed
    bytes and tile 0's 32 B store fit in them), then its 32 B (4) and the latency (1): 591.
    The DRAM moves 4,256 B (532 cycles); with the streamed bytes beside the bus instead of on
    it, the run took 133 + 194 + 194 + 4 + 1 = 526, faster than the bus."""
    report = simulate(
        TPU,
        "gemm:M=1,N=128,K=32,dtype=int8,output_dtype=int8",
        {"loop_order": ["M", "N", "K"], "nest": [["N", 2]]},
        numerics=False,
    )
    counts = report.record.counts
    assert counts[("gemm", "dram", "read")] == 128 * 32 + 32
    assert counts[("gemm", "dram", "write")] == 128
    assert report.cycles == 392 + 194 + 4 + 1
    assert report.cycles >= (128 * 32 + 32 + 128) / BYTES_PER_CYCLE


LOOPS = [("K", 2), ("N", 2), ("M", 4), ("N", 3), ("M", 2), ("K", 2)]


@settings(max_examples=12, deadline=None)
@given(
    loops=st.lists(st.sampled_from(LOOPS), min_size=1, max_size=4).flatmap(st.permutations),
    tiles=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2)),
    edges=st.tuples(st.integers(0, 7), st.integers(0, 31)),
    double=st.booleans(),
)
def test_a_streamed_nest_never_beats_the_dram_roofline(loops, tiles, edges, double):
    """Any streamed nest, any number of tiles (edge tiles too), single- or double-buffered:
    the run takes at least its DRAM bytes over the bus's 8 B a cycle."""
    per = {d: 1 for d in "MNK"}
    for dim, n in loops:
        per[dim] *= n
    tile_m, tile_n, tile_k = per["M"], per["N"] * 32, per["K"] * 32
    m = tile_m * tiles[0] + edges[0] % tile_m
    n = tile_n * tiles[1] + edges[1] % tile_n
    k = tile_k * tiles[2]
    report = simulate(
        TPU,
        f"gemm:M={m},N={n},K={k},dtype=int8,output_dtype=int8",
        {
            "loop_order": ["M", "N", "K"],
            "double_buffering": double,
            "nest": [list(loop) for loop in loops],
        },
        numerics=False,
    )
    counts = report.record.counts
    moved = counts[("gemm", "dram", "read")] + counts[("gemm", "dram", "write")]
    assert moved >= m * k + k * n + m * n  # every operand crosses the bus at least once
    assert report.cycles >= moved / BYTES_PER_CYCLE


def test_streamed_tiles_coalesce_to_the_event_by_event_run():
    """64 double-buffered tiles whose streamed DMA queues on the bus reach a steady state:
    advanced in closed form, they give the event-by-event run's every number, in fewer events."""
    mapping = {"loop_order": ["M", "N", "K"], "nest": [["N", 2], ["K", 2], ["M", 3]]}
    workload = load_workload("gemm:M=3,N=4096,K=64,dtype=int8,output_dtype=int8")
    coalesced, events = _both(load_arch(TPU), workload, mapping)
    assert_identical(coalesced, events)
    assert coalesced[0].events_processed < events[0].events_processed / 4
