"""Core classes: SMs of a CTA kernel that run the same step shapes are simulated once. Where the
shared memory pools never queue, the class run equals the per-core run; with contention a
class's members share the pool and finish together."""

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine.memo import execute
from simulator.mapping import compile_program
from simulator.mapping.classes import classed
from simulator.mapping.program import Compute, OpProgram, Program, Step, Transfer
from simulator.report import Report
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_memo import _plain

A100 = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "archs" / "a100-like.yaml").read_text()
)


def _unqueued(cores: int, l2: bool, pairs: bool = False):
    """a100-like cut to `cores` SMs, its DRAM and L2 so fast that a transfer holds them 0 cycles;
    with `pairs`, CTAs may run as 2-SM pairs (`kernels.cta_pairs`) and ports are slow enough
    (9 GB/s) that pairs win on most grids, each pair's two halves of B making two classes."""
    spec = yaml.safe_load(yaml.safe_dump(A100))
    if pairs:
        spec["cores"]["kernels"]["cta_pairs"] = True
        spec["components"]["xbar"]["link_bandwidth"] = "9 GB/s"
    spec["components"]["hbm"]["bandwidth"] = "1e40 B/s"
    if l2:
        spec["components"]["l2"]["banks"] = 2**62
    else:
        del spec["components"]["l2"]
    spec["cores"]["count"] = cores
    spec["components"]["xbar"]["dims"] = [cores + 40]
    spec["components"]["xbar"]["memory_nodes"] = list(range(cores, cores + 40))
    return load_arch(spec)


def _both(arch, workload, mapping=None):
    """(per-core record, class record, program, machine) of one timing-only run each."""
    machine = build_machine(arch)
    program, _ = compile_program(workload, load_mapping(mapping), machine, False, 0)
    per_core = execute(program, machine, trace=True, classes=False)
    again, _ = compile_program(workload, load_mapping(mapping), machine, False, 0)
    return per_core, execute(again, machine, trace=True, classes=True), program, machine


def _energy(record, program, machine, arch, workload) -> float:
    report = Report(arch.name, workload.name, "auto", machine, program, record, None)
    return report.energy["energy_pj"].sum()


@pytest.mark.parametrize("pairs", [False, True])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 24).map(lambda i: 32 * i),
    st.integers(1, 24).map(lambda i: 32 * i),
    st.integers(1, 8).map(lambda i: 64 * i),
    st.integers(2, 16),
)
def test_classes_equal_per_core_where_the_pools_never_queue(pairs, m, n, k, cores):
    """Without an L2 and with DRAM that never queues, every member of a class runs exactly as its
    representative: cycles, every counter (DRAM bytes included), busy, stalls, per-op spans and
    every SM's compute intervals in the trace equal the per-core run's, whatever the grid (edge
    tiles, split-K, a last partial wave, 2-SM CTA pairs)."""
    arch = _unqueued(cores, l2=False, pairs=pairs)
    _check_equal(arch, load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16"))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([1, 1, 3, 64]),
    st.integers(1, 64).map(lambda i: 16 * i),
    st.integers(1, 8).map(lambda i: 64 * i),
    st.integers(2, 16),
    st.sampled_from(["split-n", "split-m", "split-mn"]),
)
def test_block_partitions_classed_equal_per_core(m, n, k, cores, mapping):
    """GEMVs and GEMMs split in blocks (by N as a GEMV kernel's CTAs, by M, or an M x N grid)
    class their equal-shaped blocks' SMs like CTA kernels, and where the pools never queue the
    class run equals the per-core run (blocks of two sizes where the split is uneven)."""
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    program = _check_equal(_unqueued(cores, l2=False), workload, mapping)
    parts = [op for op in program.ops if op.group == workload.ops[0].name]
    shapes = {op.shape_class for op in parts}
    assert None not in shapes
    assert len(classed(program).ops) == len(program.ops) - len(parts) + len(shapes)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 12),
    st.sampled_from([1, 2]),
    st.sampled_from([1, 64, 100]),
    st.integers(2, 4).map(lambda i: 64 * i),
    st.booleans(),
    st.integers(2, 16),
)
def test_attention_grid_classed_equal_per_core(kv_heads, group, q_len, keys, causal, cores):
    """FlashAttention's (head group, query block) CTAs form classes of equal-shaped cores (a
    decode step's one query row per head: every SM alike), equal to the per-core run where the
    pools never queue, causal or not, with a last partial wave."""
    op = {"kind": "attention", "name": "attn", "heads": kv_heads * group, "kv_heads": kv_heads}
    op |= {"q_len": q_len, "kv_len": keys, "head_dim": 64, "causal": causal, "dtype": "fp16"}
    _check_equal(_unqueued(cores, l2=False), load_workload({"name": "a", "ops": [op]}))


def _check_equal(arch, workload, mapping=None):
    """The class and per-core runs' cycles, counters, spans, busy, energy and every SM's compute
    intervals are equal (and the class run takes fewer events where it forms a class)."""
    per_core, classes, program, machine = _both(arch, workload, mapping)
    assert classes.cycles == per_core.cycles
    assert classes.steps == per_core.steps
    for table in ("counts", "op_dram", "op_start", "op_end", "link_bytes", "hop_bytes"):
        assert _plain(getattr(classes, table)) == _plain(getattr(per_core, table)), table
    for table in ("unit_stalls", "op_busy", "op_stalls"):
        assert _plain(getattr(classes, table)) == _plain(getattr(per_core, table)), table
    got, want = _plain(classes.busy), _plain(per_core.busy)
    assert got.keys() == want.keys()
    assert all(math.isclose(got[key], want[key], rel_tol=1e-12) for key in got)
    computes = [sorted(e for e in r.events if e[1] == "compute") for r in (classes, per_core)]
    assert computes[0] == computes[1]  # every SM's timeline, members included
    energy = _energy(classes, program, machine, arch, workload)
    assert math.isclose(energy, _energy(per_core, program, machine, arch, workload), rel_tol=1e-12)
    if len(classed(program).ops) < len(program.ops):
        assert classes.events_processed < per_core.events_processed
    return program


@pytest.mark.parametrize("pairs", [False, True])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 16).map(lambda i: 64 * i),
    st.integers(1, 16).map(lambda i: 64 * i),
    st.integers(2, 16),
)
def test_a_class_hits_its_l2_as_its_members_do(pairs, m, n, cores):
    """With an L2 (that never queues either), a region that several members read at once misses
    once and hits for the others, as per core: the same L2 hit, miss and DRAM bytes, the same
    per-core busy time (2-SM CTA pairs' halves of B too)."""
    arch = _unqueued(cores, l2=True, pairs=pairs)
    workload = load_workload(f"gemm:M={m},N={n},K=256,dtype=fp16")
    per_core, classes, *_ = _both(arch, workload)
    assert _plain(classes.l2_bytes) == _plain(per_core.l2_bytes)
    dram = {k: v for k, v in _plain(per_core.counts).items() if k[1] == "hbm"}
    assert sum(v for k, v in _plain(classes.counts).items() if k[1] == "hbm") == sum(dram.values())
    busy = {k: v for k, v in _plain(per_core.busy).items() if k.startswith("core")}
    assert {k: v for k, v in _plain(classes.busy).items() if k.startswith("core")} == busy


def _loads(cores: int, nbytes: int, shape_class: str | None):
    """One op per core: load `nbytes` of its own region into its shared memory, then one cycle
    of compute."""
    ops = []
    for core in range(cores):
        buffer, unit = f"core{core}.smem", f"core{core}.tc"
        load = Transfer(
            "load", "A", ((core * nbytes, (core + 1) * nbytes),), buffer, nbytes, nbytes
        )
        step = Step((load,), (Compute(unit, 1, (), 0, (), {}),), (), ((buffer, nbytes),))
        ops.append(
            OpProgram(
                f"load@c{core}",
                "gemm",
                lambda step=step: [step],
                0,
                0,
                unit,
                False,
                False,
                core=core,
                group="load",
                shape_class=shape_class,
            )  # fmt: skip
        )
    return Program(tuple(ops))


def test_a_class_shares_the_dram_pool_and_finishes_together():
    """Hand check: m SMs each asking B bytes of a DRAM of W bytes per cycle at once. Per core the
    pool serves them one after another (FIFO): the first has its bytes after B/W, the last after
    m*B/W. As a class they progress together and all have them after m*B/W."""
    m, nbytes = 8, 65536
    spec = yaml.safe_load(yaml.safe_dump(A100))
    del spec["components"]["l2"]
    spec["components"]["xbar"]["link_bandwidth"] = "1e40 B/s"  # the SMs' own NoC ports and
    spec["cores"]["components"]["smem"]["banks"] = 2**62  # shared-memory ports never bind
    arch = load_arch(spec)
    per_byte = 1.41e9 / (2039e9 * 0.8)  # cycles per byte: 1.41 GHz, 2039 GB/s at efficiency 0.8
    alone, together = math.ceil(nbytes * per_byte), math.ceil(m * nbytes * per_byte)
    machine = build_machine(arch)
    per_core = execute(_loads(m, nbytes, None), machine, classes=True)
    ends = [per_core.op_end[f"load@c{core}"] for core in range(m)]
    assert ends == sorted(ends) and ends[0] < ends[-1]  # FIFO: one after another
    latency = ends[0] - alone  # DRAM and NoC latency plus the compute cycle, the same for all
    classes = execute(_loads(m, nbytes, "same"), build_machine(arch), classes=True)
    assert {classes.op_end[f"load@c{core}"] for core in range(m)} == {together + latency}
    assert per_core.busy["hbm"] == m * alone  # busy as long, but for the rounding per transfer
    assert classes.busy["hbm"] == together
    assert classes.events_processed < per_core.events_processed
