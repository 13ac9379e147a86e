"""Mapper search: the estimate by hand, never worse than auto, valid mappings, written files."""

import pytest

import simulator
from simulator.components import build_machine
from simulator.components.chip import clock_share, pe_register_pj_per_mac
from simulator.errors import UnsupportedError
from simulator.spec import load_arch
from simulator.sweep.search import OBJECTIVES, Cost, estimate_mapping, search_mapping
from tests.conftest import tiny_arch

SMALL = "gemm:M=64,N=48,K=96,dtype=int8"


def _pe_registers_pj(arch: dict, ungated: bool) -> float:
    """The PE registers' energy per MAC the report prices (flip-flop bits x pJ/bit, its table)."""
    unit = build_machine(load_arch(arch)).components["pe"]
    return pe_register_pj_per_mac(unit, set(), ungated)


def test_estimate_of_one_whole_tile_by_hand():
    # 16^3 int8 on the 8x8 tiny array, os, one tile; DRAM moves 1 B/cycle with no latency.
    # load A + B = 256 + 256 B: 512 cycles; array: 2 x 2 folds of max(K=16, 8) + 8 + 8 - 2 = 78;
    # store C (int32) = 1,024 B: 1,024 cycles. Total 512 + 78 + 1,024 = 1,614.
    # Energy (pJ): MACs 4,096 x 1 and their PE registers; array reads A twice and B twice (one
    # per fold column / row): (512 + 512) x 1; C written once: 1,024 B x 2; DMA writes 512 B into
    # SRAM x 2 and reads 1,024 B out x 1; the clock network a `clock_share` of all that on-die
    # energy (share / (1 - share) on top); DRAM 1,536 B x 80 pJ/B (10 pJ/bit).
    mapping = {"dataflow": "os", "tile": {"M": 16, "N": 16, "K": 16}, "loop_order": ["M", "N", "K"]}
    cost = estimate_mapping(tiny_arch(), "gemm:M=16,N=16,K=16,dtype=int8", mapping)
    assert cost.cycles == 512 + 78 + 1024
    on_die = 4096 * (1 + _pe_registers_pj(tiny_arch(), False)) + 1024 + 2048 + 1024 + 1024
    dynamic = on_die / (1 - clock_share()) + 1536 * 80
    # plus the chip's static power (the report's idle power: the array's leakage, the memory
    # controller's) over the estimated 1,614 cycles at 700 MHz
    idle_w = simulator.simulate(tiny_arch(), "gemm-256", None, numerics=False).power["idle_power_w"]
    assert cost.energy_pj == pytest.approx(dynamic + idle_w * 1614 / 700e6 * 1e12, rel=1e-12)


@pytest.mark.parametrize("gating", [True, False])
def test_the_estimate_pays_the_static_power_an_ungated_clock_adds(gating):
    # An ungated chip draws its clock tree and the PE registers' clock every cycle: the estimate
    # of the same mapping costs that power (the report's idle power) over its cycles; its MACs
    # and PE registers (their switching part only) leave the clock network's dynamic share.
    mapping = {"dataflow": "os", "tile": {"M": 16, "N": 16, "K": 16}, "loop_order": ["M", "N", "K"]}
    gated, arch = tiny_arch(), tiny_arch()
    arch["chip"] = {"clock_gating": gating}
    workload = "gemm:M=16,N=16,K=16,dtype=int8"
    cost, base = (
        estimate_mapping(arch, workload, mapping),
        estimate_mapping(gated, workload, mapping),
    )
    idle = [
        simulator.simulate(a, workload, None, numerics=False).power["idle_power_w"]
        for a in (arch, gated)
    ]
    assert cost.cycles == base.cycles == 1614
    extra = (idle[0] - idle[1]) * 1614 / 700e6 * 1e12
    datapath = [4096 * (1 + _pe_registers_pj(tiny_arch(), not g)) for g in (gating, True)]
    scale = [1 if not g else 1 / (1 - clock_share()) for g in (gating, True)]
    extra += datapath[0] * scale[0] - datapath[1] * scale[1]
    assert cost.energy_pj - base.energy_pj == pytest.approx(extra, rel=1e-9, abs=1e-9)
    assert (cost.energy_pj != base.energy_pj) is not gating


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_the_best_mapping_is_never_worse_than_auto_and_computes_exact_int8(objective, tmp_path):
    arch = tiny_arch(capacity="16 KiB")
    result = search_mapping(arch, SMALL, objective, top_k=3)
    path = result.write(tmp_path / "best.yaml")
    key = OBJECTIVES[objective]
    auto = simulator.simulate(arch, SMALL, None, numerics=False)
    best = simulator.simulate(arch, SMALL, simulator.load_mapping(path), numerics=True)
    assert key(_cost(best)) <= key(_cost(auto))
    assert result.improvement == pytest.approx(key(_cost(auto)) / key(_cost(best)))
    assert best.summary["numerics_ok"] is True and best.summary["coverage_ok"] is True
    assert best.summary["numerics_max_abs_error"] == 0


def test_search_beats_auto_on_energy_where_auto_spills_partial_sums():
    # auto picks the largest tiles and the fastest order; keeping K whole per output tile
    # (no partial-sum spills) costs the same time and less DRAM energy.
    result = search_mapping("edge-npu", "gemm:M=512,N=512,K=512,dtype=int8", "energy", top_k=3)
    assert result.improvement > 1.05
    assert result.best.mapping["tile"]["K"] == 512


def test_ranked_candidates_are_sorted_by_the_objective_and_include_auto():
    result = search_mapping(tiny_arch(), SMALL, lambda cost: cost.energy_pj, top_k=4)
    energies = [c.simulated.energy_pj for c in result.ranked if c.simulated]
    assert energies == sorted(energies)
    assert any(c.mapping == {} for c in result.ranked)
    assert result.examined > len(result.ranked)


def test_every_candidate_fits_the_buffers_and_covers_each_orientation():
    result = search_mapping(tiny_arch(capacity="16 KiB"), SMALL, "latency", top_k=50)
    spatial = {
        (c.mapping["dataflow"], c.mapping["spatial"]["rows"]) for c in result.ranked if c.mapping
    }
    assert len(spatial) >= 2
    assert all(c.simulated is not None for c in result.ranked)


def test_an_unknown_objective_is_a_one_line_error():
    with pytest.raises(
        UnsupportedError, match="objective 'speed': choose one of latency, energy, edp"
    ):
        search_mapping(tiny_arch(), SMALL, "speed")


def _cost(report) -> Cost:
    return Cost(report.cycles, report.summary["energy_pj"], report.clock_hz)


def test_cli_map_prints_the_table_and_writes_a_mapping_run_accepts(tmp_path, monkeypatch, capsys):
    from simulator.cli import main

    monkeypatch.setenv("TERM", "dumb")
    out = tmp_path / "mappings" / "best.yaml"
    assert (
        main(["map", "edge-npu", "gemm-256", "--objective", "edp", "--top", "2", "-o", str(out)])
        == 0
    )
    text = capsys.readouterr().out
    assert "mapper search: gemm-256 on edge-npu" in text and "auto" in text
    assert main(["run", "edge-npu", "gemm-256", "--mapping", str(out), "--json"]) == 0


def test_search_covers_a_local_sram_tiling_and_prices_its_levels():
    """An array with a 256 B local SRAM under its global buffer: the search tries sub-tiles of
    the local SRAM, and its estimate charges the local level as the engine does."""
    arch = {
        "name": "two-sram",
        "clock": "1 GHz",
        "components": {
            "pe": {"kind": "systolic_array", "rows": 4, "cols": 4, "dataflows": ["ws"]},
            "lb": {"kind": "sram", "unit": "pe", "capacity": "256 B", "width": "8 B"},
            "glb": {"kind": "sram", "capacity": "64 KiB", "width": "64 B"},
            "dram": {"kind": "dram", "technology": "ddr4"},
        },
    }
    result = search_mapping(arch, "gemm:M=32,N=32,K=32", objective="energy", top_k=3)
    assert result.key(result.best.simulated) <= result.key(result.auto.simulated)
    without = {**arch, "components": {n: c for n, c in arch["components"].items() if n != "lb"}}
    flat = search_mapping(without, "gemm:M=32,N=32,K=32", objective="energy", top_k=1)
    assert result.examined > flat.examined  # the local SRAM's sub-tiles were estimated too
    mapping = {"dataflow": "ws", "tile": {"M": 32, "N": 32, "K": 32}, "loop_order": ["N", "M", "K"]}
    local = {**mapping, "levels": {"lb": {"tile": {"M": 4, "N": 4, "K": 8}}}}  # 128 B
    untiled = estimate_mapping(arch, "gemm:M=32,N=32,K=32", mapping)  # lb holds what fits
    tiled = estimate_mapping(arch, "gemm:M=32,N=32,K=32", local)
    report = simulator.simulate(arch, "gemm:M=32,N=32,K=32", local, numerics=False)
    lb = report.energy[report.energy.component == "lb"].energy_pj.sum()
    assert lb > 0 and tiled.energy_pj != untiled.energy_pj


def test_search_estimate_follows_local_refill_stalls_as_the_engine():
    """A local buffer refilled over a 1 B/cycle global buffer: single-buffered, the array waits
    for each refill; double-buffered, refills hide behind compute. The search's estimate moves
    by exactly as many cycles as the engine's run."""
    components = {
        "pe": {"kind": "systolic_array", "rows": 2, "cols": 2, "dataflows": ["ws"]},
        "lb": {"kind": "sram", "unit": "pe", "capacity": "1 KiB", "width": "64 B"},
        "glb": {"kind": "sram", "capacity": "64 KiB", "width": "1 B", "ports": 1},
        "dram": {"kind": "dram", "technology": "ddr4"},
    }
    mapping = {
        "dataflow": "ws",
        "tile": {"M": 4, "N": 4, "K": 4},
        "loop_order": ["N", "M", "K"],
        "levels": {"lb": {"tile": {"M": 2, "N": 2}, "loop_order": ["N", "M", "K"]}},
    }
    cycles = {}
    for double in (False, True):
        lb = {**components["lb"], "double_buffer": double}
        arch = {"name": "two-sram", "clock": "1 GHz", "components": {**components, "lb": lb}}
        estimate = estimate_mapping(arch, "gemm:M=4,N=4,K=4,dtype=int8", mapping)
        run = simulator.simulate(arch, "gemm:M=4,N=4,K=4,dtype=int8", mapping, numerics=False)
        cycles[double] = (estimate.cycles, run.cycles)
    assert cycles[False][0] - cycles[True][0] == cycles[False][1] - cycles[True][1] > 0
