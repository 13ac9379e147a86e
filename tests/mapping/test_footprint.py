"""Activation footprints of workloads that mix CNN ops with attention and collectives."""

import pytest

import simulator
from simulator.components import build_machine
from simulator.errors import CapacityError
from simulator.mapping import check_dram_capacity
from simulator.mapping.footprint import past_kv_bytes, peak_activation_bytes
from simulator.mapping.host import input_bytes, output_bytes
from simulator.spec import load_arch
from simulator.spec.workload import WorkloadSpec

PATCH = {"kind": "conv2d", "name": "patch", "C": 3, "H": 32, "W": 32, "K": 64, "R": 4, "S": 4}
PATCH |= {"stride": 4, "dtype": "bf16"}  # 8x8 patches of 64 channels: 64 tokens of width 64
ATTENTION = {"kind": "attention", "name": "attn", "inputs": ["patch"], "heads": 4, "q_len": 64}
ATTENTION |= {"head_dim": 16, "dtype": "bf16"}
VIT = {"name": "vit-mix", "ops": [PATCH, ATTENTION]}


def test_attention_bytes_are_its_q_k_v_in_and_o_out():
    gqa = WorkloadSpec(
        name="gqa",
        ops=[
            {
                "kind": "attention",
                "batch": 2,
                "heads": 8,
                "kv_heads": 2,
                "q_len": 3,
                "kv_len": 10,
                "head_dim": 4,
                "dtype": "fp32",
            }
        ],
    ).ops[0]
    q = 2 * 8 * 3 * 4  # batch x heads x q_len x head_dim
    kv = 2 * 2 * 10 * 4  # batch x kv_heads x kv_len x head_dim, once for K and once for V
    assert input_bytes(gqa) == 4 * (q + 2 * kv)
    assert output_bytes(gqa) == 4 * q


def test_a_conv_then_attention_peaks_while_attention_reads_the_patches():
    conv_in, conv_out = 3 * 32 * 32, 64 * 8 * 8  # N C H W in, N K P Q out
    attention_out = 4 * 64 * 16  # heads x q_len x head_dim
    # the conv holds the image and its result; attention holds the conv's result and its own
    expected = 2 * max(conv_in + conv_out, conv_out + attention_out)  # bf16: 2 bytes
    assert peak_activation_bytes(WorkloadSpec(**VIT)) == expected


def test_a_collective_holds_its_elements_in_and_out():
    op = WorkloadSpec(
        name="c", ops=[{"kind": "collective", "pattern": "all_gather", "elements": 96}]
    ).ops[0]
    assert (input_bytes(op), output_bytes(op)) == (4 * 96, 4 * 96)  # int32


def test_a_cnn_with_attention_runs_with_and_without_numerics():
    timed = simulator.simulate("h100-like", VIT, numerics=False)
    checked = simulator.simulate("h100-like", VIT, numerics=True)
    assert timed.cycles == checked.cycles > 0


def _query(batch: int, width: int) -> dict:
    """A projection of the patches' 4096 values to `batch` queries of `width` (the decode
    attention's inputs write its Q: spec/shapes.py)."""
    return {"kind": "gemm", "name": "q", "inputs": ["patch"], "M": batch, "N": width}


def test_a_decode_attention_after_a_conv_keeps_its_past_positions_in_memory():
    decode = ATTENTION | {"q_len": 1, "kv_len": 4097, "batch": 2, "inputs": ["q"]}
    query = _query(2, 4 * 16) | {"K": 2048, "dtype": "bf16"}
    op = WorkloadSpec(name="d", ops=[PATCH, query, decode]).ops[2]
    # 4096 past positions x batch 2 x 4 K/V heads x 16 x bf16, once for K and once for V
    assert past_kv_bytes(op) == 2 * 2 * 4096 * 4 * 16 * 2
    reads_nothing = WorkloadSpec(name="e", ops=[{**decode, "inputs": []}]).ops[0]
    assert past_kv_bytes(reads_nothing) == 0  # its keys are its external input, counted there
    # a window of 1000 keys: the query sees 999 earlier positions, the rolling buffer's
    windowed = WorkloadSpec(name="w", ops=[PATCH, query, decode | {"causal": True, "window": 1000}])
    assert past_kv_bytes(windowed.ops[2]) == 2 * 2 * 999 * 4 * 16 * 2
    wide = WorkloadSpec(name="x", ops=[PATCH, query, decode | {"causal": True, "window": 9000}])
    assert past_kv_bytes(wide.ops[2]) == past_kv_bytes(op)  # a window past the keys: all 4096


def test_a_cnn_whose_kv_cache_does_not_fit_names_it():
    decode = ATTENTION | {"q_len": 1, "kv_len": 1 << 20, "batch": 64, "heads": 64, "head_dim": 128}
    cache = 2 * 64 * ((1 << 20) - 1) * 64 * 128 * 2  # ~2.2 TB: beyond any one chip's DRAM
    query = _query(64, 64 * 128) | {"K": 64, "dtype": "bf16"}
    workload = WorkloadSpec(name="big", ops=[PATCH, query, decode | {"inputs": ["q"]}])
    machine = build_machine(load_arch("h100-like"))
    with pytest.raises(CapacityError, match=f"KV-cache of past positions {cache:,} B"):
        check_dram_capacity(workload, machine)
