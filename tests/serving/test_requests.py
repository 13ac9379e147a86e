"""Arrival processes and trace files: the statistics they promise, and clear errors."""

import re

import numpy as np
import pytest

from simulator.errors import SpecError
from simulator.serving import Lengths, gamma, load_trace, poisson


def test_poisson_gaps_have_mean_one_over_rate_and_unit_cv():
    specs = poisson(5.0, 20000, Lengths(), seed=1)
    gaps = np.diff([s.arrival_s for s in specs])
    assert gaps.mean() == pytest.approx(1 / 5.0, rel=0.03)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.03)


def test_bursty_gamma_gaps_have_the_asked_cv():
    gaps = np.diff([s.arrival_s for s in gamma(2.0, 3.0, 40000, Lengths(), seed=2)])
    assert gaps.mean() == pytest.approx(0.5, rel=0.05)
    assert gaps.std() / gaps.mean() == pytest.approx(3.0, rel=0.08)


def test_lengths_lognormal_keep_their_mean_and_same_seed_same_stream():
    lengths = Lengths(prompt_mean=600, output_mean=200, prompt_sd=300, output_sd=100)
    specs = poisson(1.0, 20000, lengths, seed=3)
    assert np.mean([s.prompt_tokens for s in specs]) == pytest.approx(600, rel=0.03)
    assert np.mean([s.output_tokens for s in specs]) == pytest.approx(200, rel=0.03)
    assert specs == poisson(1.0, 20000, lengths, seed=3)


def test_azure_trace_format_loads_as_is(tmp_path):
    path = tmp_path / "AzureLLMInferenceTrace_conv.csv"
    path.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2023-11-16 18:15:46.6805900,374,44\n"
        "2023-11-16 18:15:50.9951690,396,109\n"
        "2023-11-16 18:15:47.0000000,879,200\n"
    )
    specs = load_trace(path)
    assert [s.arrival_s for s in specs] == pytest.approx([0.0, 0.31941, 4.3145790])
    assert [(s.prompt_tokens, s.output_tokens) for s in specs] == [
        (374, 44),
        (879, 200),
        (396, 109),
    ]


def test_plain_trace_and_bad_rows(tmp_path):
    good = tmp_path / "t.csv"
    good.write_text("arrival_s,prompt_tokens,output_tokens\n1.5,10,5\n2.0,20,6\n")
    assert [s.arrival_s for s in load_trace(good)] == [0.0, 0.5]
    bad = tmp_path / "bad.csv"
    bad.write_text("arrival_s,prompt_tokens,output_tokens\n0,10,5\n1,0,6\n")
    with pytest.raises(SpecError, match=r"bad.csv: row 3: prompt_tokens"):
        load_trace(bad)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(SpecError, match="other.csv: needs columns"):
        load_trace(other)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: gamma(float("nan"), 1.0, 3, Lengths()), "rate (nan)"),
        (lambda: gamma(1.0, float("inf"), 3, Lengths()), "cv (inf)"),
        (lambda: Lengths(prompt_mean=0), "prompt_mean"),
        (lambda: Lengths(output_mean=2.5), "output_mean"),
        (lambda: Lengths(prompt_sd=-1.0), "prompt_sd"),
        (lambda: Lengths(output_sd=float("nan")), "output_sd"),
    ],
)
def test_impossible_streams_are_refused(make, fragment):
    with pytest.raises(SpecError, match=re.escape(fragment)):
        make()


def test_slo_and_closed_loop_refuse_impossible_targets():
    from simulator.serving import ClosedLoop, Slo

    for bad in (dict(ttft_s=-1.0), dict(tpot_s=0.0), dict(ttft_s=float("nan"))):
        with pytest.raises(SpecError, match="slo: "):
            Slo(**bad)
    with pytest.raises(SpecError, match="think_s"):
        ClosedLoop(2, think_s=-3.0)
    with pytest.raises(SpecError, match="users"):
        ClosedLoop(0)
    assert Lengths(512.0, 128).prompt_mean == 512.0  # a sweep axis may give whole floats
