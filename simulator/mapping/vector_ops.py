"""Vector ops (norms, activations, residual adds) as row-chunk steps on a vector unit."""

import math
from dataclasses import dataclass

import numpy as np

from simulator.components import Machine
from simulator.components.vector import VectorUnit
from simulator.errors import CapacityError, UnsupportedError
from simulator.mapping.program import (
    Compute,
    OpProgram,
    Step,
    StepCount,
    Transfer,
    bind,
    signature,
)
from simulator.mapping.rope import rope_recipe
from simulator.numerics.vector_ops import VectorNumerics
from simulator.spec.arch import KernelsSpec, LoadLatencySpec
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes, precision
from simulator.spec.workload import MULTI_OPERAND, VectorOpSpec

# primitive counts per element, and per row (the reductions' final step), in fp32
RECIPES: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    "softmax": ({"max": 1, "add": 2, "exp": 1, "mul": 1}, {"div": 1}),
    "layernorm": ({"add": 4, "mul": 3}, {"rsqrt": 1, "div": 1}),
    "rmsnorm": ({"add": 1, "mul": 3}, {"rsqrt": 1, "div": 1}),
    "gelu": ({"mul": 5, "add": 3, "exp": 1, "div": 1}, {}),
    "silu": ({"exp": 1, "add": 1, "div": 1, "mul": 1}, {}),
    "add": ({"add": 1}, {}),  # of two operands (`recipe`: n - 1 for n)
    "mul": ({"mul": 1}, {}),
    "relu": ({"max": 1}, {}),
    "batchnorm": ({"mul": 1, "add": 1}, {}),  # inference: folded into a per-channel scale + shift
    "concat": ({}, {}),  # a copy into the joined tensor: data movement only
}
REDUCTIONS = ("softmax", "layernorm", "rmsnorm")


def recipe(op: VectorOpSpec) -> tuple[dict[str, int], dict[str, int]]:
    """The op's primitive counts per element and per row (RoPE's depend on its heads; an add or
    mul of n operands does n - 1 of its primitive per element)."""
    if op.kind == "rope":
        return rope_recipe(op)
    if op.kind in MULTI_OPERAND:
        return {op.kind: op.reads - 1}, {}
    return RECIPES[op.kind]


# How GPU kernels run the row reductions (chips with `cores.kernels`), after PyTorch 2.0's CUDA
# kernels (aten/src/ATen/native/cuda/PersistentSoftmax.cuh, SoftMax.cu, layer_norm_kernel.cu):
WARP_ROW = 1024
"""Widest row one warp keeps in registers (32 lanes x 32 fp32 values): softmax_warp_forward
runs such rows a warp each, in one read; wider ones get a CTA each."""
WARPS_PER_CTA = 4  # the warp-per-row softmax's 128-thread CTAs
PAIRED_ROW = 128  # rows this narrow go two to a warp (the warp softmax's WARP_BATCH of 2)
PASSES = {"softmax": 3, "layernorm": 2, "rmsnorm": 2}
"""Passes a CTA-per-row kernel makes over its row, each after the last one's reduction and each
reading the row from global memory: softmax its max, its sum of exponentials and the
normalising pass (cunn_SoftMaxForward: PyTorch 2.0 has no shared-memory variant;
cunn_SoftMaxForwardSmem, which keeps a row of up to 48 KB, came with pytorch/pytorch#122970 in
2024); LayerNorm and RMSNorm the Welford statistics and the normalising pass, which reloads X
(vectorized_layer_norm_kernel_impl). Re-reads go through L2 (`reread_hits`)."""
REDUCTIONS_PER_ROW = {"softmax": 2, "layernorm": 1, "rmsnorm": 1}
"""Block-wide reductions between the passes: softmax its max and its sum; the norms one Welford
(or sum of squares) combine."""
CTA_THREADS = {"layernorm": 128, "rmsnorm": 128}
"""launch_vectorized_layer_norm_kernel's 128 threads (4 warps) per row."""
NORM_VECTOR = 4  # vectorized_layer_norm_kernel's vec_size: elements one thread loads at once
MAX_CTA_THREADS = 1024
LOAD_BYTES = 16  # cunn_SoftMaxForward loads ILP = sizeof(float4) / sizeof(T) elements at a time
WARP = 32
REGISTER_UNIT = 256  # registers are allocated to a warp in units of 256
SECTOR = 32
"""Bytes an L1 miss fetches from the L2: the 32-byte sector of a 128-byte line (NVIDIA GPUs since
Volta; CUDA C++ Best Practices Guide, "Coalesced Access to Global Memory")."""

Work = tuple[tuple[str, int], ...]  # instruction counts, sorted by primitive

# The instructions a GPU's softmax kernels execute, on the SM's FMA pipe ("add" and "mul": FADD,
# FFMA, FMUL, HADD2, IMAD), its ALU pipe ("max": FMNMX, FCHK, IADD3, ISETP) and its special-function
# units (MUFU.EX2, MUFU.RCP), counted in the SASS that CUDA 11.8's ptxas (the toolkit of PyTorch
# 2.0's cu118 wheels) makes for sm_80 of cunn_SoftMaxForward<8, half, float, half> as PyTorch 2.0
# writes it, loop by loop (docs/hardware/multicore.md, "Row kernels' instructions"):
EXPF = {"mul": 4, "add": 2, "exp": 1}
"""One fp32 std::exp: FFMA.SAT and FFMA.RM round x log2 e to an integer j, an FADD takes it back
off, two FFMAs form the reduced argument (log2 e in two parts), an integer shift puts j in an
exponent (IMAD.SHL), MUFU.EX2 raises 2 to the rest; scaling by 2^j is the caller's (SCALE)."""
SCALE = {"mul": 1}  # 2^j times 2^f: an FMUL, or the FFMA that also adds it to a running sum
FDIV = {"mul": 5, "max": 1, "div": 1}
"""One IEEE fp32 division (div.rn.f32): MUFU.RCP refined by five FFMAs (Markstein 1990: e = 1 -
y r, r += r e, q = x r, the residual x - y q, q += residual r) and FCHK, which sends operands
that need it to a slow path that normal softmax values do not take."""
CONVERT = {"add": 1}  # HADD2.F32: an fp16/bf16 value widened to the fp32 accumulator type
REMATERIALIZED = {"add": 2}
"""cunn_SoftMaxForward's normalising pass, out of registers with 8 elements in flight, loads
expf's two constants again for each element (IMAD.MOV, HFMA2.MMA)."""
LOOP = {"add": 1, "max": 2}
"""Per iteration of a thread's loop over its row (one vector load): the address (IMAD.WIDE), the
offset's increment (IADD3) and the bound's compare (ISETP)."""


def _sum(*parts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for p, n in part.items():
            total[p] = total.get(p, 0) + n
    return total


def softmax_passes(warp: bool, dtype: str, vector: int) -> tuple[tuple[Work, Work], ...]:
    """Instructions of each pass of PyTorch 2.0's softmax kernels (fp32 accumulate), as (per
    element, per loop iteration of `vector` elements). The warp kernel (softmax_warp_forward)
    keeps its row in registers, one unrolled pass: a max, exp(x - max) kept and summed, a division
    by the sum, each value narrowed as it is stored. cunn_SoftMaxForward makes 3 loops: a max;
    exp(x - max) summed (SumExpFloat); exp(x - max) / sum again (SoftMaxForwardEpilogue), each
    widening what it loads where the tensor is not fp32, the last packing its results two by two
    (F2FP) and storing them (a second address)."""
    narrow = dtype != "fp32"
    widen = CONVERT if narrow else {}
    sub, add, top = {"add": 1}, {"add": 1}, {"max": 1}
    if warp:
        return ((_work(widen, top, sub, EXPF, SCALE, add, FDIV, widen), ()),)
    store = {"add": 1 + (vector // 2 if narrow else 0)}
    return (
        (_work(widen, top), _work(LOOP)),
        (_work(widen, sub, EXPF, SCALE), _work(LOOP)),
        (_work(widen, sub, EXPF, SCALE, FDIV, REMATERIALIZED), _work(LOOP, store)),
    )


def _work(*parts: dict[str, int]) -> Work:
    return tuple(sorted(_sum(*parts).items()))


@dataclass(frozen=True)
class RowKernel:
    """How a GPU runs a row reduction: rows and threads per CTA, threads per row, its passes over
    each row (each a read from memory), elements a thread loads at once, block-wide reductions
    per row, the shared memory a CTA takes and, where counted, its instructions per element in
    each pass."""

    rows: int
    threads: int
    row_threads: int
    passes: int
    vector: int
    reductions: int
    shared: int
    pass_work: tuple[tuple[Work, Work], ...] = ()
    """Per pass, where counted (softmax): instructions per element and per loop iteration (one
    thread's load of `vector` elements)."""
    kept: str = ""
    """Where the first pass keeps the row ("": nowhere): "shared" memory
    (cunn_SoftMaxForwardSmem), whose later passes wait on shared memory's latency, or
    "registers" (cunn_SoftMaxForwardReg), whose later passes wait on no load; either way later
    passes move no bytes through the L2 or DRAM."""
    registers: int = 0
    """Registers a thread of the compiled kernel takes on the chip, where known (0: no bound)."""

    def work(self, rows: int, cols: int, passes: range | None = None) -> dict[str, int]:
        """Counted instructions of `passes` (all) over `rows` rows of `cols` values."""
        total: dict[str, int] = {}
        loads = math.ceil(cols / self.vector)
        for element, loop in (self.pass_work[p] for p in passes or range(len(self.pass_work))):
            for p, n in (*((p, n * cols) for p, n in element), *((p, n * loads) for p, n in loop)):
                total[p] = total.get(p, 0) + n * rows
        return total


def softmax_threads(cols: int, dtype: str) -> int:
    """cunn_SoftMaxForward's CTA size (SoftMax_getBlockSize, PyTorch 2.0): half of
    cols / ILP capped at 1024, rounded up to a power of two, at least a warp."""
    ilp = max(1, LOAD_BYTES // nbytes(1, dtype))
    largest = min(cols // ilp, MAX_CTA_THREADS) // (2 if ilp > 1 else 1)
    return max(WARP, 1 << max(0, largest - 1).bit_length())


def row_kernel(op: VectorOpSpec) -> RowKernel:
    """The kernel that runs row reduction `op` on a GPU: a warp per softmax row up to 1024 values
    (each lane loads its up to 32 values at once, warp-shuffle reductions, one read), four warps a
    CTA (two rows a warp up to 128 values); wider softmax rows a CTA each of `softmax_threads`,
    the norms' rows a CTA each of 128 threads, each making its `PASSES` over the row."""
    if op.kind == "softmax" and op.cols <= WARP_ROW:
        rows = WARPS_PER_CTA * (2 if op.cols <= PAIRED_ROW else 1)
        work = softmax_passes(True, op.dtype, WARP_ROW // WARP)
        return RowKernel(rows, WARP * WARPS_PER_CTA, WARP, 1, WARP_ROW // WARP, 2, 0, work)
    if op.kind == "softmax":
        threads = softmax_threads(op.cols, op.dtype)
        vector = max(1, LOAD_BYTES // nbytes(1, op.dtype))
    else:
        threads, vector = CTA_THREADS[op.kind], NORM_VECTOR
    smem = nbytes(threads, "fp32")  # one fp32 partial per thread for the block reduction
    work = softmax_passes(False, op.dtype, vector) if op.kind == "softmax" else ()
    return RowKernel(
        1, threads, threads, PASSES[op.kind], vector, REDUCTIONS_PER_ROW[op.kind], smem, work
    )


def check_cta_fits(kernel: RowKernel, kernels: KernelsSpec, op: VectorOpSpec, where) -> None:
    """A core must hold one CTA of `kernel`: the kernel's threads per CTA and (where known) its
    registers per thread are fixed by its source, so a core with fewer threads or registers
    (`where(key)`: the arch's kernels.threads or .registers) cannot run it (`resident_ctas` took
    one CTA anyway, as if it fitted)."""
    if kernel.threads > kernels.threads:
        raise UnsupportedError(
            f"{where('threads')}: {kernels.threads} threads per core cannot hold one "
            f"{kernel.threads}-thread CTA of {op.name} ({op.kind} over {op.cols} columns)"
        )
    warps = -(-kernel.threads // WARP)
    need = -(-kernel.registers * WARP // REGISTER_UNIT) * REGISTER_UNIT * warps
    if need > kernels.registers:
        raise UnsupportedError(
            f"{where('registers')}: {kernels.registers:,} registers per core cannot hold one "
            f"CTA of {op.name} ({warps} warps of {kernel.registers} registers a thread: {need:,})"
        )


def resident_ctas(kernel: RowKernel, kernels: KernelsSpec, shared: int) -> int:
    """CTAs of `kernel` one core holds at once (at least the one `check_cta_fits` checked):
    bounded by its threads, its CTA slots, its shared memory and, where the kernel's registers
    per thread are known, the core's registers, allocated a warp at a time in units of
    `REGISTER_UNIT` (CUDA occupancy calculator, compute capability 8.0 to 10.0)."""
    limits = [kernels.ctas, kernels.threads // kernel.threads]
    if kernel.shared:
        limits.append(shared // kernel.shared)
    if kernel.registers:
        per_warp = -(-kernel.registers * WARP // REGISTER_UNIT) * REGISTER_UNIT
        limits.append(kernels.registers // per_warp // -(-kernel.threads // WARP))
    return max(1, min(limits))


def reduction_steps(threads: int) -> int:
    """Dependent shared-memory (or shuffle) steps of one reduction over `threads` threads: a
    warp's shuffle tree (log2 32), and past one warp a barrier, the warps' tree and a barrier."""
    steps = int(math.log2(WARP))
    if threads > WARP:
        steps += 2 + math.ceil(math.log2(threads // WARP))
    return steps


def reread_hits(
    kernel: RowKernel,
    op: VectorOpSpec,
    kernels: KernelsSpec,
    shared: int,
    cores: int,
    l2: int,
    busiest: "tuple[VectorOpSpec, CoreRates] | None" = None,
) -> tuple[int, ...]:
    """Columns of each row whose re-read hits an `l2`-byte LRU L2, for each pass after the first.
    Every CTA resident on every busy core streams its own rows in step, so between a value's read
    in one pass and its re-read in the next the chip touches all the rows in flight (as stored,
    `op.dtype`), the last round's stores that drain meanwhile (given the `busiest` core's rows
    and rates: `spilled_stores` on every busy core) and, in the last pass, the outputs of the
    columns before it (the L2 allocates the lines it writes): a column hits while that reuse
    distance fits the L2, so rows in flight between once and twice the L2's capacity hit on the
    first part of each row in the last pass. More drained stores miss more re-reads, whose DRAM
    reads leave the stores less time, so that repeats until the hits settle (they only fall).
    No re-reads (an empty tuple) for a kernel that keeps its rows in shared memory."""
    if kernel.kept:
        return ()
    ctas = -(-op.rows // kernel.rows)
    rows = min(ctas, cores * resident_ctas(kernel, kernels, shared)) * kernel.rows

    def hits(drained: int) -> tuple[int, ...]:
        spare = l2 - rows * nbytes(op.cols, op.dtype) - drained  # the L2 left beside the rows
        if spare < 0:
            return (0,) * (kernel.passes - 1)
        last = min(op.cols, 8 * (spare // rows) // precision(op.dtype).bits + 1)  # outputs fit
        return tuple(last if p == kernel.passes - 1 else op.cols for p in range(1, kernel.passes))

    settled = hits(0)
    while busiest is not None:
        sub, rates = busiest
        drained = cores * spilled_stores(kernel, sub, kernels, shared, rates, settled)
        again = tuple(map(min, settled, hits(drained)))  # falling only: it ends
        if again == settled:
            break
        settled = again
    return settled


def sector_rereads(op: VectorOpSpec) -> tuple[int, ...]:
    """The L2 re-reads of a transposed copy's source (`VectorOpSpec.transposed`): a warp's
    consecutive outputs lie a source row apart, so each element read fetches its own `SECTOR`,
    whose other elements other warps (on other cores) fetch again, all but the first from the L2:
    every column again `SECTOR` / element size - 1 times, as hits. None for any other op."""
    if not op.transposed:
        return ()
    return (op.cols,) * max(0, SECTOR // nbytes(1, op.dtype) - 1)


def pass_sources(
    kernel: RowKernel, cols: int, hits: tuple[int, ...] | None
) -> list[tuple[int, int]]:
    """Columns of a row that each pass reads (from DRAM, from L2): the first every column from
    DRAM, then `hits` (`reread_hits`; every column where None) from L2 and the rest from DRAM,
    or nothing from either where the kernel keeps the row in shared memory."""
    if kernel.kept:
        return [(cols, 0), *((0, 0),) * (kernel.passes - 1)]
    cached = hits if hits is not None else (cols,) * (kernel.passes - 1)
    return [(cols, 0), *((cols - hit, hit) for hit in cached)]


def pass_waits(
    kernel: RowKernel, cols: int, latency: LoadLatencySpec, hits: tuple[int, ...] | None = None
) -> list[int]:
    """Core cycles each pass of a row waits on its loads: one load latency per load a thread makes
    (a thread's next load follows its use of the last), L2's for the loads of the columns a pass
    reads from L2 (`pass_sources`: none in the first), DRAM's for the rest, and for the later
    passes of a kernel that keeps its row, shared memory's where it keeps it there (none in
    registers); on a two-die chip, plus the slowest thread's die crossings (`crossings`)."""
    width = kernel.row_threads * kernel.vector  # columns one load of every thread covers
    loads = math.ceil(cols / width)
    waits = []
    for p, (dram, _) in enumerate(pass_sources(kernel, cols, hits)):
        if kernel.kept and p:
            waits.append(loads * latency.shared if kernel.kept == "shared" else 0)
            continue
        missed = math.ceil(dram / width)
        near = missed * latency.dram + (loads - missed) * latency.l2
        waits.append(near + latency.crossings(loads))
    return waits


def row_cycles(
    kernel: RowKernel, cols: int, latency: LoadLatencySpec, hits: tuple[int, ...] | None = None
) -> int:
    """Core cycles one CTA's row takes when latency bounds it: its passes' load waits
    (`pass_waits`) and each block-wide reduction's dependent shared-memory steps."""
    reductions = kernel.reductions * reduction_steps(kernel.row_threads) * latency.shared
    return sum(pass_waits(kernel, cols, latency, hits)) + reductions


@dataclass(frozen=True)
class CoreRates:
    """What one core has while every busy core runs the same pass of a row kernel, per core
    cycle: its vector unit, and its share of DRAM's and of the L2's bytes (at most its port's)."""

    vector: VectorUnit
    dram: float
    l2: float


def core_rates(machine: Machine, core: int, op: VectorOpSpec, busy: int) -> CoreRates:
    """Core `core`'s rates for `op` when `busy` cores stream at once: the chip's achievable DRAM
    bandwidth and its L2's (DRAM's without one) split evenly, each capped by the core's network
    port, as fine-interleaved memory serves concurrent requests."""
    view = machine.view(core)
    vector = view.components[view.vector_unit_for(op.name, op.kind)[0]]
    port = machine.noc.bytes_per_cycle if machine.noc is not None else math.inf
    dram = machine.dram.bytes_per_cycle
    l2 = machine.l2.bytes_per_cycle if machine.l2 is not None else dram
    own = vector.ref_clock_hz / vector.clock_hz  # reference cycles per core cycle
    return CoreRates(vector, min(dram / busy, port) * own, min(l2 / busy, port) * own)


def round_cycles(
    kernel: RowKernel,
    rows: int,
    op: VectorOpSpec,
    latency: LoadLatencySpec | None,
    rates: CoreRates | None,
    hits: tuple[int, ...] | None = None,
    writes: bool = True,
) -> int:
    """Core cycles one round of resident CTAs (`rows` of `op`'s rows) takes. The round's CTAs
    start together and run in step, pass after pass, each pass waiting for the last one's
    block-wide reduction, and the next round's CTAs take their slots only when they leave; so a
    pass takes the longest of its critical path (`row_cycles`' load latencies), its instructions
    over the round's rows (`RowKernel.pass_work`; uncounted work, the norms' recipe, in the
    last pass) and its reads at the core's `rates` (the columns it reads from L2, `pass_sources`,
    at L2's, the rest at DRAM's), and the passes add up. Stores are posted: a CTA leaves once it
    has issued them, and they drain while the next round runs, so with `writes` the round takes
    at least all its DRAM bytes, reads and stores, at DRAM's rate (without, a last round's
    stores leave after its compute, which the engine times)."""
    size = rows * nbytes(op.cols, op.dtype)
    waits = pass_waits(kernel, op.cols, latency, hits) if latency else [0] * kernel.passes
    total, dram = 0, size * writes
    for p, (wait, (missed, cached)) in enumerate(zip(waits, pass_sources(kernel, op.cols, hits))):
        busy = 0.0
        if rates is not None:
            read = rows * nbytes(missed, op.dtype)
            dram += read
            busy = max(read / rates.dram, rows * nbytes(cached, op.dtype) / rates.l2)
            busy = max(busy, rates.vector.issue_cycles(_pass_work(kernel, op, p, rows)))
        total += max(wait, math.ceil(busy))
    if latency is not None:
        total += kernel.reductions * reduction_steps(kernel.row_threads) * latency.shared
    if rates is not None:
        total = max(total, math.ceil(dram / rates.dram))
    return total


def spilled_stores(
    kernel: RowKernel,
    op: VectorOpSpec,
    kernels: KernelsSpec,
    shared: int,
    rates: CoreRates,
    hits: tuple[int, ...],
) -> int:
    """Bytes of one core's round of `op` (its rows) whose stores drain under its next round:
    stores are posted (`round_cycles`), so what DRAM could not take while the round's own passes
    ran, its reads and stores at the core's share of DRAM less those passes' cycles, drains
    after it, while the next round reads; none where a round holds all its rows."""
    per_round = resident_ctas(kernel, kernels, shared) * kernel.rows
    if op.rows <= per_round:
        return 0
    size = per_round * nbytes(op.cols, op.dtype)
    reads = sum(
        per_round * nbytes(missed, op.dtype) for missed, _ in pass_sources(kernel, op.cols, hits)
    )
    passes = round_cycles(kernel, per_round, op, kernels.latency, rates, hits, writes=False)
    return int(min(size, max(0.0, reads + size - passes * rates.dram)))


def _pass_work(kernel: RowKernel, op: VectorOpSpec, p: int, rows: int) -> dict[str, int]:
    """Instructions of pass `p` over `rows` rows: counted per pass, else the recipe in the last."""
    if kernel.pass_work:
        return kernel.work(rows, op.cols, range(p, p + 1))
    if p < kernel.passes - 1:
        return {}
    per_element, per_row = recipe(op)
    work = {prim: n * rows * op.cols for prim, n in per_element.items()}
    return _sum(work, {prim: n * rows for prim, n in per_row.items()})


def latency_floor(
    kernel: RowKernel,
    op: VectorOpSpec,
    kernels: KernelsSpec,
    shared: int,
    hits: tuple[int, ...] | None = None,
    rates: CoreRates | None = None,
) -> int:
    """Core cycles a core needs for its `op.rows` rows: its CTAs run `resident_ctas` at a time,
    a round each (`round_cycles`; the last one holds what is left). Without `rates` only the
    load latencies bound a round (`row_cycles`: Little's law, the bytes in flight are what the
    resident CTAs' threads have loaded); 0 with neither those nor the chip's load latencies.
    It bounds the compute's end: the last round's stores follow it."""
    if kernels.latency is None and rates is None:
        return 0
    per_round = resident_ctas(kernel, kernels, shared) * kernel.rows
    rounds, rest = divmod(op.rows, per_round)
    if not rest:
        rounds, rest = rounds - 1, per_round
    full = round_cycles(kernel, per_round, op, kernels.latency, rates, hits)
    return rounds * full + round_cycles(kernel, rest, op, kernels.latency, rates, hits, False)


def cta_rows(rows: int, per_cta: int, cores: int) -> list[tuple[int, int]]:
    """Each busy core's rows, as one contiguous range, when CTAs of `per_cta` rows (the last one
    short) are dealt round-robin over `cores` in waves: core c runs CTAs c, c + cores, ..., so
    a last partial wave leaves cores idle."""
    ctas = -(-rows // per_cta)
    ranges, start = [], 0
    for core in range(min(cores, ctas)):
        size = sum(min(per_cta, rows - i * per_cta) for i in range(core, ctas, cores))
        ranges.append((start, start + size))
        start += size
    return ranges


def compile_vector_op(
    op: VectorOpSpec,
    mapping: MappingSpec,
    machine: Machine,
    numerics: VectorNumerics | None,
    where: str,
    row_offset: int = 0,
    core: int = 0,
    group: str = "",
    rereads: tuple[int, ...] = (),
    floor: int = 0,
    kernel: RowKernel | None = None,
    step_rows: int = 0,
) -> OpProgram:
    """Rows in chunks that fit the buffers (double-buffered when the mapping says so); a part of a
    row-partitioned op gives where its rows start in the whole, its core and its group; a kernel
    that reads each row again in later passes loads each chunk again for each of its `rereads`,
    the columns given there (`reread_hits`) as L2 hits and the rest as misses, as they would be
    in the kernel, whose passes the chunked steps do not interleave; `floor` core cycles (the
    kernel's rounds in step, `latency_floor`) are spread over the steps as their computes' pace:
    the k-th compute ends no sooner than k shares after the first step's loads began, so the
    bound covers the loads it already counts (`round_cycles`) instead of following them. A GPU
    row `kernel` takes at most `step_rows` a step (a round of its resident CTAs) and does its
    counted instructions (`RowKernel.work`) where it has them."""
    unit, fallback = machine.vector_unit_for(op.name, op.kind)
    vector = machine.components[unit]
    operands = op.reads
    in_buf, out_buf = machine.buffer_for("input"), machine.buffer_for("output")
    row_in, row_out = nbytes(op.cols, op.dtype) * operands, nbytes(op.cols, op.dtype)
    factor = 2 if mapping.double_buffering else 1
    if op.kind in REDUCTIONS and nbytes(op.cols, "fp32") > vector.spec.buffer:
        raise CapacityError(
            f"{where}: a row of {op.name} ({op.cols} fp32 values, {nbytes(op.cols, 'fp32'):,} B) "
            f"does not fit {unit}'s {int(vector.spec.buffer):,} B local buffer"
        )
    fit = units_that_fit(in_buf, out_buf, row_in, row_out, factor)
    if fit < 1:
        raise CapacityError(
            f"{where}: one row of {op.name} needs {factor * (row_in + row_out):,} B "
            f"but the buffers hold {in_buf.capacity_bytes:,} B"
        )
    chunk = min(op.rows, fit, step_rows or op.rows)
    share = vector.to_ref_cycles(math.ceil(floor / -(-op.rows // chunk)))
    per_element, per_row = recipe(op)
    flops = op.rows * op.cols * sum(per_element.values()) + op.rows * sum(per_row.values())
    counted = kernel is not None and bool(kernel.pass_work)
    details = {
        "unit": unit,
        "fallback": fallback,
        "rows_per_step": chunk,
        "double_buffering": mapping.double_buffering,
        "reads": 1 + len(rereads),
        "rereads_hit": sum(rereads) / (op.cols * len(rereads)) if rereads else 1.0,
        "latency_cycles": floor,
    }

    def steps(start: int = 0):
        for r0 in range(start * chunk, op.rows, chunk):
            r1 = min(r0 + chunk, op.rows)
            rows = r1 - r0
            if counted:
                work = kernel.work(rows, op.cols)
            else:
                work = {p: n * rows * op.cols for p, n in per_element.items()}
                for p, n in per_row.items():
                    work[p] = work.get(p, 0) + n * rows
            region = ((r0 + row_offset, r1 + row_offset), (0, op.cols))
            size_in, size_out = row_in * rows, row_out * rows
            missed = tuple(nbytes(op.cols - hit, op.dtype) * operands * rows for hit in rereads)
            bound = numerics and bind(numerics.rows, r0 + row_offset, r1 + row_offset)
            compute = Compute(
                unit,
                vector.cycles(work),
                tuple(sorted(work.items())),
                0,
                _traffic(in_buf.name, out_buf.name, size_in, size_out),
                {"X": region},
                bound,
                pace=share,
            )
            yield streamed_step(
                op.name, region, in_buf.name, out_buf.name, size_in, size_out, compute, missed
            )

    blocks = -(-op.rows // chunk)  # steps: a chunk of rows each, the last one short
    return OpProgram(
        name=op.name,
        kind=op.kind,
        steps=steps,
        resume=steps,
        classes=lambda start: last_of_each(blocks, 1, start, op.rows % chunk != 0),
        step_count=StepCount(steps, lambda: blocks),
        macs=0,
        flops=flops,
        unit=unit,
        double_buffering=mapping.double_buffering,
        barrier=False,
        depends_on=tuple(op.inputs),
        core=core,
        group=group or op.name,
        details=details,
        signature=signature(op, row_offset, bool(group), rereads, floor, kernel, step_rows),
    )


def last_of_each(blocks: int, repeats: int, start: int, edge: bool) -> np.ndarray:
    """A class per step from `start` on for `repeats` passes over `blocks` equal blocks, the last
    smaller where `edge`: 1 for such a smaller last block, else 0."""
    last = np.arange(start, blocks * repeats, dtype=np.int64) % blocks == blocks - 1
    return (last & edge).astype(np.int64)


def _traffic(
    in_buffer: str, out_buffer: str, read: int, write: int
) -> tuple[tuple[str, int, int], ...]:
    if in_buffer == out_buffer:
        return ((in_buffer, read, write),)
    return ((in_buffer, read, 0), (out_buffer, 0, write))


ELEMENTWISE = ("gelu", "silu", "add", "mul", "relu")
"""Ops whose every output element needs only the same element of the inputs: their columns are
independent, so a row may be taken piece by piece."""


def fitting_rows(op: VectorOpSpec, mapping: MappingSpec, machine: Machine) -> VectorOpSpec:
    """An elementwise op whose one row overflows the core's buffers, as the same elements in rows
    of 1/k of its columns, k the least divisor of `cols` that fits (a GPU's grid takes a row in
    pieces too; a CU's 64 KiB LDS holds no double-buffered pair of 11,008-wide bf16 rows). Any
    other op, or one whose row fits, is returned as it is."""
    if op.kind not in ELEMENTWISE:
        return op
    in_buf, out_buf = machine.buffer_for("input"), machine.buffer_for("output")
    operands = op.reads
    factor = 2 if mapping.double_buffering else 1

    def fits(cols: int) -> bool:
        row = nbytes(cols, op.dtype)
        return units_that_fit(in_buf, out_buf, row * operands, row, factor) >= 1

    if fits(op.cols):
        return op
    cols = max((d for d in _divisors(op.cols) if fits(d)), default=None)
    if cols is None:
        return op
    return op.model_copy(update={"rows": op.rows * (op.cols // cols), "cols": cols})


def _divisors(n: int):
    """Every divisor of n, in O(sqrt(n)) steps."""
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            yield d
            yield n // d


def units_that_fit(in_buf, out_buf, size_in: int, size_out: int, factor: int) -> int:
    """How many (input, output) units of these sizes the buffers hold at once (x factor when
    double-buffered); one buffer holding both roles holds their sum."""
    if in_buf.name == out_buf.name:
        return int(in_buf.capacity_bytes // (factor * (size_in + size_out)))
    return int(
        min(
            in_buf.capacity_bytes // (factor * size_in),
            out_buf.capacity_bytes // (factor * size_out),
        )
    )


def streamed_step(
    name: str,
    region,
    in_buf: str,
    out_buf: str,
    size_in: int,
    size_out: int,
    compute: Compute,
    missed: tuple[int, ...] = (),
) -> Step:
    """One step of an op streamed through a unit: load X's region, again for each re-read (into
    the same space; of its bytes, `missed` miss the L2 and refill X's own line, as a re-read of
    an evicted part of a row does, and the rest hit), compute, store Y's."""
    again = []
    for miss in missed:
        for size, forced in ((size_in - miss, False), (miss, True)):
            if size:
                again.append(Transfer("load", f"{name}.X", region, in_buf, size, 0, miss=forced))
    return Step(
        (
            Transfer("load", f"{name}.X", region, in_buf, size_in, size_in),
            *again,
            Transfer("alloc", f"{name}.Y", region, out_buf, 0, size_out),
        ),
        (compute,),
        (Transfer("store", f"{name}.Y", region, out_buf, size_out, size_out),),
        ((in_buf, size_in),),
    )
