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
        names = sorted({row[OP] for row in rows})
        rank = {op: i for i, op in enumerate(names)}
        codes = np.fromiter((rank[row[OP]] for row in rows), dtype=np.int64, count=len(rows))
        energy = np.array([float(row[ENERGY]) for row in rows], dtype=np.float64)
        die = np.array([bool(row[ON_DIE]) for row in rows], dtype=bool)
        return cls.from_columns(names, codes, energy, die, static_op)

    @classmethod
    def from_columns(
        cls,
        names: list[str],
        codes: np.ndarray,
        energy: np.ndarray,
        die: np.ndarray,
        static_op: str,
    ) -> "EnergySums":
        """The same sums of rows given as columns: each row's op (`codes` into the sorted op
        `names`), its float64 energy and whether it is on the die."""
        static = codes == names.index(static_op) if static_op in names else np.zeros_like(die)
        dynamic = ~static
        by_op = _first(coded_sums(codes, names, [energy]))
        if static.any() and not _reduced(codes, [energy]) and not _reduced(codes[dynamic], []):
            # both compensated per group, and a group's sum is its own rows' alone, in order
            dynamic_by_op = {op: e for op, e in by_op.items() if op != static_op}
        else:
            dynamic_by_op = _first(coded_sums(codes[dynamic], names, [energy[dynamic]]))
        return cls(energy.sum(), energy[die].sum(), energy[static].sum(), by_op, dynamic_by_op)

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
    pairs = list(pairs)
    return _first(grouped_sums([k for k, _ in pairs], [[v for _, v in pairs]]))


def _first(sums: dict) -> dict:
    """Each key's first column of a `grouped_sums` answer."""
    return {key: column[0] for key, column in sums.items()}


def grouped_sums(keys: list, columns: list[list[float]], sort: bool = True, min_count: int = 0):
    """Per key, each column's sum, as pandas 3.1's groupby(sort=...)[columns].sum(min_count=...)
    gives them for float64 columns held in one block (tests/report/test_sums.py holds them to
    pandas): numpy's `add.reduceat` where every group's rows are contiguous in group order and
    no value is NaN, else a Kahan-compensated sum per group in row order (NaN skipped; a group
    with fewer than `min_count` values sums to NaN). Keys sorted, or in order of appearance."""
    order = sorted(set(keys)) if sort else list(dict.fromkeys(keys))
    rank = {key: i for i, key in enumerate(order)}
    codes = np.fromiter((rank[key] for key in keys), dtype=np.int64, count=len(keys))
    return _sums(codes, order, [np.array(c, dtype=np.float64) for c in columns], min_count)


def coded_sums(codes: np.ndarray, names: list, arrays: list[np.ndarray], min_count: int = 0):
    """`grouped_sums` (sorted) of rows already coded: row i's key is names[codes[i]], `names`
    sorted; only the keys some row has are in the answer."""
    present = np.bincount(codes, minlength=len(names)) > 0
    order = [name for name, there in zip(names, present.tolist()) if there]
    return _sums((np.cumsum(present) - 1)[codes], order, arrays, min_count)


def _sums(codes: np.ndarray, order: list, arrays: list[np.ndarray], min_count: int) -> dict:
    """`grouped_sums` of rows coded by their key's position in `order` (every key present)."""
    if _reduced(codes, arrays):
        changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        sums = [np.add.reduceat(a, [0, *changes.tolist()]) for a in arrays]
        return {key: tuple(column[j] for column in sums) for j, key in enumerate(order)}
    kahan = [_kahan_by_group(codes, a, len(order), min_count) for a in arrays]
    return {key: tuple(float(column[j]) for column in kahan) for j, key in enumerate(order)}


def _reduced(codes: np.ndarray, arrays: list[np.ndarray]) -> bool:
    """Whether groups sum by numpy's add.reduceat, as pandas sums them where every group's rows
    are contiguous in group order (its codes never fall) and no value is NaN."""
    if not len(codes) or not np.all(codes[1:] >= codes[:-1]):
        return False
    return not any(np.isnan(a).any() for a in arrays)


def _kahan_by_group(codes: np.ndarray, values: np.ndarray, groups: int, min_count: int):
    """pandas' group_sum for every group at once: Kahan compensation in each group's row order
    (NaN skipped), the groups' j-th values added together in one numpy step per j; the same
    float64 operations as a loop over one group's values, so the same bits."""
    total, carry = np.zeros(groups), np.zeros(groups)
    count = np.zeros(groups, dtype=np.int64)
    keep = ~np.isnan(values)
    codes, values = codes[keep], values[keep]
    by_group = np.argsort(codes, kind="stable")  # each group's rows, in row order
    sizes = np.bincount(codes, minlength=groups)
    starts = (np.cumsum(sizes) - sizes)[codes[by_group]]  # first row of each row's group
    position = np.arange(len(by_group)) - starts
    by_position = np.argsort(position, kind="stable")  # every group's j-th value, j = 0, 1, ...
    rows = by_group[by_position]
    cuts = np.flatnonzero(np.diff(position[by_position])) + 1
    with np.errstate(invalid="ignore"):  # inf - inf: a NaN carry, reset as pandas does
        for step in np.split(rows, cuts) if len(rows) else []:
            group, value = codes[step], values[step]
            y = value - carry[group]
            t = total[group] + y
            c = t - total[group] - y
            c[np.isnan(c)] = 0.0
            carry[group], total[group] = c, t
            count[group] += 1
    return np.where(count >= min_count, total, np.nan)


def descending(values: list[float]) -> list[int]:
    """Row order of pandas' sort_values(ascending=False) on a float64 column (its quicksort, which
    breaks ties in its own way; NaN last)."""
    items = np.array(values, dtype=np.float64)
    index = np.arange(len(items))
    nan = np.isnan(items)
    order = index[~nan][::-1][items[~nan][::-1].argsort(kind="quicksort")][::-1]
    return [int(i) for i in np.concatenate([order, index[nan]])]
