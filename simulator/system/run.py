"""A workload on a system of chips: one chip's tensor-parallel share on the chip's own arch (its
partition inside: CTA waves on a GPU-like chip, MXU-shaped parts on a TPU-like one), and the
all-reduces on the chip-to-chip links, both in the discrete-event engine.

The chips of a tensor-parallel group run identical shares at the same time, so one is simulated
and its energy counted tp times; an all-reduce sits on the critical path between the row-split
GEMM that feeds it and the residual add that reads it (Megatron-LM), so it adds to the chip's
time. Pipeline stages run one after the other for one batch; a stage's output activations cross
one link to the next stage (latency + bytes / bandwidth of the link).
"""

from collections.abc import Callable

from simulator.report import Report
from simulator.report.system import SystemReport
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.system import SystemArchSpec
from simulator.spec.validate import locate
from simulator.spec.workload import WorkloadSpec
from simulator.system.links import link_arch, neighbour_link
from simulator.system.shard import shard

Simulate = Callable[..., Report]
"""simulate(arch, workload, mapping) -> Report, with the caller's numerics, seed and limits."""


def simulate_system(
    system: SystemArchSpec, workload: WorkloadSpec, mapping: MappingSpec, simulate: Simulate
) -> SystemReport:
    """Simulate `workload` on `system`: the chip's share, then the all-reduces on the links."""
    spec = system.system
    part = shard(workload, spec.tp, spec.pipeline_stages, locate(system, "system"))
    chip = simulate(system.chip_arch, part.workload, mapping)
    links = None
    if part.all_reduces:
        reduces, previous = [], []
        for op in part.all_reduces.values():  # one after another, as the layer orders them
            reduces.append(op.model_copy(update={"inputs": previous}))
            previous = [op.name]
        collectives = WorkloadSpec(name=f"{workload.name} all-reduces", ops=reduces)
        on_group = MappingSpec.model_validate(
            {"name": f"ring over {spec.tp} chips", "partition": {"cores": spec.tp}}
        )
        links = simulate(link_arch(system), collectives, on_group)
    return SystemReport(
        system.name,
        workload.name,
        mapping.name,
        spec.count,
        spec.tp,
        spec.pipeline_stages,
        chip,
        links,
        {gemm: op.name for gemm, op in part.all_reduces.items()},
        part.stage_of,
        _hop_seconds(system, part.workload, part.stage_of),
    )


def _hop_seconds(system: SystemArchSpec, workload: WorkloadSpec, stage_of: dict) -> float:
    """One batch's activations (each stage's last op's output) crossing one link per stage
    boundary: latency + bytes / (the chip's bandwidth to one neighbour)."""
    bandwidth, latency, _ = neighbour_link(system)
    last = {stage_of[op.name]: op for op in workload.ops}
    seconds = 0.0
    for stage in range(system.system.pipeline_stages - 1):
        op = last[stage]
        elements = op.M * op.N if op.kind == "gemm" else op.rows * op.cols
        seconds += latency + nbytes(elements, op.dtype) / bandwidth
    return seconds
