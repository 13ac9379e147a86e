"""Several on-chip levels: a per-array local SRAM (`unit:`) under the core's DMA-filled global
buffer, tiled per level in the mapping (Timeloop's per-level tiling) or filled by share. Counts are
derived by hand from the loop nest, Timeloop-style: a level's tile is refilled whenever a loop
above it over a dim the operand uses steps (loops over other dims right above keep it resident)."""

import pytest

from simulator import simulate
from simulator.errors import CapacityError, SpecError
from simulator.spec import load_arch


def _arch(**local):
    """2 x 2 weight-stationary int8 PEs, a 1 KiB local buffer of the array, a 64 KiB global
    buffer the DMA fills, all three holding every operand."""
    return {
        "name": "two-sram",
        "clock": "1 GHz",
        "components": {
            "pe": {"kind": "systolic_array", "rows": 2, "cols": 2, "dataflows": ["ws"]},
            "lb": {"kind": "sram", "unit": "pe", "capacity": "1 KiB", "width": "8 B", **local},
            "glb": {"kind": "sram", "capacity": "64 KiB", "width": "64 B"},
            "dram": {"kind": "dram", "technology": "ddr4"},
        },
    }


def _mapping(order):
    return {
        "dataflow": "ws",
        "tile": {"M": 4, "N": 4, "K": 4},
        "loop_order": ["N", "M", "K"],
        "levels": {"lb": {"tile": {"M": 2, "N": 2}, "loop_order": order}},
    }


def _elements(report) -> dict:
    table = report.levels.groupby(["level", "operand", "action"])["elements"].sum()
    return {key: int(value) for key, value in table.items()}


def test_local_buffer_tiled_n_outer_by_hand():
    """C[4, 4] = A[4, 4] B[4, 4]; lb holds 2 x 2 sub-tiles of C with all of K, loops N(2) outer,
    M(2) inner; inside a sub-tile the array runs K/2 = 2 row folds, one column fold."""
    report = simulate(_arch(), "gemm:M=4,N=4,K=4,dtype=int8", _mapping(["N", "M", "K"]))
    assert report.summary["numerics_ok"]
    n = _elements(report)
    # B's sub-tile (K4 x N2 = 8) stays while M steps right above it: filled once per N step
    assert n[("lb", "weight", "fill")] == 8 * 2
    # A's sub-tile (M2 x K4 = 8) changes with M and again with N: 8 x 2 x 2
    assert n[("lb", "input", "fill")] == 8 * 2 * 2
    # C's sub-tile (2 x 2) changes with both and leaves complete (K is inside): 4 x 4 drains
    assert n[("lb", "output", "drain")] == 16
    # the array: 64 MACs; each PE reads its weight once per fold (2 folds x 4 PEs x 4 sub-tiles),
    # each input is read once per fold and multicast along the row (2 rows x 2 M x 2 folds x 4)
    assert n[("lb", "weight", "read")] == 32 and n[("lb", "input", "read")] == 32
    # the column adds its 2 rows: 64 / 2 = 32 partial-sum updates, all but the first of each of
    # the 16 outputs read the sum back (the second row fold)
    assert n[("lb", "output", "update")] == 32 and n[("lb", "output", "read")] == 32 - 16
    # the global buffer serves lb's fills and takes its 16 complete outputs
    assert n[("glb", "input", "read")] == 32 and n[("glb", "weight", "read")] == 16
    assert n[("glb", "output", "update")] == 16


def test_local_buffer_tiled_m_outer_by_hand():
    """The same sub-tiles with M outer: now B is refetched per M step and A stays across N."""
    n = _elements(simulate(_arch(), "gemm:M=4,N=4,K=4,dtype=int8", _mapping(["M", "N", "K"])))
    assert n[("lb", "weight", "fill")] == 8 * 2 * 2
    assert n[("lb", "input", "fill")] == 8 * 2
    assert n[("lb", "output", "drain")] == 16


def test_a_local_buffer_k_split_reloads_partial_sums_by_hand():
    """lb tiles K by 2 with K outermost: each output sub-tile is visited in both K steps, so its
    partial sums go up after the first visit and come back for the second. (With K innermost the
    K loop sits right above lb and the sums stay there: see the next test.)"""
    mapping = _mapping(["K", "N", "M"])
    mapping["levels"]["lb"]["tile"] = {"M": 2, "N": 2, "K": 2}
    n = _elements(simulate(_arch(), "gemm:M=4,N=4,K=4,dtype=int8", mapping))
    # 4 output sub-tiles x 2 K steps x 4 sums go up; 16 of those come back down (reloads)
    assert n[("lb", "output", "drain")] == 32 and n[("lb", "output", "fill")] == 16
    assert n[("glb", "output", "update")] == 32 and n[("glb", "output", "read")] == 16
    # 8 visits of one row fold each: 8 MACs / 2 rows = 4 updates per visit, 32 in all; only the
    # first accumulation of each output skips its read (the reloaded sums are read): 32 - 16
    assert n[("lb", "output", "update")] == 32 and n[("lb", "output", "read")] == 32 - 16


def test_k_right_above_the_local_buffer_keeps_the_sums_there():
    mapping = _mapping(["N", "M", "K"])
    mapping["levels"]["lb"]["tile"] = {"M": 2, "N": 2, "K": 2}
    n = _elements(simulate(_arch(), "gemm:M=4,N=4,K=4,dtype=int8", mapping))
    assert n[("lb", "output", "drain")] == 16 and ("lb", "output", "fill") not in n
    # B's K2 x N2 sub-tile now changes with every K step: 4 x 2 (K) x 2 (M) x 2 (N)
    assert n[("lb", "weight", "fill")] == 32


def test_untiled_local_buffer_holds_what_its_share_fits():
    """Without a tiling lb holds the innermost array loops that fit its share: 16 B of weight
    cannot keep B (4 x 4 = 16 elements) across the column folds and M... it holds one fold."""
    shares = {"share": {"input": 0.5, "weight": 0.25, "output": 0.25}, "capacity": "16 B"}
    mapping = {"dataflow": "ws", "tile": {"M": 4, "N": 4, "K": 4}, "loop_order": ["N", "M", "K"]}
    n = _elements(simulate(_arch(**shares), "gemm:M=4,N=4,K=4,dtype=int8", mapping))
    # weight share 4 B: one 2 x 2 fold block (the streamed M loop keeps it): each of the
    # 4 fold blocks filled once = 16; input share 8 B: M4 x 2 rows of one row fold = 8
    # elements, refilled per row fold and per column fold: 8 x 2 x 2 = 32
    assert n[("lb", "weight", "fill")] == 16
    assert n[("lb", "input", "fill")] == 32


def test_shipped_flat_arch_numbers_do_not_move_with_an_unused_feature():
    """An arch without local SRAMs and a mapping without `levels` count as before."""
    report = simulate("edge-npu", "gemm:M=64,N=64,K=64")
    assert report.summary["numerics_ok"]


def test_bad_local_levels_are_one_line_errors():
    with pytest.raises(SpecError, match="levels.nope"):
        mapping = _mapping(["N", "M", "K"])
        mapping["levels"] = {"nope": {"tile": {"M": 2}}}
        simulate(_arch(), "gemm:M=4,N=4,K=4,dtype=int8", mapping)
    with pytest.raises(CapacityError, match="lb: holding 3 loops .its tile. needs 64 B"):
        mapping = _mapping(["N", "M", "K"])
        mapping["levels"]["lb"]["tile"] = {"M": 4, "N": 4}
        simulate(_arch(capacity="32 B"), "gemm:M=4,N=4,K=4,dtype=int8", mapping)
    with pytest.raises(CapacityError, match="lb: its tile needs 96 B"):
        # A 4x4 (16 B) + B 4x4 (16 B) + C 4x4 int32 (64 B): each fits 64 B alone, not together
        mapping = _mapping(["N", "M", "K"])
        mapping["levels"]["lb"]["tile"] = {"M": 4, "N": 4}
        simulate(_arch(capacity="64 B"), "gemm:M=4,N=4,K=4,dtype=int8", mapping)
    with pytest.raises(SpecError, match="share names"):
        load_arch(_arch(holds=["input"], share={"weight": 0.5}))
    with pytest.raises(SpecError, match="add up to"):
        load_arch(_arch(share={"input": 0.6, "weight": 0.6}))
    with pytest.raises(SpecError, match="not a systolic_array"):
        arch = _arch()
        arch["components"]["lb"]["unit"] = "dram"
        load_arch(arch)


def _slow_global_buffer(**local):
    """_arch with a fast local buffer (64 B x 2 ports a cycle) under a global buffer that moves
    1 B a cycle, so refilling the local buffer is what costs time."""
    arch = _arch(width="64 B", **local)
    arch["components"]["glb"].update(width="1 B", ports=1)
    return arch


def _run(arch):
    report = simulate(arch, "gemm:M=4,N=4,K=4,dtype=int8", _mapping(["N", "M", "K"]))
    assert report.summary["numerics_ok"]
    return report, report.record.op_stalls["gemm"]["sram_bandwidth"], report.record.busy["pe"]


def test_single_buffered_local_refills_stall_the_array_by_hand():
    """The N-outer nest above moves 16 B of B and 32 B of A into lb and 16 int32 sums (64 B) out:
    112 B over the global buffer's 1 B a cycle. lb holds one sub-tile, so the array waits for
    each refill and drain: 112 stall cycles on top of its compute."""
    _, stall, _ = _run(_slow_global_buffer())
    assert stall == 16 + 32 + 16 * 4


def test_double_buffered_local_refills_hide_behind_compute():
    """double_buffer: the same 112 B move while the array computes, so the tile takes the global
    buffer's 112 port cycles instead of compute + 112: the difference is the compute time."""
    single, single_stall, busy = _run(_slow_global_buffer())
    double, double_stall, double_busy = _run(_slow_global_buffer(double_buffer=True))
    assert double_busy == busy and 0 < busy < 112
    assert double_stall + busy == 112
    assert single.cycles - double.cycles == busy
    assert single_stall - double_stall == busy


def test_double_buffering_halves_what_a_local_buffer_holds():
    """A 4 x 4 sub-tile needs A 16 B + B 16 B + C int32 64 B = 96 B: it fits 128 B single-
    buffered, not the 64 B half of a double-buffered 128 B."""
    mapping = _mapping(["N", "M", "K"])
    mapping["levels"]["lb"]["tile"] = {"M": 4, "N": 4}
    simulate(_arch(capacity="128 B"), "gemm:M=4,N=4,K=4,dtype=int8", mapping)
    with pytest.raises(CapacityError, match=r"lb: its tile needs 96 B .* 64 B \(half of it"):
        simulate(
            _arch(capacity="128 B", double_buffer=True), "gemm:M=4,N=4,K=4,dtype=int8", mapping
        )
    with pytest.raises(SpecError, match="double_buffer is for a local buffer"):
        arch = _arch()
        arch["components"]["glb"]["double_buffer"] = True
        load_arch(arch)


def _auto(arch, tile: dict):
    """The sub-tile lb holds, and an auto DMA tile (the whole 4 x 4 x 4 GEMM fits glb)."""
    mapping = {"dataflow": "ws", "levels": {"lb": {"tile": tile, "loop_order": ["N", "M", "K"]}}}
    report = simulate(arch, "gemm:M=4,N=4,K=4,dtype=int8", mapping)
    assert report.summary["numerics_ok"]
    return report


def test_auto_double_buffers_a_local_buffer_when_refills_cost_time():
    """Over the 1 B-a-cycle global buffer the 112 B of refills stall a single-buffered lb 112
    cycles on top of the compute, while double-buffered the tile takes 112 port cycles: faster by
    the compute time, and 2 x 32 B (A 8 + B 8 + C 16 per 2 x 2 sub-tile) fits its 1 KiB."""
    chosen = _auto(_slow_global_buffer(), {"M": 2, "N": 2})
    assert chosen.ops["map_double_buffered"][0] == "lb"
    single, _, busy = _run(_slow_global_buffer())
    assert single.cycles - chosen.cycles == busy > 0


def test_auto_keeps_a_local_buffer_single_when_only_that_fits():
    """A 4 x 4 sub-tile needs 16 + 16 + 64 = 96 B: it fits 128 B, not the 64 B half."""
    chosen = _auto(_arch(capacity="128 B"), {"M": 4, "N": 4})
    assert chosen.ops["map_double_buffered"][0] == ""


def test_the_arch_or_the_mapping_fixes_double_buffering():
    """An arch that sets double_buffer (its hardware) or a mapping that does is not overruled."""
    fixed = _slow_global_buffer(double_buffer=False)
    assert _auto(fixed, {"M": 2, "N": 2}).ops["map_double_buffered"][0] == ""
    mapping = {
        "dataflow": "ws",
        "levels": {"lb": {"tile": {"M": 2, "N": 2}, "double_buffer": False}},
    }
    report = simulate(_slow_global_buffer(), "gemm:M=4,N=4,K=4,dtype=int8", mapping)
    assert report.ops["map_double_buffered"][0] == ""
    mapping["levels"]["lb"]["double_buffer"] = True
    report = simulate(
        _arch(), "gemm:M=4,N=4,K=4,dtype=int8", {**mapping, "tile": {"M": 4, "N": 4, "K": 4}}
    )
    assert report.ops["map_double_buffered"][0] == "lb"
    with pytest.raises(SpecError, match=r"levels\.lb\.double_buffer: the arch fixes lb's"):
        simulate(fixed, "gemm:M=4,N=4,K=4,dtype=int8", mapping)
