"""Component registry: each arch `kind:` maps to its class; callers never import a kind by name."""

from dataclasses import dataclass

from simulator.components.base import Component
from simulator.components.dram import Dram
from simulator.components.sram import Sram
from simulator.components.systolic import SystolicArray, TileCost
from simulator.components.vector import VectorUnit
from simulator.errors import UnsupportedError
from simulator.spec.arch import COMPUTE_KINDS, ArchSpec

REGISTRY: dict[str, type[Component]] = {
    "systolic_array": SystolicArray,
    "vector": VectorUnit,
    "sram": Sram,
    "dram": Dram,
}


@dataclass(frozen=True)
class Machine:
    """The built components of one arch, with the lookups the mapper and engine need."""

    arch: ArchSpec
    components: dict[str, Component]

    @property
    def clock_hz(self) -> float:
        return self.arch.clock

    @property
    def compute_units(self) -> dict[str, Component]:
        return {n: c for n, c in self.components.items() if c.kind in COMPUTE_KINDS}

    @property
    def dram(self) -> Dram:
        return next(c for c in self.components.values() if c.kind == "dram")

    def vector_unit_for(self, op_name: str, kind: str) -> tuple[str, bool]:
        """The vector unit that runs `kind`, or the arch's fallback unit (second item True)."""
        for name, unit in self.components.items():
            if unit.kind == "vector" and unit.runs(kind):
                return name, False
        if self.arch.fallback:
            return self.arch.fallback, True
        units = ", ".join(f"{n} ({u.kind})" for n, u in self.compute_units.items())
        raise UnsupportedError(
            f"no unit runs {op_name} ({kind}); units: {units}; declare a vector unit "
            f"that runs it, or an arch fallback"
        )

    def buffer_for(self, role: str) -> Sram:
        """The SRAM holding operand `role` (validated unique at load)."""
        return next(
            c for c in self.components.values() if c.kind == "sram" and role in c.spec.holds
        )


def build_machine(arch: ArchSpec) -> Machine:
    """Instantiate every component of `arch` through the registry."""
    built = {
        name: REGISTRY[spec.kind](name, spec, arch.clock, arch.tech_node)
        for name, spec in arch.components.items()
    }
    return Machine(arch, built)


__all__ = [
    "Component",
    "Machine",
    "REGISTRY",
    "SystolicArray",
    "TileCost",
    "VectorUnit",
    "build_machine",
]
