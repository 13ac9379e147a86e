"""The `auto` mapper: largest valid tiles and the loop order with the least DRAM traffic.

Candidates are ranked by a quick estimate — max(compute cycles, DRAM bytes / bandwidth) plus the
first tile's load — never by simulation; the sweeps issue brings the full search. Under an auto
tile, the inner levels of the tile chosen follow: whether each local SRAM is double-buffered,
then each register level's fold-loop count, by the per-level estimate (`tiles_estimate`).
"""

import functools
import itertools
import math
from dataclasses import replace

from simulator.components import Machine
from simulator.errors import CapacityError
from simulator.mapping.auto_nest import with_nest
from simulator.mapping.gemm import (
    GemmPlan,
    check_fits,
    inner_levels,
    nest_tile,
    plan_from,
    with_register_tilings,
)
from simulator.mapping.hierarchy import (
    TileLevels,
    hierarchical_roles,
    tile_estimate,
    tiles_estimate,
)
from simulator.mapping.traffic import OPERAND_DIMS, dram_traffic
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes, precision
from simulator.spec.validate import locate
from simulator.spec.workload import GemmOpSpec


def _candidates(extent: int, align: int, aligned_only: bool) -> list[int]:
    """Tile sizes for one dim: the whole dim, multiples of the array edge, and halvings of the dim."""
    sizes = {extent}
    size = align
    while size < extent:
        sizes.add(size)
        size *= 2
    half = extent
    while half > align and not aligned_only:
        half = math.ceil(half / 2)
        sizes.add(half)
    return sorted(sizes)


def _dim_options(problem, given, spatial, align, accounting) -> list[list[int]]:
    """Candidate sizes per dim. Under scalesim accounting the streamed (temporal) dim stays whole
    and spatial tiles are array multiples, so fold counts equal SCALE-Sim's."""
    (temporal,) = set(problem) - set(spatial)
    scalesim = accounting == "scalesim"
    options = []
    for d in ("M", "N", "K"):
        if d in given:
            options.append([given[d]])
        elif scalesim and d == temporal:
            options.append([problem[d]])
        else:
            options.append(_candidates(problem[d], align.get(d, 1), aligned_only=scalesim))
    return options


def compute_cycles_estimate(unit, problem, tile, plan_like) -> int:
    """Exact sum of per-tile cycles: full tiles and edge tiles counted separately. Memoized: a
    tile's cycles depend on the array only through its `timing_key` and its rate at the plan's
    dtype (`tile_cost`), so sweep points with one array and other buffers or memories rank the
    same tiles once."""
    key = (
        unit.timing_key,
        unit.rate(plan_like.dtype),
        problem["M"], problem["N"], problem["K"], tile["M"], tile["N"], tile["K"],
        plan_like.spatial, plan_like.dataflow, plan_like.accounting,
    )  # fmt: skip
    return _memoized(_ESTIMATES, key, lambda: _cycles_estimate(unit, problem, tile, plan_like))


def _memoized(table: dict, key: tuple, compute):
    """table[key], computed once; past _MEMO_LIMIT entries the oldest leaves (sweeps of any
    length keep bounded memory)."""
    value = table.get(key)
    if value is None:
        value = table[key] = compute()
        if len(table) > _MEMO_LIMIT:
            table.pop(next(iter(table)))
    return value


_ESTIMATES: dict[tuple, int] = {}
_MEMO_LIMIT = 65536


def _cycles_estimate(unit, problem, tile, plan_like) -> int:
    groups = []
    for d in ("M", "N", "K"):
        full, rest = divmod(problem[d], tile[d])
        groups.append([(tile[d], full)] + ([(rest, 1)] if rest else []))
    total = 0
    for (m, nm), (n, nn), (k, nk) in itertools.product(*groups):
        cost = unit.tile_cost(
            {"M": m, "N": n, "K": k},
            plan_like.spatial,
            plan_like.dataflow,
            plan_like.accounting,
            True,
            dtype=plan_like.dtype,
        )
        total += cost.cycles * nm * nn * nk
    return total


def auto_plan(op: GemmOpSpec, mapping: MappingSpec, machine: Machine) -> GemmPlan:
    """Fill in whatever the mapping leaves open (tile dims, loop order) with the best estimate."""
    problem = {"M": op.M, "N": op.N, "K": op.K}
    seed = plan_from(op, mapping, machine, {d: 1 for d in problem}, ["M", "N", "K"])
    unit = machine.components[seed.unit]
    row_dim, col_dim = seed.spatial
    align = {row_dim: unit.rows, col_dim: unit.cols}
    given = nest_tile(op, mapping, machine) if mapping.nest else mapping.tile or {}
    orders = (
        [mapping.loop_order]
        if mapping.loop_order
        else [list(p) for p in itertools.permutations("MNK")]
    )
    options = _dim_options(problem, given, seed.spatial, align, mapping.accounting)
    best = _best(op, mapping, machine, unit, problem, options, orders)
    if best is None and mapping.accounting == "scalesim":
        # SCALE-Sim streams operands through buffers too small for whole tiles; here the streamed
        # dim is split instead, innermost, so a fold's chunks run back to back and pay its fill
        # and drain once (SystolicArray.tile_cost), as SCALE-Sim counts.
        (streamed,) = set(problem) - set(seed.spatial)
        inner = [o for o in orders if o[-1] == streamed] or orders
        options = _dim_options(problem, given, seed.spatial, align, "realistic")
        best = _best(op, mapping, machine, unit, problem, options, inner)
    if best is None:
        smallest = plan_from(
            op, mapping, machine, {d: o[0] for d, o in zip("MNK", options)}, orders[0]
        )
        check_fits(
            smallest,
            machine,
            locate(mapping, "nest" if mapping.nest else "tile")
            if given
            else f"{op.name}: auto mapping",
        )
        raise CapacityError(f"{op.name}: no tile fits the buffers")  # check_fits always raises here
    plan = with_register_tilings(plan_from(op, mapping, machine, *best), op, mapping, machine)
    if mapping.nest:  # its levels must hold it: say so at the mapping's key
        try:
            TileLevels(plan, machine, op.K).check(plan.tile)
        except CapacityError as error:
            raise CapacityError(f"{locate(mapping, 'nest')}: {error}") from None
    if len(given) == len(problem):
        return plan  # the mapping's own tile: register levels follow the capacity rule
    plan = _choose_double_buffering(plan, mapping, machine, problem, op.K)
    plan = _search_registers(plan, mapping, machine, problem, op.K)
    return with_nest(op, mapping, machine, plan)


def _choose_double_buffering(plan: GemmPlan, mapping, machine: Machine, problem, k: int):
    """Local SRAMs whose double buffering neither the arch nor the mapping sets are estimated
    both ways (`tiles_estimate`), one at a time: the faster is kept, a tie (or a sub-tile that
    fits only single-buffered) keeps the smaller footprint, single-buffered."""
    local, _ = inner_levels(mapping, machine, plan.unit)
    extent = {d: min(plan.tile[d], problem[d]) for d in problem}
    best = plan
    for name, full in local.items():
        spec = (mapping.levels or {}).get(name)
        if "double_buffer" in machine.components[full].spec.model_fields_set or (
            spec is not None and spec.double_buffer is not None
        ):
            continue  # the arch's hardware or the mapping's choice
        timed = {}
        for halved in (best.halved - {full}, best.halved | {full}):
            candidate = replace(best, halved=halved)
            try:
                levels = TileLevels(candidate, machine, k)
                levels.check(extent)
                timed[halved] = tiles_estimate(levels, machine, problem)[0]
            except CapacityError:
                continue  # the sub-tile does not fit this way
        if timed:
            best = replace(best, halved=min(timed, key=lambda h: (timed[h], full in h)))
    return best


def _search_registers(plan: GemmPlan, mapping: MappingSpec, machine: Machine, problem, k: int):
    """Register levels the mapping leaves open take the fold-loop count with the fastest, then
    cheapest, estimate of a full tile's steady state (`tile_estimate`; edge tiles hold the same
    count), one level at a time from the capacity rule's choice (ties keep it): at most
    1 + 4 x levels estimates, none on archs without registers."""
    given = set(plan.registers)
    open_levels = list(
        dict.fromkeys(
            c.name
            for chain in hierarchical_roles(machine, plan.unit).values()
            for c in chain[:-1]  # inner levels (a register level the DMA fills keeps its rule)
            if c.kind == "regfile" and c.name not in given
        )
    )
    if not open_levels:
        return plan
    extent = {d: min(plan.tile[d], problem[d]) for d in problem}

    def estimate(candidate: GemmPlan) -> tuple:  # the steady state: a later K chunk if any
        levels = TileLevels(candidate, machine, k)
        return tile_estimate(levels, machine, extent, extent["K"] == k)

    best, best_key = plan, estimate(plan)
    for name in open_levels:
        for loops in range(4):
            candidate = replace(best, registers={**best.registers, name: loops})
            try:
                key = estimate(candidate)
            except CapacityError:
                continue  # these loops overflow the level
            if key < best_key:
                best, best_key = candidate, key
    return best


def _best(op, mapping, machine, unit, problem, options, orders):
    """The (tile, loop order) with the lowest estimated time among those that fit, or None."""
    in_bytes = precision(op.dtype).bits / 8
    acc_bytes = precision(unit.accumulator(op.dtype)).bits / 8
    dram = machine.dram
    seed = plan_from(op, mapping, machine, {"M": 1, "N": 1, "K": 1}, orders[0])
    shape = (problem["M"], problem["N"], problem["K"])
    order_keys = tuple(map(tuple, orders))
    buffers = tuple(machine.buffer_for(role).name for role in OPERAND_DIMS)
    layout = (buffers, seed.dtype, seed.accumulator, seed.double_buffering)
    capacity = {name: machine.components[name].capacity_bytes for name in buffers}
    transfer = {}  # DRAM bytes -> bus cycles: loop orders often move the same bytes
    best, best_key = None, None
    for m, n in itertools.product(*options[:2]):
        for k in options[2]:  # ascending: once a tile overflows, larger K tiles do too
            tile = {"M": m, "N": n, "K": k}
            # the seed is plan_from(..., tile, orders[0]) but for its tile: price this tile under it
            if any(used > capacity[b] for b, used in _footprint(layout, seed, machine, tile)):
                break
            compute = compute_cycles_estimate(unit, problem, tile, seed)
            first_load = dram.transfer_cycles(nbytes(m * k + k * n, op.dtype))
            # a tile's estimate grows with its DRAM bytes and ties on them: its best loop order
            # is the first that moves the fewest
            index, moved = _least_moved(shape, (m, n, k), order_keys, in_bytes, acc_bytes)
            if moved not in transfer:
                transfer[moved] = dram.transfer_cycles(int(moved))
            key = (max(compute, transfer[moved]) + first_load, moved, -m * n * k)
            if best_key is None or key < best_key:
                best, best_key = (tile, orders[index]), key
    return best


def _footprint(layout: tuple, seed: GemmPlan, machine: Machine, tile: dict) -> tuple:
    """seed.footprint(machine, tile) as (buffer, bytes) pairs, memoized on what it reads (the
    operands' buffers and formats, double buffering, the tile): sweep points that differ in
    buffer sizes or elsewhere share it."""
    key = (layout, tile["M"], tile["N"], tile["K"])
    return _memoized(_FOOTPRINTS, key, lambda: tuple(seed.footprint(machine, tile).items()))


_FOOTPRINTS: dict[tuple, tuple] = {}


@functools.lru_cache(maxsize=65536)
def _least_moved(shape: tuple, tile: tuple, orders: tuple, in_bytes: float, acc_bytes: float):
    """(index, DRAM bytes) of the first of `orders` that moves the fewest bytes for one tile.
    An order of the three loops moves what its innermost loop decides (each operand is streamed
    again for every trip of its third dim unless that dim's loop is innermost: `dram_traffic`), so
    the bytes are worked out once per innermost loop."""
    by_innermost: dict = {}
    moved = []
    for order in orders:
        key = order[-1] if len(order) == 3 and set(order) == _DIMS else order
        if key not in by_innermost:
            by_innermost[key] = _moved(shape, tile, order, in_bytes, acc_bytes)
        moved.append(by_innermost[key])
    least = min(moved)
    return moved.index(least), least


_DIMS = frozenset("MNK")


@functools.lru_cache(maxsize=65536)
def _moved(shape: tuple, tile: tuple, order: tuple, in_bytes: float, acc_bytes: float) -> float:
    """Total DRAM bytes of one (tile, loop order), memoized: it depends on the shape and the tile
    only, so sweep points of one GEMM on different arrays and buffers share the ranking's traffic."""
    problem, sizes = dict(zip("MNK", shape)), dict(zip("MNK", tile))
    return sum(dram_traffic(problem, sizes, list(order), in_bytes, acc_bytes).values())
