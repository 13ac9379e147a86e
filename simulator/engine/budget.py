"""A program whose steps stop at a budget: the engine takes at most that many steps from its op
streams, then the run is refused (a CapacityError the CLI prints as one line).

The cost guard (spec/guards.py) counts the steps the engine simulates without crediting
steady-state coalescing, which finds a period only as the run goes. Where coalescing may apply
and the count is above the limit, the run starts under this budget instead of being refused: a
GEMM of a million steps whose pipeline settles takes a few hundred of them (its jumps resume the
stream past the steps they skip, which are never taken), and one that does not settle stops at
the limit, as a refused run would have been. Sooner where that is sure: a stream of a known
number of steps whose coalescer has made no jump in PATIENCE descriptions runs every step left
as events (engine/coalesce.py: it describes every step of an op longer than MAX_STRIDE_STEPS, and
each jump resumes the stream), so once a stream has taken twice that, the run is refused at the
first step where its steps left pass the budget left (at once, or as soon as other streams of
the run have taken what its steps would need), a few seconds in. Steps no jump can skip without
taking them (`skippable`; engine/work.py: `Work.sure`) are counted before the run, which is
refused there where they alone pass the limit; where one engine takes every op's stream they are
owed from its start, and any stream is stopped once the budget left cannot cover them.

`execute` (engine/memo.py) applies the budget to each attempt at a run, so the steps counted are
exactly those the attempt takes: none are spent looking for tile kernels, and a memo attempt that
falls back to the whole program leaves the whole run the whole limit.
"""

from collections.abc import Iterable, Iterator

from simulator.engine.coalesce import MAX_STRIDE_STEPS, MIN_STEPS, PATIENCE
from simulator.errors import CapacityError
from simulator.mapping.program import OpProgram, Program, Step, altered

SETTLE = 2 * PATIENCE
"""Steps a stream takes without a jump after which its coalescer has certainly given up (each
step is described, bar a few at a candidate's check or near the op's end)."""


class Budget:
    """Steps still allowed, shared by every op stream of one run, and of them the steps still to
    come that no jump can skip (`owed`: known only where every op's stream will be taken)."""

    def __init__(self, name: str, limit: int):
        self.name, self.limit, self.left, self.owed = name, limit, limit, 0

    def afresh(self) -> "Budget":
        """The whole limit again, for another attempt at the same run: a memo attempt that falls
        back to the whole program leaves the whole run every step (engine/memo.py: execute)."""
        return Budget(self.name, self.limit)

    def take(
        self, op: str, steps: Iterable[Step], left: int | None = None, owed: bool = False
    ) -> Iterator[Step]:
        """`steps`, each taken from the budget; past it, or where the steps owed (this stream's,
        with `owed`, and others') or a settled stream's steps to come pass what is left, a
        CapacityError naming `op`. `left`: how many steps this stream has to give (None: not
        known); an owed stream's are counted once, among the steps owed."""
        taken = 0
        for step in steps:
            if not self.left:
                self._refuse(op, "its pipeline found no steady state to skip")
            if self.owed > self.left:
                self._refuse(op, f"{self.owed:,} steps to come that no jump can skip")
            settled = taken >= SETTLE and left is not None and not owed  # owed: in self.owed
            if settled and left - taken + self.owed > self.left:
                self._refuse(op, f"no steady state in {taken:,} steps, {left - taken:,} to come")
            self.left -= 1
            self.owed -= owed
            taken += 1
            yield step

    def _refuse(self, op: str, why: str):
        raise CapacityError(
            f"{self.name}: over {self.limit:,} tile steps to simulate (in {op}: {why}); shrink "
            f"{op} or the layers, or raise the limit with --max-tiles"
        )


def skippable(op: OpProgram, count: int) -> bool:
    """Whether coalescing can skip steps of `op` (of `count` steps) without taking them from its
    stream: only a stream it watches (MIN_STEPS or more) that resumes past a jump and knows its
    steps' classes; any other stream's jump consumes the steps it skips (engine/coalesce.py:
    `Stream.skip_periods`), so a budget counts every one of them."""
    return op.resume is not None and op.classes is not None and count >= MIN_STEPS


def budgeted(program: Program, budget: Budget, whole: bool = False) -> Program:
    """`program` with every op's steps (and the resumed streams coalescing jumps to) taken from
    `budget`. `whole`: one engine takes every op's stream, so the steps of those no jump can
    skip are owed from the start (a memo attempt may account an op from another run instead)."""

    def bound(op: OpProgram) -> OpProgram:
        steps, resume = op.steps, op.resume
        counted = op.step_count and op.step_count.of(op)  # streams that jump resume: known
        total = counted if counted and counted > MAX_STRIDE_STEPS and resume else None
        owed = whole and counted is not None and not skippable(op, counted)
        budget.owed += counted if owed else 0

        def taken():
            return budget.take(op.name, steps(), total, owed)

        def again(start: int):
            return budget.take(op.name, resume(start), total and total - start, owed)

        return altered(op, steps=taken, resume=resume and again)

    return Program(tuple(map(bound, program.ops)), program.meta)
