"""Run ZigZag 3.9.1 on its own ResNet-18 graph on an edge-npu-like array under one spatial
mapping; write per-layer MACs, latency and energy to zigzag_resnet18_<mapping>.json (dev-side:
needs ~/venvs/zigzag-onnx).

    ~/venvs/zigzag-onnx/bin/python benchmarks/zigzag/run_zigzag.py k_c    # K x C unrolled
    ~/venvs/zigzag-onnx/bin/python benchmarks/zigzag/run_zigzag.py k_ox   # K x OX unrolled
    ~/venvs/zigzag-onnx/bin/python benchmarks/zigzag/run_zigzag.py tpu_like   # ZigZag's own
        tpu_like hardware and mapping (accsim's zigzag-tpu-like preset)
"""

import json
import sys
import tempfile
from pathlib import Path

import zigzag
from zigzag.api import get_hardware_performance_zigzag

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _label(path: Path) -> str:
    """A file's path inside this repository, or inside the zigzag package."""
    anchor = ROOT if ROOT in path.parents else Path(zigzag.__file__).resolve().parent.parent
    return str(path.relative_to(anchor))


def main(mapping: str) -> None:
    if mapping == "tpu_like":  # ZigZag's bundled files, as the zigzag-tpu-like preset copies them
        inputs = Path(zigzag.__file__).resolve().parent / "inputs"
        hardware = inputs / "hardware" / "tpu_like.yaml"
        mapping_file = inputs / "mapping" / "tpu_like.yaml"
    else:
        hardware, mapping_file = HERE / "edge_npu_zigzag.yaml", HERE / f"mapping_{mapping}.yaml"
    with tempfile.TemporaryDirectory() as dump:
        energy, latency, results = get_hardware_performance_zigzag(
            workload=str(ROOT / "workloads" / "onnx" / "resnet18.onnx"),
            accelerator=str(hardware),
            mapping=str(mapping_file),
            opt="latency",
            dump_folder=dump,
            loma_show_progress_bar=False,
        )
    layers = []
    for cme, _ in results[0][1]:
        layers.append(
            {
                "layer": cme.layer.name,
                "type": cme.layer.type,
                "macs": int(cme.layer.total_mac_count),
                "latency_cycles": float(cme.latency_total2),
                "ideal_cycles": float(cme.ideal_cycle),
                "energy_pj": float(cme.energy_total),
                "mac_energy_pj": float(cme.mac_energy),
            }
        )
    out = {
        "tool": "zigzag-dse 3.9.1",
        "hardware": _label(hardware),
        "mapping": _label(mapping_file),
        "workload": "workloads/onnx/resnet18.onnx",
        "total_energy_pj": float(energy),
        "total_latency_cycles": float(latency),
        "layers": layers,
    }
    (HERE / f"zigzag_resnet18_{mapping}.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(layers)} layers, {sum(x['macs'] for x in layers):,} MACs, {latency:,.0f} cycles")


if __name__ == "__main__":
    main(sys.argv[1])
