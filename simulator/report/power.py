"""Area and power of a finished run: the energy table with the chip's parts added (per-PE registers,
clock network, leakage per area, SerDes, DRAM devices), breakdown tables, a power timeline and the
headline efficiency numbers (TOPS/W, TOPS/mm², EDP, energy per token)."""

import numpy as np
import pandas as pd

from simulator.components.chip import (
    CHIP,
    DATAPATH_PART,
    OFF_DIE,
    chip_parts,
    clock_share,
    held_by_register_levels,
    not_counted,
    pe_register_pj_per_mac,
)

PJ_PER_MW_SECOND = 1e9  # 1 mW for 1 s = 1e9 pJ
STATIC = "(static)"
_OFF_DIE_ACTION = {"devices": "background", "refresh": "refresh"}  # DRAM devices' always-on parts
COLUMNS = ["op", "component", "part", "action", "count", "pj_per_count", "energy_pj", "on_die"]


def energy_table(rows: list[tuple], machine, seconds: float, voltage_scale: float) -> pd.DataFrame:
    """`rows` (op, component, action, count, pJ each, energy: the datapath's own accounting) plus the
    chip's parts. On-die dynamic energy scales with voltage_scale², on-die static power with it."""
    table = pd.DataFrame(
        _datapath_rows(rows, machine.components, voltage_scale)
        + _static_rows(rows, machine, seconds, voltage_scale),
        columns=COLUMNS,
    )
    return pd.concat([table, _clock_rows(table)], ignore_index=True)


def _datapath_rows(rows: list[tuple], comps: dict, voltage_scale: float) -> list[tuple]:
    """The components' own rows, each tagged with its part, and a PE-register row beside each MAC row."""
    out = []
    for op, name, action, count, per, _ in rows:
        comp = comps[name]
        on_die = comp.kind not in OFF_DIE
        scale = (voltage_scale if action == "leakage" else voltage_scale**2) if on_die else 1.0
        part = DATAPATH_PART.get(comp.kind, comp.kind)
        out.append((op, name, part, action, count, per * scale, count * per * scale, on_die))
        if comp.kind == "systolic_array" and action.startswith("mac_"):
            held = held_by_register_levels(comps, name)
            regs = pe_register_pj_per_mac(comp, held) * voltage_scale**2
            if regs:
                row = (op, name, "pe_registers", "register_write", count, regs, count * regs)
                out.append((*row, True))
    return out


def _static_rows(rows: list[tuple], machine, seconds: float, voltage_scale: float) -> list[tuple]:
    """Always-on power of every part whose component did not already state its leakage."""
    comps = machine.components
    stated = {name for op, name, action, *_ in rows if op == STATIC and action == "leakage"}
    out = []
    for part in machine_parts(machine):
        own_row = part.component in stated and part.part == DATAPATH_PART.get(
            comps[part.component].kind if part.component in comps else "", ""
        )
        if not part.static_mw or own_row:
            continue
        serdes = part.part.startswith("serdes")  # on its own I/O supply: DVFS leaves it alone
        scale = voltage_scale if part.on_die and not serdes else 1.0
        per_s = part.static_mw * PJ_PER_MW_SECOND * scale
        action = (
            "link_idle"
            if serdes
            else ("leakage" if part.on_die else _OFF_DIE_ACTION.get(part.part, "background"))
        )
        row = (STATIC, part.component, part.part, action, seconds, per_s, per_s * seconds)
        out.append((*row, part.on_die))
    return out


def _clock_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The clock network: per op, its share of the op's on-die dynamic energy."""
    clocked = table[table.on_die & (table.op != STATIC)].groupby("op", sort=True)["energy_pj"].sum()
    ratio = clock_share() / (1.0 - clock_share())
    rows = [
        (op, CHIP, "clock_network", "clock", float(e), ratio, float(e) * ratio, True)
        for op, e in clocked.items()
        if e
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def machine_parts(machine) -> list:
    """The chip's parts of `machine`; cores that run GPU-like kernels carry SIMT control."""
    simt = machine.arch.cores is not None and machine.arch.cores.kernels is not None
    return chip_parts(machine.components, machine.arch.chip, machine.arch.tech_node, simt)


def area_table(machine) -> pd.DataFrame:
    """One row per (component, part): area in mm² and always-on power in mW; die parts first."""
    parts = machine_parts(machine)
    rows = [(p.component, p.part, p.area_mm2, p.static_mw, p.on_die) for p in parts]
    return pd.DataFrame(rows, columns=["component", "part", "area_mm2", "static_mw", "on_die"])


def breakdown(energy: pd.DataFrame, area: pd.DataFrame, seconds: float) -> pd.DataFrame:
    """Component × part: area (mm²), energy (pJ) and average power (W) over the run."""
    by = energy.groupby(["component", "part"], sort=True)["energy_pj"].sum().rename("energy_pj")
    table = area.groupby(["component", "part"], sort=True)["area_mm2"].sum().to_frame()
    table = table.join(by, how="outer").fillna(0.0).reset_index()
    table["power_w"] = table.energy_pj * 1e-12 / seconds if seconds else 0.0
    return table


def timeline(
    energy: pd.DataFrame,
    spans: dict[str, tuple[int, int]],
    cycles: int,
    clock_hz: float,
    bins: int = 200,
) -> pd.DataFrame:
    """Power over the run in `bins` equal slices: each op's dynamic energy spread evenly over its span
    (first load to last store), plus the static power; columns start_s, end_s, dynamic_w, static_w, power_w."""
    count = max(1, min(bins, cycles))
    edges = np.linspace(0.0, cycles, count + 1)
    dynamic = np.zeros(count)
    per_op = energy[energy.op != STATIC].groupby("op")["energy_pj"].sum()
    for op, pj in per_op.items():
        start, end = spans.get(op, (0, cycles))
        if end <= start:
            end = start + 1
        overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], start), 0, None)
        dynamic += pj * overlap / (end - start)
    width_s = np.diff(edges) / clock_hz
    static_w = (
        energy[energy.op == STATIC].energy_pj.sum() * 1e-12 / (cycles / clock_hz) if cycles else 0.0
    )
    dyn_w = dynamic * 1e-12 / width_s
    return pd.DataFrame(
        {
            "start_s": edges[:-1] / clock_hz,
            "end_s": edges[1:] / clock_hz,
            "dynamic_w": dyn_w,
            "static_w": static_w,
            "power_w": dyn_w + static_w,
        }
    )


def power_summary(
    energy: pd.DataFrame,
    area: pd.DataFrame,
    line: pd.DataFrame,
    seconds: float,
    macs: int,
    peak_macs_per_s: float,
    tokens: int | None,
) -> dict:
    """Headline power, area and efficiency numbers of a run."""
    joules = energy.energy_pj.sum() * 1e-12
    die = energy[energy.on_die]
    die_area = float(area[area.on_die].area_mm2.sum())
    static = energy[energy.op == STATIC]
    achieved_tops = 2 * macs / seconds * 1e-12 if seconds else 0.0
    power = joules / seconds if seconds else 0.0
    die_w = die.energy_pj.sum() * 1e-12 / seconds if seconds else 0.0
    view = {
        "power_w": float(power),
        "die_power_w": float(die_w),
        "dram_power_w": float(power - die_w),  # DRAM accesses and the devices' background
        "peak_power_w": float(line.power_w.max()) if len(line) else float(power),
        "idle_power_w": float(static.energy_pj.sum() * 1e-12 / seconds) if seconds else 0.0,
        "die_area_mm2": die_area,
        "datapath_area_mm2": float(
            area[area.part.isin(list(DATAPATH_PART.values()))].area_mm2.sum()
        ),
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
