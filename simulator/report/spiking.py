"""SpikingReport: the result of one spiking inference, with the same face as Report (summary dict
with the stable keys, energy and component DataFrames, to_json) plus spiking views: energy by
category, per-step and per-core tables, and the NoC traffic each placement would cause.

energy = counted events x per-event energy + static power x time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from simulator.components import Machine
from simulator.components.neuro import DIRECTIONS, hop_directions
from simulator.engine.spiking import SpikingRecord
from simulator.errors import AccsimError
from simulator.mapping.placement import Placement, place
from simulator.mapping.snn import SnnNetwork
from simulator.numerics.snn_check import SnnCheck
from simulator.report.single import PJ_PER_MW_SECOND, _plain, json_indent, trace_slices
from simulator.report.view import Shown

if TYPE_CHECKING:
    import pandas as pd

CATEGORIES = (
    "synaptic_ops",
    "neuron_updates",
    "neuron_idle",
    "spike_traffic_intra_core",
    "spike_traffic_inter_core",
    "static",
)


def category(action: str) -> str:
    """The energy category of a core action."""
    if action.startswith("synaptic_op"):
        return "synaptic_ops"
    if action.startswith(("neuron_update", "spike.")):
        return "neuron_updates"
    if action.startswith("neuron_access"):
        return "neuron_idle"
    if action == "packet_local":
        return "spike_traffic_intra_core"
    if action == "leakage":
        return "static"
    return "spike_traffic_inter_core"  # packet_remote, hop_*


@dataclass(frozen=True, repr=False)
class SpikingReport(Shown):
    """Results of one spiking inference: `summary` plus per-action, per-component and per-step tables."""

    arch_name: str
    workload_name: str
    machine: Machine
    net: SnnNetwork
    placement: Placement
    record: SpikingRecord
    numerics: SnnCheck | None

    # ----- scalars ------------------------------------------------------------------------------
    @property
    def clock_hz(self) -> float:
        return self.machine.clock_hz

    @property
    def cycles(self) -> int:
        return int(np.ceil(self.record.cycles - 1e-9))

    @property
    def seconds(self) -> float:
        return self.record.cycles / self.clock_hz

    @cached_property
    def core_names(self) -> list[str]:
        return self.record.cores

    # ----- tables -------------------------------------------------------------------------------
    @cached_property
    def energy(self) -> pd.DataFrame:
        """One row per (category, component, action): count, pJ each, energy; static rows included.
        The `op` column holds the category, so energy_breakdown(report, by='op') splits by it."""
        import pandas as pd

        rows = []
        for (name, action), count in sorted(self.record.counts.items()):
            per = self.machine.components[name].energy_pj(action)
            rows.append((category(action), name, action, count, per, count * per))
        for name, comp in self.machine.components.items():
            power = comp.leakage_mw()
            if power:
                per_second = power * PJ_PER_MW_SECOND
                rows.append(
                    ("static", name, "leakage", self.seconds, per_second, per_second * self.seconds)
                )
        return pd.DataFrame(
            rows, columns=["op", "component", "action", "count", "pj_per_count", "energy_pj"]
        )

    @cached_property
    def energy_by_category(self) -> dict[str, float]:
        """Energy (pJ) of the inference by category, every category present (zero if none)."""
        sums = self.energy.groupby("op")["energy_pj"].sum()
        return {c: float(sums.get(c, 0.0)) for c in CATEGORIES}

    @cached_property
    def components(self) -> pd.DataFrame:
        """One row per component: area, static power, energy, busy cycles and utilization."""
        import pandas as pd

        energy = self.energy.groupby("component")["energy_pj"].sum()
        busy = dict(zip(self.core_names, self.record.core_busy))
        link_busy = sum(self.record.link_busy.values())
        links = max(
            len(self.record.link_busy), 1
        )  # the NoC's utilization: over links that carried spikes
        rows = []
        for name, comp in self.machine.components.items():
            cycles = busy.get(name, link_busy / links if comp.kind == "noc" else 0.0)
            rows.append(
                {
                    "component": name,
                    "kind": comp.kind,
                    "area_mm2": comp.area_mm2(),
                    "leakage_mw": comp.leakage_mw(),
                    "energy_pj": float(energy.get(name, 0.0)),
                    "busy_cycles": float(cycles),
                    "utilization": cycles / self.record.cycles if self.record.cycles else 0.0,
                }
            )
        return pd.DataFrame(rows)

    @cached_property
    def cores(self) -> pd.DataFrame:
        """One row per core in use: neurons, synapses, input axons, busy cycles, utilization, energy."""
        import pandas as pd

        energy = self.energy.groupby("component")["energy_pj"].sum()
        rows = []
        for c in self.placement.cores_used.tolist():
            name = self.core_names[c]
            busy = float(self.record.core_busy[c])
            rows.append(
                {
                    "core": c,
                    "component": name,
                    "node": self.machine.nodes.get(name, 0),
                    "neurons": int(self.placement.neurons[c]),
                    "synapses": int(self.placement.synapses[c]),
                    "axons_in": int(self.placement.axons_in[c]),
                    "busy_cycles": busy,
                    "utilization": busy / self.record.cycles if self.record.cycles else 0.0,
                    "energy_pj": float(energy.get(name, 0.0)),
                }
            )
        return pd.DataFrame(rows)

    @cached_property
    def links(self) -> pd.DataFrame:
        """One row per NoC link that carried spikes: packets, busy cycles, utilization."""
        import pandas as pd

        rows = [
            {
                "link": f"{link[1]}->{link[2]}" if link[0] == "link" else str(link),
                "packets": int(self.record.link_packets[link]),
                "busy_cycles": float(busy),
                "utilization": busy / self.record.cycles if self.record.cycles else 0.0,
            }
            for link, busy in sorted(self.record.link_busy.items(), key=lambda kv: str(kv[0]))
        ]
        return pd.DataFrame(rows, columns=["link", "packets", "busy_cycles", "utilization"])

    @cached_property
    def steps(self) -> pd.DataFrame:
        """One row per time step: cycles, spikes, packets, synaptic events."""
        import pandas as pd

        rec = self.record
        return pd.DataFrame(
            {
                "step": np.arange(len(rec.step_cycles)),
                "cycles": rec.step_cycles,
                "spikes": rec.spikes,
                "packets": rec.packets,
                "synaptic_ops": rec.synaptic_ops,
            }
        )

    @cached_property
    def ops(self) -> pd.DataFrame:
        """One row per neuron group: neurons, spikes, rate per neuron per step, synaptic events."""
        import pandas as pd

        rows = []
        fan_out = self.net.synapses.fan_out
        counts = self.record.spike_counts
        for g in self.net.groups:
            span = slice(g.start, g.start + g.size)
            spikes = int(counts[span].sum())
            rows.append(
                {
                    "name": g.name,
                    "kind": g.kind,
                    "neurons": g.size,
                    "spikes": spikes,
                    "rate": spikes / (g.size * self.net.steps),
                    "synaptic_ops": int((counts[span] * fan_out[span]).sum()),
                    "cores": int(np.unique(self.placement.core_of[span]).size),
                }
            )
        return pd.DataFrame(rows)

    @cached_property
    def placements(self) -> pd.DataFrame:
        """The spike traffic this run's spikes would cause under each placement policy: packets
        within a core, between cores, hops and their energy (counting, not re-simulation)."""
        import pandas as pd

        names = [n for n, c in self.machine.components.items() if c.kind == "neuro_core"]
        core = self.machine.components[names[0]]
        rows = []
        for policy in ("fill", "layer", "spread", self.placement.policy):
            if policy in [r["placement"] for r in rows]:
                continue
            try:
                pl = (
                    self.placement
                    if policy == self.placement.policy
                    else place(self.net, policy, core, len(names), "placement")
                )
            except AccsimError as error:
                rows.append({"placement": policy, "error": str(error)})
                continue
            rows.append({"placement": policy, **self._traffic(pl, core, names)})
        return pd.DataFrame(rows)

    def _traffic(self, pl: Placement, core, names) -> dict:
        spikes = np.repeat(self.record.spike_counts, np.diff(pl.axon_indptr))  # per axon
        src = np.repeat(pl.core_of, np.diff(pl.axon_indptr))
        local = src == pl.axon_core
        nodes = np.array([self.machine.nodes.get(n, 0) for n in names])
        hops = np.zeros(len(DIRECTIONS))
        noc = self.machine.noc
        pairs, inverse = np.unique(
            np.stack([nodes[src], nodes[pl.axon_core]]), axis=1, return_inverse=True
        )
        weight = np.bincount(inverse.ravel(), weights=spikes, minlength=pairs.shape[1])
        for (a, b), w in zip(pairs.T.tolist(), weight.tolist()):
            if a != b and noc is not None and w:
                counts = hop_directions(noc, noc.route(a, b))
                hops += w * np.array([counts[d] for d in DIRECTIONS])
        packet = core.packet_out_pj + core.packet_in_pj
        intra = float(spikes[local].sum())
        inter = float(spikes[~local].sum())
        return {
            "cores_used": int(pl.cores_used.size),
            "packets_intra_core": int(intra),
            "packets_inter_core": int(inter),
            "hops": int(hops.sum()),
            "traffic_energy_pj": packet * (intra + inter)
            + float(hops @ [core.hop_pj[d] for d in DIRECTIONS]),
        }

    # ----- summary ------------------------------------------------------------------------------
    @cached_property
    def summary(self) -> dict:
        """Headline numbers; the keys Report has keep their meaning, spiking keys are added."""
        rec, totals, check = self.record, self.record.totals, self.numerics
        energy = float(self.energy.energy_pj.sum())
        used = self.placement.cores_used
        busy = rec.core_busy[used] / rec.cycles if rec.cycles and used.size else np.zeros(1)
        link = (
            np.array(list(rec.link_busy.values())) / rec.cycles
            if rec.link_busy and rec.cycles
            else np.zeros(1)
        )
        inputs = int(
            sum(
                int(rec.spike_counts[g.start : g.start + g.size].sum())
                for g in self.net.groups
                if g.kind == "input"
            )
        )
        return {
            "arch": self.arch_name,
            "workload": self.workload_name,
            "mapping": f"placement: {self.placement.policy}",
            "cycles": self.cycles,
            "seconds": self.seconds,
            "clock_hz": self.clock_hz,
            "energy_pj": energy,
            "area_mm2": float(self.components.area_mm2.sum()),
            "time_steps": self.net.steps,
            "latency_s": self.seconds,
            "step_seconds_mean": self.seconds / self.net.steps,
            "neurons": self.net.size,
            "synapses": int(self.net.synapses.targets.size),
            "spikes": int(sum(rec.spikes)),
            "input_spikes": inputs,
            "synaptic_ops": totals["synaptic_ops"],
            "neuron_updates": totals["neuron_updates"],
            "packets": totals["packets_local"] + totals["packets_remote"],
            "packets_intra_core": totals["packets_local"],
            "packets_inter_core": totals["packets_remote"],
            "hops": totals["hops"],
            "energy_per_inference_pj": energy,
            "energy_per_synaptic_op_pj": energy / totals["synaptic_ops"]
            if totals["synaptic_ops"]
            else None,
            "energy_by_category": self.energy_by_category,
            "cores_used": int(used.size),
            "nodes_used": rec.nodes_used,
            "core_utilization_mean": float(busy.mean()),
            "core_utilization_max": float(busy.max()),
            "router_utilization_mean": float(link.mean()),
            "router_utilization_max": float(link.max()),
            "events_processed": rec.events_processed,
            "numerics_ok": check.ok if check else None,
            "spike_trains_match": check.spike_trains_match if check else None,
            "spike_mismatches": check.mismatched_spikes if check else None,
            "ann_agreement": check.ann_agreement if check else None,
            "ann_agreement_samples": check.agreement_samples if check else None,
            "ann_accuracy": check.ann_accuracy if check else None,
            "snn_accuracy": check.snn_accuracy if check else None,
            "predicted_class": check.snn_class if check else None,
            "ann_class": check.ann_class if check else None,
            "ops": self.ops.to_dict("records"),
        }

    # ----- exports ------------------------------------------------------------------------------
    def to_json(self, indent: int | None = 2) -> str:
        """Summary, components (cores in use and the NoC) and energy breakdown as JSON."""
        components = self.components
        used = set(self.cores.component) | {
            n for n, c in self.machine.components.items() if c.kind != "neuro_core"
        }
        payload = {
            "summary": self.summary,
            "components": components[components.component.isin(used)].to_dict("records"),
            "energy": self.energy.to_dict("records"),
            "placements": self.placements.to_dict("records"),
        }
        return json.dumps(payload, indent=json_indent(indent), default=_plain)

    def chrome_trace(self) -> dict:
        """Chrome trace events (open in Perfetto): the cores' phases and the spikes served, as
        a chip's trace draws its units (a spiking core has no stall causes nor power timeline;
        borrowing the chip's whole trace was an AttributeError)."""
        events, _ = trace_slices(self.record.events, self.clock_hz)
        return {"traceEvents": events, "displayTimeUnit": "ns"}
