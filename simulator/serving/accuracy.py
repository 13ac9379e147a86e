"""How far the iteration cost model is from simulate() itself, in its two approximations:
bucketing (interpolating between grid knots) and splitting a layer into dense + attention parts."""

import numpy as np
import pandas as pd

from simulator.api import simulate
from simulator.serving.costs import Batch, CostModel
from simulator.spec.transformer import expand


def bucketing_error(grid: CostModel, exact: CostModel, batches: list[Batch]) -> pd.DataFrame:
    """Per batch: the grid model's iteration time and the exact-shape model's, and their error."""
    rows = []
    for batch in batches:
        approx, truth = grid.iteration(batch).seconds, exact.iteration(batch).seconds
        rows.append((batch.tokens, len(batch.decode_kv), approx, truth, approx / truth - 1))
    return pd.DataFrame(
        rows, columns=["tokens", "decode_requests", "bucketed_s", "exact_s", "rel_error"]
    )


def decomposition_error(costs: CostModel, shapes: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Per uniform (phase, batch, context): one layer as the cost model prices it (dense part +
    attention, simulated apart and added) against simulate() of the whole layer at once."""
    rows = []
    layer = costs.model.layer
    for phase, batch, context in shapes:
        whole = expand(
            layer.model_copy(update={"phase": phase, "batch": batch, "context": context})
        )
        truth = simulate(costs.arch, whole, numerics=False).seconds
        if phase == "decode":
            parts = costs.price("dense", batch) + costs.price("decode", batch, context)
        else:  # a batch of prompts: dense over every token, then each prompt's attention
            parts = costs.price("dense", batch * context) + costs.price("prompt", context).scale(
                batch
            )
        rows.append((phase, batch, context, parts.seconds, truth, parts.seconds / truth - 1))
    return pd.DataFrame(
        rows, columns=["phase", "batch", "context", "parts_s", "whole_s", "rel_error"]
    )


def random_batches(rng: np.random.Generator, count: int, max_context: int) -> list[Batch]:
    """Mixed iterations like a continuous/chunked scheduler forms: some decodes, maybe a prompt."""
    batches = []
    for _ in range(count):
        decodes = int(rng.integers(1, 64))
        kv = tuple(int(k) for k in rng.integers(16, max_context, decodes))
        prefill = ()
        if rng.random() < 0.5:
            prompt = int(rng.integers(16, max_context // 2))
            prefill = ((prompt, prompt),)
        batches.append(Batch(kv, prefill, decodes + len(prefill)))
    return batches
