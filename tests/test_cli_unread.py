"""`accsim run` options refused where they would change nothing, named as given: `--seed` is read
where a run draws random values (the numerics check's operands, a spiking network's input
spikes), `--layers` by transformer workloads."""

import pytest

from simulator.cli import main
from tests.test_cli import plain_console, run_json  # noqa: F401 (plain_console: autouse)


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
    assert run_json(capsys, "edge-npu", "gemm-256", "--seed", "7")["numerics_ok"] is True
    spikes = [
        run_json(capsys, "loihi-like", "snn-digits-mlp", "--no-numerics", "--seed", seed)
        for seed in ("0", "7")
    ]
    assert spikes[0] != spikes[1]


@pytest.mark.parametrize("workload", ["gemm-256", "gemm:M=8,N=8,K=8", "snn-digits-mlp"])
def test_layers_off_a_transformer_is_named_as_given(capsys, workload):
    """It was refused as an unknown key said to come from `--set layers`, which was not given."""
    assert main(["run", "edge-npu", workload, "--layers", "2"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "error: --layers: read only by transformer workloads (kind: transformer, or a "
        f"HuggingFace config.json); {workload} is not one"
    )


def test_layers_on_a_transformer_sets_its_layer_count(capsys):
    """Two layers are the one layer's ops twice, L0. and L1. (this preset has no head)."""
    one, two = (
        run_json(capsys, "h100-like", "llama-2-7b-decode", "--no-numerics", "--layers", n)
        for n in ("1", "2")
    )
    per_op = {op["name"] for op in one["ops"]}
    assert {op["name"].replace("L1.", "L0.") for op in two["ops"]} == per_op
    assert len(two["ops"]) == 2 * len(one["ops"])
