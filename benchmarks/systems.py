"""Pipeline micro-batches on a TPU v4 cube: LLaMA-2-7B prefill (4 layers, batch 8) on
tpu-v4-cube (64 chips, 3-D torus, tensor-parallel 16 over X and Y, 4 stages along Z) for 1 to 8
micro-batches, the simulated GPipe schedule's time and bubble beside the equal-stage closed form
(p - 1) / (m + p - 1).

    python benchmarks/systems.py
"""

import time

from rich.console import Console
from rich.table import Table

import simulator

ARCH, WORKLOAD = "tpu-v4-cube", "llama-2-7b-prefill"
OVERRIDES = {"layers": 4, "batch": 8}


def main() -> None:
    workload = simulator.load_workload(WORKLOAD, [([k], v) for k, v in OVERRIDES.items()])
    table = Table(title=f"{ARCH} x {WORKLOAD} (4 layers, batch 8): GPipe over 4 stages")
    for column in ("micro-batches", "time ms", "per micro-batch: chip ms", "all-reduces ms",
                   "hops ms", "bubble", "(p-1)/(m+p-1)", "CPU s"):  # fmt: skip
        table.add_column(column, justify="right")
    for m in (1, 2, 4, 8):
        arch = simulator.load_arch(ARCH, [(["system", "micro_batches"], m)])
        start = time.process_time()
        s = simulator.simulate(arch, workload, numerics=False).summary
        p = s["pipeline_stages"]
        table.add_row(
            str(m),
            f"{s['seconds'] * 1e3:.3f}",
            f"{s['chip_seconds'] * 1e3:.3f}",
            f"{s['all_reduce_seconds'] * 1e3:.3f}",
            f"{s['pipeline_hop_seconds'] * 1e3:.3f}",
            f"{s['pipeline_bubble']:.1%}",
            f"{(p - 1) / (m + p - 1):.1%}",
            f"{time.process_time() - start:.1f}",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
