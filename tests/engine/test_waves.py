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


def test_regular_steps_is_the_longest_stretch_every_core_runs_alike():
    """Two cores, steps of 10 cycles: core 0's CTA runs 0-40 and core 1's 5-45, so from 5 to 40
    both are inside their CTAs: 35 cycles, 3 whole steps. A step of core 1 stretched to 12 cycles
    (15 to 27) leaves 5-15 and 27-40: 13 cycles, 1 whole step."""
    core0 = ("c0", ((0, 10), (10, 20), (20, 30), (30, 40)))
    core1 = ("c1", ((5, 15), (15, 25), (25, 35), (35, 45)))
    assert waves.regular_steps((core0, core1)) == 3
    stretched = ("c1", ((5, 15), (15, 27), (27, 37), (37, 47)))
    assert waves.regular_steps((core0, stretched)) == 1
