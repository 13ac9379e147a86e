"""Rich tables for a Report: the `accsim run` view of one simulation (single- or multi-core)."""

import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from simulator.cli.fold import fold_components, fold_core_times, fold_grouped, fold_ops
from simulator.cli.format import table
from simulator.report import Report
from simulator.report.view import seconds, si

_CORE_TIMES = (
    "compute_cycles",
    "utilization",
    "memory_wait_cycles",
    "sync_wait_cycles",
    "idle_cycles",
)


def render(report: Report, console: Console, per_core: bool = False) -> None:
    """Print the report as rich tables; a many-core chip's per-core rows folded into one row per
    part and per op unless `per_core` (`accsim run --per-core`)."""
    s = report.summary
    head = table(f"{s['arch']} × {s['workload']}  (mapping: {s['mapping']})", ["metric", "value"])
    head.add_row("cycles", f"{s['cycles']:,}")
    head.add_row("time", f"{seconds(s['seconds'])} at {si(s['clock_hz'], 'Hz')}")
    head.add_row("MACs", f"{s['macs']:,}")
    head.add_row(
        "MAC utilization",
        f"{s['mac_utilization']:.1%}  (peak {s['peak_macs_per_cycle']:,.0f} MAC/cycle)",
    )
    head.add_row("energy", si(s["energy_pj"] * 1e-12, "J"))
    head.add_row("area", f"{s['area_mm2']:,.2f} mm²")
    head.add_row("DRAM traffic", si(s["dram_bytes"], "B"))
    head.add_row(
        "DRAM bandwidth",
        f"{s['dram_bandwidth_gbps']:,.1f} GB/s achieved of {s['dram_peak_bandwidth_gbps']:,.1f} peak",
    )
    head.add_row(
        "arithmetic intensity",
        f"{s['arithmetic_intensity']:,.1f} FLOP/B (ridge {s['ridge_point']:,.1f})",
    )
    head.add_row("roofline", f"{s['roofline_bound']}-bound, ≥ {s['roofline_cycles']:,.0f} cycles")
    if s["numerics_ok"] is None:
        head.add_row("numerics", "off (--numerics off)")
    else:
        verdict = "[green]OK[/]" if s["numerics_ok"] else "[red]MISMATCH[/]"
        coverage = "coverage OK" if s["coverage_ok"] else "[red]coverage WRONG[/]"
        sampled = [
            how for how in (s.get("numerics_checked") or {}).values() if how != "all outputs"
        ]
        head.add_row(
            "numerics",
            Text.from_markup(
                f"{verdict}  max abs err {s['numerics_max_abs_error']:.3g}, "
                f"max rel err {s['numerics_max_rel_error']:.3g}, {coverage}"
                + (f"; {escape('; '.join(sampled))}" if sampled else "")
            ),
        )
    console.print(head)
    if s["numerics_failed"]:
        _render_mismatches(report, console)
    if s.get("noc"):
        _render_noc(report, console, per_core)
    if s.get("llm"):
        llm = s["llm"]
        view = table(
            f"{llm['phase']} (batch {llm['batch']}, context {llm['context']}, {llm['layers']} layer(s))",
            ["metric", "value"],
        )
        latency = (
            ("TTFT (hardware part)", llm["ttft_s"])
            if "ttft_s" in llm
            else ("ITL per token", llm["itl_s"])
        )
        view.add_row(latency[0], seconds(latency[1]))
        view.add_row("tokens/s", f"{llm['tokens_per_s']:,.1f}")
        view.add_row("KV-cache", si(llm["kv_cache_bytes"], "B"))
        view.add_row("weights", si(llm["weight_bytes"], "B"))
        for kind, spent in llm["op_seconds_by_kind"].items():
            view.add_row(f"time in {kind} ops", seconds(spent))
        console.print(view)

    if s.get("pim"):
        console.print(_pim_table(s["pim"]))

    stalls = table("cycles by cause", ["cause", "cycles", "share"])
    stalls.add_row(
        "compute (busy)",
        f"{s['compute_busy_cycles']:,}",
        f"{s['compute_busy_cycles'] / s['cycles']:.1%}",
    )
    for cause, cycles in s["stall_cycles_by_cause"].items():
        stalls.add_row(f"stall: {cause}", f"{cycles:,}", f"{cycles / s['cycles']:.1%}")
    console.print(stalls)

    energy = table(
        "energy by component, part and action",
        ["component", "part", "action", "count", "pJ each", "energy", "share"],
    )
    total = s["energy_pj"] or 1.0
    per_time = (
        "leakage",
        "background",
        "link_idle",
        "clock",
    )  # counts are seconds or pJ, not events
    rows = report.energy_by_action()
    if not per_core:
        rows = sorted(fold_grouped(rows, 3), key=lambda row: -row[4])
    for component, part, action, count, energy_pj in rows:
        per = energy_pj / count if count and action not in per_time else None
        energy.add_row(
            component,
            part,
            action,
            f"{count:,.0f}",
            f"{per:.3g}" if per is not None else "-",
            si(energy_pj * 1e-12, "J"),
            f"{energy_pj / total:.1%}",
        )
    console.print(energy)
    console.print(_power_table(s["power"]))
    if report.level_groups():
        console.print(_levels_table(report, per_core))

    comps = table(
        "components",
        [
            "component",
            "kind",
            "area mm²",
            "utilization",
            "bytes moved",
            "achieved GB/s",
            "peak GB/s",
        ],
    )
    components = report.component_rows()
    for row in components if per_core else fold_components(components):
        moved = row["read_bytes"] + row["write_bytes"]
        comps.add_row(
            row["component"],
            row["kind"],
            f"{row['area_mm2']:,.3f}",
            f"{row['utilization']:.1%}",
            si(moved, "B") if moved else "-",
            f"{row['achieved_gbps']:,.1f}" if moved else "-",
            f"{row['peak_gbps']:,.1f}" if row["peak_gbps"] is not None else "-",
        )
    console.print(comps)

    ops = table(
        "operations",
        ["op", "cycles", "bound", "MAC util", "DRAM bytes", "FLOP/B", "energy", "mapping"],
    )
    op_rows = report.op_rows()
    if per_core:
        op_rows = [{**row, "mapping": _mapping_label(row)} for row in op_rows]
    else:
        groups = {op.name: op.group or op.name for op in report.program.ops}
        op_rows = fold_ops(s["ops"], op_rows, groups, _mapping_label)
    for row in op_rows:
        ops.add_row(
            row["name"],
            f"{row['cycles']:,}",
            row["bound"],
            f"{row['mac_utilization']:.1%}",
            si(row["dram_bytes"], "B"),
            f"{row['arithmetic_intensity']:,.1f}",
            si(row["energy_pj"] * 1e-12, "J"),
            row["mapping"],
        )
    console.print(ops)
    if report.boundary or any(row["kind"] == "conv2d" for row in report.op_rows()):
        from simulator.cli.partition import render_partition  # pandas: the layer table

        render_partition(report, console)


def _levels_table(report: Report, per_core: bool) -> Table:
    """Energy by storage level, operand and action (Timeloop's read / update / drain / fill),
    every core's levels folded into one unless `per_core`."""
    view = table(
        "energy by level, operand and action",
        ["level", "operand", "action", "elements", "accesses", "energy", "share"],
    )
    total = report.summary["energy_pj"] or 1.0
    rows = report.level_groups()
    for level, operand, action, elements, accesses, energy_pj in (
        rows if per_core else fold_grouped(rows, 3)
    ):
        view.add_row(
            level,
            operand,
            action,
            f"{elements:,.0f}",
            f"{accesses:,.0f}" if accesses == accesses else "-",  # NaN: DRAM has no access width
            si(energy_pj * 1e-12, "J"),
            f"{energy_pj / total:.1%}",
        )
    return view


def _mapping_label(row: dict) -> str:
    """A GEMM's dataflow, tile and loop order; other ops (no tile) show their algorithm or unit."""
    if isinstance(row.get("map_tile"), str):
        tile = "x".join(f"{d}{n}" for d, n in json.loads(row["map_tile"]).items())
        return f"{row['map_dataflow']} {tile} {row['map_loop_order']}"
    for key in ("map_algorithm", "map_unit"):
        if isinstance(row.get(key), str):
            return row[key]
    return "-"


def _pim_table(pim: dict) -> Table:
    """The in-memory / digital partition, crossbar use and programming, ADC shares, crossbar error."""
    view = table("processing in memory", ["metric", "value"])
    view.add_row(
        "ops in memory / digital",
        f"{pim['analog_ops']} analog + {pim['near_memory_ops']} near-memory / {pim['digital_ops']}",
    )
    for side in ("in_memory", "digital"):
        view.add_row(
            f"{side.replace('_', '-')} time, energy",
            f"{seconds(pim[f'{side}_seconds'])}, {si(pim[f'{side}_energy_pj'] * 1e-12, 'J')}",
        )
    view.add_row(
        "bytes in-memory → digital / back",
        f"{si(pim['in_memory_to_digital_bytes'], 'B')} / {si(pim['digital_to_in_memory_bytes'], 'B')}",
    )
    if "crossbars" in pim:
        view.add_row(
            "crossbars used",
            f"{pim['crossbars_used']:,} of {pim['crossbars']:,}, {pim['replication']} copies max, "
            f"{pim['crossbar_utilization']:.1%} of their cells hold weights",
        )
        when = "before the run" if pim["weights_resident"] else "[yellow]during the run[/]"
        view.add_row(
            "weight programming",
            Text.from_markup(
                f"{pim['programmed_cells']:,} cells, {si(pim['program_energy_pj'] * 1e-12, 'J')}, "
                f"{seconds(pim['program_seconds'])} ({when})"
            ),
        )
        view.add_row(
            "ADC",
            f"{pim['adc_bits']} bits ({pim['lossless_adc_bits']} lossless), "
            f"{pim['adc_energy_share']:.0%} of crossbar energy, {pim['adc_area_share']:.0%} of area",
        )
    if "rms_rel_error" in pim:
        snr = "exact" if pim["snr_db"] is None else f"SNR {pim['snr_db']:.1f} dB"
        view.add_row(
            "crossbar error",
            f"RMS {pim['rms_rel_error']:.3g} of signal ({snr}); "
            f"ADC noise estimate {pim['predicted_rms_error']:.3g} vs RMS {pim['rms_error']:.3g}",
        )
    if "bank_bytes" in pim:
        view.add_row("weights read inside the banks", si(pim["bank_bytes"], "B"))
    return view


def _render_noc(report: Report, console: Console, per_core: bool) -> None:
    """Multi-core runs: the NoC headline, the busiest links and time per core (cores with equal
    times share a row; past 16 such runs, their min, mean and max, unless `per_core`)."""
    noc = report.summary["noc"]
    head = table(
        f"NoC ({noc['topology']}, {noc['nodes']} nodes, {noc['cores']} cores)", ["metric", "value"]
    )
    head.add_row("bytes over links (x hops)", si(noc["link_bytes"], "B"))
    head.add_row("core-to-core bytes", si(noc["core_to_core_bytes"], "B"))
    if noc["hottest_link"]:
        head.add_row(
            "hottest link", f"{noc['hottest_link']} ({noc['hottest_link_utilization']:.1%} busy)"
        )
    head.add_row(
        "hops (bytes)",
        ", ".join(f"{h}: {si(b, 'B')}" for h, b in noc["hop_histogram_bytes"].items()),
    )
    head.add_row("NoC energy", si(noc["noc_energy_pj"] * 1e-12, "J"))
    head.add_row(
        "compute share / NoC sync share",
        f"{noc['compute_share']:.1%} / {noc['sync_wait_share']:.1%}",
    )
    head.add_row("load imbalance (max / mean core busy)", f"{noc['load_imbalance']:.2f}")
    console.print(head)
    cores = table(
        "time per core (cycles)",
        ["core", "compute", "util", "memory wait", "NoC sync wait", "idle"],
    )
    rows = report.cores.to_dict("records")
    if per_core:
        named = [(str(row["core"]), row) for row in rows]
    else:
        named = fold_core_times(rows, _CORE_TIMES, most=16)
    for name, row in named:
        cores.add_row(
            name,
            f"{row['compute_cycles']:,.0f}",
            f"{row['utilization']:.1%}",
            f"{row['memory_wait_cycles']:,.0f}",
            f"{row['sync_wait_cycles']:,.0f}",
            f"{row['idle_cycles']:,.0f}",
        )
    console.print(cores)


def _render_mismatches(report: Report, console: Console) -> None:
    """The ops whose numerics failed, with their errors and bounds (the first 20)."""
    failed = [row for row in report.numerics_table() if not row["ok"]]
    out = table(
        f"numerics mismatches ({len(failed)} of {len(report.numerics)} ops)",
        ["op", "max abs err", "max rel err", "bound", "coverage"],
    )
    for row in failed[:20]:
        out.add_row(
            row["op"],
            f"{row['max_abs_error']:.3g}",
            f"{row['max_rel_error']:.3g}",
            f"{row['error_bound']:.3g}",
            row["coverage"],
        )
    console.print(out)


def _power_table(power: dict) -> Table:
    """Average, peak and idle power, die area and the efficiency numbers (report/power.py)."""
    view = table("power and area", ["metric", "value"])
    view.add_row("average power", si(power["power_w"], "W"))
    view.add_row("  on the die", si(power["die_power_w"], "W"))
    view.add_row("  DRAM (accesses and devices)", si(power["dram_power_w"], "W"))
    view.add_row("peak power (timeline)", si(power["peak_power_w"], "W"))
    view.add_row("idle (static) power", si(power["idle_power_w"], "W"))
    view.add_row("die area", f"{power['die_area_mm2']:,.2f} mm²")
    view.add_row("achieved TOPS", f"{power['achieved_tops']:,.3g}")
    view.add_row("TOPS/W", f"{power['tops_per_w']:,.3g}")
    view.add_row("peak TOPS/mm²", f"{power['peak_tops_per_mm2']:,.3g}")
    view.add_row("EDP", f"{power['edp_js']:.3g} J·s")
    if "energy_per_token_j" in power:
        view.add_row("energy per token", si(power["energy_per_token_j"], "J"))
    if power["tdp_w"]:
        view.add_row("power cap (tdp)", si(power["tdp_w"], "W"))
    if power["throttled"]:
        t = power["throttled"]
        view.add_row("throttled to", f"{t['clock_hz'] / 1e6:,.0f} MHz at {t['voltage']:.3g} V")
    return view
