"""Serving capacity: one run per arrival rate, and the highest rate whose p99 TTFT and TPOT meet
an SLO (the question operators ask of a chip)."""

import pandas as pd

from simulator.errors import SpecError, expect
from simulator.serving.costs import CostModel
from simulator.serving.engine import Fleet
from simulator.serving.metrics import ServingResult, Slo
from simulator.serving.requests import Lengths, poisson
from simulator.serving.run import DEFAULT_FLEET, DEFAULT_LIMITS, serve
from simulator.serving.scheduler import Limits

COLUMNS = [
    "rate",
    "ttft_p99_s",
    "tpot_p99_s",
    "throughput_tokens_per_s",
    "goodput_rps",
    "kv_peak_utilization",
    "energy_per_token_j",
]


def rate_sweep(
    costs: CostModel,
    rates: list[float],
    lengths: Lengths,
    requests: int,
    slo: Slo,
    fleet: Fleet = DEFAULT_FLEET,
    limits: Limits = DEFAULT_LIMITS,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[float, ServingResult]]:
    """Serve the same seeded Poisson stream shape at each rate (one cost memo for all); a row per
    rate with `meets_slo` (p99 TTFT and p99 TPOT within the SLO's targets)."""
    expect(costs, CostModel, "rate_sweep: costs")
    expect(rates, (list, tuple), "rate_sweep: rates (a list of arrival rates)")
    if not rates:
        raise SpecError("rate_sweep: rates: give at least one arrival rate")
    for rate in rates:
        expect(rate, (int, float), "rate_sweep: rates")
    runs = {
        rate: serve(
            costs.arch,
            costs.model,
            poisson(rate, requests, lengths, seed),
            fleet,
            limits,
            slo,
            costs=costs,
        )
        for rate in sorted(rates)
    }
    table = pd.DataFrame(
        [{**{k: r.summary[k] for k in COLUMNS[1:]}, "rate": rate} for rate, r in runs.items()]
    )
    table = table[COLUMNS]
    table["meets_slo"] = _meets(table, slo)
    return table, runs


def _meets(table: pd.DataFrame, slo: Slo) -> pd.Series:
    ok = pd.Series(True, index=table.index)
    if slo.ttft_s is not None:
        ok &= table.ttft_p99_s <= slo.ttft_s
    if slo.tpot_s is not None:
        ok &= table.tpot_p99_s.fillna(0) <= slo.tpot_s
    return ok


def capacity(table: pd.DataFrame) -> float | None:
    """The highest rate meeting the SLO below the first rate that misses it (None: none meets)."""
    expect(table, pd.DataFrame, "capacity: table (rate_sweep's first result)")
    missing = [c for c in ("rate", "meets_slo") if c not in table.columns]
    if missing:
        raise SpecError(f"capacity: table: no column {missing[0]!r} (give rate_sweep's table)")
    highest = None
    for row in table.sort_values("rate").itertuples():
        if not row.meets_slo:
            break
        highest = row.rate
    return highest
