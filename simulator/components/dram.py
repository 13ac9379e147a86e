"""Off-chip DRAM: one shared bus at peak bandwidth plus a fixed access latency; energy per bit."""

import math

from simulator import tech
from simulator.components.base import Component
from simulator.spec.arch import DramSpec


class Dram(Component):
    """DDR / LPDDR / HBM; channels are interleaved, so one transfer streams at the full bandwidth."""

    kind = "dram"

    def __init__(self, name: str, spec: DramSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, ref_clock_hz, ref_clock_hz)
        self.spec = spec
        preset = tech.dram_preset(spec.technology)
        self.channels = spec.channels or int(preset["default_channels"])
        self.bandwidth_bytes_per_s = (
            sum(spec.operand_bandwidth.values())
            if spec.operand_bandwidth
            else spec.bandwidth or self.channels * preset["channel_bandwidth_gbps"] * 1e9
        )
        self.latency_s = spec.latency if spec.latency is not None else preset["latency_ns"] * 1e-9
        self.capacity_bytes = spec.capacity
        per_bit = (
            spec.energy_per_bit if spec.energy_per_bit is not None else preset["energy_pj_per_bit"]
        )
        read = spec.read_energy_per_bit if spec.read_energy_per_bit is not None else per_bit
        write = spec.write_energy_per_bit if spec.write_energy_per_bit is not None else per_bit
        self.actions = {"read": 8 * read, "write": 8 * write}

    @property
    def bytes_per_cycle(self) -> float:
        """Achievable bytes per reference cycle: peak x the spec's efficiency."""
        return self.bandwidth_bytes_per_s * self.spec.efficiency / self.ref_clock_hz

    @property
    def latency_cycles(self) -> int:
        """Access latency in reference cycles."""
        return math.ceil(self.latency_s * self.ref_clock_hz - 1e-9)

    def held_bytes(self, nbytes: int, direction: str = "read") -> float:
        """Read bytes' worth of bus time that moving `nbytes` in `direction` takes (writes cost the
        spec's `write_cost` each)."""
        return nbytes * self.spec.write_cost if direction == "write" else nbytes

    def transfer_cycles(
        self, nbytes: int, operand: str | None = None, direction: str = "read"
    ) -> int:
        """Reference cycles the bus (or `operand`'s own interface) is held to move `nbytes`."""
        per_cycle = self.bytes_per_cycle
        if operand is not None:
            per_cycle = (
                self.spec.operand_bandwidth[operand] * self.spec.efficiency / self.ref_clock_hz
            )
        return math.ceil(self.held_bytes(nbytes, direction) / per_cycle - 1e-9)
