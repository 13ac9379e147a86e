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
taking them (engine/work.py: `Work.sure`) are counted before the run, which is refused there
where they alone pass the limit.

`execute` (engine/memo.py) applies the budget to each attempt at a run, so the steps counted are
exactly those the attempt takes: none are spent looking for tile kernels, and a memo attempt that
falls back to the whole program leaves the whole run the whole limit.
"""

from collections.abc import Iterable, Iterator

from simulator.engine.coalesce import MAX_STRIDE_STEPS, PATIENCE
from simulator.errors import CapacityError
from simulator.mapping.program import OpProgram, Program, Step, altered

SETTLE = 2 * PATIENCE
"""Steps a stream takes without a jump after which its coalescer has certainly given up (each
step is described, bar a few at a candidate's check or near the op's end)."""


class Budget:
    """Steps still allowed, shared by every op stream of one run."""

    def __init__(self, name: str, limit: int):
        self.name, self.limit, self.left = name, limit, limit

    def afresh(self) -> "Budget":
        """The whole limit again, for another attempt at the same run: a memo attempt that falls
        back to the whole program leaves the whole run every step (engine/memo.py: execute)."""
        return Budget(self.name, self.limit)

    def take(self, op: str, steps: Iterable[Step], left: int | None = None) -> Iterator[Step]:
        """`steps`, each taken from the budget; past it, a CapacityError naming `op`. `left`:
        how many steps this stream has to give (None: not known)."""
        taken = 0
        for step in steps:
            if not self.left:
                self._refuse(op, "its pipeline found no steady state to skip")
            if taken >= SETTLE and left is not None and left - taken > self.left:
                self._refuse(op, f"no steady state in {taken:,} steps, {left - taken:,} to come")
            self.left -= 1
            taken += 1
            yield step

    def _refuse(self, op: str, why: str):
        raise CapacityError(
            f"{self.name}: over {self.limit:,} tile steps to simulate (in {op}: {why}); shrink "
            f"{op} or the layers, or raise the limit with --max-tiles"
        )


def budgeted(program: Program, budget: Budget) -> Program:
    """`program` with every op's steps (and the resumed streams coalescing jumps to) taken from
    `budget`."""

    def bound(op: OpProgram) -> OpProgram:
        steps, resume = op.steps, op.resume
        counted = op.step_count and op.step_count.of(op)  # streams that jump resume: known
        total = counted if counted and counted > MAX_STRIDE_STEPS and resume else None

        def taken():
            return budget.take(op.name, steps(), total)

        def again(start: int):
            return budget.take(op.name, resume(start), total and total - start)

        return altered(op, steps=taken, resume=resume and again)

    return Program(tuple(map(bound, program.ops)), program.meta)
