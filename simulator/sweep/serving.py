"""Serving runs as sweep points: a `base.serving` block names the model, the request stream and
the fleet, `serving.*` parameters vary them (rate, batch limits, chunk size, stages), `arch.*`
parameters vary the hardware, and each point's row carries the serving summary as columns."""

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator

from simulator.spec import ArchSpec
from simulator.spec.types import PositiveInt, Strict
from simulator.spec.validate import validate
from simulator.spec.yamlio import Document


class ServingPoint(Strict):
    """One serving run: the model, its request stream, the scheduler and fleet, the SLO."""

    model: str
    """Model preset (llama-2-7b, llama-3-8b, ...) or a HuggingFace config.json path."""
    requests: PositiveInt = 200
    """Requests in the stream."""
    rate: float | None = None
    """Poisson arrival rate (requests/s); none sends every request at time 0."""
    prompt_len: PositiveInt = 512
    """Prompt tokens of every request."""
    output_len: PositiveInt = 128
    """Output tokens of every request."""
    scheduler: Literal["continuous", "static", "chunked", "disaggregated"] = "continuous"
    """Batching policy."""
    max_batch: PositiveInt = 256
    """Sequences per iteration."""
    max_tokens: PositiveInt | None = None
    """Tokens per iteration (chunked: the chunk size); none: 512 chunked, 8192 otherwise."""
    replicas: PositiveInt = 1
    """Replicas behind the router (disaggregated: prefill replicas)."""
    pipeline_stages: PositiveInt = 1
    """Pipeline stages per replica (copies of the arch on its chip-to-chip links)."""
    host_overhead_s: float = 0.0
    """Serving runtime CPU seconds per iteration that the accelerator waits for."""
    slo_ttft_s: float | None = None
    """TTFT target for goodput (s)."""
    slo_tpot_s: float | None = None
    """TPOT target for goodput (s)."""
    bucket_ratio: float = 2.0
    """Cost grid ratio (1: exact shapes)."""
    cost_cache: str | None = None
    """JSON memo of simulated shapes shared by the points (and other runs); none: per point."""
    seed: int = 0
    """Seed of the arrivals."""

    @field_validator("bucket_ratio")
    @classmethod
    def _within_reach(cls, ratio: float) -> float:
        """A cost grid whose top knot lies far past the tokens it serves is refused where the
        value is given (the base or a point's parameter), before any shape is simulated."""
        from simulator.serving.costs import GRID_TOP, grid_reach  # the serving layer: on use

        reach = grid_reach(ratio, GRID_TOP) if 1 <= ratio < math.inf else None
        if reach is not None:
            raise ValueError(f"{ratio:g}: {reach}")
        return ratio


def serving_point(base: dict, params: list[tuple[list[str], Any]], where: str) -> ServingPoint:
    """The base serving block with the point's `serving.*` values set, validated."""
    data = dict(base)
    for keys, value in params:
        data[keys[0]] = value
    return validate(ServingPoint, Document(data, where, {}))


def run_serving(arch: ArchSpec, point: ServingPoint) -> dict[str, Any]:
    """Serve the point's stream on `arch` and return the summary's scalar metrics."""
    # imported here: the serving layer (and pandas with it) stays out of a GEMM sweep's processes,
    # which fork and exit cheaper the less memory they map
    from simulator.serving import (
        CostModel,
        Fleet,
        Lengths,
        Limits,
        Slo,
        fixed_batch,
        load_model,
        poisson,
        serve,
    )

    model = load_model(point.model)
    lengths = Lengths(point.prompt_len, point.output_len)
    specs = (
        poisson(point.rate, point.requests, lengths, point.seed)
        if point.rate is not None
        else fixed_batch(point.requests, lengths, point.seed)
    )
    chunk = 512 if point.scheduler == "chunked" else 8192
    cache = Path(point.cost_cache) if point.cost_cache else None
    result = serve(
        arch,
        model,
        specs,
        Fleet(
            scheduler=point.scheduler,
            replicas=point.replicas,
            pipeline_stages=point.pipeline_stages,
            host_overhead_s=point.host_overhead_s,
        ),
        Limits(point.max_batch, point.max_tokens or chunk),
        Slo(point.slo_ttft_s, point.slo_tpot_s),
        costs=CostModel(arch, model, point.bucket_ratio, cache=cache),
    )
    return {k: v for k, v in result.summary.items() if k not in ("arch", "model", "scheduler")}
