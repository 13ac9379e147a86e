"""Each op of a one-chip validation row's layer simulated alone: its time and, for a GEMM, its
rate, to see where a first-token row's time goes (published_multi.yaml's single-GPU rows). A
row on a system of chips runs its layer once on the system: each op's span on a chip and the
all-reduce after it, and the layer's chip and all-reduce seconds.

    python benchmarks/layer_ops.py a100-gptj-6b-ttft-2048 [ROW_ID ...]
"""

import sys

import validate
import yaml

import simulator
from simulator.spec.system import SystemArchSpec
from simulator.spec.workload import WorkloadSpec


def layer(entry: dict) -> WorkloadSpec:
    """The entry's first part (its layer), at the part's precision."""
    part = entry["parts"][0]
    ops = simulator.load_workload(part["workload"], validate._pairs(part.get("workload_overrides")))
    return validate.with_precision(ops, part.get("precision"), entry["id"])


def system_layer(entry: dict) -> dict:
    """The summary of the entry's layer run once on its system of chips."""
    arch = simulator.load_arch(entry["device"], validate._pairs(entry.get("arch_overrides")))
    mapping = entry["parts"][0].get("mapping")
    return simulator.simulate(
        arch, layer(entry), mapping, numerics=False, limits=validate.ROW_LIMITS
    ).summary


def layer_ops(entry: dict) -> list[tuple[str, str, float, float | None]]:
    """(name, kind, seconds, GEMM TFLOP/s or None) of each op of the entry's first part."""
    part = entry["parts"][0]
    arch = simulator.load_arch(entry["device"], validate._pairs(entry.get("arch_overrides")))
    rows = []
    for op in layer(entry).ops:
        alone = WorkloadSpec(name=op.name, ops=[op.model_copy(update={"inputs": []})])
        seconds = simulator.simulate(
            arch, alone, part.get("mapping"), numerics=False, limits=validate.ROW_LIMITS
        ).summary["seconds"]
        rate = 2 * op.M * op.N * op.K / seconds / 1e12 if op.kind == "gemm" else None
        rows.append((op.name, op.kind, seconds, rate))
    return rows


def main(ids: list[str]) -> None:
    entries = {e["id"]: e for e in yaml.safe_load(validate.MULTI.read_text())}
    for row in ids:
        if row not in entries:
            raise SystemExit(f"{validate.MULTI}: no row {row!r}")
        if isinstance(simulator.load_arch(entries[row]["device"]), SystemArchSpec):
            summary = system_layer(entries[row])
            print(f"{row} ({entries[row]['device']}), one layer on the system:")
            for op in summary["ops"]:
                print(
                    f"  {op['name']:14s} {op['chip_seconds'] * 1e6:9.1f} us on a chip, "
                    f"{op['all_reduce_seconds'] * 1e6:7.1f} us all-reduce"
                )
            print(
                f"  layer {summary['seconds'] * 1e6:.1f} us: chip {summary['chip_seconds'] * 1e6:.1f}"
                f" us, all-reduces {summary['all_reduce_seconds'] * 1e6:.1f} us"
            )
            continue
        ops = layer_ops(entries[row])
        print(f"{row} ({entries[row]['device']}), one layer:")
        for name, kind, seconds, rate in ops:
            shown = f"{rate:8.0f} TFLOP/s" if rate is not None else ""
            print(f"  {name:14s} {kind:10s} {seconds * 1e6:9.1f} us {shown}")
        print(f"  {'sum':25s} {sum(s for _, _, s, _ in ops) * 1e6:9.1f} us")


if __name__ == "__main__":
    main(sys.argv[1:])
