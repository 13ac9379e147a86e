"""Sampled numerics: every edge output tile and about 30 interior ones are computed and checked,
coverage still counts every output, and the report names the mode."""

import math

import pytest

import simulator
from simulator.cli import main

TILED = {
    "name": "t",
    "dataflow": "os",
    "tile": {"M": 32, "N": 32, "K": 256},
    "loop_order": ["M", "N", "K"],
}
GEMM = "gemm:M=512,N=384,K=256,dtype=int8"


def test_sample_covers_every_edge_tile_and_about_thirty_interior_ones():
    report = simulator.simulate("edge-npu", GEMM, TILED, numerics="sample")
    rows, cols = 512 // 32, 384 // 32  # a 16 x 12 grid of output tiles
    edges = 2 * rows + 2 * cols - 4
    interior = rows * cols - edges
    checked = report.summary["numerics_checked"]["gemm"]
    assert checked.startswith(f"sample: all {edges} edge and ")
    sampled = int(checked.split(" and ")[1].split(" of ")[0])
    assert checked.endswith(f"of {interior} interior output tiles")
    # Bernoulli(30/140) draws over 140 tiles: mean 30, sd sqrt(140 p (1-p)) ~ 4.9; allow 4 sd.
    p = 30 / interior
    assert abs(sampled - 30) <= 4 * math.sqrt(interior * p * (1 - p))
    assert report.summary["numerics_ok"] and report.summary["coverage_ok"]


def test_sample_is_seeded():
    runs = [
        simulator.simulate("edge-npu", GEMM, TILED, numerics="sample", seed=s) for s in (1, 1, 2)
    ]
    checked = [r.summary["numerics_checked"]["gemm"] for r in runs]
    assert checked[0] == checked[1]


def test_float_sample_errors_stay_within_the_full_checks():
    full = simulator.simulate(
        "edge-npu", "gemm:M=256,N=256,K=256,dtype=fp16", TILED, numerics="full"
    )
    sample = simulator.simulate(
        "edge-npu", "gemm:M=256,N=256,K=256,dtype=fp16", TILED, numerics="sample"
    )
    assert sample.summary["numerics_ok"]
    assert sample.summary["numerics_max_abs_error"] <= full.summary["numerics_max_abs_error"]
    assert full.summary["numerics_checked"] == {"gemm": "all outputs"}


def test_auto_checks_small_gemms_in_full():
    report = simulator.simulate("edge-npu", GEMM, TILED)
    assert report.summary["numerics_checked"] == {"gemm": "all outputs"}


@pytest.mark.parametrize("flag", [["--numerics", "off"], ["--no-numerics"]])
def test_cli_numerics_off_and_its_alias(flag, capsys):
    assert main(["run", "edge-npu", "gemm-256", *flag]) == 0
    assert "off (--numerics off)" in capsys.readouterr().out


def test_cli_names_the_sample(capsys):
    assert (
        main(["run", "edge-npu", "gemm:M=256,N=256,K=256,dtype=int8", "--numerics", "sample"]) == 0
    )
    assert "sample: all" in capsys.readouterr().out
