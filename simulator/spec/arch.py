"""Architecture spec: named components, each picked by its `kind:` key."""

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.spec.types import (
    Bytes,
    BytesPerS,
    Dataflow,
    Hz,
    Mm2,
    Mw,
    Nm,
    Pj,
    PositiveInt,
    PrecisionName,
    Role,
    Seconds,
    Strict,
)


class SystolicArraySpec(Strict):
    """A rows x cols grid of MAC units fed from SRAM, as in the TPU MXU or SCALE-Sim."""

    kind: Literal["systolic_array"]
    rows: PositiveInt
    """Number of PE rows."""
    cols: PositiveInt
    """Number of PE columns."""
    dataflows: list[Dataflow] = ["os", "ws", "is"]
    """Dataflows the array supports (os / ws / is); the first is used when a mapping names none."""
    input_precision: list[PrecisionName] = ["int8"]
    """Operand precisions the multipliers accept (inputs and weights)."""
    accumulator_precision: PrecisionName | None = None
    """Accumulator format; default int32 for integer inputs, fp32 for float inputs."""
    clock: Hz | None = None
    """The array's clock; default the arch clock."""
    mac_energy: Pj | None = None
    """Override: energy of one MAC (multiply + accumulate), instead of the tech table."""
    mac_area: Mm2 | None = None
    """Override: area of one PE, instead of the tech table."""
    leakage: Mw | None = None
    """Override: static power of the whole array (default 0: no cited figure)."""

    @field_validator("dataflows", "input_precision", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("dataflows", "input_precision")
    @classmethod
    def _non_empty(cls, value):
        if not value:
            raise ValueError("must list at least one entry")
        return value


class SramSpec(Strict):
    """An on-chip SRAM buffer: capacity-limited, holding one or more operand roles."""

    kind: Literal["sram"]
    capacity: Bytes
    """Total capacity, e.g. '24 MiB'."""
    holds: list[Role] = ["input", "weight", "output"]
    """Operand roles kept here (a unified buffer holds all three; SCALE-Sim splits them)."""
    banks: PositiveInt = 1
    """Independent banks; each access touches one bank, so access energy follows bank size."""
    ports: PositiveInt = 2
    """Ports per bank (each moves width bytes per cycle)."""
    width: Bytes = 64.0
    """Bytes one port of one bank moves per cycle, e.g. '64 B'."""
    clock: Hz | None = None
    """The SRAM's clock; default the arch clock."""
    read_energy: Pj | None = None
    """Override: energy per byte read."""
    write_energy: Pj | None = None
    """Override: energy per byte written."""
    area: Mm2 | None = None
    """Override: total area."""
    leakage: Mw | None = None
    """Override: static power (default from the tech table where cited, else 0)."""

    @field_validator("holds", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value


class DramSpec(Strict):
    """Off-chip DRAM (DDR / LPDDR / HBM): bandwidth shared by every transfer, fixed latency."""

    kind: Literal["dram"]
    technology: Literal["ddr3", "ddr4", "lpddr4", "lpddr5", "hbm2", "hbm2e", "hbm3"]
    """Technology preset from simulator/tech/dram.yaml (energy per bit, channel bandwidth, latency)."""
    channels: PositiveInt | None = None
    """Interleaved channels (or HBM stacks' channels); default from the preset."""
    bandwidth: BytesPerS | None = None
    """Peak bandwidth of all channels together; default channels x the preset's channel bandwidth."""
    latency: Seconds | None = None
    """Access latency added to each transfer (pipelined, it does not hold the bus)."""
    capacity: Bytes | None = None
    """Capacity; tensors that do not fit raise a CapacityError."""
    energy_per_bit: Pj | None = None
    """Override: energy per bit transferred."""


class VectorUnitSpec(Strict):
    """A SIMD vector unit (TPU VPU / NPU vector engine): lanes x element ops per cycle, in fp32."""

    kind: Literal["vector"]
    lanes: PositiveInt
    """Elements processed per cycle per operation."""
    runs: list[
        Literal["softmax", "layernorm", "rmsnorm", "gelu", "silu", "add", "mul", "attention"]
    ] = [
        "softmax",
        "layernorm",
        "rmsnorm",
        "gelu",
        "silu",
        "add",
        "mul",
        "attention",
    ]
    """Op kinds this unit runs ('attention' = the softmax part of attention)."""
    cycles_per_element: dict[Literal["add", "mul", "max", "exp", "div", "rsqrt"], PositiveInt] = {}
    """Issue cycles per element per lane for each primitive (defaults: add/mul/max 1, exp/div/rsqrt 4)."""
    buffer: Bytes = 262144.0
    """Local buffer (default 256 KiB): rows of a reduction must fit in it."""
    clock: Hz | None = None
    """The unit's clock; default the arch clock."""
    energy: dict[Literal["add", "mul", "max", "exp", "div", "rsqrt"], Pj] = {}
    """Override: energy per element of a primitive, instead of the tech-table estimate."""
    leakage: Mw | None = None
    """Override: static power (default 0: no cited figure)."""
    area: Mm2 | None = None
    """Override: total area, instead of lanes x (fp32 adder + multiplier)."""


ComponentSpec = Annotated[
    SystolicArraySpec | VectorUnitSpec | SramSpec | DramSpec, Field(discriminator="kind")
]
COMPUTE_KINDS = ("systolic_array", "vector")


class ArchSpec(Strict):
    """A whole accelerator: a reference clock, a technology node and named components."""

    name: str
    """Short name shown in reports."""
    description: str = ""
    """One line on what this architecture models and where its numbers come from."""
    clock: Hz
    """Reference clock: simulated time is counted in its cycles."""
    tech_node: Nm = 45.0
    """Technology node for energy and area scaling, e.g. '28 nm'."""
    components: dict[str, ComponentSpec]
    """Components by name."""
    fallback: str | None = None
    """Compute unit that runs ops no unit declares (reported as a fallback); default: none, an error."""

    @field_validator("components")
    @classmethod
    def _complete(cls, components):
        kinds = [c.kind for c in components.values()]
        if not any(k in COMPUTE_KINDS for k in kinds):
            raise ValueError("needs at least one compute unit (kind: systolic_array or vector)")
        if kinds.count("dram") != 1:
            raise ValueError(f"needs exactly one dram component, found {kinds.count('dram')}")
        for role in ("input", "weight", "output"):
            holders = [n for n, c in components.items() if c.kind == "sram" and role in c.holds]
            if len(holders) != 1:
                raise ValueError(
                    f"exactly one sram must hold the {role!r} operand, found {holders or 'none'}"
                )
        return components

    @model_validator(mode="after")
    def _fallback_exists(self):
        if (
            self.fallback
            and getattr(self.components.get(self.fallback), "kind", None) not in COMPUTE_KINDS
        ):
            raise ValueError(f"fallback {self.fallback!r} is not a compute unit of this arch")
        return self
