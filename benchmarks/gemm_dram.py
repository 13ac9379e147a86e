"""DRAM bytes a GPU-like preset's GEMM reads and writes, against the compulsory A + B + C: the
engine's count, the grid's own estimate (`mapping/cta.py`), the CTA tile (and a 2-SM pair's
launched tile, `kernels.cta_pairs`) and tile order chosen,
and the kernel's time (timing only), with each launch order (`kernels.launch_order`: rows, the
default, and CUTLASS's swizzled raster) set on the preset.

    python benchmarks/gemm_dram.py [--case ARCH M N K ...] [--order rows|swizzled ...]
"""

import argparse

from simulator.api import build_machine, load_arch, load_mapping, simulate
from simulator.mapping import cta
from simulator.spec.workload import GemmOpSpec

# the B200 MLP rows' GEMMs (gate/up and down at 1024 and 8192 tokens) and the A100/H100 GEMM rows
CASES = [
    ("b200-like", 1024, 14336, 4096),
    ("b200-like", 1024, 4096, 14336),
    ("b200-like", 8192, 14336, 4096),
    ("b200-like", 8192, 4096, 14336),
    ("h100-like", 4096, 4096, 4096),
    ("a100-like", 4096, 4096, 4096),
    ("a100-like", 2304, 1536, 5120),
    ("a100-like", 6912, 2048, 16384),
    ("a100-like", 4096, 11008, 4096),
    ("a100-like", 16384, 11008, 4096),
    ("a100-like", 2048, 12288, 12288),
]


ORDERS = ["rows", "swizzled"]


def row(arch_name: str, m: int, n: int, k: int, launch_order: str) -> str:
    """One case's table row with the preset's `kernels.launch_order` set to `launch_order`."""
    op = GemmOpSpec(kind="gemm", name="g", M=m, N=n, K=k, dtype="bf16")
    arch = load_arch(arch_name, [(["cores", "kernels", "launch_order"], launch_order)])
    machine = build_machine(arch)
    grid = cta.choose_grid(op, load_mapping(None), machine, machine.core_count)
    report = simulate(arch, f"gemm:M={m},N={n},K={k},dtype=bf16", numerics=False)
    compulsory = 2 * (m * k + k * n + m * n)  # A, B and C in bf16 (a bf16 GEMM writes bf16)
    dram = report.summary["dram_bytes"]
    down, width = grid.order
    order = f"{launch_order}: along {'M' if down else 'N'}, {width} wide"
    paired = f" (2-SM pairs, {grid.launched_m(m)}x{grid.tile_n})" if grid.pair else ""
    return (
        f"| {arch_name} | {m}x{n}x{k} | {grid.tile_m}x{grid.tile_n}/{grid.splits}{paired} | {order} "
        f"| {compulsory / 1e6:.0f} | {grid.dram / 1e6:.0f} | {dram / 1e6:.0f} "
        f"| {dram / compulsory:.2f} | {report.seconds * 1e6:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs=4, action="append", metavar=("ARCH", "M", "N", "K"))
    parser.add_argument("--order", nargs="+", choices=ORDERS, default=ORDERS)
    args = parser.parse_args()
    cases = [(a, int(m), int(n), int(k)) for a, m, n, k in args.case] if args.case else CASES
    print(
        "| arch | M x N x K | CTA/splits | order | compulsory MB | estimate MB | DRAM MB "
        "| DRAM / compulsory | µs |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for case in cases:
        for order in args.order:
            print(row(*case, order), flush=True)


if __name__ == "__main__":
    main()
