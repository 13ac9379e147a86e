"""Exact LIF networks whose weights, thresholds, biases and reset values are off the integers but
on the core's potential grid (multiples of 2^-frac_bits) run as integers in units of 2^-f: the
same spikes and potentials as the network scaled by 2^f by hand on a core with f fewer fraction
bits (the integer path), and a value off the grid is a one-line error."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import SpecError
from simulator.spec.grid import dyadic_bits
from tests.test_neuro import neuro_arch


@pytest.mark.parametrize(
    ("values", "bits"),
    [([[3.0, -2.0]], 0), ([[2.5]], 1), ([[0.25, 3.0], [-1.5]], 2), ([[1 / 64]], 6)],
)
def test_dyadic_bits_by_hand(values, bits):
    assert dyadic_bits([np.array(v) for v in values], 6) == bits


@pytest.mark.parametrize("value", [0.3, 1 / 128])
def test_values_off_the_grid_have_no_dyadic_bits(value):
    assert dyadic_bits([np.array([1.0, value])], 6) is None


def _network(weights, threshold, bias, reset_value, decay, steps=30):
    return {
        "kind": "snn",
        "name": "dyadic",
        "time_steps": steps,
        "quantisation": "exact",
        "groups": [
            {
                "name": "in",
                "size": 3,
                "kind": "input",
                "spikes": [[1, 0, 1] * 10, [1] * 30, [0, 1] * 15],
            },
            {
                "name": "h",
                "size": 4,
                "neuron": {
                    "threshold": threshold,
                    "bias": bias,
                    "reset": "zero",
                    "reset_value": reset_value,
                    "decay": decay,
                },
            },
        ],
        "connections": [{"source": "in", "target": "h", "kind": "dense", "weights": weights}],
    }


def _run(workload, frac_bits):
    arch = neuro_arch(cores=1, dims=(1, 1), weight_bits=16)
    arch["cores"]["components"]["core"]["potential_frac_bits"] = frac_bits
    report = simulator.simulate(arch, workload)
    return [f.tolist() for f in report.record.fired], report


@settings(max_examples=25, deadline=None)
@given(
    bits=st.integers(0, 3),
    weights=st.lists(st.integers(-24, 24), min_size=12, max_size=12),
    threshold=st.integers(1, 40),
    bias=st.integers(-4, 4),
    reset_value=st.integers(-4, 4),
    decay=st.sampled_from([1.0, 0.75, 0.5]),
)
def test_dyadic_network_runs_as_the_integer_network_scaled_by_hand(
    bits, weights, threshold, bias, reset_value, decay
):
    unit = 2.0**bits
    dyadic = _network(
        [w / unit for w in weights], threshold / unit, bias / unit, reset_value / unit, decay
    )
    scaled = _network(weights, threshold, bias, reset_value, decay)
    mine, report = _run(dyadic, 6)
    theirs, integer = _run(scaled, 6 - bits)
    assert mine == theirs
    assert report.summary["spike_trains_match"]
    assert np.array_equal(report.record.final_potential * unit, integer.record.final_potential)


def test_a_value_off_the_potential_grid_is_a_one_line_error():
    with pytest.raises(
        SpecError,
        match=r"quantisation: exact quantisation needs thresholds on the "
        r"core's potential grid \(multiples of 2\^-6\)",
    ):
        _run(_network([1.0] * 12, 0.3, 0.0, 0.0, 1.0), 6)
