"""Mapping spec: how a GEMM is tiled into SRAM, ordered, and laid onto the array."""

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from simulator.spec.types import Dataflow, Dim, Flag, PositiveInt, Strict


class SpatialSpec(Strict):
    """Which GEMM dims run along the array's rows and columns."""

    rows: Dim
    cols: Dim

    @model_validator(mode="after")
    def _two_dims(self):
        if self.rows == self.cols:
            raise ValueError(f"rows and cols must be two different dims, got {self.rows} twice")
        return self


class AttentionMappingSpec(Strict):
    """How attention ops are tiled."""

    algorithm: Literal["flash", "naive", "unfused"] = "flash"
    """flash: Q blocks x K/V blocks with online softmax (FlashAttention-2); naive: materialise
    S = Q K^T and P = softmax(S) per block of query rows, spilling them to DRAM when they do not
    fit on chip; unfused: standard attention as three kernels (S = Q K^T, softmax, P V), S and P
    written to and read back from DRAM in the op's precision, the baseline that the
    FlashAttention papers measure against; its two matmuls are GEMMs per (batch, query head),
    tiled as the chip's GEMMs are (the mapping's tile and loop_order apply, else auto's)."""
    block_q: PositiveInt | None = None
    """Br, query rows per block; default min(Bc, d) as in FlashAttention."""
    block_kv: PositiveInt | None = None
    """Bc, key/value rows per block; default ceil(M / 4d) for an on-chip buffer of M elements
    (causal: at most Br, square blocks so that fully masked blocks are skipped)."""
    softmax_overlap: Flag = True
    """Whether a block's softmax runs while the matrix unit computes other blocks' matmuls (a
    separate vector unit, FlashAttention-3's ping-pong). false: the matrix unit waits for it, as
    in FlashAttention-2 on a GPU, where each SM sub-partition's one warp issues its MMAs and its
    exponentials in turn (flash and naive; unfused runs softmax as its own kernel anyway)."""
    mma: str | None = None
    """The matrix instruction family the kernel issues, as the array's `instructions` name it
    (FlashAttention-2 on H100: `mma.sync`, Ampere's instruction, below Hopper's `wgmma` rate);
    default the array's full rate. Flash and naive only: unfused runs the chip's GEMM kernels."""


class PartitionSpec(Strict):
    """How ops are split over the cores of a multi-core arch."""

    gemm: Literal["auto", "M", "N", "MN", "K", "tensor", "cta"] = "auto"
    """M: rows of C per core; N: columns; MN: a grid of C blocks; K: the reduction, with partial
    sums reduced over the NoC into each output tile's owner core; tensor: Megatron tensor
    parallelism — `parallel: column` GEMMs split N, `parallel: row` GEMMs split K and all-reduce C
    (ring), unmarked GEMMs as MN; auto: tensor where cores have their own memory (chips, `memory:
    local`), on chips with `cores.kernels` cta, else MN (cores of one chip share DRAM and need no
    all-reduce); cta: GPU-like output tiles dealt to the cores in waves, split-K when there are
    fewer tiles than cores (chips with `cores.kernels` only)."""
    attention: Literal["auto", "heads", "sequence", "cta"] = "auto"
    """heads: K/V-head groups (with their query heads) per core; sequence: blocks of query rows
    per core, each against the keys its queries can see (causal: a shorter prefix for earlier blocks);
    cta: FlashAttention's grid, one (K/V-head group, query block) per CTA, dealt to the cores in
    waves; for unfused attention PyTorch's kernels: S = Q K^T and P V as batched GEMMs, every
    head's CTA tiles dealt in waves, and the chip's softmax row kernel over S between them;
    auto: cta on chips with `cores.kernels` (a GPU runs attention as that grid, so a
    tensor-parallel shard with two K/V heads still fills every SM), else heads."""
    cores: PositiveInt | None = None
    """Use only the first `cores` cores (scaling studies); default all."""


class CrossbarMappingSpec(Strict):
    """How GEMMs are laid onto analog crossbars (the weights stay in the cells)."""

    replication: PositiveInt | None = None
    """Copies of an op's weights at most, each serving other input rows at the same time;
    default as many as the spare crossbars allow, shared to balance the ops' times."""
    rows_per_step: PositiveInt | None = None
    """Input rows per step; default as many as the buffers hold (double-buffered)."""


class LevelTilingSpec(Strict):
    """One inner level's tiling (Timeloop's per-level tiling). A local SRAM: the sub-tile it
    holds inside the enclosing tile, and the order of the loops over its sub-tiles. A register
    level: the iterations per dim of the array's temporal loops it holds (Timeloop's factors at
    and below it, spatial unrolling left out), and their order."""

    tile: dict[Dim, PositiveInt] = {}
    """Local SRAM: sub-tile size per dim (M, N, K), a dim left out the enclosing tile's whole
    extent. Register level: iterations per dim of the loops it holds, a dim left out 1."""
    loop_order: list[Dim] | None = None
    """Local SRAM: order of the loops over the sub-tiles, outermost first (default the mapping's
    loop_order). Register level: order of the loops it holds, outermost first (default the
    array's: the column folds, the row folds, the streamed dim innermost)."""
    double_buffer: Flag | None = None
    """Local SRAM only: two halves, one refilled while the array works on the other (a sub-tile
    gets half the capacity); default the arch's `double_buffer`, and under an auto tile the
    faster of the two by the mapper's estimate (ties: single-buffered, the smaller footprint)."""

    @field_validator("loop_order")
    @classmethod
    def _permutation(cls, value):
        if value is not None and sorted(value) != ["K", "M", "N"]:
            raise ValueError(f"must be a permutation of M, N, K, got {value}")
        return value


class MappingSpec(Strict):
    """Tiling, loop order and dataflow; every field left out is chosen automatically."""

    name: str = "auto"
    """Short name shown in reports."""
    description: str = ""
    """One line on what this mapping does."""
    unit: str | None = None
    """Compute unit to run on; default the arch's only (or first) compute unit."""
    dataflow: Dataflow | None = None
    """os (output stationary), ws (weight stationary) or is (input stationary); default the unit's first."""
    spatial: SpatialSpec | None = None
    """GEMM dims on array rows / cols; default SCALE-Sim's: os M/N, ws K/N, is K/M."""
    tile: dict[Dim, PositiveInt] | None = None
    """SRAM tile size per dim (M, N, K); dims left out are chosen automatically."""
    loop_order: list[Dim] | None = None
    """Order of the tile loops, outermost first (a permutation of M, N, K)."""
    registers: dict[str, Annotated[int, Field(ge=0, le=3)]] | None = None
    """Per register level: how many innermost loops of the array's fold nest it holds (1: the
    streamed dim, 2: and the row folds, 3: and the column folds); levels left out hold as many
    as fit their capacity (ZigZag's allocation)."""
    levels: dict[str, LevelTilingSpec] | None = None
    """Per local SRAM (an sram with `unit:`): its tile and loop order inside the DMA tile (and
    inside the next outer local SRAM's tile). Per register level: the array loops it holds (as
    `registers:` says by count). Levels left out hold the innermost array loops that fit their
    share (under an auto tile, register levels take the count the mapper finds fastest)."""
    nest: Annotated[list[tuple[Dim, PositiveInt]], Field(min_length=1)] | None = None
    """The array's temporal loops inside one SRAM tile, innermost first, as [dim, iterations]
    (ZigZag's temporal mapping below the DMA level, Timeloop's temporal factors): the array runs
    this nest instead of its fold nest, over the spatial unrolling (`spatial`: a whole array
    edge, or the problem's dim where smaller). The SRAM tile follows from it (a `tile` given
    must equal it; it must divide K, and along M and N may leave an edge tile whatever
    `edge_tiles` says); inner levels hold the innermost loops that fit their capacity, or
    `registers:` counts (then 0 to 3)."""
    double_buffering: Flag = True
    """Prefetch the next tile while computing this one (needs twice the tile footprint)."""
    edge_tiles: Literal["strict", "partial"] = "strict"
    """strict: tiles must divide the problem; partial: the last tile along a dim may be smaller."""
    attention: AttentionMappingSpec = AttentionMappingSpec()
    """Attention tiling (flash by default)."""
    partition: PartitionSpec = PartitionSpec()
    """Multi-core archs: how ops are split over cores."""
    crossbar: CrossbarMappingSpec = CrossbarMappingSpec()
    """Crossbar GEMMs: replication and input rows per step."""
    accounting: Literal["realistic", "scalesim", "zigzag"] = "realistic"
    """realistic: consecutive folds pipeline; scalesim: folds never overlap, as SCALE-Sim counts;
    zigzag: the per-level table charges memory accesses as ZigZag 3.9.1 counts them (each
    transfer rounded up to whole port words, docs/memory-hierarchy.md)."""

    @field_validator("loop_order")
    @classmethod
    def _permutation(cls, value):
        if value is not None and sorted(value) != ["K", "M", "N"]:
            raise ValueError(f"must be a permutation of M, N, K, got {value}")
        return value

    @field_validator("spatial")
    @classmethod
    def _spatial_matches_dataflow(cls, spatial, info: ValidationInfo):
        dataflow = info.data.get("dataflow")  # declared before spatial, so already validated
        if spatial and dataflow:
            allowed = SPATIAL_DIMS[dataflow]
            if {spatial.rows, spatial.cols} != allowed:
                raise ValueError(
                    f"spatial dims {spatial.rows}/{spatial.cols} do not fit dataflow "
                    f"{dataflow!r}, which spreads {'/'.join(sorted(allowed))} over the array"
                )
        return spatial


# The stationary operand's dims are spread over the array; the remaining dim streams in time.
SPATIAL_DIMS: dict[str, set[str]] = {"os": {"M", "N"}, "ws": {"K", "N"}, "is": {"K", "M"}}
DEFAULT_SPATIAL: dict[str, tuple[str, str]] = {"os": ("M", "N"), "ws": ("K", "N"), "is": ("K", "M")}
