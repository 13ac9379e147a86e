"""The mapper search's estimate prices what the engine prices: for explicit nests its energy,
static power aside, equals the report's to rounding (MACs, PE registers, every level's accesses,
DRAM reads and writes at the bytes the DMA moves, the clock network's share). Only the static
part may differ, by the chip's static power over the difference in cycles: the estimate times a
tile's DRAM traffic as load, overlapped compute, store, where the engine streams a nest's
transfers period by period."""

import pytest

from simulator import simulate
from simulator.components import build_machine
from simulator.errors import SpecError
from simulator.report.power import machine_parts
from simulator.spec import load_arch, load_workload
from simulator.sweep import search
from tests.mapping.test_nest_edge import WS
from tests.mapping.test_nest_search import _arch

STATIC_OP = "(static)"
EYERISS_EDGE = {
    "dataflow": "os",
    "spatial": {"rows": "M", "cols": "N"},
    "double_buffering": False,
    "loop_order": ["M", "K", "N"],
    # M 11 x 2 iterations over 12 rows reach 264 for M 256: an edge tile
    "nest": [["M", 11], ["K", 128], ["M", 2], ["K", 2]],
}


def _ungated(arch: dict) -> dict:
    return {**arch, "chip": {"clock_gating": False}}


CASES = [
    ("zigzag-tpu-like", "gemm:M=512,N=512,K=512,dtype=int8,output_dtype=int8", "zigzag-tpu-like-gemm512"),
    ("eyeriss-like", "gemm-256", EYERISS_EDGE),
    # K 7 over 2 rows: a K edge tile in pieces, partial sums carried
    (_arch(2, 1, 1, 4), "gemm:M=2,N=1,K=7,dtype=int8", {**WS, "nest": [["M", 2], ["K", 2]]}),
    # edges along every dim, int8 outputs (DRAM writes at 1 B), N outside K
    (
        _arch(3, 3, 4, 4),
        "gemm:M=5,N=7,K=8,dtype=int8,output_dtype=int8",
        {**WS, "loop_order": ["N", "K", "M"], "nest": [["M", 5], ["K", 2], ["N", 2]]},
    ),
    # an ungated chip: the MACs' and PE registers' clock is static power, not the clock's share
    (
        _ungated(_arch(3, 3, 4, 4)),
        "gemm:M=5,N=7,K=8,dtype=int8",
        {**WS, "nest": [["K", 2], ["M", 5], ["N", 2]]},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("arch", "workload", "mapping"), CASES)
def test_the_estimate_prices_a_nest_as_the_engine_does(arch, workload, mapping):
    estimate = search.estimate_mapping(arch, workload, mapping)
    report = simulate(arch, workload, mapping, numerics=False)
    machine = build_machine(load_arch(arch))
    static_mw = sum(part.static_mw for part in machine_parts(machine))
    to_pj = 1e9 / estimate.clock_hz  # 1 mW over one cycle
    energy = report.energy
    dynamic = energy.energy_pj[energy.op != STATIC_OP].sum()
    assert estimate.energy_pj - static_mw * estimate.cycles * to_pj == pytest.approx(
        dynamic, rel=1e-12
    )
    static = energy.energy_pj[energy.op == STATIC_OP].sum()
    assert static == pytest.approx(static_mw * report.cycles * to_pj, rel=1e-9)
    gap = abs(estimate.energy_pj - report.summary["energy_pj"])
    assert gap <= static_mw * abs(estimate.cycles - report.cycles) * to_pj * (1 + 1e-9) + 1e-6


def test_a_register_level_the_dma_fills_holds_the_whole_nest_in_the_estimate_too():
    """zigzag-tpu-like's weight registers are the level the DMA fills: a nest candidate refined
    to hold fewer of its loops there is refused by the estimate, as the engine refuses it."""
    machine = build_machine(load_arch("zigzag-tpu-like"))
    ops = list(load_workload("gemm:M=512,N=512,K=512,dtype=int8").ops)
    fields = {
        "dataflow": "ws",
        "spatial": {"rows": "K", "cols": "N"},
        "tile": {"M": 512, "N": 32, "K": 512},
        "loop_order": ["M", "N", "K"],
        "nest": [["K", 16], ["M", 512]],
    }
    assert search._estimate(ops, machine, fields) is not None
    assert search._estimate(ops, machine, {**fields, "registers": {"weight_regs": 0}}) is None
    with pytest.raises(SpecError, match="holds all 2 of the nest's loops"):
        simulate(
            "zigzag-tpu-like",
            "gemm:M=512,N=512,K=512,dtype=int8",
            {**fields, "registers": {"weight_regs": 0}},
        )
