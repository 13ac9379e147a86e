"""Sweeps: expansion, constraints, resumable results, failures as rows, Pareto fronts, Dask."""

import gc
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
import simulator.sweep.point as point_module
import simulator.sweep.run as sweep_run
from simulator import tech
from simulator.errors import SpecError
from simulator.spec import load_arch
from simulator.sweep import bases, load_sweep, pareto_front, read_results, run_sweep
from simulator.sweep.bases import load_spec
from simulator.sweep.point import warm
from simulator.sweep.results import journal_path
from simulator.sweep.workers import PointQueue, guided, shared
from tests.conftest import tiny_arch

GEMM = "gemm:M=64,N=64,K=64,dtype=int8"
SIZES = ["64 KiB", "128 KiB", "256 KiB", "1 MiB"]


def sweep_dict(**changes) -> dict:
    """Six points on the tiny arch: 3 array sizes x 2 SRAM sizes, a 64^3 int8 GEMM."""
    sweep = {
        "name": "tiny",
        "base": {"arch": tiny_arch(), "workload": GEMM},
        "grid": {
            "arch.components.pe.rows": [4, 8, 16],
            "components.buf.capacity": ["64 KiB", "1 MiB"],  # no prefix: the arch, as in --set
        },
        "objectives": {"cycles": "minimize", "energy_pj": "minimize"},
    }
    sweep.update(changes)
    return sweep


def stop_after(count: int):
    """A progress callback that interrupts the sweep, as Ctrl-C would, after `count` rows."""

    def progress(done, total, row):
        if done == count:
            raise KeyboardInterrupt

    return progress


def test_grid_runs_every_combination_in_order_with_canonical_parameter_columns():
    sweep = load_sweep(sweep_dict())
    assert sweep.parameters == ("arch.components.pe.rows", "arch.components.buf.capacity")
    assert [p.params for p in sweep.points][:3] == [
        {"arch.components.pe.rows": 4, "arch.components.buf.capacity": "64 KiB"},
        {"arch.components.pe.rows": 4, "arch.components.buf.capacity": "1 MiB"},
        {"arch.components.pe.rows": 8, "arch.components.buf.capacity": "64 KiB"},
    ]
    assert len({p.key for p in sweep.points}) == 6


def test_a_row_holds_the_same_numbers_as_simulating_the_edited_arch(tmp_path):
    results = run_sweep(sweep_dict(), tmp_path / "r.parquet", jobs=1).results
    arch = tiny_arch()
    arch["components"]["pe"]["rows"] = 16
    arch["components"]["buf"]["capacity"] = "64 KiB"
    summary = simulator.simulate(arch, GEMM, numerics=False).summary
    (row,) = results[
        (results["arch.components.pe.rows"] == 16)
        & (results["arch.components.buf.capacity"] == "64 KiB")
    ].to_dict("records")
    assert row["status"] == "ok"
    for metric in ("cycles", "energy_pj", "area_mm2", "dram_bytes", "mac_utilization"):
        assert row[metric] == summary[metric]
    for cause, cycles in summary["stall_cycles_by_cause"].items():
        assert row[f"stall_cycles_by_cause.{cause}"] == cycles
    assert row["n_ops"] == 1 and "ops" not in results.columns
    assert row["numerics_ok"] is None  # timing-only by default


def test_an_interrupted_sweep_resumes_and_ends_with_every_point_exactly_once(tmp_path):
    out = tmp_path / "r.parquet"
    sweep = load_sweep(sweep_dict())
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, out, jobs=1, progress=stop_after(2))
    saved = read_results(out)
    assert list(saved.key) == [p.key for p in sweep.points[:2]]
    assert not journal_path(out).exists()
    outcome = run_sweep(sweep, out, jobs=1)
    assert (outcome.already_done, outcome.ran) == (2, 4)
    assert sorted(outcome.results.key) == sorted(p.key for p in sweep.points)
    assert list(outcome.results.point) == list(range(6))
    assert run_sweep(sweep, out, jobs=1).ran == 0


def test_a_limited_run_then_a_full_one_runs_each_point_once(tmp_path):
    out = tmp_path / "r.csv"
    first = run_sweep(sweep_dict(), out, jobs=1, limit=4)
    second = run_sweep(sweep_dict(), out, jobs=1)
    assert (first.ran, second.ran, second.already_done) == (4, 2, 4)
    assert len(second.results) == 6 and second.results.key.is_unique


def test_rows_journaled_before_a_kill_are_not_run_again(tmp_path):
    full = run_sweep(sweep_dict(), tmp_path / "full.parquet", jobs=1).results
    out = tmp_path / "killed.parquet"
    # what a killed run leaves: two journaled rows and a line cut short, no results file yet
    lines = [json.dumps(row) for row in full.head(2).drop(columns="pareto").to_dict("records")]
    journal_path(out).write_text("\n".join(lines) + '\n{"point": 2, "ke')
    with pytest.warns(UserWarning, match=r"partial.jsonl:3: not a result row \(cut short"):
        outcome = run_sweep(sweep_dict(), out, jobs=1)
    assert (outcome.already_done, outcome.ran) == (2, 4)
    assert outcome.results.key.tolist() == full.key.tolist()


def test_failed_points_are_rows_with_their_error_and_are_not_rerun(tmp_path):
    # the smallest tile on an 8x8 array is M8 x N8 x K1: 2 x (8 + 8 + 64 x 4) = 544 B double-buffered
    grid = {"arch.components.pe.rows": [-4, 8], "arch.components.buf.capacity": ["256 B"]}
    sweep = sweep_dict(grid=grid)
    out = tmp_path / "r.parquet"
    results = run_sweep(sweep, out, jobs=1).results
    assert list(results.status) == ["failed", "failed"]
    assert "components.pe.rows: must be > 0, got -4" in results.error[0]
    assert "needs 544 B in buf but it holds 256 B" in results.error[1]
    assert run_sweep(sweep, out, jobs=1).ran == 0


def test_a_bad_first_point_fails_its_row_in_worker_processes(tmp_path):
    """The parent warms what every point reads from the first point before the workers fork
    (`warm`): an invalid first point warms nothing, still becomes its own failed row, and the
    others run."""
    grid = {"arch.components.pe.rows": [-4, 8]}
    results = run_sweep(sweep_dict(grid=grid), tmp_path / "r.parquet", jobs=2).results
    assert list(results.status) == ["failed", "ok"]
    assert "components.pe.rows: must be > 0, got -4" in results.error[0]


def test_a_value_its_units_reject_fails_its_point_with_the_schema_message(tmp_path):
    # '-2 GHz' has a unit, so the row would get a clock_hz column; parsing it must not crash
    grid = {"arch.clock": ["-2 GHz", "1 GHz"]}
    for jobs in (1, 2):
        results = run_sweep(sweep_dict(grid=grid), tmp_path / f"r{jobs}.parquet", jobs=jobs)
        assert list(results.results.status) == ["failed", "ok"]
        assert "clock: a frequency must not be negative, got '-2 GHz'" in results.results.error[0]
        assert results.results["arch.clock_hz"].tolist()[1] == 1e9


def test_crashed_points_are_run_again(tmp_path):
    out = tmp_path / "r.parquet"
    sweep = load_sweep(sweep_dict())
    crashed = {"point": 0, "key": sweep.points[0].key, "status": "crashed", "error": "KilledWorker"}
    journal_path(out).write_text(json.dumps(crashed) + "\n")
    outcome = run_sweep(sweep, out, jobs=1)
    assert outcome.ran == 6 and outcome.results.status.eq("ok").all()


def test_constraints_skip_points_without_running_them():
    constraints = [
        {"left": "arch.components.pe.rows", "op": "<=", "right": "arch.components.pe.cols"},
        {"left": "arch.components.buf.capacity", "op": ">=", "right": "128 KiB"},
        {"left": 4, "op": "divides", "right": "arch.components.pe.rows"},
    ]
    # a point that would fail if run: a 1-row array is skipped by 'divides' before it can fail
    grid = {
        "arch.components.pe.rows": [1, 4, 8, 16],
        "arch.components.buf.capacity": ["64 KiB", "1 MiB"],
    }
    sweep = load_sweep(sweep_dict(grid=grid, constraints=constraints))
    # cols is 8 in the base: rows 4 and 8 pass, 16 fails; 64 KiB fails the capacity bound
    assert [p.params["arch.components.pe.rows"] for p in sweep.points] == [4, 8]
    assert sweep.skipped == 6


def test_paths_route_like_set_overrides_and_zipped_axes_move_together(tmp_path):
    grid = {
        "arch.components.pe.rows, arch.components.pe.cols": [[4, 4], [8, 16]],
        "workload.ops.0.M": [32, 64],
        "mapping.dataflow": ["os"],
    }
    sweep = load_sweep(sweep_dict(grid=grid, base={"arch": tiny_arch(), "workload": GEMM}))
    results = run_sweep(sweep, tmp_path / "r.parquet", jobs=1).results
    assert len(results) == 4 and results.status.eq("ok").all()
    assert results["macs"].tolist() == [32 * 64 * 64, 64**3] * 2
    assert results["peak_macs_per_cycle"].tolist() == [16, 16, 128, 128]


def test_random_samples_are_seeded_in_range_and_deduplicated():
    spec = sweep_dict(
        grid=None,
        random={
            "samples": 40,
            "seed": 3,
            "parameters": {
                "arch.components.pe.rows": [4, 8],
                "arch.components.pe.cols": {"low": 2, "high": 64, "log": True, "integer": True},
            },
        },
    )
    first, again = load_sweep(spec), load_sweep(spec)
    assert [p.params for p in first.points] == [p.params for p in again.points]
    cols = [p.params["arch.components.pe.cols"] for p in first.points]
    assert all(2 <= c <= 64 and isinstance(c, int) for c in cols)
    pairs = [tuple(p.params.values()) for p in first.points]
    assert len(set(pairs)) == len(pairs) < 40  # 2 x 63 values, 40 draws: repeats run once
    other = load_sweep({**spec, "random": {**spec["random"], "seed": 4}})
    assert [p.params for p in other.points] != [p.params for p in first.points]


def test_explicit_points(tmp_path):
    points = [
        {"arch.components.pe.rows": 4},
        {"arch.components.pe.rows": 8, "workload.ops.0.K": 32},
    ]
    results = run_sweep(sweep_dict(grid=None, points=points), tmp_path / "r.csv", jobs=1).results
    assert results["macs"].tolist() == [64**3, 64 * 64 * 32]


def test_the_same_sweep_gives_the_same_rows(tmp_path):
    a = run_sweep(sweep_dict(), tmp_path / "a.parquet", jobs=1).results
    b = run_sweep(sweep_dict(), tmp_path / "b.parquet", jobs=2).results
    pd.testing.assert_frame_equal(a, b)


def test_dask_on_a_local_cluster_gives_the_same_rows_as_processes(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    processes = run_sweep(sweep_dict(), tmp_path / "p.parquet", jobs=2).results
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        dask = run_sweep(sweep_dict(), tmp_path / "d.parquet", scheduler=client).results
    pd.testing.assert_frame_equal(processes, dask)


def test_the_pareto_column_marks_the_front_of_the_objectives(tmp_path):
    results = run_sweep(sweep_dict(), tmp_path / "r.parquet", jobs=1).results
    front = pareto_front(results, {"cycles": "min", "energy_pj": "min"})
    assert results.index[results.pareto].tolist() == front.index.tolist()
    for row in results[~results.pareto].itertuples():
        assert ((front.cycles <= row.cycles) & (front.energy_pj <= row.energy_pj)).any()


def test_a_bad_sweep_file_is_a_one_line_error_with_its_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbase: {arch: edge-npu, workload: gemm-256}\ngird:\n  a.b: [1]\n")
    with pytest.raises(
        SpecError, match=r"s.yaml:3: gird: unknown key 'gird' \(did you mean 'grid'\?\)"
    ):
        load_sweep(path)
    with pytest.raises(SpecError, match="needs exactly one of grid, points or random, got none"):
        load_sweep({"name": "s", "base": {"arch": "edge-npu", "workload": "gemm-256"}})
    with pytest.raises(SpecError, match="no sweep preset or file of that name"):
        load_sweep("no-such-sweep")


def test_an_unknown_objective_stops_the_sweep_at_the_first_row(tmp_path):
    with pytest.raises(SpecError, match="objectives: no metric 'joules'"):
        run_sweep(sweep_dict(objectives={"joules": "minimize"}), tmp_path / "r.parquet", jobs=1)


def test_shipped_sweeps_load():
    sweep = load_sweep("array-vs-sram")
    assert sweep.points and sweep.spec.objectives


# ----- Pareto front on a hand-made table -------------------------------------------------------
TABLE = pd.DataFrame(
    {
        "latency": [1.0, 2.0, 3.0, 4.0, 2.0, 5.0, None, 1.0],
        "energy": [5.0, 3.0, 4.0, 1.0, 3.0, 5.0, 0.0, 6.0],
        "accuracy": [0.5, 0.9, 0.8, 0.1, 0.9, 0.95, 1.0, 0.6],
    }
)


def test_pareto_front_of_two_minimized_columns():
    # row 2 (3, 4) loses to row 1 (2, 3); row 5 (5, 5) to row 1; row 7 (1, 6) to row 0 (1, 5);
    # row 4 equals row 1, so neither beats the other; row 6 has no latency.
    front = pareto_front(TABLE, ["latency", "energy"])
    assert front.index.tolist() == [0, 1, 3, 4]


def test_pareto_front_with_a_maximized_column():
    # maximize accuracy too: row 5 (5, 5, 0.95) is now the most accurate, row 7 (1, 6, 0.6)
    # beats row 0 (1, 5, 0.5) on accuracy, row 2 is still beaten by row 1 on all three.
    front = pareto_front(TABLE, {"latency": "min", "energy": "minimize", "accuracy": "max"})
    assert front.index.tolist() == [0, 1, 3, 4, 5, 7]


def test_pareto_front_names_a_missing_column():
    with pytest.raises(SpecError, match="objective 'area': no such column"):
        pareto_front(TABLE, ["area"])


# ----- the sweep and plot commands, in process ---------------------------------------------------
def test_cli_sweep_then_plot(tmp_path, monkeypatch, capsys):
    from simulator.cli import main

    monkeypatch.setenv("TERM", "dumb")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        "name: s\n"
        "base: {arch: edge-npu, workload: 'gemm:M=128,N=128,K=128'}\n"
        "grid:\n  arch.components.mac_array.rows: [8, 16]\n  arch.components.mac_array.cols: [8, 16]\n"
        "objectives: {cycles: minimize, area_mm2: minimize}\n"
    )
    out = tmp_path / "r.parquet"
    assert main(["sweep", str(sweep), "-o", str(out), "-j", "1", "--limit", "3"]) == 0
    assert main(["sweep", str(sweep), "-o", str(out), "-j", "1"]) == 0
    text = capsys.readouterr().out
    assert "already in the results" in text and "Pareto front over cycles" in text
    assert len(read_results(out)) == 4
    html = tmp_path / "p.html"
    assert (
        main(["plot", str(out), "--x", "area_mm2", "--y", "cycles", "--pareto", "-o", str(html)])
        == 0
    )
    assert html.stat().st_size > 10_000
    assert main(["plot", str(out), "--x", "joules", "--y", "cycles", "-o", str(html)]) == 2
    assert "no column 'joules'" in capsys.readouterr().err


def test_cli_sweep_names_the_first_failed_point(tmp_path, monkeypatch, capsys):
    """Some points failing is a warning naming the first error; every point failing (a mistyped
    axis) is an error, status 2, not an empty front."""
    from simulator.cli import main

    monkeypatch.setenv("TERM", "dumb")
    base = "name: s\nbase: {arch: edge-npu, workload: 'gemm:M=64,N=64,K=64'}\ngrid:\n"
    some = tmp_path / "some.yaml"
    some.write_text(base + "  arch.components.mac_array.rows: [8, -8]\n")
    assert main(["sweep", str(some), "-o", str(tmp_path / "a.csv"), "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "1 of 2 points failed" in err and "components.mac_array.rows: must be > 0" in err
    typo = tmp_path / "typo.yaml"
    typo.write_text(base + "  arch.components.mac_arr.rows: [8, 16]\n")
    assert main(["sweep", str(typo), "-o", str(tmp_path / "b.csv"), "-j", "1"]) == 2
    err = capsys.readouterr().err
    assert "all 2 points run failed; the first:" in err and "components.mac_arr" in err
    assert len(err.strip().splitlines()) == 1


def test_a_script_read_from_stdin_can_use_worker_processes(tmp_path):
    # spawn and forkserver re-import __main__ in each worker, which a script on stdin cannot do
    script = (
        "from simulator.sweep import run_sweep\n"
        "from tests.sweep.test_sweep import sweep_dict\n"
        f"outcome = run_sweep(sweep_dict(), {str(tmp_path / 'r.parquet')!r}, jobs=2)\n"
        "print(sorted(set(outcome.results.status)))\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, cwd=root, timeout=120
    )
    assert done.stdout.strip() == "['ok']", done.stderr[-2000:]


def test_base_paths_are_read_from_the_sweep_files_folder(tmp_path, monkeypatch):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "tiny.yaml").write_text(yaml.safe_dump(tiny_arch()))
    (tmp_path / "specs" / "sweep.yaml").write_text(
        "name: s\nbase: {arch: tiny.yaml, workload: 'gemm:M=16,N=16,K=16'}\n"
        "points: [{arch.components.pe.rows: 4}]\n"
    )
    monkeypatch.chdir(tmp_path)  # not the sweep's folder
    (point,) = load_sweep("specs/sweep.yaml").points
    assert point.base.arch == str(tmp_path / "specs" / "tiny.yaml")


def test_numerics_true_checks_every_point(tmp_path):
    grid = {"arch.components.pe.rows": [4, 8]}
    results = run_sweep(
        sweep_dict(grid=grid, numerics=True), tmp_path / "r.parquet", jobs=1
    ).results
    assert results.numerics_ok.tolist() == [True, True]
    assert results.numerics_max_abs_error.tolist() == [0, 0]  # int8 x int8 -> int32 is exact


def test_swept_points_on_workers_equal_single_runs(tmp_path):
    """The shipped array-vs-sram sweep on 2 worker processes (forked with the parent's objects
    frozen out of the collector, memos filled across points) gives every point's single run."""
    sweep = load_sweep("array-vs-sram")
    frozen = gc.get_freeze_count()
    results = run_sweep(sweep, tmp_path / "r.parquet", jobs=2).results
    assert gc.get_freeze_count() == frozen  # the parent's collector is as it was
    assert len(results) == len(sweep.points) == 30
    for point in sweep.points[::4]:  # array shapes and SRAM sizes mixed
        arch = load_arch("edge-npu", point.overrides("arch"))
        summary = simulator.simulate(arch, "gemm-1024", numerics=False).summary
        (row,) = results[results.key == point.key].to_dict("records")
        assert row["status"] == "ok"
        for metric in ("cycles", "energy_pj", "area_mm2", "dram_bytes", "total_stall_cycles"):
            assert row[metric] == summary[metric], (point.params, metric)


def test_warming_before_the_fork_fills_bases_and_tech_tables_and_runs_no_point(monkeypatch):
    """`warm`: what every point of a sweep reads whatever its parameters (its base documents, the
    specs it does not override, the tech tables its chip reads) is filled without simulating; a
    point that cannot load raises nothing (its own run gives its failed row)."""
    simulated = []
    monkeypatch.setattr(point_module, "simulate", lambda *args, **kw: simulated.append(args))
    sweep = load_sweep("array-vs-sram")
    bases._KEPT.clear()
    tech.table.cache_clear()
    warm(sweep.points[0])
    kept = set(bases._KEPT[sweep.points[0].base.contents])
    assert {("document", "arch"), ("spec", "workload"), ("spec", "mapping")} <= kept
    assert tech.table.cache_info().currsize > 0
    assert not simulated
    warm(load_sweep(sweep_dict(grid={"arch.components.pe.rows": [-4]})).points[0])


def test_a_point_loads_the_specs_the_loaders_give_and_shares_those_it_does_not_override():
    """Points load from base documents parsed once per process; a spec a point does not
    override is validated once and shared (specs are frozen)."""
    first, second = load_sweep("array-vs-sram").points[:2]
    for point in (first, second):
        arch = load_spec(point.base, "arch", point.overrides("arch"))
        assert arch.model_dump() == load_arch("edge-npu", point.overrides("arch")).model_dump()
    workloads = [load_spec(p.base, "workload", p.overrides("workload")) for p in (first, second)]
    assert workloads[0] is workloads[1]
    assert workloads[0].model_dump() == simulator.load_workload("gemm-1024").model_dump()


def test_a_base_file_changed_between_two_sweeps_of_one_process_is_read_again(tmp_path):
    arch_file, sweep_file = tmp_path / "tiny.yaml", tmp_path / "sweep.yaml"
    sweep_file.write_text(
        f"name: s\nbase: {{arch: tiny.yaml, workload: '{GEMM}'}}\n"
        "grid: {arch.components.pe.rows: [4, 8]}\n"
    )
    for bandwidth in ("700 MB/s", "70 MB/s"):
        arch_file.write_text(yaml.safe_dump(tiny_arch(bandwidth=bandwidth)))
        out = tmp_path / f"{bandwidth.split()[0]}.csv"
        results = run_sweep(load_sweep(str(sweep_file)), out, jobs=1).results
        for rows, cycles in zip(results["arch.components.pe.rows"], results.cycles, strict=True):
            arch = tiny_arch(rows=int(rows), bandwidth=bandwidth)
            assert cycles == simulator.simulate(arch, GEMM, numerics=False).summary["cycles"]


@settings(max_examples=200, deadline=None)
@given(points=st.integers(0, 300), processes=st.integers(1, 8))
def test_guided_batches_shrink_to_single_points(points, processes):
    """Batches taken one after another from the points left: none larger than 16 points or half
    the points left per process (but at least one), never growing, ending in single points."""
    sizes, left = [], points
    while left:
        size = guided(left, processes)
        assert 1 <= size <= max(1, min(16, left / (2 * processes)))
        sizes.append(min(size, left))
        left -= sizes[-1]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-2 * processes :] == [1] * min(points, 2 * processes)


def death_mark(point) -> Path:
    """Where `dying` leaves word that a worker died on a batch holding `point` (a path the
    worker finds from the point alone: a fork server's or spawned worker sees no test state)."""
    return Path(tempfile.gettempdir()) / f"accsim-test-died-{point.key}"


def dying(batch):
    """A worker's batch (`run_points`) that dies at once, leaving word (`death_mark`)."""
    death_mark(batch[0]).touch()
    os._exit(1)  # the worker dies without sending the batch's rows


def test_a_worker_that_dies_crashes_its_batch_and_a_rerun_finishes_it(tmp_path, monkeypatch):
    """A worker process killed while running a batch: every point of the sweep still gets a row
    (the batch it held is 'crashed', this process runs the rest), and a second run runs just
    those again."""
    grid = {"arch.components.pe.rows": [4, 8, 16], "components.buf.capacity": SIZES}
    spec = sweep_dict(grid=grid)  # 12 points
    # the arch's name is in every point's key, so the marks are this run's alone: another test
    # run on the machine at the same time (same points) would otherwise touch and remove them
    spec["base"]["arch"]["name"] = f"tiny-{os.getpid()}-{time.monotonic_ns()}"
    sweep = load_sweep(spec)
    marks = [death_mark(point) for point in sweep.points]
    for mark in marks:
        mark.unlink(missing_ok=True)
    deadline = time.monotonic() + 60  # a bound: the assertions below say what went wrong

    def after_the_death(point):  # this process waits until the worker has died on its batch
        while time.monotonic() < deadline and not any(mark.exists() for mark in marks):
            time.sleep(0.05)
        return point_module.run_point(point)

    monkeypatch.setattr(sweep_run, "run_points", dying)
    monkeypatch.setattr(sweep_run, "run_point", after_the_death)
    first = run_sweep(sweep, tmp_path / "r.csv", jobs=2).results
    for mark in marks:
        mark.unlink(missing_ok=True)
    assert sorted(first.point) == list(range(12))
    statuses = dict(zip(first.point, first.status))
    crashed = [point for point, status in statuses.items() if status == "crashed"]
    assert crashed in ([0, 1], [0, 1, 2])  # its first batch: guided(11 or 12 points, 2)
    assert "WorkerDied" in first.error[0]
    monkeypatch.undo()
    again = run_sweep(sweep, tmp_path / "r.csv", jobs=2)
    assert again.ran == len(crashed)
    assert set(again.results.status) == {"ok"} and len(again.results) == 12


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 60),
    workers=st.integers(1, 3),
    turns=st.lists(st.integers(-1, 2), max_size=200),
)
def test_the_queue_hands_every_point_out_once_batches_from_the_front_singles_from_the_back(
    count, workers, turns
):
    """`PointQueue`, taken in any interleaving: this process (-1) takes single points from the
    back, in descending order; a worker takes contiguous guided batches from the front, and its
    claim is its last batch; every position is taken exactly once, then nothing is left."""
    queue = PointQueue(multiprocessing.get_context("spawn"), count, workers)
    taken, back, front = [], [], 0
    for turn in [*turns, *([-1] * count)]:
        if turn < 0:
            position = queue.back()
            if position is not None:
                assert position == count - 1 - len(back)
                back.append(position)
                taken.append(position)
            continue
        worker = turn % workers
        left = count - len(taken)
        batch = queue.front(worker, workers + 1)
        assert len(batch) == min(left, guided(left, workers + 1))
        assert batch.start == front and queue.claim(worker) == batch
        front = batch.stop
        taken += list(batch)
    assert sorted(taken) == list(range(count))
    assert queue.back() is None and not queue.front(0, workers + 1)


def stamped(batch):
    """A worker's batch that says which process ran it (module level: found by name)."""
    return [{"point": point, "pid": os.getpid()} for point in batch]


def test_this_process_runs_points_from_the_back_while_a_worker_takes_the_front():
    """`shared`: every point gives its row once, the worker's from the front and this process's
    from the back."""
    here = []

    def run_here(point):
        here.append(point)
        return {"point": point, "pid": os.getpid()}

    context = multiprocessing.get_context("fork")
    rows = list(shared(list(range(40)), 1, context, run_here, stamped))
    assert sorted(row["point"] for row in rows) == list(range(40))
    theirs = sorted(row["point"] for row in rows if row["pid"] != os.getpid())
    assert here == list(range(39, 39 - len(here), -1))  # from the back, one by one
    assert theirs == list(range(len(theirs)))  # batches from the front (each ends the sweep
    # first when the other process is held up: no share is promised)
