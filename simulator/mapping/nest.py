"""Per-level access counts of a GEMM loop nest, in closed form (the Timeloop / ZigZag view).

A nest is one list of temporal loops (innermost first) plus the spatial unrolling at the array.
Each operand has its own chain of storage levels, innermost first; a level holds the innermost
`cut` temporal loops and is shared along the spatial axes it `serves` (an SRAM serves every axis,
a per-PE register none). Counts are elements, in ZigZag's four directions per level:
read_low (read by the level below or the MACs), write_low (updates from below), read_high
(drained to the level above), write_high (filled from the level above).
Conventions (ZigZag 3.9.1's, see docs/memory-hierarchy.md): a tile stays resident while loops over
dims it does not use run directly above it; an input or weight held at the MAC input while the
innermost loops leave it unchanged is read once; only the first accumulation of each output
skips its partial-sum read; a transfer up is final (output precision) when no reduction loop
is left above it.
"""

import math
from dataclasses import dataclass

RELEVANT = {"input": frozenset("MK"), "weight": frozenset("KN"), "output": frozenset("MN")}
DIRECTIONS = ("read_low", "write_low", "read_high", "write_high")


@dataclass(frozen=True)
class Loop:
    """One loop of the nest: a GEMM dim and how many times it iterates."""

    dim: str
    factor: int


@dataclass(frozen=True)
class Level:
    """One storage level as one operand sees it."""

    name: str
    cut: int  # temporal loops (innermost first) inside this level
    serves: frozenset[str]  # spatial axes this level is shared along (below it)


@dataclass(frozen=True)
class Nest:
    """Temporal loops innermost first, spatial axes -> (dim, size), and each operand's levels."""

    temporal: tuple[Loop, ...]
    spatial: dict[str, Loop]
    levels: dict[str, tuple[Level, ...]]  # role -> levels, innermost first (outermost: DRAM)
    packed: int = 1  # elements of the innermost loop a PE takes a cycle (the array's `rate`)

    @property
    def macs(self) -> int:
        return math.prod(loop.factor for loop in self.temporal) * math.prod(
            loop.factor for loop in self.spatial.values()
        )

    def tile_elements(self, role: str, level: "Level") -> int:
        """Elements of `role` one instance of `level` holds: its temporal loops and the spatial
        axes it is shared along, over dims the operand uses."""
        used = RELEVANT[role]
        tile = math.prod(lp.factor for lp in self.temporal[: level.cut] if lp.dim in used)
        return tile * math.prod(
            loop.factor
            for axis, loop in self.spatial.items()
            if axis in level.serves and loop.dim in used
        )

    def size(self, role: str) -> int:
        """Elements of the whole operand."""
        extent: dict[str, int] = {}
        for loop in (*self.temporal, *self.spatial.values()):
            extent[loop.dim] = extent.get(loop.dim, 1) * loop.factor
        return math.prod(extent.get(d, 1) for d in RELEVANT[role])


@dataclass(frozen=True)
class Moves:
    """Elements one level moves for one operand, with how many of the upward ones are final."""

    read_low: int = 0
    write_low: int = 0
    read_high: int = 0
    write_high: int = 0
    final_up: bool = False  # read_high (and the parent's write_low) carry final outputs


def packed_steps(temporal, packed: int) -> int:
    """Cycles a PE takes for `temporal` loops (innermost first) taking the innermost `packed`
    iterations a cycle: ceil(its factor / packed) per iteration of the loops above it."""
    if not temporal:
        return 1
    inner, *above = temporal
    return -(-inner.factor // packed) * math.prod(lp.factor for lp in above)


def _accumulations(nest: Nest, role: str) -> int:
    """MAC results written to the first level: one per MAC, but where a PE takes `packed`
    iterations of an innermost reduction loop a cycle it sums their products first (a dot
    product, as tensor cores' k32 fp8 MMA) and writes once a cycle."""
    if nest.packed == 1 or not nest.temporal or nest.temporal[0].dim in RELEVANT[role]:
        return nest.macs
    spatial = math.prod(loop.factor for loop in nest.spatial.values())
    return spatial * packed_steps(nest.temporal, nest.packed)


def _spatial(nest: Nest, axes, role: str, relevant: bool) -> int:
    used = RELEVANT[role]
    return math.prod(
        nest.spatial[a].factor for a in axes if (nest.spatial[a].dim in used) == relevant
    )


def _changing(nest: Nest, role: str, level: Level) -> list[Loop]:
    """The loops above a level that change its tile: irrelevant loops right above keep it resident."""
    above = list(nest.temporal[level.cut :])
    while above and (above[0].dim not in RELEVANT[role] or above[0].factor == 1):
        above.pop(0)
    return above


def _visits(nest: Nest, role: str, level: Level) -> int:
    """Elements moved across the level's upper boundary: its tile, times its instances, times
    the loops above it that change the tile."""
    tile = nest.tile_elements(role, level)
    instances = math.prod(nest.spatial[a].factor for a in nest.spatial if a not in level.serves)
    return tile * instances * math.prod(lp.factor for lp in _changing(nest, role, level))


def _held_at_mac(nest: Nest, role: str) -> int:
    """Product of the innermost loops that leave the operand unchanged at the MAC input."""
    held = 1
    for loop in nest.temporal:
        if loop.dim in RELEVANT[role] and loop.factor > 1:
            break
        held *= loop.factor
    return held


def count(nest: Nest, role: str) -> list[Moves]:
    """Element moves of `role` at each of its levels, innermost first."""
    levels = nest.levels[role]
    moves = [dict.fromkeys(DIRECTIONS, 0) for _ in levels]
    finals = [False] * len(levels)
    first = levels[0]
    below_first = _spatial(nest, first.serves, role, relevant=False)  # multicast / reduction
    if role == "output":
        moves[0]["write_low"] = _accumulations(nest, role) // below_first
        moves[0]["read_low"] = moves[0]["write_low"] - nest.size(role)
    else:
        moves[0]["read_low"] = nest.macs // below_first // _held_at_mac(nest, role)
    for i, (level, parent) in enumerate(zip(levels, levels[1:])):
        visits = _visits(nest, role, level)
        between = _spatial(nest, parent.serves - level.serves, role, relevant=False)
        if role == "output":
            up = visits // between
            reloads = up - nest.size(role)
            finals[i] = not any(
                lp.dim not in RELEVANT[role] and lp.factor > 1
                for lp in _changing(nest, role, level)
            )
            moves[i]["read_high"] += visits
            moves[i]["write_high"] += reloads
            moves[i + 1]["write_low"] += up
            moves[i + 1]["read_low"] += reloads
        else:
            moves[i]["write_high"] += visits
            moves[i + 1]["read_low"] += visits // between
    return [Moves(**m, final_up=f) for m, f in zip(moves, finals)]


def transfer_sizes(nest: Nest, role: str) -> list[tuple[int, int]]:
    """Elements of `role` one instance of each level moves per transfer, innermost first, as
    (across its lower side, across its upper side): below, the tile of the level under it (one
    element at the MACs) times the used spatial axes it serves beyond that level; above, its own
    tile. ZigZag 3.9.1 rounds each such transfer up to whole port words (`accounting: zigzag`)."""
    levels = nest.levels[role]
    used = RELEVANT[role]
    sizes, below, served = [], 1, frozenset()
    for level in levels:
        fanout = math.prod(
            loop.factor
            for axis, loop in nest.spatial.items()
            if axis in level.serves - served and loop.dim in used
        )
        sizes.append((below * fanout, nest.tile_elements(role, level)))
        below, served = sizes[-1][1], level.serves
    return sizes
