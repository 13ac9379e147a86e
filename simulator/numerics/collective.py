"""Collective numerics: the real arrays of every core, moved and summed round by round as the
schedule says, then checked against the sum / concatenation computed directly."""

import numpy as np

from simulator.numerics.formats import random_operand
from simulator.numerics.gemm import NumericsResult
from simulator.numerics.rounding import gamma


class CollectiveNumerics:
    """Per-core 1-D arrays; `receive` is the kernel of one transfer of the schedule."""

    def __init__(
        self,
        pattern: str,
        arrays: list[np.ndarray],
        chunks: list[tuple[int, int]],
        kept,
        owner_of_chunk,
    ):
        """`kept(core)`: the (lo, hi) a core must hold correctly at the end; `owner_of_chunk(c)`:
        the core whose chunk c all_gather distributes."""
        self.pattern, self.arrays, self.chunks = pattern, arrays, chunks
        self.kept, self.owner_of_chunk = kept, owner_of_chunk
        self.original: list[np.ndarray] | None = (
            None  # taken at the first move: producers run first
        )
        self.received = np.zeros(len(arrays), np.int64)

    @staticmethod
    def random_arrays(cores: int, elements: int, dtype: str, seed: int) -> list[np.ndarray]:
        """Per-core data: small integers (sums stay exact) or values rounded to a float format."""
        rng = np.random.default_rng(seed)
        if dtype.startswith("int"):
            return [rng.integers(-1000, 1000, elements).astype(np.int64) for _ in range(cores)]
        return [random_operand(rng, (elements,), dtype).astype(np.float64) for _ in range(cores)]

    def receive_range(self, src: int, dst: int, lo: int, hi: int, reduce: bool) -> None:
        """dst's elements lo:hi += (or :=) src's."""
        if self.original is None:
            self.original = [a.copy() for a in self.arrays]
        if reduce:
            self.arrays[dst][lo:hi] += self.arrays[src][lo:hi]
        else:
            self.arrays[dst][lo:hi] = self.arrays[src][lo:hi]
        self.received[dst] += 1

    def expected(self) -> np.ndarray:
        """The sum (all_reduce, reduce_scatter; float64 for float arrays) or the concatenation of
        owned chunks (all_gather)."""
        if self.original is None:  # one core: nothing moved
            self.original = [a.copy() for a in self.arrays]
        if self.pattern == "all_gather":
            return np.concatenate(
                [
                    self.original[self.owner_of_chunk(c)][lo:hi]
                    for c, (lo, hi) in enumerate(self.chunks)
                ]
            )
        if self.arrays[0].dtype.kind == "f":
            return np.sum(np.asarray(self.original, dtype=np.float64), axis=0)
        return np.sum(self.original, axis=0)

    def _bound(self) -> np.ndarray | float:
        """Allowed |error| per element: 0 for copies and integer sums; for float sums of n
        arrays, Higham's gamma_(n-1) sum |x_i| in the arrays' own precision (the ring adds the
        partials in its own order, e.g. fp32 accumulators of a row-parallel GEMM)."""
        dtype = self.arrays[0].dtype
        if self.pattern == "all_gather" or dtype.kind != "f":
            return 0.0
        n = len(self.arrays) - 1
        u = float(np.finfo(dtype).eps) / 2 + float(np.finfo(np.float64).eps) / 2
        magnitude = np.abs(np.asarray(self.original, dtype=np.float64)).sum(axis=0)
        return gamma(n, u) * magnitude

    def check(self) -> NumericsResult:
        """Every core's kept range against the directly computed result."""
        worst, scale, within, allowed = 0.0, 1.0, True, 0.0
        expected = self.expected()
        bound = self._bound()
        for core, array in enumerate(self.arrays):
            lo, hi = self.kept(core)
            want = expected[lo:hi]
            error = np.abs(array[lo:hi] - want)
            limit = bound[lo:hi] if isinstance(bound, np.ndarray) else bound
            within = within and bool(np.all(error <= limit))
            worst = max(worst, float(error.max(initial=0)))
            scale = max(scale, float(np.abs(want).max(initial=0)))
            allowed = max(allowed, float(np.max(limit, initial=0)))
        coverage_ok = bool(np.all(self.received > 0)) or len(self.arrays) == 1
        message = "every core received its share" if coverage_ok else "a core received nothing"
        return NumericsResult(
            worst, worst / scale, allowed, within and coverage_ok, coverage_ok, message
        )
