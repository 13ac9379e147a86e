"""Crossbar mapping: crossbar counts, utilization, replication, passes and timing by hand; the pim
report block's partition and bytes; ISAAC's tile power reproduced by a simulated run."""

import math

import pytest

import simulator
from simulator.errors import UnsupportedError


def crossbar_arch(tiles=1, imas=12, per_ima=8, **xbar):
    """ISAAC's geometry (128x128, 2-bit cells, 1-bit DACs) with a chosen number of crossbars."""
    return {
        "name": "xb",
        "clock": "1.2 GHz",
        "tech_node": "32 nm",
        "components": {
            "xbar": {
                "kind": "crossbar",
                "tiles": tiles,
                "imas_per_tile": imas,
                "crossbars_per_ima": per_ima,
                "column_flip": True,
                **xbar,
            },
            "vpu": {"kind": "vector", "lanes": 16},
            "buf": {"kind": "sram", "capacity": "4 MiB", "banks": 16, "width": "32 B"},
            "dram": {"kind": "dram", "technology": "ddr4", "latency": "0 ns"},
        },
    }


def gemm(m, n, k, dtype="int8"):
    return f"gemm:M={m},N={n},K={k},dtype={dtype}"


def details(report):
    return report.program.ops[0].details


@pytest.mark.parametrize(
    ("dtype", "encoding", "cells", "xbars"),
    [
        # K=300 over 128 rows: 3 row tiles; N=50 weights, int8 = 4 two-bit cells: 32 per crossbar
        ("int8", "offset", 4, 3 * math.ceil(50 / 32)),
        ("int16", "offset", 8, 3 * math.ceil(50 / 16)),
        ("int8", "differential", 8, 3 * math.ceil(50 / 16)),
    ],
)
def test_crossbar_count_and_utilization_are_the_hand_count(dtype, encoding, cells, xbars):
    arch = crossbar_arch(weight_encoding=encoding)
    report = simulator.simulate(arch, gemm(7, 50, 300, dtype), numerics=False)
    d = details(report)
    assert d["copy_crossbars"] == xbars
    assert d["cells_per_weight"] == cells
    assert d["crossbar_utilization"] == pytest.approx(300 * 50 * cells / (xbars * 128 * 128))
    assert d["weight_cells"] == 300 * 50 * cells


def test_spare_crossbars_hold_the_fewest_copies_for_the_fewest_waves():
    report = simulator.simulate("isaac-like", "gemm-1024", numerics=False)
    d = details(report)
    assert d["copy_crossbars"] == 8 * 32  # 1024 / 128 row tiles x 1024 / 32 column tiles
    most = 16128 // 256  # 63 copies fit in ISAAC-CE's 168 x 12 x 8 crossbars
    waves = math.ceil(1024 / most)  # 17 waves of input vectors
    assert d["replication"] == math.ceil(1024 / waves) == 61
    assert d["resident"] and d["passes"] == 1
    # 17 waves x 8 input cycles x 100 ns (120 cycles at 1.2 GHz), split over steps of whole waves
    busy = report.record.op_busy["gemm"]["xbar"]
    rows = d["tile"]["M"]
    steps = [min(rows, 1024 - m0) for m0 in range(0, 1024, rows)]
    assert busy == sum(math.ceil(r / 61) * 8 * 120 for r in steps)
    assert report.summary["pim"]["program_energy_pj"] == pytest.approx(61 * 1024 * 1024 * 4 * 1.29)


def test_weights_that_do_not_fit_are_programmed_in_passes_during_the_run():
    # 96 crossbars; 1024 x 1024 int8 needs 8 row tiles x 32 column tiles = 256
    report = simulator.simulate(crossbar_arch(), gemm(64, 1024, 1024))
    d = details(report)
    assert not d["resident"]
    assert d["passes"] == math.ceil(32 / (96 // 8))  # 12 column tiles per pass: 3 passes
    counts = report.energy.groupby("action")["count"].sum()
    assert counts["program_cell"] == 1024 * 1024 * 4  # one copy per pass: 96 // 96
    assert report.summary["numerics_ok"] and report.summary["coverage_ok"]
    assert report.summary["pim"]["weights_resident"] is False


def test_k_larger_than_the_crossbars_splits_into_reduction_passes():
    # 2 crossbars of 128 rows; K = 512 needs 4 row tiles: each column tile takes 2 passes
    report = simulator.simulate(crossbar_arch(imas=1, per_ima=2), gemm(5, 40, 512))
    d = details(report)
    assert d["passes"] == 2 * 2  # N=40: 2 column tiles of 32 weights, each in 2 K passes
    assert report.summary["numerics_ok"] and report.summary["coverage_ok"]
    assert report.record.op_dram["gemm"]["spill"] > 0 and report.record.op_dram["gemm"]["reload"]


def test_replication_is_capped_by_the_mapping():
    report = simulator.simulate(
        "isaac-like", "gemm-1024", {"crossbar": {"replication": 8}}, numerics=False
    )
    assert details(report)["replication"] == 8


def test_isaac_tile_power_from_a_simulated_run():
    """One tile, one copy filling its 96 crossbars (K=1024: 8 row tiles, N=384: 12 column tiles
    of 32 int8 weights): while the crossbars work, the tile draws ISAAC's 330 mW (Table I)."""
    report = simulator.simulate(crossbar_arch(), gemm(96, 384, 1024), numerics=False)
    assert details(report)["crossbars_used"] == 96
    busy_s = report.record.busy["xbar"] / 1.2e9
    edram_mw = 20.7  # the tile's eDRAM, which this arch's sram does not price as ISAAC does
    xbar_pj = report.energy[report.energy.component == "xbar"]["energy_pj"].sum()
    assert xbar_pj * 1e-9 / busy_s + edram_mw == pytest.approx(330, rel=0.10)  # pJ/s -> mW


def test_the_pim_block_counts_bytes_between_analog_and_digital_ops():
    workload = {
        "name": "w",
        "ops": [
            {"kind": "gemm", "name": "up", "M": 64, "N": 128, "K": 128, "dtype": "int8"},
            {"kind": "gelu", "name": "act", "rows": 64, "cols": 128, "inputs": ["up"]},
            {"kind": "gemm", "name": "down", "M": 64, "N": 32, "K": 128, "inputs": ["act"]},
        ],
    }
    report = simulator.simulate(crossbar_arch(), workload)
    pim = report.summary["pim"]
    assert (pim["analog_ops"], pim["digital_ops"]) == (2, 1)
    assert pim["in_memory_to_digital_bytes"] == 64 * 128 * 4  # up's int32 outputs
    assert pim["digital_to_in_memory_bytes"] == 64 * 128 * 2  # gelu's bf16 outputs
    # footprints: up 1 x 4 crossbars, down 1 x 1. Copies go to the slower op while they fit: both
    # reach 16 copies (4 waves of 64 rows; 80 crossbars); up's next step (22 copies, 3 waves)
    # needs 24 more of the 16 left, down's (22, then 32 copies: 2 waves) 6 and then 10.
    copies = {op.name: op.details.get("replication") for op in report.program.ops}
    assert copies == {"up": 16, "act": None, "down": 32}
    assert pim["crossbars_used"] == 16 * 4 + 32 * 1 == 96
    assert pim["rms_rel_error"] == 0 and pim["snr_db"] is None


def test_float_gemms_without_a_fixed_point_format_are_unsupported():
    arch = crossbar_arch(fixed_point=None)
    with pytest.raises(UnsupportedError, match="cannot run bf16 GEMMs"):
        simulator.simulate(arch, gemm(4, 4, 4, "bf16"))


def test_cycles_never_beat_the_crossbars_peak():
    s = simulator.simulate("isaac-like", "gemm-256").summary
    assert s["cycles"] >= s["roofline_cycles"] and s["numerics_ok"]
    assert s["mac_utilization"] <= 1


def test_the_adc_bits_sweep_gives_error_and_energy_per_point(tmp_path):
    from simulator.sweep import load_sweep, run_sweep

    sweep = load_sweep("adc-bits")
    assert len(sweep.points) == 14 and sweep.spec.numerics
    rows = run_sweep(sweep, tmp_path / "adc.parquet", jobs=1, limit=4).results  # 4 and 5 bits
    assert list(rows["status"]) == ["ok"] * 4
    error = {
        (r["arch.components.xbar.adc_bits"], r["arch.components.xbar.column_flip"]): r
        for r in rows.to_dict("records")
    }
    for flip in (False, True):
        assert error[4, flip]["pim.rms_rel_error"] > error[5, flip]["pim.rms_rel_error"] > 0
        assert error[4, flip]["energy_pj"] < error[5, flip]["energy_pj"]
    # flipped columns halve the range: one bit fewer for the same LSB and error
    assert error[5, True]["pim.rms_rel_error"] < error[5, False]["pim.rms_rel_error"]


def test_array_tiling_keys_are_an_error_not_ignored():
    from simulator.errors import SpecError

    with pytest.raises(SpecError, match=r"tile: does not apply to GEMMs on xbar \(crossbar\)"):
        simulator.simulate("isaac-like", "gemm-256", "ws-tiled-256", numerics=False)
    rows = simulator.simulate("hbm-pim-like", gemm(8, 64, 64), {"tile": {"M": 2}}, numerics=False)
    assert rows.program.ops[0].details["tile"]["M"] == 2
