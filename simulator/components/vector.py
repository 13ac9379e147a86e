"""Vector unit: `lanes` fp32 element operations per cycle; primitives cost issue cycles per element.

Energy per primitive comes from Horowitz's fp32 add and multiply; exp, div and rsqrt have no
published per-op figure there and are estimated as a range reduction plus a degree-4 polynomial
(4 multiplies + 4 adds), the usual software recipe, or, on a unit with special-function units, as
one SFU's quadratic interpolation (simulator/tech/chip.yaml `sfu`). Arch files may override every
number.
"""

import math

from simulator import tech
from simulator.components.base import Component
from simulator.errors import UnsupportedError
from simulator.spec.arch import VectorUnitSpec

DEFAULT_CYCLES = {"add": 1, "mul": 1, "max": 1, "exp": 4, "div": 4, "rsqrt": 4}
SFU_PRIMITIVES = ("exp", "div", "rsqrt")  # what a GPU's special-function units compute
_POLYNOMIAL = {"mul": 4, "add": 4}  # exp / div / rsqrt estimate, in fp32 multiplies and adds


def _sfu_table() -> dict:
    return tech.table("chip")["sfu"]


def sfu_op_pj_45nm() -> float:
    """Energy of one exp / div / rsqrt on a special-function unit at 45 nm: the interpolator's
    multiplies and adds, priced as Horowitz's fp32 ones."""
    table = _sfu_table()
    return table["fp32_multiplies"] * tech.op_energy_pj("fp32_mul") + table[
        "fp32_adds"
    ] * tech.op_energy_pj("fp32_add")


def sfu_cell_um2_45nm() -> float:
    """Cell area of one special-function unit at 45 nm (the same multipliers and adders)."""
    table = _sfu_table()
    return table["fp32_multiplies"] * tech.op_area_um2("fp32_mul") + table[
        "fp32_adds"
    ] * tech.op_area_um2("fp32_add")


class VectorUnit(Component):
    """lanes-wide SIMD unit; an op's primitive counts become cycles and energy."""

    kind = "vector"

    def __init__(self, name: str, spec: VectorUnitSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, spec.clock or ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.node_nm = node_nm
        self.lanes = spec.lanes
        self.cycles_per_element = {**DEFAULT_CYCLES, **spec.cycles_per_element}
        add, mul = tech.op_energy_pj("fp32_add"), tech.op_energy_pj("fp32_mul")
        estimate = _POLYNOMIAL["mul"] * mul + _POLYNOMIAL["add"] * add
        table = {
            "add": add,
            "max": add,
            "mul": mul,
            **dict.fromkeys(SFU_PRIMITIVES, sfu_op_pj_45nm() if spec.sfu else estimate),
        }
        self.actions = {
            p: spec.energy.get(p, tech.scale_energy(e45, node_nm)) for p, e45 in table.items()
        }

    @property
    def peak_macs_per_cycle(self) -> float:
        """A vector unit does no MAC-array work; its peak is counted in element ops."""
        return 0.0

    def runs(self, kind: str) -> bool:
        return kind in self.spec.runs

    def check(self, op_name: str, kind: str) -> None:
        if not self.runs(kind):
            raise UnsupportedError(
                f"{self.name} (vector) cannot run {op_name} ({kind}); it runs {', '.join(self.spec.runs)}"
            )

    def cycles(self, work: dict[str, int]) -> int:
        """Reference cycles for primitive counts {primitive: elements} (`issue_cycles`)."""
        return self.to_ref_cycles(self.issue_cycles(work))

    def issue_cycles(self, work: dict[str, int]) -> int:
        """Own cycles for primitive counts {primitive: elements}, lanes at a time, the busiest
        issue pipe's (`pipes`); with special-function units, exp/div/rsqrt one per SFU per cycle
        beside the lanes' work."""
        sfu = self.spec.sfu
        pipes: dict[str, int] = {}
        for p, n in work.items():
            if n and not (sfu and p in SFU_PRIMITIVES):
                pipe = self.spec.pipes.get(p, "fma")
                pipes[pipe] = (
                    pipes.get(pipe, 0) + math.ceil(n / self.lanes) * self.cycles_per_element[p]
                )
        lanes = max(pipes.values(), default=0)
        special = sum(math.ceil(n / sfu) for p, n in work.items() if sfu and p in SFU_PRIMITIVES)
        return max(lanes, special)

    def area_mm2(self) -> float:
        if self.spec.area is not None:
            return self.spec.area
        lane_um2 = tech.op_area_um2("fp32_add") + tech.op_area_um2("fp32_mul")
        return tech.scale_area(lane_um2, self.node_nm) * self.lanes * 1e-6

    def sfu_area_mm2(self) -> float:
        """Cell area of the unit's special-function units (0 without any)."""
        return tech.scale_area(sfu_cell_um2_45nm(), self.node_nm) * (self.spec.sfu or 0) * 1e-6

    def on_sfu(self, action: str) -> bool:
        """Whether primitive `action` runs on the special-function units."""
        return bool(self.spec.sfu) and action in SFU_PRIMITIVES

    def leakage_mw(self) -> float:
        return self.spec.leakage or 0.0
