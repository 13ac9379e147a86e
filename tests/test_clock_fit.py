"""The MI300X's chip.mma_residual and chip.voltage_exponent are the ones benchmarks/clock_fit.py fits
on the clocks AMD measured under its power caps (slow: it simulates the calibration GEMMs), the fit
recovers a law it is given, and its `--board` test leaves the die and DRAM the cap less the board's
draw over its regulators."""

import argparse
import sys
from pathlib import Path

import pytest

import simulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import clock_fit  # noqa: E402  (a script in benchmarks/, not a package)


@pytest.fixture(scope="module")
def calibration():
    return [row for row in clock_fit.load() if row.get("calibration")]


@pytest.mark.slow
def test_mi300x_like_carries_the_fitted_mma_residual_and_voltage_law(calibration):
    chip = simulator.load_arch("mi300x-like").chip
    c, gamma = clock_fit.fit(calibration)
    assert round(c, 2) == pytest.approx(chip.mma_residual)  # three figures
    assert round(gamma, 3) == pytest.approx(chip.voltage_exponent)


@pytest.mark.slow
def test_the_fit_puts_each_calibration_run_on_the_cap(calibration):
    # c is fitted on power at the measured clocks; a single row's fit (at a given law) puts that
    # row exactly on the cap, so its clock found by the power-cap path is the measured one (within
    # the cap's steps)
    for row, gamma in zip(calibration, (0.0, 0.5, 1.0)):
        clock, _ = clock_fit.capped(row, clock_fit.fit([row], gamma))
        assert clock == pytest.approx(row["clock_mhz"], rel=2e-3)


def test_a_board_leaves_the_die_and_dram_the_cap_less_its_draw_over_its_regulators():
    row = {"device": "mi300x-like"}  # 750 W cap: the die and DRAM get 0.9 x (750 - 100) = 585 W
    assert clock_fit._arch(row, board=(100.0, 0.9)).chip.tdp == pytest.approx(585e3)  # mW
    assert clock_fit._arch(row).chip.tdp == pytest.approx(750e3)


@pytest.mark.parametrize("text", ["100", "x,0.9", "-1,0.9", "100,0", "100,1.5"])
def test_a_malformed_board_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        clock_fit._board(text)


@pytest.mark.slow
def test_with_a_board_the_fit_still_puts_a_calibration_run_on_the_cap():
    # the fit and the capped runs must see the same cap: what the board leaves the die and DRAM
    row = next(r for r in clock_fit.load(board=(100.0, 0.9)) if r.get("calibration"))
    assert row["cap_w"] == pytest.approx(0.9 * (750 - 100))
    clock, _ = clock_fit.capped(row, clock_fit.fit([row], 0.0))
    assert clock == pytest.approx(row["clock_mhz"], rel=2e-3)


def law_rows(c_pj: float, gamma: float) -> list[dict]:
    """Three made-up rows whose caps a part with (c_pj, gamma) meets at their clocks: power at
    supply v is a + b v + d v^2 (given at v = 0, 1, 2), plus c v^2 S / t."""
    rows = []
    for ratio, a, b, d, slots in [
        (0.5, 60, 40, 300, 2e14),
        (0.6, 80, 50, 350, 1.5e14),
        (0.7, 70, 30, 400, 3e14),
    ]:
        v = ratio**gamma
        at = [a + b * x + d * x * x for x in (0.0, 1.0, 2.0)]
        cap = a + b * v + d * v * v + c_pj * 1e-12 * v * v * slots
        rows.append({"uncapped_w": at, "slots_per_s": slots, "clock_ratio": ratio, "cap_w": cap})
    return rows


@pytest.mark.parametrize("gamma", [0.0, 0.2, 0.5, 0.9])
def test_the_fit_recovers_the_law_of_rows_made_from_it(gamma):
    c, fitted = clock_fit.fit(law_rows(1.5, gamma))
    assert c == pytest.approx(1.5, rel=1e-6) and fitted == pytest.approx(gamma, abs=1e-6)


def test_at_a_given_law_the_fit_is_the_least_squares_c():
    rows = law_rows(2.0, 0.3)
    assert clock_fit.fit(rows, 0.3) == (pytest.approx(2.0), 0.3)


def test_one_row_cannot_fit_the_law_too():
    # one row meets its cap at every gamma (c follows), so gamma must be given
    with pytest.raises(ValueError, match="give gamma"):
        clock_fit.fit(law_rows(1.5, 0.3)[:1])
    assert clock_fit.fit(law_rows(1.5, 0.3)[:1], 0.3) == (pytest.approx(1.5), 0.3)


@pytest.mark.parametrize("text", ["x", "-0.1", "1.5"])
def test_a_malformed_gamma_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        clock_fit._gamma(text)


def _clocks(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "clocks.yaml"
    path.write_text("rows:\n" + "".join(f"  - {row}\n" for row in rows))
    return path


SMALL = 'device: a100-like, workload: "gemm:M=256,N=256,K=256,dtype=bf16"'


def test_a_held_out_row_may_give_only_its_rate(tmp_path):
    # no measured clock: nothing to fit on, so load runs nothing for it
    (row,) = clock_fit.load(_clocks(tmp_path, f"{{id: r, {SMALL}, tflops: 100}}"))
    assert "uncapped_w" not in row and row["board"] == clock_fit.NO_BOARD


def test_a_calibration_row_without_a_clock_is_refused(tmp_path):
    path = _clocks(tmp_path, f"{{id: r, {SMALL}, tflops: 100, calibration: true}}")
    with pytest.raises(ValueError, match="r gives no clock_mhz"):
        clock_fit.load(path)


def test_fitting_the_law_on_one_clock_stops_with_one_line(tmp_path):
    path = _clocks(tmp_path, f"{{id: r, {SMALL}, clock_mhz: 1000, calibration: true}}")
    with pytest.raises(SystemExit, match="give gamma") as stop:
        clock_fit.main(path)
    assert "\n" not in str(stop.value)


@pytest.mark.slow
def test_the_a100_fit_at_a_given_law_puts_its_calibration_run_at_its_clock():
    rows = clock_fit.load(clock_fit.DATA.with_name("a100_clocks.yaml"))
    (row,) = [r for r in rows if r.get("calibration")]
    clock, _ = clock_fit.capped(row, clock_fit.fit([row], 0.0))
    assert clock == pytest.approx(row["clock_mhz"], rel=2e-3)
