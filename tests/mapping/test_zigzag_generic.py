"""accsim's per-level counts and energies against ZigZag 3.9.1 on its bundled generic_array_cacti
accelerator (a 256 x 256 array, per-PE input, weight and output register files, one SRAM for all
three operands): the nests ZigZag's mapper chose (tests/data/zigzag_generic_golden.json, from
benchmarks/make_zigzag_golden.py --hardware generic_array_cacti), counted in closed form."""

import math

import pytest

from simulator import simulate
from simulator.components import build_machine
from simulator.spec import load_arch
from tests.mapping.zigzag_cases import (
    GENERIC_ARCH,
    GENERIC_CASES,
    engine_mapping,
    generic_cells,
    unrolled_as_ran,
)
from tests.mapping.zigzag_names import ACTION, GENERIC_LEVEL

# The cells where ZigZag's conventions differ from the data moved (docs/memory-hierarchy.md):
# "packed": a register fill moves several int8 elements a period, which ZigZag packs two to a
# 16-bit port word and accsim charges a word each (exactly twice ZigZag's); "truncated": int()
# drops a fractional count of port words (cost_model.py, _calc_memory_access), 20,000 int8
# inputs fill the SRAM in 9.77 16384-bit words, charged 9; "first read": ZigZag charges the
# first read of every sum, which its own element count leaves out (accsim lower). Every other
# cell equals ZigZag's.
_FILLS = {("input", "rf_I", "wr_in_by_high"): "packed"}
_SUMS = {("output", "rf_O", "rd_out_to_low"): "first read"}
DIFFERS = {
    "generic-gemm96x512x768-default": {
        **_FILLS,
        **_SUMS,
        ("weight", "rf_W", "wr_in_by_high"): "packed",  # 6 weights a PE per fill: 3 words
    },
    "generic-gemm64x256x256-default": {**_FILLS, **_SUMS},  # 1 weight a PE per fill: 1 word
    "generic-gemm100x300x200-default": {
        **_FILLS,
        **_SUMS,
        ("weight", "rf_W", "wr_in_by_high"): "packed",
        **{
            (role, memory, direction): "truncated"
            for role, memory, direction in [
                ("input", "sram_32MB", "rd_out_to_low"),
                ("input", "sram_32MB", "wr_in_by_high"),
                ("input", "dram", "rd_out_to_low"),
                ("weight", "sram_32MB", "rd_out_to_low"),
                ("weight", "sram_32MB", "wr_in_by_high"),
                ("weight", "dram", "rd_out_to_low"),
                ("output", "sram_32MB", "wr_in_by_low"),
                ("output", "sram_32MB", "rd_out_to_high"),
                ("output", "dram", "wr_in_by_low"),
            ]
        },
    },
}
ACCESS_BYTES = {"sram_32MB": 2048, "dram": 256}  # one access of the 16384- and 2048-bit ports


@pytest.fixture(scope="module")
def machine():
    return build_machine(load_arch(GENERIC_ARCH))


@pytest.mark.parametrize("case_id", sorted(DIFFERS))
def test_generic_array_elements_and_energy_equal_zigzag(case_id, machine):
    case = GENERIC_CASES[case_id]
    differs = {}
    for key, (mine, theirs, mine_pj, theirs_pj) in generic_cells(case, machine).items():
        assert mine == theirs, key
        if mine_pj == pytest.approx(theirs_pj, rel=1e-12, abs=1e-9):
            continue
        differs[key] = kind = DIFFERS[case["id"]].get(key)
        if kind == "packed":
            assert mine_pj == pytest.approx(2 * theirs_pj, rel=1e-12), key
        elif kind == "truncated":
            words = mine * (4 if key[0] == "output" else 1) / ACCESS_BYTES[key[1]]
            assert theirs_pj == pytest.approx(mine_pj * math.floor(words) / words, rel=1e-12)
        else:
            assert theirs_pj * 0.99 < mine_pj < theirs_pj, key
    assert differs == DIFFERS[case["id"]]
    macs = case["case"]["M"] * case["case"]["N"] * case["case"]["K"]
    assert macs * machine.components["pe_array"].energy_pj("mac_int8") == pytest.approx(
        case["zigzag"]["mac_energy_pj"], rel=1e-12
    )


@pytest.mark.parametrize("case", list(GENERIC_CASES.values()), ids=lambda case: case["id"])
def test_generic_array_engine_counts_equal_zigzag_own_mapping(case, machine):
    """ZigZag's mapping as a `nest:` on the engine: every level's element counts equal ZigZag's,
    and each level's energy is the closed form's (the cells above)."""
    if not unrolled_as_ran(case):
        pytest.skip("ZigZag unrolls a dim narrower than the array edge")
    shape = case["case"]
    report = simulate(
        GENERIC_ARCH,
        f"gemm:M={shape['M']},N={shape['N']},K={shape['K']},dtype=int8,output_dtype=int32",
        engine_mapping(case),
        numerics=False,
    )
    mine = report.levels.groupby(["level", "operand", "action"])["elements"].sum()
    energy = report.levels.groupby(["level", "operand"])["energy_pj"].sum()
    closed = {}
    for (role, memory, _), (*_, mine_pj, _) in generic_cells(case, machine).items():
        closed[(GENERIC_LEVEL[memory], role)] = (
            closed.get((GENERIC_LEVEL[memory], role), 0) + mine_pj
        )
    for role, levels in case["zigzag"]["levels"].items():
        for golden in levels:
            level = GENERIC_LEVEL[golden["memory"]]
            for action, direction in ACTION.items():
                assert mine.get((level, role, action), 0) == golden["elements"][direction]
            assert energy[(level, role)] == pytest.approx(closed[(level, role)], rel=1e-9)
