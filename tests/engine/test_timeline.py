"""Whole runs timed by hand on an array whose DRAM moves exactly one byte per cycle."""

import json
import math

import pytest

import simulator
from tests.conftest import tiny_arch

SINGLE_TILE = {"dataflow": "os", "tile": {"M": 8, "N": 8, "K": 8}, "accounting": "scalesim"}


def test_single_tile_is_load_then_compute_then_store():
    # load A (64 B) + B (64 B) = 128 cycles; one os fold K+R+C-2 = 22; store C int32 256 B = 256.
    report = simulator.simulate(tiny_arch(), "gemm:M=8,N=8,K=8,dtype=int8", SINGLE_TILE)
    s = report.summary
    assert s["cycles"] == 128 + 22 + 256
    assert s["compute_busy_cycles"] == 22
    assert s["stall_cycles_by_cause"] == {"fill": 128, "drain": 256}
    assert s["dram_bytes"] == 128 + 256


def test_latency_adds_once_per_transfer():
    # 100 ns at 700 MHz = 70 cycles, paid by the load and by the store
    report = simulator.simulate(
        tiny_arch(latency="100 ns"), "gemm:M=8,N=8,K=8,dtype=int8", SINGLE_TILE
    )
    assert report.summary["cycles"] == 128 + 70 + 22 + 256 + 70


def test_double_buffering_makes_a_memory_bound_run_take_bytes_over_bandwidth():
    # Two tiles along N. Every transfer shares the 1 B/cycle bus and it never idles once started:
    # A+B0 (128), B1 (64), C0 (256), C1 (256) -> 704 cycles, the compute hiding under them.
    mapping = {**SINGLE_TILE, "loop_order": ["M", "N", "K"]}
    report = simulator.simulate(tiny_arch(), "gemm:M=8,N=16,K=8,dtype=int8", mapping)
    assert report.summary["cycles"] == 128 + 64 + 256 + 256
    assert report.summary["dram_bytes"] == 704


def test_sram_ports_stretch_compute_when_too_narrow():
    # M=8 N=16 K=8, one tile, os on 8x8: two column folds of 22 cycles = 44 compute cycles.
    # SRAM at 1 B/cycle: A read once per column fold 2*64, B 128, C written 128*4 = 768 cycles.
    # DRAM: load A+B 64+128 = 192, store C 512.
    mapping = {**SINGLE_TILE, "tile": {"M": 8, "N": 16, "K": 8}}
    report = simulator.simulate(tiny_arch(width="1 B"), "gemm:M=8,N=16,K=8,dtype=int8", mapping)
    s = report.summary
    assert s["compute_busy_cycles"] == 44
    assert s["stall_cycles_by_cause"]["sram_bandwidth"] == 768 - 44
    assert s["cycles"] == 192 + 768 + 512
    assert s["ops"][0]["bound"] == "sram"


def test_energy_by_hand_with_overridden_costs():
    # Datapath rows: MACs 512 x 1 pJ; DRAM (128 + 256) B x 80 pJ/B; SRAM reads: array A 64 + B 64,
    # DMA-out 256 (x 1 pJ); SRAM writes: array C 256, DMA-in 128 (x 2 pJ). No SRAM leakage.
    report = simulator.simulate(tiny_arch(), "gemm:M=8,N=8,K=8,dtype=int8", SINGLE_TILE)
    energy = report.energy
    datapath = energy[energy.part.isin(["mac", "array", "interface"]) & (energy.op != "(static)")]
    expected = 512 * 1 + 384 * 80 + (64 + 64 + 256) * 1 + (256 + 128) * 2
    assert datapath.energy_pj.sum() == expected
    # Parts the chip adds (tech/chip.yaml): PE registers, fp32-wide (32 + 2 x 32 + 32 bits), each
    # written once per MAC at Aladdin's 0.009 pJ/bit (40 nm, moved to 45 nm by the energy factor,
    # log-log between 45 nm = 1 and 32 nm = 0.654); the clock network is 25 % of on-die dynamic.
    factor_40 = math.exp(math.log(0.654) / math.log(32 / 45) * math.log(40 / 45))
    regs = 512 * 128 * 0.009 / factor_40
    dynamic = energy[energy.op != "(static)"]
    assert dynamic[dynamic.part == "pe_registers"].energy_pj.sum() == pytest.approx(regs)
    die_dynamic = 512 + regs + (64 + 64 + 256) * 1 + (256 + 128) * 2
    clock = energy[energy.part == "clock_network"].energy_pj.sum()
    assert clock == pytest.approx(die_dynamic / 3)
    static = energy[energy.op == "(static)"].energy_pj.sum()
    assert report.summary["energy_pj"] == pytest.approx(expected + regs + clock + static)
    assert report.ops.energy_pj.sum() == pytest.approx(expected + regs + clock)


def test_leakage_is_power_times_time():
    spec = tiny_arch()
    spec["components"]["buf"]["leakage"] = "7 mW"
    report = simulator.simulate(spec, "gemm:M=8,N=8,K=8,dtype=int8", SINGLE_TILE)
    energy = report.energy
    leak = energy[(energy.action == "leakage") & (energy.component == "buf")].energy_pj.sum()
    assert leak == pytest.approx(7e-3 * (406 / 700e6) * 1e12)


def test_same_inputs_same_report():
    args = ("tpu-v1-like", "bert-base-ffn")
    assert (
        simulator.simulate(*args, seed=3).to_json() == simulator.simulate(*args, seed=3).to_json()
    )


def test_trace_has_compute_and_dma_tracks():
    report = simulator.simulate(
        tiny_arch(), "gemm:M=8,N=16,K=8,dtype=int8", SINGLE_TILE, trace=True
    )
    trace = report.chrome_trace()
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert names == {"pe", "dram read", "dram write"}
    json.dumps(trace)


def test_trace_has_a_process_per_core_and_no_overlapping_slices():
    """Perfetto shows overlapping slices of one thread wrongly nested: each thread's slices must be
    disjoint, and each core of a multi-core chip is its own process."""
    report = simulator.simulate("mesh-4x4", "gemm-256", "split-mn", numerics=False, trace=True)
    events = report.chrome_trace()["traceEvents"]
    processes = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert {"chip", *(f"core {i}" for i in range(16))} <= processes
    slices: dict[tuple[int, int], list] = {}
    for e in events:
        if e["ph"] == "X":
            slices.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in slices.values():
        spans.sort()
        assert all(end <= nxt + 1e-9 for (_, end), (nxt, _) in zip(spans, spans[1:]))
    assert sum(len(s) for s in slices.values()) == len(report.record.events)
