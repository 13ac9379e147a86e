"""Convolutions on crossbars (ISAAC-style unrolling): crossbar counts and DRAM bytes by hand, and
the crossbar functional model against the direct convolution over random shapes and crossbar
pools (exact for integers through a lossless ADC)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.numerics.crossbar_conv import ConvCrossbarNumerics
from simulator.spec import load_arch
from simulator.spec.workload import ConvOpSpec
from tests.mapping.test_crossbar_mapping import crossbar_arch
from tests.numerics.test_conv_numerics import convs


def conv(**shape):
    return {"kind": "conv2d", "name": "conv", "dtype": "int8", **shape}


def test_filters_unroll_onto_crossbar_rows_and_columns():
    # C R S = 16 x 3 x 3 = 144 taps over 128 rows: 2 row tiles; 40 filters, int8 = 4 two-bit
    # cells each, 32 per 128 columns: 2 column tiles
    op = conv(C=16, H=8, W=8, K=40, R=3, S=3, padding=1)
    report = simulator.simulate(crossbar_arch(), {"name": "w", "ops": [op]}, numerics=False)
    d = report.program.ops[0].details
    assert d["unit"] == "xbar" and d["row_tiles"] == 2 and d["col_tiles"] == 2
    assert d["copy_crossbars"] == 4
    assert d["weight_cells"] == 144 * 40 * 4
    assert report.ops.macs.sum() == 8 * 8 * 40 * 144
    # the feature map is read once (padding never stored), the outputs written once, in int8
    dram = report.record.op_dram["conv"]
    assert dram["load"] == 16 * 8 * 8
    assert dram["store"] == 40 * 8 * 8


def test_replicas_serve_output_pixels_in_parallel():
    # 96 crossbars, one copy takes 1 (9 taps x 8 filters): 64 pixels need 1 wave with 64 copies
    op = conv(C=1, H=10, W=10, K=8, R=3, S=3)
    report = simulator.simulate(crossbar_arch(), {"name": "w", "ops": [op]}, numerics=False)
    d = report.program.ops[0].details
    assert d["replication"] == 64
    # one wave of 8 input cycles (int8, 1-bit DACs) of 100 ns at 1.2 GHz
    assert report.record.op_busy["conv"]["xbar"] == 8 * 120


def test_grouped_convs_stay_off_the_crossbars():
    op = conv(C=8, H=6, W=6, K=8, R=3, S=3, groups=8)
    arch = crossbar_arch()
    arch["components"]["pe"] = {"kind": "systolic_array", "rows": 4, "cols": 4}
    report = simulator.simulate(arch, {"name": "w", "ops": [op]}, numerics=False)
    assert report.program.ops[0].unit == "pe"


def small_crossbars(crossbars: int, capacity: str, adc_bits: int = 8) -> dict:
    """16 x 16 crossbars (4 int8 weights each), so small convs span several row and column tiles."""
    arch = crossbar_arch(
        imas=1, per_ima=crossbars, rows=16, cols=16, adc_bits=adc_bits, columns_per_adc=16
    )
    arch["components"]["buf"]["capacity"] = capacity
    return arch


@settings(max_examples=40, deadline=None)
@given(
    convs(max_hw=9),
    st.sampled_from([2, 8, 64]),
    st.sampled_from(["1 KiB", "1 MiB"]),
    st.integers(0, 2**16),
)
def test_int8_convs_on_crossbars_equal_the_direct_convolution(op, crossbars, capacity, seed):
    """Few crossbars force weight passes, small buffers force row steps; 16-row crossbars with
    flipped columns sum at most 16 x 3 / 2 levels, which 8 ADC bits read losslessly."""
    op = op | {"groups": 1, "C": op["C"] // op["groups"], "K": op["K"] // op["groups"]}
    arch = small_crossbars(crossbars, capacity)
    report = simulator.simulate(arch, {"name": "w", "ops": [op]}, seed=seed)
    check = report.numerics["conv"]
    assert report.program.ops[0].unit == "xbar"
    assert check.coverage_ok, check.coverage_message
    assert check.max_abs_error == 0
    assert report.ops.macs.sum() == ConvOpSpec(**op).macs


@pytest.mark.parametrize("adc_bits", [3, 4])
def test_a_lossy_adc_stays_within_the_crossbar_bound_of_the_direct_convolution(adc_bits):
    op = ConvOpSpec(**conv(C=5, H=7, W=7, K=6, R=3, S=3, padding=1))
    arch = small_crossbars(8, "1 MiB", adc_bits)
    unit = build_machine(load_arch(arch)).components["xbar"]
    state = ConvCrossbarNumerics(op, unit, seed=3)
    taps = 5 * 9
    state.tile((0, 49), (0, 6), (0, taps))
    check = state.check()
    assert check.ok and check.coverage_ok
    assert 0 < check.max_abs_error <= check.error_bound
    # the direct convolution is the reference, not the crossbar's own im2col matmul
    x = np.pad(state.x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    y00 = int((x[0, :, 0:3, 0:3] * state.w[2].astype(np.int64)).sum())
    assert abs(state.result()[0, 2, 0, 0] - y00) <= check.error_bound


@pytest.mark.slow
def test_resnet18_on_isaac_like_unrolls_every_conv_onto_the_crossbars():
    report = simulator.simulate("isaac-like", "resnet18", numerics=False)
    workload = simulator.spec.load_workload("resnet18")
    convs_ = [op for op in workload.ops if op.kind == "conv2d"]
    programs = {p.name: p for p in report.program.ops}
    for op in convs_:  # ISAAC-CE: 128 rows, 32 int8 weights (4 two-bit cells) per 128 columns
        d = programs[op.name].details
        assert d["unit"] == "xbar"
        assert d["copy_crossbars"] == math.ceil(op.C * op.R * op.S / 128) * math.ceil(op.K / 32)
    assert report.summary["macs"] == 1_814_073_344


def test_a_batched_vgg_layer_keeps_every_isaac_tile_busy():
    """ISAAC's busy power is every tile working. VGG-16 conv4_2 (512 -> 512, 3x3, 28x28) in int16:
    4608 taps over 128 rows = 36 row tiles, 512 filters of 8 two-bit cells, 16 per 128 columns =
    32 column tiles: 1152 crossbars a copy, so 14 copies fill all 168 x 96 = 16,128. A batch of 16
    is 12,544 pixels, 28 per output row: 2 waves of the 14 copies per row, each 16 input cycles
    (1-bit DACs) of 100 ns. The links carry the int16 feature map in and out, 25.7 MB at
    25.6 GB/s (1.0 ms), under the crossbars' time: compute-bound."""
    op = conv(N=16, C=512, H=28, W=28, K=512, R=3, S=3, padding=1, dtype="int16")
    report = simulator.simulate("isaac-like", {"name": "vgg", "ops": [op]}, numerics=False)
    pim = report.summary["pim"]
    assert pim["crossbars_used"] == pim["crossbars"] == 168 * 12 * 8 == 14 * 36 * 32
    assert pim["replication"] == 14
    waves = 16 * 28 * math.ceil(28 / 14)
    busy = waves * 16 * 100e-9
    assert report.summary["dram_bytes"] == 2 * 16 * 28 * 28 * 512 * 2
    assert busy <= report.seconds <= 1.1 * busy
