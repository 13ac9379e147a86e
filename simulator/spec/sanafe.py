"""Import SANA-FE 2.x files: an architecture (tiles of cores with axon-in, synapse, dendrite, soma
and axon-out units, per-event energy and latency) and a mapped SNN (groups, edges, mappings).

Written from SANA-FE's documented formats (arch/README.md, snn/README.md, docs/models) and
checked against its runs (benchmarks/vs_sanafe.py); no SANA-FE code is used. What accsim models:
mesh NoCs; identical cores; current_based synapses; accumulator dendrites; leaky_integrate_fire
and input somas. The dendrite's per-event cost is folded into the synapse's (buffer at the soma)
or into the soma's per-neuron cost (buffer at the dendrite). Anything else is an UnsupportedError.
Tile t sits at x = t // height, y = t % height, as SANA-FE lays them out; accsim's node is y * width + x.
"""

import math
import re
from pathlib import Path

import numpy as np
import yaml

from simulator.errors import SpecError, UnsupportedError

_RANGE = re.compile(r"^(.*)\[(\d+)(?:\.\.(\d+))?\]$")
_SILENT = {"log_spikes", "log_potential", "log_u", "force_soma_update", "log_energy", "log_latency"}
_RESET = {"hard": "zero", "soft": "subtract", "none": "none"}
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


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """Safe YAML where floats stay strings: '1.10' is tile 1 core 10, not 1.1."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:float"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read(path: Path, top: str) -> dict:
    try:
        data = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 (a safe loader)
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: malformed YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict) or top not in data:
        raise SpecError(f"{path}: not a SANA-FE {top} file (no top-level '{top}:')")
    return data


def _attributes(value) -> dict:
    """SANA-FE attributes: a mapping or a list of one-key mappings."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    merged = {}
    for item in value:
        if not isinstance(item, dict):
            raise SpecError(f"attribute {item!r} is not 'key: value'")
        merged.update(item)
    return merged


def _number(value) -> float:
    return float(value) if not isinstance(value, bool) else float(value)


def _count(name: str) -> tuple[str, int]:
    """'loihi_core[0..3]' -> ('loihi_core', 4)."""
    match = _RANGE.match(str(name))
    if not match:
        return str(name), 1
    first, last = int(match.group(2)), int(match.group(3) or match.group(2))
    return match.group(1), last - first + 1


def _pj(joules) -> str:
    return f"{_number(joules) * 1e12:.15g} pJ"


def _ns(seconds) -> str:
    return f"{_number(seconds) * 1e9:.15g} ns"


# ----- architecture -----------------------------------------------------------------------------
def _unit_costs(units: list, keys: tuple[str, str]) -> list[tuple[str, float, float]]:
    return [
        (
            _count(u["name"])[0],
            _number(_attributes(u.get("attributes")).get(keys[0], 0.0)),
            _number(_attributes(u.get("attributes")).get(keys[1], 0.0)),
        )
        for u in units or []
    ]


def _dendrite_costs(core: dict, where: str) -> tuple[float, float]:
    """(pJ, s) a dendrite adds to each synaptic event. A dendrite flagged update_every_timestep
    costs nothing more: SANA-FE's accumulator reports no energy for those forced updates."""
    units = core.get("dendrite") or []
    costs = _unit_costs(units, ("energy_update", "latency_update"))
    for unit in units:
        model = _attributes(unit.get("attributes")).get("model", "accumulator")
        if model not in ("accumulator", "accumulator_with_delay"):
            raise UnsupportedError(
                f"{where}: dendrite model {model!r}; accsim models accumulator dendrites"
            )
    if len({(e, t) for _, e, t in costs}) > 1:
        raise UnsupportedError(
            f"{where}: dendrite units with different costs {costs}; accsim folds one into the synapse"
        )
    return (costs[0][1], costs[0][2]) if costs else (0.0, 0.0)


def _core_spec(core: dict, where: str) -> tuple[dict, dict]:
    """A neuro_core spec from one SANA-FE core, and what the importer needs to know of its units."""
    attributes = _attributes(core.get("attributes"))
    position = str(attributes.get("buffer_position", "soma"))
    if position != "soma" or str(attributes.get("buffer_inside_unit", "false")).lower() == "true":
        # before the dendrite SANA-FE keeps only a step's last synaptic event; accsim sums them all
        raise UnsupportedError(
            f"{where}: buffer_position {position!r}; accsim imports cores whose time-step buffer "
            "sits before the soma (buffer_position: soma)"
        )
    dendrite_pj, dendrite_s = _dendrite_costs(core, where)
    synapses = {}
    for unit in core.get("synapse") or []:
        attrs = _attributes(unit.get("attributes"))
        if attrs.get("model", "current_based") != "current_based":
            raise UnsupportedError(
                f"{where}: synapse model {attrs.get('model')!r}; accsim models current_based synapses"
            )
        synapses[_count(unit["name"])[0]] = {
            "energy": _pj(_number(attrs.get("energy_process_spike", 0.0)) + dendrite_pj),
            "latency": _ns(_number(attrs.get("latency_process_spike", 0.0)) + dendrite_s),
        }
    somas, models = {}, {}
    for unit in core.get("soma") or []:
        attrs = _attributes(unit.get("attributes"))
        model = {"leaky_integrate_fire": "lif", "input": "input"}.get(attrs.get("model"))
        if model is None:
            raise UnsupportedError(
                f"{where}: soma model {attrs.get('model')!r}; accsim models leaky_integrate_fire and input somas"
            )
        name = _count(unit["name"])[0]
        somas[name] = {
            "model": model,
            "access_energy": _pj(attrs.get("energy_access_neuron", 0.0)),
            "update_energy": _pj(attrs.get("energy_update_neuron", 0.0)),
            "spike_energy": _pj(attrs.get("energy_spike_out", 0.0)),
            "access_latency": _ns(attrs.get("latency_access_neuron", 0.0)),
            "update_latency": _ns(attrs.get("latency_update_neuron", 0.0)),
            "spike_latency": _ns(attrs.get("latency_spike_out", 0.0)),
        }
        models[name] = model
    if not any(m == "lif" for m in models.values()):
        somas["lif"] = {"model": "lif"}  # a core of input units only still needs the lif slot
    axon_in = _unit_costs(core.get("axon_in"), ("energy_message_in", "latency_message_in"))
    axon_out = _unit_costs(core.get("axon_out"), ("energy_message_out", "latency_message_out"))
    spec = {
        "kind": "neuro_core",
        "neurons": int(attributes.get("max_neurons_supported", 1024)),
        "potential_frac_bits": 6,  # SANA-FE's LIF keeps potentials on a 1/64 grid
        "soma": somas,
        "synapse": synapses or {"default": {"energy": "0 pJ", "latency": "0 ns"}},
        "packet_in_energy": _pj(axon_in[0][1] if axon_in else 0.0),  # SANA-FE uses a core's first
        "packet_in_latency": _ns(axon_in[0][2] if axon_in else 0.0),
        "packet_out_energy": _pj(axon_out[0][1] if axon_out else 0.0),
        "packet_out_latency": _ns(axon_out[0][2] if axon_out else 0.0),
    }
    return spec, {
        "somas": models,
        "first_soma": next(iter(somas)),
        "first_synapse": next(iter(spec["synapse"])),
    }


def _barrier(attributes: dict) -> dict:
    """SANA-FE's sync latency (fixed, or a step table by tiles in use) as accsim's barrier points."""
    model = str(attributes.get("sync_model", "fixed"))
    value = attributes.get("latency_sync", 0.0)
    if model == "fixed" or not isinstance(value, (dict, list)):
        return {1: _ns(value if not isinstance(value, (dict, list)) else 0.0)}
    table = (
        dict(enumerate(value)) if isinstance(value, list) else {int(k): v for k, v in value.items()}
    )
    keys = sorted(table)
    points = {}
    for key, following in zip(keys, keys[1:] + [None]):
        points[max(key, 1)] = _ns(table[key])
        if following is not None and following - 1 > key:  # hold the step until the next key
            points[following - 1] = _ns(table[key])
    return points


def import_arch(path: Path) -> tuple[dict, dict]:
    """accsim arch dict from a SANA-FE architecture file, plus the unit facts the SNN import needs."""
    arch = _read(path, "architecture")["architecture"]
    attributes = _attributes(arch.get("attributes"))
    topology = str(attributes.get("topology", "mesh"))
    if topology != "mesh":
        raise UnsupportedError(f"{path}: topology {topology!r}; accsim imports SANA-FE meshes")
    width, height = int(attributes.get("width", 1)), int(attributes.get("height", 1))
    tiles, hops, core_specs = [], set(), []
    for tile in arch.get("tile") or []:
        _, count = _count(tile["name"])
        t = _attributes(tile.get("attributes"))
        energy = {
            d: _number(t.get(f"energy_{d}_hop", t.get(f"energy_{d}", 0.0)))
            for d in ("east", "west", "north", "south")
        }
        latency = {
            d: _number(t.get(f"latency_{d}_hop", t.get(f"latency_{d}", 0.0)))
            for d in ("east", "west", "north", "south")
        }
        hops.add((tuple(energy.values()), tuple(latency.values())))
        per_tile = 0
        for core in tile.get("core") or []:
            _, n = _count(core["name"])
            core_specs.append(_core_spec(core, f"{path}: {tile['name']}.{core['name']}"))
            per_tile += n
        tiles += [per_tile] * count
    kinds = len({repr(s) for s in core_specs})
    if not tiles or len(hops) > 1 or len(set(tiles)) > 1 or kinds > 1:
        raise UnsupportedError(
            f"{path}: accsim imports chips of identical tiles and cores (found {len(set(tiles))} "
            f"tile sizes, {len(hops)} tile kinds, {kinds} core kinds)"
        )
    if len(tiles) > width * height:
        raise SpecError(f"{path}: {len(tiles)} tiles do not fit the {width} x {height} mesh")
    per_node = tiles[0]
    spec, units = core_specs[0]
    ((energy, latency),) = hops
    spec["hop_energy"] = dict(zip(("east", "west", "north", "south"), map(_pj, energy)))
    spec["hop_latency"] = dict(zip(("east", "west", "north", "south"), map(_ns, latency)))
    spec["barrier"] = _barrier(attributes)
    nodes = [(t % height) * width + t // height for t in range(len(tiles)) for _ in range(per_node)]
    name = str(arch.get("name", path.stem))
    return {
        "name": name,
        "description": f"imported from SANA-FE {path.name}: {len(tiles)} tiles x {per_node} cores "
        f"on a {width} x {height} mesh",
        "clock": "1 GHz",
        "components": {
            "noc": {
                "kind": "noc",
                "topology": "mesh",
                "dims": [width, height],
                "link_bandwidth": "1000 GB/s",  # SANA-FE's simple timing has no link bandwidth
                "router_area": "0 mm2",
            }
        },
        "cores": {
            "count": len(nodes),
            "per_node": per_node,
            "nodes": nodes,
            "components": {"core": spec},
        },
    }, {**units, "per_tile": per_node}


# ----- network ----------------------------------------------------------------------------------
class _Group:
    def __init__(self, name: str, size: int, defaults: dict):
        self.name, self.size, self.defaults = name, size, defaults
        self.neurons: dict[int, dict] = {}
        self.soma: list[str | None] = [None] * size
        self.synapse: list[str | None] = [None] * size
        self.core: list[int | None] = [None] * size

    def attribute(self, key: str, default=None) -> list:
        return [
            self.neurons.get(i, {}).get(key, self.defaults.get(key, default))
            for i in range(self.size)
        ]


def _split_attributes(raw) -> dict:
    """Flatten soma/synapse/dendrite subsections into one attribute mapping."""
    attributes = _attributes(raw)
    flat = {k: v for k, v in attributes.items() if k not in ("soma", "synapse", "dendrite")}
    for section in ("soma", "synapse", "dendrite"):
        if section in attributes and isinstance(attributes[section], (dict, list)):
            flat.update(_attributes(attributes[section]))
        elif section in attributes:  # 'soma: name' in a mapping picks the unit
            flat[f"{section}_hw_name"] = attributes[section]
    return flat


def _ids(text, size: int) -> range:
    text = str(text)
    if ".." in text:
        a, b = text.split("..")
        return range(int(a), int(b) + 1)
    return range(int(text), int(text) + 1)


def _address(text: str, groups: dict) -> tuple[str, range]:
    """'group', 'group.3' or 'group.0..9' -> (group, neuron range)."""
    name, _, rest = str(text).strip().partition(".")
    if name not in groups:
        raise SpecError(f"no neuron group {name!r}")
    return name, (_ids(rest, groups[name].size) if rest else range(groups[name].size))


def _groups(network: dict, path: Path) -> dict[str, _Group]:
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


def _map(mappings: list, groups: dict, per_tile: int, path: Path) -> None:
    inputs: dict[tuple, str] = {}  # (core, input unit instance) -> the neuron it drives
    for item in mappings or []:
        ((where, attrs),) = dict(item).items()
        attrs = _split_attributes(attrs)
        name, ids = _address(where, groups)
        tile, _, core = str(attrs["core"]).partition(".")
        index = int(tile) * per_tile + int(core or 0)
        unit = attrs.get("soma_hw_name")
        if (
            unit is not None
            and _RANGE.match(str(unit))
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
            if attrs.get("soma_hw_name") is not None:
                groups[name].soma[i] = _count(attrs["soma_hw_name"])[0]
            if attrs.get("synapse_hw_name") is not None:
                groups[name].synapse[i] = _count(attrs["synapse_hw_name"])[0]
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


def _group_spec(g: _Group, units: dict, arrays: dict, steps: int) -> dict:
    somas = [
        s or (_count(d)[0] if (d := g.attribute("soma_hw_name")[i]) else units["first_soma"])
        for i, s in enumerate(g.soma)
    ]
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
    for key in {k for n in g.neurons.values() for k in n} | set(g.defaults):
        if key not in known and key not in _SILENT:
            raise UnsupportedError(f"group {g.name}: attribute {key!r} is not modelled by accsim")
    for key, neutral in (("input_decay", 0.0), ("reverse_reset_mode", "none")):
        if any(
            v not in (None, neutral)
            and str(v) != str(neutral)
            and not (key == "input_decay" and _number(v) == 0)
            for v in g.attribute(key)
        ):
            raise UnsupportedError(f"group {g.name}: {key} is not modelled by accsim")
    if units["somas"][soma] == "input":
        spec["kind"] = "input"
        trains = g.attribute("spikes")
        rates = [_number(r) for r in g.attribute("rate", 0.0)]
        poisson = [_number(p) for p in g.attribute("poisson", 0.0)]
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
            bits = [int(_number(b)) for b in (train or [])][:steps]
            matrix[i, : len(bits)] = bits
            if rate > 0:
                matrix[i] |= (step % int(1.0 / rate) == 0).astype(np.int8)
        arrays[f"{g.name}.spikes"] = matrix
        spec["spikes"] = {"file": "network.npz", "key": f"{g.name}.spikes"}
        return spec
    neuron = {}
    for key, attr, default in (("threshold", "threshold", 0.0), ("bias", "bias", 0.0)):
        values = np.array([_number(v) for v in g.attribute(attr, default)])
        if np.all(values == values[0]):
            neuron[key] = float(values[0])
        else:
            arrays[f"{g.name}.{key}"] = values
            neuron[key] = {"file": "network.npz", "key": f"{g.name}.{key}"}
    neuron["decay"] = _number(_constant(g.attribute("leak_decay", 1.0), "leak_decay", g.name))
    mode = str(_constant(g.attribute("reset_mode", "hard"), "reset_mode", g.name))
    if mode not in _RESET:
        raise UnsupportedError(
            f"group {g.name}: reset_mode {mode!r}; accsim models hard, soft and none"
        )
    neuron["reset"] = _RESET[mode]
    neuron["reset_value"] = _number(_constant(g.attribute("reset", 0.0), "reset", g.name))
    neuron["refractory"] = max(
        int(_number(_constant(g.attribute("refractory_delay", 0), "refractory_delay", g.name))) - 1,
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


def _edges(network: dict, groups: dict, units: dict, arrays: dict) -> list[dict]:
    connections, singles = [], {}
    for index, item in enumerate(network.get("edges") or []):
        ((text, attrs),) = dict(item).items()
        left, _, right = str(text).partition("->")
        src, src_ids = _address(left, groups)
        dst, dst_ids = _address(right, groups)
        attrs = _split_attributes(attrs)
        if float(_number(attrs.get("delay", 0) or 0)) != 0:
            raise UnsupportedError(
                f"edge {text.strip()}: synaptic delays are not modelled by accsim"
            )
        extra = set(attrs) - _EDGE_KEYS - _SILENT
        if extra:
            raise UnsupportedError(
                f"edge {text.strip()}: {sorted(extra)} not modelled (SANA-FE takes a synapse's unit "
                "from its target neuron's synapse_hw_name)"
            )
        named = groups[dst].attribute("synapse_hw_name")
        unit_of = [
            _count(m or d or units["first_synapse"])[0] for m, d in zip(groups[dst].synapse, named)
        ]
        kind = str(attrs.get("type", ""))
        weight = attrs.get("weight", attrs.get("w"))
        if kind in ("dense", "conv2d", "sparse"):
            key = f"edge{index}"
            arrays[key] = np.array([_number(w) for w in weight], dtype=np.float64)
            connection = {
                "source": src,
                "target": dst,
                "kind": kind,
                "weights": {"file": "network.npz", "key": key},
                "synapse": _constant(unit_of, "the synapse unit", dst),
            }
            if kind == "conv2d":
                c = {
                    k: int(_number(attrs[k]))
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
                        int(_number(attrs.get("stride_height", 1))),
                        int(_number(attrs.get("stride_width", 1))),
                    ],
                )
            if kind == "sparse":
                arrays[f"{key}.pairs"] = np.array(
                    [[int(_number(a)), int(_number(b))] for a, b in attrs["source_target_pairs"]],
                    dtype=np.int64,
                )
                connection["pairs"] = {"file": "network.npz", "key": f"{key}.pairs"}
            connections.append(connection)
            continue
        for s in src_ids:
            for d in dst_ids:
                pair = (s, d, _number(weight if weight is not None else 0.0))
                singles.setdefault((src, dst, unit_of[d]), []).append(pair)
    for (src, dst, unit), pairs in singles.items():
        key = f"{src}->{dst}.{unit}"
        arrays[f"{key}.pairs"] = np.array([[s, d] for s, d, _ in pairs], dtype=np.int64)
        arrays[f"{key}.weights"] = np.array([w for _, _, w in pairs])
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


def _placement(groups: dict) -> list[dict]:
    """Runs of consecutive neurons on one core, per group."""
    entries = []
    for g in groups.values():
        start = 0
        for i in range(1, g.size + 1):
            if i == g.size or g.core[i] != g.core[start]:
                entries.append({"group": g.name, "neurons": [start, i], "core": g.core[start]})
                start = i
    return entries


def import_sanafe(arch_path: Path, snn_path: Path, steps: int = 100) -> tuple[dict, dict, dict]:
    """(arch dict, workload dict, arrays for network.npz) from SANA-FE architecture and SNN files.
    The workload runs `steps` time steps (SANA-FE takes them on its command line)."""
    arch, units = import_arch(arch_path)
    data = _read(snn_path, "network")
    network = data["network"]
    try:
        groups = _groups(network, snn_path)
        _map(data.get("mappings"), groups, units["per_tile"], snn_path)
        arrays: dict[str, np.ndarray] = {}
        group_specs = [_group_spec(g, units, arrays, steps) for g in groups.values()]
        connections = _edges(network, groups, units, arrays)
    except (KeyError, ValueError, TypeError) as error:
        raise SpecError(f"{snn_path}: cannot read the network: {error}") from None
    largest = max(
        (
            float(np.abs(a).max())
            for k, a in arrays.items()
            if not k.endswith((".pairs", ".spikes")) and a.size
        ),
        default=1.0,
    )
    largest = max(
        [largest]
        + [
            abs(g["neuron"][k])
            for g in group_specs
            if "neuron" in g
            for k in ("threshold", "bias", "reset_value")
            if isinstance(g["neuron"][k], float)
        ]
    )
    arch["cores"]["components"]["core"]["weight_bits"] = max(
        int(math.ceil(math.log2(largest + 1))) + 1, 2
    )
    workload = {
        "kind": "snn",
        "name": str(network.get("name", snn_path.stem)).replace("/", "-"),
        "description": f"imported from SANA-FE {snn_path.name} ({sum(g.size for g in groups.values())} neurons)",
        "time_steps": steps,
        "quantisation": "exact",
        "groups": group_specs,
        "connections": connections,
        "placement": _placement(groups),
        "meta": {"sanafe_arch": str(arch_path), "sanafe_snn": str(snn_path)},
    }
    return arch, workload, arrays


def write_import(folder: Path, arch: dict, workload: dict, arrays: dict) -> tuple[Path, Path]:
    """Write an import as arch.yaml, workload.yaml and network.npz in `folder`; the YAML paths."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "network.npz", **arrays)
    paths = folder / "arch.yaml", folder / "workload.yaml"
    for path, spec in zip(paths, (arch, workload)):
        path.write_text(yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=100))
    return paths
