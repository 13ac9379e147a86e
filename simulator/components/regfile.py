"""Register-file levels inside a systolic array: capacity, per-access energy, flip-flop area."""

import math

from simulator import tech
from simulator.components.base import Component
from simulator.spec.arch import RegisterFileSpec, SystolicArraySpec

DEFAULT_WIDTH_BYTES = 4.0  # one 32-bit word per access when the arch names no width


class RegisterFile(Component):
    """`count` instances of `capacity` bytes, each with `ports` ports of `width` bytes.

    Actions are per byte (like SRAM) so the engine's byte counters price it; `access_bytes` turns
    bytes back into accesses for the per-level table.
    """

    kind = "regfile"

    def __init__(
        self,
        name: str,
        spec: RegisterFileSpec,
        ref_clock_hz: float,
        node_nm: float,
        array: SystolicArraySpec,
        unit: str,
    ):
        super().__init__(name, array.clock or ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.unit = unit  # the array's component name ('core3.mxu' on a multi-core chip)
        self.node_nm = node_nm
        self.count = {
            "pe": array.rows * array.cols,
            "row": array.rows,
            "col": array.cols,
            "array": 1,
        }[spec.instances]
        self.instance_bytes = int(spec.capacity)
        self.capacity_bytes = self.instance_bytes * self.count
        self.access_bytes = spec.width or min(spec.capacity, DEFAULT_WIDTH_BYTES)
        read = spec.read_energy
        if read is None:
            read = 8 * self.access_bytes * tech.register_pj_per_bit(spec.capacity, node_nm)
        write = spec.write_energy if spec.write_energy is not None else read
        self.access_energy = {"read": read, "write": write}
        self.actions = {action: pj / self.access_bytes for action, pj in self.access_energy.items()}

    @property
    def bytes_per_cycle(self) -> float:
        """Peak bytes per reference cycle: every port of every instance moves one access per cycle."""
        return self.spec.ports * self.count * self.access_bytes * self.clock_hz / self.ref_clock_hz

    def access_cycles(self, nbytes: int) -> int:
        """Reference cycles to move `nbytes` through every instance's ports at peak rate."""
        return math.ceil(nbytes / self.bytes_per_cycle - 1e-9)

    def area_mm2(self) -> float:
        if self.spec.area is not None:
            return self.spec.area
        bits = 8 * self.capacity_bytes
        return bits * tech.register_area_um2_per_bit(self.node_nm) * 1e-6

    def leakage_mw(self) -> float:
        return self.spec.leakage or 0.0
