"""System spec: identical chips (any chip arch, itself many-core or not) on chip-to-chip links,
run with tensor parallelism inside a group of chips and pipeline stages across groups."""

import itertools
import math
import operator
from typing import Annotated, Literal

from pydantic import Discriminator, Tag, field_validator, model_validator

from simulator.errors import UnsupportedError
from simulator.spec.arch import ArchSpec
from simulator.spec.chip import LinkKind
from simulator.spec.types import BytesPerS, PositiveInt, Seconds, Strict


class SystemLinksSpec(Strict):
    """The network between the chips: a link kind from simulator/tech/noc.yaml chip_to_chip, how
    many of each chip's ports it uses, and how they are wired."""

    kind: LinkKind
    """Link preset (bandwidth per link per direction, latency, energy per bit) from
    simulator/tech/noc.yaml chip_to_chip."""
    count: PositiveInt
    """Ports of this kind per chip on this network (DGX A100: 12 NVLink 3; H100: 18 NVLink 4)."""
    topology: Literal["switch", "ring", "torus"]
    """switch: every chip's ports go to a non-blocking switch (NVSwitch), one crossbar port per
    chip carrying all its links; ring: ports split between the two neighbours; torus: dims [X, Y]
    or [X, Y, Z], ports split between the 4 or 6 neighbours (one ICI link each on TPU v4)."""
    dims: list[PositiveInt] | None = None
    """Torus: [X, Y] or [X, Y, Z] with their product = chips (a TPU v4 cube: [4, 4, 4]); a
    tensor-parallel group spans the first dims; default [chips] for switch and ring."""
    bandwidth: BytesPerS | None = None
    """Override: bandwidth per chip per direction on this network (default count x the link's)."""
    latency: Seconds | None = None
    """Override: one-way latency of one hop (default the link preset's)."""


class SystemSpec(Strict):
    """`count` copies of one chip arch on `links`; the workload runs tensor-parallel over
    `tensor_parallel` chips and, across `pipeline_stages` such groups, layer by layer."""

    chip: Annotated[
        Annotated[str, Tag("name")] | Annotated[ArchSpec, Tag("inline")],
        Discriminator(lambda value: "name" if isinstance(value, str) else "inline"),
    ]
    """The chip: a shipped arch preset name (a100-like, h100-like, tpu-v4-like, ...), an arch file
    path, or an inline arch."""
    set: dict[str, str | int | float | bool] = {}
    """Overrides of the chip's keys, dotted as `--set` takes them (e.g. {clock: 1.2 GHz})."""
    count: PositiveInt
    """Chips in the system."""
    links: SystemLinksSpec
    """The chip-to-chip network."""
    tensor_parallel: PositiveInt | None = None
    """Chips per tensor-parallel group (Megatron column/row split, all-reduce after each row-split
    GEMM); default count / pipeline_stages."""
    pipeline_stages: PositiveInt = 1
    """Groups the layers are split over, one after the other; their activations cross one link."""
    micro_batches: PositiveInt = 1
    """The batch (or, with batch 1, a single GEMM's rows) is split into this many micro-batches
    that flow through the pipeline stages on a GPipe schedule (forward only, so 1F1B's is the
    same); 1: the whole batch at once."""
    sources: list[str] = []
    """Where the chip count, links and wiring come from."""

    @field_validator("set")
    @classmethod
    def _no_nesting(cls, values):
        if any(key.startswith("system") for key in values):
            raise ValueError("chips cannot themselves be systems (a key starts with 'system')")
        return values

    @model_validator(mode="after")
    def _groups(self):
        tp = self.tensor_parallel or self.count // self.pipeline_stages
        if tp * self.pipeline_stages != self.count:
            raise ValueError(
                f"tensor_parallel {tp} x pipeline_stages {self.pipeline_stages} must equal count "
                f"{self.count}"
            )
        dims = self.links.dims or [self.count]
        torus = self.links.topology == "torus"
        if (
            math.prod(dims) != self.count
            or (torus and len(dims) not in (2, 3))
            or (not torus and len(dims) != 1)
        ):
            raise ValueError(
                f"links.dims: {self.links.topology} over {self.count} chips needs "
                + ("[X, Y] or [X, Y, Z] with their product = count" if torus else "[count]")
                + f", got {dims}"
            )
        if torus and tp > 1 and tp not in itertools.accumulate(dims, operator.mul):
            raise ValueError(
                f"links.dims {dims}: a tensor-parallel group of {tp} chips must span the first "
                "dims of the torus (their product)"
            )
        return self

    @property
    def tp(self) -> int:
        """Chips per tensor-parallel group."""
        return self.tensor_parallel or self.count // self.pipeline_stages


class SystemArchSpec(Strict):
    """An arch that is a system of chips: one arch file, one simulation."""

    name: str
    """Short name shown in reports."""
    description: str = ""
    """One line on what this system models and where its numbers come from."""
    system: SystemSpec
    """The chips, their links and how the workload is split over them."""

    @property
    def chip_arch(self) -> ArchSpec:
        """The chip arch (resolved by the loader when given by name)."""
        return self.system.chip


def one_chip(arch, what: str):
    """`arch` itself when it is one chip; an UnsupportedError naming its chip when it is a system
    of chips, for the studies (`what`) that take one chip arch."""
    if isinstance(arch, SystemArchSpec):
        raise UnsupportedError(
            f"{arch.name} is a system of chips; {what} takes one chip arch (its chip is "
            f"{arch.chip_arch.name}); `accsim run` runs systems"
        )
    return arch
