"""Register levels: instances by placement, tech-table access energy, port bandwidth; DRAM's
separate read and write energy."""

import pytest

from simulator.components import build_machine
from simulator.spec import load_arch


def _arch(node="40 nm", **registers):
    return load_arch(
        {
            "name": "regs",
            "clock": "1 GHz",
            "tech_node": node,
            "components": {
                "mxu": {"kind": "systolic_array", "rows": 4, "cols": 8, "dataflows": ["ws"]},
                **{
                    name: {"kind": "regfile", "unit": "mxu", "holds": ["weight"], **spec}
                    for name, spec in registers.items()
                },
                "buf": {"kind": "sram", "capacity": "64 KiB"},
                "dram": {
                    "kind": "dram",
                    "technology": "ddr4",
                    "read_energy_per_bit": "10 pJ",
                    "write_energy_per_bit": "12 pJ",
                },
            },
        }
    )


def test_instances_follow_placement_on_a_4x8_array():
    machine = build_machine(
        _arch(
            pe={"capacity": "2 B", "instances": "pe"},
            row={"capacity": "2 B", "instances": "row"},
            col={"capacity": "2 B", "instances": "col"},
            whole={"capacity": "2 B", "instances": "array"},
        )
    )
    counts = {n: machine.components[n].count for n in ("pe", "row", "col", "whole")}
    assert counts == {"pe": 32, "row": 4, "col": 8, "whole": 1}
    assert machine.components["pe"].capacity_bytes == 64


def test_flipflop_energy_and_area_from_the_aladdin_row_at_40nm():
    reg = build_machine(_arch(r={"capacity": "2 B"})).components["r"]
    # 2-byte instance: flip-flops, 0.009 pJ per bit (Aladdin, 40 nm), one 16-bit word per access
    assert reg.access_energy["read"] == pytest.approx(16 * 0.009)
    assert reg.energy_pj("write") == pytest.approx(0.009 * 8)  # per byte
    assert reg.area_mm2() == pytest.approx(32 * 16 * 5.98e-6)


def test_large_instances_are_register_files_at_one_pj_per_32_bits():
    reg = build_machine(_arch("45 nm", r={"capacity": "256 B", "width": "4 B"})).components["r"]
    assert reg.access_energy["read"] == pytest.approx(1.0)  # EIE Table I, 45 nm


def test_overrides_and_port_bandwidth():
    reg = build_machine(
        _arch(r={"capacity": "128 B", "width": "1 B", "ports": 3, "read_energy": "0.095 pJ"})
    ).components["r"]
    assert reg.energy_pj("read") == pytest.approx(0.095)
    assert reg.energy_pj("write") == pytest.approx(0.095)  # writes default to the read energy
    assert reg.bytes_per_cycle == 3 * 32 * 1
    assert reg.access_cycles(960) == 10


def test_dram_reads_and_writes_priced_separately():
    dram = build_machine(_arch()).dram
    assert (dram.energy_pj("read"), dram.energy_pj("write")) == (80.0, 96.0)


def test_register_level_must_sit_in_an_array():
    from simulator.errors import SpecError

    with pytest.raises(SpecError, match="r.unit: 'vpu' is not a systolic_array"):
        _arch(r={"capacity": "2 B", "unit": "vpu"})
