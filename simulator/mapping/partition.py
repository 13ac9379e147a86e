"""Split ops over the cores of a multi-core machine; every part compiles on its core's view.

GEMM: M rows, N columns or an M x N grid of C blocks per core (no communication but the loads),
or K: each core accumulates its K range of every output tile, non-owner cores send their partial
tile over the NoC to the tile's owner (tiles dealt round-robin), which adds them and stores C.
Attention: K/V-head groups (with their query heads) per core. Vector ops: rows per core.
"""

import dataclasses
import math

from simulator.components import Machine
from simulator.errors import SpecError, UnsupportedError
from simulator.mapping.attention import compile_attention, plan_attention
from simulator.mapping.collective import collective_parts
from simulator.mapping.conv import conv_parts
from simulator.mapping.cta import chained, cta_gemm, final_store, launch_step
from simulator.mapping.gemm import check_tile, compile_gemm
from simulator.mapping.inductor_rows import kernel_for
from simulator.mapping.plan_cache import planned
from simulator.mapping.pool import pool_parts
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, altered, as_many, bind
from simulator.mapping.ranges import grid, split
from simulator.mapping.renamed import Renamer, op_key
from simulator.mapping.shifted import moved, replayed
from simulator.mapping.strided_copy import strided_floor
from simulator.mapping.unfused_grid import grid_parts
from simulator.mapping.vector_ops import (
    REDUCTIONS,
    check_cta_fits,
    compile_vector_op,
    core_rates,
    cta_rows,
    fitting_rows,
    latency_floor,
    reread_hits,
    resident_ctas,
    sector_rereads,
)
from simulator.numerics import GemmNumerics
from simulator.numerics.attention import AttentionNumerics
from simulator.numerics.collective import CollectiveNumerics
from simulator.numerics.conv import ConvNumerics
from simulator.numerics.pool import PoolNumerics
from simulator.numerics.vector_ops import VectorNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes, written_precision
from simulator.spec.validate import locate
from simulator.spec.workload import CollectiveOpSpec, WorkloadSpec


def partition_program(
    workload: WorkloadSpec, mapping: MappingSpec, machine: Machine, numerics: bool, seed: int
) -> tuple[list[OpProgram], dict]:
    """One OpProgram per (op, core part), each depending on every part of the ops it reads."""
    cores = mapping.partition.cores or machine.core_count  # at most core_count: compile_program
    programs: list[OpProgram] = []
    states: dict = {}
    parts_of: dict[str, list[str]] = {}
    compiled: dict[str, tuple] = {}  # op key -> the first such op's name and parts (timing only)
    for index, op in enumerate(workload.ops):
        deps = tuple(part for name in op.inputs for part in parts_of[name])
        key = None if numerics else op_key(op)  # kernels hold their op's numerics: no reuse
        if key in compiled:  # an identical op compiled before: its parts renamed
            first, parts = compiled[key]
            renamer = Renamer(first, op.name)
            parts = [renamer.part(p, deps) for p in parts]
        else:
            parts = _parts(op, mapping, machine, cores, numerics, seed + index, states)
            if key is not None:
                compiled[key] = (op.name, parts)
            # a part already waiting on its sibling parts (the all-reduce after a row-parallel
            # GEMM) keeps that
            if deps:
                parts = [altered(p, depends_on=deps + p.depends_on) for p in parts]
        parts_of[op.name] = [p.name for p in parts]
        programs.extend(parts)
    return programs, states


def _parts(op, mapping, machine, cores, numerics, seed, states) -> list[OpProgram]:
    """The op's parts, one per core it runs on, each launched as a kernel where the cores run
    kernels."""
    if op.kind == "gemm":
        parts = _gemm(op, mapping, machine, cores, numerics, seed, states)
    elif op.kind == "attention":
        parts = _attention(op, mapping, machine, cores, numerics, seed, states)
    elif op.kind == "collective":
        arrays = (
            CollectiveNumerics.random_arrays(cores, op.elements, op.dtype, seed)
            if numerics
            else None
        )
        parts, state = collective_parts(op, machine, cores, arrays)
        if state:
            states[op.name] = state
    elif op.kind in ("conv2d", "pool"):
        parts = _spatial(op, mapping, machine, cores, numerics, seed, states)
    else:
        parts = _vector(op, mapping, machine, cores, numerics, seed, states)
    kernels = machine.arch.cores.kernels if machine.arch.cores else None
    if kernels and op.kind != "collective":
        parts = [launch_step(p, kernels.launch, machine) for p in parts]
    return parts


def _gemm(op, mapping, machine, cores, numerics, seed, states):
    mode = mapping.partition.gemm
    kernels = machine.arch.cores.kernels
    if mode == "auto":
        mode = "tensor" if machine.noc.spec.memory == "local" else "cta" if kernels else "MN"
    if mode == "cta" and not kernels:
        raise SpecError(
            f"{locate(mapping, 'partition', 'gemm')}: cta needs a GPU-like arch "
            f"(cores.kernels); {machine.arch.name} has none"
        )
    if mode == "tensor":
        mode = {"column": "N", "row": "row"}.get(op.parallel, "MN")
    check_tile(op, mapping)
    root = None
    if numerics:
        accumulator = machine.compute_units[f"core0.{_matrix_unit(machine)}"].accumulator(op.dtype)
        output = written_precision(op.dtype, op.output_dtype, accumulator)
        root = states[op.name] = GemmNumerics(op.M, op.N, op.K, op.dtype, accumulator, seed, output)
    if mode == "cta":
        return cta_gemm(op, mapping, machine, cores, root)
    if mode == "K":
        return _gemm_k(op, mapping, machine, cores, root)
    if mode == "row":
        return _gemm_row_parallel(op, mapping, machine, cores, root, states)
    if mode == "MN":
        rows, cols = grid(cores)
        blocks = [(m, n) for m in split(op.M, rows) for n in split(op.N, cols)]
    elif mode == "M":
        blocks = [(m, (0, op.N)) for m in split(op.M, cores)]
    else:
        blocks = [((0, op.M), n) for n in split(op.N, cores)]
    return _blocks(op, mapping, machine, blocks, root)


def _blocks(op, mapping, machine, blocks, root) -> list[OpProgram]:
    """One sub-GEMM per core over its (M range, N range) block, of its block's shape class: the
    SMs of an equal-shaped block run the same steps, as a GEMV kernel's CTAs over N tiles do
    (mapping/classes.py). Timing only, each shape's steps are walked once, on its first core, and
    moved to the others (shifted.py)."""
    parts = []
    plans = _PlanCache(mapping, machine)
    leaders: dict[tuple, tuple[tuple, OpProgram]] = {}  # block shape -> its first core's
    for core, (m, n) in enumerate(blocks):
        name = f"{op.name}@c{core}"
        shape = (m[1] - m[0], n[1] - n[0])
        leader = leaders.get(shape) if root is None else None  # kernels cannot move
        if leader is not None:
            (m0, n0), program = leader
            part = moved(program, name, {"M": m[0] - m0, "N": n[0] - n0, "K": 0}, core)
        else:
            sub = op.model_copy(update={"name": name, "M": shape[0], "N": shape[1], "inputs": []})
            part = compile_gemm(
                sub,
                plans.get(sub, core),
                machine.view(core),
                root,
                barrier=False,
                offset={"M": m[0], "N": n[0], "K": 0},
                core=core,
                group=op.name,
            )
            if root is None:
                again = replayed(part.steps)
                part = altered(part, steps=again, step_count=as_many(part, again))
            leaders.setdefault(shape, ((m[0], n[0]), part))
        parts.append(altered(part, shape_class=repr(("block", *shape))))
    return parts


class _PlanCache:
    """Cores are identical, so a sub-GEMM shape is planned once (on core 0) and rebound per core."""

    def __init__(self, mapping: MappingSpec, machine: Machine):
        self.mapping, self.machine, self.plans = mapping, machine, {}

    def get(self, sub, core: int):
        key = (sub.M, sub.N, sub.K, sub.dtype)
        if key not in self.plans:
            self.plans[key] = planned(sub, self.mapping, self.machine.view(0))
        plan = self.plans[key]
        return dataclasses.replace(plan, unit=plan.unit.replace("core0.", f"core{core}.", 1))


def _matrix_unit(machine: Machine) -> str:
    return next(n for n, c in machine.arch.cores.components.items() if c.kind == "systolic_array")


def _k_slices(op, mapping, machine, ranges, partials) -> list[OpProgram]:
    """One GEMM per core over its K range, accumulating into that core's partial sums."""
    plans = _PlanCache(mapping, machine)
    parts = []
    for core, (k0, k1) in enumerate(ranges):
        sub = op.model_copy(update={"name": f"{op.name}@c{core}", "K": k1 - k0, "inputs": []})
        parts.append(
            compile_gemm(
                sub,
                plans.get(sub, core),
                machine.view(core),
                partials[core],
                barrier=False,
                offset={"M": 0, "N": 0, "K": k0},
                core=core,
                group=op.name,
            )
        )
    return parts


def _gemm_k(op, mapping, machine, cores, root):
    """K split: partial sums per core, reduced tile by tile into the owner core over the NoC."""
    ranges = split(op.K, cores)
    widest = op.model_copy(update={"K": ranges[0][1] - ranges[0][0]})
    reduction_order = mapping.model_copy(
        update={"loop_order": ["M", "N", "K"]}
    )  # finish tiles one by one
    base = planned(widest, reduction_order, machine.view(0))
    fixed = reduction_order.model_copy(
        update={"tile": dict(base.tile), "edge_tiles": "partial"}
    )  # same tiles on every core
    partials = [root.partial() if root else None for _ in ranges]
    tiles_per_row = math.ceil(op.N / base.tile["N"])
    parts = []
    for core, program in enumerate(_k_slices(op, fixed, machine, ranges, partials)):
        reduce = _Reduction(
            op.name,
            core,
            len(ranges),
            machine,
            base.tile["M"],
            base.tile["N"],
            tiles_per_row,
            root,
            partials,
        )
        parts.append(dataclasses.replace(program, steps=_wrapped(program.steps, reduce)))
    return parts


def _gemm_row_parallel(op, mapping, machine, cores, root, states):
    """Row parallelism: each core multiplies its K slice into a full partial C it stores; a ring
    all-reduce over the NoC then sums the partials (numerics on those very accumulators)."""
    ranges = split(op.K, cores)
    partials = [root.partial() if root else None for _ in ranges]
    parts = _k_slices(op, mapping, machine, ranges, partials)
    accumulator = machine.components[parts[0].unit].accumulator(op.dtype)
    reduce = CollectiveOpSpec(
        kind="collective",
        name=f"{op.name}.all_reduce",
        pattern="all_reduce",
        elements=op.M * op.N,
        dtype=accumulator,
    )
    arrays = [p.c.reshape(-1) for p in partials] if root else None
    collective, state = collective_parts(reduce, machine, len(ranges), arrays)
    if root:
        states[op.name] = _RowParallelNumerics(root, partials)
        states[reduce.name] = state
    depends = tuple(p.name for p in parts)
    return parts + [dataclasses.replace(c, depends_on=depends, group=op.name) for c in collective]


class _RowParallelNumerics:
    """The GEMM's check after the all-reduce: every partial now holds the sum; coverage adds up."""

    def __init__(self, root: GemmNumerics, partials: list[GemmNumerics]):
        self.root, self.partials = root, partials

    def check(self):
        self.root.c[:] = self.partials[0].c
        self.root.coverage[:] = sum(p.coverage for p in self.partials)
        return self.root.check()


def _wrapped(steps, reduce):
    return lambda: reduce.rewrite(steps())


class _Reduction:
    """Turns a K-part's final C stores into sends to the owner, or into the owner's reduce step."""

    def __init__(self, name, core, cores, machine, tile_m, tile_n, tiles_per_row, root, partials):
        self.name, self.core, self.cores, self.machine = name, core, cores, machine
        self.tile_m, self.tile_n, self.tiles_per_row = tile_m, tile_n, tiles_per_row
        self.root, self.partials = root, partials

    def owner(self, region) -> int:
        (m0, _), (n0, _) = region
        return (m0 // self.tile_m * self.tiles_per_row + n0 // self.tile_n) % self.cores

    def rewrite(self, steps):
        for step in steps:
            split_off = final_store(step)
            if split_off is None:
                yield step
                continue
            store, others = split_off
            tile = self.owner(store.region)
            owner = tile % self.cores
            label = f"{self.name}.tile{store.region}"
            if owner != self.core:
                peer = self.machine.view(owner).buffer_for("output").name
                send = dataclasses.replace(
                    store, kind="send", dram_bytes=0, peer=peer, noc_bytes=store.space
                )
                yield dataclasses.replace(
                    step,
                    stores=others + (send,),
                    signals=step.signals + (f"{label}.from{self.core}",),
                )
                continue
            # the owner's own partial is ready when this step lands: its reduce step waits for that too
            yield dataclasses.replace(
                step, stores=others, signals=step.signals + (f"{label}.from{self.core}",)
            )
            yield self._reduce_step(store, label)

    def _reduce_step(self, store: Transfer, label: str) -> Step:
        """The owner adds the other cores' partial tiles into its own, then stores the tile."""
        (m0, m1), (n0, n1) = store.region
        elements = (self.cores - 1) * (m1 - m0) * (n1 - n0)
        view = self.machine.view(self.core)
        try:
            unit, _ = view.vector_unit_for(self.name, "add")
            cycles = view.components[unit].cycles({"add": elements})
            work = (("add", elements),)
        except (
            UnsupportedError
        ):  # no vector unit: the array's accumulator adders, one row per cycle
            unit = next(n for n, c in view.compute_units.items() if c.kind == "systolic_array")
            cycles = math.ceil(elements / view.components[unit].cols)
            work = ()
        kernel = self.root and bind(self.root.reduce, store.region, self.partials)
        buffer = store.buffer
        traffic = ((buffer, nbytes(elements, "int32"), 0),)
        compute = Compute(unit, cycles, work, 0, traffic, {"C": store.region}, kernel)
        waits = tuple(f"{label}.from{j}" for j in range(self.cores))
        return Step((), (compute,), (store,), (), waits=waits)


def _attention(op, mapping, machine, cores, numerics, seed, states):
    """Heads: K/V-head groups (with their query heads) per core. Sequence: query-row blocks per
    core; with a causal mask a block of queries q0:q1 needs only keys up to its last query. Cta:
    FlashAttention's grid, or for unfused attention its three kernels' grids. Auto: the CTA grid
    where the cores run kernels, else heads."""
    group = op.heads // op.kv_groups
    mode = mapping.partition.attention
    if mode == "auto":
        mode = "cta" if machine.arch.cores.kernels else "heads"
    if mode == "cta" and mapping.attention.algorithm == "unfused":  # PyTorch's batched grids

        def softmax(sub, over):
            return _vector(sub, mapping, machine, over, False, seed, states)

        return grid_parts(op, mapping, machine, cores, numerics, seed, states, softmax)
    if mode == "cta":
        return _attention_cta(op, mapping, machine, cores, numerics, seed, states)
    if mode == "heads":
        subs = [
            {"heads": group * (g1 - g0), "kv_heads": g1 - g0}
            for g0, g1 in split(op.kv_groups, cores)
        ]
    else:
        offset = op.keys - op.q_len  # queries are the last q_len positions
        subs = [
            {"q_len": q1 - q0, "kv_len": offset + q1 if op.causal else op.keys}
            for q0, q1 in split(op.q_len, cores)
        ]
    parts = []
    for core, update in enumerate(subs):
        sub = op.model_copy(update={"name": f"{op.name}@c{core}", "inputs": [], **update})
        view = machine.view(core)
        state = AttentionNumerics(sub, seed + core) if numerics else None
        if state:
            states[sub.name] = state
        plan = plan_attention(sub, mapping, view, f"{mapping._source}: attention")
        shared = op.name if mode == "sequence" else ""  # same heads: same K/V regions
        parts.append(
            compile_attention(
                sub, plan, mapping, view, state, core=core, group=op.name, kv_tensor=shared
            )
        )
    return parts


def _attention_cta(op, mapping, machine, cores, numerics, seed, states):
    """FlashAttention's grid: (query block, batch, K/V-head group) CTAs, the query block fastest
    (FlashAttention-2's `dim3 grid(num_m_block, params.b, params.h)`,
    csrc/flash_attn/src/flash_fwd_launch_template.h), dealt to the cores in waves; a CTA's queries
    see the keys up to its last query when causal. Cores whose CTAs have the same shapes form a
    core class (mapping/classes.py)."""
    group = op.heads // op.kv_groups
    probe = op.model_copy(update={"batch": 1, "heads": group, "kv_heads": 1})
    rows = plan_attention(probe, mapping, machine.view(0), f"{mapping._source}: attention").block_q
    offset = op.keys - op.q_len  # queries are the last q_len positions
    items = [
        (g, b, q0, min(q0 + rows, op.q_len))
        for g in range(op.kv_groups)
        for b in range(op.batch)
        for q0 in range(0, op.q_len, rows)
    ]
    parts = []
    for core in range(min(cores, len(items))):
        programs, shape = [], []
        for i, (g, b, q0, q1) in enumerate(items[core::cores]):
            update = {"batch": 1, "heads": group, "kv_heads": 1, "q_len": q1 - q0}
            update["kv_len"] = offset + q1 if op.causal else op.keys
            shape.append((update["q_len"], update["kv_len"]))
            sub = op.model_copy(update={"name": f"{op.name}@c{core}.{i}", "inputs": [], **update})
            view = machine.view(core)
            state = AttentionNumerics(sub, seed + len(items) * core + i) if numerics else None
            if state:
                states[sub.name] = state
            plan = plan_attention(sub, mapping, view, f"{mapping._source}: attention")
            programs.append(
                compile_attention(
                    sub,
                    plan,
                    mapping,
                    view,
                    state,
                    core=core,
                    group=op.name,
                    kv_tensor=f"{op.name}.b{b}.g{g}",
                )
            )
        # cores whose CTAs have equal (query rows, keys) run the same steps: a core class
        part = chained(programs, {"block_rows": rows}, repr(("attention", *shape)))
        parts.append(dataclasses.replace(part, name=f"{op.name}@c{core}"))
    return parts


def _spatial(op, mapping, machine, cores, numerics, seed, states):
    """Convs and pools: split by mapping/conv.py and mapping/pool.py, one numerics per op."""
    if op.kind == "pool":
        state = PoolNumerics(op, seed) if numerics else None
        parts = pool_parts(op, mapping, machine, cores, state)
    else:
        state = ConvNumerics(op, _conv_accumulator(op, machine), seed) if numerics else None
        parts = conv_parts(op, mapping, machine, cores, state, f"{mapping._source}: {op.name}")
    if state:
        states[op.name] = state
    return parts


def _conv_accumulator(op, machine: Machine) -> str:
    return machine.compute_units[f"core0.{_matrix_unit(machine)}"].accumulator(op.dtype)


def _vector(op, mapping, machine, cores, numerics, seed, states):
    op = fitting_rows(op, mapping, machine.view(0))
    state = states[op.name] = VectorNumerics(op, seed) if numerics else None
    if state is None:
        states.pop(op.name)
    ranges, kernel, hits = split(op.rows, cores), None, ()
    kernels = machine.arch.cores and machine.arch.cores.kernels
    if kernels:
        hits = sector_rereads(op)
    if kernels and op.kind in REDUCTIONS:
        shared = machine.view(0).buffer_for("input").capacity_bytes
        kernel = kernel_for(op, kernels.sm)
        check_cta_fits(
            kernel, kernels, op, lambda key: locate(machine.arch, "cores", "kernels", key)
        )
        ranges = cta_rows(op.rows, kernel.rows, cores)
        l2 = machine.l2.capacity_bytes if machine.l2 is not None else 0
        first = op.model_copy(update={"rows": ranges[0][1] - ranges[0][0]})  # the busiest core
        busiest = (first, core_rates(machine, 0, first, len(ranges)))
        hits = reread_hits(kernel, op, kernels, shared, len(ranges), l2, busiest)
    parts = []
    for core, (r0, r1) in enumerate(ranges):
        sub = op.model_copy(update={"name": f"{op.name}@c{core}", "rows": r1 - r0, "inputs": []})
        rates = kernel and core_rates(machine, core, sub, len(ranges))
        floor = 0
        if kernel:
            floor = latency_floor(kernel, sub, kernels, shared, hits, rates)
        elif kernels and op.strided_dims:
            floor = strided_floor(sub, kernels, len(hits))
        parts.append(
            compile_vector_op(
                sub,
                mapping,
                machine.view(core),
                state,
                op.name,
                row_offset=r0,
                core=core,
                group=op.name,
                rereads=hits,
                floor=floor,
                kernel=kernel,
                step_rows=kernel.rows * resident_ctas(kernel, kernels, shared) if kernel else 0,
            )
        )
    return parts
