"""A V-f law under the power cap (`chip.voltage_exponent`, gamma): a part without operating points
that the cap slows to f runs at V_nom (f / f_nom)^gamma and pays (V / V_nom)² per op."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import CapacityError, SpecError
from simulator.report import power_cap
from tests.report.test_power import GEMM, MAPPING, fast_arch


@pytest.fixture(scope="module")
def report():
    return simulator.simulate(fast_arch(), GEMM, MAPPING, numerics=False)


def capped(report, share: float, gamma: float):
    idle, full = report.power["idle_power_w"], report.power["power_w"]
    cap_w = idle + share * (full - idle)
    chip = {"tdp": f"{cap_w * 1e3} mW", "voltage_exponent": gamma}
    return cap_w, simulator.simulate(fast_arch(**chip), GEMM, MAPPING, numerics=False)


def mac_pj(report) -> float:
    return report.energy[report.energy.action == "mac_int8"].pj_per_count.iloc[0]


@pytest.mark.parametrize("gamma", [0.3, 0.5, 1.0])
def test_a_capped_compute_bound_run_pays_v_squared_per_mac_with_v_from_the_law(report, gamma):
    cap_w, run = capped(report, 0.5, gamma)
    ratio = run.throttle["clock_hz"] / report.clock_hz
    assert run.throttle["voltage_ratio"] == pytest.approx(ratio**gamma, rel=1e-12)
    assert run.throttle["voltage"] == pytest.approx(0.9 * ratio**gamma, rel=1e-12)  # Vdd 0.9 V
    assert mac_pj(run) / mac_pj(report) == pytest.approx(ratio ** (2 * gamma), rel=1e-12)
    # compute-bound: the same cycles at the lower clock, so the law's clock lands on the cap
    assert run.power["power_w"] == pytest.approx(cap_w, rel=1e-3)
    assert run.power["power_w"] <= cap_w


def test_a_supply_that_falls_with_the_clock_keeps_a_higher_clock(report):
    clocks = [capped(report, 0.5, gamma)[1].throttle["clock_hz"] for gamma in (0.0, 0.5, 1.0)]
    assert clocks[0] < clocks[1] < clocks[2]


def test_gamma_zero_is_the_clock_the_linear_law_gives_at_the_nominal_supply(report):
    # without a law the cap's dynamic power follows the clock at a fixed supply: one step from the
    # uncapped run, f = f_nom (cap - static) / dynamic, less the step's 1e-6 margin
    idle, full = report.power["idle_power_w"], report.power["power_w"]
    cap_w, run = capped(report, 0.5, 0.0)
    expected = report.clock_hz * (cap_w - idle) / (full - idle) * (1 - 1e-6)
    assert run.throttle["clock_hz"] == expected
    assert run.throttle["voltage_ratio"] == 1.0 and mac_pj(run) == mac_pj(report)


def test_a_cap_below_the_nominal_static_power_is_met_where_the_supply_falls(report):
    """Under a law the leakage falls with the supply, so a cap under the nominal static power
    still has a clock (and its run keeps under it); at a fixed supply it has none."""
    cap_w = 0.8 * report.power["idle_power_w"]

    def run(gamma):
        chip = {"tdp": f"{cap_w * 1e3} mW", "voltage_exponent": gamma}
        return simulator.simulate(fast_arch(**chip), GEMM, MAPPING, numerics=False)

    slowed = run(0.5)
    assert slowed.power["power_w"] <= cap_w * (1 + 1e-9)
    assert slowed.throttle["voltage_ratio"] < 1
    with pytest.raises(CapacityError, match="below the chip's static power"):
        run(0.0)


@settings(max_examples=6, deadline=None)
@given(share=st.floats(0.2, 0.95), gamma=st.floats(0.0, 1.0))
def test_power_under_a_voltage_law_never_exceeds_the_cap(report, share, gamma):
    cap_w, run = capped(report, share, gamma)
    assert run.power["power_w"] <= cap_w * (1 + 1e-9)
    assert run.throttle["voltage_ratio"] == pytest.approx(run.throttle["clock_ratio"] ** gamma)


@pytest.mark.parametrize(
    "chip, message",
    [
        ({"voltage_exponent": -0.1}, "chip.voltage_exponent: must be >= 0"),
        ({"voltage_exponent": 1.5}, "chip.voltage_exponent: must be <= 1"),
        ({"voltage_exponent": "x"}, "chip.voltage_exponent: must be a number"),
        (
            {
                "voltage_exponent": 0.5,
                "operating_points": [{"clock": "700 MHz", "voltage": "0.9 V"}],
            },
            "chip: voltage_exponent is the V-f law of a part without operating_points",
        ),
    ],
)
def test_a_bad_voltage_exponent_is_a_one_line_error(chip, message):
    with pytest.raises(SpecError, match=message) as error:
        simulator.simulate(fast_arch(**chip), GEMM, MAPPING, numerics=False)
    assert "\n" not in str(error.value)


def test_each_run_is_priced_once_at_each_supply(report, monkeypatch):
    """Under a law the cap prices a run at supply 0 (its static floor, then the clock search's
    quadratic) and at twice its own supply: two pricings a run, none repeated (each rebuilds the
    run's energy table)."""
    priced = []
    price = power_cap._powers

    def counted(run, scale):
        priced.append((run, scale))
        return price(run, scale)

    monkeypatch.setattr(power_cap, "_powers", counted)
    capped(report, 0.5, 0.5)
    runs = list(dict.fromkeys(id(run) for run, _ in priced))
    assert [(id(run), scale) for run, scale in priced[:2]] == [(runs[0], 0.0), (runs[0], 2.0)]
    for key in runs:
        scales = [scale for run, scale in priced if id(run) == key]
        assert len(scales) == 2 and scales[0] == 0.0 and scales[1] > 0.0
