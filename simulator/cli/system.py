"""Rich tables for a SystemReport: the `accsim run` view of a run on a system of chips."""

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from simulator.cli.format import table
from simulator.report.system import SystemReport
from simulator.report.view import seconds, si


def render_system(report: SystemReport, console: Console) -> None:
    """The system's headline numbers, then one row per op with its chip span and all-reduce."""
    s = report.summary
    head = table(f"{s['arch']} × {s['workload']}  (mapping: {s['mapping']})", ["metric", "value"])
    head.add_row(
        "chips",
        f"{s['chips']} × {s['chip']}: tensor-parallel {s['tensor_parallel']}, "
        f"{s['pipeline_stages']} pipeline stage(s), {s['micro_batches']} micro-batch(es)",
    )
    head.add_row("time", seconds(s["seconds"]))
    per = " per micro-batch" if s["micro_batches"] > 1 else ""
    head.add_row(f"  one chip's share{per}", seconds(s["chip_seconds"]))
    head.add_row(f"  all-reduces on the links{per}", seconds(s["all_reduce_seconds"]))
    if s["pipeline_stages"] > 1:
        head.add_row(f"  pipeline hops{per}", seconds(s["pipeline_hop_seconds"]))
        head.add_row("  pipeline bubble", f"{s['pipeline_bubble']:.1%} of the stages' time")
    head.add_row("MACs", f"{s['macs']:,}")
    head.add_row("MAC utilization", f"{s['mac_utilization']:.1%} of all chips' peak")
    head.add_row("energy", si(s["energy_pj"] * 1e-12, "J"))
    head.add_row("link traffic", si(s["link_bytes"], "B"))
    if s["numerics_ok"] is None:
        verdict = "off (--numerics off)"
    elif s["numerics_ok"]:
        verdict = Text.from_markup("[green]OK[/] (the chip's tile kernels and every all-reduce)")
    else:
        verdict = Text.from_markup(f"[red]MISMATCH[/] in {escape(', '.join(s['numerics_failed']))}")
    head.add_row("numerics", verdict)
    console.print(head)
    ops = table(
        "ops (one chip's share; all-reduce over the group)",
        ["op", "stage", "chip", "all-reduce", "bound"],
    )
    for row in s["ops"]:
        reduce = seconds(row["all_reduce_seconds"]) if row["all_reduce_seconds"] else ""
        ops.add_row(
            row["name"], str(row["stage"]), seconds(row["chip_seconds"]), reduce, row["bound"]
        )
    console.print(ops)
