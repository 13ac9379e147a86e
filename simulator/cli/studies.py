"""`accsim sweep`, `accsim map`, `accsim plot` and `accsim scale`: studies above single runs."""

import warnings

from rich.console import Console
from rich.markup import escape

from simulator.cli.format import table
from simulator.cli.paths import limits_from, output_file
from simulator.errors import SpecError
from simulator.report.progress import ProgressBar
from simulator.report.view import seconds, si
from simulator.spec import load_arch, load_mapping, load_workload, split_overrides
from simulator.spec.system import one_chip
from simulator.spec.units import parse_quantity
from simulator.sweep import load_sweep, pareto_front, read_results, run_sweep
from simulator.sweep.calibrate import EFFICIENCIES, fit, read_measurements, simulated_times
from simulator.sweep.results import require_columns
from simulator.sweep.scaling import scaling
from simulator.sweep.search import search_mapping
from simulator.sweep.tables import front_table, outcome_table, progress_bar, search_table


def sweep_command(args, console: Console) -> int:
    """`accsim sweep SWEEP -o OUT`: run (or resume) a design-space sweep."""
    if args.dask and args.scheduler:  # the scheduler's cluster ran, --dask's local one never
        raise SpecError(
            "--dask, --scheduler: two clusters (a local one, one at an address); give one"
        )
    sweep = load_sweep(args.sweep, args.max_points)
    scheduler = args.scheduler or ("local" if args.dask else None)
    try:
        with (
            progress_bar(console, sweep.spec.name) as progress,
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
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
    for message in dict.fromkeys(str(w.message) for w in caught):
        Console(stderr=True, emoji=False).print(
            f"[yellow]warning:[/] {escape(message)}", highlight=False
        )
    console.print(outcome_table(outcome))
    if sweep.spec.objectives:
        console.print(front_table(outcome.results, sweep.spec.objectives))
    return _failures(args.sweep, outcome)


def _failures(source: str, outcome) -> int:
    """Name the first failed point's error: an error (exit status 2) when every point run now failed
    (a mistyped grid axis, a value no point accepts), else a warning."""
    if not outcome.failed:
        return 0
    first = outcome.results.error[outcome.results.status == "failed"].iloc[0]
    if outcome.failed == outcome.ran:
        raise SpecError(f"{source}: all {outcome.ran:,} points run failed; the first: {first}")
    Console(stderr=True, emoji=False).print(
        f"[yellow]warning:[/] {escape(source)}: {outcome.failed:,} of {outcome.ran:,} points failed "
        f"(status 'failed' in the results); the first: {escape(first)}",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def map_command(args, console: Console) -> int:
    """`accsim map ARCH WORKLOAD`: search mappings and confirm the best by simulation."""
    output = output_file(args.output, "-o", (args.arch, args.workload)) if args.output else None
    routed = split_overrides(args.set, ("arch", "workload"))
    arch = one_chip(load_arch(args.arch, routed["arch"]), "accsim map")
    workload = load_workload(args.workload, routed["workload"])
    with ProgressBar(enabled=args.progress) as bar:
        result = search_mapping(arch, workload, args.objective, args.top, bar, args.nests)
    console.print(search_table(result))
    if result.best.mapping:
        console.print(
            f"best: {result.best.label}, {result.improvement:.3f}x better {result.objective} than auto"
        )
    else:
        console.print(f"auto is the best mapping found for {result.objective}")
    if output:
        try:
            path = result.write(output)
        except SpecError as error:  # name the option, as write_text does
            raise SpecError(f"-o {error}") from None
        console.print(f"wrote {path} (use it with: accsim run ... --mapping {path})")
    return 0


def plot_command(args, console: Console) -> int:
    """`accsim plot RESULTS --x --y`: scatter two columns of sweep results."""
    output = output_file(args.output, "-o", (args.results,))
    results = read_results(args.results)
    require_columns(results, [args.x, args.y, *([args.color] if args.color else [])], args.results)
    if args.maximize and not args.pareto:  # the front alone reads it: it did nothing
        raise SpecError(f"--maximize {args.maximize[0]}: read only with --pareto (the front)")
    stray = next((c for c in args.maximize if c not in (args.x, args.y)), None)
    if stray is not None:
        raise SpecError(f"--maximize {stray}: not an axis (--x {args.x}, --y {args.y})")
    ok = results[results["status"] == "ok"] if "status" in results.columns else results
    if ok.empty:  # an empty figure, written as if all were well
        raise SpecError(
            f"{args.results}: none of its {len(results)} points ran ok; nothing to plot"
        )
    front = None
    if args.pareto:
        require_columns(results, ["status"], args.results)  # the front is of the points run ok
        import pandas as pd

        for axis in (args.x, args.y):  # words are never on a front: it would be empty
            if not pd.api.types.is_numeric_dtype(ok[axis]):
                raise SpecError(
                    f"--pareto: column {axis!r} holds words ({ok[axis].iloc[0]!r}), not numbers"
                )
        directions = {c: "max" if c in args.maximize else "min" for c in (args.x, args.y)}
        front = pareto_front(ok, directions)
    from simulator.plots import pareto_scatter, write_figure  # plotly and pandas: plots only

    figure = pareto_scatter(results, args.x, args.y, front=front, color=args.color)
    console.print(f"wrote {write_figure(figure, output, 'cdn' if args.cdn else 'inline')}")
    return 0


def scale_command(args, console: Console) -> int:
    """`accsim scale ARCH WORKLOAD --cores 1,2,4`: strong scaling S(n), E(n)."""
    routed = split_overrides(args.set)
    arch = one_chip(load_arch(args.arch, routed["arch"]), "accsim scale")
    workload = load_workload(args.workload, routed["workload"])
    mapping = load_mapping(args.mapping, routed["mapping"])
    counts = args.cores
    limit = arch.cores.count if arch.cores else 1
    if max(counts) > limit:
        raise SpecError(f"--cores {max(counts)}: {arch.name} has {limit} core(s)")
    with ProgressBar(enabled=args.progress) as bar:
        results = scaling(arch, workload, mapping, counts, limits_from(args), bar)
    if args.json:
        print(results.to_json(orient="records", indent=2))
        return 0
    out = table(
        f"strong scaling of {workload.name} on {arch.name}",
        ["cores", "time", "S(n)", "E(n)", "MAC util", "DRAM", "energy"],
    )
    for row in results.to_dict("records"):
        out.add_row(
            str(row["cores"]),
            seconds(row["seconds"]),
            f"{row['speedup']:.2f}",
            f"{row['efficiency']:.2f}",
            f"{row['mac_utilization']:.1%}",
            si(row["dram_bytes"], "B"),
            si(row["energy_pj"] * 1e-12, "J"),
        )
    console.print(out)
    return 0


def calibrate_command(args, console: Console) -> int:
    """`accsim calibrate ARCH CSV`: fit launch cost and DRAM efficiency, print leave-one-out error."""
    if args.launch is not None and args.efficiency is not None:  # each option fits the other
        raise SpecError(
            "--launch, --efficiency: with both fixed nothing is left to fit; give one of them "
            "(or neither, to fit both)"
        )
    measurements = read_measurements(args.measurements)
    launch = None
    if args.launch is not None:
        try:
            launch = parse_quantity(args.launch, "time")
        except ValueError as error:
            raise SpecError(f"--launch: {error}") from None
    efficiencies = EFFICIENCIES
    if args.efficiency is not None:
        if not 0 < args.efficiency <= 1:
            raise SpecError(f"--efficiency: must be in (0, 1], got {args.efficiency}")
        efficiencies = (args.efficiency,)
    times = simulated_times(args.arch, measurements, efficiencies)
    result = fit(measurements, times, efficiencies, launch_s=launch)
    out = table(
        f"calibration of {args.arch} on {len(measurements)} measurements",
        ["workload", "measured", "fitted", "error", "leave-one-out", "error (held out)"],
    )
    for row in result.rows:
        out.add_row(
            row["workload"],
            seconds(row["measured_s"]),
            seconds(row["fitted_s"]),
            f"{row['error']:+.1%}",
            seconds(row["loo_s"]),
            f"{row['loo_error']:+.1%}",
        )
    console.print(out)
    console.print(
        f"DRAM efficiency {result.efficiency:.3f}, launch {result.launch_s * 1e6:.2f} us per "
        f"kernel; median |leave-one-out error| {result.median_loo_error:.1%}"
    )
    console.print(
        f"apply with: --set components.<dram>.efficiency={result.efficiency:.3f} "
        f"--set cores.kernels.launch='{result.launch_s * 1e6:.2f} us'"
    )
    return 0
