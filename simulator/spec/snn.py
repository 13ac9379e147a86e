"""Spiking-network workload spec (`kind: snn`): neuron groups, weighted connections, the input
spike source and the placement of neurons onto cores; or a ReLU MLP to convert (`ann:`).

Large arrays (weights, per-neuron biases, spike trains) live in an .npz file and are referenced as
{file: x.npz, key: name}, relative to the workload file (or shipped in simulator/data).
"""

from collections import Counter
from typing import Annotated, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from simulator.spec.types import Flag, NonNegativeInt, PositiveInt, Real, Seed, Strict

Encoding = Literal["poisson", "rate", "periodic"]


class ArrayRef(Strict):
    """An array stored in an .npz file."""

    file: str
    """The .npz file, relative to the workload file, or a file shipped in simulator/data."""
    key: str
    """The array's name inside the file."""


Values = Real | list[Real] | ArrayRef
"""One value for every neuron, a list with one per neuron, or an array in a file."""


class NeuronSpec(Strict):
    """Leaky integrate-and-fire parameters, in weight units (the same units as the weights)."""

    threshold: Values = 1.0
    """A neuron fires when its potential exceeds this."""
    bias: Values = 0.0
    """Added to the potential every time step."""
    decay: Annotated[Real, Field(ge=0.0, le=1.0)] = 1.0
    """Fraction of the potential kept from one step to the next (1: no leak)."""
    reset: Literal["zero", "subtract", "none", "saturate"] = "zero"
    """After a spike: set to reset_value (zero), subtract the threshold, keep the potential, or
    set it to the threshold (saturate, TrueNorth somas only)."""
    reset_value: Real = 0.0
    """Potential after a zero reset."""
    refractory: NonNegativeInt = 0
    """Time steps after a spike during which the neuron ignores input and bias."""
    force_update: Flag = False
    """Count the neuron as active (an update) every step, as SANA-FE's force_update."""
    leak: Real = 0.0
    """TrueNorth somas: potential taken off every step (additive leak, in weight units)."""
    leak_towards_zero: Flag = True
    """TrueNorth somas: the leak pulls the potential towards zero; false: it is added every step."""
    reverse_threshold: Real = 0.0
    """TrueNorth somas: at or below this potential (and not firing) the reverse reset applies.
    LIF somas (SANA-FE's LIF): below it, after the spike's reset, whether or not it fired."""
    reverse_reset: Literal["zero", "subtract", "none", "saturate"] = "none"
    """At the reverse threshold set the potential to reverse_reset_value (zero), add the reverse
    threshold (subtract; a LIF soma takes it away, as SANA-FE's LIF does), keep it, or set it to
    the reverse threshold."""
    reverse_reset_value: Real = 0.0
    """Potential after a zero reverse reset."""
    random_mask: NonNegativeInt = 0
    """TrueNorth somas: stochastic threshold, each step the potential compared with the
    threshold gains rand() & mask (glibc's rand() seeded 1, as SANA-FE draws it); 0: none."""


class GroupSpec(Strict):
    """A population of neurons (a layer): LIF neurons, or input neurons driven by spike trains."""

    name: str
    """Name used by connections and placement."""
    size: PositiveInt
    """Number of neurons."""
    kind: Literal["lif", "input"] = "lif"
    """lif: integrate-and-fire; input: a spike source (rates or explicit trains)."""
    neuron: NeuronSpec = NeuronSpec()
    """LIF parameters (lif groups)."""
    soma: str | None = None
    """Named soma unit of the core that updates these neurons (default the core's first of the kind)."""
    rates: Values | None = None
    """Input groups: spike probability per step (scaled by the workload's input_rate)."""
    spikes: ArrayRef | list[list[int]] | None = None
    """Input groups: explicit spike trains, one row of 0/1 per neuron (step 1 first)."""
    encoding: Encoding | None = None
    """Input groups: poisson, rate or periodic (default the workload's encoding)."""

    @model_validator(mode="after")
    def _source(self):
        if self.kind == "input" and self.rates is None and self.spikes is None:
            raise ValueError(f"input group {self.name!r} needs rates or spikes")
        if self.kind == "lif" and (self.rates, self.spikes, self.encoding) != (None,) * 3:
            raise ValueError(  # a lif group's encoding was read by nothing
                f"group {self.name!r}: rates, spikes and encoding belong to input groups"
            )
        return self


Item = TypeVar("Item")
Pair = Annotated[list[Item], Field(min_length=2, max_length=2)]
"""Two values, [vertical, horizontal], [source, target] or [start, stop) (a third was an internal
error, or a sparse connection's pairs silently re-paired)."""
OWNERS = {
    "pairs": ("sparse",),
    "input_shape": ("conv2d",),
    "kernel": ("conv2d",),
    "stride": ("conv2d",),
    "padding": ("conv2d",),
}
"""The connection kinds that read each shape field (a dense connection's kernel was dropped)."""


class ConnectionSpec(Strict):
    """Synapses from one group to another."""

    source: str
    """Presynaptic group."""
    target: str
    """Postsynaptic group."""
    kind: Literal["dense", "conv2d", "sparse", "one_to_one"]
    """dense: all to all, weights [source, target] row-major; conv2d: channels-first neurons
    (c, y, x), weights [kh, kw, c_in, c_out] row-major; sparse: listed pairs; one_to_one: i to i."""
    weights: Values
    """The weights (one value: the same weight everywhere)."""
    pairs: ArrayRef | list[Pair[int]] | None = None
    """sparse: [source, target] index pairs, one per weight."""
    input_shape: list[PositiveInt] | None = None
    """conv2d: [channels, height, width] of the source group."""
    kernel: Pair[PositiveInt] | None = None
    """conv2d: [height, width] of the kernel."""
    stride: Pair[PositiveInt] = [1, 1]
    """conv2d: [vertical, horizontal] stride."""
    padding: Pair[NonNegativeInt] = [0, 0]
    """conv2d: [vertical, horizontal] zero padding."""
    synapse: str | None = None
    """Named synapse unit of the core (default the core's first)."""

    @model_validator(mode="after")
    def _shape(self):
        if self.kind == "conv2d" and (self.input_shape is None or self.kernel is None):
            raise ValueError("a conv2d connection needs input_shape and kernel")
        if self.kind == "conv2d" and len(self.input_shape) != 3:
            raise ValueError(
                f"input_shape must be [channels, height, width], got {self.input_shape}"
            )
        if self.kind == "sparse" and self.pairs is None:
            raise ValueError("a sparse connection needs pairs")
        given = sorted(self.model_fields_set & OWNERS.keys())
        stray = [key for key in given if self.kind not in OWNERS[key]]
        if stray:
            raise ValueError(
                f"{stray[0]}: read only by {OWNERS[stray[0]][0]} connections, not {self.kind}"
            )
        return self


class AnnSpec(Strict):
    """A ReLU MLP (weights in an .npz) converted to an SNN by weight/threshold normalisation."""

    model: str = "digits_mlp.npz"
    """The network file: w0, b0, w1, b1, ... ([inputs, outputs] weights), x_test, y_test, x_norm."""
    normalisation: Literal["data", "weights"] = "data"
    """data: scale each layer by a high percentile of its ReLU activations on x_norm (Diehl et al.
    2015, Rueckauer et al. 2017); weights: by the largest possible activation from the weights."""
    percentile: Annotated[Real, Field(gt=0.0, le=100.0)] = 99.9
    """Percentile of the activations taken as a layer's maximum (data normalisation)."""
    sample: NonNegativeInt = 0
    """The test input the simulated inference runs on."""
    agreement_samples: PositiveInt | None = None
    """Test inputs checked for agreement with the ANN (default: every shipped test input)."""
    reset: Literal["zero", "subtract", "none"] = "subtract"
    """Reset of the converted neurons (subtraction keeps the residue, so rates track activations)."""
    decay: Annotated[Real, Field(ge=0.0, le=1.0)] = 1.0
    """Potential kept per step (1: integrate-and-fire, which the conversion assumes)."""


class PlacementSpec(Strict):
    """Put a range of a group's neurons on one core."""

    group: str
    """The group."""
    neurons: Pair[NonNegativeInt] | None = None
    """[start, stop) within the group; default the whole group."""
    core: NonNegativeInt
    """The core index."""


class SnnSpec(Strict):
    """A spiking network run for a number of time steps on one input: one inference."""

    kind: Literal["snn"]
    name: str
    """Short name shown in reports."""
    description: str = ""
    """One line on what this workload is."""
    time_steps: PositiveInt = 100
    """Time steps of one inference."""
    input_rate: Annotated[Real, Field(ge=0.0, le=1.0)] = 1.0
    """Spike probability per step of an input at full scale (scales every input group's rates)."""
    encoding: Encoding = "poisson"
    """poisson: a seeded Bernoulli draw per step; rate: deterministic, a spike each time the rate
    accumulates to 1; periodic: every round(1 / rate) steps (SANA-FE's 'rate' inputs)."""
    seed: Seed = 0
    """Seed of the Poisson input spikes."""
    ann: AnnSpec | None = None
    """Convert this ReLU MLP (its test inputs drive the input layer) instead of listing groups."""
    groups: list[GroupSpec] = []
    """Neuron groups, in placement order."""
    connections: list[ConnectionSpec] = []
    """Synapses between groups."""
    placement: Literal["fill", "layer", "spread"] | list[PlacementSpec] = "fill"
    """fill: cores in order, each filled to capacity; layer: the same but each group starts a new
    core; spread: neuron i on core i mod cores; or a list of ranges given per core, whose order
    is the order each core updates its neurons (SANA-FE's detailed timing follows it)."""
    quantisation: Literal["scale", "exact"] = "scale"
    """scale: per target neuron, map the largest weight to the core's weight range (thresholds and
    biases scale with it); exact: weights, biases and thresholds are integers used as they are."""
    meta: dict = {}
    """Facts about where the network came from (an importer's notes)."""

    @field_validator("groups")
    @classmethod
    def _unique(cls, groups):
        counts = Counter(g.name for g in groups)  # list.count per name was quadratic
        repeated = sorted(n for n, count in counts.items() if count > 1)
        if repeated:
            raise ValueError(f"group names must be unique, repeated: {', '.join(repeated)}")
        return groups

    @model_validator(mode="after")
    def _complete(self):
        if (self.ann is None) == (not self.groups):
            raise ValueError("groups: give either groups (with connections) or ann, not both")
        names = {g.name for g in self.groups}
        for index, c in enumerate(self.connections):
            missing = [n for n in (c.source, c.target) if n not in names]
            if missing:
                raise ValueError(f"connections.{index}: no group named {missing[0]!r}")
            if next(g for g in self.groups if g.name == c.target).kind == "input":
                raise ValueError(f"connections.{index}: input group {c.target!r} takes no synapses")
        if isinstance(self.placement, list) and self.groups:
            for index, p in enumerate(self.placement):
                if p.group not in names:
                    raise ValueError(f"placement.{index}: no group named {p.group!r}")
        return self
