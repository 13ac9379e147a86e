"""Fit the GPU MMA path's missing energy per MAC on AccelWattch's measured Quadro GV100 GEMMs.

Run: python benchmarks/gpu_power_fit.py  (about a minute: the 4096³ GEMM is the slow one)
Reads benchmarks/data/calibration/gv100_power.csv (make_gv100_power.py, from the AccelWattch
artifact). Each kernel's measured board power P over its measured time t is modelled as
P = P0 + (E + c x MACs) / t, where E is accsim's dynamic energy of the kernel on gv100-like without
the fitted part (chip.yaml mma_residual) and P0 the card's power when no kernel work is counted
(its leakage, DRAM standby, fan and board). c (pJ per MAC at 12 nm) and P0 are fitted by least
squares; c is the constant simulator/tech/chip.yaml carries (node- and V²-scaled to other GPUs),
P0 belongs to this card and is not carried. Prints accsim's busy power before and after, the fit,
each kernel's leave-one-out error, accsim's idle power and each kernel's share of the tensor peak.
"""

import csv
from pathlib import Path

import numpy as np

import simulator
from simulator import tech

DATA = Path(__file__).parent / "data" / "calibration" / "gv100_power.csv"
FITTED = "mma_residual"


def kernels() -> list[dict]:
    """Each measured kernel with accsim's run of it on gv100-like."""
    with DATA.open() as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        report = simulator.simulate("gv100-like", row["workload"], numerics=False)
        energy = report.energy
        dynamic = energy[energy.op != "(static)"]
        fitted = dynamic[dynamic.part == FITTED].energy_pj.sum()
        row["report"] = report
        row["seconds"] = float(row["cycles"]) / (float(row["clock_mhz"]) * 1e6)
        row["dynamic_j"] = (dynamic.energy_pj.sum() - fitted) * 1e-12
        row["fitted_w"] = fitted * 1e-12 / report.seconds
        row["macs"] = report.summary["macs"]
    return rows


def fit(rows: list[dict]) -> tuple[float, float]:
    """Least-squares (c in pJ per MAC, P0 in W) on `rows`."""
    a = np.array([[r["macs"] / r["seconds"] * 1e-12, 1.0] for r in rows])
    b = np.array([float(r["measured_w"]) - r["dynamic_j"] / r["seconds"] for r in rows])
    (c, p0), *_ = np.linalg.lstsq(a, b, rcond=None)
    return float(c), float(p0)


def predict(row: dict, c: float, p0: float) -> float:
    """The model's power of `row` at its measured time."""
    return p0 + (row["dynamic_j"] + c * 1e-12 * row["macs"]) / row["seconds"]


def main() -> None:
    rows = kernels()
    c, p0 = fit(rows)
    carried = tech.table("chip")[FITTED]["pj_per_mac"]
    print(
        f"fit on {len(rows)} GV100 GEMMs: c = {c:.3f} pJ/MAC at 12 nm (chip.yaml: {carried}), "
        f"P0 = {p0:.1f} W (this card only, not carried)"
    )
    print(
        "\n| kernel | workload | measured W | accsim busy W, before | accsim busy W, after "
        "| accsim / measured time | fit W | leave-one-out W | leave-one-out error |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for i, row in enumerate(rows):
        report = row["report"]
        measured = float(row["measured_w"])
        after = report.power["power_w"]
        before = after - row["fitted_w"]
        ratios.append((before / measured, after / measured))
        held = predict(row, *fit(rows[:i] + rows[i + 1 :]))
        print(
            f"| {row['kernel']} | {row['workload'].split(':')[1].replace(',dtype=fp16', '')} "
            f"| {measured:.1f} | {before:.1f} | {after:.1f} | {report.seconds / row['seconds']:.2f} "
            f"| {predict(row, c, p0):.1f} | {held:.1f} | {(held - measured) / measured:+.1%} |"
        )
    befores, afters = zip(*ratios, strict=True)
    print(
        f"\naccsim busy / measured power: before the residual {min(befores):.2f} to "
        f"{max(befores):.2f}, after it {min(afters):.2f} to {max(afters):.2f}"
    )
    print(f"accsim's idle power on gv100-like: {rows[0]['report'].power['idle_power_w']:.1f} W")
    for row in rows:
        report = row["report"]
        peak = report.summary["peak_macs_per_cycle"] * report.summary["clock_hz"]
        print(
            f"- {row['kernel']}: {row['macs'] / row['seconds'] / peak:.0%} of the tensor peak on "
            f"the card, {report.summary['mac_utilization']:.0%} in accsim"
        )


if __name__ == "__main__":
    main()
