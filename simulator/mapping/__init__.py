"""Compile workload x mapping x arch into a Program of tile steps (and the numerics it checks)."""

from simulator.components import Machine
from simulator.errors import CapacityError, UnsupportedError
from simulator.mapping.attention import compile_attention, plan_attention
from simulator.mapping.crossbar import compile_in_memory
from simulator.mapping.gemm import GemmPlan, check_tile, compile_gemm
from simulator.mapping.partition import partition_program
from simulator.mapping.plan_cache import planned
from simulator.mapping.program import Compute, OpProgram, Program, Step, Transfer
from simulator.mapping.vector_ops import compile_vector_op
from simulator.numerics import GemmNumerics
from simulator.numerics.attention import AttentionNumerics
from simulator.numerics.vector_ops import VectorNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.workload import AttentionOpSpec, GemmOpSpec, WorkloadSpec


def _gemm(op: GemmOpSpec, mapping, machine, numerics, seed):
    check_tile(op, mapping)
    plan = planned(op, mapping, machine)  # only ever returns plans whose tiles fit
    state = (
        GemmNumerics(op.M, op.N, op.K, op.dtype, plan.accumulator, seed, plan.output)
        if numerics
        else None
    )
    return compile_gemm(op, plan, machine, state, barrier=plan.accounting == "scalesim"), state


def _attention(op: AttentionOpSpec, mapping, machine, numerics, seed):
    plan = plan_attention(op, mapping, machine, f"{mapping._source}: attention")
    state = AttentionNumerics(op, seed) if numerics else None
    return compile_attention(op, plan, mapping, machine, state), state


def _vector(op, mapping, machine, numerics, seed):
    state = VectorNumerics(op, seed) if numerics else None
    return compile_vector_op(op, mapping, machine, state, f"{op.name}"), state


def _collective(op, mapping, machine, numerics, seed):
    raise UnsupportedError(
        f"{op.name} ({op.kind}) needs a multi-core arch (cores: count: ...); {machine.arch.name} has one core"
    )


COMPILERS = {"gemm": _gemm, "attention": _attention, "collective": _collective}


def check_dram_capacity(workload: WorkloadSpec, machine: Machine) -> None:
    """Weights and the KV-cache must fit in DRAM: CapacityError with the footprint otherwise."""
    capacity = machine.dram.capacity_bytes
    if capacity is None:
        return
    weights = sum(nbytes(op.N * op.K, op.dtype) for op in workload.ops if op.kind == "gemm")
    kv = sum(
        nbytes(2 * op.batch * op.keys * op.kv_groups * op.head_dim, op.dtype)
        for op in workload.ops
        if op.kind == "attention"
    )
    if weights + kv > capacity:
        meta = workload.meta
        formula = (
            f"{meta['layers']} layers x 2 x L={meta['context']} x H_kv x d x bytes x batch {meta['batch']}"
            if "context" in meta
            else "2 x L x H_kv x d x bytes per attention op"
        )
        raise CapacityError(
            f"{workload.name}: KV-cache {kv:,} B ({formula}) plus weights {weights:,} B exceed "
            f"{machine.dram.name}'s {int(capacity):,} B"
        )


def compile_program(
    workload: WorkloadSpec, mapping: MappingSpec, machine: Machine, numerics: bool, seed: int
) -> tuple[Program, dict]:
    """One OpProgram per op, in order; with `numerics`, the per-op state its kernels fill in."""
    check_dram_capacity(workload, machine)
    if machine.core_count > 1:
        ops, states = partition_program(workload, mapping, machine, numerics, seed)
        return Program(tuple(ops), dict(workload.meta)), states
    ops, states = [], {}
    in_memory = compile_in_memory(workload, mapping, machine, numerics, seed)  # crossbar/PIM GEMMs
    for index, op in enumerate(workload.ops):
        compile_op = COMPILERS.get(op.kind, _vector)
        program, state = in_memory.get(op.name) or compile_op(
            op, mapping, machine, numerics, seed + index
        )
        ops.append(program)
        if state is not None:
            states[op.name] = state
    return Program(tuple(ops), dict(workload.meta)), states


__all__ = ["Compute", "GemmPlan", "OpProgram", "Program", "Step", "Transfer", "compile_program"]
