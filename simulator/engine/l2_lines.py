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
    """How a batch of members moving one leader step's transfers falls into L2 lines: the
    distinct (transfer number, offsets) lines in first-use order, the lines in last-use order,
    and each load's (line, part, buffer, transfer number) in batch order (member by member,
    transfer by transfer, as `members_located` gives them)."""

    __slots__ = ("lines", "last", "loads", "patterns")

    def __init__(self, movers: tuple, located: list, owners: dict):
        numbers: dict[tuple, int] = {}
        self.lines: list[tuple[int, int, int]] = []
        last: dict[int, int] = {}
        self.loads: list[tuple[int, str, str, int]] = []
        for mover in movers:
            names = mover.names
            for number, (tensor, *_, buffer, _) in enumerate(located):
                _, _, down, across = mover.moves.get(tensor) or mover.move(tensor)
                line = numbers.setdefault((number, down, across), len(numbers))
                if line == len(self.lines):
                    self.lines.append((number, down, across))
                last[line] = len(self.loads)
                moved = names.get(buffer) or mover.name(buffer)
                self.loads.append((line, owners[moved], moved, number))
        self.last = sorted(last, key=last.__getitem__)
        self.patterns: dict[tuple, tuple] = {}  # see `sides`

    def keys(self, located: list) -> list[tuple]:
        """Each line's L2 key (tensor and moved bounds, as `line_key`), first use first."""
        return [
            (
                located[n][0],
                located[n][1] + d,
                located[n][2] + d,
                located[n][3] + a,
                located[n][4] + a,
            )
            for n, d, a in self.lines
        ]

    def sides(self, transfers: tuple, reading: bool, resident: tuple) -> tuple:
        """For hits and for misses: (rows as (part, buffer, transfer number) in batch order,
        part -> (first buffer, bytes) in first-use order, bytes in all); and whether every part
        kept one buffer. A line's first load hits where it was resident and is not a forced
        miss; its later loads find it resident (its first load put it there); a write-back
        misses. Worked out once per (transfers' bytes, kinds and miss flags, hit pattern)."""
        pattern = (reading, resident, *((t.dram_bytes, t.miss) for t in transfers))
        sides = self.patterns.get(pattern)
        if sides is None:
            seen = [False] * len(self.lines)
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
    transfers: tuple,
    reading: bool,
) -> int | None:
    """Apply a batch's line uses to the LRU `lines` (key -> bytes) holding `used` bytes, as the
    batch's loads one at a time would: the evicted lines are the oldest ones not touched, the
    touched lines end in last-use order (reads; a write-back leaves a resident line in place and
    appends new ones in first-use order). Returns the bytes held after, or None (nothing changed)
    where an eviction would reach a line the batch touches: its loads then differ one by one."""
    inserted = [
        transfers[number].dram_bytes for (number, *_), here in zip(plan.lines, resident) if not here
    ]
    need = used + sum(inserted) - capacity
    evicted = 0
    if need > 0:
        touched = {key for key, here in zip(keys, resident) if here}
        freed = 0
        for key, size in lines.items():
            if key in touched:
                return None
            freed += size
            evicted += 1
            if freed >= need:
                break
        else:
            return None
        for _ in range(evicted):
            used -= lines.popitem(last=False)[1]
    if reading:
        to_end = lines.move_to_end
        for line in plan.last:
            if resident[line]:
                to_end(keys[line])
            else:
                lines[keys[line]] = transfers[plan.lines[line][0]].dram_bytes
    else:
        for line, here in enumerate(resident):
            if not here:
                lines[keys[line]] = transfers[plan.lines[line][0]].dram_bytes
    return used + sum(inserted)
