"""GEMMs on near-memory units (HBM-PIM): the weights stay in the DRAM banks.

Input rows cross the external interface into the buffers and results go back out, in the precision
the GEMM writes (`written_precision`, as on a MAC array); the weights are read inside the banks by
the units at the internal bandwidth and never touch the DRAM bus.
"""

from simulator.components import Machine
from simulator.components.pim import PimUnit
from simulator.errors import CapacityError
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, bind
from simulator.mapping.vector_ops import _traffic
from simulator.numerics import GemmNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes, written_precision
from simulator.spec.workload import GemmOpSpec


def fitting_rows(op: GemmOpSpec, row_bytes: dict[str, int], machine: Machine, double: bool) -> int:
    """Input rows whose bytes per role ({role: bytes per row}) fit the buffers; CapacityError if
    not even one does."""
    factor = 2 if double else 1
    need: dict[str, int] = {}
    for role, size in row_bytes.items():
        name = machine.buffer_for(role).name
        need[name] = need.get(name, 0) + factor * size
    fit = min(machine.components[b].capacity_bytes // per_row for b, per_row in need.items())
    if fit < 1:
        b, per_row = max(need.items(), key=lambda item: item[1])
        raise CapacityError(
            f"{op.name}: one input row and its outputs need {per_row:,} B in {b} but it holds "
            f"{machine.components[b].capacity_bytes:,} B"
        )
    return fit


def compile_pim_gemm(
    op: GemmOpSpec, mapping: MappingSpec, machine: Machine, unit: PimUnit, numerics: bool, seed: int
):
    """The OpProgram of a GEMM on near-memory units, and its numerics state."""
    unit.check(op.name, op.dtype)
    acc = unit.accumulator(op.dtype)
    out = written_precision(op.dtype, op.output_dtype, acc)
    row_bytes = {"input": nbytes(op.K, op.dtype), "output": nbytes(op.N, out)}
    fit = fitting_rows(op, row_bytes, machine, mapping.double_buffering)
    rows = min(op.M, (mapping.tile or {}).get("M", op.M), fit)
    state = GemmNumerics(op.M, op.N, op.K, op.dtype, acc, seed, out) if numerics else None
    inputs, outputs = machine.buffer_for("input").name, machine.buffer_for("output").name

    def steps():
        for m0 in range(0, op.M, rows):
            m1 = min(m0 + rows, op.M)
            a_region, c_region = ((m0, m1), (0, op.K)), ((m0, m1), (0, op.N))
            a_bytes, c_bytes = nbytes((m1 - m0) * op.K, op.dtype), nbytes((m1 - m0) * op.N, out)
            compute = Compute(
                unit=unit.name,
                cycles=unit.gemm_cycles(m1 - m0, op.K, op.N, op.dtype),
                work=(
                    (f"mac_{op.dtype}", (m1 - m0) * op.K * op.N),
                    ("bank_read", unit.weight_reads(m1 - m0, op.K, op.N, op.dtype)),
                ),
                macs=(m1 - m0) * op.K * op.N,
                sram_traffic=_traffic(inputs, outputs, a_bytes, c_bytes),
                regions={"A": a_region, "B": ((0, op.K), (0, op.N)), "C": c_region},
                kernel=state and bind(state.tile, (m0, m1), (0, op.N), (0, op.K)),
            )
            yield Step(
                (
                    Transfer("load", f"{op.name}.A", a_region, inputs, a_bytes, a_bytes),
                    Transfer("alloc", f"{op.name}.C", c_region, outputs, 0, c_bytes),
                ),
                (compute,),
                (Transfer("store", f"{op.name}.C", c_region, outputs, c_bytes, c_bytes),),
                ((inputs, a_bytes),),
            )

    details = {
        "unit": unit.name,
        "dataflow": "near-memory",
        "tile": {"M": rows, "N": op.N, "K": op.K},
        "loop_order": "M",
        "accumulator": acc,
        "bank_bytes": sum(
            unit.weight_reads(min(rows, op.M - m0), op.K, op.N, op.dtype)
            for m0 in range(0, op.M, rows)
        ),
        "double_buffering": mapping.double_buffering,
    }
    program = OpProgram(
        name=op.name,
        kind="gemm",
        steps=steps,
        macs=op.M * op.N * op.K,
        flops=2 * op.M * op.N * op.K,
        unit=unit.name,
        double_buffering=mapping.double_buffering,
        barrier=False,
        depends_on=tuple(op.inputs),
        details=details,
    )
    return program, state
