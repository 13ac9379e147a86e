"""numpy / ml_dtypes storage for each precision, and seeded random operands drawn in it."""

import ml_dtypes
import numpy as np

from simulator.spec.precision import precision

STORAGE = {
    "int4": ml_dtypes.int4,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "fp8_e4m3": ml_dtypes.float8_e4m3fn,
    "fp8_e5m2": ml_dtypes.float8_e5m2,
    "fp16": np.float16,
    "bf16": ml_dtypes.bfloat16,
    "fp32": np.float32,
}


def random_operand(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Values spanning the format: the full signed range for integers, N(0, 1) rounded for floats."""
    fmt = precision(dtype)
    if fmt.is_int:
        low, high = -(2 ** (fmt.bits - 1)), 2 ** (fmt.bits - 1)
        return rng.integers(low, high, size=shape, dtype=np.int64).astype(STORAGE[dtype])
    return rng.standard_normal(shape, dtype=np.float32).astype(STORAGE[dtype])


def unit_roundoff(dtype: str) -> float:
    """u = 2^-p for a float format with p significand bits (fp32: 2^-24)."""
    return float(ml_dtypes.finfo(STORAGE[dtype]).eps) / 2
