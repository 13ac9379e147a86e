"""Pipeline parallelism: a replica's layers split over `stages` copies of the arch, one after the
other on the arch's chip-to-chip links, with micro-batches in flight on different stages.

Each stage is a copy of the whole arch (one chip, or a tensor-parallel group on a multi-chip arch)
holding layers / stages consecutive layers; the last stage also runs the LM head. A micro-batch
holds a stage for that stage's share of the iteration, then sends its activations (tokens x hidden
x dtype bytes) to the next stage over a link. Stages and links are simpy resources, so a second
micro-batch runs stage 0 while the first runs stage 1, and bubbles appear when there are fewer
micro-batches in flight than stages. As in vLLM v0 (one "virtual engine" per stage, each with its
own scheduler and 1 / stages of the KV blocks), the micro-batches come from `stages` schedulers.
"""

from dataclasses import dataclass

import simpy

from simulator import tech
from simulator.errors import CapacityError, SpecError
from simulator.serving.costs import Batch, Cost, CostModel
from simulator.serving.kvcache import BlockManager
from simulator.serving.models import Model
from simulator.spec import ArchSpec
from simulator.spec.precision import nbytes


@dataclass(frozen=True)
class StageLink:
    """One direction between consecutive stages: bytes per second and one-way latency."""

    bytes_per_s: float
    latency_s: float

    def seconds(self, nbytes: int) -> float:
        return self.latency_s + nbytes / self.bytes_per_s


def stage_link(arch: ArchSpec) -> StageLink:
    """The arch's fastest chip-to-chip port kind (`chip.links`), all its ports used one way (as
    through an NVSwitch; a torus neighbour gets one port, so this is an upper bound there)."""
    table = tech.table("noc")["chip_to_chip"]
    if not arch.chip.links:
        raise SpecError(
            f"{arch.name}: chip.links: pipeline stages need chip-to-chip links; the arch declares none"
        )
    best = max(
        arch.chip.links, key=lambda p: table[p.kind]["bandwidth_gbps_per_direction"] * p.count
    )
    link = table[best.kind]
    return StageLink(
        link["bandwidth_gbps_per_direction"] * best.count * 1e9, link["latency_ns"] * 1e-9
    )


def check_stages(stages: int, layers: int, model_name: str) -> None:
    if not isinstance(stages, int) or stages < 1:
        raise SpecError(f"pipeline_stages: must be a positive integer, got {stages!r}")
    if layers % stages:
        raise SpecError(
            f"pipeline_stages: {model_name}'s {layers} layers do not split evenly over {stages} stages"
        )


def kv_blocks(
    dram_bytes: int, model: Model, stages: int, block_size: int, fraction: float, where: str
) -> BlockManager:
    """A replica's KV blocks. Every stage holds the same tokens' KV for its own layers, so the
    last stage (its layers plus the LM head) binds; its count is computed on the stages' totals
    (blocks of the whole model's KV), which is exact because the layers split evenly."""
    head = nbytes(model.layer.hidden * model.vocab, model.layer.dtype)
    last = (model.weight_bytes - head) // stages + head
    if stages > 1 and int(dram_bytes * fraction) - last < model.kv_bytes_per_token // stages:
        raise CapacityError(
            f"{where} in {stages} pipeline stages: the last stage's weights take "
            f"{last / 2**30:.2f} GiB of {fraction:.0%} x {dram_bytes / 2**30:.2f} GiB DRAM"
        )
    kv = (model.kv_bytes_per_token, block_size, fraction, where, model.layer.sliding_window)
    return BlockManager(dram_bytes * stages, last * stages, *kv)


class Pipeline:
    """The stages and links of one pipeline-parallel replica, shared by its micro-batches."""

    def __init__(self, env: simpy.Environment, costs: CostModel, stages: int):
        model = costs.model
        check_stages(stages, model.layers, model.name)
        self.env, self.costs, self.stages = env, costs, stages
        self.layers_per_stage = model.layers // stages
        self.link = stage_link(costs.arch)
        self.activation_bytes = nbytes(model.layer.hidden, model.layer.dtype)  # one token
        self.units = [simpy.Resource(env, 1) for _ in range(stages)]
        self.links = [simpy.Resource(env, 1) for _ in range(stages - 1)]

    def stage_costs(self, batch: Batch) -> list[Cost]:
        """Each stage's share of the iteration: its layers, plus the LM head on the last."""
        layers = self.costs.layer(batch).scale(self.layers_per_stage)
        return [layers] * (self.stages - 1) + [layers + self.costs.head(batch)]

    def transfer_seconds(self, batch: Batch) -> float:
        """One hop of the batch's activations (every token's hidden state) to the next stage."""
        return self.link.seconds(batch.tokens * self.activation_bytes)

    def run(self, batch: Batch, parts: list[Cost]):
        """Timing assumption: a micro-batch holds each stage for its share, then the link to the
        next for latency + bytes / bandwidth; it waits whenever another micro-batch holds either."""
        hop = self.transfer_seconds(batch)
        for stage, cost in enumerate(parts):
            with self.units[stage].request() as slot:
                yield slot
                yield self.env.timeout(cost.seconds)
            if stage < self.stages - 1:
                with self.links[stage].request() as slot:
                    yield slot
                    yield self.env.timeout(hop)
