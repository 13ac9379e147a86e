"""A CTA derived from an equal-shaped CTA on another core (mapping/shifted.py) equals the CTA
compiled for that core, field by field: its steps (regions, names, bytes, costs, signals), its
level rows and what the report reads."""

import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import simulator.mapping.cta as cta
from simulator.components import build_machine
from simulator.engine.memo import execute
from simulator.mapping import compile_program
from simulator.mapping.program import Compute, Step, Transfer
from simulator.mapping.shifted import (
    Moved,
    _Mover,
    line_key,
    members_located,
    members_streamed,
)
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_memo import _plain
from tests.mapping.test_cta import gpu

ROOT = Path(__file__).resolve().parents[2]


def _parts(arch, workload, derived: bool, monkeypatch) -> list[list]:
    """Every part's steps, CTAs derived from their class's first core's or each walked itself."""
    with monkeypatch.context() as patch:
        if not derived:  # a class per core: no core has a leader to move
            shape_class = cta._shape_class
            patch.setattr(cta, "_shape_class", lambda work: repr((id(work), shape_class(work))))
        machine = build_machine(arch)
        program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    return [(_fields(op), list(op.levels()), list(op.steps())) for op in program.ops]


def _fields(op) -> tuple:
    """What the report reads off a part (its signature and shape class are the engine's keys)."""
    return (op.name, op.kind, op.macs, op.flops, op.unit, op.core, op.group, op.details)


@settings(max_examples=15, deadline=None)
@example(24, 24, 1280, 4, False)  # split-K: partials and a fixup
@example(24, 288, 320, 4, True)  # stream-K pieces
@given(
    st.integers(1, 12).map(lambda i: 24 * i),
    st.integers(1, 12).map(lambda i: 24 * i),
    st.integers(1, 32).map(lambda i: 40 * i),
    st.integers(2, 9),
    st.booleans(),
)
def test_derived_steps_equal_compiled_steps(m, n, k, cores, stream_k):
    """Edge tiles, split-K (partials, fixups), stream-K pieces and partial last waves included."""
    monkeypatch = pytest.MonkeyPatch()
    arch = gpu(cores, tiles=((32, 32), (64, 64)), stream_k=stream_k)
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    derived = _parts(arch, workload, True, monkeypatch)
    assert derived == _parts(arch, workload, False, monkeypatch)
    assert sum(len(steps) for *_, steps in derived) > 0


def _compiled_classes(arch, workload, monkeypatch):
    """The program as before derivation: every SM's CTAs compiled, with the shape classes the
    derived program has (so the engine groups the same classes)."""
    machine = build_machine(arch)
    derived, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    classes = {op.name: op.shape_class for op in derived.ops}
    with monkeypatch.context() as patch:
        shape_class = cta._shape_class
        patch.setattr(cta, "_shape_class", lambda work: repr((id(work), shape_class(work))))
        compiled, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    ops = tuple(dataclasses.replace(op, shape_class=classes[op.name]) for op in compiled.ops)
    return derived, dataclasses.replace(compiled, ops=ops), machine


def a100_cut(cores: int):
    """a100-like cut to `cores` SMs, its HBM, L2 and crossbar as they are (so the pools queue)."""
    spec = yaml.safe_load((ROOT / "archs" / "a100-like.yaml").read_text())
    spec["cores"]["count"] = cores
    spec["components"]["xbar"]["dims"] = [cores + 40]
    spec["components"]["xbar"]["memory_nodes"] = list(range(cores, cores + 40))
    return load_arch(spec)


CUT_GEMMS = (  # (M, N, K, SMs) for a100_cut: edge tiles, split-K and partial waves
    st.integers(1, 24).map(lambda i: 64 * i),
    st.integers(1, 24).map(lambda i: 64 * i),
    st.integers(1, 8).map(lambda i: 256 * i),
    st.integers(2, 24),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(64, 128, 8192, 12)  # split-K
@given(*CUT_GEMMS)
def test_class_runs_of_derived_ctas_equal_runs_of_compiled_ctas(m, n, k, cores):
    """a100-like cut to `cores` SMs (`a100_cut`): the run of the derived program equals the run
    with every CTA compiled, field by field."""
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    derived, compiled, machine = _compiled_classes(a100_cut(cores), workload, pytest.MonkeyPatch())
    got, want = (execute(p, machine, trace=True) for p in (derived, compiled))
    for table in ("cycles", "steps", "events_processed", "events"):
        assert getattr(got, table) == getattr(want, table), table
    for table in ("counts", "busy", "op_busy", "op_stalls", "unit_stalls", "op_start", "op_end"):
        assert _plain(getattr(got, table)) == _plain(getattr(want, table)), table
    for table in ("op_dram", "link_bytes", "link_busy", "hop_bytes", "l2_bytes"):
        assert _plain(getattr(got, table)) == _plain(getattr(want, table)), table


@settings(max_examples=10, deadline=None)
@example(24, 24, 1280, 4)  # split-K: fixups rewrite moved steps (dataclasses.replace on a view)
@example(96, 192, 120, 5)  # a class of several SMs
@example(24, 24, 1040, 4)  # split-K, one step a CTA: the fixup rewrites every member step
@given(
    st.integers(1, 12).map(lambda i: 24 * i),
    st.integers(1, 12).map(lambda i: 24 * i),
    st.integers(1, 32).map(lambda i: 40 * i),
    st.integers(2, 9),
)
def test_a_moved_step_reads_as_the_step_it_stands_for(m, n, k, cores):
    """Every field of a lazily moved step (and what the engine reads of a class member: its
    DRAM loads and stores located, its streamed DMA per segment) equals its built Step's;
    replacing a field makes that Step."""
    machine = build_machine(gpu(cores, tiles=((32, 32), (64, 64))))
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    views = [s for op in program.ops for s in op.steps() if isinstance(s, Moved)]
    leaders: dict = {}
    for op in program.ops:  # an SM's CTAs move to its class's first SM's, save a fixup's rewrites
        leader = leaders.setdefault(op.shape_class, op)
        for s in op.steps():
            moved = isinstance(s, Moved)
            assert not moved if leader is op else moved or bool(s.waits or s.signals)
    for view in views:
        step = view.step()
        for stores, built in ((False, step.loads), (True, step.stores)):
            assert _located((view,), stores) == _located((step,), stores) == _dram_view(built)
        assert type(step) is Step
        for field in dataclasses.fields(Step):
            assert getattr(view, field.name) == getattr(step, field.name), field.name
        assert [view.streamed(i) for i in range(len(step.computes))] == [
            c.streamed for c in step.computes
        ]
        assert view == step and step == view and repr(view) == repr(step)
        assert dataclasses.replace(view, waits=("x",)) == dataclasses.replace(step, waits=("x",))
        assert type(dataclasses.replace(view, waits=("x",))) is Step


def _located(peers, stores=False) -> list[tuple]:
    """`members_located` of `peers`, each transfer read as the engine reads it."""
    out: list = []
    members_located(peers, out, stores)
    return [
        (line_key(t.tensor, t.region) if key is None else key, buffer, t.kind, t.dram_bytes, t.miss)
        for key, buffer, t in out
    ]


def _dram_view(transfers) -> list[tuple]:
    """What `_located` should give for these (moved) Transfers: their DRAM ones, sends left out."""
    return [
        (line_key(t.tensor, t.region), t.buffer, t.kind, t.dram_bytes, t.miss)
        for t in transfers
        if t.dram_bytes and t.kind != "send"
    ]


def test_a_moved_step_moves_its_streamed_dma_without_its_segment():
    """A nest's segment streams DMA: moved alone, it is the moved segment's, region and buffer."""
    load = Transfer("load", "g.B", ((0, 8), (16, 32)), "core0.smem", 256, 256)
    segment = Compute("core0.pe", 10, (), 0, (), {"B": ((0, 8), (16, 32))}, streamed=(load,))
    source = Step((), (segment,), (), ())
    view = _Mover({"M": 64, "N": 32, "K": 8}, "core0.", "core3.").view(source)
    moved_load = Transfer("load", "g.B", ((8, 16), (48, 64)), "core3.smem", 256, 256)
    assert view.streamed(0) == (moved_load,) == view.step().computes[0].streamed
    assert members_streamed((view, source), 0) == (moved_load, load)
    assert view.step().computes[0].regions == {"B": ((8, 16), (48, 64))}


_RANGE = st.tuples(st.integers(0, 4096), st.integers(1, 256)).map(lambda r: (r[0], r[0] + r[1]))


_DELTA = st.fixed_dictionaries({d: st.sampled_from([0, 0, 8, 64, 4096]) for d in "MNK"})
_LOADS = st.lists(
    st.tuples(
        st.sampled_from("ABC"),
        _RANGE,
        _RANGE,
        st.sampled_from(["load", "reload", "send"]),
        st.sampled_from([0, 64]),
        st.booleans(),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_DELTA, st.booleans(), st.booleans()), min_size=1, max_size=5), _LOADS)
def test_members_located_loads_equal_their_moved_transfers(members, loads):
    """Members' loads located (a dim the move leaves in place kept as it is) equal the moved
    Transfers' L2 keys, buffers, kinds, bytes and miss flags, in member order, whichever dims
    move (random offsets, zero included), members moving one leader step or the other, and
    built steps among them; loads with no DRAM bytes and sends are left out."""
    transfers = tuple(
        Transfer(kind, f"g.{t}", (r, s), "core0.smem", nbytes, 64, None, 0, miss)
        for t, r, s, kind, nbytes, miss in loads
    )
    sources = (Step(transfers, (), (), ()), Step(transfers[::-1], (), (), ()))
    peers, expected = [], []
    for core, (delta, other, built) in enumerate(members, start=1):
        mover, source = _Mover(delta, "core0.", f"core{core}."), sources[other]
        moved = tuple(map(mover.transfer, source.loads))
        peers.append(Step(moved, (), (), ()) if built else mover.view(source))
        expected += _dram_view(moved)
    assert _located(tuple(peers)) == expected
