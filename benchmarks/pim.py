"""Processing in memory: crossbar error and energy vs ADC bits (measured against the exact matmul
and the quantisation-noise estimate), the wall time of a 1024^3 int8 GEMM on isaac-like with and
without numerics, and the HBM-PIM GEMV speedup over a host reading the weights over the bus.

    python benchmarks/pim.py [--size 512]
"""

import argparse
import time

from rich.console import Console
from rich.table import Table

import simulator


def _timed(*args, **kwargs):
    start = time.perf_counter()
    report = simulator.simulate(*args, **kwargs)
    return report, time.perf_counter() - start


def _unit_energy(report, unit: str) -> float:
    return float(report.energy[report.energy.component == unit]["energy_pj"].sum())


def adc_table(size: int) -> Table:
    workload = f"gemm:M={size},N={size},K={size},dtype=int8"
    table = Table(title=f"isaac-like, {size}^3 int8 GEMM: error and energy vs ADC bits")
    columns = (
        "flip",
        "ADC bits",
        "LSB",
        "RMS err / signal",
        "SNR dB",
        "RMS err",
        "noise estimate",
        "ratio",
        "crossbar pJ/MAC",
        "ADC energy",
        "ADC area mm²",
        "sim s",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for flip in (False, True):
        for bits in range(4, 11):
            arch = simulator.load_arch(
                "isaac-like",
                [
                    (["components", "xbar", "adc_bits"], bits),
                    (["components", "xbar", "column_flip"], flip),
                ],
            )
            report, wall = _timed(arch, workload)
            pim, s = report.summary["pim"], report.summary
            ratio = (
                pim["rms_error"] / pim["predicted_rms_error"]
                if pim["predicted_rms_error"]
                else None
            )
            lsb = 2.0 ** (pim["lossless_adc_bits"] - bits)
            table.add_row(
                "yes" if flip else "no",
                f"{bits} ({pim['lossless_adc_bits']})",
                f"{lsb:g}",
                f"{pim['rms_rel_error']:.3g}",
                "exact" if pim["snr_db"] is None else f"{pim['snr_db']:.1f}",
                f"{pim['rms_error']:,.0f}",
                f"{pim['predicted_rms_error']:,.0f}",
                f"{ratio:.3f}" if ratio else "-",
                f"{_unit_energy(report, 'xbar') / s['macs']:.3f}",
                f"{pim['adc_energy_share']:.0%}",
                f"{pim['adc_area_mm2']:.1f}",
                f"{wall:.2f}",
            )
    return table


def gemm_table() -> Table:
    table = Table(title="isaac-like, 1024^3 int8 GEMM (gemm-1024): simulation wall time")
    for column in ("numerics", "wall s", "simulated µs", "energy µJ", "copies", "error"):
        table.add_column(column, justify="right")
    for numerics in (False, True):
        report, wall = _timed("isaac-like", "gemm-1024", numerics=numerics)
        s = report.summary
        table.add_row(
            "on" if numerics else "off",
            f"{wall:.2f}",
            f"{s['seconds'] * 1e6:,.1f}",
            f"{s['energy_pj'] * 1e-6:,.1f}",
            str(s["pim"]["replication"]),
            f"max abs {s['numerics_max_abs_error']:g}" if numerics else "-",
        )
    return table


def gemv_table() -> Table:
    table = Table(title="hbm-pim-like, 4096 x 4096 fp16 GEMV: near-memory units vs host")
    for column in ("unit", "µs", "bytes over the bus", "bound", "energy µJ", "speedup"):
        table.add_column(column, justify="right")
    runs = {}
    for unit in ("pim", "host"):
        report, _ = _timed("hbm-pim-like", "gemv-4096-fp16", {"unit": unit}, numerics=False)
        runs[unit] = report.summary
    for unit, s in runs.items():
        table.add_row(
            unit,
            f"{s['seconds'] * 1e6:,.1f}",
            f"{s['dram_bytes']:,}",
            s["ops"][0]["bound"],
            f"{s['energy_pj'] * 1e-6:,.1f}",
            f"{runs['host']['seconds'] / s['seconds']:.2f}x",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="GEMM size of the ADC table")
    args = parser.parse_args()
    console = Console(width=200)
    console.print(adc_table(args.size))
    console.print(gemm_table())
    console.print(gemv_table())


if __name__ == "__main__":
    main()
