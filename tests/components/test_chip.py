"""Chip parts beyond the datapath, checked against the table entries they come from."""

import math

import pytest

from simulator.components import build_machine
from simulator.components.chip import chip_parts, leakage_mw_per_mm2, pe_register_bits
from simulator.spec import load_arch


def parts_of(preset):
    machine = build_machine(load_arch(preset))
    parts = chip_parts(machine.components, machine.arch.chip, machine.arch.tech_node)
    return machine, {(p.component, p.part): p for p in parts}


def test_leakage_density_is_cactis_leakage_over_its_area():
    # CACTI 7, 1 MiB at 45 nm: itrs-lop 20.4 mW, itrs-hp 497 mW, over 3.26 mm²
    assert leakage_mw_per_mm2("lop", 45) == pytest.approx(20.4 / 3.26, rel=2e-3)
    assert leakage_mw_per_mm2("hp", 45) == pytest.approx(497 / 3.26, rel=2e-3)
    # at 28 nm: energy factor 0.518 over area factor 0.368
    assert leakage_mw_per_mm2("lop", 28) == pytest.approx(6.26 * 0.518 / 0.368)


def test_tpu_v1_pe_registers_and_ddr3_devices():
    machine, parts = parts_of("tpu-v1-like")
    # int8 input, two int8 weights (double-buffered), int32 accumulator
    assert pe_register_bits(machine.components["mxu"]) == 8 + 2 * 8 + 32
    # 8 GiB of 2 Gbit DDR3 devices = 32 devices x 45 mA x 1.5 V
    assert parts["dram", "devices"].static_mw == pytest.approx(32 * 45 * 1.5)
    assert not parts["dram", "devices"].on_die
    # refresh: a 4 Gbit DDR3L device (DRAMsim3 currents) over 2 Gbit devices:
    # (IDD5 235 - IDD3N 38 mA) x 1.35 V x tRFC / tREFI (208 / 6240 clocks), per bit
    per_4gbit = (235 - 38) * 1.35 * 208 / 6240
    assert parts["dram", "refresh"].static_mw == pytest.approx(32 * per_4gbit / 2, rel=2e-3)
    assert not parts["dram", "refresh"].on_die


def test_a100_hbm_standby_and_refresh():
    # 80 GiB of HBM2E counted as 80 DRAMsim3 HBM2 channels of 1 GiB: IDD3N 55 mA x 1.2 V standby,
    # (IDD5 250 - IDD3N 55 mA) x 1.2 V x tRFC 260 / tREFI 3900 ns refresh
    _, parts = parts_of("a100-like")
    assert parts["hbm", "devices"].static_mw == pytest.approx(80 * 55 * 1.2)
    assert parts["hbm", "refresh"].static_mw == pytest.approx(80 * 195 * 1.2 * 260 / 3900)


def test_dram_without_tabulated_currents_draws_no_background():
    # hbm3's standby and refresh currents are not transcribed: the parts exist with 0 mW
    _, parts = parts_of("h100-like")
    dram = next(name for name, part in parts if part == "refresh")
    assert parts[dram, "devices"].static_mw == parts[dram, "refresh"].static_mw == 0.0


def test_a100_serdes_area_and_always_on_power():
    _, parts = parts_of("a100-like")
    nvlink = parts["(chip)", "serdes_nvlink3"]
    # 12 links x 4 lanes x 0.22 mm²; 12 x 25 GB/s x 2 directions x 8 bit x 5 pJ/bit
    assert nvlink.area_mm2 == pytest.approx(12 * 4 * 0.22)
    assert nvlink.static_mw == pytest.approx(12 * 25e9 * 2 * 8 * 5e-12 * 1e3)
    pcie = parts["(chip)", "serdes_pcie4_x16"]
    assert pcie.area_mm2 == pytest.approx(16 * 0.22)


def test_declared_register_levels_are_not_counted_twice():
    # eyeriss-like declares the PEs' ifmap, filter and psum scratchpads as register levels
    machine, parts = parts_of("eyeriss-like")
    assert ("pe_array", "pe_registers") not in parts
    assert parts["filter_spad", "registers"].area_mm2 > 0


# Stillmaker-Baas area factors (node_scaling.yaml) at 45 / 32 / 28 / 65 nm; 40 nm is the log-log point
# between 45 and 32 nm, the flip-flop's (Aladdin) and the DDR3 PHY's (McPAT) node.
AREA_28, AREA_65 = 0.368, 1.5
AREA_40 = math.exp(math.log(0.46) * math.log(40 / 45) / math.log(32 / 45))


def test_tpu_v1_placement_is_cells_over_utilization():
    # per PE: Horowitz int8 multiplier 282 + int32 adder 137 µm² at 45 nm, and 56 flip-flop bits
    # (8 + 2 x 8 + 32) of 5.98 µm² at 40 nm; placed at 70 % utilization
    _, parts = parts_of("tpu-v1-like")
    cells_um2 = (282 + 137) * AREA_28 + 56 * 5.98 * AREA_28 / AREA_40
    white = 65536 * cells_um2 * 1e-6 * (1 / 0.7 - 1)
    assert parts["mxu", "placement"].area_mm2 == pytest.approx(white, rel=1e-3)
    assert parts["mxu", "placement"].static_mw == 0.0  # white space holds no devices
    assert white == pytest.approx(8.86, abs=0.01)


def test_tpu_v1_ddr3_phy_and_controller():
    # McPAT: a 16-bit DDR3 PHY is 1.3 mm² at 40 nm, 80 % of it I/O that does not shrink; a DDR
    # controller is 0.15 mm² per 72-bit channel at 65 nm. TPU v1: two 64-bit DDR3 channels at 28 nm.
    _, parts = parts_of("tpu-v1-like")
    phy = 2 * 64 * 1.3 / 16 * (0.8 + 0.2 * AREA_28 / AREA_40)
    controller = 2 * 0.15 * 64 / 72 * AREA_28 / AREA_65
    assert parts["dram", "memory_phy"].area_mm2 == pytest.approx(phy, rel=1e-3)
    assert parts["dram", "memory_controller"].area_mm2 == pytest.approx(controller, rel=1e-3)
    assert parts["dram", "memory_phy"].on_die and parts["dram", "memory_controller"].on_die
    assert parts["dram", "memory_controller"].static_mw == pytest.approx(
        controller * leakage_mw_per_mm2("lop", 28)
    )


def test_memory_interface_off_die_or_without_a_cited_figure():
    _, eyeriss = parts_of("eyeriss-like")  # chip: memory_interface_on_die: false
    assert ("dram", "memory_phy") not in eyeriss
    _, a100 = parts_of("a100-like")  # HBM2E: no cited PHY area
    assert not any(part == "memory_phy" for _, part in a100)
