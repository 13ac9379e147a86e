"""The host CPU (runs fallback ops) and the host <-> accelerator link (moves tensors between them)."""

import math

from simulator.components.base import Component
from simulator.spec.host import CpuSpec, LinkSpec

PRIMITIVES = ("add", "mul", "max", "exp", "div", "rsqrt")
CYCLES = {"add": 1, "mul": 1, "max": 1, "exp": 4, "div": 4, "rsqrt": 4}  # as the vector unit's


class Cpu(Component):
    """cores x vector_width fp32 lanes; an op's time is the larger of its SIMD instructions spread
    over the cores and its bytes through host memory."""

    kind = "cpu"

    def __init__(self, name: str, spec: CpuSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, spec.clock, ref_clock_hz)
        self.spec = spec
        self.lanes = spec.cores * spec.vector_width
        per_element = spec.energy_per_instruction / spec.vector_width
        self.actions = {p: per_element for p in PRIMITIVES}
        self.actions["mac"] = per_element if spec.fma else 2 * per_element

    @property
    def peak_macs_per_cycle(self) -> float:
        """The host's MACs are fallback work, not accelerator peak."""
        return 0.0

    def runs(self, kind: str) -> bool:
        return True

    def cycles(self, work: dict[str, int]) -> int:
        """Reference cycles for {primitive or 'mac': elements}, lanes at a time over all cores."""
        mac_cycles = 1 if self.spec.fma else 2
        own = sum(
            math.ceil(n / self.lanes) * (mac_cycles if p == "mac" else CYCLES[p])
            for p, n in work.items()
            if n
        )
        return self.to_ref_cycles(own)

    def memory_cycles(self, nbytes: int) -> int:
        """Reference cycles to stream `nbytes` through host memory."""
        return math.ceil(nbytes / self.spec.memory_bandwidth * self.ref_clock_hz - 1e-9)


class Link(Component):
    """A serial link: a transfer holds it for latency + bytes / bandwidth."""

    kind = "link"

    def __init__(self, name: str, spec: LinkSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.actions = {"bit": spec.energy_per_bit}

    @property
    def peak_macs_per_cycle(self) -> float:
        return 0.0

    def transfer_cycles(self, nbytes: int) -> int:
        """Reference cycles for one transfer of `nbytes`, latency included."""
        seconds = self.spec.latency + nbytes / self.spec.bandwidth
        return math.ceil(seconds * self.ref_clock_hz - 1e-9)
