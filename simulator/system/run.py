"""A workload on a system of chips: one chip's tensor-parallel share on the chip's own arch (its
partition inside: CTA waves on a GPU-like chip, MXU-shaped parts on a TPU-like one), and the
all-reduces on the chip-to-chip links, both in the discrete-event engine.

The chips of a tensor-parallel group run identical shares at the same time, so one is simulated
and its energy counted tp times; an all-reduce sits on the critical path between the row-split
GEMM that feeds it and the residual add that reads it (Megatron-LM), so it adds to the chip's
time. On a torus it runs ring by ring along the group's dimensions (reduce-scatter along X, then
Y, all-reduce along the last, all-gather back), one line of each dimension simulated and its
parallel copies counted. On links GPUs run NCCL over (NVLink, PCIe; a switch, ring or torus),
each collective runs as the protocol NCCL's cost model picks for its size (tech/nccl.yaml),
those NCCL runs alike on one run of the links. Pipeline stages take the layers in order; the batch, split into
micro-batches, flows through them on a GPipe schedule (simulator/system/pipeline.py), each
micro-batch's output activations crossing one link between stages.
"""

import math
from collections.abc import Callable

from simulator.report import Report
from simulator.report.system import LinkRun, SystemReport
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.system import SystemArchSpec
from simulator.spec.validate import locate
from simulator.spec.workload import CollectiveOpSpec, WorkloadSpec
from simulator.system.links import link_arch, neighbour_link
from simulator.system.pipeline import gpipe, micro_batch
from simulator.system.shard import shard, written_dtype
from simulator.tech import nccl

Simulate = Callable[..., Report]
"""simulate(arch, workload, mapping) -> Report, with the caller's numerics, seed and limits."""


def simulate_system(
    system: SystemArchSpec, workload: WorkloadSpec, mapping: MappingSpec, simulate: Simulate
) -> SystemReport:
    """Simulate `workload` on `system`: one micro-batch's chip share and its all-reduces on the
    links, then the micro-batches' pipeline schedule."""
    spec = system.system
    micro = micro_batch(workload, spec.micro_batches, locate(system, "system.micro_batches"))
    part = shard(micro, spec.tp, spec.pipeline_stages, locate(system, "system"))
    chip = simulate(system.chip_arch, part.workload, mapping)
    links = _all_reduces(system, list(part.all_reduces.values()), simulate)
    all_reduce_of = {gemm: op.name for gemm, op in part.all_reduces.items()}
    stage = _stage_seconds(chip, part.stage_of, spec.pipeline_stages)
    for gemm, name in all_reduce_of.items():
        stage[part.stage_of[gemm]] += sum(run.seconds_of(name) for run in links)
    hops = _hop_seconds(system, part.workload, part.stage_of)
    return SystemReport(
        system.name,
        workload.name,
        mapping.name,
        spec.count,
        spec.tp,
        spec.pipeline_stages,
        chip,
        links,
        all_reduce_of,
        part.stage_of,
        sum(hops),
        gpipe(stage, hops, spec.micro_batches),
    )


def _all_reduces(
    system: SystemArchSpec, reduces: list[CollectiveOpSpec], simulate: Simulate
) -> tuple[LinkRun, ...]:
    """The all-reduces one after another on the group's links: one ring over the group on a
    switch or ring; on a torus, rings along each dimension the group spans, each dimension's
    data the previous one's reduce-scattered chunk."""
    spec = system.system
    if not reduces:
        return ()
    if spec.links.topology != "torus":
        return _runs(system, reduces, None, spec.tp, 1, simulate)
    dims = list(spec.links.dims)
    while math.prod(dims) != spec.tp:
        dims.pop()
    lines = [(axis, n) for axis, n in zip("xyz", dims, strict=False) if n > 1]
    runs, share = [], 1
    for i, (axis, n) in enumerate(lines):
        patterns = ("all_reduce",) if i == len(lines) - 1 else ("reduce_scatter", "all_gather")
        phases = [
            op.model_copy(
                update={
                    "name": f"{op.name}.{axis}.{pattern}",
                    "pattern": pattern,
                    "elements": -(-op.elements // share),
                }
            )
            for op in reduces
            for pattern in patterns
        ]
        runs += _runs(system, phases, n, n, spec.tp // n, simulate)
        share *= n
    return tuple(runs)


def _runs(
    system: SystemArchSpec,
    ops: list[CollectiveOpSpec],
    line: int | None,
    ranks: int,
    copies: int,
    simulate: Simulate,
) -> tuple[LinkRun, ...]:
    """`ops` over `ranks` chips (a line of a torus, or the whole group), each in the protocol
    NCCL picks for it on links NCCL runs over; those NCCL runs alike (protocol, algorithm,
    pattern: the links' rate and latency under it) share one run of the links, in the order the
    layers give them, and without NCCL all share one."""
    groups: dict[tuple, list[CollectiveOpSpec]] = {}
    for op in ops:
        protocol = _protocol(system, op, ranks)
        key = (protocol, op.algorithm, op.pattern) if protocol else (None,)
        groups.setdefault(key, []).append(op.model_copy(update={"protocol": protocol}))
    return tuple(
        LinkRun(
            simulate(link_arch(system, line, *key), _chained(group), _ring(ranks)),
            copies,
        )
        for key, group in groups.items()
    )


def _protocol(system: SystemArchSpec, op: CollectiveOpSpec, ranks: int) -> str | None:
    """The protocol NCCL picks for `op` over `ranks` chips of the group's links, None on links
    without NCCL."""
    hardware = nccl.hardware(system.system.links.kind)
    if hardware is None:
        return None
    bus = neighbour_link(system, "Simple")[0]  # the protocol changes the latency, not the rate
    size = nbytes(op.elements, op.dtype)
    return nccl.choose(hardware, op.algorithm, op.pattern, size, ranks, bus)


def _chained(ops: list[CollectiveOpSpec]) -> WorkloadSpec:
    """The collectives one after another, as the layers order them."""
    chained, previous = [], []
    for op in ops:
        chained.append(op.model_copy(update={"inputs": previous}))
        previous = [op.name]
    return WorkloadSpec(name="all-reduces", ops=chained)


def _ring(chips: int) -> MappingSpec:
    return MappingSpec.model_validate(
        {"name": f"ring over {chips} chips", "partition": {"cores": chips}}
    )


def _stage_seconds(chip: Report, stage_of: dict[str, int], stages: int) -> list[float]:
    """The chip's run cut where each stage's last op ends (the last stage to the run's end), so
    the stages' times add up to the chip's."""
    ends = [0] * stages
    for op in chip.program.ops:
        stage = stage_of[op.group or op.name]
        ends[stage] = max(ends[stage], chip.record.op_end[op.name])
    ends[-1] = chip.cycles
    cuts = [0, *ends]
    return [(cuts[s + 1] - cuts[s]) / chip.clock_hz for s in range(stages)]


def _hop_seconds(system: SystemArchSpec, workload: WorkloadSpec, stage_of: dict) -> list[float]:
    """One micro-batch's activations (each stage's last op's output, in the precision it is
    written in) crossing the link at each stage boundary: latency + bytes / (the chip's bandwidth
    to one neighbour)."""
    bandwidth, latency, _ = neighbour_link(system)
    last = {stage_of[op.name]: op for op in workload.ops}
    hops = []
    for stage in range(system.system.pipeline_stages - 1):
        op = last[stage]
        elements = op.M * op.N if op.kind == "gemm" else op.rows * op.cols
        hops.append(latency + nbytes(elements, written_dtype(op)) / bandwidth)
    return hops
