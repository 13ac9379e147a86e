"""Import SANA-FE 2.x files: an architecture (tiles of cores with axon-in, synapse, dendrite, soma
and axon-out units, per-event energy and latency) and a mapped SNN (groups, edges, mappings).

Written from SANA-FE's documented formats (arch/README.md, snn/README.md, docs/models) and
checked against its runs (benchmarks/vs_sanafe.py); no SANA-FE code is used. What accsim models:
mesh NoCs; identical cores; current_based synapses; accumulator dendrites; leaky_integrate_fire
and input somas. The dendrite's per-event cost is folded into the synapse's (the time-step buffer sits
before the soma). Anything else is an UnsupportedError. The network half is sanafe_net.py.
Tile t sits at x = t // height, y = t % height, as SANA-FE lays them out; accsim's node is y * width + x.
"""

import math
from pathlib import Path

import numpy as np
import yaml

from simulator.errors import SpecError, UnsupportedError, a_or_an
from simulator.spec.grid import dyadic_bits
from simulator.spec.sanafe_net import edges, group_spec, groups_of, map_neurons, placement_of
from simulator.spec.sanafe_yaml import attributes_of, ns, number, pj, read_sanafe, unit_count

POTENTIAL_FRAC_BITS = 6  # SANA-FE's LIF keeps potentials on a 1/64 grid (models.cpp)


def _unit_costs(units: list, keys: tuple[str, str]) -> list[tuple[str, float, float]]:
    return [
        (
            unit_count(u["name"])[0],
            number(attributes_of(u.get("attributes")).get(keys[0], 0.0)),
            number(attributes_of(u.get("attributes")).get(keys[1], 0.0)),
        )
        for u in units or []
    ]


def _dendrite_costs(core: dict, where: str) -> tuple[float, float]:
    """(pJ, s) a dendrite adds to each synaptic event. A dendrite flagged update_every_timestep
    costs nothing more: SANA-FE's accumulator reports no energy for those forced updates."""
    units = core.get("dendrite") or []
    costs = _unit_costs(units, ("energy_update", "latency_update"))
    for unit in units:
        model = attributes_of(unit.get("attributes")).get("model", "accumulator")
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
    attributes = attributes_of(core.get("attributes"))
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
        attrs = attributes_of(unit.get("attributes"))
        if attrs.get("model", "current_based") != "current_based":
            raise UnsupportedError(
                f"{where}: synapse model {attrs.get('model')!r}; accsim models current_based synapses"
            )
        synapses[unit_count(unit["name"])[0]] = {
            "energy": pj(number(attrs.get("energy_process_spike", 0.0)) + dendrite_pj),
            "latency": ns(number(attrs.get("latency_process_spike", 0.0)) + dendrite_s),
        }
    somas, models = {}, {}
    for unit in core.get("soma") or []:
        attrs = attributes_of(unit.get("attributes"))
        model = {"leaky_integrate_fire": "lif", "input": "input", "truenorth": "truenorth"}.get(
            attrs.get("model")
        )
        if model is None:
            raise UnsupportedError(
                f"{where}: soma model {attrs.get('model')!r}; accsim models leaky_integrate_fire, "
                "truenorth and input somas"
            )
        name = unit_count(unit["name"])[0]
        somas[name] = {
            "model": model,
            "access_energy": pj(attrs.get("energy_access_neuron", 0.0)),
            "update_energy": pj(attrs.get("energy_update_neuron", 0.0)),
            "spike_energy": pj(attrs.get("energy_spike_out", 0.0)),
            "access_latency": ns(attrs.get("latency_access_neuron", 0.0)),
            "update_latency": ns(attrs.get("latency_update_neuron", 0.0)),
            "spike_latency": ns(attrs.get("latency_spike_out", 0.0)),
        }
        models[name] = model
    if not any(m == "lif" for m in models.values()):
        somas["lif"] = {"model": "lif"}  # a core of input units only still needs the lif slot
    axon_in = _unit_costs(core.get("axon_in"), ("energy_message_in", "latency_message_in"))
    axon_out = _unit_costs(core.get("axon_out"), ("energy_message_out", "latency_message_out"))
    spec = {
        "kind": "neuro_core",
        "neurons": int(attributes.get("max_neurons_supported", 1024)),
        "potential_frac_bits": POTENTIAL_FRAC_BITS,
        "soma": somas,
        "synapse": synapses or {"default": {"energy": "0 pJ", "latency": "0 ns"}},
        "packet_in_energy": pj(axon_in[0][1] if axon_in else 0.0),  # SANA-FE uses a core's first
        "packet_in_latency": ns(axon_in[0][2] if axon_in else 0.0),
        "packet_out_energy": pj(axon_out[0][1] if axon_out else 0.0),
        "packet_out_latency": ns(axon_out[0][2] if axon_out else 0.0),
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
        return {1: ns(value if not isinstance(value, (dict, list)) else 0.0)}
    table = (
        dict(enumerate(value)) if isinstance(value, list) else {int(k): v for k, v in value.items()}
    )
    keys = sorted(table)
    points = {}
    for key, following in zip(keys, keys[1:] + [None]):
        points[max(key, 1)] = ns(table[key])
        if following is not None and following - 1 > key:  # hold the step until the next key
            points[following - 1] = ns(table[key])
    return points


def _link_buffer(attributes: dict, path: Path) -> int:
    """SANA-FE's link_buffer_size (required by its parser; messages a link holds)."""
    value = attributes.get("link_buffer_size", 1)
    try:
        size = int(str(value))
    except ValueError:
        size = -1
    if size < 0:
        raise SpecError(
            f"{path}: architecture.attributes.link_buffer_size: a count of messages (an integer "
            f">= 0), got {value!r}"
        )
    return size


def import_arch(path: Path, timing: str = "detailed") -> tuple[dict, dict]:
    """accsim arch dict from a SANA-FE architecture file, plus the unit facts the SNN import needs.
    `timing` is the SANA-FE timing model of the run being reproduced (simple or detailed)."""
    arch = read_sanafe(path, "architecture")["architecture"]
    attributes = attributes_of(arch.get("attributes"))
    topology = str(attributes.get("topology", "mesh"))
    if topology != "mesh":
        raise UnsupportedError(f"{path}: topology {topology!r}; accsim imports SANA-FE meshes")
    try:
        width, height = int(attributes.get("width", 1)), int(attributes.get("height", 1))
    except (TypeError, ValueError):
        raise SpecError(
            f"{path}: architecture.attributes: width and height must be integers, got "
            f"{attributes.get('width', 1)!r} and {attributes.get('height', 1)!r}"
        ) from None
    tiles, hops, core_specs = [], set(), []
    for tile in arch.get("tile") or []:
        _, count = unit_count(tile["name"])
        t = attributes_of(tile.get("attributes"))
        energy = {
            d: number(t.get(f"energy_{d}_hop", t.get(f"energy_{d}", 0.0)))
            for d in ("east", "west", "north", "south")
        }
        latency = {
            d: number(t.get(f"latency_{d}_hop", t.get(f"latency_{d}", 0.0)))
            for d in ("east", "west", "north", "south")
        }
        hops.add((tuple(energy.values()), tuple(latency.values())))
        per_tile = 0
        for core in tile.get("core") or []:
            _, n = unit_count(core["name"])
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
    spec["hop_energy"] = dict(zip(("east", "west", "north", "south"), map(pj, energy)))
    spec["hop_latency"] = dict(zip(("east", "west", "north", "south"), map(ns, latency)))
    spec["barrier"] = _barrier(attributes)
    spec["timing"] = timing
    spec["link_buffer"] = _link_buffer(attributes, path)
    nodes = [(t % height) * width + t // height for t in range(len(tiles)) for _ in range(per_node)]
    name = str(arch.get("name", path.stem))
    return {
        "name": name,
        "description": f"imported from SANA-FE {path.name}: {len(tiles)} tiles x {per_node} cores "
        f"on {a_or_an(width)} x {height} mesh",
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


TIMING_MODELS = ("detailed", "simple")  # SANA-FE's timing models accsim reproduces


def import_sanafe(
    arch_path: Path, snn_path: Path, steps: int = 100, timing: str = "detailed"
) -> tuple[dict, dict, dict]:
    """(arch dict, workload dict, arrays for network.npz) from SANA-FE architecture and SNN files.
    The workload runs `steps` time steps (SANA-FE takes them on its command line) under SANA-FE's
    `timing` model (its run option; detailed is SANA-FE's default)."""
    if timing not in TIMING_MODELS:
        raise UnsupportedError(
            f"timing model {timing!r}; accsim reproduces SANA-FE's {' and '.join(TIMING_MODELS)}"
        )
    arch, units = import_arch(arch_path, timing)
    data = read_sanafe(snn_path, "network")
    network = data["network"]
    try:
        groups = groups_of(network, snn_path)
        map_neurons(data.get("mappings"), groups, units["per_tile"], snn_path)
        arrays: dict[str, np.ndarray] = {}
        group_specs = [group_spec(g, units, arrays, steps) for g in groups.values()]
        connections = edges(network, groups, units, arrays, data.get("single_edges"))
    except (KeyError, ValueError, TypeError) as error:
        raise SpecError(f"{snn_path}: cannot read the network: {error}") from None
    except (SpecError, UnsupportedError) as error:
        if str(error).startswith(str(snn_path)):
            raise
        raise type(error)(f"{snn_path}: {error}") from None
    values = {
        _label(k): a for k, a in arrays.items() if not k.endswith((".pairs", ".spikes")) and a.size
    }
    values.update(
        (f"groups {g['name']}: {k}", np.array([g["neuron"][k]]))
        for g in group_specs
        if "neuron" in g
        for k in ("threshold", "bias", "reset_value", "reverse_threshold", "reverse_reset_value")
        if isinstance(g["neuron"].get(k), float)
    )
    largest = max((float(np.abs(v).max()) for v in values.values()), default=1.0)
    if not math.isfinite(largest):
        raise SpecError(f"{snn_path}: a weight, threshold, bias or reset is not a finite number")
    bits = _grid_bits(values, snn_path)
    arch["cores"]["components"]["core"]["weight_bits"] = max(
        int(math.ceil(math.log2(math.ldexp(largest, bits) + 1))) + 1, 2
    )
    workload = {
        "kind": "snn",
        "name": str(network.get("name", snn_path.stem)).replace("/", "-"),
        "description": f"imported from SANA-FE {snn_path.name} ({sum(g.size for g in groups.values())} neurons)",
        "time_steps": steps,
        "quantisation": "exact",
        "groups": group_specs,
        "connections": connections,
        "placement": placement_of(groups),
        "meta": {"sanafe_arch": str(arch_path), "sanafe_snn": str(snn_path)},
    }
    return arch, workload, arrays


def _label(key: str) -> str:
    """Where an array of network.npz comes from in the SANA-FE file, for an error message."""
    if key.startswith("edge") and key[4:].isdigit():
        return f"edges[{key[4:]}]: weight"
    if key.endswith(".weights"):
        return f"edges {key.rsplit('.', 2)[0]}: weight"
    group, _, attribute = key.rpartition(".")
    return f"groups {group}: {attribute}"


def _grid_bits(values: dict[str, np.ndarray], snn_path: Path) -> int:
    """The fraction bits SANA-FE's values need (dyadic_bits): accsim runs them as integers in
    units of 2^-bits; a value off SANA-FE's 1/64 potential grid cannot run exactly."""
    bits = dyadic_bits(list(values.values()), POTENTIAL_FRAC_BITS)
    if bits is not None:
        return bits
    label, array = next(
        (label, a) for label, a in values.items() if dyadic_bits([a], POTENTIAL_FRAC_BITS) is None
    )
    scaled = np.ldexp(array, POTENTIAL_FRAC_BITS)
    raise UnsupportedError(
        f"{snn_path}: {label} {array[scaled != np.round(scaled)][0]:g} is not a multiple of "
        f"1/{1 << POTENTIAL_FRAC_BITS}: accsim runs SANA-FE's neurons exactly, on its potential grid"
    )


IMPORT_FILES = ("arch.yaml", "workload.yaml", "network.npz")
"""The files an import writes into its folder."""


def write_import(folder: Path, arch: dict, workload: dict, arrays: dict) -> tuple[Path, Path]:
    """Write an import as IMPORT_FILES in `folder`; the YAML paths."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / IMPORT_FILES[2], **arrays)
    paths = folder / IMPORT_FILES[0], folder / IMPORT_FILES[1]
    for path, spec in zip(paths, (arch, workload)):
        path.write_text(yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=100))
    return paths
