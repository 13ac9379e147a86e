"""Row reductions as PyTorch 2.9's eager ATen kernels run them on a GPU, beside PyTorch 2.0's
(`vector_ops.row_kernel`): host_softmax (aten/src/ATen/native/cuda/SoftMax.cu) runs rows up to
2,048 values a warp each, wider ones a CTA each that reads its row from memory once and keeps it
in registers (cunn_SoftMaxForwardReg, pytorch/pytorch#144679, 2025) or shared memory
(cunn_SoftMaxForwardSmem, pytorch/pytorch#122970, 2024) where it fits; and each kernel's
registers per thread, as compiled for the chip, bound its resident CTAs."""

from dataclasses import replace

from simulator.mapping.vector_ops import (
    LOAD_BYTES,
    MAX_CTA_THREADS,
    PASSES,
    REDUCTIONS_PER_ROW,
    WARP,
    WARP_ROW,
    WARPS_PER_CTA,
    RowKernel,
    row_kernel,
    softmax_passes,
)
from simulator.spec.precision import nbytes
from simulator.spec.workload import VectorOpSpec

SHARED_PER_BLOCK = 48 * 1024
"""The most dynamic shared memory host_softmax lets a CTA ask for: cudaDeviceProp::
sharedMemPerBlock, 48 KiB on every NVIDIA GPU since compute capability 2.0 (CUDA C++ Programming
Guide, technical specifications: larger blocks need an opt-in the kernel does not make). A kept
row asks for itself and a float per warp for the reductions, and fits where that is below 48 KiB."""
WARP_SOFTMAX_ROW = 2048
WARP_SOFTMAX_BYTES = 8192
"""host_softmax runs a row a warp (softmax_warp_forward, its values in the lanes' registers) up to
2,048 values and 8 KiB (PyTorch 2.0: 1,024 values and 4 KiB, `vector_ops.WARP_ROW`)."""
REGISTER_SLOTS = 10
"""host_softmax keeps a wider row in registers (cunn_SoftMaxForwardReg<reg_cnt>) where each
thread holds fewer than 10 of its values: ceil(cols / threads) < 10 (potential_register_count)."""
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
128-thread CTAs instead of 16; the register and warp softmax's are below."""
REGISTER_SOFTMAX = {
    "bf16": {
        80: (18, 23, 24, 28, 28, 30, 32, 35, 40),
        90: (18, 22, 28, 30, 30, 29, 34, 37, 40),
        100: (18, 24, 27, 30, 32, 40, 40, 44, 45),
    },
    "fp16": {
        80: (18, 23, 24, 28, 28, 30, 32, 35, 40),
        90: (18, 22, 28, 30, 30, 29, 34, 37, 40),
        100: (18, 24, 27, 30, 32, 40, 40, 44, 45),
    },
    "fp32": {
        80: (18, 23, 24, 27, 28, 32, 32, 35, 40),
        90: (18, 22, 28, 30, 30, 29, 34, 37, 38),
        100: (18, 24, 28, 30, 34, 38, 40, 40, 46),
    },
}
WARP_SOFTMAX = {"bf16": {100: 168}, "fp16": {100: 168}, "fp32": {100: 168}}
"""Registers per thread, from the same wheel, of cunn_SoftMaxForwardReg<..., reg_cnt> with
SoftMaxForwardEpilogue (input and output of one dtype, fp32 accumulate), by dtype and SM
architecture, for reg_cnt 1 to 9 (the values a thread holds); and of softmax_warp_forward for
2,048-value rows (log2_elements 11, not log, not masked), counted on sm_100 only: 168 a thread
leave room for 12 warps an SM, 3 of its 4-warp CTAs (16 where registers do not bound it)."""


def forward_threads(cols: int) -> int:
    """SoftMaxForward_getBlockSize (PyTorch 2.9): the row's width capped at 1,024 threads,
    rounded up to a multiple of a warp."""
    return -(-min(cols, MAX_CTA_THREADS) // WARP) * WARP


def aten_row_kernel(op: VectorOpSpec, sm: int | None = None) -> RowKernel:
    """The kernel PyTorch 2.9 runs for row reduction `op`, compiled for `sm` (its `REGISTERS`):
    the norms as PyTorch 2.0's; softmax rows up to 1,024 values as PyTorch 2.0's warp kernel, up
    to `WARP_SOFTMAX_ROW` the same warp kernel with 64 values a lane; wider rows a CTA of
    `forward_threads` (host_softmax's choice, in this order): cunn_SoftMaxForwardReg where each
    thread holds fewer than `REGISTER_SLOTS` values (its loads all in flight at once, one value
    each), cunn_SoftMaxForwardSmem where the row fits 48 KiB of shared memory and its width is a
    multiple of the 16-byte vector, else cunn_SoftMaxForward's three reads from memory. The
    counted instructions are PyTorch 2.0's cunn_SoftMaxForward's: the same arithmetic per
    element."""
    if op.kind != "softmax":
        registers = REGISTERS.get((op.kind, op.dtype), {}).get(sm, 0)
        return replace(row_kernel(op), registers=registers)
    if op.cols <= WARP_ROW:
        return row_kernel(op)
    if op.cols <= WARP_SOFTMAX_ROW and nbytes(op.cols, op.dtype) <= WARP_SOFTMAX_BYTES:
        lane = WARP_SOFTMAX_ROW // WARP  # next_power_of_two(cols) / 32 values a lane
        work = softmax_passes(True, op.dtype, lane)
        registers = WARP_SOFTMAX.get(op.dtype, {}).get(sm, 0)
        return RowKernel(
            WARPS_PER_CTA, WARP * WARPS_PER_CTA, WARP, 1, lane, 2, 0, work, "", registers
        )
    threads = forward_threads(op.cols)
    warps = threads // WARP
    reduction = nbytes(warps, "fp32")
    slots = -(-op.cols // threads)
    vector = max(1, LOAD_BYTES // nbytes(1, op.dtype))
    room = (SHARED_PER_BLOCK - reduction) // nbytes(1, op.dtype)
    if slots < REGISTER_SLOTS:
        name, kept, vector, shared = "softmax-registers", "registers", slots, reduction
    elif op.cols < room and op.cols % vector == 0:
        name, kept, shared = "softmax-kept", "shared", nbytes(op.cols, op.dtype) + reduction
    else:
        name, kept, shared = "softmax", "", reduction
    work = softmax_passes(False, op.dtype, vector)
    registers = REGISTERS.get((name, op.dtype), {}).get(sm, 0)
    if kept == "registers":
        registers = REGISTER_SOFTMAX.get(op.dtype, {}).get(sm, (0,) * slots)[slots - 1]
    return RowKernel(
        1,
        threads,
        threads,
        PASSES["softmax"],
        vector,
        REDUCTIONS_PER_ROW["softmax"],
        shared + RESERVED_SHARED,
        work,
        kept,
        registers,
    )
