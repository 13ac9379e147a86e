"""accsim vs ZigZag 3.9.1 on ZigZag's own ResNet-18 graph: per-layer MACs and cycles on edge-npu
(accsim) and the same array and memories in ZigZag's format (benchmarks/zigzag/edge_npu_zigzag.yaml),
then on ZigZag's tpu_like (accsim's zigzag-tpu-like preset), conv and FC layers only since that
accelerator has no vector unit. The ZigZag numbers are read from the committed JSON that
benchmarks/zigzag/run_zigzag.py wrote; accsim runs here.

    python benchmarks/vs_zigzag_resnet18.py
"""

import json
from pathlib import Path

import simulator
from simulator.spec import load_workload
from simulator.spec.onnx import short_name

HERE = Path(__file__).resolve().parent / "zigzag"


def compare() -> list[dict]:
    """One row per conv / FC layer: MACs of both tools, accsim array cycles, ZigZag latency under
    each of its spatial mappings (K x C as in its tpu_like mapping, K x OX like accsim's os)."""
    report = simulator.simulate(
        "edge-npu", load_workload("resnet18.onnx", dtype="int8"), numerics=False
    )
    layers = report.layers
    zigzag = {}
    for mapping in ("k_c", "k_ox"):
        path = HERE / f"zigzag_resnet18_{mapping}.json"
        if path.is_file():
            layers_ = json.loads(path.read_text())["layers"]
            zigzag[mapping] = {short_name(x["layer"]): x for x in layers_}
    rows = []
    for layer in layers.itertuples():
        row = {"layer": layer.layer, "macs": layer.macs, "accsim_cycles": layer.busy_cycles}
        for mapping, zz in zigzag.items():
            if zz[layer.layer]["macs"] != layer.macs:
                raise AssertionError(
                    f"{layer.layer}: MACs differ ({zz[layer.layer]['macs']} in ZigZag)"
                )
            row[f"zigzag_{mapping}_cycles"] = round(zz[layer.layer]["latency_cycles"])
            row[f"zigzag_{mapping}_ideal"] = round(zz[layer.layer]["ideal_cycles"])
        best = min(v for k, v in row.items() if k.endswith("_cycles") and k.startswith("zigzag"))
        row["accsim_over_zigzag_best"] = round(layer.busy_cycles / best, 3)
        rows.append(row)
    return rows


def compare_tpu_like() -> list[dict]:
    """accsim's zigzag-tpu-like (ws, weight registers per PE) against ZigZag's tpu_like, layer by
    layer, each layer run on its own as ZigZag evaluates them."""
    path = HERE / "zigzag_resnet18_tpu_like.json"
    if not path.is_file():
        return []
    zz = {short_name(x["layer"]): x for x in json.loads(path.read_text())["layers"]}
    workload = load_workload("resnet18.onnx", dtype="int8")
    ops = [
        op.model_dump(exclude={"inputs"}) for op in workload.ops if op.kind in ("conv2d", "gemm")
    ]
    report = simulator.simulate(
        "zigzag-tpu-like", {"name": "resnet18-layers", "ops": ops}, numerics=False
    )
    rows = []
    for layer in report.layers.itertuples():
        theirs = zz[layer.layer]
        if theirs["macs"] != layer.macs:
            raise AssertionError(f"{layer.layer}: MACs differ ({theirs['macs']} in ZigZag)")
        rows.append(
            {
                "layer": layer.layer,
                "macs": layer.macs,
                "accsim_cycles": layer.busy_cycles,
                "zigzag_cycles": round(theirs["latency_cycles"]),
                "zigzag_ideal": round(theirs["ideal_cycles"]),
                "accsim_over_zigzag": round(layer.busy_cycles / theirs["latency_cycles"], 3),
            }
        )
    return rows


def _print(rows: list[dict]) -> None:
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print(
            "| "
            + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values())
            + " |"
        )
    total = {c: sum(r[c] for r in rows) for c in columns[1:-1]}
    print("| total | " + " | ".join(f"{v:,}" for v in total.values()) + " | |")


def main() -> None:
    print("edge-npu (accsim) vs the same hardware in ZigZag")
    _print(compare())
    tpu = compare_tpu_like()
    if tpu:
        print("\nzigzag-tpu-like (accsim) vs ZigZag's tpu_like, conv and FC layers")
        _print(tpu)


if __name__ == "__main__":
    main()
