"""A watched op jumps where a described state is first seen again (the steps between are one
period, their counters measured), not a period later, and its results stay the event-by-event
run's."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine import coalesce, execute
from simulator.errors import CapacityError
from simulator.mapping import compile_program
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_coalesce import _both, assert_identical


def _arch(rows: int, cols: int, sram: str):
    components = ["components"]
    return load_arch(
        "edge-npu",
        [
            ([*components, "mac_array", "rows"], rows),
            ([*components, "mac_array", "cols"], cols),
            ([*components, "sram", "capacity"], sram),
        ],
    )


@pytest.mark.parametrize(
    "rows, cols, sram",
    [(16, 16, "512 KiB"), (16, 16, "2 MiB"), (64, 64, "512 KiB"), (64, 128, "512 KiB")],
)
def test_the_first_repeated_state_jumps(monkeypatch, rows, cols, sram):
    """Sweep points of array-vs-sram (1024^3 int8, auto mapping): the first jump comes at the
    first description equal to an earlier one, over periods of the steps between the two."""
    arch = _arch(rows, cols, sram)
    workload = load_workload("gemm:M=1024,N=1024,K=1024,dtype=int8")
    machine = build_machine(arch)
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    described, jumps = [], []
    describe, jump = coalesce.describe, coalesce.Watch._jump

    def recording_describe(engine, op, index, previous_done, shapes=None):
        state = describe(engine, op, index, previous_done, shapes)
        described.append((index, state))
        return state

    def recording_jump(self, pattern, cycles, before):
        at = self.stream.index
        done = jump(self, pattern, cycles, before)
        if done:
            jumps.append((at, len(pattern)))
        return done

    monkeypatch.setattr(coalesce, "describe", recording_describe)
    monkeypatch.setattr(coalesce.Watch, "_jump", recording_jump)
    execute(program, machine)
    assert jumps
    at, period = jumps[0]
    first_repeat = next(
        index
        for n, (index, state) in enumerate(described)
        if state is not None and any(state == earlier for _, earlier in described[:n])
    )
    assert at == first_repeat
    assert dict(described)[at - period] == dict(described)[at]
    monkeypatch.undo()
    assert_identical(*_both(arch, workload))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.sampled_from([16, 32, 64]),
    sram=st.sampled_from(["256 KiB", "1 MiB"]),
    dims=st.tuples(*[st.sampled_from([256, 384, 512])] * 3),
    tile=st.tuples(*[st.sampled_from([32, 64, 128])] * 3),
    order=st.permutations("MNK"),
)
def test_jumps_at_repeats_give_event_runs(rows, sram, dims, tile, order):
    """Property: GEMMs of random tiles and loop orders (periods of many lengths, edge tiles),
    coalesced with jumps at the first repeated state, equal every step run as events."""
    m, n, k = dims
    mapping = {"name": "t", "tile": dict(zip("MNK", tile)), "loop_order": list(order)}
    mapping["edge_tiles"] = "partial"
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=int8")
    try:
        both = _both(_arch(rows, rows, sram), workload, mapping)
    except CapacityError:
        return
    assert_identical(*both)
