"""Rich tables for a SpikingReport: the `accsim run` view of a spiking inference."""

from rich.console import Console
from rich.table import Table
from rich.text import Text

from simulator.cli.format import table
from simulator.report.spiking import CATEGORIES, SpikingReport
from simulator.report.view import si

_CATEGORY_LABELS = {
    "synaptic_ops": "synaptic ops",
    "neuron_updates": "neuron updates (active) and spikes",
    "neuron_idle": "neuron updates (idle, every neuron every step)",
    "spike_traffic_intra_core": "spike traffic within a core",
    "spike_traffic_inter_core": "spike traffic between cores (packets + hops)",
    "static": "static power x time",
}


def _head(report: SpikingReport) -> Table:
    s = report.summary
    head = table(f"{s['arch']} × {s['workload']}  ({s['mapping']})", ["metric", "value"])
    head.add_row("time steps", f"{s['time_steps']:,}")
    head.add_row(
        "wall latency",
        f"{si(s['seconds'], 's')} ({s['cycles']:,} cycles at {si(s['clock_hz'], 'Hz')}), "
        f"{si(s['step_seconds_mean'], 's')} per step",
    )
    head.add_row("spikes", f"{s['spikes']:,} ({s['input_spikes']:,} from the input)")
    head.add_row("synaptic ops", f"{s['synaptic_ops']:,}")
    head.add_row(
        "neuron updates", f"{s['neuron_updates']:,} active of {s['neurons'] * s['time_steps']:,}"
    )
    head.add_row(
        "spike packets",
        f"{s['packets']:,}: {s['packets_intra_core']:,} within a core, "
        f"{s['packets_inter_core']:,} between cores, {s['hops']:,} hops",
    )
    head.add_row(
        "energy per inference",
        f"{si(s['energy_pj'] * 1e-12, 'J')}"
        + (
            f" ({s['energy_per_synaptic_op_pj']:.3g} pJ per synaptic op)"
            if s["energy_per_synaptic_op_pj"]
            else ""
        ),
    )
    head.add_row(
        "cores",
        f"{s['cores_used']:,} in use on {s['nodes_used']:,} NoC nodes; utilization mean "
        f"{s['core_utilization_mean']:.1%}, max {s['core_utilization_max']:.1%}",
    )
    head.add_row(
        "routers (links)",
        f"utilization mean {s['router_utilization_mean']:.1%}, max {s['router_utilization_max']:.1%}",
    )
    head.add_row("area", f"{s['area_mm2']:,.2f} mm²")
    if s["numerics_ok"] is None:
        head.add_row("numerics", "off (--no-numerics)")
    else:
        verdict = (
            "[green]identical[/]"
            if s["spike_trains_match"]
            else f"[red]MISMATCH[/] ({s['spike_mismatches']:,} neuron-steps differ)"
        )
        head.add_row(
            "spike trains vs float64 reference",
            Text.from_markup(f"{verdict} ({s['spikes']:,} spikes)"),
        )
        if s["ann_agreement"] is not None:
            head.add_row(
                "agreement with the source ANN",
                f"{s['ann_agreement']:.1%} of {s['ann_agreement_samples']:,} test inputs "
                f"(accuracy: ANN {s['ann_accuracy']:.1%}, SNN {s['snn_accuracy']:.1%}); "
                f"this input: SNN class {s['predicted_class']}, ANN class {s['ann_class']}",
            )
    return head


def render_spiking(report: SpikingReport, console: Console) -> None:
    """Print the spiking report as rich tables."""
    console.print(_head(report))
    total = report.summary["energy_pj"] or 1.0
    categories = table("energy per inference by category", ["category", "energy", "share"])
    for name in CATEGORIES:
        value = report.energy_by_category[name]
        categories.add_row(_CATEGORY_LABELS[name], si(value * 1e-12, "J"), f"{value / total:.1%}")
    console.print(categories)
    actions = table(
        "energy by action (all cores)", ["action", "count", "pJ each", "energy", "share"]
    )
    grouped = report.energy.groupby("action", sort=False).agg(
        count=("count", "sum"), per=("pj_per_count", "first"), energy=("energy_pj", "sum")
    )
    for action, row in grouped.sort_values("energy", ascending=False).iterrows():
        per = "-" if action == "leakage" else f"{row['per']:.3g}"
        actions.add_row(
            action,
            f"{row['count']:,.0f}",
            per,
            si(row["energy"] * 1e-12, "J"),
            f"{row['energy'] / total:.1%}",
        )
    console.print(actions)
    groups = table(
        "neuron groups",
        ["group", "neurons", "spikes", "spikes/neuron/step", "synaptic ops", "cores"],
    )
    for row in report.ops.to_dict("records"):
        groups.add_row(
            row["name"],
            f"{row['neurons']:,}",
            f"{row['spikes']:,}",
            f"{row['rate']:.3f}",
            f"{row['synaptic_ops']:,}",
            f"{row['cores']:,}",
        )
    console.print(groups)
    traffic = table(
        "spike traffic of these spikes by placement",
        [
            "placement",
            "cores",
            "packets in core",
            "packets between cores",
            "hops",
            "traffic energy",
        ],
    )
    for row in report.placements.to_dict("records"):
        if isinstance(row.get("error"), str):
            traffic.add_row(row["placement"], "-", "-", "-", "-", row["error"])
            continue
        traffic.add_row(
            row["placement"],
            f"{row['cores_used']:,}",
            f"{row['packets_intra_core']:,}",
            f"{row['packets_inter_core']:,}",
            f"{row['hops']:,}",
            si(row["traffic_energy_pj"] * 1e-12, "J"),
        )
    console.print(traffic)
    cores = report.cores.sort_values("busy_cycles", ascending=False).head(8)
    busiest = table(
        f"busiest cores (of {len(report.cores):,} in use)",
        ["core", "node", "neurons", "synapses", "input axons", "utilization", "energy"],
    )
    for row in cores.to_dict("records"):
        busiest.add_row(
            str(row["core"]),
            str(row["node"]),
            f"{row['neurons']:,}",
            f"{row['synapses']:,}",
            f"{row['axons_in']:,}",
            f"{row['utilization']:.1%}",
            si(row["energy_pj"] * 1e-12, "J"),
        )
    console.print(busiest)
