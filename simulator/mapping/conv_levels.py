"""A conv tile's accesses per storage level, through the GEMM the array sees (M = n p q output
pixels, N = k filters, K = c R S taps): on an array with register levels or local SRAMs each
tile is counted by the same per-level closed forms as a GEMM tile (mapping/hierarchy.py), so
the scratchpads of eyeriss-like and the registers of zigzag-tpu-like hold conv operands too;
and, as `auto` does for a GEMM, a conv tile may run an explicit loop nest where one is faster."""

from dataclasses import replace

from simulator.components import Machine
from simulator.errors import CapacityError
from simulator.mapping.auto_nest import NEST_BUDGET, ORDERS_PER_TILE, eligible
from simulator.mapping.gemm import GemmPlan
from simulator.mapping.hierarchy import (
    TileLevels,
    hierarchical_roles,
    nest_cycles,
    refill_cycles,
    tile_estimate,
    traffic,
)
from simulator.mapping.nest_space import nests
from simulator.spec.mapping import MappingSpec
from simulator.spec.workload import ConvOpSpec


def gemm_tile(op: ConvOpSpec, size: dict[str, int]) -> dict[str, int]:
    """The GEMM one group of a conv tile runs on the array."""
    return {
        "M": size["n"] * size["p"] * size["q"],
        "N": size["k"],
        "K": size["c"] * op.R * op.S,
    }


def conv_levels(op: ConvOpSpec, plan, machine: Machine) -> TileLevels | None:
    """The per-level counter of a conv plan's tiles (its whole tile as the GEMM plan's tile, its
    `nest` if any, outputs final once a tile holds every channel), or None off an array with
    inner levels."""
    if plan.dataflow is None or not hierarchical_roles(machine, plan.unit):
        return None
    return TileLevels(_gemm_plan(op, plan, plan.nest), machine, _taps(op))


def _taps(op: ConvOpSpec) -> int:
    return (op.C // op.groups) * op.R * op.S


def _gemm_plan(op: ConvOpSpec, plan, nest: tuple) -> GemmPlan:
    return GemmPlan(
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
        nest=nest,
    )


def choose_nest(op: ConvOpSpec, plan, mapping: MappingSpec, machine: Machine) -> tuple:
    """The loop nest a conv tile runs on the array, as `auto` picks one for a GEMM: among at
    most NEST_BUDGET nests of the whole tile's GEMM, the one with the lowest (cycles, energy)
    of a whole tile (`tile_estimate`) below the fold nest's; () where none is, where the
    mapping chooses anything, off an array with inner levels, or where the channel tiles leave
    an edge along K (a nest's reduction may not be split)."""
    if plan.dataflow is None or not eligible(mapping, machine, plan.unit):
        return ()
    if (op.C // op.groups) % plan.tile["c"]:
        return ()
    unit = machine.components[plan.unit]
    extent = gemm_tile(op, plan.tile)
    unroll = dict.fromkeys(extent, 1)
    for dim, edge in zip(plan.spatial, (unit.rows, unit.cols)):
        unroll[dim] = min(edge, extent[dim])
    if extent["K"] % unroll["K"]:
        return ()
    iterations = {d: -(-extent[d] // unroll[d]) for d in extent}
    fold = TileLevels(_gemm_plan(op, plan, ()), machine, _taps(op))
    best, best_key = (), tile_estimate(fold, machine, extent, False)
    for nest in nests(iterations, ORDERS_PER_TILE)[:NEST_BUDGET]:
        levels = TileLevels(_gemm_plan(op, plan, nest), machine, _taps(op))
        try:
            levels.check(extent)
        except CapacityError:
            return best  # the DMA-filled level cannot hold the tile under any nest
        key = tile_estimate(levels, machine, extent, False)
        if key < best_key:
            best, best_key = nest, key
    return best


def tile_traffic(levels: TileLevels, machine: Machine, extent: dict, first: bool, cost, groups):
    """(cycles, sram_traffic, refill cycles) of one conv tile whose `groups` run one after
    another, each the GEMM `extent` with the array's TileCost `cost` (a nest's cycles instead
    where the plan has one)."""
    if levels.plan.nest:
        cost = replace(cost, cycles=nest_cycles(levels.plan, levels.unit, extent))
    table = levels.table(extent, first, cost)
    moved = tuple((name, r * groups, w * groups) for name, r, w in traffic(table, machine))
    return cost.cycles * groups, moved, refill_cycles(table, levels, machine) * groups
