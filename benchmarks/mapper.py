"""Mapper search on the presets: mappings estimated, the winner, and its simulated cycles and
energy against `auto`, with the wall time of each search.

    python benchmarks/mapper.py
"""

import time

from rich.console import Console
from rich.table import Table

from simulator.sweep.search import search_mapping

CASES = [
    ("edge-npu", "gemm-1024", "edp"),
    ("datacenter-hbm", "gemm-4096", "edp"),
    ("eyeriss-like", "gemm-256", "energy"),
    ("tpu-v1-like", "bert-base-ffn", "edp"),
    ("edge-npu", "gemv-4096", "latency"),
]


def main() -> None:
    table = Table(title="mapper search (simulated cycles / energy µJ; s = wall time of the search)")
    for column in (
        "arch",
        "workload",
        "objective",
        "mappings estimated",
        "best",
        "auto",
        "searched",
        "better",
        "s",
    ):
        table.add_column(column)
    for arch, workload, objective in CASES:
        start = time.perf_counter()
        result = search_mapping(arch, workload, objective)
        seconds = time.perf_counter() - start
        auto, best = result.auto.simulated, result.best.simulated
        table.add_row(
            arch,
            workload,
            objective,
            f"{result.examined:,}",
            result.best.label,
            f"{auto.cycles:,.0f} / {auto.energy_pj / 1e6:,.1f}",
            f"{best.cycles:,.0f} / {best.energy_pj / 1e6:,.1f}",
            f"{result.improvement:.2f}x",
            f"{seconds:.1f}",
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
