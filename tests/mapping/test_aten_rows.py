"""Row reductions as PyTorch 2.9's eager kernels run them (`kernel: aten-2.9`): a wide softmax
row kept in shared memory after one read (cunn_SoftMaxForwardSmem), checked by hand against
host_softmax's launch rules and on a tiny GPU-like chip."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.mapping.aten_rows import aten_row_kernel, forward_threads
from simulator.mapping.inductor_rows import kernel_for
from simulator.mapping.vector_ops import (
    pass_sources,
    pass_waits,
    reduction_steps,
    reread_hits,
    resident_ctas,
    row_cycles,
    row_kernel,
)
from simulator.spec import load_arch
from simulator.spec.arch import KernelsSpec, LoadLatencySpec
from simulator.spec.workload import VectorOpSpec
from tests.mapping.test_cta import gpu_doc

LATENCY = LoadLatencySpec(dram=290, l2=200, shared=23)


def aten29(kind, rows, cols, dtype="bf16"):
    return VectorOpSpec(kind=kind, name="v", rows=rows, cols=cols, dtype=dtype, kernel="aten-2.9")


def test_block_size_by_hand():
    """SoftMaxForward_getBlockSize: min(cols, 1,024) rounded up to a multiple of 32."""
    widths = (40, 64, 1000, 1025, 4096, 65536)
    assert [forward_threads(c) for c in widths] == [64, 64, 1024, 1024, 1024, 1024]


def test_wide_softmax_rows_stay_in_shared_memory_by_hand():
    """bf16 rows of 4,096: a 1,024-thread CTA, 8 values (16 B) a thread a load, the row kept
    (4,096 < (49,152 - 32 warps x 4 B) / 2 = 24,512 values), 48 KiB + 1 KiB reserved a CTA.
    Rows of 24,512 or more, or whose width is not a multiple of 8, take three reads from memory
    and only the reduction's 32 floats; fp32 rows fit below 12,256 values."""
    kept = aten_row_kernel(aten29("softmax", 64, 4096))
    got = (kept.threads, kept.row_threads, kept.vector, kept.passes, kept.kept, kept.shared)
    assert got == (1024, 1024, 8, 3, True, 49152 + 1024)
    for cols in (24512, 4100):
        wide = aten_row_kernel(aten29("softmax", 64, cols))
        assert (wide.kept, wide.passes, wide.shared) == (False, 3, 128 + 1024), cols
    assert aten_row_kernel(aten29("softmax", 64, 24504)).kept  # 24,504 < 24,512, 8 | 24,504
    fp32 = aten_row_kernel(aten29("softmax", 64, 12252, "fp32"))  # 4 values a load
    assert (fp32.vector, fp32.kept) == (4, True)  # 12,252 < (49,152 - 128) / 4 = 12,256
    assert aten_row_kernel(aten29("softmax", 64, 12256, "fp32")).kept is False


def test_narrow_rows_and_norms_run_as_pytorch_2_0():
    """Rows of up to 1,024 values keep the warp softmax; LayerNorm and RMSNorm keep their
    128-thread CTAs and two reads of the row: the same kernels as `aten`."""
    for kind, cols in (("softmax", 1024), ("softmax", 128), ("layernorm", 4096), ("rmsnorm", 64)):
        new = aten29(kind, 8, cols)
        assert kernel_for(new) == row_kernel(new.model_copy(update={"kernel": "aten"}))


def test_kept_row_waits_on_dram_once_by_hand():
    """A kept bf16 row of 4,096: one 16-byte load a thread (1,024 x 8 >= 4,096), from DRAM in
    the first pass and from shared memory in the other two: 290 + 23 + 23, and two block-wide
    reductions over 1,024 threads (5 + 2 + 5 = 12 steps) at 23 cycles: 336 + 2 x 12 x 23 = 888.
    It reads nothing again from L2 or DRAM, whatever the L2 holds."""
    kernel = aten_row_kernel(aten29("softmax", 64, 4096))
    assert reduction_steps(1024) == 12
    assert pass_waits(kernel, 4096, LATENCY) == [290, 23, 23]
    assert row_cycles(kernel, 4096, LATENCY) == 888
    assert pass_sources(kernel, 4096, None) == [(4096, 0), (0, 0), (0, 0)]
    kernels = KernelsSpec()
    assert reread_hits(kernel, aten29("softmax", 64, 4096), kernels, 228 * 1024, 4, 2**30) == ()


def test_kept_rows_resident_by_threads_and_shared_memory_by_hand():
    """2,048 threads an SM hold two 1,024-thread CTAs; 100 KiB of shared memory holds two of 49
    KiB, 64 KiB one."""
    kernel = aten_row_kernel(aten29("softmax", 64, 4096))
    kernels = KernelsSpec()
    assert resident_ctas(kernel, kernels, 228 * 1024) == 2
    assert resident_ctas(kernel, kernels, 100 * 1024) == 2
    assert resident_ctas(kernel, kernels, 64 * 1024) == 1


def _softmax(rows, cols, kernel):
    spec = {"kind": "softmax", "name": "sm", "rows": rows, "cols": cols, "dtype": "fp16"}
    return {"name": "sm", "ops": [spec | {"kernel": kernel}]}


def test_a_kept_row_moves_its_bytes_once():
    """8 fp16 softmax rows of 4,096 on a GPU-like chip without L2: PyTorch 2.0's kernel loads
    each row three times from DRAM, PyTorch 2.9's once; both store it once, and both compute
    the reference's numbers."""
    row = 4096 * 2
    for kernel, reads in (("aten", 3), ("aten-2.9", 1)):
        doc = copy.deepcopy(gpu_doc())
        report = simulator.simulate(load_arch(doc), _softmax(8, 4096, kernel), numerics=True)
        assert report.summary["numerics_ok"]
        moved = {k: sum(o[k] for o in report.record.op_dram.values()) for k in ("load", "store")}
        assert moved == {"load": reads * 8 * row, "store": 8 * row}, kernel


def test_registers_bound_the_norms_ctas_by_hand():
    """128-thread LayerNorm CTAs: at 32 registers a thread (sm_90's bf16 kernel) a warp takes
    1,024 of the 65,536, so 64 warps, 16 CTAs, as many as 2,048 threads allow; sm_100's 40 take
    1,280 a warp: 51 warps, 12 CTAs; sm_100's fp32 kernel 44, rounded to 1,536 a warp: 42 warps,
    10 CTAs. The kept softmax's 32 leave its two 1,024-thread CTAs; PyTorch 2.0's kernels, and a
    chip that names no SM architecture, are not bound by registers."""
    kernels, shared = KernelsSpec(), 228 * 1024
    cases = {("bf16", 90): 16, ("bf16", 100): 12, ("fp32", 100): 10, ("bf16", None): 16}
    for (dtype, sm), ctas in cases.items():
        kernel = kernel_for(aten29("layernorm", 64, 4096, dtype), sm)
        assert resident_ctas(kernel, kernels, shared) == ctas, (dtype, sm)
    kept = kernel_for(aten29("softmax", 64, 4096), 100)
    assert (kept.registers, resident_ctas(kept, kernels, shared)) == (32, 2)
    eager = VectorOpSpec(kind="layernorm", name="v", rows=64, cols=4096, dtype="bf16")
    assert kernel_for(eager, 100).registers == 0


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["softmax", "layernorm", "rmsnorm"]),
    cols=st.integers(1025, 40000),
    dtype=st.sampled_from(["bf16", "fp16", "fp32"]),
    sm=st.sampled_from([None, 80, 90, 100]),
)
def test_resident_ctas_fit_every_limit_of_the_sm(kind, cols, dtype, sm):
    """Whatever the row, the CTAs a core holds fit its 2,048 threads, its shared memory and its
    65,536 registers (each warp's rounded up to 256); a kept row is read from DRAM once, any other
    row once per pass."""
    kernel = kernel_for(aten29(kind, 64, cols, dtype), sm)
    kernels, shared = KernelsSpec(), 228 * 1024
    ctas = resident_ctas(kernel, kernels, shared)
    assert ctas * kernel.threads <= kernels.threads
    assert ctas * kernel.shared <= shared
    warps = -(-kernel.threads // 32)
    assert ctas * warps * -(-kernel.registers * 32 // 256) * 256 <= kernels.registers
    reads = sum(dram + l2 for dram, l2 in pass_sources(kernel, cols, None))
    assert reads == cols * (1 if kernel.kept else kernel.passes)
