"""Register levels in a GEMM run: hand-counted accesses, output precision on write-back, and the
per-level table agreeing with what the engine counted (flat archs included)."""

import pytest
from hypothesis import given, settings

from simulator import simulate
from tests.strategies import shapes_and_mappings


def _tiny(**extra):
    """4 x 4 weight-stationary int8 array, a 1-byte weight register and a 32-bit partial-sum
    register per PE, one SRAM for everything."""
    return {
        "name": "tiny",
        "clock": "1 GHz",
        "components": {
            "mxu": {"kind": "systolic_array", "rows": 4, "cols": 4, "dataflows": ["ws"]},
            "wreg": {
                "kind": "regfile",
                "unit": "mxu",
                "holds": ["weight"],
                "capacity": "1 B",
                "width": "1 B",
            },
            "psum": {
                "kind": "regfile",
                "unit": "mxu",
                "holds": ["output"],
                "capacity": "4 B",
                "width": "4 B",
            },
            "buf": {"kind": "sram", "capacity": "64 KiB"},
            "dram": {"kind": "dram", "technology": "ddr4"},
            **extra,
        },
    }


WHOLE = {"tile": {"M": 8, "N": 4, "K": 4}, "loop_order": ["M", "N", "K"]}


def _counts(report) -> dict:
    rows = report.energy.groupby(["component", "action"])["count"].sum()
    return {key: int(value) for key, value in rows.items()}


def test_weight_stationary_registers_by_hand():
    """C[8, 4] = A[8, 4] B[4, 4] on 4 x 4 PEs: one fold, the 8 rows of A streamed through."""
    report = simulate(_tiny(), "gemm:M=8,N=4,K=4,dtype=int8", WHOLE, numerics=False)
    counts = _counts(report)
    # each PE loads its weight once and holds it for the 8 rows
    assert counts[("wreg", "write")] == 16 and counts[("wreg", "read")] == 16
    # 128 MACs: 128 partial-sum updates; 96 reads (all but the top PE of each column start from
    # the sum above); 128 sums leave their PE: 224 reads and 128 writes of 4 bytes
    assert counts[("psum", "read")] == 224 * 4 and counts[("psum", "write")] == 128 * 4
    # SRAM: A read once per element (broadcast along the row) + B once; 32 int32 sums arrive
    # after the column adds; the DMA writes A and B in and reads the 32 sums out
    assert counts[("buf", "read")] == 32 + 16 + 32 * 4
    assert counts[("buf", "write")] == 32 * 4 + 32 + 16
    assert counts[("dram", "read")] == 32 + 16 and counts[("dram", "write")] == 32 * 4


def test_output_dtype_sets_the_write_back_precision():
    report = simulate(
        _tiny(), "gemm:M=8,N=4,K=4,dtype=int8,output_dtype=int8", WHOLE, numerics=False
    )
    assert _counts(report)[("dram", "write")] == 32  # int8 out, sums still int32 inside
    assert report.ops.iloc[0]["map_output"] == "int8"


@pytest.mark.parametrize(
    "arch, mapping",
    [
        ("tpu-v1-like", {"tile": {"M": 256, "N": 128, "K": 512}, "loop_order": ["K", "M", "N"]}),
        ("tpu-v1-like", {"tile": {"M": 96, "N": 256, "K": 384}, "edge_tiles": "partial"}),
        ("edge-npu", None),
        ("zigzag-tpu-like", {"tile": {"M": 200, "N": 96, "K": 64}, "edge_tiles": "partial"}),
    ],
)
def test_level_table_equals_engine_counts(arch, mapping):
    """The closed-form table (tile grid + DMA) moves exactly the bytes the engine counted."""
    report = simulate(arch, "gemm:M=512,N=384,K=1024,dtype=int8", mapping, numerics=False)
    table = report.levels.assign(
        action=report.levels.action.map(
            {"read": "read", "drain": "read", "update": "write", "fill": "write"}
        )
    )
    mine = table.groupby(["level", "action"])["bytes"].sum().to_dict()
    engine = report.energy[report.energy.action.isin(["read", "write"])]
    theirs = engine.groupby(["component", "action"])["count"].sum().to_dict()
    assert mine == pytest.approx(theirs)


@settings(max_examples=25, deadline=None)
@given(shapes_and_mappings(max_dim=40))
def test_level_table_equals_engine_counts_for_random_tilings(case):
    """Any dataflow, tiling, loop order and edge tiles, with registers for every operand: the
    closed-form table moves what the engine counted, and the numerics still check out."""
    shape, mapping = case
    arch = _tiny()
    arch["components"]["mxu"]["dataflows"] = ["os", "ws", "is"]
    arch["components"]["areg"] = {
        "kind": "regfile",
        "unit": "mxu",
        "holds": ["input"],
        "capacity": "2 B",
        "instances": "row",
    }
    workload = "gemm:M={M},N={N},K={K},dtype=int8".format(**shape)
    report = simulate(arch, workload, mapping)
    assert report.summary["numerics_ok"]
    table = report.levels.assign(
        action=report.levels.action.map(
            {"read": "read", "drain": "read", "update": "write", "fill": "write"}
        )
    )
    mine = table.groupby(["level", "action"])["bytes"].sum().to_dict()
    engine = report.energy[report.energy.action.isin(["read", "write"])]
    theirs = engine.groupby(["component", "action"])["count"].sum().to_dict()
    assert mine == pytest.approx(theirs)


def test_mapping_sets_the_loops_a_register_holds():
    """C[8, 8] = A[8, 4] B[4, 8] on the 4 x 4 array: two column folds. An 8-byte input register
    per PE holds its 8 inputs across both folds (as many loops as fit: 128 fills, each input read
    from SRAM once and broadcast along the row); told to hold no loop it is refilled for the
    second fold (256 fills, 64 SRAM reads)."""
    arch = _tiny()
    arch["components"]["areg"] = {
        "kind": "regfile",
        "unit": "mxu",
        "holds": ["input"],
        "capacity": "8 B",
        "width": "1 B",
    }
    whole = {"tile": {"M": 8, "N": 8, "K": 4}, "loop_order": ["M", "N", "K"]}
    fills, sram_reads = {}, {}
    for label, registers in (("fit", None), ("none", {"areg": 0})):
        report = simulate(arch, "gemm:M=8,N=8,K=4,dtype=int8", {**whole, "registers": registers})
        assert report.summary["numerics_ok"]
        fills[label] = _counts(report)[("areg", "write")]
        levels = report.levels.set_index(["level", "operand", "action"])["elements"]
        sram_reads[label] = levels[("buf", "input", "read")]
    assert fills == {"fit": 128, "none": 256}
    assert sram_reads == {"fit": 32, "none": 64}


def test_mapping_register_loops_are_checked():
    from simulator.errors import CapacityError, SpecError

    with pytest.raises(CapacityError, match="psum: holding 1 fold loops needs 32 B"):
        simulate(_tiny(), "gemm:M=8,N=4,K=4", {**WHOLE, "registers": {"psum": 1}})
    with pytest.raises(SpecError, match="registers.nope: mxu has no register level 'nope'"):
        simulate(_tiny(), "gemm:M=8,N=4,K=4", {**WHOLE, "registers": {"nope": 1}})
