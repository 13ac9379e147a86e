"""Unfused attention as GEMM-tiled kernels: traffic by hand, numerics against numpy on random
shapes and tilings, GPU-like parts whose step classes and resumes hold, and PyTorch's batched
grids (partition cta): numerics, traffic, the deal and core classes."""

from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.engine.coalesce import shape
from simulator.errors import CapacityError
from simulator.mapping import compile_program, unfused_grid
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_classes import _check_equal, _unqueued
from tests.mapping.test_attention import arch, attention
from tests.mapping.test_cta import gpu


def test_keys_longer_than_the_buffers_hold_run_with_compulsory_traffic():
    # 4096 keys x d=32 bf16 is 256 KiB: K alone overflows 128 KiB, yet each kernel tiles over the
    # keys. Tiles 64x128x32 (loop order M, N, K) and one block of 64 query rows: Q, K, V and O
    # move once, S = 64*4096 bf16 is written and read once, P likewise.
    mapping = {
        "attention": {"algorithm": "unfused"},
        "tile": {"M": 64, "N": 128, "K": 32},
        "loop_order": ["M", "N", "K"],
    }
    workload = attention(heads=1, q_len=64, kv_len=4096, d=32)
    report = simulator.simulate(arch(capacity="128 KiB"), workload, mapping, numerics=False)
    q = o = 64 * 32 * 2
    k = v = 4096 * 32 * 2
    s = p = 64 * 4096 * 2
    assert report.summary["dram_bytes"] == q + k + v + o + 2 * s + 2 * p


def test_a_softmax_block_that_cannot_fit_is_a_one_line_error():
    # 64 rows of 4096 keys: S in fp32 and P in bf16, double-buffered, 64*4096*(4+2)*2 B
    mapping = {"attention": {"algorithm": "unfused", "block_q": 64}}
    with pytest.raises(CapacityError) as error:
        simulator.simulate(arch(capacity="64 KiB"), attention(kv_len=4096), mapping)
    assert str(error.value) == (
        "<mapping dict>: attention: the softmax kernel of attn needs 3,145,728 B in buf for 64 "
        "query rows of 4096 keys, more than the buffers hold"
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([(1, 1), (2, 2), (4, 2), (4, 1)]),
    st.integers(1, 40),
    st.integers(0, 40),
    st.sampled_from([8, 16, 32]),
    st.booleans(),
    st.sampled_from(["fp32", "fp16", "bf16"]),
    st.tuples(st.integers(1, 48), st.integers(1, 48), st.integers(1, 48)),
    st.integers(1, 16),
)
def test_unfused_numerics_match_numpy_within_the_precision_bound(
    heads, q_len, extra, d, causal, dtype, tile, rows
):
    """Property: any shape, GEMM tiling (partial edge tiles, K chunks accumulated) and softmax
    block gives every query each visible key once and O within the error bound of the float64
    numpy reference."""
    workload = attention(heads[0], heads[1], q_len, q_len + extra, d, causal, dtype)
    mapping = {
        "attention": {"algorithm": "unfused", "block_q": rows},
        "tile": dict(zip("MNK", tile)),
        "edge_tiles": "partial",
    }
    report = simulator.simulate(arch(), workload, mapping, numerics=True)
    result = report.numerics["attn"]
    assert result.coverage_ok, result.message
    assert result.max_abs_error <= result.error_bound


def test_gpu_parts_launch_each_kernel_and_their_classes_hold():
    """On h100-like each core's part runs three kernels: the part's launch, then one launch step
    before softmax and before P V, each after the kernel before it is done; steps of one class
    have one shape and resuming anywhere gives the rest of the stream."""
    machine = build_machine(load_arch("h100-like"))
    workload = load_workload(
        "attention:batch=2,heads=2,q_len=264,kv_len=300,head_dim=64,dtype=bf16,causal=true"
    )
    mapping = load_mapping(
        {"name": "u", "attention": {"algorithm": "unfused"}, "partition": {"attention": "sequence"}}
    )
    program, _ = compile_program(workload, mapping, machine, False, 0)
    for op in program.ops[:3]:
        launched = list(op.steps())
        launches = [s for s in launched if not s.loads and not s.stores]
        assert len(launches) == 3  # the part's, softmax's and P V's
        raised = set()
        for step in launched:  # every barrier waits for signals raised earlier in the stream
            assert set(step.waits) <= raised
            raised |= set(step.signals)
        assert len(raised) == 5  # 3 launches, and kernels 1 and 2 done
        steps = list(op.resume(0))  # the part's own stream, which its launch precedes
        assert len(steps) == len(launched) - 1
        classes = op.classes(0)
        assert len(classes) == len(steps)
        by_class = {}
        for cls, step in zip(classes.tolist(), steps):
            assert by_class.setdefault(cls, shape(step)) == shape(step)
        for at in {0, 1, len(steps) // 3, len(steps) // 2, len(steps) - 1}:
            assert list(op.resume(at)) == steps[at:]


GRID = {"name": "g", "attention": {"algorithm": "unfused"}, "partition": {"attention": "cta"}}


def grid_work(batch, heads, kv_heads, q_len, kv_len, d, causal=False, dtype="bf16"):
    op = {"kind": "attention", "name": "attn", "batch": batch, "heads": heads}
    op |= {"kv_heads": kv_heads, "q_len": q_len, "kv_len": kv_len, "head_dim": d}
    return {"name": "a", "ops": [op | {"causal": causal, "dtype": dtype}]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 3),
    st.sampled_from([(1, 1), (2, 2), (4, 2), (4, 1)]),
    st.integers(1, 90),
    st.integers(0, 40),
    st.sampled_from([8, 16, 32]),
    st.booleans(),
    st.sampled_from(["fp16", "bf16"]),
    st.sampled_from([((64, 64),), ((32, 16),), ((16, 48), (64, 32))]),
    st.integers(1, 6),
)
def test_grid_numerics_match_numpy_within_the_precision_bound(
    batch, heads, q_len, extra, d, causal, dtype, tiles, cores
):
    """Property: PyTorch's batched grids (any batch, heads, GQA group, CTA tiles with edges, cores
    and a last partial wave) give every query each visible key once and O within the error bound
    of the float64 numpy reference, S and P passing through DRAM between the kernels."""
    work = grid_work(batch, *heads, q_len, q_len + extra, d, causal, dtype)
    report = simulator.simulate(gpu(cores, tiles=tiles), work, GRID, numerics=True)
    result = report.numerics["attn"]
    assert result.coverage_ok, result.message
    assert result.max_abs_error <= result.error_bound


def test_grid_moves_each_tensor_once_where_every_head_is_one_tile():
    # 2 x 2 heads of 40 queries and keys, d = 16, bf16, 64 x 64 tiles: one S CTA and one P V CTA
    # per head, so Q, K, V and O move once, S is written and read once, P likewise
    report = simulator.simulate(gpu(), grid_work(2, 2, 2, 40, 40, 16), GRID, numerics=False)
    q = k = v = o = 2 * 2 * 40 * 16 * 2
    s = p = 2 * 2 * 40 * 40 * 2
    assert report.summary["dram_bytes"] == q + k + v + o + 2 * s + 2 * p
    assert report.ops.map_ctas.sum() == 2 * 2 * 2


def test_grid_deals_every_head_s_tiles_and_waits_for_each_kernel_on_every_core():
    """1 x 2 heads of 96 queries and keys, d 16, 64 x 64 tiles over 4 cores: S has 2 x 2 x 2 = 8
    CTAs and P V 2 x 2 = 4, dealt round-robin; each core's softmax and P V start with a launch
    step that waits for every working core's last step of the kernel before."""
    machine = build_machine(gpu(tiles=((64, 64),)))
    workload = load_workload(grid_work(1, 2, 2, 96, 96, 16))
    program, _ = compile_program(workload, load_mapping(GRID), machine, False, 0)
    assert sum(op.details["ctas"] for op in program.ops) == 8 + 4
    raised = {s for op in program.ops for step in op.steps() for s in step.signals}
    for op in program.ops:
        steps = list(op.steps())
        launches = [s for s in steps if s.waits and not s.loads]
        assert [len(s.waits) for s in launches] == [4, 4]  # all 4 cores have work in each kernel
        assert all(set(s.waits) <= raised for s in steps)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2), st.integers(16, 80), st.integers(2, 8))
def test_grid_classes_equal_per_core_where_the_pools_never_queue(batch, length, cores):
    """The grid's cores with equal work shapes form core classes; where DRAM never queues, the
    class run equals the per-core run (cycles, counters, spans, every SM's computes)."""
    work = load_workload(grid_work(batch, 2, 2, length, length, 32))
    _check_equal(_unqueued(cores, l2=False), work, GRID)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 2),
    st.sampled_from([(1, 1), (2, 2), (4, 2)]),
    st.integers(1, 90),
    st.integers(0, 40),
    st.sampled_from([8, 16, 32]),
    st.booleans(),
    st.sampled_from([((64, 64),), ((32, 16),), ((16, 48), (64, 32))]),
    st.integers(1, 6),
)
def test_grid_ctas_compiled_once_and_moved_equal_each_core_compiling_its_own(
    batch, heads, q_len, extra, d, causal, tiles, cores
):
    """Property: a CTA shape compiled on its first core and moved to the others gives every core
    the steps, and the run the results, of each core compiling its own CTAs."""
    arch = gpu(cores, tiles=tiles)
    work = grid_work(batch, *heads, q_len, q_len + extra, d, causal)

    def own(self, gemm, index, core, view, rows, cols):  # every core walks its own tile nest
        return list(self._compiled(gemm, core, view, rows, cols).steps())

    def run():
        machine = build_machine(arch)
        program, _ = compile_program(load_workload(work), load_mapping(GRID), machine, False, 0)
        report = simulator.simulate(arch, work, GRID, numerics=False)
        return [list(op.steps()) for op in program.ops], report.summary, report.energy

    steps, summary, energy = run()
    with mock.patch.object(unfused_grid._Grid, "_tile", own):
        own_steps, own_summary, own_energy = run()
    assert steps == own_steps
    assert summary == own_summary
    assert energy.equals(own_energy)
