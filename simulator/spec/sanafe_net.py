"""The network half of the SANA-FE import: groups, per-neuron attributes, edges and mappings as an
accsim `kind: snn` workload (arrays in network.npz). SANA-FE's rules kept: a group has as many
neurons as its list names; a synapse's unit is its target neuron's; a neuron's soma unit comes
from its mapping, else its attributes, else the core's first; an input unit drives one neuron.
"""

import math
from pathlib import Path

import numpy as np

from simulator.errors import SpecError, UnsupportedError, a_or_an
from simulator.spec.sanafe_yaml import RANGE, SILENT, attributes_of, number, unit_count

_RESET = {"hard": "zero", "soft": "subtract", "none": "none"}
_TRUENORTH_RESET = {**_RESET, "saturate": "saturate"}
# SANA-FE 2.2.9's LIF reads `saturate` but resets only hard and soft (models.cpp,
# loihi_threshold_and_reset): a saturating LIF neuron keeps its potential, as with none
_LIF_RESET = {**_RESET, "saturate": "none"}
_TRUENORTH_KEYS = {  # a truenorth soma's neuron attributes (models.hpp truenorth_attributes)
    "threshold",
    "bias",
    "reset",
    "reset_mode",
    "reverse_threshold",
    "reverse_reset",
    "reverse_reset_mode",
    "leak",
    "leak_towards_zero",
    "random_mask",
    "force_update",
    "force_update_every_timestep",
    "soma_hw_name",
    "synapse_hw_name",
    "dendrite_hw_name",
    "model",
}
_EDGE_KEYS = {
    "weight",
    "w",
    "type",
    "delay",
    "source_target_pairs",
    "input_width",
    "input_height",
    "input_channels",
    "kernel_width",
    "kernel_height",
    "kernel_count",
    "stride_width",
    "stride_height",
}


class _Group:
    def __init__(self, name: str, size: int, defaults: dict):
        self.name, self.size, self.defaults = name, size, defaults
        self.neurons: dict[int, dict] = {}
        self.soma: list[str | None] = [None] * size
        self.synapse: list[str | None] = [None] * size
        self.core: list[int | None] = [None] * size
        self.mapped: list[int] = [0] * size  # when the mappings placed it (its core's order)

    def attribute(self, key: str, default=None) -> list:
        return [
            self.neurons.get(i, {}).get(key, self.defaults.get(key, default))
            for i in range(self.size)
        ]


def _split_attributes(raw) -> dict:
    """Flatten soma/synapse/dendrite subsections into one attribute mapping."""
    attributes = attributes_of(raw)
    flat = {k: v for k, v in attributes.items() if k not in ("soma", "synapse", "dendrite")}
    for section in ("soma", "synapse", "dendrite"):
        if section in attributes and isinstance(attributes[section], (dict, list)):
            flat.update(attributes_of(attributes[section]))
        elif section in attributes:  # 'soma: name' in a mapping picks the unit
            flat[f"{section}_hw_name"] = attributes[section]
    return flat


MAX_NEURONS = 2**24
"""Most neuron ids one entry may list ('0..N'): each becomes a neuron held in memory."""


def _ids(text, size: int) -> range:
    """'3' or '0..9' (both ends included) as a range of neuron ids; SpecError if it is none."""
    text = str(text)
    a, _, b = text.partition("..") if ".." in text else (text, "", text)
    ids = range(int(a), int(b) + 1)
    if not ids or ids.start < 0 or len(ids) > MAX_NEURONS:
        raise SpecError(
            f"neurons {text!r}: give ids from 0 up, first <= last, at most {MAX_NEURONS:,}"
        )
    return ids


def _address(text: str, groups: dict) -> tuple[str, range]:
    """'group', 'group.3' or 'group.0..9' -> (group, neuron range)."""
    name, _, rest = str(text).strip().partition(".")
    if name not in groups:
        raise SpecError(f"no neuron group {name!r}")
    return name, (_ids(rest, groups[name].size) if rest else range(groups[name].size))


def groups_of(network: dict, path: Path) -> dict[str, _Group]:
    groups = {}
    for entry in network.get("groups") or []:
        name = str(entry["name"])
        defaults = _split_attributes(entry.get("attributes"))
        specs = []
        for item in entry.get("neurons") or []:
            ((ids, attrs),) = dict(item).items()
            specs.append((ids, _split_attributes(attrs)))
        size = sum(len(_ids(ids, 0)) for ids, _ in specs)  # SANA-FE counts every listed id
        group = _Group(name, size, defaults)
        for ids, attrs in specs:
            for i in _ids(ids, size):
                group.neurons[i] = {**group.neurons.get(i, {}), **attrs}
        groups[name] = group
    if not groups:
        raise SpecError(f"{path}: the network has no groups")
    return groups


def map_neurons(mappings: list, groups: dict, per_tile: int, path: Path) -> None:
    inputs: dict[tuple, str] = {}  # (core, input unit instance) -> the neuron it drives
    mapped = 0
    for item in mappings or []:
        ((where, attrs),) = dict(item).items()
        attrs = _split_attributes(attrs)
        name, ids = _address(where, groups)
        tile, _, core = str(attrs["core"]).partition(".")
        index = int(tile) * per_tile + int(core or 0)
        unit = attrs.get("soma_hw_name")
        if (
            unit is not None
            and RANGE.match(str(unit))
            and (len(ids) > 1 or (index, unit) in inputs)
        ):
            first = inputs.get((index, unit), f"{name}.{ids[0]}")
            raise UnsupportedError(
                f"{path}: {where} shares soma unit {unit} with {first}; a SANA-FE input unit holds "
                "the spike source of one neuron, give each neuron its own unit"
            )
        if unit is not None:
            inputs[(index, unit)] = f"{name}.{ids[0]}"
        for i in ids:
            groups[name].core[i] = index
            groups[name].mapped[i] = mapped
            mapped += 1
            if attrs.get("soma_hw_name") is not None:
                groups[name].soma[i] = unit_count(attrs["soma_hw_name"])[0]
            if attrs.get("synapse_hw_name") is not None:
                groups[name].synapse[i] = unit_count(attrs["synapse_hw_name"])[0]
    for g in groups.values():
        if None in g.core:
            raise SpecError(f"{path}: neuron {g.name}.{g.core.index(None)} is not mapped to a core")


def _constant(values: list, what: str, group: str):
    distinct = {repr(v) for v in values}
    if len(distinct) > 1:
        raise UnsupportedError(
            f"group {group}: {what} differs between its neurons ({len(distinct)} values); accsim takes one per group"
        )
    return values[0]


def group_spec(g: _Group, units: dict, arrays: dict, steps: int) -> dict:
    named = g.attribute("soma_hw_name")  # once per group: the import stays linear in its size
    somas = [s or (unit_count(d)[0] if d else units["first_soma"]) for s, d in zip(g.soma, named)]
    soma = _constant(somas, "the soma unit", g.name)
    if soma not in units["somas"]:
        raise SpecError(f"group {g.name}: soma unit {soma!r} is not in the architecture")
    spec = {"name": g.name, "size": g.size, "soma": soma}
    known = {
        "threshold",
        "bias",
        "leak_decay",
        "reset",
        "reset_mode",
        "refractory_delay",
        "force_update",
        "force_update_every_timestep",
        "spikes",
        "poisson",
        "rate",
        "soma_hw_name",
        "synapse_hw_name",
        "dendrite_hw_name",
        "input_decay",
        "reverse_threshold",
        "reverse_reset",
        "reverse_reset_mode",
        "model",
    }
    if units["somas"][soma] == "truenorth":
        known = _TRUENORTH_KEYS
    for key in {k for n in g.neurons.values() for k in n} | set(g.defaults):
        if key not in known and key not in SILENT:
            raise UnsupportedError(
                f"group {g.name}: attribute {key!r} is not modelled by accsim for "
                f"{a_or_an(units['somas'][soma])} soma (it takes {', '.join(sorted(known - SILENT))})"
            )
    if units["somas"][soma] == "truenorth":
        spec["neuron"] = _truenorth_neuron(g, arrays)
        return spec
    if any(v is not None and number(v) != 0 for v in g.attribute("input_decay")):
        raise UnsupportedError(f"group {g.name}: input_decay is not modelled by accsim")
    if units["somas"][soma] == "input":
        spec["kind"] = "input"
        trains = g.attribute("spikes")
        rates = [number(r) for r in g.attribute("rate", 0.0)]
        poisson = [number(p) for p in g.attribute("poisson", 0.0)]
        if any(poisson):
            if any(t is not None for t in trains) or any(rates):
                raise UnsupportedError(
                    f"group {g.name}: poisson inputs mixed with spike lists or rates"
                )
            spec.update(rates=poisson, encoding="poisson")  # accsim's own seeded draws
            return spec
        matrix = np.zeros((g.size, steps), dtype=np.int8)  # spike lists OR periodic rates
        step = np.arange(1, steps + 1)
        for i, (train, rate) in enumerate(zip(trains, rates)):
            bits = [int(number(b)) for b in (train or [])][:steps]
            matrix[i, : len(bits)] = bits
            if rate > 0:
                matrix[i] |= (step % int(1.0 / rate) == 0).astype(np.int8)
        arrays[f"{g.name}.spikes"] = matrix
        spec["spikes"] = {"file": "network.npz", "key": f"{g.name}.spikes"}
        return spec
    neuron = _per_neuron(g, arrays)
    neuron["decay"] = number(_constant(g.attribute("leak_decay", 1.0), "leak_decay", g.name))
    mode = str(_constant(g.attribute("reset_mode", "hard"), "reset_mode", g.name))
    if mode not in _LIF_RESET:
        raise UnsupportedError(
            f"group {g.name}: reset_mode {mode!r}; SANA-FE's LIF takes hard, soft, saturate and none"
        )
    neuron["reset"] = _LIF_RESET[mode]
    neuron["reset_value"] = number(_constant(g.attribute("reset", 0.0), "reset", g.name))
    neuron.update(_reverse_reset(g))
    neuron["refractory"] = max(
        int(number(_constant(g.attribute("refractory_delay", 0), "refractory_delay", g.name))) - 1,
        0,
    )
    force = [str(v).lower() == "true" for v in g.attribute("force_update", False)]
    force = [
        a or str(b).lower() == "true"
        for a, b in zip(force, g.attribute("force_update_every_timestep", False))
    ]
    neuron["force_update"] = bool(_constant(force, "force_update", g.name))
    spec["neuron"] = neuron
    return spec


def _typed(g: _Group, key: str, default, kind: str):
    """One value of `key` for the whole group, read as a number, a count or a flag; a value of
    the wrong type is a one-line SpecError naming the group and key."""
    value = _constant(g.attribute(key, default), key, g.name)
    text = str(value).strip().lower()
    if kind == "flag":
        if text not in ("true", "false", "1", "0"):
            raise SpecError(f"group {g.name}: {key} is true or false, got {value!r}")
        return text in ("true", "1")
    try:
        number_value = float(text)
    except ValueError:
        number_value = math.nan
    if not math.isfinite(number_value) or (
        kind == "count" and (number_value < 0 or number_value != int(number_value))
    ):
        wanted = "an integer >= 0" if kind == "count" else "a finite number"
        raise SpecError(f"group {g.name}: {key} must be {wanted}, got {value!r}")
    return int(number_value) if kind == "count" else number_value


def _reset_mode(g: _Group, key: str, default: str) -> str:
    """A group's reset_mode or reverse_reset_mode as NeuronSpec's reset name."""
    mode = str(_constant(g.attribute(key, default), key, g.name))
    if mode not in _TRUENORTH_RESET:
        raise SpecError(
            f"group {g.name}: {key} {mode!r}; SANA-FE resets hard, soft, saturate or none"
        )
    return _TRUENORTH_RESET[mode]


def _reverse_reset(g: _Group) -> dict:
    """NeuronSpec's reverse threshold fields of a group (LIF and truenorth somas alike)."""
    return {
        "reverse_reset": _reset_mode(g, "reverse_reset_mode", "none"),
        "reverse_reset_value": _typed(g, "reverse_reset", 0.0, "number"),
        "reverse_threshold": _typed(g, "reverse_threshold", 0.0, "number"),
    }


def _truenorth_neuron(g: _Group, arrays: dict) -> dict:
    """NeuronSpec fields of a group on a truenorth soma (TrueNorthModel's attributes)."""
    neuron = _per_neuron(g, arrays)
    neuron["reset"] = _reset_mode(g, "reset_mode", "hard")
    neuron["reset_value"] = _typed(g, "reset", 0.0, "number")
    neuron.update(_reverse_reset(g))
    neuron["leak"] = _typed(g, "leak", 0.0, "number")
    neuron["leak_towards_zero"] = _typed(g, "leak_towards_zero", True, "flag")
    neuron["random_mask"] = _typed(g, "random_mask", 0, "count")
    neuron["force_update"] = _typed(g, "force_update", False, "flag") or _typed(
        g, "force_update_every_timestep", False, "flag"
    )
    return neuron


def _per_neuron(g: _Group, arrays: dict) -> dict:
    """Threshold and bias: one number for the group, or an array when its neurons differ."""
    neuron = {}
    for key, attr, default in (("threshold", "threshold", 0.0), ("bias", "bias", 0.0)):
        values = np.array([number(v) for v in g.attribute(attr, default)])
        if np.all(values == values[0]):
            neuron[key] = float(values[0])
        else:
            arrays[f"{g.name}.{key}"] = values
            neuron[key] = {"file": "network.npz", "key": f"{g.name}.{key}"}
    return neuron


def _synapse_units(group: _Group, units: dict) -> list[str]:
    """The synapse unit of each neuron of `group` (a synapse's unit is its target neuron's)."""
    named = group.attribute("synapse_hw_name")
    return [unit_count(m or d or units["first_synapse"])[0] for m, d in zip(group.synapse, named)]


def _check_ids(group: _Group, ids: np.ndarray, text: str) -> None:
    if ids.size and (ids.min() < 0 or ids.max() >= group.size):
        bad = int(ids[(ids < 0) | (ids >= group.size)][0])
        raise SpecError(f"edge {text}: no neuron {group.name}.{bad} (the group has {group.size})")


def _single_connections(singles: dict, table, groups: dict, unit_of) -> None:
    """Add the pre-read single edges to `singles`, keyed (source, target, synapse unit), in file
    order; vectorized per (source group, target group) so a file of 3.6 M edges stays linear."""
    if table is None or not table.source.size:
        return
    pair_names, pair_code = np.unique(
        np.char.add(np.char.add(table.source_group, "->"), table.target_group), return_inverse=True
    )
    for code, text in enumerate(pair_names.tolist()):
        src, _, dst = text.partition("->")
        for name in (src, dst):
            if name not in groups:
                raise SpecError(f"edge {text}: no neuron group {name!r}")
        rows = np.flatnonzero(pair_code == code)
        sources, targets = table.source[rows], table.target[rows]
        _check_ids(groups[src], sources, text)
        _check_ids(groups[dst], targets, text)
        names = unit_of(dst)
        unit_names, unit_code = np.unique(np.array(names, dtype=str), return_inverse=True)
        by_target = unit_code[targets]
        for u, unit in enumerate(unit_names.tolist()):
            pick = by_target == u
            singles.setdefault((src, dst, unit), []).append(
                (sources[pick], targets[pick], table.weight[rows[pick]])
            )


def edges(network: dict, groups: dict, units: dict, arrays: dict, table=None) -> list[dict]:
    """Connections of the network: typed edges (dense, conv2d, sparse) one each, and neuron-to-
    neuron edges gathered into one sparse connection per (source, target, synapse unit)."""
    connections, singles = [], {}
    cached: dict[str, list[str]] = {}

    def unit_of(name: str) -> list[str]:
        if name not in cached:
            cached[name] = _synapse_units(groups[name], units)
        return cached[name]

    _single_connections(singles, table, groups, unit_of)
    for index, item in enumerate(network.get("edges") or []):
        ((text, attrs),) = dict(item).items()
        left, _, right = str(text).partition("->")
        src, src_ids = _address(left, groups)
        dst, dst_ids = _address(right, groups)
        attrs = _split_attributes(attrs)
        if float(number(attrs.get("delay", 0) or 0)) != 0:
            raise UnsupportedError(
                f"edge {text.strip()}: synaptic delays are not modelled by accsim"
            )
        extra = set(attrs) - _EDGE_KEYS - SILENT
        if extra:
            raise UnsupportedError(
                f"edge {text.strip()}: {sorted(extra)} not modelled (SANA-FE takes a synapse's unit "
                "from its target neuron's synapse_hw_name)"
            )
        kind = str(attrs.get("type", ""))
        weight = attrs.get("weight", attrs.get("w"))
        if kind in ("dense", "conv2d", "sparse"):
            key = f"edge{index}"
            arrays[key] = np.array([number(w) for w in weight], dtype=np.float64)
            connection = {
                "source": src,
                "target": dst,
                "kind": kind,
                "weights": {"file": "network.npz", "key": key},
                "synapse": _constant(unit_of(dst), "the synapse unit", dst),
            }
            if kind == "conv2d":
                c = {
                    k: int(number(attrs[k]))
                    for k in (
                        "input_width",
                        "input_height",
                        "input_channels",
                        "kernel_width",
                        "kernel_height",
                    )
                }
                connection.update(
                    input_shape=[c["input_channels"], c["input_height"], c["input_width"]],
                    kernel=[c["kernel_height"], c["kernel_width"]],
                    stride=[
                        int(number(attrs.get("stride_height", 1))),
                        int(number(attrs.get("stride_width", 1))),
                    ],
                )
            if kind == "sparse":
                arrays[f"{key}.pairs"] = np.array(
                    [[int(number(a)), int(number(b))] for a, b in attrs["source_target_pairs"]],
                    dtype=np.int64,
                )
                connection["pairs"] = {"file": "network.npz", "key": f"{key}.pairs"}
            connections.append(connection)
            continue
        value = number(weight if weight is not None else 0.0)
        sources = np.repeat(np.array(src_ids, dtype=np.int64), len(dst_ids))  # source-major order
        targets = np.tile(np.array(dst_ids, dtype=np.int64), len(src_ids))
        _check_ids(groups[src], sources, text.strip())
        _check_ids(groups[dst], targets, text.strip())
        names = unit_of(dst)
        for unit in dict.fromkeys(names[d] for d in dst_ids):
            pick = np.array([names[d] == unit for d in targets.tolist()], dtype=bool)
            singles.setdefault((src, dst, unit), []).append(
                (sources[pick], targets[pick], np.full(int(pick.sum()), value))
            )
    for (src, dst, unit), parts in singles.items():
        key = f"{src}->{dst}.{unit}"
        sources, targets, weights = (np.concatenate(column) for column in zip(*parts))
        arrays[f"{key}.pairs"] = np.stack([sources, targets], axis=1).astype(np.int64)
        arrays[f"{key}.weights"] = weights.astype(np.float64)
        connections.append(
            {
                "source": src,
                "target": dst,
                "kind": "sparse",
                "synapse": unit,
                "pairs": {"file": "network.npz", "key": f"{key}.pairs"},
                "weights": {"file": "network.npz", "key": f"{key}.weights"},
            }
        )
    return connections


def placement_of(groups: dict) -> list[dict]:
    """Runs of consecutive neurons on one core, in the order the mappings placed them: a core
    updates its neurons in that order, as SANA-FE's does."""
    entries: list[dict] = []
    last: tuple | None = None  # (group, next neuron, core) the previous run would continue with
    placed = sorted((m, g.name, i) for g in groups.values() for i, m in enumerate(g.mapped))
    for _, name, i in placed:
        core = groups[name].core[i]
        if last == (name, i, core):
            entries[-1]["neurons"][1] = i + 1
        else:
            entries.append({"group": name, "neurons": [i, i + 1], "core": core})
        last = (name, i + 1, core)
    return entries
