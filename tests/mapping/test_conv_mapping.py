"""Conv mapping: DRAM carries the real feature map (halo windows, no padding), MAC counts and the
timing bound hold, tiles fit their buffers."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import UnsupportedError
from simulator.mapping.conv import _span
from simulator.spec.workload import ConvOpSpec
from tests.conftest import tiny_arch


def conv(**shape):
    return {"kind": "conv2d", "name": "conv", "dtype": "int8", **shape}


def test_a_layer_that_fits_reads_its_feature_map_and_weights_once():
    op = conv(C=8, H=14, W=14, K=16, R=3, S=3, padding=1)
    report = simulator.simulate(tiny_arch(8, 8), {"name": "w", "ops": [op]}, numerics=False)
    loads = report.record.op_dram["conv"]
    # one int8 byte per element: X 8x14x14 (padding is never stored), W 16x8x3x3, Y 16x14x14
    assert loads["load"] == 8 * 14 * 14 + 16 * 8 * 3 * 3
    assert loads["store"] == 16 * 14 * 14


def test_halo_rows_are_the_window_the_outputs_read():
    # outputs 0..3 of a 3-tap, stride-1, pad-1 conv read rows -1..4, stored rows 0..4
    assert _span(0, 4, 1, 3, 1, 8) == (0, 5)
    # outputs 4..7 read rows 3..8, clipped to the 8 stored rows
    assert _span(4, 8, 1, 3, 1, 8) == (3, 8)
    # stride 2, 7 taps, pad 3 (ResNet's stem): outputs 0..111 read rows 0..223 of 224
    assert _span(0, 112, 2, 7, 3, 224) == (0, 224)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(3, 16),
    st.integers(1, 8),
    st.sampled_from([1, 3]),
    st.integers(1, 2),
    st.sampled_from(["os", "ws", "is"]),
    st.sampled_from(["1 KiB", "4 KiB", "1 MiB"]),
)
def test_cycles_never_beat_the_mac_or_bandwidth_bound(c, hw, k, r, stride, dataflow, capacity):
    op = conv(C=c, H=hw, W=hw, K=k, R=r, S=r, stride=stride, padding=r // 2)
    spec = ConvOpSpec(**op)
    report = simulator.simulate(
        tiny_arch(4, 4, capacity=capacity),
        {"name": "w", "ops": [op]},
        {"dataflow": dataflow},
        numerics=False,
    )
    s = report.summary
    assert s["macs"] == spec.macs
    # the tiny arch's DRAM moves 1 B/cycle; every input row / column some output reads, and the
    # weights, cross it at least once
    rows = {p * stride + t - spec.padding for p in range(spec.P) for t in range(r)}
    read = len({i for i in rows if 0 <= i < hw})
    at_least = spec.C * read * read + spec.K * spec.C * spec.R * spec.S
    assert s["cycles"] >= max(spec.macs / 16, at_least)


def test_a_tile_that_cannot_fit_is_a_capacity_error():
    op = conv(C=4, H=8, W=8, K=4, R=3, S=3)
    with pytest.raises(simulator.errors.CapacityError, match="one output pixel"):
        simulator.simulate(tiny_arch(4, 4, capacity="16 B"), {"name": "w", "ops": [op]})


def test_depthwise_blocks_run_their_groups_one_after_another():
    """32 channels of a depthwise 3x3 on 6x6 maps, os on a 4x4 array, realistic accounting:
    each group is M = 36 pixels x N = 1 filter x K = 9 taps: ceil(36/4) folds of max(9, 4)
    cycles plus a 4 + 4 - 2 drain."""
    op = conv(C=32, H=6, W=6, K=32, R=3, S=3, padding=1, groups=32)
    report = simulator.simulate(
        tiny_arch(4, 4, bandwidth="700 GB/s"),
        {"name": "w", "ops": [op]},
        {"dataflow": "os"},
        numerics=False,
    )
    per_group = math.ceil(36 / 4) * max(9, 4) + 4 + 4 - 2
    assert report.record.busy["pe"] == 32 * per_group


def test_a_gemm_tile_in_the_mapping_is_refused_not_ignored_for_a_conv():
    conv = {"name": "c", "ops": [{"kind": "conv2d", "name": "c", "C": 8, "H": 8, "W": 8, "K": 8}]}
    with pytest.raises(UnsupportedError, match="mapping.tile and mapping.loop_order"):
        simulator.simulate("edge-npu", conv, {"tile": {"M": 16}}, numerics=False)
