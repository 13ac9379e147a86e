"""Steady-state coalescing: a run of identical steps advanced in closed form once the engine repeats.

The engine is a deterministic function of its state and of the steps still to come. At the top of
a core's loading loop the state is: every live process (where its generator is suspended and its
locals), every resource's holders and queue, buffer levels, pending events in queue order, and
the few engine fields the processes read. Described with times relative to now, step indices
relative to the current one and steps by their shape (everything but tensor regions, which only
name data), two equal descriptions p steps apart mean the next p steps repeat the last p exactly,
T cycles later, as long as the steps to come have the same shapes. Then n periods are advanced at
once: the loader skips n x p steps, the record gains n times one period's counters, and the
engine's clock runs n x T ahead of simpy's (`_Engine.skipped`). Any state not described here
(an L2's residency, NoC controller turns, signals between cores, tile kernels to run, a trace)
turns coalescing off, so results equal the event-by-event run: tests/engine/test_coalesce.py.
"""

from collections import deque
from typing import NamedTuple

import numpy as np
import simpy
from numpy.lib.stride_tricks import sliding_window_view
from simpy.events import PENDING, ConditionValue

from simulator.mapping.program import Compute, OpProgram, Step, Transfer

# locals holding absolute cycles
TIMES = frozenset({"asked", "synced", "issued", "arrival", "start", "bound"})
MAX_SEEN = 1024  # descriptions (their hashes) kept per op before starting afresh
RECENT = 4  # latest descriptions kept whole (more, kept alive, slow the garbage collector)
PATIENCE = 256  # descriptions without a jump after which an op is run as events to its end
MAX_LIVE = 32  # more processes than this (many steps queued behind a unit): too costly to describe
MIN_STEPS = 64  # an op with fewer steps runs as events: describing each step would cost more
MIN_LEFT = 4  # fewer steps left than this: no jump could skip more than a description costs
MAX_STRIDE_STEPS = 1024  # a longer op is described at every step (its strides cost n^2 to find)
MAX_WALK = 3  # steps a resumed stream walks on to a class's first step (a resume costs about 3)


class Opaque(Exception):
    """A value the description cannot compare: no coalescing at this step."""


def shape(value):
    """A step (or part of one) without its regions: what the engine's timing depends on."""
    if isinstance(value, Step):
        return (
            tuple(map(shape, value.loads)),
            tuple(map(shape, value.computes)),
            tuple(map(shape, value.stores)),
            value.frees,
            value.waits,
            value.signals,
        )
    if isinstance(value, Transfer):
        return (
            value.kind,
            value.buffer,
            value.dram_bytes,
            value.space,
            value.peer,
            value.noc_bytes,
        )
    if isinstance(value, Compute):
        if value.kernel is not None:
            raise Opaque("a tile kernel")
        if value.pace:
            raise Opaque("a latency bound (the engine's per-op bound clock is not described)")
        return (
            value.unit,
            value.cycles,
            value.refill,
            value.work,
            value.macs,
            value.sram_traffic,
            tuple(map(shape, value.streamed)),
            value.dma_wait,
            value.holds,
        )
    raise Opaque(type(value).__name__)


def plain(step: Step) -> bool:
    """A step coalescing may repeat: no kernel, no signal between cores."""
    return (
        not step.waits
        and not step.signals
        and all(c.kernel is None for c in step.computes)
        and all(t.kind != "send" for t in step.stores)
    )


def worth_watching(stream: "Stream") -> bool:
    """Whether looking for periods in the stream's op may pay: its steps are many, or not known."""
    classes = stream.classes()
    return classes is None or len(classes) >= MIN_STEPS


class Stream:
    """An op's steps with the index of the next one, a look-ahead and a jump over n periods."""

    def __init__(self, op: OpProgram):
        self.op = op
        self._steps = iter(op.steps())
        self._ahead: deque = deque()
        self._classes: np.ndarray | None = None
        self._class_keys: dict[int, tuple] = {}  # class -> its steps' shape (or not plain)
        self.index = 0

    def classes(self) -> np.ndarray | None:
        """The class of every step of the op (None: not known), worked out once."""
        if self._classes is None and self.op.classes is not None:
            self._classes = self.op.classes(0)
        return self._classes

    def left(self) -> int | None:
        """How many steps are still to come (None: not known)."""
        classes = self.classes()
        return None if classes is None else len(classes) - self.index

    def next(self) -> Step | None:
        step = self._ahead.popleft() if self._ahead else next(self._steps, None)
        if step is not None:
            self.index += 1
        return step

    def skip_periods(self, start: int, pattern: list) -> int:
        """Consume whole repetitions of `pattern` (the shapes of the steps from `start` to the next
        one) from the steps to come; returns how many. Steps after them stay to come, in order."""
        if self.op.classes is not None and self.op.resume is not None and not self._ahead:
            return self._skip_classes(start, len(pattern))
        periods, partial = 0, []
        while True:
            step = self._ahead.popleft() if self._ahead else next(self._steps, None)
            if step is None:
                break
            if not plain(step) or shape(step) != pattern[len(partial)]:
                partial.append(step)
                break
            partial.append(step)
            if len(partial) == len(pattern):
                periods, partial = periods + 1, []
        self._ahead.extendleft(reversed(partial))
        self.index += periods * len(pattern)
        return periods

    def shape_ids(self, start: int = 0) -> np.ndarray:
        """The steps from `start` on as small integers, equal where their shapes are: one step of
        each class is generated for its shape (steps of one class have one shape), once per op."""
        classes = self.classes()[start:]
        kinds, firsts = np.unique(classes, return_index=True)
        new = sorted(  # once per class: an op may jump many times
            (first, kind)
            for kind, first in zip(kinds.tolist(), firsts.tolist())
            if kind not in self._class_keys
        )
        steps, at = None, 0  # a resumed stream and the index of its next step
        for first, kind in new:
            index = start + first
            if steps is None or index - at > MAX_WALK:
                steps, at = iter(self.op.resume(index)), index
            for _ in range(index - at):  # a few steps on cost less than resuming anew
                next(steps)
            step, at = next(steps), index + 1
            self._class_keys[kind] = shape(step) if plain(step) else ("not plain", kind)
        ids: dict = {}
        by_kind = np.zeros(kinds[-1] + 1, dtype=np.int64)
        for kind in kinds.tolist():
            by_kind[kind] = ids.setdefault(self._class_keys[kind], len(ids))
        return by_kind[classes]

    def strides(self) -> tuple[int, int]:
        """The shortest and longest period lengths whose jumps skip most steps ((1, 1): describe
        every step; (0, 0): none can lead to a jump): see `strides`."""
        if self.op.classes is None or self.op.resume is None:
            return 1, 1
        if not 0 < len(self.classes()) <= MAX_STRIDE_STEPS:
            return 1, 1
        return strides(self.shape_ids())

    def _skip_classes(self, start: int, period: int) -> int:
        """The same from the op's step classes: the others are compared by class, never built."""
        sequence = self.shape_ids(start)
        rows = (len(sequence) - period) // period
        ahead = sequence[period : period * (rows + 1)].reshape(rows, period)
        same = (ahead == sequence[:period]).all(axis=1)
        periods = rows if same.all() else int(same.argmin())
        if periods:
            self.index += periods * period
            self._steps = iter(self.op.resume(self.index))
        return periods


def strides(sequence: np.ndarray) -> tuple[int, int]:
    """The shortest and longest period lengths whose jumps the steps' shapes let skip most steps
    ((0, 0): none skips any).
    Where the shapes from step k on equal those p steps later for `run` steps, equal descriptions
    before steps k, k + p and k + 2p let the watch jump over run // p - 1 periods of p steps; each
    such stretch counts once. A state that repeats has a period of the shapes' (or a multiple of
    it), so describing every p-th step still finds it, at about 1/p of the descriptions; whether
    the short periods' stretches settle soon enough to jump is not known before the run."""
    n = len(sequence)
    count = n // 3  # period lengths 1 .. count
    if not count:
        return 0, 0
    # views and 32-bit indices: at 1,024 steps each [p, k] array is 341 x 1,024, so its bytes
    # (page faults and cache misses) cost more than the comparisons
    padded = np.concatenate([sequence, np.full(n, -1, dtype=sequence.dtype)])
    same = sliding_window_view(padded, n)[1 : count + 1] == sequence  # [p - 1, k]: k ~ k + p
    at = np.arange(n, dtype=np.int32)
    breaks = np.where(same, np.int32(n), at)  # the first k' >= k where step k' differs from k' + p
    run = np.minimum.accumulate(breaks[:, ::-1], axis=1)[:, ::-1] - at
    starts = same.copy()
    starts[:, 1:] &= ~same[:, :-1]  # where a stretch begins
    rows, columns = np.nonzero(starts)
    periods = rows + 1
    jumped = np.maximum(run[rows, columns] // periods - 1, 0) * periods
    skipped = np.bincount(rows, weights=jumped, minlength=count)  # whole numbers: exact
    if skipped.max() <= 0:
        return 0, 0
    return int(skipped.argmax()) + 1, count - int(skipped[::-1].argmax())


class _Describer:
    """Canonical description of the engine's state at one moment (see the module docstring)."""

    def __init__(self, engine, index: int, shapes: dict):
        self.engine = engine
        self.index = index
        self.shapes = shapes  # id -> (step or part, its shape): kept across descriptions
        self.now = engine.env.now
        self.active = engine.env.active_process  # the loader describing: fixed while it does
        self.resource_names = engine.resource_names
        self.order = sorted(engine.env._queue)
        self.queued = {}
        for rank, (at, priority, _, event) in enumerate(self.order):
            self.queued[id(event)] = (at - self.now, priority, rank)
        self.ids: dict[int, int] = {}

    def event(self, event):
        if event is self.active:
            return "loader"  # described by the caller: it is at the top of its loop
        key = id(event)
        ids = self.ids
        if key in ids:
            return ("ref", ids[key])
        ids[key] = number = len(ids)
        if isinstance(event, simpy.Process):
            target = None if event._target is None else self.event(event._target)
            callbacks = event.callbacks
            waiting = None if callbacks is None else tuple(map(self.callback, callbacks))
            return ("process", number, self.frames(event._generator), target, waiting)
        extra = ()
        if isinstance(event, simpy.events.Condition):
            extra = (event._count, tuple(self.event(e) for e in event._events))
        for field in _fields(event):
            extra += (self.value(getattr(event, field), field),)
        value = event._value
        if value is PENDING or isinstance(value, ConditionValue):
            value = "pending" if value is PENDING else "condition"
        else:
            value = self.value(value, "")
        callbacks = (
            None if event.callbacks is None else tuple(self.callback(c) for c in event.callbacks)
        )
        return (type(event).__name__, number, value, self.queued.get(key), callbacks, extra)

    def callback(self, function):
        owner = getattr(function, "__self__", None)
        if owner is None:  # the engine's own bookkeeping (a process leaving `live`)
            return function.__qualname__
        if owner is self.engine:  # a step landing (its event's value names the step)
            return function.__func__.__name__
        return (function.__func__.__name__, self.value(owner, ""))

    def frames(self, generator):
        out = []
        value = self.value
        while generator is not None:
            frame = generator.gi_frame
            if frame is None:
                out.append("done")
                break
            local = tuple(
                [
                    (name, value(item, name))
                    for name, item in frame.f_locals.items()
                    if name != "self"
                ]
            )
            out.append((frame.f_code.co_name, frame.f_lasti, local))
            generator = generator.gi_yieldfrom
        return tuple(out)

    def value(self, value, name: str):
        kind = type(value)  # the common exact types first; subclasses take the general path
        if kind is int or kind is float:
            if name in TIMES:
                return ("t", value - self.now)
            if name == "index":
                return ("i", value - self.index)
            return value
        if value is None or kind is bool or kind is str:
            return value
        if kind is tuple or kind is list:
            return tuple([self.value(v, name) for v in value])
        if kind in SHAPED:
            known = self.shapes.get(id(value))
            if known is None or known[0] is not value:
                known = self.shapes[id(value)] = (value, shape(value))  # holds it: ids stay unique
            return known[1]
        if kind is dict:  # neither an event nor a resource: _general's dict branch
            return tuple([(k, self.value(v, name)) for k, v in value.items()])
        if kind is OpProgram:
            return value.name
        return self._general(value, name)

    def _general(self, value, name: str):
        # the branches exclude each other (bool, the one subclass of int here, comes first), so
        # the most frequent come first: events, the engine's resources, ops, dicts
        if isinstance(value, simpy.events.Event):
            return self.event(value)
        name_of = self.resource_names.get(id(value))
        if name_of is not None:
            return ("resource", name_of)
        if isinstance(value, OpProgram):
            return value.name
        if isinstance(value, dict):
            return tuple((k, self.value(v, name)) for k, v in value.items())
        if isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)):
            if name in TIMES:
                return ("t", value - self.now)
            if name == "index":
                return ("i", value - self.index)
            return value
        if isinstance(value, (Step, Transfer, Compute)):
            return shape(value)
        if isinstance(value, (tuple, list)):
            return tuple(self.value(v, name) for v in value)
        raise Opaque(type(value).__name__)


SHAPED = frozenset({Step, Transfer, Compute})
FIELDS = ("resource", "amount", "item", "proc")
"""An event's attributes the description compares (requests, puts and gets set them on creation)."""
_HAS: dict[type, tuple[str, ...]] = {}


def _fields(event) -> tuple[str, ...]:
    """Which of FIELDS events of this type have (every instance sets the same ones)."""
    kind = type(event)
    found = _HAS.get(kind)
    if found is None:
        found = _HAS[kind] = tuple(field for field in FIELDS if hasattr(event, field))
    return found


def describe(engine, op: OpProgram, index: int, previous_done, shapes: dict | None = None):
    """The engine's state at the top of `op`'s loading loop before step `index`, or None.
    `shapes` memoizes the shapes of steps and their parts from one description to the next."""
    try:
        d = _Describer(engine, index, {} if shapes is None else shapes)
        processes = tuple(d.event(p) for p in engine.live)
        resources = []
        for name, resource in engine.resource_list:
            if isinstance(resource, (simpy.Container, simpy.Store)):
                held = resource.level if isinstance(resource, simpy.Container) else resource.items
                queues = (resource.get_queue, resource.put_queue)
                queued = tuple(tuple(map(d.event, queue)) for queue in queues)
                resources.append((name, d.value(held, ""), queued))
            else:
                held = (tuple(map(d.event, resource.users)), tuple(map(d.event, resource.queue)))
                resources.append((name, held))
        queue = tuple(d.event(event) for _, _, _, event in d.order)
        flying = tuple(
            (name, engine.outstanding[name], name in engine.all_loaded, name in engine.op_started)
            for name in sorted(engine.in_flight | {op.name})
        )
        loader = d.value(previous_done, "")
    except Opaque:
        return None
    return (processes, tuple(resources), queue, flying, loader, engine.turn, engine.port_state())


COUNTERS = ("counts", "busy", "interface_busy", "op_noc")
COUNTERS += ("link_bytes", "link_busy", "l2_bytes", "hop_bytes")
NESTED = ("unit_stalls", "op_busy", "op_stalls", "op_dram")


def counters(record) -> dict:
    """A copy of a record's counters (what one period adds to)."""
    out = {name: dict(getattr(record, name)) for name in COUNTERS}
    for name in NESTED:
        out[name] = {k: dict(v) for k, v in getattr(record, name).items()}
    out["steps"] = record.steps
    out["spans"] = (len(record.op_start), len(record.op_end))
    return out


def period_deltas(record, before: dict, after: dict):
    """What one period added to the record's counters, as (table, key, delta) and steps; None
    where a period starts or ends an op or adds a fraction (n x delta would round unlike n sums)."""
    if before["spans"] != after["spans"]:
        return None
    deltas = []
    for name in COUNTERS:
        for key, value in after[name].items():
            delta = value - before[name].get(key, 0)
            if delta:
                deltas.append((getattr(record, name), key, delta))
    for name in NESTED:
        for outer, inner in after[name].items():
            old = before[name].get(outer, {})
            for key, value in inner.items():
                delta = value - old.get(key, 0)
                if delta:
                    deltas.append((getattr(record, name)[outer], key, delta))
    if any(float(delta) != int(delta) for _, _, delta in deltas):
        return None
    return deltas, after["steps"] - before["steps"]


class Watch:
    """Finds a repeated state within one op's steps and jumps over the periods that follow."""

    def __init__(self, engine, op: OpProgram, stream: Stream):
        self.engine, self.op, self.stream = engine, op, stream
        self.seen: dict[int, int] = {}  # hash of a description -> the step index it was seen at
        # the latest RECENT descriptions whole: step index -> (description, Snapshot)
        self.recent: dict[int, tuple] = {}
        self.jumps = 0  # jumps made: a snapshot taken before one no longer measures a period
        self.shapes: dict[int, tuple] = {}  # step index -> shape, since the last reset
        self.candidate = None
        self.patience = PATIENCE
        self.described: dict = {}  # shapes of the steps (and parts) descriptions met
        self.short, self.long = stream.strides()
        self.described_steps = self.skipped = 0  # descriptions made, steps jumped
        self._use(self.short)  # while its jumps skip more steps than it describes

    def note(self, index: int, step: Step) -> None:
        """The loader takes step `index`: remember its shape while it may belong to a period."""
        if plain(step):
            self.shapes[index] = shape(step)
        else:
            self._reset()

    def _use(self, stride: int) -> None:
        """Describe the steps `stride` apart that end with the op (none for 0)."""
        self.stride = stride
        steps = self.stream.index + (self.stream.left() or 0)
        self.phase = steps % stride if stride else 0

    def _reset(self) -> None:
        self.seen, self.shapes, self.recent, self.candidate = {}, {}, {}, None

    def at(self, previous_done) -> None:
        """The loader is about to take the next step: look for a period, jump when one is found.
        A state seen again with no jump since jumps at once (`_repeats`). Descriptions seen
        before a jump stay comparable (indices and the engine's clock both count the steps and
        cycles jumped), so a longer period (a whole K fold) is found across the shorter ones
        jumped inside it: such a candidate's counters are measured over its next period, and it
        jumps when the state after that period is the same again."""
        if self.patience <= 0:
            return  # no period found in a long while: describing costs more than it may save
        index, engine = self.stream.index, self.engine
        due = self.candidate is not None and index == self.candidate[0] + self.candidate[1]
        left = self.stream.left()
        if left is not None and (left < self.candidate[1] if due else left < MIN_LEFT):
            if due:
                self.candidate = None  # its period cannot repeat again before the op ends
            return  # a description here costs more than any jump it could lead to saves
        if self.stride != self.long and index >= self.long and self.skipped <= self.described_steps:
            self._use(self.long)  # the short periods do not settle: describe a long one's steps
            self.candidate = None  # a short candidate's check would fall between them
        if not self.stride or index % self.stride != self.phase:
            return  # candidates and their checks are `stride` apart: this step is none of them
        self.patience -= 1
        if len(engine.live) > MAX_LIVE:
            self.candidate = None
            return
        if len(self.described) > MAX_SEEN:
            self.described.clear()
        self.described_steps += 1
        state = describe(engine, self.op, index, previous_done, self.described)
        if state is None:
            self._reset()
            return
        now = engine.env.now + engine.skipped
        if self.candidate is not None and index == self.candidate[0] + self.candidate[1]:
            start, _, at, first, before, idle = self.candidate
            self.candidate = None
            if state == first:
                pattern = [self.shapes[i] for i in range(start, index)]
                units = _units(pattern)
                if [idle[u] for u in units] == [self._idle(u) for u in units] and self._jump(
                    pattern, now - at, before
                ):
                    self.patience = PATIENCE
                    return
        key = hash(state)  # only proposes a period: the whole descriptions are compared after it
        snapshot = Snapshot(now, counters(engine.record), self._idles(), self.jumps)
        earlier = self.seen.get(key)
        if earlier is not None and self.candidate is None:  # one period looked at at a time
            if self._repeats(earlier, index, state, snapshot):
                return
            before, idle = snapshot.counters, snapshot.idle
            self.candidate = (index, index - earlier, now, state, before, idle)
        if len(self.seen) >= MAX_SEEN:
            self._reset()
        self.seen[key] = index
        self.recent[index] = (state, snapshot)
        if len(self.recent) > RECENT:
            del self.recent[next(iter(self.recent))]

    def _repeats(self, start: int, index: int, state, snapshot: "Snapshot") -> bool:
        """Jump now where the state described at step `start`, one of the latest, is this one
        with no jump since: the steps between them are one period (their counters measured, the
        units' idle times equal), so the next periods repeat it as a verified candidate's would,
        a period sooner."""
        kept = self.recent.get(start)
        if kept is None:
            return False  # described too long ago: kept as its hash only
        first, before = kept
        if before.jumps != self.jumps or state != first:
            return False  # across a jump the counters' difference is not one period's
        pattern = [self.shapes[i] for i in range(start, index)]
        units = _units(pattern)
        if [before.idle[u] for u in units] != [snapshot.idle[u] for u in units]:
            return False
        if not self._jump(pattern, snapshot.now - before.now, before.counters):
            return False
        self.candidate = None
        self.patience = PATIENCE
        return True

    def _idles(self) -> dict:
        """How long each unit has been idle (`_idle`)."""
        return {u: self._idle(u) for u in self.engine.units}

    def _idle(self, unit: str):
        """How long `unit` has been idle (None: not used yet)."""
        free_at = self.engine.unit_free_at.get(unit)
        return None if free_at is None else self.engine.clock() - free_at

    def _jump(self, pattern: list, cycles, before: dict) -> bool:
        """Advance every whole repetition of `pattern` still to come; False where a period's
        counters cannot be multiplied exactly."""
        engine = self.engine
        deltas = period_deltas(engine.record, before, counters(engine.record))
        if deltas is None or cycles != int(cycles):
            return False
        cycles = int(cycles)
        periods = self.stream.skip_periods(self.stream.index - len(pattern), pattern)
        for unit in _units(pattern):  # last used in the last period jumped
            engine.unit_free_at[unit] += periods * cycles
        for table, key, delta in deltas[0]:
            table[key] += periods * delta
        engine.record.steps += periods * deltas[1]
        self.skipped += periods * len(pattern)
        engine.skipped += periods * cycles
        self.jumps += 1
        return True


class Snapshot(NamedTuple):
    """What a period's jump reads of the moment a description was made."""

    now: float  # the engine's clock, jumped cycles included
    counters: dict  # the record's counters (`counters`)
    idle: dict  # unit -> how long it has been idle (None: not used yet)
    jumps: int  # jumps the watch had made


def _units(pattern: list) -> list:
    """The compute units (and units they hold) the steps of `pattern` use, sorted."""
    return sorted({u for s in pattern for c in s[1] for u in (c[0], *c[-1])})
