"""`auto`'s loop nests (mapping/auto_nest.py): the DMA step bytes by hand, the nest `auto`
takes on one PE by hand, presets without inner levels (or GPU-like) untouched, and every auto
nest computing exactly on the engine."""

from dataclasses import replace
from pathlib import Path

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulator import simulate
from simulator.components import build_machine
from simulator.mapping import auto_nest
from simulator.mapping.auto import auto_plan
from simulator.spec import MappingSpec, load_arch, load_workload
from tests.mapping.one_pe import one_pe

ROOT = Path(__file__).resolve().parents[2]


def test_dram_bytes_by_hand():
    # 4 x 4 x 4 in 2 x 2 x 4 tiles, loop order M, N, K (outermost first; K one trip): the
    # input tile stays across N (16 B once), the weight reloads per M (2 x 16 B), each int8
    # output is stored once (16 B), no partial sums leave
    problem, tile = {"M": 4, "N": 4, "K": 4}, {"M": 2, "N": 2, "K": 4}
    moved = auto_nest._dram_bytes(problem, tile, ["M", "N", "K"], (1, 4, 1))
    assert moved == {"input": 16, "weight": 32, "output": 16, "reloads": 0}
    # K chunks of 2 outermost (order K, M, N): each output's first-chunk int32 partial sum
    # spills (16 x 4 B) and is reloaded (16 x 4 B), then stored once as int8 (16 B)
    moved = auto_nest._dram_bytes(problem, {"M": 2, "N": 2, "K": 2}, ["K", "M", "N"], (1, 4, 1))
    assert moved == {"input": 16, "weight": 32, "output": 2 * 64 + 16, "reloads": 64}


def test_auto_keeps_the_fold_plan_for_a_one_cycle_gain():
    """3 x 2 x 5 on one PE: every order of the whole tile's loops M 3, N 2, K 5 runs 30 array
    cycles with no skew (rows + cols - 2 = 0), one less than the fold nest's 1 x 1 fill, with
    the same 10 weight reads (the register keeps each weight across the pixels innermost): far
    under MIN_GAIN of the whole run, so `auto` keeps the fold plan; a 1 % gain would too."""
    arch, workload = load_arch(one_pe()), load_workload("gemm:M=3,N=2,K=5,dtype=int8")
    machine, op = build_machine(arch), workload.ops[0]
    plan = auto_plan(op, MappingSpec(), machine)
    assert not plan.nest
    nest = replace(plan, nest=(("M", 3), ("K", 5), ("N", 2)), stream_dma=False)
    fold_cycles, nest_cycles = (auto_nest.estimate(op, p, machine)[0] for p in (plan, nest))
    assert fold_cycles - nest_cycles == 1
    assert nest_cycles > fold_cycles * (1 - auto_nest.MIN_GAIN)


def test_presets_without_inner_levels_or_one_dram_bus_get_no_nest():
    # tpu-v1-like and edge-npu have no register level or local SRAM; h100-like runs CTA kernels;
    # tpu-v4-like has register levels, but its cores share HBM over a NoC (event-modelled DMA)
    for arch in ("tpu-v1-like", "edge-npu", "h100-like", "tpu-v4-like"):
        machine = build_machine(load_arch(arch))
        if machine.arch.cores is not None:
            machine = machine.view(0)  # one core, as a partitioned GEMM is planned
        unit = next(n for n, c in machine.compute_units.items() if c.kind == "systolic_array")
        assert not auto_nest.eligible(MappingSpec(), machine, unit)


def test_a_mapping_that_chooses_anything_keeps_the_fold_plan():
    machine = build_machine(load_arch("zigzag-tpu-like"))  # 512^3: a nest 19 % faster
    op = load_workload("gemm:M=512,N=512,K=512,dtype=int8").ops[0]
    assert auto_plan(op, MappingSpec(), machine).nest  # open: a nest beats the fold plan here
    for chosen in ({"dataflow": "ws"}, {"loop_order": ["M", "N", "K"]}, {"tile": {"M": 256}}):
        assert not auto_plan(op, MappingSpec(**chosen), machine).nest


def _tpu_like_int32() -> dict:
    """zigzag-tpu-like with 32-bit partial sums (its 16-bit ones overflow on random int8 data,
    which the numerics rightly report): 4 B output registers."""
    arch = yaml.safe_load((ROOT / "archs" / "zigzag-tpu-like.yaml").read_text())
    arch["components"]["mxu"]["accumulator_precision"] = "int32"
    arch["components"]["output_regs"].update(capacity="4 B", width="4 B")
    return arch


@settings(max_examples=12, deadline=None)
@example(m=256, n=256, k=256, out="int8")  # where `auto` takes a nest, for sure
@given(
    m=st.integers(1, 80),
    n=st.integers(1, 80),
    k=st.integers(1, 80),
    out=st.sampled_from(["int8", "int32"]),
)
def test_auto_nests_compute_exactly_and_never_estimate_slower(m, n, k, out):
    """On a 32 x 32 ws array with per-PE weight and output registers: whatever `auto` picks, a
    nest or the fold plan, its int8 GEMM equals numpy's exactly, and its estimate is never
    above the fold plan's."""
    arch = load_arch(_tpu_like_int32())
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=int8,output_dtype={out}")
    machine = build_machine(arch)
    op = workload.ops[0]
    plan = auto_plan(op, MappingSpec(), machine)
    budget = auto_nest.NEST_BUDGET
    try:
        auto_nest.NEST_BUDGET = 0
        fold = auto_plan(op, MappingSpec(), machine)
    finally:
        auto_nest.NEST_BUDGET = budget
    assert not fold.nest
    assert auto_nest.estimate(op, plan, machine) <= auto_nest.estimate(op, fold, machine)
    check = simulate(arch, workload, None, numerics=True).numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


def test_a_conv_tile_uses_the_register_levels_by_hand():
    """A 1 x 1 conv with 5 channels, 2 filters and a 1 x 3 output is the GEMM M 3 (pixels),
    N 2 (filters), K 5 (taps) on the one PE: the ws fold nest streams the 3 pixels innermost,
    so the 1-weight register keeps each weight across them: filled 10 times from the weight
    SRAM (its only reads, 10 pJ) and read 10 times (once per weight held at the MAC). The tile
    runs a nest with the pixels innermost: 30 cycles, no skew, one less than the fold nest (a
    conv tile's estimate is the engine's own tile cost, so any gain counts)."""
    op = {"kind": "conv2d", "name": "conv", "dtype": "int8", "C": 5, "H": 1, "W": 3, "K": 2}
    report = simulate(one_pe(), {"name": "w", "ops": [op]}, numerics=True)
    assert report.ops.iloc[0]["map_nest"].startswith("M3 ")
    assert report.layers.busy_cycles.tolist() == [30]
    parts = report.components.set_index("component")
    assert parts.loc["wbuf", "read_bytes"] == 10
    assert (parts.loc["wreg", "read_bytes"], parts.loc["wreg", "write_bytes"]) == (10, 10)
    assert report.numerics["conv"].ok and report.numerics["conv"].max_abs_error == 0


@settings(max_examples=10, deadline=None)
@given(
    c=st.integers(1, 12),
    hw=st.integers(3, 10),
    k=st.integers(1, 40),
    r=st.sampled_from([1, 3]),
    stride=st.integers(1, 2),
    depthwise=st.booleans(),
)
def test_int8_convs_on_register_levels_equal_numpy(c, hw, k, r, stride, depthwise):
    """Conv tiles counted through the registers of a 32 x 32 ws array compute exactly."""
    groups = c if depthwise else 1
    op = {"kind": "conv2d", "name": "conv", "dtype": "int8", "C": c, "H": hw, "W": hw,
          "K": c if depthwise else k, "R": r, "S": r, "stride": stride, "padding": r // 2,
          "groups": groups}  # fmt: skip
    arch = _tpu_like_int32()
    arch["components"]["mxu"]["depthwise"] = True
    check = simulate(arch, {"name": "w", "ops": [op]}, numerics=True).numerics["conv"]
    assert check.ok and check.max_abs_error == 0 and check.coverage_ok
