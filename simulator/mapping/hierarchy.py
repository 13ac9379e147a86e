"""Per-level, per-operand accesses of a GEMM on a systolic array with register levels.

Inside one SRAM tile the array runs folds: the streamed dim innermost, then the stationary block
unrolled over rows x cols, then the folds over the two spatial dims. A local SRAM the mapping
tiles (`levels:`) adds the loops over its sub-tiles above the fold loops (Timeloop's per-level
tiling). That loop nest, with each inner level holding the innermost loops that fit it (or that
its tiling gives it), is counted in closed form (mapping/nest.py). Roles without inner levels
keep the fold model's counts (TileCost), so flat archs are unchanged.
"""

import itertools
import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from simulator.components import Machine
from simulator.components.systolic import OPERAND_DIMS
from simulator.errors import CapacityError
from simulator.mapping.nest import (
    RELEVANT,
    Level,
    Loop,
    Moves,
    Nest,
    count,
    packed_steps,
    transfer_sizes,
)
from simulator.mapping.traffic import dma_moves
from simulator.mapping.zigzag_words import nest_transfers, zigzag_cells
from simulator.spec.precision import nbytes

SERVES = {"pe": frozenset(), "row": frozenset({"cols"}), "col": frozenset({"rows"})}
ALL_AXES = frozenset({"rows", "cols"})


@dataclass(frozen=True)
class LevelCount:
    """One row of the per-level table: elements and bytes one level moves for one operand."""

    level: str
    operand: str
    direction: str  # read_low | write_low | read_high | write_high (ZigZag's four directions)
    elements: int
    nbytes: int


def hierarchical_roles(machine: Machine, unit: str) -> dict[str, list]:
    """Roles whose path to the array has inner levels (registers, local SRAMs) or a register level
    as DMA buffer: role -> storage components inside the tile, innermost first (DMA buffer last)."""
    chains = {}
    for role in RELEVANT:
        buffer = machine.buffer_for(role)
        registers = machine.registers_for(role, unit)
        if registers or buffer.kind == "regfile":
            chains[role] = [*registers, buffer]
    return chains


def _serves(component) -> frozenset[str]:
    return (
        SERVES.get(component.spec.instances, ALL_AXES) if component.kind == "regfile" else ALL_AXES
    )


def usable_bytes(component, halved: frozenset) -> float:
    """Bytes of one instance a tile may use: half of a local SRAM the plan double-buffers
    (`halved`: their names)."""
    if component.name in halved:
        return component.instance_bytes / 2
    return component.instance_bytes


def role_capacity(component, role: str, halved: frozenset, tiled: bool = False) -> float:
    """Bytes of one instance that `role` may use: its share, else the whole instance for a
    register level (each role on its own) or a tiled local SRAM (whose roles are checked
    together), and an equal part of an untiled local SRAM."""
    share = component.spec.share
    if share is not None:
        return usable_bytes(component, halved) * share.get(role, 0.0)
    if component.kind == "regfile" or tiled:
        return usable_bytes(component, halved)
    return usable_bytes(component, halved) / len(component.spec.holds)


def _tiles(component, role: str, temporal: list[Loop], spatial: dict) -> list[int]:
    """Elements of `role` one instance holds when it holds the innermost 0, 1, ... loops."""
    tiles = [
        math.prod(
            loop.factor
            for axis, loop in spatial.items()
            if axis in _serves(component) and loop.dim in RELEVANT[role]
        )
    ]
    for loop in temporal:
        tiles.append(tiles[-1] * (loop.factor if loop.dim in RELEVANT[role] else 1))
    return tiles


def _cut(component, role, temporal: list[Loop], spatial: dict, elem_bytes, forced, halved) -> int:
    """Innermost temporal loops an inner level holds: its tiling's or the mapping's count, else
    as many as its capacity (share) fits; a forced count that does not fit raises CapacityError."""
    tiles = _tiles(component, role, temporal, spatial)
    room = role_capacity(component, role, halved, tiled=component.name in forced)
    if component.name in forced:
        cut = forced[component.name]
        if tiles[cut] * elem_bytes > room:
            what = "fold loops" if component.kind == "regfile" else "loops (its tile)"
            raise CapacityError(
                f"{component.name}: holding {cut} {what} needs {tiles[cut] * elem_bytes:g} B "
                f"of {role} per instance, but it holds {room:,.0f} B of {role}"
            )
        return cut
    fits = [i for i, tile in enumerate(tiles) if tile * elem_bytes <= room]
    return max(fits, default=0)


def _chain_levels(
    chain, role, temporal, axes, elem_bytes, forced, halved, whole=False
) -> tuple[Level, ...]:
    """The role's levels, innermost first: an SRAM DMA buffer holds every loop (a register level
    as DMA buffer what fits, or every loop where it holds the `whole` tile); an inner level what
    fits or is forced, at most its outer level's."""
    buffer = chain[-1]
    top = len(temporal)
    if buffer.kind == "regfile" and not whole:
        top = _cut(buffer, role, temporal, axes, elem_bytes, forced, halved)
    cuts = [top]
    for component in reversed(chain[:-1]):
        cut = _cut(component, role, temporal, axes, elem_bytes, forced, halved)
        cuts.append(min(cut, cuts[-1]))
    cuts.reverse()
    return tuple(Level(c.name, cut, _serves(c)) for c, cut in zip(chain, cuts))


def fold_nests(
    extent: dict,
    spatial: tuple[str, str],
    rows: int,
    cols: int,
    chains,
    elem_bytes,
    forced,
    tilings=(),
    halved=frozenset(),
    rate=1,
):
    """The tile's loop nests: per tiled local SRAM (innermost first: name, tile, loop order
    outermost first) the loops over its sub-tiles, and inside the innermost sub-tile the fold
    loops; remainder sub-tiles and folds get their own nests. `halved`: the local SRAMs
    double-buffered (a sub-tile gets half); `rate`: the array's at the operands' precision."""
    nests = []
    for inner, upper, cuts in _sub_tilings(extent, list(reversed(tilings)), [], {}):
        nests += _fold_nests(
            inner, spatial, (rows, cols, rate), chains, elem_bytes, (forced, halved), upper, cuts
        )
    return nests


def _sub_tilings(extent: dict, outer_first: list, upper: list, cuts: dict):
    """(innermost extent, loops above it innermost first, tiled level -> loops above it) for
    every combination of full and remainder sub-tiles, tiled levels taken outermost first."""
    if not outer_first:
        yield extent, upper, cuts
        return
    (name, tile, order), rest = outer_first[0], outer_first[1:]
    segments = [_folds(extent[d], min(tile.get(d, extent[d]), extent[d])) for d in "MNK"]
    for choice in itertools.product(*segments):
        sizes = {d: size for d, (size, _) in zip("MNK", choice)}
        counts = {d: n for d, (_, n) in zip("MNK", choice)}
        loops = [Loop(d, counts[d]) for d in reversed(order)]  # innermost first
        yield from _sub_tilings(sizes, rest, loops + upper, {**cuts, name: len(loops + upper)})


def _fold_nests(extent, spatial, array, chains, elem_bytes, choices, upper, tiled_above):
    rows, cols, rate = array
    forced, halved = choices
    row_dim, col_dim = spatial
    (streamed,) = {"M", "N", "K"} - set(spatial)
    nests = []
    for (r_size, r_folds), (c_size, c_folds) in itertools.product(
        _folds(extent[row_dim], rows), _folds(extent[col_dim], cols)
    ):
        temporal = [
            Loop(streamed, extent[streamed]),
            Loop(row_dim, r_folds),
            Loop(col_dim, c_folds),
            *upper,
        ]
        # a tiled level holds every loop below the loops over its own sub-tiles
        held = {**forced, **{name: len(temporal) - above for name, above in tiled_above.items()}}
        axes = {"rows": Loop(row_dim, r_size), "cols": Loop(col_dim, c_size)}
        levels = {
            role: _chain_levels(chain, role, temporal, axes, elem_bytes[role], held, halved)
            for role, chain in chains.items()
        }
        nests.append(Nest(tuple(temporal), axes, levels, rate))
    return nests


def fold_loops(extent: dict, spatial: tuple[str, str], rows: int, cols: int) -> list[Loop]:
    """The array's temporal loops over a whole tile, innermost first: the streamed dim, the row
    folds, the column folds (a partial last fold counts as one)."""
    row_dim, col_dim = spatial
    (streamed,) = {"M", "N", "K"} - set(spatial)
    return [
        Loop(streamed, extent[streamed]),
        Loop(row_dim, -(-extent[row_dim] // rows)),
        Loop(col_dim, -(-extent[col_dim] // cols)),
    ]


def _held(loops: list[Loop], cut: int) -> dict[str, int]:
    held = dict.fromkeys("MNK", 1)
    for loop in loops[:cut]:
        held[loop.dim] *= loop.factor
    return held


def register_cut(loops: list[Loop], tile: dict, order: list | None) -> int | None:
    """How many innermost loops a register level holds when a mapping gives its Timeloop-style
    tiling (iterations per dim, dims left out 1; loop order outermost first): the largest count
    whose loops match, None when none does."""
    wanted = {d: tile.get(d, 1) for d in "MNK"}
    for cut in reversed(range(len(loops) + 1)):
        iterating = [lp.dim for lp in reversed(loops[:cut]) if lp.factor > 1]  # outermost first
        in_order = order is None or [d for d in order if d in iterating] == iterating
        if _held(loops, cut) == wanted and in_order:
            return cut
    return None


def register_tilings(loops: list[Loop]) -> str:
    """The tilings a register level can hold in this fold nest, as a mapping writes them."""
    options = []
    for cut in range(len(loops) + 1):
        text = "{" + ", ".join(f"{d}: {n}" for d, n in _held(loops, cut).items() if n > 1) + "}"
        if text not in options:
            options.append(text)
    names = ("streamed", "row folds", "column folds")
    nest = ", ".join(f"{lp.dim} {lp.factor} ({name})" for lp, name in zip(loops, names))
    return f"the array runs {nest}, innermost first; a register level holds {' or '.join(options)}"


def check_register_cut(component, extent, spatial, rows, cols, elem_bytes: dict, cut) -> None:
    """Raise CapacityError when a register level holding `cut` fold loops of a whole tile
    overflows its capacity for any role it holds."""
    row_dim, col_dim = spatial
    loops = fold_loops(extent, spatial, rows, cols)
    axes = {
        "rows": Loop(row_dim, min(rows, extent[row_dim])),
        "cols": Loop(col_dim, min(cols, extent[col_dim])),
    }
    for role in component.spec.holds:
        _cut(component, role, loops, axes, elem_bytes[role], {component.name: cut}, frozenset())


def nest_unroll(plan, unit) -> dict[str, int]:
    """A nest's spatial unrolling per dim over its full tile (1 off the array's dims): the array
    edge, or the tile where the problem is narrower than the array."""
    unroll = dict.fromkeys("MNK", 1)
    for dim, edge in zip(plan.spatial, (unit.rows, unit.cols)):
        unroll[dim] = min(edge, plan.tile[dim])
    return unroll


def _dim_pieces(loops: list[Loop], dim: str, unroll: int, extent: int) -> list[tuple[dict, int]]:
    """An edge tile's extent along one dim as pieces run one after another, each (loop position ->
    iterations, spatial size): the outermost of the dim's loops runs the whole blocks of what its
    inner loops cover, the remainder is a piece of its own one loop further in, down to a partial
    spatial unrolling (a full tile is one piece: the nest itself)."""
    positions = [i for i, lp in enumerate(loops) if lp.dim == dim]  # innermost first
    covered = [unroll]
    for i in positions:
        covered.append(covered[-1] * loops[i].factor)
    pieces, rest = [], extent
    for j in reversed(range(len(positions))):
        whole, rest = divmod(rest, covered[j])
        if whole:
            factors = {p: (loops[p].factor if i < j else 1) for i, p in enumerate(positions)}
            pieces.append(({**factors, positions[j]: whole}, unroll))
    if rest:
        pieces.append((dict.fromkeys(positions, 1), rest))
    return pieces


@dataclass(frozen=True)
class Piece:
    """One piece of an SRAM tile under an explicit nest: its loops and spatial axes, and whether
    it is the first and the last of the tile's pieces along K (partial sums carried between)."""

    temporal: list[Loop]
    spatial: dict[str, Loop]
    first_k: bool
    last_k: bool


def edge_nests(plan, unit, extent: dict) -> list[Piece]:
    """The pieces an SRAM tile of `extent` runs under the plan's nest: the nest itself for a full
    tile; for an edge tile, one nest per combination of each dim's pieces (`_dim_pieces`), the
    same loops with fewer iterations, so every level keeps its loops. A region's K pieces run
    one after another (K fastest), carrying its partial sums."""
    loops = [Loop(d, n) for d, n in plan.nest]
    unroll = nest_unroll(plan, unit)
    per_dim = [_dim_pieces(loops, d, unroll[d], extent[d]) for d in "MNK"]
    row_dim, col_dim = plan.spatial
    last = len(per_dim[2]) - 1
    pieces = []
    for *choice, (k_index, k_piece) in itertools.product(*per_dim[:2], enumerate(per_dim[2])):
        choice = [*choice, k_piece]
        factors = {p: n for piece, _ in choice for p, n in piece.items()}
        size = {d: s for d, (_, s) in zip("MNK", choice)}
        temporal = [Loop(lp.dim, factors.get(i, lp.factor)) for i, lp in enumerate(loops)]
        axes = {"rows": Loop(row_dim, size[row_dim]), "cols": Loop(col_dim, size[col_dim])}
        pieces.append(Piece(temporal, axes, k_index == 0, k_index == last))
    return pieces


def explicit_nest(plan, unit, chains, elem_bytes) -> Nest:
    """The mapping's own nest over one full SRAM tile: its temporal loops, the spatial unrolling
    the rest of the tile, the DMA buffer holding the whole tile (`TileLevels.check` sizes it)
    and each inner level the innermost loops that fit (or forced)."""
    temporal = [Loop(d, n) for d, n in plan.nest]
    row_dim, col_dim = plan.spatial
    unroll = nest_unroll(plan, unit)
    axes = {"rows": Loop(row_dim, unroll[row_dim]), "cols": Loop(col_dim, unroll[col_dim])}
    levels = {
        role: _chain_levels(
            chain, role, temporal, axes, elem_bytes[role], plan.registers, plan.halved, True
        )
        for role, chain in chains.items()
    }
    return Nest(tuple(temporal), axes, levels, unit.rate(plan.dtype))


def instance_tile(plan, unit, role: str, serves: frozenset, extent: dict) -> int:
    """Elements of `role` one instance of a level holding a whole SRAM tile of `extent` keeps:
    the extent along a dim it is shared over or that no axis unrolls, a dim's share of one PE
    (rounded up) along an axis it is not shared over (an edge tile's, not the nest's reach)."""
    unroll = nest_unroll(plan, unit)
    on_axis = dict(zip(plan.spatial, ("rows", "cols")))
    elements = 1
    for d in RELEVANT[role]:
        private = d in on_axis and on_axis[d] not in serves
        elements *= -(-extent[d] // unroll[d]) if private else extent[d]
    return elements


def nest_steps(plan, unit, extent: dict) -> int:
    """PE cycles of an SRAM tile of `extent` under the plan's nest (its edge pieces'): one per
    iteration of its temporal loops, the innermost taken `rate` at a time (`packed_steps`)."""
    rate = unit.rate(plan.dtype)
    return sum(packed_steps(p.temporal, rate) for p in edge_nests(plan, unit, extent))


def nest_cycles(plan, unit, extent: dict) -> int:
    """Reference cycles of one tile under an explicit nest, its ports aside: its `nest_steps`
    (every PE busy; an edge tile's pieces one after another), plus the array's skew to fill and
    drain its pipeline once (rows + cols - 2; ZigZag reports it but does not add it)."""
    return unit.to_ref_cycles(nest_steps(plan, unit, extent) + unit.rows + unit.cols - 2)


def period_loops(plan, unit, extent: dict) -> list[tuple[str, int]]:
    """The nest's loops as an edge tile of `extent` runs them, for streaming periods: a dim's
    loop runs as many iterations as the extent reaches (ceil) of what its inner loops cover."""
    unroll = nest_unroll(plan, unit)
    covered = dict(unroll)
    loops = []
    for d, n in plan.nest:
        reach = min(extent[d], covered[d] * n)
        loops.append((d, -(-reach // covered[d])))
        covered[d] *= n
    return loops


MAX_PERIODS = 1 << 16
"""The finest streaming the DMA is given: periods of at most this many (one descriptor each)."""


@dataclass(frozen=True)
class Streamed:
    """How a nest tile's DMA overlaps its compute: bytes per role loaded before the array starts,
    the compute segment's cycles (the periods, each the longer of its compute and the DMA moving
    the next period's operands and the last period's results), and the result bytes stored after."""

    first: dict[str, int]
    cycles: int
    last: int


def nest_stream(plan, unit, dram, extent: dict, loads: dict[str, int], store: int) -> Streamed:
    """The best streaming of one nest tile's DRAM traffic (`loads`: bytes of each role's tile the
    step loads; `store`: result bytes it writes back) over periods of its outermost loops: a
    role's data for a period arrives during the period before it (new data only where the loops
    it ignores are at their first iteration), a result leaves during the period after the one
    that completes it (every reduction loop at its last). Outermost 0 loops (one period) is
    loading before and storing after; the count with the fewest cycles in all is chosen."""
    compute = nest_cycles(plan, unit, extent)
    ideal = unit.to_ref_cycles(nest_steps(plan, unit, extent))
    outer = list(reversed(period_loops(plan, unit, extent)))  # outermost first
    best = None
    for k in range(len(outer) + 1):
        factors = [n for _, n in outer[:k]]
        periods = math.prod(factors)
        if periods > MAX_PERIODS:
            break
        digits = np.indices(factors).reshape(k, periods)
        need = np.zeros(periods + 1)  # bytes needed by period p (p = periods: none)
        for role, size in loads.items():
            need[:-1] += _period_bytes(outer[:k], digits, role, size, first=True)
        done = np.zeros(periods + 1)  # bytes complete after period p - 1 (p = 0: none)
        done[1:] = _period_bytes(outer[:k], digits, "output", store, first=False)
        moving = (need[1:] + done[:-1]) / dram.bytes_per_cycle  # during period p
        cycles = compute + math.ceil(np.maximum(moving - ideal / periods, 0).sum() - 1e-9)
        total = dram.transfer_cycles(need[0]) + cycles + dram.transfer_cycles(done[-1])
        if best is None or total < best[0]:
            first = {
                role: int(_period_bytes(outer[:k], digits, role, size, first=True)[0])
                for role, size in loads.items()
            }
            best = (total, Streamed(first, cycles, int(done[-1])))
    return best[1]


def _period_bytes(loops, digits, role: str, size: int, first: bool) -> np.ndarray:
    """Bytes of `role`'s tile new in each period (`first`: loops the role ignores at their
    first iteration) or complete after it (at their last): an equal part per period of the
    loops it uses."""
    ignored = [i for i, (d, _) in enumerate(loops) if d not in RELEVANT[role]]
    parts = math.prod(n for d, n in loops if d in RELEVANT[role])
    at = [0 if first else loops[i][1] - 1 for i in ignored]
    moves = np.all(digits[ignored] == np.array(at, dtype=int)[:, None], axis=0)
    return moves * (size // parts)


def _folds(extent: int, size: int) -> list[tuple[int, int]]:
    full, rest = divmod(extent, size)
    return [(size, full)] * bool(full) + [(rest, 1)] * bool(rest)


class TileLevels:
    """Per-tile accesses of one GEMM plan, by (component, role, direction, precision)."""

    def __init__(self, plan, machine: Machine, problem_k: int):
        self.plan = plan
        self.whole_k = plan.tile["K"] >= problem_k  # else outputs complete only in the buffer
        self.unit = machine.components[plan.unit]
        self.chains = hierarchical_roles(machine, plan.unit)
        self.buffers = {role: machine.buffer_for(role).name for role in RELEVANT}
        if plan.nest:  # an explicit nest: every role's counts come from it, flat roles too
            self.chains = {
                role: self.chains.get(role, [machine.buffer_for(role)]) for role in RELEVANT
            }
        self.elem_bytes = {
            role: nbytes(1, plan.accumulator if role == "output" else plan.dtype)
            for role in RELEVANT
        }
        inner = [c for chain in self.chains.values() for c in chain[:-1]]
        order = list(dict.fromkeys(c.name for c in inner))  # innermost first, arch order
        self.tilings = tuple(
            (name, *plan.levels[name]) for name in order if name in (plan.levels or {})
        )

    def nests(self, extent: dict) -> list[Nest]:
        """The tile's loop nests (fold loops, and the sub-tile loops of tiled local SRAMs), or
        the mapping's explicit nest (an edge tile's pieces of it, each level holding the loops it
        holds in the full tile)."""
        return [nest for nest, _, _ in self.pieces(extent, True)]

    def pieces(self, extent: dict, first_k_chunk: bool) -> list[tuple[Nest, bool, bool]]:
        """(nest, fresh, completes) per nest of the tile: whether its outputs start from nothing
        (else it reads partial sums back) and whether it leaves them final. Fold nests share the
        tile's K chunk; an explicit nest's K pieces carry partial sums from one to the next."""
        if not self.plan.nest:
            nests = fold_nests(
                extent,
                self.plan.spatial,
                self.unit.rows,
                self.unit.cols,
                self.chains,
                self.elem_bytes,
                self.plan.registers,
                self.tilings,
                self.plan.halved,
                self.unit.rate(self.plan.dtype),
            )
            return [(nest, first_k_chunk, self.whole_k) for nest in nests]
        full = explicit_nest(self.plan, self.unit, self.chains, self.elem_bytes)
        return [
            (
                Nest(tuple(p.temporal), p.spatial, full.levels, full.packed),
                first_k_chunk and p.first_k,
                self.whole_k and p.last_k,
            )
            for p in edge_nests(self.plan, self.unit, extent)
        ]

    def check(self, extent: dict) -> None:
        """Raise CapacityError now if the mapping's register loop counts or a local SRAM's
        tiling overflow a level (a tiled SRAM's roles together within its capacity)."""
        if self.plan.nest:  # the DMA refills a register level only between tiles: it holds one
            loops = len(self.plan.nest)
            for role, chain in self.chains.items():
                buffer = chain[-1]
                if self.plan.registers.get(buffer.name, loops) < loops:
                    raise CapacityError(
                        f"{buffer.name}: the DMA fills it only between tiles, so it holds all "
                        f"{loops} of the nest's loops, not {self.plan.registers[buffer.name]}"
                    )
                need = instance_tile(self.plan, self.unit, role, _serves(buffer), extent)
                room = role_capacity(buffer, role, self.plan.halved)
                if buffer.kind == "regfile" and need * self.elem_bytes[role] > room:
                    raise CapacityError(
                        f"{buffer.name}: the nest's {role} tile needs "
                        f"{need * self.elem_bytes[role]:,} B per instance, but it holds "
                        f"{room:,.0f} B of {role}"
                    )
        if not self.chains or not (self.plan.registers or self.tilings):
            return
        tiled = {name for name, *_ in self.tilings}
        for nest in self.nests(extent):
            used: Counter = Counter()
            for role, levels in nest.levels.items():
                for level in levels:
                    if level.name in tiled:
                        tile = nest.tile_elements(role, level)
                        used[level.name] += tile * self.elem_bytes[role]
            for name, need in used.items():
                level = next(c for chain in self.chains.values() for c in chain if c.name == name)
                capacity = usable_bytes(level, self.plan.halved)
                if need > capacity:
                    half = (
                        " (half of it: double-buffered)" if capacity < level.instance_bytes else ""
                    )
                    raise CapacityError(
                        f"{name}: its tile needs {need:,} B for all the operands it holds, "
                        f"but it holds {capacity:,.0f} B{half}"
                    )

    def table(self, extent: dict, first_k_chunk: bool, cost, transfers=None) -> Counter:
        """Elements each level moves inside one tile (DMA excluded). Roles with register levels
        come from the fold nests; the others from the fold model's SRAM reads and writes.
        `transfers` (a Counter, `accounting: zigzag`) also gathers the nests' transfers per
        (level, role, side, elements per transfer)."""
        plan, rows = self.plan, Counter()
        for role in RELEVANT:
            if role in self.chains:
                continue
            fmt = plan.accumulator if role == "output" else plan.dtype
            rows[(self.buffers[role], role, "read_low", fmt)] += cost.reads.get(role, 0)
            rows[(self.buffers[role], role, "write_low", fmt)] += cost.writes.get(role, 0)
        if not self.chains:
            return rows
        for nest, fresh, completes in self.pieces(extent, first_k_chunk):
            for role, chain in self.chains.items():
                self._add(rows, nest, role, chain, completes)
                if transfers is not None:
                    _add_transfers(transfers, nest, role, chain)
            if plan.nest and not fresh and "output" in self.chains:
                self._reload(rows, nest.size("output"))
        if not plan.nest and not first_k_chunk and "output" in self.chains:
            self._reload(rows, extent["M"] * extent["N"])
        return rows

    def _reload(self, rows: Counter, size: int) -> None:
        """`size` partial sums already in the DMA buffer (an earlier K chunk's or K piece's): the
        first accumulation reads them, passed down through every inner level."""
        chain, acc = self.chains["output"], self.plan.accumulator
        rows[(chain[-1].name, "output", "read_low", acc)] += size
        for level in chain[:-1]:
            rows[(level.name, "output", "write_high", acc)] += size
            rows[(level.name, "output", "read_low", acc)] += size

    def _add(self, rows: Counter, nest: Nest, role: str, chain, completes: bool) -> None:
        """One nest's moves of `role` per level; outputs go up final only where it `completes`
        them (no reduction loop left above, and no K chunk or piece after)."""
        plan = self.plan
        moves: list[Moves] = count(nest, role)
        for i, (component, m) in enumerate(zip(chain, moves)):
            inner = i < len(chain) - 1  # the buffer's upper side is the DMA, counted by the engine
            fmt = plan.dtype
            if role == "output":
                fmt = plan.accumulator
                below_final = i > 0 and moves[i - 1].final_up and completes
                up = plan.output if m.final_up and completes else plan.accumulator
            for direction in ("read_low", "write_low", "read_high", "write_high"):
                if direction.endswith("high") and not inner:
                    continue
                f = fmt
                if role == "output" and direction == "read_high":
                    f = up
                if role == "output" and direction == "write_low" and below_final:
                    f = plan.output
                rows[(component.name, role, direction, f)] += getattr(m, direction)


def _add_transfers(transfers: Counter, nest: Nest, role: str, chain) -> None:
    """One nest's transfers of `role` per level and side; the buffer's upper side is the DMA's."""
    per_level = nest_transfers(role, count(nest, role), transfer_sizes(nest, role))
    for i, (component, level) in enumerate(zip(chain, per_level)):
        for (side, amount), n in level.items():
            if side == "low" or i < len(chain) - 1:
                transfers[(component.name, role, side, amount)] += n


def refill_cycles(rows: Counter, levels: TileLevels, machine: Machine) -> int:
    """Cycles the array waits inside one tile for its single-buffered local SRAMs: a sub-tile's
    fill from the next level out, and its drain back there, cannot overlap the compute on the
    sub-tile it replaces, so each moves at the slower end of the transfer (this level's ports or
    the next level's). A double-buffered level hides them (its ports still bound the tile)."""
    moved: Counter = Counter()  # (local SRAM, next level out) -> bytes filled and drained
    for role, chain in levels.chains.items():
        for inner, outer in zip(chain, chain[1:]):
            if inner.kind != "sram" or inner.name in levels.plan.halved:
                continue
            for (name, r, direction, fmt), elements in rows.items():
                if name == inner.name and r == role and direction.endswith("high"):
                    moved[(inner.name, outer.name)] += port_bytes(inner, elements, fmt)
    return sum(
        max(machine.components[a].access_cycles(b), machine.components[o].access_cycles(b))
        for (a, o), b in moved.items()
    )


def tiles_estimate(levels: TileLevels, machine: Machine, problem: dict) -> tuple[int, float]:
    """Cycles and energy of every SRAM tile of a plan (full and edge tiles grouped, each
    `tile_estimate`): the mapper's estimate of the inner levels."""
    plan = levels.plan
    groups = [_folds(problem[d], plan.tile[d]) for d in "MNK"]
    cycles, energy = 0, 0.0
    for (m, nm), (n, nn), (k_index, (k, nk)) in itertools.product(
        groups[0], groups[1], enumerate(groups[2])
    ):
        firsts = nm * nn if k_index == 0 else 0  # each output tile's first K chunk
        for first, repeat in ((True, firsts), (False, nm * nn * nk - firsts)):
            if repeat:
                c, e = tile_estimate(levels, machine, {"M": m, "N": n, "K": k}, first)
                cycles, energy = cycles + c * repeat, energy + e * repeat
    return cycles, energy


def tile_estimate(levels: TileLevels, machine: Machine, extent: dict, first: bool):
    """Cycles and energy of one SRAM tile: max(array cycles + refill waits, its busiest port's
    cycles), and its levels' bytes priced per byte, as the engine times and the report prices."""
    plan, unit = levels.plan, levels.unit
    cost = unit.tile_cost(
        extent, plan.spatial, plan.dataflow, plan.accounting, first, dtype=plan.dtype
    )
    if plan.nest:  # an explicit nest's cycles, as the engine times it
        cost = replace(cost, cycles=nest_cycles(plan, unit, extent))
    table = levels.table(extent, first, cost)
    moved = traffic(table, machine)
    ports = max(machine.components[b].access_cycles(r + w) for b, r, w in moved)
    energy = sum(
        r * machine.components[b].energy_pj("read") + w * machine.components[b].energy_pj("write")
        for b, r, w in moved
    )
    return max(cost.cycles + refill_cycles(table, levels, machine), ports), energy


def port_bytes(component, elements: int, fmt: str) -> int:
    """Bytes through a level's ports: a register access moves its whole width even for a
    narrower element (ZigZag's word access) unless the level packs them (`packed`); SRAM and
    DRAM pack elements into their accesses."""
    if component.kind != "regfile" or component.spec.packed:
        return nbytes(elements, fmt)
    width = component.access_bytes
    return int(elements * math.ceil(nbytes(1, fmt) / width - 1e-9) * width)


def traffic(rows: Counter, machine: Machine) -> tuple[tuple[str, int, int], ...]:
    """Compute.sram_traffic from a tile table: (component, bytes read, bytes written)."""
    moved: dict[str, list[int]] = {}
    for (name, _role, direction, fmt), elements in rows.items():
        entry = moved.setdefault(name, [0, 0])
        entry[0 if direction.startswith("read") else 1] += port_bytes(
            machine.components[name], elements, fmt
        )
    return tuple((name, r, w) for name, (r, w) in moved.items())


def op_levels(problem: dict, levels: TileLevels, machine: Machine) -> tuple[LevelCount, ...]:
    """The whole op's per-level table: in-tile moves summed over the tile grid, plus the DMA
    moves between DRAM and each role's buffer (loads, partial-sum spills and reloads, stores)."""
    plan, unit = levels.plan, levels.unit
    rows: Counter = Counter()
    zigzag = Counter() if plan.accounting == "zigzag" else None  # transfers, ZigZag's words
    groups = []
    for d in ("M", "N", "K"):
        full, rest = divmod(problem[d], plan.tile[d])
        groups.append([(plan.tile[d], full)] * bool(full) + [(rest, 1)] * bool(rest))
    for (m, nm), (n, nn), (k, nk) in itertools.product(*groups):
        extent = {"M": m, "N": n, "K": k}
        leading = k == groups[2][0][0]  # each output tile's first K chunk is in the first group
        for first in (True, False):
            repeat = nm * nn * ((1 if first else nk - 1) if leading else (0 if first else nk))
            if not repeat:
                continue
            cost = unit.tile_cost(
                extent, plan.spatial, plan.dataflow, plan.accounting, first, dtype=plan.dtype
            )
            tile_transfers = None if zigzag is None else Counter()
            table = levels.table(extent, first, cost, tile_transfers)
            if plan.weight_half is not None:  # as the engine's tiles count them (`_tile_cost`)
                share_weight_reads(table, levels.buffers["weight"])
            for key, value in table.items():
                rows[key] += value * repeat
            for key, value in (tile_transfers or {}).items():
                zigzag[key] += value * repeat
    moves = dma_moves(problem, plan.tile, plan.loop_order)
    if plan.weight_half is not None:  # each load of a B block brings its half of the columns
        moves["weight"] = moves["weight"] // problem["N"] * _half_width(groups[1], plan.weight_half)
    dram = machine.dram.name
    for role in ("input", "weight"):
        rows[(dram, role, "read_low", plan.dtype)] += moves[role]
        rows[(levels.buffers[role], role, "write_high", plan.dtype)] += moves[role]
    buffer = levels.buffers["output"]
    for name, direction in ((dram, "write_low"), (buffer, "read_high")):
        rows[(name, "output", direction, plan.accumulator)] += moves["spills"]
        rows[(name, "output", direction, plan.output)] += moves["output"]
    for name, direction in ((dram, "read_low"), (buffer, "write_high")):
        rows[(name, "output", direction, plan.accumulator)] += moves["spills"]
    if zigzag is not None:
        _dma_transfers(zigzag, problem, dict(zip("MNK", groups)), moves, levels.buffers, dram)
        formats = (plan.dtype, plan.accumulator, plan.output)
        cells = zigzag_cells(rows, zigzag, machine, formats, port_bytes)
        return tuple(LevelCount(*cell) for cell in cells)
    return tuple(
        LevelCount(
            level, role, direction, elements, port_bytes(machine.components[level], elements, fmt)
        )
        for (level, role, direction, fmt), elements in sorted(rows.items())
        if elements
    )


def share_weight_reads(table: Counter, buffer: str) -> None:
    """A paired core's tile table (`GemmPlan.weight_half`): the weight's DMA buffer holds half
    of each B block and serves it once to both cores' arrays, so it reads half the elements."""
    for key in [k for k in table if k[0] == buffer and k[1] == "weight" and k[2] == "read_low"]:
        table[key] = (table[key] + 1) // 2


def _half_width(blocks: list[tuple[int, int]], half: int) -> int:
    """Columns of B's (width, count) blocks that a paired core's `half` loads (`half_columns`:
    the first half the larger on an odd width)."""
    return sum(count * ((width + 1) // 2 if half == 0 else width // 2) for width, count in blocks)


def _dma_transfers(transfers: Counter, problem: dict, groups: dict, moves: dict, buffers, dram):
    """The DMA's transfers (`accounting: zigzag`): each pass over an operand moves every tile of
    it once, between DRAM's lower side and its buffer's upper side (outputs: drains and
    stores, partial-sum spills included; their reloads mirror them)."""
    for role, (a, b) in OPERAND_DIMS.items():
        moved = moves[role] + (moves["spills"] if role == "output" else 0)
        passes = moved // (problem[a] * problem[b])
        for (size_a, count_a), (size_b, count_b) in itertools.product(groups[a], groups[b]):
            n = passes * count_a * count_b
            transfers[(dram, role, "low", size_a * size_b)] += n
            transfers[(buffers[role], role, "high", size_a * size_b)] += n
