"""`accounting: zigzag` against ZigZag 3.9.1's own word counts: every cell of every golden case
(tests/data/zigzag_*golden.json, from benchmarks/make_zigzag_golden.py) in closed form and on the
engine, and one hand-derived case per convention it adds to accsim's "charge the data moved"."""

from collections import Counter
from functools import cache
from types import SimpleNamespace

import pytest
from hypothesis import given, settings

from simulator import simulate
from simulator.components import build_machine
from simulator.mapping.hierarchy import port_bytes
from simulator.mapping.nest import count, transfer_sizes
from simulator.mapping.zigzag_words import (
    CARRIER,
    SIDE,
    cell_bits,
    cell_words,
    nest_transfers,
    port_bits,
    word_bytes,
)
from simulator.spec import load_arch
from tests.mapping.test_nest import nests
from tests.mapping.zigzag_cases import (
    CASES,
    DIRECTION,
    GOLDEN,
    TPU,
    engine_mapping,
    engine_mappings,
    formats,
    golden_nest,
    nest_words,
    run_golden,
)
from tests.mapping.zigzag_names import ACTION


@cache
def _machine(arch: str):
    return build_machine(load_arch(arch))


def _energy(component, direction: str, words: int) -> float:
    action = "read" if direction.startswith("read") else "write"
    return word_bytes(component, words) * component.energy_pj(action)


@pytest.mark.parametrize("case_id", sorted(GOLDEN))
def test_closed_form_words_and_energy_equal_zigzag_on_every_cell(case_id):
    arch, case, names = GOLDEN[case_id]
    machine = _machine(arch)
    nest = golden_nest(case, machine, names)
    words = nest_words(nest, machine, formats(case))
    for role, levels in case["zigzag"]["levels"].items():
        for level, golden in zip(nest.levels[role], levels):
            component = machine.components[level.name]
            for zigzag_dir, direction in DIRECTION.items():
                mine = words[(level.name, role, direction)]
                key = (role, golden["memory"], zigzag_dir)
                assert mine == golden["word_accesses"][zigzag_dir], key
                assert _energy(component, direction, mine) == pytest.approx(
                    golden["energy_pj"][zigzag_dir], rel=1e-12, abs=1e-9
                ), key


ENGINE = sorted(engine_mappings())
# Where the engine runs another mapping than ZigZag's, with equal element counts, the words
# follow the engine's transfers (hand-derived). Its DMA stores each 64 x 8 output tile as it
# completes, where ZigZag keeps all outputs in the 1 MiB SRAM and drains them once: 32 drains
# of ceil(512 * 16 / 384) = 22 words against ceil(16384 * 16 / 384) = 683. The double-buffered
# 8 KiB output SRAM holds half of ZigZag's 28 x 126 sums (7,056 B): 6 drains of 14 x 126 sums,
# ceil(1764 * 16 / 128) = 221 words each, and 6 updates of the 1 MiB SRAM of
# ceil(1764 * 16 / 384) = 74, against 3 of 441 and 3 of 147.
ENGINE_TRANSFERS = {
    ("eyeriss-gemm64x256x192-ws-folds", "sram", "output", "drain"): 32 * 22,
    ("eyeriss-gemm84x126x48-default", "output_buffer", "output", "drain"): 6 * 221,
    ("eyeriss-gemm84x126x48-default", "sram", "output", "update"): 6 * 74,
}


@pytest.mark.parametrize("case_id", ENGINE)
def test_engine_levels_table_prices_zigzag_words(case_id):
    arch, case, names = GOLDEN[case_id]
    report = run_golden(case_id, "zigzag")
    table = report.levels.groupby(["level", "operand", "action"])[["elements", "energy_pj"]].sum()
    machine = _machine(arch)
    for role, levels in case["zigzag"]["levels"].items():
        for golden in levels:
            level = names[golden["memory"]]
            for action, direction in ACTION.items():
                key = (level, role, action)
                elements, energy = table.loc[key] if key in table.index else (0, 0.0)
                assert elements == golden["elements"][direction], key
                words = ENGINE_TRANSFERS.get((case_id, *key), golden["word_accesses"][direction])
                accsim_dir = DIRECTION[direction]
                expected = _energy(machine.components[level], accsim_dir, words)
                assert energy == pytest.approx(expected, rel=1e-12, abs=1e-9), key


def test_zigzag_accounting_moves_no_element_and_no_cycle():
    """Only the levels table's bytes change: the default accounting's elements and cycles stay."""
    shape = "gemm:M=60,N=64,K=96,dtype=int8,output_dtype=int8"
    mapping = engine_mapping(CASES["gemm60x64x96-default"])
    realistic = simulate(TPU, shape, mapping, numerics=False)
    zigzag = simulate(TPU, shape, {**mapping, "accounting": "zigzag"}, numerics=False)
    assert zigzag.cycles == realistic.cycles
    cells = ["level", "operand", "action"]
    elements = [r.levels.groupby(cells)["elements"].sum().to_dict() for r in (zigzag, realistic)]
    assert elements[0] == elements[1]
    assert zigzag.levels.energy_pj.sum() != realistic.levels.energy_pj.sum()


# ----- one hand-derived case per convention ----------------------------------------------------
def _port(kind: str, width: float, min_access: float | None = None):
    spec = SimpleNamespace(width=width, min_access=min_access, packed=False)
    return SimpleNamespace(kind=kind, access_bytes=width, spec=spec)


def _words(role, elements, transfers, component, fmts=("int8", "int16", "int8")):
    bits = cell_bits(role, elements, *fmts)
    return cell_words(role, elements, Counter(transfers), bits, port_bits(component))


def test_a_period_moving_half_a_word_costs_the_whole_word():
    # 8 int8 inputs (64 bits) a transfer on a 128-bit SRAM port, 10 transfers: 10 words, where
    # the data moved is 80 B, 5 words
    sram = _port("sram", 16)
    assert _words("input", {"read_low": 80}, {("low", 8): 10}, sram)["read_low"] == 10
    assert port_bytes(sram, 80, "int8") == 5 * 16


def test_two_int8_share_one_16_bit_register_word():
    # a fill moves 6 int8 weights into a PE's register file with 16-bit ports, 4 fills: 3 words
    # each, 12 in all, where accsim's default charges each element a whole word (24)
    regs = _port("regfile", 2)
    assert _words("weight", {"write_high": 24}, {("high", 6): 4}, regs)["write_high"] == 12
    assert port_bytes(regs, 24, "int8") == 24 * 2


def test_a_fractional_word_count_is_truncated():
    # 5,760 int8 inputs fill a 2048-bit SRAM port with 64-bit smallest accesses in one transfer:
    # 720 smallest accesses, 22.5 words, charged 22
    sram = _port("sram", 256, min_access=8)
    assert port_bits(sram) == (64, 2048)
    assert _words("input", {"write_high": 5760}, {("high", 5760): 1}, sram)["write_high"] == 22


def test_the_skipped_first_read_still_costs_its_word():
    # 16 outputs accumulate 4 times each in a 16-bit register: 64 writes, one sum a transfer;
    # 48 reads (each output's first accumulation skips its read) are charged the writes' 64
    regs = _port("regfile", 2)
    words = _words("output", {"write_low": 64, "read_low": 48}, {("low", 1): 64}, regs)
    assert words == {"read_low": 64, "write_low": 64, "read_high": 0, "write_high": 0}


def test_partial_sums_flowing_back_keep_their_precision_up():
    # a 32-bit SRAM port drains 4 sums a transfer, twice: int16 partial sums that come back
    # (fills) take 2 words a drain, final int8 outputs 1
    sram = _port("sram", 4)
    both = _words("output", {"read_high": 8, "write_high": 4}, {("high", 4): 2}, sram)
    assert both == {"read_low": 0, "write_low": 0, "read_high": 4, "write_high": 4}
    final = _words("output", {"read_high": 8}, {("high", 4): 2}, sram)
    assert final["read_high"] == 2


@settings(max_examples=150, deadline=None)
@given(nests())
def test_transfers_rebuild_the_element_counts(nest):
    """On random nests each side's transfers times the elements one moves give the closed
    form's counts (`count`), and on a one-element port (int8 on 8 bits) ZigZag's words are
    those counts: the conventions only add rounding, never other traffic."""
    byte_port = _port("regfile", 1)
    for role in nest.levels:
        moves = count(nest, role)
        for m, own in zip(moves, nest_transfers(role, moves, transfer_sizes(nest, role))):
            elements = {d: getattr(m, d) for d in DIRECTION.values()}
            carried = {
                side: sum(a * n for (s, a), n in own.items() if s == side) for side in SIDE.values()
            }
            words = _words(role, elements, own, byte_port, ("int8", "int8", "int8"))
            for direction, side in SIDE.items():
                carrier = CARRIER["output" if role == "output" else "input"][side]
                if direction == carrier:
                    assert carried[side] == elements[direction] == words[direction]
                elif elements[direction]:  # outputs' mirrored reads and fills
                    assert words[direction] == elements[carrier] >= elements[direction]
