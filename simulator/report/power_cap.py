"""A power cap (`chip.tdp`): when a run's average power exceeds it, the chip drops to the next lower
DVFS point (clock and voltage from `chip.operating_points`) and the run is simulated again; below the
lowest point the clock alone drops, or, on a part without points, the clock and with it the supply
along `chip.voltage_exponent`'s law. Energy per op scales with V², time with the clock."""

from collections.abc import Callable
from dataclasses import replace

from simulator import tech
from simulator.errors import CapacityError
from simulator.report.single import Report
from simulator.spec import ArchSpec

MAX_CLOCK_STEPS = 8  # clock-only steps below the lowest point before giving up
BISECTIONS = 60  # halvings of the clock ratio that meets the cap: to float precision


def at_clock(arch: ArchSpec, clock_hz: float) -> ArchSpec:
    """`arch` with its reference clock, and every component's own clock, scaled to `clock_hz`."""
    ratio = clock_hz / arch.clock

    def scaled(components: dict) -> dict:
        return {
            name: spec.model_copy(update={"clock": spec.clock * ratio})
            if getattr(spec, "clock", None)
            else spec
            for name, spec in components.items()
        }

    cores = (
        arch.cores.model_copy(update={"components": scaled(arch.cores.components)})
        if arch.cores
        else None
    )
    return arch.model_copy(
        update={"clock": clock_hz, "components": scaled(arch.components), "cores": cores}
    )


def nominal_voltage(arch: ArchSpec) -> float:
    """Supply at the arch clock: its operating point's, else the node's Vdd from node_scaling.yaml."""
    for point in arch.chip.operating_points:
        if point.clock == arch.clock:
            return point.voltage
    nodes = {float(n): v["vdd"] for n, v in tech.table("node_scaling")["nodes"].items()}
    return nodes.get(float(arch.tech_node), 0.9) if nodes else 0.9


Rerun = Callable[[ArchSpec, float, dict], Report]


def cap_power(report: Report, rerun: Rerun) -> Report:
    """`report` if its average power is within the cap; else the fastest DVFS point that is, rerun
    through `rerun(arch at the point, V / V_nominal, what happened)`."""
    arch = report.machine.arch
    cap_w = arch.chip.tdp * 1e-3
    if report.power["power_w"] <= cap_w:
        return report
    nominal = nominal_voltage(arch)
    first_w = report.power["power_w"]

    def note(clock: float, voltage: float) -> dict:
        return {
            "clock_hz": clock,
            "voltage": voltage,
            "clock_ratio": clock / arch.clock,
            "voltage_ratio": voltage / nominal,
            "uncapped_power_w": first_w,
            "tdp_w": cap_w,
        }

    clock, voltage, current = arch.clock, nominal, report
    for point in (p for p in arch.chip.operating_points if p.clock < arch.clock):
        clock, voltage = point.clock, point.voltage
        current = rerun(at_clock(arch, clock), voltage / nominal, note(clock, voltage))
        if current.power["power_w"] <= cap_w:
            return current
    start, gamma = voltage, arch.chip.voltage_exponent
    # the static power at the lowest supply the clock can reach: the present one, or under a V-f
    # law (the supply falling with the clock) only what does not follow the supply
    floor = _powers(current, 0.0) if gamma > 0 else None
    static_w = floor[1] if floor else current.power["idle_power_w"]
    if static_w >= cap_w:
        raise CapacityError(
            f"{arch.name}: chip.tdp {cap_w:g} W is below the chip's static power {static_w:.3g} W "
            "(leakage, SerDes, DRAM devices, an ungated clock); no clock meets it"
        )

    def law(f: float) -> float:  # the supply at clock f, x nominal
        return start * (f / arch.clock) ** gamma / nominal

    for _ in range(MAX_CLOCK_STEPS):
        clock *= clock_ratio(current, cap_w, law, floor)
        floor = None  # priced for the run before the first step only
        voltage = start * (clock / arch.clock) ** gamma
        current = rerun(at_clock(arch, clock), voltage / nominal, note(clock, voltage))
        if current.power["power_w"] <= cap_w:
            return current
    raise CapacityError(
        f"{arch.name}: chip.tdp {cap_w:g} W: still {current.power['power_w']:.3g} W at "
        f"{clock / 1e6:.4g} MHz; the power that does not follow the clock (DRAM traffic of a "
        "memory-bound run) exceeds the cap"
    )


def clock_ratio(
    current: Report,
    cap_w: float,
    scale_at: Callable[[float], float],
    floor: tuple[float, float] | None = None,
) -> float:
    """The clock, as a fraction of `current`'s, at which its run meets `cap_w` when its supply is
    `scale_at(clock)` x nominal: dynamic power follows the clock (the work's energy over a time
    that follows it), and both dynamic and static power follow the supply as `current` prices it
    (quadratic in V: on-die switching V², leakage V, the rest none). The supply is found by
    bisection, then the clock at that supply by the linear law, so a fixed supply is exact.
    `floor` is `current` priced at supply 0 where the caller has it already (each pricing
    rebuilds the run's energy table)."""
    clock = current.clock_hz
    at = current.voltage_scale
    total, static = current.power["power_w"], current.power["idle_power_w"]
    low_total, low_static = floor or _powers(current, 0.0)
    high_total, high_static = _powers(current, 2 * at)

    def dynamic_and_static(scale: float) -> tuple[float, float]:
        idle = static + supply_shift(low_static, static, high_static, at, scale)
        return total + supply_shift(low_total, total, high_total, at, scale) - idle, idle

    def excess(ratio: float) -> float:
        dynamic_w, static_w = dynamic_and_static(scale_at(clock * ratio))
        return static_w + dynamic_w * ratio - cap_w

    low, high = 0.0, 1.0
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        low, high = (middle, high) if excess(middle) < 0 else (low, middle)
    dynamic_w, static_w = dynamic_and_static(scale_at(clock * high))
    return (cap_w - static_w) / dynamic_w * (1 - 1e-6)


def supply_shift(low: float, middle: float, high: float, at: float, scale: float) -> float:
    """A power priced at supplies 0, `at` and 2 `at` (low, middle, high) is quadratic in the
    supply (switching V², leakage V, the rest constant): its change from `at` to `scale`."""
    step = scale - at
    slope = (high - low) / (2 * at)
    curve = (high + low - 2 * middle) / (2 * at * at)
    return slope * step + curve * step * step


def _powers(report: Report, scale: float) -> tuple[float, float]:
    """(average, static) W of `report`'s run priced at supply `scale` x nominal."""
    power = replace(report, voltage_scale=scale).power
    return power["power_w"], power["idle_power_w"]
