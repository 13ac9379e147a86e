"""Memoization: a program cut at quiescent points and each distinct run simulated once gives the
same cycles, bytes, stalls and energy as one engine over the whole program, with fewer events."""

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine.memo import boundaries, execute
from simulator.engine.run import Entry, _Engine, _waits, turn_blind
from simulator.mapping import compile_program
from simulator.report import Report
from simulator.spec import load_arch, load_mapping, load_workload


def _records(arch, workload, numerics=False, mapping=None):
    """(memoized record, whole record, program, machine) of one workload."""
    machine = build_machine(arch)
    mapping = load_mapping(mapping)
    program, states = compile_program(workload, mapping, machine, numerics, 0)
    memo = execute(program, machine, trace=True)
    again, _ = compile_program(workload, mapping, machine, numerics, 0)  # kernels fill new states
    whole = execute(again, machine, trace=True, memoize=False)
    return memo, whole, program, machine, mapping, states


def _plain(table):
    """A counter table without its zero entries, nested tables flattened to plain dicts."""
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v}
        if value:
            out[key] = value
    return out


def assert_same(memo, whole):
    assert memo.cycles == whole.cycles
    assert memo.steps == whole.steps
    for table in ("counts", "op_dram", "op_noc", "op_start", "op_end", "link_bytes", "l2_bytes"):
        assert _plain(getattr(memo, table)) == _plain(getattr(whole, table)), table
    for table in ("unit_stalls", "op_busy", "op_stalls", "hop_bytes"):
        assert _plain(getattr(memo, table)) == _plain(getattr(whole, table)), table
    for table in ("busy", "link_busy"):  # float sums: the same terms, added in another order
        got, want = _plain(getattr(memo, table)), _plain(getattr(whole, table))
        assert got.keys() == want.keys()
        assert all(math.isclose(got[k], want[k], rel_tol=1e-12) for k in got), table
    assert sorted(memo.events) == sorted(whole.events)


def _energy(record, program, machine, arch, workload, mapping):
    report = Report(arch.name, workload.name, mapping.name, machine, program, record, None)
    return report.energy.groupby(["op", "component", "action"])["energy_pj"].sum()


def test_identical_layers_are_simulated_once():
    arch = load_arch("datacenter-hbm")
    workload = load_workload("llama-2-7b-decode", [(["layers"], 4)])
    memo, whole, program, machine, mapping, _ = _records(arch, workload)
    assert_same(memo, whole)
    assert memo.events_processed < 0.4 * whole.events_processed  # about one layer of four
    energy = _energy(memo, program, machine, arch, workload, mapping)
    reference = _energy(whole, program, machine, arch, workload, mapping)
    assert energy.index.equals(reference.index)
    assert (abs(energy - reference) <= 1e-9 * abs(reference)).all()


def test_multicore_runs_match_the_whole_run():
    """Cores resume in an order that depends on timing: a run repeats only when that order does,
    and the result is the whole run's either way."""
    arch = load_arch("mesh-4x4")
    workload = load_workload("llama-2-7b-decode", [(["layers"], 2)])
    memo, whole, *_ = _records(arch, workload)
    assert_same(memo, whole)


def test_memoized_runs_still_compute_their_numbers():
    arch = load_arch("datacenter-hbm")
    workload = _chain(5, {"M": 200, "N": 300, "K": 130, "dtype": "int8"})
    memo, whole, _, _, _, states = _records(arch, workload, numerics=True)
    assert_same(memo, whole)
    assert memo.events_processed < whole.events_processed
    assert all(state.check().ok for state in states.values())


def _chain(n, shape):
    """n identical GEMMs, each reading the one before (its A a slice of that one's C: K at most
    N, spec/shapes.py): a quiescent point before every op."""
    ops = [
        {"name": f"g{i}", "kind": "gemm", **shape, "inputs": [f"g{i - 1}"] if i else []}
        for i in range(n)
    ]
    return load_workload({"name": "chain", "ops": ops})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m=st.integers(1, 96),
    n=st.integers(1, 96),
    k=st.integers(1, 96),
    layers=st.integers(2, 4),
    dataflow=st.sampled_from(["os", "ws", "is"]),
    double_buffering=st.booleans(),
)
def test_coalesced_and_uncoalesced_runs_agree(m, n, k, layers, dataflow, double_buffering):
    """Property: for random GEMM chains and mappings, cycles, bytes, stalls and energy agree."""
    arch = load_arch(
        "edge-npu",
        [(["components", "mac_array", "rows"], 8), (["components", "mac_array", "cols"], 8)],
    )
    assume(k <= n)  # each GEMM's A a slice of the C before it
    workload = _chain(layers, {"M": m, "N": n, "K": k, "dtype": "int8"})
    mapping = {
        "name": "p",
        "dataflow": dataflow,
        "double_buffering": double_buffering,
    }
    memo, whole, program, machine, mapping, _ = _records(arch, workload, mapping=mapping)
    assert_same(memo, whole)
    energy = _energy(memo, program, machine, arch, workload, mapping)
    reference = _energy(whole, program, machine, arch, workload, mapping)
    assert (abs(energy - reference) <= 1e-9 * abs(reference)).all()


def test_ten_thousand_ops_cost_linear_bookkeeping():
    """10^4 chained ops: waits and quiescent points in one pass each, and the chain's time is
    exactly 10^4 times one op's (every op starts from an idle machine)."""
    arch = load_arch("datacenter-hbm")
    machine = build_machine(arch)
    shape = {"M": 16, "N": 16, "K": 16, "dtype": "int8"}
    one, _ = compile_program(_chain(1, shape), load_mapping(None), machine, False, 0)
    many, _ = compile_program(_chain(10_000, shape), load_mapping(None), machine, False, 0)
    assert len(boundaries(many.ops, _waits(many.ops))) == 9_999
    record = execute(many, machine)
    assert record.cycles == 10_000 * execute(one, machine).cycles
    assert record.events_processed < 100 * execute(one, machine).events_processed


def test_a_barrier_op_waits_for_the_last_barrier_and_what_followed():
    arch = load_arch("datacenter-hbm")
    machine = build_machine(arch)
    mapping = load_mapping({"name": "b", "accounting": "scalesim"})
    program, _ = compile_program(
        _chain(3, {"M": 8, "N": 8, "K": 8, "dtype": "int8"}), mapping, machine, False, 0
    )
    waits = _waits(program.ops)
    assert [waits[op.name] for op in program.ops] == [[], ["g0", "g0"], ["g1", "g1"]]


@pytest.mark.parametrize("arch", ["tpu-v1-like", "edge-npu"])
def test_a_single_op_has_no_quiescent_point(arch):
    machine = build_machine(load_arch(arch))
    program, _ = compile_program(load_workload("gemm-256"), load_mapping(None), machine, False, 0)
    assert boundaries(program.ops, _waits(program.ops)) == []


_TINY_LLAMA = [
    (["hidden"], 512),
    (["heads"], 4),
    (["kv_heads"], 4),
    (["ffn"], 1024),
    (["context"], 256),
]
"""LLaMA-2-7B's layer shrunk so that a GPU-like stack of a few layers runs in a second or two."""


def _small_gpu():
    """a100-like cut to 8 SMs and 4 memory slices: crossbar, fine interleaving, shared L2; no
    per-kernel launch step (its signal is named after the layer's op, so layers stop repeating)."""
    return load_arch(
        "a100-like",
        [
            (["cores", "count"], 8),
            (["cores", "kernels", "launch"], "0 us"),
            (["components", "xbar", "dims"], [12]),
            (["components", "xbar", "memory_nodes"], [8, 9, 10, 11]),
        ],
    )


def test_a_gpu_like_stack_with_kernel_launches_repeats():
    """h100-like cut to 8 SMs, with its per-kernel launch cost: a layer's first kernel starts on
    its SMs at the quiescent point itself (no gap), which the memo once gave up on. Three decode
    layers memoized equal the whole run in cycles, bytes, per-op rows and energy, in fewer events."""
    arch = load_arch(
        "h100-like",
        [
            (["cores", "count"], 8),
            (["components", "xbar", "dims"], [12]),
            (["components", "xbar", "memory_nodes"], [8, 9, 10, 11]),
        ],
    )
    workload = load_workload("llama-2-7b-decode", [(["layers"], 3), *_TINY_LLAMA])
    memo, whole, program, machine, mapping, _ = _records(arch, workload)
    assert_same(memo, whole)
    assert memo.events_processed < 0.7 * whole.events_processed  # its GEMMs run as core classes
    energy = _energy(memo, program, machine, arch, workload, mapping)
    reference = _energy(whole, program, machine, arch, workload, mapping)
    assert energy.index.equals(reference.index)
    assert (abs(energy - reference) <= 1e-9 * abs(reference)).all()


@settings(max_examples=6, deadline=None)
@given(st.integers(-1, 3))
def test_the_memory_node_turn_changes_nothing_on_a_fine_interleaved_crossbar(turn):
    """Every transfer takes the shared pool and the core's own port, whichever slice is in turn:
    a run entered at any turn gives the same record, and ends as many transfers further on."""
    machine = build_machine(_small_gpu())
    assert turn_blind(machine)
    workload = load_workload("gemm:M=256,N=512,K=512,dtype=fp16")
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    ops = program.ops
    records = []
    for entry in (Entry(), Entry(turn=turn)):
        engine = _Engine(ops, machine, True, _waits(ops), entry)
        records.append(engine.run())
        assert engine.turns > 0
        assert engine.turn == (entry.turn + engine.turns) % 4
    assert_same(*records)


def test_a_gpu_like_layer_stack_repeats_whatever_the_turn():
    """Four identical decode layers on a GPU-like chip: the memo ignores the turn there, so later
    layers repeat earlier runs (about two layers simulated of four), and the result is the whole
    run's."""
    workload = load_workload(
        "llama-2-7b-decode",
        [(["layers"], 4), *_TINY_LLAMA],
    )
    memo, whole, *_ = _records(_small_gpu(), workload)
    assert_same(memo, whole)
    assert memo.events_processed < 0.5 * whole.events_processed
