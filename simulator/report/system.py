"""SystemReport: a system-of-chips run, from the chip's report and the links' report.

seconds = the chip's share + every all-reduce on the links + the pipeline hops; energy = tp x the
chip's energy (every chip of a group does the same work; each layer runs on one group) + the links'
energy (HBM reads and writes, link traffic and the adds of the all-reduces).
"""

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from simulator.report.single import Report

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class SystemReport:
    """Results of one run on a system of chips: `summary` plus a per-op table."""

    arch_name: str
    workload_name: str
    mapping_name: str
    chips: int
    tensor_parallel: int
    pipeline_stages: int
    chip: Report
    """One chip's share of the workload on the chip arch."""
    links: Report | None
    """The all-reduces on the chip-to-chip links (None when nothing is reduced)."""
    all_reduce_of: dict[str, str]
    """Row-split GEMM -> the all-reduce after it."""
    stage_of: dict[str, int]
    """Workload op -> its pipeline stage."""
    hop_seconds: float
    """Activations crossing the stage boundaries, all together."""

    @cached_property
    def ops(self) -> "pd.DataFrame":
        """One row per workload op: its stage, its span on the chip, its all-reduce."""
        import pandas as pd  # only a table needs it

        chip = {row["name"]: row for row in self.chip.summary["ops"]}
        links = {row["name"]: row for row in self.links.summary["ops"]} if self.links else {}
        clock, link_clock = self.chip.clock_hz, self.links.clock_hz if self.links else 1.0
        rows = []
        for name, stage in self.stage_of.items():
            reduce = links.get(self.all_reduce_of.get(name, ""), {})
            rows.append(
                (
                    name,
                    stage,
                    chip[name]["cycles"] / clock,
                    reduce.get("cycles", 0) / link_clock,
                    chip[name]["macs"] * self.tensor_parallel,
                    chip[name]["bound"],
                )
            )
        columns = ["name", "stage", "chip_seconds", "all_reduce_seconds", "macs", "bound"]
        return pd.DataFrame(rows, columns=columns)

    @property
    def all_reduce_seconds(self) -> float:
        return self.links.seconds if self.links else 0.0

    @property
    def seconds(self) -> float:
        return self.chip.seconds + self.all_reduce_seconds + self.hop_seconds

    @cached_property
    def summary(self) -> dict:
        """Headline numbers of the system run, with the chip's and the links' own summaries."""
        chip, links = self.chip.summary, self.links.summary if self.links else None
        checked = [s for s in (chip, links) if s and s["numerics_ok"] is not None]
        macs = chip["macs"] * self.tensor_parallel
        peak = chip["peak_macs_per_cycle"] * chip["clock_hz"] * self.chips
        stages = self.ops.assign(seconds=self.ops.chip_seconds + self.ops.all_reduce_seconds)
        return {
            "arch": self.arch_name,
            "workload": self.workload_name,
            "mapping": self.mapping_name,
            "chip": self.chip.arch_name,
            "chips": self.chips,
            "tensor_parallel": self.tensor_parallel,
            "pipeline_stages": self.pipeline_stages,
            "seconds": self.seconds,
            "chip_seconds": self.chip.seconds,
            "all_reduce_seconds": self.all_reduce_seconds,
            "pipeline_hop_seconds": self.hop_seconds,
            "stage_seconds": stages.groupby("stage").seconds.sum().tolist(),
            "energy_pj": chip["energy_pj"] * self.tensor_parallel
            + (links["energy_pj"] if links else 0.0),
            "macs": macs,
            "dram_bytes": chip["dram_bytes"] * self.tensor_parallel
            + (links["dram_bytes"] if links else 0),
            "mac_utilization": macs / (self.seconds * peak) if self.seconds else 0.0,
            "link_bytes": links["noc"]["core_to_core_bytes"] if links and links.get("noc") else 0,
            "numerics_ok": all(s["numerics_ok"] for s in checked) if checked else None,
            "numerics_failed": sum((s["numerics_failed"] or [] for s in checked), [])
            if checked
            else None,
            "ops": self.ops.to_dict("records"),
            "chip_summary": chip,
            "links_summary": links,
        }
