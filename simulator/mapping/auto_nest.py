"""`auto`'s loop nests: on an array with inner levels, a few LOMA nests try to beat the fold plan.

An open mapping (no tile, loop order, nest, dataflow, spatial, register or level choice) on an
array with register levels or local SRAMs, on a chip whose DMA is one DRAM bus, has its fold plan
estimated against explicit nests (`nest_space.nests`) of the tiles a nest can run, cheapest
lower bound first: a nest is kept only where its estimated latency (then energy) is below the
fold plan's, so `auto` never takes a nest its own estimate ranks slower.
"""

import functools
import itertools
import math
from dataclasses import replace

from simulator.components import Machine
from simulator.errors import CapacityError
from simulator.mapping.gemm import GemmPlan, inner_levels, streams_dma
from simulator.mapping.hierarchy import (
    TileLevels,
    hierarchical_roles,
    passes,
    tiles_estimate,
)
from simulator.mapping.nest_space import nests
from simulator.mapping.traffic import OPERAND_DIMS, trip_counts
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.workload import GemmOpSpec

NEST_BUDGET = 48
"""Nests `auto` estimates per GEMM shape at most (the mapper search's default is 4,000)."""
ORDERS_PER_TILE = 24
"""Loop-factor orders tried per tile (`nest_space.loop_factors` merges factors past it)."""
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
    """Cycles and energy of the whole op under a plan: the first tile's load, then its tiles
    (`tiles_estimate`: array, ports, refills) overlapping the DRAM bytes of the DMA steps after
    it (`_step_bytes`, `_cycles`), then the last store and one DRAM latency. Energy: the
    tiles' and the DRAM bytes'."""
    problem = {"M": op.M, "N": op.N, "K": op.K}
    inside, energy = tiles_estimate(TileLevels(plan, machine, op.K), machine, problem)
    moved = _dram_bytes(problem, plan.tile, plan.loop_order, _formats(plan))
    cycles = _cycles(plan, machine, inside, _step_bytes(problem, plan.tile, plan.loop_order, moved))
    dram = machine.dram
    reads = moved["input"] + moved["weight"] + moved["reloads"]
    writes = moved["output"] - moved["reloads"]
    return cycles, energy + reads * dram.energy_pj("read") + writes * dram.energy_pj("write")


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


def _step_bytes(problem: dict, tile: dict, order: list[str], moved: dict) -> list[tuple]:
    """(steps, DRAM bytes each) of the DMA steps after the first, by which tile loop advanced
    (outermost first): an operand moves on a step where an index it uses changes (a one-trip
    loop changes none), each move an equal share of its bytes (`_dram_bytes`)."""
    trips = trip_counts(problem, tile)
    classes = []  # (steps, dims whose index changes)
    for j in range(len(order)):
        count = math.prod(trips[d] for d in order[: j + 1]) - math.prod(trips[d] for d in order[:j])
        if count:
            classes.append((count, {d for d in order[j:] if trips[d] > 1}))
    result = []
    for count, changed in classes:
        total = 0.0
        for role, dims in OPERAND_DIMS.items():
            if changed & set(dims):
                moves = 1 + sum(n for n, c in classes if c & set(dims))
                total += moved[role] / moves
        result.append((count, total))
    return result


def _cycles(plan: GemmPlan, machine: Machine, inside: float, steps: list[tuple]) -> int:
    """First load, then the tiles (`inside` cycles) overlapping the DRAM bytes of the `steps`
    after it, then the last store and one DRAM latency. Double-buffered fold tiles overlap all
    of it (the DMA runs ahead); a streamed nest's DMA only its own step's tile, so each step
    takes its share of `inside` or its own bytes, whichever is longer."""
    dram, tile = machine.dram, plan.tile
    first = nbytes(tile["M"] * tile["K"] + tile["K"] * tile["N"], plan.dtype)
    last = nbytes(tile["M"] * tile["N"], plan.output)
    if streams_dma(plan, machine):
        share = inside / (1 + sum(n for n, _ in steps))
        body = share + sum(n * max(share, dram.transfer_cycles(int(b))) for n, b in steps)
    else:
        body = max(inside, dram.transfer_cycles(int(sum(n * b for n, b in steps))))
    return (
        dram.transfer_cycles(first)
        + math.ceil(body)
        + dram.transfer_cycles(last)
        + dram.latency_cycles
    )


def with_nest(op: GemmOpSpec, mapping: MappingSpec, machine: Machine, plan: GemmPlan) -> GemmPlan:
    """`plan`, or the nest with the lowest estimated (cycles, energy) below it: tiles in the order
    of their lower bound (`_tiles`), stopping at a bound that cannot beat the best so far or
    after NEST_BUDGET nests."""
    if not eligible(mapping, machine, plan.unit):
        return plan
    best, best_key = plan, estimate(op, plan, machine)
    spent = 0
    for bound, tile, order, iterations in _tiles(op, plan, machine):
        if bound >= best_key[0] or spent >= NEST_BUDGET:
            break
        seed = replace(plan, tile=tile, loop_order=list(order), registers={}, levels={})
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
    return best


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
    ideal = unit.to_ref_cycles(math.ceil(op.M * op.N * op.K / (unit.rows * unit.cols)))
    dram = machine.dram
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
        first = nbytes(tile["M"] * tile["K"] + tile["K"] * tile["N"], plan.dtype)
        last = nbytes(tile["M"] * tile["N"], plan.output)
        # `_cycles` with one cycle per MAC inside and the DMA overlapping all of it
        bound = (
            dram.transfer_cycles(first)
            + max(ideal, dram.transfer_cycles(max(0, int(moved - first - last))))
            + dram.transfer_cycles(last)
            + dram.latency_cycles
        )
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
