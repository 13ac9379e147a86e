"""The one physical bound on a chip's size: its compute silicon must fit on a wafer.

Design-space sweeps explore odd chips, so accsim refuses only the impossible, not the unusual:
10^9 PEs or 10^12 vector lanes on one die (millions of mm²) are refused, a wafer-scale array is
not. Storage is not counted: a huge SRAM or a bank count past its bytes is how tests and studies
write an unbounded buffer (the work guard's 100 GB SCALE-Sim case, engine tests' 2^62 banks).
"""

from simulator.components.base import Component
from simulator.errors import SpecError
from simulator.spec.arch import COMPUTE_KINDS, ArchSpec
from simulator.spec.validate import locate

WAFER_MM2 = 70_686.0
"""Area of a 300 mm wafer, pi x 150² mm², the largest in production (SEMI M1's 300 mm standard;
450 mm wafers never went into production). The largest chip made is wafer-scale and smaller:
Cerebras WSE-3 (and WSE-2), 46,225 mm² cut from one such wafer."""
COMPUTE_SILICON = (*COMPUTE_KINDS, "neuro_core")
"""The kinds whose area is compute datapath (arrays, lanes, crossbars, neuromorphic cores)."""


def check_die_area(arch: ArchSpec, built: dict[str, Component]) -> None:
    """Refuse an arch whose compute units alone (storage, wires and placement would add to them)
    take more silicon than a wafer: no such chip can be made, and its area, leakage and energy
    would be silently extrapolated far past every tabulated design."""
    areas = {
        ("components", name): built[name].area_mm2()
        for name in arch.components
        if built[name].kind in COMPUTE_SILICON
    }
    if arch.cores is not None:  # every core is built from one template: core 0's units
        for name in arch.cores.components:
            if built[f"core0.{name}"].kind in COMPUTE_SILICON:
                areas["cores", "components", name] = built[f"core0.{name}"].area_mm2()
    cores = arch.cores.count if arch.cores is not None else 1
    share = {path: area * (cores if path[0] == "cores" else 1) for path, area in areas.items()}
    total = sum(share.values())
    if total <= WAFER_MM2:
        return
    path = max(share, key=share.get)
    times = f" ({areas[path]:,.0f} mm² x {cores:,} cores)" if path[0] == "cores" else ""
    raise SpecError(
        f"{locate(arch, *path)}: {share[path]:,.0f} mm² of silicon{times}; the chip's compute "
        f"units take {total:,.0f} mm², more than a 300 mm wafer holds ({WAFER_MM2:,.0f} mm²; the "
        "largest chip made, Cerebras WSE-3, is 46,225 mm²): no such chip can be made; make it "
        "smaller or a system of chips"
    )
