"""`auto`'s loop nests: on an array with inner levels, a few LOMA nests try to beat the fold plan.

An open mapping (no tile, loop order, nest, dataflow, spatial, register or level choice) on an
array with register levels or local SRAMs, on a chip whose DMA is one DRAM bus, has its fold plan
estimated against explicit nests (`nest_space.nests`) of the tiles a nest can run, cheapest
lower bound first: a nest is kept only where its estimated latency is at least MIN_GAIN below
the fold plan's, so `auto` never takes a nest its own estimate ranks slower. Its nests load each
tile before the tile's compute, as fold plans do (no DMA streaming inside a tile, which the
engine does not keep within the DRAM's bandwidth across tiles).
"""

import functools
import itertools
import math
from dataclasses import replace

from simulator.components import Machine
from simulator.errors import CapacityError
from simulator.mapping.gemm import GemmPlan, inner_levels
from simulator.mapping.hierarchy import (
    TileLevels,
    hierarchical_roles,
    tiles_estimate,
)
from simulator.mapping.nest_space import nests
from simulator.mapping.traffic import OPERAND_DIMS, passes, trip_counts
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.workload import GemmOpSpec

NEST_BUDGET = 48
"""Nests `auto` estimates per GEMM shape at most (the mapper search's default is 4,000)."""
ORDERS_PER_TILE = 24
"""Loop-factor orders tried per tile (`nest_space.loop_factors` merges factors past it)."""
MIN_GAIN = 0.05
"""A nest replaces the fold plan only where estimated at least this much faster: the estimate is
close to the engine, not exact, and on eyeriss-like nests estimated under 1 % faster ran up to
3 % slower."""
ORDERS = tuple(tuple(p) for p in itertools.permutations("MNK"))


def eligible(mapping: MappingSpec, machine: Machine, unit: str) -> bool:
    """Whether `auto` searches nests: every tiling choice open, realistic accounting, the unit
    with inner levels, on a chip whose DMA is one DRAM bus (`streams_dma`'s chips: no NoC, no
    L2, no per-operand DRAM interfaces, so no GPU-like or multi-core chip), which is what the
    estimate models."""
    chosen = (mapping.tile, mapping.loop_order, mapping.nest, mapping.registers, mapping.levels)
    if any(chosen) or mapping.dataflow or mapping.spatial or mapping.accounting != "realistic":
        return False
    if machine.arch.cores is not None and machine.arch.cores.kernels is not None:
        return False
    if machine.noc is not None or machine.l2 is not None or machine.dram.spec.operand_bandwidth:
        return False  # event-modelled DMA (cores sharing it): the estimate does not model it
    local, _ = inner_levels(mapping, machine, unit)
    return bool(local or hierarchical_roles(machine, unit))


def estimate(op: GemmOpSpec, plan: GemmPlan, machine: Machine) -> tuple[int, float]:
    """Cycles and energy of the whole op under a plan whose tiles are loaded before their
    compute: the first tile's load, then its tiles (`tiles_estimate`: array, ports, refills)
    overlapping the rest of its DRAM bytes (double-buffered: the DMA runs ahead), then the last
    store and one DRAM latency. Energy: the tiles' and the DRAM bytes'."""
    problem = {"M": op.M, "N": op.N, "K": op.K}
    inside, energy = tiles_estimate(TileLevels(plan, machine, op.K), machine, problem)
    moved = _dram_bytes(problem, plan.tile, plan.loop_order, _formats(plan))
    total = moved["input"] + moved["weight"] + moved["output"]
    dram = machine.dram
    reads = moved["input"] + moved["weight"] + moved["reloads"]
    writes = moved["output"] - moved["reloads"]
    energy += reads * dram.energy_pj("read") + writes * dram.energy_pj("write")
    return _cycles(plan, machine, inside, total), energy


def _formats(plan: GemmPlan) -> tuple[int, int, int]:
    """Bytes of an input element, a partial sum and a final output."""
    return nbytes(1, plan.dtype), nbytes(1, plan.accumulator), nbytes(1, plan.output)


def _dram_bytes(problem: dict, tile: dict, order: list[str], formats: tuple) -> dict:
    """DRAM bytes of the DMA's tile loops as the engine moves them (`passes`: a one-trip loop
    changes no tile): input and weight loads; output: partial-sum spills and their reloads,
    and the final stores (`reloads` on its own too)."""
    in_bytes, acc_bytes, out_bytes = formats
    trips = trip_counts(problem, tile)
    size = {role: problem[a] * problem[b] for role, (a, b) in OPERAND_DIMS.items()}
    reloads = size["output"] * (passes("output", order, trips) - 1) * acc_bytes
    return {
        "input": size["input"] * passes("input", order, trips) * in_bytes,
        "weight": size["weight"] * passes("weight", order, trips) * in_bytes,
        "output": 2 * reloads + size["output"] * out_bytes,
        "reloads": reloads,
    }


def _cycles(plan: GemmPlan, machine: Machine, inside: float, moved: float) -> int:
    """First load + max(`inside` cycles of tiles, the DRAM bytes between it and the last
    store) + last store + one DRAM latency."""
    dram, tile = machine.dram, plan.tile
    first = nbytes(tile["M"] * tile["K"] + tile["K"] * tile["N"], plan.dtype)
    last = nbytes(tile["M"] * tile["N"], plan.output)
    middle = dram.transfer_cycles(max(0, int(moved - first - last)))
    return (
        dram.transfer_cycles(first)
        + math.ceil(max(inside, middle))
        + dram.transfer_cycles(last)
        + dram.latency_cycles
    )


def with_nest(op: GemmOpSpec, mapping: MappingSpec, machine: Machine, plan: GemmPlan) -> GemmPlan:
    """`plan`, or the nest with the lowest estimated (cycles, energy) where that is MIN_GAIN
    faster: tiles in the order of their lower bound (`_tiles`), stopping at a bound that cannot
    beat the best so far (or reach MIN_GAIN) or after NEST_BUDGET nests."""
    if not eligible(mapping, machine, plan.unit):
        return plan
    best, best_key = plan, estimate(op, plan, machine)
    target = best_key[0] * (1 - MIN_GAIN)  # what a nest must reach (MIN_GAIN)
    spent = 0
    for bound, tile, order, iterations in _tiles(op, plan, machine):
        if bound >= min(best_key[0], target) or spent >= NEST_BUDGET:
            break
        seed = replace(
            plan, tile=tile, loop_order=list(order), registers={}, levels={}, stream_dma=False
        )
        for nest in nests(iterations, ORDERS_PER_TILE):
            if spent >= NEST_BUDGET:
                break
            spent += 1
            candidate = replace(seed, nest=nest)
            levels = TileLevels(candidate, machine, op.K)
            try:
                levels.check(tile)
            except CapacityError:
                break  # the DMA-filled level cannot hold this tile: no nest of it fits
            key = estimate(op, candidate, machine)
            if key < best_key:
                best, best_key = candidate, key
    return best if best_key[0] <= target else plan


def _tiles(op: GemmOpSpec, plan: GemmPlan, machine: Machine):
    """(lower bound on cycles, tile, DMA loop order, temporal iterations per dim) of each tile a
    nest can run with the plan's dataflow and spatial dims that fits its buffers, ascending by
    bound: `_cycles` with one cycle per MAC over the whole array and its fewest DRAM bytes."""
    unit = machine.components[plan.unit]
    problem = {"M": op.M, "N": op.N, "K": op.K}
    unroll = dict.fromkeys(problem, 1)
    for dim, edge in zip(plan.spatial, (unit.rows, unit.cols)):
        unroll[dim] = min(edge, problem[dim])
    sizes = [nest_sizes(problem[d], unroll[d], d != "K") for d in "MNK"]
    pe_macs = unit.rows * unit.cols * unit.rate(plan.dtype)
    ideal = unit.to_ref_cycles(math.ceil(op.M * op.N * op.K / pe_macs))
    entries = []
    for choice in itertools.product(*sizes):
        tile = {d: size for d, (size, _) in zip("MNK", choice)}
        if any(
            used > machine.components[name].capacity_bytes
            for name, used in plan.footprint(machine, tile).items()
        ):
            continue
        shape = tuple(tile[d] for d in "MNK")
        order, moved = _fewest_bytes((op.M, op.N, op.K), shape, _formats(plan))
        bound = _cycles(replace(plan, tile=tile), machine, ideal, moved)
        iterations = {d: n for d, (_, n) in zip("MNK", choice)}
        entries.append((bound, -math.prod(shape), tile, order, iterations))
    entries.sort(key=lambda e: e[:2])
    return [(bound, tile, order, iterations) for bound, _, tile, order, iterations in entries]


@functools.lru_cache(maxsize=65536)
def _fewest_bytes(shape: tuple, tile: tuple, formats: tuple):
    """(loop order, DRAM bytes) of the order that moves the fewest bytes for one tile, first
    of ORDERS on ties; memoized (sweep points of one GEMM share it)."""
    problem, sizes = dict(zip("MNK", shape)), dict(zip("MNK", tile))
    moved = {}
    for order in ORDERS:
        parts = _dram_bytes(problem, sizes, list(order), formats)
        moved[order] = parts["input"] + parts["weight"] + parts["output"]
    order = min(ORDERS, key=moved.get)
    return order, moved[order]


def nest_sizes(extent: int, unroll: int, edges: bool) -> list[tuple[int, int]]:
    """(tile, temporal iterations) along one dim: every multiple of the unrolling that divides
    the dim; where none does and `edges` allows it, an edge tile per count of tiles, each with
    the fewest iterations that cover the dim in that many (its last may reach past the dim)."""
    if extent % unroll == 0 or not edges:
        return [(s, s // unroll) for s in range(unroll, extent + 1, unroll) if extent % s == 0]
    iterations = {-(-extent // (count * unroll)) for count in range(1, -(-extent // unroll) + 1)}
    return [(min(n * unroll, extent), n) for n in sorted(iterations)]
