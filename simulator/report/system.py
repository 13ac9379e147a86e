"""SystemReport: a system-of-chips run, from the chip's report, the links' reports and the
pipeline schedule.

seconds = the end of the micro-batches' pipeline schedule, whose stages each take their part of the
chip's share and of the all-reduces on the links (one micro-batch: the chip's share + every
all-reduce + the pipeline hops); energy = micro-batches x (tp x the chip's energy (every chip of a
group does the same work; each layer runs on one group) + the links' energy (HBM reads and writes,
link traffic and the adds of the all-reduces, times the parallel rings of a torus)).
"""

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from simulator.errors import UnsupportedError
from simulator.report.single import Report, _plain, _records, json_indent, json_ready
from simulator.report.view import Shown

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class LinkRun:
    """One run of collectives on the links, standing for `copies` identical ones at once (the
    parallel rings of one torus dimension)."""

    report: Report
    copies: int

    @cached_property
    def _cut(self) -> dict[str, float]:
        """Seconds of each collective: from the end of the one before to its own end (the last to
        the run's end), so they add up to the run."""
        ends: dict[str, int] = {}
        for op in self.report.program.ops:
            name = op.group or op.name
            ends[name] = max(ends.get(name, 0), self.report.record.op_end[op.name])
        order = sorted(ends, key=ends.get)
        ends[order[-1]] = self.report.cycles
        cuts = [0] + [ends[name] for name in order]
        clock = self.report.clock_hz
        return {name: (cuts[i + 1] - cuts[i]) / clock for i, name in enumerate(order)}

    def seconds_of(self, collective: str) -> float:
        """Seconds of `collective` and of its phases (named `collective`.<axis>.<pattern>)."""
        return sum(t for name, t in self._cut.items() if (name + ".").startswith(collective + "."))


@dataclass(frozen=True)
class Schedule:
    """When the micro-batches' pipeline ends and how long each stage computed in it."""

    seconds: float
    busy: tuple[float, ...]
    micro_batches: int

    @property
    def bubble(self) -> float:
        """The stages' idle share of the run: 1 - busy / (stages x time)."""
        return 1 - sum(self.busy) / (len(self.busy) * self.seconds) if self.seconds else 0.0


@dataclass(frozen=True, repr=False)
class SystemReport(Shown):
    """Results of one run on a system of chips: `summary` plus a per-op table."""

    arch_name: str
    workload_name: str
    mapping_name: str
    chips: int
    tensor_parallel: int
    pipeline_stages: int
    chip: Report
    """One chip's share of one micro-batch on the chip arch."""
    links: tuple[LinkRun, ...]
    """One micro-batch's all-reduces on the chip-to-chip links (none when nothing is reduced)."""
    all_reduce_of: dict[str, str]
    """Row-split GEMM -> the all-reduce after it."""
    stage_of: dict[str, int]
    """Workload op -> its pipeline stage."""
    hop_seconds: float
    """One micro-batch's activations crossing the stage boundaries, all together."""
    schedule: Schedule
    """The micro-batches' pipeline schedule."""

    @cached_property
    def ops(self) -> "pd.DataFrame":
        """One row per workload op: its stage, its span on the chip, its all-reduce."""
        import pandas as pd  # only a table needs it

        chip = {row["name"]: row for row in self.chip.summary["ops"]}
        clock = self.chip.clock_hz
        rows = []
        for name, stage in self.stage_of.items():
            reduce = self.all_reduce_of.get(name)
            rows.append(
                (
                    name,
                    stage,
                    chip[name]["cycles"] / clock,
                    sum(run.seconds_of(reduce) for run in self.links) if reduce else 0.0,
                    chip[name]["macs"] * self.tensor_parallel,
                    chip[name]["bound"],
                )
            )
        columns = ["name", "stage", "chip_seconds", "all_reduce_seconds", "macs", "bound"]
        return pd.DataFrame(rows, columns=columns)

    def to_json(self, indent: int | None = 2) -> str:
        """The summary (with the chip's and the links' own) and the per-op table as JSON, as a
        chip's Report.to_json writes its own (called on a system's report it was an
        AttributeError)."""
        payload = {"summary": json_ready(self.summary), "ops": _records(self.ops)}
        return json.dumps(payload, indent=json_indent(indent), default=_plain, allow_nan=False)

    def chrome_trace(self) -> dict:
        """A system records no timeline (simulate refuses trace=True on one): an UnsupportedError
        naming the chip to trace instead, as a chip's report without a trace says (this was
        Python's own AttributeError)."""
        raise UnsupportedError(
            f"chrome_trace: {self.arch_name} is a system of chips and records no timeline; trace "
            f"its chip instead: simulate({self.chip.arch_name!r}, ..., trace=True)"
        )

    @property
    def all_reduce_seconds(self) -> float:
        """One micro-batch's all-reduces, one after another."""
        return sum(run.report.seconds for run in self.links)

    @property
    def seconds(self) -> float:
        return self.schedule.seconds

    def _links_total(self, key: str) -> float:
        """`key` of the links' summaries, each times its parallel copies."""
        return sum(run.report.summary[key] * run.copies for run in self.links)

    @cached_property
    def summary(self) -> dict:
        """Headline numbers of the system run, with the chip's and the links' own summaries."""
        chip, links = self.chip.summary, [run.report.summary for run in self.links]
        checked = [s for s in (chip, *links) if s["numerics_ok"] is not None]
        m = self.schedule.micro_batches
        macs = chip["macs"] * self.tensor_parallel * m
        peak = chip["peak_macs_per_cycle"] * chip["clock_hz"] * self.chips
        link_bytes = sum(
            run.report.summary["noc"]["core_to_core_bytes"] * run.copies
            for run in self.links
            if run.report.summary.get("noc")
        )
        return {
            "arch": self.arch_name,
            "workload": self.workload_name,
            "mapping": self.mapping_name,
            "chip": self.chip.arch_name,
            "chips": self.chips,
            "tensor_parallel": self.tensor_parallel,
            "pipeline_stages": self.pipeline_stages,
            "micro_batches": m,
            "seconds": self.seconds,
            "chip_seconds": self.chip.seconds,
            "all_reduce_seconds": self.all_reduce_seconds,
            "pipeline_hop_seconds": self.hop_seconds,
            "stage_seconds": [busy / m for busy in self.schedule.busy],
            "pipeline_bubble": self.schedule.bubble,
            "energy_pj": m
            * (chip["energy_pj"] * self.tensor_parallel + self._links_total("energy_pj")),
            "macs": macs,
            "dram_bytes": m
            * (chip["dram_bytes"] * self.tensor_parallel + self._links_total("dram_bytes")),
            "mac_utilization": macs / (self.seconds * peak) if self.seconds else 0.0,
            "link_bytes": m * link_bytes,
            "numerics_ok": all(s["numerics_ok"] for s in checked) if checked else None,
            "numerics_failed": sum((s["numerics_failed"] or [] for s in checked), [])
            if checked
            else None,
            "ops": self.ops.to_dict("records"),
            "chip_summary": chip,
            "links_summaries": links,
        }
