"""Leaky integrate-and-fire numerics: the core's fixed-point update and a float64 reference.

Both follow the same per-step rule (SANA-FE's and Loihi's order), on potentials held with
`frac_bits` fraction bits below one weight unit (V = v * 2^frac_bits):

1. a neuron is active if its potential is non-zero, it received a synaptic event last step, it
   has a bias, or it is forced; input neurons are active when they fire;
2. leak (from the second step on): V <- trunc(V * decay), towards zero;
3. unless refractory: V += (bias + input) * 2^frac_bits, saturating at the register width;
4. fire if V > threshold * 2^frac_bits; a graded spike carries floor(V / threshold) thresholds
   (at most 2^spike_bits - 1), a binary one 1;
5. reset: to reset_value (zero), by payload x threshold (subtract), to the threshold
   (saturate) or not at all (none); a neuron that fired ignores input and bias for `refractory`
   steps.

TrueNorth neurons (SANA-FE's truenorth soma, models.cpp TrueNorthModel::update) follow their own
rule in the same step: activity as above; an additive leak every step (towards zero, or added);
+ bias + input; with a random mask the compared potential gains rand() & mask (glibc's rand(),
seeded 1, one draw per masked neuron per step in neuron order); fire if it reaches the threshold
(>=) and reset as above, with a binary spike; else at or below the reverse threshold apply the
reverse reset (zero: to reverse_reset_value, subtract: add the reverse threshold, saturate: to
the reverse threshold, none). No decay, no refractory period.

FixedPointLif works in int64 with the decay as a 12-bit fraction (an integer multiply and shift)
when it is one; `reference_lif` redoes the same run in float64 with np.trunc. The two are
independent implementations of one rule: their spike trains must be identical.
"""

from dataclasses import dataclass

import numpy as np

from simulator.numerics.glibc_rand import GlibcRand

RESET_CODES = {"zero": 0, "subtract": 1, "none": 2, "saturate": 3}
DECAY_BITS = 12  # Loihi's decay constants are 12-bit fractions of 4096


@dataclass(frozen=True)
class LifParams:
    """Per-neuron parameters as the core stores them: integers in weight units (arrays of n)."""

    threshold: np.ndarray  # int64
    bias: np.ndarray  # int64
    decay: np.ndarray  # float64 multiplier in [0, 1]
    reset: np.ndarray  # int8, RESET_CODES
    reset_value: np.ndarray  # int64
    refractory: np.ndarray  # int64, steps blocked after a spike
    force: np.ndarray  # bool, active every step
    is_input: np.ndarray  # bool, driven by input spike trains
    frac_bits: int
    potential_bits: int | None
    spike_bits: int
    truenorth: np.ndarray  # bool, TrueNorth rule
    leak: np.ndarray  # int64, TrueNorth additive leak
    leak_towards_zero: np.ndarray  # bool
    reverse_threshold: np.ndarray  # int64
    reverse_reset: np.ndarray  # int8, RESET_CODES
    reverse_reset_value: np.ndarray  # int64
    random_mask: np.ndarray  # int64, 0: deterministic threshold
    unit_bits: int = 0  # the integers above count 2^-unit_bits weight units (spec.grid.dyadic_bits)

    @property
    def size(self) -> int:
        return len(self.threshold)


def _saturating_reset(v, fired, codes, theta, reset_to, payload_theta):
    """Potentials after the (forward or reverse) reset of the neurons in `fired`."""
    v = np.where(fired & (codes == RESET_CODES["subtract"]), v - payload_theta, v)
    v = np.where(fired & (codes == RESET_CODES["saturate"]), theta, v)
    return np.where(fired & (codes == RESET_CODES["zero"]), reset_to, v)


@dataclass(frozen=True)
class Synapses:
    """Synapses sorted by presynaptic neuron (CSR): the targets and weights of neuron i are
    targets[indptr[i]:indptr[i + 1]]."""

    indptr: np.ndarray  # int64 [n + 1]
    targets: np.ndarray  # int64 [S]
    weights: np.ndarray  # int64 [S], integer weight units

    def gather(self, sources: np.ndarray) -> np.ndarray:
        """Indices of every synapse leaving `sources` (concatenated in source order)."""
        starts = self.indptr[sources]
        counts = self.indptr[sources + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        return offsets + np.arange(total, dtype=np.int64)

    @property
    def fan_out(self) -> np.ndarray:
        return np.diff(self.indptr)


class FixedPointLif:
    """The neuron state of every core, updated one time step at a time in integer arithmetic."""

    def __init__(self, params: LifParams):
        self.p = params
        shift = params.frac_bits
        self.theta = params.threshold << shift
        self.bias = params.bias << shift
        self.reset_to = params.reset_value << shift
        self.v = np.zeros(params.size, dtype=np.int64)
        self.refractory_left = np.zeros(params.size, dtype=np.int64)
        self.steps = 0
        scaled = params.decay * (1 << DECAY_BITS)
        self.integer_decay = bool(np.all(scaled == np.round(scaled)))
        self.decay_num = np.round(scaled).astype(np.int64)
        self.leaky = params.decay != 1.0
        bits = params.potential_bits
        self.bounds = None if bits is None else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        self.max_payload = (1 << params.spike_bits) - 1
        self.lif = ~params.is_input
        self.tn = params.truenorth
        self.tn_leak = params.leak << shift
        self.reverse_theta = params.reverse_threshold << shift
        self.reverse_to = params.reverse_reset_value << shift
        self.noisy = np.flatnonzero(params.truenorth & (params.random_mask != 0))
        # LIF neurons with a reverse reset (SANA-FE's LIF: below the reverse threshold, after
        # the spike's reset, fired or not; its soft reverse reset takes the threshold away)
        self.lif_reverse = (
            self.lif & ~params.truenorth & (params.reverse_reset != RESET_CODES["none"])
        )
        self.any_lif_reverse = bool(self.lif_reverse.any())
        self.rand = GlibcRand(1)
        self.any_tn = bool(params.truenorth.any())  # without any, skip TrueNorth's stages
        self.any_refractory = bool(params.refractory.any())

    def _truenorth_leak(self) -> None:
        """TrueNorth's additive leak: towards zero (none at zero), or added as is."""
        v, leak = self.v, self.tn_leak
        towards = np.where(v > 0, -leak, np.where(v < 0, leak, 0))
        step = np.where(self.p.leak_towards_zero, towards, leak)
        self.v = np.where(self.tn, v + step, v)

    def _compared(self) -> np.ndarray:
        """The potential the threshold sees: TrueNorth's masked neurons gain rand() & mask."""
        if not self.noisy.size:
            return self.v
        draws = np.array(self.rand.draw(self.noisy.size), dtype=np.int64)
        compared = self.v.copy()
        shift = self.p.frac_bits + self.p.unit_bits  # the mask is in whole weight units
        compared[self.noisy] += (draws & self.p.random_mask[self.noisy]) << shift
        return compared

    def _leak(self) -> None:
        v = self.v
        if self.integer_decay:  # v * k / 4096, truncated towards zero, in integers
            magnitude = (np.abs(v) * self.decay_num) >> DECAY_BITS
            self.v = np.where(v < 0, -magnitude, magnitude)
        else:
            self.v = np.where(
                self.leaky, np.trunc(v.astype(np.float64) * self.p.decay).astype(np.int64), v
            )

    def _reverse_reset(self, neurons: np.ndarray, sign: int) -> None:
        """The reverse reset of `neurons`; subtract moves them by sign x the reverse threshold."""
        self.v = _saturating_reset(
            self.v,
            neurons,
            self.p.reverse_reset,
            self.reverse_theta,
            self.reverse_to,
            sign * self.reverse_theta,
        )

    def step(self, synaptic_input: np.ndarray, received: np.ndarray, input_spikes: np.ndarray):
        """Advance one step. synaptic_input: int64 weight units delivered last step; received:
        bool, got a synaptic event; input_spikes: bool, input neurons firing now.
        Returns (fired bool, payload int64, active bool), each of length n."""
        p, lif = self.p, self.lif
        active = (self.v != 0) | received | (p.bias != 0) | p.force
        if self.steps > 0:
            self._leak()
        if self.any_tn:
            self._truenorth_leak()
        free = lif & (self.refractory_left == 0) if self.any_refractory else lif
        self.v = np.where(free, self.v + self.bias + (synaptic_input << p.frac_bits), self.v)
        if self.bounds is not None:
            np.clip(self.v, *self.bounds, out=self.v)
        compared = self._compared()
        above = self.v > self.theta
        fired = free & (np.where(self.tn, compared >= self.theta, above) if self.any_tn else above)
        payload = np.where(fired, 1, 0).astype(np.int64)
        if self.max_payload > 1 and fired.any():
            crossings = self.v[fired] // np.maximum(self.theta[fired], 1)
            payload[fired] = np.where(self.tn[fired], 1, np.minimum(crossings, self.max_payload))
        self.v = _saturating_reset(
            self.v, fired, p.reset, self.theta, self.reset_to, payload * self.theta
        )
        if self.any_lif_reverse:  # SANA-FE's LIF: subtract takes the reverse threshold away
            self._reverse_reset(free & self.lif_reverse & (self.v < self.reverse_theta), 1)
        if self.any_tn:  # TrueNorth: subtract adds it
            self._reverse_reset(self.tn & ~fired & (compared <= self.reverse_theta), -1)
        if self.any_refractory:
            self.refractory_left = np.where(fired, p.refractory + 1, self.refractory_left)
            self.refractory_left = np.maximum(self.refractory_left - 1, 0)
        fired = fired | (p.is_input & input_spikes)
        payload = np.where(p.is_input & input_spikes, 1, payload)
        active = np.where(lif, active, fired)
        self.steps += 1
        return fired, payload, active

    @property
    def potential(self) -> np.ndarray:
        """Potentials in weight units (float)."""
        return self.v / float(1 << (self.p.frac_bits + self.p.unit_bits))


def deliver(synapses: Synapses, fired: np.ndarray, payload: np.ndarray, size: int):
    """Integer synaptic input of every neuron from this step's spikes, and who received any."""
    sources = np.flatnonzero(fired)
    index = synapses.gather(sources)
    weights = synapses.weights[index]
    if payload[sources].max(initial=1) > 1:  # graded spikes carry several thresholds
        counts = synapses.indptr[sources + 1] - synapses.indptr[sources]
        weights = weights * np.repeat(payload[sources], counts)
    targets = synapses.targets[index]
    total = np.bincount(targets, weights=weights, minlength=size)  # exact: |sums| << 2^53
    received = np.zeros(size, dtype=bool)
    received[targets] = True
    return np.rint(total).astype(np.int64), received


def reference_lif(params: LifParams, synapses: Synapses, input_spikes, steps: int):
    """The same network in float64: a list of fired-neuron indices per step and the potentials
    at the end (weight units). input_spikes(t) gives the bool input spikes of step t."""
    n = params.size
    scale = float(2**params.frac_bits)
    unit = scale * 2.0**params.unit_bits  # one whole weight unit
    theta = params.threshold.astype(np.float64) * scale
    bias = params.bias.astype(np.float64) * scale
    reset_to = params.reset_value.astype(np.float64) * scale
    weights = synapses.weights.astype(np.float64)
    top = None if params.potential_bits is None else 2.0 ** (params.potential_bits - 1)
    max_payload = 2.0**params.spike_bits - 1
    is_lif = ~params.is_input
    tn = params.truenorth
    leak = params.leak.astype(np.float64) * scale
    reverse_theta = params.reverse_threshold.astype(np.float64) * scale
    reverse_to = params.reverse_reset_value.astype(np.float64) * scale
    rand = GlibcRand(1)
    any_tn, any_refractory = bool(tn.any()), bool(params.refractory.any())
    noisy = np.flatnonzero(tn & (params.random_mask > 0)).tolist()
    lif_reverse = is_lif & ~tn & (params.reverse_reset != RESET_CODES["none"])
    any_lif_reverse = bool(lif_reverse.any())
    v = np.zeros(n)
    refractory = np.zeros(n)
    current = np.zeros(n)
    trains = []
    for t in range(steps):
        if t > 0:
            v = (
                np.where(tn, v, np.trunc(v * params.decay))
                if any_tn
                else np.trunc(v * params.decay)
            )
        if any_tn:
            toward = np.sign(v) * -leak  # sign 0 at zero: no leak
            v = np.where(tn, v + np.where(params.leak_towards_zero, toward, leak), v)
        free = is_lif & ~(refractory > 0) if any_refractory else is_lif
        v = v + np.where(free, bias + current * scale, 0.0)
        if top is not None:
            v = np.minimum(np.maximum(v, -top), top - 1)
        seen = v.copy() if noisy else v
        for i in noisy:
            seen[i] += float(rand.draw(1)[0] & int(params.random_mask[i])) * unit
        fire = free & (np.where(tn, seen >= theta, v > theta) if any_tn else v > theta)
        size = np.ones(n)
        if max_payload > 1:
            size = np.where(
                fire & ~tn, np.minimum(np.floor(v / np.maximum(theta, 1.0)), max_payload), 1.0
            )
        codes, back_codes = params.reset, params.reverse_reset
        v = np.where(fire & (codes == RESET_CODES["subtract"]), v - size * theta, v)
        v = np.where(fire & (codes == RESET_CODES["saturate"]), theta, v)
        v = np.where(fire & (codes == RESET_CODES["zero"]), reset_to, v)
        if any_lif_reverse:  # SANA-FE's LIF: below the reverse threshold, after the reset
            back = free & lif_reverse & (v < reverse_theta)
            v = np.where(back & (back_codes == RESET_CODES["subtract"]), v - reverse_theta, v)
            v = np.where(back & (back_codes == RESET_CODES["saturate"]), reverse_theta, v)
            v = np.where(back & (back_codes == RESET_CODES["zero"]), reverse_to, v)
        if any_tn:
            back = tn & ~fire & (seen <= reverse_theta)
            v = np.where(back & (back_codes == RESET_CODES["subtract"]), v + reverse_theta, v)
            v = np.where(back & (back_codes == RESET_CODES["saturate"]), reverse_theta, v)
            v = np.where(back & (back_codes == RESET_CODES["zero"]), reverse_to, v)
        if any_refractory:
            refractory = np.where(fire, params.refractory + 1.0, refractory)
            refractory = np.maximum(refractory - 1.0, 0.0)
        spikes = input_spikes(t)
        fire = fire | (params.is_input & spikes)
        size = np.where(params.is_input & spikes, 1.0, size)
        trains.append(np.flatnonzero(fire))
        current = np.zeros(n)
        index = synapses.gather(trains[-1])  # every synapse of this step's spikes
        sizes = np.repeat(size[trains[-1]], synapses.fan_out[trains[-1]])
        np.add.at(current, synapses.targets[index], weights[index] * sizes)  # float64, unbuffered
    return trains, v / unit
