"""accsim against ZigZag 3.9.1 on its bundled tpu_like and eyeriss_like accelerators: per-level
energy and latency.

Reads tests/data/zigzag_golden.json (made by benchmarks/make_zigzag_golden.py with the real ZigZag),
rebuilds each case's loop nest in accsim's closed form with the zigzag-tpu-like preset's energies,
and prints one table per case; then runs `accsim run zigzag-tpu-like` on the 512^3 GEMM (the
engine, folds equal to the ws-folds case) and compares its per-level energy and cycles. Last,
ZigZag's eyeriss_like (tests/data/zigzag_eyeriss_golden.json; four output levels, one of them a
local SRAM of the array) against the nest counted with tests/data/zigzag-eyeriss-like.yaml, and
the engine's cycles on the two eyeriss_like cases that force accsim's fold nest against ZigZag's
latency, each split into its terms (tests/mapping/zigzag_cases.py derives them; the tests assert them).
Then ZigZag's generic_array_cacti (tests/data/zigzag_generic_golden.json) against the nest counted
with tests/data/zigzag-generic-array.yaml. Those tables charge the data moved (the default
accounting); the last one counts every golden case under `accounting: zigzag`: its cells whose
port words equal ZigZag's, and the memories' energy in closed form and on the engine.

    python benchmarks/vs_zigzag.py
"""

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulator import simulate
from simulator.components import build_machine
from simulator.mapping.nest import count
from simulator.spec import load_arch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.mapping
from simulator.mapping.zigzag_words import word_bytes  # noqa: E402
from tests.mapping.zigzag_cases import (  # noqa: E402
    CASES,
    DEFAULTS,
    DIRECTION,
    EYERISS_ARCH,
    EYERISS_CASES,
    EYERISS_ENGINE,
    GENERIC_ARCH,
    GENERIC_CASES,
    TPU,
    counted_pj,
    engine_mappings,
    engine_run,
    formats,
    generic_cells,
    golden_nest,
    latency_terms,
    level_energy,
    nest_words,
    own_mapping_terms,
    run_default,
    run_golden,
    tpu_format,
)
from tests.mapping.zigzag_names import EYERISS_LEVEL, GENERIC_LEVEL, TPU_LEVEL  # noqa: E402


def _case_table(case_id: str, machine) -> Table:
    case = CASES[case_id]
    zigzag = case["zigzag"]
    nest = golden_nest(case, machine, TPU_LEVEL)
    view = Table(title=f"{case_id}: energy per level (pJ)")
    for column in ("operand", "level", "accsim", "ZigZag", "diff"):
        view.add_column(column, justify="right")
    total = zigzag["mac_energy_pj"]
    for role, levels in nest.levels.items():
        moves = count(nest, role)
        for i, (level, golden) in enumerate(zip(levels, zigzag["levels"][role])):
            mine = sum(
                level_energy(
                    machine,
                    level.name,
                    direction,
                    getattr(moves[i], direction),
                    tpu_format(role, direction, moves, i),
                )
                for direction in DIRECTION.values()
            )
            theirs = sum(golden["energy_pj"].values())
            total += mine
            view.add_row(role, level.name, f"{mine:,.0f}", f"{theirs:,.0f}", _diff(mine, theirs))
    return _with_total(view, total, zigzag["energy_total_pj"])


CHIP_PARTS = ("clock_network", "pe_registers")
"""Parts of accsim's chip model (report/power.py) beyond what ZigZag's cost model has."""


def _with_total(view: Table, mine: float, theirs: float) -> Table:
    """The table with its last row: both totals and their difference."""
    view.add_row("all", "total", f"{mine:,.0f}", f"{theirs:,.0f}", _diff(mine, theirs))
    return view


def _diff(mine: float, theirs: float) -> str:
    """The relative difference in percent; a float sum's last-bit residue prints as +0.00 %."""
    return f"{round((mine - theirs) / theirs, 9) + 0.0:+.2%}" if theirs else "-"


def _engine_table() -> Table:
    report = simulate(
        "zigzag-tpu-like",
        "gemm:M=512,N=512,K=512,dtype=int8,output_dtype=int8",
        {"loop_order": ["M", "N", "K"], "tile": {"M": 512, "N": 512, "K": 32}},
        numerics=False,
    )
    mine = report.levels.groupby(["level", "operand"])["energy_pj"].sum()
    view = Table(title="accsim run zigzag-tpu-like gemm 512^3 int8 -> int8 vs ZigZag ws-folds")
    for column in ("operand", "level", "accsim", "ZigZag", "diff"):
        view.add_column(column, justify="right")
    for case_id in ("gemm512-ws-folds",):
        zigzag = CASES[case_id]["zigzag"]
        for role, levels in zigzag["levels"].items():
            for level in levels:
                value = mine[(TPU_LEVEL[level["memory"]], role)]
                theirs = sum(level["energy_pj"].values())
                view.add_row(
                    role,
                    TPU_LEVEL[level["memory"]],
                    f"{value:,.0f}",
                    f"{theirs:,.0f}",
                    _diff(value, theirs),
                )
        modelled = ~report.energy.part.isin(CHIP_PARTS)  # ZigZag counts MACs and memories only
        total = report.energy.energy_pj[modelled].sum()
        view.add_row(
            "all",
            "total",
            f"{total:,.0f}",
            f"{zigzag['energy_total_pj']:,.0f}",
            _diff(total, zigzag["energy_total_pj"]),
        )
        view.add_row(
            "",
            "cycles",
            f"{report.cycles:,}",
            f"{zigzag['latency_total']:,.0f}",
            _diff(report.cycles, zigzag["latency_total"]),
        )
        default = CASES["gemm512-default"]["zigzag"]
        view.add_row(
            "",
            "cycles vs ZigZag's own mapping",
            f"{report.cycles:,}",
            f"{default['latency_total']:,.0f}",
            _diff(report.cycles, default["latency_total"]),
        )
    return view


def _eyeriss_table(case: dict, machine) -> Table:
    zigzag = case["zigzag"]
    nest = golden_nest(case, machine, EYERISS_LEVEL)
    view = Table(title=f"{case['id']} (ZigZag eyeriss_like): energy per level (pJ)")
    for column in ("operand", "level", "accsim", "ZigZag", "diff"):
        view.add_column(column, justify="right")
    total = zigzag["mac_energy_pj"]
    for role, levels in nest.levels.items():
        moves = count(nest, role)
        for i, (level, golden) in enumerate(zip(levels, zigzag["levels"][role])):
            fmt = "int16" if role == "output" else "int8"
            mine = sum(
                level_energy(machine, level.name, d, getattr(moves[i], d), fmt)
                for d in DIRECTION.values()
            )
            theirs = sum(golden["energy_pj"].values())
            total += mine
            view.add_row(role, level.name, f"{mine:,.0f}", f"{theirs:,.0f}", _diff(mine, theirs))
    return _with_total(view, total, zigzag["energy_total_pj"])


def _generic_table(case: dict, machine) -> Table:
    """Per ZigZag level and operand: the nest's energy in accsim's closed form against ZigZag's."""
    zigzag = case["zigzag"]
    shape = "×".join(str(case["case"][d]) for d in "MNK")
    view = Table(title=f"{shape} (ZigZag generic_array_cacti): energy per level (pJ)")
    for column in ("operand", "level", "accsim", "ZigZag", "diff"):
        view.add_column(column, justify="right")
    levels: dict = {}
    for (role, memory, _), (_, _, mine, theirs) in generic_cells(case, machine).items():
        entry = levels.setdefault((role, memory), [0.0, 0.0])
        entry[0] += mine
        entry[1] += theirs
    total = zigzag["mac_energy_pj"]
    for (role, memory), (mine, theirs) in levels.items():
        total += mine
        view.add_row(role, memory, f"{mine:,.0f}", f"{theirs:,.0f}", _diff(mine, theirs))
    return _with_total(view, total, zigzag["energy_total_pj"])


def _latency_table() -> Table:
    view = Table(title="eyeriss_like, the fold nest forced: cycles (accsim engine vs ZigZag)")
    for column in (
        "case",
        "accsim",
        "port-bound array",
        "DMA not hidden",
        "ZigZag",
        "ideal + port stall",
        "on/offloading",
        "diff",
    ):
        view.add_column(column, justify="right")
    for case in EYERISS_CASES.values():
        if case["id"] not in EYERISS_ENGINE:
            continue
        report = engine_run(case["id"])
        terms = latency_terms(case, report)
        zigzag = case["zigzag"]
        view.add_row(
            case["id"],
            f"{report.cycles:,}",
            f"{terms['accsim_port']:,}",
            f"{terms['accsim_dma']:,}",
            f"{zigzag['latency_total']:,.0f}",
            f"{zigzag['latency_computation']:,.0f}",
            f"{terms['zigzag_loading']:,}",
            _diff(report.cycles, zigzag["latency_total"]),
        )
    return view


def _own_mapping_table() -> Table:
    view = Table(title="ZigZag's own mappings on the engine (mapping `nest:`): cycles and energy")
    for column in (
        "case",
        "accsim",
        "array + ports",
        "DMA not hidden",
        "ZigZag",
        "ideal + port stall",
        "on/offloading",
        "diff",
        "diff array vs ideal + stall",
        "energy diff",
    ):
        view.add_column(column, justify="right")
    for case_id in sorted(DEFAULTS):
        report = run_default(case_id)
        terms = own_mapping_terms(case_id)
        zigzag = DEFAULTS[case_id][1]["zigzag"]
        modelled = ~report.energy.part.isin(CHIP_PARTS)
        energy = report.energy.energy_pj[modelled].sum()
        view.add_row(
            case_id,
            f"{report.cycles:,}",
            f"{terms['accsim_compute']:,}",
            f"{report.cycles - terms['accsim_compute']:,}",
            f"{zigzag['latency_total']:,.0f}",
            f"{terms['zigzag_compute']:,}",
            f"{terms['zigzag_loading']:,}",
            _diff(report.cycles, zigzag["latency_total"]),
            _diff(terms["accsim_compute"], terms["zigzag_compute"]),
            _diff(energy, zigzag["energy_total_pj"]),
        )
    return view


def _accounting_table() -> Table:
    """Every golden case under `accounting: zigzag`: cells whose port words equal ZigZag's, and
    the memories' energy, closed form and on the engine (engine_mappings: ZigZag's own mappings
    as `nest:`, the forced fold nests as accsim's folds)."""
    view = Table(title="accounting: zigzag against ZigZag 3.9.1: memories' energy (pJ)")
    runs = engine_mappings()
    for column in ("case", "cells", "words equal", "ZigZag", "closed form", "diff", "engine"):
        view.add_column(column, justify="right")
    sets = [(TPU, CASES, TPU_LEVEL), (EYERISS_ARCH, EYERISS_CASES, EYERISS_LEVEL)]
    for arch, cases, names in [*sets, (GENERIC_ARCH, GENERIC_CASES, GENERIC_LEVEL)]:
        machine = build_machine(load_arch(arch))
        for case_id, case in cases.items():
            nest = golden_nest(case, machine, names)
            words = nest_words(nest, machine, formats(case))
            cells = equal = 0
            mine = 0.0
            for role, levels in case["zigzag"]["levels"].items():
                for level, golden in zip(nest.levels[role], levels):
                    component = machine.components[level.name]
                    for zigzag_dir, direction in DIRECTION.items():
                        n = words[(level.name, role, direction)]
                        action = "read" if direction.startswith("read") else "write"
                        mine += word_bytes(component, n) * component.energy_pj(action)
                        cells += 1
                        equal += n == golden["word_accesses"][zigzag_dir]
            theirs = case["zigzag"]["memory_energy_pj"]
            engine = "-"
            if case_id in runs:
                macs = case["zigzag"]["mac_energy_pj"]
                engine = _diff(counted_pj(run_golden(case_id, "zigzag")) - macs, theirs)
            view.add_row(
                case_id,
                str(cells),
                str(equal),
                f"{theirs:,.1f}",
                f"{mine:,.1f}",
                _diff(mine, theirs),
                engine,
            )
    return view


def main() -> None:
    console = Console(width=140)
    machine = build_machine(load_arch("zigzag-tpu-like"))
    for case_id in sorted(CASES):
        zigzag = CASES[case_id]["zigzag"]
        console.print(_case_table(case_id, machine))
        console.print(
            f"  ZigZag temporal mapping: {json.dumps(zigzag['temporal_mapping'])}\n"
            f"  ZigZag latency {zigzag['latency_total']:,.0f} cycles "
            f"(compute {zigzag['latency_computation']:,.0f}, ideal {zigzag['ideal_cycle']:,.0f})"
        )
    console.print(_engine_table())
    eyeriss = build_machine(load_arch(EYERISS_ARCH))
    for case in EYERISS_CASES.values():
        console.print(_eyeriss_table(case, eyeriss))
        zigzag = case["zigzag"]
        console.print(
            f"  ZigZag temporal mapping: {json.dumps(zigzag['temporal_mapping'])}\n"
            f"  ZigZag latency {zigzag['latency_total']:,.0f} cycles "
            f"(compute {zigzag['latency_computation']:,.0f}, ideal {zigzag['ideal_cycle']:,.0f})"
        )
    console.print(_latency_table())
    console.print(_own_mapping_table())
    generic = build_machine(load_arch(GENERIC_ARCH))
    for case in GENERIC_CASES.values():
        console.print(_generic_table(case, generic))
    console.print(_accounting_table())


if __name__ == "__main__":
    main()
