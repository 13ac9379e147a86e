"""Sweep rows carry unit parameters in base units and the mapping each point ran."""

import simulator
from simulator.sweep.columns import base_unit_columns, chosen_mapping_columns


def test_unit_strings_get_base_unit_columns():
    columns = base_unit_columns(
        {
            "arch.components.sram.capacity": "2 MiB",
            "arch.components.dram.bandwidth": "12.8 GB/s",
            "arch.clock": "1 GHz",
            "arch.components.mac_array.rows": 32,
            "mapping.dataflow": "os",
        }
    )
    assert columns == {
        "arch.components.sram.capacity_bytes": 2 * 1024 * 1024,
        "arch.components.dram.bandwidth_bytes_per_s": 12.8e9,
        "arch.clock_hz": 1e9,
    }


def test_chosen_mapping_is_the_forced_one():
    mapping = {
        "name": "forced",
        "dataflow": "ws",
        "tile": {"M": 128, "N": 64, "K": 256},
        "loop_order": ["N", "M", "K"],
    }
    report = simulator.simulate("edge-npu", "gemm-256", mapping, numerics=False)
    columns = chosen_mapping_columns(report.program.ops)
    assert columns["chosen.dataflow"] == "ws"
    assert columns["chosen.loop_order"] == "NMK"
    assert (columns["chosen.tile.M"], columns["chosen.tile.N"], columns["chosen.tile.K"]) == (
        128,
        64,
        256,
    )
    assert columns["chosen.mapping"] == "gemm: ws M128xN64xK256 NMK"
