"""Row reductions as GPU kernels (chips with `cores.kernels`): rows per CTA, the reads of each
row and the CTA waves, checked by hand on a tiny GPU-like chip."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.mapping.vector_ops import cta_rows, kernel_rows
from simulator.spec import load_arch
from simulator.spec.workload import VectorOpSpec
from tests.mapping.test_cta import gpu_doc

SHARED = 64 * 1024  # the tiny GPU's shared memory per SM


def op(kind, rows, cols):
    return VectorOpSpec(kind=kind, name="v", rows=rows, cols=cols, dtype="fp16")


def test_rows_per_cta_and_reads_by_hand():
    """Softmax rows of <= 128 go two to a warp, four warps a CTA (8 rows), <= 1024 a warp each (4
    rows); wider ones a CTA each, one read while the fp32 row fits 48 KB (12,288 values), else
    3 reads (max, sum, normalise); LayerNorm 2 reads (statistics, normalise) past 48 KB."""
    assert kernel_rows(op("softmax", 64, 32), SHARED) == (8, 1)
    assert kernel_rows(op("softmax", 64, 1024), SHARED) == (4, 1)
    assert kernel_rows(op("softmax", 64, 12288), SHARED) == (1, 1)
    assert kernel_rows(op("softmax", 64, 12289), SHARED) == (1, 3)
    assert kernel_rows(op("layernorm", 64, 32), SHARED) == (1, 1)
    assert kernel_rows(op("layernorm", 64, 16384), SHARED) == (1, 2)
    assert kernel_rows(op("layernorm", 64, 8192), 16 * 1024) == (1, 2)  # 32 KB > a 16 KB SM


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


def test_narrow_softmax_ctas_in_waves():
    """40 softmax rows of 64 values: CTAs of 8 rows, 5 CTAs over 4 cores, so core 0 runs two
    (16 rows) and cores 1-3 one each: DRAM loads of 16 and 8 rows of 64 fp16 values."""
    report = simulator.simulate(load_arch(gpu_doc()), _softmax(40, 64))
    loads = {name: dram["load"] for name, dram in report.record.op_dram.items()}
    assert loads == {"s@c0": 16 * 128, "s@c1": 8 * 128, "s@c2": 8 * 128, "s@c3": 8 * 128}
