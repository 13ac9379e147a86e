"""What `auto`'s loop nests change: each case run with the fold nest only (the nest budget 0,
as `auto` planned before nests) and with `auto` as shipped, on presets with register levels.

    python benchmarks/auto_nests.py
"""

from contextlib import contextmanager

from rich.console import Console
from rich.table import Table

import simulator
from simulator.mapping import auto_nest, conv_levels

CONV = {"kind": "conv2d", "name": "conv", "dtype": "int8", "C": 64, "H": 56, "W": 56, "K": 64,
        "R": 3, "S": 3, "padding": 1}  # fmt: skip
CASES = [
    ("eyeriss-like", "gemm-256"),
    ("eyeriss-like", "gemm:M=64,N=1024,K=512,dtype=int8"),
    ("zigzag-tpu-like", "gemm:M=512,N=512,K=512,dtype=int8"),
    ("zigzag-tpu-like", "gemm:M=256,N=256,K=256,dtype=int8"),
    ("eyeriss-like", {"name": "conv3x3-64-56", "ops": [CONV]}),
    ("zigzag-tpu-like", {"name": "conv3x3-64-56", "ops": [CONV]}),
]


@contextmanager
def nest_budget(budget: int):
    """`auto` (GEMM and conv) with at most `budget` nests a shape; 0: the fold nest only."""
    shipped = auto_nest.NEST_BUDGET, conv_levels.NEST_BUDGET
    auto_nest.NEST_BUDGET = conv_levels.NEST_BUDGET = budget
    try:
        yield
    finally:
        auto_nest.NEST_BUDGET, conv_levels.NEST_BUDGET = shipped


def main() -> None:
    view = Table(title="auto: fold nest only against auto with loop nests")
    columns = ["arch", "workload", "auto", "cycles", "energy µJ", "array loops (nest)"]
    for column in columns:
        view.add_column(column)
    for arch, workload in CASES:
        name = workload if isinstance(workload, str) else workload["name"]
        for label, budget in (("fold nest only", 0), ("with nests", auto_nest.NEST_BUDGET)):
            with nest_budget(budget):
                report = simulator.simulate(arch, workload, None, numerics=False)
            op = report.ops.iloc[0]
            view.add_row(
                f"`{arch}`",
                f"`{name}`",
                label,
                f"{report.cycles:,}",
                f"{report.summary['energy_pj'] / 1e6:,.1f}",
                op.get("map_nest") or "-",
            )
    Console(width=180).print(view)


if __name__ == "__main__":
    main()
