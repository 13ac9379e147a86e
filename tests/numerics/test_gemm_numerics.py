"""Random shapes and tilings reproduce numpy: exactly for integers, within the fp32 bound for floats."""

from fractions import Fraction
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
import simulator.mapping.gemm as gemm_mapping
from simulator.numerics.gemm import (
    Fp32Bound,
    GemmNumerics,
    _extremes,
    _magnitudes_fit_fp32,
    exact_int_matmul,
    largest_magnitude,
    requant_shift,
    requantize,
)
from simulator.spec import load_arch
from simulator.spec.precision import precision
from tests.conftest import tiny_arch
from tests.strategies import shapes_and_mappings


@st.composite
def tiled_gemms(draw, dtypes=("int8",)):
    shape, mapping = draw(shapes_and_mappings(max_dim=72))
    rows, cols = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    return shape, mapping, rows, cols, draw(st.sampled_from(dtypes)), draw(st.integers(0, 2**16))


def _run(case):
    shape, mapping, rows, cols, dtype, seed = case
    workload = f"gemm:M={shape['M']},N={shape['N']},K={shape['K']},dtype={dtype}"
    return simulator.simulate(tiny_arch(rows, cols), workload, mapping, seed=seed)


@settings(max_examples=80, deadline=None)
@given(tiled_gemms())
def test_int8_tilings_match_numpy_exactly(case):
    report = _run(case)
    state_check = report.numerics["gemm"]
    assert state_check.coverage_ok
    assert state_check.max_abs_error == 0
    assert report.summary["numerics_ok"]


@settings(max_examples=40, deadline=None)
@given(tiled_gemms(dtypes=("bf16", "fp16", "fp32")))
def test_float_tilings_stay_within_the_fp32_accumulation_bound(case):
    report = _run(case)
    result = report.numerics["gemm"]
    assert result.coverage_ok
    assert result.max_abs_error <= result.error_bound
    assert report.summary["numerics_ok"]


def test_assembled_output_equals_numpy_on_the_same_operands():
    state = GemmNumerics(33, 17, 70, "int8", "int32", seed=5)
    for k0 in range(0, 70, 16):
        state.tile((0, 33), (0, 17), (k0, min(k0 + 16, 70)))
    expected = state.a.astype(np.int64) @ state.b.astype(np.int64)
    np.testing.assert_array_equal(state.result(), expected)


def test_int32_accumulator_wraps_like_hardware():
    state = GemmNumerics(1, 1, 1, "int16", "int32", seed=0)
    state.a[:] = -32768
    state.b[:] = -32768
    state._a, state._b = state.a.astype(np.float32), state.b.astype(np.float32)
    state.tile((0, 1), (0, 1), (0, 1))
    # (-2^15)^2 = 2^30 fits; double it by hand to see the wrap: 2^31 -> -2^31
    state.c *= 2
    assert state.result()[0, 0] == -(2**31)


def test_exact_int_matmul_matches_int64_for_wide_operands():
    rng = np.random.default_rng(1)
    a = rng.integers(-(2**15), 2**15, size=(20, 300)).astype(np.int16)
    b = rng.integers(-(2**15), 2**15, size=(300, 10)).astype(np.int16)
    np.testing.assert_array_equal(exact_int_matmul(a, b), a.astype(np.int64) @ b.astype(np.int64))


def test_exact_int_matmul_goes_beyond_int64_for_long_int32_sums():
    rng = np.random.default_rng(2)
    a = rng.integers(-(2**31), 2**31, size=(3, 40)).astype(np.int32)
    b = rng.integers(-(2**31), 2**31, size=(40, 4)).astype(np.int32)
    expected = [
        [sum(int(a[i, k]) * int(b[k, j]) for k in range(40)) for j in range(4)] for i in range(3)
    ]  # Python integers: no width limit
    assert exact_int_matmul(a, b).tolist() == expected
    assert max(abs(v) for row in expected for v in row) >= 2**63  # the case that needs it


def test_accumulator_wrap_is_a_mismatch_even_when_the_output_is_the_accumulator():
    state = GemmNumerics(8, 8, 512, "int8", "int16", seed=3)
    state.tile((0, 8), (0, 8), (0, 512))
    exact = state.a.astype(np.int64) @ state.b.astype(np.int64)
    wrapped = int(np.count_nonzero((exact < -(2**15)) | (exact >= 2**15)))
    check = state.check()
    assert wrapped > 0 and not check.ok and check.coverage_ok
    assert f"{wrapped:,} outputs wrapped in the int16 accumulator" in check.coverage_message
    assert "needs 25 bits" in check.coverage_message  # 8 + 8 + ceil(log2 512)


def test_overlapping_tiles_are_caught_by_the_coverage_check(monkeypatch):
    def overlapping(lo, hi, size):  # every tile reaches one element into its neighbour
        return [(max(start - 1, lo), min(start + size, hi)) for start in range(lo, hi, size)]

    monkeypatch.setattr(gemm_mapping, "tile_ranges", overlapping)
    mapping = {"dataflow": "os", "tile": {"M": 8, "N": 8, "K": 8}, "loop_order": ["M", "N", "K"]}
    report = simulator.simulate(tiny_arch(), "gemm:M=16,N=16,K=16,dtype=int8", mapping)
    result = report.numerics["gemm"]
    assert not result.coverage_ok and not report.summary["numerics_ok"]
    assert "reduced over the wrong K extent" in result.coverage_message


@pytest.mark.parametrize("dtype", ["fp8_e4m3", "int4"])
def test_narrow_formats_run_exactly_on_their_rounded_operands(dtype):
    arch = tiny_arch(precisions=("fp8_e4m3", "int4"))
    arch["components"]["pe"]["mac_energy"] = "0.1 pJ"
    report = simulator.simulate(arch, f"gemm:M=24,N=20,K=40,dtype={dtype}")
    assert report.summary["numerics_ok"]


def test_int8_out_requantizes_both_sides_with_one_power_of_two_scale():
    """int8 in, int8 out: complete int32 sums are shifted right (round half up, saturating) by
    the smallest shift that fits the exact result's largest magnitude, on hardware and reference."""
    exact = np.array([[1000.0, -129.0], [127.0, 64.0]])
    shift = requant_shift(largest_magnitude(exact), 8)
    assert shift == 3  # 1000 / 8 = 125 fits int8, 1000 / 4 = 250 does not
    assert requantize(exact, shift, 8).tolist() == [[125.0, -16.0], [16.0, 8.0]]


def test_requantized_output_still_reports_an_overflowed_accumulator():
    ok = simulator.simulate("tpu-v1-like", "gemm:M=64,N=64,K=512,dtype=int8,output_dtype=int8")
    assert ok.summary["numerics_ok"]
    narrow = load_arch("tpu-v1-like", [(["components", "mxu", "accumulator_precision"], "int16")])
    wrapped = simulator.simulate(narrow, "gemm:M=64,N=64,K=512,dtype=int8,output_dtype=int8")
    assert not wrapped.summary["numerics_ok"]


def test_unit_roundoff_is_half_an_ulp_of_one():
    """u = 2^-p (p significand bits, the implicit one included): fp16 11, fp32 24, bf16 8."""
    from simulator.numerics.formats import unit_roundoff

    assert unit_roundoff("fp16") == 2.0**-11
    assert unit_roundoff("fp32") == 2.0**-24
    assert unit_roundoff("bf16") == 2.0**-8


def _whole(state: GemmNumerics):
    """The check's numbers from whole-problem numpy arrays (no blocks): largest error, relative
    error and Higham bound, and whether every output is within its bound."""
    a, b = state.a.astype(np.float64), state.b.astype(np.float64)
    reference = a @ b
    u = 2.0**-24
    bound = (np.abs(a) @ np.abs(b)) * (state.K * u / (1 - state.K * u))
    error = np.abs(state.c - reference)
    relative = error / np.maximum(np.abs(reference), 1.0)
    return error.max(), relative.max(), bound.max(), bool(np.all(error <= bound))


@pytest.mark.parametrize("dtype", ["fp16", "fp32"])
def test_blocked_check_equals_whole_problem_numpy(dtype):
    # 600 x 2100 outputs span 3 x 2 of the check's 256 x 2048 blocks, the last ones partial
    state = GemmNumerics(600, 2100, 90, dtype, "fp32", seed=2)
    state.tile((0, 600), (0, 2100), (0, 90))
    result = state.check()
    expected = _whole(state)
    assert result.ok and expected[3]
    assert (result.max_abs_error, result.max_rel_error) == pytest.approx(expected[:2], rel=1e-12)
    # the bound's magnitudes are summed in fp32: S' within (1 +- gamma_K) of S, reported as
    # gamma_K S' / (1 - K u), so never below the float64 bound and at most ~2 K u above it
    u = 2.0**-24
    gamma = 90 * u / (1 - 90 * u)
    assert expected[2] <= result.error_bound <= expected[2] * (1 + gamma) / (1 - 90 * u) * 1.001


def test_fp32_magnitudes_bound_holds_on_exact_sums():
    # sums of K = 5000 terms, where fp32 rounds |A| @ |B| in every output
    state = GemmNumerics(3, 4, 5000, "fp32", "fp32", seed=7)
    state.tile((0, 3), (0, 4), (0, 5000))
    result = state.check()
    a, b = np.abs(state.a).astype(np.float64), np.abs(state.b).astype(np.float64)
    exact = max(
        sum(Fraction(x) * Fraction(y) for x, y in zip(a[i], b[:, j]))
        for i in range(3)
        for j in range(4)
    )
    u = Fraction(2) ** -24
    gamma = 5000 * u / (1 - 5000 * u)
    assert Fraction(result.error_bound) >= gamma * exact
    assert result.ok


@pytest.mark.parametrize("side", [-1, 1])
def test_fp32_bound_judges_errors_near_it_on_the_float64_bound(side):
    # an error within a hair of gamma_K * S, between the fp32 bound's two sides: the verdict is
    # the float64 check's
    rng = np.random.default_rng(3)
    a, b = (
        rng.standard_normal((4, 300), dtype=np.float32),
        rng.standard_normal((300, 5), dtype=np.float32),
    )
    a_abs, b_abs = np.abs(a), np.abs(b)
    gamma = 300 * 2.0**-24 / (1 - 300 * 2.0**-24)

    def magnitudes():
        return a_abs.astype(np.float64) @ b_abs.astype(np.float64)

    bound = Fp32Bound(gamma, 300, a_abs @ b_abs, magnitudes)
    exact = magnitudes() * gamma
    error = exact * (1 + side * 1e-9)
    assert bound.holds(error) == (side < 0)
    assert np.all(bound.upper >= exact)


def test_operands_below_fp32_normal_range_take_the_float64_bound():
    # a product under fp32's smallest normal would underflow in fp32: the bound is float64's
    state = GemmNumerics(40, 30, 50, "fp32", "fp32", seed=4)
    state.a[0, 0] = state._a[0, 0] = 1e-36
    state.tile((0, 40), (0, 30), (0, 50))
    result = state.check()
    assert result.error_bound == pytest.approx(_whole(state)[2], rel=1e-12)


def test_a_subnormal_operand_takes_the_float64_bound_even_where_its_products_are_normal():
    # 1e-39 is below fp32's smallest normal (1.18e-38) although 1e-39 x 1e5 = 1e-34 is above it:
    # a BLAS flushing subnormals to zero would drop that product from fp32's |A| @ |B|
    a = np.full((3, 4), 2.0, dtype=np.float32)
    b = np.full((4, 5), 1e5, dtype=np.float32)
    assert _magnitudes_fit_fp32("fp32", a, b, 4)
    a[1, 2] = np.float32(1e-39)
    assert not _magnitudes_fit_fp32("fp32", a, b, 4)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-(2.0**100), 2.0**100, width=32), min_size=1, max_size=60),
    st.integers(1, 7),
    st.integers(1, 9),
)
def test_operand_extremes_scanned_in_chunks_equal_the_whole_array(values, cols, scan):
    operand = np.resize(np.array(values, dtype=np.float32), (max(1, len(values) // cols), cols))
    magnitudes = np.abs(operand)
    nonzero = magnitudes[magnitudes > 0]
    expected = (float(magnitudes.max()), float(nonzero.min()) if nonzero.size else np.inf)
    with mock.patch("simulator.numerics.gemm.SCAN_ELEMENTS", scan):
        assert _extremes(operand) == expected


def test_operand_extremes_of_a_non_finite_operand_rule_out_fp32():
    operand = np.ones((4, 4), dtype=np.float32)
    operand[3, 3] = np.nan
    assert _extremes(operand) == (np.inf, 0.0)


def test_blocked_check_finds_one_wrong_output_in_a_later_block():
    state = GemmNumerics(600, 2100, 90, "fp16", "fp32", seed=2)
    state.tile((0, 600), (0, 2100), (0, 90))
    state.c[599, 2099] += 1.0  # the last (partial) block's last output: far beyond its bound
    result = state.check()
    assert not result.ok and result.coverage_ok
    assert result.max_abs_error == pytest.approx(_whole(state)[0], rel=1e-12)
    assert result.max_abs_error > result.error_bound


def test_blocked_check_counts_wrapped_outputs_in_every_block():
    # int8 x int8 over K=4096 overflows an int16 accumulator in most outputs of every block
    state = GemmNumerics(300, 600, 4096, "int8", "int16", seed=1)
    state.tile((0, 300), (0, 600), (0, 4096))
    exact = state.a.astype(np.int64) @ state.b.astype(np.int64)
    wrapped = int(np.count_nonzero((exact < -(2**15)) | (exact >= 2**15)))
    result = state.check()
    assert not result.ok and wrapped > 0
    assert f"{wrapped:,} outputs wrapped" in result.coverage_message


def test_a_nan_output_in_a_later_block_is_reported():
    # the check compares 256 output rows at a time; a NaN in the last block must reach the
    # reported errors as it would in the first (Python's max drops a NaN after the first item)
    for where in ((0, 0), (599, 99)):
        state = GemmNumerics(600, 100, 16, "fp16", "fp32", seed=2)
        state.tile((0, 600), (0, 100), (0, 16))
        state.c[where] = np.nan
        result = state.check()
        assert not result.ok
        assert np.isnan(result.max_abs_error), where


def _whole_requantized(state: GemmNumerics, bits: int):
    """The requantized check's numbers from whole-problem arrays of Python integers (no blocks):
    largest error and relative error, outputs wrapped, with the per-tensor power-of-two shift
    found from the largest exact sum."""
    a, b = state.a.astype(np.int64), state.b.astype(np.int64)
    if int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0)) * state.K >= 2**63:
        a, b = a.astype(object), b.astype(object)  # sums beyond int64: Python integers
    exact = a @ b
    largest = float(max((abs(value) for value in exact.ravel()), default=0))
    limit, shift = 2 ** (bits - 1) - 1, 0
    while np.floor(largest / 2**shift + 0.5) > limit:
        shift += 1

    def requantized(values):
        scaled = np.floor(values.astype(np.float64) / 2**shift + 0.5)
        return np.clip(scaled, -(limit + 1), limit)

    expected = requantized(exact)
    error = np.abs(requantized(state.result()) - expected)
    relative = error / np.maximum(np.abs(expected), 1.0)
    half = 2 ** (precision(state.accumulator).bits - 1)
    wrapped = sum(1 for value in exact.ravel() if not -half <= value < half)
    return error.max(initial=0.0), relative.max(initial=0.0), wrapped


def test_requantized_check_equals_whole_problem_numpy_up_to_the_last_partial_block():
    # 600 x 2100 outputs span 3 x 2 of the check's 256 x 2048 blocks, the last ones partial
    state = GemmNumerics(600, 2100, 300, "int8", "int32", seed=4, output="int8")
    state.tile((0, 600), (0, 2100), (0, 300))
    result = state.check()
    assert result.ok and (result.max_abs_error, result.max_rel_error) == (0.0, 0.0)
    assert _whole_requantized(state, 8) == (0.0, 0.0, 0)
    state.c[599, 2099] += 4000  # the last block's last output, wrong by more than a step of 2^shift
    result = state.check()
    assert not result.ok and result.coverage_ok
    expected = _whole_requantized(state, 8)
    assert expected[0] > 0
    assert (result.max_abs_error, result.max_rel_error) == expected[:2]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        [
            ("int8", "int32", "int8"),
            ("int8", "int16", "int8"),  # wraps for K above about 4
            ("int16", "int32", "int8"),
            ("int16", "int32", "int16"),
            ("int32", "int64", "int32"),  # sums beyond int64: Python integers
        ]
    ),
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(1, 300),
    st.integers(1, 16),
    st.integers(1, 16),
    st.lists(st.tuples(st.integers(0, 2**16), st.integers(-(2**20), 2**20)), max_size=4),
    st.integers(0, 2**16),
)
def test_requantized_check_in_any_blocks_equals_whole_problem_numbers(
    formats, M, N, K, block_rows, block_cols, faults, seed
):
    """Any shape cut into any blocks, with outputs made wrong by any amount: the same errors,
    wrap count and verdict as whole-problem arrays."""
    import simulator.numerics.gemm as gemm

    dtype, accumulator, output = formats
    state = GemmNumerics(M, N, K, dtype, accumulator, seed=seed, output=output)
    state.tile((0, M), (0, N), (0, K))
    for where, delta in faults:  # as arrays: an int64 accumulator wraps silently, as hardware does
        state.c.reshape(-1)[[where % state.c.size]] += delta
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gemm, "BLOCK_ROWS", block_rows)
        patch.setattr(gemm, "BLOCK_COLS", block_cols)
        result = state.check()
    error, relative, wrapped = _whole_requantized(state, precision(output).bits)
    assert (result.max_abs_error, result.max_rel_error, result.error_bound) == (error, relative, 0)
    assert result.ok == (error == 0)
    assert (f"{wrapped:,} outputs wrapped" in result.coverage_message) == (wrapped > 0)
