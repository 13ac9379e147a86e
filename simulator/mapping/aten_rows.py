"""Row reductions as PyTorch 2.9's eager ATen kernels run them on a GPU, beside PyTorch 2.0's
(`vector_ops.row_kernel`): a softmax row wider than a warp's that fits a CTA's shared memory is
read from memory once and kept there (cunn_SoftMaxForwardSmem, pytorch/pytorch#122970, 2024)."""

from simulator.mapping.vector_ops import (
    LOAD_BYTES,
    MAX_CTA_THREADS,
    PASSES,
    REDUCTIONS_PER_ROW,
    WARP,
    WARP_ROW,
    RowKernel,
    row_kernel,
    softmax_passes,
)
from simulator.spec.precision import nbytes
from simulator.spec.workload import VectorOpSpec

SHARED_PER_BLOCK = 48 * 1024
"""What host_softmax asks for as a CTA's dynamic shared memory, whatever the row:
cudaDeviceProp::sharedMemPerBlock, 48 KiB on every NVIDIA GPU since compute capability 2.0 (CUDA
C++ Programming Guide, technical specifications: larger blocks need an opt-in the kernel does not
make); a row fits when it is shorter than that less a float per warp for the reductions."""
RESERVED_SHARED = 1024
"""Shared memory the system reserves for every resident CTA (compute capability 8.0 and later,
CUDA C++ Programming Guide; cuobjdump -res-usage prints it as SHARED:1024 for these kernels)."""


def forward_threads(cols: int) -> int:
    """SoftMaxForward_getBlockSize (PyTorch 2.9): the row's width capped at 1,024 threads,
    rounded up to a multiple of a warp."""
    return -(-min(cols, MAX_CTA_THREADS) // WARP) * WARP


def aten_row_kernel(op: VectorOpSpec) -> RowKernel:
    """The kernel PyTorch 2.9 runs for row reduction `op`: rows up to 1,024 values and the norms
    as PyTorch 2.0 (`row_kernel`); a wider softmax row a CTA of `forward_threads`, which loads
    the row into its 48 KiB of shared memory in its first pass (each thread a 16-byte vector) and
    makes its other two passes there (cunn_SoftMaxForwardSmem) where the row fits and its width
    is a multiple of the vector, else cunn_SoftMaxForward's three reads from memory. The counted
    instructions are PyTorch 2.0's cunn_SoftMaxForward's: the same arithmetic per element."""
    if op.kind != "softmax" or op.cols <= WARP_ROW:
        return row_kernel(op)
    threads = forward_threads(op.cols)
    vector = max(1, LOAD_BYTES // nbytes(1, op.dtype))
    warps = threads // WARP
    room = (SHARED_PER_BLOCK - nbytes(warps, "fp32")) // nbytes(1, op.dtype)
    kept = op.cols < room and op.cols % vector == 0
    shared = (SHARED_PER_BLOCK if kept else nbytes(warps, "fp32")) + RESERVED_SHARED
    work = softmax_passes(False, op.dtype, vector)
    reductions = REDUCTIONS_PER_ROW["softmax"]
    return RowKernel(1, threads, threads, PASSES["softmax"], vector, reductions, shared, work, kept)
