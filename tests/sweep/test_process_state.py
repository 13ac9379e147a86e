"""A sweep does not depend on what its process did before: the same bytes after other runs, the
collector's young generation held at a run's size in every process of the sweep, and workers
not waited for once their rows are in."""

import gc
import multiprocessing
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

import simulator
import simulator.sweep.run as sweep_run
from simulator.api import YOUNG
from simulator.sweep import load_sweep, run_sweep
from simulator.sweep.workers import reap, shared
from tests.sweep.test_sweep import sweep_dict


def test_a_sweep_writes_the_same_bytes_after_other_runs_in_its_process(tmp_path):
    """Caches a process fills with other runs (the auto mapper's rankings and estimates, tile
    costs, parsed specs) and its frozen and collected objects change no byte a sweep writes,
    inline or with a forked worker."""
    sweep = load_sweep(sweep_dict())
    before = {jobs: run_sweep(sweep, tmp_path / f"before{jobs}.csv", jobs=jobs) for jobs in (1, 2)}
    for arch in ("edge-npu", "tpu-v1-like"):  # other arrays and buffers, the same GEMM shapes
        simulator.simulate(arch, "gemm:M=64,N=64,K=64,dtype=int8", numerics=False)
    gc.freeze()  # a process that froze what it had (as `accsim` does at start-up)
    try:
        after = {
            jobs: run_sweep(sweep, tmp_path / f"after{jobs}.csv", jobs=jobs) for jobs in (1, 2)
        }
    finally:
        gc.unfreeze()
    for jobs in (1, 2):
        assert before[jobs].ran == after[jobs].ran == 6
        written = (tmp_path / f"after{jobs}.csv").read_bytes()
        assert written == (tmp_path / f"before{jobs}.csv").read_bytes()
    assert (tmp_path / "before1.csv").read_bytes() == (tmp_path / "before2.csv").read_bytes()


def threshold_rows(batch):
    """A worker's batch (`run_points`) that gives the collector's threshold its points ran under
    (module level: a worker finds it by name)."""
    return [threshold_row(point) for point in batch]


def threshold_row(point):
    young = gc.get_threshold()[0]
    return {"point": point.index, "key": point.key, "status": "ok", "error": None,
            "cycles": 1, "energy_pj": 1.0, "young": young}  # fmt: skip


def test_every_point_runs_with_a_young_generation_of_a_run_and_the_threshold_comes_back(
    tmp_path, monkeypatch
):
    """In this process and in the forked worker, every point sees the young generation at
    simulate()'s size, not the default 700 (at which each point's end set off a collection of its
    live report); the process's own threshold is restored when the sweep ends."""
    monkeypatch.setattr(sweep_run, "run_point", threshold_row)
    monkeypatch.setattr(sweep_run, "run_points", threshold_rows)
    threshold = gc.get_threshold()
    gc.set_threshold(700, *threshold[1:])
    try:
        for jobs in (1, 2):
            rows = run_sweep(sweep_dict(), tmp_path / f"r{jobs}.csv", jobs=jobs).table.rows
            assert [row["young"] for row in rows] == [YOUNG] * 6
            assert gc.get_threshold() == (700, *threshold[1:])
    finally:
        gc.set_threshold(*threshold)


def slow_exit(batch):
    """A worker's batch whose process lingers 2 s after sending its rows (a thread it must join
    before it exits, as the teardown of a big process takes time)."""
    threading.Thread(target=time.sleep, args=(2.0,)).start()
    return [{"point": point} for point in batch]


def test_the_rows_end_before_a_worker_has_exited_and_reap_waits_for_it():
    """`shared` returns once every row is in, not once the workers have exited (the caller writes
    its results while they tear down); `reap` then waits for them."""
    context = multiprocessing.get_context("fork")
    start = time.monotonic()
    rows = list(shared(list(range(8)), 1, context, lambda point: {"point": point}, slow_exit))
    assert time.monotonic() - start < 1.5
    assert sorted(row["point"] for row in rows) == list(range(8))
    (worker,) = multiprocessing.active_children()  # still exiting
    reap()
    assert worker.exitcode == 0 and not multiprocessing.active_children()


REAPER = """
import ctypes, os, subprocess, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come here
subprocess.run(sys.argv[1:], check=True, capture_output=True)
left = [p for p in os.listdir('/proc') if p.isdigit()
        and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[1] == str(os.getpid())]
for pid in left:
    os.waitpid(int(pid), 0)
print(len(left))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux child subreaper")
def test_accsim_sweep_leaves_no_process_behind(tmp_path):
    """`accsim sweep` draws a progress bar (a thread), so its workers come from a fork server,
    which starts a resource tracker: both are its children and are waited for before it exits.
    Run under a child subreaper, any process it left would be orphaned to the subreaper (else to
    PID 1, as a `<defunct>` entry where init does not reap)."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sweep_dict()))
    accsim = Path(sys.executable).with_name("accsim")
    command = [str(accsim), "sweep", str(path), "-o", str(tmp_path / "r.csv"), "--jobs", "2"]
    done = subprocess.run(
        [sys.executable, "-c", REAPER, *command], capture_output=True, text=True, timeout=300
    )
    assert done.stdout.strip() == "0", done.stderr[-2000:]


FORKED_CHILD = """
import os, sys, threading, time
from simulator.sweep import run
if __name__ == "__main__":
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()  # so: a fork server
    context = run._context()
    worker = context.Process(target=print, args=("worker",))
    worker.start()
    worker.join()
    if (child := os.fork()) == 0:
        sys.exit(0)  # a forked child leaving normally runs the hooks it inherited
    os.waitpid(child, 0)
    again = context.Process(target=print, args=("worker again",))
    again.start()
    again.join()
    run._stop_servers(os.getpid())  # stopped here, and again by the hook at exit
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="os.fork and a fork server")
def test_the_fork_server_hook_stops_only_the_servers_of_its_own_process():
    """A child forked from the process that started the fork server leaves it running (its hook
    does nothing there, where the servers are not its children); the owner's hook stops them,
    a second time doing nothing."""
    done = subprocess.run(
        [sys.executable, "-c", FORKED_CHILD], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["worker", "worker again"]
    assert "Error" not in done.stderr, done.stderr[-2000:]


def test_the_fork_server_hook_does_nothing_where_no_server_was_started():
    """Called where no sweep started a fork server or resource tracker: nothing to stop."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from simulator.sweep import run; "
            "run._stop_servers(os.getpid()); run._stop_servers(os.getpid())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
