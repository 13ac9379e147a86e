"""The engine's event count (benchmarks/speed.py prints it): every event simpy processed, once."""

import simpy

from simulator.components import build_machine
from simulator.engine import execute, run
from simulator.mapping import compile_program
from simulator.spec import load_arch, load_mapping, load_workload


class _Tally(simpy.Environment):
    """Counts the events its run loop processes, one per successful step()."""

    processed_steps = 0

    def step(self) -> None:
        super().step()  # raises EmptySchedule once the queue is empty: not an event
        self.processed_steps += 1


def test_events_processed_is_the_number_of_events_simpy_processed(monkeypatch):
    environments = []

    class Both(run._CountingEnvironment, _Tally):
        def __init__(self):
            super().__init__()
            environments.append(self)

    monkeypatch.setattr(run, "_CountingEnvironment", Both)
    arch = load_arch("mesh-4x4")  # NoC flows, several cores: many kinds of event
    machine = build_machine(arch)
    workload = load_workload("gemm:M=256,N=256,K=256,dtype=int8")
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    record = execute(program, machine, memoize=False, coalesce=False)
    assert len(environments) == 1
    assert record.events_processed == environments[0].processed_steps > 100
