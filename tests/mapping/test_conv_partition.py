"""Convs and pools split over the cores of a multi-core arch: the split rule by hand, every MAC
done once, and the parts' numerics exact against the direct convolution."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.spec.workload import ConvOpSpec
from tests.engine.test_multicore import mesh
from tests.numerics.test_conv_numerics import convs


def conv(**shape):
    return {"kind": "conv2d", "name": "conv", "dtype": "int8", **shape}


def parts(report, name="conv"):
    return [p for p in report.program.ops if p.group == name]


@pytest.mark.parametrize(
    ("shape", "dim", "ranges"),
    [
        # 8 groups on 4 cores: 2 depthwise groups each, nothing loaded twice
        (dict(C=8, H=8, W=8, K=8, R=3, S=3, groups=8), "g", [(0, 2), (2, 4), (4, 6), (6, 8)]),
        # 16 output rows and 8 filters: both give each core a quarter of the MACs (and DRAM is
        # near infinite here); rows load the 3x3x8x8 weights again, filters the 8x16x16 input
        (dict(C=8, H=16, W=16, K=8, R=3, S=3, padding=1), "p", [(0, 4), (4, 8), (8, 12), (12, 16)]),
        # 2 output rows give a core half the MACs, 12 filters a quarter: filters, 3 each
        (dict(C=4, H=2, W=2, K=12, R=1, S=1), "k", [(0, 3), (3, 6), (6, 9), (9, 12)]),
    ],
)
def test_the_split_with_the_least_estimated_time_wins(shape, dim, ranges):
    report = simulator.simulate(mesh((4, 1), cores=4), {"name": "w", "ops": [conv(**shape)]})
    got = parts(report)
    assert [p.details["part"] for p in got] == [{dim: r} for r in ranges]
    assert [p.core for p in got] == [0, 1, 2, 3]
    assert sum(p.macs for p in got) == ConvOpSpec(**conv(**shape)).macs
    assert report.numerics["conv"].max_abs_error == 0


def test_a_slow_dram_picks_the_split_that_loads_least_twice():
    # 1 GB/s DRAM at 1 GHz: 1 B per cycle, so loads dominate; 16 output rows over 4 cores load
    # the 16 x 16 x 1 x 1 weights 3 more times (768 B), 16 filters the 16 x 16 x 16 input (12 KiB)
    arch = {
        "name": "slow",
        "clock": "1 GHz",
        "components": {
            "dram": {"kind": "dram", "technology": "ddr4", "bandwidth": "1 GB/s"},
            "noc": {"kind": "noc", "topology": "ring", "dims": [4], "link_bandwidth": "64 GB/s"},
        },
        "cores": {
            "count": 4,
            "components": {
                "pe": {"kind": "systolic_array", "rows": 8, "cols": 8},
                "vpu": {"kind": "vector", "lanes": 64},
                "buf": {"kind": "sram", "capacity": "1 MiB", "banks": 8},
            },
        },
    }
    report = simulator.simulate(
        arch, {"name": "w", "ops": [conv(C=16, H=16, W=16, K=16)]}, numerics=False
    )
    assert [p.details["part"] for p in parts(report)] == [{"p": (i, i + 4)} for i in (0, 4, 8, 12)]


def test_a_filter_split_loads_the_input_on_every_core():
    report = simulator.simulate(
        mesh((4, 1), cores=4),
        {"name": "w", "ops": [conv(C=4, H=2, W=2, K=12)]},
        numerics=False,
    )
    loads = sum(
        t.dram_bytes
        for p in parts(report)
        for step in p.steps()
        for t in step.loads
        if t.tensor == "conv.X"
    )
    assert loads == 4 * (4 * 2 * 2)  # each core its own copy of the 4x2x2 int8 input


@settings(max_examples=30, deadline=None)
@given(convs(max_hw=9), st.sampled_from([2, 3, 4]), st.integers(0, 2**16))
def test_int8_convs_on_many_cores_equal_the_direct_convolution(op, cores, seed):
    report = simulator.simulate(
        mesh((cores, 1), cores=cores, sram="2 KiB"), {"name": "w", "ops": [op]}, seed=seed
    )
    check = report.numerics["conv"]
    assert check.coverage_ok, check.coverage_message
    assert check.max_abs_error == 0
    assert sum(p.macs for p in parts(report)) == ConvOpSpec(**op).macs
    assert len(parts(report)) <= cores


def test_pools_split_by_channels():
    op = {
        "kind": "pool",
        "name": "pool",
        "mode": "max",
        "C": 10,
        "H": 6,
        "W": 6,
        "R": 2,
        "S": 2,
        "stride": 2,
        "dtype": "int8",
    }
    report = simulator.simulate(mesh((4, 1), cores=4), {"name": "w", "ops": [op]})
    got = parts(report, "pool")
    assert len(got) == 4 and [p.core for p in got] == [0, 1, 2, 3]
    assert report.numerics["pool"].ok and report.numerics["pool"].coverage_ok


@pytest.mark.slow
def test_resnet18_on_mesh_4x4_does_every_mac_and_is_exact():
    report = simulator.simulate("mesh-4x4", "resnet18")
    assert report.summary["macs"] == 1_814_073_344
    assert report.summary["numerics_ok"] and report.summary["coverage_ok"]
    assert {p.core for p in report.program.ops if p.kind == "conv2d"} == set(range(16))
