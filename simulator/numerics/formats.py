"""numpy / ml_dtypes storage for each precision, and seeded random operands drawn in it."""

from __future__ import annotations

import functools

import numpy as np

from simulator.spec.precision import precision

_NUMPY = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "fp16": np.float16,
    "fp32": np.float32,
}
_ML_DTYPES = {
    "int4": "int4",
    "fp8_e4m3": "float8_e4m3fn",
    "fp8_e5m2": "float8_e5m2",
    "bf16": "bfloat16",
}


@functools.cache
def storage(dtype: str) -> np.dtype:
    """The numpy dtype that stores `dtype`; ml_dtypes (slow to import) only for the formats numpy
    lacks, imported on first use so timing-only runs never pay for it."""
    if dtype in _NUMPY:
        return np.dtype(_NUMPY[dtype])
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, _ML_DTYPES[dtype]))


def random_operand(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Values spanning the format: the full signed range for integers, N(0, 1) rounded for floats."""
    fmt = precision(dtype)
    if fmt.is_int:
        low, high = -(2 ** (fmt.bits - 1)), 2 ** (fmt.bits - 1)
        return rng.integers(low, high, size=shape, dtype=np.int64).astype(storage(dtype))
    return rng.standard_normal(shape, dtype=np.float32).astype(storage(dtype))


def unit_roundoff(dtype: str) -> float:
    """u = 2^-p for a float format with p significand bits (fp32: 2^-24)."""
    return float(_finfo(dtype).eps) / 2


def smallest_subnormal(dtype: str) -> float:
    """A float format's smallest positive subnormal (the spacing of its values near zero)."""
    return float(_finfo(dtype).smallest_subnormal)


def _finfo(dtype: str):
    """A float format's finfo: numpy's own formats from numpy, so checking an fp16 or fp32 run
    does not import ml_dtypes (about 0.6 s)."""
    if dtype in _NUMPY:
        return np.finfo(storage(dtype))
    import ml_dtypes

    return ml_dtypes.finfo(storage(dtype))
