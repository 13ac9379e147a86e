"""Pareto front of a results table: the rows no other row beats on every objective."""

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from simulator.errors import SpecError

DIRECTIONS = {"min": 1.0, "minimize": 1.0, "max": -1.0, "maximize": -1.0}


def pareto_front(df: pd.DataFrame, objectives: Mapping[str, str] | Iterable[str]) -> pd.DataFrame:
    """The non-dominated rows of `df`, in their original order.

    `objectives` maps column -> 'min'/'minimize' or 'max'/'maximize' (a plain list minimizes all).
    A row is dominated when another is at least as good on every objective and better on one;
    rows with a missing objective value are never on the front, and equal rows are kept together.
    """
    directions = _directions(df, objectives)
    values = df[list(directions)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    values = values * np.array(list(directions.values()))  # every objective minimized from here
    complete = ~np.isnan(values).any(axis=1)
    candidates = np.flatnonzero(complete)
    # A dominator sorts lexicographically before what it dominates, so one pass in that order
    # against the front found so far suffices (transitivity covers dominated dominators).
    order = candidates[np.lexsort(values[candidates].T[::-1])]
    front: list[int] = []
    for row in order:
        kept = values[front]
        dominated = (kept <= values[row]).all(axis=1) & (kept < values[row]).any(axis=1)
        if not dominated.any():
            front.append(row)
    return df.iloc[sorted(front)]


def _directions(df: pd.DataFrame, objectives) -> dict[str, float]:
    pairs = (
        objectives.items() if isinstance(objectives, Mapping) else ((c, "min") for c in objectives)
    )
    directions = {}
    for column, direction in pairs:
        if column not in df.columns:
            raise SpecError(
                f"objective {column!r}: no such column; columns: {', '.join(df.columns)}"
            )
        if direction not in DIRECTIONS:
            raise SpecError(
                f"objective {column!r}: direction must be min/minimize or max/maximize, got {direction!r}"
            )
        directions[column] = DIRECTIONS[direction]
    if not directions:
        raise SpecError("pareto_front needs at least one objective")
    return directions
