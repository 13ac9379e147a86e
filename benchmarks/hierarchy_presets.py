"""What register levels change on a preset: each GEMM run with the preset as shipped and with its
regfile components removed (the flat, SRAM-and-DRAM hierarchy it had before).

    python benchmarks/hierarchy_presets.py [--arch eyeriss-like] [--workload GEMM ...]
"""

import argparse
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

import simulator
from simulator.spec import ArchSpec

WORKLOADS = ("gemm:M=256,N=256,K=256,dtype=int16", "gemm:M=64,N=1024,K=512,dtype=int8")


ARCHS = Path(__file__).resolve().parents[1] / "archs"


def _flat(name: str) -> ArchSpec:
    data = yaml.safe_load((ARCHS / f"{name}.yaml").read_text())
    for level in (data, data.get("cores") or {}):  # a single core, or each core of a chip
        if "components" in level:
            parts = level["components"].items()
            level["components"] = {n: c for n, c in parts if c["kind"] != "regfile"}
    return simulator.load_arch(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="eyeriss-like")
    parser.add_argument("--workload", nargs="+", default=WORKLOADS)
    args = parser.parse_args()
    shipped = simulator.load_arch(args.arch)
    view = Table(title=f"{args.arch}: with and without its register levels")
    for column in ("workload", "hierarchy", "cycles", "energy µJ", "energy by component µJ"):
        view.add_column(column)
    for workload in args.workload:
        for label, arch in (("flat", _flat(args.arch)), ("shipped", shipped)):
            report = simulator.simulate(arch, workload, numerics=False)
            parts = report.energy.groupby("component")["energy_pj"].sum() * 1e-6
            view.add_row(
                workload,
                label,
                f"{report.cycles:,}",
                f"{report.summary['energy_pj'] * 1e-6:,.1f}",
                ", ".join(f"{name} {value:,.1f}" for name, value in parts.items()),
            )
    Console(width=160).print(view)


if __name__ == "__main__":
    main()
