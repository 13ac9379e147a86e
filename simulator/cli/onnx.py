"""`accsim import-onnx`: an ONNX model's graph written out as a workload YAML."""

import yaml
from rich.console import Console

from simulator.cli.paths import output_file, write_text
from simulator.spec import load_workload
from simulator.spec.loader import onnx_path
from simulator.spec.onnx import import_onnx
from simulator.spec.yamlio import Document


def import_onnx_command(args, console: Console) -> int:
    """Convert MODEL.onnx to a workload YAML (validated before it is written)."""
    output = output_file(args.output, "-o", (args.model,), (".yaml", ".yml"))
    model = onnx_path(args.model)
    document = import_onnx(model, args.dtype)
    workload = load_workload(Document(document, str(model)))
    write_text(output, yaml.safe_dump(document, sort_keys=False), "-o")
    kinds: dict[str, int] = {}
    for op in workload.ops:
        kinds[op.kind] = kinds.get(op.kind, 0) + 1
    listed = ", ".join(f"{n} {k}" for k, n in kinds.items())
    console.print(f"wrote {output}: {len(workload.ops)} ops ({listed})")
    return 0
