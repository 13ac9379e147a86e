"""Row reductions as PyTorch 2.9's eager kernels run them (`kernel: aten-2.9`): a wide softmax
row read once and kept in registers (cunn_SoftMaxForwardReg) or shared memory
(cunn_SoftMaxForwardSmem), checked by hand against host_softmax's launch rules and on a tiny
GPU-like chip."""

import copy
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import SpecError
from simulator.mapping.aten_rows import (
    REGISTER_SOFTMAX,
    REGISTERS,
    aten_row_kernel,
    forward_threads,
)
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
from simulator.spec import load_arch, load_workload
from simulator.spec.arch import KernelSm, KernelsSpec, LoadLatencySpec
from simulator.spec.workload import VectorOpSpec
from tests.mapping.test_cta import gpu_doc

LATENCY = LoadLatencySpec(dram=290, l2=200, shared=23)


def aten29(kind, rows, cols, dtype="bf16"):
    return VectorOpSpec(kind=kind, name="v", rows=rows, cols=cols, dtype=dtype, kernel="aten-2.9")


def test_block_size_by_hand():
    """SoftMaxForward_getBlockSize: min(cols, 1,024) rounded up to a multiple of 32."""
    widths = (40, 64, 1000, 1025, 4096, 65536)
    assert [forward_threads(c) for c in widths] == [64, 64, 1024, 1024, 1024, 1024]


def test_softmax_dispatch_by_hand():
    """host_softmax in PyTorch 2.9: rows up to 2,048 values and 8 KiB a warp each (64 values a
    lane, 4 warps a CTA, one read); wider rows a 1,024-thread CTA whose threads hold ceil(cols /
    1,024) values each: under 10, in registers, one 2-byte load each (4,096 bf16: 4; 9,216: 9);
    from 10 on, in shared memory where the row is under (49,152 - 32 warps x 4 B) / 2 = 24,512
    values and a multiple of 8, asking for the row and the 128 B of the reductions (9,224 x 2 +
    128 = 18,576, with the 1 KiB reserved 19,600); else three reads from memory and 128 B."""

    def shape(cols, dtype="bf16"):
        k = aten_row_kernel(aten29("softmax", 64, cols, dtype))
        return (k.rows, k.threads, k.row_threads, k.passes, k.vector, k.kept, k.shared)

    assert shape(2048) == (4, 128, 32, 1, 64, "", 0)
    assert shape(2048, "fp32") == (4, 128, 32, 1, 64, "", 0)  # 8,192 B: still a warp
    assert shape(2049) == (1, 1024, 1024, 3, 3, "registers", 128 + 1024)
    assert shape(4096) == (1, 1024, 1024, 3, 4, "registers", 128 + 1024)
    assert shape(9216) == (1, 1024, 1024, 3, 9, "registers", 128 + 1024)
    assert shape(9224) == (1, 1024, 1024, 3, 8, "shared", 9224 * 2 + 128 + 1024)
    assert shape(9217)[5:] == ("", 128 + 1024)  # not a multiple of 8
    assert shape(24504)[5:] == ("shared", 24504 * 2 + 128 + 1024)
    assert shape(24512)[5:] == ("", 128 + 1024)
    assert shape(12252, "fp32")[4:] == (4, "shared", 12252 * 4 + 128 + 1024)  # < 12,256
    assert shape(12256, "fp32")[5] == ""


def test_narrow_rows_and_norms_run_as_pytorch_2_0():
    """Rows of up to 1,024 values keep the warp softmax; LayerNorm and RMSNorm keep their
    128-thread CTAs and two reads of the row: the same kernels as `aten`."""
    for kind, cols in (("softmax", 1024), ("softmax", 128), ("layernorm", 4096), ("rmsnorm", 64)):
        new = aten29(kind, 8, cols)
        assert kernel_for(new) == row_kernel(new.model_copy(update={"kernel": "aten"}))


def test_kept_rows_wait_on_dram_once_by_hand():
    """A bf16 row of 4,096 in registers: one load of each of a thread's 4 values, all in flight
    (1,024 x 4 = 4,096), from DRAM in the first pass and none in the other two: 290, and two
    block-wide reductions over 1,024 threads (5 + 2 + 5 = 12 steps) at 23 cycles: 290 + 2 x 12
    x 23 = 842. A row of 9,224 in shared memory: two 16-byte loads a thread (1,024 x 8 = 8,192 <
    9,224), from DRAM, then from shared memory: 580, 46, 46. Neither reads its row again from
    L2 or DRAM, whatever the L2 holds."""
    kernels = KernelsSpec()
    assert reduction_steps(1024) == 12
    for cols, waits, cycles in ((4096, [290, 0, 0], 842), (9224, [580, 46, 46], 672 + 552)):
        kernel = aten_row_kernel(aten29("softmax", 64, cols))
        assert pass_waits(kernel, cols, LATENCY) == waits
        assert row_cycles(kernel, cols, LATENCY) == cycles
        assert pass_sources(kernel, cols, None) == [(cols, 0), (0, 0), (0, 0)]
        op = aten29("softmax", 64, cols)
        assert reread_hits(kernel, op, kernels, 228 * 1024, 4, 2**30) == ()


def test_kept_rows_resident_by_threads_and_shared_memory_by_hand():
    """2,048 threads an SM hold two 1,024-thread CTAs; a bf16 row of 24,504 kept in shared memory
    takes 24,504 x 2 + 128 + 1,024 = 50,160 B a CTA: 100 KiB holds two, 64 KiB one."""
    kernel = aten_row_kernel(aten29("softmax", 64, 24504))
    kernels = KernelsSpec()
    assert resident_ctas(kernel, kernels, 228 * 1024) == 2
    assert resident_ctas(kernel, kernels, 100 * 1024) == 2
    assert resident_ctas(kernel, kernels, 64 * 1024) == 1


def test_every_sm_an_arch_may_name_has_register_counts():
    """`kernels.sm` takes exactly the SMs the register tables count (each kernel and dtype),
    so an SM never leaves a kernel's registers unbounded while another SM bounds them."""
    sms = set(get_args(KernelSm))
    assert sms == {80, 90, 100}
    for table in (REGISTERS, REGISTER_SOFTMAX):
        assert all(set(by_sm) == sms for by_sm in table.values())


@pytest.mark.parametrize("sm", [75, 86, 89, 120])
def test_an_sm_without_register_counts_is_refused(sm):
    """sm_86 (say) once ran with every row kernel's registers unbounded; now it is a one-line
    error naming the key and the SMs that have counts."""
    doc = copy.deepcopy(gpu_doc())
    doc["cores"]["kernels"]["sm"] = sm
    with pytest.raises(
        SpecError, match=rf"cores\.kernels\.sm: must be one of 80, 90 or 100, got {sm}$"
    ):
        load_arch(doc)


def test_a_dtype_pytorch_does_not_dispatch_is_refused():
    """torch.softmax and the norms have no fp8 CUDA kernel: `kernel: aten-2.9` on an fp8 op is
    a one-line error naming the op's key path, not a model of a kernel that does not exist."""
    doc = {
        "name": "w",
        "ops": [
            {
                "kind": "softmax",
                "name": "sm",
                "rows": 8,
                "cols": 4096,
                "dtype": "fp8_e4m3",
                "kernel": "aten-2.9",
            }
        ],
    }
    with pytest.raises(SpecError) as err:
        load_workload(doc)
    message = str(err.value)
    assert "ops.0" in message and "fp8_e4m3" in message and "\n" not in message


def _softmax(rows, cols, kernel):
    spec = {"kind": "softmax", "name": "sm", "rows": rows, "cols": cols, "dtype": "fp16"}
    return {"name": "sm", "ops": [spec | {"kernel": kernel}]}


def test_a_kept_row_moves_its_bytes_once():
    """8 fp16 softmax rows of 4,096 on a GPU-like chip without L2: PyTorch 2.0's kernel loads
    each row three times from DRAM, PyTorch 2.9's (in registers) once; both store it once, and
    both compute the reference's numbers."""
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
    10 CTAs. The shared-memory softmax's 32 leave its two 1,024-thread CTAs; PyTorch 2.0's kernels, and a
    chip that names no SM architecture, are not bound by registers. The register softmax on
    sm_100 (cunn_SoftMaxForwardReg): 4,096 bf16 values, 4 a thread, 30 registers, 1,024 a warp,
    32,768 a CTA: two; 6,144, 6 a thread, 40 registers, 1,280 a warp, 40,960 a CTA: one. The
    2,048-value warp softmax on sm_100: 168, 5,376 a warp, 12 warps: 3 of its 4-warp CTAs."""
    kernels, shared = KernelsSpec(), 228 * 1024
    cases = {("bf16", 90): 16, ("bf16", 100): 12, ("fp32", 100): 10, ("bf16", None): 16}
    for (dtype, sm), ctas in cases.items():
        kernel = kernel_for(aten29("layernorm", 64, 4096, dtype), sm)
        assert resident_ctas(kernel, kernels, shared) == ctas, (dtype, sm)
    kept = kernel_for(aten29("softmax", 64, 24504), 100)  # cunn_SoftMaxForwardSmem
    assert (kept.registers, resident_ctas(kept, kernels, shared)) == (32, 2)
    cases = {(4096, 100): (30, 2), (6144, 100): (40, 1), (2048, 100): (168, 3)}
    cases |= {(4096, 80): (28, 2), (2048, 90): (0, 16)}
    for (cols, sm), counts in cases.items():
        kernel = kernel_for(aten29("softmax", 64, cols), sm)
        assert (kernel.registers, resident_ctas(kernel, kernels, shared)) == counts, (cols, sm)
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


@settings(max_examples=80, deadline=None)
@given(cols=st.integers(1025, 60000), dtype=st.sampled_from(["bf16", "fp16", "fp32"]))
def test_softmax_dispatch_follows_host_softmax(cols, dtype):
    """host_softmax's order for any row: a warp up to 2,048 values and 8 KiB; else registers
    where a 1,024-thread CTA's threads hold fewer than 10 values each; else shared memory only
    where the row and a float per warp fit 48 KiB and 16 B divide the row; else three reads."""
    size = {"bf16": 2, "fp16": 2, "fp32": 4}[dtype]
    kernel = aten_row_kernel(aten29("softmax", 8, cols, dtype))
    if cols <= 2048 and cols * size <= 8192:
        assert (kernel.row_threads, kernel.passes, kernel.kept) == (32, 1, "")
        return
    assert kernel.threads == min(1024, -(-cols // 32) * 32)
    if -(-cols // kernel.threads) < 10:
        assert kernel.kept == "registers"
    elif cols * size + kernel.threads // 32 * 4 < 48 * 1024 and cols * size % 16 == 0:
        assert (kernel.kept, kernel.shared) == ("shared", cols * size + 128 + 1024)
    else:
        assert (kernel.kept, kernel.passes) == ("", 3)
