"""Rounding-error bounds of sums and dot products: Higham's gamma_n, valid for any n."""

import math
import sys

from simulator.errors import UnsupportedError


def gamma(n: int, u: float) -> float:
    """A bound on |(1 + d_1) ... (1 + d_n) - 1| for n roundings |d_i| <= u, as a sum of n + 1
    terms or a dot product of n accrues: Higham's gamma_n = n u / (1 - n u) (Accuracy and Stability,
    Lemma 3.1) where n u < 1; there it is undefined (n u = 1) or negative, so from n u >= 1 on it
    is e^(n u) - 1 >= (1 + u)^n - 1, the product's own bound, rounded up: above e - 1, so such a
    sum carries no guaranteed digit (fp32 from n = 2^24 on, bf16 from 256, fp8_e4m3 from 16)."""
    if n * u < 1:
        return n * u / (1 - n * u)
    if n * u > math.log(sys.float_info.max) - 1:
        raise UnsupportedError(
            f"no finite rounding-error bound for {n:,} roundings of unit roundoff {u:g} "
            f"(n u = {n * u:g})"
        )
    return math.expm1(n * u) * (1 + 2.0**-50)  # expm1 is within an ulp or two: rounded up
