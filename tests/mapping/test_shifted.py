"""A CTA derived from an equal-shaped CTA on another core (mapping/shifted.py) equals the CTA
compiled for that core, field by field: its steps (regions, names, bytes, costs, signals), its
level rows and what the report reads."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import simulator.mapping.cta as cta
from simulator.components import build_machine
from simulator.mapping import compile_program
from simulator.spec import load_mapping, load_workload
from tests.mapping.test_cta import gpu


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
