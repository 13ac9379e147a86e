"""Tech tables and the node-scaling rule, against the cited numbers themselves."""

import math

import pytest

from simulator import tech


def test_horowitz_points_are_read_back():
    assert tech.op_energy_pj("int8_mul") == 0.2
    assert tech.op_energy_pj("fp32_add") == 0.9
    assert tech.op_area_um2("int32_mul") == 3495


def test_sram_energy_interpolates_log_log_between_horowitz_points():
    assert tech.sram_read_pj_per_byte_45nm(32 * 1024) == pytest.approx(20 / 8)
    # halfway (in log size) between 8 KiB (10 pJ) and 32 KiB (20 pJ): geometric mean
    assert tech.sram_read_pj_per_byte_45nm(16 * 1024) == pytest.approx(math.sqrt(10 * 20) / 8)


def test_node_scaling_is_identity_at_45nm_and_monotone():
    assert tech.scale_energy(1.0, 45) == 1.0
    factors = [tech.scale_energy(1.0, n) for n in (65, 45, 28, 16, 7)]
    assert factors == sorted(factors, reverse=True)
    table = tech.table("node_scaling")["nodes"]
    assert tech.scale_area(1.0, 7) == pytest.approx(table[7]["area_factor"])


def test_sram_area_scales_with_published_bit_cells_and_stays_above_them():
    # TSMC N7 0.027 um^2 vs Intel 45 nm 0.346 um^2 (ISSCC 2017 / IEDM 2007)
    assert tech.scale_sram_area(3.3, 7) == pytest.approx(3.3 * 0.027 / 0.346)
    # 1 MiB at 7 nm is more than its 8 Mibit of bare 0.027 um^2 cells (0.226 mm^2)
    assert tech.scale_sram_area(tech.sram_area_mm2_per_mib_45nm(), 7) > 2**23 * 0.027e-6
    # halfway (in log node) between 7 nm and 5 nm: geometric mean of the cells
    assert tech.scale_sram_area(1.0, math.sqrt(35)) == pytest.approx(
        math.sqrt(0.027 * 0.021) / 0.346
    )
    assert tech.scale_sram_area(1.0, 3) == tech.scale_sram_area(1.0, 5)  # clamped


def test_dram_presets_carry_sources():
    for name, preset in tech.table("dram")["presets"].items():
        assert preset["energy_pj_per_bit"] > 0 and preset["sources"], name


def test_sram_ports_grow_the_area_as_cactis_macro_does():
    # CACTI 7, 1 MiB at 45 nm (tools/cacti_ports.py): 3.686, 7.011, 11.862, 17.928 mm² for 1-4 ports
    assert tech.sram_port_area_factor(1) == 1.0
    assert tech.sram_port_area_factor(2) == pytest.approx(7.011 / 3.686)
    assert tech.sram_port_area_factor(4) == pytest.approx(17.928 / 3.686)
    # 8 ports: log-log on from the 3-4 port segment
    slope = math.log(17.928 / 11.862) / math.log(4 / 3)
    assert tech.sram_port_area_factor(8) == pytest.approx(17.928 / 3.686 * 2**slope)
    factors = [tech.sram_port_area_factor(p) for p in range(1, 9)]
    assert factors == sorted(factors)


def test_split_sram_ports_use_cactis_exclusive_read_and_write_port_runs():
    # CACTI 7, same macro (tools/cacti_ports.py): 1R1W 7.385, 2R1W 11.421, 2R2W 17.157 mm²
    assert tech.sram_port_area_factor(1, "split") == 1.0  # one port reads and writes
    assert tech.sram_port_area_factor(2, "split") == pytest.approx(7.385 / 3.686)
    assert tech.sram_port_area_factor(3, "split") == pytest.approx(11.421 / 3.686)
    assert tech.sram_port_area_factor(4, "split") == pytest.approx(17.157 / 3.686)
    # at 2 ports read-write ports are the cheaper kind (the default), from 3 on split ports are
    assert tech.sram_port_area_factor(2) < tech.sram_port_area_factor(2, "split")
    assert tech.sram_port_area_factor(4, "split") < tech.sram_port_area_factor(4)


def test_an_srams_port_kind_picks_its_area_table():
    # The same 1 MiB, 45 nm, 2-port SRAM: split (1R1W) over read-write (2RW) is CACTI's 7.385 / 7.011
    from simulator.components.sram import Sram
    from simulator.spec.arch import SramSpec

    def area(kind: str) -> float:
        spec = SramSpec(kind="sram", capacity="1 MiB", ports=2, port_kind=kind)
        return Sram("buf", spec, 1e9, 45).area_mm2()

    assert area("split") / area("read_write") == pytest.approx(7.385 / 7.011)
