"""The partition-map view of `accsim run`: per-layer table, where each op ran, what crossed."""

import pandas as pd
from rich.console import Console

from simulator.cli.format import table
from simulator.report import Report
from simulator.report.view import seconds, si


def render_partition(report: Report, console: Console) -> None:
    """Per-layer table and, with a host or a fallback, the partition map and boundary traffic."""
    layers = table(
        "layers (conv / FC / attention)",
        ["layer", "kind", "unit", "MACs", "busy", "energy", "util", "bound"],
    )
    for row in report.layers.itertuples():
        util = "-" if pd.isna(row.utilization) else f"{row.utilization:.1%}"
        layers.add_row(
            row.layer,
            row.kind,
            row.unit,
            f"{row.macs:,}",
            seconds(row.seconds),
            si(row.energy_pj * 1e-12, "J"),
            util,
            row.bound,
        )
    console.print(layers)
    boundary = report.boundary
    if boundary is None:
        return
    places = table("partition map", ["place", "ops", "fallback ops", "reasons"])
    part = report.partition
    for place, group in part.groupby("place"):
        reasons = group[group.fallback].reason.value_counts()
        places.add_row(
            place,
            str(len(group)),
            str(int(group.fallback.sum())),
            ", ".join(f"{r} x{n}" for r, n in reasons.items()) or "-",
        )
    console.print(places)
    share = table("fallback and host link", ["metric", "value"])
    share.add_row(
        "fallback share",
        f"{boundary['fallback_ops']} ops ({boundary['fallback_op_share']:.1%}), "
        f"{boundary['fallback_flops_share']:.1%} of FLOPs, "
        f"{boundary['fallback_busy_share']:.1%} of busy time",
    )
    share.add_row(
        "host link",
        f"{boundary['host_link_transfers']} transfers, {si(boundary['host_link_bytes'], 'B')}, "
        f"{seconds(boundary['host_link_seconds'])} "
        f"({boundary['host_link_share_of_run']:.1%} of the run)",
    )
    if boundary["weights_streamed"]:
        share.add_row(
            "weights streamed",
            f"{si(boundary['streamed_weight_bytes'], 'B')} from the host (the model exceeds device memory)",
        )
    console.print(share)
