"""Shared pieces of the CLI's tables: SI prefixes, durations, a rich table with a title."""

from rich.table import Table


def si(value: float, unit: str) -> str:
    """A value with an SI prefix from tera down to pico, e.g. 4.05 µJ."""
    prefixes = (
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
    )
    for factor, prefix in prefixes:
        if abs(value) >= factor:
            return f"{value / factor:,.3g} {prefix}{unit}"
    return f"{value / 1e-12:,.3g} p{unit}" if value else f"0 {unit}"


def seconds(value: float) -> str:
    """A duration in s, ms, µs or ns with four significant digits."""
    for factor, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= factor:
            return f"{value / factor:,.4g} {unit}"
    return f"{value / 1e-9:,.4g} ns"


def table(title: str, columns: list[str]) -> Table:
    """A rich table, first column left-aligned and the rest right-aligned (numbers). Cells that
    do not fit the terminal fold onto the next line, never cut; the table is at least as wide as
    its title, so the title stays on one line."""
    out = Table(title=title, title_justify="left", header_style="bold", min_width=len(title))
    for index, column in enumerate(columns):
        out.add_column(column, justify="left" if index == 0 else "right", overflow="fold")
    return out
