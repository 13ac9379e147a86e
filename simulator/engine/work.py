"""The engine's own work, counted from a compiled program before it runs: the tile steps it will
simulate as events, and the cost guard on it (check_work; the spec guard: spec/guards.py).

The count follows what `execute` does with the program: on a fine-interleaved chip each core
class is simulated by one member (mapping/classes.py), and a run of ops between quiescent points
equal to one already simulated is accounted from it (engine/memo.py), so on one core such ops
count once per distinct run and entry state the memo can meet (the memory-node turn takes at
most `nodes + 1` values where it matters: `turn_blind`); with several cores every run counts, as
the order the cores resume in is part of the memo's key and not known beforehand. Steady-state
coalescing is not credited: it finds a period while the run goes and may find none (then every
step runs as events), so every step of a simulated op counts and the count bounds the steps
simulated from above. Where coalescing may apply (`may_coalesce`), a count above the limit runs
under a budget instead (engine/budget.py), unless the steps a budget takes whatever coalescing
finds (`Work.sure`: every step of an op it cannot skip without taking) already pass the limit.
"""

from collections import Counter
from dataclasses import dataclass
from itertools import islice

from simulator.components import Machine
from simulator.engine.budget import skippable
from simulator.engine.memo import _key, next_run, repeating_runs
from simulator.engine.run import Entry, _waits, turn_blind
from simulator.errors import CapacityError
from simulator.mapping.classes import classed
from simulator.mapping.program import OpProgram, Program
from simulator.spec.guards import CLASS_BYTES, Limits


@dataclass(frozen=True)
class Work:
    """Tile steps the engine simulates as events (at most), and the op that simulates most."""

    steps: int
    biggest_op: str  # the op that simulates most (not whole: the one whose steps passed the cap)
    whole: bool = True  # False: counting stopped once past the cap (the steps are more)
    most: int = 0  # the steps biggest_op simulates
    sure: int = 0
    """Of `steps`, those of ops whose steps the engine takes from their streams whatever its
    coalescing finds (`skippable`): what a run under a budget takes at least."""
    surest_op: str = ""
    """The op with the most of the `sure` steps: the one to shrink where they pass the limit."""


def engine_work(program: Program, machine: Machine, cap: int) -> Work:
    """The steps the engine will simulate for `program` on `machine` (an upper bound). Ops whose
    steps must be walked to be counted are walked only until the total passes `cap` (then the
    count is over cap, `Work.whole` False, the op named the one whose walk stopped); every other
    op is still counted, so `Work.sure` holds every op whose count is known."""
    own = {op.name: op for op in program.ops}  # a class keeps its head's name: its own steps
    noc = machine.noc
    if noc is not None and noc.spec.memory == "fine":  # as execute: one member per core class
        program = classed(program)
    times = simulated(program.ops, machine)
    steps, biggest, most, sure, stopped = 0, "", -1, 0, ""
    surest, most_sure = "", 0
    known: dict[str, int] = {}  # signature -> steps: equal signatures make the same steps
    for op in program.ops:
        if not times[op.name]:
            continue
        left = max(cap - steps, 0) // times[op.name]
        count = known.get(op.signature)
        if count is None:
            count = step_count(own[op.name], left)
            if count is not None and op.signature is not None:
                known[op.signature] = count
        if count is None:  # walked past `cap`: more than `left`, no need to walk on
            stopped = stopped or op.group or op.name
            count = left + 1
        op_steps = count * times[op.name]
        steps += op_steps
        op_sure = 0 if skippable(op, count) else op_steps
        sure += op_sure
        if op_steps > most:
            biggest, most = op.group or op.name, op_steps
        if op_sure > most_sure:
            surest, most_sure = op.group or op.name, op_sure
    if stopped:
        return Work(max(steps, cap + 1), stopped, False, max(most, cap + 1), sure, surest)
    return Work(steps, biggest, most=most, sure=sure, surest_op=surest)


def may_coalesce(program: Program, machine: Machine) -> bool:
    """Whether the engine's steady-state coalescing may skip steps of this timing-only, untraced
    program: it watches only an engine of one core without a NoC (engine/run.py)."""
    return machine.noc is None and len({op.core for op in program.ops}) <= 1


def step_count(op: OpProgram, cap: int) -> int | None:
    """How many steps `op` makes: from its count where it has one for its steps, else walked
    (None: more than `cap`). Step classes are not read: a wrapper that adds steps (a kernel
    launch, a split-K fixup) keeps its op's classes."""
    if op.step_count is not None:
        count = op.step_count.of(op)
        if count is not None:
            return count
    count = sum(1 for _ in islice(op.steps(), cap + 1))
    return None if count > cap else count


def simulated(ops: tuple[OpProgram, ...], machine: Machine) -> Counter:
    """op name -> how many times the engine simulates it: once on a whole-program engine; with the
    memo, once per run of ops at most per distinct key (engine/memo.py's `_key`) and memory-node
    turn it can meet. With several cores the memo's key also holds the order the cores resumed
    in, which varies from run to run and is not known before the run: every run counts there."""
    waits_for = _waits(ops)
    runs = repeating_runs(ops, waits_for)
    if runs is None or len({op.core for op in ops}) > 1:
        return Counter(op.name for op in ops)
    noc = machine.noc
    turns = 1 if turn_blind(machine) else len(set(noc.spec.memory_nodes)) + 1
    position = {op.name: i for i, op in enumerate(ops)}
    last = {op.core: i for i, op in enumerate(ops)}  # core -> the index of its last op
    met: Counter = Counter()
    times: Counter = Counter()
    for index, (a, b) in enumerate(runs):
        entry = Entry(first=index == 0, following=next_run(ops, runs, index, waits_for, last)[1])
        key = _key(ops[a:b], a, position, waits_for, entry, True)
        if key is not None:
            met[key] += 1
            if met[key] > turns:
                continue  # accounted from a run simulated from the same entry
        times.update(op.name for op in ops[a:b])
    return times


def check_work(
    program: Program, machine: Machine, name: str, limits: Limits, coalescing: bool = False
) -> Work:
    """The steps the engine will simulate for a compiled program (`engine_work`), or a
    CapacityError naming them, the op that simulates most and how to get under the limit.
    With `coalescing` (a timing-only, untraced run) a count above the limit passes where the
    engine may coalesce, its step classes fit the memory limit and the steps it takes for sure
    (`Work.sure`) do not pass the limit: the caller runs it under a budget (engine/budget.py);
    refused there for its sure steps, the message names the op with most of them to shrink."""
    work = engine_work(program, machine, limits.max_tiles)
    classes = work.most * CLASS_BYTES  # what the coalescer holds to skip the biggest op's steps
    budget = coalescing and may_coalesce(program, machine) and classes <= limits.max_memory
    if work.steps > limits.max_tiles and not (budget and work.sure <= limits.max_tiles):
        steps = f"{work.steps:,}" if work.whole else f"over {limits.max_tiles:,}"
        shrink, sure = work.biggest_op, ""
        if budget:  # coalescing may skip the rest: the steps it cannot are what passes the limit
            shrink = work.surest_op
            sure = f", and {work.sure:,} of them no coalescing can skip (most in {shrink})"
        raise CapacityError(
            f"{name}: {steps} tile steps to simulate (most in {work.biggest_op}), above the "
            f"limit of {limits.max_tiles:,}{sure}; shrink {shrink} or the layers, give the "
            f"arch more SRAM, or raise the limit with --max-tiles"
        )
    return work
