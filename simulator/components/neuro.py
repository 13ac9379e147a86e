"""Neuromorphic core: capacities, fixed-point format and the cost of every spiking event.

Numbers come from the arch spec, else from the technology table (tech/neuro.yaml), scaled to the
arch's node; with no technology a number not given is zero (a capacity not given is unlimited).
Energies are per event (pJ), latencies per event (s); the engine counts events and turns them
into time, the report into energy.
"""

from dataclasses import dataclass

from simulator import tech
from simulator.components.base import Component
from simulator.spec.neuro import NeuroCoreSpec

DIRECTIONS = ("east", "west", "north", "south")


@dataclass(frozen=True)
class SomaUnit:
    """A resolved neuron-update unit (energies in pJ, latencies in s)."""

    name: str
    model: str
    access_pj: float
    update_pj: float
    spike_pj: float
    access_s: float
    update_s: float
    spike_s: float


@dataclass(frozen=True)
class SynapseUnit:
    """A resolved synapse unit: pJ and s per synaptic event."""

    name: str
    energy_pj: float
    latency_s: float


def _value(entry):
    """A table entry is a number or {value: ..., source: ...}."""
    return entry["value"] if isinstance(entry, dict) and "value" in entry else entry


class NeuroCore(Component):
    """One neuromorphic core; cores of an arch share the spec, each is its own component."""

    kind = "neuro_core"

    def __init__(self, name: str, spec: NeuroCoreSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.table = tech.table("neuro")[spec.technology] if spec.technology else {}
        table_node = self.table.get("node_nm", node_nm)
        self.energy_scale = tech.scale_energy(1.0, node_nm) / tech.scale_energy(1.0, table_node)
        self.area_scale = tech.scale_area(1.0, node_nm) / tech.scale_area(1.0, table_node)
        self.neurons = self._capacity("neurons")
        self.synapses = self._capacity("synapses")
        self.axons = self._capacity("axons")
        self.axons_per_source = self._number("axons_per_source", 1)
        self.weight_bits = int(self._number("weight_bits", 16))
        self.potential_bits = self._capacity("potential_bits")
        self.potential_frac_bits = int(self._number("potential_frac_bits", 0))
        self.spike_bits = spec.spike_bits
        self.somas = self._somas()
        self.synapse_units = self._synapse_units()
        self.packet_out_pj = self._energy("packet_out_energy")
        self.packet_in_pj = self._energy("packet_in_energy")
        self.packet_out_s = self._latency("packet_out_latency")
        self.packet_in_s = self._latency("packet_in_latency")
        self.hop_pj = self._directions("hop_energy", self._scaled)
        self.hop_s = self._directions("hop_latency", lambda v: v * 1e-9)
        self.packet_bytes = int(spec.packet_size or _value(self.table.get("packet_size", 4)))
        self.time_step_s = self._time_step()
        self.barrier_points = self._barrier()
        self.actions = {
            **{f"neuron_access.{u.name}": u.access_pj for u in self.somas.values()},
            **{f"neuron_update.{u.name}": u.update_pj for u in self.somas.values()},
            **{f"spike.{u.name}": u.spike_pj for u in self.somas.values()},
            **{f"synaptic_op.{s.name}": s.energy_pj for s in self.synapse_units.values()},
            "packet_local": self.packet_out_pj + self.packet_in_pj,
            "packet_remote": self.packet_out_pj + self.packet_in_pj,
            **{f"hop_{d}": self.hop_pj[d] for d in DIRECTIONS},
        }

    # ----- resolution: spec, else table, else zero / unlimited ------------------------------------
    def _number(self, key: str, default):
        given = getattr(self.spec, key)
        if given is not None:
            return given
        return _value(self.table[key]) if key in self.table else default

    def _capacity(self, key: str) -> int | None:
        value = self._number(key, None)
        return None if value is None else int(value)

    def _scaled(self, table_pj) -> float:
        return float(table_pj) * self.energy_scale

    def _energy(self, key: str) -> float:
        given = getattr(self.spec, key)
        if given is not None:
            return float(given)
        return self._scaled(_value(self.table[key])) if key in self.table else 0.0

    def _latency(self, key: str) -> float:
        given = getattr(self.spec, key)
        if given is not None:
            return float(given)
        return float(_value(self.table[key])) * 1e-9 if key in self.table else 0.0

    def _directions(self, key: str, from_table) -> dict[str, float]:
        given = getattr(self.spec, key)
        if given is not None:
            return {d: float(getattr(given, d)) for d in DIRECTIONS}
        entry = self.table.get(key, {})
        return {d: from_table(_value(entry[d])) if d in entry else 0.0 for d in DIRECTIONS}

    def _somas(self) -> dict[str, SomaUnit]:
        table_units = self.table.get("soma", {})
        given = self.spec.soma or {name: None for name in table_units}
        units = {}
        for name, unit in given.items():
            model = unit.model if unit is not None else table_units[name].get("model", "lif")
            base = table_units.get(name) or next(
                (u for u in table_units.values() if u.get("model", "lif") == model), {}
            )
            costs = {}
            for field in ("access", "update", "spike"):
                energy = getattr(unit, f"{field}_energy", None)
                latency = getattr(unit, f"{field}_latency", None)
                costs[f"{field}_pj"] = (
                    float(energy)
                    if energy is not None
                    else self._scaled(_value(base.get(f"{field}_energy", 0.0)))
                )
                costs[f"{field}_s"] = (
                    float(latency)
                    if latency is not None
                    else float(_value(base.get(f"{field}_latency", 0.0))) * 1e-9
                )
            units[name] = SomaUnit(name, model, **costs)
        if not units:
            units["lif"] = SomaUnit("lif", "lif", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        if not any(u.model == "input" for u in units.values()):
            units["input"] = SomaUnit("input", "input", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return units

    def _synapse_units(self) -> dict[str, SynapseUnit]:
        table_units = self.table.get("synapse", {})
        given = self.spec.synapse or {name: None for name in table_units}
        base = next(iter(table_units.values()), {})
        units = {}
        for name, unit in given.items():
            entry = table_units.get(name, base)
            energy = getattr(unit, "energy", None)
            latency = getattr(unit, "latency", None)
            units[name] = SynapseUnit(
                name,
                float(energy)
                if energy is not None
                else self._scaled(_value(entry.get("energy", 0))),
                float(latency)
                if latency is not None
                else float(_value(entry.get("latency", 0))) * 1e-9,
            )
        return units or {"default": SynapseUnit("default", 0.0, 0.0)}

    def _time_step(self) -> float | None:
        if self.spec.time_step is not None:
            return float(self.spec.time_step)
        value = _value(self.table.get("time_step", None))
        return None if value is None else float(value) * 1e-9

    def _barrier(self) -> list[tuple[int, float]]:
        if self.spec.barrier is not None:
            return sorted((int(k), float(v)) for k, v in self.spec.barrier.items())
        points = self.table.get("barrier", {}).get("points", {})
        return sorted((int(k), float(v) * 1e-9) for k, v in points.items()) or [(1, 0.0)]

    # ----- the component face ---------------------------------------------------------------------
    def soma_unit(self, name: str | None, model: str) -> SomaUnit:
        """The named unit, or the first unit of `model` ('lif' / 'input') when none is named."""
        if name is None:
            return next(u for u in self.somas.values() if u.model == model)
        return self.somas[name]

    def synapse_unit(self, name: str | None) -> SynapseUnit:
        """The named synapse unit, or the first one."""
        return (
            self.synapse_units[name]
            if name is not None
            else next(iter(self.synapse_units.values()))
        )

    def barrier_s(self, tiles: int) -> float:
        """End-of-step synchronisation time with `tiles` NoC nodes in use (linear between points)."""
        points = self.barrier_points
        if tiles <= points[0][0]:
            return points[0][1]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            if tiles <= x1:
                return y0 + (y1 - y0) * (tiles - x0) / (x1 - x0)
        return points[-1][1]

    def weight_limit(self) -> int:
        """Largest weight magnitude the signed weight format holds."""
        return 2 ** (self.weight_bits - 1) - 1 if self.weight_bits > 1 else 1

    def leakage_mw(self) -> float:
        if self.spec.leakage is not None:
            return float(self.spec.leakage)
        return float(_value(self.table.get("leakage", 0.0)))

    def area_mm2(self) -> float:
        if self.spec.area is not None:
            return float(self.spec.area)
        return float(_value(self.table.get("area", 0.0))) * self.area_scale

    def __repr__(self) -> str:
        return f"NeuroCore({self.name}, neurons={self.neurons}, synapses={self.synapses})"


def hop_directions(noc, route: list) -> dict[str, int]:
    """Hops of a NoC route by direction (x grows east, y north); single-hop networks count east."""
    counts = dict.fromkeys(DIRECTIONS, 0)
    if not route:
        return counts
    if route[0][0] != "link":
        counts["east"] = 1
        return counts
    width, height = noc.shape
    wrap = noc.topology in ("torus", "ring")

    def forward(a: int, b: int, size: int) -> bool:  # a step towards larger coordinates
        return (b - a) % size == 1 and (size > 2 or b > a) if wrap else b > a

    for _, a, b in route:
        (xa, ya), (xb, yb) = noc.coords(a), noc.coords(b)
        if ya == yb:
            counts["east" if forward(xa, xb, width) else "west"] += 1
        else:
            counts["north" if forward(ya, yb, height) else "south"] += 1
    return counts
