"""The engine's lean resources (engine/resources.py) against simpy's: the same processes resume
at the same times in the same order, and whole engine runs give the same records with fewer
events."""

import pytest
import simpy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulator.engine import run
from simulator.engine.resources import Fifo, Space
from simulator.errors import CapacityError
from simulator.spec import load_arch, load_workload
from tests.engine.test_coalesce import _both, assert_identical, single_core_runs
from tests.engine.test_memo import _chain

# a process's actions: ("hold", resource, cycles), ("take", buffer, bytes: given back after
# `cycles`), ("wait", cycles), ("tick", which): wait for one of three timeouts every process
# shares (an event that resumes several); small delays so that many things happen at once
ACTIONS = st.one_of(
    st.tuples(st.just("hold"), st.integers(0, 1), st.integers(0, 3)),
    st.tuples(st.just("take"), st.integers(0, 1), st.integers(1, 6), st.integers(0, 3)),
    st.tuples(st.just("wait"), st.integers(0, 2)),
    st.tuples(st.just("tick"), st.integers(0, 2)),
)
SCRIPTS = st.lists(st.lists(ACTIONS, max_size=6), min_size=1, max_size=6)


def _trace(scripts, fifo, space, environment=simpy.Environment) -> list:
    """(time, process, action) every time a process of `scripts` resumes, in order, on
    resources made by `fifo(env)` and `space(env, capacity, init)` in an `environment`."""
    env = environment()
    holders = [fifo(env) for _ in range(2)]
    buffers = [space(env, 8, 8) for _ in range(2)]
    ticks = [env.timeout(delay) for delay in range(3)]
    log = []

    def give_back(buffer, nbytes, cycles, who):
        yield env.timeout(cycles)
        buffer.put(nbytes)
        log.append((env.now, who, "gave"))
        if nbytes % 2:  # its end later: the return may be the only event due now
            yield env.timeout(1)

    def process(number, script):
        for step, action in enumerate(script):
            who = (number, step)
            if action[0] == "hold":
                request = holders[action[1]].request()
                yield request
                log.append((env.now, who, "granted"))
                yield env.timeout(action[2])
                holders[action[1]].release(request)
            elif action[0] == "take":
                _, which, nbytes, cycles = action
                yield buffers[which].get(nbytes)
                log.append((env.now, who, "took"))
                env.process(give_back(buffers[which], nbytes, cycles, who))
            elif action[0] == "tick":
                yield ticks[action[1]]
            else:
                yield env.timeout(action[1])
            log.append((env.now, who, "done"))

    for number, script in enumerate(scripts):
        env.process(process(number, script))
    env.run()
    return log + [tuple(b.level for b in buffers), tuple(len(h.queue) for h in holders)]


@settings(max_examples=300, deadline=None)
@given(SCRIPTS)
@example(  # a return made with no take waiting still serves one that comes before it is processed
    [
        [("hold", 0, 0), ("hold", 0, 0)],
        [("wait", 1), ("take", 1, 5, 1)],
        [("take", 1, 1, 2), ("hold", 0, 2), ("take", 1, 4, 0)],
    ]
)
def test_lean_resources_resume_processes_as_simpy_does(scripts):
    """Property: random processes holding capacity-1 resources and taking and giving back
    buffer bytes, many at the same times, resume in the same order at the same times. (The
    example: a return that is no event where no take waits as it is made resumes a later take
    in another place than simpy, so returns stay events.)"""
    simpys = _trace(scripts, lambda env: simpy.Resource(env, capacity=1), simpy.Container)
    assert _trace(scripts, Fifo, Space) == simpys


@settings(max_examples=300, deadline=None)
@given(SCRIPTS)
@example(  # one return serves two waiting takes: the first's taker goes on after both are served
    [[("take", 0, 7, 1)], [("take", 0, 4, 3), ("wait", 0)], [("take", 0, 3, 3)]]
)
def test_grants_and_takes_made_at_once_resume_processes_as_simpy_does(scripts):
    """Property: in the single-core engine's environment, which lets a grant or take made at
    once be no event where it would be the next processed (resources.py `_at_once`), the same
    random processes resume in the same order at the same times as on simpy's resources in
    simpy's environment."""
    simpys = _trace(scripts, lambda env: simpy.Resource(env, capacity=1), simpy.Container)
    assert _trace(scripts, Fifo, Space, run._PlainEnvironment) == simpys


def _simpy_resources(monkeypatch) -> None:
    monkeypatch.setattr(run, "Fifo", lambda env: simpy.Resource(env, capacity=1))
    monkeypatch.setattr(run, "Space", simpy.Container)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_core_runs())
def test_engine_runs_equal_runs_on_simpys_resources(case):
    """Property: random single-core GEMM chains (DRAM bandwidth, latency, buffers, ports,
    tilings), coalesced and event by event, give the records they give on simpy's resources,
    with no more events."""
    arch, shape, mapping, layers = case
    workload = _chain(layers, {**shape, "dtype": "int8"})
    try:
        lean = _both(load_arch(arch), workload, {"name": "p", **mapping})
    except CapacityError:
        return
    with pytest.MonkeyPatch.context() as patched:
        _simpy_resources(patched)
        reference = _both(load_arch(arch), workload, {"name": "p", **mapping})
    for mine, theirs in zip(lean, reference):
        assert_identical(mine, theirs)
        assert mine[0].events_processed <= theirs[0].events_processed


def test_multicore_runs_equal_runs_on_simpys_resources():
    """A mesh (controllers, links, an L2) and a GPU-like chip (fine-interleaved pools, classes)."""
    cases = [
        (load_arch("mesh-4x4"), "gemm:M=200,N=136,K=96,dtype=int8"),
        (load_arch("a100-like", [(["cores", "count"], 6)]), "gemm:M=384,N=320,K=256,dtype=fp16"),
    ]
    for arch, workload in cases:
        lean = _both(arch, load_workload(workload))
        with pytest.MonkeyPatch.context() as patched:
            _simpy_resources(patched)
            reference = _both(arch, load_workload(workload))
        for mine, theirs in zip(lean, reference):
            assert_identical(mine, theirs)
            assert mine[0].events_processed < theirs[0].events_processed
