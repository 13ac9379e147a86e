"""Serving runs as sweep points: each row is the serve() run of its knobs, arch parameters
included; a bad serving field is a one-line error before anything runs."""

import json

import pytest

from simulator.errors import SpecError
from simulator.serving import CostModel, Fleet, Lengths, Limits, load_model, poisson, serve
from simulator.spec import load_arch
from simulator.sweep import load_sweep, run_sweep
from tests.serving.conftest import TINY


@pytest.fixture
def sweep(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    serving = {"model": str(config), "requests": 40, "prompt_len": 64, "output_len": 8}
    return {
        "name": "s",
        "base": {"arch": "tpu-v4-like", "serving": {**serving, "scheduler": "chunked"}},
        "grid": {
            "arch.components.hbm.bandwidth": ["1200 GB/s", "300 GB/s"],
            "serving.rate": [50.0, 5000.0],
            "serving.max_tokens": [128],
        },
        "objectives": {"ttft_p99_s": "minimize", "goodput_rps": "maximize"},
    }


def test_each_row_is_the_serve_run_of_its_knobs(sweep, tmp_path):
    out = run_sweep(sweep, tmp_path / "r.csv", jobs=1)
    rows = out.results.sort_values(["arch.components.hbm.bandwidth", "serving.rate"])
    assert (rows.status == "ok").all() and len(rows) == 4
    model = load_model(sweep["base"]["serving"]["model"])
    costs = {}
    for _, row in rows.iterrows():
        bandwidth, rate = row["arch.components.hbm.bandwidth"], row["serving.rate"]
        if bandwidth not in costs:
            arch = load_arch("tpu-v4-like", [(["components", "hbm", "bandwidth"], bandwidth)])
            costs[bandwidth] = CostModel(arch, model)
        direct = serve(
            costs[bandwidth].arch,
            model,
            poisson(rate, 40, Lengths(64, 8)),
            Fleet(scheduler="chunked"),
            Limits(max_tokens=128),
            costs=costs[bandwidth],
        ).summary
        assert row.ttft_p99_s == pytest.approx(direct["ttft_p99_s"])
        assert row.throughput_tokens_per_s == pytest.approx(direct["throughput_tokens_per_s"])
    # a quarter of the HBM bandwidth slows every decode step
    slow = rows[rows["arch.components.hbm.bandwidth"] == "300 GB/s"].tpot_p50_s.to_numpy()
    fast = rows[rows["arch.components.hbm.bandwidth"] == "1200 GB/s"].tpot_p50_s.to_numpy()
    assert (slow > fast).all()


def test_a_serving_sweep_names_its_fields(sweep):
    bad = {**sweep, "grid": {"serving.chunk": [1]}}
    with pytest.raises(SpecError, match="no serving field 'chunk'"):
        load_sweep(bad)
    both = {**sweep, "base": {**sweep["base"], "workload": "gemm-256"}}
    with pytest.raises(SpecError, match="exactly one of workload or serving"):
        load_sweep(both)


def test_a_bad_serving_value_fails_its_row_not_the_sweep(sweep, tmp_path):
    bad = {**sweep, "grid": {"serving.max_batch": [0]}}
    out = run_sweep(bad, tmp_path / "r.csv", jobs=1)
    assert out.results.status.tolist() == ["failed"]
    assert "max_batch" in out.results.error.iloc[0]


def test_the_shipped_serving_sweep_loads():
    sweep = load_sweep("serving-chunk-size")
    assert len(sweep.points) == 6
    assert {"serving.rate", "serving.max_tokens"} <= set(sweep.parameters)
