"""Shared fixtures: small hand-checkable architectures built as dicts."""

import pytest


def tiny_arch(
    rows=8,
    cols=8,
    dataflows=("os", "ws", "is"),
    bandwidth="700 MB/s",
    latency="0 ns",
    capacity="1 MiB",
    width="64 B",
    precisions=("int8", "bf16", "fp16", "fp32", "int16"),
):
    """An array at 700 MHz whose DRAM moves exactly 1 byte per cycle by default, with known costs."""
    return {
        "name": "tiny",
        "clock": "700 MHz",
        "components": {
            "pe": {
                "kind": "systolic_array",
                "rows": rows,
                "cols": cols,
                "dataflows": list(dataflows),
                "input_precision": list(precisions),
                "mac_energy": "1 pJ",
            },
            "buf": {
                "kind": "sram",
                "capacity": capacity,
                "banks": 1,
                "ports": 1,
                "width": width,
                "read_energy": "1 pJ",
                "write_energy": "2 pJ",
                "leakage": "0 mW",
            },
            "dram": {
                "kind": "dram",
                "technology": "ddr4",
                "bandwidth": bandwidth,
                "latency": latency,
                "energy_per_bit": "10 pJ",
            },
        },
    }


@pytest.fixture
def arch():
    return tiny_arch()
