"""Cost guards: estimate a run's tile steps and host memory from its specs, before anything is
built, and refuse (naming the estimate and how to shrink it) above limits the user can raise;
then, once compiled, the steps the engine will simulate (engine/work.py: check_work); a spiking
network's time steps and their records (check_spiking_cost).

The spec estimate is a lower bound: a GEMM tile's operands and result must fit the largest SRAM,
which caps the MACs of one tile at (capacity / 3 / bytes)^1.5 (a cube of a third each); other
ops take at least one step per core they are split over, an elementwise op one per SRAM-full of
its elements. So a refused run is never a cheap one.
The compiled program's count (engine/work.py) is an upper bound on the engine's own work: equal
runs of ops and core classes counted once, as the engine simulates them.
"""

import math
import numbers
from dataclasses import dataclass

from simulator.errors import CapacityError, SpecError
from simulator.spec.arch import ArchSpec
from simulator.spec.precision import precision
from simulator.spec.validate import locate

NUMERIC_BYTES_PER_ELEMENT = 12
"""Host bytes per operand or result element with numerics on: the stored operand and its fp32
working copy, the result and its coverage counter (measured: 2.17 GB peak for the 236 M elements
of tp-4chips llama-2-7b-decode, 9.2 B each)."""
STEP_BYTES = 2048
"""Host bytes per tile step of the program and its simpy processes (measured: 1-2 kB)."""
CLASS_BYTES = 32
"""Host bytes per step of an op whose steady state coalescing looks for: its step classes and
their shape ids, one integer each per step (measured: 332 MB peak for edge-npu's 65536^3 int8
GEMM, 8,388,608 steps, against 88 MB for 32768^3: 33 B per step more)."""


TIME_STEP_BYTES = 640
"""Host bytes per time step of a spiking run at least: its record's per-step rows (measured, timing
only, for the digits and MNIST MLPs on loihi-like and truenorth-like: 658 to 691 B a step,
`python benchmarks/guard_cost.py --spiking`)."""


@dataclass(frozen=True)
class Limits:
    """What a single run may cost before it is refused (raise with --max-tiles / --max-memory)."""

    max_tiles: int = 1_000_000
    """Tile steps: a lower bound from the specs, then the steps the engine will simulate (a
    spiking network: its time steps)."""
    max_memory: float = 16 * 2**30
    """Host memory in bytes for the program and the numerics arrays."""
    max_cores: int = 4096
    """Cores an arch may declare (each is built as its own set of components)."""

    def __post_init__(self):
        for name in ("max_tiles", "max_memory", "max_cores"):
            value = getattr(self, name)
            kind = numbers.Real if name == "max_memory" else numbers.Integral
            if isinstance(value, bool) or not isinstance(value, kind) or not 0 < value < math.inf:
                wanted = "a positive number of bytes" if name == "max_memory" else "an integer >= 1"
                raise SpecError(f"Limits({name}={value!r}): give {wanted}")


DEFAULT_LIMITS = Limits()


def readable_bytes(count: float) -> str:
    """`count` bytes in the largest binary unit it reaches (bytes below 1 KiB), so a small limit
    (`--max-memory '1 KiB'`) does not print as 0.0 GiB."""
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= factor:
            return f"{count / factor:,.1f} {unit}"
    return f"{count:,.0f} bytes"


@dataclass(frozen=True)
class Estimate:
    """A run's cost, estimated from its specs."""

    tiles: int
    memory_bytes: float
    biggest_op: str


def estimate(arch: ArchSpec, workload, numerics: bool) -> Estimate:
    """Tile steps (a lower bound) and host memory of simulating `workload` on `arch`."""
    cores = arch.cores.count if arch.cores else 1
    components = arch.cores.components if arch.cores else arch.components
    capacity = max((c.capacity for c in components.values() if c.kind == "sram"), default=2.0**20)
    tiles, elements, biggest, most = 0, 0, "", -1
    for op in workload.ops:
        op_tiles, op_elements = _op_cost(op, capacity, cores)
        tiles += op_tiles
        elements += op_elements
        if op_tiles > most:
            biggest, most = op.name, op_tiles
    memory = tiles * STEP_BYTES + (elements * NUMERIC_BYTES_PER_ELEMENT if numerics else 0)
    return Estimate(tiles, memory, biggest)


def _op_cost(op, capacity: float, cores: int) -> tuple[int, int]:
    """(tile steps at least, operand and result elements) of one op."""
    if op.kind == "gemm":
        element = max(precision(op.dtype).bits / 8, 0.5)
        side = max(math.floor((capacity / 3 / element) ** 0.5), 1)  # a square tile per operand
        per_tile = side**3 if side**3 else 1
        tiles = max(math.ceil(op.M * op.N * op.K / per_tile), cores)
        return tiles, op.M * op.K + op.K * op.N + op.M * op.N
    if op.kind == "attention":  # a step holds q and k rows of d elements: q, k <= capacity / 2d
        keys, heads = op.keys, op.batch * op.heads
        side = max(math.floor(capacity / (2 * op.head_dim * precision(op.dtype).bits / 8)), 1)
        scores = op.score_pairs if op.window else op.q_len * keys / (2 if op.causal else 1)
        per_tile = min(op.q_len, side) * min(keys, side)
        tiles = max(heads * math.ceil(scores / per_tile), cores)
        # numerics hold Q, O per query head and K, V per K/V head; score blocks are transient
        elements = op.batch * 2 * op.head_dim * (op.heads * op.q_len + op.kv_groups * keys)
        return tiles, elements
    if op.kind == "collective":
        return cores * cores, 2 * cores * op.elements
    if op.kind == "conv2d":  # as its GEMM: [N P Q, C/g R S] @ [C/g R S, K]
        element = max(precision(op.dtype).bits / 8, 0.5)
        side = max(math.floor((capacity / 3 / element) ** 0.5), 1)
        tiles = max(math.ceil(op.macs / side**3), cores)
        weights = op.K * op.C // op.groups * op.R * op.S
        return tiles, op.N * (op.C * op.H * op.W + op.K * op.P * op.Q) + weights
    if op.kind == "onnx":  # one host step
        return 1, op.input_elements + op.output_elements
    if op.kind == "pool":  # streamed through the buffer
        elements = op.N * op.C * (op.H * op.W + op.P * op.Q)
        per_tile = max(math.floor(capacity / (precision(op.dtype).bits / 8)), 1)
        return max(math.ceil(elements / per_tile), cores), elements
    element = precision(op.dtype).bits / 8
    rows_per_tile = max(math.floor(capacity / 2 / (op.cols * element)), 1)
    # an elementwise row wider than the SRAM is taken in pieces, each step's within it
    pieces = math.ceil(op.rows * op.cols * element / capacity)
    elements = max(3, op.reads + 1) * op.rows * op.cols  # its operands and its result
    return max(math.ceil(op.rows / rows_per_tile), pieces, cores), elements


def check_cost(arch: ArchSpec, workload, numerics: bool, limits: Limits) -> Estimate:
    """The estimate, or a CapacityError saying which limit it passes and how to get under it."""
    cores = arch.cores.count if arch.cores else 1
    if cores > limits.max_cores:
        raise CapacityError(
            f"{arch.name}: {cores:,} cores exceed the limit of {limits.max_cores:,}; "
            f"simulate fewer cores (cores.count) and scale the result"
        )
    cost = estimate(arch, workload, numerics)
    if cost.tiles > limits.max_tiles:
        raise CapacityError(
            f"{workload.name}: at least {cost.tiles:,} tile steps (most in {cost.biggest_op}), "
            f"above the limit of {limits.max_tiles:,}; shrink the op or the layers, give the "
            f"arch more SRAM, or raise the limit with --max-tiles"
        )
    if cost.memory_bytes > limits.max_memory:
        hint = "run with --no-numerics, " if numerics else ""
        raise CapacityError(
            f"{workload.name}: needs about {readable_bytes(cost.memory_bytes)} of host memory "
            f"(most in {cost.biggest_op}), above the limit of "
            f"{readable_bytes(limits.max_memory)}; {hint}shrink the op, or raise the limit "
            f"with --max-memory"
        )
    return cost


def check_spiking_cost(workload, limits: Limits, check_bytes: int = 0) -> None:
    """Refuse a spiking network's run where its time steps pass the limit (each is at least one
    engine step: every core in use updates its neurons in lock step) or its per-step records
    (with `check_bytes` a step for the numerics check) the host memory limit, naming
    `time_steps` and how to get under it. Called before the input trains are drawn, and again
    with the check's share once the network is compiled, before the engine starts."""
    steps = workload.time_steps
    where = locate(workload, "time_steps")
    if steps > limits.max_tiles:
        raise CapacityError(
            f"{where}: {steps:,} time steps to simulate, above the limit of "
            f"{limits.max_tiles:,} engine steps (each time step is at least one); lower "
            f"time_steps, or raise the limit with --max-tiles"
        )
    memory = steps * (TIME_STEP_BYTES + check_bytes)
    if memory > limits.max_memory:
        hint = "run with --no-numerics, " if check_bytes else ""
        raise CapacityError(
            f"{where}: {steps:,} time steps need about {readable_bytes(memory)} of host memory, "
            f"above the limit of {readable_bytes(limits.max_memory)}; {hint}lower time_steps, "
            f"or raise the limit with --max-memory"
        )
