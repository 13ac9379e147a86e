"""The one physical bound on a chip's size: its silicon must fit on a wafer.

Design-space sweeps explore odd chips, so accsim refuses only the impossible, not the unusual:
10^9 PEs or 10^12 vector lanes on one die (millions of mm²) are refused, a 1 GHz chip of 16 PEs
or a wafer-scale one are not.
"""

from simulator.components.base import Component
from simulator.components.chip import OFF_DIE
from simulator.errors import SpecError
from simulator.spec.arch import ArchSpec
from simulator.spec.validate import locate

WAFER_MM2 = 70_686.0
"""Area of a 300 mm wafer, pi x 150² mm², the largest in production (SEMI M1's 300 mm standard;
450 mm wafers never went into production). The largest chip made is wafer-scale and smaller:
Cerebras WSE-3 (and WSE-2), 46,225 mm² cut from one such wafer."""


def check_die_area(arch: ArchSpec, built: dict[str, Component]) -> None:
    """Refuse an arch whose on-die components' silicon alone (placement, registers and interfaces
    would add to it) is more than a wafer: no such chip can be made, and its area, leakage and
    wire lengths would be silently extrapolated far past every tabulated design."""
    areas = {
        ("components", name): built[name].area_mm2()
        for name in arch.components
        if built[name].kind not in OFF_DIE
    }
    if arch.cores is not None:  # every core is built from one template: core 0's parts
        for name in arch.cores.components:
            if built[f"core0.{name}"].kind not in OFF_DIE:
                areas["cores", "components", name] = built[f"core0.{name}"].area_mm2()
    cores = arch.cores.count if arch.cores is not None else 1
    share = {path: area * (cores if path[0] == "cores" else 1) for path, area in areas.items()}
    total = sum(share.values())
    if total <= WAFER_MM2:
        return
    path = max(share, key=share.get)
    times = f" ({areas[path]:,.0f} mm² x {cores:,} cores)" if path[0] == "cores" else ""
    raise SpecError(
        f"{locate(arch, *path)}: {share[path]:,.0f} mm² of silicon{times}; the chip's components "
        f"take {total:,.0f} mm², more than a 300 mm wafer holds ({WAFER_MM2:,.0f} mm²; the "
        "largest chip made, Cerebras WSE-3, is 46,225 mm²): no such chip can be made; make it "
        "smaller or a system of chips"
    )
