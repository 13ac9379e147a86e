"""A copy from a strided (non-contiguous) source as a GPU runs it (`VectorOpSpec.strided_dims`):
PyTorch's elementwise kernel takes its vectorised path only for contiguous tensors; any other
copy runs `launch_legacy_kernel<128, 4>` (aten/src/ATen/native/cuda/CUDALoops.cuh,
gpu_kernel_impl_nocast), each thread copying 4 elements one at a time and computing each one's
source and destination offsets with an integer divide per dimension (OffsetCalculator). So the
copy is bound by the SM's instruction issue, or by its loads' latency, not only by bandwidth."""

import math

from simulator.spec.arch import KernelsSpec
from simulator.spec.workload import VectorOpSpec

WARP = 32
CTA_THREADS = 128
"""launch_legacy_kernel's CTA size (nt = 128)."""
INSTRUCTIONS = (18, 13)
"""Warp instructions per element copied, a fixed part and a part per source dimension, counted in
the SASS that CUDA 13.0's ptxas makes for sm_90 of elementwise_kernel<128, 4> with a 2-operand
OffsetCalculator of 32-bit IntDividers and a 2-byte element, as PyTorch writes them: per element
the bounds check, its branch and their reconvergence barrier (4), the dimension count's load and
test with the offsets' zeroing (4), the load, the store and their 64-bit addresses with the
index's step (9) and the first dimension's zeroed register (1);
per dimension IMAD.HI, SHF and IADD3 for the divide, an IMAD for the remainder and one per
operand's offset, the test for the next dimension and its branch, and the uniform loads of the
divisor's and the strides' constants (13)."""


def instructions(dims: int) -> int:
    """Warp instructions one thread issues per element of a copy over `dims` source dimensions."""
    fixed, per_dim = INSTRUCTIONS
    return fixed + per_dim * dims


def resident_threads(kernels: KernelsSpec) -> int:
    """Threads of the copy kernel one core holds: its CTAs of `CTA_THREADS` up to the core's
    thread and CTA limits (it uses 16 registers a thread, which do not bound it)."""
    return min(kernels.threads, kernels.ctas * CTA_THREADS) // CTA_THREADS * CTA_THREADS


def strided_floor(op: VectorOpSpec, kernels: KernelsSpec, rereads: int) -> int:
    """Core cycles a core needs for its `op.rows` x `op.cols` elements of strided copy `op`: the
    larger of its instruction issue (`instructions` per element, `kernels.schedulers` warp
    instructions a cycle) and, where the chip gives load latencies, Little's law on its loads
    (each resident thread has one load in flight: a thread's next load follows its store, which
    the compiler cannot move above it, so every element waits a load latency; of a sector's
    1 + `rereads` loads, the first is DRAM's and the rest the L2's, and on a two-die chip half
    of them cross to the other die)."""
    elements = op.rows * op.cols
    issue = math.ceil(elements * instructions(op.strided_dims) / (kernels.schedulers * WARP))
    if kernels.latency is None:
        return issue
    near = (kernels.latency.dram + rereads * kernels.latency.l2) / (1 + rereads)
    latency = near + kernels.latency.other_die / 2
    rounds = math.ceil(elements / resident_threads(kernels))
    return max(issue, math.ceil(rounds * latency))
