"""The MI300X's chip.mma_residual is the one benchmarks/clock_fit.py fits on the clocks AMD measured
under its power cap (slow: it simulates the calibration GEMMs)."""

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
