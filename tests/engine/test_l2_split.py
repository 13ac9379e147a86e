"""The L2 split (`_Engine._cache`) against a plain list LRU written here: on random batches of
loads and write-backs (repeated regions, forced misses, lines larger than the L2, several members'
buffers and kinds), the same hits and misses, per-part bytes, uniformity and resident lines."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine.run import Entry, _Engine
from simulator.mapping.program import Transfer
from simulator.mapping.shifted import line_key
from simulator.spec import load_arch
from tests.mapping.test_cta import gpu_doc

CAPACITY = 96 * 1024
BUFFERS = ("core0.smem", "core0.rmem", "core1.smem", "core2.smem")
OWNERS = {"core0.smem": "c", "core0.rmem": "c", "core1.smem": "c#1", "core2.smem": "c#2"}


def _engine() -> _Engine:
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["l2"] = {"kind": "sram", "capacity": "96 KiB", "banks": 16, "width": "64 B"}
    engine = _Engine((), build_machine(load_arch(doc)), False, {}, Entry())
    engine.owners["c"] = OWNERS  # a class's buffers -> its parts
    return engine


def _reference(lines: list, entries: list, reading: bool) -> tuple:
    """What the split should give, one entry at a time over a list of [key, bytes] lines
    (oldest first): (hit rows, miss rows, per-part bytes of each side, uniform, lines after)."""
    sides = ([], [])  # hits, misses: (part, buffer, transfer)
    for _, buffer, t in entries:
        key = (t.tensor, t.region)
        found = next((line for line in lines if line[0] == key), None)
        missed = True
        if reading and found is not None:
            lines.remove(found)
            lines.append(found)
            missed = t.miss
        sides[missed].append((OWNERS[buffer], buffer, t))
        if missed and found is None and t.dram_bytes <= CAPACITY:
            lines.append([key, t.dram_bytes])
            while sum(size for _, size in lines) > CAPACITY:
                lines.pop(0)
    parts = []
    uniform = all(t.kind == entries[0][2].kind for *_, t in entries)
    for rows in sides:
        mine: dict[str, list] = {}
        for part, buffer, t in rows:
            first = mine.setdefault(part, [buffer, 0])
            first[1] += t.dram_bytes
            uniform = uniform and first[0] == buffer
        parts.append(mine)
    return sides, parts, uniform


REGIONS = st.tuples(st.integers(0, 5), st.integers(0, 2))  # a small pool: regions repeat
LOADS = st.lists(
    st.tuples(
        st.sampled_from(("x.A", "x.B")),
        REGIONS,
        st.sampled_from(BUFFERS),
        st.sampled_from((8 * 1024, 24 * 1024, 40 * 1024, 128 * 1024)),  # the last: above the L2
        st.booleans(),
        st.sampled_from(("load", "load", "reload")),
    ),
    min_size=1,
    max_size=24,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), LOADS), min_size=1, max_size=8))
def test_the_l2_split_equals_a_list_lru_one_load_at_a_time(batches):
    """Every batch's hits and misses (rows in order, per-part first buffer and bytes, totals,
    uniformity) and the lines resident after it, oldest first, equal the list LRU's."""
    engine, lines = _engine(), []
    for reading, loads in batches:
        entries = [
            (
                None,
                buffer,
                Transfer(kind, tensor, ((r, r + 1), (c, c + 1)), buffer, size, 0, miss=miss),
            )
            for tensor, (r, c), buffer, size, miss, kind in loads
        ]
        hits, misses = engine._cache("c", entries, "read" if reading else "write")
        (hit_rows, miss_rows), parts, uniform = _reference(lines, entries, reading)
        assert (hits.rows, misses.rows) == (hit_rows, miss_rows)
        assert (hits.parts, misses.parts) == tuple(parts)
        assert (hits.total, misses.total) == (
            sum(t.dram_bytes for *_, t in hit_rows),
            sum(t.dram_bytes for *_, t in miss_rows),
        )
        assert hits.uniform == misses.uniform == uniform
        assert list(engine.l2_lines.items()) == [(line_key(*key), size) for key, size in lines]
        assert engine.l2_used == sum(size for _, size in lines)
