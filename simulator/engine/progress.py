"""Progress of one run, reported to a user's callback as (phase, done, total), throttled.

The engine credits work as it goes: in the "simulate" phase an op is worth its MACs (or 1 when it
has none), earned segment by segment and topped up when the op finishes; a memoized run of ops is
credited at once. Deferred tile kernels ("tile kernels") and the numerics check count one each.
The callback runs at most every `interval` seconds, plus once at each phase's start and end, so a
run with progress costs no more than one without (benchmarks/speed.py).
"""

import time
from collections.abc import Callable

ProgressCallback = Callable[[str, float, float], None]
"""progress(phase, done, total): work done so far of the phase's total (same unit, done <= total)."""


def labelled(callback: ProgressCallback | None, label: str) -> ProgressCallback | None:
    """The callback with each phase named after the run it belongs to ("4 cores: simulate"), for
    studies that run simulate() several times."""
    if callback is None:
        return None
    return lambda phase, done, total: callback(f"{label}: {phase}", done, total)


class Progress:
    """A throttled counter of one phase's work at a time."""

    def __init__(self, callback: ProgressCallback, interval: float = 0.1):
        self.callback = callback
        self.interval = interval
        self.phase, self.total, self.done = "", 0.0, 0.0
        self.weights: dict[str, float] = {}  # simulate phase: op -> its work
        self.credited: dict[str, float] = {}  # ... and what it has earned so far
        self.next_check = 0.0
        self.stride = 1.0
        self.last = 0.0

    def start(self, phase: str, total: float) -> None:
        """Begin `phase` with `total` units of work (reported at once)."""
        self.phase, self.total, self.done = phase, float(total), 0.0
        self.stride = max(self.total / 1000, 1.0)  # look at the clock at most ~1000 times
        self.next_check = self.stride
        self.last = time.monotonic()
        self.callback(phase, 0.0, self.total)

    def start_ops(self, ops) -> None:
        """Begin the simulate phase of these OpPrograms, each worth its MACs (at least 1)."""
        self.weights = {op.name: float(max(op.macs, 1)) for op in ops}
        self.credited = dict.fromkeys(self.weights, 0.0)
        self.start("simulate", sum(self.weights.values()))

    def credit(self, op: str, amount: float) -> None:
        """`op` did `amount` more of its work (never past its weight)."""
        earned = min(amount, self.weights[op] - self.credited[op])
        if earned > 0:
            self.credited[op] += earned
            self.advance(earned)

    def finish_op(self, op: str) -> None:
        """`op` is done: whatever it has not earned yet is credited now."""
        self.credit(op, self.weights[op])

    def advance(self, amount: float) -> None:
        self.done += amount
        if self.done >= self.next_check:
            self.next_check = self.done + self.stride
            now = time.monotonic()
            if now - self.last >= self.interval:
                self.last = now
                self.callback(self.phase, min(self.done, self.total), self.total)

    def finish(self) -> None:
        """The phase is complete (reported at once)."""
        self.done = self.total
        self.callback(self.phase, self.total, self.total)
