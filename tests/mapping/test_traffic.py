"""DRAM traffic of tiled loop nests, counted by hand, against the simulation and the closed form."""

import collections
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.mapping import compile_program
from simulator.mapping.traffic import dram_traffic
from simulator.spec import load_arch, load_mapping, load_workload
from tests.conftest import tiny_arch
from tests.strategies import shapes_and_mappings

TILE = {"M": 32, "N": 32, "K": 32}


def traffic_by_kind(order):
    mapping = {"dataflow": "os", "tile": TILE, "loop_order": order}
    report = simulator.simulate(
        tiny_arch(), "gemm:M=64,N=64,K=64,dtype=int8", mapping, numerics=False
    )
    return dict(report.record.op_dram["gemm"])


def test_output_stationary_loop_order_never_spills():
    # M, N, K (K innermost): A and B tiles change every step: 8 steps x 1 KiB each;
    # every C tile is finished before it is left: 4 stores x 32*32*4 B.
    assert traffic_by_kind(["M", "N", "K"]) == {"load": 8 * 1024 + 8 * 1024, "store": 4 * 4096}


def test_reduction_outermost_spills_and_reloads_partial_sums():
    # K, M, N: A (m, k) stays across the inner N loop: 4 loads; B changes every step: 8 loads.
    # Each C tile is visited twice: alloc + spill, then reload + final store.
    assert traffic_by_kind(["K", "M", "N"]) == {
        "load": 4 * 1024 + 8 * 1024,
        "spill": 4 * 4096,
        "reload": 4 * 4096,
        "store": 4 * 4096,
    }


@pytest.mark.parametrize(
    "order", [["M", "N", "K"], ["K", "M", "N"], ["N", "K", "M"], ["K", "N", "M"]]
)
def test_closed_form_agrees_with_simulated_traffic(order):
    simulated = sum(traffic_by_kind(order).values())
    closed = dram_traffic(
        {"M": 64, "N": 64, "K": 64}, TILE, order, in_bytes=1, acc_bytes=4, out_bytes=4
    )
    assert simulated == sum(closed.values())


def test_auto_mapping_fits_and_beats_a_poor_explicit_mapping():
    workload = "gemm:M=256,N=256,K=256,dtype=int8"
    arch = tiny_arch(capacity="64 KiB")
    auto = simulator.simulate(arch, workload, numerics=False).summary
    poor = {"dataflow": "os", "tile": {"M": 16, "N": 16, "K": 16}, "loop_order": ["K", "M", "N"]}
    manual = simulator.simulate(arch, workload, poor, numerics=False).summary
    assert auto["dram_bytes"] < manual["dram_bytes"]
    assert auto["cycles"] < manual["cycles"]


@settings(max_examples=60, deadline=None)
@given(shapes_and_mappings(max_dim=90), st.integers(0, 10**6))
def test_a_gemms_steps_walk_its_loop_nest_and_move_the_closed_forms_bytes(drawn, where):
    """A GEMM's steps (`gemm._steps`, from the start and resumed anywhere) compute the tiles of
    its loop nest in loop order (itertools.product of each dim's tile ranges), take back every
    buffer byte they take, and move the closed form's DRAM bytes (int8 operands, int32 C) where
    every loop has two trips or more (the closed form streams an operand again on every trip)."""
    shape, mapping = drawn
    machine = build_machine(load_arch(tiny_arch(8, 8)))
    workload = load_workload("gemm:M={M},N={N},K={K},dtype=int8".format(**shape))
    program, _ = compile_program(
        workload, load_mapping({"name": "p", **mapping}), machine, False, 0
    )
    (op,) = program.ops
    steps = list(op.steps())
    order, tile = mapping["loop_order"], mapping["tile"]
    ranges = {
        d: [(lo, min(lo + tile[d], shape[d])) for lo in range(0, shape[d], tile[d])] for d in shape
    }
    nest = [dict(zip(order, at)) for at in itertools.product(*(ranges[d] for d in order))]
    assert [s.computes[0].regions for s in steps] == [
        {"A": (r["M"], r["K"]), "B": (r["K"], r["N"]), "C": (r["M"], r["N"])} for r in nest
    ]
    held = collections.Counter()
    for step in steps:
        for load in step.loads:
            held[load.buffer] += load.space
        for buffer, space in step.frees:
            held[buffer] -= space
        for store in step.stores:
            held[store.buffer] -= store.space
    assert set(held.values()) <= {0}
    moved = sum(t.dram_bytes for s in steps for t in (*s.loads, *s.stores))
    closed = dram_traffic(shape, tile, order, in_bytes=1, acc_bytes=4, out_bytes=4)
    if all(len(ranges[d]) > 1 for d in shape):  # else a tile kept across a one-trip loop moves less
        assert moved == sum(closed.values())
    at = where % (len(steps) + 1)
    assert list(op.resume(at)) == steps[at:]
