"""A memoized record's counters kept as the runs they came from: each repeat of a run is a
reference to the simulated run's counter columns and the names its ops take there, not one dict
entry per op, component and action (a 32-layer decode on a many-core chip has 420,000 of them).
The report prices a run's op counters once for every repeat (`groups`); anything else reading or
writing them gets the plain dict, built once, in the order the entries would have been added."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import MutableMapping
from itertools import groupby
from operator import itemgetter


class Collision(Exception):
    """A run's per-op entry met one already in the whole: its ops ran in another run too."""


class RunCounters:
    """One simulated run's counters as columns: op positions, components, actions and counts
    (floats), in the order the run added them; `by_op` works out each op's, sorted, once."""

    def __init__(self, counts: dict, index: dict[str, int]):
        ops, components, actions = zip(*counts) if counts else ((), (), ())
        self.ops = [index[op] for op in ops]
        self.components, self.actions = components, actions
        self.values = [0.0 + count for count in counts.values()]
        self.positions = sorted(set(self.ops))  # the ops with a counter
        self._by_op: list[tuple[int, list[tuple]]] | None = None

    def entries(self, names: list[str]):
        """((op, component, action), count) pairs, op position i named names[i]."""
        keys = zip(map(names.__getitem__, self.ops), self.components, self.actions)
        return zip(keys, self.values)

    def by_op(self) -> list[tuple[int, list[tuple]]]:
        """(op position, its (component, action, count) in sorted order) per op."""
        if self._by_op is None:
            rows = sorted(zip(self.ops, self.components, self.actions, self.values))
            self._by_op = [
                (i, [row[1:] for row in group]) for i, group in groupby(rows, key=itemgetter(0))
            ]
        return self._by_op


class RunCounts(MutableMapping):
    """(op, component, action) -> count, as the runs added in order, each a `RunCounters` and
    the names its op positions take. Missing keys read 0.0, as the engine's defaultdict(float)."""

    def __init__(self):
        self._runs: list[tuple[RunCounters, list[str]]] | None = []
        self._plain: defaultdict | None = None
        self._ops: set[str] = set()  # every op with a counter so far

    def add(self, run: RunCounters, names: list[str]) -> None:
        """Add a run's counters, op position i named names[i] (Collision where an op already
        has counters in the whole)."""
        counted = [names[i] for i in run.positions]
        if not self._ops.isdisjoint(counted):
            raise Collision("a run's op met another run's in the record")
        self._ops.update(counted)
        if self._runs is None:
            self._plain.update(run.entries(names))
        else:
            self._runs.append((run, names))

    def groups(self) -> list[tuple[str, object, list[tuple]]] | None:
        """Every op's counters, ops in sorted order: (op, its group's identity, its (component,
        action, count) in sorted order); the ops at one position of one simulated run share the
        identity and the list. None once the counters were read or written as a dict."""
        if self._runs is None:
            return None
        found = [
            (names[i], (id(run), i), rows) for run, names in self._runs for i, rows in run.by_op()
        ]
        found.sort(key=itemgetter(0))
        return found

    def actions(self) -> set[str]:
        """Every counter's action."""
        if self._runs is None:
            return {key[-1] for key in self._plain}
        runs = {id(run): run for run, _ in self._runs}.values()
        return {action for run in runs for action in run.actions}

    def _dict(self) -> defaultdict:
        """The plain dict, built on first use (the runs are then no longer kept)."""
        if self._plain is None:
            self._plain = defaultdict(float)
            for run, names in self._runs:
                self._plain.update(run.entries(names))
            self._runs = None
        return self._plain

    def __getitem__(self, key):
        return self._dict()[key]

    def __contains__(self, key) -> bool:  # as a dict's: a missing key is not made by asking
        return key in self._dict()

    def get(self, key, default=None):
        return self._dict().get(key, default)

    def __setitem__(self, key, value):
        self._dict()[key] = value

    def __delitem__(self, key):
        del self._dict()[key]

    def __iter__(self):
        return iter(self._dict())

    def __len__(self):
        return len(self._dict())

    def __repr__(self):
        return f"RunCounts({dict(self._dict())!r})"
