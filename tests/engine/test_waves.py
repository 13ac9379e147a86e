"""benchmarks/waves.py: a many-core GEMM's CTA waves, cut from the event run's trace, and whether
they repeat (the bound on what wave-level coalescing could skip; docs/performance.md)."""

import math
import sys
from pathlib import Path

import pytest

from simulator.components import build_machine
from simulator.mapping import compile_program
from simulator.spec import load_arch, load_mapping, load_workload

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import waves  # noqa: E402  (a script in benchmarks/, not a package)

CORES = [(["cores", "count"], 8)]


def test_uncontended_waves_repeat_back_to_back():
    """With 100x DRAM and L2 bandwidth nothing queues: 1024x1024x256 in 128x256 CTAs is
    (1024/128) x (1024/256) = 32 CTAs, 4 waves on 8 cores, and every CTA runs its 256/128 = 2
    K steps back to back at the steps' own compute cycles, so all waves are alike."""
    arch = waves.uncontended("a100-like", CORES)
    count, signatures, _, details = waves.wave_signatures(arch, 1024, 1024, 256)
    assert (details["cta"], details["tile"]["K"]) == ("128x256", 128)
    assert count == math.ceil(32 / 8) == len(signatures)
    program, _ = compile_program(
        load_workload("gemm:M=1024,N=1024,K=256,dtype=fp16"),
        load_mapping(None),
        build_machine(arch),
        False,
        0,
    )
    steps = list(program.ops[0].steps())[1:3]  # after the launch segment: one CTA's K steps
    a, b = (step.computes[0].cycles for step in steps)
    for signature in signatures:
        assert len(signature) == 8
        for _, spans in signature:
            assert waves._relative(spans) == ((0, a), (a, a + b))
    assert len(set(signatures)) == 1


def test_uncontended_doubles_dram_and_l2_bandwidth_only():
    base, fast = load_arch("a100-like"), waves.uncontended("a100-like", scale=2)
    assert fast.components["hbm"].bandwidth == 2 * base.components["hbm"].bandwidth
    assert fast.components["l2"].banks == 2 * base.components["l2"].banks
    assert fast.cores == base.cores


@pytest.mark.slow
def test_contended_a100_waves_never_repeat():
    """a100-like 2048^3: (2048/64) x (2048/128) = 512 CTAs on 108 SMs, 5 waves; queueing at the
    shared DRAM and L2 pools staggers the SMs differently in every wave (the finding that rules
    out exact wave-level coalescing on it)."""
    count, signatures, _, details = waves.wave_signatures(load_arch("a100-like"), 2048, 2048, 2048)
    assert details["cta"] == "64x128"
    assert count == math.ceil(512 / 108) == 5
    assert len(set(signatures)) == count
