"""Report: a value object built once from a finished run; every number a user plots is a column.

energy = counters x per-action energy + leakage x time; area = sum of component areas;
utilization, achieved bandwidth and the roofline position come from the engine's record.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from simulator.components import Machine
from simulator.components.chip import own_leakage_mw
from simulator.engine import Record
from simulator.errors import UnsupportedError
from simulator.mapping import Program
from simulator.numerics import NumericsResult
from simulator.report import power
from simulator.report.boundary import boundary_summary, crossings, layer_table, partition_map
from simulator.report.levels import level_rows, level_table
from simulator.report.multicore import core_table, link_table, noc_summary
from simulator.report.scalesim import layer_metrics, prefetches_whole
from simulator.report.sums import EnergySums, descending, group_sums, grouped_sums
from simulator.report.templated import TemplatedRows
from simulator.report.view import Shown

if TYPE_CHECKING:
    import pandas as pd

PJ_PER_MW_SECOND = power.PJ_PER_MW_SECOND  # 1 mW for 1 s = 1e9 pJ
STATIC = power.STATIC  # the op name of leakage rows: static power belongs to the run, not to an op


@dataclass(frozen=True, repr=False)
class Report(Shown):
    """Results of one simulation: `summary` dict plus per-component, per-action and per-op tables."""

    arch_name: str
    workload_name: str
    mapping_name: str
    machine: Machine
    program: Program
    record: Record
    numerics: dict[str, NumericsResult] | None
    voltage_scale: float = (
        1.0  # supply / nominal supply (a throttled DVFS point), for energy per op
    )
    throttle: dict | None = None  # set when a power cap lowered the clock: the point and why

    # ----- tables -------------------------------------------------------------------------------
    @cached_property
    def energy(self) -> pd.DataFrame:
        """One row per (op, component, part, action): count, pJ per count, energy; the datapath's rows
        (as its components count them) plus the chip's parts (report/power.py); leakage rows included."""
        return power.energy_table(*self._energy_rows)

    @cached_property
    def _energy(self) -> tuple[TemplatedRows, list[tuple]]:
        """The energy table's rows (the chip's, as shared templates, then the clock network's)."""
        leakage = []
        for name, comp in self.machine.components.items():
            leak_mw = own_leakage_mw(comp, self.machine.arch.chip)
            if leak_mw:  # static power over the whole run, not per op (ops overlap)
                energy = leak_mw * self.seconds * PJ_PER_MW_SECOND
                leakage.append(
                    (STATIC, name, "leakage", self.seconds, leak_mw * PJ_PER_MW_SECOND, energy)
                )
        return power.energy_rows(
            self.record.counts, leakage, self.machine, self._parts, self.seconds, self.voltage_scale
        )

    @cached_property
    def _energy_rows(self) -> tuple[list[tuple], list[tuple]]:
        """The energy table's rows, plain: the chip's, then the clock network's."""
        own, clock = self._energy
        return own.rows(), clock

    @cached_property
    def _energy_sums(self) -> EnergySums:
        """The energy table's totals and per-op sums, without building the table where its
        columns are numbers (pandas leaves them as objects when no op has clocked energy)."""
        own, clock = self._energy
        if clock:
            return power.energy_sums(own, clock)
        return EnergySums.from_table(self.energy, STATIC)

    @cached_property
    def _parts(self) -> list:
        return power.machine_parts(self.machine)

    @cached_property
    def area(self) -> pd.DataFrame:
        """One row per (component, part): area in mm² and always-on power in mW."""
        return power.area_table(self._parts)

    @cached_property
    def breakdown(self) -> pd.DataFrame:
        """Component × part: area (mm²), energy (pJ) and average power (W) over the run."""
        return power.breakdown(self.energy, self.area, self.seconds)

    @cached_property
    def power_timeline(self) -> pd.DataFrame:
        """Power over the run in equal slices (each op's energy spread over its span, plus static)."""
        return power.timeline(self._energy_sums, self._spans, self.cycles, self.clock_hz)

    @property
    def _spans(self) -> dict[str, tuple[int, int]]:
        return {op: (self.record.op_start[op], self.record.op_end[op]) for op in self.op_cycles}

    @cached_property
    def power(self) -> dict:
        """Average, peak and idle power, die area, TOPS/W, TOPS/mm², EDP, energy per token, throttling."""
        macs = sum(op.macs for op in self.program.ops)
        tokens = self.llm["tokens"] if self.llm else None
        _, dynamic_w, static_w = power.timeline_arrays(
            self._energy_sums, self._spans, self.cycles, self.clock_hz, power.TIMELINE_BINS
        )
        view = power.power_summary(
            self._energy_sums,
            power.area_sums(self._parts),
            (dynamic_w + static_w).max(),
            self.seconds,
            macs,
            self.peak_macs_per_cycle * self.clock_hz,
            tokens,
        )
        view["tdp_w"] = self.machine.arch.chip.tdp * 1e-3 if self.machine.arch.chip.tdp else None
        view["throttled"] = self.throttle
        return view

    @cached_property
    def levels(self) -> pd.DataFrame:
        """One row per (op, storage level, operand, action): elements, bytes, accesses, energy
        (closed-form counts of the mapping; their energy equals the engine-counted rows')."""
        return level_table(self._level_rows)

    @cached_property
    def _level_rows(self) -> list[tuple]:
        return level_rows(self.program, self.machine)

    def level_groups(self) -> list[tuple]:
        """(level, operand, action, elements, accesses, energy pJ) summed over ops, in order of
        first appearance, as pandas' groupby(sort=False).sum(min_count=1) of `levels` gives them
        (from the plain rows where the table's columns are numbers; accesses NaN for DRAM)."""
        rows = self._level_rows
        exact = all(isinstance(r[4], int) for r in rows) and any(r[6] is not None for r in rows)
        if not exact:  # float elements or no accesses at all: the table's own dtypes decide
            grouped = self.levels.groupby(["level", "operand", "action"], sort=False)[
                ["elements", "accesses", "energy_pj"]
            ].sum(min_count=1)
            return [(*key, *row) for key, row in zip(grouped.index, grouped.to_numpy())]
        keys = [(r[1], r[2], r[3]) for r in rows]
        elements: dict[tuple, int] = {}  # int64 sums are exact in any order
        for key, row in zip(keys, rows):
            elements[key] = elements.get(key, 0) + row[4]
        nan = float("nan")
        floats = grouped_sums(
            keys,
            [[nan if r[6] is None else r[6] for r in rows], [r[8] for r in rows]],
            sort=False,
            min_count=1,
        )
        return [(*key, elements[key], *floats[key]) for key in floats]

    @cached_property
    def components(self) -> pd.DataFrame:
        """One row per component: area, energy, busy cycles, utilization, bytes and bandwidth."""
        import pandas as pd

        return pd.DataFrame(self._component_rows)

    @cached_property
    def _component_sums(self) -> tuple[dict, dict, dict]:
        """Energy per component, and read and write counts (bytes) per component, summed as
        pandas sums the energy table (from its plain rows where its columns are numbers)."""
        own, clock = self._energy_rows
        if not clock:
            energy = self.energy
            moved = energy[energy.action.isin(["read", "write"])]
            return (
                dict(energy.groupby("component")["energy_pj"].sum().items()),
                dict(moved[moved.action == "read"].groupby("component")["count"].sum().items()),
                dict(moved[moved.action == "write"].groupby("component")["count"].sum().items()),
            )
        rows = own + clock
        return (
            group_sums((r[1], float(r[6])) for r in rows),
            group_sums((r[1], float(r[4])) for r in rows if r[3] == "read"),
            group_sums((r[1], float(r[4])) for r in rows if r[3] == "write"),
        )

    @cached_property
    def _component_rows(self) -> list[dict]:
        """The rows of `components`, plain."""
        by_comp, reads, writes = self._component_sums
        rows = []
        for name, comp in self.machine.components.items():
            busy = self.record.busy.get(name, 0)
            total_bytes = reads.get(name, 0.0) + writes.get(name, 0.0)
            peak = getattr(comp, "bytes_per_cycle", None)
            rows.append(
                {
                    "component": name,
                    "kind": comp.kind,
                    "area_mm2": comp.area_mm2(),
                    "leakage_mw": own_leakage_mw(comp, self.machine.arch.chip),
                    "energy_pj": float(by_comp.get(name, 0.0)),
                    "busy_cycles": busy,
                    # compute units: busy fraction; memories: moved bytes over what the ports could move
                    "utilization": (
                        total_bytes / (peak * self.cycles) if peak else busy / self.cycles
                    )
                    if self.cycles
                    else 0.0,
                    "read_bytes": float(reads.get(name, 0.0)),
                    "write_bytes": float(writes.get(name, 0.0)),
                    "achieved_gbps": total_bytes / self.seconds / 1e9 if self.seconds else 0.0,
                    "peak_gbps": peak * self.clock_hz / 1e9 if peak else None,
                }
            )
        return rows

    def component_rows(self) -> list[dict]:
        """The rows of `components`, without pandas (peak_gbps None where the table has NaN)."""
        return self._component_rows

    def op_rows(self) -> list[dict]:
        """The rows of `ops` as its records give them (a column holding a float is all floats),
        without pandas; an op without a mapping detail lacks its key (the table has NaN)."""
        return _typed_like_table(self._op_rows, ("cycles", "dram_bytes"))

    def energy_by_action(self) -> list[tuple]:
        """(component, part, action, count, energy pJ) summed over ops, largest energy first, as
        pandas' groupby(sort=False).sum().sort_values(ascending=False) of `energy` gives them."""
        own, clock = self._energy_rows
        if not clock:  # object columns: the table's own sums
            grouped = self.energy.groupby(["component", "part", "action"], sort=False)[
                ["count", "energy_pj"]
            ].sum()
            grouped = grouped.sort_values("energy_pj", ascending=False)
            return [(*key, *row) for key, row in zip(grouped.index, grouped.to_numpy())]
        rows = own + clock
        sums = grouped_sums(
            [(r[1], r[2], r[3]) for r in rows],
            [[float(r[4]) for r in rows], [float(r[6]) for r in rows]],
            sort=False,
        )
        groups = list(sums.items())
        return [(*groups[i][0], *groups[i][1]) for i in descending([s[1] for _, s in groups])]

    @cached_property
    def ops(self) -> pd.DataFrame:
        """One row per op: cycles, bound, MACs, DRAM bytes, energy, intensity, mapping details."""
        import pandas as pd

        return pd.DataFrame(self._op_rows)

    @cached_property
    def _op_rows(self) -> list[dict]:
        """The rows of `ops`, plain."""
        energy = self._energy_sums.by_op
        rows = []
        for op in self.program.ops:
            cycles = self.op_cycles[op.name]
            moved = sum(self.record.op_dram[op.name].values())
            rows.append(
                {
                    "name": op.name,
                    "kind": op.kind,
                    "cycles": cycles,
                    "seconds": cycles / self.clock_hz,
                    "bound": self._bound(op.name),
                    "macs": op.macs,
                    "mac_utilization": _share(op.macs, cycles * self.peak_macs_per_cycle),
                    "dram_bytes": moved,
                    "energy_pj": float(energy.get(op.name, 0.0)),
                    # the op's dynamic power over its span (phases overlap; static power is the run's)
                    "power_w": float(energy.get(op.name, 0.0)) * 1e-12 * self.clock_hz / cycles
                    if cycles
                    else 0.0,
                    "flops": op.flops,
                    "arithmetic_intensity": op.flops / moved if moved else float("inf"),
                    "achieved_flops_per_s": op.flops / (cycles / self.clock_hz) if cycles else 0.0,
                    "roofline_flops_per_s": self._roofline(
                        op.flops / moved if moved else float("inf")
                    ),
                    **{
                        f"map_{k}": (json.dumps(v) if isinstance(v, dict) else v)
                        for k, v in op.details.items()
                    },
                }
            )
        return rows

    # ----- scalars ------------------------------------------------------------------------------
    @property
    def clock_hz(self) -> float:
        return self.machine.clock_hz

    @property
    def cycles(self) -> int:
        return self.record.cycles

    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz

    @cached_property
    def mac_precisions(self) -> frozenset[str]:
        """The operand precisions of the run's MACs (its counted `mac_*` actions)."""
        actions = power.counted_actions(self.record.counts)
        return frozenset(a.removeprefix("mac_") for a in actions if a.startswith("mac_"))

    @cached_property
    def peak_macs_per_cycle(self) -> float:
        """MACs per cycle of every compute unit, each at its fastest rate among the precisions
        the run's MACs use (a bf16 run on an array with a 2x fp8 rate: its bf16 peak)."""
        units = self.machine.compute_units.values()
        return sum(u.peak_macs_per_cycle * u.fastest_rate(self.mac_precisions) for u in units)

    @cached_property
    def op_cycles(self) -> dict[str, int]:
        """Each op's span: from its first load to its last write-back landing (spans may overlap)."""
        return {
            op.name: self.record.op_end[op.name] - self.record.op_start[op.name]
            for op in self.program.ops
        }

    def _roofline(self, intensity: float) -> float:
        """Attainable FLOP/s at an arithmetic intensity: min(peak, intensity x DRAM bandwidth)."""
        peak = 2 * self.peak_macs_per_cycle * self.clock_hz
        return min(peak, intensity * self.machine.dram.bandwidth_bytes_per_s)

    @cached_property
    def llm(self) -> dict | None:
        """Prefill / decode view of a transformer workload: TTFT or ITL, tokens/s, KV-cache bytes."""
        meta = self.program.meta
        if "phase" not in meta:
            return None
        by_kind: dict[str, int] = {}
        for parts in self._groups.values():  # a partitioned op's parts: one span
            kind = parts[0].kind
            group = kind if kind in ("gemm", "attention") else "vector"
            first, last = self._span(parts)
            by_kind[group] = by_kind.get(group, 0) + last - first
        tokens = meta["tokens"] if meta["phase"] == "prefill" else meta["batch"]
        view = {
            "phase": meta["phase"],
            "batch": meta["batch"],
            "context": meta["context"],
            "layers": meta["layers"],
            "tokens": tokens,
            "tokens_per_s": tokens / self.seconds,
            "kv_cache_bytes": meta["kv_cache_bytes"],
            "weight_bytes": meta["weight_bytes"],
            "op_seconds_by_kind": {k: v / self.clock_hz for k, v in sorted(by_kind.items())},
        }
        # the hardware's part of time-to-first-token (prefill) or of the inter-token latency (decode)
        view["ttft_s" if meta["phase"] == "prefill" else "itl_s"] = self.seconds
        return view

    @cached_property
    def pim(self) -> dict | None:
        """In-memory (crossbar, near-memory) vs digital ops: time, energy and the bytes between
        them; crossbar use and programming; ADC share of energy and area; crossbar numerics."""
        kinds = {op.name: self.machine.components[op.unit].kind for op in self.program.ops}
        if not any(k in ("crossbar", "pim") for k in kinds.values()):
            return None
        inside = {name for name, kind in kinds.items() if kind in ("crossbar", "pim")}
        energy = self.energy.groupby("op")["energy_pj"].sum()
        view = {"analog_ops": sum(k == "crossbar" for k in kinds.values())}
        view["near_memory_ops"] = sum(k == "pim" for k in kinds.values())
        view["digital_ops"] = len(kinds) - len(inside)
        for side, names in (("in_memory", inside), ("digital", set(kinds) - inside)):
            view[f"{side}_seconds"] = sum(self.op_cycles[n] for n in names) / self.clock_hz
            view[f"{side}_energy_pj"] = float(sum(energy.get(n, 0.0) for n in names))
        crossing = {True: 0, False: 0}  # bytes each consumer reads from the other side
        for op in self.program.ops:
            for producer in op.depends_on:
                if (producer in inside) != (op.name in inside):
                    crossing[producer in inside] += self.record.op_dram[producer].get("store", 0)
        view["in_memory_to_digital_bytes"] = crossing[True]
        view["digital_to_in_memory_bytes"] = crossing[False]
        crossbar_ops = [op for op in self.program.ops if kinds[op.name] == "crossbar"]
        if crossbar_ops:
            view.update(self._crossbar_view(crossbar_ops))
        near = [
            op.details.get("bank_bytes", 0) for op in self.program.ops if kinds[op.name] == "pim"
        ]
        if near:
            view["bank_bytes"] = int(sum(near))
        return view

    def _crossbar_view(self, ops) -> dict:
        """Crossbar occupancy, programming, ADC shares and numerics over the crossbar ops."""
        units = {op.unit: self.machine.components[op.unit] for op in ops}
        details = [op.details for op in ops]
        resident = all(d["resident"] for d in details)
        cells = sum(d["weight_cells"] for d in details)
        adc = self.energy[self.energy.action == "adc_convert"]["energy_pj"].sum()
        analog = self.energy[self.energy.component.isin(list(units))]["energy_pj"].sum()
        areas = [u.area_breakdown_mm2() for u in units.values()]
        view = {
            "crossbars": sum(u.crossbars for u in units.values()),
            "crossbars_used": sum(d["crossbars_used"] for d in details)
            if resident
            else max(d["crossbars_used"] for d in details),
            "crossbar_utilization": cells
            / sum(d["weight_cells"] / d["crossbar_utilization"] for d in details),
            "replication": max(d["replication"] for d in details),
            "weights_resident": resident,
            "programmed_cells": sum(d["programmed_cells"] for d in details),
            "program_energy_pj": sum(d["program_energy_pj"] for d in details),
            "program_seconds": max(d["program_seconds"] for d in details)
            if resident
            else sum(d["program_seconds"] for d in details),
            "adc_bits": max(d["adc_bits"] for d in details),
            "lossless_adc_bits": max(d["lossless_adc_bits"] for d in details),
            "adc_energy_share": float(adc / analog) if analog else 0.0,
            "adc_area_mm2": sum(a["adc"] for a in areas),
            "adc_area_share": sum(a["adc"] for a in areas) / sum(sum(a.values()) for a in areas),
        }
        checked = [
            self.numerics[op.name] for op in ops if self.numerics and op.name in self.numerics
        ]
        if checked:
            worst = max(checked, key=lambda r: r.rms_rel_error)
            view.update(
                max_abs_error=max(r.max_abs_error for r in checked),
                rms_error=worst.rms_error,
                rms_rel_error=worst.rms_rel_error,
                predicted_rms_error=worst.predicted_rms_error,
                snr_db=_finite(min(r.snr_db for r in checked)),
            )
        return view

    def _bound(self, op: str) -> str:
        """What held an op back most: a compute unit (by kind), memory (its DRAM transfers, or the
        time its unit sat waiting for data when transfers queue behind other cores'), SRAM ports,
        or load latency (a row kernel's latency bound)."""
        labels = {"systolic_array": "compute", "vector": "vector", "dram": "memory"}
        busy = self.record.op_busy[op]
        stalls = self.record.op_stalls[op]
        candidates: dict[str, float] = {}
        for name, cycles in busy.items():
            label = labels.get(self.machine.components[name].kind, name)
            candidates[label] = max(candidates.get(label, 0), cycles)
        waited = stalls.get("dram_bandwidth", 0) + stalls.get("buffer_full", 0)
        if waited:
            candidates["memory"] = max(candidates.get("memory", 0), waited)
        if stalls.get("sram_bandwidth", 0):
            candidates["sram"] = busy.get(self.program_op(op).unit, 0) + stalls["sram_bandwidth"]
        if stalls.get("load_latency", 0):  # a GPU row kernel's latency bound (vector_ops.py)
            candidates["latency"] = busy.get(self.program_op(op).unit, 0) + stalls["load_latency"]
        return (
            max(candidates, key=candidates.get) if candidates else "none"
        )  # e.g. a one-core all-reduce

    def program_op(self, name: str):
        """The OpProgram of op `name` (a name no op has was a StopIteration)."""
        found = next((op for op in self.program.ops if op.name == name), None)
        if found is None:
            names = ", ".join(op.name for op in self.program.ops[:8])
            more = ", ..." if len(self.program.ops) > 8 else ""
            raise UnsupportedError(f"program_op: no op {name!r}; ops: {names}{more}")
        return found

    @cached_property
    def links(self) -> pd.DataFrame:
        """Multi-core: one row per NoC link (bytes, busy cycles, utilization); empty otherwise."""
        return link_table(self.record, self.cycles)

    @cached_property
    def cores(self) -> pd.DataFrame:
        """Multi-core: one row per core (compute, memory wait, NoC sync wait, idle cycles)."""
        import pandas as pd

        return (
            core_table(self.record, self.machine, self.cycles)
            if self.machine.core_count > 1
            else pd.DataFrame()
        )

    @cached_property
    def noc(self) -> dict | None:
        """Multi-core: NoC bytes, hottest link, hop histogram, NoC energy, load imbalance."""
        if self.machine.noc is None or self.machine.core_count == 1:
            return None
        return noc_summary(self.record, self.machine, self.cycles, self.energy)

    @cached_property
    def _groups(self) -> dict[str, list]:
        """Each workload op's programs (a partitioned op's parts, else the op alone), in order."""
        groups: dict[str, list] = {}
        for op in self.program.ops:
            groups.setdefault(op.group or op.name, []).append(op)
        return groups

    def _span(self, parts: list) -> tuple[int, int]:
        """From the first of `parts` to start to the last to end (cycles)."""
        start, end = self.record.op_start, self.record.op_end
        return min(start[p.name] for p in parts), max(end[p.name] for p in parts)

    def _ops_by_group(self) -> list[dict]:
        """The summary's per-op list: parts of a partitioned op are folded into their workload op."""
        rows = {row["name"]: row for row in self.op_rows()}
        out = []
        for name, parts in self._groups.items():
            start, end = self._span(parts)
            cycles = end - start
            macs = sum(p.macs for p in parts)
            moved = sum(rows[p.name]["dram_bytes"] for p in parts)
            longest = max(parts, key=lambda p: rows[p.name]["cycles"])
            out.append(
                {
                    "name": name,
                    "cycles": cycles,
                    "bound": rows[longest.name]["bound"],
                    "dram_bytes": moved,
                    "energy_pj": sum(rows[p.name]["energy_pj"] for p in parts),
                    "macs": macs,
                    "mac_utilization": _share(macs, cycles * self.peak_macs_per_cycle),
                    "arithmetic_intensity": sum(p.flops for p in parts) / moved
                    if moved
                    else float("inf"),
                    "parts": len(parts),
                }
            )
        return out

    @cached_property
    def partition(self) -> pd.DataFrame:
        """The partition map: one row per op with the unit and place (accelerator, host, pim, core)
        it ran on, whether it is a fallback and why, its MACs, FLOPs, busy cycles and energy."""
        return partition_map(self.program, self.machine, self.record, self.energy)

    @cached_property
    def host_link(self) -> pd.DataFrame:
        """One row per tensor crossing the host <-> accelerator link (empty without a host)."""
        return crossings(self.program, self.record)

    @cached_property
    def layers(self) -> pd.DataFrame:
        """Per layer (conv, gemm, attention): unit, place, busy and span cycles, energy,
        utilization of its unit while busy, bound."""
        return layer_table(self.ops, self.partition, self.machine, self.mac_precisions)

    @cached_property
    def boundary(self) -> dict | None:
        """Fallback share and reasons, host-link bytes and time; None with neither."""
        if not any(
            op.kind == "transfer" or op.details.get("fallback", False) for op in self.program.ops
        ):
            return None  # neither a fallback nor a host crossing: no tables to build
        streamed = bool(self.program.meta.get("weights_streamed"))
        return boundary_summary(
            self.partition, self.host_link, self.cycles, self.clock_hz, streamed
        )

    @cached_property
    def primary_unit(self) -> str:
        """The compute unit busy longest; the summary's stall breakdown is its timeline."""
        return max(self.machine.compute_units, key=lambda u: (self.record.busy.get(u, 0), u))

    @cached_property
    def summary(self) -> dict:
        """Headline numbers; these keys are stable (later versions add keys, never rename)."""
        dram = self.machine.dram
        macs = sum(op.macs for op in self.program.ops)
        dram_bytes = sum(sum(v.values()) for v in self.record.op_dram.values())
        peak_bw = dram.bandwidth_bytes_per_s
        compute_bound_cycles = _share(macs, self.peak_macs_per_cycle)
        memory_bound_cycles = dram_bytes / dram.bytes_per_cycle
        flops = sum(op.flops for op in self.program.ops)
        intensity = flops / dram_bytes if dram_bytes else float("inf")
        checked = self.numerics
        stalls = {
            k: int(v) for k, v in sorted(self.record.unit_stalls[self.primary_unit].items()) if v
        }
        return {
            "arch": self.arch_name,
            "workload": self.workload_name,
            "mapping": self.mapping_name,
            "cycles": self.cycles,
            "seconds": self.seconds,
            "clock_hz": self.clock_hz,
            "energy_pj": float(self._energy_sums.total),
            "area_mm2": power.area_sums(self._parts)[0],
            "macs": macs,
            "peak_macs_per_cycle": self.peak_macs_per_cycle,
            "mac_utilization": _share(macs, self.cycles * self.peak_macs_per_cycle),
            "primary_unit": self.primary_unit,
            "compute_busy_cycles": int(self.record.busy.get(self.primary_unit, 0)),
            "stall_cycles_by_cause": stalls,
            "total_stall_cycles": int(sum(stalls.values())),
            "dram_bytes": int(dram_bytes),
            "dram_bandwidth_gbps": dram_bytes / self.seconds / 1e9 if self.seconds else 0.0,
            "dram_peak_bandwidth_gbps": peak_bw / 1e9,
            "arithmetic_intensity": intensity,
            "ridge_point": 2 * self.peak_macs_per_cycle / dram.bytes_per_cycle,
            "roofline_bound": "compute"
            if compute_bound_cycles >= memory_bound_cycles
            else "memory",
            "roofline_cycles": max(compute_bound_cycles, memory_bound_cycles),
            "numerics_max_abs_error": max(r.max_abs_error for r in checked.values())
            if checked
            else None,
            "numerics_max_rel_error": max(r.max_rel_error for r in checked.values())
            if checked
            else None,
            "numerics_ok": all(r.ok for r in checked.values()) if checked else None,
            "coverage_ok": all(r.coverage_ok for r in checked.values()) if checked else None,
            "numerics_failed": [row["op"] for row in self.numerics_table() if not row["ok"]]
            if checked
            else None,
            "numerics_checked": {name: r.checked for name, r in checked.items()}
            if checked
            else None,
            **(self.scalesim or {}),
            **({"llm": self.llm} if self.llm else {}),
            **({"pim": self.pim} if self.pim else {}),
            **({"noc": self.noc} if self.noc else {}),
            **({"boundary": self.boundary} if self.boundary else {}),
            "power": self.power,
            "ops": self._ops_by_group(),
        }

    def numerics_table(self) -> list[dict]:
        """One row per checked op: its errors, the bound they are held to, and the verdict, so a
        mismatch names the op (empty with numerics off)."""
        return [
            {
                "op": name,
                "ok": bool(result.ok),
                "max_abs_error": float(result.max_abs_error),
                "max_rel_error": float(result.max_rel_error),
                "error_bound": float(result.error_bound),
                "coverage": str(result.coverage_message),
            }
            for name, result in (self.numerics or {}).items()
        ]

    @cached_property
    def scalesim(self) -> dict | None:
        """SCALE-Sim's own metrics, defined as SCALE-Sim 3.0.0 defines them, when its accounting
        is used (simulator/report/scalesim.py): per layer compute, stall, total and prefetch
        cycles and overall utilization 100 MNK / (total R C), R C times the array's rate at the
        layer's precision where it has one."""
        systolic = [op for op in self.program.ops if op.details.get("accounting") == "scalesim"]
        if not systolic:
            return None
        layers, pe_cycles = [], []
        for op in systolic:  # vector ops are outside SCALE-Sim's model
            unit = self.machine.components[op.unit]
            whole = prefetches_whole(
                op.details["dataflow"],
                op.details["shape"],
                unit.rows,
                unit.cols,
                self.machine.buffer_for("input").capacity_bytes,
                self.machine.buffer_for("weight").capacity_bytes,
            )
            layer = layer_metrics(
                op.name,
                op.macs,
                self.record.op_busy[op.name][op.unit],
                self.record.op_stalls[op.name],
                whole,
                macs_per_cycle := unit.rows * unit.cols * unit.rate(op.details["dtype"]),
            )
            layers.append(layer)
            pe_cycles.append(layer["total_cycles"] * macs_per_cycle)
        return {
            "compute_cycles": sum(layer["compute_cycles"] for layer in layers),
            "stall_cycles": sum(layer["stall_cycles"] for layer in layers),
            "overall_util_pct": _percent(sum(op.macs for op in systolic), sum(pe_cycles)),
            "layers": layers,
        }

    # ----- exports ------------------------------------------------------------------------------
    def to_json(self, indent: int | None = 2) -> str:
        """Summary, components, energy rows and the component × part area/power breakdown as JSON."""
        payload = {
            "summary": json_ready(self.summary),
            "components": _records(self.components),
            "energy": _records(self.energy),
            "area_power": _records(self.breakdown),
        }
        return json.dumps(payload, indent=json_indent(indent), default=_plain, allow_nan=False)

    def chrome_trace(self) -> dict:
        """Chrome trace events (open in Perfetto): one process per chip or core, one thread per
        unit and DMA queue (`trace_slices`). A counter per compute unit marks its idle stretches,
        another counts its stall cycles so far by cause (ending at the report's unit stalls), and
        a power counter track holds the power timeline."""
        events, pids = trace_slices(self.record.events, self.clock_hz)
        us_per_cycle = 1e6 / self.clock_hz
        for unit, marks in _by_unit(self.record.stall_marks or ()).items():
            process, name = _split_track(unit)
            if process not in pids:  # a unit that only stalled: its core's process
                pids[process] = len(pids)
                events.append(_meta("process_name", pids[process], 0, process))
            events += _stall_counter(name, pids[process], marks, us_per_cycle)
        for row in self.power_timeline.itertuples():  # a counter track: power per slice, in W
            events.append(
                {
                    "name": "power (W)",
                    "ph": "C",
                    "pid": 0,
                    "ts": row.start_s * 1e6,
                    "args": {"dynamic": row.dynamic_w, "static": row.static_w},
                }
            )
        return {"traceEvents": events, "displayTimeUnit": "ns"}


def trace_slices(recorded: list | None, clock_hz: float) -> tuple[list[dict], dict[str, int]]:
    """Chrome trace slices of a run's recorded (track, name, op, start, end) intervals: one
    process per chip or core, one thread per unit and DMA queue; overlapping intervals of a queue
    go to extra threads ('dram read #2'), so no thread has overlapping slices; a counter per
    compute unit marks its idle stretches. The events and each process's id."""
    if recorded is None:
        raise UnsupportedError("chrome_trace: run simulate(..., trace=True) to record a timeline")
    us_per_cycle = 1e6 / clock_hz
    by_track: dict[str, list] = {}
    for event in sorted(recorded, key=lambda e: (e[3], e[4])):
        by_track.setdefault(event[0], []).append(event)
    events: list[dict] = []
    pids: dict[str, int] = {}
    threads: dict[tuple[int, str], int] = {}
    for track in sorted(by_track, key=_track_order):
        process, unit = _split_track(track)
        if process not in pids:
            pids[process] = len(pids)
            events.append(_meta("process_name", pids[process], 0, process))
            events.append(
                {
                    "name": "process_sort_index",
                    "ph": "M",
                    "pid": pids[process],
                    "tid": 0,
                    "args": {"sort_index": pids[process]},
                }
            )
        pid = pids[process]
        lanes: list[int] = []  # end cycle of the last slice on each lane of this track
        for _, name, op, start, end in by_track[track]:
            lane = next((i for i, last in enumerate(lanes) if last <= start), len(lanes))
            if lane == len(lanes):
                lanes.append(0)
                label = unit if lane == 0 else f"{unit} #{lane + 1}"
                threads[(pid, label)] = len(threads)
                events.append(_meta("thread_name", pid, threads[(pid, label)], label))
            lanes[lane] = end
            label = unit if lane == 0 else f"{unit} #{lane + 1}"
            events.append(
                {
                    "name": name,
                    "cat": op,
                    "ph": "X",
                    "pid": pid,
                    "tid": threads[(pid, label)],
                    "ts": start * us_per_cycle,
                    "dur": (end - start) * us_per_cycle,
                    "args": {"op": op, "start_cycle": start, "end_cycle": end},
                }
            )
        if by_track[track][0][1] == "compute":
            events += _idle_counter(unit, pid, by_track[track], us_per_cycle)
    return events, pids


def _split_track(track: str) -> tuple[str, str]:
    """'core3.mxu' -> ('core 3', 'mxu'); a single-core track -> ('chip', track)."""
    head, dot, rest = track.partition(".")
    if dot and head.startswith("core") and head[4:].isdigit():
        return f"core {head[4:]}", rest
    return "chip", track


def _track_order(track: str) -> tuple:
    process, unit = _split_track(track)
    number = int(process.split()[1]) if process != "chip" else -1
    return number, unit


def _meta(kind: str, pid: int, tid: int, name: str) -> dict:
    return {"name": kind, "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}


def _idle_counter(unit: str, pid: int, slices: list, us_per_cycle: float) -> list[dict]:
    """A counter track '<unit> idle': 1 between compute slices (a stall), 0 while computing."""
    out = []
    for _, _, _, start, end in slices:
        out.append(
            {
                "name": f"{unit} idle",
                "ph": "C",
                "pid": pid,
                "ts": start * us_per_cycle,
                "args": {"idle": 0},
            }
        )
        out.append(
            {
                "name": f"{unit} idle",
                "ph": "C",
                "pid": pid,
                "ts": end * us_per_cycle,
                "args": {"idle": 1},
            }
        )
    return out


def _by_unit(marks) -> dict[str, list[tuple[str, int, int]]]:
    """unit -> its stall marks (cause, cycle, cycles), in the order they were made."""
    out: dict[str, list] = {}
    for unit, cause, cycle, cycles in marks:
        out.setdefault(unit, []).append((cause, cycle, cycles))
    return out


def _stall_counter(unit: str, pid: int, marks: list, us_per_cycle: float) -> list[dict]:
    """A counter track '<unit> stall cycles': per cause, the stall cycles counted so far (a gap
    counts when it ends); its last values are the unit's stalls in the report."""
    causes = sorted({cause for cause, _, _ in marks})
    so_far = dict.fromkeys(causes, 0)
    by_cycle: dict[int, list] = {}
    for cause, cycle, cycles in marks:
        by_cycle.setdefault(cycle, []).append((cause, cycles))
    out = [_counter(f"{unit} stall cycles", pid, 0.0, dict(so_far))]
    for cycle in sorted(by_cycle):  # marks at one cycle land together (a memo correction too)
        for cause, cycles in by_cycle[cycle]:
            so_far[cause] += cycles
        out.append(_counter(f"{unit} stall cycles", pid, cycle * us_per_cycle, dict(so_far)))
    return out


def _counter(name: str, pid: int, ts: float, values: dict) -> dict:
    return {"name": name, "ph": "C", "pid": pid, "ts": ts, "args": values}


def _records(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None (JSON null), never NaN."""
    return table.astype(object).where(table.notna(), None).to_dict("records")


def _percent(part: float, whole: float) -> float | None:
    """100 * part / whole; None when whole is 0 (a one-cycle layer on a 1x1 array has total 0)."""
    return 100 * part / whole if whole else None


def _share(part: float, whole: float) -> float:
    """part / whole; 0 when whole is 0 (no cycles, or an arch of vector units only, no MAC peak)."""
    return part / whole if whole else 0.0


def _finite(value: float) -> float | None:
    """None for an infinite value (an exact result's SNR), which JSON cannot hold."""
    return None if value == float("inf") else value


def json_ready(value):
    """`value` with every non-finite float as None (JSON null): JSON has no inf or NaN, and an op
    that moves no DRAM bytes has an infinite arithmetic intensity."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def _plain(value):
    """JSON fallback for numpy scalars."""
    return value.item() if hasattr(value, "item") else str(value)


def json_indent(indent) -> int | None:
    """`to_json`'s indent: spaces (an int >= 0) or None; a path given as the indent was written
    into the text before every key (`to_json('out.json')` wrote no file)."""
    if indent is not None and (
        not isinstance(indent, int) or isinstance(indent, bool) or indent < 0
    ):
        raise UnsupportedError(
            f"to_json: indent={indent!r}: give the spaces to indent by (an int >= 0) or None; "
            "to_json returns the text (write it with Path(...).write_text)"
        )
    return indent


def _typed_like_table(rows: list[dict], numeric: tuple[str, ...]) -> list[dict]:
    """`rows` as DataFrame(rows).to_dict('records') gives them in the `numeric` columns: a column
    holding any float is all floats (ints otherwise), so a summary has the types a table gives."""
    floats = {
        key for key in numeric if any(isinstance(row[key], float | np.floating) for row in rows)
    }
    return [
        {**row, **{key: (float if key in floats else int)(row[key]) for key in numeric}}
        for row in rows
    ]
