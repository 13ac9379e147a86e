"""Convolutions on the array reproduce a direct convolution: exactly for integers, within the fp32
bound for floats, over random shapes, strides, padding, dilation, groups and buffer sizes."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.numerics.conv import ConvNumerics, direct_conv
from simulator.spec.workload import ConvOpSpec
from tests.conftest import tiny_arch


def loop_conv(x, w, op: ConvOpSpec) -> np.ndarray:
    """The seven-loop definition, element by element in Python integers (tiny shapes only)."""
    cg, kg = op.C // op.groups, op.K // op.groups
    y = np.zeros((op.N, op.K, op.P, op.Q), dtype=object)
    for n, k, p, q in itertools.product(range(op.N), range(op.K), range(op.P), range(op.Q)):
        g = k // kg
        total = 0
        for c, r, s in itertools.product(range(cg), range(op.R), range(op.S)):
            h = p * op.stride + r * op.dilation - op.padding
            v = q * op.stride + s * op.dilation - op.padding
            if 0 <= h < op.H and 0 <= v < op.W:
                total += int(x[n, g * cg + c, h, v]) * int(w[k, c, r, s])
        y[n, k, p, q] = total
    return y


@st.composite
def convs(draw, max_hw=12):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    depthwise = draw(st.booleans()) and groups > 1
    cg = 1 if depthwise else draw(st.integers(1, 4))
    kg = 1 if depthwise else draw(st.integers(1, 5))
    r, s = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    h = draw(st.integers((r - 1) * dilation + 1, max_hw))
    w = draw(st.integers((s - 1) * dilation + 1, max_hw))
    return {
        "kind": "conv2d",
        "name": "conv",
        "N": draw(st.integers(1, 2)),
        "C": cg * groups,
        "H": h,
        "W": w,
        "K": kg * groups,
        "R": r,
        "S": s,
        "stride": draw(st.integers(1, 3)),
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
    }


@settings(max_examples=60, deadline=None)
@given(convs(max_hw=7), st.integers(0, 2**16))
def test_direct_reference_equals_the_loop_definition(op, seed):
    spec = ConvOpSpec(**op)
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (spec.N, spec.C, spec.H, spec.W))
    w = rng.integers(-128, 128, (spec.K, spec.C // spec.groups, spec.R, spec.S))
    assert np.array_equal(direct_conv(x, w, spec), loop_conv(x, w, spec).astype(np.int64))


@settings(max_examples=60, deadline=None)
@given(
    convs(),
    st.sampled_from(["os", "ws", "is"]),
    st.sampled_from(["600 B", "2 KiB", "1 MiB"]),
    st.integers(0, 2**16),
)
def test_int8_convs_on_the_array_are_exact(op, dataflow, capacity, seed):
    """Small buffers force tiling of every dim (halos, channel blocks, filter blocks)."""
    workload = {"name": "w", "ops": [op | {"dtype": "int8"}]}
    report = simulator.simulate(
        tiny_arch(4, 4, capacity=capacity), workload, {"dataflow": dataflow}, seed=seed
    )
    check = report.numerics["conv"]
    assert check.coverage_ok, check.coverage_message
    assert check.max_abs_error == 0
    assert report.ops.macs.sum() == ConvOpSpec(**op).macs


@settings(max_examples=25, deadline=None)
@given(convs(), st.sampled_from(["bf16", "fp16", "fp32"]), st.integers(0, 2**16))
def test_float_convs_stay_within_the_fp32_bound(op, dtype, seed):
    workload = {"name": "w", "ops": [op | {"dtype": dtype}]}
    report = simulator.simulate(tiny_arch(4, 4, capacity="2 KiB"), workload, seed=seed)
    assert report.numerics["conv"].ok


def test_output_pixels_that_read_only_padding_are_exact():
    """A 1x1 input with padding 2: most output pixels see only zeros; tiles of them load nothing."""
    op = {"kind": "conv2d", "name": "conv", "C": 1, "H": 1, "W": 1, "K": 5, "padding": 2}
    report = simulator.simulate(
        tiny_arch(4, 4, capacity="600 B"), {"name": "w", "ops": [op | {"dtype": "int8"}]}
    )
    assert report.numerics["conv"].ok and report.numerics["conv"].max_abs_error == 0


def test_a_wrapped_conv_accumulator_is_a_mismatch_that_counts_the_wraps():
    """int8 taps over C=64, 3x3 in an int16 accumulator: sums past 2^15 wrap and fail."""
    op = {"kind": "conv2d", "name": "conv", "C": 64, "H": 6, "W": 6, "K": 4, "R": 3, "S": 3}
    arch = tiny_arch(4, 4, capacity="64 KiB")
    arch["components"]["pe"]["accumulator_precision"] = "int16"
    report = simulator.simulate(arch, {"name": "w", "ops": [op | {"dtype": "int8"}]})
    check = report.numerics["conv"]
    spec = ConvOpSpec(**op)
    state = ConvNumerics(spec, "int16", 0)
    exact = loop_conv(state.x, state.w, spec)
    wrapped = sum(1 for v in exact.ravel() if not -(2**15) <= v < 2**15)
    assert wrapped > 0 and not check.ok and check.coverage_ok
    assert f"{wrapped:,} outputs wrapped in the int16 accumulator" in check.coverage_message
    assert "needs 26 bits" in check.coverage_message  # 8 + 8 + ceil(log2 576)
