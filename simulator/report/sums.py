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
    """(key, value) pairs summed per key as pandas' groupby().sum() sums a float64 column, keys
    sorted as groupby sorts them: rows already in key order are summed by numpy's
    `add.reduceat`, other tables by a Kahan-compensated sum per group in row order (pandas 3.1;
    tests/report/test_sums.py holds the two to pandas itself)."""
    keys, values = [], []
    for key, value in pairs:
        keys.append(key)
        values.append(value)
    order = sorted(set(keys))
    grouped = all(a <= b for a, b in zip(keys, keys[1:]))
    if grouped and not any(v != v for v in values):  # pandas falls back to Kahan on a NaN
        starts = [0] + [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
        sums = np.add.reduceat(np.array(values, dtype=np.float64), starts) if keys else []
        return dict(zip(order, sums))
    by_key: dict[str, list[float]] = {}
    for key, value in zip(keys, values):
        by_key.setdefault(key, []).append(value)
    return {key: _kahan(by_key[key]) for key in order}


def _kahan(values) -> float:
    """pandas' group_sum: Kahan compensation in row order, NaN skipped."""
    total = carry = 0.0
    for value in values:
        if value != value:
            continue
        y = value - carry
        t = total + y
        carry = t - total - y
        carry = 0.0 if carry != carry else carry  # an infinite value leaves a NaN: reset
        total = t
    return total
