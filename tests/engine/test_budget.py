"""A run under a step budget (engine/budget.py): the engine may take exactly the limit's steps from
its op streams and no more, whichever way `execute` gets there: nothing is spent on looking for
tile kernels, and a memo attempt that falls back to the whole run leaves the whole run every step."""

import contextlib
from unittest.mock import patch

import pytest

import simulator.engine.memo
from simulator.components import build_machine
from simulator.engine.budget import SETTLE, Budget
from simulator.engine.coalesce import MIN_STEPS
from simulator.engine.memo import Inexact, execute
from simulator.errors import CapacityError
from simulator.mapping import compile_program
from simulator.mapping.program import Program
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_memo import _TINY_LLAMA


def _compiled(workload):
    machine = build_machine(load_arch("edge-npu"))  # one core, no NoC: where budgets apply
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    return program, machine


def _every_step(program) -> int:
    """The steps of every op's stream, walked: what a run without coalescing takes, memo aside."""
    return sum(1 for op in program.ops for _ in op.steps())


def test_a_run_of_exactly_the_limit_runs_and_one_step_more_is_refused():
    """A single GEMM (no quiescent point: one engine), every step simulated as events."""
    program, machine = _compiled(load_workload("gemm:M=256,N=192,K=320,dtype=int8"))
    steps = _every_step(program)
    free = execute(program, machine, coalesce=False)
    within = execute(program, machine, coalesce=False, budget=Budget("w", steps))
    assert (within.cycles, within.steps) == (free.cycles, free.steps)
    with pytest.raises(CapacityError, match=f"w: over {steps - 1:,} tile steps to simulate"):
        execute(program, machine, coalesce=False, budget=Budget("w", steps - 1))


def test_a_memo_attempt_that_falls_back_leaves_the_whole_run_its_whole_budget():
    """Two equal layers: the memo attempt simulates the first and accounts the second, then (as
    a run that is not exact would) falls back to one engine over both, which takes every step:
    it runs at exactly that many and is refused at one fewer."""
    program, machine = _compiled(
        load_workload("llama-2-7b-decode", [*_TINY_LLAMA, (["layers"], 2), (["dtype"], "fp16")])
    )
    steps = _every_step(program)
    attempts = []
    memoized = simulator.engine.memo.execute_memoized

    def falls_back(*args, **kwargs):
        attempts.append(memoized(*args, **kwargs))  # the memo's steps taken, then thrown away
        raise Inexact("a fallback")

    free = execute(program, machine, coalesce=False, memoize=False)
    with patch.object(simulator.engine.memo, "execute_memoized", falls_back):
        within = execute(program, machine, coalesce=False, budget=Budget("w", steps))
        with pytest.raises(CapacityError, match=f"w: over {steps - 1:,} tile steps"):
            execute(program, machine, coalesce=False, budget=Budget("w", steps - 1))
    assert 0 < attempts[0].events_processed < free.events_processed  # the memo's own steps
    assert (within.cycles, within.steps) == (free.cycles, free.steps)


def test_a_stream_past_its_settling_is_refused_once_the_others_leave_too_little():
    """A stream of 800 steps (known) takes SETTLE + 1 = 513 without a jump: at its 513th, 288 to
    come and 488 left in a budget of 1,000, so it goes on; another stream then takes 250 (237
    left, fewer than its 287 to come): it is refused at its next step, not once the budget runs
    out 237 steps later."""
    budget = Budget("w", 1000)
    first = budget.take("a", iter(range(800)), 800)
    assert len([next(first) for _ in range(SETTLE + 1)]) == SETTLE + 1
    assert len(list(budget.take("b", iter(range(250))))) == 250
    with pytest.raises(CapacityError, match=r"in a: no steady state in 513 steps, 287 to come"):
        next(first)


def test_steps_no_jump_can_skip_are_owed_from_the_start_of_a_whole_run():
    """A GEMM (its steps skippable by coalescing, here off) then 9 short relus (under MIN_STEPS
    steps each: never watched, every step taken): one engine over the program owes the relus'
    R steps from its start, so with a budget of R + G/2 the run is refused at the GEMM's step
    G/2 + 1, where R steps to come pass the R - 1 left, not once the whole budget is spent."""
    rows = [{"kind": "relu", "name": f"r{i}", "rows": 128 * (40 + i), "cols": 64} for i in range(9)]
    ops = [{"kind": "gemm", "name": "g", "M": 512, "N": 512, "K": 512, "dtype": "int8"}]
    ops += [row | {"dtype": "fp16"} for row in rows]
    machine = build_machine(load_arch("edge-npu", [(["components", "sram", "capacity"], "64 KiB")]))
    program, _ = compile_program(
        load_workload({"name": "w", "ops": ops}), load_mapping(None), machine, False, 0
    )
    gemm, relus = _every_step(Program(program.ops[:1])), _every_step(Program(program.ops[1:]))
    assert gemm >= MIN_STEPS and relus == sum(40 + i for i in range(9))  # 128 rows a step
    limit = relus + gemm // 2
    with takes_counted() as taken, pytest.raises(CapacityError) as refused:
        execute(program, machine, coalesce=False, memoize=False, budget=Budget("w", limit))
    assert f"(in g: {relus:,} steps to come that no jump can skip)" in str(refused.value)
    assert taken == ["g"] * (gemm // 2 + 1)


def test_an_owed_stream_past_its_settling_counts_its_steps_to_come_once():
    """A stream of 1,500 steps no jump can skip, owed from the start, under a budget of exactly
    1,500: at its step SETTLE + 1 = 513 it has 988 to come and 988 are owed (the same steps) with
    988 left, so it runs to its end; under 1,499 its 1,500 owed steps pass the budget at once."""
    budget = Budget("w", 1500)
    budget.owed = 1500  # as `budgeted` owes it on a whole-program engine
    assert len(list(budget.take("a", iter(range(1500)), 1500, owed=True))) == 1500
    assert (budget.left, budget.owed) == (0, 0)
    short = Budget("w", 1499)
    short.owed = 1500
    with pytest.raises(CapacityError, match=r"in a: 1,500 steps to come that no jump can skip"):
        next(short.take("a", iter(range(1500)), 1500, owed=True))


@contextlib.contextmanager
def takes_counted():
    """The op of every step taken from a budget while it is open, in order."""
    taken = []
    take = Budget.take

    def counted(self, op, steps, left=None, owed=False):
        for step in take(self, op, steps, left, owed):
            taken.append(op)
            yield step

    with patch.object(Budget, "take", counted):
        yield taken
