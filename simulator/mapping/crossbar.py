"""GEMMs on analog crossbars: weights programmed into cells, inputs streamed bit-serially.

A weight matrix B[K, N] occupies ceil(K / rows) row tiles x ceil(N / weights per crossbar) column
tiles of crossbars (each weight's cell slices in adjacent columns); partial sums of the row tiles
are added digitally. When every crossbar GEMM of the workload fits at once, the weights are
programmed before the run (reported, not timed) and spare crossbars hold copies that serve other
input rows in parallel, shared out to balance the ops. Otherwise each op programs its weights when
it starts, in passes when it alone does not fit: that programming is timed and counted.
"""

import math
from dataclasses import dataclass

from simulator.components import Machine
from simulator.components.crossbar import Crossbar, Slicing
from simulator.errors import CapacityError
from simulator.mapping.pim import fitting_rows
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, bind
from simulator.mapping.vector_ops import _traffic
from simulator.numerics.crossbar import CrossbarNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes, precision
from simulator.spec.workload import GemmOpSpec


@dataclass(frozen=True)
class Pass:
    """A block of the weights resident at one time, and how many copies of it serve inputs."""

    k: tuple[int, int]
    n: tuple[int, int]
    row_tiles: int
    col_tiles: int
    replication: int

    @property
    def crossbars(self) -> int:
        return self.row_tiles * self.col_tiles * self.replication


@dataclass(frozen=True)
class CrossbarPlan:
    """Everything resolved for one GEMM on crossbars."""

    unit: str
    slicing: Slicing
    weights_per_crossbar: int
    copy_crossbars: int  # crossbars one copy of the whole weight matrix occupies
    utilization: float  # weight cells / cells of those crossbars (fragmentation)
    resident: bool  # programmed before the run; else programmed (pass by pass) during it
    passes: tuple[Pass, ...]
    rows_per_step: int


def footprint(op: GemmOpSpec, unit: Crossbar) -> tuple[Slicing, int, int, int]:
    """Slicing, weights per crossbar, row tiles and column tiles of one copy of B."""
    slicing = unit.check(op.name, op.dtype)
    per = unit.weights_per_crossbar(slicing)
    return slicing, per, math.ceil(op.K / unit.rows), math.ceil(op.N / per)


def plan_crossbars(ops: list[GemmOpSpec], unit: Crossbar, mapping: MappingSpec, machine: Machine):
    """Plans for every GEMM on one crossbar unit: residency, replication and passes."""
    sizes = {op.name: footprint(op, unit) for op in ops}
    copies = {name: rt * ct for name, (_, _, rt, ct) in sizes.items()}
    resident = sum(copies.values()) <= unit.crossbars
    limit = mapping.crossbar.replication
    replication = _balance(ops, sizes, copies, unit.crossbars, limit) if resident else {}
    plans = {}
    for op in ops:
        slicing, per, rt, ct = sizes[op.name]
        if resident:
            passes = (Pass((0, op.K), (0, op.N), rt, ct, replication[op.name]),)
        else:
            passes = _passes(op, unit, per, rt, ct, limit)
        cells = op.K * op.N * slicing.cells_per_weight
        plans[op.name] = CrossbarPlan(
            unit=unit.name,
            slicing=slicing,
            weights_per_crossbar=per,
            copy_crossbars=copies[op.name],
            utilization=cells / (copies[op.name] * unit.rows * unit.cols),
            resident=resident,
            passes=passes,
            rows_per_step=_rows_per_step(op, passes, machine, mapping),
        )
    return plans


def _balance(ops, sizes, copies, pool, limit) -> dict[str, int]:
    """Copies per op from the spare crossbars: repeatedly speed up the slowest op that can grow."""
    replication = {op.name: 1 for op in ops}
    spare = pool - sum(copies.values())

    def waves(op, r):  # input-vector waves x cycles per vector: the op's time on its crossbars
        return math.ceil(op.M / r) * sizes[op.name][0].input_cycles

    while True:
        growing = []
        for op in ops:
            r = replication[op.name]
            if waves(op, r) == sizes[op.name][0].input_cycles:
                continue  # one wave already
            better = math.ceil(op.M / (math.ceil(op.M / r) - 1))  # fewest copies for one wave less
            if (limit is None or better <= limit) and (better - r) * copies[op.name] <= spare:
                growing.append((waves(op, r), op.name, op, better))
        if not growing:
            return replication
        _, name, op, better = max(growing)
        spare -= (better - replication[name]) * copies[name]
        replication[name] = better


def _passes(op: GemmOpSpec, unit: Crossbar, per: int, rt: int, ct: int, limit) -> tuple[Pass, ...]:
    """Weight blocks that fit the whole unit, programmed one after another (N first, then K)."""
    pool = unit.crossbars
    if rt <= pool:
        cols = max(1, min(ct, pool // rt))  # column tiles per pass
        blocks = [((0, op.K), rt, (c, min(c + cols, ct))) for c in range(0, ct, cols)]
    else:
        blocks = [
            ((r * unit.rows, min((r + pool) * unit.rows, op.K)), min(pool, rt - r), (c, c + 1))
            for c in range(ct)
            for r in range(0, rt, pool)
        ]
    passes = []
    for k, rows, (c0, c1) in blocks:
        crossbars = rows * (c1 - c0)
        copies = min(op.M, pool // crossbars, limit or op.M)
        n = (c0 * per, min(c1 * per, op.N))
        passes.append(Pass(k, n, rows, c1 - c0, copies))
    return tuple(passes)


def _sum_format(dtype: str) -> str:
    """Format of the shift-and-add sums a crossbar writes out: 32-bit for integer operands (the
    systolic arrays' int64 default for int16 operands does not apply: the crossbar's numerics
    are its own, bit-sliced, model), fp32 for floats."""
    return "int32" if precision(dtype).is_int else "fp32"


def _rows_per_step(op: GemmOpSpec, passes, machine: Machine, mapping: MappingSpec) -> int:
    """Input rows per step: the mapping's, or as many as the buffers hold, in whole waves."""
    if mapping.crossbar.rows_per_step:
        return min(op.M, mapping.crossbar.rows_per_step)
    acc = _sum_format(op.dtype)
    widest_k = max(p.k[1] - p.k[0] for p in passes)
    widest_n = max(p.n[1] - p.n[0] for p in passes)
    row_bytes = {"input": nbytes(widest_k, op.dtype), "output": nbytes(widest_n, acc)}
    fit = fitting_rows(op, row_bytes, machine, mapping.double_buffering)
    wave = min(p.replication for p in passes)
    rows = min(op.M, fit)
    return rows if rows < wave else rows - rows % wave


def compile_crossbar_gemm(
    op: GemmOpSpec,
    plan: CrossbarPlan,
    mapping: MappingSpec,
    machine: Machine,
    numerics: CrossbarNumerics | None,
) -> OpProgram:
    """The OpProgram of one crossbar GEMM: (programming steps), then input-row steps per pass."""
    unit = machine.components[plan.unit]
    cells = op.K * op.N * plan.slicing.cells_per_weight
    programmed = sum(
        (p.k[1] - p.k[0]) * (p.n[1] - p.n[0]) * plan.slicing.cells_per_weight * p.replication
        for p in plan.passes
    )
    adc = unit.adc_range()
    details = {
        "unit": plan.unit,
        "dataflow": "crossbar",
        "tile": {"M": plan.rows_per_step, "N": op.N, "K": op.K},
        "loop_order": "NKM",
        "computed_as": plan.slicing.dtype,
        "input_cycles": plan.slicing.input_cycles,
        "cells_per_weight": plan.slicing.cells_per_weight,
        "row_tiles": math.ceil(op.K / unit.rows),
        "col_tiles": math.ceil(op.N / plan.weights_per_crossbar),
        "copy_crossbars": plan.copy_crossbars,
        "replication": max(p.replication for p in plan.passes),
        "crossbars_used": max(p.crossbars for p in plan.passes),
        "crossbar_utilization": plan.utilization,
        "weight_cells": cells,
        "resident": plan.resident,
        "passes": len(plan.passes),
        "programmed_cells": programmed,
        "program_energy_pj": programmed * unit.energy_pj("program_cell"),
        "program_seconds": _program_seconds(op, plan, unit, machine, mapping),
        "adc_bits": unit.spec.adc_bits,
        "lossless_adc_bits": adc.lossless_bits,
        "double_buffering": mapping.double_buffering,
    }
    return OpProgram(
        name=op.name,
        kind="gemm",
        steps=lambda: _steps(op, plan, mapping, machine, numerics),
        macs=op.M * op.N * op.K,
        flops=2 * op.M * op.N * op.K,
        unit=plan.unit,
        double_buffering=mapping.double_buffering,
        barrier=False,
        depends_on=tuple(op.inputs),
        details=details,
    )


def _steps(op, plan: CrossbarPlan, mapping: MappingSpec, machine: Machine, numerics):
    unit = machine.components[plan.unit]
    inputs, outputs = machine.buffer_for("input").name, machine.buffer_for("output").name
    acc = _sum_format(op.dtype)
    for p in plan.passes:
        if not plan.resident:
            yield from _program_steps(op, plan, p, unit, machine, mapping)
        (k0, k1), (n0, n1) = p.k, p.n
        for m0 in range(0, op.M, plan.rows_per_step):
            m1 = min(m0 + plan.rows_per_step, op.M)
            a_region, c_region = ((m0, m1), (k0, k1)), ((m0, m1), (n0, n1))
            a_bytes = nbytes((m1 - m0) * (k1 - k0), op.dtype)
            c_bytes = nbytes((m1 - m0) * (n1 - n0), acc)
            first, last = k0 == 0, k1 == op.K
            loads = (
                Transfer("load", f"{op.name}.A", a_region, inputs, a_bytes, a_bytes),
                Transfer(
                    "alloc" if first else "reload",
                    f"{op.name}.C",
                    c_region,
                    outputs,
                    0 if first else c_bytes,
                    c_bytes,
                ),
            )
            kernel = numerics and bind(numerics.tile, (m0, m1), (n0, n1), (k0, k1))
            compute = Compute(
                unit=plan.unit,
                cycles=unit.mvm_cycles(plan.slicing, math.ceil((m1 - m0) / p.replication)),
                work=_mvm_work(unit, plan.slicing, p, m1 - m0),
                macs=(m1 - m0) * (k1 - k0) * (n1 - n0),
                sram_traffic=_traffic(inputs, outputs, a_bytes, c_bytes),
                regions={
                    "A": a_region,
                    "B": ((k0, k1), (n0, n1)),
                    "C": c_region,
                },
                kernel=kernel or None,
            )
            store = Transfer(
                "store" if last else "spill", f"{op.name}.C", c_region, outputs, c_bytes, c_bytes
            )
            yield Step(loads, (compute,), (store,), ((inputs, a_bytes),))


def _mvm_work(unit: Crossbar, slicing: Slicing, p: Pass, vectors: int) -> tuple:
    """Action counts of `vectors` input vectors through one copy of a pass's crossbars."""
    k, n = p.k[1] - p.k[0], p.n[1] - p.n[0]
    cycles = vectors * slicing.input_cycles
    reads = cycles * p.row_tiles * p.col_tiles
    conversions = cycles * p.row_tiles * n * slicing.cells_per_weight
    return (
        ("crossbar_read", reads),
        ("dac_drive", cycles * k * p.col_tiles),
        ("adc_convert", conversions),
        ("shift_add", conversions),
        ("ima_registers", reads),
        ("tile_periphery", reads),
        # row-tile partial sums, the offset/flip correction per output, and sum_k x per row
        ("accumulate", vectors * (n * p.row_tiles + k)),
    )


def _program_chunks(
    op, p: Pass, unit: Crossbar, machine: Machine, mapping
) -> list[tuple[int, int]]:
    """Row ranges of a pass's weights loaded (and programmed) at a time: whole row tiles that fit
    the weight buffer (twice over when double-buffered)."""
    weights = machine.buffer_for("weight")
    row_bytes = nbytes(p.n[1] - p.n[0], op.dtype)
    factor = 2 if mapping.double_buffering else 1
    tiles = weights.capacity_bytes // (factor * row_bytes * unit.rows)
    if tiles < 1 and factor * row_bytes * min(unit.rows, op.K) > weights.capacity_bytes:
        raise CapacityError(
            f"{op.name}: programming a row tile of weights needs "
            f"{factor * row_bytes * min(unit.rows, op.K):,} B in {weights.name} but it holds "
            f"{weights.capacity_bytes:,} B"
        )
    rows = max(1, tiles) * unit.rows
    return [(r0, min(r0 + rows, p.k[1])) for r0 in range(p.k[0], p.k[1], rows)]


def _program_steps(op, plan: CrossbarPlan, p: Pass, unit: Crossbar, machine, mapping):
    """Load a pass's weights through the weight buffer and write them into the cells (timed)."""
    weights = machine.buffer_for("weight").name
    n0, n1 = p.n
    for r0, r1 in _program_chunks(op, p, unit, machine, mapping):
        size = nbytes((r1 - r0) * (n1 - n0), op.dtype)
        region = ((r0, r1), (n0, n1))
        cells = (r1 - r0) * (n1 - n0) * plan.slicing.cells_per_weight * p.replication
        program = Compute(
            unit=plan.unit,
            cycles=unit.program_cycles(min(unit.rows, r1 - r0)),
            work=(("program_cell", cells),),
            macs=0,
            sram_traffic=((weights, size * p.replication, 0),),
            regions={"B": region},
        )
        load = Transfer("load", f"{op.name}.B", region, weights, size, size)
        yield Step((load,), (program,), (), ((weights, size),))


def _program_seconds(op, plan: CrossbarPlan, unit: Crossbar, machine, mapping) -> float:
    """Time to program the weights: once for all (resident: every crossbar in parallel) or the
    sum of the program steps."""
    if plan.resident:
        return min(unit.rows, op.K) * unit.program_row_s
    return sum(
        min(unit.rows, r1 - r0) * unit.program_row_s
        for p in plan.passes
        for r0, r1 in _program_chunks(op, p, unit, machine, mapping)
    )
