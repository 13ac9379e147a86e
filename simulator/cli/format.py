"""The CLI's rich table with a title (its numbers are formatted by simulator.report.view)."""

from rich.table import Table


def table(title: str, columns: list[str]) -> Table:
    """A rich table, first column left-aligned and the rest right-aligned (numbers). Cells that
    do not fit the terminal fold onto the next line, never cut; the table is at least as wide as
    its title, so the title stays on one line."""
    out = Table(title=title, title_justify="left", header_style="bold", min_width=len(title))
    for index, column in enumerate(columns):
        out.add_column(column, justify="left" if index == 0 else "right", overflow="fold")
    return out
