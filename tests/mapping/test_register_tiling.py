"""A register level's tiling written in the mapping's `levels:` (Timeloop's factors at and below
the level, and their order), counted by hand Timeloop-style: a level's tile goes up whenever a
loop above it over a dim the operand uses steps; loops over other dims right above keep it."""

from dataclasses import replace

import pytest

from simulator import simulate
from simulator.components import build_machine
from simulator.errors import CapacityError, SpecError
from simulator.mapping.auto import auto_plan
from simulator.mapping.hierarchy import TileLevels, tiles_estimate
from simulator.spec import load_arch
from simulator.spec.mapping import MappingSpec
from simulator.spec.workload import GemmOpSpec

GEMM = "gemm:M=8,N=4,K=8,dtype=int8"
WHOLE = {"tile": {"M": 8, "N": 4, "K": 8}, "loop_order": ["M", "N", "K"]}


def _arch(capacity: str = "32 B"):
    """4 x 4 weight-stationary int8 PEs with a per-PE partial-sum register file (int32 sums) and
    one SRAM. C[8, 4] = A[8, 8] B[8, 4] runs M 8 streamed, K 8 / 4 = 2 row folds, 1 column fold."""
    return {
        "name": "oreg",
        "clock": "1 GHz",
        "components": {
            "mxu": {"kind": "systolic_array", "rows": 4, "cols": 4, "dataflows": ["ws"]},
            "oreg": {
                "kind": "regfile",
                "unit": "mxu",
                "holds": ["output"],
                "capacity": capacity,
                "width": "4 B",
            },
            "buf": {"kind": "sram", "capacity": "64 KiB"},
            "dram": {"kind": "dram", "technology": "ddr4"},
        },
    }


def _elements(report) -> dict:
    table = report.levels.groupby(["level", "operand", "action"])["elements"].sum()
    return {key: int(value) for key, value in table.items()}


def _run(mapping: dict, capacity: str = "32 B") -> dict:
    report = simulate(_arch(capacity), GEMM, {**WHOLE, **mapping})
    assert report.summary["numerics_ok"]
    return _elements(report)


def test_a_register_holding_the_stream_and_the_k_folds_keeps_every_sum():
    """oreg holds M 8 and the 2 K folds: each PE's 8 sums stay for both folds, then leave once."""
    n = _run({"levels": {"oreg": {"tile": {"M": 8, "K": 2}}}})
    # 256 MACs, one update each; each of the 32 outputs skips the read of its first one: 7 x 32
    assert n[("oreg", "output", "update")] == 256 and n[("oreg", "output", "read")] == 224
    # 16 PEs drain 8 sums once; the column's 4 PEs add before the SRAM: 32 complete outputs
    assert n[("oreg", "output", "drain")] == 16 * 8 and ("oreg", "output", "fill") not in n
    assert n[("buf", "output", "update")] == 32 and ("buf", "output", "read") not in n


def test_a_register_holding_no_loop_sends_every_sum_up():
    """oreg holds nothing: the sum leaves after every MAC and comes back for the next K fold."""
    n = _run({"levels": {"oreg": {"tile": {}}}})
    # every MAC's sum leaves its PE: 16 PEs x 8 M x 2 K folds; the column adds 4 of them
    assert n[("oreg", "output", "drain")] == 256 and n[("buf", "output", "update")] == 64
    # the second K fold starts from the first fold's 32 sums: 32 reloads through the register
    assert n[("oreg", "output", "fill")] == 32 and n[("buf", "output", "read")] == 32


def test_an_irrelevant_loop_right_above_keeps_the_tile():
    """Holding only M 8, the K-fold loop right above does not touch C: the sums stay anyway
    (Timeloop's rule), so the counts equal holding both loops."""
    assert _run({"levels": {"oreg": {"tile": {"M": 8}}}}) == _run(
        {"levels": {"oreg": {"tile": {"M": 8, "K": 2}}}}
    )


def test_a_register_tiling_equals_the_same_count_in_registers():
    for tile, loops in (({}, 0), ({"M": 8, "K": 2}, 2)):
        assert _run({"levels": {"oreg": {"tile": tile}}}) == _run({"registers": {"oreg": loops}})


def test_a_register_tiling_in_the_arrays_loop_order_is_accepted():
    ordered = {"tile": {"M": 8, "K": 2}, "loop_order": ["N", "K", "M"]}
    assert _run({"levels": {"oreg": ordered}}) == _run({"registers": {"oreg": 2}})


def test_bad_register_tilings_are_one_line_errors_naming_the_key():
    with pytest.raises(SpecError, match=r"levels\.oreg: tile \{'M': 4\}.*holds \{\} or \{M: 8\}"):
        _run({"levels": {"oreg": {"tile": {"M": 4}}}})
    with pytest.raises(SpecError, match=r"levels\.oreg: .*in order \['M', 'K', 'N'\]"):
        _run({"levels": {"oreg": {"tile": {"M": 8, "K": 2}, "loop_order": ["M", "K", "N"]}}})
    # 8 int32 sums per PE need 32 B; a 16 B register file holds 4
    with pytest.raises(CapacityError, match=r"levels\.oreg\.tile: oreg: .* needs 32 B"):
        _run({"levels": {"oreg": {"tile": {"M": 8}}}}, capacity="16 B")
    with pytest.raises(SpecError, match=r"levels\.nope: .*it has: oreg"):
        _run({"levels": {"nope": {"tile": {}}}})
    with pytest.raises(SpecError, match="also set in registers"):
        _run({"levels": {"oreg": {"tile": {}}}, "registers": {"oreg": 0}})


def test_auto_takes_the_register_count_with_the_best_estimate():
    """Under an auto tile the mapper tries every fold-loop count of oreg (0..3) and keeps the
    fastest, then cheapest; a count that overflows the level is skipped."""
    machine = build_machine(load_arch(_arch("16 B")))
    op = GemmOpSpec(name="g", kind="gemm", M=8, N=4, K=8, dtype="int8")
    problem = {"M": 8, "N": 4, "K": 8}
    plan = auto_plan(op, MappingSpec(), machine)
    estimates = {}
    for loops in range(4):
        try:
            candidate = replace(plan, registers={"oreg": loops})
            estimates[loops] = tiles_estimate(TileLevels(candidate, machine, 8), machine, problem)
        except CapacityError:
            continue
    chosen = tiles_estimate(TileLevels(plan, machine, 8), machine, problem)
    assert estimates and chosen == min(estimates.values())
