"""A core class's member loads split into L2 hits and misses a line at a time, not a load at a
time. Where every member moves one leader step, two members' loads of one leader transfer share
an L2 line exactly where their offsets agree, so a batch of m members' loads touches few lines
(a GEMM's members share A rows and B columns: mi300x-like's 608 loads a batch touch 35 lines).
The LRU is then updated once per line, and the batch's hit and miss rows and per-part bytes are
worked out once per (members, hit pattern) and reused. Exact: where a line the batch touches
would be evicted within it, `update` declines and the caller splits load by load (engine/run.py,
`_cache`)."""

from collections import OrderedDict


class Plan:
    """How a batch of members moving one leader step's transfers falls into L2 lines. Lines are
    numbered transfer by transfer (`offsets`: each leader transfer's distinct member offsets);
    `first` and `last` give them in first-use and last-use order, and `loads` each load's
    (line, part, buffer, transfer number) in batch order (member by member, transfer by
    transfer, as `members_located` gives them)."""

    __slots__ = ("offsets", "first", "last", "loads", "sizes", "patterns")

    def __init__(self, movers: tuple, located: list, owners: dict):
        seen: list[dict[tuple, int]] = [{} for _ in located]  # (down, across) -> its first use
        uses: list[tuple[int, tuple, str, str]] = []  # (number, offsets, part, buffer): loads
        for mover in movers:
            names = mover.names
            for number, (tensor, *_, buffer, _) in enumerate(located):
                _, _, down, across = mover.moves.get(tensor) or mover.move(tensor)
                seen[number].setdefault((down, across), len(uses))
                moved = names.get(buffer) or mover.name(buffer)
                uses.append((number, (down, across), owners[moved], moved))
        self.offsets = [list(offsets) for offsets in seen]
        numbers, first = {}, []  # (number, offsets) -> its line; each line's first use
        for number, offsets in enumerate(seen):
            for pair, use in offsets.items():
                numbers[(number, pair)] = len(first)
                first.append(use)
        self.first = sorted(range(len(first)), key=first.__getitem__)
        self.loads = [(numbers[(n, o)], part, buffer, n) for n, o, part, buffer in uses]
        final = {line: index for index, (line, *_) in enumerate(self.loads)}
        self.last = sorted(final, key=final.__getitem__)
        self.sizes: dict[tuple, list] = {}  # the transfers' bytes -> each line's
        self.patterns: dict[tuple, tuple] = {}  # see `sides`

    def keys(self, located: list) -> list[tuple]:
        """Each line's L2 key (tensor and moved bounds, as `line_key`), in line order."""
        keys: list[tuple] = []
        for (tensor, r0, r1, s0, s1, *_), offsets in zip(located, self.offsets):
            keys += [(tensor, r0 + d, r1 + d, s0 + a, s1 + a) for d, a in offsets]
        return keys

    def bytes(self, transfers: tuple) -> list[int]:
        """Each line's bytes (its transfer's), in line order."""
        nbytes = tuple(t.dram_bytes for t in transfers)
        sizes = self.sizes.get(nbytes)
        if sizes is None:
            sizes = self.sizes[nbytes] = [
                size for size, offsets in zip(nbytes, self.offsets) for _ in offsets
            ]
        return sizes

    def sides(self, transfers: tuple, reading: bool, resident: tuple) -> tuple:
        """For hits and for misses: (rows as (part, buffer, transfer number) in batch order,
        part -> (first buffer, bytes) in first-use order, bytes in all); and whether every part
        kept one buffer. A line's first load hits where it was resident and is not a forced
        miss; its later loads find it resident (its first load put it there); a write-back
        misses. Worked out once per (transfers' bytes and miss flags, hit pattern)."""
        pattern = (reading, resident, *((t.dram_bytes, t.miss) for t in transfers))
        sides = self.patterns.get(pattern)
        if sides is None:
            seen = [False] * len(self.first)
            rows: tuple[list, list] = ([], [])
            parts: tuple[dict, dict] = ({}, {})
            totals, uniform = [0, 0], True
            for line, part, buffer, number in self.loads:
                t = transfers[number]
                missed = 1
                if reading and (seen[line] or resident[line]):
                    missed = 1 if t.miss else 0
                seen[line] = True
                rows[missed].append((part, buffer, number))
                mine = parts[missed].setdefault(part, [buffer, 0])
                uniform = uniform and mine[0] == buffer
                mine[1] += t.dram_bytes
                totals[missed] += t.dram_bytes
            sides = self.patterns[pattern] = tuple(
                (rows[i], {p: tuple(mine) for p, mine in parts[i].items()}, totals[i])
                for i in (0, 1)
            ) + (uniform,)
        return sides


def update(
    lines: OrderedDict,
    used: int,
    capacity: int,
    keys: list,
    resident: tuple,
    plan: Plan,
    sizes: list,
    reading: bool,
) -> int | None:
    """Apply a batch's line uses to the LRU `lines` (key -> bytes) holding `used` bytes, as the
    batch's loads one at a time would: the evicted lines are the oldest ones not touched, the
    touched lines end in last-use order (reads; a write-back leaves a resident line in place and
    appends new ones in first-use order). Returns the bytes held after, or None (nothing changed)
    where an eviction would reach a line the batch touches: its loads then differ one by one."""
    added = sum(size for size, here in zip(sizes, resident) if not here)
    need = used + added - capacity
    if need > 0:  # the oldest lines go, none of them touched (else put back, in place)
        touched = {key for key, here in zip(keys, resident) if here}
        pop, evicted, freed = lines.popitem, [], 0
        while freed < need and lines:
            key, size = pop(last=False)
            evicted.append((key, size))
            if key in touched:
                break
            freed += size
        if freed < need:
            for key, size in reversed(evicted):
                lines[key] = size
                lines.move_to_end(key, last=False)
            return None
        used -= freed
    if reading:  # a resident line taken out and put back at the end keeps its bytes
        pop = lines.pop
        lines.update(
            [(keys[line], pop(keys[line]) if resident[line] else sizes[line]) for line in plan.last]
        )
    else:
        lines.update([(keys[line], sizes[line]) for line in plan.first if not resident[line]])
    return used + added
