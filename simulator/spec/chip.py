"""Chip-level spec: the power cap, the DVFS operating points, the device flavour that sets leakage,
and the chip-to-chip links whose SerDes sit on the die."""

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from simulator.spec.types import Flag, Hz, Mw, Pj, PositiveInt, Real, Strict
from simulator.spec.units import parse_quantity

Volts = Annotated[float, BeforeValidator(lambda v: parse_quantity(v, "voltage")), Field(gt=0)]
Kelvin = Annotated[
    float, BeforeValidator(lambda v: parse_quantity(v, "temperature")), Field(ge=300, le=400)
]
LinkKind = Literal["nvlink3", "nvlink4", "tpu_v4_ici", "pcie3_x16", "pcie4_x16", "pcie5_x16"]


class OperatingPoint(Strict):
    """One DVFS pair: the chip runs at `clock` when supplied with `voltage`."""

    clock: Hz
    """Reference clock at this point, e.g. '1.41 GHz'."""
    voltage: Volts
    """Core supply at this point, e.g. '0.8 V'; dynamic energy per op scales with its square."""


class LinkPorts(Strict):
    """Chip-to-chip ports of one kind (their SerDes are on the die and always on)."""

    kind: LinkKind
    """Link preset from simulator/tech/noc.yaml chip_to_chip."""
    count: PositiveInt = 1
    """Ports of this kind on the chip."""


class ChipSpec(Strict):
    """What the chip has beyond its listed components, and its power limit."""

    tdp: Annotated[Mw, Field(gt=0.0)] | None = None
    """Power cap, e.g. '400 W': when the run's average power exceeds it the clock throttles (above
    0 W; leave it out for no cap)."""
    operating_points: list[OperatingPoint] = []
    """DVFS pairs; one must be the arch clock (the nominal point). Without them throttling lowers
    the clock at the nominal voltage, or along `voltage_exponent`'s law."""
    voltage_exponent: Real = Field(0.0, ge=0, le=1)
    """V-f law of a part without `operating_points`, gamma: a cap that lowers the clock to f
    supplies V_nom (f / f_nom)^gamma (0: the nominal supply at every clock), so dynamic energy per
    op scales with (f / f_nom)^(2 gamma); a per-part value, fitted or from a published V-f curve
    (its source in `sources`)."""
    devices: Literal["lstp", "lop", "hp"] = "lop"
    """Transistor flavour that sets leakage per mm^2 (CACTI's itrs-lstp / itrs-lop / itrs-hp)."""
    temperature: Kelvin | None = None
    """Junction temperature that leakage is evaluated at, e.g. '360 K' (300-400 K, CACTI's range);
    unset: simulator/tech/chip.yaml leakage.temperature.default_k."""
    links: list[LinkPorts] = []
    """Chip-to-chip link ports (NVLink, ICI, PCIe): SerDes area and always-on power."""
    memory_interface_on_die: Flag = True
    """Whether the DRAM's PHY and controller sit on this die (DDR3/DDR4: counted from
    simulator/tech/chip.yaml memory_interface); false where the chip reaches its DRAM through
    another chip, or the die being modelled leaves them out."""
    mma_residual: Pj | None = None
    """Energy of the matrix units' path beyond the counted parts (operand delivery, issue,
    control) per issue slot, a MAC at the array's base rate (a precision at `rate` r carries r
    MACs a slot), at the arch's node and nominal supply, e.g. '2 pJ': a per-part value (fitted on
    the part's measured clocks at its cap, its source in `sources`). It replaces
    simulator/tech/chip.yaml's GV100-fitted mma_residual (also per issue slot), which only GPU-like
    cores pay.
    Unset: that table's value on GPU-like cores, none elsewhere."""
    clock_gating: Flag = True
    """Whether idle logic stops its clock; false: the clock tree to the MAC arrays and vector lanes
    runs every cycle at its full-activity power (simulator/tech/chip.yaml clock_network.ungated)."""
    sources: list[str] = []
    """Where the cap and operating points come from, or why they are unknown."""

    @field_validator("operating_points")
    @classmethod
    def _distinct(cls, points):
        clocks = [p.clock for p in points]
        if len(set(clocks)) != len(clocks):
            raise ValueError(f"two operating points share a clock: {clocks}")
        return sorted(points, key=lambda p: -p.clock)

    @model_validator(mode="after")
    def _one_voltage_rule(self):
        if self.voltage_exponent and self.operating_points:
            raise ValueError(
                "voltage_exponent is the V-f law of a part without operating_points; give one"
            )
        # only a cap moves the clock: a law without one is read by nothing. Judged by value, so
        # the empty law (voltage_exponent 0, no points) lifts a preset's cap with its tdp: null
        law = [k for k in ("operating_points", "voltage_exponent") if getattr(self, k)]
        if law and self.tdp is None:
            cleared = "[]" if law[0] == "operating_points" else "0"
            raise ValueError(
                f"{law[0]}: read only under a power cap (tdp); give one, or leave the law out "
                f"(--set chip.{law[0]}={cleared} clears a preset's)"
            )
        return self
