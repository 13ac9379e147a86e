"""The `accsim` command: run a simulation, list presets, import SCALE-Sim files."""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulator.api import simulate
from simulator.errors import AccsimError, SpecError
from simulator.mapping.search import OBJECTIVES, search_mapping
from simulator.multicore import scaling
from simulator.plots import pareto_scatter, write_figure
from simulator.report import Report
from simulator.spec import list_presets, load_arch, load_mapping, load_workload, split_overrides
from simulator.spec.scalesim import import_scalesim
from simulator.spiking_cli import import_sanafe_command, render_spiking
from simulator.spiking_report import SpikingReport
from simulator.sweep import load_sweep, pareto_front, read_results, run_sweep
from simulator.sweep.results import require_columns
from simulator.sweep.tables import front_table, outcome_table, progress_bar, search_table


def _si(value: float, unit: str) -> str:
    """A value with an SI prefix from tera down to pico, e.g. 4.05 µJ."""
    prefixes = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))
    for factor, prefix in prefixes:
        if abs(value) >= factor:
            return f"{value / factor:,.3g} {prefix}{unit}"
    return f"{value / 1e-12:,.3g} p{unit}" if value else f"0 {unit}"


def _seconds(value: float) -> str:
    for factor, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= factor:
            return f"{value / factor:,.4g} {unit}"
    return f"{value / 1e-9:,.4g} ns"


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def render(report: Report, console: Console) -> None:
    """Print the report as rich tables."""
    s = report.summary
    head = _table(f"{s['arch']} × {s['workload']}  (mapping: {s['mapping']})", ["metric", "value"])
    head.add_row("cycles", f"{s['cycles']:,}")
    head.add_row("time", f"{_seconds(s['seconds'])} at {_si(s['clock_hz'], 'Hz')}")
    head.add_row("MACs", f"{s['macs']:,}")
    head.add_row(
        "MAC utilization",
        f"{s['mac_utilization']:.1%}  (peak {s['peak_macs_per_cycle']:,.0f} MAC/cycle)",
    )
    head.add_row("energy", _si(s["energy_pj"] * 1e-12, "J"))
    head.add_row("area", f"{s['area_mm2']:,.2f} mm²")
    head.add_row("DRAM traffic", _si(s["dram_bytes"], "B"))
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
        head.add_row("numerics", "off (--no-numerics)")
    else:
        verdict = "[green]OK[/]" if s["numerics_ok"] else "[red]MISMATCH[/]"
        coverage = "coverage OK" if s["coverage_ok"] else "[red]coverage WRONG[/]"
        head.add_row(
            "numerics",
            f"{verdict}  max abs err {s['numerics_max_abs_error']:.3g}, "
            f"max rel err {s['numerics_max_rel_error']:.3g}, {coverage}",
        )
    console.print(head)
    if s.get("noc"):
        _render_noc(report, console)
    if s.get("llm"):
        llm = s["llm"]
        view = _table(
            f"{llm['phase']} (batch {llm['batch']}, context {llm['context']}, {llm['layers']} layer(s))",
            ["metric", "value"],
        )
        latency = (
            ("TTFT (hardware part)", llm["ttft_s"])
            if "ttft_s" in llm
            else ("ITL per token", llm["itl_s"])
        )
        view.add_row(latency[0], _seconds(latency[1]))
        view.add_row("tokens/s", f"{llm['tokens_per_s']:,.1f}")
        view.add_row("KV-cache", _si(llm["kv_cache_bytes"], "B"))
        view.add_row("weights", _si(llm["weight_bytes"], "B"))
        for kind, seconds in llm["op_seconds_by_kind"].items():
            view.add_row(f"time in {kind} ops", _seconds(seconds))
        console.print(view)

    if s.get("pim"):
        console.print(_pim_table(s["pim"]))

    stalls = _table("cycles by cause", ["cause", "cycles", "share"])
    stalls.add_row(
        "compute (busy)",
        f"{s['compute_busy_cycles']:,}",
        f"{s['compute_busy_cycles'] / s['cycles']:.1%}",
    )
    for cause, cycles in s["stall_cycles_by_cause"].items():
        stalls.add_row(f"stall: {cause}", f"{cycles:,}", f"{cycles / s['cycles']:.1%}")
    console.print(stalls)

    energy = _table(
        "energy by component and action",
        ["component", "action", "count", "pJ each", "energy", "share"],
    )
    grouped = report.energy.groupby(["component", "action"], sort=False)[
        ["count", "energy_pj"]
    ].sum()
    total = s["energy_pj"] or 1.0
    for (component, action), row in grouped.sort_values("energy_pj", ascending=False).iterrows():
        per = (
            report.machine.components[component].energy_pj(action) if action != "leakage" else None
        )
        energy.add_row(
            component,
            action,
            f"{row['count']:,.0f}",
            f"{per:.3g}" if per is not None else "-",
            _si(row["energy_pj"] * 1e-12, "J"),
            f"{row['energy_pj'] / total:.1%}",
        )
    console.print(energy)

    comps = _table(
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
    for row in report.components.to_dict("records"):
        moved = row["read_bytes"] + row["write_bytes"]
        comps.add_row(
            row["component"],
            row["kind"],
            f"{row['area_mm2']:,.3f}",
            f"{row['utilization']:.1%}",
            _si(moved, "B") if moved else "-",
            f"{row['achieved_gbps']:,.1f}" if moved else "-",
            f"{row['peak_gbps']:,.1f}" if pd.notna(row["peak_gbps"]) else "-",
        )
    console.print(comps)

    ops = _table(
        "operations",
        ["op", "cycles", "bound", "MAC util", "DRAM bytes", "FLOP/B", "energy", "mapping"],
    )
    for row in report.ops.to_dict("records"):
        mapping = _mapping_label(row)
        ops.add_row(
            row["name"],
            f"{row['cycles']:,}",
            row["bound"],
            f"{row['mac_utilization']:.1%}",
            _si(row["dram_bytes"], "B"),
            f"{row['arithmetic_intensity']:,.1f}",
            _si(row["energy_pj"] * 1e-12, "J"),
            mapping,
        )
    console.print(ops)


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
    view = _table("processing in memory", ["metric", "value"])
    view.add_row(
        "ops in memory / digital",
        f"{pim['analog_ops']} analog + {pim['near_memory_ops']} near-memory / {pim['digital_ops']}",
    )
    for side in ("in_memory", "digital"):
        view.add_row(
            f"{side.replace('_', '-')} time, energy",
            f"{_seconds(pim[f'{side}_seconds'])}, {_si(pim[f'{side}_energy_pj'] * 1e-12, 'J')}",
        )
    view.add_row(
        "bytes in-memory → digital / back",
        f"{_si(pim['in_memory_to_digital_bytes'], 'B')} / {_si(pim['digital_to_in_memory_bytes'], 'B')}",
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
            f"{pim['programmed_cells']:,} cells, {_si(pim['program_energy_pj'] * 1e-12, 'J')}, "
            f"{_seconds(pim['program_seconds'])} ({when})",
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
        view.add_row("weights read inside the banks", _si(pim["bank_bytes"], "B"))
    return view


def _is_scalesim_pair(args) -> bool:
    return args.arch.endswith(".cfg") and args.workload.endswith(".csv")


def _run(args, console: Console) -> int:
    routed = split_overrides(args.set + ([f"workload.layers={args.layers}"] if args.layers else []))
    if _is_scalesim_pair(args):
        arch_dict, workload_dict, mapping_dict = import_scalesim(
            Path(args.arch), Path(args.workload)
        )
        arch = load_arch(arch_dict, routed["arch"])
        workload = load_workload(workload_dict, routed["workload"])
        mapping = load_mapping(args.mapping or mapping_dict, routed["mapping"])
    else:
        arch = load_arch(args.arch, routed["arch"])
        workload = load_workload(args.workload, routed["workload"])
        mapping = load_mapping(args.mapping, routed["mapping"])
    report = simulate(
        arch,
        workload,
        mapping,
        numerics=not args.no_numerics,
        seed=args.seed,
        trace=bool(args.trace),
    )
    if args.trace:
        Path(args.trace).write_text(json.dumps(report.chrome_trace()))
    if args.json:
        print(json.dumps(report.summary, indent=2, default=str))
    else:
        (render_spiking if isinstance(report, SpikingReport) else render)(report, console)
        if args.trace:
            console.print(f"trace written to {args.trace} (open it in https://ui.perfetto.dev)")
    return 0 if report.summary["numerics_ok"] in (True, None) else 1


def _import_scalesim(args, console: Console) -> int:
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    specs = import_scalesim(Path(args.config), Path(args.topology))
    for kind, spec in zip(("arch", "workload", "mapping"), specs):
        path = out / f"{kind}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        console.print(f"wrote {path}")
    console.print(
        f"run it with: accsim run {out / 'arch.yaml'} {out / 'workload.yaml'} -m {out / 'mapping.yaml'}"
    )
    return 0


def _render_noc(report: Report, console: Console) -> None:
    """Multi-core runs: the NoC headline, the busiest links and time per core."""
    noc = report.summary["noc"]
    head = _table(
        f"NoC ({noc['topology']}, {noc['nodes']} nodes, {noc['cores']} cores)", ["metric", "value"]
    )
    head.add_row("bytes over links (x hops)", _si(noc["link_bytes"], "B"))
    head.add_row("core-to-core bytes", _si(noc["core_to_core_bytes"], "B"))
    if noc["hottest_link"]:
        head.add_row(
            "hottest link", f"{noc['hottest_link']} ({noc['hottest_link_utilization']:.1%} busy)"
        )
    head.add_row(
        "hops (bytes)",
        ", ".join(f"{h}: {_si(b, 'B')}" for h, b in noc["hop_histogram_bytes"].items()),
    )
    head.add_row("NoC energy", _si(noc["noc_energy_pj"] * 1e-12, "J"))
    head.add_row(
        "compute share / NoC sync share",
        f"{noc['compute_share']:.1%} / {noc['sync_wait_share']:.1%}",
    )
    head.add_row("load imbalance (max / mean core busy)", f"{noc['load_imbalance']:.2f}")
    console.print(head)
    cores = _table(
        "time per core (cycles)",
        ["core", "compute", "util", "memory wait", "NoC sync wait", "idle"],
    )
    for row in report.cores.to_dict("records"):
        cores.add_row(
            str(row["core"]),
            f"{row['compute_cycles']:,}",
            f"{row['utilization']:.1%}",
            f"{row['memory_wait_cycles']:,}",
            f"{row['sync_wait_cycles']:,}",
            f"{row['idle_cycles']:,}",
        )
    console.print(cores)


def _scale(args, console: Console) -> int:
    routed = split_overrides(args.set)
    arch = load_arch(args.arch, routed["arch"])
    workload = load_workload(args.workload, routed["workload"])
    mapping = load_mapping(args.mapping, routed["mapping"])
    counts = [int(c) for c in args.cores.split(",")]
    limit = arch.cores.count if arch.cores else 1
    if max(counts) > limit:
        raise SpecError(f"--cores {args.cores}: {arch.name} has {limit} core(s)")
    table = scaling(arch, workload, mapping, counts)
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return 0
    out = _table(
        f"strong scaling of {workload.name} on {arch.name}",
        ["cores", "time", "S(n)", "E(n)", "MAC util", "DRAM", "energy"],
    )
    for row in table.to_dict("records"):
        out.add_row(
            str(row["cores"]),
            _seconds(row["seconds"]),
            f"{row['speedup']:.2f}",
            f"{row['efficiency']:.2f}",
            f"{row['mac_utilization']:.1%}",
            _si(row["dram_bytes"], "B"),
            _si(row["energy_pj"] * 1e-12, "J"),
        )
    console.print(out)
    return 0


def _list(args, console: Console) -> int:
    for kind in ("arch", "workload", "mapping"):
        table = _table(f"{kind} presets", ["name", "description"])
        for name in list_presets(kind):
            loader = {"arch": load_arch, "workload": load_workload, "mapping": load_mapping}[kind]
            table.add_row(name, loader(name).description)
        console.print(table)
    return 0


def _sweep(args, console: Console) -> int:
    sweep = load_sweep(args.sweep)
    scheduler = args.scheduler or ("local" if args.dask else None)
    try:
        with progress_bar(console, sweep.spec.name) as progress:
            outcome = run_sweep(
                sweep,
                args.output,
                jobs=args.jobs,
                scheduler=scheduler,
                limit=args.limit,
                progress=progress,
            )
    except KeyboardInterrupt:
        console.print(f"interrupted: finished points are in {args.output}; rerun to continue")
        return 130
    console.print(outcome_table(outcome))
    if sweep.spec.objectives:
        console.print(front_table(outcome.results, sweep.spec.objectives))
    return 0


def _map(args, console: Console) -> int:
    routed = split_overrides(args.set)
    arch = load_arch(args.arch, routed["arch"])
    workload = load_workload(args.workload, routed["workload"])
    result = search_mapping(arch, workload, args.objective, args.top)
    console.print(search_table(result))
    if result.best.mapping:
        console.print(
            f"best: {result.best.label}, {result.improvement:.3f}x better {result.objective} than auto"
        )
    else:
        console.print(f"auto is the best mapping found for {result.objective}")
    if args.output:
        path = result.write(args.output)
        console.print(f"wrote {path} (use it with: accsim run ... --mapping {path})")
    return 0


def _plot(args, console: Console) -> int:
    results = read_results(args.results)
    require_columns(results, [args.x, args.y, *([args.color] if args.color else [])], args.results)
    front = None
    if args.pareto:
        directions = {c: "max" if c in args.maximize else "min" for c in (args.x, args.y)}
        front = pareto_front(results[results["status"] == "ok"], directions)
    figure = pareto_scatter(results, args.x, args.y, front=front, color=args.color)
    console.print(f"wrote {write_figure(figure, args.output)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accsim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="simulate a workload on an architecture")
    run.add_argument("arch", help="arch preset name or YAML path (or a SCALE-Sim .cfg)")
    run.add_argument(
        "workload",
        help="workload preset, YAML path, inline 'gemm:M=..,N=..,K=..,dtype=int8' "
        "(or a SCALE-Sim topology .csv)",
    )
    run.add_argument(
        "-m", "--mapping", default=None, help="mapping preset or YAML path (default: auto)"
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a value: components.mxu.rows=64, workload.ops.0.M=512, mapping.dataflow=os",
    )
    run.add_argument(
        "--layers", type=int, metavar="N", help="transformer workloads: simulate N layers"
    )
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument(
        "--trace", metavar="FILE", help="write a Chrome/Perfetto trace of DMA and compute tiles"
    )
    run.add_argument(
        "--no-numerics", action="store_true", help="timing only: skip the tile kernels"
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the random operands (default 0)")
    run.set_defaults(handler=_run)
    imported = commands.add_parser(
        "import-scalesim", help="convert SCALE-Sim .cfg + topology .csv to YAML"
    )
    imported.add_argument("config", help="SCALE-Sim config (.cfg)")
    imported.add_argument("topology", help="SCALE-Sim topology (.csv, GEMM or conv rows)")
    imported.add_argument(
        "-o", "--output", required=True, help="folder for arch.yaml, workload.yaml, mapping.yaml"
    )
    imported.set_defaults(handler=_import_scalesim)
    sanafe = commands.add_parser(
        "import-sanafe", help="convert SANA-FE 2.x architecture + SNN files to accsim YAML"
    )
    sanafe.add_argument("arch", help="SANA-FE architecture (.yaml)")
    sanafe.add_argument("snn", help="SANA-FE mapped SNN (.yaml)")
    sanafe.add_argument(
        "-o", "--output", required=True, help="folder for arch, workload, network.npz"
    )
    sanafe.add_argument(
        "--steps", type=int, default=100, help="time steps to simulate (default 100)"
    )
    sanafe.set_defaults(handler=import_sanafe_command)
    scale = commands.add_parser(
        "scale", help="strong scaling S(n), E(n) over core counts of a multi-core arch"
    )
    scale.add_argument("arch", help="multi-core arch preset or YAML path")
    scale.add_argument("workload", help="workload preset, YAML path or inline spec")
    scale.add_argument(
        "-m", "--mapping", default=None, help="mapping preset or YAML path (default: auto)"
    )
    scale.add_argument(
        "--cores", default="1,2,4,8,16", help="comma-separated core counts (default 1,2,4,8,16)"
    )
    scale.add_argument(
        "--set", action="append", default=[], metavar="PATH=VALUE", help="override a value"
    )
    scale.add_argument("--json", action="store_true", help="print the table as JSON")
    scale.set_defaults(handler=_scale)
    listing = commands.add_parser("list", help="list the shipped presets")
    listing.set_defaults(handler=_list)
    sweep = commands.add_parser("sweep", help="run a design-space sweep (resumable)")
    sweep.add_argument("sweep", help="sweep YAML path or shipped sweep name")
    sweep.add_argument("-o", "--output", required=True, help="results file (.parquet or .csv)")
    sweep.add_argument(
        "-j", "--jobs", type=int, default=None, help="worker processes (default: CPUs)"
    )
    sweep.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    sweep.add_argument("--dask", action="store_true", help="run on a local Dask cluster")
    sweep.add_argument("--limit", type=int, default=None, help="run at most this many new points")
    sweep.set_defaults(handler=_sweep)
    mapper = commands.add_parser("map", help="search mappings; write the best as a mapping YAML")
    mapper.add_argument("arch", help="arch preset name or YAML path")
    mapper.add_argument(
        "workload", help="workload preset, YAML path or inline 'gemm:M=..,N=..,K=..'"
    )
    mapper.add_argument("--objective", choices=list(OBJECTIVES), default="edp")
    mapper.add_argument("--top", type=int, default=5, help="candidates to confirm by simulation")
    mapper.add_argument("-o", "--output", help="write the best mapping here (YAML)")
    mapper.add_argument(
        "--set", action="append", default=[], metavar="PATH=VALUE", help="override, as for run"
    )
    mapper.set_defaults(handler=_map)
    plot = commands.add_parser("plot", help="scatter two columns of sweep results")
    plot.add_argument("results", help="sweep results (.parquet or .csv)")
    plot.add_argument("--x", required=True, help="column on the x axis, e.g. area_mm2")
    plot.add_argument("--y", required=True, help="column on the y axis, e.g. energy_pj")
    plot.add_argument("--color", help="column that colours the points")
    plot.add_argument("--pareto", action="store_true", help="highlight the Pareto front")
    plot.add_argument(
        "--maximize", action="append", default=[], metavar="COLUMN", help="axis to maximize"
    )
    plot.add_argument("-o", "--output", required=True, help=".html (or .png with kaleido)")
    plot.set_defaults(handler=_plot)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `accsim` console script."""
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return args.handler(args, console)
    except AccsimError as error:
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
