"""Fit a power-capped part's energy per MAC of its matrix path (`chip.mma_residual`) on the clocks
it was measured to hold under its cap, and print each calibration clock's leave-one-out error.

Run: python benchmarks/clock_fit.py [CALIBRATION_YAML]  (default: the MI300X's, a few minutes)
A part whose power exceeds its cap under sustained work runs at the clock where its power meets
the cap. At a row's measured clock f the model's average power is P = A + c x MACs / t, where A
is accsim's power of the run at f (no cap, nominal supply: the preset has no V-f table) without
the fitted part and t its time; c (pJ per MAC at the arch's node) is fitted by least squares to
P = chip.tdp over the rows. Each row's clock is then predicted as the validation runs find it
(the preset's clock, capped by chip.tdp in simulator/report/power_cap.py) with c fitted on all
rows and on the others (leave-one-out), and every published row of the part is printed with c.
"""

import sys
from pathlib import Path

import validate
import yaml

import simulator
from simulator.report.power_cap import at_clock

DATA = Path(__file__).parent / "data" / "calibration" / "mi300x_clocks.yaml"
FITTED = "mma_residual"


def load(path: Path = DATA) -> list[dict]:
    """The calibration rows, each with its published.yaml entry and its run at the measured clock:
    `uncapped_w` (A), `macs_per_s` (MACs / t) and `cap_w`."""
    entries = {e["id"]: e for e in yaml.safe_load(validate.DATA.read_text())}
    rows = yaml.safe_load(path.read_text())["rows"]
    for row in rows:
        entry = row["entry"] = entries[row["row"]]
        arch = _arch(entry)
        cap_w = arch.chip.tdp * 1e-3
        free = arch.model_copy(update={"chip": arch.chip.model_copy(update={"tdp": None})})
        report = _run(at_clock(free, row["clock_mhz"] * 1e6), entry)
        energy = report.energy
        fitted_j = energy[energy.part == FITTED].energy_pj.sum() * 1e-12
        row["uncapped_w"] = report.power["power_w"] - fitted_j / report.seconds
        row["macs_per_s"] = report.summary["macs"] / report.seconds
        row["cap_w"] = cap_w
    return rows


def fit(rows: list[dict]) -> float:
    """Least-squares c (pJ per MAC) that puts every row's power at its measured clock on the cap."""
    num = sum(r["macs_per_s"] * (r["cap_w"] - r["uncapped_w"]) for r in rows)
    return float(num / sum(r["macs_per_s"] ** 2 for r in rows) * 1e12)


def capped_clock_mhz(row: dict, c: float) -> float:
    """The clock the run of `row` settles at under the cap with c pJ per MAC."""
    report = _run(_arch(row["entry"], c), row["entry"])
    throttled = report.power["throttled"]
    return (throttled["clock_hz"] if throttled else report.clock_hz) / 1e6


def _arch(entry: dict, c: float | None = None):
    overrides = validate._pairs(entry.get("arch_overrides"))
    if c is not None:
        overrides.append((["chip", FITTED], f"{c!r} pJ"))
    return simulator.load_arch(entry["device"], overrides)


def _run(arch, entry: dict):
    workload = simulator.load_workload(entry["workload"])
    return simulator.simulate(arch, workload, numerics=False, limits=validate.ROW_LIMITS)


def main(path: Path = DATA) -> None:
    rows = load(path)
    c = fit(rows)
    carried = _arch(rows[0]["entry"]).chip.mma_residual
    print(f"fitted chip.{FITTED}: {c:.4f} pJ per MAC (the preset carries {carried})")
    print(f"{'row':28s} {'measured':>9s} {'fit':>9s} {'error':>7s} {'leave-one-out':>14s}")
    for i, row in enumerate(rows):
        clock = capped_clock_mhz(row, c)
        others = [r for j, r in enumerate(rows) if j != i]
        left = capped_clock_mhz(row, fit(others)) if others else None
        loo = f"{(left / row['clock_mhz'] - 1) * 100:+13.1f}%" if left else ""
        print(
            f"{row['row']:28s} {row['clock_mhz']:6.0f}MHz {clock:6.0f}MHz "
            f"{(clock / row['clock_mhz'] - 1) * 100:+6.1f}% {loo:>14s}"
        )
    device = rows[0]["entry"]["device"]
    runner = validate.Runner()
    print(f"\n{device} rows of published.yaml with c (the preset's clock under its cap):")
    for entry in yaml.safe_load(validate.DATA.read_text()):
        if entry["device"] != device:
            continue
        fitted = dict(entry, arch_overrides=[*(entry.get("arch_overrides") or []),
                                             [["chip", FITTED], f"{c!r} pJ"]])  # fmt: skip
        out = validate.evaluate(fitted, runner)
        print(f"{entry['id']:28s} {out['published']:9.1f} {out['predicted']:9.1f} "
              f"{out['error_pct']:+6.1f}%")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
