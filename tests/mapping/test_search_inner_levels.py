"""The mapper search tries the inner levels' open choices (a local SRAM's double_buffer, a
register level's fold-loop count) for its explicit tiles, and finds the better one by hand."""

from simulator.sweep.search import estimate_mapping, search_mapping

GEMM = "gemm:M=4,N=4,K=4,dtype=int8"


def _arch() -> dict:
    """2 x 2 ws int8 PEs; a fast 1 KiB local buffer (64 B x 2 ports a cycle) under a global
    buffer that moves 1 B a cycle, so refilling the local buffer is what costs time; the arch
    leaves the local buffer's double_buffer open."""
    return {
        "name": "two-sram",
        "clock": "1 GHz",
        "components": {
            "pe": {"kind": "systolic_array", "rows": 2, "cols": 2, "dataflows": ["ws"]},
            "lb": {"kind": "sram", "unit": "pe", "capacity": "1 KiB", "width": "64 B"},
            "glb": {"kind": "sram", "capacity": "64 KiB", "width": "1 B", "ports": 1},
            "dram": {"kind": "dram", "technology": "ddr4"},
        },
    }


def test_search_double_buffers_a_local_sram_of_an_explicit_tile_by_hand():
    """Tile 4 x 4 x 4 with lb holding 2 x 2 sub-tiles: its refills and drains cross the global
    buffer at 1 B a cycle. Single-buffered the array waits for them on top of its 20 cycles
    (stationary load 2 + 4 folds x max(M 4, 2) = 16 + skew 2 + 2 - 2); double-buffered the tile
    takes the global buffer's port cycles alone, the same bytes: 20 fewer. The search keeps the
    double-buffered choice for every explicit candidate it confirms with a local sub-tile
    (loop nests left out: they outrank the sub-tiles here)."""
    result = search_mapping(_arch(), GEMM, "latency", top_k=5, nest_budget=0)
    local = [c for c in result.ranked if "tile" in c.mapping.get("levels", {}).get("lb", {})]
    assert local and all(c.mapping["levels"]["lb"].get("double_buffer") for c in local)
    found = next(c for c in local if c.mapping["levels"]["lb"]["tile"] == {"M": 2, "N": 2})
    single = {**found.mapping, "levels": {"lb": {"tile": {"M": 2, "N": 2}}}}
    assert estimate_mapping(_arch(), GEMM, single).cycles - found.estimate.cycles == 20
