"""The summary's energy, area and power sums taken from plain rows equal what pandas computes
from the report's DataFrames, bit for bit (a sweep's rows must not move by an ulp)."""

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components.chip import DATAPATH_PART
from simulator.report import STATIC, power
from simulator.report.power import area_sums
from simulator.report.sums import EnergySums, descending, group_sums, grouped_sums
from simulator.sweep import load_sweep
from simulator.sweep.point import run_point

RUNS = [  # single-core, multi-op, host fallback, in-memory, multi-core, LLM phase
    ("edge-npu", "gemm-1024"),
    ("tpu-v1-like", "gemm-1024"),
    ("edge-npu", "resnet18"),
    ("edge-npu-host", "mobilenetv2"),
    ("isaac-like", "gemv-4096"),
    ("mesh-4x4", "gemm-256"),
    ("datacenter-hbm", "bert-base-ffn"),
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "(static)"]),
            st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_group_sums_are_pandas_groupby_sums(pairs, grouped):
    pairs = sorted(pairs, key=lambda p: p[0]) if grouped else pairs
    frame = pd.DataFrame(pairs, columns=["op", "energy_pj"])
    expected = frame.groupby("op")["energy_pj"].sum()
    got = group_sums(pairs)
    assert list(got) == list(expected.index)
    assert [float(v) for v in got.values()] == [float(v) for v in expected.values]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["x", "y"]),
            st.one_of(st.floats(min_value=-1e12, max_value=1e12), st.just(float("nan"))),
            st.floats(min_value=0, max_value=1e12),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
    st.booleans(),
)
def test_grouped_sums_are_pandas_multi_column_groupby_sums(rows, grouped, sort):
    rows = sorted(rows, key=lambda r: r[:2]) if grouped else rows
    frame = pd.DataFrame(rows, columns=["k1", "k2", "a", "b"])
    expected = frame.groupby(["k1", "k2"], sort=sort)[["a", "b"]].sum(min_count=1)
    got = grouped_sums(
        [r[:2] for r in rows], [[r[2] for r in rows], [r[3] for r in rows]], sort, min_count=1
    )
    assert list(got) == list(expected.index)
    for key, sums in got.items():
        assert repr([float(v) for v in sums]) == repr([float(v) for v in expected.loc[key]])


def _kahan_reference(values: list[float], min_count: int) -> float:
    """One group's Kahan-compensated sum in row order, NaN skipped, as pandas' group_sum loops."""
    total = carry = 0.0
    count = 0
    for value in values:
        if value != value:
            continue
        count += 1
        y = value - carry
        t = total + y
        carry = t - total - y
        carry = 0.0 if carry != carry else carry
        total = t
    return total if count >= min_count else float("nan")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 12),
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.floats(min_value=-1e6, max_value=1e6),
            ),
        ),
        max_size=120,
    ),
    st.integers(0, 2),
    st.booleans(),
)
def test_grouped_kahan_sums_equal_a_loop_per_group(rows, min_count, sort):
    """Where groups interleave, every group's sum (added for all groups at once) has the bits
    of a plain loop over that group's values in row order."""
    keys = [f"op{k}" for k, _ in rows]
    got = grouped_sums(keys, [[v for _, v in rows]], sort=sort, min_count=min_count)
    order = sorted(set(keys)) if sort else list(dict.fromkeys(keys))
    assert list(got) == order
    runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    in_order = runs == order  # every group's rows together, groups in the answer's order
    if in_order and not any(v != v for _, v in rows):
        return  # numpy's reduceat path, held to pandas above
    for key in order:
        expected = _kahan_reference([v for (_, v), k in zip(rows, keys) if k == key], min_count)
        assert repr(float(got[key][0])) == repr(expected)


@given(st.lists(st.sampled_from([0.0, 1.0, 2.5, float("nan")]), max_size=60))
def test_descending_is_pandas_sort_order(values):
    expected = pd.DataFrame({"v": values}).sort_values("v", ascending=False).index
    assert descending(values) == list(expected)


@pytest.mark.parametrize("arch, workload", RUNS)
def test_views_without_pandas_are_the_tables(arch, workload):
    """The rows `accsim run` prints equal the DataFrames' groupby views, value for value."""
    report = simulator.simulate(arch, workload, numerics=False)
    grouped = report.energy.groupby(["component", "part", "action"], sort=False)[
        ["count", "energy_pj"]
    ].sum()
    grouped = grouped.sort_values("energy_pj", ascending=False)
    expected = [(*key, *map(float, row)) for key, row in zip(grouped.index, grouped.to_numpy())]
    assert [(*r[:3], float(r[3]), float(r[4])) for r in report.energy_by_action()] == expected
    levels = report.levels.groupby(["level", "operand", "action"], sort=False)[
        ["elements", "accesses", "energy_pj"]
    ].sum(min_count=1)
    expected = [repr((*key, *map(float, row))) for key, row in zip(levels.index, levels.to_numpy())]
    assert [repr((*r[:3], *map(float, r[3:]))) for r in report.level_groups()] == expected
    records = report.components.to_dict("records")
    for lean, frame in zip(report.component_rows(), records, strict=True):
        assert lean == {k: None if v != v else v for k, v in frame.items()}  # NaN: no peak
    for lean, frame in zip(report.op_rows(), report.ops.to_dict("records"), strict=True):
        assert {k: v for k, v in frame.items() if v == v} == lean  # NaN: a detail the op lacks


@pytest.mark.parametrize("arch, workload", RUNS)
def test_sums_from_rows_are_the_tables_sums(arch, workload):
    report = simulator.simulate(arch, workload, numerics=False)
    own, clock = report._energy_rows
    assert clock, "every run here has clocked energy"
    rows, table = (
        EnergySums.from_rows(own + clock, STATIC),
        EnergySums.from_table(report.energy, STATIC),
    )
    assert rows == table
    area = report.area
    die = float(area[area.on_die].area_mm2.sum())
    datapath = float(area[area.part.isin(list(DATAPATH_PART.values()))].area_mm2.sum())
    assert area_sums(report._parts) == (die, datapath)
    assert report.power["peak_power_w"] == float(report.power_timeline.power_w.max())
    records = report.ops.to_dict("records")
    for lean, frame in zip(report.summary["ops"], _ops_by_group(report, records), strict=True):
        assert json.dumps(lean) == json.dumps(frame)


def _ops_by_group(report, records) -> list[dict]:
    """The summary's per-op fields as the DataFrame's records give them (their JSON types)."""
    by_name = {row["name"]: row for row in records}
    groups: dict[str, list] = {}
    for op in report.program.ops:
        groups.setdefault(op.group or op.name, []).append(op)
    out = []
    for name, parts in groups.items():
        start = min(report.record.op_start[p.name] for p in parts)
        cycles = max(report.record.op_end[p.name] for p in parts) - start
        macs = sum(p.macs for p in parts)
        moved = sum(by_name[p.name]["dram_bytes"] for p in parts)
        longest = max(parts, key=lambda p: by_name[p.name]["cycles"])
        out.append(
            {
                "name": name,
                "cycles": cycles,
                "bound": by_name[longest.name]["bound"],
                "dram_bytes": moved,
                "energy_pj": sum(by_name[p.name]["energy_pj"] for p in parts),
                "macs": macs,
                "mac_utilization": macs / (cycles * report.peak_macs_per_cycle) if cycles else 0.0,
                "arithmetic_intensity": sum(p.flops for p in parts) / moved
                if moved
                else float("inf"),
                "parts": len(parts),
            }
        )
    return out


def test_shipped_sweep_rows_match_the_table_sums():
    """Every point of the shipped array-vs-sram sweep: the row's energy and power columns are
    the DataFrame sums of that point's report."""
    sweep = load_sweep("array-vs-sram")
    for point in sweep.points[::7]:
        row = run_point(point)
        arch = simulator.load_arch(point.base.arch, point.overrides("arch"))
        report = simulator.simulate(arch, point.base.workload, numerics=False)
        energy, area = report.energy, report.area
        assert row["energy_pj"] == float(energy.energy_pj.sum())
        assert row["area_mm2"] == float(area[area.on_die].area_mm2.sum())
        seconds = report.seconds
        assert row["power.power_w"] == float(energy.energy_pj.sum() * 1e-12 / seconds)
        die_w = energy[energy.on_die].energy_pj.sum() * 1e-12 / seconds
        assert row["power.die_power_w"] == float(die_w)
        static = energy[energy.op == STATIC].energy_pj.sum()
        assert row["power.idle_power_w"] == float(static * 1e-12 / seconds)
        sums = EnergySums.from_table(energy, STATIC)  # the timeline from the DataFrame's sums
        line = power.timeline(sums, report._spans, report.cycles, report.clock_hz)
        assert row["power.peak_power_w"] == float(line.power_w.max())
