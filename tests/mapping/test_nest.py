"""Closed-form per-level counts of a loop nest: hand-counted cases and a brute-force walk."""

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.mapping.nest import RELEVANT, Level, Loop, Nest, count

EVERY_AXIS = frozenset({"rows", "cols"})


def _ws_2x2():
    """C[3, 2] = A[3, 2] B[2, 2] on a 2 x 2 weight-stationary array: K down the rows, N across
    the columns, the 3 rows of A streamed in time; per-PE weight and partial-sum registers."""
    reg, sram = Level("reg", 1, frozenset()), Level("sram", 1, EVERY_AXIS)
    return Nest(
        temporal=(Loop("M", 3),),
        spatial={"rows": Loop("K", 2), "cols": Loop("N", 2)},
        levels={
            "weight": (reg, sram),
            "input": (sram,),
            "output": (Level("psum", 0, frozenset()), sram),
        },
    )


def test_weight_stationary_2x2_by_hand():
    nest = _ws_2x2()
    weight_reg, weight_sram = count(nest, "weight")
    # each of the 4 PEs loads its weight once and holds it at the multiplier for all 3 rows
    assert (weight_reg.write_high, weight_reg.read_low) == (4, 4)
    assert weight_sram.read_low == 4
    (input_sram,) = count(nest, "input")
    # an input element is read once and broadcast along its array row: M x K reads
    assert input_sram.read_low == 3 * 2
    psum, out_sram = count(nest, "output")
    # 12 MACs each update their PE's partial sum; the lower PE of each column starts from the
    # upper one's sum (6 reads); all 12 sums leave their PE, 6 reach the SRAM after the column adds
    assert (psum.write_low, psum.read_low, psum.read_high, psum.write_high) == (12, 6, 12, 0)
    assert (out_sram.write_low, out_sram.read_low) == (6, 0)
    assert psum.final_up  # no reduction loop left above: the SRAM receives complete sums


def test_reduction_outside_the_buffer_reloads_partial_sums():
    """C[2, 2] += A[2, 3] B[3, 2] with the SRAM holding only the M loop, then N, then K: each of
    the 4 outputs is written 3 times (once per K) and read back twice."""
    sram = Level("sram", 1, EVERY_AXIS)
    dram = Level("dram", 3, EVERY_AXIS)
    nest = Nest(
        temporal=(Loop("M", 2), Loop("N", 2), Loop("K", 3)),
        spatial={"rows": Loop("K", 1), "cols": Loop("N", 1)},
        levels={"output": (sram, dram), "input": (sram, dram), "weight": (sram, dram)},
    )
    out_sram, out_dram = count(nest, "output")
    assert (out_sram.write_low, out_sram.read_low) == (12, 12 - 4)
    assert (out_sram.read_high, out_sram.write_high) == (12, 8)
    assert (out_dram.write_low, out_dram.read_low) == (12, 8)
    assert not out_sram.final_up
    w_sram, _ = count(nest, "weight")
    assert w_sram.write_high == 6  # every weight once: the M loop inside the SRAM reuses it
    a_sram, _ = count(nest, "input")
    assert a_sram.write_high == 6  # the N loop right above the SRAM reuses the A tile


def test_reduction_right_above_the_buffer_keeps_outputs_resident():
    """With K directly above the SRAM's M loop, its outputs stay while K runs: no spill."""
    sram, dram = Level("sram", 1, EVERY_AXIS), Level("dram", 2, EVERY_AXIS)
    nest = Nest(
        temporal=(Loop("M", 2), Loop("K", 3)),
        spatial={"rows": Loop("K", 1), "cols": Loop("N", 1)},
        levels={"output": (sram, dram), "input": (sram, dram), "weight": (sram, dram)},
    )
    out_sram, out_dram = count(nest, "output")
    assert (out_sram.read_high, out_sram.write_high, out_dram.write_low) == (2, 0, 2)
    assert out_sram.final_up


def _changes(loops: list[Loop], role: str) -> int:
    """Walk the loops (innermost first) in time; count how often the operand's tile changes."""
    used = RELEVANT[role]
    previous, changes = None, 0
    ranges = [range(loop.factor) for loop in reversed(loops)]
    for index in itertools.product(*ranges):  # outermost first, as time runs
        key = tuple(i for i, loop in zip(index, reversed(loops)) if loop.dim in used)
        changes += key != previous
        previous = key
    return changes


def _brute_visits(nest: Nest, role: str, level: Level) -> int:
    used = RELEVANT[role]
    below = nest.temporal[: level.cut]
    tile = math.prod(lp.factor for lp in below if lp.dim in used)
    tile *= math.prod(nest.spatial[a].factor for a in level.serves if nest.spatial[a].dim in used)
    instances = math.prod(nest.spatial[a].factor for a in nest.spatial if a not in level.serves)
    return tile * instances * _changes(list(nest.temporal[level.cut :]), role)


@st.composite
def nests(draw):
    temporal = tuple(
        Loop(draw(st.sampled_from("MNK")), draw(st.integers(1, 4)))
        for _ in range(draw(st.integers(1, 5)))
    )
    spatial = {
        axis: Loop(draw(st.sampled_from("MNK")), draw(st.integers(1, 3)))
        for axis in ("rows", "cols")
    }
    levels = {}
    for role in RELEVANT:
        cuts = sorted(draw(st.lists(st.integers(0, len(temporal)), min_size=1, max_size=3)))
        inner = draw(st.sampled_from([frozenset(), frozenset({"rows"}), frozenset({"cols"})]))
        chain = [Level(f"L{i}", c, inner) for i, c in enumerate(cuts)]
        levels[role] = (*chain, Level("dram", len(temporal), EVERY_AXIS))
    return Nest(temporal, spatial, levels)


@settings(max_examples=150, deadline=None)
@given(nests())
def test_transfers_between_levels_match_a_brute_force_walk(nest):
    """Every level's transfers up equal a literal walk of the nest: the tile reloads whenever an
    index it depends on changes (so irrelevant loops directly above it reuse it)."""
    for role, levels in nest.levels.items():
        moves = count(nest, role)
        for i, level in enumerate(levels[:-1]):
            visits = _brute_visits(nest, role, level)
            between = math.prod(
                nest.spatial[a].factor
                for a in levels[i + 1].serves - level.serves
                if nest.spatial[a].dim not in RELEVANT[role]
            )
            if role == "output":
                assert moves[i].read_high == visits
                assert moves[i + 1].write_low >= visits // between
            else:
                assert moves[i].write_high == visits
        if role != "output":
            # at the MACs: a new element is read whenever its index changes in time, per PE
            # group that shares it (spatial axes the innermost level is not shared along)
            first = levels[0]
            groups = math.prod(
                nest.spatial[a].factor
                for a in nest.spatial
                if a not in first.serves or nest.spatial[a].dim in RELEVANT[role]
            )
            expected = groups * _changes(list(nest.temporal), role)
            assert moves[0].read_low == expected
