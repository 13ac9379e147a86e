"""Convolution numerics: tile kernels over output-pixel x filter x channel blocks, and the check
against a direct convolution (tap by tap, float64 / exact integers) on the whole layer.

A tile runs as the array computes it: the tile's input patches (im2col of the tile only) times the
tile's filters, integers summed exactly, floats as fp32 products and sums.
"""

import numpy as np

from simulator.numerics.formats import random_operand, unit_roundoff
from simulator.numerics.gemm import NumericsResult, wrap, wrap_message
from simulator.numerics.rounding import gamma
from simulator.spec.precision import precision
from simulator.spec.workload import ConvOpSpec

Range = tuple[int, int]


def direct_conv(x: np.ndarray, w: np.ndarray, op: ConvOpSpec) -> np.ndarray:
    """Reference Y[N, K, P, Q]: for every filter tap (r, s) add the strided input window times
    W[:, :, r, s], per group; exact for integers (int64), float64 otherwise."""
    exact = precision(op.dtype).is_int
    kind = np.int64 if exact else np.float64
    x = np.pad(x.astype(kind), ((0, 0), (0, 0), (op.padding,) * 2, (op.padding,) * 2))
    w = w.astype(kind)
    cg, kg = op.C // op.groups, op.K // op.groups
    y = np.zeros((op.N, op.K, op.P, op.Q), kind)
    for r in range(op.R):
        for s in range(op.S):
            h0, w0 = r * op.dilation, s * op.dilation
            window = x[
                :,
                :,
                h0 : h0 + op.stride * (op.P - 1) + 1 : op.stride,
                w0 : w0 + op.stride * (op.Q - 1) + 1 : op.stride,
            ]  # [N, C, P, Q]
            for g in range(op.groups):
                xs = window[:, g * cg : (g + 1) * cg]  # [N, Cg, P, Q]
                ws = w[g * kg : (g + 1) * kg, :, r, s]  # [Kg, Cg]
                y[:, g * kg : (g + 1) * kg] += np.einsum("ncpq,kc->nkpq", xs, ws)
    return y


class ConvNumerics:
    """Operands, accumulators and coverage of one conv layer; `tile` is the per-Compute kernel."""

    def __init__(self, op: ConvOpSpec, accumulator: str, seed: int):
        rng = np.random.default_rng(seed)
        self.op, self.accumulator = op, accumulator
        self.x = random_operand(rng, (op.N, op.C, op.H, op.W), op.dtype)  # [N, C, H, W]
        self.w = random_operand(rng, (op.K, op.C // op.groups, op.R, op.S), op.dtype)
        self.is_int = precision(op.dtype).is_int
        work = np.float64 if self.is_int else np.float32  # int8/int16 sums stay below 2^53
        pad = ((0, 0), (0, 0), (op.padding,) * 2, (op.padding,) * 2)
        self._x = np.pad(self.x.astype(work), pad)  # [N, C, H + 2 pad, W + 2 pad]
        self._w = self.w.astype(work)
        self.y = np.zeros((op.N, op.K, op.P, op.Q), work)
        self.coverage = np.zeros((op.N, op.K, op.P, op.Q), np.int32)  # taps reduced per output

    def tile(self, n: Range, k: Range, p: Range, q: Range, c: Range) -> None:
        """Y[n, k, p, q] += the taps of channels c (indices within each group) for filters k,
        which may span several whole groups (depthwise blocks) or lie inside one."""
        op = self.op
        cg, kg = op.C // op.groups, op.K // op.groups
        for g in range(k[0] // kg, (k[1] - 1) // kg + 1):
            k0, k1 = max(k[0], g * kg), min(k[1], (g + 1) * kg)
            patches = self._patches(n, p, q, (g * cg + c[0], g * cg + c[1]))  # [n p q, c r s]
            filters = self._w[k0:k1, c[0] : c[1]].reshape(k1 - k0, -1)  # [k, c r s]
            out = (patches @ filters.T).reshape(n[1] - n[0], p[1] - p[0], q[1] - q[0], k1 - k0)
            self.y[n[0] : n[1], k0:k1, p[0] : p[1], q[0] : q[1]] += out.transpose(0, 3, 1, 2)
            self.coverage[n[0] : n[1], k0:k1, p[0] : p[1], q[0] : q[1]] += (
                (c[1] - c[0]) * op.R * op.S
            )

    def _patches(self, n: Range, p: Range, q: Range, ch: Range) -> np.ndarray:
        """im2col of one tile: rows are output pixels (n, p, q), columns are taps (c, r, s)."""
        op = self.op
        taps = []
        for r in range(op.R):
            for s in range(op.S):
                h0, w0 = p[0] * op.stride + r * op.dilation, q[0] * op.stride + s * op.dilation
                window = self._x[
                    n[0] : n[1],
                    ch[0] : ch[1],
                    h0 : h0 + op.stride * (p[1] - p[0] - 1) + 1 : op.stride,
                    w0 : w0 + op.stride * (q[1] - q[0] - 1) + 1 : op.stride,
                ]  # [n, c, p, q]
                taps.append(window)
        stacked = np.stack(taps, axis=-1)  # [n, c, p, q, r s]
        return stacked.transpose(0, 2, 3, 1, 4).reshape(
            (n[1] - n[0]) * (p[1] - p[0]) * (q[1] - q[0]), -1
        )

    def result(self) -> np.ndarray:
        """The accumulators as the hardware holds them (integers wrap to the accumulator width)."""
        if not self.is_int:
            return self.y
        return wrap(self.y, self.accumulator)

    def check(self) -> NumericsResult:
        """Integers: equal to the direct convolution (a wrapped accumulator is a mismatch, and the
        message counts the wraps). Floats: within Higham's gamma_n bound of an
        fp32 dot product of n = C/groups R S taps. Every output must get all n taps exactly once."""
        op = self.op
        taps = (op.C // op.groups) * op.R * op.S
        reference = direct_conv(self.x, self.w, op)
        if self.is_int:
            bound_matrix = np.zeros(reference.shape)
        else:
            magnitude = direct_conv(np.abs(self.x.astype(np.float64)), np.abs(self.w), op)
            bound_matrix = gamma(taps, unit_roundoff("fp32")) * magnitude
        error = np.abs(self.result().astype(np.float64) - reference)
        wrong = np.argwhere(self.coverage != taps)
        coverage_ok = wrong.size == 0
        message = (
            f"every output reduced over all {taps} taps exactly once"
            if coverage_ok
            else f"{len(wrong)} outputs got the wrong number of taps "
            f"(Y{tuple(int(i) for i in wrong[0])} got {self.coverage[tuple(wrong[0])]} of {taps})"
        )
        if self.is_int:
            half = 2 ** (precision(self.accumulator).bits - 1)
            wrapped = int(np.count_nonzero((reference < -half) | (reference >= half)))
            message += "; " + (
                wrap_message(wrapped, self.accumulator, op.dtype, taps)
                if wrapped
                else f"{self.accumulator} accumulator"
            )
        return NumericsResult(
            float(error.max()),
            float((error / np.maximum(np.abs(reference), 1.0)).max()),
            float(bound_matrix.max()),
            bool(np.all(error <= bound_matrix)) and coverage_ok,
            coverage_ok,
            message,
        )
