"""`accsim run` and `accsim list`: one simulation, and the shipped presets."""

import json
from pathlib import Path

from rich.console import Console

from simulator.api import simulate
from simulator.cli.format import table
from simulator.cli.paths import limits_from, output_file, write_text
from simulator.errors import SpecError
from simulator.report import Report
from simulator.report.progress import ProgressBar
from simulator.report.single import json_ready
from simulator.spec import (
    ArchSpec,
    WorkloadSpec,
    list_presets,
    load_arch,
    load_mapping,
    load_workload,
    split_overrides,
)
from simulator.spec.loader import spec_document


def _is_scalesim_pair(args) -> bool:
    """A SCALE-Sim config and topology run together; one without the other is an error."""
    config, topology = args.arch.endswith(".cfg"), args.workload.endswith(".csv")
    if config and not topology:
        raise SpecError(
            f"{args.arch}: a SCALE-Sim config (.cfg) runs with its topology (.csv) as the "
            f"workload, got {args.workload}"
        )
    if topology and not config:
        raise SpecError(
            f"{args.workload}: a SCALE-Sim topology (.csv) runs with its config (.cfg) as the "
            f"arch, got {args.arch}"
        )
    return config


def _per_core_read(args, arch, workload) -> None:
    """`--per-core` splits the tables of one many-core chip's ops; elsewhere (JSON, one core, a
    system of chips, a spiking network) it did nothing."""
    if not args.per_core:
        return
    if args.json:
        raise SpecError("--per-core: read only by the tables, not --json")
    many = isinstance(arch, ArchSpec) and arch.cores is not None and arch.cores.count > 1
    if not many or not isinstance(workload, WorkloadSpec):
        what = "a spiking network" if many else f"{arch.name}: not a chip of several cores"
        raise SpecError(f"--per-core: read only by a many-core chip's ops; {what}")


def _layers_read(args, kind: str | None) -> None:
    """`--layers` sets a transformer's layer count; another workload has none (the refusal
    named an unknown key `layers` as if `--set layers` had given it)."""
    if args.layers and kind != "transformer":
        raise SpecError(
            "--layers: read only by transformer workloads (kind: transformer, or a HuggingFace "
            f"config.json); {args.workload} is not one"
        )


def _seed_read(args, workload) -> int:
    """`--seed` draws the operands the numerics check runs and a spiking network's input
    spikes; a timing-only run of any other workload read it nowhere (its results are the same
    for every seed). Unset: 0."""
    if args.seed is None:
        return 0
    if args.numerics == "off" and isinstance(workload, WorkloadSpec):
        raise SpecError(
            "--seed: read only by the numerics check's operands and a spiking network's inputs; "
            f"{workload.name} runs for timing only (--no-numerics)"
        )
    return args.seed


def run_command(args, console: Console) -> int:
    """`accsim run ARCH WORKLOAD`: one simulation, printed as tables or JSON."""
    reads = (args.arch, args.workload, args.mapping)
    trace_path = output_file(args.trace, "--trace", reads) if args.trace else None
    limits = limits_from(args)
    if args.layers and any(o.partition("=")[0].strip() == "workload.layers" for o in args.set):
        raise SpecError("--layers, --set workload.layers: two layer counts; give one")
    routed = split_overrides(args.set + ([f"workload.layers={args.layers}"] if args.layers else []))
    if _is_scalesim_pair(args):
        from simulator.cli.importers import scalesim_specs
        from simulator.spec.scalesim import import_scalesim

        _layers_read(args, None)
        config, topology = Path(args.arch), Path(args.workload)
        arch, workload, mapping = scalesim_specs(
            import_scalesim(config, topology), config, topology, routed
        )
        if args.mapping:
            mapping = load_mapping(args.mapping, routed["mapping"])
    else:
        arch = load_arch(args.arch, routed["arch"])
        document = spec_document("workload", args.workload, args.dtype)
        _layers_read(args, document.data.get("kind"))
        workload = load_workload(document, routed["workload"])
        mapping = load_mapping(args.mapping, routed["mapping"])
    _per_core_read(args, arch, workload)
    seed = _seed_read(args, workload)
    if routed["mapping"]:  # the header names what was overridden: "auto, dataflow=os"
        changes = ", ".join(
            f"{'.'.join(map(str, keys))}={value}" for keys, value in routed["mapping"]
        )
        mapping = mapping.model_copy(update={"name": f"{mapping.name}, {changes}"})
    with ProgressBar(enabled=args.progress) as bar:
        report = simulate(
            arch,
            workload,
            mapping,
            numerics=args.numerics,
            seed=seed,
            trace=bool(args.trace),
            limits=limits,
            progress=bar,
        )
    if trace_path:
        write_text(trace_path, json.dumps(report.chrome_trace(), allow_nan=False), "--trace")
    if args.json:
        print(json.dumps(json_ready(report.summary), indent=2, default=str, allow_nan=False))
    elif isinstance(report, Report):
        from simulator.cli.render import render

        render(report, console, per_core=args.per_core)
        if args.trace:
            console.print(f"trace written to {args.trace} (open it in https://ui.perfetto.dev)")
    else:  # their modules load only for such runs (the spiking engine, systems of chips)
        from simulator.cli.spiking import render_spiking
        from simulator.cli.system import render_system
        from simulator.report.system import SystemReport

        (render_system if isinstance(report, SystemReport) else render_spiking)(report, console)
    return 0 if report.summary["numerics_ok"] in (True, None) else 1


def list_command(args, console: Console) -> int:
    """`accsim list`: every shipped preset with its description."""
    for kind in ("arch", "workload", "mapping"):
        presets = table(f"{kind} presets", ["name", "description"])
        presets.columns[1].justify = "left"  # prose, not a number
        for name in list_presets(kind):
            loader = {"arch": load_arch, "workload": load_workload, "mapping": load_mapping}[kind]
            presets.add_row(name, loader(name).description)
        console.print(presets)
    return 0
