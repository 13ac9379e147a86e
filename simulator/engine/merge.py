"""A memoized run's record added into the whole program's, renamed and shifted, once per repeat.

Every op runs in exactly one run, so a run's per-op entries (counts, busy cycles, DRAM and NoC
bytes) are new keys in the whole: laid out once per simulated run with their values as the whole's
zero-defaulted tables would hold them, a repeat only renames their keys (its counters not even
that: the whole keeps a reference to the run's, engine/counts.py). The tables over
components (busy, links, L2, stalls) are shared between runs and still add up entry by entry, in
the order the whole run adds them (float sums)."""

from collections import defaultdict
from itertools import repeat
from operator import add

from simulator.engine.counts import Collision, RunCounters, RunCounts
from simulator.engine.run import gap_causes
from simulator.engine.trace import Record

SHARED = ("busy", "interface_busy", "link_bytes", "link_busy", "l2_bytes", "hop_bytes")
"""Tables over components: every run adds into the same keys."""
PER_OP = ("op_busy", "op_dram")
"""Nested tables over ops (op -> key -> value) only the op's own run fills."""


def whole_record(trace: bool) -> Record:
    """An empty record for the whole program, its counters kept as runs (`RunCounts`)."""
    return Record(counts=RunCounts(), events=[] if trace else None)


class MergedRun:
    """A simulated run's record (cycles from the run's start) and the names of its ops, laid out
    for `add`; `first_use` is its engine's (unit -> the unit's first segment, see `fix_fill`)."""

    def __init__(self, part: Record, names: list[str], first_use: dict):
        index = self.index = {name: i for i, name in enumerate(names)}
        self.part, self.first_use = part, first_use
        self.counts = RunCounters(part.counts, index)
        self.nested = {
            table: [
                (index[op], [(key, 0 + value) for key, value in values.items()])
                for op, values in getattr(part, table).items()
                if values
            ]
            for table in PER_OP
        }
        self.op_noc = [(index[op], 0 + value) for op, value in part.op_noc.items()]
        self.op_stalls = [(index[op], causes) for op, causes in part.op_stalls.items()]
        self.spans = {
            table: ([index[op] for op in getattr(part, table)], list(getattr(part, table).values()))
            for table in ("op_start", "op_end")
        }
        self.events = part.events and [
            (track, name, index[op], start, end) for track, name, op, start, end in part.events
        ]
        self.fills: dict[tuple, tuple] = {}  # (unit, extra idle, idle start known) -> its moves

    def add(self, total: Record, names: list[str], offset: int) -> None:
        """Add the run into `total` (a `whole_record`) with op i named names[i], `offset`
        cycles in."""
        part = self.part
        total.counts.add(self.counts, names)
        for table, rows in self.nested.items():
            into = getattr(total, table)
            _fresh(into, ((names[i], defaultdict(int, items)) for i, items in rows), len(rows))
        _fresh(total.op_noc, ((names[i], value) for i, value in self.op_noc), len(self.op_noc))
        for table in SHARED:
            into = getattr(total, table)
            for key, value in getattr(part, table).items():
                into[key] += value
        for unit, causes in part.unit_stalls.items():
            for cause, cycles in causes.items():
                total.unit_stalls[unit][cause] += cycles
        for i, causes in self.op_stalls:  # fix_fill may have put the op's fill stall there
            for cause, cycles in causes.items():
                total.op_stalls[names[i]][cause] += cycles
        for table, (ops, cycles) in self.spans.items():
            getattr(total, table).update(
                zip(map(names.__getitem__, ops), map(add, repeat(offset), cycles))
            )
        if total.events is not None and self.events is not None:
            total.events.extend(
                (track, name, names[i], offset + start, offset + end)
                for track, name, i, start, end in self.events
            )
        total.steps += part.steps
        for unit, cause, cycle, cycles in part.stall_marks or ():
            total.stall(unit, offset + cycle, {cause: cycles})

    def fix_fill(self, total: Record, free_at: dict, offset: int, names: list[str]) -> None:
        """The run's engine saw each unit idle since cycle 0 of the run; the whole program saw it
        idle since its last segment. Move the difference to the cause the whole run would have
        named (worked out once per unit and idle time: repeats meet the same ones)."""
        for unit, (op, op_unit, previous, started, waited, gap) in self.first_use.items():
            extra = offset - free_at.get(unit, 0)
            if extra <= 0:
                continue
            known = unit in free_at and started
            moves = self.fills.get((unit, extra, known))
            if moves is None:
                fresh = gap_causes(gap, previous, False, waited) if gap > 0 else {}
                whole = gap_causes(gap + extra, previous, known, waited)
                causes = dict.fromkeys((*whole, *fresh))  # the whole run's order, not a set's
                deltas = ((c, whole.get(c, 0) - fresh.get(c, 0)) for c in causes)
                moves = self.fills[(unit, extra, known)] = tuple((c, d) for c, d in deltas if d)
            if not moves:
                continue
            stalls = total.unit_stalls[unit]
            for cause, delta in moves:
                stalls[cause] += delta
            total.stall(unit, offset + gap, dict(moves))  # where the fresh gap ended
            if unit == op_unit:
                stalls = total.op_stalls[names[self.index[op]]]
                for cause, delta in moves:
                    stalls[cause] += delta


def _fresh(into: dict, items, count: int) -> None:
    """The `count` pairs of `items` added to `into` as new keys (Collision where one is not)."""
    size = len(into)
    into.update(items)
    if len(into) != size + count:
        raise Collision("a run's op met another run's in the record")
