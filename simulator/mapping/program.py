"""The Program: the contract between mapping and engine — a lazy stream of tile steps.

Each Step names exactly which tensor regions move between DRAM and which buffer, what the compute
unit does with them (and its numpy kernel), and which buffer space is released afterwards.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields

import numpy as np

Region = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Transfer:
    """A tile moving between DRAM and a buffer, or (kind 'alloc') just taking buffer space."""

    kind: str  # load | reload | alloc | recv (into the buffer); store | spill | send (out of it)
    tensor: str
    region: Region
    buffer: str
    dram_bytes: int  # bytes crossing the DRAM interface (a send's bytes cross the NoC instead)
    space: int  # buffer bytes taken (loads) or released after the write-back (stores)
    peer: str | None = None  # send: the other core's buffer the bytes go to
    noc_bytes: int = 0  # send: bytes crossing the NoC
    miss: bool = False  # load: misses the L2 even where its region is resident (evicted first)


@dataclass(frozen=True, slots=True)
class Compute:
    """One segment of work on one compute unit: its timing, counted actions, SRAM traffic, kernel."""

    unit: str
    cycles: int  # reference cycles on the unit alone
    work: tuple[tuple[str, int], ...]  # (energy action, count): MACs, exps, adds, ...
    macs: int  # multiply-accumulates in this segment (0 for vector work)
    sram_traffic: tuple[tuple[str, int, int], ...]  # (buffer, bytes read, bytes written)
    regions: dict[str, Region]
    kernel: Callable[[], None] | None = None
    refill: int = 0  # cycles the unit also waits for single-buffered local buffers' refills
    streamed: tuple[Transfer, ...] = ()  # DMA moved while the segment runs
    dma_wait: int = 0  # cycles the unit also waits for that DMA (periods it could not hide)
    holds: tuple[str, ...] = ()  # other units held idle meanwhile (a softmax not overlapped)
    pace: int = 0  # ends >= this after the op's last paced end (the first: after its loads began)


@dataclass(frozen=True, slots=True)
class Step:
    """Loads that must finish first, compute segments run in order (each on its own unit and
    any it holds), then write-backs and releases."""

    loads: tuple[Transfer, ...]
    computes: tuple[Compute, ...]
    stores: tuple[Transfer, ...]
    frees: tuple[tuple[str, int], ...]  # (buffer, bytes) released right after the last segment
    waits: tuple[str, ...] = ()  # signals (from other cores' steps) to wait for before loading
    signals: tuple[str, ...] = ()  # raised when this step's write-backs and sends have landed
    peers: tuple["Step", ...] = ()  # a core class's step: its other members' copies (classes.py)


@dataclass(frozen=True)
class OpProgram:
    """The steps of one op, generated lazily, plus what the report needs to know about the op."""

    name: str
    kind: str
    steps: Callable[[], Iterable[Step]]
    macs: int
    flops: int  # arithmetic operations, for intensity and the roofline (2 per MAC)
    unit: str  # the unit doing most of the op's work
    double_buffering: bool
    barrier: bool  # wait for every earlier op to finish before loading this one
    depends_on: tuple[str, ...] = ()  # ops whose results this one reads
    core: int = 0  # the core whose DMA engines and units run the op
    group: str = ""  # the workload op this one is a part of (partitioned ops); default its own name
    details: dict = field(default_factory=dict)  # resolved mapping, shown in reports
    levels: Callable[[], tuple] = tuple  # LevelCount rows (level x operand x direction), lazily
    resume: Callable[[int], Iterable[Step]] | None = None
    """The steps from index i on (what `steps` gives after i steps), for an engine that jumps."""
    classes: Callable[[int], np.ndarray] | None = None
    """A class per step from index i on: steps of one class differ only in their regions (the
    engine's coalescing skips a run of them without generating it). None: not known."""
    step_count: "StepCount | None" = None
    """How many steps `steps` makes, worked out without making them (the cost guard reads it:
    engine/work.py). None, or a count of other steps (a wrapper's): not known, the steps walked."""
    signature: str | None = None
    """Everything the step stream depends on but names (see `signature`): two ops with equal
    signatures on one machine and mapping make the same steps, so the engine may simulate them once.
    None: not known, always simulated."""
    shape_class: str | None = None
    """Parts of one workload op with equal shape classes run the same step shapes at the same
    time on their cores (CTA GEMMs): the engine may simulate them as one class (classes.py)."""
    members: tuple["OpProgram", ...] = ()
    """A core class: the parts run by its other members, in core order (classes.py)."""


@dataclass(frozen=True)
class StepCount:
    """How many steps one `steps` callable makes, worked out without making them: it counts
    only for that callable, so a wrapper that changes an op's steps leaves no stale count."""

    steps: Callable[[], Iterable[Step]]
    count: Callable[[], int]

    def of(self, op: "OpProgram") -> int | None:
        """The count of `op`'s steps, where they are the ones counted (else None)."""
        return self.count() if op.steps is self.steps else None


def as_many(
    op: "OpProgram", steps: Callable[[], Iterable[Step]], extra: int = 0
) -> StepCount | None:
    """`op`'s step count for `steps`, which make one step for each of op's (a wrapper that
    renames, moves or replays them) and `extra` more (a kernel launch's); None where op's count
    is not known."""
    counted = op.step_count
    if counted is None or counted.steps is not op.steps:
        return None
    if not extra:
        return StepCount(steps, counted.count)
    return StepCount(steps, lambda: counted.count() + extra)


_OP_FIELDS = frozenset(f.name for f in fields(OpProgram))


def altered(op: OpProgram, **changes) -> OpProgram:
    """`op` with `changes`, the program dataclasses.replace makes, without its walk over every
    field and the frozen __init__ (a many-core compile wraps each core's part of every kernel
    several times: about a third of h100-like decode's compile went to replace)."""
    unknown = changes.keys() - _OP_FIELDS
    if unknown:
        raise TypeError(f"OpProgram has no field {', '.join(sorted(unknown))}")
    new = object.__new__(OpProgram)
    new.__dict__.update(op.__dict__)
    new.__dict__.update(changes)
    return new


@dataclass(frozen=True)
class Program:
    """All ops of a workload in dependency order, and facts about the workload (WorkloadSpec.meta)."""

    ops: tuple[OpProgram, ...]
    meta: dict = field(default_factory=dict)


def joined_signature(tag, signatures: tuple[str, ...]) -> str:
    """Signatures joined into one under `tag` (anything with a repr), unambiguously (their
    lengths first), without repr's copying and escaping of long strings."""
    return repr((tag, tuple(map(len, signatures)))) + "".join(signatures)


def bind(kernel: Callable, *args) -> Callable[[], None]:
    """A Compute's kernel: `kernel(*args)` run when the engine finishes the segment."""
    return lambda: kernel(*args)


def signature(op, *resolved) -> str:
    """An op spec's fields but its name and inputs, and the `resolved` choices (plan, offsets) that
    shape its steps: names are the only thing two ops with equal signatures may differ in."""
    fields = tuple((k, v) for k, v in vars(op).items() if k not in ("name", "inputs"))
    return repr((type(op).__name__, fields, resolved))
