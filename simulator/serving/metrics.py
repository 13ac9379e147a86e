"""Serving results: per-request and per-iteration rows first, percentiles and goodput after."""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from simulator.errors import SpecError, expect

ITERATION_COLUMNS = [
    "replica",
    "start_s",
    "seconds",
    "batch_size",
    "decode_requests",
    "prefill_tokens",
    "tokens",
    "emitted_tokens",
    "kv_utilization",
    "waiting",
    "in_system",
    "energy_j",
    "swap_bytes",
]


@dataclass(frozen=True)
class Slo:
    """Latency targets a request must meet to count toward goodput (None: no target)."""

    ttft_s: float | None = None
    tpot_s: float | None = None

    def __post_init__(self):
        for name in ("ttft_s", "tpot_s"):
            value = getattr(self, name)
            if value is not None:
                expect(value, (int, float), f"slo: {name}")
            if value is not None and not 0 < value < math.inf:
                raise SpecError(f"slo: {name} must be a finite positive time, got {value!r}")


@dataclass(frozen=True)
class ServingResult:
    """One serving run: `requests` and `iterations` DataFrames, `summary` dict (stable keys)."""

    arch: str
    model: str
    scheduler: str
    requests: pd.DataFrame
    iterations: pd.DataFrame
    slo: Slo
    preemptions: int
    swap_bytes: int
    simulations: int

    @cached_property
    def summary(self) -> dict:
        r, it = self.requests, self.iterations
        span = float(r.finish_s.max() - r.arrival_s.min()) if len(r) else 0.0
        tokens = int(r.output_tokens.sum())
        good = np.ones(len(r), dtype=bool)
        if self.slo.ttft_s is not None:
            good &= r.ttft_s.to_numpy() <= self.slo.ttft_s
        if self.slo.tpot_s is not None:
            good &= np.nan_to_num(r.tpot_s.to_numpy(), nan=0.0) <= self.slo.tpot_s
        energy = float(it.energy_j.sum())
        out = {"arch": self.arch, "model": self.model, "scheduler": self.scheduler}
        out["requests"] = len(r)
        for name in ("ttft", "tpot", "itl_max", "e2e"):
            values = r[f"{name}_s"].dropna().to_numpy()
            for p in (50, 90, 99):
                out[f"{name}_p{p}_s"] = float(np.percentile(values, p)) if len(values) else None
            out[f"{name}_mean_s"] = float(values.mean()) if len(values) else None
        out.update(
            duration_s=span,
            throughput_tokens_per_s=tokens / span if span else 0.0,
            requests_per_s=len(r) / span if span else 0.0,
            goodput_rps=int(good.sum()) / span if span else 0.0,
            slo_attainment=float(good.mean()) if len(r) else 0.0,
            slo_ttft_s=self.slo.ttft_s,
            slo_tpot_s=self.slo.tpot_s,
            preemptions=self.preemptions,
            swap_bytes=self.swap_bytes,
            kv_peak_utilization=float(it.kv_utilization.max()) if len(it) else 0.0,
            mean_batch_size=float(np.average(it.batch_size, weights=it.seconds))
            if len(it)
            else 0.0,
            iterations=len(it),
            energy_j=energy,
            energy_per_token_j=energy / tokens if tokens else 0.0,
            energy_per_request_j=energy / len(r) if len(r) else 0.0,
            mean_in_system=float(r.e2e_s.sum() / span) if span else 0.0,
            cost_simulations=self.simulations,
        )
        return out


def request_table(finished) -> pd.DataFrame:
    """One row per finished request: arrival, lengths, TTFT, TPOT, worst ITL, e2e, energy."""
    rows = []
    for q in sorted(finished, key=lambda q: q.rid):
        times = np.asarray(q.token_s)
        gaps = np.diff(times)
        rows.append(
            (
                q.rid,
                q.replica,
                q.spec.arrival_s,
                q.spec.prompt_tokens,
                q.spec.output_tokens,
                q.first_token_s - q.spec.arrival_s,
                (q.finish_s - q.first_token_s) / (q.spec.output_tokens - 1)
                if q.spec.output_tokens > 1
                else np.nan,
                float(gaps.max()) if len(gaps) else np.nan,
                q.finish_s - q.spec.arrival_s,
                q.finish_s,
                q.preemptions,
                q.energy_j,
            )
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "rid",
            "replica",
            "arrival_s",
            "prompt_tokens",
            "output_tokens",
            "ttft_s",
            "tpot_s",
            "itl_max_s",
            "e2e_s",
            "finish_s",
            "preemptions",
            "energy_j",
        ],
    )
    return frame


def iteration_table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ITERATION_COLUMNS)
