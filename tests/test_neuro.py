"""Neuromorphic cores: energy and counts by hand, zero input, linearity in the input rate, timing of
a step by hand, the Loihi/TrueNorth preset numbers against their papers, and bad inputs."""

import numpy as np
import pytest

import simulator
from simulator.errors import CapacityError, SpecError, UnsupportedError

PJ_PER_MW_S = 1e9


def neuro_arch(cores=4, dims=(2, 2), per_node=1, leakage="1 mW", **core):
    """A 1 GHz chip whose every per-event cost is a distinct round number."""
    spec = {
        "kind": "neuro_core",
        "neurons": 64,
        "weight_bits": 8,
        "potential_frac_bits": 0,
        "soma": {
            "lif": {
                "access_energy": "1 pJ",
                "update_energy": "2 pJ",
                "spike_energy": "3 pJ",
                "access_latency": "1 ns",
                "update_latency": "2 ns",
                "spike_latency": "3 ns",
            },
            "input": {
                "model": "input",
                "access_energy": "0.5 pJ",
                "update_energy": "0.25 pJ",
                "spike_energy": "0.125 pJ",
            },
        },
        "synapse": {"default": {"energy": "10 pJ", "latency": "1 ns"}},
        "packet_out_energy": "4 pJ",
        "packet_out_latency": "1 ns",
        "packet_in_energy": "5 pJ",
        "packet_in_latency": "2 ns",
        "hop_energy": {"east": "6 pJ", "west": "7 pJ", "north": "8 pJ", "south": "9 pJ"},
        "hop_latency": "1 ns",
        "barrier": {1: "10 ns"},
        "leakage": leakage,
        **core,
    }
    return {
        "name": "tiny-neuro",
        "clock": "1 GHz",
        "components": {
            "noc": {
                "kind": "noc",
                "topology": "mesh",
                "dims": list(dims),
                "link_bandwidth": "4 GB/s",
            }
        },
        "cores": {"count": cores, "per_node": per_node, "components": {"core": spec}},
    }


def two_layer(steps=5, trains=((1, 0, 1, 0, 1), (1, 1, 1, 1, 1)), placement=None):
    """2 inputs -> 2 hidden that never fire (threshold 1000): input 0 reaches both, input 1 only h0."""
    return {
        "kind": "snn",
        "name": "two-layer",
        "time_steps": steps,
        "quantisation": "exact",
        "groups": [
            {"name": "in", "size": 2, "kind": "input", "spikes": [list(t) for t in trains]},
            {"name": "hidden", "size": 2, "neuron": {"threshold": 1000}},
        ],
        "connections": [
            {
                "source": "in",
                "target": "hidden",
                "kind": "sparse",
                "pairs": [[0, 0], [0, 1], [1, 0]],
                "weights": [1, 1, 1],
            }
        ],
        "placement": placement
        or [
            {"group": "in", "core": 0},
            {"group": "hidden", "neurons": [0, 1], "core": 1},
            {"group": "hidden", "neurons": [1, 2], "core": 2},
        ],
    }


def test_counts_and_energy_by_hand():
    report = simulator.simulate(neuro_arch(), two_layer())
    s = report.summary
    # input 0 fires at steps 0, 2, 4 (fan-out 2), input 1 every step (fan-out 1)
    assert s["synaptic_ops"] == 3 * 2 + 5 * 1
    # one packet per (spike, destination core): input 0 reaches cores 1 and 2, input 1 core 1
    assert (s["packets"], s["packets_inter_core"], s["packets_intra_core"]) == (11, 11, 0)
    # 2x2 mesh, core k on node k: core 1 is one hop east of core 0, core 2 one hop north
    counts = report.energy.groupby("action")["count"].sum()
    assert (counts["hop_east"], counts["hop_north"]) == (8, 3)
    # h0 holds charge from step 1 on, h1 from step 1 on (input at 0, 2, 4): 4 active steps each
    assert counts["neuron_update.lif"] == 8 and counts["neuron_update.input"] == 8
    assert counts["neuron_access.lif"] == counts["neuron_access.input"] == 2 * 5
    dynamic = (
        11 * 10  # synaptic ops
        + 10 * 1
        + 10 * 0.5  # every neuron, every step
        + 8 * 2
        + 8 * 0.25
        + 8 * 0.125  # active updates; input spikes
        + 11 * (4 + 5)  # packets out and in
        + 8 * 6
        + 3 * 8  # hops east and north
    )
    static = 4 * 1.0 * report.seconds * PJ_PER_MW_S  # 4 cores x 1 mW x time
    assert s["energy_pj"] == pytest.approx(dynamic + static, rel=1e-12)
    assert s["energy_by_category"]["static"] == pytest.approx(static, rel=1e-12)
    assert s["energy_by_category"]["synaptic_ops"] == pytest.approx(110.0)


def test_step_time_on_one_core_by_hand():
    # everything on core 0: each step = neuron phase + serving its own packets + barrier (10 ns)
    report = simulator.simulate(neuro_arch(), two_layer(placement="fill"))
    steps = report.steps.cycles.tolist()
    inputs = [(1, 1), (0, 1), (1, 1), (0, 1), (1, 1)]  # spikes of input 0 and 1 per step
    active = [0, 2, 2, 2, 2]  # hidden neurons active per step (charge from step 1 on)
    expected = []
    for (a, b), hidden in zip(inputs, active):
        packets, synops = a + b, 2 * a + b
        neuron = (
            2 * 1 + hidden * 2 + packets * 1
        )  # lif access 1 ns, update 2 ns, emit 1 ns; input costs no time
        receive = packets * 2 + synops * 1
        expected.append(neuron + receive + 10)
    assert steps == pytest.approx(expected)
    assert report.cycles == sum(expected)


def test_zero_input_leaves_only_static_energy():
    silent = two_layer(trains=((0,) * 5, (0,) * 5))
    arch = neuro_arch()
    for unit in ("lif", "input"):
        arch["cores"]["components"]["core"]["soma"][unit]["access_energy"] = "0 pJ"
    s = simulator.simulate(arch, silent).summary
    assert s["spikes"] == s["synaptic_ops"] == s["packets"] == 0
    assert s["energy_pj"] == s["energy_by_category"]["static"] > 0
    # with Loihi's costs a silent network still pays each neuron's per-step access, nothing else
    loihi = simulator.simulate("loihi-like", {**silent, "placement": "fill"}).summary
    categories = loihi["energy_by_category"]
    assert categories["neuron_idle"] == pytest.approx(2 * 5 * 52.0)  # two LIF neurons x 5 steps
    assert loihi["energy_pj"] == pytest.approx(categories["neuron_idle"] + categories["static"])


def test_energy_is_linear_in_the_input_rate():
    # 16 inputs fanning out to 8 neurons that fire (and reset) on any input, so every event count
    # follows the input spikes; deterministic rate coding gives r x 100 spikes per input
    workload = {
        "kind": "snn",
        "name": "fan-out",
        "time_steps": 100,
        "encoding": "rate",
        "groups": [
            {"name": "in", "size": 16, "kind": "input", "rates": 1.0},
            {"name": "out", "size": 8, "neuron": {"threshold": 0.0}},
        ],
        "connections": [{"source": "in", "target": "out", "kind": "dense", "weights": 0.5}],
        "placement": "layer",
    }
    rates, energies = (0.1, 0.2, 0.4, 0.8), []
    for rate in rates:
        s = simulator.simulate(neuro_arch(leakage="0 mW"), {**workload, "input_rate": rate}).summary
        assert s["router_utilization_max"] < 1.0  # the NoC is not saturated
        assert s["synaptic_ops"] == round(rate * 100) * 16 * 8
        energies.append(s["energy_pj"])
    slopes = np.diff(energies) / np.diff(rates)
    assert slopes == pytest.approx([slopes[0]] * 3, rel=1e-9)
    assert slopes[0] > 0


def test_loihi_preset_numbers_match_davies_2018():
    arch = simulator.load_arch("loihi-like")
    core = simulator.components.build_machine(arch).components["core0.core"]
    # Davies et al., IEEE Micro 2018, Table 2, and the chip overview
    assert (arch.cores.count, core.neurons, arch.tech_node) == (128, 1024, 14.0)
    assert core.energy_pj("synaptic_op.default") == 23.6
    assert (
        core.somas["lif"].access_pj == 52.0
        and core.somas["lif"].access_pj + core.somas["lif"].update_pj == 81.0
    )
    assert (core.hop_pj["east"], core.hop_pj["north"]) == (3.0, 4.0)
    assert core.energy_pj("packet_local") == 1.7
    assert core.barrier_s(1) == pytest.approx(113e-9) and core.barrier_s(32) == pytest.approx(
        465e-9
    )


def test_truenorth_preset_numbers_match_merolla_2014():
    arch = simulator.load_arch("truenorth-like")
    core = simulator.components.build_machine(arch).components["core0.core"]
    assert (arch.cores.count, core.neurons, core.axons, core.synapses) == (
        4096,
        256,
        256,
        256 * 256,
    )
    assert core.energy_pj("synaptic_op.default") == 26.0
    assert core.time_step_s == pytest.approx(1e-3)


def test_capacity_errors_name_the_numbers():
    crowded = two_layer(placement=[{"group": "in", "core": 0}, {"group": "hidden", "core": 0}])
    with pytest.raises(CapacityError, match="core 0 gets 4 neurons; a neuro_core holds 3"):
        simulator.simulate(neuro_arch(neurons=3), crowded)
    with pytest.raises(CapacityError, match="needs 2 cores with layer placement; the arch has 1"):
        simulator.simulate(neuro_arch(cores=1, dims=(1, 1)), two_layer(placement="layer"))


def test_gemm_on_neuro_cores_and_snn_on_a_systolic_array_are_unsupported():
    with pytest.raises(
        UnsupportedError, match="loihi-like has neuro cores, which run spiking networks"
    ):
        simulator.simulate("loihi-like", "gemm-256")
    with pytest.raises(
        UnsupportedError, match="snn-mnist-mlp is a spiking network; tpu-v1-like has no neuro_core"
    ):
        simulator.simulate("tpu-v1-like", "snn-mnist-mlp")
    with pytest.raises(UnsupportedError, match="its placement is the workload's placement"):
        simulator.simulate("loihi-like", "snn-mnist-mlp", mapping="weight-stationary")


def test_exact_weights_must_fit_the_core():
    heavy = two_layer()
    heavy["connections"][0]["weights"] = [1, 1, 300]
    with pytest.raises(
        UnsupportedError,
        match=r"holds 8-bit weights \(\|w\| <= 127\); the network has \|w\| up to 300",
    ):
        simulator.simulate(neuro_arch(), heavy)


def test_bad_snn_specs_are_one_line_errors():
    bad = two_layer()
    bad["connections"][0]["target"] = "nowhere"
    with pytest.raises(SpecError, match="connections.0: no group named 'nowhere'"):
        simulator.load_workload(bad)
    no_source = two_layer()
    del no_source["groups"][0]["spikes"]
    with pytest.raises(SpecError, match="input group 'in' needs rates or spikes"):
        simulator.load_workload(no_source)
    mixed = {"kind": "neuro_core", "neurons": 4}
    with pytest.raises(SpecError, match="a neuro_core shares no core with other components"):
        simulator.load_arch(
            {
                **neuro_arch(),
                "cores": {
                    "count": 1,
                    "components": {"core": mixed, "buf": {"kind": "sram", "capacity": "1 KiB"}},
                },
            }
        )


def test_every_neuro_tech_number_is_cited():
    def walk(node, path):
        if isinstance(node, dict):
            if "value" in node and node["value"]:
                assert node.get("source") or node.get("note"), path
            for key, child in node.items():
                walk(child, f"{path}.{key}")

    for technology, table in simulator.tech.table("neuro").items():
        assert table["sources"], technology
        walk(table, technology)


def test_spike_flows_contend_on_shared_links():
    # cores 0, 1, 2 in a row; a 4-byte packet holds a 4 MB/s link for 1,000 cycles. Input 0 (core 0)
    # and input 1 (core 1) both reach core 2 over link 1->2, so the second flow waits for the first.
    arch = neuro_arch(cores=3, dims=(3, 1))
    arch["components"]["noc"]["link_bandwidth"] = "4 MB/s"

    def run(trains):
        workload = two_layer(
            steps=1,
            trains=trains,
            placement=[
                {"group": "in", "neurons": [0, 1], "core": 0},
                {"group": "in", "neurons": [1, 2], "core": 1},
                {"group": "hidden", "core": 2},
            ],
        )
        workload["connections"][0]["pairs"] = [[0, 0], [1, 0]]
        workload["connections"][0]["weights"] = [1, 1]
        return simulator.simulate(arch, workload)

    alone, both = run(((1,), (0,))), run(((1,), (1,)))
    # alone: emit 1 + link 1,000 + 2 hops + receive (2 + 1) + barrier 10
    assert alone.cycles == 1 + 1000 + 2 + 3 + 10
    assert both.cycles - alone.cycles in (999, 1000)  # one flow queues behind the other
    links = both.links.set_index("link")
    assert links.loc["1->2", "busy_cycles"] == 2000 and links.loc["1->2", "packets"] == 2
