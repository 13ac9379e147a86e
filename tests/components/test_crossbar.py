"""Crossbar component: slicing, ADC range and timing by hand; ISAAC's Table I totals reproduced."""

import math

import pytest

from simulator.components.crossbar import Crossbar
from simulator.errors import UnsupportedError
from simulator.spec.arch import CrossbarSpec

ISAAC_TILE_MW, ISAAC_TILE_MM2 = 330.0, 0.372  # Shafiee et al., ISCA 2016, Table I, one tile
ISAAC_EDRAM_MW, ISAAC_EDRAM_MM2 = 20.7, 0.083  # the tile's 64 KB eDRAM (the arch's sram)


def crossbar(node: float = 32.0, **fields) -> Crossbar:
    return Crossbar("xb", CrossbarSpec(kind="crossbar", **fields), 1.2e9, node)


def test_isaac_slicing_is_16_cycles_and_8_cells_for_int16():
    # ISAAC: 16-bit inputs over 16 one-bit DAC cycles, 16-bit weights as 8 two-bit cells
    s = crossbar().slicing("int16")
    assert (s.input_cycles, s.weight_slices, s.polarities) == (16, 8, 1)
    s8 = crossbar().slicing("int8")
    assert (s8.input_cycles, s8.weight_slices) == (8, 4)


def test_wider_dacs_stream_the_magnitude_bits_then_the_sign_bit():
    # 7 magnitude bits in 2-bit slices = 4 cycles, plus the sign bit cycle
    assert crossbar(dac_bits=2).slicing("int8").input_cycles == 5
    assert crossbar(weight_encoding="differential").slicing("int8").cells_per_weight == 8


@pytest.mark.parametrize(
    ("fields", "full", "lossless"),
    [
        ({}, 128 * 1 * 3, 9),  # hardware.md: 9 bits for R=128, d=1, c=2
        ({"column_flip": True}, 64 * 3, 8),  # ISAAC's flipped columns: 8 bits suffice
        ({"rows": 256, "cell_bits": 4, "dac_bits": 3}, 256 * 15 * 7, 15),  # PRIME-like
    ],
)
def test_adc_full_scale_and_lossless_bits(fields, full, lossless):
    adc = crossbar(**fields).adc_range()
    assert (adc.full_scale, adc.lossless_bits) == (full, lossless)
    assert lossless == math.ceil(math.log2(full + 1))


def test_the_lsb_is_the_power_of_two_that_spans_the_full_scale():
    assert crossbar(adc_bits=9).adc_range().step == 1
    assert crossbar(adc_bits=7).adc_range().step == 4  # 128 codes x 4 levels cover 384
    assert crossbar(adc_bits=12).adc_range().step == 1 / 8  # spare bits resolve sub-level noise
    assert crossbar(adc_bits=7).adc_range().max_error == 2  # half an LSB
    assert crossbar(adc_bits=12).adc_range().max_error == 0


def test_isaac_cycle_is_100_ns_and_the_adc_keeps_up():
    xb = crossbar()
    # 128 columns per ADC at 1.28 GS/s = 100 ns, the same as the read: no ADC stall
    assert xb.cycle_s == pytest.approx(100e-9)
    assert crossbar(adc_sample_rate="0.64 GHz").cycle_s == pytest.approx(200e-9)
    assert xb.mvm_cycles(xb.slicing("int8"), waves=3) == 3 * 8 * 120  # 100 ns = 120 cycles


def test_isaac_tile_area_matches_table_one():
    xb = crossbar(tiles=1)  # 12 IMAs x 8 crossbars
    tile = xb.area_mm2() + ISAAC_EDRAM_MM2
    assert tile == pytest.approx(ISAAC_TILE_MM2, rel=0.10)
    parts = xb.area_breakdown_mm2()
    ima_parts = sum(v for k, v in parts.items() if k != "tile_periphery")
    assert parts["adc"] / ima_parts > 0.5, "ADCs dominate the IMA area"
    assert max(parts, key=parts.get) in ("adc", "tile_periphery")


def test_isaac_tile_power_at_full_activity_matches_table_one():
    """Every crossbar of a tile reads each 100 ns, every ADC converts its 128 columns, every DAC
    drives its row: energy per 100 ns over 100 ns must give the published tile power."""
    xb = crossbar(tiles=1)
    e = xb.actions
    crossbars, rows, cols = 96, 128, 128
    per_cycle_pj = crossbars * (
        e["crossbar_read"] + e["ima_registers"] + e["tile_periphery"] + rows * e["dac_drive"]
    ) + crossbars * cols * (e["adc_convert"] + e["shift_add"])
    power_mw = per_cycle_pj / 100.0 + ISAAC_EDRAM_MW  # pJ per ns = mW
    assert power_mw == pytest.approx(ISAAC_TILE_MW, rel=0.10)
    adc_mw = crossbars * cols * e["adc_convert"] / 100.0
    assert adc_mw == pytest.approx(16.0 * 12, rel=0.01)  # Table I: 16 mW of ADCs per IMA


def test_adc_energy_and_area_follow_the_resolution_table():
    # Saberi-scaled SAR ADC table (tech/pim.yaml): 6 bits = 1.20 / 1.67 of 8 bits
    e8 = crossbar().actions["adc_convert"]
    assert crossbar(adc_bits=6).actions["adc_convert"] == pytest.approx(e8 * 1.20 / 1.67)
    a8 = crossbar().area_breakdown_mm2()["adc"]
    assert crossbar(adc_bits=10).area_breakdown_mm2()["adc"] == pytest.approx(a8 * 3002.01 / 1200)


def test_energy_scales_with_the_node():
    near = crossbar().actions["adc_convert"]
    assert crossbar(node=16.0).actions["adc_convert"] < near


def test_float_gemms_run_in_the_fixed_point_format():
    assert crossbar().slicing("bf16").dtype == "int16"
    with pytest.raises(UnsupportedError, match="cannot run bf16 GEMMs; it supports int8"):
        crossbar(input_precision=["int8"], fixed_point=None).check("proj", "bf16")


def test_a_weight_wider_than_a_crossbar_is_unsupported():
    xb = crossbar(cols=4)
    with pytest.raises(UnsupportedError, match="needs 8 columns but a crossbar has 4"):
        xb.weights_per_crossbar(xb.slicing("int16"))
