"""One decoder layer of a tensor-parallel `--suite multi` row (published_multi.yaml): each of one
chip's kernels run alone on the chip, their sum, and the layer's run on the system (the chip's
share, its kernels overlapping where independent, and the all-reduces), to see whether kernel
order or the host's launches could explain a gap.

    python benchmarks/tp_layer_kernels.py a100x4-llama2-70b-ttft-128
"""

import argparse

import yaml
from rich.console import Console
from rich.table import Table
from validate import MULTI, _pairs, with_precision

import simulator
from simulator.spec import load_workload
from simulator.spec.system import SystemArchSpec
from simulator.system.shard import shard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("row", help="an id of a tensor-parallel row in published_multi.yaml")
    row_id = parser.parse_args().row
    entry = next(e for e in yaml.safe_load(MULTI.read_text()) if e["id"] == row_id)
    system = simulator.load_arch(entry["device"], _pairs(entry.get("arch_overrides")))
    if not isinstance(system, SystemArchSpec):
        parser.error(f"{row_id}: runs on one chip ({entry['device']}), not a system of chips")
    first = entry["parts"][0]
    layer = with_precision(load_workload(first["workload"]), first.get("precision"), row_id)
    part = shard(layer, system.system.tp, 1, row_id)
    table = Table(title=f"{row_id}: one chip's kernels, each alone on {system.chip_arch.name}")
    table.add_column("kernel")
    table.add_column("µs", justify="right")
    alone = 0.0
    for op in part.workload.ops:
        single = part.workload.model_copy(
            update={"ops": [op.model_copy(update={"inputs": []})], "name": op.name}
        )
        seconds = simulator.simulate(system.chip_arch, single, numerics=False).summary["seconds"]
        alone += seconds
        table.add_row(op.name, f"{seconds * 1e6:.1f}")
    table.add_row("sum, one at a time", f"{alone * 1e6:.1f}")
    s = simulator.simulate(system, layer, numerics=False).summary
    table.add_row("the layer's chip share on the system", f"{s['chip_seconds'] * 1e6:.1f}")
    table.add_row("its all-reduces", f"{s['all_reduce_seconds'] * 1e6:.1f}")
    table.add_row("the layer", f"{s['seconds'] * 1e6:.1f}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
