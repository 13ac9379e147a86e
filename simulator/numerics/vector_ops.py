"""Numerics of vector ops: fp32 math on each row chunk, outputs rounded to the op's precision,
compared with float64 on the same rounded inputs."""

import math

import numpy as np

from simulator.numerics.formats import random_operand, storage, unit_roundoff
from simulator.numerics.gemm import NumericsResult
from simulator.spec.workload import VectorOpSpec

EPS = 1e-5  # layernorm / rmsnorm epsilon


def _gelu(x, xp=np):
    return 0.5 * x * (1 + xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def apply(kind: str, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """The op on rows of x (and y for add / mul), in x's float type."""
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
        return x + y
    if kind == "mul":
        return x * y
    raise ValueError(kind)


class VectorNumerics:
    """Inputs, output and coverage of one vector op; `rows` is the per-step kernel."""

    def __init__(self, op: VectorOpSpec, seed: int):
        rng = np.random.default_rng(seed)
        self.op = op
        self.x = random_operand(rng, (op.rows, op.cols), op.dtype)
        self.y = (
            random_operand(rng, (op.rows, op.cols), op.dtype) if op.kind in ("add", "mul") else None
        )
        self.out = np.zeros((op.rows, op.cols), np.float64)
        self.coverage = np.zeros(op.rows, np.int64)

    def rows(self, r0: int, r1: int) -> None:
        """Compute rows r0:r1 in fp32 and store them in the op's precision."""
        x = self.x[r0:r1].astype(np.float32)
        y = None if self.y is None else self.y[r0:r1].astype(np.float32)
        result = apply(self.op.kind, x, y).astype(storage(self.op.dtype))
        self.out[r0:r1] = result.astype(np.float64)
        self.coverage[r0:r1] += 1

    def check(self) -> NumericsResult:
        """|err| <= u_out |ref| + c u32 max(|ref|, 1): rounding to the output format, plus fp32
        arithmetic with c = cols + 16 for row reductions (the sums) and 16 for elementwise ops."""
        x = self.x.astype(np.float64)
        y = None if self.y is None else self.y.astype(np.float64)
        reference = apply(self.op.kind, x, y)
        reduction = self.op.kind in ("softmax", "layernorm", "rmsnorm")
        c = (self.op.cols + 16) if reduction else 16
        bound_matrix = unit_roundoff(self.op.dtype) * np.abs(reference) + c * unit_roundoff(
            "fp32"
        ) * np.maximum(np.abs(reference), 1.0)
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
