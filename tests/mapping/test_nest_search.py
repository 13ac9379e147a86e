"""The mapper search's loop nests: the generator's orders (mapping/nest_space.py), a best nest
found by hand, and every generated nest dividing its tile, fitting its levels and computing
exactly on the engine."""

from collections import Counter

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import simulate
from simulator.components import build_machine
from simulator.components.chip import clock_share
from simulator.mapping.gemm import plan_from
from simulator.mapping.hierarchy import TileLevels
from simulator.mapping.nest_space import loop_factors, nests, orders_count, prime_factors
from simulator.spec import MappingSpec, load_arch, load_workload
from simulator.sweep import search
from tests.mapping.one_pe import one_pe


def test_nests_of_three_prime_loops_are_their_six_orders():
    # one prime loop a dim: 3! orders, none merged
    found = nests({"M": 3, "N": 2, "K": 5}, 720)
    assert sorted(found) == sorted(
        [
            (("M", 3), ("N", 2), ("K", 5)),
            (("M", 3), ("K", 5), ("N", 2)),
            (("N", 2), ("M", 3), ("K", 5)),
            (("N", 2), ("K", 5), ("M", 3)),
            (("K", 5), ("M", 3), ("N", 2)),
            (("K", 5), ("N", 2), ("M", 3)),
        ]
    )


def test_equal_factors_of_a_dim_merge_when_adjacent():
    # M 4 = 2 x 2 and K 2: orders of (M2, M2, K2) are 3!/2! = 3; two of them put the M loops
    # side by side, one loop M4
    assert orders_count({"M": [2, 2], "K": [2]}) == 3
    assert nests({"M": 4, "K": 2}, 720) == [
        (("K", 2), ("M", 4)),
        (("M", 2), ("K", 2), ("M", 2)),
        (("M", 4), ("K", 2)),
    ]


def test_the_budget_merges_the_smallest_factors_of_the_longest_dim_first():
    # M 16 = 2^4, K 4 = 2^2: 6!/(4! 2!) = 15 orders; a budget of 10 merges M's two smallest
    # (4, 2, 2 with K 2, 2: 5!/(1! 2! 2!) = 30 > 10), then M again (4, 4: 4!/(2! 2!) = 6)
    assert prime_factors(16) == [2, 2, 2, 2] and prime_factors(7 * 9) == [3, 3, 7]
    assert orders_count({"M": [2, 2, 2, 2], "K": [2, 2]}) == 15
    assert loop_factors({"M": 16, "K": 4}, 10) == {"M": [4, 4], "K": [2, 2]}
    assert len(nests({"M": 16, "K": 4}, 10)) <= 6


GEMM = "gemm:M=3,N=2,K=5,dtype=int8"
WHOLE = {"dataflow": "ws", "tile": {"M": 3, "N": 2, "K": 5}, "loop_order": ["M", "N", "K"]}


@pytest.mark.parametrize(
    ("nest", "reads"),
    [
        # M innermost: the register holds the weight across the M loop (a loop over a dim the
        # weight does not use): it is filled once per (n, k), 2 x 5 = 10 reads of the SRAM
        ([["M", 3], ["N", 2], ["K", 5]], 10),
        ([["M", 3], ["K", 5], ["N", 2]], 10),
        # any other loop innermost changes the weight every cycle: 3 x 2 x 5 = 30 reads
        ([["N", 2], ["M", 3], ["K", 5]], 30),
        ([["N", 2], ["K", 5], ["M", 3]], 30),
        ([["K", 5], ["M", 3], ["N", 2]], 30),
        ([["K", 5], ["N", 2], ["M", 3]], 30),
    ],
)
def test_a_nest_costs_its_hand_counted_weight_reads(nest, reads):
    """The estimate's energy is the hand count of weight SRAM reads x 1 pJ, plus the clock
    network's share of it (the static power over the same 30 cycles aside: a 2 pJ read costs
    `reads` pJ more, and the clock that drives it reads / (1 - share) in all)."""
    mapping = {**WHOLE, "nest": nest}
    one = search.estimate_mapping(one_pe("1 pJ"), GEMM, mapping)
    two = search.estimate_mapping(one_pe("2 pJ"), GEMM, mapping)
    assert two.energy_pj - one.energy_pj == pytest.approx(reads / (1 - clock_share()))
    report = simulate(one_pe(), GEMM, mapping, numerics=False)
    counts = report.levels.groupby(["level", "operand", "action"])["elements"].sum()
    assert counts[("wbuf", "weight", "read")] == reads


def test_the_search_picks_the_nest_with_the_fewest_weight_reads(tmp_path):
    """Of the 6 orders of the whole tile's loops, the two with M innermost read 10 weights, the
    rest 30 (above): the search's best nest, by estimate and on the engine, has M innermost,
    and the mapping file it writes holds the nest and runs it exactly."""
    result = search.search_mapping(one_pe(), GEMM, "energy", top_k=3)
    nested = [c for c in result.ranked if "nest" in c.mapping]
    assert nested and nested[0].mapping["nest"][0][0] == "M"
    report = simulate(one_pe(), GEMM, nested[0].mapping, numerics=False)
    counts = report.levels.groupby(["level", "operand", "action"])["elements"].sum()
    assert counts[("wbuf", "weight", "read")] == 10
    assert result.best is nested[0]  # the best simulated, auto included
    written = yaml.safe_load(result.write(tmp_path / "best.yaml").read_text())
    assert written["nest"] == nested[0].mapping["nest"]
    check = simulate(one_pe(), GEMM, str(tmp_path / "best.yaml"), numerics=True).numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


def _arch(rows: int, cols: int, wreg: int, oreg: int) -> dict:
    """A ws int8 array with per-PE weight and output registers of the given bytes."""
    return {
        "name": "regs",
        "clock": "1 GHz",
        "components": {
            "pe": {"kind": "systolic_array", "rows": rows, "cols": cols, "dataflows": ["ws"],
                   "input_precision": ["int8"]},
            "wreg": {"kind": "regfile", "unit": "pe", "holds": ["weight"], "capacity": f"{wreg} B",
                     "instances": "pe"},
            "oreg": {"kind": "regfile", "unit": "pe", "holds": ["output"], "capacity": f"{oreg} B",
                     "instances": "pe"},
            "buf": {"kind": "sram", "capacity": "64 KiB"},
            "dram": {"kind": "dram", "technology": "ddr4"},
        },
    }  # fmt: skip


@settings(max_examples=10, deadline=None)
@given(
    rows=st.sampled_from([2, 4]),
    cols=st.sampled_from([2, 4]),
    wreg=st.sampled_from([1, 4, 16]),
    oreg=st.sampled_from([4, 16]),
    dims=st.tuples(*[st.sampled_from([4, 8, 12]) for _ in "MNK"]),  # the edges divide them
    pick=st.integers(0, 10**6),
)
def test_every_generated_nest_divides_its_tile_fits_and_computes_exactly(
    rows, cols, wreg, oreg, dims, pick
):
    """Every nest the search generates runs the tile's temporal iterations exactly (per dim the
    product of its loops), every level holds the loops it is given within its capacity, and
    one of them, run on the engine, equals numpy's integer GEMM."""
    arch = _arch(rows, cols, wreg, oreg)
    m, n, k = dims
    workload = f"gemm:M={m},N={n},K={k},dtype=int8"
    machine = build_machine(load_arch(arch))
    ops = list(load_workload(workload).ops)
    found, count = search._nested(ops, machine, search.OBJECTIVES["energy"], 300)
    assert 0 < len(found) <= count <= 300
    for candidate in found:
        fields = candidate.mapping
        tile = fields["tile"]
        assert all(d % t == 0 for d, t in zip(dims, tile.values()))
        unroll = dict.fromkeys("MNK", 1)
        for axis, edge in (("rows", rows), ("cols", cols)):
            dim = fields["spatial"][axis]
            unroll[dim] = min(edge, dict(zip("MNK", dims))[dim])
        per_dim = Counter()
        for dim, factor in fields["nest"]:
            per_dim[dim] = per_dim.get(dim, 1) * factor
        assert {d: per_dim.get(d, 1) * unroll[d] for d in "MNK"} == tile
        plan = plan_from(ops[0], MappingSpec(**fields), machine, tile, fields["loop_order"])
        levels = TileLevels(plan, machine, k)
        (nest,) = levels.nests(tile)
        for role, held in nest.levels.items():
            for level in held[:-1]:  # inner levels: what they hold fits one instance
                component = machine.components[level.name]
                need = nest.tile_elements(role, level) * levels.elem_bytes[role]
                assert need <= component.instance_bytes
    chosen = found[pick % len(found)].mapping
    report = simulate(arch, workload, chosen, numerics=True, seed=pick)
    check = report.numerics["gemm"]
    assert check.ok and check.max_abs_error == 0


def test_a_budget_below_one_loop_per_dim_keeps_one_loop_each():
    # three dims of one prime factor each have 3! = 6 orders; no merge can make fewer
    from simulator.mapping.nest_space import loop_factors

    assert loop_factors({"M": 2, "N": 3, "K": 5}, 5) == {"M": [2], "N": [3], "K": [5]}
