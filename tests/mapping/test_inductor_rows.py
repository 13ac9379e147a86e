"""Row reductions as PyTorch 2.0's Inductor generates them (`kernel: inductor-2.0`), and the
posted stores of every row kernel's rounds (their time, and the L2 they take from the next round
while they drain), checked by hand."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.mapping.inductor_rows import inductor_row_kernel, kernel_for
from simulator.mapping.vector_ops import (
    _pass_work,
    core_rates,
    reread_hits,
    resident_ctas,
    round_cycles,
    row_kernel,
    spilled_stores,
)
from simulator.spec import load_arch
from simulator.spec.arch import KernelsSpec, LoadLatencySpec
from simulator.spec.workload import VectorOpSpec
from tests.mapping.test_cta import gpu_doc

LATENCY = LoadLatencySpec(dram=290, l2=200, shared=23)
A100_SHARED = 192 * 1024
A100_L2 = 40 * 2**20  # a100-like's 40 MiB: deviceQuery's "L2 Cache Size: 41943040 bytes"


def compiled(kind, rows, cols):
    return VectorOpSpec(
        kind=kind, name="v", rows=rows, cols=cols, dtype="fp16", kernel="inductor-2.0"
    )


def test_inductor_kernels_by_hand():
    """Up to 1,024 columns a persistent reduction: RBLOCK the row rounded up to a power of two,
    RBLOCK / 128 warps (2 to 8), the row read once. Past it a looped one: RBLOCK 2,048, 16 -> 8
    warps of 32, 2,048 / 256 = 8 values a thread a load, LayerNorm and softmax 3 reads of the
    row (mean, variance, output; max, sum, output), RMSNorm 2."""
    cases = {
        ("layernorm", 32): (64, 1, 1, 2),  # 32 // 128 = 0 -> 2 warps, 32 / 64 -> 1 value
        ("layernorm", 512): (128, 1, 4, 2),
        ("layernorm", 1000): (256, 1, 4, 2),  # RBLOCK 1,024
        ("layernorm", 1025): (256, 3, 8, 2),
        ("layernorm", 32768): (256, 3, 8, 2),
        ("softmax", 4096): (256, 3, 8, 2),
        ("rmsnorm", 4096): (256, 2, 8, 1),
    }
    for (kind, cols), (threads, passes, vector, reductions) in cases.items():
        kernel = inductor_row_kernel(compiled(kind, 64, cols))
        got = (kernel.threads, kernel.passes, kernel.vector, kernel.reductions)
        assert got == (threads, passes, vector, reductions), (kind, cols)
        assert (kernel.rows, kernel.row_threads, kernel.shared) == (1, threads, 4 * threads)


def test_the_op_picks_its_kernel():
    """`kernel: aten` (the default) runs PyTorch's eager kernels, `inductor-2.0` Inductor's."""
    eager = VectorOpSpec(kind="layernorm", name="v", rows=8, cols=4096, dtype="fp16")
    assert kernel_for(eager) == row_kernel(eager)
    assert kernel_for(compiled("layernorm", 8, 4096)).passes == 3


def _moved(op: dict) -> dict[str, int]:
    report = simulator.simulate(load_arch(gpu_doc()), {"name": "v", "ops": [op]}, numerics=True)
    assert report.summary["numerics_ok"]
    return {k: sum(o[k] for o in report.record.op_dram.values()) for k in ("load", "store")}


@pytest.mark.parametrize(
    ("cols", "kernel", "reads"),
    [(4096, "inductor-2.0", 3), (4096, "aten", 2), (1024, "inductor-2.0", 1)],
)
def test_reads_of_each_row_without_l2(cols, kernel, reads):
    """8 LayerNorm rows on a chip with no L2: Inductor's looped kernel loads each row 3 times
    from DRAM, the eager one twice, a persistent one once; each stores it once."""
    op = {"kind": "layernorm", "name": "n", "rows": 8, "cols": cols, "dtype": "fp16"}
    assert _moved(op | {"kernel": kernel}) == {"load": reads * 8 * cols * 2, "store": 8 * cols * 2}


def test_wide_compiled_rows_miss_l2_by_hand():
    """A100's 108 SMs hold 2,048 / 256 = 8 of Inductor's CTAs each: 864 rows in flight. At
    16,384 fp16 columns they take 28,311,552 B of the 40 MiB (41,943,040 B) L2, leaving
    13,631,488 B, 15,777 B a row, 7,888 fp16 outputs: the variance pass re-reads every column
    from L2, the output pass columns 0 to 7,888. At 32,768 columns they take 56.6 MB: both
    re-reads miss."""
    kernels = KernelsSpec()
    for cols, hits in ((16384, (16384, 7889)), (32768, (0, 0))):
        norm = compiled("layernorm", 4096, cols)
        kernel = inductor_row_kernel(norm)
        assert reread_hits(kernel, norm, kernels, A100_SHARED, 108, A100_L2) == hits


SHARE = 2039e9 * 0.8 / 1.41e9 / 108
"""An A100-like SM's share of DRAM a cycle with 108 busy: 2,039 GB/s x 0.8 / 1.41 GHz / 108."""


def a100(op):
    """a100-like's kernels and an SM's rates for `op` with 108 SMs busy (10.7 B of DRAM and
    5,120 / 108 = 47.4 B of L2 a cycle)."""
    machine = build_machine(simulator.load_arch("a100-like"))
    rates = core_rates(machine, 0, op, 108)
    assert (rates.dram, rates.l2) == (pytest.approx(SHARE), pytest.approx(5120 / 108))
    return machine.arch.cores.kernels, rates


def test_stores_drain_under_the_next_round_by_hand():
    """A round of 8 of Inductor's LayerNorm rows of 4,096 fp16 (64 KiB) reads DRAM in its mean
    pass (6,119 cycles), L2 in its variance pass (1,383) and in its output pass, whose recipe
    outlasts that re-read; two 10-step reductions at 23 add 460. Its CTAs leave once their
    stores are issued, so the round takes the longer of that sum and its 128 KiB of reads and
    stores at DRAM's rate; a last round (`writes` False) leaves its stores to the engine."""
    norm = compiled("layernorm", 8, 4096)
    kernel = inductor_row_kernel(norm)
    _, rates = a100(norm)
    hits = (4096, 4096)
    output = rates.vector.issue_cycles(_pass_work(kernel, norm, 2, 8))
    passes = math.ceil(65536 / SHARE) + 1383 + max(1383, math.ceil(output)) + 460
    assert round_cycles(kernel, 8, norm, LATENCY, rates, hits, writes=False) == passes
    drained = math.ceil(2 * 65536 / SHARE)
    assert drained > passes
    assert round_cycles(kernel, 8, norm, LATENCY, rates, hits) == drained


def test_stores_that_drain_under_the_next_round_by_hand():
    """Inductor's LayerNorm over 38 rows of 16,384 fp16 on an SM (rounds of 8 rows, 256 KiB):
    with the variance pass's re-reads hitting L2 and the output pass's on columns 0 to 6,764, a
    round reads 262,144 B from DRAM in its mean pass (24,473 cycles), re-reads L2 in its variance
    pass (5,530), and 8 x 2 x 9,619 = 153,904 B from DRAM in its output pass (14,368 cycles,
    beyond its 14,336 of instructions); with 460 of reductions, 44,831 cycles. Its DRAM bytes,
    262,144 + 153,904 read and 262,144 stored, take more: what the passes' cycles at the core's
    share do not cover drains under the next round. A core's only round has none."""
    norm = compiled("layernorm", 38, 16384)
    kernel = inductor_row_kernel(norm)
    kernels, rates = a100(norm)
    passes = math.ceil(262144 / SHARE) + math.ceil(262144 * 108 / 5120)
    passes += math.ceil(153904 / SHARE) + 460
    assert passes == 44831
    hits = (16384, 6765)
    assert round_cycles(kernel, 8, norm, LATENCY, rates, hits, writes=False) == passes
    drained = spilled_stores(kernel, norm, kernels, A100_SHARED, rates, hits)
    assert drained == int(262144 + 153904 + 262144 - passes * rates.dram)
    one = compiled("layernorm", 8, 16384)
    assert spilled_stores(kernel, one, kernels, A100_SHARED, rates, hits) == 0


def test_drained_stores_take_l2_from_the_next_rounds_rereads_by_hand():
    """4096 of those rows on 108 SMs: 864 rows in flight take 28,311,552 B of the 40 MiB L2 and
    leave 13,631,488 B, which 108 x 180,327 B of stores draining under each round outgrow: every
    re-read misses. At 8,192 columns 14.2 MB are in flight and the stores that drain (19,734 B a
    round) leave every re-read a hit, as without them."""
    for cols, alone, settled in ((16384, (16384, 7889), (0, 0)), (8192, (8192,) * 2, (8192,) * 2)):
        norm = compiled("layernorm", 4096, cols)
        kernel = inductor_row_kernel(norm)
        busiest = norm.model_copy(update={"rows": 38})  # 4,096 rows over 108 SMs: 38 at most
        kernels, rates = a100(busiest)
        assert reread_hits(kernel, norm, kernels, A100_SHARED, 108, A100_L2) == alone
        drained = 108 * spilled_stores(kernel, busiest, kernels, A100_SHARED, rates, alone)
        assert drained > A100_L2 - 864 * cols * 2 or settled == alone
        got = reread_hits(kernel, norm, kernels, A100_SHARED, 108, A100_L2, (busiest, rates))
        assert got == settled


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["softmax", "layernorm", "rmsnorm"]),
    st.sampled_from(["aten", "inductor-2.0"]),
    st.integers(1, 5000),
    st.integers(1, 40000),
    st.integers(0, 60_000_000),
)
def test_posted_stores_bound_a_round_and_only_take_l2(kind, source, rows, cols, l2):
    """For any row reduction on a100-like's 108 SMs and any L2: a round with its stores takes at
    least its DRAM bytes (reads and stores) at the core's DRAM rate and the round without them,
    and at most that round plus its stores' own time; the stores that drain under the next round
    are at most a round's, and the re-reads that hit with them at most those that hit without;
    an op whose cores hold all their rows at once drains none."""
    reduction = VectorOpSpec(kind=kind, name="v", rows=rows, cols=cols, dtype="fp16")
    kernel = kernel_for(reduction.model_copy(update={"kernel": source}))
    ctas = math.ceil(rows / kernel.rows)
    busy = min(108, ctas)
    busiest = reduction.model_copy(update={"rows": math.ceil(ctas / busy) * kernel.rows})
    kernels, rates = a100(busiest)
    alone = reread_hits(kernel, reduction, kernels, A100_SHARED, busy, l2)
    per_round = min(busiest.rows, resident_ctas(kernel, kernels, A100_SHARED) * kernel.rows)
    size = per_round * cols * 2
    reads = size + sum(per_round * (cols - h) * 2 for h in alone)
    without = round_cycles(kernel, per_round, busiest, LATENCY, rates, alone, writes=False)
    both = round_cycles(kernel, per_round, busiest, LATENCY, rates, alone)
    assert both >= max(without, math.floor((reads + size) / rates.dram))
    assert both <= without + math.ceil(size / rates.dram) + 1
    drained = spilled_stores(kernel, busiest, kernels, A100_SHARED, rates, alone)
    assert 0 <= drained <= size
    got = reread_hits(kernel, reduction, kernels, A100_SHARED, busy, l2, (busiest, rates))
    assert all(a <= b for a, b in zip(got, alone))
    if per_round == busiest.rows:
        assert drained == 0 and got == alone
