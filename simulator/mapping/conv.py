"""Compile one conv2d op into SRAM tiles over its own loop nest (not an im2col GEMM in DRAM).

A tile is (batch n, groups g, filters k, output rows p, output cols q, channels c). Its input is
the window of the feature map those outputs read (halo included, padding never stored), so DRAM
carries the real feature map. On a systolic array each tile runs as the GEMM the array sees,
M = n p q output pixels, N = k filters, K = c R S taps, with the dataflow's spatial dims (os: pixels
x filters, ws: taps x filters, is: taps x pixels); a depthwise block runs its groups one after
another. A unit without an array (the fallback vector unit or host CPU) does one mul + add per MAC.
Loop order n, g, k, p, q, c: channels innermost, so each output tile stays in SRAM until complete.
"""

import dataclasses
import itertools
import math
from dataclasses import dataclass

from simulator.components import Machine
from simulator.errors import CapacityError, UnsupportedError
from simulator.mapping.conv_levels import choose_nest, conv_levels, gemm_tile, tile_traffic
from simulator.mapping.gemm import resolve_unit
from simulator.mapping.host import fallback_reason
from simulator.mapping.program import Compute, OpProgram, Step, StepCount, Transfer, bind
from simulator.mapping.ranges import split, tile_ranges
from simulator.numerics.conv import ConvNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.workload import ConvOpSpec

DIMS = ("n", "g", "k", "p", "q", "c")  # loop order, outermost first


@dataclass(frozen=True)
class ConvPlan:
    """A resolved conv mapping: the unit, its dataflow, and tile sizes per loop dim."""

    unit: str
    dataflow: str | None  # None: a vector / CPU unit, no array dataflow
    spatial: tuple[str, str] | None
    tile: dict[str, int]
    double_buffering: bool
    accounting: str
    accumulator: str
    fallback_reason: str | None  # why the op is not on an array (None: it is)
    part: dict[str, tuple[int, int]] | None = None  # a core's ranges of g, k, p (None: all)
    nest: tuple[tuple[str, int], ...] = ()  # the array's loops in a tile's GEMM (): fold nest


def _ranges(op: ConvOpSpec, part: dict[str, tuple[int, int]] | None) -> dict[str, tuple[int, int]]:
    """Each loop dim's range: the whole layer, or the part of it one core runs."""
    whole = {
        "n": (0, op.N),
        "g": (0, op.groups),
        "k": (0, op.K // op.groups),
        "p": (0, op.P),
        "q": (0, op.Q),
        "c": (0, op.C // op.groups),
    }
    return whole | (part or {})


def _extent(op: ConvOpSpec, part=None) -> dict[str, int]:
    return {d: hi - lo for d, (lo, hi) in _ranges(op, part).items()}


def _span(lo: int, hi: int, stride: int, reach: int, pad: int, size: int) -> tuple[int, int]:
    """Input rows (or cols) read by outputs lo..hi-1, clipped to the stored (unpadded) map."""
    first = max(0, lo * stride - pad)
    return first, max(first, min(size, (hi - 1) * stride - pad + reach))  # empty: all padding


def footprint(op: ConvOpSpec, tile: dict[str, int], plan_like, machine: Machine) -> dict[str, int]:
    """Buffer bytes of one tile of each operand, per buffer (x2 when double-buffered)."""
    reach_h, reach_w = (op.R - 1) * op.dilation + 1, (op.S - 1) * op.dilation + 1
    rows = min(op.H + 2 * op.padding, (tile["p"] - 1) * op.stride + reach_h)
    cols = min(op.W + 2 * op.padding, (tile["q"] - 1) * op.stride + reach_w)
    sizes = {
        "input": nbytes(tile["n"] * tile["g"] * tile["c"] * rows * cols, op.dtype),
        "weight": nbytes(tile["g"] * tile["k"] * tile["c"] * op.R * op.S, op.dtype),
        "output": nbytes(
            tile["n"] * tile["g"] * tile["k"] * tile["p"] * tile["q"], plan_like.accumulator
        ),
    }
    factor = 2 if plan_like.double_buffering else 1
    used: dict[str, int] = {}
    for role, size in sizes.items():
        name = machine.buffer_for(role).name
        used[name] = used.get(name, 0) + factor * size
    return used


# which dims to halve, in order, when an operand's tile is the largest one that does not fit
_SHRINK = {
    "output": ("g", "p", "q", "k", "n"),
    "input": ("g", "p", "c", "q", "n"),
    "weight": ("g", "c", "k"),
}


def choose_tile(op: ConvOpSpec, plan_like, machine: Machine, where: str) -> dict[str, int]:
    """The largest tile that fits: start from the whole layer (every group in one block) and halve
    a dim of the biggest operand until every buffer holds its tiles."""
    tile = _extent(op, plan_like.part)
    while True:
        used = footprint(op, tile, plan_like, machine)
        over = [n for n, b in used.items() if b > machine.components[n].capacity_bytes]
        if not over:
            return tile
        sizes = {
            "input": tile["c"] * tile["p"] * tile["q"] * op.stride**2,
            "weight": tile["k"] * tile["c"] * op.R * op.S,
            "output": tile["k"] * tile["p"] * tile["q"],
        }
        for role in sorted(sizes, key=sizes.get, reverse=True):
            dim = next((d for d in _SHRINK[role] if tile[d] > 1), None)
            if dim is not None:
                tile[dim] = math.ceil(tile[dim] / 2)
                break
        else:
            raise CapacityError(
                f"{where}: one output pixel of {op.name} with one channel needs "
                f"{used[over[0]]:,} B in {over[0]}, which holds "
                f"{int(machine.components[over[0]].capacity_bytes):,} B"
            )


def plan_conv(
    op: ConvOpSpec, mapping: MappingSpec, machine: Machine, where: str, part=None
) -> ConvPlan:
    """Place the conv (or a core's `part` of it) on a systolic array, or on the arch's fallback
    unit with the reason why."""
    if mapping.tile or mapping.loop_order:  # GEMM dims: never silently ignored on a conv
        raise UnsupportedError(
            f"{where}: {op.name} (conv2d) is tiled over its own loop nest, chosen automatically; "
            "mapping.tile and mapping.loop_order name GEMM dims (M, N, K): leave them out"
        )
    reason = None
    try:
        unit, dataflow, spatial = resolve_unit(op, mapping, machine)
        if op.depthwise and op.groups > 1 and not unit.spec.depthwise:
            raise UnsupportedError(
                f"{unit.name} (systolic_array) cannot run {op.name}: depthwise convolution "
                "(depthwise: false)"
            )
    except UnsupportedError as error:
        fallback = machine.arch.fallback
        if not fallback or machine.components[fallback].kind != "vector":
            raise  # no fallback, or the host CPU's (the program compiler places the op there)
        reason = fallback_reason(op, error, machine)
        unit = machine.components[machine.arch.fallback]
        dataflow = spatial = None
    accumulator = unit.accumulator(op.dtype) if dataflow else "fp32"
    shell = ConvPlan(  # everything but the tile, which is sized from it
        unit.name,
        dataflow,
        spatial,
        {},
        mapping.double_buffering,
        mapping.accounting,
        accumulator,
        reason,
        part,
    )
    plan = dataclasses.replace(shell, tile=choose_tile(op, shell, machine, where))
    return dataclasses.replace(plan, nest=choose_nest(op, plan, mapping, machine))


def compile_conv(
    op: ConvOpSpec,
    plan: ConvPlan,
    machine: Machine,
    numerics: ConvNumerics | None,
    core: int = 0,
) -> OpProgram:
    """The OpProgram of one conv layer (or, with plan.part, core `core`'s part) under a plan."""
    extent = _extent(op, plan.part)
    macs = math.prod(extent.values()) * op.R * op.S
    details = {
        "unit": plan.unit,
        "dataflow": plan.dataflow or "-",
        "spatial": "/".join(plan.spatial) if plan.spatial else "-",
        "tile": dict(plan.tile),
        "loop_order": "".join(DIMS),
        "double_buffering": plan.double_buffering,
        "dtype": op.dtype,
        "accumulator": plan.accumulator,
        "fallback": plan.fallback_reason is not None,
        "fallback_reason": plan.fallback_reason or "",
        "part": dict(plan.part or {}),  # the loop-dim range(s) this core runs
        "nest": " ".join(f"{d}{n}" for d, n in plan.nest),
    }

    def steps():
        return _steps(op, plan, machine, numerics)

    return OpProgram(
        name=f"{op.name}@c{core}" if plan.part else op.name,
        kind="conv2d",
        steps=steps,
        step_count=StepCount(steps, lambda: tile_count(op, plan)),
        macs=macs,
        flops=2 * macs,
        unit=plan.unit,
        double_buffering=plan.double_buffering,
        barrier=False,
        depends_on=() if plan.part else tuple(op.inputs),
        core=core,
        group=op.name,
        details=details,
    )


def tile_count(op: ConvOpSpec, plan: ConvPlan) -> int:
    """The steps `_steps` makes: one per tile of its loop nest, each dim's extent in ceil(extent
    / tile) chunks (`tile_ranges`)."""
    return math.prod(
        -(-(hi - lo) // plan.tile[d]) for d, (lo, hi) in _ranges(op, plan.part).items()
    )


def _cost(op: ConvOpSpec, plan: ConvPlan, unit, size: dict[str, int], first: bool):
    """(cycles, macs, {role: (elements read, written)}, the array's TileCost of one group or
    None) of one tile on its unit."""
    macs = size["n"] * size["g"] * size["k"] * size["p"] * size["q"] * size["c"] * op.R * op.S
    if plan.dataflow is None:  # vector unit or CPU: a multiply and an add per MAC
        return unit.cycles({"mul": macs, "add": macs}), macs, {}, None
    one = unit.tile_cost(
        gemm_tile(op, size), plan.spatial, plan.dataflow, plan.accounting, first, dtype=op.dtype
    )
    g = size["g"]  # the groups of a depthwise block run one after another
    access = {
        role: (g * one.reads.get(role, 0), g * one.writes.get(role, 0))
        for role in ("input", "weight", "output")
    }
    return g * one.cycles, g * one.macs, access, one


def _steps(op: ConvOpSpec, plan: ConvPlan, machine: Machine, numerics: ConvNumerics | None):
    """Walk the tile loop nest; a tile is loaded when its index changes and freed when it is left."""
    unit = machine.components[plan.unit]
    buffers = {role: machine.buffer_for(role).name for role in ("input", "weight", "output")}
    ranges = _ranges(op, plan.part)
    chunks = {d: tile_ranges(*ranges[d], plan.tile[d]) for d in DIMS}
    cg, kg = op.C // op.groups, op.K // op.groups
    reach_h, reach_w = (op.R - 1) * op.dilation + 1, (op.S - 1) * op.dilation + 1
    keys = {
        "input": ("n", "g", "p", "q", "c"),
        "weight": ("g", "c", "k"),
        "output": ("n", "g", "k", "p", "q"),
    }
    last_c = len(chunks["c"]) - 1
    levels = conv_levels(op, plan, machine)
    indices = itertools.product(*(range(len(chunks[d])) for d in DIMS))
    upcoming = next(indices, None)
    resident: dict[str, tuple] = {}
    while upcoming is not None:
        at = dict(zip(DIMS, upcoming))
        upcoming = next(indices, None)
        nxt = dict(zip(DIMS, upcoming)) if upcoming is not None else None
        r = {d: chunks[d][at[d]] for d in DIMS}
        size = {d: hi - lo for d, (lo, hi) in r.items()}
        (n0, n1), (g0, g1), (k0, k1), (c0, c1) = r["n"], r["g"], r["k"], r["c"]
        channels = (g0 * cg + c0, (g1 - 1) * cg + c1)
        filters = (g0 * kg + k0, (g1 - 1) * kg + k1)
        h = _span(*r["p"], op.stride, reach_h, op.padding, op.H)
        w = _span(*r["q"], op.stride, reach_w, op.padding, op.W)
        regions = {
            "input": ((n0, n1), channels, h, w),
            "weight": (filters, (c0, c1)),
            "output": ((n0, n1), filters, r["p"], r["q"]),
        }
        elements = {
            "input": size["n"] * (channels[1] - channels[0]) * (h[1] - h[0]) * (w[1] - w[0]),
            "weight": (filters[1] - filters[0]) * size["c"] * op.R * op.S,
            "output": size["n"] * (filters[1] - filters[0]) * size["p"] * size["q"],
        }
        tensor = {"input": f"{op.name}.X", "weight": f"{op.name}.W", "output": f"{op.name}.Y"}
        loads = []
        for role in ("input", "weight"):
            key = tuple(at[d] for d in keys[role])
            if resident.get(role) != key:
                nb = nbytes(elements[role], op.dtype)
                loads.append(Transfer("load", tensor[role], regions[role], buffers[role], nb, nb))
                resident[role] = key
        out_key = tuple(at[d] for d in keys["output"])
        acc_bytes = nbytes(elements["output"], plan.accumulator)
        if resident.get("output") != out_key:
            loads.append(
                Transfer(
                    "alloc", tensor["output"], regions["output"], buffers["output"], 0, acc_bytes
                )
            )
            resident["output"] = out_key
        cycles, macs, access, one = _cost(op, plan, unit, size, at["c"] == 0)
        refill = 0
        if levels is not None:  # register levels or local SRAMs: the per-level counts
            cycles, sram_traffic, refill = tile_traffic(
                levels, machine, gemm_tile(op, size), at["c"] == 0, one, size["g"]
            )
        else:
            traffic: dict[str, list[int]] = {}
            for role, (reads, writes) in access.items():
                fmt = plan.accumulator if role == "output" else op.dtype
                entry = traffic.setdefault(buffers[role], [0, 0])
                entry[0] += nbytes(reads, fmt)
                entry[1] += nbytes(writes, fmt)
            sram_traffic = tuple((b, rd, wr) for b, (rd, wr) in traffic.items())
        kernel = None
        if numerics is not None:
            kernel = bind(numerics.tile, r["n"], filters, r["p"], r["q"], r["c"])
        work_action = f"mac_{op.dtype}" if plan.dataflow else None
        work = ((work_action, macs),) if work_action else (("mul", macs), ("add", macs))
        compute = Compute(
            unit=plan.unit,
            cycles=cycles,
            work=work,
            macs=macs,
            sram_traffic=sram_traffic,
            regions={"X": regions["input"], "W": regions["weight"], "Y": regions["output"]},
            kernel=kernel,
            refill=refill,
        )
        frees, stores = [], []
        for role in ("input", "weight"):
            if nxt is None or tuple(nxt[d] for d in keys[role]) != resident[role]:
                frees.append((buffers[role], nbytes(elements[role], op.dtype)))
                resident.pop(role)
        if nxt is None or tuple(nxt[d] for d in keys["output"]) != out_key:
            assert at["c"] == last_c  # channels are innermost: an output tile leaves complete
            out_bytes = nbytes(elements["output"], op.dtype)  # requantized on the way out
            stores.append(
                Transfer(
                    "store",
                    tensor["output"],
                    regions["output"],
                    buffers["output"],
                    out_bytes,
                    acc_bytes,
                )
            )
            resident.pop("output")
        yield Step(tuple(loads), (compute,), tuple(stores), tuple(frees))


def conv_parts(
    op: ConvOpSpec, mapping: MappingSpec, machine: Machine, cores: int, numerics, where: str
) -> list[OpProgram]:
    """A conv split over `cores` (each part planned and run on its own core's view, all filling
    the one `numerics`) by channel groups, output rows or filters (groups=1 only: a tile of
    several groups holds whole groups): the split whose estimated time is least, the larger of
    its biggest part's MACs at the core's peak and its DRAM bytes, duplicates included (rows:
    every core loads the weights; filters: every core loads the input), at DRAM bandwidth."""
    whole = _ranges(op, None)
    weights, inputs = op.K * (op.C // op.groups) * op.R * op.S, op.N * op.C * op.H * op.W
    outputs = op.N * op.K * op.P * op.Q
    options = {"p": weights} | ({"k": inputs} if op.groups == 1 else {"g": 0})
    units = machine.view(0).compute_units.values()
    peak = max(c.peak_macs_per_cycle * c.rate(op.dtype) for c in units)

    def estimate(dim: str) -> tuple[float, int]:
        spans = split(whole[dim][1], cores)
        biggest = max(hi - lo for lo, hi in spans) / whole[dim][1] * op.macs
        loaded = nbytes(inputs + weights + outputs + (len(spans) - 1) * options[dim], op.dtype)
        return max(biggest / peak, loaded / machine.dram.bytes_per_cycle), options[dim]

    dim = min(options, key=estimate)
    parts = []
    for core, span in enumerate(split(whole[dim][1], cores)):
        view = machine.view(core)
        plan = plan_conv(op, mapping, view, where, part={dim: span})
        parts.append(compile_conv(op, plan, view, numerics, core=core))
    return parts
