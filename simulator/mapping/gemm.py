"""Compile one GEMM op x mapping x machine into a lazy OpProgram of SRAM tiles."""

import functools
import itertools
import math
import re
from dataclasses import dataclass, fields, replace
from functools import partial

import numpy as np

from simulator.components import Machine
from simulator.errors import CapacityError, SpecError, UnsupportedError
from simulator.mapping.hierarchy import (
    TileLevels,
    check_register_cut,
    fold_loops,
    nest_cycles,
    nest_stream,
    op_levels,
    refill_cycles,
    register_cut,
    register_tilings,
    share_weight_reads,
)
from simulator.mapping.hierarchy import traffic as tile_traffic
from simulator.mapping.program import (
    Compute,
    OpProgram,
    Step,
    StepCount,
    Transfer,
    bind,
    signature,
)
from simulator.mapping.ranges import tile_ranges
from simulator.mapping.traffic import OPERAND_DIMS
from simulator.numerics import GemmNumerics
from simulator.spec.mapping import DEFAULT_SPATIAL, MappingSpec
from simulator.spec.precision import nbytes, written_precision
from simulator.spec.validate import locate
from simulator.spec.workload import GemmOpSpec

TENSOR_OF = {"input": "A", "weight": "B", "output": "C"}


@dataclass(frozen=True)
class GemmPlan:
    """A fully resolved GEMM mapping: nothing left to choose."""

    unit: str
    dataflow: str
    spatial: tuple[str, str]
    tile: dict[str, int]
    loop_order: list[str]
    double_buffering: bool
    accounting: str
    dtype: str
    accumulator: str
    output: str  # precision of complete outputs written back (`written_precision`)
    registers: dict[str, int]  # register level -> fold-nest loops it holds (absent: as fit)
    levels: dict[str, tuple[dict, list]]  # tiled local SRAM -> (sub-tile, loop order)
    halved: frozenset[str]  # local SRAMs double-buffered (a sub-tile gets half of each)
    nest: tuple[tuple[str, int], ...] = ()  # the array's temporal loops, innermost first (): folds
    stream_dma: bool = True  # a nest's DMA may stream during its tiles (`streams_dma`)
    weight_half: int | None = None
    """A paired core's half of B's columns (`kernels.cta_pairs`; 0 the first, the larger on an odd
    width): its buffer holds that half and serves it to both cores' arrays. None: not paired."""

    def footprint(self, machine: Machine, tile: dict[str, int] | None = None) -> dict[str, int]:
        """Buffer bytes one tile of every operand occupies, per buffer (x2 when double-buffered,
        but an output staged on its way out keeps one copy: `staging`, whose SRAM passes it
        through the operand space the finished tile leaves where it holds A and B, else holds it
        apart); `tile` instead of the plan's own prices another tile (the auto mapper)."""
        tile = self.tile if tile is None else tile
        factor = 2 if self.double_buffering else 1
        staging = self.staging(machine)
        used: dict[str, int] = {}
        for role, (a, b) in OPERAND_DIMS.items():
            fmt = self.accumulator if role == "output" else self.dtype
            size = nbytes(tile[a] * tile[b], fmt)
            buffer = machine.buffer_for(role).name
            if role == "output" and staging is not None:
                used[buffer] = used.get(buffer, 0) + size
                if any(machine.buffer_for(r).name != staging for r in ("input", "weight")):
                    staged = nbytes(tile[a] * tile[b], self.staged_format())
                    used[staging] = used.get(staging, 0) + staged
            else:
                used[buffer] = used.get(buffer, 0) + factor * size
        return used

    def staging(self, machine: Machine) -> str | None:
        """The SRAM a double-buffered output tile is written back through, or None: the output's
        register level then holds one copy, whose accumulators stay in place over K, and the tile
        leaves through the SRAM (`Machine.staging_for`). Where that SRAM holds A and B, the tile
        passes through the operand space its last step leaves, in as many chunks as it takes, as
        CUTLASS's epilogue reuses the mainloop's shared memory (`SharedStorage`, a union of the
        two, and the accumulator tile stored in sub-tiles, `epilogue/threadblock/epilogue.h`)."""
        if not self.double_buffering:
            return None
        sram = machine.staging_for("output")
        return sram and sram.name

    def staged_format(self) -> str:
        """The precision a staged output tile takes in its staging SRAM: the output's, converted
        before the copy as Hopper's TMA-store epilogue does (CUTLASS sm90_epilogue_tma_warpspecialized),
        but the accumulator's where K is not the innermost loop (tiles left unfinished spill)."""
        return self.output if self.loop_order[-1] == "K" else self.accumulator


def check_fits(plan: GemmPlan, machine: Machine, where: str) -> None:
    """Raise CapacityError when the tiles of a plan do not fit their buffers."""
    for name, used in plan.footprint(machine).items():
        capacity = machine.components[name].capacity_bytes
        if used > capacity:
            tile = "x".join(f"{d}{plan.tile[d]}" for d in "MNK")
            buffering = "double-buffered " if plan.double_buffering else ""
            raise CapacityError(
                f"{where}: {buffering}tile {tile} needs {used:,} B in {name} but it holds {capacity:,} B"
            )


def resolve_unit(op: GemmOpSpec, mapping: MappingSpec, machine: Machine):
    """The compute unit, dataflow and spatial dims the op runs with; raise if unsupported."""
    units = machine.compute_units
    arrays = [n for n, c in units.items() if c.kind == "systolic_array"]
    name = mapping.unit or (arrays[0] if arrays else None)
    if name is None:
        kinds = ", ".join(f"{n} ({c.kind})" for n, c in units.items())
        raise UnsupportedError(
            f"no unit runs {op.name} ({op.kind}): it needs a systolic_array; units: {kinds or 'none'}"
        )
    if name not in units:
        raise SpecError(
            f"{locate(mapping, 'unit')}: no compute unit {name!r}; units: {', '.join(units)}"
        )
    unit = units[name]
    if unit.kind != "systolic_array":
        raise UnsupportedError(
            f"{name} ({unit.kind}) cannot run {op.name} ({op.kind}); arrays: {', '.join(arrays) or 'none'}"
        )
    dataflow = mapping.dataflow or unit.spec.dataflows[0]
    unit.check(op.name, op.dtype, dataflow)
    spatial = (
        (mapping.spatial.rows, mapping.spatial.cols)
        if mapping.spatial
        else DEFAULT_SPATIAL[dataflow]
    )
    return unit, dataflow, spatial


def check_tile(op: GemmOpSpec, mapping: MappingSpec) -> None:
    """User-given tile sizes must not exceed the problem, and must divide it unless edges are
    partial or a nest sets the tile (`nest_tile` checks it: a nest may leave edge tiles)."""
    for dim, size in (mapping.tile or {}).items():
        extent = getattr(op, dim)
        if size > extent:
            raise SpecError(
                f"{locate(mapping, 'tile', dim)}: {size} exceeds {op.name}'s {dim} = {extent}"
            )
        if extent % size and mapping.edge_tiles == "strict" and not mapping.nest:
            raise SpecError(
                f"{locate(mapping, 'tile', dim)}: {size} does not divide {op.name}'s {dim} = {extent} "
                "(set edge_tiles: partial to allow a smaller last tile)"
            )


def compile_gemm(
    op: GemmOpSpec,
    plan: GemmPlan,
    machine: Machine,
    numerics: GemmNumerics | None,
    barrier: bool,
    offset: dict[str, int] | None = None,
    core: int = 0,
    group: str = "",
) -> OpProgram:
    """The OpProgram of one GEMM under a resolved plan. A part of a partitioned GEMM gives the
    `offset` of its sub-problem in the whole (for regions and numerics), its core and its group."""
    problem = {"M": op.M, "N": op.N, "K": op.K}
    offset = offset or {"M": 0, "N": 0, "K": 0}
    details = {
        "unit": plan.unit,
        "dataflow": plan.dataflow,
        "shape": (op.M, op.N, op.K),
        "spatial": "/".join(plan.spatial),
        "tile": dict(plan.tile),
        "loop_order": "".join(plan.loop_order),
        "double_buffering": plan.double_buffering,
        "accounting": plan.accounting,
        "dtype": plan.dtype,
        "accumulator": plan.accumulator,
        "output": plan.output,
        "registers": dict(plan.registers),
        "levels": {name: [tile, order] for name, (tile, order) in plan.levels.items()},
        "double_buffered": ",".join(sorted(plan.halved)),
        "nest": " ".join(f"{d}{n}" for d, n in plan.nest),
    }
    levels = TileLevels(plan, machine, op.K)
    levels.check({d: min(plan.tile[d], problem[d]) for d in problem})
    costs = tile_costs(machine, plan, levels)  # looked up once: a stream resumes many times
    walk = functools.cache(lambda: _Walk.of(group or op.name, problem, plan, machine, offset))

    def steps():
        return _steps(walk(), plan, machine, numerics, levels, costs)

    return OpProgram(
        name=op.name,
        kind="gemm",
        steps=steps,
        resume=lambda start: _steps(walk(), plan, machine, numerics, levels, costs, start),
        classes=lambda start: _classes(problem, plan, start),
        step_count=StepCount(
            steps, lambda: math.prod(-(-problem[d] // plan.tile[d]) for d in plan.loop_order)
        ),
        macs=op.M * op.N * op.K,
        flops=2 * op.M * op.N * op.K,
        unit=plan.unit,
        double_buffering=plan.double_buffering,
        barrier=barrier,
        depends_on=tuple(op.inputs),
        core=core,
        group=group or op.name,
        details=details,
        signature=signature(op, plan, offset, bool(group)),
        levels=lambda: op_levels(problem, levels, machine),
    )


def _classes(problem, plan: GemmPlan, start: int) -> np.ndarray:
    """A class per step from `start` on: which of its loop indices are first and which last.
    A step's loads, frees and stores depend on the steps either side of it (which indices carry),
    its K chunk's accumulation on whether K is first or last, its extents on which tiles are edge
    tiles (the last): so steps of one class differ only in their regions."""
    lengths = [-(-problem[d] // plan.tile[d]) for d in plan.loop_order]
    classes = np.zeros((1,) * len(lengths), dtype=np.int64)
    for axis, length in enumerate(lengths):  # loop i's flags weigh 4**i, broadcast along its axis
        digit = np.arange(length, dtype=np.int64)
        flags = (digit == 0) * 2 + (digit == length - 1)
        classes = classes + (flags * 4**axis).reshape(
            (1,) * axis + (length,) + (1,) * (len(lengths) - axis - 1)
        )
    return classes.ravel()[start:]


def _indices(lengths: list[int], start: int):
    """The loop nest's index tuples from the `start`-th on, in itertools.product's order (a
    resumed stream counts on from its start instead of walking the steps before it)."""
    if not start:
        yield from itertools.product(*map(range, lengths))
        return
    if start >= math.prod(lengths):
        return
    digits = [int(d) for d in np.unravel_index(start, lengths)]
    while True:
        yield tuple(digits)
        axis = len(digits) - 1
        while axis >= 0 and digits[axis] == lengths[axis] - 1:
            digits[axis] = 0
            axis -= 1
        if axis < 0:
            return
        digits[axis] += 1


@dataclass(frozen=True)
class _Walk:
    """What a GEMM's tile walk reads that its steps share, worked out once per compiled op (a
    stream resumes it many times): each loop's tile ranges and extents, the buffers, the tensor
    names, and the bytes of the tile sizes its steps repeat."""

    at: dict[str, int]  # dim -> its position in a loop index tuple
    chunks: dict[str, list[tuple[int, int]]]  # dim -> tile ranges in the whole GEMM's coordinates
    extents: dict[str, list[int]]  # dim -> tile extents
    lengths: tuple[int, ...]  # tiles per loop, in loop order
    bump: tuple[bool, ...]  # per loop: it is the streamed dim (the next chunk of a fold)
    buffers: dict[str, str]  # role -> buffer
    tensors: dict[str, str]  # role -> tensor
    streams: bool  # streams_dma
    staging: str | None  # the SRAM output tiles are written back through (GemmPlan.staging)
    staged_format: str  # their precision there (GemmPlan.staged_format)
    sized: dict[tuple, int]  # (elements, format) -> bytes

    @classmethod
    def of(cls, name, problem, plan: GemmPlan, machine: Machine, offset: dict) -> "_Walk":
        chunks = {}
        for d in problem:
            ranges = tile_ranges(0, problem[d], plan.tile[d])
            chunks[d] = [(lo + offset[d], hi + offset[d]) for lo, hi in ranges]
        order = plan.loop_order
        (streamed,) = set(problem) - set(plan.spatial)
        return cls(
            {d: order.index(d) for d in problem},
            chunks,
            {d: [hi - lo for lo, hi in ranges] for d, ranges in chunks.items()},
            tuple(len(chunks[d]) for d in order),
            tuple(d == streamed for d in order),
            {role: machine.buffer_for(role).name for role in OPERAND_DIMS},
            {role: f"{name}.{TENSOR_OF[role]}" for role in OPERAND_DIMS},
            streams_dma(plan, machine),
            plan.staging(machine),
            plan.staged_format(),
            {},
        )

    def size_of(self, elements: int, fmt: str) -> int:
        key = (elements, fmt)
        if key not in self.sized:
            self.sized[key] = nbytes(elements, fmt)
        return self.sized[key]


def _steps(
    walk: _Walk,
    plan: GemmPlan,
    machine: Machine,
    numerics: GemmNumerics | None,
    levels: TileLevels,
    costs: dict,
    start: int = 0,
):
    """Walk the tile loop nest from step `start`; a tile is loaded when its index changes and freed
    when it is left. Regions are in the coordinates of the whole GEMM (offset by where this part
    sits). Each output tile sees its K chunks in order, so the K index counts those accumulated.
    `costs`: the plan's tile costs (`tile_costs`: (extents, first K chunk, continues fold) -> cost).
    Per step, loop indices are tuples in loop order and each role's tile (row, col) indices
    follow OPERAND_DIMS: input (M, K) is tensor A, weight (K, N) B, output (M, N) C. An output
    written back through a staging SRAM (`GemmPlan.staging`) keeps the space its last step's
    operands leave there (else takes its own with that step's loads) until it lands; its
    registers hold the unit's one live tile and wait for no space."""
    unit = machine.components[plan.unit]
    buffers, tensors, size_of = walk.buffers, walk.tensors, walk.size_of
    im, i_n, ik = walk.at["M"], walk.at["N"], walk.at["K"]
    cm, cn, ck = walk.chunks["M"], walk.chunks["N"], walk.chunks["K"]
    xm, xn, xk = walk.extents["M"], walk.extents["N"], walk.extents["K"]
    last_k = len(ck) - 1
    indices = _indices(walk.lengths, start)
    upcoming = next(indices, None)
    bump = walk.bump
    previous: tuple | None = None
    # the tile each role holds (its (row, col) tile indices): the last step's, if this one keeps it
    held_a = held_b = held_c = None
    streams = {} if walk.streams else None  # (loads, store) -> Streamed
    if start and upcoming is not None:
        previous = tuple(map(int, np.unravel_index(start - 1, walk.lengths)))
        m, n, k = upcoming[im], upcoming[i_n], upcoming[ik]
        pm, pn, pk = previous[im], previous[i_n], previous[ik]
        held_a = (m, k) if (pm, pk) == (m, k) else None
        held_b = (k, n) if (pk, pn) == (k, n) else None
        held_c = (m, n) if (pm, pn) == (m, n) else None
    buf_a, buf_b, buf_c = buffers["input"], buffers["weight"], buffers["output"]
    ten_a, ten_b, ten_c = tensors["input"], tensors["weight"], tensors["output"]
    dtype, accumulator = plan.dtype, plan.accumulator
    mac = f"mac_{dtype}"

    while upcoming is not None:
        current = upcoming
        continues_fold = previous is not None and all(  # the next chunk of the same folds
            c == p + b for c, p, b in zip(current, previous, bump)
        )
        previous = current
        upcoming = next(indices, None)
        m, n, k = current[im], current[i_n], current[ik]
        rm, rn, rk = cm[m], cn[n], ck[k]
        em, en, ek = xm[m], xn[n], xk[k]
        key_a, key_b, key_c = (m, k), (k, n), (m, n)
        region_a, region_b, region_c = (rm, rk), (rk, rn), (rm, rn)
        loads = []
        if held_a != key_a:
            size = size_of(em * ek, dtype)
            loads.append(Transfer("load", ten_a, region_a, buf_a, size, size))
            held_a = key_a
        if held_b != key_b:
            size = size_of(ek * en, dtype)
            loads.append(Transfer("load", ten_b, region_b, buf_b, size, size))
            held_b = key_b
        first_k_chunk = k == 0
        if held_c != key_c:  # staged: the unit's one live tile, whose space never waits (below)
            size = size_of(em * en, accumulator)
            kind = "alloc" if first_k_chunk else "reload"
            space = 0 if walk.staging else size
            loads.append(
                Transfer(kind, ten_c, region_c, buf_c, 0 if first_k_chunk else size, space)
            )
            held_c = key_c
        tile = (em, en, ek, first_k_chunk, continues_fold)
        if tile not in costs:  # a tile's cost depends only on these: once per kind and plan
            costs[tile] = _core_cost(
                machine,
                plan,
                levels,
                tile,
                partial(
                    _tile_cost,
                    {"M": em, "N": en, "K": ek},
                    plan,
                    unit,
                    levels,
                    machine,
                    buffers,
                    first_k_chunk,
                    continues_fold,
                ),
            )
        cost, sram_traffic, refill = costs[tile]
        kernel = None
        if numerics is not None:
            kernel = bind(numerics.tile, rm, rn, rk)
        compute = Compute(
            unit=plan.unit,
            cycles=cost.cycles,
            work=((mac, cost.macs),),
            macs=cost.macs,
            sram_traffic=sram_traffic,
            regions={"A": region_a, "B": region_b, "C": region_c},
            kernel=kernel,
            refill=refill,
        )
        frees, stores = [], []
        if upcoming is None:
            fm = fn = fk = None
        else:
            fm, fn, fk = upcoming[im], upcoming[i_n], upcoming[ik]
        if (fm, fk) != key_a:
            frees.append((buf_a, size_of(em * ek, dtype)))
            held_a = None
        if (fk, fn) != key_b:
            frees.append((buf_b, size_of(ek * en, dtype)))
            held_b = None
        if (fm, fn) != key_c:
            size = size_of(em * en, accumulator)
            kind = "store" if k == last_k else "spill"
            moved = size_of(em * en, plan.output) if kind == "store" else size
            if walk.staging is None:
                stores.append(Transfer(kind, ten_c, region_c, buf_c, moved, size))
            else:  # out of the registers as the compute ends, through the staging SRAM
                staged = sum(size for buffer, size in frees if buffer == walk.staging)
                frees = [(buffer, size) for buffer, size in frees if buffer != walk.staging]
                if not staged:  # the SRAM holds no operand this step leaves: room of its own
                    staged = size_of(em * en, walk.staged_format)
                    loads.append(Transfer("alloc", ten_c, region_c, walk.staging, 0, staged))
                stores.append(Transfer(kind, ten_c, region_c, walk.staging, moved, staged))
            held_c = None
        if streams is not None:
            loads, compute, stores = _stream(
                plan,
                unit,
                machine.dram,
                {"M": em, "N": en, "K": ek},
                (loads, compute, stores),
                streams,
            )
        yield Step(tuple(loads), (compute,), tuple(stores), tuple(frees))


ROLE_OF = {tensor: role for role, tensor in TENSOR_OF.items()}


def streams_dma(plan: GemmPlan, machine: Machine) -> bool:
    """Whether a plan's DMA streams during its tiles' compute: a `nest:` on a chip whose DMA is
    one DRAM bus (no NoC, no L2, no per-operand interfaces, which the engine models by events),
    unless the plan loads each tile before its compute (`stream_dma`: `auto`'s nests)."""
    plain_bus = machine.noc is None and machine.l2 is None
    return (
        plan.stream_dma
        and bool(plan.nest)
        and plain_bus
        and not machine.dram.spec.operand_bandwidth
    )


def _stream(plan: GemmPlan, unit, dram, extent: dict, step: tuple, cache: dict):
    """A nest tile's DMA streamed during its compute (`nest_stream`; `step`: its loads, compute
    and stores): its loads keep the first period's bytes (and the whole tile's buffer space), its
    store the last period's; the rest moves during the compute segment, which waits for what the
    array could not hide."""
    loads, compute, stores = step
    moved = {ROLE_OF[t.tensor[-1]]: t.dram_bytes for t in loads if t.dram_bytes}
    stored = sum(t.dram_bytes for t in stores)
    key = (tuple(extent.values()), tuple(sorted(moved.items())), stored)
    if key not in cache:
        cache[key] = nest_stream(plan, unit, dram, extent, moved, stored)
    streaming = cache[key]
    first = [replace(t, dram_bytes=streaming.first.get(ROLE_OF[t.tensor[-1]], 0)) for t in loads]
    last = [replace(t, dram_bytes=streaming.last) for t in stores]
    streamed = tuple(
        replace(t, dram_bytes=t.dram_bytes - kept.dram_bytes, space=0)
        for t, kept in zip([*loads, *stores], [*first, *last])
        if t.dram_bytes > kept.dram_bytes
    )
    wait = streaming.cycles - compute.cycles
    return first, replace(compute, streamed=streamed, dma_wait=wait), last


def tile_costs(machine: Machine, plan: GemmPlan, levels: "TileLevels") -> dict:
    """The tile costs already computed for this plan on this machine, shared by all its ops (the
    CTAs of a kernel, repeated layers). A cost depends on the machine (its unit and buffers), every
    plan field and whether K fits one tile (all TileLevels adds): the key holds all of them."""
    return machine.tile_costs.setdefault((_plan_key(plan), levels.whole_k), {})


def _core_cost(machine: Machine, plan: GemmPlan, levels: "TileLevels", tile: tuple, compute):
    """A tile kind's cost on a core: computed (`compute()`) once for all the cores of a chip, which
    are built from one template and differ only in the 'coreN.' of their names; off a many-core
    chip, computed here."""
    core = _CORE.match(plan.unit)
    if core is None:
        return compute()
    prefix = core.group()
    shared = machine.core_tile_costs.setdefault((_plan_key(plan, prefix), levels.whole_k), {})
    if tile not in shared:
        cost, traffic, refill = compute()
        canonical = tuple((_named(b, prefix, "core*."), r, w) for b, r, w in traffic)
        shared[tile] = (cost, canonical, refill)
    cost, traffic, refill = shared[tile]
    return cost, tuple((_named(b, "core*.", prefix), r, w) for b, r, w in traffic), refill


_CORE = re.compile(r"core\d+\.")
"""The prefix of a core's own component names (`Machine.view`)."""


def _named(name: str, prefix: str, other: str) -> str:
    """`name` with its leading `prefix` written `other` (unchanged without it)."""
    return other + name.removeprefix(prefix) if name.startswith(prefix) else name


def _plan_key(plan: GemmPlan, core: str = "") -> tuple:
    """Every field of a plan, hashable: a field added later is in the key without a change here.
    With `core` (a 'coreN.' prefix), names of that core's components are written 'core*.'."""
    return tuple(_hashable(getattr(plan, f.name), core) for f in fields(plan))


def _hashable(value, core: str = ""):
    """A plan field as a hashable value: dicts as sorted item tuples, lists and tuples as tuples,
    sets as frozensets; strings naming `core`'s components (when given) as 'core*.' names."""
    if isinstance(value, str) and core:
        return _named(value, core, "core*.")
    if isinstance(value, dict):
        return tuple(sorted((_hashable(k, core), _hashable(v, core)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_hashable(v, core) for v in value)
    if isinstance(value, frozenset | set):
        return frozenset(_hashable(v, core) for v in value)
    return value


def _tile_cost(extent, plan, unit, levels, machine, buffers, first_k_chunk, continues_fold):
    """One tile's TileCost, SRAM traffic and local-buffer refill cycles (from its register levels'
    counts when it has any)."""
    cost = unit.tile_cost(
        extent,
        plan.spatial,
        plan.dataflow,
        plan.accounting,
        first_k_chunk,
        continues_fold,
        dtype=plan.dtype,
    )
    if plan.nest:  # the mapping's own nest: its cycles, the port bound from its counts
        cost = replace(cost, cycles=nest_cycles(plan, unit, extent))
    if levels.chains:  # register levels: closed-form per-level counts of this tile
        table = levels.table(extent, first_k_chunk, cost)
        if plan.weight_half is not None:
            share_weight_reads(table, buffers["weight"])
        return cost, tile_traffic(table, machine), refill_cycles(table, levels, machine)
    traffic: dict[str, list[int]] = {}
    for role in OPERAND_DIMS:
        fmt = plan.accumulator if role == "output" else plan.dtype
        reads = cost.reads.get(role, 0)
        if role == "weight" and plan.weight_half is not None:
            reads = (reads + 1) // 2
        entry = traffic.setdefault(buffers[role], [0, 0])
        entry[0] += nbytes(reads, fmt)
        entry[1] += nbytes(cost.writes.get(role, 0), fmt)
    return cost, tuple((b, r, w) for b, (r, w) in traffic.items()), 0


def plan_from(op: GemmOpSpec, mapping: MappingSpec, machine: Machine, tile, loop_order) -> GemmPlan:
    """Assemble a plan once tile and loop order are known."""
    unit, dataflow, spatial = resolve_unit(op, mapping, machine)
    if unit.kind != "systolic_array":
        raise UnsupportedError(f"{unit.name} ({unit.kind}) cannot run gemm op {op.name}")
    local, regs = inner_levels(mapping, machine, unit.name)
    tilings = {
        local[name]: (dict(spec.tile), list(spec.loop_order or loop_order))
        for name, spec in (mapping.levels or {}).items()
        if name in local and spec.model_fields_set != {"double_buffer"}  # not only the flag
    }
    return GemmPlan(
        unit=unit.name,
        dataflow=dataflow,
        spatial=spatial,
        tile=dict(tile),
        loop_order=list(loop_order),
        double_buffering=mapping.double_buffering,
        accounting=mapping.accounting,
        dtype=op.dtype,
        accumulator=unit.accumulator(op.dtype),
        output=written_precision(op.dtype, op.output_dtype, unit.accumulator(op.dtype)),
        registers={regs[name]: loops for name, loops in (mapping.registers or {}).items()},
        levels=tilings,
        halved=frozenset(
            full
            for name, full in local.items()
            if _double_buffer(mapping, name, machine.components[full].spec)
        ),
        nest=tuple((d, n) for d, n in mapping.nest or ()),
    )


def nest_tile(op: GemmOpSpec, mapping: MappingSpec, machine: Machine) -> dict[str, int]:
    """The SRAM tile a mapping's explicit `nest` runs: per dim its temporal iterations times the
    spatial unrolling, at most the problem. Along any dim it may leave an edge tile (its last
    iteration may reach past the problem, not a whole one; K pieces carry partial sums). It must
    equal a `tile` given, and the nest takes no `levels:` tilings (inner levels hold what fits,
    or `registers:`)."""
    unit, _, spatial = resolve_unit(op, mapping, machine)
    problem = {"M": op.M, "N": op.N, "K": op.K}
    unroll = dict.fromkeys(problem, 1)
    unroll[spatial[0]] = min(unit.rows, problem[spatial[0]])
    unroll[spatial[1]] = min(unit.cols, problem[spatial[1]])
    covered = dict(unroll)
    for d, n in mapping.nest:
        covered[d] *= n
    where = locate(mapping, "nest")
    user_op, _, part = op.name.partition("@")  # a core's part of a partitioned op: gemm@c0
    whose = f"each core's part of {user_op} (split across cores)" if part else user_op
    for d in problem:
        if covered[d] - unroll[d] >= problem[d]:
            raise SpecError(
                f"{where}: its {d} loops x the array's {unroll[d]} cover {covered[d]}, a whole "
                f"iteration past the {d} = {problem[d]} of {whose}"
            )
    tile = {d: min(covered[d], problem[d]) for d in problem}
    if mapping.tile and any(mapping.tile.get(d, tile[d]) != tile[d] for d in problem):
        raise SpecError(
            f"{locate(mapping, 'tile')}: {dict(mapping.tile)} is not the nest's tile {tile} "
            "(leave tile out: the nest sets it)"
        )
    tiled = [
        n for n, spec in (mapping.levels or {}).items() if spec.model_fields_set - {"double_buffer"}
    ]
    if tiled:
        raise SpecError(
            f"{locate(mapping, 'levels', tiled[0])}: a mapping with a nest holds inner levels by "
            "capacity or `registers:` counts, not per-level tilings"
        )
    _, regs = inner_levels(mapping, machine, unit.name)
    filled = {machine.buffer_for(role).name: role for role in OPERAND_DIMS}
    loops = len(mapping.nest)
    for name, count in (mapping.registers or {}).items():
        if count > loops:
            raise SpecError(
                f"{locate(mapping, 'registers', name)}: {count} loops, but the nest has "
                f"{loops} (a register level holds 0 to {loops} of them)"
            )
        if regs.get(name) in filled and count < loops:
            raise SpecError(
                f"{locate(mapping, 'registers', name)}: {count} loops, but {name} is the level "
                f"the DMA fills with the {filled[regs[name]]} tile (only between tiles), so it "
                f"holds all {loops} of the nest's loops (leave it out or give {loops})"
            )
    return tile


def _double_buffer(mapping: MappingSpec, name: str, spec) -> bool:
    """Whether a local SRAM is double-buffered: the mapping's `levels` choice, else the arch's;
    a mapping may not contradict an arch that sets it (the hardware)."""
    level = (mapping.levels or {}).get(name)
    if level is None or level.double_buffer is None:
        return spec.double_buffer
    if "double_buffer" in spec.model_fields_set and level.double_buffer != spec.double_buffer:
        raise SpecError(
            f"{locate(mapping, 'levels', name, 'double_buffer')}: the arch fixes {name}'s "
            f"double_buffer to {str(spec.double_buffer).lower()}"
        )
    return level.double_buffer


def with_register_tilings(plan: GemmPlan, op: GemmOpSpec, mapping: MappingSpec, machine: Machine):
    """The plan with the register-level tilings of the mapping's `levels` resolved to the fold
    loops they hold (needs the final tile); a tiling the fold nest does not run, or one that
    overflows its level, is an error naming the key path."""
    _, regs = inner_levels(mapping, machine, plan.unit)
    tiled = {name: spec for name, spec in (mapping.levels or {}).items() if name in regs}
    if not tiled:
        return plan
    unit, spatial = machine.components[plan.unit], plan.spatial
    # the fold nest runs inside the innermost local sub-tile (each no larger than its enclosing)
    problem = {"M": op.M, "N": op.N, "K": op.K}
    extent = {
        d: min(
            [plan.tile[d], problem[d]] + [sub.get(d, problem[d]) for sub, _ in plan.levels.values()]
        )
        for d in problem
    }
    loops = fold_loops(extent, spatial, unit.rows, unit.cols)
    elem_bytes = {role: nbytes(1, plan.dtype) for role in ("input", "weight")}
    elem_bytes["output"] = nbytes(1, plan.accumulator)
    registers = dict(plan.registers)
    for name, spec in tiled.items():
        where = locate(mapping, "levels", name)
        cut = register_cut(loops, spec.tile, spec.loop_order)
        if cut is None:
            raise SpecError(
                f"{where}: tile {dict(spec.tile)} in order {spec.loop_order or 'default'} is not "
                f"a loop nest of this tile: {register_tilings(loops)}"
            )
        try:
            check_register_cut(
                machine.components[regs[name]],
                extent,
                spatial,
                unit.rows,
                unit.cols,
                elem_bytes,
                cut,
            )
        except CapacityError as error:
            raise CapacityError(f"{where}.tile: {error}") from None
        registers[regs[name]] = cut
    return replace(plan, registers=registers)


def inner_levels(mapping: MappingSpec, machine: Machine, unit: str):
    """The unit's local SRAMs and register levels (mapping name -> component name); a name the
    mapping's `levels` or `registers` gives that is not one of them, or a register level it
    gives in both, is an error."""
    prefix = unit.rsplit(".", 1)[0] + "." if "." in unit else ""
    inner = {
        kind: {
            c.name[len(prefix) :]: c.name
            for c in machine.components.values()
            if c.kind == kind and c.unit == unit
        }
        for kind in ("sram", "regfile")
    }
    local, regs = inner["sram"], inner["regfile"]
    for name in mapping.registers or {}:
        if name not in regs:
            raise SpecError(
                f"{locate(mapping, 'registers', name)}: {unit} has no register level {name!r}; "
                f"it has: {', '.join(regs) or 'none'}"
            )
    for name in mapping.levels or {}:
        if name in (mapping.registers or {}):
            raise SpecError(
                f"{locate(mapping, 'levels', name)}: {name} is also set in registers; "
                "give its loops in one place"
            )
        if name in regs and mapping.levels[name].double_buffer is not None:
            raise SpecError(
                f"{locate(mapping, 'levels', name, 'double_buffer')}: {name} is a register "
                "level; double_buffer is for a local SRAM"
            )
        if name not in local and name not in regs:
            raise SpecError(
                f"{locate(mapping, 'levels', name)}: {unit} has no local SRAM {name!r} "
                f"(an sram with unit: {unit.rsplit('.', 1)[-1]}) or register level; "
                f"it has: {', '.join([*local, *regs]) or 'none'}"
            )
    return local, regs
