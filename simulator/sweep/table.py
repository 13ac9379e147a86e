"""A consolidated results table as plain columns: its CSV text made without pandas, byte for byte
what pandas writes, and its DataFrame built only when asked (a sweep that writes CSV needs none).

Each column's text follows the dtype pandas infers for it from the rows (JSON values: None,
bools, ints, floats, strings, lists, dicts): all ints -> int64; numbers with a float or a gap ->
float64 (ints written as floats); all bools -> bool; strings -> str; anything else -> object
(`results._storable`: lists and dicts as JSON, the rest by str). A table outside what this
mirrors (an int beyond int64, another type, a gap to fill in a text column, an objective that is
not numeric) has no CSV text here: its writer goes through pandas.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.sweep.pareto import directions, front, marked_front
from simulator.sweep.point import STALL_PREFIX

if TYPE_CHECKING:  # built only when asked (`frame`): a sweep process that writes CSV stays lean
    import pandas as pd

_INT64 = (-(2**63), 2**63)
_JSON = (type(None), bool, int, float, str, list, dict)


class ResultsTable:
    """Rows sorted by point, the output's columns, the objectives its Pareto column marks."""

    def __init__(self, rows: list[dict[str, Any]], columns: list[str], objectives: Mapping):
        self.rows = rows
        self.columns = columns
        self.objectives = dict(objectives)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame: pandas' inference, stall causes the summary left out set to
        0 in ok rows, the Pareto column where every objective is a column."""
        import pandas as pd

        df = pd.DataFrame(self.rows, columns=self.columns)
        if not self.rows:
            return df
        ok = df["status"] == "ok"
        for column in (c for c in df.columns if c.startswith(STALL_PREFIX)):
            gaps = ok & df[column].isna()  # the summary leaves out zero causes
            if gaps.any():  # set where missing only: a whole-block fillna costs more than the rest
                df.loc[gaps, column] = 0
        if self._marks_front():  # else run_sweep names the bad objective
            df["pareto"] = False
            if ok.any():
                df.loc[marked_front(df[ok], self.objectives).index, "pareto"] = True
        return df

    def csv_text(self) -> str | None:
        """The CSV pandas writes for `frame` (`results.write_results`), or None where this table
        holds what the plain columns do not mirror."""
        ok = [row["status"] == "ok" for row in self.rows]
        texts = []
        for column in self.columns:
            values = [row.get(column, math.nan) for row in self.rows]
            kind = _kind(values)
            if kind is None:
                return None
            if column.startswith(STALL_PREFIX):
                if kind == "str" and any(o and _missing(v) for o, v in zip(ok, values)):
                    return None  # pandas refuses the 0 there: its error, through pandas
                values = [0 if o and _missing(v) else v for o, v in zip(ok, values)]
            texts.append((kind, values))
        header = list(self.columns)
        if self._marks_front():
            marks = self._front_marks(texts, ok)
            if marks is None:
                return None
            header.append("pareto")
            texts.append(("bool", marks))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=os.linesep, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(zip(*(_texts(kind, values) for kind, values in texts)))
        return out.getvalue()

    def _marks_front(self) -> bool:
        return bool(self.objectives) and set(self.objectives) <= set(self.columns)

    def _front_marks(self, texts: list, ok: list[bool]) -> list[bool] | None:
        """Each row's Pareto mark, as `pareto_front` marks the ok rows; None where an objective's
        column is not numbers (pandas' to_numeric then decides)."""
        marks = [False] * len(self.rows)
        rows = [i for i, o in enumerate(ok) if o]
        if not rows:
            return marks
        signs = directions(self.columns, self.objectives)
        matrix = []
        for column in signs:
            kind, values = texts[self.columns.index(column)]
            if kind not in ("int", "float"):
                return None
            matrix.append([math.nan if _missing(values[i]) else float(values[i]) for i in rows])
        values = np.array(matrix, dtype=float).T * np.array(list(signs.values()))
        for position in front(values):
            marks[rows[position]] = True
        return marks


def _missing(value) -> bool:
    return value is None or (type(value) is float and value != value)


def _kind(values: list) -> str | None:
    """The dtype pandas gives a column of these values, as far as its text goes; None where an
    int lies beyond int64 or a value is not a JSON type."""
    types = set()
    gaps = nans = False
    for value in values:
        kind = type(value)
        if kind not in _JSON:
            return None
        if kind is int and not _INT64[0] <= value < _INT64[1]:
            return None
        if value is None:
            gaps = True
        elif kind is float and value != value:
            nans = True
        else:
            types.add(kind)
    if not types:
        return "float" if nans else "object"  # NaN (or an absent key) makes float64, None alone not
    if types <= {int, float}:
        return "int" if types == {int} and not (gaps or nans) else "float"
    if types == {bool} and not (gaps or nans):
        return "bool"
    if types == {str}:
        return "str"
    return "object"


def _texts(kind: str, values: list) -> list[str]:
    """A column's cells as pandas writes them: '' for a gap, floats by repr."""
    if kind == "float":
        return ["" if _missing(v) else repr(float(v)) for v in values]
    if kind == "object":
        return ["" if _missing(v) else _stored(v) for v in values]
    return ["" if _missing(v) else str(v) for v in values]


def _stored(value) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)
