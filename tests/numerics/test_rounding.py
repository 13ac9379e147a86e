"""Rounding-error bounds: Higham's gamma_n where it is defined, a finite valid bound past it."""

import math
from fractions import Fraction

import numpy as np
import pytest

from simulator.errors import UnsupportedError
from simulator.numerics.gemm import GemmNumerics
from simulator.numerics.rounding import gamma


def test_gamma_is_highams_below_one():
    # n u = 2048 * 2^-24 = 2^-13: gamma = 2^-13 / (1 - 2^-13) = 1 / 8191
    assert gamma(2048, 2.0**-24) == pytest.approx(1 / 8191, rel=1e-15)


@pytest.mark.parametrize(
    "n, u",
    [
        (2**24, 2.0**-24),
        (2**24 + 5, 2.0**-24),
        (256, 2.0**-8),
        (4096, 2.0**-8),
        (16, 2.0**-4),
        (40, 2.0**-3),
    ],
)
def test_gamma_past_n_u_one_is_finite_and_bounds_the_product(n, u):
    # Higham's n u / (1 - n u) divides by zero at n u = 1 and is negative past it; the bound must
    # still hold |prod(1 + d_i) - 1| <= (1 + u)^n - 1, computed here as an exact rational
    bound = gamma(n, u)
    assert math.isfinite(bound) and bound >= math.e - 1
    if n < 10_000:
        assert Fraction(bound) >= (1 + Fraction(u)) ** n - 1


def test_gamma_that_overflows_is_an_error():
    with pytest.raises(UnsupportedError, match="no finite rounding-error bound"):
        gamma(10**4, 0.125)


@pytest.mark.slow
def test_gemm_with_k_u_past_one_reports_a_finite_bound():
    # K = 2^24 fp32 roundings: Higham's gamma_K is 1 / 0; the check uses e^(K u) - 1 (> 1.7, no
    # digit guaranteed), takes the float64 path for S, and says so
    K = 2**24
    state = GemmNumerics(1, 1, K, "fp16", "fp32", seed=0)
    state.tile((0, 1), (0, 1), (0, K))
    result = state.check()
    magnitude = np.abs(state.a.astype(np.float64)) @ np.abs(state.b.astype(np.float64))
    assert result.ok and math.isfinite(result.error_bound)
    assert result.error_bound == pytest.approx(math.expm1(1.0) * float(magnitude[0, 0]), rel=1e-12)
    assert "K u >= 1" in result.coverage_message
