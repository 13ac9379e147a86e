"""Convolutions on analog crossbars, ISAAC-style: the filters unrolled as a (C R S) x K weight
matrix in the cells, the input windows streamed through the DACs one output pixel at a time.

A groups=1 conv is planned with the workload's GEMMs as the crossbar GEMM M = N P Q pixels,
K = C R S taps, N = K filters (same bit-slicing, residency, replication and passes); copies of
the weights serve different output pixels at once, as ISAAC replicates its early layers. What
moves is the real feature map: a step loads the input rows its output rows read (halo included,
padding never stored) and the unit gathers each pixel's window from the buffer.
"""

import dataclasses
import math

from simulator.components import Machine
from simulator.components.crossbar import Crossbar
from simulator.errors import CapacityError
from simulator.mapping.conv import _span
from simulator.mapping.crossbar import (
    CrossbarPlan,
    _mvm_work,
    _program_steps,
    compile_crossbar_gemm,
)
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, bind
from simulator.mapping.vector_ops import _traffic
from simulator.numerics.crossbar_conv import ConvCrossbarNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes, precision
from simulator.spec.workload import ConvOpSpec, GemmOpSpec


def runs_on_crossbar(op) -> bool:
    """Convs whose weights are one matrix; a grouped conv's groups would each need their own
    crossbars and input vectors, so those stay on the arch's other units."""
    return op.kind == "conv2d" and op.groups == 1


def unrolled(op: ConvOpSpec) -> GemmOpSpec:
    """The crossbar GEMM of a groups=1 conv: pixels x taps times taps x filters."""
    return GemmOpSpec(
        kind="gemm",
        name=op.name,
        M=op.N * op.P * op.Q,
        N=op.K,
        K=op.C * op.R * op.S,
        dtype=op.dtype,
        inputs=op.inputs,
    )


def compile_crossbar_conv(
    op: ConvOpSpec,
    plan: CrossbarPlan,
    mapping: MappingSpec,
    machine: Machine,
    numerics: ConvCrossbarNumerics | None,
) -> OpProgram:
    """The OpProgram of a conv on crossbars: (programming steps), then output-row steps per pass."""
    view = unrolled(op)
    base = compile_crossbar_gemm(view, plan, mapping, machine, None)
    rows = _output_rows(op, plan, mapping, machine)
    details = base.details | {
        "unrolled": f"{view.K} taps (C R S) x {view.N} filters, {view.M} pixels",
        "tile": {"output_rows": rows, "pixels": min(op.P, rows) * op.Q},
        "loop_order": "pass, n, p",
    }
    return dataclasses.replace(
        base,
        kind="conv2d",
        steps=lambda: _steps(op, plan, rows, mapping, machine, numerics),
        details=details,
    )


def _rows_bytes(op: ConvOpSpec, plan: CrossbarPlan, rows: int) -> dict[str, int]:
    """Buffer bytes of a step of `rows` output rows: its input rows and its partial sums."""
    taps = max(p.k[1] - p.k[0] for p in plan.passes)
    filters = max(p.n[1] - p.n[0] for p in plan.passes)
    channels = min(op.C, math.ceil(taps / (op.R * op.S)) + 1)  # a k range may straddle channels
    reach = (op.R - 1) * op.dilation + 1
    height = min(op.H, (rows - 1) * op.stride + reach)
    return {
        "input": nbytes(channels * height * op.W, op.dtype),
        "output": nbytes(filters * rows * op.Q, precision(op.dtype).accumulator),
    }


def _output_rows(op: ConvOpSpec, plan: CrossbarPlan, mapping: MappingSpec, machine) -> int:
    """Output rows per step: the mapping's rows_per_step in pixels (whole rows), else the most
    that fit the buffers (twice over when double-buffered)."""
    if mapping.crossbar.rows_per_step:
        return max(1, min(op.P, mapping.crossbar.rows_per_step // op.Q))
    factor = 2 if mapping.double_buffering else 1
    rows = op.P
    while True:
        need: dict[str, int] = {}
        for role, size in _rows_bytes(op, plan, rows).items():
            name = machine.buffer_for(role).name
            need[name] = need.get(name, 0) + factor * size
        over = [b for b, size in need.items() if size > machine.components[b].capacity_bytes]
        if not over:
            return rows
        if rows == 1:
            raise CapacityError(
                f"{op.name}: one output row's input rows and partial sums need "
                f"{need[over[0]]:,} B in {over[0]}, which holds "
                f"{int(machine.components[over[0]].capacity_bytes):,} B"
            )
        rows = math.ceil(rows / 2)


def _steps(op: ConvOpSpec, plan: CrossbarPlan, rows: int, mapping, machine: Machine, numerics):
    unit: Crossbar = machine.components[plan.unit]
    inputs, outputs = machine.buffer_for("input").name, machine.buffer_for("output").name
    acc = precision(op.dtype).accumulator
    taps_per_channel = op.R * op.S
    reach = (op.R - 1) * op.dilation + 1, (op.S - 1) * op.dilation + 1
    w = _span(0, op.Q, op.stride, reach[1], op.padding, op.W)
    for p in plan.passes:
        if not plan.resident:
            yield from _program_steps(unrolled(op), plan, p, unit, machine, mapping)
        (k0, k1), (f0, f1) = p.k, p.n
        channels = (k0 // taps_per_channel, math.ceil(k1 / taps_per_channel))
        first, last = k0 == 0, k1 == op.C * op.R * op.S
        for n in range(op.N):
            for p0 in range(0, op.P, rows):
                p1 = min(p0 + rows, op.P)
                h = _span(p0, p1, op.stride, reach[0], op.padding, op.H)
                x_region = ((n, n + 1), channels, h, w)
                x_bytes = nbytes(
                    (channels[1] - channels[0]) * (h[1] - h[0]) * (w[1] - w[0]), op.dtype
                )
                y_region = ((n, n + 1), (f0, f1), (p0, p1), (0, op.Q))
                pixels = (p1 - p0) * op.Q
                y_bytes = nbytes(pixels * (f1 - f0), acc)
                loads = (
                    Transfer("load", f"{op.name}.X", x_region, inputs, x_bytes, x_bytes),
                    Transfer(
                        "alloc" if first else "reload",
                        f"{op.name}.Y",
                        y_region,
                        outputs,
                        0 if first else y_bytes,
                        y_bytes,
                    ),
                )
                m = (n * op.P * op.Q + p0 * op.Q, n * op.P * op.Q + p1 * op.Q)  # rows of A
                windows = nbytes(pixels * (k1 - k0), op.dtype)  # each pixel's taps, gathered
                compute = Compute(
                    unit=plan.unit,
                    cycles=unit.mvm_cycles(plan.slicing, math.ceil(pixels / p.replication)),
                    work=_mvm_work(unit, plan.slicing, p, pixels),
                    macs=pixels * (k1 - k0) * (f1 - f0),
                    sram_traffic=_traffic(inputs, outputs, windows, y_bytes),
                    regions={"X": x_region, "W": ((f0, f1), (k0, k1)), "Y": y_region},
                    kernel=bind(numerics.tile, m, (f0, f1), (k0, k1)) if numerics else None,
                )
                out_bytes = nbytes(pixels * (f1 - f0), op.dtype) if last else y_bytes
                store = Transfer(  # complete outputs leave requantized to the op's precision
                    "store" if last else "spill",
                    f"{op.name}.Y",
                    y_region,
                    outputs,
                    out_bytes,
                    y_bytes,
                )
                yield Step(loads, (compute,), (store,), ((inputs, x_bytes),))
