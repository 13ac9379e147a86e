"""The numerics check of a spiking run: the cores' spike trains against the float64 reference run
of the same quantised network, and, for a converted ANN, how often the SNN's class agrees with it."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.numerics.ann2snn import ann_predict, batch_reference, snn_predict
from simulator.numerics.encoding import encode
from simulator.numerics.lif import reference_lif

if TYPE_CHECKING:  # numerics sits below mapping: the network's type is only named here
    from simulator.mapping.snn import SnnNetwork


@dataclass(frozen=True)
class SnnCheck:
    """Result of the check; `ok` means the spike trains are identical at every step."""

    spike_trains_match: bool
    first_mismatch_step: int | None
    mismatched_spikes: int  # neuron-steps that fired in one run but not the other
    reference_spikes: int
    ann_agreement: float | None = (
        None  # fraction of test inputs where SNN and ANN pick the same class
    )
    agreement_samples: int | None = None
    ann_accuracy: float | None = None
    snn_accuracy: float | None = None
    snn_class: int | None = None  # the simulated sample's class (from the cores' spike counts)
    ann_class: int | None = None
    batch_matches_run: bool | None = None  # the batched reference reproduces the run's counts

    @property
    def ok(self) -> bool:
        return self.spike_trains_match and self.batch_matches_run is not False


def _compare(fired: list[np.ndarray], reference: list[np.ndarray]) -> tuple[int | None, int]:
    first, mismatched = None, 0
    for t, (a, b) in enumerate(zip(fired, reference)):
        if a.size != b.size or not np.array_equal(a, b):
            first = t if first is None else first
            mismatched += np.setxor1d(a, b).size
    return first, mismatched


def check_snn(
    net: "SnnNetwork",
    fired: list[np.ndarray],
    spike_counts: np.ndarray,
    final_potential: np.ndarray,
) -> SnnCheck:
    """Rerun `net` in float64 and compare; add the ANN agreement for a converted network."""
    reference, _ = reference_lif(net.params, net.synapses, net.input_spikes, net.steps)
    first, mismatched = _compare(fired, reference)
    result = dict(
        spike_trains_match=first is None,
        first_mismatch_step=first,
        mismatched_spikes=int(mismatched),
        reference_spikes=int(sum(r.size for r in reference)),
    )
    if net.ann is None:
        return SnnCheck(**result)
    return SnnCheck(**result, **_agreement(net, spike_counts, final_potential))


def agreement_bytes_per_step(net: "SnnNetwork") -> int:
    """Host bytes per time step the ANN agreement's batch of test inputs holds ([B, steps, n]
    bool; 0 for a network not converted from an ANN): the cost guard's numerics share."""
    return 0 if net.ann is None else len(_batch(net.ann)) * net.size


def _batch(check) -> list[int]:
    """The test inputs the agreement runs: the first `samples`, and the run's own sample."""
    samples = list(range(check.samples))
    if check.sample not in samples:
        samples.append(check.sample)
    return samples


def _agreement(net: "SnnNetwork", spike_counts: np.ndarray, final_potential: np.ndarray) -> dict:
    """Run the batch of test inputs through the reference; compare classes with the ANN."""
    check, model = net.ann, net.ann.model
    samples = _batch(check)
    inputs = np.zeros((len(samples), net.steps, net.size), dtype=bool)  # [B, steps, n]
    for row, k in enumerate(samples):
        rates = model.x_test[k] * check.input_rate
        inputs[row][:, net.input_index] = encode(
            rates, check.encoding, net.steps, check.seed + (k,)
        )
    dense = np.zeros((net.size, net.size))  # [source, target]
    sources = np.repeat(np.arange(net.size), net.synapses.fan_out)
    np.add.at(dense, (sources, net.synapses.targets), net.synapses.weights.astype(np.float64))
    counts, potentials = batch_reference(net.params, dense, inputs, net.steps)
    out = net.group("output")
    span = slice(out.start, out.start + out.size)
    snn = snn_predict(counts[:, span], potentials[:, span])
    ann = ann_predict(model, model.x_test[samples])
    labels = model.y_test[samples]
    head = slice(0, check.samples)
    row = samples.index(check.sample)
    run_class = int(snn_predict(spike_counts[span], final_potential[span])[0])
    return dict(
        ann_agreement=float(np.mean(snn[head] == ann[head])),
        agreement_samples=check.samples,
        ann_accuracy=float(np.mean(ann[head] == labels[head])),
        snn_accuracy=float(np.mean(snn[head] == labels[head])),
        snn_class=run_class,
        ann_class=int(ann[row]),
        batch_matches_run=bool(np.array_equal(counts[row], spike_counts)),
    )
