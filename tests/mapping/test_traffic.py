"""DRAM traffic of tiled loop nests, counted by hand, against the simulation and the closed form."""

import pytest

import simulator
from simulator.mapping.traffic import dram_traffic
from tests.conftest import tiny_arch

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
    closed = dram_traffic({"M": 64, "N": 64, "K": 64}, TILE, order, in_bytes=1, acc_bytes=4)
    assert simulated == sum(closed.values())


def test_auto_mapping_fits_and_beats_a_poor_explicit_mapping():
    workload = "gemm:M=256,N=256,K=256,dtype=int8"
    arch = tiny_arch(capacity="64 KiB")
    auto = simulator.simulate(arch, workload, numerics=False).summary
    poor = {"dataflow": "os", "tile": {"M": 16, "N": 16, "K": 16}, "loop_order": ["K", "M", "N"]}
    manual = simulator.simulate(arch, workload, poor, numerics=False).summary
    assert auto["dram_bytes"] < manual["dram_bytes"]
    assert auto["cycles"] < manual["cycles"]
