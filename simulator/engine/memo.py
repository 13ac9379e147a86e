"""Memoization: a program cut at its quiescent points, each identical run of ops simulated once.

A quiescent point is an op boundary that every later op waits behind: on every core, the next op
waits (through its inputs, transitively, or a barrier) for every op before the boundary. There,
nothing is in flight: buffers are empty, units, links and controllers idle. What carries over is
only the controller turn (which changes nothing else on a fine-interleaved crossbar, so there it
is left out of the entry state: `turn_blind`), the order in which the cores' DMA engines resume,
and the idle time of each unit (which only moves the fill stall of the unit's next segment). The
shared L2 carries
nothing that matters: every tensor is named by its op (or its op group), so the regions resident at
the boundary are never read again, and LRU evicts them before anything of the ops that follow.

So each run of ops between quiescent points is simulated on a fresh engine from that entry state
and its record shifted into the whole; a run whose ops have the same signatures (shape, plan,
core, dependencies: everything the step stream depends on but names) and the same entry state as
one already simulated is accounted from that one, renamed and shifted, and only its tile kernels
run (when numerics are on). Results equal the uncoalesced run's: tests/engine/test_memo.py.
"""

import contextlib
from bisect import bisect_left
from collections import defaultdict

from simulator.components import Machine
from simulator.engine.budget import Budget, budgeted
from simulator.engine.merge import Collision, MergedRun, whole_record
from simulator.engine.progress import Progress
from simulator.engine.run import (
    Entry,
    _Engine,
    _waits,
    add_drain,
    advance,
    execute_whole,
    turn_blind,
)
from simulator.engine.trace import Record
from simulator.mapping.classes import classed, last_part
from simulator.mapping.program import OpProgram, Program


class Inexact(Exception):
    """A memoized run would not reproduce the whole program's run; simulate it whole instead."""


def boundaries(ops: tuple[OpProgram, ...], waits_for: dict[str, list[str]]) -> list[int]:
    """Indices b (0 < b < len(ops)) where every op from b on waits for every op before b."""
    position = {op.name: i for i, op in enumerate(ops)}
    covered = []  # covered[j]: every op before this index has finished when op j starts loading
    for op in ops:
        deps = [position[d] for d in waits_for[op.name]]
        reach = max((covered[d] for d in deps), default=0)
        finished = set(deps)
        while reach in finished:
            reach += 1
        covered.append(reach)
    positions = defaultdict(list)
    for i, op in enumerate(ops):
        positions[op.core].append(i)
    cuts = []
    for b in range(1, len(ops)):
        if covered[b] < b or ops[b].group == ops[b - 1].group:
            continue
        nexts = (p[bisect_left(p, b)] for p in positions.values() if p[-1] >= b)
        if all(covered[n] >= b for n in nexts):
            cuts.append(b)
    return cuts


def _key(ops, start: int, position: dict[str, int], waits_for, entry: Entry, blind: bool):
    """What a run's simulation depends on, with op names replaced by positions in the run (and
    without the memory-node turn where it changes nothing else: `turn_blind`)."""
    described = []
    groups: dict[str, int] = {}
    for i, op in enumerate(ops):
        if op.signature is None:
            return None
        inside = tuple(sorted({max(position[d] - start, -1) for d in waits_for[op.name]}))
        group = groups.setdefault(op.group, i)
        described.append(
            (op.signature, op.core, op.kind, op.unit, op.double_buffering, op.barrier)
            + (op.macs, op.flops, inside, group)
        )
    following = tuple(
        (
            core,
            None if names is None else tuple(sorted({max(position[n] - start, -1) for n in names})),
        )
        for core, names in entry.following
    )
    turn = None if blind else entry.turn
    return (tuple(described), turn, entry.order, entry.idle, entry.first, following)


def repeating_runs(ops: tuple[OpProgram, ...], waits_for) -> list[tuple[int, int]] | None:
    """The runs of ops between quiescent points, as (first, past the last) indices; None where
    there is no quiescent point or no run's signatures repeat another's (one engine over the
    whole program is then as fast). Shared by the memo and the count of its work (engine/work.py)."""
    cuts = boundaries(ops, waits_for)
    if not cuts:
        return None
    edges = [0, *cuts, len(ops)]
    runs = list(zip(edges, edges[1:]))
    signatures = [tuple(op.signature for op in ops[a:b]) for a, b in runs]
    known = [s for s in signatures if None not in s]
    return None if len(set(known)) == len(known) else runs


def next_run(ops, runs, index: int, waits_for, last: dict[int, int]) -> tuple[dict, tuple]:
    """What follows run `index`: core -> the name of its first op in the next run, and the entry's
    `following`: core -> what that op waits for (None: the core's next op comes later), for the
    cores with ops after the run (`last`: core -> the index of its last op), in core order."""
    b = runs[index][1]
    upcoming: dict[int, str] = {}
    if b < len(ops):
        for op in ops[b : runs[index + 1][1]]:
            upcoming.setdefault(op.core, op.name)
    following = tuple(
        (core, tuple(waits_for[upcoming[core]]) if core in upcoming else None)
        for core in sorted(last)
        if last[core] >= b
    )
    return upcoming, following


def execute_memoized(
    program: Program,
    machine: Machine,
    trace: bool,
    progress: Progress | None = None,
    coalesce: bool = True,
) -> Record | None:
    """Run `program` in quiescent runs, each distinct run simulated once; None where no run repeats."""
    ops = program.ops
    waits_for = _waits(ops)
    runs = repeating_runs(ops, waits_for)
    if runs is None:
        return None
    position = {op.name: i for i, op in enumerate(ops)}
    last = {op.core: i for i, op in enumerate(ops)}  # core -> the index of its last op
    if progress is not None:
        progress.start_ops(ops)
    total = whole_record(trace)
    free_at: dict[str, int] = {}
    memo: dict[tuple, tuple] = {}
    all_cores = sorted({op.core for op in ops})
    waiting: list[int] = []
    order = tuple(sorted({op.core for op in ops[: runs[0][1]]}))
    offset, turn = 0, -1
    blind = turn_blind(machine)
    nodes = (
        len(set(machine.noc.spec.memory_nodes)) if machine.noc is not None else 1
    )  # as the engine
    pending = []  # (ops of a run, the order its tile kernels ran in)
    for index, (a, b) in enumerate(runs):
        here = ops[a:b]
        cores = {op.core for op in here}
        upcoming, following = next_run(ops, runs, index, waits_for, last)
        if index == 0:
            idle = tuple(c for c in all_cores if c not in cores)
        else:
            idle = tuple(c for c in waiting if c in upcoming and c not in cores)
        entry = Entry(turn, order, idle, index == 0, following)
        key = _key(here, a, position, waits_for, entry, blind)
        names = [part.name for op in here for part in (op, *op.members)]  # class members too
        if key is not None and key in memo:
            merged, used, turns, registered, resumed, kernels = memo[key]
            turn = advance(turn, turns, nodes)  # as many transfers as the simulated run served
            if progress is not None:
                for name in names:
                    progress.finish_op(name)
        else:
            engine = _Engine(here, machine, trace, waits_for, entry, coalesce)
            engine.deferred = []
            engine.progress = progress
            part = engine.run()
            if not engine.quiescent():
                raise Inexact("buffer space still held at a quiescent point")
            used, turn, turns = engine.unit_free_at, engine.turn, engine.turns
            registered, resumed = engine.registered, engine.resumed
            where = {op.name: i for i, op in enumerate(here)}
            kernels = [(where[op], step, segment) for op, step, segment in engine.deferred]
            merged = MergedRun(part, names, engine.first_use)
            if key is not None:
                memo[key] = (merged, used, turns, registered, resumed, kernels)
            total.events_processed += part.events_processed
        pending.append((here, kernels))
        merged.fix_fill(total, free_at, offset, names)
        merged.add(total, names, offset)
        for unit, at in used.items():
            free_at[unit] = offset + at
        total.cycles = offset + merged.part.cycles
        offset = total.cycles
        waiting = [c for c in waiting + list(registered) if c not in resumed]
        order = tuple(resumed)
        if b < len(ops) and set(order) != set(upcoming):
            raise Inexact("cores resumed out of step with the next run")
    add_drain(total, machine.compute_units, free_at, last_part(ops))
    kernel_count = sum(len(kernels) for _, kernels in pending)
    if progress is not None and kernel_count:
        progress.finish()
        progress.start("tile kernels", kernel_count)
    for here, kernels in pending:  # only now: a fallback to the whole run must find them unrun
        _run_kernels(here, kernels, progress)
    return total


def _run_kernels(
    ops: tuple[OpProgram, ...], order: list[tuple[int, int, int]], progress: Progress | None
) -> None:
    """Run a run's tile kernels in the order its engine finished them: (op, step, segment)."""
    if not order:
        return  # timing only
    wanted = {}
    for position, op in enumerate(ops):
        for index, step in enumerate(op.steps()):
            for number, compute in enumerate(step.computes):
                if compute.kernel is not None:
                    wanted[(position, index, number)] = compute.kernel
    for where in order:
        wanted[where]()
        if progress is not None:
            progress.advance(1)


def execute(
    program: Program,
    machine: Machine,
    trace: bool = False,
    memoize: bool = True,
    progress: Progress | None = None,
    coalesce: bool = True,
    classes: bool = True,
    budget: Budget | None = None,
) -> Record:
    """Run `program` on `machine`; counters, busy cycles, stalls and op spans in reference cycles.
    With `memoize`, identical runs of ops between quiescent points are simulated once; with
    `coalesce`, periodic runs of identical steps inside an op advance in closed form; with
    `classes`, on a fine-interleaved chip the cores of a CTA kernel that run the same step shapes
    are simulated once per class (mapping/classes.py; the record keeps every core's rows).
    `progress` is credited as the work gets done (a fallback to the whole run starts it over).
    Under a `budget` the steps each attempt takes from its op streams are counted: past the
    limit, a CapacityError (engine/budget.py); a fallback to the whole run counts afresh."""
    noc = machine.noc
    if classes and noc is not None and noc.spec.memory == "fine":
        program = classed(program)
    with _tile_kernels(program):
        record = None
        if memoize:
            try:
                runs = _within(program, budget)
                record = execute_memoized(runs, machine, trace, progress, coalesce)
            except (Inexact, Collision):
                record = None
        if record is None:
            whole = _within(program, budget, whole=True)
            record = execute_whole(whole, machine, trace, progress, coalesce)
        if progress is not None:
            progress.finish()
        return record


def _within(program: Program, budget: Budget | None, whole: bool = False) -> Program:
    """`program` with its steps taken from the whole of `budget` (None: as it is); `whole`: run
    by one engine (`budgeted`)."""
    return program if budget is None else budgeted(program, budget.afresh(), whole)


def _tile_kernels(program: Program):
    """Tile kernels are many small matmuls: a threaded BLAS spends more on waking its threads than
    on the arithmetic (and collapses when the machine is loaded), so they run single-threaded."""
    first = next((step for op in program.ops for step in op.steps()), None)
    if first is None or all(c.kernel is None for c in first.computes):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
