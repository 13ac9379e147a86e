"""`accsim run` on a many-core chip: every core's rows folded into one row per part and per op
(sums equal to the per-core rows'), `--per-core` for every row, and the decode view's time by
op kind counting a partitioned op once."""

import re

import numpy as np
import pytest

from simulator.api import simulate
from simulator.cli import main
from simulator.cli.fold import core_ranges, fold_components, fold_core_times, fold_grouped
from simulator.spec import load_arch, load_mapping, load_workload


@pytest.fixture(scope="module")
def a100_gemm():
    return simulate(
        load_arch("a100-like"),
        load_workload("gemm:M=1024,N=1024,K=256,dtype=fp16"),
        load_mapping(None),
        numerics="off",
    )


def test_core_ranges():
    assert core_ranges([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"
    assert core_ranges([3]) == "3"


def test_energy_rows_fold_to_one_row_per_part_with_the_same_sums(a100_gemm):
    rows = a100_gemm.energy_by_action()
    folded = fold_grouped(rows, 3)
    cores = a100_gemm.machine.core_count
    per_part = {(re.sub(r"^core\d+\.", "", r[0]), r[1], r[2]) for r in rows}
    assert len(folded) == len(per_part) < len(rows)
    assert sum(r[4] for r in folded) == pytest.approx(sum(r[4] for r in rows), rel=1e-12)
    assert sum(r[3] for r in folded) == pytest.approx(sum(r[3] for r in rows), rel=1e-12)
    names = {r[0] for r in folded}
    assert f"core[0-{cores - 1}].tc" in names
    assert not any(re.match(r"^core\d+\.", name) for name in names)


def test_component_rows_fold_area_and_bytes_summed_utilization_averaged(a100_gemm):
    rows = a100_gemm.component_rows()
    folded = {row["component"]: row for row in fold_components(rows)}
    cores = a100_gemm.machine.core_count
    tc = [row for row in rows if re.match(r"^core\d+\.tc$", row["component"])]
    assert len(tc) == cores
    whole = folded[f"core[0-{cores - 1}].tc"]
    assert whole["area_mm2"] == pytest.approx(sum(row["area_mm2"] for row in tc))
    assert whole["utilization"] == pytest.approx(np.mean([row["utilization"] for row in tc]))
    assert (
        folded["hbm"]["read_bytes"]
        == next(r for r in rows if r["component"] == "hbm")["read_bytes"]
    )


def test_core_times_share_rows_of_equal_cores_or_give_min_mean_max():
    columns = ("compute", "idle")
    rows = [{"core": i, "compute": 10 if i < 3 else 7, "idle": 0} for i in range(5)]
    assert [name for name, _ in fold_core_times(rows, columns, most=4)] == ["0-2", "3-4"]
    varied = [{"core": i, "compute": i * i, "idle": 2 * i} for i in range(6)]
    stats = dict(fold_core_times(varied, columns, most=4))
    assert stats["min of 6"] == {"compute": 0, "idle": 0}
    assert stats["mean of 6"]["compute"] == pytest.approx(np.mean([i * i for i in range(6)]))
    assert stats["max of 6"] == {"compute": 25, "idle": 10}


def test_run_prints_folded_tables_and_every_core_with_per_core(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # cells on one line
    args = ["run", "a100-like", "gemm:M=1024,N=1024,K=256,dtype=fp16", "--no-numerics"]
    assert main(args) == 0
    folded = capsys.readouterr().out
    assert main([*args, "--per-core"]) == 0
    every = capsys.readouterr().out
    assert "core5.tc" in every and "core5.tc" not in folded
    assert "gemm@c5" in every and re.search(r"gemm \(\d+ parts\)", folded)
    assert len(folded.splitlines()) * 5 < len(every.splitlines())


def test_decode_time_by_kind_counts_a_partitioned_op_once():
    """On 132 SMs each projection is 128 parts: the time in GEMMs is the spans of the GEMMs, so
    no kind can take longer than the whole token (summing the parts gave 86x the token)."""
    report = simulate(
        load_arch("h100-like"), load_workload("llama-2-7b-decode"), None, numerics="off"
    )
    llm = report.summary["llm"]
    assert max(llm["op_seconds_by_kind"].values()) <= llm["itl_s"]
    spans = {}
    for op in report.program.ops:
        start, end = report.record.op_start[op.name], report.record.op_end[op.name]
        first, last = spans.get(op.group or op.name, (start, end))
        spans[op.group or op.name] = (min(first, start), max(last, end))
    gemms = {op.group or op.name for op in report.program.ops if op.kind == "gemm"}
    expected = sum(spans[g][1] - spans[g][0] for g in gemms) / report.clock_hz
    assert llm["op_seconds_by_kind"]["gemm"] == pytest.approx(expected)
