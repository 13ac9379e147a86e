"""Compile workload x mapping x arch into a Program of tile steps (and the numerics it checks).

Each op kind's mapper and numerics module loads when an op of that kind is compiled (multi-core
partitions, hosts, crossbars and CNN footprints likewise), so a timing-only GEMM run loads only
the GEMM mapper: tests/test_lazy_imports.py holds the list."""

from collections import Counter

from simulator.components import Machine
from simulator.errors import CapacityError, UnsupportedError
from simulator.mapping.gemm import GemmPlan, check_tile, compile_gemm
from simulator.mapping.in_memory import compile_in_memory
from simulator.mapping.plan_cache import planned
from simulator.mapping.program import Compute, OpProgram, Program, Step, Transfer
from simulator.numerics import GemmNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.validate import locate
from simulator.spec.workload import VECTOR_KINDS, AttentionOpSpec, GemmOpSpec, WorkloadSpec


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
    from simulator.mapping.attention import compile_attention, plan_attention
    from simulator.numerics.attention import AttentionNumerics

    plan = plan_attention(op, mapping, machine, f"{mapping._source}: attention")
    state = AttentionNumerics(op, seed) if numerics else None
    return compile_attention(op, plan, mapping, machine, state), state


def _conv(op, mapping, machine, numerics, seed):
    from simulator.mapping.conv import compile_conv, plan_conv
    from simulator.numerics.conv import ConvNumerics

    plan = plan_conv(op, mapping, machine, f"{mapping._source}: {op.name}")
    state = ConvNumerics(op, plan.accumulator, seed) if numerics else None
    return compile_conv(op, plan, machine, state), state


def _pool(op, mapping, machine, numerics, seed):
    from simulator.mapping.pool import compile_pool
    from simulator.numerics.pool import PoolNumerics

    state = PoolNumerics(op, seed) if numerics else None
    return compile_pool(op, mapping, machine, state), state


def _vector(op, mapping, machine, numerics, seed):
    from simulator.mapping.vector_ops import compile_vector_op, fitting_rows
    from simulator.numerics.vector_ops import VectorNumerics

    op = fitting_rows(op, mapping, machine)
    state = VectorNumerics(op, seed) if numerics else None
    return compile_vector_op(op, mapping, machine, state, f"{op.name}"), state


def _collective(op, mapping, machine, numerics, seed):
    raise UnsupportedError(
        f"{op.name} ({op.kind}) needs a multi-core arch (cores: count: ...); {machine.arch.name} has one core"
    )


COMPILERS = {
    "gemm": _gemm,
    "attention": _attention,
    "collective": _collective,
    "conv2d": _conv,
    "pool": _pool,
}


def check_dram_capacity(workload: WorkloadSpec, machine: Machine) -> bool:
    """Weights and the KV-cache (CNNs: weights, past positions' K/V and the peak live activations)
    must fit in DRAM: CapacityError with the footprint otherwise. A CNN whose activations fit but
    whose weights do not runs on an arch with a host with its weights streamed from the host:
    returns True then."""
    capacity = machine.dram.capacity_bytes
    if capacity is None:
        return False
    if any(op.kind in ("conv2d", "pool") for op in workload.ops):
        from simulator.mapping.footprint import past_kv_bytes, peak_activation_bytes, weight_bytes

        weights = sum(weight_bytes(op) for op in workload.ops)
        cache = sum(past_kv_bytes(op) for op in workload.ops)
        activations = peak_activation_bytes(workload)
        if weights + cache + activations <= capacity:
            return False
        largest = max(weight_bytes(op) for op in workload.ops)
        if machine.host and cache + activations + largest <= capacity:
            return True
        kv = f" + KV-cache of past positions {cache:,} B" if cache else ""
        raise CapacityError(
            f"{workload.name}: footprint {weights + cache + activations:,} B (weights "
            f"{weights:,} B{kv} + peak live activations {activations:,} B) exceeds "
            f"{machine.dram.name}'s {int(capacity):,} B"
            + (
                ""
                if machine.host
                else "; an arch with a host (kind: cpu + kind: link) streams weights"
            )
        )
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
    return False


def compile_program(
    workload: WorkloadSpec, mapping: MappingSpec, machine: Machine, numerics: bool, seed: int
) -> tuple[Program, dict]:
    """One OpProgram per op, in order; with `numerics`, the per-op state its kernels fill in."""
    stream_weights = check_dram_capacity(workload, machine)
    if (mapping.partition.cores or 1) > machine.core_count:  # a one-core chip ignored it silently
        raise CapacityError(
            f"{locate(mapping, 'partition', 'cores')}: {mapping.partition.cores} cores asked, "
            f"{machine.arch.name} has {machine.core_count}"
        )
    if machine.arch.cores is not None:  # cores, however few: partitioned, the chip SRAM an L2
        if any(op.kind == "onnx" for op in workload.ops):
            raise UnsupportedError(
                f"{workload.name}: ONNX ops accsim does not model run on a single-core arch's "
                f"host fallback; {machine.arch.name} has {machine.core_count} core(s)"
            )
        from simulator.mapping.partition import partition_program

        ops, states = partition_program(workload, mapping, machine, numerics, seed)
        return Program(tuple(ops), dict(workload.meta)), states
    _check_modelled(workload, machine)
    ops, states = [], {}
    in_memory = compile_in_memory(
        workload, mapping, machine, numerics, seed
    )  # crossbar/PIM GEMMs and convs
    for index, op in enumerate(workload.ops):
        program, state = in_memory.get(op.name) or _compile_one(
            op, mapping, machine, numerics, seed + index
        )
        ops.append(program)
        if state is not None:
            states[op.name] = state
    meta = dict(workload.meta)
    if machine.host:
        from simulator.mapping.host import add_crossings

        ops = add_crossings(ops, {op.name: op for op in workload.ops}, machine, stream_weights)
        meta["weights_streamed"] = stream_weights
    return Program(tuple(ops), meta), states


def _check_modelled(workload: WorkloadSpec, machine: Machine) -> None:
    """Imported ONNX nodes accsim has no model of run only on a host CPU fallback; without one,
    one error names them all."""
    opaque = Counter(op.op_type for op in workload.ops if op.kind == "onnx")
    host = machine.host and machine.arch.fallback == machine.host[0]
    if opaque and not host:
        listed = ", ".join(f"{op} (x{count})" for op, count in sorted(opaque.items()))
        raise UnsupportedError(
            f"{workload.name}: ONNX ops accsim does not model: {listed}; an arch with a host CPU "
            "as its fallback (kind: cpu, fallback: <its name>) runs them there"
        )


def _compile_one(op, mapping: MappingSpec, machine: Machine, numerics: bool, seed: int):
    """The op on the accelerator; where it cannot run there and the arch's fallback is its host
    CPU, on the host, with the reason recorded for the partition map."""
    if not machine.host:  # no CPU to fall back to (_check_modelled refused ONNX ops)
        return COMPILERS.get(op.kind, _vector)(op, mapping, machine, numerics, seed)
    from simulator.mapping.host import HOST_KINDS, compile_on_host, fallback_reason

    host = machine.arch.fallback == machine.host[0] and op.kind in HOST_KINDS
    if op.kind == "onnx":  # _check_modelled made sure there is a host
        reason = f"unsupported op: ONNX {op.op_type} has no accsim model"
        return compile_on_host(op, machine, reason, numerics, seed)
    if host and op.kind in (*VECTOR_KINDS, "pool"):
        if not any(c.kind == "vector" and c.runs(op.kind) for c in machine.components.values()):
            reason = f"unsupported op: no vector unit runs {op.kind}"
            return compile_on_host(op, machine, reason, numerics, seed)
    try:
        return COMPILERS.get(op.kind, _vector)(op, mapping, machine, numerics, seed)
    except (UnsupportedError, CapacityError) as error:
        if not host:
            raise
        return compile_on_host(op, machine, fallback_reason(op, error, machine), numerics, seed)


__all__ = ["Compute", "GemmPlan", "OpProgram", "Program", "Step", "Transfer", "compile_program"]
