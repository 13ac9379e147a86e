"""Numerics of vector ops: fp32 math on each row chunk, outputs rounded to the op's precision,
compared with float64 on the same rounded inputs. Integer outputs are rounded to nearest and
saturated to the format's range (no scale factor: the integers are the values)."""

import functools
import math

import numpy as np

from simulator.numerics import rope
from simulator.numerics.formats import random_operand, storage, unit_roundoff
from simulator.numerics.gemm import NumericsResult
from simulator.spec.precision import precision
from simulator.spec.workload import VectorOpSpec

EPS = 1e-5  # layernorm / rmsnorm epsilon


def _gelu(x, xp=np):
    return 0.5 * x * (1 + xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def apply(kind: str, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """The op on rows of x, in x's float type; y holds an add's or mul's other operands stacked
    [n - 1, rows, cols], combined with x one after another, or batchnorm's [rows, 2]."""
    if kind == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if kind == "layernorm":
        centred = x - x.mean(axis=-1, keepdims=True)
        return centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + EPS)
    if kind == "rmsnorm":
        return x / np.sqrt((x**2).mean(axis=-1, keepdims=True) + EPS)
    if kind == "gelu":
        return _gelu(x)
    if kind == "silu":
        return x / (1 + np.exp(-x))
    if kind == "add":
        return functools.reduce(np.add, y, x)
    if kind == "mul":
        return functools.reduce(np.multiply, y, x)
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "batchnorm":  # y[:, 0] scale, y[:, 1] shift, per row (channel)
        return x * y[:, :1] + y[:, 1:2]
    if kind == "concat":
        return x.copy()
    raise ValueError(kind)


class VectorNumerics:
    """Inputs, output and coverage of one vector op; `rows` is the per-step kernel."""

    def __init__(self, op: VectorOpSpec, seed: int):
        rng = np.random.default_rng(seed)
        self.op = op
        self.x = random_operand(rng, (op.rows, op.cols), op.dtype)
        others = [random_operand(rng, (op.rows, op.cols), op.dtype) for _ in range(op.reads - 1)]
        # [n - 1, rows, cols]; one operand as a view, not copied
        self.y = np.stack(others) if len(others) > 1 else others[0][None] if others else None
        if op.kind == "batchnorm":  # per-channel scale and shift, as after folding mean and var
            self.y = rng.standard_normal((op.rows, 2)).astype(np.float32)
        self.out = np.zeros((op.rows, op.cols), np.float64)
        self.coverage = np.zeros(op.rows, np.int64)

    def rows(self, r0: int, r1: int) -> None:
        """Compute rows r0:r1 in fp32 and store them in the op's precision."""
        x = self.x[r0:r1].astype(np.float32)
        y = None if self.y is None else self.y[..., r0:r1, :].astype(np.float32)
        result = _store(self._apply(x, y, r0), self.op.dtype)
        self.out[r0:r1] = result.astype(np.float64)
        self.coverage[r0:r1] += 1

    def _apply(self, x: np.ndarray, y: np.ndarray | None, r0: int) -> np.ndarray:
        """The op on rows r0: of its input (RoPE's angles depend on the rows' positions)."""
        return rope.rotate(self.op, x, r0) if self.op.kind == "rope" else apply(self.op.kind, x, y)

    def check(self) -> NumericsResult:
        """|err| <= u_out |ref| + c u32 max(|ref|, 1): rounding to the output format, plus fp32
        arithmetic with c = cols + 16 for row reductions (the sums) and 16 for elementwise ops,
        one more for each operand past the second, and for an add of more than two, |ref| the sum
        of its operands' magnitudes (its partial sums round too).
        Integers: the reference saturated to the range, and 0.5 for rounding instead of u_out |ref|."""
        x = self.x.astype(np.float64)
        y = None if self.y is None else self.y.astype(np.float64)
        reference = self._apply(x, y, 0)
        size = rope.pair_norm(self.op, x) if self.op.kind == "rope" else np.abs(reference)
        if self.op.kind == "add" and self.op.reads > 2:
            size = np.abs(x) + np.abs(y).sum(axis=0)
        reduction = self.op.kind in ("softmax", "layernorm", "rmsnorm")
        c = (self.op.cols + 16) if reduction else 16 + max(0, self.op.reads - 2)
        arithmetic = c * unit_roundoff("fp32") * np.maximum(size, 1.0)
        if precision(self.op.dtype).is_int:  # exact ops match the rounded reference exactly
            low, high = _int_range(self.op.dtype)
            exact = self.op.kind in ("add", "mul", "relu", "concat")
            reference = np.clip(np.rint(reference) if exact else reference, low, high)
            bound_matrix = np.zeros(reference.shape) if exact else 0.5 + arithmetic
        else:
            bound_matrix = unit_roundoff(self.op.dtype) * np.abs(reference) + arithmetic
        error = np.abs(self.out - reference)
        wrong = np.flatnonzero(self.coverage != 1)
        coverage_ok = wrong.size == 0
        message = (
            "every row computed exactly once"
            if coverage_ok
            else f"{wrong.size} rows computed {self.coverage[wrong[0]]} times (row {wrong[0]})"
        )
        return NumericsResult(
            float(error.max()),
            float((error / np.maximum(np.abs(reference), 1.0)).max()),
            float(bound_matrix.max()),
            bool(np.all(error <= bound_matrix)) and coverage_ok,
            coverage_ok,
            message,
        )


def _int_range(dtype: str) -> tuple[int, int]:
    half = 2 ** (precision(dtype).bits - 1)
    return -half, half - 1


def _store(values: np.ndarray, dtype: str) -> np.ndarray:
    """Values in the op's storage format: floats rounded, integers rounded and saturated."""
    if precision(dtype).is_int:
        low, high = _int_range(dtype)
        values = np.clip(np.rint(values), low, high)
    return values.astype(storage(dtype))
