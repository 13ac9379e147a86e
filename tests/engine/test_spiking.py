"""Spiking engine: the closed-form sender layout gives exactly what simpy's contended-link events
give, and `timing: simple` is SANA-FE's simple rule, computed here by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
import simulator.engine.spiking as spiking
from tests.test_neuro import neuro_arch
from tests.test_snn import random_network


def _record(arch, workload, monkeypatch=None, all_events=False):
    if all_events:  # every group of senders counts as contended: the simpy path for all of them
        monkeypatch.setattr(spiking, "_overlap", lambda holds: True)
    report = simulator.simulate(arch, workload)
    if all_events:
        monkeypatch.undo()
    return report.record


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    bandwidth=st.sampled_from(["0.5 GB/s", "4 GB/s", "64 GB/s"]),
    layout=st.sampled_from([(4, (2, 2), 1), (8, (2, 2), 2), (6, (3, 2), 1)]),
)
def test_closed_form_senders_equal_simpy_events(seed, bandwidth, layout):
    cores, dims, per_node = layout
    _, workload = random_network(seed, {"reset": "subtract"}, steps=30)
    arch = neuro_arch(cores=cores, dims=dims, per_node=per_node)
    arch["cores"]["components"]["core"]["potential_frac_bits"] = 6
    arch["components"]["noc"]["link_bandwidth"] = bandwidth
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = _record(arch, workload)
        slow = _record(arch, workload, monkeypatch, all_events=True)
    assert fast.step_cycles == slow.step_cycles  # bit for bit, step by step
    assert fast.cycles == slow.cycles
    assert dict(fast.counts) == dict(slow.counts)
    assert dict(fast.link_busy) == dict(slow.link_busy)
    assert np.array_equal(fast.core_busy, slow.core_busy)


def test_simple_timing_is_the_larger_of_neuron_and_message_work():
    """One input neuron on core 0 fires every step into 3 neurons on core 1 (2x2 mesh)."""
    steps = 4
    arch = neuro_arch(cores=2, dims=(2, 1), timing="simple")
    workload = {
        "kind": "snn",
        "name": "fan-out",
        "time_steps": steps,
        "quantisation": "exact",
        "groups": [
            {"name": "in", "size": 1, "kind": "input", "spikes": [[1] * steps]},
            {"name": "h", "size": 3, "neuron": {"threshold": 1000}},
        ],
        "connections": [
            {"source": "in", "target": "h", "kind": "dense", "weights": [1, 1, 1]},
        ],
        "placement": [
            {"group": "in", "neurons": [0, 1], "core": 0},
            {"group": "h", "neurons": [0, 3], "core": 1},
        ],
    }
    report = simulator.simulate(arch, workload)
    # core 0: the input unit costs no time; one packet out 1 ns. core 1: 3 neurons x 1 ns access,
    # + 2 ns update each once they hold a potential (from step 2 on). Messages into core 1:
    # 1 packet x 2 ns + 3 synaptic events x 1 ns = 5 ns. Barrier 10 ns; hops cost nothing.
    neuron_core1 = [3, 9, 9, 9]
    expected = [max(1, n, 5) + 10 for n in neuron_core1]
    assert report.record.step_cycles == pytest.approx(expected, rel=1e-12)
