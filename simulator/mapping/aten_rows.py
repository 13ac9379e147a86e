"""Row reductions as PyTorch 2.9's eager ATen kernels run them on a GPU, beside PyTorch 2.0's
(`vector_ops.row_kernel`): a softmax row wider than a warp's that fits a CTA's shared memory is
read from memory once and kept there (cunn_SoftMaxForwardSmem, pytorch/pytorch#122970, 2024),
and each kernel's registers per thread, as compiled for the chip, bound its resident CTAs."""

from dataclasses import replace

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

REGISTERS = {
    ("softmax-kept", "bf16"): {80: 31, 90: 32, 100: 32},
    ("softmax-kept", "fp16"): {80: 32, 90: 32, 100: 31},
    ("softmax-kept", "fp32"): {80: 27, 90: 30, 100: 30},
    ("softmax", "bf16"): {80: 32, 90: 32, 100: 32},
    ("softmax", "fp32"): {80: 31, 90: 32, 100: 31},
    ("layernorm", "bf16"): {80: 31, 90: 32, 100: 40},
    ("layernorm", "fp16"): {80: 31, 90: 32, 100: 40},
    ("layernorm", "fp32"): {80: 32, 90: 39, 100: 44},
    ("rmsnorm", "bf16"): {80: 22, 90: 27, 100: 32},
    ("rmsnorm", "fp16"): {80: 25, 90: 25, 100: 32},
    ("rmsnorm", "fp32"): {80: 32, 90: 32, 100: 40},
}
"""Registers per thread of PyTorch 2.9's row kernels by SM architecture, as the torch 2.9.1+cu128
wheel ships them (`cuobjdump -res-usage -arch sm_XX torch/lib/libtorch_cuda.so`):
cunn_SoftMaxForwardSmem (kept) and cunn_SoftMaxForward with SoftMaxForwardEpilogue, and
vectorized_layer_norm_kernel (LayerNorm, and RMSNorm as its rms_norm instance), fp32 accumulate.
A kernel above 32 takes fewer than 2,048 threads an SM: sm_100's bf16 LayerNorm (40) 12 of its
128-thread CTAs instead of 16."""


def forward_threads(cols: int) -> int:
    """SoftMaxForward_getBlockSize (PyTorch 2.9): the row's width capped at 1,024 threads,
    rounded up to a multiple of a warp."""
    return -(-min(cols, MAX_CTA_THREADS) // WARP) * WARP


def aten_row_kernel(op: VectorOpSpec, sm: int | None = None) -> RowKernel:
    """The kernel PyTorch 2.9 runs for row reduction `op`, compiled for `sm` (its `REGISTERS`):
    rows up to 1,024 values as PyTorch 2.0 (`row_kernel`), the norms as PyTorch 2.0's too; a
    wider softmax row a CTA of `forward_threads`, which loads the row into its 48 KiB of shared
    memory in its first pass (each thread a 16-byte vector) and makes its other two passes there
    (cunn_SoftMaxForwardSmem) where the row fits and its width is a multiple of the vector, else
    cunn_SoftMaxForward's three reads from memory. The counted instructions are PyTorch 2.0's
    cunn_SoftMaxForward's: the same arithmetic per element."""
    if op.kind == "softmax" and op.cols <= WARP_ROW:
        return row_kernel(op)
    if op.kind != "softmax":
        registers = REGISTERS.get((op.kind, op.dtype), {}).get(sm, 0)
        return replace(row_kernel(op), registers=registers)
    threads = forward_threads(op.cols)
    vector = max(1, LOAD_BYTES // nbytes(1, op.dtype))
    warps = threads // WARP
    room = (SHARED_PER_BLOCK - nbytes(warps, "fp32")) // nbytes(1, op.dtype)
    kept = op.cols < room and op.cols % vector == 0
    shared = (SHARED_PER_BLOCK if kept else nbytes(warps, "fp32")) + RESERVED_SHARED
    work = softmax_passes(False, op.dtype, vector)
    reductions = REDUCTIONS_PER_ROW["softmax"]
    name = "softmax-kept" if kept else "softmax"
    registers = REGISTERS.get((name, op.dtype), {}).get(sm, 0)
    passes = PASSES["softmax"]
    return RowKernel(1, threads, threads, passes, vector, reductions, shared, work, kept, registers)
