"""Row reductions as GPU kernels (chips with `cores.kernels`): rows per CTA, the reads of each
row, the CTA waves, and the latency bound (threads per CTA, occupancy, each row's critical path),
checked by hand on a tiny GPU-like chip."""

import copy
import dataclasses
import math
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.engine.run import Entry, _Engine
from simulator.errors import SpecError
from simulator.mapping import compile_program
from simulator.mapping.program import Compute, Transfer
from simulator.mapping.vector_ops import (
    compile_vector_op,
    core_rates,
    cta_rows,
    latency_floor,
    pass_waits,
    reduction_steps,
    reread_hits,
    resident_ctas,
    round_cycles,
    row_cycles,
    row_kernel,
    softmax_passes,
    softmax_threads,
    streamed_step,
)
from simulator.spec import load_arch
from simulator.spec.arch import KernelsSpec, LoadLatencySpec
from simulator.spec.workload import VectorOpSpec
from tests.mapping.test_cta import gpu_doc

SHARED = 64 * 1024  # the tiny GPU's shared memory per SM


def op(kind, rows, cols):
    return VectorOpSpec(kind=kind, name="v", rows=rows, cols=cols, dtype="fp16")


def test_rows_per_cta_and_passes_by_hand():
    """Softmax rows of <= 128 go two to a warp, four warps a CTA (8 rows), <= 1024 a warp each (4
    rows), read once; wider ones a CTA each, 3 passes (max, sum, normalise) at any width, as
    PyTorch 2.0's cunn_SoftMaxForward makes them; LayerNorm 2 (statistics, normalise) at any
    width, as vectorized_layer_norm_kernel."""
    cases = {("softmax", 32): (8, 1), ("softmax", 1024): (4, 1), ("softmax", 1025): (1, 3)}
    cases |= {("softmax", 12288): (1, 3), ("layernorm", 32): (1, 2), ("layernorm", 16384): (1, 2)}
    for (kind, cols), (rows, passes) in cases.items():
        kernel = row_kernel(op(kind, 64, cols))
        assert (kernel.rows, kernel.passes) == (rows, passes), (kind, cols)


def test_ctas_deal_in_waves_by_hand():
    """10 rows in CTAs of 4 over 2 cores: CTAs 0 and 2 (4 + 2 rows) on core 0, CTA 1 on core 1;
    5 one-row CTAs on 8 cores leave 3 idle."""
    assert cta_rows(10, 4, 2) == [(0, 6), (6, 10)]
    assert cta_rows(5, 1, 8) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 500), st.integers(1, 16), st.integers(1, 40))
def test_cta_rows_cover_every_row_once_in_round_robin_shares(rows, per_cta, cores):
    ranges = cta_rows(rows, per_cta, cores)
    assert ranges[0][0] == 0 and ranges[-1][1] == rows
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    ctas = -(-rows // per_cta)
    assert len(ranges) == min(cores, ctas)
    waves = -(-ctas // cores)
    # a core runs `waves` or `waves - 1` CTAs; so it holds at most waves x per_cta rows
    assert all(0 < r1 - r0 <= waves * per_cta for r0, r1 in ranges)


def _softmax(rows, cols):
    ops = [{"kind": "softmax", "name": "s", "rows": rows, "cols": cols, "dtype": "fp16"}]
    return {"name": "s", "ops": ops}


def test_wide_rows_read_three_times_from_dram_without_l2():
    """8 softmax rows of 16,384 fp16 (a 64 KB fp32 row, past 48 KB) on a chip with no L2: each
    row is loaded 3 times from DRAM, stored once."""
    report = simulator.simulate(load_arch(gpu_doc()), _softmax(8, 16384), numerics=True)
    assert report.summary["numerics_ok"]
    moved = {k: sum(o[k] for o in report.record.op_dram.values()) for k in ("load", "store")}
    assert moved == {"load": 3 * 8 * 16384 * 2, "store": 8 * 16384 * 2}


def test_wide_row_rereads_hit_l2():
    """The same with a 1 MB L2: the first read misses, the two re-reads of each row hit."""
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["l2"] = {"kind": "sram", "capacity": "1 MiB", "banks": 16, "width": "64 B"}
    report = simulator.simulate(load_arch(doc), _softmax(8, 16384))
    row = 16384 * 2
    assert report.record.l2_bytes["miss"] == 8 * row
    assert report.record.l2_bytes["hit"] == 2 * 8 * row


def test_rereads_hit_while_the_reuse_distance_fits_l2_by_hand():
    """Softmax 8 x 16,384 fp16 on 4 cores: 512-thread CTAs, 2,048 / 512 = 4 resident a core, so
    all 8 rows (of 16 slots) are in flight: 8 x 32 KiB = 256 KiB. The sum pass re-reads a value
    after all 256 KiB were read: it hits in a 256 KiB L2, and one byte less misses everywhere.
    The normalising pass also writes: column c's re-read follows 8 x 2c bytes of outputs, so
    with 256 KiB spare (a 512 KiB L2) columns 0 to 16,384 would hit (all 16,384), and with 100
    bytes spare 100 // 8 = 12 bytes a row, 6 columns' outputs, fit: columns 0 to 6, 7 of them.
    LayerNorm on A100's 108 SMs: 128-thread CTAs, 16 resident, 1,728 rows in flight: x 64 KiB =
    113 MB at 32,768 columns miss a100-like's 40 MiB (41,943,040 B); x 16 KiB = 28,311,552 B at
    8,192 leave 13,631,488 B, 7,888 B a row: 3,944 fp16 outputs, so columns 0 to 3,944 hit."""
    kernels = KernelsSpec()
    softmax = op("softmax", 8, 16384)
    kernel = row_kernel(softmax)
    rows = 256 * 1024
    assert reread_hits(kernel, softmax, kernels, SHARED, 4, 2 * rows) == (16384, 16384)
    assert reread_hits(kernel, softmax, kernels, SHARED, 4, rows + 100) == (16384, 7)
    assert reread_hits(kernel, softmax, kernels, SHARED, 4, rows) == (16384, 1)
    assert reread_hits(kernel, softmax, kernels, SHARED, 4, rows - 1) == (0, 0)
    a100 = 192 * 1024
    for cols, hits in ((8192, (3945,)), (32768, (0,))):
        norm = op("layernorm", 4096, cols)
        assert reread_hits(row_kernel(norm), norm, kernels, a100, 108, 40 * 2**20) == hits
    once = op("softmax", 64, 512)  # a warp's row: read once, nothing to re-read
    assert reread_hits(row_kernel(once), once, kernels, a100, 108, 0) == ()


def _lru_rereads(rows: int, cols: int, passes: int, size: int, capacity: int) -> tuple[int, ...]:
    """Columns of each pass after the first whose re-reads hit an LRU of `capacity` bytes, traced
    value by value: `rows` rows of `size`-byte values in step, each pass reading column c of
    every row and the last pass then writing it."""
    lru: OrderedDict = OrderedDict()

    def touch(key) -> bool:
        hit = key in lru
        lru[key] = size
        lru.move_to_end(key)
        while sum(lru.values()) > capacity:
            lru.popitem(last=False)
        return hit

    hits = []
    for p in range(passes):
        columns = 0
        for c in range(cols):
            read = [touch(("X", r, c)) for r in range(rows)]
            assert len(set(read)) == 1  # the rows in step hit or miss together
            columns += read[0]
            for r in range(rows if p == passes - 1 else 0):
                touch(("Y", r, c))
        hits.append(columns)
    return tuple(hits[1:])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 48),
    st.integers(1, 4),
    st.sampled_from(["int8", "fp16", "fp32"]),
    st.floats(0, 2.5),
)
def test_reread_hits_are_an_lru_traced_value_by_value(rows, cols, passes, dtype, fill):
    """For any rows in flight, width, passes, value size and L2 capacity (`fill` x the rows in
    flight), `reread_hits` gives the columns that an LRU traced value by value hits."""
    norm = VectorOpSpec(kind="layernorm", name="v", rows=rows, cols=cols, dtype=dtype)
    kernel = dataclasses.replace(row_kernel(norm), passes=passes)
    size = {"int8": 1, "fp16": 2, "fp32": 4}[dtype]
    capacity = int(fill * rows * cols * size)
    hits = reread_hits(kernel, norm, KernelsSpec(), SHARED, 64, capacity)
    assert hits == _lru_rereads(rows, cols, passes, size, capacity)


def test_partial_rereads_reach_dram_by_hand():
    """Softmax 8 x 16,384 fp16 on 4 cores (all 8 rows, 256 KiB, in flight) with a 384 KiB L2:
    the sum pass re-reads every value after the 256 KiB of rows, so it hits; the normalising
    pass's column c also follows 8 x 2c bytes of outputs, which the spare 128 KiB (16 KiB a
    row, 8,192 fp16 outputs) holds for c up to 8,192: 8,193 columns hit, 8,191 miss. The L2
    serves 8 x (32 KiB + 8,193 x 2 B); DRAM the first read and 8 x 8,191 x 2 B again."""
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["l2"] = {"kind": "sram", "capacity": "384 KiB", "banks": 16, "width": "64 B"}
    report = simulator.simulate(load_arch(doc), _softmax(8, 16384), numerics=True)
    assert report.summary["numerics_ok"]
    row = 16384 * 2
    assert report.record.l2_bytes["hit"] == 8 * (row + 8193 * 2)
    assert report.record.l2_bytes["miss"] == 8 * (row + 8191 * 2)
    assert sum(o["load"] for o in report.record.op_dram.values()) == 8 * (row + 8191 * 2)


def test_wide_row_rereads_miss_an_l2_too_small_for_the_rows_in_flight():
    """The 8 rows of 16,384 with a 128 KiB L2 (256 KiB in flight): every pass reads DRAM, so all
    3 reads of each row miss and the run loads 3 x its input, as without an L2."""
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["l2"] = {"kind": "sram", "capacity": "128 KiB", "banks": 16, "width": "64 B"}
    report = simulator.simulate(load_arch(doc), _softmax(8, 16384), numerics=True)
    assert report.summary["numerics_ok"]
    row = 16384 * 2
    assert report.record.l2_bytes["miss"] == 3 * 8 * row
    assert report.record.l2_bytes["hit"] == 0
    assert sum(o["load"] for o in report.record.op_dram.values()) == 3 * 8 * row


def test_narrow_softmax_ctas_in_waves():
    """40 softmax rows of 64 values: CTAs of 8 rows, 5 CTAs over 4 cores, so core 0 runs two
    (16 rows) and cores 1-3 one each: DRAM loads of 16 and 8 rows of 64 fp16 values."""
    report = simulator.simulate(load_arch(gpu_doc()), _softmax(40, 64))
    loads = {name: dram["load"] for name, dram in report.record.op_dram.items()}
    assert loads == {"s@c0": 16 * 128, "s@c1": 8 * 128, "s@c2": 8 * 128, "s@c3": 8 * 128}


LATENCY = LoadLatencySpec(dram=290, l2=200, shared=23)


def test_softmax_cta_size_by_hand():
    """SoftMax_getBlockSize: half of cols / ILP (8 fp16 or 4 fp32 values in 16 bytes) capped at
    1024, up to a power of two, at least a warp."""
    assert softmax_threads(4096, "fp16") == 256  # 512 / 2
    assert softmax_threads(32768, "fp16") == 512  # min(4096, 1024) / 2
    assert softmax_threads(2048, "fp16") == 128
    assert softmax_threads(4096, "fp32") == 512  # 1024 / 2
    assert softmax_threads(1500, "fp16") == 128  # 187 / 2 = 93 -> 128
    assert softmax_threads(100, "fp16") == 32  # 6 -> 8 -> one warp


def test_reduction_steps_by_hand():
    """A warp's shuffle tree is 5 steps; 8 warps add two barriers and a 3-step tree."""
    assert reduction_steps(32) == 5
    assert reduction_steps(256) == 5 + 2 + 3
    assert reduction_steps(128) == 5 + 2 + 2


def test_row_critical_path_by_hand():
    """Cycles one CTA's row takes on A100's latencies (DRAM 290, L2 200, shared 23):
    softmax 4096 fp16: 256 threads x 8 values, 2 loads a pass, passes 2 and 3 re-read from L2:
    2 x (290 + 2 x 200) + 2 reductions x 10 steps x 23 = 1,840. Softmax 16,384: 512 threads, 4
    loads a pass: 4 x (290 + 2 x 200) + 2 x 11 x 23 = 3,266. LayerNorm 16,384: 128 threads x 4
    values, 32 loads, 2 passes from DRAM then L2: 32 x (290 + 200) + 9 x 23 = 15,887; LayerNorm
    4,096: 8 x 490 + 207 = 4,127. A warp's softmax row of 1,024: one load each (32 values a lane
    at once), two warp reductions: 290 + 2 x 5 x 23 = 520."""
    cases = {("softmax", 4096): 1840, ("softmax", 16384): 3266, ("layernorm", 16384): 15887}
    cases |= {("layernorm", 4096): 4127, ("softmax", 1024): 520}
    for (kind, cols), cycles in cases.items():
        kernel = row_kernel(op(kind, 64, cols))
        assert row_cycles(kernel, cols, LATENCY) == cycles, (kind, cols)


def test_row_critical_path_when_rereads_miss_l2_by_hand():
    """Re-reads that miss L2 wait DRAM's latency: LayerNorm 16,384 is 32 x (290 + 290) + 9 x 23
    = 18,767 cycles; with its first 8,192 columns from L2 (16 of the 32 loads of 512 columns),
    32 x 290 + 16 x 290 + 16 x 200 + 207 = 17,327; a row read once (a warp's softmax row of
    1,024) does not change: 520."""
    norm = row_kernel(op("layernorm", 64, 16384))
    assert row_cycles(norm, 16384, LATENCY, hits=(0,)) == 18767
    assert row_cycles(norm, 16384, LATENCY, hits=(8192,)) == 17327
    once = row_kernel(op("softmax", 64, 1024))
    assert row_cycles(once, 1024, LATENCY, hits=()) == 520


def test_loads_to_the_other_die_by_hand():
    """A two-die chip's far L2 half costs `other_die` more a load, and a pass waits for its
    slowest thread, half of whose loads (rounded up) cross: LayerNorm 4,096 (8 loads a pass, 128
    threads x 4 values) with 300 cycles a crossing waits 8 x 290 + 4 x 300 = 3,520 in its DRAM
    pass and 8 x 200 + 4 x 300 = 2,800 in its L2 pass; a warp's softmax row of 1,024, one load,
    290 + 300 = 590; none without `other_die`."""
    far = LoadLatencySpec(dram=290, l2=200, shared=23, other_die=300)
    assert [far.crossings(n) for n in (0, 1, 2, 7, 8)] == [0, 300, 300, 1200, 1200]
    assert pass_waits(row_kernel(op("layernorm", 64, 4096)), 4096, far) == [3520, 2800]
    assert pass_waits(row_kernel(op("softmax", 64, 1024)), 1024, far) == [590]
    assert pass_waits(row_kernel(op("layernorm", 64, 4096)), 4096, LATENCY) == [2320, 1600]


def test_other_die_is_a_count_of_cycles():
    """A negative `other_die` is a one-line error naming its key path."""
    doc = copy.deepcopy(gpu_doc(cores=1))
    doc["cores"]["kernels"]["latency"] = {"dram": 290, "l2": 200, "shared": 23, "other_die": -1}
    with pytest.raises(SpecError) as error:
        load_arch(doc)
    message = str(error.value)
    assert "cores.kernels.latency.other_die" in message and "\n" not in message


def test_occupancy_and_latency_floor_by_hand():
    """256-thread softmax CTAs: 2,048 / 256 = 8 resident (1 KB of shared memory each is no
    limit); 38 rows take ceil(38 / 8) = 5 rounds of 1,840 cycles. Warp softmax CTAs of 128
    threads: 16 resident. With 40 KB of shared memory, 40 of those 1 KB CTAs fit but the thread
    limit still binds; with 4 KB, 4 do."""
    kernels = KernelsSpec(latency=LATENCY)
    softmax = row_kernel(op("softmax", 38, 4096))
    assert resident_ctas(softmax, kernels, SHARED) == 8
    assert resident_ctas(softmax, kernels, 4 * 1024) == 4
    assert resident_ctas(row_kernel(op("softmax", 64, 512)), kernels, SHARED) == 16
    assert latency_floor(softmax, op("softmax", 38, 4096), kernels, SHARED) == 5 * 1840
    assert latency_floor(softmax, op("softmax", 38, 4096), KernelsSpec(), SHARED) == 0


def _bound_run(rows, latency=None):
    """Softmax over `rows` x 4,096 fp16 on the tiny GPU's one core, with these load latencies."""
    doc = copy.deepcopy(gpu_doc(cores=1))
    if latency:
        doc["cores"]["kernels"]["latency"] = dict(zip(("dram", "l2", "shared"), latency))
    return simulator.simulate(load_arch(doc), _softmax(rows, 4096))


ROW_CYCLES = 4096 // 16 * (11 + 15 + 2 + 4 * 2 + 4 * 1) + 512 // 16 * (8 + 6)
"""One softmax row of 4,096 on the tiny GPU's 16 lanes (no SFUs): cunn_SoftMaxForward's 28 lane
instructions an element (11 add-, 15 mul-, 2 compare-class) and its 2 ex2 and 1 reciprocal at 4
lane cycles each, and its loops' 512 iterations of 8 values, 14 instructions each (8 add-, 6
compare-class): 10,688 cycles."""

PASS_CYCLES = (608, 3360, 6656)
"""That row's three passes on those lanes: 4,096 widenings and maxes and 512 x 3 loop
instructions, 608 cycles; 4 add-, 5 mul-class and an ex2 an element and 512 x 3, 3,360; 6 add-,
10 mul-, 1 compare-class, an ex2 and a reciprocal an element and 512 x 8, 6,656."""


def test_one_row_takes_the_longer_of_its_loads_and_critical_path():
    """One softmax row of 4,096 fp16 on one core of a chip without L2: its 3 passes read 3 x
    8,192 B over the core's 64 B/cycle link in 384 cycles, the vector unit works its
    `ROW_CYCLES` and the 8,192 B go out in 128; its passes one after another (`PASS_CYCLES`,
    each over its 128 cycles of loads) take 10,624, under 384 + 10,688. With DRAM 3,000, L2
    2,000 and shared 100 cycles, every pass waits DRAM (no L2 to re-read from), 2 loads a
    thread: 6,000 cycles a pass, which the third pass's 6,656 of instructions outlast, and 2 x 10
    x 100 for the reductions: 6,000 + 6,000 + 6,656 + 2,000 = 20,656 cycles from the loads'
    start, which already holds the loads' own time: the store follows, the run takes 20,784 ns,
    the unit stalls 20,656 - 384 - 10,688 cycles on load latency and stays busy its 10,688: the
    op is latency-bound."""
    plain = _bound_run(1)
    assert plain.summary["seconds"] == pytest.approx((384 + ROW_CYCLES + 128) / 1e9)
    bound = _bound_run(1, (3000, 2000, 100))
    assert bound.summary["numerics_ok"]
    floor = 6000 + 6000 + PASS_CYCLES[2] + 2000
    assert bound.summary["seconds"] == pytest.approx((floor + 128) / 1e9)
    assert bound.record.busy["core0.alu"] == ROW_CYCLES
    assert bound.record.unit_stalls["core0.alu"]["load_latency"] == floor - 384 - ROW_CYCLES
    assert bound.summary["ops"][0]["bound"] == "latency"


def test_a_critical_path_shorter_than_load_and_compute_costs_nothing():
    """DRAM 400 and shared 1 cycle: each pass waits 2 x 400 cycles, under its instructions but
    the first's: 800 + 3,360 + 6,656 + 20 = 10,836 cycles, under the row's 384 + 10,688 of loads
    and compute, so the run takes its 11,200 ns as without a bound."""
    bound = _bound_run(1, (400, 2000, 1))
    assert bound.summary["seconds"] == pytest.approx((384 + ROW_CYCLES + 128) / 1e9)
    assert bound.record.unit_stalls["core0.alu"].get("load_latency", 0) == 0


def test_the_bound_paces_the_op_steps_from_its_first_load():
    """8 rows, 4 a step (a row's 8 KB in and 8 KB out, double-buffered, fill the 64 KB input and
    64 KB output buffers; a round of 8 resident CTAs would take 8), DRAM 30,000, shared 100, no
    L2: 2 x (3 x 30,000) + 2,000 = 182,000 cycles a row, 8 resident CTAs of 256 threads, one
    round (each pass's 60,000 cycles of waits outlast its instructions over the 8 rows, at most
    8 x 6,656). The 2 steps end no sooner than 91,000 and 182,000 cycles after the first loads
    began (each step's 3 x 32 KB of loads and 4 x 10,688 cycles of arithmetic fit under its
    share; the
    second step's loads hide under the first's wait), so the run ends with the last 32 KB store
    at 64 B a cycle: 182,000 + 512 cycles."""
    bound = _bound_run(8, (30000, 2000, 100))
    assert bound.summary["seconds"] == pytest.approx((182000 + 512) / 1e9)
    assert bound.record.busy["core0.alu"] == 8 * ROW_CYCLES


def test_a_forced_miss_refills_the_rows_own_l2_line():
    """A re-read past the rows in flight misses the L2 and refills X's own line (review finding:
    it used a line of its own, `X#2`, so a row sat in the LRU up to 3 times). On the tiny GPU
    with a 96 KiB L2, three 32 KiB rows fill it; re-reading row 0 as a forced miss goes to DRAM,
    keeps one line for it (96 KiB in use) and makes it the newest, so a fourth row evicts row 1."""
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["l2"] = {"kind": "sram", "capacity": "96 KiB", "banks": 16, "width": "64 B"}
    machine = build_machine(load_arch(doc))
    engine = _Engine((), machine, False, {}, Entry())
    row = 16384 * 2

    def load(*rows, miss=False):  # as `_dram` hands loads to the L2: (key, buffer, transfer)
        return [
            (None, t.buffer, t)
            for r in rows
            for t in [Transfer("load", "s.X", ((r, r + 1), (0, 16384)), "smem", row, 0, miss=miss)]
        ]

    engine._cache("s", load(0, 1, 2), "read")
    hits, misses = engine._cache("s", load(0) + load(0, miss=True), "read")
    assert (len(hits.rows), len(misses.rows), hits.total, misses.total) == (1, 1, row, row)
    assert engine.l2_used == 3 * row
    engine._cache("s", load(3), "read")
    assert [key[1] for key in engine.l2_lines] == [2, 0, 3]  # line_key: (tensor, row, ...)
    assert engine.record.l2_bytes == {"hit": row, "miss": 5 * row}


def test_forced_misses_share_the_rows_tensor_key():
    """`streamed_step` re-reads X under X's own key: the bytes that miss flagged as misses, one
    load for the hits and one for the misses where a re-read has both."""
    region = ((0, 8), (0, 16384))
    compute = Compute("alu", 1, (), 0, (), {})
    step = streamed_step("s", region, "smem", "smem", 8, 8, compute, (0, 8, 3))
    loads = [(t.tensor, t.dram_bytes, t.miss) for t in step.loads if t.kind == "load"]
    assert loads == [("s.X", 8, False), ("s.X", 8, False), ("s.X", 8, True)] + [
        ("s.X", 5, False),
        ("s.X", 3, True),
    ]


def test_softmax_instructions_by_hand():
    """PyTorch 2.0's softmax kernels as CUDA 11.8 compiles them for sm_80: expf is 6 lane
    instructions and an ex2 (4 FFMA-class, FADD and the exponent shift), its scaling a multiply;
    an IEEE division 5 FFMAs, FCHK and a reciprocal. The warp kernel per fp16 element: widen,
    max, subtract, expf, scale, add, divide, narrow = 1 + 1 + 1 + 6 + 1 + 1 + 6 + 1 = 18 lane
    (6 add-, 10 mul-, 2 compare-class), 2 SFU, no loop. cunn_SoftMaxForward per element: widen +
    max; widen + subtract + expf + scale; widen + subtract + expf + scale + divide + expf's two
    constants again: 2 + 9 + 17 = 28 lane (11 add-, 15 mul-, 2 compare-class), 3 SFU; per
    iteration of 8 values its loops add an address, an increment and a compare each (3 x 3), and
    the last a store address and 4 packing narrowings: 14. An fp32 tensor is not widened or
    narrowed: 3 and 1 + 4 fewer (an iteration is 4 values)."""
    warp = softmax_passes(True, "fp16", 32)
    assert [dict(e) for e, _ in warp] == [{"add": 6, "mul": 10, "max": 2, "exp": 1, "div": 1}]
    assert [loop for _, loop in warp] == [()]
    passes = softmax_passes(False, "fp16", 8)
    assert [dict(e) for e, _ in passes] == [
        {"add": 1, "max": 1},
        {"add": 4, "mul": 5, "exp": 1},
        {"add": 6, "mul": 10, "max": 1, "exp": 1, "div": 1},
    ]
    assert [dict(loop) for _, loop in passes] == [{"add": 1, "max": 2}] * 2 + [{"add": 6, "max": 2}]
    fp32 = softmax_passes(False, "fp32", 4)
    assert sum(n for e, _ in fp32 for _, n in e) == 28 + 3 - 3
    assert sum(n for _, loop in fp32 for _, n in loop) == 14 - 4
    kernel = row_kernel(op("softmax", 8, 4096))
    assert kernel.pass_work == passes
    assert kernel.work(2, 4096) == {
        "add": 2 * (11 * 4096 + 8 * 512),
        "mul": 2 * 15 * 4096,
        "max": 2 * (2 * 4096 + 6 * 512),
        "exp": 2 * 2 * 4096,
        "div": 2 * 4096,
    }
    assert row_kernel(op("softmax", 8, 512)).pass_work == warp
    assert row_kernel(op("layernorm", 8, 4096)).pass_work == ()


def test_a_row_kernel_computes_its_instructions_a_round_a_step():
    """A100-like (64 fp32 FMA-pipe results an SM, max on the ALU pipe beside it at 64, 16 SFUs):
    a softmax row of 4,096 fp16 values is (26 x 4,096 + 8 x 512) / 64 = 1,728 FMA-pipe cycles
    (its 11 add- and 15 mul-class an element, 8 a loop iteration; its compare-class 176 on the
    ALU pipe) against 4096 x 3 / 16 = 768 SFU cycles; 4 rows of 512 (a warp CTA) are 4 x 512 x
    16 / 64 = 512 FMA-pipe cycles (6 add-, 10 mul-class) against 4 x 512 x 2 / 64 = 64 ALU and 4
    x 512 x 2 / 16 = 256 SFU ones. A step takes at most `step_rows` (one row, then 4): 3 rows in
    3 steps of 1,728 cycles, the 8 in 2 of 512. On
    a100-like a round of resident CTAs is a step: 8 CTAs of 256 threads (2,048 a SM) for rows of
    4,096, 16 warp CTAs of 4 rows for rows of 512."""
    machine = build_machine(simulator.load_arch("a100-like"))
    mapping = simulator.load_mapping(None)
    for rows, cols, step_rows, steps, cycles in ((3, 4096, 1, 3, 1728), (8, 512, 4, 2, 512)):
        softmax = op("softmax", rows, cols)
        kernel = row_kernel(softmax)
        program = compile_vector_op(
            softmax,
            mapping,
            machine.view(0),
            None,
            "v",
            0,
            0,
            "",
            (cols,) * (kernel.passes - 1),
            0,
            kernel,
            step_rows,
        )
        computes = [c.cycles for step in program.steps() for c in step.computes]
        assert computes == [cycles] * steps
    for rows, cols, per_step in ((8 * 108 * 3, 4096, 8), (64 * 108 * 2, 512, 64)):
        workload = simulator.load_workload(_softmax(rows, cols))
        program, _ = compile_program(workload, mapping, machine, False, 0)
        assert program.ops[0].details["rows_per_step"] == per_step


def test_a_round_runs_its_passes_one_after_another_by_hand():
    """A100-like, 108 SMs busy: an SM's share is 2,039 GB/s x 0.8 / 1.41 GHz / 108 = 10.7 B of
    DRAM and 5,120 / 108 = 47.4 B of L2 a cycle. A round of 8 softmax rows of 4,096 fp16 (64 KiB):
    the max pass reads DRAM, 6,119 cycles, over its 640 ALU-pipe ones and 2 x 290 of latency; the
    sum pass's instructions, 4,672 FMA-pipe cycles ((4 x 32,768 + 4,096) / 64 add- and 5 x
    32,768 / 64 mul-class), outlast its L2 re-read (1,383) and its SFU's 2,048; the normalising
    pass's 8,576 ((6 x 32,768 + 6 x 4,096 + 10 x 32,768) / 64) outlast its re-read and its 6,119
    cycles of writes; two 10-step reductions at 23 add 460. 38 rows are 4 such rounds and one
    of 6 rows, whose writes the engine times after it."""
    machine = build_machine(simulator.load_arch("a100-like"))
    softmax = op("softmax", 38, 4096)
    kernel = row_kernel(softmax)
    rates = core_rates(machine, 0, softmax, 108)
    share = 2039e9 * 0.8 / 1.41e9 / 108
    assert rates.dram == pytest.approx(share)
    assert rates.l2 == pytest.approx(5120 / 108)
    dram = math.ceil(8 * 8192 / share)
    assert dram == 6119
    full = dram + 4672 + 8576 + 460
    assert round_cycles(kernel, 8, softmax, LATENCY, rates) == full
    six = 6 * 4096
    last = (
        math.ceil(6 * 8192 / share)
        + 2 * ((4 * six + 6 * 512) // 128)
        + 2 * (5 * six // 128)
        + 2 * ((6 * six + 6 * 6 * 512 + 10 * six) // 128)
        + 460
    )
    kernels = KernelsSpec(latency=LATENCY)
    assert latency_floor(kernel, softmax, kernels, SHARED, None, rates) == 4 * full + last
    assert latency_floor(kernel, softmax, kernels, SHARED) == 5 * 1840  # latencies alone


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["softmax", "layernorm", "rmsnorm"]),
    st.integers(1, 300),
    st.integers(1, 20000),
    st.integers(0, 20000),
)
def test_rounds_in_step_hold_the_latency_bound_and_every_pass(kind, rows, cols, hit):
    """On a100-like, for any row reduction and any columns of its re-reads that hit L2: the
    passes' instructions add up to the kernel's, and the floor of rounds in step is at least the
    latency-only floor and the time its first passes' DRAM reads take at the core's share of
    DRAM."""
    machine = build_machine(simulator.load_arch("a100-like"))
    reduction = op(kind, rows, cols)
    kernel = row_kernel(reduction)
    if kernel.pass_work:
        passes = [kernel.work(rows, cols, range(p, p + 1)) for p in range(kernel.passes)]
        total: dict[str, int] = {}
        for work in passes:
            for prim, n in work.items():
                total[prim] = total.get(prim, 0) + n
        assert total == kernel.work(rows, cols)
    kernels = KernelsSpec(latency=LATENCY)
    rates = core_rates(machine, 0, reduction, 108)
    hits = (min(cols, hit),) * (kernel.passes - 1)
    floor = latency_floor(kernel, reduction, kernels, SHARED, hits, rates)
    assert floor >= latency_floor(kernel, reduction, kernels, SHARED, hits)
    first_reads = rows * cols * 2 / rates.dram
    assert floor >= math.floor(first_reads)
