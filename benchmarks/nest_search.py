"""The mapper search's loop nests against ZigZag 3.9.1's own mapper (LOMA, energy objective) on
its bundled tpu_like and eyeriss_like, and the search's cost in time with and without nests.

For each case in tests/data/zigzag*_golden.json where ZigZag's mapper chose the temporal mapping:
ZigZag's energy, its mapping run on accsim's engine (`nest:`), and the best mapping `accsim map
--objective energy` finds, run on the engine; energies count MACs and memories only, as ZigZag
does, with memory accesses counted as ZigZag counts them (`accounting: zigzag`'s per-level
table; accsim's clock network and PE-register parts left out). Then the search's wall time on
eyeriss-like gemm-256 and zigzag-tpu-like 512^3 with no nests (the search before them) and with
the default budget, and the nests estimated per second; and those searches' winners, their
estimate (what the search ranks by) against the engine, energy in full and cycles.

    python benchmarks/nest_search.py
"""

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulator import simulate
from simulator.sweep import search

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repo root: tests.mapping
from tests.mapping.zigzag_cases import DEFAULTS, counted_pj, run_default  # noqa: E402

CASES = ["gemm512-default", "eyeriss-gemm224x224x192-default", "eyeriss-gemm112x168x96-default"]
TIMED = [
    ("eyeriss-like", "gemm-256", "energy"),
    ("zigzag-tpu-like", "gemm:M=512,N=512,K=512,dtype=int8,output_dtype=int8", "energy"),
]


def _workload(case: dict, out: str) -> str:
    shape = case["case"]
    return f"gemm:M={shape['M']},N={shape['N']},K={shape['K']},dtype=int8,output_dtype={out}"


def against_zigzag() -> Table:
    view = Table(title="energy (µJ, MACs and memories): ZigZag's mapper and accsim's search")
    for column in (
        "case",
        "ZigZag (its mapper)",
        "its mapping on accsim",
        "search's best on accsim",
        "search vs ZigZag",
        "best nest (innermost first)",
    ):
        view.add_column(column)
    for case_id in CASES:
        arch, case, _, out = DEFAULTS[case_id]
        workload = _workload(case, out)
        theirs = case["zigzag"]["energy_total_pj"]
        own = counted_pj(run_default(case_id, "zigzag"))
        best = search.search_mapping(arch, workload, "energy").best.mapping
        found = counted_pj(
            simulate(arch, workload, {**best, "accounting": "zigzag"}, numerics=False)
        )
        shape = case["case"]
        nest = " ".join(f"{d}{n}" for d, n in best.get("nest", [])) or "(no nest)"
        view.add_row(
            f"{case['case']['hardware']} {shape['M']}×{shape['N']}×{shape['K']}",
            f"{theirs / 1e6:,.2f}",
            f"{own / 1e6:,.2f}",
            f"{found / 1e6:,.2f}",
            f"{(found / theirs - 1) * 100:+.2f} %",
            nest,
        )
    return view


def search_time() -> tuple[Table, Table]:
    view = Table(title="search wall time (s; shared machine, varies with load)")
    for column in ("arch", "workload", "no nests", "with nests", "nests estimated", "nests/s"):
        view.add_column(column)
    won = Table(title="the energy search's winner: estimate against the engine")
    for column in (
        "arch",
        "winner",
        "estimate µJ",
        "engine µJ",
        "estimate cycles",
        "engine cycles",
    ):
        won.add_column(column)
    for arch, workload, objective in TIMED:
        start = time.perf_counter()
        search.search_mapping(arch, workload, objective, nest_budget=0)
        before = time.perf_counter() - start
        start = time.perf_counter()
        best = search.search_mapping(arch, workload, objective).best
        after = time.perf_counter() - start
        machine = search.build_machine(search.load_arch(arch))
        ops = list(search.load_workload(workload).ops)
        start = time.perf_counter()
        _, count = search._nested(ops, machine, search.OBJECTIVES[objective], search.NEST_BUDGET)
        stage = time.perf_counter() - start
        view.add_row(
            arch,
            workload,
            f"{before:.1f}",
            f"{after:.1f}",
            f"{count:,}",
            f"{count / stage:,.0f}" if count else "-",
        )
        estimate = best.estimate or search.estimate_mapping(arch, workload)  # auto: as auto
        won.add_row(
            arch,
            best.label,
            f"{estimate.energy_pj / 1e6:,.2f}",
            f"{best.simulated.energy_pj / 1e6:,.2f}",
            f"{estimate.cycles:,.0f}",
            f"{best.simulated.cycles:,.0f}",
        )
    return view, won


def main() -> None:
    console = Console(width=160)
    console.print(against_zigzag())
    for table in search_time():
        console.print(table)


if __name__ == "__main__":
    main()
