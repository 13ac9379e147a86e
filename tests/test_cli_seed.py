"""`--seed` is read where a run draws random values (the numerics check's operands, a spiking
network's input spikes, generated serving requests) and refused where it would change nothing."""

import json

import pytest

from simulator.cli import main


@pytest.fixture(autouse=True)
def plain_console(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "dumb")


def _summary(capsys, *args) -> dict:
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_timing_only_run_is_the_same_for_every_seed(capsys):
    """Without numerics nothing random is drawn for a GEMM: two seeds gave one result, so
    `--seed` there is refused, naming the option and why."""
    from simulator import simulate

    runs = [simulate("edge-npu", "gemm-256", numerics="off", seed=s).summary for s in (0, 7)]
    assert runs[0] == runs[1]
    assert main(["run", "edge-npu", "gemm-256", "--no-numerics", "--seed", "7"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "error: --seed: read only by the numerics check's operands and a spiking network's "
        "inputs; gemm-256 runs for timing only (--no-numerics)"
    )


def test_a_seed_still_runs_where_it_is_read(capsys):
    """With numerics the seed picks the operands; a spiking network's Poisson inputs draw from it
    even for timing only (loihi-like's digits MLP fires differently under two seeds)."""
    assert _summary(capsys, "edge-npu", "gemm-256", "--seed", "7")["numerics_ok"] is True
    spikes = [
        _summary(capsys, "loihi-like", "snn-digits-mlp", "--no-numerics", "--seed", seed)
        for seed in ("0", "7")
    ]
    assert spikes[0] != spikes[1]
