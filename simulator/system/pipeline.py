"""Pipeline parallelism with micro-batches: the workload split into micro-batches, and their GPipe
schedule over the stages, with each micro-batch's activations crossing the link between stages.

Forward only (inference), so GPipe's and 1F1B's schedules are the same: stage s starts
micro-batch j once it has finished j - 1 and j's activations have arrived from stage s - 1.
The schedule runs in simpy, each stage boundary a link that carries one transfer at a time
(latency + bytes / bandwidth) while the sender goes on with its next micro-batch. With equal
stages of t and free links it ends at (m + p - 1) t, each stage idle for the bubble
(p - 1) / (m + p - 1) of it (GPipe, Huang et al. 2019).
"""

import simpy

from simulator.errors import SpecError, UnsupportedError
from simulator.report.system import Schedule
from simulator.spec.workload import VECTOR_KINDS, WorkloadSpec

SPLIT = {"gemm": "M", "attention": "batch", **dict.fromkeys(VECTOR_KINDS, "rows")}
"""The dimension each op kind splits its micro-batches along (tokens, sequences, rows)."""


def micro_batch(workload: WorkloadSpec, count: int, where: str) -> WorkloadSpec:
    """One of `count` equal micro-batches of `workload`: every op's rows (a GEMM's M, a vector
    op's rows, attention's batch of sequences) divided by `count`."""
    if count == 1:
        return workload
    ops = []
    for op in workload.ops:
        dim = SPLIT.get(op.kind)
        if dim is None:
            raise UnsupportedError(
                f"{where}: {op.name} ({op.kind}) cannot be split into micro-batches; "
                "systems of chips split GEMMs, attention and vector ops"
            )
        value = getattr(op, dim)
        if value % count:
            raise SpecError(
                f"{where}: micro_batches {count} does not divide {op.name}'s {dim} ({value})"
            )
        sequence = getattr(op, "seq_len", None) or value  # a rope's rows: whole sequences
        if op.kind == "rope" and (value // count) % sequence:
            raise SpecError(
                f"{where}: micro_batches {count} cuts {op.name}'s sequences of {sequence} rows; "
                "a micro-batch holds whole sequences, each rotated from its first position"
            )
        ops.append(op.model_copy(update={dim: value // count}))
    return workload.model_copy(update={"ops": ops, "name": f"{workload.name}/mb{count}"})


def gpipe(stage: list[float], hop: list[float], micro_batches: int) -> Schedule:
    """The GPipe forward schedule of `micro_batches` through stages taking `stage[s]` seconds
    each per micro-batch, boundary s's link taking `hop[s]` seconds per micro-batch."""
    env = simpy.Environment()
    links = [simpy.Resource(env, 1) for _ in hop]
    arrived = [[env.event() for _ in range(micro_batches)] for _ in stage]

    def send(s: int, j: int):
        with links[s].request() as slot:
            yield slot
            yield env.timeout(hop[s])
        arrived[s + 1][j].succeed()

    def run(s: int):
        for j in range(micro_batches):
            if s:
                yield arrived[s][j]
            yield env.timeout(stage[s])
            if s + 1 < len(stage):
                env.process(send(s, j))

    for s in range(len(stage)):
        env.process(run(s))
    env.run()
    return Schedule(env.now, tuple(t * micro_batches for t in stage), micro_batches)
