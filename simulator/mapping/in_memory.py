"""Ops whose weights stay in memory: GEMMs and groups=1 convs on crossbars (planned together,
since they share the crossbars) and GEMMs on near-memory (PIM) units."""

from simulator.components import Machine
from simulator.errors import SpecError
from simulator.spec.mapping import MappingSpec
from simulator.spec.validate import locate
from simulator.spec.workload import WorkloadSpec


def compile_in_memory(
    workload: WorkloadSpec, mapping: MappingSpec, machine: Machine, numerics, seed
):
    """Programs (and numerics states) of the ops whose unit is a crossbar or a near-memory unit,
    by op name. The crossbar and PIM mappers load only for such a unit."""
    if machine.core_count > 1 or not machine.compute_units:
        return {}
    default = mapping.unit or next(iter(machine.compute_units))
    unit = machine.components.get(default)
    if unit is None or unit.kind not in ("crossbar", "pim"):
        return {}
    from simulator.mapping.crossbar import compile_crossbar_gemm, plan_crossbars
    from simulator.mapping.crossbar_conv import compile_crossbar_conv, runs_on_crossbar, unrolled
    from simulator.mapping.pim import compile_pim_gemm
    from simulator.numerics.crossbar import CrossbarNumerics
    from simulator.numerics.crossbar_conv import ConvCrossbarNumerics

    gemms = [op for op in workload.ops if op.kind == "gemm"]
    convs = [op for op in workload.ops if runs_on_crossbar(op)] if unit.kind == "crossbar" else []
    if not (gemms or convs):
        return {}
    _check_mapping(mapping, unit)
    compiled = {}
    index = {op.name: i for i, op in enumerate(workload.ops)}
    if unit.kind == "pim":
        for op in gemms:
            compiled[op.name] = compile_pim_gemm(
                op, mapping, machine, unit, numerics, seed + index[op.name]
            )
        return compiled
    plans = plan_crossbars(gemms + [unrolled(op) for op in convs], unit, mapping, machine)
    for op in gemms:
        state = (
            CrossbarNumerics.random(op.M, op.N, op.K, op.dtype, unit, seed + index[op.name])
            if numerics
            else None
        )
        compiled[op.name] = (
            compile_crossbar_gemm(op, plans[op.name], mapping, machine, state),
            state,
        )
    for op in convs:
        state = ConvCrossbarNumerics(op, unit, seed + index[op.name]) if numerics else None
        compiled[op.name] = (
            compile_crossbar_conv(op, plans[op.name], mapping, machine, state),
            state,
        )
    return compiled


def _check_mapping(mapping: MappingSpec, unit) -> None:
    """GEMM tiling keys meant for arrays would be ignored here: say so instead (dataflow and
    spatial may still be meant for attention on a digital array)."""
    allowed = {"M"} if unit.kind == "pim" else set()  # near-memory: input rows per step
    for key in ("tile", "loop_order"):
        value = getattr(mapping, key)
        if value is None or (key == "tile" and set(value) <= allowed):
            continue
        use = "crossbar: {replication, rows_per_step}" if unit.kind == "crossbar" else "tile: {M}"
        raise SpecError(
            f"{locate(mapping, key)}: does not apply to GEMMs on {unit.name} ({unit.kind}), "
            f"whose weights stay in memory; use {use}"
        )
