"""GPU-like kernels: CTA tiles dealt to cores in waves, split-K with a DRAM workspace, the
per-kernel launch cost and fine-grained memory interleaving, checked by hand and against numpy."""

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.mapping.cta import choose_grid, half_columns, row_dram_bytes, stream_k_schedule
from simulator.mapping.program import Transfer
from simulator.mapping.raster import orders, tile_order, wave_blocks, wave_traffic
from simulator.spec import load_arch, load_mapping
from simulator.spec.workload import GemmOpSpec

CLOCK = 1e9


def gpu(cores=4, **options):
    """A small GPU-like chip: `cores` SMs with an 8x8 array, register accumulators, a crossbar
    (`gpu_doc`'s options)."""
    return load_arch(gpu_doc(cores, **options))


def gpu_doc(
    cores=4,
    launch="0 s",
    tiles=((64, 64),),
    memory="fine",
    efficiency=1.0,
    stream_k=False,
    order="rows",
    pairs=False,
) -> dict:
    """The YAML document of `gpu` (`pairs`: `kernels.cta_pairs`)."""
    pairing = {"cta_pairs": True} if pairs else {}
    return {
        "name": "tiny-gpu",
        "clock": "1 GHz",
        "components": {
            "hbm": {
                "kind": "dram",
                "technology": "hbm2e",
                "bandwidth": "1000 GB/s",
                "latency": "0 ns",
                "efficiency": efficiency,
            },
            "xbar": {
                "kind": "noc",
                "topology": "crossbar",
                "dims": [cores + 2],
                "link_bandwidth": "64 GB/s",
                "hop_latency": "0 ns",
                "memory_nodes": [cores, cores + 1],
                "memory": memory,
            },
        },
        "cores": {
            "count": cores,
            "kernels": {
                "launch": launch,
                "tiles": [list(t) for t in tiles],
                "stream_k": stream_k,
                "launch_order": order,
                **pairing,
            },
            "components": {
                "tc": {
                    "kind": "systolic_array",
                    "rows": 8,
                    "cols": 8,
                    "input_precision": ["int8", "bf16", "fp16"],
                },
                "alu": {"kind": "vector", "lanes": 16},
                "rf": {
                    "kind": "regfile",
                    "unit": "tc",
                    "holds": ["output"],
                    "capacity": "64 KiB",
                    "instances": "array",
                    "ports": 64,
                },
                "smem": {
                    "kind": "sram",
                    "capacity": "64 KiB",
                    "holds": ["input", "weight"],
                    "banks": 16,
                    "width": "4 B",
                },
            },
        },
    }


def gemm(M, N, K, dtype="int8"):
    return {
        "name": "g",
        "ops": [{"kind": "gemm", "name": "g", "M": M, "N": N, "K": K, "dtype": dtype}],
    }


def test_tiles_deal_to_cores_in_waves():
    """10 tiles of 64x64 over 4 cores: waves of 4, 4, 2, so cores 0-1 run 3 CTAs, cores 2-3 run 2."""
    report = simulator.simulate(gpu(), gemm(64 * 10, 64, 64), numerics=True)
    ctas = {row.name: row.map_ctas for row in report.ops.itertuples()}
    assert ctas == {"g@c0": 3, "g@c1": 3, "g@c2": 2, "g@c3": 2}
    assert report.summary["numerics_ok"]


def test_split_k_when_fewer_tiles_than_cores():
    """One 64x64 tile on 4 cores, K = 1024 with 256-deep slices: 4 slices, one per core; the last
    slice reads the other three fp32 partial tiles back (3 x 64 x 64 x 4 B) and stores C."""
    arch = gpu()
    op = GemmOpSpec(kind="gemm", name="g", M=64, N=64, K=1024, dtype="int8")
    grid = choose_grid(op, load_mapping(None), build_machine(arch), 4)
    assert (grid.tile_m, grid.tile_n, grid.splits) == (64, 64, 4)
    report = simulator.simulate(arch, gemm(64, 64, 1024), numerics=True)
    assert report.summary["numerics_ok"]
    partial = 64 * 64 * 4
    moved = {
        kind: sum(op[kind] for op in report.record.op_dram.values()) for kind in ("spill", "reload")
    }
    assert moved == {"spill": 3 * partial, "reload": 3 * partial}


@pytest.mark.parametrize("pairs", [False, True])
@settings(max_examples=12, deadline=None)
@given(
    M=st.integers(1, 200),
    N=st.integers(1, 150),
    K=st.integers(1, 700),
    cores=st.integers(1, 5),
    order=st.sampled_from(["rows", "swizzled"]),
)
@example(M=192, N=64, K=64, cores=4, order="rows")  # paired: the last pair's second core idles
def test_any_shape_covers_every_output_once(pairs, M, N, K, cores, order):
    """Whatever the grid (edge tiles, split-K or not, with `pairs` 2-SM CTA pairs on a port-bound
    chip where they win, a pair's second core without rows, an odd core left out) and launch
    order, C equals numpy's and every output is produced exactly once; the per-level table's
    SMEM bytes are the engine's, core by core (a paired core's half of B in both)."""
    doc = gpu_doc(cores, tiles=((64, 64), (32, 128)), order=order, pairs=pairs)
    if pairs:
        doc["components"]["xbar"]["link_bandwidth"] = "16 GB/s"
        doc["cores"]["components"]["tc"].update(rows=32, cols=32)
    report = simulator.simulate(load_arch(doc), gemm(M, N, K), numerics="full")
    assert report.summary["coverage_ok"]
    assert report.summary["numerics_ok"]
    assert report.summary["macs"] == M * N * K
    levels, engine = report.levels, report.components.set_index("component")
    for core in range(cores):
        smem = levels[levels.level == f"core{core}.smem"]
        written = smem[smem.action.isin(["fill", "update"])]["bytes"].sum()
        read = smem[smem.action.isin(["read", "drain"])]["bytes"].sum()
        counted = engine.loc[f"core{core}.smem"]
        assert (written, read) == (counted.write_bytes, counted.read_bytes)


@settings(max_examples=30, deadline=None)
@given(
    M=st.integers(1, 96),
    N=st.integers(1, 96),
    K=st.one_of(st.integers(1, 24), st.integers(64, 400)),
    cores=st.integers(2, 6),
    min_split_k=st.sampled_from([1, 7, 32]),
    lead=st.integers(1, 9),
)
@example(M=8, N=8, K=9, cores=4, min_split_k=1, lead=1)  # 4 slices asked, 9 splits into 3 of 3
@example(M=63, N=4, K=263, cores=5, min_split_k=32, lead=1)  # reduced before its own slice ended
@example(M=2, N=38, K=369, cores=4, min_split_k=32, lead=8)
def test_split_k_reduces_every_output_over_all_k_once(M, N, K, cores, min_split_k, lead):
    """Split-K on any shape, behind a GEMM of `lead` 32x32 tiles that frees the cores at uneven
    times: every output of the split GEMM is reduced over all of K exactly once (no slice missing
    when K does not split into as many ranges as asked, no partial read before its slice has
    finished, the reducing slice's own included) and C equals numpy's."""
    doc = gpu_doc(cores, tiles=((32, 32),))
    doc["cores"]["kernels"]["min_split_k"] = min_split_k
    work = {
        "name": "w",
        "ops": [
            {"kind": "gemm", "name": "lead", "M": 32 * lead, "N": 32, "K": 64, "dtype": "int8"},
            {"kind": "gemm", "name": "g", "M": M, "N": N, "K": K, "dtype": "int8", "inputs": []},
        ],
    }
    report = simulator.simulate(load_arch(doc), work, numerics="full")
    assert report.summary["coverage_ok"]
    assert report.summary["numerics_ok"]
    assert report.summary["macs"] == 32 * lead * 32 * 64 + M * N * K


def test_stream_k_schedule_by_hand():
    """6 tiles of 4 iterations on 4 cores: 24 iterations, 6 per core, so cores 0 and 2 end on
    the first half of tiles 1 and 4 (and fix them up), cores 1 and 3 start on their second half.
    5 tiles of 3 iterations: 15 over 4 cores is 3, 4, 4, 4 (cuts at 15 * c // 4)."""
    assert stream_k_schedule(6, 4, 4) == [
        [(0, 0, 4), (1, 0, 2)],
        [(1, 2, 4), (2, 0, 4)],
        [(3, 0, 4), (4, 0, 2)],
        [(4, 2, 4), (5, 0, 4)],
    ]
    assert stream_k_schedule(5, 3, 4) == [
        [(0, 0, 3)],
        [(1, 0, 3), (2, 0, 1)],
        [(2, 1, 3), (3, 0, 2)],
        [(3, 2, 3), (4, 0, 3)],
    ]


def test_stream_k_evens_out_a_wave_quantized_gemm():
    """5 tiles of 64 x 64 on 4 cores, K = 1024 int8 (4 iterations of 256): whole CTAs would take
    2 waves; stream-K deals 20 iterations, 5 per core (core 0: tile 0, then iteration 0 of tile 1;
    core 1: iterations 1-3 of tile 1, 0-1 of tile 2; core 2: 2-3 of tile 2, 0-2 of tile 3; core 3:
    3 of tile 3, all of tile 4), so each core works 5/4 of one whole CTA's time (a 64 x 64 x 1024
    GEMM alone on one core). Tiles 1, 2, 3 are fixed up by cores 0, 1, 2, each reading back one
    fp32 partial tile (16 KiB at the 64 B/cycle port: 256 cycles) that another core spilled and
    adding it (4096 adds on 16 lanes: 256 cycles), after a spill of its own (256 cycles) at most.
    C equals numpy's and every output is reduced over all of K exactly once. Without
    `kernels.stream_k` the grid keeps whole CTAs."""
    op = GemmOpSpec(kind="gemm", name="g", M=320, N=64, K=1024, dtype="int8")
    assert choose_grid(op, load_mapping(None), build_machine(gpu()), 4).stream_k == 0
    arch = gpu(stream_k=True)
    grid = choose_grid(op, load_mapping(None), build_machine(arch), 4)
    assert (grid.tile_m, grid.tile_n, grid.splits, grid.stream_k) == (64, 64, 1, 5)
    report = simulator.simulate(arch, gemm(320, 64, 1024), numerics="full")
    assert report.summary["numerics_ok"] and report.summary["coverage_ok"]
    partial = 64 * 64 * 4
    moved = {
        kind: sum(op[kind] for op in report.record.op_dram.values()) for kind in ("spill", "reload")
    }
    assert moved == {"spill": 3 * partial, "reload": 3 * partial}
    one = simulator.simulate(gpu(cores=1), gemm(64, 64, 1024), numerics=False).summary["cycles"]
    assert 1.25 * one <= report.summary["cycles"] <= 1.25 * one + 3 * 256


@settings(max_examples=25, deadline=None)
@given(
    tiles_m=st.integers(1, 5),
    N=st.integers(1, 64),
    K=st.integers(1, 400),
    cores=st.integers(2, 6),
    min_split_k=st.sampled_from([1, 7, 32]),
    order=st.sampled_from(["rows", "swizzled"]),
)
@example(tiles_m=5, N=64, K=333, cores=4, min_split_k=32, order="rows")  # stream-K, uneven K
@example(tiles_m=5, N=40, K=50, cores=3, min_split_k=7, order="swizzled")
def test_stream_k_reduces_every_output_over_all_k_once(tiles_m, N, K, cores, min_split_k, order):
    """Whatever grid auto picks for wave-quantized shapes (stream-K segments crossing tiles, edge
    tiles, split-K or whole CTAs) in either launch order: every output is reduced over all of K
    exactly once, C equals numpy's."""
    doc = gpu_doc(cores, tiles=((32, 32),), stream_k=True, order=order)
    doc["cores"]["kernels"]["min_split_k"] = min_split_k
    M = 32 * tiles_m - 3
    report = simulator.simulate(load_arch(doc), gemm(M, N, K), numerics="full")
    assert report.summary["coverage_ok"]
    assert report.summary["numerics_ok"]
    assert report.summary["macs"] == M * N * K


def test_launch_order_rasterises_in_swizzled_groups():
    """CUTLASS's persistent scheduler: along N, groups of `width` tile rows walked column by
    column (a group's rows of one column consecutive; the last group narrower); along M the same
    with rows and columns swapped; along M when the grid has more tiles along N; group widths
    8, 4, 2 from 6, 3, 2 tiles along the smaller side."""
    assert tile_order(3, 2, False, 2) == [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (2, 1)]
    assert tile_order(3, 2, False, 1) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert tile_order(2, 3, True, 2) == [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (1, 2)]
    assert orders(8, 56) == [(True, 8), (True, 4), (True, 2), (True, 1)]
    assert orders(56, 8)[0] == (False, 8) and orders(4, 4) == [(False, 4), (False, 2), (False, 1)]
    assert orders(2, 9) == [(True, 2), (True, 1)]
    assert orders(9, 1) == [(False, 1)]


def test_launch_order_rasters_the_grid_as_it_is_as_blackwell_does():
    """Blackwell's CUTLASS scheduler (`PersistentTileSchedulerSm100Params::initialize_swizzle`)
    compares the grid's tile counts as they are: 7 x 8 tiles raster along M at every width.
    Hopper's (`PersistentTileSchedulerSm90Params::initialize`) would round them up to 8 x 8 at
    widths 8, 4 and 2 first and raster along N; b200-like's kernels are Blackwell's."""
    assert orders(7, 8) == [(True, 8), (True, 4), (True, 2), (True, 1)]
    assert orders(8, 7) == [(False, 8), (False, 4), (False, 2), (False, 1)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), st.integers(1, 40))
def test_launch_order_covers_every_tile_once(tiles_m, tiles_n, per_wave):
    """Every order launches each tile of the grid exactly once, and `wave_blocks` names the
    rows and columns of tiles each wave of it touches."""
    grid = sorted((m, n) for m in range(tiles_m) for n in range(tiles_n))
    for down, width in orders(tiles_m, tiles_n):
        order = tile_order(tiles_m, tiles_n, down, width)
        assert sorted(order) == grid
        extents = (tiles_m, tiles_n) if down else (tiles_n, tiles_m)
        for start in range(0, len(order), per_wave):
            wave = order[start : start + per_wave]
            rows, columns = {m for m, _ in wave}, {n for _, n in wave}
            blocks = wave_blocks(start, start + len(wave), *extents, width)
            assert blocks == ((rows, columns) if down else (columns, rows))


def test_wave_traffic_by_hand():
    """256 x 256 x 64 int8 in 64 x 64 tiles (4 x 4), waves of 4, C in int8: A and B blocks and
    C tiles are 4 KiB each (A, B 16 KiB, C 64 KiB). Row by row (along N, 1 wide) a wave reads
    its A block and the 4 B blocks (20 KiB) and writes 16 KiB of C: in a 40 KiB L2 the next
    row finds B resident (A and B read once: 32 KiB); in 24 KiB a wave outgrows the L2, so every
    wave reads 20 KiB (80 KiB). Two rows at a time (2 wide), wave 0 reads A0 A1 B0 B1, wave 1
    B2 B3; wave 2 (rows 2-3) finds B0 B1 evicted by wave 1's C (16 + 8 + 8 KiB): A2 A3 B0 B1,
    wave 3 B2 B3 (48 KiB in 40 KiB); in 24 KiB every wave reads its 16 KiB (64 KiB)."""
    shape, tile, sizes, kib = (256, 256, 64), (64, 64), (1, 1), 1024
    c = 64 * kib
    assert wave_traffic(shape, tile, (False, 1), 4, sizes, 40 * kib) == (32 * kib, c)
    assert wave_traffic(shape, tile, (False, 1), 4, sizes, 24 * kib) == (80 * kib, c)
    assert wave_traffic(shape, tile, (False, 2), 4, sizes, 40 * kib) == (48 * kib, c)
    assert wave_traffic(shape, tile, (False, 2), 4, sizes, 24 * kib) == (64 * kib, c)
    assert wave_traffic(shape, tile, (False, 2), 4, sizes, 96 * kib) == (32 * kib, c)  # fits
    assert wave_traffic(shape, tile, (False, 2), 4, sizes, 0) == (4 * 32 * kib, c)  # no L2


def test_row_order_prices_b_rereads_when_b_outgrows_l2():
    """256 x 256 x 64 int8 in 64 x 64 tiles (4 x 4 tiles, rows of 4): A = B = 16 KiB, C = 64 KiB.
    With B, a row of A (4 KiB) and of C (16 KiB) in L2, each is read once. Without: 4 waves of 4
    tiles each read the 4 column blocks of a row again (4 B); waves of 8 tiles span 2 rows that
    share their columns (2 B); waves of 14 and 2 tiles read 4 and 2 column blocks (1.5 B)."""
    op = GemmOpSpec(kind="gemm", name="g", M=256, N=256, K=64, dtype="int8")
    a = b = 256 * 64
    c = 256 * 256
    assert row_dram_bytes(op, 64, 64, 4, 1, b + 4096 + 16384) == a + b + c
    assert row_dram_bytes(op, 64, 64, 4, 1, b + 4096 + 16384 - 1) == a + 4 * b + c
    assert row_dram_bytes(op, 64, 64, 8, 1, 0) == a + 2 * b + c
    assert row_dram_bytes(op, 64, 64, 14, 1, 0) == a + 1.5 * b + c


def test_row_order_grid_avoids_b_rereads_from_dram():
    """LLMCompass's A100 1024 x 12288 x 12288 bf16: B (302 MB) outgrows the 40 MiB L2, so a
    64 x 128 grid (16 rows of 96 tiles, 15 waves: 14 of 108 tiles reading 96 column blocks each,
    one of 24) reads B 1368 / 96 = 14.25 times, 4.35 GB, 3.8 M cycles at the a100-like's
    1157 B/cycle, while 128 x 256 CTAs (8 x 48 = 384 tiles, 3.56 waves on 108 SMs) each need
    128 * 256 * 12288 / 1024 MACs per cycle = 393,216 cycles: 4 whole waves. With stream-K allowed
    it runs 2 waves whole, then spreads 168 tiles x 48 iterations (12288 / 256) over 108 SMs, 75 at
    most on one, and spills and reloads a 128 x 256 fp32 partial at 64 B/cycle (4096 cycles)."""
    op = GemmOpSpec(kind="gemm", name="g", M=1024, N=12288, K=12288, dtype="bf16")
    cta = 128 * 256 * 12288 / 1024
    machine = build_machine(load_arch("a100-like"))
    grid = choose_grid(op, load_mapping(None), machine, machine.core_count)
    assert grid.tile_m * grid.tile_n == 128 * 256 and grid.stream_k == 0
    assert grid.cycles == pytest.approx(4 * cta, rel=1e-3)  # + fill
    allowed = build_machine(load_arch("a100-like", [(["cores", "kernels", "stream_k"], True)]))
    grid = choose_grid(op, load_mapping(None), allowed, allowed.core_count)
    assert grid.tile_m * grid.tile_n == 128 * 256
    assert grid.stream_k == 60 + 108
    assert grid.cycles == pytest.approx((2 + 75 / 48) * cta + 4096, rel=1e-3)  # + fill
    a = c = 1024 * 12288 * 2
    b = 12288 * 12288 * 2
    assert row_dram_bytes(op, 64, 128, 108, 2, machine.l2.capacity_bytes) == a + 14.25 * b + c


def test_row_order_grid_ties_go_to_fewer_dram_bytes():
    """64 x 256 x 1024 int8 on 4 cores, 8 CTAs of either 64 x 32 or 32 x 64 (2 waves of
    64 * 32 * 1024 / 64 = 32,768 MAC cycles, the same estimate): with no L2, 64 x 32 tiles read
    A (64 KiB), B (256 KiB) and C (16 KiB) once, while 32 x 64 tiles (rows of 4) read B once per
    row; auto takes 64 x 32 whichever is listed first."""
    op = GemmOpSpec(kind="gemm", name="g", M=64, N=256, K=1024, dtype="int8")
    for tiles in (((64, 32), (32, 64)), ((32, 64), (64, 32))):
        grid = choose_grid(op, load_mapping(None), build_machine(gpu(tiles=tiles)), 4)
        assert (grid.tile_m, grid.tile_n, grid.dram) == (64, 32, 65536 + 262144 + 16384)
    wide = choose_grid(op, load_mapping(None), build_machine(gpu(tiles=((32, 64),))), 4)
    assert (wide.cycles, wide.dram) == (grid.cycles, 65536 + 2 * 262144 + 16384)


SWIZZLED = [(["cores", "kernels", "launch_order"], "swizzled")]


def test_swizzled_grid_avoids_b_rereads_from_dram():
    """LLMCompass's A100 1024 x 12288 x 12288 bf16: B (302 MB) outgrows the 40 MiB L2. Row by
    row, 64 x 128 tiles (16 rows of 96, 15 waves of 108 SMs, the last 24 tiles) outgrow it in
    every wave, so each wave reads its 96 column blocks of B (24 in the last: 14.25 B) and its
    rows of A (16 rows, 13 of them split between two waves: 29 / 16 A). Along M, 128 x 64 tiles
    (8 x 192 = 1536, 15 waves) leave the kernel compute-bound: each CTA 128 * 64 * 12288 / 1024
    = 98,304 MAC cycles, its operands (128 + 64) * 12288 * 2 B at 64 B/cycle under that, so the
    grid takes them over the 4 whole waves of 128 x 256 CTAs (393,216 cycles each) that row
    order needed."""
    op = GemmOpSpec(kind="gemm", name="g", M=1024, N=12288, K=12288, dtype="bf16")
    machine = build_machine(load_arch("a100-like", SWIZZLED))
    a, b, c = 1024 * 12288 * 2, 12288 * 12288 * 2, 1024 * 12288 * 4  # C in fp32
    rows = wave_traffic(op_shape(op), (64, 128), (False, 1), 108, (2, 4), 40 * 2**20)
    assert rows == (29 / 16 * a + 14.25 * b, c)
    grid = choose_grid(op, load_mapping(None), machine, machine.core_count)
    assert (grid.tile_m, grid.tile_n, grid.splits, grid.stream_k) == (128, 64, 1, 0)
    assert grid.order[0]  # along M
    assert grid.cycles == pytest.approx(15 * 98_304, rel=1e-3)  # + fill
    assert grid.cycles < 4 * 393_216


def op_shape(op) -> tuple[int, int, int]:
    return op.M, op.N, op.K


def test_grid_ties_go_to_the_first_tile_in_sorted_order():
    """64 x 256 x 1024 int8 on 4 cores, 8 CTAs of either 64 x 32 or 32 x 64 (2 waves of
    64 * 32 * 1024 / 64 = 32,768 MAC cycles, the same estimate): with no L2 every CTA reads its
    own blocks of A and B, M * N * K * (1 / 32 + 1 / 64) = 768 KiB either way, plus C once in
    int32 (64 KiB), as the engine moves them; auto takes 32 x 64, first in sorted order, however
    they are listed."""
    op = GemmOpSpec(kind="gemm", name="g", M=64, N=256, K=1024, dtype="int8")
    moved = 768 * 1024 + 64 * 256 * 4
    for tiles in (((64, 32), (32, 64)), ((32, 64), (64, 32))):
        machine = build_machine(gpu(tiles=tiles, order="swizzled"))
        grid = choose_grid(op, load_mapping(None), machine, 4)
        assert (grid.tile_m, grid.tile_n, grid.dram) == (32, 64, moved)
        chip = gpu(tiles=tiles[:1], order="swizzled")
        report = simulator.simulate(chip, gemm(64, 256, 1024), numerics=False)
        assert report.summary["dram_bytes"] == moved


def test_engine_reads_what_the_launch_order_keeps_in_l2():
    """256 x 256 x 64 int8 (C int8) in 64 x 64 tiles on 4 cores with a 40 KiB L2: the grid's
    order keeps the blocks it reuses resident (`test_wave_traffic_by_hand`), so the engine, like
    the estimate, reads A and B once: 16 + 16 KiB, and writes C's 64 KiB."""
    doc = gpu_doc(order="swizzled")
    doc["components"]["l2"] = {"kind": "sram", "capacity": "40 KiB", "banks": 16, "width": "64 B"}
    arch = load_arch(doc)
    work = gemm(256, 256, 64)
    work["ops"][0]["output_dtype"] = "int8"
    op = GemmOpSpec(**work["ops"][0])
    grid = choose_grid(op, load_mapping(None), build_machine(arch), 4)
    report = simulator.simulate(arch, work, numerics=True)
    assert grid.dram == report.summary["dram_bytes"] == 96 * 1024
    assert report.summary["numerics_ok"]


@pytest.mark.parametrize(
    "order, again",
    [
        ("rows", 0),
        ("swizzled", 4096 * 2),  # A once more: wave 1's 108 B blocks outgrow L2
    ],
)
def test_grid_prices_a_nearly_empty_last_wave(order, again):
    """A100 GEMV 1 x 28672 x 4096 fp16 (vidur's LLaMA-3-8B up-projection): 1 x 256 CTAs are 112
    tiles on 108 SMs, a DRAM-bound wave of 108 (108/112 of A, B and C at 1157 B/cycle) then 4
    CTAs each streaming (1 + 256) x 4096 x 2 B + 512 B of C through one SM's 64 B/cycle port;
    1 x 64 CTAs are 448 tiles, 4 waves of 108 and one of 16 CTAs of (1 + 64) x 4096 x 2 + 128 B,
    so the last wave is 4x shorter and auto takes them. With stream-K allowed, the 112 x 16
    iterations (4096 / 256) spread over the 108 SMs instead, so the kernel streams A, B and C once
    at the chip's rate (swizzled: A twice, a wave's B blocks outgrow the L2), plus a 1 x 256 fp32
    partial spilled and reloaded at every cut inside a tile (cuts at 1792 * c // 108 not a
    multiple of 16). C is written in fp16, the inputs' precision, in either order."""
    op = GemmOpSpec(kind="gemm", name="g", M=1, N=28672, K=4096, dtype="fp16")
    fetched = (4096 + 28672 * 4096) * 2 + 28672 * 2
    one = [
        (["cores", "kernels", "tiles"], [[1, 256]]),
        (["cores", "kernels", "launch_order"], order),
    ]
    machine = build_machine(load_arch("a100-like", one))
    dram = machine.dram.bytes_per_cycle
    wide = choose_grid(op, load_mapping(None), machine, 108)
    tail = ((1 + 256) * 4096 * 2 + 256 * 2) / 64
    whole = fetched / dram * 108 / 112 + tail
    assert wide.cycles == pytest.approx(whole, rel=1e-3)
    arch = load_arch("a100-like", one[1:])
    grid = choose_grid(op, load_mapping(None), build_machine(arch), 108)
    assert (grid.tile_m, grid.tile_n, grid.stream_k) == (1, 64, 0)
    tail = ((1 + 64) * 4096 * 2 + 64 * 2) / 64
    assert grid.cycles == pytest.approx(fetched / dram * 432 / 448 + tail, rel=1e-2)
    allowed = load_arch("a100-like", [*one, (["cores", "kernels", "stream_k"], True)])
    grid = choose_grid(op, load_mapping(None), build_machine(allowed), 108)
    cuts = sum(1 for c in range(1, 108) if 1792 * c // 108 % 16)
    assert grid.stream_k == 112
    assert grid.cycles == pytest.approx((fetched + again + 2 * 256 * 4 * cuts) / dram, rel=1e-6)
    assert grid.cycles < whole


def test_launch_cost_delays_the_kernel_by_exactly_its_cycles():
    """A single GEMM starts nothing for `launch` seconds on every core: 10 us = 10,000 cycles."""
    base = simulator.simulate(gpu(), gemm(256, 256, 256), numerics=False).summary["cycles"]
    late = simulator.simulate(gpu(launch="10 us"), gemm(256, 256, 256), numerics=False)
    assert late.summary["cycles"] - base == 10_000


def test_fine_interleaving_streams_one_core_at_its_port_rate():
    """One core loading from fine-interleaved memory is bound by its own 64 B/cycle port, not by a
    single controller's half of the DRAM (500 B/cycle here, so the port binds either way), while
    turn-by-turn interleaving holds one controller per transfer; both move the same bytes."""
    one = gpu(cores=1)
    turn = gpu(cores=1, memory="interleaved")
    work = gemm(64, 64, 4096)
    fine_run = simulator.simulate(one, work, numerics=False)
    turn_run = simulator.simulate(turn, work, numerics=False)
    assert fine_run.summary["dram_bytes"] == turn_run.summary["dram_bytes"]
    loads = 64 * 4096 * 2  # A and B, int8
    assert fine_run.summary["cycles"] >= math.ceil(loads / 64)


def test_dram_efficiency_scales_streaming_bandwidth():
    """efficiency 0.5 halves the achievable bytes per cycle of the DRAM."""
    full = build_machine(gpu()).dram.bytes_per_cycle
    half = build_machine(gpu(efficiency=0.5)).dram.bytes_per_cycle
    assert full == 1000e9 / CLOCK
    assert half == full / 2


def attention_work(length: int, causal: bool = False, batch: int = 1, kv_heads: int = 2) -> dict:
    """One attention op: 2 heads (`kv_heads` K/V heads), `length` queries and keys, head_dim 16,
    bf16."""
    op = {"kind": "attention", "name": "attn", "batch": batch, "heads": 2, "kv_heads": kv_heads}
    op |= {"q_len": length, "kv_len": length, "head_dim": 16, "causal": causal, "dtype": "bf16"}
    return {"name": "a", "ops": [op]}


def test_attention_cta_grid_matches_numpy():
    """FlashAttention's grid (head, query block) over 4 cores, causal and not: every CTA's output
    matches the float64 reference, and 2 heads x (96 / block rows) CTAs are dealt round-robin."""
    for causal in (False, True):
        work = attention_work(96, causal)
        mapping = {"name": "fa", "partition": {"attention": "cta"}}
        report = simulator.simulate(gpu(), work, mapping, numerics=True)
        assert report.summary["numerics_ok"]
        rows = int(report.ops.map_block_rows.iloc[0])
        ctas = 2 * math.ceil(96 / rows)
        assert report.ops.map_ctas.sum() == ctas
        assert report.summary["macs"] >= 2 * 96 * 96 * 16 * (1 if causal else 2) // 2


@settings(max_examples=12, deadline=None)
@given(
    batch=st.integers(1, 3),
    kv_heads=st.sampled_from([1, 2]),
    length=st.integers(8, 80),
    causal=st.booleans(),
)
def test_attention_ctas_cover_every_batch_head_and_query_block(batch, kv_heads, length, causal):
    """FlashAttention-2's grid is (query block, batch, head): batch x K/V heads x blocks CTAs,
    every one's output within the precision bound of numpy's, and the MACs of the whole op
    (non-causal: Q K^T and P V, 2 x batch x heads x length^2 x 16; causal: at most that)."""
    work = attention_work(length, causal, batch, kv_heads)
    mapping = {"name": "fa", "partition": {"attention": "cta"}}
    report = simulator.simulate(gpu(), work, mapping, numerics=True)
    assert report.summary["numerics_ok"]
    rows = int(report.ops.map_block_rows.iloc[0])
    assert report.ops.map_ctas.sum() == batch * kv_heads * math.ceil(length / rows)
    full = 2 * batch * 2 * length * length * 16
    assert report.summary["macs"] <= full if causal else report.summary["macs"] == full


def test_auto_runs_attention_as_ctas_on_gpu_like_chips_only():
    """`partition.attention: auto` is FlashAttention's CTA grid where the cores run kernels (a
    shard with 2 K/V heads still spreads its query blocks over all 4 SMs) and K/V-head groups per
    core elsewhere: each run equals the one that names its choice."""
    work = attention_work(256)

    def cycles(arch, partition):
        mapping = {"name": "m", "partition": {"attention": partition}}
        return simulator.simulate(arch, work, mapping, numerics=False).summary["cycles"]

    assert cycles(gpu(), "auto") == cycles(gpu(), "cta") < cycles(gpu(), "heads")
    mesh = load_arch("mesh-4x4")
    assert cycles(mesh, "auto") == cycles(mesh, "heads") != cycles(mesh, "cta")


def port_bound_gpu(pairs: bool):
    """`gpu` with a 32x32 array behind a 16 B/clock port: a 64x64 int8 CTA computes a K step in
    4 cycles and needs (64 + 64) B through its port, 8 cycles, so the port bounds it."""
    doc = gpu_doc(4, pairs=pairs)
    doc["components"]["xbar"]["link_bandwidth"] = "16 GB/s"
    doc["cores"]["components"]["tc"].update(rows=32, cols=32)
    return load_arch(doc)


def test_paired_grid_halves_b_through_each_port():
    """512x128x256 int8 on 4 cores, 64x64 CTAs. Alone: 8 x 2 = 16 tiles, 4 waves, each CTA
    (64 + 64) x 256 B of A and B and 64 x 64 B of C over 16 B/clock. Paired: 128x64 tiles, 4 x 2
    = 8 over 2 pairs, 4 waves, each core (64 + 32) x 256 B of A and half of B, and its C."""
    op = GemmOpSpec(kind="gemm", name="g", M=512, N=128, K=256, dtype="int8")
    alone = choose_grid(op, load_mapping(None), build_machine(port_bound_gpu(False)), 4)
    paired = choose_grid(op, load_mapping(None), build_machine(port_bound_gpu(True)), 4)
    assert not alone.pair and alone.cycles == 4 * ((64 + 64) * 256 + 64 * 64) / 16
    assert paired.pair and paired.cycles == 4 * ((64 + 32) * 256 + 64 * 64) / 16
    assert (paired.tile_m, paired.tile_n, paired.launched_m(512)) == (64, 64, 128)


def test_paired_cores_load_their_rows_of_a_and_half_of_b():
    """The paired grid above in the engine: every core runs 4 CTAs (8 tiles over 2 pairs, 4
    waves) and loads (64 x 256 of A + 32 x 256 of B) x 4 = 98,304 B, where alone it loads
    (64 + 64) x 256 x 4 = 131,072 B; C equals numpy's."""
    for pairs, loaded in ((False, 131072), (True, 98304)):
        report = simulator.simulate(port_bound_gpu(pairs), gemm(512, 128, 256), numerics=True)
        assert report.summary["numerics_ok"]
        assert {row.name: row.map_ctas for row in report.ops.itertuples()} == {
            f"g@c{core}": 4 for core in range(4)
        }
        assert {op: moved["load"] for op, moved in report.record.op_dram.items()} == {
            f"g@c{core}": loaded for core in range(4)
        }


def test_a_paired_cores_levels_count_its_half_of_b_as_the_engine_moves_it():
    """512x101x256 int8 paired as above (128x64 tiles over 2 pairs, 4 CTAs a core): the first pair
    runs the 64-wide column tiles, 32 columns of B a core, the second the 37-wide ones, 19 and 18
    (the first half the larger). Each core's DMA brings 4 x 256 x that many B elements from DRAM
    into its SMEM, and the per-level table's SMEM bytes equal the engine's (the table counted
    every core's B whole: twice the engine's)."""
    report = simulator.simulate(port_bound_gpu(True), gemm(512, 101, 256), numerics=True)
    assert report.summary["numerics_ok"]
    assert report.program.ops[0].details["cta_pair"] == "128x64 on 2 cores"
    levels = report.levels
    for core, columns in enumerate((32, 32, 19, 18)):
        mine = levels[levels.op == f"g@c{core}"]
        sums = mine.groupby(["level", "operand", "action"]).elements.sum()
        assert sums[("hbm", "weight", "read")] == 4 * 256 * columns
        assert sums[(f"core{core}.smem", "weight", "fill")] == 4 * 256 * columns
        smem = report.components.set_index("component").loc[f"core{core}.smem"]
        fills = mine[(mine.level == f"core{core}.smem") & (mine.action == "fill")]["bytes"].sum()
        reads = mine[(mine.level == f"core{core}.smem") & (mine.action == "read")]["bytes"].sum()
        assert (fills, reads) == (smem.write_bytes, smem.read_bytes)


def test_half_columns_by_hand():
    """A 16 x 5 int8 B block (80 B) cut for a pair: the first core 3 columns (48 B), the second
    2 (32 B)."""
    block = Transfer("load", "g.B", ((0, 16), (10, 15)), "core0.smem", 80, 80)
    first, second = half_columns(block, 0), half_columns(block, 1)
    assert (first.region, first.dram_bytes, first.space) == (((0, 16), (10, 13)), 48, 80)
    assert (second.region, second.dram_bytes) == (((0, 16), (13, 15)), 32)
