"""The energy rows built from shared templates and summed from their columns equal the rows
built counter by counter and summed row by row (the plain path), bit for bit, on random
counters of a GPU-like chip (NaN and infinite counts included); the vectorized power timeline
equals one spread op by op."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.report import STATIC, power
from simulator.report.sums import EnergySums, group_sums

COUNTS = st.one_of(
    st.integers(min_value=0, max_value=10**9),
    st.floats(min_value=0, max_value=1e12),
    st.sampled_from([float("nan"), float("inf"), 0.0, 4096.0, 4096]),
)


@pytest.fixture(scope="module")
def gpu_report():
    return simulator.simulate("a100-like", "gemm:M=256,N=512,K=256,dtype=fp16", numerics=False)


def _plain_rows(counts, leakage, machine, parts, seconds, voltage):
    """The energy rows counter by counter, as the report built them before templates."""
    simt = machine.arch.cores.kernels
    ungated = not machine.arch.chip.clock_gating
    rows = [
        (op, name, action, counts[(op, name, action)], machine.components[name].energy_pj(action))
        for op, name, action in sorted(counts)
    ]
    rows = [(*row, row[3] * row[4]) for row in rows] + leakage
    own = power._datapath_rows(rows, machine, voltage, simt, ungated)
    stated = {name for op, name, action, *_ in rows if op == STATIC and action == "leakage"}
    own += power._static_rows(stated, machine, parts, seconds, voltage)
    unclocked = (*(power.UNGATED_PARTS if ungated else ()), *power.OWN_CLOCK)
    clocked = group_sums(
        (op, float(energy))
        for op, _, part, *_, energy, on_die in own
        if on_die and op != STATIC and part not in unclocked
    )
    ratio = power.clock_share() / (1.0 - power.clock_share())
    clock = [
        (op, power.CHIP, "clock_network", "clock", float(e), ratio, float(e) * ratio, True)
        for op, e in clocked.items()
        if e
    ]
    return own, clock


@settings(max_examples=40, deadline=None)
@given(data=st.data(), voltage=st.sampled_from([1.0, 0.875]))
def test_templated_rows_and_sums_are_the_plain_ones(gpu_report, data, voltage):
    machine = gpu_report.machine
    pairs = sorted({(name, action) for _, name, action in gpu_report.record.counts})
    picked = data.draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=30))
    ops = st.sampled_from(["attn", "ffn.0", "ffn.1", "gemm"])
    counts = {(data.draw(ops), name, action): data.draw(COUNTS) for name, action in picked}
    # counters of other ops with the same component, action and count share a template; an
    # integer count and its equal float do not (the table's count column keeps each one's type)
    first = list(counts.items())[:5]
    counts |= {("zz", name, action): c for (_, name, action), c in first}
    counts |= {("zy", name, action): _twin(c) for (_, name, action), c in first}
    seconds = 1e-3
    leakage = [(STATIC, machine.dram.name, "leakage", seconds, 5e9, 5e6)]
    parts = gpu_report._parts
    own, clock = power.energy_rows(counts, leakage, machine, parts, seconds, voltage)
    plain_own, plain_clock = _plain_rows(counts, leakage, machine, parts, seconds, voltage)
    assert pickle.dumps(own.rows()) == pickle.dumps(plain_own)
    assert pickle.dumps(clock) == pickle.dumps(plain_clock)
    if clock:  # the columns' sums: the plain rows' sums
        expected = EnergySums.from_rows(plain_own + plain_clock, STATIC)
        assert pickle.dumps(power.energy_sums(own, clock)) == pickle.dumps(expected)


def _twin(count):
    """An equal count of the other type where there is one (4096 <-> 4096.0)."""
    if isinstance(count, int):
        return float(count)
    return (
        int(count)
        if count == count and abs(count) != float("inf") and count.is_integer()
        else count
    )


def _timeline_op_by_op(energy, spans, cycles, clock_hz, bins):
    """The power timeline's dynamic power, each op spread over its span in turn."""
    count = max(1, min(bins, cycles))
    edges = np.linspace(0.0, cycles, count + 1)
    dynamic = np.zeros(count)
    for op, pj in energy.dynamic_by_op.items():
        start, end = spans.get(op, (0, cycles))
        if end <= start:
            end = start + 1
        overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], start), 0, None)
        dynamic += pj * overlap / (end - start)
    return dynamic * 1e-12 / (np.diff(edges) / clock_hz)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 80),
    st.sampled_from([0.0, -0.0, float("inf"), float("nan")]),
    st.integers(1, 4000),
    st.integers(1, 300),
)
def test_timeline_is_the_op_by_op_spread(seed, count, special, cycles, bins):
    rng = np.random.default_rng(seed)
    energies = rng.uniform(-1e12, 1e12, count)
    energies[rng.random(count) < 0.1] = special
    by_op = {f"op{i}": pj for i, pj in enumerate(energies.tolist())}
    bounds = rng.integers(0, 5000, (count, 2)).tolist()  # some ends before their starts
    spans = {f"op{i}": tuple(b) for i, b in enumerate(bounds) if rng.random() < 0.8}
    energy = EnergySums(0.0, 0.0, 0.0, by_op, by_op)
    _, dynamic, _ = power.timeline_arrays(energy, spans, cycles, 1e9, bins)
    expected = _timeline_op_by_op(energy, spans, cycles, 1e9, bins)
    assert dynamic.tobytes() == expected.tobytes()
