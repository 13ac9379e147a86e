"""The energy table's sums that a summary needs, from its plain rows or from the DataFrame.

A sweep point or a command-line run wants a few totals, not the table: building the DataFrame
costs more than the engine on small runs. `from_rows` gives the very numbers pandas gives (numpy's
pairwise sum for a column, pandas' Kahan-compensated group sum per op, groups in sorted order);
`from_table` reads them off the DataFrame, for tables whose columns pandas leaves as objects.
"""

from dataclasses import dataclass

import numpy as np

OP, ENERGY, ON_DIE = 0, 6, 7  # positions in an energy row (power.COLUMNS)


@dataclass(frozen=True)
class EnergySums:
    """Total, on-die and static energy (pJ); energy per op over the whole table (static under its
    own op name) and over the dynamic rows only (pandas' group sums depend on the rows around)."""

    total: float
    on_die: float
    static: float
    by_op: dict[str, float]
    dynamic_by_op: dict[str, float]

    @classmethod
    def from_rows(cls, rows: list[tuple], static_op: str) -> "EnergySums":
        """Sums of the rows of a float64 energy column, exactly as pandas sums that column."""
        energy = np.array([row[ENERGY] for row in rows], dtype=np.float64)
        die = np.array([bool(row[ON_DIE]) for row in rows], dtype=bool)
        static = np.array([row[OP] == static_op for row in rows], dtype=bool)
        return cls(
            energy.sum(),
            energy[die].sum(),
            energy[static].sum(),
            group_sums((row[OP], float(row[ENERGY])) for row in rows),
            group_sums((row[OP], float(row[ENERGY])) for row in rows if row[OP] != static_op),
        )

    @classmethod
    def from_table(cls, table, static_op: str) -> "EnergySums":
        """The same sums read off an energy DataFrame."""
        dynamic = table[table.op != static_op]
        return cls(
            table.energy_pj.sum(),
            table[table.on_die].energy_pj.sum(),
            table[table.op == static_op].energy_pj.sum(),
            dict(table.groupby("op")["energy_pj"].sum().items()),
            dict(dynamic.groupby("op")["energy_pj"].sum().items()),
        )


def group_sums(pairs) -> dict[str, float]:
    """(key, value) pairs summed per key as pandas' groupby().sum() sums one float64 column."""
    keys, values = [], []
    for key, value in pairs:
        keys.append(key)
        values.append(value)
    return {key: sums[0] for key, sums in grouped_sums(keys, [values]).items()}


def grouped_sums(keys: list, columns: list[list[float]], sort: bool = True, min_count: int = 0):
    """Per key, each column's sum, as pandas 3.1's groupby(sort=...)[columns].sum(min_count=...)
    gives them for float64 columns held in one block (tests/report/test_sums.py holds them to
    pandas): numpy's `add.reduceat` where every group's rows are contiguous in group order and
    no value is NaN, else a Kahan-compensated sum per group in row order (NaN skipped; a group
    with fewer than `min_count` values sums to NaN). Keys sorted, or in order of appearance."""
    order = sorted(set(keys)) if sort else list(dict.fromkeys(keys))
    changes = [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
    grouped = len(changes) + 1 == len(order) and (not sort or keys == sorted(keys))
    if keys and grouped and not any(v != v for column in columns for v in column):
        sums = [np.add.reduceat(np.array(c, dtype=np.float64), [0, *changes]) for c in columns]
        return {key: tuple(column[j] for column in sums) for j, key in enumerate(order)}
    rows: dict = {}
    for index, key in enumerate(keys):
        rows.setdefault(key, []).append(index)
    return {
        key: tuple(_kahan([column[i] for i in rows[key]], min_count) for column in columns)
        for key in order
    }


def descending(values: list[float]) -> list[int]:
    """Row order of pandas' sort_values(ascending=False) on a float64 column (its quicksort, which
    breaks ties in its own way; NaN last)."""
    items = np.array(values, dtype=np.float64)
    index = np.arange(len(items))
    nan = np.isnan(items)
    order = index[~nan][::-1][items[~nan][::-1].argsort(kind="quicksort")][::-1]
    return [int(i) for i in np.concatenate([order, index[nan]])]


def _kahan(values: list[float], min_count: int = 0) -> float:
    """pandas' group_sum: Kahan compensation in row order, NaN skipped."""
    total = carry = 0.0
    count = 0
    for value in values:
        if value != value:
            continue
        count += 1
        y = value - carry
        t = total + y
        carry = t - total - y
        carry = 0.0 if carry != carry else carry  # an infinite value leaves a NaN: reset
        total = t
    return total if count >= min_count else float("nan")
