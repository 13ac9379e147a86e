"""The MI300X's chip.mma_residual is the one benchmarks/clock_fit.py fits on the clocks AMD measured
under its power cap (slow: it simulates the calibration GEMMs), and its `--board` test leaves the
die and DRAM the cap less the board's draw over its regulators."""

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
def test_mi300x_like_carries_the_fitted_mma_residual(calibration):
    carried = simulator.load_arch("mi300x-like").chip.mma_residual
    assert round(clock_fit.fit(calibration), 1) == pytest.approx(carried)  # two figures: LOO 6 %


@pytest.mark.slow
def test_the_fit_puts_each_calibration_run_on_the_cap(calibration):
    # c is fitted on power at the measured clocks; a single row's fit puts that row exactly on the
    # cap, so its clock found by the power-cap path is the measured one (within the cap's steps)
    for row in calibration:
        clock, _ = clock_fit.capped(row, clock_fit.fit([row]))
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
    clock, _ = clock_fit.capped(row, clock_fit.fit([row]))
    assert clock == pytest.approx(row["clock_mhz"], rel=2e-3)
