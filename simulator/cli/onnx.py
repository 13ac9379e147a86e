"""`accsim import-onnx`: an ONNX model's graph written out as a workload YAML."""

from pathlib import Path

import yaml
from rich.console import Console

from simulator.spec import load_workload
from simulator.spec.loader import onnx_path
from simulator.spec.onnx import import_onnx


def import_onnx_command(args, console: Console) -> int:
    """Convert MODEL.onnx to a workload YAML (validated before it is written)."""
    document = import_onnx(onnx_path(args.model), args.dtype)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(yaml.safe_dump(document, sort_keys=False))
    workload = load_workload(output)
    kinds: dict[str, int] = {}
    for op in workload.ops:
        kinds[op.kind] = kinds.get(op.kind, 0) + 1
    listed = ", ".join(f"{n} {k}" for k, n in kinds.items())
    console.print(f"wrote {output}: {len(workload.ops)} ops ({listed})")
    return 0
