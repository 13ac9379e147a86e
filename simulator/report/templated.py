"""Energy rows kept as shared templates: a many-core chip has a counter per op, core, component
and action, and the rows a counter adds depend only on its component, action and count, so each
distinct template is built once and every counter that has it points at it (a class's members
and a decode's layers repeat them). Columns come out as numpy arrays gathered from the
templates, in the very row order of the plain rows, so sums over them are the plain rows' sums."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

ENERGY, ON_DIE = 5, 6  # positions in a row less its op (power.COLUMNS[1:])


@dataclass(frozen=True)
class TemplatedRows:
    """Rows (op, *tail): first each counter's template rows under its op, then the `extra` rows
    (whole rows, not counters')."""

    names: list[str]  # every op of a counter or an extra row, sorted
    ops: np.ndarray  # each counter's op, a position in `names`
    shapes: np.ndarray  # each counter's template, a position in `templates`
    templates: list[tuple[tuple, ...]]  # the rows a counter adds, less their op
    extra: list[tuple]  # the rows after the counters', whole

    def rows(self) -> list[tuple]:
        """The rows, plain."""
        names, templates = self.names, self.templates
        counted = [
            (names[op], *row)
            for op, shape in zip(self.ops.tolist(), self.shapes.tolist())
            for row in templates[shape]
        ]
        return counted + self.extra

    @cached_property
    def codes(self) -> np.ndarray:
        """Each row's op, as its position in `names`."""
        rank = {op: i for i, op in enumerate(self.names)}
        extra = np.array([rank[row[0]] for row in self.extra], np.int64)
        return np.concatenate([np.repeat(self.ops, self._lengths), extra])

    @cached_property
    def energy(self) -> np.ndarray:
        """Each row's energy (pJ), float64."""
        return self.column(lambda row: float(row[ENERGY]), np.float64)

    @cached_property
    def on_die(self) -> np.ndarray:
        """Whether each row is on the die."""
        return self.column(lambda row: bool(row[ON_DIE]), bool)

    def column(self, value, dtype) -> np.ndarray:
        """`value(row)` of every row (row less its op), as a numpy array of `dtype`: worked out
        once per template row and gathered."""
        flat = np.array([value(row) for rows in self.templates for row in rows], dtype=dtype)
        extra = np.array([value(row[1:]) for row in self.extra], dtype=dtype)
        return np.concatenate([flat[self._gather], extra])

    @cached_property
    def _sizes(self) -> np.ndarray:
        """Rows per template."""
        return np.array([len(rows) for rows in self.templates], np.int64)

    @cached_property
    def _lengths(self) -> np.ndarray:
        """Rows per counter."""
        return self._sizes[self.shapes]

    @cached_property
    def _gather(self) -> np.ndarray:
        """For each counter row, its row's position among all templates' rows laid end to end."""
        firsts = np.cumsum(self._sizes) - self._sizes
        lengths = self._lengths
        ends = np.cumsum(lengths)
        within = np.arange(int(lengths.sum()))  # each row's place among the counters' rows
        return np.repeat(firsts[self.shapes] - (ends - lengths), lengths) + within
