"""Results computed ahead on a background thread, in order, a bounded number of bytes ahead of
the one consumer that takes them; the numerics check's reference blocks use it while the engine
runs, since they depend on the operands only (numpy's BLAS releases the GIL, so the two overlap)."""

import threading
from collections.abc import Callable, Iterator, Sequence


class Ahead:
    """Every task's result, in order: a background thread runs tasks ahead while the results it
    holds stay under `limit` bytes (at least one at a time); `results()` yields them in order,
    running itself any task the thread has not started (so at the end both threads compute).
    Each task runs exactly once, on one thread: the same arithmetic as running them in a loop.
    An exception in the thread is raised where its task's result is taken."""

    def __init__(self, tasks: Sequence[Callable[[], object]], limit: int):
        self._tasks, self._limit = list(tasks), limit
        self._done: dict[int, tuple[bool, object]] = {}  # index -> (ok, result or exception)
        self._claimed = 0  # items below this index are computed or being computed
        self._held = 0  # bytes of the results computed and not yet consumed
        self._stopped = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="numerics-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and self._held >= self._limit:
                    self._condition.wait()
                if self._stopped or self._claimed >= len(self._tasks):
                    return
                index = self._claimed
                self._claimed += 1
            try:
                outcome = (True, self._tasks[index]())
            except BaseException as error:  # handed to the consumer
                outcome = (False, error)
            with self._condition:
                self._done[index] = outcome
                self._held += _nbytes(outcome[1])
                self._condition.notify_all()

    def results(self) -> Iterator:
        """Every item's result, in order; stops the thread once the last is taken."""
        try:
            for index, task in enumerate(self._tasks):
                with self._condition:
                    mine = index >= self._claimed
                    if mine:
                        self._claimed = index + 1
                    else:
                        while index not in self._done:
                            self._condition.wait()
                        ok, result = self._done.pop(index)
                        self._held -= _nbytes(result)
                        self._condition.notify_all()
                if mine:
                    result = task()
                elif not ok:
                    raise result
                yield result
        finally:
            self.stop()

    def stop(self) -> None:
        """End the thread (after the item it is computing, if any) and drop what it holds."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        self._thread.join()
        self._done.clear()


def _nbytes(result) -> int:
    """Bytes of the arrays in a result (a tuple of arrays, or an array)."""
    parts = result if isinstance(result, tuple) else (result,)
    return sum(getattr(part, "nbytes", 0) for part in parts)
