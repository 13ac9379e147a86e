"""A memoized run's record added into the whole (engine/merge.py), by hand: per-op entries renamed
and new, component tables summed, spans shifted; a run's ops met twice fall back (Collision)."""

import pytest

from simulator.engine.merge import Collision, MergedRun, whole_record
from simulator.engine.trace import Record


def _part() -> Record:
    """A run of ops a and b: a on core0's array, b moving bytes."""
    part = Record()
    part.counts[("a", "core0.mxu", "mac")] += 64
    part.counts[("b", "dram", "read")] += 128
    part.busy["core0.mxu"] += 10.5
    part.unit_stalls["core0.mxu"]["fill"] += 3
    part.op_busy["a"]["core0.mxu"] += 10
    part.op_busy["b"]  # touched, empty: stays out of the whole
    part.op_dram["b"]["load"] += 128
    part.op_stalls["a"]["fill"] += 3
    part.op_noc["b"] += 32
    part.op_start.update(a=0, b=2)
    part.op_end.update(a=13, b=20)
    part.steps, part.cycles = 4, 20
    return part


def test_a_run_added_twice_under_two_names():
    total = whole_record(False)
    run = MergedRun(_part(), ["a", "b"], {})
    run.add(total, ["a", "b"], 0)
    run.add(total, ["x", "y"], 20)
    assert total.counts == {
        ("a", "core0.mxu", "mac"): 64.0,
        ("b", "dram", "read"): 128.0,
        ("x", "core0.mxu", "mac"): 64.0,
        ("y", "dram", "read"): 128.0,
    }
    assert all(type(count) is float for count in total.counts.values())
    assert total.busy == {"core0.mxu": 21.0}
    assert total.unit_stalls == {"core0.mxu": {"fill": 6}}
    assert total.op_busy == {"a": {"core0.mxu": 10}, "x": {"core0.mxu": 10}}
    assert total.op_dram == {"b": {"load": 128}, "y": {"load": 128}}
    assert total.op_stalls == {"a": {"fill": 3}, "x": {"fill": 3}}
    assert total.op_noc == {"b": 32, "y": 32}
    assert total.op_start == {"a": 0, "b": 2, "x": 20, "y": 22}
    assert total.op_end == {"a": 13, "b": 20, "x": 33, "y": 40}
    assert total.steps == 8
    total.op_busy["z"]["core0.mxu"] += 1  # the whole's tables keep their zero defaults
    total.op_busy["x"]["dram"] += 1
    assert total.op_busy["x"] == {"core0.mxu": 10, "dram": 1}


def test_a_run_whose_ops_are_already_in_the_whole_collides():
    total = whole_record(False)
    run = MergedRun(_part(), ["a", "b"], {})
    run.add(total, ["a", "b"], 0)
    with pytest.raises(Collision):
        run.add(total, ["a", "c"], 20)
