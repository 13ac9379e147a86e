"""A one-PE array with a one-weight register, shared by the nest tests: small enough to count
its accesses by hand."""


def one_pe(weight_read_pj: str = "1 pJ") -> dict:
    """A 1 x 1 ws int8 array with a 1-weight register; only the weight SRAM's reads cost energy
    (every other level and the DRAM are free), so a nest's energy is its weight SRAM reads."""
    free = {"read_energy": "0 pJ", "write_energy": "0 pJ"}
    return {
        "name": "one-pe",
        "clock": "1 GHz",
        "components": {
            "pe": {"kind": "systolic_array", "rows": 1, "cols": 1, "dataflows": ["ws"],
                   "mac_energy": "0 pJ", "input_precision": ["int8"]},
            "wreg": {"kind": "regfile", "unit": "pe", "holds": ["weight"], "capacity": "1 B",
                     "instances": "pe", **free},
            "wbuf": {"kind": "sram", "holds": ["weight"], "capacity": "1 KiB", "width": "1 B",
                     "ports": 4, "read_energy": weight_read_pj, "write_energy": "0 pJ"},
            "iobuf": {"kind": "sram", "holds": ["input", "output"], "capacity": "1 KiB",
                      "ports": 4, **free},
            "dram": {"kind": "dram", "technology": "ddr4", "energy_per_bit": "0 pJ",
                     "read_energy_per_bit": "0 pJ", "write_energy_per_bit": "0 pJ"},
        },
    }  # fmt: skip
