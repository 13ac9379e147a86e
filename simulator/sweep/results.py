"""Sweep results on disk: a JSON-lines journal appended per point, consolidated to parquet or CSV.

Each finished point is one flushed line of `<output>.partial.jsonl`, so a killed sweep loses at
most the points in flight; consolidation merges the journal into the output (one row per key, the
newest winning) and removes it. A rerun skips every key already there, except crashed points.
"""

from __future__ import annotations

import fcntl
import json
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.errors import SpecError, expect
from simulator.sweep.point import HEAD
from simulator.sweep.spec import SPEC_KINDS
from simulator.sweep.table import ResultsTable

if TYPE_CHECKING:  # imported where a DataFrame is read or written: a CSV sweep needs none
    import pandas as pd

FORMATS = (".parquet", ".csv")


def check_output(path: Path) -> None:
    """Raise unless `path` names a results format accsim writes."""
    if path.suffix not in FORMATS:
        raise SpecError(f"{path}: results must end in {' or '.join(FORMATS)}")


def journal_path(output: Path) -> Path:
    """Where finished points are appended while a sweep runs into `output`."""
    return output.with_name(output.name + ".partial.jsonl")


class OutputLock:
    """An exclusive lock on a sweep output (`<output>.lock`), held while a sweep writes to it, so
    two sweeps into one output cannot lose each other's rows."""

    def __init__(self, output: Path):
        self.path = output.with_name(output.name + ".lock")
        folder = next((p for p in output.parents if p.exists()), None)
        if folder is not None and not folder.is_dir():
            raise SpecError(f"{output}: {folder} is not a folder")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("a+")
        except OSError as error:
            raise SpecError(f"{output}: cannot create lock file: {error.strerror}") from None
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise SpecError(
                f"{output}: another sweep is writing to it ({holder}); wait for it to finish, "
                "or write to another output"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"pid {os.getpid()}")
        self.file.flush()

    def release(self) -> None:
        """Unlock and close (the lock file stays: removing it would race a waiting sweep)."""
        if not self.file.closed:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()


class Journal:
    """Appends rows to the journal, one flushed JSON line each."""

    def __init__(self, output: Path):
        self.path = journal_path(output)
        cut_short = self.path.is_file() and not self.path.read_bytes().endswith(b"\n")
        self.file = self.path.open("a")
        if cut_short and self.path.stat().st_size:
            self.file.write("\n")  # end a line a killed run left half-written, so it stays alone

    def append(self, row: dict[str, Any]) -> None:
        self.file.write(json.dumps(row, default=str) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a results table (parquet or CSV, by extension)."""
    import pandas as pd

    expect(path, (str, Path), "read_results: path")
    path = Path(path)
    check_output(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such results file")
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SpecError(
            f"{path}: not a readable {path.suffix[1:]} results table: {first}"
        ) from None


def require_columns(df: pd.DataFrame, columns: list[str], source: str | Path) -> None:
    """Raise a one-line SpecError naming the first column `df` lacks and the ones it has."""
    for column in columns:
        if column not in df.columns:
            raise SpecError(f"{source}: no column {column!r}; columns: {', '.join(df.columns)}")


def stored_rows(output: Path) -> list[dict[str, Any]]:
    """Rows already in the output file and its journal, oldest first."""
    rows = read_results(output).to_dict("records") if output.is_file() else []
    journal = journal_path(output)
    if journal.is_file():
        lines = journal.read_bytes().decode("utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    row = None  # a line cut short by a kill: that point runs again
                if _is_row(row):
                    rows.append(row)
                elif number < len(lines):  # the last line may be one a kill cut short
                    warnings.warn(
                        f"{journal}:{number}: not a result row (cut short by a kill, or edited); "
                        "skipped, its point runs again",
                        stacklevel=2,
                    )
    return rows


def _is_row(row: object) -> bool:
    """A journal line worth keeping: an object with a string key, an integer point, a status."""
    return (
        isinstance(row, dict)
        and isinstance(row.get("key"), str)
        and isinstance(row.get("point"), int)
        and not isinstance(row.get("point"), bool)
        and isinstance(row.get("status"), str)
    )


def finished_keys(rows: Iterable[dict[str, Any]]) -> set[str]:
    """Keys a rerun skips: every stored point except those that crashed."""
    return {row["key"] for row in rows if row.get("status") != "crashed"}


def consolidate(output: Path, parameters: list[str], objectives: Mapping[str, str]) -> ResultsTable:
    """Merge output and journal into one table (sorted by point), write it, drop the journal.
    A CSV is written from the table's plain columns where they mirror pandas' text; a DataFrame
    is built only where they do not, for parquet, or when the caller asks (`ResultsTable.frame`)."""
    latest = {row["key"]: row for row in stored_rows(output)}
    rows = sorted(latest.values(), key=lambda r: (int(r["point"]), str(r["key"])))
    table = ResultsTable(rows, _columns(rows, parameters), objectives)
    if rows:  # else nothing ran (a refused connection, an empty sweep): leave no empty file
        text = table.csv_text() if output.suffix == ".csv" else None
        if text is None:
            write_results(table.frame, output)
        else:
            _replace(output, lambda temporary: temporary.write_bytes(text.encode("utf-8")))
    journal_path(output).unlink(missing_ok=True)
    return table


def write_results(df: pd.DataFrame, path: str | Path) -> None:
    """Write atomically (a temporary file renamed over the old one), parquet or CSV by extension."""
    import pandas as pd

    expect(df, pd.DataFrame, "write_results: df (the results table)")
    expect(path, (str, Path), "write_results: path")  # a str was an AttributeError
    path = Path(path)
    check_output(path)
    table = _storable(df)
    if path.suffix == ".parquet":
        _replace(path, lambda temporary: table.to_parquet(temporary, index=False))
    else:
        _replace(path, lambda temporary: table.to_csv(temporary, index=False))


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    """`write` a temporary file beside `path`, then rename it over `path` (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)


def parameter_columns(df: pd.DataFrame) -> list[str]:
    """The columns that are sweep parameters (canonical paths starting with arch., workload., mapping.)."""
    import pandas as pd

    expect(df, pd.DataFrame, "parameter_columns: df (the results table)")
    return [c for c in df.columns if str(c).split(".", 1)[0] in SPEC_KINDS and "." in str(c)]


def _columns(rows: list[dict[str, Any]], parameters: list[str]) -> list[str]:
    """Head, then parameters in sweep order (older ones after), then metrics as first seen."""
    seen = dict.fromkeys(parameters)
    for row in rows:
        seen.update(dict.fromkeys(row))
    params = [c for c in seen if c not in HEAD and c.split(".", 1)[0] in SPEC_KINDS and "." in c]
    rest = [c for c in seen if c not in HEAD and c not in params and c != "pareto"]
    return [*HEAD, *params, *rest]


def _storable(df: pd.DataFrame) -> pd.DataFrame:
    """Columns parquet can hold: lists and dicts as JSON text, mixed scalar types as text."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype != object:
            continue
        values = out[column].dropna().tolist()
        if any(isinstance(v, list | dict) for v in values):
            out[column] = out[column].map(
                lambda v: json.dumps(v) if isinstance(v, list | dict) else v
            )
            values = out[column].dropna().tolist()
        if len(set(map(type, values))) > 1:
            out[column] = out[column].map(lambda v: v if v is None or v != v else str(v))
    return out
