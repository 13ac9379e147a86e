"""Crossbar functional model against numpy: exact when the ADC is lossless, ADC error as the
quantisation-noise estimate says, conductance variation as a hand derivation says."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.components.crossbar import Crossbar
from simulator.numerics.crossbar import CrossbarNumerics, input_planes, weight_levels
from simulator.spec.arch import CrossbarSpec


def unit(**fields) -> Crossbar:
    return Crossbar("xb", CrossbarSpec(kind="crossbar", **fields), 1.2e9, 32.0)


def run(m, n, k, dtype="int8", seed=0, **fields):
    """The whole GEMM through the crossbar model, one kernel call per row tile range of K."""
    xb = unit(**fields)
    state = CrossbarNumerics.random(m, n, k, dtype, xb, seed)
    state.tile((0, m), (0, n), (0, k))
    return state, state.check()


@pytest.mark.parametrize(("bits", "dac_bits"), [(8, 1), (8, 2), (8, 3), (16, 1), (16, 4)])
def test_input_planes_rebuild_twos_complement_inputs(bits, dac_bits):
    x = np.array([-(2 ** (bits - 1)), -1, 0, 1, 2 ** (bits - 1) - 1, -77, 93])
    planes, weights = input_planes(x, bits, dac_bits)
    assert planes.max() <= 2**dac_bits - 1 and planes.min() >= 0
    assert np.array_equal(np.tensordot(weights, planes.astype(float), axes=1), x)
    assert len(weights) == 1 + math.ceil((bits - 1) / dac_bits)


@pytest.mark.parametrize("encoding", ["offset", "differential"])
@pytest.mark.parametrize("cell_bits", [1, 2, 3, 4])
def test_weight_levels_rebuild_signed_weights(encoding, cell_bits):
    w = np.arange(-128, 128).reshape(16, 16)
    levels, places, offset = weight_levels(w, 8, cell_bits, encoding)
    assert levels.max() <= 2**cell_bits - 1
    assert np.array_equal(np.tensordot(places, levels.astype(float), axes=1) - offset, w)


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 40),
    n=st.integers(1, 70),
    k=st.integers(1, 400),  # up to 4 row tiles, the last one often partial
    fields=st.sampled_from(
        [
            {"adc_bits": 9},  # ceil(log2(128 * 1 * 3 + 1)) = 9
            {"column_flip": True, "adc_bits": 8},  # ISAAC: flipped columns need 8
            {"weight_encoding": "differential", "adc_bits": 9},
            {"dac_bits": 2, "adc_bits": 11},  # ceil(log2(128 * 3 * 3 + 1)) = 11
            {"rows": 64, "cell_bits": 4, "dac_bits": 3, "adc_bits": 13},  # 64*15*7 = 6720
        ]
    ),
    seed=st.integers(0, 2**16),
)
def test_ideal_devices_and_enough_adc_bits_are_exact(m, n, k, fields, seed):
    state, result = run(m, n, k, seed=seed, **fields)
    exact = state.a.astype(np.int64) @ state.b.astype(np.int64)
    assert np.array_equal(state.result(), exact)
    assert result.ok and result.max_abs_error == 0 and result.error_bound == 0


@pytest.mark.parametrize("fields", [{"adc_bits": 12}, {"adc_bits": 11, "read_noise": 0.01}])
def test_adc_bits_beyond_lossless_resolve_fractions_of_a_level(fields):
    state, result = run(6, 40, 200, **fields)  # LSB 1/8 and 1/4 of a level
    exact = state.a.astype(np.int64) @ state.b.astype(np.int64)
    tolerance = 0 if len(fields) == 1 else result.predicted_rms_error * 6
    assert np.abs(state.result() - exact).max() <= tolerance


def test_int16_is_exact_with_isaacs_encoding():
    state, result = run(9, 20, 300, dtype="int16", column_flip=True)
    assert np.array_equal(state.result(), state.a.astype(np.int64) @ state.b.astype(np.int64))


def test_error_grows_as_adc_bits_fall_and_follows_the_quantisation_estimate():
    """Each conversion rounds an integer column sum to a multiple of the LSB D = 2^(9 - N): error
    variance (D^2 + 2) / 12 when sums are spread evenly over residues mod D, which holds while a
    column sum's spread (std ~ 12 levels here) exceeds D. The output error is the shift-and-add
    of independent conversion errors: var = (D^2 + 2)/12 x sum_t c_t^2 x sum_s v_s^2 x row tiles.
    The factor allowed, 1.25, covers the departure from evenness at D = 16, measured at 3%."""
    errors = []
    for bits in (9, 8, 7, 6, 5, 4):
        _, r = run(64, 192, 384, adc_bits=bits)
        step = 2 ** (9 - bits)
        cycles = sum(4.0**t for t in range(7)) + 4.0**7  # 1, 2, ..., 64 and the sign's -128
        slices = sum(16.0**s for s in range(4))  # 1, 4, 16, 64
        estimate = math.sqrt((step**2 + 2) / 12 * cycles * slices * 3) if step > 1 else 0.0
        assert r.predicted_rms_error == pytest.approx(estimate)
        if step > 1:
            assert 1 / 1.25 < r.rms_error / estimate < 1.25
        assert r.ok and r.max_abs_error <= r.error_bound
        errors.append(r.rms_error)
    assert errors[0] == 0 and all(a < b for a, b in zip(errors, errors[1:]))


def test_variation_gives_the_relative_error_derived_by_hand():
    """G = w_s (1 + sigma z): output error sum_k x_k sum_s v_s w_sk sigma z_sk, so
    rms error / rms signal = sigma sqrt(sum_s v_s^2 E[w_s^2] / E[w^2]) for uniform int8 operands:
    offset slices are uniform on 0..3 (E = 3.5), w uniform on -128..127 (E = 5461.5)."""
    sigma = 0.03
    _, r = run(48, 160, 512, seed=3, conductance_sigma=sigma, adc_bits=14)  # LSB 1/32 level
    expected = sigma * math.sqrt(sum(16.0**s for s in range(4)) * 3.5 / 5461.5)
    assert r.rms_rel_error == pytest.approx(expected, rel=0.15)
    assert not r.ideal and r.ok, "no worst case with variation: judged by RMS and SNR"
    assert r.snr_db == pytest.approx(-20 * math.log10(r.rms_rel_error))


def test_stuck_cells_read_noise_and_ir_drop_add_error_and_are_seeded():
    _, clean = run(16, 64, 256, column_flip=True)
    assert clean.rms_error == 0
    for fields in ({"stuck_at_rate": 0.01}, {"read_noise": 0.5}, {"ir_drop": 0.05}):
        first, r1 = run(16, 64, 256, seed=5, column_flip=True, **fields)
        second, r2 = run(16, 64, 256, seed=5, column_flip=True, **fields)
        assert r1.rms_error > 0 and np.array_equal(first.result(), second.result())
    _, light = run(16, 64, 256, column_flip=True, stuck_at_rate=0.001)
    _, heavy = run(16, 64, 256, column_flip=True, stuck_at_rate=0.05)
    assert light.rms_error < heavy.rms_error


def test_float_gemms_run_in_fixed_point_within_the_rounding_bound():
    state, r = run(20, 30, 200, dtype="bf16", column_flip=True)
    assert r.ok and 0 < r.max_abs_error <= r.error_bound
    assert r.rms_rel_error < 1e-3  # 16-bit fixed point, lossless ADC: operand rounding only


def test_coverage_counts_each_k_range_once():
    xb = unit(column_flip=True)
    state = CrossbarNumerics.random(8, 8, 300, "int8", xb, 0)
    state.tile((0, 8), (0, 8), (0, 128))
    state.tile((0, 8), (0, 8), (128, 300))
    assert state.check().ok
    state.tile((0, 4), (0, 8), (0, 128))
    result = state.check()
    assert not result.coverage_ok and "32 outputs reduced over the wrong K extent" in (
        result.coverage_message
    )
