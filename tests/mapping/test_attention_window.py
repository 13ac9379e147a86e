"""Sliding-window attention: a query at position p sees keys p - window < j <= p. Flash skips the
K/V blocks wholly outside every query's window (as it skips those past the diagonal), a decode
step reads only its window's keys, and the numerics match a softmax masked explicitly in numpy."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.mapping.attention import _flash_rows
from simulator.numerics.attention import AttentionNumerics
from simulator.spec.workload import AttentionOpSpec
from tests.mapping.test_attention import attention, run


def windowed(window, **shape):
    workload = attention(causal=True, **shape)
    workload["ops"][0]["window"] = window
    return workload


def test_windowed_prefill_computes_the_blocks_a_window_reaches():
    """H=2, L=256, d=32, Br=Bc=64. Window 64: query block i (positions 64i..64i+63) sees keys
    from 64i - 63, so its own diagonal block and the one before it: 1 + 2 + 2 + 2 = 7 of 16
    blocks, 7 x 64 x 64 pairs x 2 heads x 32 MACs x 2 matmuls. FLOPs are dense, as a causal
    op's: each of the 256 queries against a window of 64 keys, 4 x 2 heads x 256 x 64 x 32."""
    report = run(windowed(64))
    assert report.summary["macs"] == 7 * 64 * 64 * 2 * 32 * 2
    assert report.ops.flops[0] == 4 * 2 * 256 * 64 * 32
    assert run(windowed(1)).summary["macs"] == 4 * 64 * 64 * 2 * 32 * 2  # the diagonal only


def test_a_windowed_chunk_mid_sequence_reads_the_keys_before_it_in_its_window():
    """A prefill chunk of 64 queries at positions 192..255 over 256 keys, window 100: the first
    query sees keys 93..192, so of the blocks of 64 it skips only [0, 64) and computes 3 (the
    [64, 128) block holds keys 93..127, before the chunk): 3 x 64 x 64 pairs x 2 heads x 32 MACs
    x 2 matmuls; and the numbers match the reference."""
    workload = windowed(100, q_len=64, kv_len=256)
    assert run(workload).summary["macs"] == 3 * 64 * 64 * 2 * 32 * 2
    checked = run(workload, numerics=True).numerics["attn"]
    assert checked.coverage_ok and checked.max_abs_error <= checked.error_bound


@pytest.mark.parametrize("window", [256, 1000])
def test_a_window_no_shorter_than_the_keys_changes_nothing(window):
    """Every query of a 256-key op sees the same keys with a window of 256 or more as with none:
    the same blocks, and the same dense FLOPs, 4 x 2 heads x 256 x 256 x 32."""
    plain, report = run(attention(causal=True)), run(windowed(window))
    assert report.summary["macs"] == plain.summary["macs"]
    assert report.ops.flops[0] == plain.ops.flops[0] == 4 * 2 * 256 * 256 * 32


def test_a_windowed_decode_step_reads_its_windows_keys():
    """One query at position 4095, window 1000: keys 3096..4095, in K/V blocks of 128 from
    3072 on, 8 blocks = 1,024 keys of K and V per K/V head (8 of them), plus 32 query rows."""
    workload = windowed(1000, heads=32, kv_heads=8, q_len=1, kv_len=4096, d=128)
    loads = run(workload, block=128).record.op_dram["attn"]["load"]
    assert loads == 8 * (2 * 1024 * 128 * 2) + 2 * 32 * 128


def test_flash_blocks_of_a_windowed_op_are_no_longer_than_its_window():
    """Left to plan its blocks, flash would take Bc = 2 MiB / 2 B / (4 x 128) = 2,048 keys (half
    of 4 MiB, double-buffered); a window of 1,000 caps Bc at 1,000, so the decode step at 4,095
    reads the blocks from 3,000 on: 1,096 keys of K and V per K/V head, not all 4,096."""
    workload = windowed(1000, heads=32, kv_heads=8, q_len=1, kv_len=4096, d=128)
    report = run(workload, block=None)
    assert report.record.op_dram["attn"]["load"] == 8 * (2 * 1096 * 128 * 2) + 2 * 32 * 128


@pytest.mark.parametrize("algorithm", ["flash", "naive", "unfused"])
def test_windowed_numerics_within_the_precision_bound(algorithm):
    """Naive and unfused kernels compute the masked scores; every algorithm's numbers agree with
    the reference and each query sees exactly its window's keys."""
    workload = windowed(37, heads=4, kv_heads=2, q_len=100, kv_len=130, d=32, dtype="fp16")
    result = run(workload, algorithm=algorithm, block=48, numerics=True).numerics["attn"]
    assert result.coverage_ok and result.max_abs_error <= result.error_bound


def test_a_window_needs_a_causal_op():
    with pytest.raises(ValueError, match="read only with causal: true"):
        AttentionOpSpec(kind="attention", heads=1, q_len=4, head_dim=4, window=2)


def _masked_softmax(q, k, v, window):
    """softmax over each query's window, by loops: query i (position p = Lk - Lq + i) sees keys
    max(0, p - window + 1)..p."""
    lq, lk = q.shape[0], k.shape[0]
    out = np.zeros((lq, v.shape[1]))
    for i in range(lq):
        p = lk - lq + i
        keys = range(max(0, p - window + 1), p + 1)
        s = np.array([q[i] @ k[j] for j in keys]) / math.sqrt(q.shape[1])
        w = np.exp(s - s.max())
        out[i] = (w / w.sum()) @ v[list(keys)]
    return out


@settings(max_examples=30, deadline=None)
@given(
    groups=st.integers(1, 3),
    q_len=st.integers(1, 40),
    extra=st.integers(0, 30),
    window=st.integers(1, 80),
    block=st.integers(1, 24),
)
def test_flash_steps_over_the_visible_blocks_give_the_masked_softmax(
    groups, q_len, extra, window, block
):
    op = AttentionOpSpec(
        kind="attention", heads=groups, kv_heads=1, q_len=q_len, kv_len=q_len + extra,
        head_dim=8, causal=True, window=window, dtype="fp32",
    )  # fmt: skip
    state = AttentionNumerics(op, seed=0)
    plan = SimpleNamespace(block_q=block, block_kv=block)
    for q, ks in _flash_rows(op, plan):
        for index, k in enumerate(ks):
            state.flash_step(0, 0, q, k, index == 0, index == len(ks) - 1)
    for h in range(groups):
        expected = _masked_softmax(state.q[0, h], state.k[0, 0], state.v[0, 0], window)
        np.testing.assert_allclose(state.o[0, h], expected, atol=1e-5)
    assert state.check().coverage_ok


@pytest.mark.parametrize(
    ("arch", "mapping"),
    [("mesh-4x4", {"partition": {"attention": "sequence"}}), ("a100-like", None)],
)
def test_split_attention_windows_each_cores_queries(arch, mapping):
    """Split by query rows (mesh-4x4) or as FlashAttention's CTA grid (a100-like): each part's
    queries see exactly their windows' keys, and the numbers match the reference."""
    workload = "attention:heads=4,kv_heads=2,q_len=256,kv_len=300,head_dim=32,causal=true,window=50"
    report = simulator.simulate(arch, workload, mapping)
    assert all(r.ok and r.coverage_ok for r in report.numerics.values())
