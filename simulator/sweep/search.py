"""Mapper search: enumerate the GEMM mappings that fit, rank them analytically, confirm with the engine.

The space is dataflow (those the unit supports) x spatial orientation (rows/cols swapped) x SRAM
tile x loop order (x, on arrays with local SRAMs, their sub-tiles: the tile, half its M, half its
N, half both), plus the auto-tiled mapping of each dataflow and orientation. The estimate is
closed-form: per-tile cycles and SRAM traffic from the unit's `tile_cost` (or, with register
levels or local SRAMs, from the per-level counts of mapping/hierarchy.py, as the engine prices
them), DRAM moves from `dma_moves` (the engine's rule), energy as counts x per-action energy
with the parts the report adds (PE registers, the clock network's share, static power). The best `top_k`
explicit-tile candidates then try the inner levels' choices the arch leaves open (each local
SRAM double-buffered, each register level's fold-loop count), one level at a time as `auto`
does; those and `auto` run on the engine, and the winner is the best simulated one, so it is
never worse than `auto`.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from simulator.api import simulate
from simulator.components import Machine, build_machine
from simulator.components.chip import (
    clock_share,
    held_by_register_levels,
    pe_register_pj_per_mac,
)
from simulator.engine.progress import ProgressCallback, labelled
from simulator.errors import AccsimError, SpecError, UnsupportedError
from simulator.mapping.auto import auto_plan
from simulator.mapping.auto_nest import nest_sizes
from simulator.mapping.gemm import GemmPlan, check_tile, inner_levels, plan_from, resolve_unit
from simulator.mapping.hierarchy import (
    TileLevels,
    hierarchical_roles,
    nest_cycles,
    port_bytes,
    refill_cycles,
    traffic,
)
from simulator.mapping.nest_space import nests
from simulator.mapping.traffic import dma_moves
from simulator.report.power import machine_parts
from simulator.spec import (
    ArchSpec,
    MappingSpec,
    WorkloadSpec,
    load_arch,
    load_mapping,
    load_workload,
)
from simulator.spec.mapping import DEFAULT_SPATIAL
from simulator.spec.precision import nbytes
from simulator.spec.snn import SnnSpec
from simulator.spec.system import one_chip
from simulator.sweep.spec import check_counts

PJ_PER_MW_S = 1e9
ORDERS = [list(p) for p in itertools.permutations("MNK")]


NEST_ORDERS = 720
"""Loop-factor orders (nests) tried per tile: all of them for up to 6 distinct loop factors,
ZigZag's LOMA at lpf_limit 6; a tile with more merges its smallest factors (`nest_space`)."""
NEST_BUDGET = 8000
"""Nests estimated per search at most, over all tiles (a few seconds)."""
MAX_REGISTER_LOOPS = 3
"""Fold loops a register level is tried holding, 0 to this many (or to a nest's loop count)."""


@dataclass(frozen=True)
class Cost:
    """Latency and energy of a whole workload under one mapping (estimated or simulated)."""

    cycles: float
    energy_pj: float
    clock_hz: float

    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz


OBJECTIVES: dict[str, Callable[[Cost], float]] = {
    "latency": lambda cost: cost.cycles,
    "energy": lambda cost: cost.energy_pj,
    "edp": lambda cost: cost.energy_pj * cost.seconds,
}
"""Objective name -> key function (lower is better)."""


@dataclass(frozen=True)
class Candidate:
    """One mapping (as the fields of a mapping file; {} is `auto`) and its costs."""

    mapping: dict
    estimate: Cost | None
    simulated: Cost | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        """Compact description: dataflow, spatial rows/cols, tile and loop order."""
        if not self.mapping:
            return "auto"
        m = self.mapping
        parts = [m["dataflow"], f"{m['spatial']['rows']}/{m['spatial']['cols']}"]
        if "tile" in m:
            parts.append("x".join(f"{d}{n}" for d, n in m["tile"].items()))
            parts.append("".join(m["loop_order"]))
            if "nest" in m:
                parts.append("nest " + " ".join(f"{d}{n}" for d, n in m["nest"]))
        else:
            parts.append("auto tiles")
        return " ".join(parts)


@dataclass(frozen=True)
class SearchResult:
    """Confirmed candidates best first, the `auto` baseline, and how many mappings were estimated."""

    objective: str
    arch: str
    workload: str
    ranked: tuple[Candidate, ...]
    auto: Candidate
    examined: int
    key: Callable[[Cost], float] = field(repr=False)

    @property
    def best(self) -> Candidate:
        return self.ranked[0]

    @property
    def improvement(self) -> float:
        """auto's objective over the winner's: 1.25 means the winner is 1.25x better."""
        best = self.key(self.best.simulated)
        return self.key(self.auto.simulated) / best if best else 1.0

    def mapping_document(self) -> dict:
        """The winner as the contents of a mapping file `accsim run --mapping` accepts."""
        how = (
            f"{self.improvement:.3g}x better {self.objective} than auto"
            if self.best.mapping
            else "auto was best"
        )
        return {
            "name": f"search-{self.objective}",
            "description": f"mapper search for {self.workload} on {self.arch}: {how}",
            **self.best.mapping,
        }

    def write(self, path: str | Path) -> Path:
        """Write the winner as a mapping YAML file; an OS refusal (a full disk, a name of 300
        characters, a folder given) is a one-line SpecError naming the path."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(self.mapping_document(), sort_keys=False))
        except OSError as error:
            raise SpecError(f"{path}: cannot write: {error.strerror}") from None
        return path


def search_mapping(
    arch: ArchSpec | str | Path | dict,
    workload: WorkloadSpec | str | Path | dict,
    objective: str | Callable[[Cost], float] = "edp",
    top_k: int = 5,
    progress: ProgressCallback | None = None,
    nest_budget: int | None = None,
) -> SearchResult:
    """Search the mappings of `workload`'s GEMM ops on `arch`; confirm the best `top_k` by simulation
    (`progress(phase, done, total)` as for simulate(), each phase named after its candidate).
    `nest_budget`: loop nests estimated at most on a unit with inner levels (0: none; None:
    NEST_BUDGET)."""
    arch = one_chip(arch if isinstance(arch, ArchSpec) else load_arch(arch), "mapper search")
    if not isinstance(workload, WorkloadSpec | SnnSpec):
        workload = load_workload(workload)
    if isinstance(workload, SnnSpec):
        raise UnsupportedError(f"{workload.name}: a spiking network; mapper search maps GEMMs")
    budget = NEST_BUDGET if nest_budget is None else nest_budget
    check_counts(top_k=top_k)
    check_counts(0, nest_budget=budget)
    if isinstance(objective, str) and objective not in OBJECTIVES:
        raise UnsupportedError(f"objective {objective!r}: choose one of {', '.join(OBJECTIVES)}")
    key = OBJECTIVES[objective] if isinstance(objective, str) else objective
    name = objective if isinstance(objective, str) else getattr(objective, "__name__", "custom")
    machine = build_machine(arch)
    ops = [op for op in workload.ops if op.kind == "gemm"]
    if not ops:
        raise UnsupportedError(f"{workload.name}: mapper search needs gemm ops; it has none")
    nested, nest_count = _nested(ops, machine, key, budget)
    estimated = sorted(
        [*_enumerate(ops, machine), *nested], key=lambda c: _rank(key, c.estimate, c.mapping)
    )
    best, tried = [], 0
    for candidate in _distinct(estimated, top_k):
        refined, count = _refine(ops, machine, candidate, key)
        best.append(refined)
        tried += count
    confirmed = [
        _confirm(arch, workload, c, labelled(progress, f"candidate {i} of {len(best)}"))
        for i, c in enumerate(best, 1)
    ]
    auto = _confirm(arch, workload, Candidate({}, None), labelled(progress, "auto"))
    if auto.simulated is None:
        raise UnsupportedError(f"{workload.name} on {arch.name}: auto mapping fails: {auto.error}")
    ok = [c for c in [*confirmed, auto] if c.simulated is not None]
    ranked = sorted(ok, key=lambda c: _rank(key, c.simulated, c.mapping))
    ranked += [c for c in confirmed if c.simulated is None]
    examined = len(estimated) - len(nested) + nest_count + tried
    return SearchResult(name, arch.name, workload.name, tuple(ranked), auto, examined, key)


def estimate_mapping(
    arch: ArchSpec | str | Path | dict,
    workload: WorkloadSpec | str | Path | dict,
    mapping: MappingSpec | str | Path | dict | None = None,
) -> Cost:
    """The analytical estimate the search ranks by, for one mapping (fields left out: as auto)."""
    arch = arch if isinstance(arch, ArchSpec) else load_arch(arch)
    workload = workload if isinstance(workload, WorkloadSpec) else load_workload(workload)
    mapping = mapping if isinstance(mapping, MappingSpec) else load_mapping(mapping)
    machine = build_machine(arch)
    ops = [op for op in workload.ops if op.kind == "gemm"]
    for op in ops:
        check_tile(op, mapping)
    return _total(ops, machine, [auto_plan(op, mapping, machine) for op in ops])


def _confirm(
    arch: ArchSpec, workload: WorkloadSpec, candidate: Candidate, progress: ProgressCallback | None
) -> Candidate:
    try:
        report = simulate(
            arch, workload, candidate.mapping or None, numerics=False, progress=progress
        )
    except AccsimError as error:
        return Candidate(candidate.mapping, candidate.estimate, None, str(error))
    cost = Cost(report.cycles, report.summary["energy_pj"], report.clock_hz)
    return Candidate(candidate.mapping, candidate.estimate, cost)


def _enumerate(ops, machine: Machine):
    """Every fitting candidate with its estimate: auto-tiled and explicit, per dataflow and orientation."""
    unit, _, _ = resolve_unit(ops[0], MappingSpec(), machine)
    for dataflow in unit.spec.dataflows:
        for spatial in _orientations(dataflow):
            fields = {"dataflow": dataflow, "spatial": {"rows": spatial[0], "cols": spatial[1]}}
            mapping = MappingSpec(**fields)
            try:
                plans = [auto_plan(op, mapping, machine) for op in ops]
            except AccsimError:
                continue  # this unit cannot run these ops this way (precision, dataflow, capacity)
            yield Candidate(fields, _total(ops, machine, plans))
            yield from _tiled(ops, machine, mapping, fields, plans[0])


def _tiled(ops, machine: Machine, mapping: MappingSpec, fields: dict, seed: GemmPlan):
    """Explicit tiles (one tile for every op, so no larger than the smallest op) and loop orders."""
    unit = machine.components[seed.unit]
    rows_dim, cols_dim = seed.spatial
    align = {rows_dim: unit.rows, cols_dim: unit.cols}
    sizes = [_sizes(min(getattr(op, d) for op in ops), align.get(d, unit.rows)) for d in "MNK"]
    for m, n, k in itertools.product(*sizes):
        tile = {"M": m, "N": n, "K": k}
        plans = [plan_from(op, mapping, machine, tile, ORDERS[0]) for op in ops]
        if not all(_fits(plan, machine) for plan in plans):
            continue
        work = [_tile_work(op, plan, machine) for op, plan in zip(ops, plans)]
        for order in ORDERS:
            chosen = {**fields, "tile": tile, "loop_order": order, "edge_tiles": "partial"}
            yield Candidate(chosen, _cost(ops, machine, plans, work, order))
            for levels in _local_tilings(machine, unit.name, tile):
                local = {**chosen, "levels": levels}
                cost = _estimate(ops, machine, local)
                if cost is not None:  # else a sub-tile that does not fit its level
                    yield Candidate(local, cost)


def _nested(ops, machine: Machine, key, budget: int) -> tuple[list[Candidate], int]:
    """Explicit-nest candidates on a unit with inner levels (register levels, local SRAMs): per
    dataflow, orientation and tile a nest can run, the tile's nests (`nest_space.nests`), each
    with its best DMA loop order. Tiles go in the order of a lower bound on their cost (their
    DRAM traffic with only the MACs' energy and ideal cycles inside), and stop once a bound
    cannot beat the best nest found or `budget` nests are estimated. Returns the candidates
    and how many nests were estimated."""
    unit, _, _ = resolve_unit(ops[0], MappingSpec(), machine)
    if not budget or not _inner(machine, unit.name):
        return [], 0
    tiles = sorted(
        (
            entry
            for dataflow in unit.spec.dataflows
            for spatial in _orientations(dataflow)
            for entry in _nest_tiles(ops, machine, dataflow, spatial, key)
        ),
        key=lambda entry: entry[0],
    )
    found: list[Candidate] = []
    best, spent = None, 0
    for bound, fields, iterations in tiles:
        if best is not None and bound >= best:
            break  # no nest of this tile (or a later one) can beat the best
        for nest in nests(iterations, NEST_ORDERS):
            if spent == budget:
                return found, spent
            spent += 1
            candidate = _nest_candidate(ops, machine, {**fields, "nest": nest}, key)
            if candidate is None:
                break  # the DMA-filled level cannot hold this tile: no nest of it fits
            found.append(candidate)
            score = key(candidate.estimate)
            best = score if best is None else min(best, score)
    return found, spent


def _inner(machine: Machine, unit: str) -> bool:
    """Whether the unit has register levels or local SRAMs (a nest has levels to block for)."""
    local, _ = inner_levels(MappingSpec(), machine, unit)
    return bool(local or hierarchical_roles(machine, unit))


def _nest_tiles(ops, machine: Machine, dataflow: str, spatial: tuple, key):
    """(bound, mapping fields, temporal iterations per dim) of each tile a nest can run: every
    divisor of the ops' dims that is a multiple of the array edge on the spatial dims (the dim,
    where smaller: the same for every op), fitting its buffers double-buffered or else
    single-buffered. The bound: `_op_cost` of its best loop order with the tile's work at the
    MACs' energy and one cycle per MAC over the whole array, below any nest's (for an objective
    that grows with cycles and energy, as every one of OBJECTIVES does)."""
    unit, _, _ = resolve_unit(ops[0], MappingSpec(), machine)
    fields = {"dataflow": dataflow, "spatial": {"rows": spatial[0], "cols": spatial[1]}}
    unroll = dict.fromkeys("MNK", 1)
    for dim, edge in zip(spatial, (unit.rows, unit.cols)):
        edges = {min(edge, getattr(op, dim)) for op in ops}
        if len(edges) > 1:
            return  # the ops unroll this dim differently: no one nest runs them all
        (unroll[dim],) = edges
    sizes = [_nest_sizes([getattr(op, d) for op in ops], unroll[d]) for d in "MNK"]
    for choice in itertools.product(*sizes):
        tile = {d: size for d, (size, _) in zip("MNK", choice)}
        for double in (True, False):
            mapping = MappingSpec(**fields, double_buffering=double)
            plans = [plan_from(op, mapping, machine, tile, ORDERS[0]) for op in ops]
            if all(_fits(plan, machine) for plan in plans):
                break
        else:
            continue
        macs = [op.M * op.N * op.K for op in ops]
        ideal = [
            _TileWork(
                unit.to_ref_cycles(
                    math.ceil(mac / (unit.rows * unit.cols * unit.rate(plan.dtype)))
                ),
                mac * unit.energy_pj(f"mac_{plan.dtype}"),
                0.0,
            )
            for mac, plan in zip(macs, plans)
        ]
        bound = min(key(_cost(ops, machine, plans, ideal, order)) for order in ORDERS)
        iterations = {d: n for d, (_, n) in zip("MNK", choice)}
        yield bound, {**fields, "tile": tile, "double_buffering": double}, iterations


def _nest_sizes(extents: list[int], unroll: int) -> list[tuple[int, int]]:
    """(tile, temporal iterations) along one dim for a nest over all ops (`nest_sizes` on the dim
    they share): edge tiles only where every op has the same dim (along K the pieces carry
    partial sums)."""
    return nest_sizes(math.gcd(*extents), unroll, edges=len(set(extents)) == 1)


def _nest_candidate(ops, machine: Machine, fields: dict, key) -> Candidate | None:
    """One nest's candidate with the DMA loop order best for it; None where the DMA-filled level
    cannot hold the nest's tile."""
    fields = {**fields, "nest": [list(loop) for loop in fields["nest"]]}
    spec = MappingSpec(**fields, loop_order=ORDERS[0])
    plans = [plan_from(op, spec, machine, fields["tile"], ORDERS[0]) for op in ops]
    try:
        for op, plan in zip(ops, plans):
            TileLevels(plan, machine, op.K).check(plan.tile)
    except AccsimError:
        return None
    work = [_tile_work(op, plan, machine) for op, plan in zip(ops, plans)]
    costs = {tuple(o): _cost(ops, machine, plans, work, o) for o in ORDERS}
    order = min(costs, key=lambda o: (key(costs[o]), costs[o].cycles, costs[o].energy_pj))
    return Candidate({**fields, "loop_order": list(order)}, costs[order])


def _estimate(ops, machine: Machine, fields: dict) -> Cost | None:
    """The estimate of an explicit-tile mapping, None where a level cannot hold what it asks."""
    tile, order = fields["tile"], fields["loop_order"]
    try:
        spec = MappingSpec(**fields)
        plans = [plan_from(op, spec, machine, tile, order) for op in ops]
        for op, plan in zip(ops, plans):
            TileLevels(plan, machine, op.K).check({d: min(tile[d], getattr(op, d)) for d in "MNK"})
    except AccsimError:
        return None
    work = [_tile_work(op, plan, machine) for op, plan in zip(ops, plans)]
    return _cost(ops, machine, plans, work, order)


def _refine(ops, machine: Machine, candidate: Candidate, key) -> tuple[Candidate, int]:
    """An explicit-tile candidate with the inner levels' open choices tried one level at a time
    from its own: each local SRAM the arch leaves open double-buffered, then each register
    level holding 0 to 3 fold loops; the best by the objective is kept. Returns it and how many
    mappings were estimated."""
    if "tile" not in candidate.mapping:
        return candidate, 0  # auto tiles choose these themselves
    unit, _, _ = resolve_unit(ops[0], MappingSpec(**candidate.mapping), machine)
    local, regs = inner_levels(MappingSpec(), machine, unit.name)
    variants = [
        ("levels", name, "double_buffer", True)
        for name, full in local.items()
        if "double_buffer" not in machine.components[full].spec.model_fields_set
    ]
    most = min(MAX_REGISTER_LOOPS, len(candidate.mapping.get("nest") or range(MAX_REGISTER_LOOPS)))
    variants += [("registers", name, None, loops) for name in regs for loops in range(most + 1)]
    best, tried = candidate, 0
    for part, name, flag, value in variants:
        fields = {**best.mapping, part: dict(best.mapping.get(part) or {})}
        if flag is None:
            fields[part][name] = value
        else:
            fields[part][name] = {**fields[part].get(name, {}), flag: value}
        if fields == best.mapping:
            continue
        cost = _estimate(ops, machine, fields)
        tried += 1
        if cost is not None and _rank(key, cost, fields) < _rank(key, best.estimate, best.mapping):
            best = Candidate(fields, cost)
    return best, tried


def _cost(ops, machine: Machine, plans, work, order) -> Cost:
    ordered = [
        _op_cost(op, plan, machine, tile_part, order)
        for op, plan, tile_part in zip(ops, plans, work)
    ]
    return Cost(sum(c.cycles for c in ordered), sum(c.energy_pj for c in ordered), machine.clock_hz)


def _local_tilings(machine: Machine, unit: str, tile: dict):
    """Sub-tiles to try for each local SRAM of `unit`: half the tile's M, half its N, half both."""
    prefix = unit.rsplit(".", 1)[0] + "." if "." in unit else ""
    local = [
        c.name[len(prefix) :]
        for c in machine.components.values()
        if c.kind == "sram" and c.unit == unit
    ]
    halves = [
        {d: max(1, math.ceil(tile[d] / 2)) for d in dims} for dims in (("M",), ("N",), ("M", "N"))
    ]
    for name in local:
        for sub in halves:
            if any(sub[d] < tile[d] for d in sub):
                yield {name: {"tile": sub}}


def _total(ops, machine: Machine, plans: list[GemmPlan]) -> Cost:
    costs = [
        _op_cost(op, plan, machine, _tile_work(op, plan, machine), plan.loop_order)
        for op, plan in zip(ops, plans)
    ]
    return Cost(sum(c.cycles for c in costs), sum(c.energy_pj for c in costs), machine.clock_hz)


def _orientations(dataflow: str) -> list[tuple[str, str]]:
    rows, cols = DEFAULT_SPATIAL[dataflow]
    return [(rows, cols), (cols, rows)]


def _sizes(extent: int, align: int) -> list[int]:
    """Tile sizes along one dim: the whole dim, array-edge multiples (x2 steps) and halvings of it."""
    sizes = {extent}
    size = align
    while size < extent:
        sizes.add(size)
        size *= 2
    size = math.ceil(extent / 2)
    while size >= align and size not in sizes:  # a size met again halves to sizes met (1: 1)
        sizes.add(size)
        size = math.ceil(size / 2)
    return sorted(sizes)


def _fits(plan: GemmPlan, machine: Machine) -> bool:
    return all(
        used <= machine.components[name].capacity_bytes
        for name, used in plan.footprint(machine).items()
    )


@dataclass(frozen=True)
class _TileWork:
    """The loop-order-independent part of an op's cost: array time and array-side energy (MACs,
    PE registers, the array's SRAM and register accesses), and the part of it the clock network
    drives (the report adds the clock's share of it)."""

    cycles: int
    energy_pj: float
    clocked_pj: float


def _tile_work(op, plan: GemmPlan, machine: Machine) -> _TileWork:
    """Sum over every SRAM tile (full and edge sizes grouped) of max(array, SRAM port) cycles
    and the energy of the MACs, their PE registers and the array's SRAM reads and writes."""
    unit = machine.components[plan.unit]
    levels = TileLevels(plan, machine, op.K)
    groups = []
    for d in "MNK":
        full, rest = divmod(getattr(op, d), plan.tile[d])
        groups.append([(plan.tile[d], full)] * bool(full) + [(rest, 1)] * bool(rest))
    cycles, datapath, memory = 0, 0.0, 0.0
    for (m, nm), (n, nn), (k_index, (k, nk)) in itertools.product(
        groups[0], groups[1], enumerate(groups[2])
    ):
        outputs = nm * nn  # output tiles of this (m, n) size; each meets its first K chunk once
        firsts = outputs if k_index == 0 else 0
        for first, count in ((True, firsts), (False, outputs * nk - firsts)):
            if count:
                c, d, e = _one_tile(unit, plan, machine, levels, {"M": m, "N": n, "K": k}, first)
                cycles += c * count
                datapath += d * count
                memory += e * count
    ungated = not machine.arch.chip.clock_gating  # an ungated datapath's clock is static power
    return _TileWork(cycles, datapath + memory, memory if ungated else datapath + memory)


def _one_tile(unit, plan: GemmPlan, machine: Machine, levels, extent: dict, first: bool):
    """One tile's cycles, its datapath energy (MACs and their PE registers, as the report's
    `pe_registers` row prices them) and its SRAM and register-level energy."""
    cost = unit.tile_cost(
        extent, plan.spatial, plan.dataflow, plan.accounting, first, dtype=plan.dtype
    )
    if plan.nest:  # the mapping's own nest times its tile as the engine does
        cost = replace(cost, cycles=nest_cycles(plan, unit, extent))
    moved: dict[str, list[int]] = {}
    refill = 0
    if levels.chains:  # register levels or local SRAMs: every level's port traffic, as the engine
        table = levels.table(extent, first, cost)
        for name, read, write in traffic(table, machine):
            moved[name] = [read, write]
        refill = refill_cycles(table, levels, machine)
    else:
        for role in ("input", "weight", "output"):
            fmt = plan.accumulator if role == "output" else plan.dtype
            entry = moved.setdefault(machine.buffer_for(role).name, [0, 0])
            entry[0] += nbytes(cost.reads.get(role, 0), fmt)
            entry[1] += nbytes(cost.writes.get(role, 0), fmt)
    ports = max(machine.components[b].access_cycles(r + w) for b, (r, w) in moved.items())
    datapath = cost.macs * (unit.energy_pj(f"mac_{plan.dtype}") + _pe_register_pj(machine, unit))
    memory = sum(
        r * machine.components[b].energy_pj("read") + w * machine.components[b].energy_pj("write")
        for b, (r, w) in moved.items()
    )
    return max(cost.cycles + refill, ports), datapath, memory


def _pe_register_pj(machine: Machine, unit) -> float:
    """The PE registers' energy per MAC, as the report adds it (register levels hold their own)."""
    key = ("pe_register_pj", unit.name)
    if key not in machine.derived:
        held = held_by_register_levels(machine.components, unit.name)
        ungated = not machine.arch.chip.clock_gating
        machine.derived[key] = pe_register_pj_per_mac(unit, held, ungated)
    return machine.derived[key]


def _op_cost(op, plan: GemmPlan, machine: Machine, work: _TileWork, order: list[str]) -> Cost:
    """Cycles: the first load, then compute overlapping the DRAM traffic between the first load
    and the last write-back (double buffering), then that write-back, plus one access latency.
    Energy: tiles + DRAM moves (reads, and writes at the output dtype, partial sums at the
    accumulator's) and their buffer side + the clock network's share of the on-die dynamic
    energy + the chip's static power over those cycles, as the report prices a run."""
    problem = {"M": op.M, "N": op.N, "K": op.K}
    moves = dma_moves(problem, plan.tile, order)
    dram = machine.dram
    loads = {role: nbytes(moves[role], plan.dtype) for role in ("input", "weight")}
    spills = nbytes(moves["spills"], plan.accumulator)
    stores = nbytes(moves["output"], plan.output)
    read, write = sum(loads.values()) + spills, stores + spills
    tile = plan.tile
    first = nbytes(tile["M"] * tile["K"], plan.dtype) + nbytes(tile["K"] * tile["N"], plan.dtype)
    last = nbytes(tile["M"] * tile["N"], plan.output)
    cycles = (
        dram.transfer_cycles(first)
        + max(work.cycles, dram.transfer_cycles(int(read + write - first - last)))
        + dram.transfer_cycles(last)
        + dram.latency_cycles
    )
    out = machine.buffer_for("output")  # DMA side: loads land in the buffers, stores leave them
    buffers = sum(
        port_bytes(machine.buffer_for(role), moves[role], plan.dtype)
        * machine.buffer_for(role).energy_pj("write")
        for role in ("input", "weight")
    )
    buffers += port_bytes(out, moves["spills"], plan.accumulator) * (
        out.energy_pj("write") + out.energy_pj("read")
    )
    buffers += port_bytes(out, moves["output"], plan.output) * out.energy_pj("read")
    share = clock_share()
    clock = (work.clocked_pj + buffers) * share / (1 - share)
    energy = work.energy_pj + buffers + clock
    energy += read * dram.energy_pj("read") + write * dram.energy_pj("write")
    energy += _static_mw(machine) * cycles / machine.clock_hz * PJ_PER_MW_S
    return Cost(cycles, energy, machine.clock_hz)


def _static_mw(machine: Machine) -> float:
    """The chip's always-on power, as the report's idle power sums it: leakage of every part, DRAM
    background, and on an ungated chip its clock tree and the PE registers' clock. Computed once
    per machine (building the parts of a many-core chip takes milliseconds)."""
    if "static_mw" not in machine.derived:
        machine.derived["static_mw"] = sum(part.static_mw for part in machine_parts(machine))
    return machine.derived["static_mw"]


def _rank(key: Callable[[Cost], float], cost: Cost, mapping: dict) -> tuple:
    """Objective first; ties go to the faster, then the cheaper, then `auto`, then a stable order."""
    return (key(cost), cost.cycles, cost.energy_pj, mapping != {}, repr(sorted(mapping.items())))


def _distinct(candidates: list[Candidate], count: int) -> list[Candidate]:
    """The first `count` candidates with different estimates (mirror images estimate the same)."""
    chosen, seen = [], set()
    for candidate in candidates:
        estimate = (candidate.estimate.cycles, candidate.estimate.energy_pj)
        if estimate not in seen:
            seen.add(estimate)
            chosen.append(candidate)
            if len(chosen) == count:
                break
    return chosen
