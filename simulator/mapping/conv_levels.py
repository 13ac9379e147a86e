"""A conv tile's accesses per storage level, through the GEMM the array sees (M = n p q output
pixels, N = k filters, K = c R S taps): on an array with register levels or local SRAMs each
tile is counted by the same per-level closed forms as a GEMM tile (mapping/hierarchy.py), so
the scratchpads of eyeriss-like and the registers of zigzag-tpu-like hold conv operands too."""

from simulator.components import Machine
from simulator.mapping.gemm import GemmPlan
from simulator.mapping.hierarchy import TileLevels, hierarchical_roles, refill_cycles, traffic
from simulator.spec.workload import ConvOpSpec


def gemm_tile(op: ConvOpSpec, size: dict[str, int]) -> dict[str, int]:
    """The GEMM one group of a conv tile runs on the array."""
    return {
        "M": size["n"] * size["p"] * size["q"],
        "N": size["k"],
        "K": size["c"] * op.R * op.S,
    }


def conv_levels(op: ConvOpSpec, plan, machine: Machine) -> TileLevels | None:
    """The per-level counter of a conv plan's tiles (its whole tile as the GEMM plan's tile,
    outputs final once a tile holds every channel), or None off an array with inner levels."""
    if plan.dataflow is None or not hierarchical_roles(machine, plan.unit):
        return None
    gemm = GemmPlan(
        unit=plan.unit,
        dataflow=plan.dataflow,
        spatial=plan.spatial,
        tile=gemm_tile(op, plan.tile),
        loop_order=["M", "N", "K"],
        double_buffering=plan.double_buffering,
        accounting=plan.accounting,
        dtype=op.dtype,
        accumulator=plan.accumulator,
        output=op.dtype,  # requantized on the way out, as the conv's store writes it
        registers={},
        levels={},
        halved=frozenset(),
    )
    return TileLevels(gemm, machine, (op.C // op.groups) * op.R * op.S)


def tile_traffic(levels: TileLevels, machine: Machine, extent: dict, first: bool, cost, groups):
    """(sram_traffic, refill cycles) of one conv tile whose `groups` run one after another, each
    the GEMM `extent` with the array's TileCost `cost`."""
    table = levels.table(extent, first, cost)
    moved = tuple((name, r * groups, w * groups) for name, r, w in traffic(table, machine))
    return moved, refill_cycles(table, levels, machine) * groups
