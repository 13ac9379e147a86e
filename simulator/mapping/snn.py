"""Compile an SNN workload for a neuromorphic core: groups and connections become flat neuron
arrays and a synapse list (CSR), quantised to the core's weight format, plus the input spike trains.

Quantisation `scale`: for each target neuron j, s_j = (2^(bits-1) - 1) / max_i |w_ij|, and its
weights, threshold, bias and reset value are rounded after multiplying by s_j (per-neuron scaling
leaves every spike unchanged in exact arithmetic). `exact`: the numbers must already be integers
in range (SANA-FE networks). Leak factors are rounded to 12-bit fractions (Loihi's decay format)
under `scale` and kept as given under `exact`.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.components.neuro import NeuroCore
from simulator.errors import SpecError, UnsupportedError
from simulator.numerics.ann2snn import AnnModel, load_ann, normalise
from simulator.numerics.encoding import encode
from simulator.numerics.lif import DECAY_BITS, RESET_CODES, LifParams, Synapses
from simulator.spec.grid import dyadic_bits
from simulator.spec.npzio import load_arrays
from simulator.spec.snn import ArrayRef, ConnectionSpec, GroupSpec, NeuronSpec, SnnSpec
from simulator.spec.validate import locate

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Group:
    """A compiled group: its slice of the flat neuron arrays."""

    name: str
    start: int
    size: int
    kind: str


@dataclass(frozen=True)
class AnnCheck:
    """What the converted network is checked against: the ANN, its test inputs, the sample run."""

    model: AnnModel
    sample: int
    samples: int
    input_rate: float
    encoding: str
    seed: tuple  # the Poisson seed of test input k is seed + (k,)


@dataclass(frozen=True)
class SnnNetwork:
    """A spiking network ready to run: everything per neuron or per synapse is a numpy array."""

    name: str
    groups: list[Group]
    params: LifParams
    synapses: Synapses
    synapse_unit: np.ndarray  # int64 [S]: index into synapse_units
    synapse_units: list[str]
    soma_unit: np.ndarray  # int64 [n]: index into soma_units
    soma_units: list[str]
    input_index: np.ndarray  # global indices of input neurons
    input_trains: np.ndarray  # bool [steps, inputs]
    steps: int
    ann: AnnCheck | None

    @property
    def size(self) -> int:
        return self.params.size

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)

    def input_spikes(self, t: int) -> np.ndarray:
        """Bool spikes of every neuron's input source at step t (non-inputs are False)."""
        spikes = np.zeros(self.size, dtype=bool)
        spikes[self.input_index] = self.input_trains[t]
        return spikes


def _array(ref: ArrayRef, spec: SnnSpec, where: tuple) -> np.ndarray:
    """Load a referenced array: relative to the workload file, else shipped in simulator/data."""
    base = Path(spec._source).parent if spec._source not in ("<inline>",) else Path.cwd()
    candidates = (
        [Path(ref.file)] if Path(ref.file).is_absolute() else [base / ref.file, DATA / ref.file]
    )
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise SpecError(
            f"{locate(spec, *where)}: no file {ref.file!r} next to the workload or in simulator/data"
        )
    data = load_arrays(path)
    if ref.key not in data:
        raise SpecError(
            f"{locate(spec, *where)}: {ref.file} has no array {ref.key!r}; it has {list(data)}"
        )
    return data[ref.key]


def _values(value, count: int, spec: SnnSpec, where: tuple) -> np.ndarray:
    """A scalar, list or file array as float64 [count]."""
    if isinstance(value, ArrayRef):
        array = _array(value, spec, where).astype(np.float64).ravel()
    else:
        array = np.asarray(value, dtype=np.float64).ravel()
    if array.size == 1:
        return np.full(count, float(array[0]))
    if array.size != count:
        raise SpecError(f"{locate(spec, *where)}: needs 1 or {count} values, got {array.size}")
    return array


def _ann_groups(spec: SnnSpec, seed: int) -> tuple[list[GroupSpec], list[ConnectionSpec], AnnCheck]:
    """The groups and dense connections of a converted ReLU MLP, its test sample as input rates."""
    ann = spec.ann
    path = Path(ann.model) if Path(ann.model).is_file() else DATA / ann.model
    model = load_ann(path)
    if ann.sample >= len(model.x_test):
        raise SpecError(
            f"{locate(spec, 'ann', 'sample')}: {ann.sample} >= {len(model.x_test)} test inputs"
        )
    if (ann.agreement_samples or 0) > len(model.x_test):  # it was cut to them without a word
        raise SpecError(
            f"{locate(spec, 'ann', 'agreement_samples')}: {ann.agreement_samples} > "
            f"{len(model.x_test)} test inputs in {path.name}"
        )
    weights, biases = normalise(model, ann.normalisation, ann.percentile)
    sizes = model.sizes
    names = ["input"] + [f"hidden{i}" for i in range(len(sizes) - 2)] + ["output"]
    neuron = dict(threshold=1.0, reset=ann.reset, decay=ann.decay)
    groups = [
        GroupSpec(name="input", size=sizes[0], kind="input", rates=list(model.x_test[ann.sample]))
    ]
    for name, size, bias in zip(names[1:], sizes[1:], biases):
        # biases scale with the input rate, so every layer's rate scales with it too
        groups.append(
            GroupSpec(
                name=name, size=size, neuron=NeuronSpec(bias=list(bias * spec.input_rate), **neuron)
            )
        )
    connections = [
        ConnectionSpec(source=a, target=b, kind="dense", weights=list(w.ravel()))
        for a, b, w in zip(names, names[1:], weights)
    ]
    samples = ann.agreement_samples or len(model.x_test)
    check = AnnCheck(model, ann.sample, samples, spec.input_rate, spec.encoding, (spec.seed, seed))
    return groups, connections, check


def _connection(c: ConnectionSpec, index: int, groups: dict[str, Group], spec: SnnSpec):
    """(sources, targets, weights) in global neuron indices for one connection."""
    src, dst = groups[c.source], groups[c.target]
    where = ("connections", index)
    if c.kind == "dense":
        w = _values(c.weights, src.size * dst.size, spec, where + ("weights",))
        s, t = np.divmod(np.arange(src.size * dst.size), dst.size)
    elif c.kind == "one_to_one":
        if src.size != dst.size:
            raise SpecError(
                f"{locate(spec, *where)}: one_to_one needs equal sizes, got {src.size} and {dst.size}"
            )
        w = _values(c.weights, src.size, spec, where + ("weights",))
        s = t = np.arange(src.size)
    elif c.kind == "sparse":
        pairs = (
            _array(c.pairs, spec, where + ("pairs",))
            if isinstance(c.pairs, ArrayRef)
            else np.asarray(c.pairs)
        )
        pairs = pairs.reshape(-1, 2).astype(np.int64)
        s, t = pairs[:, 0], pairs[:, 1]
        if s.size and (s.max() >= src.size or t.max() >= dst.size or min(s.min(), t.min()) < 0):
            raise SpecError(
                f"{locate(spec, *where)}: pair indices outside the groups ({src.size} x {dst.size})"
            )
        w = _values(c.weights, len(s), spec, where + ("weights",))
    else:
        s, t, w = _conv2d(c, src, dst, spec, where)
    return s + src.start, t + dst.start, w


def _conv2d(c: ConnectionSpec, src: Group, dst: Group, spec: SnnSpec, where: tuple):
    """Synapses of a 2D convolution: neurons channels-first (c, y, x), kernel [kh, kw, cin, cout]."""
    channels, height, width = c.input_shape
    (kh, kw), (sh, sw), (ph, pw) = c.kernel, c.stride, c.padding
    if channels * height * width != src.size:
        raise SpecError(
            f"{locate(spec, *where)}: input_shape {c.input_shape} has {channels * height * width} "
            f"neurons, {src.name} has {src.size}"
        )
    out_h, out_w = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    kernel_size = kh * kw * channels
    raw = (
        _array(c.weights, spec, where + ("weights",))
        if isinstance(c.weights, ArrayRef)
        else np.asarray(c.weights)
    )
    raw = raw.astype(np.float64).ravel()
    if raw.size % kernel_size or out_h < 1 or out_w < 1:
        raise SpecError(
            f"{locate(spec, *where)}: {raw.size} weights do not fill [{kh}, {kw}, {channels}, cout] kernels"
        )
    filters = raw.size // kernel_size
    if filters * out_h * out_w != dst.size:
        raise SpecError(
            f"{locate(spec, *where)}: output {filters} x {out_h} x {out_w} = "
            f"{filters * out_h * out_w} neurons, {dst.name} has {dst.size}"
        )
    kernel = raw.reshape(kh, kw, channels, filters)
    co, oy, ox, ci = np.meshgrid(
        np.arange(filters), np.arange(out_h), np.arange(out_w), np.arange(channels), indexing="ij"
    )
    sources, targets, values = [], [], []
    for ky in range(kh):
        for kx in range(kw):
            iy, ix = oy * sh + ky - ph, ox * sw + kx - pw
            valid = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
            sources.append((ci * height * width + iy * width + ix)[valid])
            targets.append((co * out_h * out_w + oy * out_w + ox)[valid])
            values.append(kernel[ky, kx][ci[valid], co[valid]])
    return np.concatenate(sources), np.concatenate(targets), np.concatenate(values)


def _quantise(spec, core, synapse_targets, w, threshold, bias, levels, n):
    """Integer weights, thresholds, biases and potential levels (reset value, leak, reverse
    threshold and reset value) for the core's weight format, and the fraction bits of the unit
    they count (exact: the fewest that make them integers, at most the potential's)."""
    limit = core.weight_limit()
    if spec.quantisation == "exact":
        named = (
            ("weights", w),
            ("thresholds", threshold),
            ("biases", bias),
            ("reset values, leaks and reverse thresholds", np.concatenate(levels)),
        )
        bits = dyadic_bits([values for _, values in named], core.potential_frac_bits)
        if bits is None:
            label = next(
                label
                for label, values in named
                if dyadic_bits([values], core.potential_frac_bits) is None
            )
            raise SpecError(
                f"{locate(spec, 'quantisation')}: exact quantisation needs {label} on the "
                f"core's potential grid (multiples of 2^-{core.potential_frac_bits})"
            )
        w = np.ldexp(w, bits)
        if w.size and np.abs(w).max() > limit:
            raise UnsupportedError(
                f"{core.name} (neuro_core) holds {core.weight_bits}-bit weights (|w| <= {limit}); "
                f"the network has |w| up to {np.abs(w).max():g}"
                + (f" in units of 2^-{bits}" if bits else "")
            )
        return (
            w.astype(np.int64),
            np.ldexp(threshold, bits).astype(np.int64),
            np.ldexp(bias, bits).astype(np.int64),
            *(np.ldexp(level, bits).astype(np.int64) for level in levels),
            bits,
        )
    largest = np.zeros(n)
    np.maximum.at(largest, synapse_targets, np.abs(w))
    if limit == 1:  # ternary: w ~ alpha * {-1, 0, 1}, alpha the mean |w| above 0.7 mean |w| (TWN)
        total, count = np.zeros(n), np.zeros(n)
        np.add.at(total, synapse_targets, np.abs(w))
        np.add.at(count, synapse_targets, 1.0)
        delta = 0.7 * total / np.maximum(count, 1.0)
        big = np.abs(w) > delta[synapse_targets]
        kept, kept_count = np.zeros(n), np.zeros(n)
        np.add.at(kept, synapse_targets[big], np.abs(w[big]))
        np.add.at(kept_count, synapse_targets[big], 1.0)
        largest = np.where(kept_count > 0, kept / np.maximum(kept_count, 1.0), largest)
    fallback = np.maximum(np.abs(threshold), np.abs(bias))
    largest = np.where(largest > 0, largest, np.where(fallback > 0, fallback, 1.0))
    scale = limit / largest
    return (
        np.clip(np.rint(w * scale[synapse_targets]), -limit, limit).astype(np.int64),
        np.rint(threshold * scale).astype(np.int64),
        np.rint(bias * scale).astype(np.int64),
        *(np.rint(level * scale).astype(np.int64) for level in levels),
        0,
    )


_TRUENORTH_ONLY = {  # NeuronSpec fields and their values that leave a LIF neuron unchanged
    "leak": 0.0,
    "leak_towards_zero": True,
    "random_mask": 0,
}


def _truenorth_only_fields(g: GroupSpec, spec: SnnSpec, index: int, allowed: bool) -> None:
    """A LIF group may not set TrueNorth's fields, nor a TrueNorth group LIF's decay,
    refractory period or saturating reset (SpecError naming the field)."""
    where = ("groups", index, "neuron")
    if allowed:
        for field, neutral in (("decay", 1.0), ("refractory", 0)):
            if getattr(g.neuron, field) != neutral:
                raise SpecError(
                    f"{locate(spec, *where, field)}: a truenorth soma has no {field} "
                    "(its leak is additive: `leak`)"
                )
        return
    for field, neutral in _TRUENORTH_ONLY.items():
        if getattr(g.neuron, field) != neutral:
            raise SpecError(
                f"{locate(spec, *where, field)}: only neurons on a truenorth soma unit have it"
            )
    if g.neuron.reset == "saturate":
        raise SpecError(f"{locate(spec, *where, 'reset')}: saturate is a truenorth soma's reset")


def compile_network(spec: SnnSpec, core: NeuroCore, seed: int = 0) -> SnnNetwork:
    """Flatten, expand and quantise `spec` for `core`; one inference of spec.time_steps steps.
    Poisson inputs draw from the seed (spec.seed, seed, sample or group index)."""
    group_specs, connection_specs, check = (
        _ann_groups(spec, seed) if spec.ann is not None else (spec.groups, spec.connections, None)
    )
    groups, start = {}, 0
    for g in group_specs:
        groups[g.name] = Group(g.name, start, g.size, g.kind)
        start += g.size
    n = start
    threshold, bias, reset_value = np.zeros(n), np.zeros(n), np.zeros(n)
    decay, reset = np.ones(n), np.zeros(n, dtype=np.int8)
    refractory, force = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    is_input = np.zeros(n, dtype=bool)
    truenorth, towards = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    leak, reverse_threshold, reverse_value = np.zeros(n), np.zeros(n), np.zeros(n)
    reverse_reset = np.full(n, RESET_CODES["none"], dtype=np.int8)
    random_mask = np.zeros(n, dtype=np.int64)
    soma_names = list(core.somas)
    soma_unit = np.zeros(n, dtype=np.int64)
    for index, g in enumerate(group_specs):
        span = slice(groups[g.name].start, groups[g.name].start + g.size)
        where = ("groups", index, "neuron")
        unit = core.soma_unit(g.soma, g.kind) if (g.soma is None or g.soma in core.somas) else None
        if unit is None:
            raise UnsupportedError(
                f"{core.name} (neuro_core) has no soma unit {g.soma!r}; it has: {', '.join(core.somas)}"
            )
        soma_unit[span] = soma_names.index(unit.name)
        is_input[span] = g.kind == "input"
        threshold[span] = _values(g.neuron.threshold, g.size, spec, where + ("threshold",))
        bias[span] = _values(g.neuron.bias, g.size, spec, where + ("bias",))
        reset_value[span] = g.neuron.reset_value
        decay[span] = g.neuron.decay
        reset[span] = RESET_CODES[g.neuron.reset]
        refractory[span] = g.neuron.refractory
        force[span] = g.neuron.force_update
        if g.kind != "input":
            reverse_threshold[span] = g.neuron.reverse_threshold
            reverse_reset[span] = RESET_CODES[g.neuron.reverse_reset]
            reverse_value[span] = g.neuron.reverse_reset_value
        if unit.model == "truenorth" and g.kind != "input":
            _truenorth_only_fields(g, spec, index, allowed=True)
            truenorth[span] = True
            leak[span], towards[span] = g.neuron.leak, g.neuron.leak_towards_zero
            random_mask[span] = g.neuron.random_mask
        elif g.kind != "input":
            _truenorth_only_fields(g, spec, index, allowed=False)
    parts = [_connection(c, i, groups, spec) for i, c in enumerate(connection_specs)]
    synapse_names = list(core.synapse_units)
    units = []
    for c, part in zip(connection_specs, parts):
        if c.synapse is not None and c.synapse not in core.synapse_units:
            raise UnsupportedError(
                f"{core.name} (neuro_core) has no synapse unit {c.synapse!r}; it has: {', '.join(synapse_names)}"
            )
        units.append(np.full(len(part[0]), synapse_names.index(core.synapse_unit(c.synapse).name)))
    sources = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    targets = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    weights = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    unit_of = np.concatenate(units) if units else np.zeros(0, dtype=np.int64)
    weights, threshold, bias, reset_value, leak, reverse_threshold, reverse_value, unit = _quantise(
        spec,
        core,
        targets,
        weights,
        threshold,
        bias,
        (reset_value, leak, reverse_threshold, reverse_value),
        n,
    )
    if spec.quantisation == "scale":  # a weight that rounds to 0 is no synapse: no memory, no event
        decay = np.round(decay * 2**DECAY_BITS) / 2**DECAY_BITS
        kept = weights != 0
        sources, targets, weights, unit_of = (
            sources[kept],
            targets[kept],
            weights[kept],
            unit_of[kept],
        )
    order = np.argsort(sources, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(sources, minlength=n), out=indptr[1:])
    params = LifParams(
        threshold=threshold,
        bias=np.where(is_input, 0, bias),
        decay=decay,
        reset=reset,
        reset_value=reset_value,
        refractory=refractory,
        force=force,
        is_input=is_input,
        frac_bits=core.potential_frac_bits - unit,
        potential_bits=core.potential_bits,
        spike_bits=core.spike_bits,
        truenorth=truenorth,
        leak=leak,
        leak_towards_zero=towards,
        reverse_threshold=reverse_threshold,
        reverse_reset=reverse_reset,
        reverse_reset_value=reverse_value,
        random_mask=random_mask,
        unit_bits=unit,
    )
    synapses = Synapses(indptr, targets[order].astype(np.int64), weights[order])
    input_index = np.flatnonzero(is_input)
    trains = _input_trains(spec, group_specs, check, seed)
    return SnnNetwork(
        spec.name,
        list(groups.values()),
        params,
        synapses,
        unit_of[order].astype(np.int64),
        synapse_names,
        soma_unit,
        soma_names,
        input_index,
        trains,
        spec.time_steps,
        check,
    )


def _input_trains(spec: SnnSpec, group_specs, check, seed: int) -> np.ndarray:
    """Spike trains [steps, inputs] of every input group, in neuron order."""
    trains = []
    for index, g in enumerate(group_specs):
        if g.kind != "input":
            continue
        if g.spikes is not None:
            where = ("groups", index, "spikes")
            rows = _array(g.spikes, spec, where) if isinstance(g.spikes, ArrayRef) else g.spikes
            explicit = np.zeros((spec.time_steps, g.size), dtype=bool)
            rows = [np.asarray(r, dtype=bool).ravel() for r in rows]
            if len(rows) != g.size:
                raise SpecError(
                    f"{locate(spec, *where)}: needs one train per neuron ({g.size}), got {len(rows)}"
                )
            for i, r in enumerate(rows):
                explicit[: min(len(r), spec.time_steps), i] = r[: spec.time_steps]
            trains.append(explicit)
            continue
        rates = _values(g.rates, g.size, spec, ("groups", index, "rates"))
        if not np.all((rates >= 0) & (rates <= 1)):  # probabilities; NaN fails too
            bad = rates[~((rates >= 0) & (rates <= 1))][0]
            raise SpecError(
                f"{locate(spec, 'groups', index, 'rates')}: a rate is a spike probability per "
                f"step, in [0, 1]; got {bad}"
            )
        rates = rates * spec.input_rate
        stream = check.seed + (check.sample,) if check is not None else (spec.seed, seed, index)
        trains.append(encode(rates, g.encoding or spec.encoding, spec.time_steps, stream))
    if not trains:
        return np.zeros((spec.time_steps, 0), dtype=bool)
    return np.concatenate(trains, axis=1)
