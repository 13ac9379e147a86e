"""Architecture spec: named components, each picked by its `kind:` key."""

from collections import Counter
from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator, model_validator

from simulator.spec.chip import ChipSpec
from simulator.spec.host import CpuSpec, LinkSpec
from simulator.spec.neuro import NeuroCoreSpec
from simulator.spec.types import (
    AccumulatorName,
    Bytes,
    BytesPerS,
    Dataflow,
    Flag,
    Hz,
    Mm2,
    Mw,
    Nm,
    NonNegativeInt,
    Pj,
    PositiveInt,
    PrecisionName,
    Real,
    Role,
    Seconds,
    Strict,
)
from simulator.spec.workload import VectorKind


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
    rate: dict[PrecisionName, PositiveInt] = {}
    """MACs per PE per cycle at a precision, relative to 1 for the precisions not listed: a PE at
    rate 2 takes two elements of the streamed dim a cycle (as tensor cores run fp8 at twice the
    bf16 rate). Timing only: numerics and the energy of one MAC are unchanged."""
    instructions: dict[str, Annotated[Real, Field(gt=0.0, le=1.0)]] = {}
    """Matrix instruction families that reach only part of the array's rate, each with that
    fraction (H100's tensor cores: Ampere's `mma.sync` at about 2/3 of the rate `wgmma` reaches).
    A kernel names the family it issues in its mapping (`attention.mma`); kernels that name none
    run at the full rate. Timing only, as `rate`."""
    accumulator_precision: AccumulatorName | None = None
    """Accumulator format; default int32 for int4/int8 inputs, int64 for int16/int32 inputs (their
    sums pass 2^31 after a few terms), fp32 for float inputs. A narrower integer accumulator
    wraps, and a wrapped output is a numerics mismatch."""
    clock: Hz | None = None
    """The array's clock; default the arch clock."""
    mac_energy: Pj | None = None
    """Override: energy of one MAC (multiply + accumulate), instead of the tech table."""
    mac_area: Mm2 | None = None
    """Override: area of one PE, instead of the tech table."""
    leakage: Mw | None = None
    """Override: static power of the whole array (default 0: no cited figure)."""
    depthwise: Flag = True
    """Whether the array runs depthwise convolutions (one input channel per group); when false
    they go to the arch's fallback unit, reported as such."""

    @field_validator("dataflows", "input_precision", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    _non_empty = field_validator("dataflows", "input_precision")(lambda value: _declared(value))

    @field_validator("rate")
    @classmethod
    def _rates_accepted(cls, value, info):
        """A rate is for a precision the multipliers accept (input_precision, validated before)."""
        accepted = info.data.get("input_precision", [])
        stray = [p for p in value if p not in accepted]
        if stray:
            raise ValueError(f"{', '.join(stray)} not in input_precision ({', '.join(accepted)})")
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
    port_kind: Literal["read_write", "split"] = "read_write"
    """What the ports are; each port costs area (CACTI, 1 MiB at 45 nm: 2 ports 1.90x one port).
    read_write: each reads or writes, the cheapest that delivers `ports` accesses of any mix at
    2 ports (the simulator does not tell reads from writes). split: ceil(ports/2) read-only and
    the rest write-only (1R1W 2.00x, 2R2W 4.66x against 4.86x for 4 read-write ports)."""
    width: Bytes = 64.0
    """Bytes one port of one bank moves per cycle, e.g. '64 B'."""
    min_access: Bytes | None = None
    """The smallest access one port makes (ZigZag's bandwidth_min); `accounting: zigzag` rounds
    each transfer up to it. Default: the whole width."""
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
    unit: str | None = None
    """The systolic array this SRAM is a local buffer of: a level between the array's register
    levels and the core's DMA-filled SRAM, one per array, counted in closed form per tile;
    default none: the SRAM that DMA fills (one per operand role)."""
    share: dict[Role, Annotated[Real, Field(gt=0, le=1)]] | None = None
    """Capacity share per operand role held here (fractions of the capacity, summing to at most
    1), e.g. {input: 0.5, weight: 0.25, output: 0.25}; default: each role may use all of it."""
    double_buffer: Flag = False
    """A local buffer (with `unit`) only: two halves, one refilled and drained while the array
    works on the other, so refills hide behind compute but a sub-tile gets half the capacity.
    Set, it is fixed (the hardware); left out, the mapping's `levels` choice, else single-buffered
    (the array waits for each refill) under a given tile and the faster under an auto tile (the
    DMA-filled SRAM's double buffering is the mapping's `double_buffering`)."""

    @field_validator("holds", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    _holds_once = field_validator("holds")(lambda value: _distinct(value))  # none: staging only

    @model_validator(mode="after")
    def _share_of_held_roles(self):
        _check_share(self.share, self.holds)
        if self.double_buffer and self.unit is None:
            raise ValueError(
                "double_buffer is for a local buffer (unit: ARRAY); the SRAM that DMA fills is "
                "double-buffered by the mapping's double_buffering"
            )
        return self


class RegisterFileSpec(Strict):
    """A storage level inside a compute array (registers, a PE scratchpad, an accumulator row):
    `instances` copies of `capacity` bytes, one per PE, per array row or column, or per array.
    Inner levels are priced in closed form per tile; the level next to SRAM comes first."""

    kind: Literal["regfile"]
    unit: str
    """The systolic array it sits in."""
    holds: list[Role]
    """Operand roles kept here."""
    capacity: Bytes
    """Bytes of one instance, e.g. '2 B' for one 16-bit partial sum."""
    instances: Literal["pe", "row", "col", "array"] = "pe"
    """pe: one per PE; row: one per array row, shared by its columns; col: one per column,
    shared by its rows (after the column's adder chain); array: one for the whole array."""
    width: Bytes | None = None
    """Bytes one access moves; default the capacity, at most 4 B (one 32-bit word)."""
    min_access: Bytes | None = None
    """The smallest access one port makes (ZigZag's bandwidth_min); `accounting: zigzag` rounds
    each transfer up to it. Default: the whole width."""
    packed: Flag = False
    """Elements narrower than `width` share one access, as a GPU's MMA operand fragments do (NVIDIA
    PTX ISA, mma fragment layouts: a .b32 register holds two f16/bf16 or four e4m3/e5m2/s8
    values). Default false: every element takes a whole access (ZigZag's word access)."""
    ports: PositiveInt = 2
    """Ports per instance, each moving `width` bytes per cycle (default one read, one write)."""
    read_energy: Pj | None = None
    """Override: energy per read access of `width` bytes (default tech table: flip-flops up to
    64 B per instance, a register file above)."""
    write_energy: Pj | None = None
    """Override: energy per write access of `width` bytes (default as read_energy)."""
    area: Mm2 | None = None
    """Override: area of all instances together (default flip-flop area per bit)."""
    leakage: Mw | None = None
    """Override: static power of all instances (default 0: no cited figure)."""
    share: dict[Role, Annotated[Real, Field(gt=0, le=1)]] | None = None
    """Capacity share per operand role held here (fractions of one instance's capacity, summing to at most
    1), e.g. {input: 0.5, weight: 0.25, output: 0.25}; default: each role may use all of it."""
    stages_through: str | None = None
    """The output's register level only: an SRAM of this core its write-back passes through (a
    GPU epilogue copies the accumulators to shared memory and stores from there), so a
    double-buffered output keeps one copy here, across its K steps, and the copy being written
    back in that SRAM (in the operand space the finished tile leaves, where it holds operands);
    default none: both copies here."""

    @field_validator("holds", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    _holds_one = field_validator("holds")(lambda value: _declared(value))

    @model_validator(mode="after")
    def _share_of_held_roles(self):
        _check_share(self.share, self.holds)
        if self.stages_through is not None and "output" not in self.holds:
            raise ValueError(
                f"stages_through is for a level holding the output, this one holds {self.holds}"
            )
        return self


def _declared(value: list) -> list:
    """A list a unit or level is declared by (its dataflows, precisions, op kinds, kernel tiles,
    the roles a register level holds) names one entry at least, each once: a storage level
    holding no role was built and priced, never used; a GPU with no kernel tiles failed inside
    the mapper."""
    if not value:
        raise ValueError("must list at least one entry")
    return _distinct(value)


def _distinct(value: list) -> list:
    """Each entry once (`holds: [input, input]`, `dataflows: [os, os]` were taken as written)."""
    twice = next((item for i, item in enumerate(value) if item in value[:i]), None)
    if twice is not None:
        raise ValueError(f"lists {twice!r} twice; give each once")
    return value


def _check_share(share: dict | None, holds: list[str]) -> None:
    """A capacity share names only held roles and gives out at most the whole capacity."""
    if share is None:
        return
    extra = sorted(set(share) - set(holds))
    if extra:
        raise ValueError(f"share names {extra}, which this level does not hold ({holds})")
    if sum(share.values()) > 1 + 1e-9:
        raise ValueError(f"shares add up to {sum(share.values()):g}, more than the capacity (1)")


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
    min_access: Bytes | None = None
    """The smallest access one port makes (ZigZag's bandwidth_min); `accounting: zigzag` rounds
    each transfer up to it. Default: the peak bytes per cycle."""
    capacity: Bytes | None = None
    """Capacity; tensors that do not fit raise a CapacityError."""
    energy_per_bit: Pj | None = None
    """Override: energy per bit transferred (reads and writes alike)."""
    read_energy_per_bit: Pj | None = None
    """Override: energy per bit read (default energy_per_bit)."""
    write_energy_per_bit: Pj | None = None
    """Override: energy per bit written (default energy_per_bit)."""
    efficiency: Annotated[Real, Field(gt=0.0, le=1.0)] = 1.0
    """Fraction of `bandwidth` that streaming transfers achieve (refresh, bank and bus-turnaround
    losses); every transfer moves at bandwidth x efficiency."""
    write_cost: Annotated[Real, Field(ge=1.0)] = 1.0
    """DRAM time of a written byte as a multiple of a read byte's: the bus turnarounds of a stream
    that mixes reads and writes (a copy: one of each) cost more than a read-only stream's, which
    `efficiency` is fitted on. 1: writes move as reads do."""
    operand_bandwidth: dict[Literal["input", "weight", "output"], BytesPerS] | None = None
    """Separate interfaces per operand (SCALE-Sim's ifmap / filter / ofmap DRAM bandwidths): each
    operand's transfers use its own, at its own bandwidth, alongside the others; `bandwidth` is
    then their sum. Chips without a NoC only."""

    @model_validator(mode="after")
    def _every_operand_its_interface(self):
        """With per-operand interfaces each operand needs one (a missing one was a KeyError), and
        `bandwidth` is their sum (a bandwidth given too was read by nothing)."""
        if self.operand_bandwidth is None:
            return self
        missing = [r for r in ("input", "weight", "output") if r not in self.operand_bandwidth]
        if missing:
            raise ValueError(
                f"operand_bandwidth: must give input, weight and output, missing {missing}"
            )
        if self.bandwidth is not None:
            raise ValueError(
                "bandwidth: with operand_bandwidth the bandwidth is their sum; give one of the two"
            )
        return self


VectorRun = Literal[VectorKind, "rope", "attention", "pool"]
"""What a vector unit can run: the vector ops, attention's softmax part, pooling."""


class VectorUnitSpec(Strict):
    """A SIMD vector unit (TPU VPU / NPU vector engine): lanes x element ops per cycle, in fp32."""

    kind: Literal["vector"]
    lanes: PositiveInt
    """Elements processed per cycle per operation."""
    runs: list[VectorRun] = list(get_args(VectorRun))
    """Op kinds this unit runs ('attention' = the softmax part of attention; 'pool' = max/avg
    pooling of feature maps)."""
    _runs = field_validator("runs")(lambda value: _declared(value))

    cycles_per_element: dict[Literal["add", "mul", "max", "exp", "div", "rsqrt"], PositiveInt] = {}
    """Issue cycles per element per lane for each primitive (defaults: add/mul/max 1, exp/div/rsqrt 4)."""
    sfu: PositiveInt | None = None
    """Special-function units beside the lanes (a GPU SM's 16): exp, div and rsqrt run on them, one
    element per SFU per cycle, while the lanes run add, mul and max; the busier of the two pipes
    sets the time. Each SFU has its own area, leakage and energy per op (simulator/tech/chip.yaml
    `sfu`); `cycles_per_element` may then not set exp, div or rsqrt. Default: none, the lanes run
    every primitive at `cycles_per_element`."""
    pipes: dict[Literal["add", "mul", "max"], Literal["fma", "alu"]] = {}
    """The issue pipe of each lane primitive (default fma, all on one pipe): pipes issue in
    parallel, so a kernel's lane time is its busiest pipe's, e.g. {max: alu} where fp32 max and
    compare run on the integer ALU pipe beside the FP32 FMA pipe (a GPU SM since Volta)."""
    buffer: Bytes = 262144.0
    """Local buffer (default 256 KiB): rows of a reduction must fit in it."""
    clock: Hz | None = None
    """The unit's clock; default the arch clock."""
    energy: dict[Literal["add", "mul", "max", "exp", "div", "rsqrt"], Pj] = {}
    """Override: energy per element of a primitive, instead of the tech-table estimate."""
    leakage: Mw | None = None
    """Override: static power (default 0: no cited figure)."""
    area: Mm2 | None = None
    """Override: the lanes' total area, instead of lanes x (fp32 adder + multiplier); SFUs and side
    units are counted apart."""
    side_units: dict[Literal["int32", "fp64"], PositiveInt] = {}
    """Units beside the lanes that the timing model does not run (a GPU SM's INT32 and FP64
    cores), e.g. {int32: 64, fp64: 32}: counted in area and leakage only (simulator/tech/chip.yaml)."""

    @model_validator(mode="after")
    def _sfu_or_lane_cycles(self):
        special = sorted(set(self.cycles_per_element) & {"exp", "div", "rsqrt"})
        if self.sfu and special:
            raise ValueError(
                f"cycles_per_element sets {', '.join(special)}, which the {self.sfu} SFUs run "
                "(one element per SFU per cycle) when sfu is set: drop one of the two"
            )
        return self


class NocSpec(Strict):
    """An on-chip network (or the links between chips): topology, link bandwidth, per-hop costs."""

    kind: Literal["noc"]
    topology: Literal["mesh", "torus", "ring", "crossbar", "bus"]
    """mesh / torus: dims [X, Y] with XY routing; ring, crossbar, bus: dims [nodes]."""
    dims: list[PositiveInt]
    """Nodes along each dimension."""
    link_bandwidth: BytesPerS
    """Bandwidth of one link in one direction, e.g. '64 GB/s'."""
    hop_latency: Seconds | None = None
    """Router + link latency per hop; default the tech table's pipeline depth in cycles."""
    flit: Bytes = 16.0
    """Flit size (default 128 bits): router energy is charged per flit per hop."""
    link_length_mm: Annotated[Real, Field(gt=0.0)] | None = None
    """Wire length of one link, for link energy; default the tech table's typical core pitch."""
    link_energy: Pj | None = None
    """Override: energy per bit per hop on a link."""
    router_energy: Pj | None = None
    """Override: energy per flit per router traversal."""
    router_area: Mm2 | None = None
    """Override: area of one router."""
    memory_nodes: list[NonNegativeInt] = [0]
    """Nodes where DRAM controllers attach; the DRAM bandwidth is split evenly between them."""
    memory: Literal["interleaved", "fine", "local"] = "interleaved"
    """interleaved: transfers are dealt to the controllers (and L2 slices) in turn, each whole to
    one; fine: addresses interleaved at fine granularity, so every transfer streams from all
    controllers (and slices) at once at their summed bandwidth (GPUs); local: a core uses the
    controller at its own node (chips with their own HBM)."""
    clock: Hz | None = None
    """The network's clock; default the arch clock."""

    @field_validator("dims")
    @classmethod
    def _dims(cls, dims):
        if not 1 <= len(dims) <= 2:
            raise ValueError(f"must list 1 or 2 sizes, got {dims}")
        return dims

    @field_validator("flit")
    @classmethod
    def _whole_bytes(cls, flit):
        """Flits are counted in whole bytes (a 1.5 B flit was charged as 1 B, 0.5 B divided by 0)."""
        if flit != int(flit):
            raise ValueError(f"must be a whole number of bytes (at least 1 B), got {flit:g} B")
        return flit

    @field_validator("memory_nodes")
    @classmethod
    def _memory_nodes(cls, nodes):
        """Each controller once: a repeated node would take two shares of the DRAM bandwidth."""
        if not nodes or len(set(nodes)) != len(nodes):
            raise ValueError(f"must list one or more distinct nodes, got {nodes}")
        return nodes


def _integer_formats(value):
    """Crossbars compute on integers: every listed precision must be an integer format."""
    floats = [
        p for p in ([value] if isinstance(value, str) else value or []) if not p.startswith("int")
    ]
    if floats:
        raise ValueError(
            f"must be integer formats (crossbars compute in fixed point), got {floats}"
        )
    return value


Fraction = Annotated[Real, Field(ge=0.0, le=1.0)]


class CrossbarSpec(Strict):
    """Analog crossbars (ReRAM) in ISAAC-style IMAs and tiles: weights stay in the cells as
    conductances, inputs stream bit-serially through DACs, ADCs digitise every column sum."""

    kind: Literal["crossbar"]
    rows: PositiveInt = 128
    """Word lines per crossbar: the K elements one analog column sum adds."""
    cols: PositiveInt = 128
    """Bit lines per crossbar; a weight's cell slices sit in adjacent columns."""
    cell_bits: Annotated[PositiveInt, Field(le=8)] = 2
    """Bits per cell (2^cell_bits conductance levels)."""
    dac_bits: Annotated[PositiveInt, Field(le=8)] = 1
    """Input bits applied per read: inputs stream in 1 + ceil((bits - 1) / dac_bits) cycles, the
    last carrying the two's-complement sign bit with negative weight."""
    adc_bits: Annotated[PositiveInt, Field(le=16)] = 8
    """ADC resolution; lossless when >= ceil(log2(rows (2^dac_bits - 1)(2^cell_bits - 1) + 1))
    (with column_flip, half the rows' worth)."""
    columns_per_adc: PositiveInt | None = None
    """Columns one ADC converts in turn; default cols (one ADC per crossbar); fewer: several ADCs
    per crossbar; more: crossbars share an ADC (the input cycle waits for its conversions)."""
    adc_sample_rate: Hz = 1.28e9
    """Conversions per second of one ADC."""
    read_latency: Seconds = 100e-9
    """One analog read (one input cycle); reads pipeline with the ADC conversions."""
    program_latency: Seconds | None = None
    """Time to program one row of cells (all crossbars in parallel); default tech/pim.yaml."""
    program_energy: Pj | None = None
    """Energy to program one cell; default tech/pim.yaml."""
    crossbars_per_ima: PositiveInt = 8
    """Crossbars sharing an IMA's input and output registers."""
    imas_per_tile: PositiveInt = 12
    """IMAs per tile (a tile shares an eDRAM buffer, bus and router)."""
    tiles: PositiveInt = 1
    """Tiles in the chip; crossbars = tiles x imas_per_tile x crossbars_per_ima."""
    input_precision: list[PrecisionName] = ["int8", "int16"]
    """Integer formats the crossbars compute in (inputs and weights)."""
    _precisions = field_validator("input_precision")(lambda value: _declared(value))

    fixed_point: PrecisionName | None = "int16"
    """Float GEMMs are quantized to this format (per-tensor scale), as ISAAC runs 16-bit fixed
    point; none: float GEMMs are unsupported."""
    weight_encoding: Literal["offset", "differential"] = "offset"
    """offset: W + 2^(bits-1) in one column set, digital correction; differential: W+ and W- in
    two column sets, subtracted digitally."""
    column_flip: Flag = False
    """ISAAC's encoding: a column whose cells sum past half scale stores (levels - w), halving
    the ADC range needed."""
    off_conductance: Annotated[Real, Field(ge=0.0)] = 0.0
    """g0, the conductance of level 0 in units of one level step (its current is subtracted)."""
    conductance_sigma: Annotated[Real, Field(ge=0.0)] = 0.0
    """Programming variation: relative sigma of each cell's conductance (seeded, fixed per run)."""
    read_noise: Annotated[Real, Field(ge=0.0)] = 0.0
    """Sigma of additive noise on each column sum, in level steps (new at every read)."""
    ir_drop: Annotated[Real, Field(ge=0.0, lt=0.5)] = 0.0
    """Non-linearity: a column sum y reads as y (1 - ir_drop y / full scale)."""
    stuck_at_rate: Fraction = 0.0
    """Fraction of cells stuck at the lowest or highest level (half each)."""
    clock: Hz | None = None
    """The digital periphery's clock (shift-and-add, registers); default the arch clock."""
    adc_energy: Pj | None = None
    """Override: energy per ADC conversion (default: ISAAC's, scaled by bits and node)."""
    adc_area: Mm2 | None = None
    """Override: area of one ADC."""

    _integers = field_validator("input_precision", "fixed_point")(_integer_formats)

    @field_validator("input_precision", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value


class PimSpec(Strict):
    """Near-memory SIMD units beside the DRAM banks (Samsung HBM-PIM): weights are read inside the
    banks at the internal bandwidth and never cross the external DRAM interface."""

    kind: Literal["pim"]
    units: PositiveInt
    """Compute units (HBM-PIM: one per 2 banks)."""
    lanes: PositiveInt
    """SIMD lanes per unit: MACs per cycle per unit."""
    internal_bandwidth: BytesPerS
    """Bank-side bandwidth of all units together, e.g. 4x the external interface."""
    input_precision: list[PrecisionName] = ["fp16"]
    """Operand precisions the lanes accept."""
    _precisions = field_validator("input_precision")(lambda value: _declared(value))

    accumulator_precision: AccumulatorName | None = None
    """Accumulator format; default int32 for int4/int8 inputs, int64 for int16/int32 inputs (their
    sums pass 2^31 after a few terms), fp32 for float inputs. A narrower integer accumulator
    wraps, and a wrapped output is a numerics mismatch."""
    reuse_rows: PositiveInt = 1
    """Input rows whose MACs share one read of the weights (rows held in the unit's registers)."""
    clock: Hz | None = None
    """The units' clock; default the arch clock."""
    mac_energy: Pj | None = None
    """Override: energy of one MAC."""
    bank_read_energy: Pj | None = None
    """Override: energy per byte read inside a bank (default tech/pim.yaml)."""
    area: Mm2 | None = None
    """Override: area of all units (default lanes x (fp16 multiplier + fp32 adder))."""
    leakage: Mw | None = None
    """Override: static power (default 0: no cited figure)."""

    @field_validator("input_precision", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value


ComponentSpec = Annotated[
    SystolicArraySpec
    | VectorUnitSpec
    | SramSpec
    | RegisterFileSpec
    | DramSpec
    | NocSpec
    | CrossbarSpec
    | PimSpec
    | NeuroCoreSpec
    | CpuSpec
    | LinkSpec,
    Field(discriminator="kind"),
]
COMPUTE_KINDS = ("systolic_array", "vector", "crossbar", "pim", "cpu")
NEURO_KINDS = ("neuro_core",)
"""Spiking cores: they hold their own synapses, so they need no SRAM roles and no DRAM."""


def _check_core_components(components: dict) -> None:
    kinds = [c.kind for c in components.values()]
    if any(k in NEURO_KINDS for k in kinds):
        others = [n for n, c in components.items() if c.kind not in NEURO_KINDS]
        if others:
            raise ValueError(f"a neuro_core shares no core with other components, found {others}")
        return
    if not any(k in COMPUTE_KINDS for k in kinds):
        raise ValueError("needs at least one compute unit (kind: systolic_array or vector)")
    arrays = [n for n, c in components.items() if c.kind == "systolic_array"]
    for name, c in components.items():
        if c.kind in ("regfile", "sram") and c.unit is not None and c.unit not in arrays:
            raise ValueError(f"{name}.unit: {c.unit!r} is not a systolic_array of this core")
    for role in ("input", "weight", "output"):
        holders = [
            n
            for n, c in components.items()
            if c.kind == "sram" and c.unit is None and role in c.holds
        ]
        registers = [n for n, c in components.items() if c.kind == "regfile" and role in c.holds]
        if len(holders) > 1 or not (holders or registers):
            raise ValueError(
                f"exactly one sram must hold the {role!r} operand, found {holders or 'none'}"
            )
    _check_staging(components)
    staged = {c.stages_through for c in components.values() if c.kind == "regfile"}
    _check_srams_hold(components, staged)


def _check_srams_hold(components: dict, staged: set) -> None:
    """Every SRAM holds a role, or is the one a register level stages its write-back through: an
    SRAM neither holds nor stages was built and priced, never used."""
    for name, c in components.items():
        if c.kind == "sram" and not c.holds and name not in staged:
            raise ValueError(
                f"{name}.holds: must list at least one entry (only an sram a register level "
                "stages_through may hold none)"
            )


def _check_staging(components: dict) -> None:
    """`stages_through` sits on the level DMA fills with the output (the outermost register level
    holding it, no SRAM holding it) and names an SRAM of the same core."""
    for name, c in components.items():
        staging = c.kind == "regfile" and c.stages_through
        if not staging:
            continue
        if not (components.get(staging) and components[staging].kind == "sram"):
            raise ValueError(f"{name}.stages_through: {staging!r} is not an sram of this core")
        holders = [
            n
            for n, d in components.items()
            if d.kind in ("sram", "regfile") and "output" in d.holds
        ]
        if holders[-1] != name or any(components[n].kind == "sram" for n in holders):
            raise ValueError(
                f"{name}.stages_through: only the level DMA fills with the output may stage it "
                f"(the outermost register level holding it, with no sram holding it): {holders}"
            )


class LoadLatencySpec(Strict):
    """Load-to-use latency of one thread's load, in core clock cycles, by where it is served:
    what a one-CTA-per-row kernel waits for on every pass over its row."""

    dram: PositiveInt
    """A load that misses the L2 and is served by DRAM."""
    l2: PositiveInt
    """A load that hits the L2 (a row's re-read in a later pass)."""
    shared: PositiveInt
    """A shared-memory load: one step of a block-wide reduction."""
    other_die: NonNegativeInt = 0
    """Extra cycles an L2 hit or DRAM read pays when its line lives in the other die's half of
    the L2 (a two-die chip whose L2 halves each cache their own die's memory; `dram` and `l2`
    are then the near half's). Addresses interleave over both halves, so half of a thread's
    loads cross (`crossings`)."""

    def crossings(self, loads: int) -> int:
        """Cycles `loads` dependent loads of the slowest thread of a CTA spend crossing dies:
        half of them, rounded up, pay `other_die` (the pass waits for its slowest thread)."""
        return -(-loads // 2) * self.other_die


KernelSm = Literal[80, 90, 100]
"""SM architectures whose PyTorch row kernels' registers per thread are counted (Ampere, Hopper,
Blackwell's sm_100: mapping/aten_rows.py's tables)."""


class KernelsSpec(Strict):
    """GPU-like execution: every op runs as a kernel; a GEMM's output tiles (CTAs) are dealt to
    the cores in waves, split along K when there are fewer tiles than cores."""

    launch: Seconds = 0.0
    """Fixed cost of every kernel on every core it uses: launch, ramp-up and tail, during which
    the core neither loads nor computes."""
    tiles: list[tuple[PositiveInt, PositiveInt]] = [
        (256, 128),
        (128, 256),
        (128, 128),
        (128, 64),
        (64, 128),
        (64, 64),
    ]
    """Candidate CTA output tiles (M, N); the mapper picks the one with the least estimated time
    (tiles larger than the problem shrink to it)."""
    _tiles = field_validator("tiles")(lambda value: _declared(value))
    min_split_k: PositiveInt = 256
    """Smallest K range one split-K slice gets; the depth of one stream-K iteration."""
    mma_shape: tuple[PositiveInt, PositiveInt, PositiveInt] = (16, 8, 16)
    """MACs (m, n, k) of one warp-wide MMA instruction: sets the instructions issued and the
    register-file operand traffic per MAC. Default Ampere/Hopper's mma.sync m16n8k16 (NVIDIA PTX
    ISA, f16/bf16 inputs, sm_80 and later; 2,048 MACs), which cuBLAS/CUTLASS issue on Ampere;
    Hopper's wgmma (m64nNk16 over 4 warps) amortises more, so there it is an upper bound."""
    latency: LoadLatencySpec | None = None
    """Load latencies that bound a row reduction run one CTA (or warp) per row: each pass over a
    row waits one load latency per load a thread makes, and block-wide reductions wait on
    shared memory between passes (mapping/vector_ops.py, `row_cycles`). None: bandwidth alone."""
    threads: PositiveInt = 2048
    """Threads resident on one core at once (CUDA C++ Programming Guide, compute capability 8.0
    and 9.0: 2,048 per SM): with `ctas`, the occupancy of a row kernel's CTAs."""
    ctas: PositiveInt = 32
    """CTAs resident on one core at once (compute capability 8.0 and 9.0: 32 per SM)."""
    registers: PositiveInt = 65536
    """32-bit registers of one core (CUDA C++ Programming Guide, technical specifications: 64 K
    per SM at compute capability 8.0 to 10.0): with a row kernel's registers per thread, allocated
    256 a warp, the third bound on how many of its CTAs a core holds."""
    sm: KernelSm | None = None
    """The SM architecture the chip's kernels are compiled for, as nvcc names it (sm_80: 80): picks
    the registers per thread of PyTorch's compiled row kernels (mapping/aten_rows.py), counted
    for these three only; another is refused, as no older SM's counts stand in for it (they
    differ by up to 38 % from one SM to the next). None: registers do not bound a row kernel's CTAs."""
    schedulers: PositiveInt = 4
    """Warp schedulers per core, each issuing one warp instruction (32 threads) a cycle (CUDA C++
    Programming Guide, compute capability 8.x and 9.0: 4 per SM): the issue bound of a kernel
    whose instructions are counted per element (mapping/strided_copy.py)."""
    stream_k: Flag = False
    """Let the grid run a partial last wave as stream-K (Osama et al., PPoPP 2023) where its
    estimate wins. Off by default: the measured cuBLAS rows on A100 (LLMCompass's 1024 and 2048 x
    12288 x 12288) match whole-wave quantization, and with it they come out about 10 % fast."""
    cta_pairs: Flag = False
    """Let a GEMM's CTAs run as pairs of cores (Blackwell's 2-SM `tcgen05.mma.cta_group::2`): a
    pair computes a (2 x tile M) x tile N tile, each core its own M rows of A and C and half of
    B's columns, reading the other half from its peer's shared memory, not through its port.
    The grid search weighs paired and single-core grids. Off by default: no other chip pairs."""
    launch_order: Literal["rows", "swizzled"] = "rows"
    """The order a GEMM's CTA tiles launch in and the DRAM estimate its grid is picked by.
    `swizzled`: CUTLASS's persistent tile scheduler's raster and swizzle group
    (mapping/raster.py), priced by an LRU-L2 wave model within a few percent of the engine's
    bytes, C and split-K partials written at the DRAM's `write_cost`. `rows`: M-row by M-row,
    priced by `cta.row_dram_bytes` (B's re-reads only). Default `rows`: with `swizzled` the
    GEMMs' DRAM re-reads that row order makes vanish, and on a100-like, h100-like and
    mi250x-gcd-like the compute side then runs faster than measured (MI250X's MAMF GEMM +17 ->
    +21 %; docs/validation.md, "GEMM launch order and the L2")."""


class CoresSpec(Strict):
    """`count` identical cores, each with its own compute units and local SRAM, on NoC nodes."""

    count: PositiveInt
    """Number of cores."""
    components: dict[str, ComponentSpec]
    """One core's components (compute units and the SRAMs holding its operands)."""
    nodes: list[int] | None = None
    """NoC node of each core; default core i on node i // per_node."""
    per_node: PositiveInt = 1
    """Cores sharing one NoC node (a tile's router, as Loihi's 4 cores per tile)."""
    kernels: KernelsSpec | None = None
    """GPU-like kernel execution (CTA waves, split-K, per-kernel cost); absent: ops are split by
    the mapping's partition as given (TPU-like and dataflow chips)."""

    @model_validator(mode="before")
    @classmethod
    def _default_nodes(cls, data):
        """Without `nodes`, core i sits on node i // per_node."""
        if isinstance(data, dict) and data.get("nodes") is None and data.get("per_node", 1) != 1:
            per, count = data["per_node"], data.get("count")
            if isinstance(per, int) and per > 0 and isinstance(count, int):
                data = {**data, "nodes": [i // per for i in range(count)]}
        return data

    @field_validator("components")
    @classmethod
    def _complete(cls, components):
        if any(c.kind in ("dram", "noc") for c in components.values()):
            raise ValueError("dram and noc belong to the chip, not to a core")
        _check_core_components(components)
        return components


class ArchSpec(Strict):
    """A whole accelerator: a reference clock, a technology node and named components."""

    name: str
    """Short name shown in reports."""
    description: str = ""
    """One line on what this architecture models and where its numbers come from."""
    clock: Hz
    """Reference clock: simulated time is counted in its cycles."""
    tech_node: Nm = 45.0
    """Technology node for energy and area scaling, e.g. '28 nm'; within the nodes
    simulator/tech/node_scaling.yaml tabulates (build_machine checks: outside them every factor
    would be the end node's)."""
    components: dict[str, ComponentSpec]
    """Components by name (the whole chip; with `cores`, the shared ones: DRAM and the NoC)."""
    cores: CoresSpec | None = None
    """Replicated cores on a NoC; without it the arch is a single core made of `components`."""
    fallback: str | None = None
    """Compute unit that runs ops no unit declares (reported as a fallback); default: none, an error."""
    chip: ChipSpec = ChipSpec()
    """Power cap, DVFS points, device flavour (leakage) and chip-to-chip ports; see docs/area-power.md."""

    @field_validator("components")
    @classmethod
    def _one_dram(cls, components):
        kinds = [c.kind for c in components.values()]
        if kinds.count("dram") > 1:
            raise ValueError(f"needs exactly one dram component, found {kinds.count('dram')}")
        return components

    @property
    def neuromorphic(self) -> bool:
        """True when the cores are spiking neuro_cores, which need neither DRAM nor SRAM roles."""
        local = self.cores.components if self.cores else self.components
        return any(c.kind in NEURO_KINDS for c in local.values())

    @model_validator(mode="after")
    def _complete(self):
        nocs = [n for n, c in self.components.items() if c.kind == "noc"]
        drams = [n for n, c in self.components.items() if c.kind == "dram"]
        if len(drams) != 1 and not self.neuromorphic:
            raise ValueError(f"components: needs exactly one dram component, found {len(drams)}")
        if self.cores is None:
            try:
                _check_core_components(self.components)
            except ValueError as error:
                raise ValueError(f"components: {error}") from None
        else:
            if len(nocs) != 1:
                raise ValueError(
                    f"components: a multi-core arch needs exactly one noc, found {len(nocs)}"
                )
            chip = [n for n, c in self.components.items() if c.kind not in ("dram", "noc")]
            caches = [n for n in chip if self.components[n].kind == "sram"]
            try:
                _check_srams_hold({n: self.components[n] for n in caches}, set())
            except ValueError as error:
                raise ValueError(f"components.{error}") from None
            if len(caches) > 1 or len(chip) > len(caches):
                raise ValueError(
                    f"components: with cores, {chip} must go under cores.components "
                    "(the chip level holds dram, noc and at most one sram: the shared L2 cache)"
                )
            noc = self.components[nocs[0]]
            size = 1
            for d in noc.dims:
                size *= d
            if not self.cores.nodes and self.cores.count > size:  # no list of 10^11 node ids
                extra = range(size, self.cores.count)
                shown = ", ".join(map(str, extra[:8])) + (", ..." if len(extra) > 8 else "")
                raise ValueError(
                    f"{len(extra)} nodes ({shown}) are outside the {size}-node {noc.topology}"
                )
            nodes = self.cores.nodes or list(range(self.cores.count))
            per = self.cores.per_node
            crowded = max(Counter(nodes).values(), default=0) > per
            if len(nodes) != self.cores.count or crowded:
                need = "distinct nodes" if per == 1 else f"nodes, at most {per} cores on each"
                raise ValueError(f"cores.nodes: needs {self.cores.count} {need}, got {nodes}")
            outside = [n for n in nodes + noc.memory_nodes if not 0 <= n < size]
            if outside:
                shown = ", ".join(map(str, outside[:8])) + (", ..." if len(outside) > 8 else "")
                raise ValueError(
                    f"{len(outside)} nodes ({shown}) are outside the {size}-node {noc.topology}"
                )
        points = [p.clock for p in self.chip.operating_points]
        if points and self.clock not in points:
            raise ValueError(f"chip.operating_points: none is at the arch clock {self.clock:g} Hz")
        if self.fallback and self.fallback not in self.unit_names():
            raise ValueError(f"fallback {self.fallback!r} is not a compute unit of this arch")
        hosts = {k: [n for n, c in self.components.items() if c.kind == k] for k in ("cpu", "link")}
        if (
            len(hosts["cpu"]) > 1
            or len(hosts["link"]) > 1
            or bool(hosts["cpu"]) != bool(hosts["link"])
        ):
            raise ValueError(
                f"components: a host needs one cpu and one link to the accelerator, found "
                f"cpu {hosts['cpu'] or 'none'}, link {hosts['link'] or 'none'}"
            )
        return self

    def unit_names(self) -> list[str]:
        """Names of every compute unit (core units as 'core3.mxu')."""
        if self.cores is None:
            return [n for n, c in self.components.items() if c.kind in COMPUTE_KINDS]
        local = [n for n, c in self.cores.components.items() if c.kind in COMPUTE_KINDS]
        return [f"core{i}.{n}" for i in range(self.cores.count) for n in local]
