"""Identical ops compiled once (mapping/renamed.py): a workload's parts with repeats renamed from
the first such op equal the parts of a compile that walks every op itself, field by field and
step by step; ops that differ in one field share nothing."""

import dataclasses

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import simulator.mapping.partition as partition
from simulator.components import build_machine
from simulator.engine.memo import execute
from simulator.mapping import compile_program
from simulator.mapping.classes import classed
from simulator.mapping.program import Compute, Step, Transfer
from simulator.mapping.renamed import Renamer, op_key
from simulator.spec import load_arch, load_mapping, load_workload
from tests.mapping.test_cta import gpu

GEMM = {"kind": "gemm", "M": 8, "N": 96, "K": 64, "dtype": "fp16"}
OPS = [  # kinds of op a workload repeats (inputs and names added per op), transformer's and CNN's:
    # each writes 768 values (8 x 96) and reads 768 or a slice of 8 x 96, so any may read any
    [
        GEMM,
        GEMM | {"parallel": "row"},
        {"kind": "gemm", "M": 8, "N": 96, "K": 32, "dtype": "fp16", "parallel": "column"},
        {"kind": "rmsnorm", "rows": 8, "cols": 96, "dtype": "fp16"},
        {"kind": "silu", "rows": 8, "cols": 96, "dtype": "fp16"},
        {"kind": "attention", "heads": 4, "kv_heads": 2, "q_len": 1, "kv_len": 48, "head_dim": 24}
        | {"batch": 8},
    ],
    [
        GEMM | {"K": 96},
        {"kind": "conv2d", "C": 8, "H": 8, "W": 12, "K": 8, "R": 3, "S": 3, "padding": 1}
        | {"dtype": "fp16"},
        {"kind": "pool", "C": 16, "H": 4, "W": 12, "R": 3, "S": 3, "padding": 1, "dtype": "fp16"},
        {"kind": "relu", "rows": 8, "cols": 96, "dtype": "fp16"},
    ],
]


def _arch(which: str):
    """A GPU-like chip (CTA kernels, launch steps), the same with per-core memory (tensor
    parallel: row-split GEMMs all-reduced), or a mesh of cores without kernels."""
    if which == "mesh":
        return load_arch("mesh-4x4")
    return gpu(4, launch="1 us", memory="local" if which == "local" else "fine")


def _workload(ops: list[dict], inputs: list[list[int]]):
    """Op i as `ops[i]` reading ops inputs[i]; names L0, L1, ... share prefixes."""
    named = [
        op | {"name": f"L{i}", "inputs": [f"L{j}" for j in reads]}
        for i, (op, reads) in enumerate(zip(ops, inputs, strict=True))
    ]
    return load_workload({"name": "repeats", "ops": named})


def _fields(op) -> tuple:
    """Everything a part is, its steps walked (and resumed, where it can resume, and classed)."""
    steps = list(op.steps())
    resumed = list(op.resume(len(steps) // 2)) if op.resume else None
    classes = op.classes(0).tolist() if op.classes else None
    return (
        (op.name, op.kind, op.macs, op.flops, op.unit, op.double_buffering, op.barrier),
        (op.depends_on, op.core, op.group, op.details, op.signature, op.shape_class, op.members),
        list(op.levels()),
        steps,
        resumed,
        classes,
    )


def _programs(arch, workload, monkeypatch):
    """The program compiled with identical ops reused, and with every op compiled itself."""
    machine = build_machine(arch)
    reused, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    with monkeypatch.context() as patch:
        patch.setattr(partition, "op_key", lambda op: op.name)  # every op its own key
        walked, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    return reused, walked


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(0, [3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3], "gpu")  # L1 and L10, L11: prefixes of each other
@example(0, [1, 2, 1, 2], "local")  # row-parallel GEMMs and their all-reduce
@example(0, [5, 4, 5, 4], "mesh")
@example(1, [1, 2, 1, 2, 3], "gpu")
@given(
    st.sampled_from([0, 1]),
    st.lists(st.integers(0, 5), min_size=1, max_size=7),
    st.sampled_from(["gpu", "local", "mesh"]),
)
def test_reused_parts_equal_compiled_parts(pool, kinds, which):
    """Random repeats of a transformer's (pool 0) or a CNN's (pool 1) kinds of op after a GEMM,
    each reading the op before it (every third twice)."""
    ops = [GEMM] + [OPS[pool][kind % len(OPS[pool])] for kind in kinds]
    inputs = [[] if i == 0 else [i - 1, i - 1] if i % 3 == 0 else [i - 1] for i in range(len(ops))]
    workload = _workload(ops, inputs)
    reused, walked = _programs(_arch(which), workload, pytest.MonkeyPatch())
    assert [op.name for op in reused.ops] == [op.name for op in walked.ops]
    for got, want in zip(reused.ops, walked.ops, strict=True):
        assert _fields(got) == _fields(want), got.name


def test_ops_differing_in_one_field_have_different_keys():
    """Each field of a spec is in the key; its name and inputs are not."""
    base = _workload([GEMM, GEMM], [[], [0]]).ops[1]
    same = base.model_copy(update={"name": "other", "inputs": ["x", "y"]})
    assert op_key(same) == op_key(base)
    changes = {
        "M": 16,
        "N": 48,
        "K": 32,
        "dtype": "bf16",
        "parallel": "row",
        "output_dtype": "fp32",
    }
    for field, value in changes.items():
        assert op_key(base.model_copy(update={field: value})) != op_key(base), field


def test_ops_differing_in_one_field_share_no_parts():
    """A GEMM differing from an earlier one in K alone is compiled itself: its steps move
    K's bytes, not the earlier GEMM's."""
    workload = load_workload(
        {
            "name": "two",
            "ops": [
                GEMM | {"name": "a"},
                GEMM | {"name": "b", "K": 32, "inputs": ["a"]},
            ],
        }
    )
    reused, walked = _programs(_arch("gpu"), workload, pytest.MonkeyPatch())
    for got, want in zip(reused.ops, walked.ops, strict=True):
        assert _fields(got) == _fields(want), got.name
    loads = dict.fromkeys("ab", 0)
    for op in reused.ops:
        loads[op.group] += sum(t.dram_bytes for step in op.steps() for t in step.loads)
    assert 0 < loads["b"] < loads["a"]  # half of A and B: K is 32, not 64


def test_a_step_renamed_by_hand():
    """Tensors (streamed ones too), waits and signals named after the op take the new name;
    buffers, units and signals of other things keep theirs."""
    load = Transfer("load", "L1.A", ((0, 8), (0, 4)), "core0.buf", 64, 64)
    streamed = Transfer("load", "L1.B", ((0, 4), (0, 8)), "core0.buf", 64, 64)
    compute = Compute("core0.mxu", 9, (("mac", 256),), 256, (), {"A": ((0, 8), (0, 4))})
    compute = dataclasses.replace(compute, streamed=(streamed,), dma_wait=3)
    store = Transfer("store", "L1.C", ((0, 8), (0, 8)), "core0.buf", 128, 128)
    step = Step((load,), (compute,), (store,), (("core0.buf", 64),), ("L1@c0.go",), ("x", "L1.k0"))
    got = Renamer("L1", "L7").step(dataclasses.replace(step, peers=(step,)))
    want = Step(
        (dataclasses.replace(load, tensor="L7.A"),),
        (dataclasses.replace(compute, streamed=(dataclasses.replace(streamed, tensor="L7.B"),)),),
        (dataclasses.replace(store, tensor="L7.C"),),
        (("core0.buf", 64),),
        ("L7@c0.go",),
        ("x", "L7.k0"),
    )
    assert got == dataclasses.replace(want, peers=(want,))


def _walks(ops, which):
    """Each part's step types as walked: a moved member's steps are `Moved` views."""
    return {op.name: [type(s).__name__ for s in op.steps()] for op in ops if op.group == which}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(8, 256, 64, 4, 3)  # three SMs' parts move the first's
@example(8, 512, 160, 5, 2)  # two shapes: SMs 1, 2 move SM 0's CTAs, SM 4 SM 3's
@given(
    st.integers(1, 80),
    st.integers(8, 256),
    st.integers(8, 160),
    st.integers(2, 5),
    st.integers(2, 3),
)
def test_renamed_members_stay_views(m, n, k, cores, layers):
    """A repeated GEMM's member parts walk as the first GEMM's do (`Moved` views where its are),
    and every step, read as a plain Step (`dataclasses.replace`) and classed (peers and all),
    equals the one a compile that walks every op builds."""
    assume(k <= n)  # each layer's A a slice of the C before it
    gemm = {"kind": "gemm", "M": m, "N": n, "K": k, "dtype": "fp16"}
    workload = _workload([gemm] * layers, [[]] + [[i] for i in range(layers - 1)])
    reused, walked = _programs(gpu(cores), workload, pytest.MonkeyPatch())
    first = _walks(reused.ops, "L0")
    for layer in range(1, layers):
        renamed = _walks(reused.ops, f"L{layer}")
        assert list(renamed.values()) == list(first.values())
    for got, want in zip(reused.ops, walked.ops, strict=True):
        plain = [dataclasses.replace(s) for s in got.steps()]
        assert all(type(s) is Step for s in plain)
        assert plain == list(want.steps()), got.name
    for got, want in zip(classed(reused).ops, classed(walked).ops, strict=True):
        for mine, theirs in zip(got.steps(), want.steps(), strict=True):
            assert mine == theirs, got.name
            assert [dataclasses.replace(p) for p in mine.peers] == list(theirs.peers), got.name


def test_layers_simulated_with_and_without_reuse_give_one_record(monkeypatch):
    """Two LLaMA layers on a100-like simulated whole (memo off), traced: the record (cycles,
    events, every counter and table) is the same whether layer 1 reuses layer 0's parts or not."""
    machine = build_machine(load_arch("a100-like"))
    workload = load_workload("llama-2-7b-decode", [(["layers"], 2)])
    reused, walked = _programs(load_arch("a100-like"), workload, monkeypatch)
    views = _walks(reused.ops, "L1.q_proj")
    assert any("Moved" in walk for walk in views.values())
    got = execute(reused, machine, trace=True, memoize=False)
    want = execute(walked, machine, trace=True, memoize=False)
    assert vars(got) == vars(want)
