"""Pareto front of a results table: the rows no other row beats on every objective."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from simulator.errors import SpecError, expect

if TYPE_CHECKING:  # imported by pareto_front: `front` (the CSV writer's) needs numpy alone
    import pandas as pd

DIRECTIONS = {"min": 1.0, "minimize": 1.0, "max": -1.0, "maximize": -1.0}


def pareto_front(df: pd.DataFrame, objectives: Mapping[str, str] | Iterable[str]) -> pd.DataFrame:
    """The non-dominated rows of `df`, in their original order.

    `objectives` maps column -> 'min'/'minimize' or 'max'/'maximize' (a plain list minimizes all).
    A row is dominated when another is at least as good on every objective and better on one;
    rows with a missing objective value are never on the front, and equal rows are kept together.
    """
    import pandas as pd

    expect(df, pd.DataFrame, "pareto_front: df (the results table)")
    if isinstance(objectives, str):  # one column, not its letters
        objectives = [objectives]
    signs, numbers = _numbers(df, objectives)
    for column in signs:  # words became NaN, and a front of none (the CLI's --pareto says so)
        words = df[column][numbers[column].isna() & df[column].notna()]
        if len(words):
            raise SpecError(
                f"pareto_front: objective {column!r} holds words ({words.iloc[0]!r}), not numbers"
            )
    return df.iloc[front(numbers.to_numpy(dtype=float) * np.array(list(signs.values())))]


def marked_front(df: pd.DataFrame, objectives: Mapping[str, str]) -> pd.DataFrame:
    """`pareto_front` with words taken as missing values: a results table marks its rows even
    where run_sweep refuses an objective of words (its error, not this one, names it)."""
    signs, numbers = _numbers(df, objectives)
    return df.iloc[front(numbers.to_numpy(dtype=float) * np.array(list(signs.values())))]


def _numbers(df: pd.DataFrame, objectives) -> tuple[dict[str, float], pd.DataFrame]:
    """Each objective's sign and its column as numbers (NaN where a value is none)."""
    import pandas as pd

    signs = directions(list(df.columns), objectives)
    return signs, df[list(signs)].apply(pd.to_numeric, errors="coerce")


def front(values: np.ndarray) -> list[int]:
    """The non-dominated rows of `values` (one row each, every objective minimized), in order;
    rows with a NaN are never on the front, equal rows are kept together."""
    complete = ~np.isnan(values).any(axis=1)
    candidates = np.flatnonzero(complete)
    # A dominator sorts lexicographically before what it dominates, so one pass in that order
    # against the front found so far suffices (transitivity covers dominated dominators).
    order = candidates[np.lexsort(values[candidates].T[::-1])]
    kept: list[int] = []
    for row in order:
        ahead = values[kept]
        dominated = (ahead <= values[row]).all(axis=1) & (ahead < values[row]).any(axis=1)
        if not dominated.any():
            kept.append(row)
    return sorted(kept)


def directions(columns: list[str], objectives) -> dict[str, float]:
    """Each objective's sign (1 minimizes, -1 maximizes); a SpecError names a column not in
    `columns` or a direction not known."""
    pairs = (
        objectives.items() if isinstance(objectives, Mapping) else ((c, "min") for c in objectives)
    )
    signs = {}
    for column, direction in pairs:
        if column not in columns:
            raise SpecError(f"objective {column!r}: no such column; columns: {', '.join(columns)}")
        if direction not in DIRECTIONS:
            raise SpecError(
                f"objective {column!r}: direction must be min/minimize or max/maximize, got {direction!r}"
            )
        signs[column] = DIRECTIONS[direction]
    if not signs:
        raise SpecError("pareto_front needs at least one objective")
    return signs
