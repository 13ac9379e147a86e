"""The engine's resources, lean: simpy's capacity-1 Resource and its Container with the same
events scheduled in the same order, from less code, and no event where processing one would do
nothing (a release nobody is queued for; a process's end nothing waits for: see engine/run.py), and
none for a grant or a take made at once where processing it would be the next thing to happen
(`_at_once`): the requesting process goes on at once instead, or, where a release or a
return grants a waiting one, it resumes at once.

simpy runs a request's and a take's `_trigger_get`/`_trigger_put` callbacks when they are
processed; on these resources those find nothing to do (a release leaves the get queue at once,
and a buffer's returns never wait: they give back what was taken), so they are left out.
tests/engine/test_resources.py holds both to simpy's on random request sequences.
"""

import simpy
from simpy.core import BoundClass
from simpy.resources.container import ContainerGet, ContainerPut
from simpy.resources.resource import Request


class Fifo(simpy.Resource):
    """One holder at a time, first come first served (simpy's Resource of capacity 1).
    A release schedules an event only where a request waits: simpy's would grant it when
    processed; with none waiting, a request made before it is processed is granted at once
    (the holder is gone) and any later one waits behind that, so it would grant nothing."""

    def __init__(self, env: simpy.Environment):
        super().__init__(env, capacity=1)

    def release(self, request: Request) -> None:
        if request in self.users:
            self.users.remove(request)
        if self.put_queue:
            freed = simpy.Event(self._env)
            freed.callbacks.append(self._grant_next)
            freed.succeed()

    def _grant_next(self, _event) -> None:
        """simpy's `_trigger_put` after a release: the first queued request, if none holds
        (processed here where its processing would come next: `_at_once`)."""
        if self.put_queue and not self.users:
            _grant(self, self.put_queue.pop(0), _at_once(self._env))


class Grant(Request):
    """A request of a `Fifo`: granted now if nobody holds it or waits before it, else queued.
    (As simpy's, a request made while the holder has left but the first waiter is not yet
    granted grants that waiter, and queues itself behind it.)"""

    def __init__(self, resource: Fifo):
        env = resource._env
        self.env, self.callbacks = env, []
        self.resource, self.proc = resource, env.active_process
        queue = resource.put_queue
        queue.append(self)
        if not resource.users:
            _grant(resource, queue.pop(0), _at_once(env))


def _grant(resource: Fifo, request: Request, at_once: bool = False) -> None:
    resource.users.append(request)
    request.usage_since = resource._env.now
    if at_once:
        _processed(request)
    else:
        request.succeed()


def _at_once(env: simpy.Environment) -> bool:
    """Whether an event the active process triggers now and yields at once would be the next one
    processed: the event being processed resumes that process alone (the environment's `sole`,
    set by engine/run.py's environment; absent elsewhere) and no other event is due now. Such an
    event is then not scheduled but marked processed (`_processed`), and the process goes on
    at once, as its processing would have resumed it: the same order, one event fewer."""
    if not getattr(env, "sole", False):
        return False
    queue = env._queue
    return not queue or queue[0][0] > env._now


def _processed(event: simpy.Event) -> None:
    """`event` succeeds and is processed now, as the environment's `step` processes one: its
    callbacks run (a waiting process resumes) and a process that yields it later goes on at
    once (with none yet, the process that made it goes on as the one it resumes)."""
    callbacks = event.callbacks
    event._ok, event._value, event.callbacks = True, None, None
    if callbacks:
        event.env.sole = len(callbacks) == 1
    for callback in callbacks:
        callback(event)


class Space(simpy.Container):
    """A buffer's free bytes: takes wait first come first served until enough is free; returns
    give back what a take took, so they never wait (more returned than the capacity raises)."""

    def _serve(self, _event=None) -> None:
        """simpy's `_trigger_get`: the queued takes, in order, while there is enough; the last
        it serves is processed here where that would come next (`_at_once`: a return being
        processed; a take made while a return is due now serves the queued ones, not at once)."""
        queue = self.get_queue
        while queue and self._level >= queue[0].amount:
            take = queue.pop(0)
            self._level -= take.amount
            last = not queue or self._level < queue[0].amount
            if last and _at_once(self._env):
                _processed(take)
                return
            take.succeed()


class Take(ContainerGet):
    """A take of `amount` bytes from a `Space`."""

    def __init__(self, space: Space, amount):
        if amount <= 0:
            raise ValueError(f"amount(={amount}) must be > 0.")
        env = space._env
        self.env, self.callbacks = env, []
        self.amount, self.resource, self.proc = amount, space, env.active_process
        if not space.get_queue and space._level >= amount and _at_once(env):
            space._level -= amount
            _processed(self)
            return
        space.get_queue.append(self)
        space._serve()


class Give(ContainerPut):
    """A return of `amount` bytes to a `Space`; processed, it serves the waiting takes."""

    def __init__(self, space: Space, amount):
        if amount <= 0:
            raise ValueError(f"amount(={amount}) must be > 0.")
        if space._capacity - space._level < amount:
            raise RuntimeError(f"{amount} bytes returned to a buffer that did not lend them")
        env = space._env
        self.env, self.callbacks = env, [space._serve]
        self.amount, self.resource, self.proc = amount, space, env.active_process
        space._level += amount
        self.succeed()


Fifo.request = BoundClass(Grant)  # bound per instance on creation, as simpy binds its own
Space.get, Space.put = BoundClass(Take), BoundClass(Give)
