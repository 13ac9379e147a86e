"""plotly figures of serving results: latency CDFs, throughput vs latency over rates, KV-cache
and batch size over time. They only read ServingResult tables; nothing here simulates."""

import numpy as np
import plotly.graph_objects as go

from simulator.errors import expect
from simulator.serving.metrics import ServingResult


def latency_cdf(results: dict[str, ServingResult], metric: str = "ttft_s") -> go.Figure:
    """Empirical CDF of one per-request latency column (ttft_s, tpot_s, itl_max_s, e2e_s)."""
    expect(results, dict, "latency_cdf: results (label -> ServingResult)")
    for result in results.values():
        expect(result, ServingResult, "latency_cdf: results")
    fig = go.Figure()
    for label, result in results.items():
        values = np.sort(result.requests[metric].dropna().to_numpy())
        share = np.arange(1, len(values) + 1) / len(values)
        fig.add_trace(go.Scatter(x=values * 1e3, y=share, mode="lines", name=label))
    fig.update_layout(
        xaxis_title=f"{metric.removesuffix('_s')} (ms)", yaxis_title="fraction of requests"
    )
    return fig


def throughput_latency(runs: dict[float, ServingResult], metric: str = "ttft_p99_s") -> go.Figure:
    """Throughput (tokens/s) against a latency percentile, one point per arrival rate."""
    expect(runs, dict, "throughput_latency: runs (rate -> ServingResult, from rate_sweep)")
    for result in runs.values():
        expect(result, ServingResult, "throughput_latency: runs")
    rates = sorted(runs)
    x = [runs[r].summary["throughput_tokens_per_s"] for r in rates]
    y = [runs[r].summary[metric] * 1e3 for r in rates]
    fig = go.Figure(
        go.Scatter(x=x, y=y, mode="lines+markers", text=[f"{r:g} req/s" for r in rates])
    )
    fig.update_layout(xaxis_title="throughput (tokens/s)", yaxis_title=f"{metric} (ms)")
    return fig


def kv_over_time(result: ServingResult) -> go.Figure:
    """KV-cache utilization and batch size at each iteration's start."""
    expect(result, ServingResult, "kv_over_time: result")
    it = result.iterations
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=it.start_s, y=it.kv_utilization, name="KV used", mode="lines"))
    fig.add_trace(
        go.Scatter(x=it.start_s, y=it.batch_size, name="batch size", mode="lines", yaxis="y2")
    )
    fig.update_layout(
        xaxis_title="time (s)",
        yaxis={"title": "KV-cache used (fraction)", "range": [0, 1]},
        yaxis2={"title": "requests in the batch", "overlaying": "y", "side": "right"},
    )
    return fig
