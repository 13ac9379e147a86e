"""Multi-core views of a finished run: per-link traffic, per-core time, the NoC summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.components import Machine
from simulator.engine import Record

if TYPE_CHECKING:
    import pandas as pd


def link_table(record: Record, cycles: int) -> pd.DataFrame:
    """One row per NoC link: bytes carried, cycles held, utilization."""
    import pandas as pd

    rows = [
        {
            "link": _label(link),
            "bytes": record.link_bytes[link],
            "busy_cycles": busy,
            "utilization": busy / cycles if cycles else 0.0,
        }
        for link, busy in sorted(record.link_busy.items(), key=lambda item: str(item[0]))
    ]
    return pd.DataFrame(rows, columns=["link", "bytes", "busy_cycles", "utilization"])


def _label(link: tuple) -> str:
    kind, *ends = link
    return (
        f"{ends[0]}->{ends[1]}" if kind == "link" else f"{kind} {' '.join(map(str, ends))}".strip()
    )


def core_table(record: Record, machine: Machine, cycles: int) -> pd.DataFrame:
    """One row per core: its busiest unit's compute cycles and stalls (waiting on DRAM, the NoC /
    other cores, buffers), and the share of the run it computed."""
    import pandas as pd

    rows = []
    for core in range(machine.core_count):
        prefix = f"core{core}."
        units = [n for n in machine.compute_units if n.startswith(prefix)]
        unit = max(units, key=lambda u: (record.busy.get(u, 0), u))
        stalls = record.unit_stalls.get(unit, {})
        rows.append(
            {
                "core": core,
                "unit": unit,
                "compute_cycles": int(record.busy.get(unit, 0)),
                "utilization": record.busy.get(unit, 0) / cycles if cycles else 0.0,
                "memory_wait_cycles": int(
                    stalls.get("dram_bandwidth", 0) + stalls.get("buffer_full", 0)
                ),
                "sync_wait_cycles": int(stalls.get("sync", 0)),
                "idle_cycles": int(stalls.get("fill", 0) + stalls.get("drain", 0)),
            }
        )
    return pd.DataFrame(rows)


def noc_summary(record: Record, machine: Machine, cycles: int, energy: pd.DataFrame) -> dict:
    """Headline NoC numbers: bytes, the hottest link, hop histogram, energy, load imbalance."""
    links = link_table(record, cycles)
    cores = core_table(record, machine, cycles)
    noc = machine.noc
    hottest = (
        links.sort_values(["busy_cycles", "link"], ascending=[False, True]).iloc[0]
        if len(links)
        else None
    )
    busy = cores.compute_cycles
    return {
        "topology": noc.topology,
        "nodes": noc.nodes,
        "cores": machine.core_count,
        "link_bytes": int(links.bytes.sum()),
        "core_to_core_bytes": int(sum(record.op_noc.values())),
        "hottest_link": None if hottest is None else hottest.link,
        "hottest_link_utilization": None if hottest is None else float(hottest.utilization),
        "hop_histogram_bytes": {int(h): int(b) for h, b in sorted(record.hop_bytes.items())},
        "noc_energy_pj": float(energy[energy.component == noc.name].energy_pj.sum()),
        "load_imbalance": float(busy.max() / busy.mean()) if busy.mean() else 1.0,
        "l2_hit_rate": _hit_rate(record),
        "compute_share": float(busy.sum() / (cycles * len(busy))) if cycles else 0.0,
        "sync_wait_share": float(cores.sync_wait_cycles.sum() / (cycles * len(busy)))
        if cycles
        else 0.0,
    }


def _hit_rate(record: Record) -> float | None:
    """Share of loaded bytes the shared L2 served (None without an L2)."""
    loaded = record.l2_bytes["hit"] + record.l2_bytes["miss"]
    return record.l2_bytes["hit"] / loaded if loaded else None
