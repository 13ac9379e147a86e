"""Spiking workloads: spike times by hand, the cores' fixed-point spike trains against the float64
reference over 100 steps, the ANN conversion and its agreement, placement and the CLI."""

import json

import numpy as np
import pytest

import simulator
from simulator.cli import main
from simulator.errors import SpecError
from simulator.mapping.snn import DATA
from simulator.numerics.ann2snn import activations, ann_predict, load_ann, normalise
from simulator.numerics.encoding import encode
from tests.test_neuro import neuro_arch

DIGITS = DATA / "digits_mlp.npz"


def one_neuron(weight, threshold, steps=24, neuron=None, spike_bits=1):
    """An input spiking every step drives neuron A (weight, threshold); A drives a silent B (w = 1)."""
    arch = neuro_arch(spike_bits=spike_bits)
    workload = {
        "kind": "snn",
        "name": "one-neuron",
        "time_steps": steps,
        "quantisation": "exact",
        "groups": [
            {"name": "in", "size": 1, "kind": "input", "spikes": [[1] * steps]},
            {"name": "a", "size": 1, "neuron": {"threshold": threshold, **(neuron or {})}},
            {"name": "b", "size": 1, "neuron": {"threshold": 1000}},
        ],
        "connections": [
            {"source": "in", "target": "a", "kind": "dense", "weights": weight},
            {"source": "a", "target": "b", "kind": "dense", "weights": 1},
        ],
    }
    report = simulator.simulate(arch, workload)
    spikes = [t for t, fired in enumerate(report.record.fired) if 1 in fired]
    return spikes, report


@pytest.mark.parametrize(
    ("weight", "neuron", "expected"),
    [
        # +3 per step from step 1 (input of step t lands at t + 1); fires when v > 10
        (3, {"reset": "subtract"}, [4, 7, 11, 14, 17, 21]),  # residues 2, 1, 3, 2, 1, 3
        (3, {"reset": "zero"}, [4, 8, 12, 16, 20]),
        (
            3,
            {"reset": "zero", "refractory": 2},
            [4, 10, 16, 22],
        ),  # input ignored 2 steps after a spike
        (
            8,
            {"reset": "zero", "decay": 0.5},
            [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22],
        ),  # 8, 4 + 8 = 12
        (3, {"reset": "none"}, list(range(4, 24))),  # stays above threshold
    ],
)
def test_spike_times_by_hand(weight, neuron, expected):
    spikes, report = one_neuron(weight, 10, neuron=neuron)
    assert spikes == expected
    assert report.summary["spike_trains_match"]


@pytest.mark.parametrize(
    ("reverse", "final"),
    [
        # -3 per step from step 1: -3, -6, -9 -> reset, ... ; potential after step 8
        ({"reverse_reset": "subtract"}, -3),  # -9 - (-7) = -2, -5, -8 -> -1, -4, -7, -10 -> -3
        ({"reverse_reset": "zero", "reverse_reset_value": 1}, -5),  # 1, -2, -5, -8 -> 1, -2, -5
        ({"reverse_reset": "saturate"}, -7),  # held at -7 from step 3
        ({"reverse_reset": "none"}, -24),
    ],
)
def test_lif_reverse_threshold_by_hand(reverse, final):
    """SANA-FE's LIF: below the reverse threshold (-7, strictly) the reverse reset applies; its
    soft reset takes the reverse threshold away."""
    _, report = one_neuron(-3, 10, steps=9, neuron={"reverse_threshold": -7, **reverse})
    assert report.record.final_potential[1] == final
    assert report.summary["spike_trains_match"]


def test_graded_spikes_carry_the_thresholds_crossed():
    # v = 25 -> payload 2 (v 5), 30 -> 3 (v 0), 25 -> 2 ...; B integrates payloads of steps 1..3
    spikes, report = one_neuron(25, 10, steps=5, neuron={"reset": "subtract"}, spike_bits=2)
    assert spikes == [1, 2, 3, 4]
    assert report.record.final_potential[2] == 2 + 3 + 2
    assert report.summary["spike_trains_match"]


def random_network(seed, neuron, steps=100, spike_bits=1, potential_bits=None):
    rng = np.random.default_rng(seed)
    workload = {
        "kind": "snn",
        "name": "random",
        "time_steps": steps,
        "seed": seed,
        "groups": [
            {"name": "in", "size": 20, "kind": "input", "rates": rng.uniform(0, 0.6, 20).tolist()},
            {
                "name": "h",
                "size": 30,
                "neuron": {"threshold": 1.0, "bias": rng.normal(0, 0.05, 30).tolist(), **neuron},
            },
            {"name": "out", "size": 10, "neuron": {"threshold": 0.8, **neuron}},
        ],
        "connections": [
            {
                "source": "in",
                "target": "h",
                "kind": "dense",
                "weights": rng.normal(0.1, 0.3, 600).tolist(),
            },
            {
                "source": "h",
                "target": "h",
                "kind": "sparse",
                "pairs": rng.integers(0, 30, (40, 2)).tolist(),
                "weights": rng.normal(0, 0.5, 40).tolist(),
            },
            {
                "source": "h",
                "target": "out",
                "kind": "dense",
                "weights": rng.normal(0.05, 0.4, 300).tolist(),
            },
        ],
        "placement": "spread",
    }
    extra = {"spike_bits": spike_bits}
    if potential_bits:
        extra["potential_bits"] = potential_bits
    arch = neuro_arch(cores=4, **extra)
    arch["cores"]["components"]["core"]["potential_frac_bits"] = 6
    return arch, workload


@pytest.mark.parametrize(
    ("neuron", "spike_bits", "potential_bits"),
    [
        ({"reset": "subtract"}, 1, None),
        ({"reset": "zero", "decay": 0.9, "refractory": 2}, 1, None),
        ({"reset": "subtract", "decay": 0.97}, 3, None),  # graded spikes
        ({"reset": "none", "decay": 0.8}, 1, 14),  # saturating 14-bit potentials
        ({"reset": "zero", "reverse_threshold": -0.4, "reverse_reset": "subtract"}, 1, None),
    ],
)
def test_spike_trains_match_the_float64_reference_over_100_steps(
    neuron, spike_bits, potential_bits
):
    arch, workload = random_network(7, neuron, spike_bits=spike_bits, potential_bits=potential_bits)
    s = simulator.simulate(arch, workload).summary
    assert s["spike_trains_match"] and s["spike_mismatches"] == 0
    assert s["spikes"] - s["input_spikes"] > 100  # the LIF neurons are busy, not silent


def test_converted_mlp_agrees_with_the_ann():
    s = simulator.simulate("loihi-like", "snn-mnist-mlp").summary
    assert s["numerics_ok"] and s["spike_trains_match"]
    assert s["ann_agreement_samples"] == 540
    assert s["ann_agreement"] >= 0.95
    assert s["predicted_class"] == s["ann_class"]


def test_data_normalisation_maps_the_percentile_activation_to_one():
    model = load_ann(DIGITS)
    weights, biases = normalise(model, "data", 99.9)
    scaled = type(model)(
        weights, biases, model.x_test, model.y_test, model.x_norm, model.test_accuracy
    )
    for a in activations(scaled, model.x_norm):
        assert np.percentile(a[a > 0], 99.9) == pytest.approx(1.0)
    # the shipped ANN's own accuracy is what the training script stored
    assert np.mean(ann_predict(model, model.x_test) == model.y_test) == pytest.approx(
        model.test_accuracy, abs=1e-6
    )


def test_input_encoders():
    rates = np.array([0.0, 0.25, 0.5, 1.0])
    assert encode(rates, "rate", 8, 0).sum(axis=0).tolist() == [0, 2, 4, 8]
    periodic = encode(rates, "periodic", 8, 0)
    assert np.flatnonzero(periodic[:, 1]).tolist() == [3, 7]  # steps 4 and 8, counting from 1
    draws = encode(np.full(1000, 0.3), "poisson", 200, (1, 2))
    assert draws.mean() == pytest.approx(0.3, abs=0.01)
    assert np.array_equal(draws, encode(np.full(1000, 0.3), "poisson", 200, (1, 2)))


def test_placement_policies_and_their_traffic():
    arch = simulator.load_arch("loihi-like", [(["cores", "components", "core", "neurons"], 32)])
    fill = simulator.simulate(arch, "snn-mnist-mlp", numerics=False)
    assert fill.summary["cores_used"] == 5  # ceil(138 / 32)
    layer = simulator.simulate(
        arch, simulator.load_workload("snn-mnist-mlp", [(["placement"], "layer")]), numerics=False
    )
    core_of = layer.placement.core_of
    assert [sorted(set(core_of[g.start : g.start + g.size])) for g in layer.net.groups] == [
        [0, 1],
        [2, 3],
        [4],
    ]
    traffic = fill.placements.set_index("placement")
    assert traffic.loc["spread", "packets_inter_core"] > traffic.loc["fill", "packets_inter_core"]
    assert traffic.loc["spread", "hops"] > traffic.loc["fill", "hops"]
    assert (traffic.packets_intra_core + traffic.packets_inter_core).nunique() >= 2


def test_truenorth_fills_cores_by_axons_and_ticks_at_1_khz():
    report = simulator.simulate("truenorth-like", "snn-mnist-mlp")
    s = report.summary
    assert s["seconds"] == pytest.approx(100 * 1e-3)  # 100 ticks of 1 ms
    assert s["energy_pj"] == pytest.approx(26.0 * s["synaptic_ops"])  # 26 pJ per event, all in
    assert s["ann_agreement"] >= 0.85 and s["spike_trains_match"]
    fewer = simulator.load_arch("truenorth-like", [(["cores", "components", "core", "axons"], 128)])
    core_of = simulator.simulate(fewer, "snn-mnist-mlp", numerics=False).placement.core_of
    assert (
        core_of[:128].max() == 0 and core_of[128:].min() == 1
    )  # the output layer needs its own axons


def test_given_placement_must_cover_every_neuron():
    workload = simulator.load_workload("snn-mnist-mlp")
    partial = workload.model_copy(
        update={"placement": [simulator.spec.snn.PlacementSpec(group="input", core=0)]}
    )
    with pytest.raises(SpecError, match="placement leaves neurons of hidden0 unplaced"):
        simulator.simulate("loihi-like", partial)


def test_cli_runs_the_issue_commands(capsys):
    assert main(["run", "loihi-like", "snn-mnist-mlp"]) == 0
    out = capsys.readouterr().out
    for text in (
        "time steps",
        "synaptic ops",
        "energy per inference by category",
        "spike traffic within a core",
        "static power",
        "agreement with the source ANN",
        "identical",
        "by placement",
    ):
        assert text in out
    assert (
        main(
            [
                "run",
                "loihi-like",
                "snn-mnist-mlp",
                "--set",
                "workload.input_rate=0.5",
                "--json",
                "--no-numerics",
            ]
        )
        == 0
    )
    half = json.loads(capsys.readouterr().out)
    assert main(["run", "loihi-like", "snn-mnist-mlp", "--json", "--no-numerics"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert half["input_spikes"] < 0.6 * full["input_spikes"]
    assert half["energy_pj"] < full["energy_pj"]


def test_conv2d_synapses_compute_a_convolution():
    rng = np.random.default_rng(3)
    (c, h, w), (kh, kw), stride, pad, filters = (2, 5, 6), (3, 2), (2, 1), (1, 0), 3
    image = rng.integers(0, 2, (c, h, w))  # which inputs spike at step 0
    kernel = rng.integers(-4, 5, (kh, kw, c, filters))
    out_h, out_w = (h + 2 * pad[0] - kh) // stride[0] + 1, (w + 2 * pad[1] - kw) // stride[1] + 1
    workload = {
        "kind": "snn",
        "name": "conv",
        "time_steps": 2,
        "quantisation": "exact",
        "groups": [
            {
                "name": "x",
                "size": c * h * w,
                "kind": "input",
                "spikes": [[int(b)] for b in image.ravel()],
            },
            {"name": "y", "size": filters * out_h * out_w, "neuron": {"threshold": 1000}},
        ],
        "connections": [
            {
                "source": "x",
                "target": "y",
                "kind": "conv2d",
                "input_shape": [c, h, w],
                "kernel": [kh, kw],
                "stride": list(stride),
                "padding": list(pad),
                "weights": kernel.ravel().tolist(),
            }
        ],
    }
    report = simulator.simulate(neuro_arch(cores=1, dims=(1, 1), neurons=256), workload)
    padded = np.pad(image, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    expected = np.zeros((filters, out_h, out_w))  # direct loops: y[o, i, j] = sum x * K
    for o in range(filters):
        for i in range(out_h):
            for j in range(out_w):
                window = padded[
                    :, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw
                ]
                expected[o, i, j] = np.einsum("cyx,yxc->", window, kernel[:, :, :, o])
    assert report.record.final_potential[c * h * w :].tolist() == expected.ravel().tolist()
