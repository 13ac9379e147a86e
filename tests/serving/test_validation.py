"""Serving against independent derivations: one request's prefill and decode from simulate() of
the whole model, the bandwidth bound, saturation, Little's law, the schedulers' known effects."""

import numpy as np
import pytest

from simulator.api import simulate
from simulator.serving import Fleet, Lengths, Limits, Slo, fixed_batch, poisson, serve
from simulator.serving.accuracy import bucketing_error, decomposition_error, random_batches
from simulator.spec.transformer import expand


def _whole_model(tiny, phase: str, context: int) -> float:
    """simulate() of the full model (every layer and the LM head) for one sequence."""
    spec = tiny.layer.model_copy(
        update={"phase": phase, "context": context, "layers": tiny.layers, "vocab": tiny.vocab}
    )
    return simulate("tpu-v4-like", expand(spec), numerics=False).seconds


def test_at_low_rate_ttft_is_one_prefill_and_tpot_one_decode_step(tiny, exact):
    prompt, output = 256, 33
    result = serve(exact.arch, tiny, fixed_batch(1, Lengths(prompt, output)), costs=exact)
    row = result.requests.iloc[0]
    assert row.ttft_s == pytest.approx(_whole_model(tiny, "prefill", prompt), rel=0.05)
    # decode steps see KV lengths prompt+1 .. prompt+32: their mean is the step at the midpoint
    mid = _whole_model(tiny, "decode", prompt + 16)
    assert row.tpot_s == pytest.approx(mid, rel=0.05)
    # and never beats streaming every weight from HBM once per token
    assert row.tpot_s >= tiny.weight_bytes / 1200e9


def test_bucketed_costs_stay_close_to_exact_shapes(costs, exact):
    errors = bucketing_error(costs, exact, random_batches(np.random.default_rng(0), 12, 1024))
    assert errors.rel_error.abs().median() < 0.10


def test_a_layer_priced_in_parts_matches_the_whole_layer(costs):
    shapes = [("decode", 1, 300), ("decode", 8, 700), ("prefill", 1, 200), ("prefill", 2, 96)]
    errors = decomposition_error(costs, shapes)
    assert errors.rel_error.abs().max() < 0.03


def test_throughput_follows_the_rate_then_saturates(tiny, costs):
    lengths, n = Lengths(128, 32), 150
    rates = [10, 100, 1e5, 1e6]
    runs = [serve(costs.arch, tiny, poisson(r, n, lengths, seed=4), costs=costs) for r in rates]
    tps = [run.summary["throughput_tokens_per_s"] for run in runs]
    assert tps[0] == pytest.approx(rates[0] * 32, rel=0.25)  # light load: what arrives leaves
    assert tps[1] == pytest.approx(rates[1] * 32, rel=0.25)
    assert tps[3] == pytest.approx(tps[2], rel=0.15)  # past capacity: flat
    assert tps[2] > 10 * tps[1]
    assert runs[3].summary["ttft_p99_s"] > 3 * runs[1].summary["ttft_p99_s"]  # the queue grows


def test_littles_law_on_the_simulated_queue(tiny, costs):
    result = serve(costs.arch, tiny, poisson(3e4, 600, Lengths(128, 32), seed=5), costs=costs)
    r, it = result.requests, result.iterations
    horizon = r.finish_s.max() - r.arrival_s.min()
    # L from the scheduler's own count of requests in the system at each iteration, time-weighted
    # (an idle replica holds none) against lambda x W from the requests' timestamps
    average = float((it.in_system * it.seconds).sum() / horizon)
    assert average == pytest.approx(len(r) / horizon * r.e2e_s.mean(), rel=0.05)
    assert average > 5  # the queue is not trivially empty


def test_chunked_prefill_bounds_the_decode_stalls(tiny, costs):
    # long prompts arriving into running decodes stall them under vLLM's prefill-first batching;
    # Sarathi-Serve's chunks keep every iteration (and so every inter-token gap) small
    specs = poisson(60, 60, Lengths(1024, 64), seed=6)
    cont = serve(costs.arch, tiny, specs, costs=costs)
    chunk = serve(
        costs.arch, tiny, specs, Fleet(scheduler="chunked"), Limits(max_tokens=128), costs=costs
    )
    assert chunk.summary["itl_max_p99_s"] < cont.summary["itl_max_p99_s"]


def test_static_batching_waits_for_the_longest_answer(tiny, costs):
    specs = poisson(2e4, 80, Lengths(128, 64, output_sd=40), seed=7)
    static = serve(
        costs.arch, tiny, specs, Fleet(scheduler="static"), Limits(max_batch=16), costs=costs
    )
    cont = serve(costs.arch, tiny, specs, limits=Limits(max_batch=16), costs=costs)
    assert static.summary["ttft_p50_s"] > cont.summary["ttft_p50_s"]
    assert static.summary["throughput_tokens_per_s"] < cont.summary["throughput_tokens_per_s"]


def test_two_replicas_share_the_load_and_goodput_counts_slo_hits(tiny, costs):
    specs = poisson(2e4, 100, Lengths(128, 32), seed=8)
    for router in ("round_robin", "least_outstanding"):
        fleet = Fleet(replicas=2, router=router)
        result = serve(costs.arch, tiny, specs, fleet, slo=Slo(ttft_s=1e-3), costs=costs)
        r = result.requests
        assert set(r.replica) == {0, 1}
        hits = int((r.ttft_s <= 1e-3).sum())
        assert result.summary["goodput_rps"] == pytest.approx(hits / result.summary["duration_s"])


def test_disaggregated_hand_off_costs_the_kv_transfer(tiny, exact):
    prompt = 512
    fleet = Fleet(scheduler="disaggregated", link_gbps=1.0)
    result = serve(exact.arch, tiny, fixed_batch(1, Lengths(prompt, 3)), fleet, costs=exact)
    row = result.requests.iloc[0]
    alone = serve(exact.arch, tiny, fixed_batch(1, Lengths(prompt, 3)), costs=exact)
    assert row.ttft_s == pytest.approx(alone.requests.iloc[0].ttft_s)  # the prompt ran alone
    # 2 layers x 2 (K, V) x 2 KV heads x 64 x 2 bytes = 1 KiB a token, over 1 GB/s
    transfer = prompt * 1024 / 1e9
    gap = row.itl_max_s - alone.requests.iloc[0].itl_max_s
    assert gap == pytest.approx(transfer, rel=0.02)
    assert set(result.iterations.replica) == {0, 1}


def test_a_closed_loop_never_has_more_requests_in_flight_than_users(tiny, costs):
    from simulator.serving import ClosedLoop

    specs = fixed_batch(40, Lengths(64, 8))
    result = serve(costs.arch, tiny, specs, loop=ClosedLoop(users=3, think_s=1e-4), costs=costs)
    assert len(result.requests) == 40
    assert result.iterations.in_system.max() == 3
    # each user's next request arrives think_s after its previous answer ended
    by_user = result.requests.sort_values("arrival_s")
    ends = sorted(result.requests.finish_s + 1e-4)
    assert set(np.round(by_user.arrival_s.iloc[3:], 12)) <= set(np.round(ends, 12))


def test_host_overhead_is_paid_once_per_iteration(tiny, costs):
    specs = fixed_batch(1, Lengths(64, 10))  # one prefill iteration, then 9 decode iterations
    base = serve(costs.arch, tiny, specs, costs=costs).requests.iloc[0]
    slow = serve(costs.arch, tiny, specs, Fleet(host_overhead_s=4e-3), costs=costs).requests.iloc[0]
    assert slow.ttft_s - base.ttft_s == pytest.approx(4e-3)
    assert slow.e2e_s - base.e2e_s == pytest.approx(10 * 4e-3)


def test_requests_sent_together_start_in_one_batch(tiny, costs):
    result = serve(costs.arch, tiny, fixed_batch(4, Lengths(32, 3)), Fleet(scheduler="static"),
                   costs=costs)  # fmt: skip
    first = result.iterations.iloc[0]
    assert (first.batch_size, first.prefill_tokens) == (4, 4 * 32)
    assert len(result.iterations) == 3  # one prefill, then two decode steps for all four
