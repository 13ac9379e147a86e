"""The auto mapper's ranking, memoized across machines (sweep points), picks what a direct search
picks: the (tile, loop order) of least (estimated time, DRAM bytes, -tile volume), first on ties."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.mapping import auto
from simulator.mapping.gemm import plan_from
from simulator.mapping.traffic import dram_traffic
from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.precision import nbytes, precision


def direct_best(op, mapping, machine):
    """Every fitting tile under every loop order, priced from scratch (no memo, no pruning)."""
    problem = {"M": op.M, "N": op.N, "K": op.K}
    orders = [list(p) for p in itertools.permutations("MNK")]
    seed = plan_from(op, mapping, machine, {d: 1 for d in problem}, orders[0])
    unit = machine.components[seed.unit]
    align = {seed.spatial[0]: unit.rows, seed.spatial[1]: unit.cols}
    options = auto._dim_options(problem, {}, seed.spatial, align, mapping.accounting)
    in_bytes = precision(op.dtype).bits / 8
    acc_bytes = precision(unit.accumulator(op.dtype)).bits / 8
    out_bytes = acc_bytes if precision(op.dtype).is_int else in_bytes  # C as the GEMM writes it
    write_cost = machine.dram.spec.write_cost
    ranked = []
    for position, (m, n, k) in enumerate(itertools.product(*options)):
        tile = {"M": m, "N": n, "K": k}
        used = seed.footprint(machine, tile)
        if any(size > machine.components[b].capacity_bytes for b, size in used.items()):
            continue
        compute = 0
        for dims in itertools.product(*[_pieces(problem[d], tile[d]) for d in "MNK"]):
            extent = dict(zip("MNK", (size for size, _ in dims)))
            count = dims[0][1] * dims[1][1] * dims[2][1]
            cost = unit.tile_cost(
                extent, seed.spatial, seed.dataflow, seed.accounting, True, dtype=op.dtype
            )
            compute += cost.cycles * count
        first = machine.dram.transfer_cycles(nbytes(m * k + k * n, op.dtype))
        for rank, order in enumerate(orders):
            moved = _held(
                dram_traffic(problem, tile, order, in_bytes, acc_bytes, out_bytes), write_cost
            )
            cycles = max(compute, machine.dram.transfer_cycles(int(moved))) + first
            ranked.append(((cycles, moved, -m * n * k), position, rank, tile, order))
    _, _, _, tile, order = min(ranked, key=lambda entry: entry[:3])
    return tile, order


def _held(moved: dict, write_cost: float) -> float:
    """Read bytes' worth of bus time: reads once, stores and partial-sum spills (half of
    `partial_sums`, the other half reloads) `write_cost` times."""
    spills = moved["partial_sums"] / 2
    reads = moved["input"] + moved["weight"] + spills
    return reads + (moved["output"] + spills) * write_cost


def _pieces(extent: int, size: int) -> list[tuple[int, int]]:
    full, rest = divmod(extent, size)
    return [(size, full)] + ([(rest, 1)] if rest else [])


@settings(max_examples=25, deadline=None)
@given(
    rows=st.sampled_from([16, 32, 64]),
    cols=st.sampled_from([16, 32, 128]),
    sram=st.sampled_from(["256 KiB", "1 MiB", "8 MiB"]),
    dims=st.tuples(*[st.sampled_from([48, 100, 256, 512, 1000]) for _ in "MNK"]),
    write_cost=st.sampled_from([1.0, 1.5, 3.0]),
)
def test_memoized_ranking_equals_direct_search(rows, cols, sram, dims, write_cost):
    """With DRAM writes at their own cost too (`write_cost`): stores and spills priced as the
    engine's bus holds them."""
    arch = load_arch(
        "edge-npu",
        [
            (["components", "mac_array", "rows"], rows),
            (["components", "mac_array", "cols"], cols),
            (["components", "sram", "capacity"], sram),
            (["components", "dram", "write_cost"], write_cost),
        ],
    )
    m, n, k = dims
    (op,) = load_workload(f"gemm:M={m},N={n},K={k},dtype=int8").ops
    mapping = load_mapping(None)
    for _ in range(2):  # a fresh machine each time: the second search runs on warm memos
        machine = build_machine(arch)
        problem = {"M": m, "N": n, "K": k}
        seed = plan_from(op, mapping, machine, {d: 1 for d in problem}, ["M", "N", "K"])
        unit = machine.components[seed.unit]
        align = {seed.spatial[0]: unit.rows, seed.spatial[1]: unit.cols}
        options = auto._dim_options(problem, {}, seed.spatial, align, mapping.accounting)
        orders = [list(p) for p in itertools.permutations("MNK")]
        best = auto._best(op, mapping, machine, unit, problem, options, orders)
        assert best == direct_best(op, mapping, machine)


@settings(max_examples=20, deadline=None)
@given(
    rows=st.sampled_from([16, 32, 128]),
    cols=st.sampled_from([16, 64, 128]),
    srams=st.lists(
        st.tuples(
            st.sampled_from(["128 KiB", "256 KiB", "512 KiB", "2 MiB", "8 MiB", "32 MiB"]),
            st.sampled_from([1, 2, 4]),
        ),
        min_size=2,
        max_size=4,
    ),
    bandwidth=st.sampled_from(["12.8 GB/s", "204.8 GB/s"]),
    dims=st.tuples(*[st.sampled_from([64, 100, 384, 1024]) for _ in "MNK"]),
)
def test_ranking_shared_across_buffer_sizes_picks_the_direct_search(
    rows, cols, srams, bandwidth, dims
):
    """Points that differ only in SRAM size reuse one ranking (`auto._ranking`): each picks what
    the direct search picks, and what a search with the rankings forgotten picks (memo on, off);
    points that differ in the array's int8 rate as well never share a ranking priced at another."""
    m, n, k = dims
    (op,) = load_workload(f"gemm:M={m},N={n},K={k},dtype=int8").ops
    mapping = load_mapping(None)
    problem = {"M": m, "N": n, "K": k}
    orders = [list(p) for p in itertools.permutations("MNK")]
    for sram, rate in srams:
        arch = load_arch(
            "edge-npu",
            [
                (["components", "mac_array", "rows"], rows),
                (["components", "mac_array", "cols"], cols),
                (["components", "mac_array", "rate"], {"int8": rate}),
                (["components", "sram", "capacity"], sram),
                (["components", "dram", "bandwidth"], bandwidth),
            ],
        )
        machine = build_machine(arch)
        seed = plan_from(op, mapping, machine, {d: 1 for d in problem}, orders[0])
        unit = machine.components[seed.unit]
        align = {seed.spatial[0]: unit.rows, seed.spatial[1]: unit.cols}
        options = auto._dim_options(problem, {}, seed.spatial, align, mapping.accounting)
        shared = auto._best(op, mapping, machine, unit, problem, options, orders)
        kept = dict(auto._RANKINGS)
        auto._RANKINGS.clear()
        try:
            alone = auto._best(op, mapping, machine, unit, problem, options, orders)
        finally:
            auto._RANKINGS.clear()
            auto._RANKINGS.update(kept)
        assert shared == alone
        try:
            direct = direct_best(op, mapping, machine)
        except ValueError:  # min() of no candidates: no tile fits
            direct = None
        assert shared == direct


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(*[st.integers(1, 5000) for _ in "MNK"]),
    tile=st.tuples(*[st.integers(1, 600) for _ in "MNK"]),
    orders=st.permutations(list(itertools.permutations("MNK"))).flatmap(
        lambda all_orders: st.integers(1, 6).map(lambda n: tuple(all_orders[:n]))
    ),
    in_bytes=st.sampled_from([0.5, 1.0, 2.0, 4.0]),
    acc_bytes=st.sampled_from([2.0, 4.0, 8.0]),
    out_bytes=st.sampled_from([0.5, 1.0, 2.0, 4.0, 8.0]),
    write_cost=st.sampled_from([1.0, 1.25, 1.5, 3.0]),
)
def test_least_moved_is_the_first_order_of_fewest_bytes(
    shape, tile, orders, in_bytes, acc_bytes, out_bytes, write_cost
):
    """Bytes worked out once per innermost loop: the same (index, bytes) as dram_traffic's bytes
    for every order, writes at their cost (sums, at write cost 1), the first of the fewest."""
    problem, sizes = dict(zip("MNK", shape)), dict(zip("MNK", tile))
    formats = (in_bytes, acc_bytes, out_bytes)
    moved = [
        _held(dram_traffic(problem, sizes, list(order), *formats), write_cost) for order in orders
    ]
    if write_cost == 1:
        assert moved == [
            sum(dram_traffic(problem, sizes, list(order), *formats).values()) for order in orders
        ]
    expected = (moved.index(min(moved)), min(moved))
    assert auto._least_moved(shape, tile, orders, formats, write_cost) == expected
