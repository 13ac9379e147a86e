"""Fit a power-capped part's energy of its matrix path per issue slot (`chip.mma_residual`) on the
clocks it was measured to hold under its cap, and print each clock's error, the calibration rows'
leave-one-out errors and the held-out rows'.

Run: python benchmarks/clock_fit.py [CLOCKS_YAML]  (default: the MI300X's, a minute or two)
A part whose power exceeds its cap under sustained work runs at the clock where its power meets
the cap. At a row's measured clock f the model's average power is P = A + c x S / t, where A is
accsim's power of the run at f (no cap, nominal supply: the preset has no V-f table) without the
fitted part, S the run's issue slots (MACs / the array's rate at the precision) and t its time;
c (pJ per slot at the arch's node) is fitted by least squares to P = chip.tdp over the rows marked
`calibration`. Every row's clock is then predicted as the validation runs find it (the preset's
clock, capped by chip.tdp in simulator/report/power_cap.py) with c, each calibration row's also
with c fitted on the others (leave-one-out), and with its TFLOPS where the source gives them.
"""

import sys
from pathlib import Path

import validate
import yaml

import simulator
from simulator.report.power import own_residual
from simulator.report.power_cap import at_clock

DATA = Path(__file__).parent / "data" / "calibration" / "mi300x_clocks.yaml"
FITTED = "mma_residual"


def load(path: Path = DATA) -> list[dict]:
    """The rows, each with its run at the measured clock: `uncapped_w` (A), `slots_per_s` (S / t)
    and `cap_w`."""
    rows = yaml.safe_load(path.read_text())["rows"]
    for row in rows:
        arch = _arch(row)
        free = arch.model_copy(update={"chip": arch.chip.model_copy(update={"tdp": None})})
        report = _run(at_clock(free, row["clock_mhz"] * 1e6), row)
        energy = report.energy
        fitted_j = energy[energy.part == FITTED].energy_pj.sum() * 1e-12
        macs = energy[(energy.part == "mac") & energy.action.str.startswith("mac_")]
        slots = sum(
            count * own_residual(report.machine.components[name], action, 1.0)
            for name, action, count in zip(macs.component, macs.action, macs["count"])
        )
        row["uncapped_w"] = report.power["power_w"] - fitted_j / report.seconds
        row["slots_per_s"] = slots / report.seconds
        row["cap_w"] = arch.chip.tdp * 1e-3
    return rows


def fit(rows: list[dict]) -> float:
    """Least-squares c (pJ per slot) that puts every row's power at its measured clock on its cap."""
    num = sum(r["slots_per_s"] * (r["cap_w"] - r["uncapped_w"]) for r in rows)
    return float(num / sum(r["slots_per_s"] ** 2 for r in rows) * 1e12)


def capped(row: dict, c: float) -> tuple[float, float]:
    """(MHz, TFLOPS) of the run of `row` under its cap with c pJ per slot."""
    report = _run(_arch(row, c), row)
    throttled = report.power["throttled"]
    clock = throttled["clock_hz"] if throttled else report.clock_hz
    return clock / 1e6, 2 * report.summary["macs"] / report.seconds / 1e12


def _arch(row: dict, c: float | None = None):
    overrides = validate._pairs(row.get("arch_overrides"))
    if c is not None:
        overrides.append((["chip", FITTED], f"{c!r} pJ"))
    return simulator.load_arch(row["device"], overrides)


def _run(arch, row: dict):
    workload = simulator.load_workload(row["workload"])
    return simulator.simulate(arch, workload, numerics=False, limits=validate.ROW_LIMITS)


def main(path: Path = DATA) -> None:
    rows = load(path)
    calibration = [r for r in rows if r.get("calibration")]
    c = fit(calibration)
    carried = _arch(calibration[0]).chip.mma_residual
    print(f"fitted chip.{FITTED}: {c:.4f} pJ per slot (the preset carries {carried})")
    head = f"{'row':18s} {'measured':>9s} {'model':>9s} {'error':>7s} {'leave-one-out':>14s}"
    print(f"{head} {'TFLOPS':>8s} {'source':>8s} {'error':>7s}")
    for row in rows:
        clock, tflops = capped(row, c)
        loo = ""
        if row.get("calibration") and len(calibration) > 1:
            left, _ = capped(row, fit([r for r in calibration if r is not row]))
            loo = f"{(left / row['clock_mhz'] - 1) * 100:+.1f}%"
        flops = f"{tflops:8.1f}"
        if "tflops" in row:
            flops += f" {row['tflops']:>8g} {(tflops / row['tflops'] - 1) * 100:+6.1f}%"
        held = "" if row.get("calibration") else " (held out)"
        print(
            f"{row['id']:18s} {row['clock_mhz']:6.0f}MHz {clock:6.0f}MHz "
            f"{(clock / row['clock_mhz'] - 1) * 100:+6.1f}% {loo:>14s} {flops}{held}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
