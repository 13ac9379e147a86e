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
from simulator.mapping.traffic import OPERAND_DIMS, dram_traffic, held_traffic
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
    return estimator(unit, problem, plan_like)(tile["M"], tile["N"], tile["K"])


def estimator(unit, problem, plan_like):
    """`compute_cycles_estimate` of one array, GEMM and plan as a function of the tile's M, N
    and K: the rest of the memo's key is worked out once (a search prices hundreds of tiles)."""
    head = (unit.timing_key, unit.rate(plan_like.dtype), problem["M"], problem["N"], problem["K"])
    tail = (plan_like.spatial, plan_like.dataflow, plan_like.accounting)

    def cycles(m: int, n: int, k: int) -> int:
        key = (*head, m, n, k, *tail)
        tile = {"M": m, "N": n, "K": k}
        return _memoized(_ESTIMATES, key, lambda: _cycles_estimate(unit, problem, tile, plan_like))

    return cycles


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
        cycles = unit.tile_cycles(
            {"M": m, "N": n, "K": k},
            plan_like.spatial,
            plan_like.dataflow,
            plan_like.accounting,
            dtype=plan_like.dtype,
        )
        total += cycles * nm * nn * nk
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
    """The (tile, loop order) with the lowest estimated time among those that fit, or None: the
    first of the buffers' `_Ranking` whose footprint fits their capacities."""
    buffers = tuple(machine.buffer_for(role).name for role in OPERAND_DIMS)
    names = tuple(dict.fromkeys(buffers))
    capacity = tuple(machine.components[name].capacity_bytes for name in names)
    dram = machine.dram
    seed = plan_from(op, mapping, machine, {"M": 1, "N": 1, "K": 1}, orders[0])
    # bytes of an input, an accumulator (partial sums) and an output value (C as written)
    sizes = tuple(precision(f).bits / 8 for f in (seed.dtype, seed.accumulator, seed.output))
    shape = (problem["M"], problem["N"], problem["K"])
    order_keys = tuple(map(tuple, orders))
    formats = (seed.dtype, seed.accumulator, seed.output)
    layout = (buffers, formats, seed.double_buffering, seed.staging(machine))
    interfaces = dram.spec.operand_bandwidth
    write_cost = dram.spec.write_cost
    key = (
        shape, op.dtype, tuple(map(tuple, options)), order_keys, layout, unit.timing_key,
        unit.rate(seed.dtype), seed.spatial, seed.dataflow, seed.accounting, dram.bytes_per_cycle,
        tuple(sorted((interfaces or {}).items())), write_cost,
    )  # fmt: skip
    ranking = _RANKINGS.get(key)
    if ranking is None:
        ranking = _RANKINGS[key] = _Ranking(options)
        if len(_RANKINGS) > _RANKINGS_LIMIT:
            _RANKINGS.pop(next(iter(_RANKINGS)))
    transfer: dict[int, int] = {}  # DRAM bytes -> bus cycles: many tiles move the same bytes

    def bus(moved: int) -> int:
        if moved not in transfer:
            transfer[moved] = dram.transfer_cycles(moved)
        return transfer[moved]

    def need(m: int, n: int, k: int) -> tuple:
        # the seed is plan_from(..., tile, orders[0]) but for its tile: price this tile under it
        return _needs(layout, names, seed, machine, (m, n, k))

    cycles = estimator(unit, problem, seed)

    def price(m: int, n: int, k: int) -> tuple:
        compute = cycles(m, n, k)
        if interfaces:  # each operand on its own interface: the slowest bounds the tile
            index, busiest, moved = _least_busy(
                dram, shape, (m, n, k), order_keys, sizes, write_cost
            )
            first_load = max(
                dram.transfer_cycles(nbytes(m * k, op.dtype), "input"),
                dram.transfer_cycles(nbytes(k * n, op.dtype), "weight"),
            )
            return (max(compute, busiest) + first_load, moved, -m * n * k), index
        first_load = bus(nbytes(m * k + k * n, op.dtype))
        # a tile's estimate grows with its DRAM bytes (writes at their cost) and ties on them:
        # its best loop order is the first that holds the bus the least
        index, moved = _least_moved(shape, (m, n, k), order_keys, sizes, write_cost)
        return (max(compute, bus(int(moved))) + first_load, moved, -m * n * k), index

    ranking.extend(capacity, need, price)
    for used, (m, n, k), index in ranking.entries:
        if _fits(used, capacity):
            return {"M": m, "N": n, "K": k}, orders[index]
    return None


def _fits(used: tuple, capacity: tuple) -> bool:
    return all(u <= c for u, c in zip(used, capacity))


class _Ranking:
    """The candidates of one search priced so far, by ascending (estimated time, DRAM bytes as read
    bytes' worth with writes at `write_cost`, -tile volume), first in search order on ties: (the
    bytes each buffer needs, (M, N, K), loop order index). Kept across searches that differ only in
    the buffers' capacities (`_best`'s memo key is all else the search reads), so sweep points that
    differ in SRAM size price each tile once. The search tries each (M, N) pair's K tiles in
    ascending order and stops at the first that overflows, so a tile is a candidate under capacities
    that hold the largest footprint of itself and the K tiles before it; every such tile is priced
    (`extend`) before the first candidate in rank order that fits is taken: the direct search's
    choice."""

    def __init__(self, options):
        self.ks = options[2]
        self.pairs = list(itertools.product(*options[:2]))
        self.frontier: dict[tuple, tuple] = {}  # (M, N) -> (next K's index, need up to it)
        self.ranked: list[tuple] = []  # (rank, search position, need, tile, order index)
        self.entries: list[tuple] = []

    def extend(self, capacity: tuple, need, price) -> None:
        """Price every tile the search would try under `capacity` and has not priced yet."""
        added = False
        for number, (m, n) in enumerate(self.pairs):
            at = self.frontier.get((m, n))
            if at is None:
                at = (0, need(m, n, self.ks[0]))
            j, needed = at
            while needed is not None and _fits(needed, capacity):
                rank, index = price(m, n, self.ks[j])
                self.ranked.append(
                    (rank, number * len(self.ks) + j, needed, (m, n, self.ks[j]), index)
                )
                added = True
                j += 1
                after = None
                if j < len(self.ks):
                    after = tuple(map(max, needed, need(m, n, self.ks[j])))
                needed = after
            self.frontier[(m, n)] = (j, needed)
        if added:
            self.ranked.sort(key=lambda entry: entry[:2])
            self.entries = [entry[2:] for entry in self.ranked]


_RANKINGS: dict[tuple, "_Ranking"] = {}
_RANKINGS_LIMIT = 256  # a ranking holds up to every candidate tile (a few hundred): fewer kept


def _needs(layout: tuple, names: tuple, seed: GemmPlan, machine: Machine, tile: tuple) -> tuple:
    """The bytes each of `names` holds of seed.footprint(machine, tile) (0: none), memoized on
    what it reads (the operands' buffers and formats, double buffering, the output's staging
    SRAM, the tile): sweep points that differ in buffer sizes or elsewhere share it."""
    key = (layout, names, tile)

    def needs() -> tuple:
        used = seed.footprint(machine, dict(zip("MNK", tile)))
        return tuple(used.get(name, 0) for name in names)

    return _memoized(_FOOTPRINTS, key, needs)


_FOOTPRINTS: dict[tuple, tuple] = {}


@functools.lru_cache(maxsize=65536)
def _least_moved(shape: tuple, tile: tuple, orders: tuple, sizes: tuple, write_cost):
    """(index, DRAM bytes as read bytes' worth) of the first of `orders` that holds the DRAM bus the least for one
    tile, its bytes counted as read bytes' worth of bus time (a written byte is `write_cost`:
    `held_traffic`). An order of the three loops moves what its innermost loop decides (each
    operand is streamed again for every trip of the dim it lacks unless that dim's loop is
    innermost: `dram_traffic`), so the bytes are worked out once per innermost loop
    (`_moved_innermost`). `sizes`: bytes of an input, accumulator and output value."""
    trips = {d: math.ceil(extent / size) for d, extent, size in zip("MNK", shape, tile)}
    by_innermost: dict = {}
    moved = []
    for order in orders:
        key = order[-1] if len(order) == 3 and set(order) == _DIMS else order
        if key not in by_innermost:
            by_innermost[key] = (
                _moved_innermost(shape, trips, key, sizes, write_cost)
                if key in _DIMS
                else _moved(shape, tile, order, sizes, write_cost)
            )
        moved.append(by_innermost[key])
    least = min(moved)
    return moved.index(least), least


_DIMS = frozenset("MNK")


def _least_busy(dram, shape, tile, orders, sizes: tuple, write_cost) -> tuple:
    """(index, cycles, DRAM bytes as read bytes' worth) of the first of `orders` whose busiest per-operand DRAM
    interface is busy the fewest cycles (then holds the interfaces the least, writes at
    `write_cost`): with an interface per operand (SCALE-Sim's USER bandwidths) a tile that
    re-reads one operand over a narrow interface is bound by it although the interfaces' sum
    would carry the bytes."""
    problem, extents = dict(zip("MNK", shape)), dict(zip("MNK", tile))
    best = None
    for index, order in enumerate(orders):
        moved = dram_traffic(problem, extents, list(order), *sizes)
        on = {"input": moved["input"], "weight": moved["weight"]}
        on["output"] = held_traffic({**moved, "input": 0, "weight": 0}, write_cost)
        busiest = max(dram.transfer_cycles(int(b), role) for role, b in on.items())
        rank = (busiest, held_traffic(moved, write_cost))
        if best is None or rank < best[0]:
            best = (rank, index)
    (busiest, total), index = best
    return index, busiest, total


def _moved_innermost(shape, trips: dict, innermost: str, sizes: tuple, write_cost) -> float:
    """`held_traffic` of `dram_traffic` for a loop order of M, N and K with `innermost` last, term
    for term (the same products, summed in the same order). An operand's passes
    (`operand_passes`: the trips of the outer loops over the dim it lacks) are that dim's
    `trips`, or 1 where that dim is innermost."""
    m, n, k = shape
    in_bytes, acc_bytes, out_bytes = sizes
    lacks = {"input": "N", "weight": "M", "output": "K"}
    passes = {role: 1 if dim == innermost else trips[dim] for role, dim in lacks.items()}
    return sum(
        (
            m * k * passes["input"] * in_bytes,
            k * n * passes["weight"] * in_bytes,
            m * n * out_bytes * write_cost,
            2 * (m * n) * (passes["output"] - 1) * acc_bytes * (1 + write_cost) / 2,
        )
    )


@functools.lru_cache(maxsize=65536)
def _moved(shape, tile, order, sizes: tuple, write_cost) -> float:
    """`held_traffic` of one (tile, loop order) that is not an order of all three loops."""
    problem, extents = dict(zip("MNK", shape)), dict(zip("MNK", tile))
    return held_traffic(dram_traffic(problem, extents, list(order), *sizes), write_cost)
