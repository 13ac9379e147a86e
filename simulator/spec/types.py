"""Shared pydantic building blocks: the strict frozen base model and unit-carrying field types."""

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
)

from simulator.spec.precision import ACCUMULATOR_ONLY, PRECISIONS
from simulator.spec.units import format_quantity, json_schema, parse_quantity


class Strict(BaseModel):
    """Base of every spec model: unknown keys are errors, numbers are finite, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    _source: str = PrivateAttr(default="<inline>")
    """File the spec was read from, for error messages raised after loading."""
    _lines: dict = PrivateAttr(default_factory=dict)
    """Line of each key path in that file."""
    _overridden: tuple = PrivateAttr(default=())
    """Key paths an override set after the file was read (`Document.overridden`)."""

    @field_validator("name", check_fields=False)
    @classmethod
    def _named(cls, value):
        """Every `name` (arch, workload, op, group) shows in reports: it must say something."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value


def _quantity(kind: str):
    """Parse a unit string on load; in the JSON Schema it stays a string with a unit pattern."""
    return BeforeValidator(lambda value: parse_quantity(value, kind))


def _quantity_schema(kind: str) -> WithJsonSchema:
    return WithJsonSchema(json_schema(kind))


def _known_precision(name: str) -> str:
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; known: {', '.join(PRECISIONS)}")
    return name


def _known_accumulator(name: str) -> str:
    if name not in PRECISIONS and name not in ACCUMULATOR_ONLY:
        known = ", ".join([*PRECISIONS, *ACCUMULATOR_ONLY])
        raise ValueError(f"unknown accumulator precision {name!r}; known: {known}")
    return name


MAX_CLOCK_HZ = 1e12
"""No digital circuit has been clocked at 1 THz: the fastest flip-flop reported toggled at 770 GHz
(superconducting RSFQ logic: Chen et al., IEEE Trans. Appl. Supercond. 9(2), 3212, 1999), and
CMOS chips run below 10 GHz. A clock above it is a slip (a MHz figure written in GHz)."""


def _below_max_clock(hz: float) -> float:
    if hz > MAX_CLOCK_HZ:
        raise ValueError(
            f"{format_quantity(hz, 'frequency')} is faster than any digital circuit has run "
            "(770 GHz, a superconducting flip-flop; CMOS below 10 GHz); at most 1000 GHz"
        )
    return hz


Hz = Annotated[
    float,
    _quantity("frequency"),
    Field(gt=0),
    AfterValidator(_below_max_clock),
    _quantity_schema("frequency"),
]
Bytes = Annotated[float, _quantity("size"), Field(gt=0), _quantity_schema("size")]
BytesPerS = Annotated[float, _quantity("bandwidth"), Field(gt=0), _quantity_schema("bandwidth")]
Pj = Annotated[float, _quantity("energy"), _quantity_schema("energy")]
Seconds = Annotated[float, _quantity("time"), _quantity_schema("time")]
Mw = Annotated[float, _quantity("power"), _quantity_schema("power")]
Mm2 = Annotated[float, _quantity("area"), _quantity_schema("area")]
Nm = Annotated[float, _quantity("length"), Field(gt=0), _quantity_schema("length")]
PrecisionName = Annotated[str, AfterValidator(_known_precision)]
AccumulatorName = Annotated[str, AfterValidator(_known_accumulator)]
Real = Annotated[float, Field(strict=True)]
"""A plain number: an integer or a float, never a bool (`efficiency: true` was read as 1.0) nor
text (`'0.5'`), as the integer types refuse them."""
MAX_INT = 2**63 - 1
"""The largest count a spec holds, as an int64 does (numpy's arrays of sizes; rows: 10**400 was
an OverflowError: int too large to convert to float)."""
PositiveInt = Annotated[int, Field(strict=True, gt=0, le=MAX_INT)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0, le=MAX_INT)]
Seed = Annotated[int, Field(strict=True, ge=0, lt=2**32)]
"""A random seed, as numpy's generators and simulate() take one."""
Flag = Annotated[bool, Field(strict=True)]
"""A switch: YAML's true or false (yes/no, on/off as YAML 1.1 reads them), never 1, 0, 1.0 or
text such as 'yes' (pydantic's lax bool took them all as a switch)."""
Dim = Literal["M", "N", "K"]
Dataflow = Literal["os", "ws", "is"]
Role = Literal["input", "weight", "output"]
