"""A sweep's points shared by this process and its worker processes, without a pool's threads.

The points left are the range [front, back) of one queue in shared memory: each worker takes
guided batches from the front (neighbouring points, so it reuses what the previous point of its
batch filled), this process single points from the back, so the ends meet with the batches at
their smallest and the processes finish together. A worker begins its first batch as soon as it
starts (forked, it holds the points already) and sends each batch's rows over its own pipe;
this process reads them between its own points. A worker that dies leaves its last claim
without rows: those points come back as crashed rows.
"""

import signal
from collections.abc import Callable, Generator
from multiprocessing import sharedctypes, synchronize
from multiprocessing.connection import wait
from typing import Any

from simulator.sweep.point import Point, crashed_row

Rows = list[dict[str, Any]]


class WorkerDied(RuntimeError):
    """A worker process ended before sending the rows of the batch it had taken."""


class PointQueue:
    """The positions [front, back) of the points not yet taken, in shared memory, and each
    worker's last claim (the batch it took, so a worker that dies is known to have held it)."""

    def __init__(self, context, count: int, workers: int):
        # imported with this module, not on a sweep's first use: part of its serial start
        lock = synchronize.RLock(ctx=context)
        self.slots = sharedctypes.Array("q", [0, count] + [0, 0] * workers, lock=lock)

    def front(self, worker: int, processes: int) -> range:
        """The next guided batch from the front, now `worker`'s claim (empty once none is left)."""
        with self.slots.get_lock():
            slots = self.slots.get_obj()
            start, left = slots[0], slots[1] - slots[0]
            stop = start + min(left, guided(left, processes))
            slots[0], slots[2 + 2 * worker], slots[3 + 2 * worker] = stop, start, stop
        return range(start, stop)

    def back(self) -> int | None:
        """The last point left, taken; None once the points are gone."""
        with self.slots.get_lock():
            slots = self.slots.get_obj()
            if slots[0] == slots[1]:
                return None
            slots[1] -= 1
            return slots[1]

    def claim(self, worker: int) -> range:
        """The batch `worker` took last."""
        with self.slots.get_lock():
            slots = self.slots.get_obj()
            return range(slots[2 + 2 * worker], slots[3 + 2 * worker])

    def close(self) -> None:
        """Hand out no more points (the caller stopped)."""
        with self.slots.get_lock():
            slots = self.slots.get_obj()
            slots[1] = slots[0]


def guided(left: int, processes: int) -> int:
    """The size of the next batch of `left` points shared by `processes`: half the points left
    per process (at most 16, at least one), so batches shrink to single points as the sweep
    ends and the processes finish together (guided self-scheduling)."""
    return max(1, min(16, left // (2 * processes)))


def shared(
    points: list[Point],
    workers: int,
    context,
    run_point: Callable[[Point], dict],
    run_batch: Callable[[list[Point]], Rows],
) -> Generator[dict]:
    """Rows of `points` as this process (`run_point`, from the back) and `workers` processes of
    `context` (`run_batch`, batches from the front) finish them. When the caller stops, no more
    points are handed out and the workers' running batches finish (their rows dropped); once
    every row is in, the workers are left exiting for the caller to `reap`."""
    queue = PointQueue(context, len(points), workers)
    pipes, processes = {}, []
    for worker in range(workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=work,
            args=(points, queue, worker, workers + 1, send, run_batch),
            daemon=True,
        )
        process.start()
        send.close()  # the worker holds the only sending end: its exit ends the pipe
        pipes[receive] = worker
        processes.append(process)
    landed: dict[int, int] = {}  # worker -> the start of its last batch whose rows came back
    finished = False
    try:
        while (position := queue.back()) is not None:
            yield run_point(points[position])
            yield from _landed(pipes, queue, points, landed, timeout=0)
        while pipes:
            yield from _landed(pipes, queue, points, landed, timeout=None)
        finished = True
    finally:
        queue.close()
        while pipes:  # a worker blocked sending its rows would never exit: read and drop them
            _landed(pipes, queue, points, landed, timeout=None)
        if finished:  # every row is in and the workers are exiting: `reap` waits for them
            _EXITING.extend(processes)
        else:
            for process in processes:
                process.join()


_EXITING: list = []
"""Workers whose rows are all in, still exiting (`shared` leaves them to `reap`)."""


def reap() -> None:
    """Wait for the workers of finished sweeps to exit: a worker's exit tears down its copy of
    the parent's memory (milliseconds, more on a loaded machine), which `shared`'s caller
    overlaps with writing its results instead of waiting for it first."""
    while _EXITING:
        _EXITING.pop().join()


def _landed(pipes: dict, queue: PointQueue, points, landed: dict, timeout) -> Rows:
    """The rows the workers have sent (waiting up to `timeout` s for the first); a worker whose
    pipe ended leaves `pipes`, its claim without rows as crashed rows."""
    rows = []
    for pipe in wait(list(pipes), timeout):
        worker = pipes[pipe]
        try:
            start, batch = pipe.recv()
        except EOFError:  # the worker ended: after its last batch, or dead in the middle of one
            del pipes[pipe]
            pipe.close()
            claim = queue.claim(worker)
            if claim and landed.get(worker) != claim.start:
                error = WorkerDied(f"worker {worker} ended while running this batch")
                rows += [crashed_row(points[position], error) for position in claim]
            continue
        landed[worker] = start
        rows += batch
    return rows


def work(points, queue: PointQueue, worker: int, processes: int, pipe, run_batch) -> None:
    """A worker: batches from the front of `queue` until none is left, each batch's rows sent
    with its first position. Ctrl-C is the parent's to handle (it stops the sweep and saves what
    finished)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while taken := queue.front(worker, processes):
        pipe.send((taken.start, run_batch([points[position] for position in taken])))
    pipe.close()
