"""Area and power of a finished run: the energy table with the chip's parts added (per-PE registers,
clock network, leakage per area, SerDes, DRAM devices), breakdown tables, a power timeline and the
headline efficiency numbers (TOPS/W, TOPS/mm², EDP, energy per token)."""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np

from simulator.components.chip import (
    CHIP,
    DATAPATH_PART,
    OFF_DIE,
    UNGATED_PARTS,
    chip_parts,
    clock_share,
    datapath_part,
    instruction_issue_pj,
    issued_instructions,
    mma_made_access,
    mma_operand_bytes,
    mma_operand_pj_per_byte,
    mma_residual_pj_per_mac,
    mma_shape_at,
    not_counted,
    pe_register_pj_per_mac,
    register_roles,
    sm_active_pj_per_cycle,
)
from simulator.engine.counts import RunCounts
from simulator.report.sums import EnergySums, coded_sums
from simulator.report.templated import TemplatedRows

if TYPE_CHECKING:
    import pandas as pd

    from simulator.spec.arch import KernelsSpec

PJ_PER_MW_SECOND = 1e9  # 1 mW for 1 s = 1e9 pJ
STATIC = "(static)"
_OFF_DIE_ACTION = {"devices": "background", "refresh": "refresh"}  # DRAM devices' always-on parts
TIMELINE_BINS = 200  # slices of the power timeline (the peak power is its highest slice)
OWN_CLOCK = ("sm_active", "mma_residual")  # fitted to measured power: they hold their own clock
COLUMNS = ["op", "component", "part", "action", "count", "pj_per_count", "energy_pj", "on_die"]


def energy_rows(
    counts: dict, leakage: list[tuple], machine, parts: list, seconds: float, voltage_scale: float
) -> tuple[TemplatedRows, list[tuple]]:
    """The energy table's rows (COLUMNS): the datapath's counters ((op, component, action) ->
    count) priced by their components, then the `leakage` rows (op, component, action, count,
    pJ each, energy) and the chip's `parts` (machine_parts); and the clock network's rows
    computed from them. On-die dynamic energy scales with voltage_scale², on-die static power
    with it."""
    simt = machine.arch.cores.kernels if is_simt(machine) else None
    ungated = not machine.arch.chip.clock_gating
    rule = _Datapath(machine, voltage_scale, simt, ungated)
    templates = _Templates(rule)
    shaped: dict[object, np.ndarray] = {}  # a group's identity -> its counters' templates
    counted, shapes, statics = [], [], set()
    for op, token, rows in counter_groups(counts):
        shape = shaped.get(token) if token is not None else None
        if shape is None:
            shape = np.array([templates[(c, a, n, type(n))] for c, a, n in rows], np.int64)
            if token is not None:
                shaped[token] = shape
        counted.append(op)
        shapes.append(shape)
        if op == STATIC:
            statics = {name for name, action, _ in rows if action == "leakage"}
    lengths = np.array([len(shape) for shape in shapes], np.int64)
    shapes = np.concatenate(shapes) if shapes else np.zeros(0, np.int64)
    stated = {name for op, name, action, *_ in leakage if op == STATIC and action == "leakage"}
    stated |= statics
    extra = _datapath_rows(leakage, machine, voltage_scale, simt, ungated)
    extra += _static_rows(stated, machine, parts, seconds, voltage_scale)
    names = sorted({*counted, *(row[0] for row in extra)})
    rank = {op: i for i, op in enumerate(names)}
    codes = np.repeat(np.array([rank[op] for op in counted], np.int64), lengths)
    own = TemplatedRows(names, codes, shapes, templates.rows, extra)
    return own, _clock_rows(own, (*(UNGATED_PARTS if ungated else ()), *OWN_CLOCK))


def counter_groups(counts) -> list[tuple[str, object, list[tuple]]]:
    """The counters ((op, component, action) -> count) per op, ops sorted: (op, an identity
    shared by ops whose counters are one simulated run's repeated, else None, its (component,
    action, count) sorted); a memoized record's (`RunCounts`) without a dict entry per counter."""
    groups = counts.groups() if isinstance(counts, RunCounts) else None
    if groups is not None:
        return groups
    keys = sorted(counts)
    return [
        (op, None, [(c, a, counts[(op, c, a)]) for _, c, a in rows])
        for op, rows in groupby(keys, itemgetter(0))
    ]


def counted_actions(counts) -> set[str]:
    """Every counter's action ((op, component, action) -> count), a memoized record's
    (`RunCounts`) read from its runs."""
    if isinstance(counts, RunCounts):
        return counts.actions()
    return {key[-1] for key in counts}


def energy_table(own: list[tuple], clock: list[tuple]) -> pd.DataFrame:
    """The energy table of `energy_rows`: the chip's rows, then the clock network's."""
    import pandas as pd

    table = pd.DataFrame(own, columns=COLUMNS)
    return pd.concat([table, pd.DataFrame(clock, columns=COLUMNS)], ignore_index=True)


def energy_sums(own: TemplatedRows, clock: list[tuple]) -> EnergySums:
    """`EnergySums.from_rows` of the rows of `energy_rows`, from their columns."""
    rank = {op: i for i, op in enumerate(own.names)}  # every clock row's op has rows of its own
    codes = np.concatenate([own.codes, np.array([rank[r[0]] for r in clock], np.int64)])
    energy = np.concatenate([own.energy, np.array([float(r[6]) for r in clock], np.float64)])
    die = np.concatenate([own.on_die, np.array([bool(r[7]) for r in clock], bool)])
    return EnergySums.from_columns(own.names, codes, energy, die, STATIC)


def _datapath_rows(
    rows: list[tuple], machine, voltage_scale: float, simt: KernelsSpec | None, ungated: bool
) -> list[tuple]:
    """The datapath rows (`_Datapath`) of `rows` (op, component, action, count, pJ each,
    energy), each under its op."""
    rule = _Datapath(machine, voltage_scale, simt, ungated)
    return [
        (op, *row)
        for op, name, action, count, per, _ in rows
        for row in rule.rows(name, action, count, per)
    ]


class _Datapath:
    """The components' own rows, each tagged with its part, a PE-register row beside each MAC row
    (on an `ungated` chip its switching part only: the registers' internal power is static) and,
    where the chip sets its own `chip.mma_residual`, a residual row beside it; on GPU-like cores
    (`simt`: their kernels spec) the SIMT rows beside each core unit's work row; the register
    levels' accesses that the MMAs make themselves are left to those rows.
    What a row adds depends only on its component and action, so it is worked out once per pair
    (a many-core chip has a row per op, core and action), and its SIMT rows once per pair and
    count (a layer's ops repeat the counts of the layer before)."""

    def __init__(self, machine, voltage_scale: float, simt: KernelsSpec | None, ungated: bool):
        self.comps = machine.components
        self.voltage_scale, self.simt, self.ungated = voltage_scale, simt, ungated
        own = machine.arch.chip.mma_residual
        self.prices = _simt_prices(machine.arch.tech_node, voltage_scale) if simt else None
        self.own = None if own is None else own * voltage_scale**2  # pJ per issue slot
        self.held = register_roles(machine.components)  # array -> its register levels' roles
        self.facts: dict[tuple[str, str], tuple | None] = {}  # (component, action) -> _row_facts
        self.tails: dict[tuple, list[tuple]] = {}  # (component, action, count, type) -> SIMT
        self.priced: dict[tuple[str, str], float] = {}  # (component, action) -> pJ per count

    def price(self, name: str, action: str) -> float:
        """pJ per count of `action` on component `name`, as the component prices it."""
        per = self.priced.get((name, action))
        if per is None:
            per = self.priced[(name, action)] = self.comps[name].energy_pj(action)
        return per

    def rows(self, name: str, action: str, count, per: float) -> tuple[tuple, ...]:
        """The rows, less their op, that `count` of `action` on `name` at `per` pJ each adds."""
        key = (name, action)
        if key not in self.facts:
            self.facts[key] = _row_facts(
                self.comps,
                name,
                action,
                self.voltage_scale,
                self.held,
                self.ungated,
                self.own,
                self.prices,
                self.simt,
            )
        fact = self.facts[key]
        if fact is None:
            return ()
        part, scale, on_die, regs, residual, companions = fact
        out = [(name, part, action, count, per * scale, count * per * scale, on_die)]
        if regs:
            out.append((name, "pe_registers", "register_write", count, regs, count * regs, True))
        if residual:
            out.append((name, "mma_residual", "mac", count, residual, count * residual, True))
        if companions:
            tail = self.tails.get(counted := (name, action, count, type(count)))
            if tail is None:
                tail = self.tails[counted] = _simt_rows(count, companions)
            out.extend([(name, *row) for row in tail])
        return tuple(out)


class _Templates(dict):
    """(component, action, count, its type) -> position in `rows` of the rows such a counter
    adds (`_Datapath.rows` at the component's own price), made on first use."""

    def __init__(self, rule: _Datapath):
        super().__init__()
        self.rule = rule
        self.rows: list[tuple[tuple, ...]] = []

    def __missing__(self, key: tuple) -> int:
        name, action, count, _ = key
        self.rows.append(self.rule.rows(name, action, count, self.rule.price(name, action)))
        self[key] = len(self.rows) - 1
        return len(self.rows) - 1


def _row_facts(
    comps, name, action, voltage_scale, held, ungated, own, prices, simt
) -> tuple | None:
    """What a datapath row of `action` on component `name` adds: (part, voltage factor, on die,
    PE-register pJ per count, the chip's `own` residual per MAC (`own_residual`) where it is a MAC
    outside GPU-like cores, its SIMT companions' `_simt_companions`); None where the MMAs' own
    rows count it."""
    comp = comps[name]
    if prices and mma_made_access(comp, action):
        return None
    on_die = comp.kind not in OFF_DIE
    scale = (voltage_scale if action == "leakage" else voltage_scale**2) if on_die else 1.0
    regs = residual = 0.0
    if comp.kind == "systolic_array" and action.startswith("mac_"):
        regs = pe_register_pj_per_mac(comp, held.get(name, set()), ungated) * voltage_scale**2
        residual = own_residual(comp, action, own) if own is not None and not prices else 0.0
    companions = None
    if prices and on_die and "." in name:
        companions = _simt_companions(comp, action, prices, simt.mma_shape, own)
    return datapath_part(comp, action), scale, on_die, regs, residual, companions


def own_residual(comp, action: str, own: float) -> float:
    """pJ per MAC of `action` on array `comp` of an MMA residual of `own` pJ per issue slot (a
    chip's own `chip.mma_residual`, or on GPU-like cores the table's fitted one): a precision the
    array runs `rate` times faster carries `rate` MACs in the same instruction and operand bytes
    (CDNA 3's FP8 MFMA: twice the K of BF16's in the same 64-bit operands, at twice the rate), so
    it pays 1 / rate per MAC."""
    return own / comp.rate(action.removeprefix("mac_"))


def _simt_prices(node_nm: float, voltage_scale: float) -> dict[str, float]:
    """pJ per warp instruction issued (vector and MMA), per register-file byte read and written by
    an MMA, per busy SM cycle and per issue slot of the fitted MMA residual (a MAC at the array's
    base rate), at `node_nm` and the run's voltage."""
    read, write = mma_operand_pj_per_byte(node_nm)
    nominal = {
        "issue": instruction_issue_pj(node_nm, mma=False),
        "issue_mma": instruction_issue_pj(node_nm, mma=True),
        "rf_read": read,
        "rf_write": write,
        "busy_cycle": sm_active_pj_per_cycle(node_nm),
        "mma_residual": mma_residual_pj_per_mac(node_nm),
    }
    return {name: pj * voltage_scale**2 for name, pj in nominal.items()}


def _simt_companions(
    comp, action: str, prices: dict, mma_shape: tuple[int, ...], own: float | None
) -> tuple:
    """A GPU-like core unit's work rows' companions, per count of `action`: the warp instructions
    one count issues (issued_instructions of one count's divisor: 1 / that), their price, and for
    an MMA of `mma_shape` (m, n, k) the register-file bytes per instruction, the array's PEs and
    the prices of those bytes, of a busy SM cycle and of the residual per MAC: the chip's `own`
    or else the table's fitted one, either per issue slot (`own_residual`: the table's was fitted
    on Volta's fp16 HMMA, rate 1, and an fp8 or int8 MMA carries twice its MACs in the same
    operand registers, PTX's m16n8k32 beside f16's m16n8k16)."""
    mma = comp.kind == "systolic_array"
    price = prices["issue_mma" if mma else "issue"]
    if not mma:
        return comp, action, mma_shape, price, None
    dtype = action.removeprefix("mac_")
    shape = mma_shape_at(comp, dtype, mma_shape)
    read, written = mma_operand_bytes(comp, dtype, shape)
    pe_macs = comp.rows * comp.cols * comp.rate(dtype)  # MACs per busy SM cycle
    per_slot = prices["mma_residual"] if own is None else own
    residual = own_residual(comp, action, per_slot)
    return comp, action, shape, price, (read, written, pe_macs, prices, residual)


def _simt_rows(count: float, companions: tuple) -> list[tuple]:
    """A GPU-like core unit's work row's companions (`_simt_companions`), less their op and
    component: the warp instructions it issues and, for an MMA, the register-file bytes it
    moves, the cycles its SM is busy and its fitted residual per MAC."""
    comp, action, mma_shape, price, mma = companions
    issued = issued_instructions(comp, action, count, mma_shape)
    if not issued:
        return []
    rows = [("instruction_issue", "issue", issued, price)]
    if mma:
        read, written, pes, prices, residual = mma
        rows.append(("mma_operands", "rf_read", issued * read, prices["rf_read"]))
        rows.append(("mma_operands", "rf_write", issued * written, prices["rf_write"]))
        rows.append(("sm_active", "busy_cycle", count / pes, prices["busy_cycle"]))
        rows.append(("mma_residual", "mac", count, residual))
    return [(*row, row[2] * row[3], True) for row in rows]


def _static_rows(
    stated: set[str], machine, parts: list, seconds: float, voltage_scale: float
) -> list[tuple]:
    """Always-on power of every part whose component did not already state its leakage (the
    `stated` components)."""
    comps = machine.components
    out = []
    for part in parts:
        own_row = part.component in stated and part.part == DATAPATH_PART.get(
            comps[part.component].kind if part.component in comps else "", ""
        )
        if not part.static_mw or own_row:
            continue
        serdes = part.part.startswith("serdes")  # on its own I/O supply: DVFS leaves it alone
        # an ungated clock and the flip-flops it drives: dynamic power, C V² f
        clock = part.part in ("clock_network", "register_clock")
        scale = voltage_scale if part.on_die and not serdes else 1.0
        per_s = part.static_mw * PJ_PER_MW_SECOND * (scale * voltage_scale if clock else scale)
        action = (
            "link_idle"
            if serdes
            else "clock_ungated"
            if clock
            else ("leakage" if part.on_die else _OFF_DIE_ACTION.get(part.part, "background"))
        )
        row = (STATIC, part.component, part.part, action, seconds, per_s, per_s * seconds)
        out.append((*row, part.on_die))
    return out


def _clock_rows(own: TemplatedRows, unclocked: tuple[str, ...]) -> list[tuple]:
    """The clock network: per op, its share of the op's on-die dynamic energy, less the `unclocked`
    parts (an ungated clock's, which runs every cycle, and parts whose figure holds their clock),
    summed as pandas sums a float64 column per group, so the table is the one a groupby would give."""
    energy = own.energy
    clocked = own.on_die & own.column(lambda row: row[1] not in unclocked, bool)
    if STATIC in own.names:
        clocked &= own.codes != own.names.index(STATIC)
    sums = coded_sums(own.codes[clocked], own.names, [energy[clocked]])
    ratio = clock_share() / (1.0 - clock_share())
    return [
        (op, CHIP, "clock_network", "clock", float(e), ratio, float(e) * ratio, True)
        for op, (e,) in sums.items()
        if e
    ]


def is_simt(machine) -> bool:
    """Whether `machine`'s cores run GPU-like (SIMT) kernels: they carry SIMT control and issue."""
    return machine.arch.cores is not None and machine.arch.cores.kernels is not None


def machine_parts(machine) -> list:
    """The chip's parts of `machine`; cores that run GPU-like kernels carry SIMT control."""
    return chip_parts(
        machine.components, machine.arch.chip, machine.arch.tech_node, is_simt(machine)
    )


def area_table(parts: list) -> pd.DataFrame:
    """One row per (component, part): area in mm² and always-on power in mW; die parts first."""
    import pandas as pd

    rows = [(p.component, p.part, p.area_mm2, p.static_mw, p.on_die) for p in parts]
    return pd.DataFrame(rows, columns=["component", "part", "area_mm2", "static_mw", "on_die"])


def area_sums(parts: list) -> tuple[float, float]:
    """Die area and datapath area (mm²), summed as pandas sums the area table's column."""
    areas = np.array([p.area_mm2 for p in parts])
    die = np.array([bool(p.on_die) for p in parts], dtype=bool)
    datapath = np.array([p.part in DATAPATH_PART.values() for p in parts], dtype=bool)
    return float(areas[die].sum()), float(areas[datapath].sum())


def breakdown(energy: pd.DataFrame, area: pd.DataFrame, seconds: float) -> pd.DataFrame:
    """Component × part: area (mm²), energy (pJ) and average power (W) over the run."""
    by = energy.groupby(["component", "part"], sort=True)["energy_pj"].sum().rename("energy_pj")
    table = area.groupby(["component", "part"], sort=True)["area_mm2"].sum().to_frame()
    table = table.join(by, how="outer").fillna(0.0).reset_index()
    table["power_w"] = table.energy_pj * 1e-12 / seconds if seconds else 0.0
    return table


def timeline(
    energy: EnergySums,
    spans: dict[str, tuple[int, int]],
    cycles: int,
    clock_hz: float,
    bins: int = TIMELINE_BINS,
) -> pd.DataFrame:
    """Power over the run in `bins` equal slices: each op's dynamic energy spread evenly over its span
    (first load to last store), plus the static power; columns start_s, end_s, dynamic_w, static_w, power_w."""
    import pandas as pd

    edges, dyn_w, static_w = timeline_arrays(energy, spans, cycles, clock_hz, bins)
    return pd.DataFrame(
        {
            "start_s": edges[:-1] / clock_hz,
            "end_s": edges[1:] / clock_hz,
            "dynamic_w": dyn_w,
            "static_w": static_w,
            "power_w": dyn_w + static_w,
        }
    )


def timeline_arrays(
    energy: EnergySums, spans: dict[str, tuple[int, int]], cycles: int, clock_hz: float, bins: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """The timeline's slice edges (cycles), dynamic power per slice (W) and static power (W).
    Each op's energy is spread over the slices its span overlaps, added to each slice op by op
    in order; a slice it does not overlap gains ±0.0, which leaves a sum that starts at +0.0
    unchanged, so only the slices an op's span reaches are added (every slice where its energy
    is not finite: there 0 x energy is NaN)."""
    count = max(1, min(bins, cycles))
    edges = np.linspace(0.0, cycles, count + 1)
    dynamic = np.zeros(count)
    ops = energy.dynamic_by_op
    if ops:
        pj = np.fromiter(ops.values(), np.float64, len(ops))
        start, end = np.array([spans.get(op, (0, cycles)) for op in ops]).T
        end = np.where(end <= start, start + 1, end)
        first = np.clip(np.searchsorted(edges, start, "right") - 2, 0, count)  # a slice early
        last = np.clip(np.searchsorted(edges, end, "left") + 1, 0, count)  # a slice late
        whole = ~np.isfinite(pj)
        first[whole], last[whole] = 0, count
        reach = np.maximum(last - first, 0)
        op = np.repeat(np.arange(len(pj)), reach)
        ends = np.cumsum(reach)
        slices = np.repeat(first - (ends - reach), reach) + np.arange(int(ends[-1]))
        high = np.minimum(edges[1:][slices], end[op])
        overlap = np.clip(high - np.maximum(edges[:-1][slices], start[op]), 0, None)
        np.add.at(dynamic, slices, pj[op] * overlap / (end[op] - start[op]))  # in order
    width_s = np.diff(edges) / clock_hz
    static_w = energy.static * 1e-12 / (cycles / clock_hz) if cycles else 0.0
    return edges, dynamic * 1e-12 / width_s, static_w


def power_summary(
    energy: EnergySums,
    area: tuple[float, float],
    peak_w: float,
    seconds: float,
    macs: int,
    peak_macs_per_s: float,
    tokens: int | None,
) -> dict:
    """Headline power, area and efficiency numbers of a run; `area` is (die, datapath) mm²
    (`area_sums`), `peak_w` the timeline's highest slice."""
    joules = energy.total * 1e-12
    die_area, datapath_area = area
    achieved_tops = 2 * macs / seconds * 1e-12 if seconds else 0.0
    power = joules / seconds if seconds else 0.0
    die_w = energy.on_die * 1e-12 / seconds if seconds else 0.0
    view = {
        "power_w": float(power),
        "die_power_w": float(die_w),
        "dram_power_w": float(power - die_w),  # DRAM accesses and the devices' background
        "peak_power_w": float(peak_w),
        "idle_power_w": float(energy.static * 1e-12 / seconds) if seconds else 0.0,
        "die_area_mm2": die_area,
        "datapath_area_mm2": datapath_area,
        "achieved_tops": achieved_tops,
        "peak_tops": 2 * peak_macs_per_s * 1e-12,
        "tops_per_w": float(achieved_tops / power) if power else 0.0,
        "peak_tops_per_mm2": 2 * peak_macs_per_s * 1e-12 / die_area if die_area else 0.0,
        "edp_js": float(joules * seconds),
        "not_counted": sorted(not_counted()),
    }
    if tokens:
        view["energy_per_token_j"] = float(joules / tokens)
    return view
