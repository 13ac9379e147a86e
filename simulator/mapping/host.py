"""The runtime boundary: ops the accelerator cannot run go to the host CPU, and every tensor that
crosses between host and accelerator becomes a transfer on the host link.

A host op streams its operands from host memory and runs its arithmetic on the CPU's SIMD lanes:
its time is max(instructions over the cores, bytes over host memory bandwidth). A crossing holds
the link for latency + bytes / bandwidth; the consumer waits for it. With a host, the model input
starts there and the final outputs return there.
"""

import dataclasses

from simulator.components import Machine
from simulator.errors import CapacityError
from simulator.mapping.pool import pool_work
from simulator.mapping.program import Compute, OpProgram, Step, bind
from simulator.mapping.vector_ops import recipe
from simulator.numerics import GemmNumerics
from simulator.numerics.conv import ConvNumerics
from simulator.numerics.pool import PoolNumerics
from simulator.numerics.vector_ops import VectorNumerics
from simulator.spec.precision import nbytes, precision
from simulator.spec.workload import VECTOR_KINDS

HOST_KINDS = ("gemm", "conv2d", "pool", "onnx", *VECTOR_KINDS)


def fallback_reason(op, error: Exception, machine: Machine) -> str:
    """'unsupported precision', 'does not fit' or 'unsupported op', then the unit's own words."""
    arrays = [c for c in machine.compute_units.values() if c.kind == "systolic_array"]
    if isinstance(error, CapacityError):
        category = "does not fit"
    elif (
        op.kind in ("gemm", "conv2d")
        and arrays
        and all(op.dtype not in a.spec.input_precision for a in arrays)
    ):
        category = "unsupported precision"
    else:
        category = "unsupported op"
    return f"{category}: {error}"


def _io(op) -> tuple[int, int, int]:
    """Elements of the op's activation input(s), weights and output, for every op kind a workload
    may hold (a CNN's capacity check and the host crossings read them)."""
    if op.kind == "conv2d":
        weights = op.K * (op.C // op.groups) * op.R * op.S
        return op.N * op.C * op.H * op.W, weights, op.N * op.K * op.P * op.Q
    if op.kind == "gemm":
        return op.M * op.K, op.K * op.N, op.M * op.N
    if op.kind == "pool":
        return op.N * op.C * op.H * op.W, 0, op.N * op.C * op.P * op.Q
    if op.kind == "onnx":
        return op.input_elements, 0, op.output_elements
    if op.kind == "attention":  # reads Q and the K/V (cache), writes O: no weights of its own
        queries = op.batch * op.heads * op.q_len * op.head_dim
        return queries + 2 * op.batch * op.kv_groups * op.keys * op.head_dim, 0, queries
    if op.kind == "collective":  # each core's buffer of `elements`, reduced or gathered in place
        return op.elements, 0, op.elements
    return op.reads * op.rows * op.cols, 0, op.rows * op.cols


def output_bytes(op) -> int:
    """Bytes of the op's result in memory (in its own precision)."""
    return nbytes(_io(op)[2], op.dtype)


def input_bytes(op) -> int:
    """Bytes of the op's activation input(s)."""
    return nbytes(_io(op)[0], op.dtype)


def _work(op) -> dict[str, int]:
    if op.kind == "conv2d":
        return {"mac": op.macs}
    if op.kind == "gemm":
        return {"mac": op.M * op.N * op.K}
    if op.kind == "pool":
        return pool_work(op, op.N * op.C)
    if op.kind == "onnx":  # no model of the operator: one instruction per output element
        return {"add": op.output_elements}
    per_element, per_row = recipe(op)
    work = {p: n * op.rows * op.cols for p, n in per_element.items()}
    for p, n in per_row.items():
        work[p] = work.get(p, 0) + n * op.rows
    return work


def host_numerics(op, seed: int):
    """The op's numerics state and its one whole-op kernel, as the host computes it."""
    if op.kind == "conv2d":
        accumulator = precision(op.dtype).accumulator
        state = ConvNumerics(op, accumulator, seed)
        ranges = ((0, op.N), (0, op.K), (0, op.P), (0, op.Q), (0, op.C // op.groups))
        return state, bind(state.tile, *ranges)
    if op.kind == "gemm":
        accumulator = precision(op.dtype).accumulator
        state = GemmNumerics(op.M, op.N, op.K, op.dtype, accumulator, seed)
        return state, bind(state.tile, (0, op.M), (0, op.N), (0, op.K))
    if op.kind == "pool":
        state = PoolNumerics(op, seed)
        return state, bind(state.channels, (0, op.N), (0, op.C))
    state = VectorNumerics(op, seed)
    return state, bind(state.rows, 0, op.rows)


def compile_on_host(op, machine: Machine, reason: str, numerics: bool, seed: int):
    """The op as one step on the host CPU, and its numerics state (None without numerics)."""
    cpu_name, _ = machine.host
    cpu = machine.components[cpu_name]
    inputs, weights, outputs = _io(op)
    moved = nbytes(inputs + weights + outputs, op.dtype)
    work = _work(op)
    cycles = max(cpu.cycles(work), cpu.memory_cycles(moved))
    checked = numerics and op.kind != "onnx"  # an operator without a model has no reference
    state, kernel = host_numerics(op, seed) if checked else (None, None)
    compute = Compute(
        cpu_name, cycles, tuple(sorted(work.items())), work.get("mac", 0), (), {}, kernel
    )
    flops = 2 * work["mac"] if "mac" in work else sum(work.values())
    program = OpProgram(
        name=op.name,
        kind=op.kind,
        steps=lambda: iter((Step((), (compute,), (), ()),)),
        macs=work.get("mac", 0),
        flops=flops,
        unit=cpu_name,
        double_buffering=False,
        barrier=False,
        depends_on=tuple(op.inputs),
        details={
            "unit": cpu_name,
            "fallback": True,
            "fallback_reason": reason,
            "host_bytes": moved,
        },
    )
    return program, state


def _crossing(name: str, nbytes_: int, after: tuple[str, ...], machine: Machine) -> OpProgram:
    _, link_name = machine.host
    link = machine.components[link_name]
    compute = Compute(link_name, link.transfer_cycles(nbytes_), (("bit", 8 * nbytes_),), 0, (), {})
    return OpProgram(
        name=name,
        kind="transfer",
        steps=lambda: iter((Step((), (compute,), (), ()),)),
        macs=0,
        flops=0,
        unit=link_name,
        double_buffering=False,
        barrier=False,
        depends_on=after,
        details={"unit": link_name, "link_bytes": nbytes_},
    )


def add_crossings(
    ops: list[OpProgram], specs: dict, machine: Machine, stream_weights: bool
) -> list[OpProgram]:
    """Insert a link transfer wherever a tensor changes sides (host <-> accelerator), including
    the model input (from the host) and the final outputs (back to it); with `stream_weights`
    (the model does not fit device memory), each accelerator layer's weights too, just before it."""
    cpu_name, _ = machine.host
    on_host = {op.name: op.unit == cpu_name for op in ops}
    consumed = {i for op in ops for i in op.depends_on}
    result: list[OpProgram] = []
    for op in ops:
        spec = specs[op.name]
        extra = []
        sources = [i for i in op.depends_on if on_host[i] != on_host[op.name]]
        for source in sources:
            name = f"{source}->{op.name}"
            result.append(_crossing(name, output_bytes(specs[source]), (source,), machine))
            extra.append(name)
        if not op.depends_on and not on_host[op.name]:
            name = f"host->{op.name}"
            result.append(_crossing(name, input_bytes(spec), (), machine))
            extra.append(name)
        weights = nbytes(_io(spec)[1], spec.dtype)
        if stream_weights and weights and not on_host[op.name]:
            name = f"host->{op.name}.weights"
            result.append(_crossing(name, weights, (), machine))
            extra.append(name)
        result.append(dataclasses.replace(op, depends_on=op.depends_on + tuple(extra)))
        if op.name not in consumed and not on_host[op.name]:
            result.append(_crossing(f"{op.name}->host", output_bytes(spec), (op.name,), machine))
    return result
