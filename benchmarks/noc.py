"""Multi-core scaling on mesh-4x4: S(n) and E(n) for a 4096^3 GEMM and a LLaMA-2-7B prefill layer
on 1-16 cores, the NoC view of the 16-core runs, and the simulator's own wall time.

    python benchmarks/noc.py
"""

import time

from rich.console import Console
from rich.table import Table

import simulator
from simulator.sweep.scaling import scaling

ARCH = "mesh-4x4"
CASES = [("gemm-4096", "split-mn"), ("llama-2-7b-prefill", "heads")]


def main() -> None:
    console = Console(width=140)
    for workload, mapping in CASES:
        start = time.perf_counter()
        table = scaling(ARCH, workload, mapping, [1, 2, 4, 8, 16])
        wall = time.perf_counter() - start
        out = Table(
            title=f"{ARCH}: {workload} ({mapping}), strong scaling; {wall:.1f} s to simulate all five"
        )
        for column in ("cores", "ms", "S(n)", "E(n)", "MAC util of n cores", "DRAM GB"):
            out.add_column(column, justify="right")
        for row in table.to_dict("records"):
            util = row["mac_utilization"] * 16 / row["cores"]
            out.add_row(
                str(row["cores"]),
                f"{row['seconds'] * 1e3:,.3f}",
                f"{row['speedup']:.2f}",
                f"{row['efficiency']:.2f}",
                f"{util:.1%}",
                f"{row['dram_bytes'] / 1e9:,.2f}",
            )
        console.print(out)
    noc = Table(title=f"{ARCH}, 16 cores: where the time goes")
    for column in (
        "workload",
        "sim wall s",
        "hottest link",
        "busy",
        "compute share",
        "load imbalance",
        "NoC energy share",
    ):
        noc.add_column(column, justify="right")
    for workload, mapping in CASES:
        start = time.perf_counter()
        report = simulator.simulate(ARCH, workload, mapping, numerics=False)
        wall = time.perf_counter() - start
        s = report.summary["noc"]
        share = s["noc_energy_pj"] / report.summary["energy_pj"]
        noc.add_row(
            workload,
            f"{wall:.2f}",
            s["hottest_link"],
            f"{s['hottest_link_utilization']:.0%}",
            f"{s['compute_share']:.0%}",
            f"{s['load_imbalance']:.2f}",
            f"{share:.1%}",
        )
    console.print(noc)


if __name__ == "__main__":
    main()
