"""`accsim import-scalesim` and `accsim import-sanafe`: peer tools' files to accsim YAML."""

from pathlib import Path

import yaml
from rich.console import Console

from simulator.cli.paths import not_an_input, output_folder, write_text
from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.sanafe import IMPORT_FILES, import_sanafe, write_import
from simulator.spec.scalesim import import_scalesim
from simulator.spec.yamlio import Document


def scalesim_specs(dicts: tuple[dict, dict, dict], config: Path, topology: Path, routed=None):
    """The validated (arch, workload, mapping) of import_scalesim's dicts, each error naming the
    file its value came from; `routed`: split_overrides' routes (none by default)."""
    arch, workload, mapping = dicts
    routed = routed or {"arch": [], "workload": [], "mapping": []}
    return (
        load_arch(Document(arch, str(config)), routed["arch"]),
        load_workload(Document(workload, str(topology)), routed["workload"]),
        load_mapping(Document(mapping, str(config)), routed["mapping"]),
    )


def import_scalesim_command(args, console: Console) -> int:
    """`accsim import-scalesim CFG CSV -o DIR`: write arch.yaml, workload.yaml and mapping.yaml
    (validated first: a config accsim cannot run is an error, not files that fail later)."""
    out = output_folder(args.output, "-o")
    for kind in ("arch", "workload", "mapping"):
        not_an_input(out / f"{kind}.yaml", "-o", (args.config, args.topology))
    config, topology = Path(args.config), Path(args.topology)
    specs = import_scalesim(config, topology)
    scalesim_specs(specs, config, topology)
    for kind, spec in zip(("arch", "workload", "mapping"), specs):
        path = out / f"{kind}.yaml"
        write_text(path, yaml.safe_dump(spec, sort_keys=False), "-o")
        console.print(f"wrote {path}")
    console.print(
        f"run it with: accsim run {out / 'arch.yaml'} {out / 'workload.yaml'} -m {out / 'mapping.yaml'}"
    )
    return 0


def import_sanafe_command(args, console: Console) -> int:
    """`accsim import-sanafe ARCH SNN -o DIR`: write arch.yaml, workload.yaml and network.npz."""
    out = output_folder(args.output, "-o")
    for name in IMPORT_FILES:
        not_an_input(out / name, "-o", (args.arch, args.snn))
    arch, workload, arrays = import_sanafe(Path(args.arch), Path(args.snn), args.steps, args.timing)
    arch_path, workload_path = write_import(Path(args.output), arch, workload, arrays)
    for path in (arch_path, workload_path, out / IMPORT_FILES[2]):
        console.print(f"wrote {path}")
    console.print(f"run it with: accsim run {arch_path} {workload_path}")
    return 0
