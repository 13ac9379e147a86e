"""Component registry: each arch `kind:` maps to its class; callers never import a kind by name."""

from dataclasses import dataclass, field

from simulator.components.base import Component
from simulator.components.crossbar import Crossbar
from simulator.components.die import check_die_area
from simulator.components.dram import Dram
from simulator.components.host import Cpu, Link
from simulator.components.neuro import NeuroCore
from simulator.components.noc import Noc
from simulator.components.pim import PimUnit
from simulator.components.regfile import RegisterFile
from simulator.components.sram import Sram
from simulator.components.systolic import SystolicArray, TileCost
from simulator.components.vector import VectorUnit
from simulator.errors import SpecError, UnsupportedError
from simulator.spec.arch import COMPUTE_KINDS, ArchSpec
from simulator.spec.validate import locate
from simulator.tech import node_range

REGISTRY: dict[str, type[Component]] = {
    "systolic_array": SystolicArray,
    "vector": VectorUnit,
    "sram": Sram,
    "dram": Dram,
    "noc": Noc,
    "crossbar": Crossbar,
    "pim": PimUnit,
    "neuro_core": NeuroCore,
    "regfile": RegisterFile,
    "cpu": Cpu,
    "link": Link,
}
STORAGE_KINDS = ("sram", "regfile")
"""Kinds that hold tile data on chip: the engine gives each one capacity (a simpy Container)."""


@dataclass(frozen=True)
class Machine:
    """The built components of one arch, with the lookups the mapper and engine need.

    A multi-core arch names core components 'core3.mxu'; `view(3)` is the machine as core 3 sees
    it (its own units and buffers plus the shared DRAM and NoC), which is what mappings compile for.
    """

    arch: ArchSpec
    components: dict[str, Component]
    nodes: dict[str, int] = field(default_factory=dict)  # component -> NoC node (multi-core only)
    core_count: int = 1
    views: dict[int, "Machine"] = field(default_factory=dict, compare=False, repr=False)
    """core -> view(core), built once (compiling a many-core program asks for it per op)."""
    tile_costs: dict = field(default_factory=dict, compare=False, repr=False)
    """(GEMM plan, K fits one tile) -> tile kind -> cost: filled by the GEMM compiler so that the
    ops sharing a plan (a kernel's CTAs, repeated layers) compute each kind once."""
    core_tile_costs: dict = field(default_factory=dict, compare=False, repr=False)
    """The same with the 'coreN.' of every name written 'core*.': one dict for a chip and all its
    core views, since every core is built from one template (cores differ only in names)."""
    derived: dict = field(default_factory=dict, compare=False, repr=False)
    """Whole-machine values a later layer derives once and reuses (the mapper search's static
    power, asked for by every candidate it estimates)."""

    @property
    def l2(self) -> Sram | None:
        """Arch with `cores`: the chip-level SRAM, a shared cache in front of DRAM (sliced at memory
        nodes), also when only one core is built."""
        if self.arch.cores is None:
            return None
        return next(
            (
                c
                for n, c in self.components.items()
                if c.kind == "sram" and n in self.arch.components
            ),
            None,
        )

    @property
    def noc(self) -> Noc | None:
        return next((c for c in self.components.values() if c.kind == "noc"), None)

    def view(self, core: int) -> "Machine":
        """The shared components plus core `core`'s own, as a single-core machine."""
        if core not in self.views:
            prefix = f"core{core}."
            own = {
                n: c
                for n, c in self.components.items()
                if n.startswith(prefix) or c.kind in ("dram", "noc")
            }
            self.views[core] = Machine(
                self.arch, own, self.nodes, 1, core_tile_costs=self.core_tile_costs
            )
        return self.views[core]

    @property
    def clock_hz(self) -> float:
        return self.arch.clock

    @property
    def compute_units(self) -> dict[str, Component]:
        return {n: c for n, c in self.components.items() if c.kind in COMPUTE_KINDS}

    @property
    def timed_units(self) -> dict[str, Component]:
        """Units the engine runs Compute segments on: compute units and the host link."""
        return {n: c for n, c in self.components.items() if c.kind in (*COMPUTE_KINDS, "link")}

    @property
    def host(self) -> tuple[str, str] | None:
        """(cpu, link) names when the arch models its host, else None."""
        cpu = next((n for n, c in self.components.items() if c.kind == "cpu"), None)
        link = next((n for n, c in self.components.items() if c.kind == "link"), None)
        return (cpu, link) if cpu and link else None

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

    def buffer_for(self, role: str) -> Sram | RegisterFile:
        """The level DMA fills with operand `role`: its SRAM (validated unique at load), or, where
        no SRAM holds it, the outermost register level holding it (weights straight into PEs)."""
        for c in self.components.values():
            if c.kind == "sram" and c.unit is None and role in c.spec.holds:
                return c
        return [
            c for c in self.components.values() if c.kind == "regfile" and role in c.spec.holds
        ][-1]

    def staging_for(self, role: str) -> Sram | None:
        """The SRAM a `role` tile written back from its register level passes through (the level's
        `stages_through`: a GPU epilogue), or None where the tile is stored from its buffer."""
        buffer = self.buffer_for(role)
        name = buffer.kind == "regfile" and buffer.spec.stages_through
        if not name:
            return None
        return self.components[_sibling(buffer.name, name) if "." in buffer.name else name]

    def registers_for(self, role: str, unit: str) -> list[RegisterFile | Sram]:
        """Inner levels of `unit` holding `role`, innermost first: its register levels (the arch's
        order, without the one that is the DMA buffer itself), then its local SRAMs (same)."""
        buffer = self.buffer_for(role)
        inner = [
            c
            for c in self.components.values()
            if c.kind in STORAGE_KINDS
            and role in c.spec.holds
            and c is not buffer
            and c.unit == unit
        ]
        return sorted(inner, key=lambda c: c.kind == "sram")


def _sibling(full_name: str, name: str) -> str:
    """'core3.wreg', 'mxu' -> 'core3.mxu': a component of the same core."""
    return f"{full_name.rsplit('.', 1)[0]}.{name}"


def _build(name: str, spec, arch: ArchSpec, local: dict) -> Component:
    """One component through the registry; a register level also gets the array it sits in."""
    if spec.kind == "regfile":
        unit = _sibling(name, spec.unit) if "." in name else spec.unit
        return RegisterFile(name, spec, arch.clock, arch.tech_node, local[spec.unit], unit)
    component = REGISTRY[spec.kind](name, spec, arch.clock, arch.tech_node)
    if spec.kind == "sram" and spec.unit is not None:  # a local buffer of that array
        component.unit = _sibling(name, spec.unit) if "." in name else spec.unit
    return component


def check_node(arch: ArchSpec) -> None:
    """The arch's tech_node lies within the nodes energy and area are scaled between (outside
    them every factor would silently be the end node's)."""
    low, high = node_range()
    if not low <= arch.tech_node <= high:
        raise SpecError(
            f"{locate(arch, 'tech_node')}: {arch.tech_node:g} nm is outside the {low:g} .. "
            f"{high:g} nm that energy and area scale between (simulator/tech/node_scaling.yaml)"
        )


def build_machine(arch: ArchSpec) -> Machine:
    """Instantiate every component of `arch` through the registry (each core's as 'coreN.name')."""
    check_node(arch)
    built = {
        name: _build(name, spec, arch, arch.components) for name, spec in arch.components.items()
    }
    if arch.cores is None:
        check_die_area(arch, built)
        return Machine(arch, built)
    nodes: dict[str, int] = {}
    core_nodes = arch.cores.nodes or list(range(arch.cores.count))
    for core, node in enumerate(core_nodes):
        for name, spec in arch.cores.components.items():
            full = f"core{core}.{name}"
            built[full] = _build(full, spec, arch, arch.cores.components)
            nodes[full] = node
        if core == 0:  # before the other cores are built
            check_die_area(arch, built)
    return Machine(arch, built, nodes, arch.cores.count)


__all__ = [
    "Component",
    "Machine",
    "Noc",
    "REGISTRY",
    "RegisterFile",
    "STORAGE_KINDS",
    "SystolicArray",
    "TileCost",
    "VectorUnit",
    "build_machine",
]
