"""On-chip SRAM: capacity, banked bandwidth, per-byte access energy from bank size, area density."""

import math

from simulator import tech
from simulator.components.base import Component
from simulator.spec.arch import SramSpec


class Sram(Component):
    """A buffer of `capacity` bytes moving banks x ports x width bytes per cycle."""

    kind = "sram"

    def __init__(self, name: str, spec: SramSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, spec.clock or ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.node_nm = node_nm
        self.capacity_bytes = int(spec.capacity)
        self.instance_bytes = self.capacity_bytes  # one instance (a local buffer: one per array)
        self.unit: str | None = None  # the array it is a local buffer of (set by build_machine)
        self.bank_bytes = spec.capacity / spec.banks
        read = spec.read_energy
        if read is None:
            read = tech.scale_energy(tech.sram_read_pj_per_byte_45nm(self.bank_bytes), node_nm)
        # Horowitz tabulates reads only; a write is taken to cost the same as a read.
        self.actions = {
            "read": read,
            "write": spec.write_energy if spec.write_energy is not None else read,
        }

    @property
    def bytes_per_cycle(self) -> float:
        """Peak bytes per reference cycle over all banks and ports."""
        return (
            self.spec.banks * self.spec.ports * self.spec.width * self.clock_hz / self.ref_clock_hz
        )

    def access_cycles(self, nbytes: int) -> int:
        """Reference cycles to move `nbytes` through the ports at peak rate."""
        return math.ceil(nbytes / self.bytes_per_cycle)

    def area_mm2(self) -> float:
        if self.spec.area is not None:
            return self.spec.area
        mib = self.spec.capacity / 2**20
        single = tech.scale_sram_area(tech.sram_area_mm2_per_mib_45nm() * mib, self.node_nm)
        return single * tech.sram_port_area_factor(self.spec.ports, self.spec.port_kind)

    def leakage_mw(self) -> float:
        if self.spec.leakage is not None:
            return self.spec.leakage
        per_mib = tech.scale_energy(tech.sram_leakage_mw_per_mib_45nm(), self.node_nm)
        return per_mib * self.spec.capacity / 2**20
