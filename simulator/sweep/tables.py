"""Rich output for the sweep, map and plot commands: a progress bar with ETA and result tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from simulator.report.view import seconds, si
from simulator.sweep.results import parameter_columns
from simulator.sweep.run import SweepOutcome
from simulator.sweep.search import SearchResult

if TYPE_CHECKING:  # a results table's type: the sweep's processes import no pandas
    import pandas as pd


@contextmanager
def progress_bar(console: Console, title: str) -> Iterator[Callable[[int, int, dict], None]]:
    """A progress bar with rate and ETA; yields the `progress` callback run_sweep takes."""
    columns = (
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(title, total=None, failed=0)
        failed = 0

        def advance(done: int, total: int, row: dict) -> None:
            nonlocal failed
            failed += row["status"] != "ok"
            progress.update(task, completed=done, total=total, failed=failed)

        yield advance


def outcome_table(outcome: SweepOutcome) -> Table:
    """Counts of one sweep run: points, skipped by constraints, already done, run now, failed."""
    table = _table(f"sweep → {outcome.output}", ["", "points"])
    table.add_row("points in the sweep", f"{outcome.points:,}")
    table.add_row("skipped by constraints", f"{outcome.skipped:,}")
    table.add_row("already in the results", f"{outcome.already_done:,}")
    table.add_row("run now", f"{outcome.ran:,}")
    table.add_row("failed (run now)", f"{outcome.failed:,}")
    table.add_row("rows in the results", f"{len(outcome.results):,}")
    return table


def front_table(results: pd.DataFrame, objectives: dict[str, str], limit: int = 15) -> Table:
    """The Pareto-front rows: their parameters and objective values."""
    front = results[results["pareto"]] if "pareto" in results.columns else results.iloc[:0]
    params = parameter_columns(results)
    # a size parameter's value in bytes (sram.capacity_bytes beside '2 MiB') says nothing new
    params = [p for p in params if not (p.endswith("_bytes") and p[: -len("_bytes")] in params)]
    table = _table(
        f"Pareto front over {', '.join(f'{k} ({v})' for k, v in objectives.items())}: "
        f"{len(front)} of {int((results['status'] == 'ok').sum())} points",
        [*_short_names(params), *objectives],
    )
    for row in front.head(limit).to_dict("records"):
        table.add_row(*(str(row[p]) for p in params), *(_with_unit(o, row[o]) for o in objectives))
    return table


def _with_unit(metric: str, value: float) -> str:
    """A summary metric as its name's unit says (energy_pj in J, area_mm2, seconds, cycles)."""
    if metric.endswith("_pj"):
        return si(value * 1e-12, "J")
    if metric.endswith("_mm2"):
        return f"{value:,.4g} mm²"
    if metric == "seconds" or metric.endswith("_s"):
        return seconds(value)
    if metric.endswith("cycles"):
        return f"{value:,.0f}"
    if metric.endswith("_bytes"):
        return si(value, "B")
    if metric.endswith("_w"):
        return si(value, "W")
    return f"{value:,.4g}"


def search_table(result: SearchResult) -> Table:
    """Confirmed mapper-search candidates, best first, against `auto`."""
    table = _table(
        f"mapper search: {result.workload} on {result.arch}, objective {result.objective} "
        f"({result.examined:,} mappings estimated)",
        [
            "#",
            "mapping",
            "est. cycles",
            "cycles",
            "energy µJ",
            result.objective,
            "vs auto",
        ],
    )
    auto_score = result.key(result.auto.simulated)
    for rank, candidate in enumerate(result.ranked, 1):
        estimate, simulated = candidate.estimate, candidate.simulated
        cells = [f"{estimate.cycles:,.0f}" if estimate else "-"]
        if simulated is None:
            cells += ["-", "-", "-", candidate.error or "failed"]
        else:
            score = result.key(simulated)
            cells += [
                f"{simulated.cycles:,.0f}",
                f"{simulated.energy_pj * 1e-6:,.4g}",
                f"{score:.4g}",
                f"{auto_score / score:.3f}x" if score else "-",
            ]
        table.add_row(str(rank), candidate.label, *cells)
    return table


def _short_names(paths: list[str]) -> list[str]:
    """Column headers: the last two keys of each path ('mxu.rows'), the whole path where ambiguous."""
    short = [".".join(p.split(".")[-2:]) for p in paths]
    return [s if short.count(s) == 1 else p for s, p in zip(short, paths)]


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right", overflow="fold")
    return table
