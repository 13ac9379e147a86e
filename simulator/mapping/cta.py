"""GPU-like kernels: a GEMM's output tiles (CTAs) dealt to the cores in waves, split along K when
there are fewer tiles than cores, and a fixed launch/ramp/tail cost per kernel on every core.

A CTA computes its whole M x N tile over its K range, with the fp32 accumulators in registers
(the arch's register level). Tiles launch in the arch's `kernels.launch_order`, M-row by M-row
or in CUTLASS's rasterised, swizzled order (`mapping/raster.py`); the i-th runs on core i mod
cores, so wave w is the order's tiles w*cores ... (w+1)*cores - 1 and the last wave may leave
cores idle (wave quantization). Split-K slices of one
tile write their fp32 partial tile to DRAM; the tile's last slice waits for them, reads them back,
adds them and stores C (cuBLAS's split-K reduction through a global-memory workspace). Stream-K
(Osama et al., PPoPP 2023, "two-tile SK + DP") runs all but the last wave and a half of tiles as
whole CTAs and spreads the rest's MAC-loop iterations evenly over the cores, each core a contiguous
range crossing tile boundaries; the core holding a tile's first iteration fixes the tile up.
"""

import dataclasses
import itertools
import math

from simulator.components import Machine
from simulator.mapping.auto import compute_cycles_estimate
from simulator.mapping.gemm import compile_gemm, plan_from
from simulator.mapping.plan_cache import planned
from simulator.mapping.program import (
    Compute,
    OpProgram,
    Step,
    Transfer,
    altered,
    as_many,
    bind,
    joined_signature,
)
from simulator.mapping.ranges import split, tile_ranges
from simulator.mapping.raster import orders, tile_order, wave_traffic
from simulator.mapping.shifted import moved, replayed
from simulator.spec.precision import nbytes, precision


@dataclasses.dataclass(frozen=True)
class Grid:
    """The kernel's launch grid: CTA tile, split-K slices, the last `stream_k` tiles run as
    stream-K, and the estimate that chose it."""

    tile_m: int
    tile_n: int
    splits: int
    cycles: float  # estimated kernel cycles (for ranking only)
    dram: float = 0.0  # estimated DRAM bytes (breaks ties between equally fast grids)
    stream_k: int = 0
    order: tuple[bool, int] = (False, 1)  # launch order: along M?, group width (`raster`)
    pair: bool = False  # each tile runs on two cores, tile_m rows each (`kernels.cta_pairs`)

    @property
    def width(self) -> int:
        """Cores one launched tile runs on."""
        return 2 if self.pair else 1

    def launched_m(self, M: int) -> int:
        """Rows of one launched tile: a pair's two cores' tile_m rows each."""
        return min(self.width * self.tile_m, M)

    def tiles(self, M: int, N: int) -> int:
        return math.ceil(M / self.launched_m(M)) * math.ceil(N / self.tile_n)


def choose_grid(op, mapping, machine: Machine, cores: int, pairs: bool = True) -> Grid:
    """The CTA tile and split-K count with the least estimated kernel time: the waves, each as
    long as one CTA on one core (its array's cycles, or its operand bytes over its own NoC port)
    or as its CTAs' share of the DRAM bytes (A's and B's blocks and C in the arch's launch order:
    `_traffic`), so a last wave of few CTAs costs a whole CTA at one core's rate; against the
    chip's DRAM and L2 (operand re-reads across tiles) bandwidth. Where the last wave is partial
    and the arch allows it (`kernels.stream_k`), stream-K over it and one whole wave is a
    candidate too: each core's share of their MAC-loop iterations at one CTA's rate plus a
    partial tile spilled and reloaded. Where the arch pairs cores (`kernels.cta_pairs`) and
    `pairs` allows it, each tile also runs as a pair: a (2 tm) x tn tile over half as many
    slots, each core's port carrying its tm rows of A and half of B's tn columns. With the
    `swizzled` launch order DRAM time counts a written byte (C, a partial's spill) as the arch's
    `write_cost` read bytes (`Dram.held_bytes`); with `rows` the order is row by row and its
    bytes `row_dram_bytes`. Equal estimates go to the grid with fewer DRAM bytes, then the
    larger tile, then the first in sorted order (a single-core grid before its pair)."""
    kernels = machine.arch.cores.kernels
    unit = machine.view(0).components[_unit_name(machine, mapping, op)]
    in_bytes = precision(op.dtype).bits / 8
    acc_bytes = precision(unit.accumulator(op.dtype)).bits / 8
    port = machine.noc.transfer_cycles(1 << 20) / (1 << 20)  # cycles per byte of one core's port
    dram = machine.dram.bytes_per_cycle
    l2 = machine.l2.bytes_per_cycle if machine.l2 is not None else dram
    capacity = machine.l2.capacity_bytes if machine.l2 is not None else 0
    # row order keeps the estimate it had before the swizzled order: every byte at the read rate
    write_cost = machine.dram.spec.write_cost if kernels.launch_order == "swizzled" else 1.0
    depth = kernels.min_split_k
    widths = (1, 2) if pairs and kernels.cta_pairs and cores > 1 else (1,)
    best = None
    for (tm, tn), width in itertools.product(
        sorted({(min(m, op.M), min(n, op.N)) for m, n in kernels.tiles}), widths
    ):
        pm = min(width * tm, op.M)  # a launched tile's rows
        if pm <= (width - 1) * tm:
            continue  # a pair whose second core would have no rows
        slots = cores // width  # tiles running at once
        tiles = math.ceil(op.M / pm) * math.ceil(op.N / tn)
        most = max(1, op.K // kernels.min_split_k)
        asked = min(max(1, slots // tiles), most) if tiles < slots else 1
        splits = len(split(op.K, asked))  # nearly equal ranges: 9 over 4 is 3 ranges of 3
        k = math.ceil(op.K / splits)
        full, rest = divmod(tiles * splits, slots)  # whole waves, tiles of the last partial one
        seed = plan_from(op, mapping, machine.view(0), {"M": tm, "N": tn, "K": k}, ["M", "N", "K"])
        compute = compute_cycles_estimate(unit, {"M": tm, "N": tn, "K": k}, seed.tile, seed)
        b_columns = tn if width == 1 else tn / width  # a pair's core loads half of B's block
        moved = (tm + b_columns) * k * in_bytes + tm * tn * (acc_bytes if splits > 1 else in_bytes)
        per_cta = max(compute, moved * port)
        streamed = (
            op.M * op.K * math.ceil(op.N / tn) + op.K * op.N * math.ceil(op.M / pm)
        ) * in_bytes
        partials = 2 * op.M * op.N * acc_bytes * (splits - 1)  # each spilled, then reloaded
        sizes = (in_bytes, precision(seed.output).bits / 8)
        order, read, written = _traffic(op, kernels, (pm, tn), slots // splits, sizes, capacity)
        fetched = read + written + partials
        held = read + written * write_cost + partials * (1 + write_cost) / 2  # read bytes' time
        # a wave of n tiles: each tile's time, or n tiles' share of the DRAM bytes at the chip's rate
        share = held / (tiles * splits) / dram
        waves = full * max(per_cta, slots * share) + (rest and max(per_cta, rest * share))
        cycles = max(waves, held / dram, (streamed + partials) / l2)
        paired = width == 2
        candidates = [Grid(tm, tn, splits, cycles, fetched, 0, order, paired)]
        if kernels.stream_k and not paired and splits == 1 and full and rest:
            # stream-K over the last partial wave and one whole wave, whole CTAs before them
            streamed_k = rest + cores
            iterations = math.ceil(op.K / depth)
            schedule = stream_k_schedule(streamed_k, iterations, cores)
            pieces = sum(len(segments) for segments in schedule) - streamed_k
            spilled = 2 * tm * tn * acc_bytes * pieces  # a partial tile out and back per piece
            spilled_held = spilled * (1 + write_cost) / 2
            most_iterations = max(sum(e - b for _, b, e in segments) for segments in schedule)
            fixup = 2 * tm * tn * acc_bytes * port  # one core spills a partial, reloads one
            phase = max(
                per_cta * most_iterations / iterations + fixup,
                streamed_k * share + spilled_held / dram,
            )
            sk_waves = (full - 1) * max(per_cta, cores * share) + phase
            sk_cycles = max(sk_waves, (held + spilled_held) / dram, (streamed + spilled) / l2)
            candidates.append(Grid(tm, tn, 1, sk_cycles, fetched + spilled, streamed_k, order))
        for grid in candidates:
            key = (grid.cycles, grid.dram, -tm * tn)
            if best is None or key < (best.cycles, best.dram, -best.tile_m * best.tile_n):
                best = grid
    return best


def _traffic(op, kernels, tile: tuple[int, int], per_wave: int, sizes, capacity: int):
    """(launch order, DRAM read bytes, written bytes) of `tile`'s grid, `per_wave` CTAs at once
    (at least 1), in the arch's `kernels.launch_order`: `swizzled`, the order with the fewest
    DRAM bytes (`raster.wave_traffic`; the first of `raster.orders`, the widest, on a tie);
    `rows`, row by row as `row_dram_bytes` prices it (C among the reads, in the inputs'
    precision)."""
    per_wave = max(1, per_wave)
    if kernels.launch_order == "rows":
        return (False, 1), row_dram_bytes(op, *tile, per_wave, sizes[0], capacity), 0.0
    tiles_m, tiles_n = math.ceil(op.M / tile[0]), math.ceil(op.N / tile[1])
    traffic = [
        (order, *wave_traffic((op.M, op.N, op.K), tile, order, per_wave, sizes, capacity))
        for order in orders(tiles_m, tiles_n)
    ]
    return min(traffic, key=lambda t: t[1] + t[2])


def row_dram_bytes(op, tm: int, tn: int, per_wave: int, in_bytes: float, capacity: int) -> float:
    """DRAM bytes of A, B and C with tm x tn tiles run in wave order (M-row by M-row, `per_wave`
    tiles at once) under an LRU L2 of `capacity` bytes. A row block of A serves consecutive
    tiles, so it is read once; a column block of B comes back one row of tiles later, after all
    of B, that row's A and its C have passed through L2: if they do not fit, every wave reads
    its B columns from DRAM again (the columns a wave shares are read once)."""
    a, b, c = op.M * op.K * in_bytes, op.K * op.N * in_bytes, op.M * op.N * in_bytes
    row = math.ceil(op.N / tn)
    if b + (tm * op.K + tm * op.N) * in_bytes <= capacity:
        return a + b + c
    tiles = math.ceil(op.M / tm) * row
    columns = sum(min(per_wave, tiles - start, row) for start in range(0, tiles, per_wave))
    return a + b * columns / row + c


def _unit_name(machine: Machine, mapping, op) -> str:
    return plan_from(op, mapping, machine.view(0), {"M": 1, "N": 1, "K": 1}, "MNK").unit


def stream_k_schedule(tiles: int, iterations: int, cores: int) -> list[list[tuple[int, int, int]]]:
    """Per core, its (tile, first iteration, end iteration) segments: the tiles' `iterations`
    MAC-loop iterations each, laid end to end and cut into `cores` contiguous ranges whose
    lengths differ by at most one (the later cores take the extra iterations)."""
    total = tiles * iterations
    schedule = []
    for core in range(cores):
        start, end = core * total // cores, (core + 1) * total // cores
        segments = []
        while start < end:
            tile, first = divmod(start, iterations)
            stop = min(end, (tile + 1) * iterations)
            segments.append((tile, first, stop - tile * iterations))
            start = stop
        schedule.append(segments)
    return schedule


def cta_gemm(op, mapping, machine: Machine, cores: int, root) -> list[OpProgram]:
    """One OpProgram per core: its CTAs in wave order, each a sub-GEMM over the CTA's K range."""
    grid = choose_grid(op, mapping, machine, cores)
    per_core, pieces = _work(op, grid, cores, machine.arch.cores.kernels.min_split_k)
    partials = [root.partial() if root and pieces > 1 else root for _ in range(pieces)]
    tiles = _TilePlans(mapping, machine)
    accumulator = machine.view(0).components[_unit_name(machine, mapping, op)].accumulator(op.dtype)
    parts = []
    leaders: dict[str, tuple[list, list[OpProgram]]] = {}  # shape class -> its first core's
    for core, work in sorted(per_core.items()):
        programs, plain = [], []
        shape = _shape_class(work)
        leader = leaders.get(shape) if root is None else None  # kernels cannot move
        for i, ((m0, m1), (n0, n1), (k0, k1), j, count, owner, half) in enumerate(work):
            name = f"{op.name}@c{core}"
            if leader is not None:  # the leader's CTA i moved here: walked once for all
                lead_work, lead_programs = leader
                delta = {
                    d: mine[0] - theirs[0]
                    for d, mine, theirs in zip("MNK", work[i][:3], lead_work[i][:3])
                }
                program = moved(lead_programs[i], name, delta, core)
            else:
                sub = op.model_copy(
                    update={"name": name, "M": m1 - m0, "N": n1 - n0, "K": k1 - k0, "inputs": []}
                )
                plan = tiles.get(sub, op.K if grid.splits == 1 else math.ceil(op.K / grid.splits))
                plan = dataclasses.replace(
                    plan,
                    unit=plan.unit.replace("core0.", f"core{core}.", 1),
                    weight_half=half,
                )
                program = compile_gemm(
                    sub,
                    plan,
                    machine.view(core),
                    partials[j] if count > 1 else root,
                    barrier=False,
                    offset={"M": m0, "N": n0, "K": k0},
                    core=core,
                    group=op.name,
                )
                if half is not None:
                    program = paired(program, f"{op.name}.B", half)
                if root is None:
                    again = replayed(program.steps)
                    program = altered(program, steps=again, step_count=as_many(program, again))
            plain.append(program)
            if count > 1:
                view = machine.view(core)
                fixup = _Fixup(op.name, j, count, owner, view, root, partials, accumulator)
                program = altered(program, steps=_rewritten(program.steps, fixup))
            programs.append(program)
        leaders.setdefault(shape, (work, plain))
        details = {"cta": f"{grid.tile_m}x{grid.tile_n}", "split_k": grid.splits}
        if grid.pair:
            details["cta_pair"] = f"{grid.launched_m(op.M)}x{grid.tile_n} on 2 cores"
        parts.append(chained(programs, details | {"stream_k": grid.stream_k}, shape))
    return parts


def _shape_class(work: list) -> str:
    """What a core's step shapes depend on: its CTAs' extents, in order, which pieces of a split
    tile spill or fix up and which half of B a paired core loads (cores with equal classes run
    the same steps at the same times)."""
    return repr(
        tuple(
            (m1 - m0, n1 - n0, k1 - k0, count, j == owner, *((half,) if half is not None else ()))
            for (m0, m1), (n0, n1), (k0, k1), j, count, owner, half in work
        )
    )


def _work(op, grid: Grid, cores: int, depth: int) -> tuple[dict[int, list], int]:
    """Each core's CTAs in order, as (M range, N range, K range, piece j of the tile's `count`,
    the piece that fixes the tile up, the half of B's columns a paired core loads or None).
    Whole tiles are dealt round-robin in waves in launch order (`raster.tile_order`), a paired
    grid's to pairs of cores (cores 2p and 2p + 1, the first core the tile's first tile_m rows
    and B's first half); split-K slices j of every tile, the last one fixing up; stream-K
    segments of the order's last `grid.stream_k` tiles, the one holding iteration 0 fixing up."""
    launched = grid.launched_m(op.M)
    ranges_m, ranges_n = tile_ranges(0, op.M, launched), tile_ranges(0, op.N, grid.tile_n)
    tiles = [
        (ranges_m[m], ranges_n[n]) for m, n in tile_order(len(ranges_m), len(ranges_n), *grid.order)
    ]
    whole = len(tiles) - grid.stream_k
    ranges_k = split(op.K, grid.splits)
    items = [
        (m, n, k, j, len(ranges_k), len(ranges_k) - 1)
        for m, n in tiles[:whole]
        for j, k in enumerate(ranges_k)
    ]
    per_core: dict[int, list] = {}
    slots = cores // grid.width
    for i, ((m0, m1), n, *rest) in enumerate(items):
        first = (i % slots) * grid.width
        if not grid.pair:
            per_core.setdefault(first, []).append(((m0, m1), n, *rest, None))
        elif m0 + grid.tile_m >= m1:  # the last row of tiles leaves the second core no rows:
            per_core.setdefault(first, []).append(((m0, m1), n, *rest, None))  # all of B
        else:
            middle = m0 + grid.tile_m
            per_core.setdefault(first, []).append(((m0, middle), n, *rest, 0))
            per_core.setdefault(first + 1, []).append(((middle, m1), n, *rest, 1))
    iterations = math.ceil(op.K / depth)
    schedule = stream_k_schedule(grid.stream_k, iterations, cores) if grid.stream_k else []
    cuts: dict[int, list[int]] = {}
    for segments in schedule:
        for tile, first, _ in segments:
            cuts.setdefault(tile, []).append(first)
    for core, segments in enumerate(schedule):
        for tile, first, end in segments:
            m, n = tiles[whole + tile]
            starts = sorted(cuts[tile])
            k = (first * depth, min(end * depth, op.K))
            item = (m, n, k, starts.index(first), len(starts), 0, None)
            per_core.setdefault(core, []).append(item)
    pieces = max([len(ranges_k)] + [len(starts) for starts in cuts.values()])
    return per_core, pieces


def paired(program: OpProgram, tensor: str, half: int) -> OpProgram:
    """A paired core's CTA (`kernels.cta_pairs`): every load of `tensor` (B) cut to `half` of its
    columns, the half this core brings in through its port; the MMA reads the other half from
    the peer's shared memory. Buffer space stays the whole block's (the MMA holds both halves)."""
    steps, resume = program.steps, program.resume

    def halved():
        return (_half_step(step, tensor, half) for step in steps())

    return altered(
        program,
        steps=halved,
        step_count=as_many(program, halved),
        resume=resume and (lambda start: (_half_step(s, tensor, half) for s in resume(start))),
        signature=program.signature and repr(("pair", half)) + program.signature,
    )


def _half_step(step: Step, tensor: str, half: int) -> Step:
    """`step` with its loads of `tensor`, and those streamed during its segments, halved."""
    loads = tuple(half_columns(t, half) if t.tensor == tensor else t for t in step.loads)
    computes = tuple(
        dataclasses.replace(
            c,
            streamed=tuple(half_columns(t, half) if t.tensor == tensor else t for t in c.streamed),
        )
        if any(t.tensor == tensor for t in c.streamed)
        else c
        for c in step.computes
    )
    return dataclasses.replace(step, loads=loads, computes=computes)


def half_columns(transfer: Transfer, half: int) -> Transfer:
    """A load of a (K, N) block cut to its first (half 0: the larger on an odd width) or second
    half of columns, its DRAM bytes in proportion."""
    rows, (n0, n1) = transfer.region
    width = n1 - n0
    cut = n0 + (width + 1) // 2
    columns = (n0, cut) if half == 0 else (cut, n1)
    nbytes = transfer.dram_bytes * (columns[1] - columns[0]) // width
    return dataclasses.replace(transfer, region=(rows, columns), dram_bytes=nbytes)


class _TilePlans:
    """CTA sub-GEMMs planned once per shape on core 0. A tile's pieces over shorter K ranges keep
    the sub-tiles planned for its longest piece, so their stores cover the same regions (the
    fixup's signals match) and their loads the same A and B regions (the L2 hits)."""

    def __init__(self, mapping, machine: Machine):
        self.mapping, self.machine = mapping, machine
        self.plans: dict[tuple, object] = {}

    def get(self, sub, longest: int):
        key = (sub.M, sub.N, sub.K)
        if key not in self.plans:
            view = self.machine.view(0)
            base = planned(sub.model_copy(update={"K": longest}), self.mapping, view)
            if sub.K == longest:
                self.plans[key] = base
            else:
                tile = {"M": base.tile["M"], "N": base.tile["N"], "K": min(base.tile["K"], sub.K)}
                fixed = self.mapping.model_copy(update={"tile": tile, "edge_tiles": "partial"})
                self.plans[key] = planned(sub, fixed, view)
        return self.plans[key]


def _rewritten(steps, fixup):
    return lambda: fixup.rewrite(steps())


def chained(programs: list[OpProgram], details: dict, shape_class: str | None = None) -> OpProgram:
    """One core's CTAs run back to back as one program (the kernel's part on that core), of
    `shape_class` (see OpProgram)."""
    first = programs[0]

    def steps():  # chained in C: every member step of a class passes here
        return itertools.chain.from_iterable(program.steps() for program in programs)

    def levels():
        return tuple(row for program in programs for row in program.levels())

    details = dict(first.details) | details | {"ctas": len(programs)}
    signatures = tuple(p.signature for p in programs)
    return altered(
        first,
        steps=steps,
        levels=levels,
        macs=sum(p.macs for p in programs),
        flops=sum(p.flops for p in programs),
        details=details,
        signature=None if None in signatures else joined_signature("cta", signatures),
        shape_class=shape_class,
    )


def _launched(launch: Step, steps, signal: str):
    """`with_launch`'s pieces: the launch step, the part's first step waiting for `signal`, and
    the part's other steps, each walked only when the one before it has been read."""
    yield (launch,)
    walk = iter(steps())
    for first in walk:
        yield (dataclasses.replace(first, waits=first.waits + (signal,)),)
        break
    yield walk


def final_store(step: Step) -> tuple[Transfer, tuple[Transfer, ...]] | None:
    """A step's final store of its output tile and its other stores, or None if it stores none."""
    final = [t for t in step.stores if t.kind == "store"]
    if not final:
        return None
    (store,) = final
    return store, tuple(t for t in step.stores if t is not store)


class _Fixup:
    """Turns piece j's final store of its tile into a partial-sum write to the DRAM workspace, or,
    for the tile's owner piece, into a reduction that reads the others' partials back and stores C
    (split-K: the last slice owns; stream-K: the piece with the tile's first iteration)."""

    def __init__(self, name, piece, count, owner, machine: Machine, root, partials, accumulator):
        self.name, self.j, self.count, self.owner = name, piece, count, owner
        self.machine, self.root, self.partials = machine, root, partials
        self.accumulator = accumulator  # the partial tiles' precision

    def rewrite(self, steps):
        for step in steps:
            split_off = final_store(step)
            if split_off is None:
                yield step
                continue
            store, others = split_off
            label = f"{self.name}.tile{store.region}"
            signal = f"{label}.k{self.j}"
            if self.j != self.owner:
                spill = dataclasses.replace(store, kind="spill", dram_bytes=self.partial(store))
                yield dataclasses.replace(
                    step, stores=others + (spill,), signals=step.signals + (signal,)
                )
                continue
            # the reduction runs on another unit and may start while this step still computes:
            # it waits for this slice's own partial too, raised when this step lands
            yield dataclasses.replace(step, stores=others, signals=step.signals + (signal,))
            yield self._reduce_step(store, label)

    def partial(self, store: Transfer) -> int:
        """Bytes of the partial tile of `store`'s region (not its buffer space: a staged tile's
        is the staging SRAM's room it passes through, `GemmPlan.staging`)."""
        (m0, m1), (n0, n1) = store.region
        return nbytes((m1 - m0) * (n1 - n0), self.accumulator)

    def _reduce_step(self, store: Transfer, label: str) -> Step:
        """Read the other slices' fp32 partial tiles back, add them into this one, store C."""
        (m0, m1), (n0, n1) = store.region
        elements = (self.count - 1) * (m1 - m0) * (n1 - n0)
        unit, _ = self.machine.vector_unit_for(self.name, "add")
        cycles = self.machine.components[unit].cycles({"add": elements})
        reload = Transfer(
            "reload",
            f"{self.name}.C.partials",
            store.region,
            store.buffer,
            (self.count - 1) * self.partial(store),
            0,
        )
        kernel = self.root and bind(self.root.reduce, store.region, self.partials)
        compute = Compute(unit, cycles, (("add", elements),), 0, (), {"C": store.region}, kernel)
        waits = tuple(f"{label}.k{i}" for i in range(self.count))
        return Step((reload,), (compute,), (store,), (), waits=waits)


def launch_cycles(seconds: float, machine: Machine) -> int:
    """Reference cycles of a kernel's fixed cost of `seconds` (whole cycles, rounding a float's
    last bits down rather than up)."""
    return math.ceil(seconds * machine.arch.clock - 1e-9)


def launch_step(part: OpProgram, seconds: float, machine: Machine) -> OpProgram:
    """The part preceded by the kernel's fixed cost: its unit busy for `seconds`, then the part's
    first step waits for that to end before it loads."""
    cycles = launch_cycles(seconds, machine)
    if cycles == 0:
        return part
    signal = f"{part.name}.launched"
    launch = Step((), (Compute(part.unit, cycles, (), 0, (), {}),), (), (), signals=(signal,))
    steps = part.steps

    def with_launch():  # the first step rewritten, the rest chained in C (walked lazily)
        return itertools.chain.from_iterable(_launched(launch, steps, signal))

    signature = part.signature and joined_signature(f"launch {cycles}", (part.signature,))
    count = as_many(part, with_launch, extra=1)
    return altered(part, steps=with_launch, signature=signature, step_count=count)
