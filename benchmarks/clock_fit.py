"""Fit a power-capped part's energy of its matrix path per issue slot (`chip.mma_residual`) and its
V-f law (`chip.voltage_exponent`) on the clocks it was measured to hold under its cap, and print
each clock's error, the calibration rows' leave-one-out errors and the held-out rows'.

Run: python benchmarks/clock_fit.py [CLOCKS_YAML] [--board W,EFF ...] [--gamma G ...]  (default:
the MI300X's, a minute or two per board)
A part whose power exceeds its cap under sustained work runs at the clock where its power meets
the cap. At a row's measured clock f, with supply V / V_nom = v = (f / f_nom)^gamma (f_nom the
preset's clock), the model's average power is P = A(v) + c v^2 x S / t, where A(v) is accsim's
power of the run at f and v (no cap) without the fitted part (quadratic in v: one run per row,
priced at three supplies), S the run's issue slots (MACs / the array's rate at the precision) and
t its time; c (pJ per slot at the arch's node and nominal supply) is fitted by least squares to
P = chip.tdp over the rows marked `calibration` at each gamma, and gamma by the least residual
(golden section in [0, 1]), or given (`--gamma`: one measured cap and clock cannot fit both).
A held-out row may give its TFLOPS without a clock. Every row's clock is then predicted as the
validation runs find it
(the preset's clock, capped by chip.tdp in simulator/report/power_cap.py) with (c, gamma), each
calibration row's also with both fitted on the others (leave-one-out), and with its TFLOPS where
the source gives them.
`--board W,EFF` repeats the fit and the clocks with a board the model does not count between the
cap and the die and DRAM: W watts drawn beside them (fans, other rails) and regulators that deliver
EFF of what they draw (P / EFF + W = cap, so the die and DRAM get EFF x (cap - W)), to test whether
power beyond die and DRAM explains the held-out clocks (issue 17).
"""

import argparse
import math
from dataclasses import replace
from pathlib import Path

import validate
import yaml

import simulator
from simulator.report.power import own_residual
from simulator.report.power_cap import at_clock, supply_shift

DATA = Path(__file__).parent / "data" / "calibration" / "mi300x_clocks.yaml"
FITTED = "mma_residual"
LAW = "voltage_exponent"
GOLDEN_STEPS = 60  # golden-section steps on gamma in [0, 1]: below 1e-12
NO_BOARD = (0.0, 1.0)  # (watts beside the die and DRAM, regulator efficiency): the cap is theirs


def load(path: Path = DATA, board: tuple[float, float] = NO_BOARD) -> list[dict]:
    """The rows, each with its board and, where it gives a measured clock, its run there:
    `uncapped_w` (A at supplies 0, 1 and 2 x nominal), `slots_per_s` (S / t), `clock_ratio`
    (f / f_nom) and `cap_w`, the part of the cap left to the die and DRAM by `board` (watts beside
    them, regulator efficiency)."""
    rows = yaml.safe_load(path.read_text())["rows"]
    for row in rows:
        row["board"] = board
        if "clock_mhz" not in row:
            if row.get("calibration"):
                raise ValueError(f"calibration row {row['id']} gives no clock_mhz")
            continue
        arch = _arch(row)
        free = arch.model_copy(update={"chip": arch.chip.model_copy(update={"tdp": None})})
        report = _run(at_clock(free, row["clock_mhz"] * 1e6), row)
        macs = report.energy[
            (report.energy.part == "mac") & report.energy.action.str.startswith("mac_")
        ]
        slots = sum(
            count * own_residual(report.machine.components[name], action, 1.0)
            for name, action, count in zip(macs.component, macs.action, macs["count"])
        )
        row["uncapped_w"] = [_unfitted_w(replace(report, voltage_scale=v)) for v in (0.0, 1.0, 2.0)]
        row["slots_per_s"] = slots / report.seconds
        row["clock_ratio"] = row["clock_mhz"] * 1e6 / arch.clock
        row["cap_w"] = _arch(row, board=board).chip.tdp * 1e-3
    return rows


def _unfitted_w(report) -> float:
    """Average power of `report`'s run without the fitted part."""
    energy = report.energy
    return (
        report.power["power_w"]
        - energy[energy.part == FITTED].energy_pj.sum() * 1e-12 / report.seconds
    )


def _at_law(row: dict, gamma: float) -> tuple[float, float]:
    """(A, S / t x v^2) of `row` at the supply gamma gives its measured clock."""
    v = row["clock_ratio"] ** gamma
    low, middle, high = row["uncapped_w"]  # at supplies 0, 1 and 2
    return middle + supply_shift(low, middle, high, 1.0, v), row["slots_per_s"] * v * v


def _c_at(rows: list[dict], gamma: float) -> tuple[float, float]:
    """(c in W per slot per s, squared residual in W^2) of the least-squares c at `gamma`."""
    pairs = [(_at_law(r, gamma), r["cap_w"]) for r in rows]
    c = sum(w * (cap - a) for (a, w), cap in pairs) / sum(w * w for (_, w), _ in pairs)
    return c, sum((a + c * w - cap) ** 2 for (a, w), cap in pairs)


def fit(rows: list[dict], gamma: float | None = None) -> tuple[float, float]:
    """(c pJ per slot, gamma) that put every row's power at its measured clock on its cap in least
    squares; gamma as given, else the one of least residual in [0, 1] (two rows at least: one row
    meets its cap at every gamma)."""
    if gamma is None:
        if len(rows) < 2:
            raise ValueError("one measured clock cannot fit both c and gamma: give gamma (--gamma)")
        low, high = 0.0, 1.0
        inverse = (math.sqrt(5) - 1) / 2
        for _ in range(GOLDEN_STEPS):
            left, right = high - inverse * (high - low), low + inverse * (high - low)
            if _c_at(rows, left)[1] <= _c_at(rows, right)[1]:
                high = right
            else:
                low = left
        gamma = (low + high) / 2
    return float(_c_at(rows, gamma)[0] * 1e12), gamma


def capped(row: dict, fitted: tuple[float, float]) -> tuple[float, float]:
    """(MHz, TFLOPS) of the run of `row` under its cap, less the board `load` gave it, with
    `fitted` (c pJ per slot, gamma)."""
    report = _run(_arch(row, fitted, row.get("board", NO_BOARD)), row)
    throttled = report.power["throttled"]
    clock = throttled["clock_hz"] if throttled else report.clock_hz
    return clock / 1e6, 2 * report.summary["macs"] / report.seconds / 1e12


def _arch(row: dict, fitted: tuple | None = None, board: tuple[float, float] = NO_BOARD):
    """The row's arch, with `fitted` (c pJ per slot, gamma) where given and the cap left to the die
    and DRAM by `board` (W beside them, regulator efficiency)."""
    overrides = validate._pairs(row.get("arch_overrides"))
    if fitted is not None:
        c, gamma = fitted
        overrides += [(["chip", FITTED], f"{c!r} pJ"), (["chip", LAW], gamma)]
    arch = simulator.load_arch(row["device"], overrides)
    if board == NO_BOARD:
        return arch
    watts, efficiency = board
    tdp = efficiency * (arch.chip.tdp - watts * 1e3)  # mW
    return arch.model_copy(update={"chip": arch.chip.model_copy(update={"tdp": tdp})})


def _board(text: str) -> tuple[float, float]:
    """`W,EFF` (watts beside the die and DRAM, regulator efficiency in (0, 1]) from the command line."""
    try:
        watts, efficiency = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected W,EFF, e.g. 100,0.9") from None
    if watts < 0 or not 0 < efficiency <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected W >= 0 and 0 < EFF <= 1")
    return watts, efficiency


def _gamma(text: str) -> float:
    """A V-f law's exponent in [0, 1] (chip.voltage_exponent's range) from the command line."""
    try:
        gamma = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number in [0, 1]") from None
    if not 0 <= gamma <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number in [0, 1]")
    return gamma


def _run(arch, row: dict):
    workload = simulator.load_workload(row["workload"])
    return simulator.simulate(arch, workload, numerics=False, limits=validate.ROW_LIMITS)


def main(path: Path = DATA, board: tuple[float, float] = NO_BOARD, gammas: tuple = (None,)) -> None:
    """Fit at each of `gammas` (None: fitted too) and print every row's clock and TFLOPS, beside
    the TFLOPS of the preset as it is."""
    try:
        rows = load(path, board)
        calibration = [r for r in rows if r.get("calibration")]
        fits = [(fit(calibration, gamma), gamma) for gamma in gammas]
    except ValueError as error:
        raise SystemExit(f"{path}: {error}") from None
    chip = _arch(calibration[0]).chip
    preset = {row["id"]: capped(row, None)[1] for row in rows if "tflops" in row}
    for fitted, gamma in fits:
        print(
            f"fitted chip.{FITTED}: {fitted[0]:.4f} pJ per slot, chip.{LAW}: {fitted[1]:.4f}"
            f"{'' if gamma is None else ' (given)'} (the preset carries {chip.mma_residual}, "
            f"{chip.voltage_exponent}); board beyond the die and DRAM: {board[0]:g} W, "
            f"regulators {board[1]:.0%} efficient"
        )
        head = f"{'row':24s} {'measured':>9s} {'model':>9s} {'error':>7s} {'leave-one-out':>14s}"
        print(f"{head} {'TFLOPS':>8s} {'source':>8s} {'error':>7s} {'preset':>8s} {'error':>7s}")
        for row in rows:
            _print_row(row, fitted, calibration, gamma, preset.get(row["id"]))


def _print_row(row: dict, fitted: tuple, calibration: list[dict], gamma, preset) -> None:
    """One row of `main`'s table: the measured clock where given, the one under the cap with
    `fitted`, the leave-one-out clock of a calibration row, TFLOPS against the source's and the
    `preset` TFLOPS against it."""
    clock, tflops = capped(row, fitted)
    measured = row.get("clock_mhz")
    loo = ""
    if row.get("calibration") and len(calibration) > 1:
        left, _ = capped(row, fit([r for r in calibration if r is not row], gamma))
        loo = f"{(left / measured - 1) * 100:+.1f}%"
    flops = f"{tflops:8.1f}"
    if "tflops" in row:
        source = row["tflops"]
        flops += f" {source:>8g} {(tflops / source - 1) * 100:+6.1f}%"
        flops += f" {preset:8.1f} {(preset / source - 1) * 100:+6.1f}%"
    held = "" if row.get("calibration") else " (held out)"
    given = f"{measured:6.0f}MHz" if measured else f"{'-':>9s}"
    error = f"{(clock / measured - 1) * 100:+6.1f}%" if measured else f"{'':7s}"
    print(f"{row['id']:24s} {given} {clock:6.0f}MHz {error} {loo:>14s} {flops}{held}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clocks", nargs="?", type=Path, default=DATA)
    parser.add_argument("--board", type=_board, nargs="+", default=[NO_BOARD], metavar="W,EFF")
    parser.add_argument("--gamma", type=_gamma, nargs="+", default=[None], metavar="G")
    args = parser.parse_args()
    for board in args.board:
        main(args.clocks, board, tuple(args.gamma))
