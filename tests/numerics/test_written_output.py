"""A float GEMM's C rounded to a narrower output format: the values written, the bound the check
allows (the fp32 sum's Higham bound plus one rounding) and outputs past the format's range."""

import ml_dtypes
import numpy as np
import pytest

from simulator.numerics.gemm import GemmNumerics

U_FP32 = 2.0**-24  # fp32 keeps 24 significand bits
FORMATS = {  # unit roundoff 2^-p (p significand bits) and smallest subnormal, by hand
    "bf16": (2.0**-8, 2.0**-133, ml_dtypes.bfloat16),
    "fp16": (2.0**-11, 2.0**-24, np.float16),
}


def _run(M, N, K, dtype, output, seed=3, step=32):
    state = GemmNumerics(M, N, K, dtype, "fp32", seed, output)
    for k0 in range(0, K, step):
        state.tile((0, M), (0, N), (k0, min(k0 + step, K)))
    return state


@pytest.mark.parametrize("output", ["bf16", "fp16"])
def test_c_is_the_fp32_sum_rounded_to_the_output_format(output):
    state = _run(40, 30, 300, output, output)
    _, _, kind = FORMATS[output]
    written = state.result()
    # round to nearest even from the fp32 sums, as a cast does
    np.testing.assert_array_equal(written, state.c.astype(kind).astype(np.float32))
    assert not np.array_equal(written, state.c)  # it did round
    assert state.check().ok


@pytest.mark.parametrize("output", ["bf16", "fp16"])
def test_errors_stay_within_the_fp32_bound_plus_one_rounding(output):
    """|fl(s) - c| <= gamma_K S + u |s| + tiny / 2 with s the fp32 sum, S = |A| @ |B| and gamma_K
    = K u32 / (1 - K u32) (Higham 3.1 and 2.2), from whole-problem float64 numpy; the error of
    bf16's rounding alone passes fp32's bound, so the check does allow for it."""
    K = 300
    state = _run(40, 30, K, output, output)
    u, tiny, _ = FORMATS[output]
    a, b = state.a.astype(np.float64), state.b.astype(np.float64)
    exact = a @ b
    gamma = K * U_FP32 / (1 - K * U_FP32)
    fp32_bound = gamma * (np.abs(a) @ np.abs(b))
    bound = fp32_bound + u * np.abs(state.c.astype(np.float64)) + tiny / 2
    error = np.abs(state.result().astype(np.float64) - exact)
    assert np.all(error <= bound)
    assert error.max() > fp32_bound.max()
    result = state.check()
    assert result.ok
    assert result.max_abs_error == pytest.approx(error.max(), rel=1e-12)
    assert bound.max() <= result.error_bound <= bound.max() * (1 + 4 * K * U_FP32)


def test_an_output_off_by_two_roundings_is_a_mismatch():
    state = _run(16, 16, 64, "bf16", "bf16")
    i, j = np.unravel_index(np.argmax(np.abs(state.c)), state.c.shape)
    state.c[i, j] *= 1 + 4 * 2.0**-8  # two bf16 units in the last place (ulp = 2u) away
    assert not state.check().ok


def test_an_fp8_output_past_448_overflows_and_says_so():
    # sums of K = 400,000 products of fp8-rounded N(0, 1) operands spread over hundreds: most of
    # 16 outputs pass fp8_e4m3's largest finite value, 448, and become NaN (it has no inf)
    state = _run(4, 4, 400_000, "fp8_e4m3", "fp8_e4m3", step=4096)
    beyond = int(np.count_nonzero(np.abs(state.c) > 464))  # 448 + half its ulp of 32 rounds up
    assert beyond > 0
    result = state.check()
    assert not result.ok
    assert f"{beyond} outputs overflowed fp8_e4m3" in result.coverage_message


def test_an_fp32_output_is_not_rounded():
    state = _run(12, 10, 50, "bf16", "fp32")
    np.testing.assert_array_equal(state.result(), state.c)
    assert state.check().ok
