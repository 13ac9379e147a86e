"""Attention: HBM traffic, MACs and bounds against closed forms derived by hand."""

import math

import pytest

import simulator
import simulator.mapping.attention as attention_mapping
from simulator.components import build_machine
from simulator.engine.memo import execute
from simulator.errors import SpecError, UnsupportedError
from simulator.mapping import compile_program
from simulator.spec import load_arch, load_mapping, load_workload


def arch(capacity="4 MiB", bandwidth="100 GB/s"):
    return {
        "name": "attn-test",
        "clock": "1 GHz",
        "components": {
            "mxu": {
                "kind": "systolic_array",
                "rows": 32,
                "cols": 32,
                "input_precision": ["bf16", "fp16", "fp32"],
            },
            "vpu": {"kind": "vector", "lanes": 128},
            "buf": {"kind": "sram", "capacity": capacity, "banks": 8, "width": "64 B"},
            "dram": {
                "kind": "dram",
                "technology": "hbm2e",
                "bandwidth": bandwidth,
                "latency": "0 ns",
            },
        },
    }


def attention(heads=2, kv_heads=None, q_len=256, kv_len=None, d=32, causal=False, dtype="bf16"):
    op = {
        "kind": "attention",
        "name": "attn",
        "heads": heads,
        "q_len": q_len,
        "head_dim": d,
        "causal": causal,
        "dtype": dtype,
    }
    op.update({k: v for k, v in (("kv_heads", kv_heads), ("kv_len", kv_len)) if v})
    return {"name": "attn", "ops": [op]}


def run(workload, algorithm="flash", block=64, numerics=False, **arch_args):
    mapping = {"attention": {"algorithm": algorithm, "block_q": block, "block_kv": block}}
    return simulator.simulate(arch(**arch_args), workload, mapping, numerics=numerics)


def test_flash_traffic_is_q_and_o_once_and_kv_once_per_query_block():
    # H=2, L=256, d=32, bf16, Br=Bc=64: Q = O = 2*256*32*2 B; K and V = 256*32*2 B per head,
    # read once for each of the 256/64 = 4 query blocks.
    report = run(attention())
    q = o = 2 * 256 * 32 * 2
    kv = 2 * 4 * 2 * (256 * 32 * 2)
    assert report.summary["dram_bytes"] == q + o + kv


def test_naive_traffic_adds_the_round_trips_of_s_and_p_when_they_spill():
    # 256 KiB cannot hold a 64-row block's S (fp32) and P (bf16) with K, V double-buffered, so
    # S = 2*256*256 fp32 and P = 2*256*256 bf16 each go out and back; K and V are read once per
    # block of 64 query rows.
    report = run(attention(), algorithm="naive", capacity="256 KiB")
    assert report.ops.map_spill[0]
    q = o = 2 * 256 * 32 * 2
    kv = 2 * 4 * 2 * (256 * 32 * 2)
    s, p = 2 * 256 * 256 * 4, 2 * 256 * 256 * 2
    assert report.summary["dram_bytes"] == q + o + kv + 2 * s + 2 * p


def test_unfused_writes_and_reads_s_and_p_in_the_op_precision_even_when_they_fit():
    # Three kernels over 4 MiB of SRAM (S and P would fit): S = 2*256*256 bf16 is written by
    # Q K^T and read by softmax, P the same between softmax and P V. The GEMMs run 64x32x32 tiles
    # in loop order M, N, K: S = Q K^T (256x256x32) keeps a Q tile over its 8 key tiles (Q once)
    # and reads all of K per block of 64 query rows (4 times); O = P V (256x32x256) reads each P
    # tile once and all of V per block of 64 rows (4 times), and writes O once.
    mapping = {
        "attention": {"algorithm": "unfused", "block_q": 64},
        "tile": {"M": 64, "N": 32, "K": 32},
        "loop_order": ["M", "N", "K"],
    }
    report = simulator.simulate(arch(), attention(), mapping, numerics=False)
    assert report.ops.map_spill[0]
    q = o = 2 * 256 * 32 * 2
    kv = 2 * 4 * 2 * (256 * 32 * 2)
    s = p = 2 * 256 * 256 * 2
    assert report.summary["dram_bytes"] == q + o + kv + 2 * s + 2 * p


def test_flash_moves_less_than_naive_on_long_sequences():
    long = attention(heads=1, q_len=2048, d=64)
    flash = run(long, capacity="2 MiB", block=128).summary["dram_bytes"]
    naive = run(long, algorithm="naive", capacity="2 MiB", block=None).summary["dram_bytes"]
    assert flash * 5 < naive  # 8.9 MB vs 67.6 MB by the closed forms above


def test_gqa_reads_kv_once_per_group_not_per_query_head():
    # decode: one query, 4096 keys, d=128; K+V = 2*4096*128*2 B per KV head
    per_kv_head = 2 * 4096 * 128 * 2
    for kv_heads in (32, 8, 1):
        workload = attention(heads=32, kv_heads=kv_heads, q_len=1, kv_len=4096, d=128)
        loads = run(workload, block=None).record.op_dram["attn"]["load"]
        assert loads == kv_heads * per_kv_head + 2 * 32 * 128  # plus the 32 query rows


def test_causal_computes_the_lower_triangle_of_blocks():
    # 256/64 = 4 blocks a side: causal keeps 4*5/2 = 10 of 16 blocks, half the dense MACs plus half
    # the diagonal blocks.
    dense = run(attention(causal=False)).summary["macs"]
    causal = run(attention(causal=True)).summary["macs"]
    assert dense == 2 * 2 * 256 * 256 * 32
    assert causal == dense * 10 // 16
    assert abs(causal - dense / 2) <= dense * 4 / 16 / 2


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("algorithm", ["flash", "naive", "unfused"])
def test_numerics_within_the_precision_bound(dtype, algorithm):
    workload = attention(heads=4, kv_heads=2, q_len=100, kv_len=130, d=32, causal=True, dtype=dtype)
    report = run(workload, algorithm=algorithm, block=48, numerics=True)
    result = report.numerics["attn"]
    assert result.coverage_ok and result.max_abs_error <= result.error_bound
    if dtype == "fp32":
        assert result.error_bound < 1e-3  # fp32 is held tight


def test_overlapping_blocks_are_caught_by_coverage(monkeypatch):
    def overlapping(extent, size):
        return [(max(s - 1, 0), min(s + size, extent)) for s in range(0, extent, size)]

    monkeypatch.setattr(attention_mapping, "_blocks", overlapping)
    result = run(attention(q_len=128), numerics=True).numerics["attn"]
    assert not result.coverage_ok and not result.ok


def test_attention_without_a_vector_unit_is_unsupported():
    with pytest.raises(UnsupportedError) as error:
        simulator.simulate(
            "tpu-v1-like", attention(dtype="int8"), numerics=False
        )  # int8: the array runs it
    assert str(error.value) == (
        "no unit runs attn (attention); units: mxu (systolic_array); declare a vector unit "
        "that runs it, or an arch fallback"
    )


def test_decode_of_a_7b_layer_is_memory_bound():
    # LLaMA-2-7B layer: 4*4096^2 + 3*4096*11008 bf16 weights; KV-cache 2*4096*32*128 bf16
    weights = (4 * 4096 * 4096 + 3 * 4096 * 11008) * 2
    kv = 2 * 4096 * 32 * 128 * 2
    summary = simulator.simulate("datacenter-hbm", "llama-2-7b-decode", numerics=False).summary
    bound = (weights + kv) / 150e9
    assert bound <= summary["seconds"] <= 1.1 * bound
    assert summary["roofline_bound"] == "memory"
    assert summary["llm"]["kv_cache_bytes"] == kv


def test_prefill_is_compute_bound():
    summary = simulator.simulate("datacenter-hbm", "llama-2-7b-prefill", numerics=False).summary
    assert summary["roofline_bound"] == "compute"
    assert summary["mac_utilization"] > 0.8


def _flash_step_traffic(frag_capacity: str, unit: str) -> dict[str, list[int]]:
    """Per-buffer [read, write] bytes of `unit`'s computes in one interior flash step (Br=Bc=64,
    d=32, bf16) on a 32x32 array whose register file (one per array) holds operands."""
    spec = arch()
    spec["components"]["frag"] = {
        "kind": "regfile",
        "unit": "mxu",
        "holds": ["input", "weight"],
        "capacity": frag_capacity,
        "instances": "array",
        "width": "4 B",
        "ports": 256,
    }
    machine = build_machine(load_arch(spec))
    workload = load_workload(attention(heads=1, q_len=64, kv_len=128, d=32))
    mapping = load_mapping({"attention": {"block_q": 64, "block_kv": 64}})
    program, _ = compile_program(workload, mapping, machine, False, 0)
    step = list(program.ops[0].steps())[1]  # the second K/V block: no Q load, no final store
    traffic: dict[str, list[int]] = {}
    for compute in step.computes:
        for buffer, read, write in compute.sram_traffic if compute.unit == unit else ():
            entry = traffic.setdefault(buffer, [0, 0])
            entry[0] += read
            entry[1] += write
    return traffic


# os on 32x32: S = Q K^T (64x64x32) reads Q 64*32 x ceil(64/32) and K 32*64 x ceil(64/32);
# O += P V (64x32x64) reads P 64*64 x 1 and V 64*32 x 2: 4,096 elements each, 8,192 B in bf16.
# They write S (64*64) and O (64*32) in fp32 to `buf` (no register level holds outputs here).
MATMUL_WRITES = (64 * 64 + 64 * 32) * 4


def test_flash_keeps_q_and_p_in_registers_when_they_fit():
    # Q and P of a block (4,096 + 8,192 B) fit 16 KiB of registers: only K and V are read from
    # SRAM at each step, as in FlashAttention-2; softmax writes P (64*64*2 B) to the registers.
    assert _flash_step_traffic("16 KiB", "mxu") == {
        "frag": [2 * 8192, 0],
        "buf": [2 * 8192, MATMUL_WRITES],
    }
    assert _flash_step_traffic("16 KiB", "vpu")["frag"] == [0, 64 * 64 * 2]


def test_flash_reads_q_and_p_from_sram_when_the_registers_are_too_small():
    assert _flash_step_traffic("8 KiB", "mxu") == {"buf": [4 * 8192, MATMUL_WRITES]}  # < 12,288 B


def test_softmax_counts_s_reads_and_p_writes_when_they_share_one_buffer():
    # The last step of q 64 x kv 128 (Br=Bc=64, d=32) rescales and finishes: softmax reads S
    # (64*64 fp32) and O (64*32 fp32) and writes P (64*64 bf16) and O, all in the one `buf`.
    assert _flash_step_traffic("8 KiB", "vpu") == {
        "buf": [64 * 64 * 4 + 64 * 32 * 4, 64 * 64 * 2 + 64 * 32 * 4]
    }


def _flash(overlap, kv_len):
    machine = build_machine(load_arch(arch()))
    workload = load_workload(attention(heads=1, q_len=64, kv_len=kv_len, d=32))
    attention_spec = {"block_q": 64, "block_kv": 64, "softmax_overlap": overlap}
    return compile_program(
        workload, load_mapping({"attention": attention_spec}), machine, False, 0
    )[0], machine


def test_softmax_not_overlapped_holds_the_array_through_it():
    # An interior step of Br=Bc=64, d=32 (rescaling, not finishing) on 128 lanes: max 64*64+64
    # (33 cycles), add 2*64*64 (64), exp 64*64+64 at 4 cycles (132), mul 64*32 (16): 245 cycles
    # the vector unit runs while holding the array when the softmax does not overlap; the
    # matmul before it keeps its own length.
    def interior(overlap):
        program, _ = _flash(overlap, 192)
        return list(program.ops[0].steps())[1].computes

    alone, held = interior(True), interior(False)
    assert alone[1].cycles == held[1].cycles == 245
    assert (alone[1].holds, held[1].holds) == ((), ("mxu",))
    assert alone[0] == held[0]


def test_one_block_takes_as_long_with_the_softmax_serialised():
    # One K/V block: mm1, softmax and mm2 depend on each other, so they are serial either way.
    def cycles(overlap):
        program, machine = _flash(overlap, 64)
        return execute(program, machine, memoize=False).cycles

    assert cycles(False) == cycles(True)


@pytest.mark.parametrize("causal", [False, True])
def test_a_large_query_group_takes_fewer_query_rows_a_head(causal):
    """Falcon-180B split over 8 GPUs: 29 query heads on one K/V head. At Br = Bc = 16 the group's
    464 query rows hold 148,480 B of fp32 scores and outputs, more than an SM's register file:
    the block shrinks to fewer query rows a head instead of failing, and computes the numbers."""
    heads = {"heads": 29, "kv_heads": 1, "q_len": 128, "kv_len": 128, "head_dim": 64}
    op = {"kind": "attention", "name": "attn", "dtype": "fp16", "causal": causal, **heads}
    report = simulator.simulate("a100-like", {"name": "falcon-tp8", "ops": [op]}, numerics=True)
    details = report.program.ops[0].details
    assert details["gqa_group"] == 29 and details["block_q"] < 16
    assert report.numerics and all(result.ok for result in report.numerics.values())


def _flash_matmuls(mma: str | None, rates: dict[str, float]) -> list:
    """The computes of an interior flash step (Br = Bc = 64, d = 32) on `arch` whose array lists
    `rates` as its instruction families, the mapping naming `mma`."""
    spec = arch()
    spec["components"]["mxu"]["instructions"] = rates
    machine = build_machine(load_arch(spec))
    workload = load_workload(attention(heads=1, q_len=64, kv_len=192, d=32))
    attention_spec = {"block_q": 64, "block_kv": 64, "mma": mma}
    program = compile_program(
        workload, load_mapping({"attention": attention_spec}), machine, False, 0
    )[0]
    return list(program.ops[0].steps())[1].computes


@pytest.mark.parametrize("mma, fold", [(None, 32), ("full", 32), ("half", 64), ("slow", 40)])
def test_a_kernels_mma_family_streams_at_its_share_of_the_rate(mma, fold):
    # Q K^T of one step: 64x64 scores over d = 32 on the 32x32 array, output-stationary,
    # realistic: 2 x 2 folds each streaming K = 32 in ceil(32 / share) cycles (32, 64 at 0.5,
    # 40 at 0.8), plus one skew drain of 32 + 32 - 2: 4 * fold + 62. P V (64x32 over 64 keys):
    # 2 x 1 folds of ceil(64 / share), the same drain. MACs do not change.
    rates = {"full": 1.0, "half": 0.5, "slow": 0.8}
    share = rates.get(mma, 1.0)
    scores, _, weighted = _flash_matmuls(mma, rates)
    assert scores.cycles == 4 * fold + 62
    assert weighted.cycles == 2 * math.ceil(64 / share) + 62
    assert (scores.macs, weighted.macs) == (64 * 64 * 32, 64 * 32 * 64)


def test_an_mma_family_the_array_does_not_list_is_an_error_naming_the_key():
    with pytest.raises(SpecError, match=r"attention\.mma: mxu lists no instruction family 'wgmma'"):
        _flash_matmuls("wgmma", {"mma.sync": 0.667})
    with pytest.raises(SpecError, match=r"attention\.mma: .*unfused"):
        run_unfused_with_mma()


def run_unfused_with_mma():
    spec = arch()
    spec["components"]["mxu"]["instructions"] = {"mma.sync": 0.667}
    mapping = {"attention": {"algorithm": "unfused", "mma": "mma.sync"}}
    simulator.simulate(spec, attention(heads=1, q_len=64, d=32), mapping, numerics=False)
