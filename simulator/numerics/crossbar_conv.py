"""A convolution through the crossbar functional model, checked against the direct convolution.

The filters are unrolled into B[C R S, K] (the cells) and each output pixel's input window into a
row of A[N P Q, C R S] (what the DACs stream); the crossbar model computes A @ B tile by tile and
the check compares it with `direct_conv` (exact integers, float64), not with its own matmul.
"""

import numpy as np

from simulator.numerics.conv import ConvNumerics, direct_conv
from simulator.numerics.crossbar import CrossbarNumerics, CrossbarResult
from simulator.spec.precision import precision
from simulator.spec.workload import ConvOpSpec


class ConvCrossbarNumerics:
    """Seeded X and W of one groups=1 conv (drawn as ConvNumerics draws them), unrolled for the
    crossbars; `tile(m, n, k)` is the crossbar kernel over pixels m, filters n and taps k."""

    def __init__(self, op: ConvOpSpec, unit, seed: int):
        conv = ConvNumerics(op, "int32", seed)  # the operands and the window gather only
        self.op, self.x, self.w = op, conv.x, conv.w
        patches = conv._patches((0, op.N), (0, op.P), (0, op.Q), (0, op.C))  # [N P Q, C R S]
        filters = conv.w.reshape(op.K, -1).T  # [C R S, K], taps in the windows' (c, r, s) order
        if precision(op.dtype).is_int:
            patches, filters = patches.astype(np.int64), filters.astype(np.int64)
        else:
            patches, filters = patches.astype(np.float64), filters.astype(np.float64)
        self.crossbar = CrossbarNumerics(patches, filters, op.dtype, unit, seed)

    def tile(self, m: tuple[int, int], n: tuple[int, int], k: tuple[int, int]) -> None:
        self.crossbar.tile(m, n, k)

    def result(self) -> np.ndarray:
        """Y[N, K, P, Q] as the crossbars deliver it."""
        op = self.op
        return self.crossbar.result().reshape(op.N, op.P, op.Q, op.K).transpose(0, 3, 1, 2)

    def check(self) -> CrossbarResult:
        """The crossbar result against the direct convolution, within the crossbar model's bound
        (zero for integers through a lossless ADC on ideal cells)."""
        op = self.op
        reference = direct_conv(self.x, self.w, op)  # [N, K, P, Q]
        return self.crossbar.check(reference.transpose(0, 2, 3, 1).reshape(-1, op.K))
