"""`accsim serve`: the JSON keys the issue names, and one-line errors."""

import json

import pytest

from simulator.cli import main

KEYS = {
    "ttft_p50_s",
    "ttft_p99_s",
    "tpot_p50_s",
    "tpot_p99_s",
    "e2e_p99_s",
    "throughput_tokens_per_s",
    "requests_per_s",
    "goodput_rps",
    "preemptions",
    "kv_peak_utilization",
    "energy_per_token_j",
}


def test_serve_json_has_the_headline_keys(tiny_config, tmp_path, capsys):
    cache = tmp_path / "costs.json"
    args = ["serve", "tpu-v4-like", str(tiny_config), "--rate", "500", "--requests", "20"]
    args += ["--prompt-len", "64", "--output-len", "8", "--slo-ttft", "1", "--json"]
    assert main(args + ["--cost-cache", str(cache)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert KEYS <= set(summary) and summary["requests"] == 20
    assert summary["goodput_rps"] == summary["requests_per_s"]
    # a second run reuses every simulated shape from the cache file
    assert main(args + ["--cost-cache", str(cache)]) == 0
    assert json.loads(capsys.readouterr().out)["cost_simulations"] == 0


def test_serve_tables_and_errors(tiny_config, tmp_path, capsys):
    cache = ["--cost-cache", str(tmp_path / "c.json")]
    args = ["serve", "tpu-v4-like", str(tiny_config), "--users", "2", "--requests", "6"]
    assert main(args + ["--prompt-len", "32", "--output-len", "4"] + cache) == 0
    assert "TTFT" in capsys.readouterr().out
    assert main(["serve", "tpu-v4-like", "llama-9"] + cache) == 2
    assert "llama-9: no model preset" in capsys.readouterr().err
    assert main(["serve", "tpu-v4-like", "llama-2-7b", "--scheduler", "fifo"] + cache) == 2
    assert "scheduler 'fifo'" in capsys.readouterr().err


def test_figures_read_the_result_tables(tiny, costs):
    from simulator.serving import Lengths, poisson, serve
    from simulator.serving.plots import kv_over_time, latency_cdf, throughput_latency

    runs = {
        r: serve(costs.arch, tiny, poisson(r, 20, Lengths(64, 8)), costs=costs) for r in (1e3, 1e5)
    }
    cdf = latency_cdf({"a": runs[1e3]}, "e2e_s")
    assert list(cdf.data[0].y)[-1] == 1.0 and len(cdf.data[0].x) == 20
    assert len(throughput_latency(runs).data[0].x) == 2
    kv = kv_over_time(runs[1e5])
    assert len(kv.data[0].x) == len(runs[1e5].iterations)


def test_capacity_is_the_last_rate_before_the_first_miss():
    import pandas as pd

    from simulator.serving import capacity

    table = pd.DataFrame({"rate": [8, 1, 2, 4], "meets_slo": [True, True, True, False]})
    assert capacity(table) == 2  # 8 meets again but lies past the knee
    assert capacity(table.assign(meets_slo=False)) is None


def test_serve_rates_reports_capacity(tiny_config, tmp_path, capsys):
    args = ["serve", "tpu-v4-like", str(tiny_config), "--rates", "1e3,1e6", "--requests", "30"]
    args += ["--prompt-len", "64", "--output-len", "8", "--slo-ttft", "1e-3", "--json"]
    assert main(args + ["--cost-cache", str(tmp_path / "c.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["rate"] for row in out["rates"]] == [1e3, 1e6]
    meets = [row["ttft_p99_s"] <= 1e-3 for row in out["rates"]]
    assert [row["meets_slo"] for row in out["rates"]] == meets
    expected = None if not meets[0] else (1e6 if meets[1] else 1e3)
    assert out["capacity_rps"] == expected


def test_slo_with_a_unit_equals_the_same_slo_in_seconds(tiny_config, tmp_path, capsys):
    args = ["serve", "tpu-v4-like", str(tiny_config), "--rate", "500", "--requests", "8"]
    args += ["--prompt-len", "64", "--output-len", "8", "--json"]
    args += ["--cost-cache", str(tmp_path / "c.json")]
    runs = []
    for slo in (["0.0002", "0.00005"], ["200 us", "50us"]):
        assert main(args + ["--slo-ttft", slo[0], "--slo-tpot", slo[1]]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[1]["slo_ttft_s"] == pytest.approx(2e-4) and runs[1]["slo_tpot_s"] == pytest.approx(
        5e-5
    )
    assert runs[0]["goodput_rps"] == runs[1]["goodput_rps"]
    assert runs[0]["slo_attainment"] == runs[1]["slo_attainment"]
