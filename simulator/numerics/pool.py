"""Pooling numerics: each channel block pooled in fp32 (max exact, average rounded to the op's
precision), checked against window-by-window pooling in float64."""

import numpy as np

from simulator.numerics.formats import random_operand, storage, unit_roundoff
from simulator.numerics.gemm import NumericsResult
from simulator.spec.precision import precision
from simulator.spec.workload import PoolOpSpec


def pool(x: np.ndarray, op: PoolOpSpec) -> np.ndarray:
    """[n, c, H, W] -> [n, c, P, Q]: max or mean over each window (padding never wins a max,
    counts as zeros in a mean), in x's float type."""
    r, s = op.window
    fill = -np.inf if op.mode == "max" else 0.0
    pad = ((0, 0), (0, 0), (op.padding,) * 2, (op.padding,) * 2)
    x = np.pad(x, pad, constant_values=fill)
    out = np.full((*x.shape[:2], op.P, op.Q), fill, x.dtype)
    for i in range(r):
        for j in range(s):
            window = x[
                :,
                :,
                i : i + op.stride * (op.P - 1) + 1 : op.stride,
                j : j + op.stride * (op.Q - 1) + 1 : op.stride,
            ]  # [n, c, P, Q]
            out = np.maximum(out, window) if op.mode == "max" else out + window
    return out if op.mode == "max" else out / (r * s)


def _store(values: np.ndarray, dtype: str) -> np.ndarray:
    """Round to the op's precision (integers: to nearest, saturated)."""
    fmt = precision(dtype)
    if fmt.is_int:
        limit = 2 ** (fmt.bits - 1)
        values = np.clip(np.rint(values), -limit, limit - 1)
    return values.astype(storage(dtype)).astype(np.float64)


class PoolNumerics:
    """Input, output and coverage of one pooling op; `channels` is the per-step kernel."""

    def __init__(self, op: PoolOpSpec, seed: int):
        self.op = op
        self.x = random_operand(np.random.default_rng(seed), (op.N, op.C, op.H, op.W), op.dtype)
        self.out = np.zeros((op.N, op.C, op.P, op.Q))
        self.coverage = np.zeros((op.N, op.C), np.int32)

    def channels(self, n: tuple[int, int], c: tuple[int, int]) -> None:
        """Pool images n and channels c in fp32, store in the op's precision."""
        block = self.x[n[0] : n[1], c[0] : c[1]].astype(np.float32)
        self.out[n[0] : n[1], c[0] : c[1]] = _store(pool(block, self.op), self.op.dtype)
        self.coverage[n[0] : n[1], c[0] : c[1]] += 1

    def check(self) -> NumericsResult:
        """Max: exact. Average: rounding to the output format plus fp32 sums of R S terms
        (integers: within one unit, the rounding of a value the fp32 sum may move across .5)."""
        op = self.op
        reference = pool(self.x.astype(np.float64), op)
        error = np.abs(self.out - reference)
        if op.mode == "max":
            bound = np.zeros(reference.shape)
        elif precision(op.dtype).is_int:
            bound = np.full(reference.shape, 1.0)
        else:
            taps = op.window[0] * op.window[1]
            bound = (unit_roundoff(op.dtype) + (taps + 1) * unit_roundoff("fp32")) * np.abs(
                reference
            ) + unit_roundoff("fp32")
        wrong = np.argwhere(self.coverage != 1)
        coverage_ok = wrong.size == 0
        message = (
            "every channel pooled exactly once"
            if coverage_ok
            else f"{len(wrong)} channels pooled {self.coverage[tuple(wrong[0])]} times"
        )
        return NumericsResult(
            float(error.max()),
            float((error / np.maximum(np.abs(reference), 1.0)).max()),
            float(bound.max()),
            bool(np.all(error <= bound)) and coverage_ok,
            coverage_ok,
            message,
        )
