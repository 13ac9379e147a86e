"""The runtime boundary of a finished run: which op ran where (the partition map), the tensors that
crossed between host and accelerator, and the fallback share with each fallback's reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.components import Machine
from simulator.engine import Record
from simulator.mapping import Program

if TYPE_CHECKING:
    import pandas as pd

PLACES = {"cpu": "host", "crossbar": "pim", "pim": "pim", "link": "link"}


def place_of(machine: Machine, unit: str) -> str:
    """host, pim, or accelerator (multi-core: coreN)."""
    kind = machine.components[unit].kind
    if kind in PLACES:
        return PLACES[kind]
    return unit.split(".")[0] if machine.core_count > 1 else "accelerator"


def partition_map(program: Program, machine: Machine, record: Record, energy: pd.DataFrame):
    """One row per op (link transfers excluded): its unit and place, fallback and reason, MACs,
    FLOPs, busy cycles on its unit and energy."""
    import pandas as pd

    by_op = energy.groupby("op")["energy_pj"].sum()
    rows = []
    for op in program.ops:
        if op.kind == "transfer":
            continue
        reason = op.details.get("fallback_reason", "")
        rows.append(
            {
                "op": op.name,
                "kind": op.kind,
                "unit": op.unit,
                "place": place_of(machine, op.unit),
                "fallback": bool(op.details.get("fallback", False)),
                "reason": reason.split(":")[0] if reason else "",
                "detail": reason.partition(": ")[2],
                "macs": op.macs,
                "flops": op.flops,
                "busy_cycles": int(record.op_busy[op.name].get(op.unit, 0)),
                "energy_pj": float(by_op.get(op.name, 0.0)),
            }
        )
    return pd.DataFrame(rows)


def crossings(program: Program, record: Record) -> pd.DataFrame:
    """One row per host-link transfer: source -> destination, bytes, link cycles."""
    import pandas as pd

    rows = []
    for op in program.ops:
        if op.kind != "transfer":
            continue
        source, _, destination = op.name.partition("->")
        rows.append(
            {
                "transfer": op.name,
                "from": source,
                "to": destination,
                "bytes": op.details["link_bytes"],
                "link_cycles": int(record.op_busy[op.name].get(op.unit, 0)),
            }
        )
    return pd.DataFrame(rows, columns=["transfer", "from", "to", "bytes", "link_cycles"])


def boundary_summary(
    partition: pd.DataFrame, links: pd.DataFrame, cycles: int, clock_hz: float, streamed: bool
):
    """Fallback share (ops, FLOPs, busy time) with counts per reason, the host-link traffic, and
    whether weights were streamed from the host; None for a run with neither fallback nor host."""
    fallback = partition[partition.fallback]
    if fallback.empty and links.empty:
        return None
    busy = partition.busy_cycles.sum()
    flops = partition.flops.sum()
    to_host = links[links["to"] == "host"]["bytes"].sum() if not links.empty else 0
    return {
        "places": {p: int(n) for p, n in partition.place.value_counts().sort_index().items()},
        "fallback_ops": int(len(fallback)),
        "fallback_op_share": len(fallback) / len(partition),
        "fallback_flops_share": float(fallback.flops.sum() / flops) if flops else 0.0,
        "fallback_busy_share": float(fallback.busy_cycles.sum() / busy) if busy else 0.0,
        "fallback_seconds": float(fallback.busy_cycles.sum() / clock_hz),
        "fallback_reasons": {r: int(n) for r, n in fallback.reason.value_counts().items()},
        "host_link_transfers": int(len(links)),
        "host_link_bytes": int(links["bytes"].sum()) if not links.empty else 0,
        "host_link_bytes_to_host": int(to_host),
        "host_link_seconds": float(links.link_cycles.sum() / clock_hz) if not links.empty else 0.0,
        "host_link_share_of_run": float(links.link_cycles.sum() / cycles)
        if cycles and not links.empty
        else 0.0,
        "weights_streamed": streamed,
        "streamed_weight_bytes": int(links[links["to"].str.endswith(".weights")]["bytes"].sum())
        if not links.empty
        else 0,
    }


def layer_table(
    ops: pd.DataFrame, partition: pd.DataFrame, machine: Machine, precisions: frozenset[str]
) -> pd.DataFrame:
    """Per layer (conv, FC/gemm, attention): where it ran, its busy time on that unit, its span,
    energy, MAC utilization of that unit while busy (its peak at the run's MAC `precisions`),
    and the bound."""
    import pandas as pd

    layers = ops[ops.kind.isin(["conv2d", "gemm", "attention"])]
    placed = partition.set_index("op")
    rows = []
    for row in layers.itertuples():
        where = placed.loc[row.name]
        unit = machine.components[where.unit]
        peak = unit.peak_macs_per_cycle * unit.fastest_rate(precisions)
        rows.append(
            {
                "layer": row.name,
                "kind": row.kind,
                "unit": where.unit,
                "place": where.place,
                "macs": row.macs,
                "busy_cycles": where.busy_cycles,
                "span_cycles": row.cycles,
                "seconds": where.busy_cycles / machine.clock_hz,
                "energy_pj": row.energy_pj,
                "utilization": row.macs / (where.busy_cycles * peak)
                if peak and where.busy_cycles
                else None,
                "bound": row.bound,
            }
        )
    return pd.DataFrame(rows)
