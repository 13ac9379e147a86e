"""Compile workload x mapping x arch into a Program of tile steps (and the numerics it checks)."""

from simulator.components import Machine
from simulator.mapping.auto import auto_plan
from simulator.mapping.gemm import GemmPlan, check_tile, compile_gemm
from simulator.mapping.program import Compute, OpProgram, Program, Step, Transfer
from simulator.numerics import GemmNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.workload import WorkloadSpec


def compile_program(
    workload: WorkloadSpec, mapping: MappingSpec, machine: Machine, numerics: bool, seed: int
) -> tuple[Program, dict[str, GemmNumerics]]:
    """One OpProgram per op, in order; with `numerics`, the per-op state its kernels fill in."""
    ops, states = [], {}
    for index, op in enumerate(workload.ops):
        check_tile(op, mapping)
        plan = auto_plan(op, mapping, machine)  # only ever returns plans whose tiles fit
        state = None
        if numerics:
            state = GemmNumerics(op.M, op.N, op.K, op.dtype, plan.accumulator, seed + index)
            states[op.name] = state
        barrier = plan.accounting == "scalesim"
        ops.append(compile_gemm(op, plan, machine, state, barrier))
    return Program(tuple(ops)), states


__all__ = [
    "Compute",
    "GemmPlan",
    "OpProgram",
    "Program",
    "Step",
    "Transfer",
    "compile_program",
]
