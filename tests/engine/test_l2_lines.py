"""A class's members' loads split a line at a time (`_cache` with `moving`, engine/l2_lines.py)
against the same loads split one at a time (`members_located`, then `_cache`): on random batches
of members moving one leader step (offsets that coincide, so members share lines; forced misses;
lines larger than the L2; an L2 small enough to evict within a batch; reads and write-backs;
two leader loads of one tensor), the same hit and miss rows, per-part bytes, totals, uniformity,
resident lines in order, and counters; and whole class runs with both (and with members' ports
shared across memory nodes, `_Engine.one_port`) equal to runs without."""

import copy

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.components.noc import Noc
from simulator.engine.memo import execute
from simulator.engine.run import Entry, _Engine
from simulator.mapping import compile_program
from simulator.mapping.program import Step, Transfer
from simulator.mapping.shifted import _Mover, members_located, members_moving
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_tally import _record_state
from tests.mapping.test_cta import gpu_doc
from tests.mapping.test_shifted import CUT_GEMMS, a100_cut

CAPACITY = 96 * 1024
CORES = 6


class _Parts(dict):
    """A buffer's part: its core's (core 0: the class's own)."""

    def __missing__(self, buffer: str) -> str:
        core = int(buffer[4 : buffer.index(".")])
        return "c" if core == 0 else f"c#{core}"


def _engine() -> _Engine:
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["l2"] = {"kind": "sram", "capacity": "96 KiB", "banks": 16, "width": "64 B"}
    engine = _Engine((), build_machine(load_arch(doc)), False, {}, Entry())
    engine.owners["c"] = _Parts()
    return engine


OFFSETS = st.tuples(*(st.sampled_from((0, 1, 2)),) * 3)  # few values: members share lines
LOAD = st.tuples(
    st.sampled_from(("x.A", "x.B", "x.C")),
    st.tuples(st.integers(0, 3), st.integers(0, 2)),
    st.sampled_from((8 * 1024, 16 * 1024, 24 * 1024, 128 * 1024)),  # the last: above the L2
    st.booleans(),
    st.sampled_from(("load", "load", "reload")),
    st.sampled_from(("core0.smem", "core0.rmem")),
)
BATCH = st.tuples(
    st.booleans(),  # reading
    st.lists(LOAD, min_size=1, max_size=3),  # the leader's transfers
    st.lists(st.tuples(st.integers(1, CORES - 1), OFFSETS), min_size=1, max_size=8),
)


def _split(engine: _Engine, reading: bool, leader: Step, members: list, grouped: bool):
    """`_cache` of the class's own loads and its members' (views of `leader`), as `_dram`
    gives them to it: line by line where `grouped`, else located one by one."""
    movers: dict[tuple, _Mover] = {}
    peers = []
    for core, offsets in members:
        mover = movers.get((core, offsets))
        if mover is None:
            delta = dict(zip("MNK", offsets, strict=True))
            mover = movers[(core, offsets)] = _Mover(delta, "core0.", f"core{core}.")
        peers.append(mover.view(leader))
    transfers = leader.loads if reading else leader.stores
    entries = [(None, t.buffer, t) for t in transfers if t.dram_bytes]
    moving = members_moving(tuple(peers), not reading) if grouped else None
    if moving is None:
        members_located(tuple(peers), entries, stores=not reading)
    else:
        moving = (tuple(peers), *moving)
    return engine._cache("c", entries, "read" if reading else "write", moving)


@settings(max_examples=80, deadline=None)
@given(st.lists(BATCH, min_size=1, max_size=10))
def test_members_split_line_by_line_equal_load_by_load(batches):
    grouped, single = _engine(), _engine()
    for reading, loads, members in batches:
        transfers = tuple(
            Transfer(kind, tensor, ((r, r + 1), (c, c + 1)), buffer, size, 0, miss=miss)
            for tensor, (r, c), size, miss, kind, buffer in loads
        )
        leader = Step(transfers, (), (), ()) if reading else Step((), (), transfers, ())
        got = _split(grouped, reading, leader, members, True)
        want = _split(single, reading, leader, members, False)
        for mine, theirs in zip(got, want, strict=True):
            assert mine.rows == theirs.rows
            assert {p: tuple(v) for p, v in mine.parts.items()} == {
                p: tuple(v) for p, v in theirs.parts.items()
            }
            assert list(mine.parts) == list(theirs.parts)
            assert (mine.total, mine.uniform) == (theirs.total, theirs.uniform)
        assert list(grouped.l2_lines.items()) == list(single.l2_lines.items())
        assert grouped.l2_used == single.l2_used
        assert grouped.record.l2_bytes == single.record.l2_bytes
        assert list(grouped.record.counts.items()) == list(single.record.counts.items())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(64, 128, 8192, 12)  # split-K
@given(*CUT_GEMMS)
def test_class_runs_split_line_by_line_with_shared_ports_equal_load_by_load(m, n, k, cores):
    """a100-like cut to `cores` SMs (its pools queue): a class run whose members' loads are
    split line by line and whose members' ports are shared across memory nodes gives every
    Record field, key order and value type, of a run splitting load by load with ports worked
    out per memory node."""
    machine = build_machine(a100_cut(cores))
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    grouped = _record_state(execute(program, machine))
    with pytest.MonkeyPatch().context() as patch:
        patch.setattr(_Engine, "_split_lines", lambda *_: None)
        patch.setattr(Noc, "one_way_in", lambda _: False)
        assert grouped == _record_state(execute(program, machine))
