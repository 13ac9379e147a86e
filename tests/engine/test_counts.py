"""A memoized record's counters kept as runs (engine/counts.py) read as the dict that adding
every run's entries one by one gives: the same entries in the same order, the same per-op groups
for the report, the same actions; an op met in two runs collides. And a memoized report's every
field is the one its counters give as a plain dict (the report's fast path against its plain
one), on multi-layer workloads of several chips."""

import dataclasses
import io
import pickle
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.engine.counts import Collision, RunCounters, RunCounts
from simulator.report import power

COMPONENTS = st.sampled_from(["sm0.tc", "sm1.tc", "l2", "hbm", "sm0.rf"])
ACTIONS = st.sampled_from(["mac_bf16", "read", "write", "leakage"])
COUNTS = st.one_of(st.integers(0, 10**9), st.floats(0, 1e12), st.just(float("nan")))


@st.composite
def runs(draw):
    """Simulated runs (their counters over ops op0..opN and those ops' names) and the order the
    whole adds them in, each repeat under fresh op names."""
    simulated = []
    for _ in range(draw(st.integers(1, 3))):
        ops = [f"op{i}" for i in range(draw(st.integers(1, 4)))]
        keys = st.tuples(st.sampled_from(ops), COMPONENTS, ACTIONS)
        counts = draw(st.dictionaries(keys, COUNTS, max_size=12))
        simulated.append((counts, {op: i for i, op in enumerate(ops)}, len(ops)))
    order = draw(st.lists(st.integers(0, len(simulated) - 1), min_size=1, max_size=6))
    return simulated, order


def _added(simulated, order):
    """(RunCounts, the plain dict of every entry added in turn) of the runs in `order`."""
    counters = [RunCounters(counts, index) for counts, index, _ in simulated]
    whole, plain = RunCounts(), defaultdict(float)
    for repeat, which in enumerate(order):
        names = [f"L{repeat}.{chr(97 + i)}" for i in range(simulated[which][2])]
        whole.add(counters[which], names)
        counts, index, _ = simulated[which]
        plain.update(((names[index[op]], c, a), 0.0 + n) for (op, c, a), n in counts.items())
    return whole, plain


@settings(max_examples=60, deadline=None)
@given(runs())
def test_runs_read_as_the_plain_dict(case):
    whole, plain = _added(*case)
    groups = [(op, rows) for op, _, rows in power.counter_groups(whole)]
    expected = [(op, rows) for op, _, rows in power.counter_groups(plain)]
    assert _pickled(groups) == _pickled(expected)
    assert power.counted_actions(whole) == power.counted_actions(plain)
    assert _pickled(list(whole.items())) == _pickled(list(plain.items()))
    assert whole.groups() is None  # read as a dict: the report takes the plain path
    whole[("new", "hbm", "read")] += 1.0  # the engine's zero default
    assert whole[("new", "hbm", "read")] == 1.0


def test_an_op_met_in_two_runs_collides():
    whole = RunCounts()
    run = RunCounters({("a", "hbm", "read"): 1, ("b", "l2", "read"): 2}, {"a": 0, "b": 1})
    whole.add(run, ["x", "y"])
    with pytest.raises(Collision):
        whole.add(run, ["z", "y"])


def _pickled(value) -> bytes:
    """`value` pickled without the pickler's memo: repeats share equal values (one list, one
    tuple), so compare values and types, not which equal values are one object."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer)
    pickler.fast = True
    pickler.dump(value)
    return buffer.getvalue()


def _fields(report) -> dict[str, bytes]:
    """Every table and view of `report`, pickled (`_pickled`)."""
    values = {name: getattr(report, name) for name in ("energy", "breakdown", "power_timeline")}
    values |= {name: getattr(report, name) for name in ("power", "components", "ops", "summary")}
    values |= {"energy_by_action": report.energy_by_action(), "op_rows": report.op_rows()}
    return {name: _pickled(value) for name, value in values.items()}


@pytest.mark.parametrize(
    "arch, layers",
    [("h100-like", 2), ("h100-like", 3), ("datacenter-hbm", 3), ("mesh-4x4", 2)],
)
def test_a_memoized_report_is_the_one_of_its_plain_counters(arch, layers):
    workload = simulator.load_workload("llama-2-7b-decode", [(["layers"], layers)])
    report = simulator.simulate(arch, workload, numerics=False)
    assert isinstance(report.record.counts, RunCounts)
    assert report.record.counts.groups() is not None  # the report did not need the dict
    fast = _fields(report)
    counts = defaultdict(float, report.record.counts.items())
    record = dataclasses.replace(report.record, counts=counts)
    plain = _fields(dataclasses.replace(report, record=record))
    assert fast == plain
