"""Run a sweep: resolve its points, skip finished ones, run the rest, journal each row as it lands.

Backends: inline (jobs=1), local worker processes (default; `workers.py`), or Dask distributed
(`scheduler`: 'local' for a LocalCluster, a scheduler address such as 'tcp://host:8786', or a
Client).
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import numbers
import os
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from multiprocessing import forkserver, resource_tracker
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.api import rarer_collections
from simulator.errors import SpecError
from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.system import one_chip
from simulator.sweep.point import (
    Base,
    Point,
    contents_key,
    crashed_row,
    point_key,
    run_point,
    run_points,
    warm,
)
from simulator.sweep.results import (
    Journal,
    OutputLock,
    check_output,
    consolidate,
    finished_keys,
    stored_rows,
)
from simulator.sweep.spec import (
    SweepSpec,
    check_counts,
    expand,
    point_count,
    read_sweep,
    satisfies,
)
from simulator.sweep.table import ResultsTable
from simulator.sweep.workers import reap, shared

if TYPE_CHECKING:  # a sweep that writes CSV never builds a DataFrame (a lean process to fork)
    import pandas as pd

MAX_POINTS = 100_000
"""Most points a sweep may expand to (each is resolved and hashed before any runs); --max-points."""
CONNECT_TIMEOUT_S = 10
"""How long to try reaching a Dask scheduler before giving up."""


@dataclass(frozen=True)
class Sweep:
    """A sweep file resolved into points, in a stable order, with its constraint-skipped count."""

    spec: SweepSpec
    source: str
    parameters: tuple[str, ...]
    points: tuple[Point, ...]
    skipped: int


@dataclass(frozen=True)
class SweepOutcome:
    """What one run of a sweep did, and the whole results table afterwards."""

    output: Path
    points: int
    skipped: int
    already_done: int
    ran: int
    failed: int
    table: ResultsTable

    @property
    def results(self) -> pd.DataFrame:
        """The whole results table as a DataFrame (built on first use: writing CSV needs none)."""
        return self.table.frame


def load_sweep(ref: str | Path | dict, max_points: int = MAX_POINTS) -> Sweep:
    """Read a sweep (preset name, path or dict), load its base specs once and expand its points
    (at most `max_points`: a bigger sweep is refused before any point is made)."""
    check_counts(max_points=max_points)
    spec, folder = read_sweep(ref)
    source = str(ref) if not isinstance(ref, dict) else "<sweep dict>"
    count = point_count(spec)
    if count > max_points:
        raise SpecError(
            f"{source}: {count:,} points, above the limit of {max_points:,}; split the sweep, "
            "use random samples, or raise the limit with --max-points"
        )
    refs = {
        kind: _relative(getattr(spec.base, kind), folder)
        for kind in ("arch", "workload", "mapping")
    }
    serving = spec.base.serving.model_dump(mode="json") if spec.base.serving else None
    loaded = {"arch": one_chip(load_arch(refs["arch"]), "a sweep")}
    if serving is None:
        loaded.update(
            workload=load_workload(refs["workload"]), mapping=load_mapping(refs["mapping"])
        )
    resolved = {kind: model.model_dump(mode="json") for kind, model in loaded.items()}
    if serving is not None:
        loaded["serving"] = resolved["serving"] = serving
    base = Base(
        refs["arch"], refs["workload"], refs["mapping"], spec.numerics, spec.seed,
        contents_key(resolved), serving,
    )  # fmt: skip
    try:
        expanded = expand(spec)
    except SpecError as error:  # a parameter path of this file
        raise SpecError(f"{source}: {error}") from None
    points, seen, skipped = [], set(), 0
    for params in expanded:
        if not satisfies(spec.constraints, params, loaded, source):
            skipped += 1
            continue
        key = point_key(resolved, params, base)
        if key not in seen:  # identical points (repeated random samples) run once
            seen.add(key)
            points.append(Point(len(points), key, params, base))
    if not points and skipped:
        raise SpecError(f"{source}: constraints: all {skipped:,} points are excluded; none to run")
    parameters = dict.fromkeys(name for params in expanded for name in params)
    return Sweep(spec, source, tuple(parameters), tuple(points), skipped)


def run_sweep(
    sweep: Sweep | str | Path | dict,
    output: str | Path,
    *,
    jobs: int | None = None,
    scheduler: Any = None,
    limit: int | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
) -> SweepOutcome:
    """Run the points of `sweep` not yet in `output`, appending each row as it finishes.

    jobs: processes that run points (default: CPU count), this one included: jobs - 1 workers
    fork, 1 runs inline. scheduler: None for processes,
    'local' for a Dask LocalCluster, a scheduler address, or a dask.distributed Client.
    limit: run at most this many new points. progress(done, total, row) is called per row; it may
    raise (KeyboardInterrupt included) to stop, and every finished row is kept.
    """
    sweep = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    check_counts(jobs=jobs, limit=limit)
    if not isinstance(output, str | Path):
        raise SpecError(f"output={output!r}: give a path ending in .parquet or .csv")
    output = Path(output)
    check_output(output)
    lock = OutputLock(output)  # another sweep writing here: a SpecError, before any work
    done = finished_keys(stored_rows(output))
    todo = [p for p in sweep.points if p.key not in done]
    todo = todo[:limit] if limit is not None else todo
    failed = ran = 0
    journal = Journal(output)
    rows = _backend(todo, jobs, scheduler)
    try:
        for row in rows:
            journal.append(row)
            ran += 1
            failed += row["status"] != "ok"
            if row["status"] == "ok":
                _check_objectives(sweep, row)
            if progress is not None:
                progress(ran, len(todo), row)
    finally:
        rows.close()  # stop the workers now: cancel pending points, wait for running ones
        journal.close()
        results = consolidate(output, list(sweep.parameters), sweep.spec.objectives)
        reap()  # workers that exited while the results were written
        lock.release()
    already = sum(p.key in done for p in sweep.points)
    return SweepOutcome(output, len(sweep.points), sweep.skipped, already, ran, failed, results)


def _backend(points: list[Point], jobs: int | None, scheduler) -> Generator[dict]:
    if scheduler is not None:
        return _dask(points, jobs, scheduler)
    if jobs == 1 or len(points) <= 1:
        return _inline(points)
    return _processes(points, jobs or os.cpu_count() or 1)


def _inline(points: list[Point]) -> Generator[dict]:
    """Rows of `points` run one after another in this process, with the cycle collector's young
    generation held at a run's size (`rarer_collections`, see `_processes`)."""
    with rarer_collections():
        yield from (run_point(point) for point in points)


def _processes(points: list[Point], jobs: int) -> Generator[dict]:
    """Rows as `jobs` processes finish them, this one among them (jobs - 1 workers start);
    points not yet begun are dropped when the caller stops.

    Before the workers fork, this process warms what every point reads whatever its parameters
    (`warm`: the base specs parsed, the tech tables, the chip's parts): they inherit it instead
    of each filling its own, and no point runs here alone. The points are shared through one
    queue (`workers.shared`): the workers take batches of neighbouring points from the front (a
    grid's neighbours differ in its last parameters only, so a worker reuses what the previous
    point of its batch filled: the mapper's ranking of one array for every SRAM size), this
    process single points from the back.
    The parent's objects are frozen out of the garbage collector while the points run: a forked
    worker then never walks them in a full collection (about a fifth of a fresh worker's CPU on
    the array-vs-sram sweep) nor copies their pages by touching them, and this process's own
    points do not walk them either. Every point, here and in the workers (they inherit it),
    runs with the young generation at a run's size (`rarer_collections`) from the first point
    to the last: at the default, the end of each point's simulate() set off a collection that
    walked its report while still alive; now a collection comes every few points and walks
    little more than what the finished points left, whatever this process did before."""
    thaw = not gc.get_freeze_count()  # else the command line froze its start-up: left so
    gc.freeze()  # what the command built since start-up (the sweep, its points) too; before
    warm(points[0])  # warming, whose objects may set off a full collection (about 0.1 s here:
    gc.freeze()  # the validators' schemas), and after it, for what it filled
    try:
        workers = min(jobs - 1, len(points))
        with rarer_collections():
            yield from shared(points, workers, _context(), run_point, run_points)
    finally:
        if thaw:
            gc.unfreeze()


def _context():
    """fork while this process has one thread (scripts, stdin, no __main__ guard needed); with
    threads alive (Jupyter, a Dask client) fork is unsafe, so forkserver with accsim preloaded."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["simulator.sweep.point"])
        atexit.unregister(_stop_servers)  # registered once, however many sweeps run
        atexit.register(_stop_servers, os.getpid())
        return context
    return multiprocessing.get_context("spawn")


def _stop_servers(owner: int) -> None:
    """Stop the fork server and the resource tracker it started and wait for them, at exit: they
    are this process's children and would otherwise outlive it, orphaned to an init that may
    never reap them (two `<defunct>` processes under PID 1 after each `accsim sweep`). Kept
    running until then, so the sweeps of one session share one fork server. multiprocessing
    offers no public call for this; `_stop` is the one its own tests use. Only in `owner`, the
    process that started them: a child forked from it inherits this hook, and waiting there for
    processes that are not its children raised ChildProcessError at its exit."""
    if os.getpid() != owner:
        return
    forkserver._forkserver._stop()
    resource_tracker._resource_tracker._stop()


def _dask(points: list[Point], jobs: int | None, scheduler) -> Generator[dict]:
    """Rows as Dask workers finish them; a LocalCluster or Client made here is closed afterwards."""
    from dask.distributed import Client, LocalCluster, as_completed

    owned = []
    if isinstance(scheduler, Client):
        client = scheduler
    elif scheduler == "local":
        cluster = LocalCluster(
            n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)
        owned = [client, cluster]
    else:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as error:  # ValueError: no address
            raise SpecError(f"--scheduler {scheduler}: cannot connect: {error}") from None
        owned = [client]
    size = batch_size(len(points), jobs or sum(client.nthreads().values()) or 1)
    batches = [points[i : i + size] for i in range(0, len(points), size)]
    futures = {
        client.submit(run_points, b, key=f"accsim-points-{b[0].key}-{len(b)}", pure=False): b
        for b in batches
    }
    try:
        for future in as_completed(futures):
            try:
                yield from future.result()
            except Exception as error:  # a lost worker: its points are crashed rows, rerun later
                yield from (crashed_row(point, error) for point in futures[future])
    finally:
        client.cancel(list(futures))
        for resource in owned:
            resource.close()


def batch_size(points: int, workers: int) -> int:
    """Points per Dask task: about 20 tasks per worker, at most 16 points (rows land in batches)."""
    return max(1, min(16, points // (20 * workers)))


def _check_objectives(sweep: Sweep, row: dict) -> None:
    missing = [name for name in sweep.spec.objectives if name not in row]
    if missing:
        metrics = ", ".join(k for k in row if k not in sweep.parameters)
        raise SpecError(f"{sweep.source}: objectives: no metric {missing[0]!r}; metrics: {metrics}")
    words = [name for name in sweep.spec.objectives if not _numeric(row[name])]
    if words:  # a word or a table has no order: the Pareto front would silently be empty
        raise SpecError(
            f"{sweep.source}: objectives.{words[0]}: not a number (a point gives "
            f"{str(row[words[0]])[:40]!r}); objectives are numeric metrics"
        )


def _numeric(value) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def _relative(ref, folder: Path):
    """A relative file path in a sweep file is read from the sweep file's folder when it is there."""
    if isinstance(ref, str) and Path(ref).suffix in (".yaml", ".yml", ".json"):
        candidate = folder / ref
        if candidate.is_file():
            return str(candidate)
    return ref
