"""Row reductions as torch.compile's Inductor in PyTorch 2.0 generates them for a GPU, beside the
eager ATen kernels of `vector_ops.row_kernel`; a `VectorOpSpec.kernel` picks which runs."""

from simulator.mapping.aten_rows import aten_row_kernel
from simulator.mapping.vector_ops import WARP, RowKernel, row_kernel
from simulator.spec.precision import nbytes
from simulator.spec.workload import VectorOpSpec

PERSISTENT_ROW = 1024
"""Widest row a persistent reduction holds in registers, read once (the threshold for inner
reductions of should_use_persistent_reduction, torch/_inductor/codegen/triton.py); wider rows
get a looped reduction, which reads the row again in each of its loops."""
LOOP_BLOCK = 2048
"""The looped inner reduction's RBLOCK past 2,048 columns (`reduction`'s contiguous config in
torch/_inductor/triton_ops/autotune.py, PyTorch 2.0): one program a row, XBLOCK 1."""
ELEMENTS_PER_WARP = 128
MIN_WARPS, MAX_WARPS = 2, 8
"""triton_config_reduction's warps: XBLOCK x RBLOCK / 128, clamped to 2..8, a power of two."""
LOOPS = {"softmax": 3, "layernorm": 3, "rmsnorm": 2}
"""Loops of the looped kernel, each loading the row: softmax its max, its sum of exponentials and
the output; LayerNorm its mean, its variance and the output (PyTorch 2.0's Inductor lowers
var_mean to two reductions, the second over (x - mean)^2: triton-lang/triton#1285; the one-pass
Welford reduction came with pytorch/pytorch#104725 in PyTorch 2.1); RMSNorm its mean of squares
and the output."""
ROW_REDUCTIONS = {"softmax": 2, "layernorm": 2, "rmsnorm": 1}
"""Block-wide reductions a row takes: softmax's max and sum, LayerNorm's mean and variance,
RMSNorm's mean of squares."""


def _power_of_two(n: int) -> int:
    """n rounded up to a power of two, as Inductor rounds its size hints."""
    return 1 << max(0, n - 1).bit_length()


def inductor_row_kernel(op: VectorOpSpec) -> RowKernel:
    """The Triton kernel PyTorch 2.0's Inductor makes for row reduction `op`: a program per row
    (XBLOCK 1: the first of the configs it autotunes below 256 columns, the only one above) of
    `RBLOCK x XBLOCK / 128` warps, each thread loading RBLOCK / threads values at once; up to
    `PERSISTENT_ROW` columns RBLOCK is the whole row, read once, else `LOOP_BLOCK` a loop step
    and a read of the row for each of its `LOOPS`."""
    persistent = op.cols <= PERSISTENT_ROW
    rblock = _power_of_two(op.cols) if persistent else LOOP_BLOCK
    warps = _power_of_two(min(max(rblock // ELEMENTS_PER_WARP, MIN_WARPS), MAX_WARPS))
    threads = warps * WARP
    passes = 1 if persistent else LOOPS[op.kind]
    shared = nbytes(threads, "fp32")  # one fp32 partial per thread for the block reduction
    vector = max(1, rblock // threads)
    return RowKernel(1, threads, threads, passes, vector, ROW_REDUCTIONS[op.kind], shared)


def kernel_for(op: VectorOpSpec, sm: int | None = None) -> RowKernel:
    """The GPU kernel that runs row reduction `op`, as `op.kernel` says: Inductor's, PyTorch
    2.9's eager one (compiled for `sm`) or PyTorch 2.0's."""
    if op.kernel == "inductor-2.0":
        return inductor_row_kernel(op)
    return aten_row_kernel(op, sm) if op.kernel == "aten-2.9" else row_kernel(op)
