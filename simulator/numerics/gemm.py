"""GEMM numerics: tile kernels on the exact regions each Compute names, and the final check.

Integers: products summed exactly (float64 is exact for int8 x int8 sums below 2^53; wider
operands in int64, which wraps modulo 2^64), then held in the accumulator width. An integer
accumulator wraps modulo 2^bits (two's complement, as hardware adders do), and the reference is
always the exact sum: an output that wrapped is a mismatch, whether the output is the accumulator
itself or requantized to a narrower `output_dtype`; the message says how many wrapped and how
many bits the accumulator needs (in_a + in_b + ceil(log2 K)). Floats:
operands rounded to their format, products and sums in fp32, as a MAC array with fp32
accumulators does, and each finished sum rounded to the output's format where it is narrower
(bf16 C of bf16 inputs); an output past that format's range overflows (inf, or NaN in fp8_e4m3)
and is a mismatch. The reference is float64 / exact int64 on the same operands.
"""

import functools
import itertools
import math
import threading
from dataclasses import dataclass, field

import numpy as np

from simulator.numerics.ahead import Ahead
from simulator.numerics.formats import random_operand, smallest_subnormal, storage, unit_roundoff
from simulator.numerics.rounding import gamma as rounding_gamma
from simulator.spec.precision import precision


@dataclass(frozen=True)
class NumericsResult:
    """Outcome of one op's check against the reference."""

    max_abs_error: float
    max_rel_error: float
    error_bound: float  # largest error allowed by the precision (0 for integers)
    ok: bool  # errors within bound and coverage correct
    coverage_ok: bool
    coverage_message: str
    checked: str = field(default="all outputs", kw_only=True)
    """What the errors were measured on: all outputs, or a sample that names its tiles."""


INTERIOR_SAMPLE = 30
"""Interior output tiles a sampled check computes (besides every edge tile): if none of 30
randomly chosen tiles is wrong, fewer than 10% of the interior tiles are, at 95% confidence
(the rule of three, 3/30)."""


BLOCK_ROWS, BLOCK_COLS = 256, 2048
SCAN_ELEMENTS = 1 << 20  # elements of an operand scanned at once for its extremes
"""The check's block of outputs: B's columns are widened to float64 up to 2048 at a time, and
A's row panels, the references, bounds and errors are 256 rows each, so the check's memory stays
small whatever the GEMM (checking 4096 x 4096 x 1024 grew the peak by 473 MiB as whole arrays,
by 4 MiB in blocks) and each block reuses what the last one freed."""


AHEAD_BYTES = 64 << 20
"""Bytes of reference blocks `start_check` may compute before the check takes them (a 256 x 2048
float block is 6 MiB: its float64 reference and fp32 magnitudes), so a background thread can do
most of a 2048^2 output's check while the engine runs without holding a larger one whole."""


class _Panels:
    """B's column panels as the float check's reference needs them (float64, and |B| in fp32 or
    float64), each widened once and shared by the threads computing blocks; the `keep` latest
    kept (blocks come column panel by column panel: two threads use at most two panels)."""

    def __init__(self, b: np.ndarray, magnitudes_fp32: bool, keep: int):
        self._b, self._magnitudes_fp32, self._keep = b, magnitudes_fp32, keep
        self._kept: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def get(self, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        key = (cols.start, cols.stop)
        with self._lock:
            if key not in self._kept:
                b = self._b[:, cols].astype(np.float64)
                b_abs = np.abs(self._b[:, cols]) if self._magnitudes_fp32 else np.abs(b)
                self._kept[key] = (b, b_abs)
                while len(self._kept) > self._keep:
                    del self._kept[next(iter(self._kept))]
            return self._kept[key]


class _Sample:
    """Which output tiles a sampled check computes; shared by a GEMM's K-split parts."""

    def __init__(self):
        self.on = False
        self.seed = 0
        self.probability = 1.0
        self.chosen: dict[tuple[int, int, int, int], str] = {}  # region -> edge, interior or ""


class GemmNumerics:
    """Operands, accumulator and coverage counts of one GEMM; `tile` is the per-Compute kernel."""

    def __init__(
        self,
        M: int,
        N: int,
        K: int,
        dtype: str,
        accumulator: str,
        seed: int,
        output: str | None = None,
    ):
        rng = np.random.default_rng(seed)
        self.dtype, self.accumulator, self.K = dtype, accumulator, K
        self.output = output  # narrower than the accumulator: requantized, or rounded (floats)
        self.a = random_operand(rng, (M, K), dtype)  # [M, K]
        self.b = random_operand(rng, (K, N), dtype)  # [K, N]
        self.is_int = precision(dtype).is_int
        # Integer tiles run in fp32 BLAS when no partial sum exceeds 2^24 (then exact), else fp64.
        self._largest_product = _largest_product(self.a, self.b) if self.is_int else 0
        # sums that may pass 2^53 are inexact in float64: accumulate in int64 (exact modulo 2^64)
        self._wide = self.is_int and K * self._largest_product >= 2**53
        self._a = self.a.astype(np.int64 if self._wide else np.float32)
        self._b = self.b.astype(np.int64 if self._wide else np.float32)
        self._a64 = self._b64 = None
        ctype = np.int64 if self._wide else np.float64 if self.is_int else np.float32
        self.c = np.zeros((M, N), dtype=ctype)
        self.coverage = np.zeros((M, N), dtype=np.int32)  # K elements reduced into each output
        self._sample = _Sample()
        self._given = None  # the check's references, computed ahead (`references_ahead`)
        self._panels: _Panels | None = None  # B's column panels while the check runs

    def sample_tiles(self, seed: int) -> None:
        """Compute and check only a seeded sample of output tiles: every edge tile (partial tiles
        and the borders, where tiling bugs show) and about INTERIOR_SAMPLE interior ones. Coverage
        is still counted for every output, so a missing or doubled tile is always caught."""
        self._sample.on, self._sample.seed = True, seed

    def _sampled(self, m0: int, m1: int, n0: int, n1: int) -> bool:
        sample = self._sample
        if not sample.on:
            return True
        region = (m0, m1, n0, n1)
        if region not in sample.chosen:
            M, N = self.c.shape
            if not sample.chosen:  # first tile: its size gives the grid of output tiles
                rows, cols = -(-M // (m1 - m0)), -(-N // (n1 - n0))
                interior = max(rows - 2, 0) * max(cols - 2, 0)
                sample.probability = min(1.0, INTERIOR_SAMPLE / interior) if interior else 1.0
            if m0 == 0 or n0 == 0 or m1 == M or n1 == N:
                sample.chosen[region] = "edge"
            elif np.random.default_rng([sample.seed, m0, n0]).random() < sample.probability:
                sample.chosen[region] = "interior"
            else:
                sample.chosen[region] = ""
        return bool(sample.chosen[region])

    def tile(self, m: tuple[int, int], n: tuple[int, int], k: tuple[int, int]) -> None:
        """C[m, n] += A[m, k] @ B[k, n] in the accumulator precision."""
        (m0, m1), (n0, n1), (k0, k1) = m, n, k
        self.coverage[m0:m1, n0:n1] += k1 - k0
        if not self._sampled(m0, m1, n0, n1):
            return
        a, b = self._a, self._b
        if self.is_int and not self._wide and (k1 - k0) * self._largest_product > 2**24:
            if self._a64 is None:
                self._a64, self._b64 = self.a.astype(np.float64), self.b.astype(np.float64)
            a, b = self._a64, self._b64
        self.c[m0:m1, n0:n1] += a[m0:m1, k0:k1] @ b[k0:k1, n0:n1]  # [m, k] @ [k, n] -> [m, n]

    @functools.cached_property
    def _rounded(self) -> bool:
        """Whether float sums are rounded to a narrower float output format as they are written."""
        return (
            not self.is_int
            and self.output is not None
            and not precision(self.output).is_int
            and precision(self.output).bits < precision(self.accumulator).bits
        )

    def _written(self, block: np.ndarray) -> np.ndarray:
        """A block of float sums as written in the output format (round to nearest even; past
        the format's range inf, or NaN where it has none), held in fp32 again for the check."""
        with np.errstate(over="ignore"):
            return block.astype(storage(self.output)).astype(np.float32)

    def _rounding_allowance(self, rows: slice, cols: slice) -> np.ndarray:
        """Per output, the most that rounding its fp32 sum s to the output format can move it:
        u |s| + (the smallest subnormal) / 2, u the format's unit roundoff (Higham, Accuracy and
        Stability, 2.1-2.2: fl(x) = x (1 + d) + e, |d| <= u, |e| <= half the subnormal spacing)."""
        allowance = np.abs(self.c[rows, cols].astype(np.float64))
        allowance *= unit_roundoff(self.output)
        allowance += smallest_subnormal(self.output) / 2
        return allowance

    @property
    def _requantized(self) -> bool:
        return (
            self.output is not None
            and precision(self.output).is_int
            and precision(self.output).bits < precision(self.accumulator).bits
        )

    def partial(self) -> "GemmNumerics":
        """A K-split part: the same operands, its own accumulator and coverage (zeroed)."""
        part = object.__new__(GemmNumerics)
        part.__dict__.update(self.__dict__)
        part.c = np.zeros_like(self.c)
        part.coverage = np.zeros_like(self.coverage)
        return part

    def reduce(self, region, partials: list["GemmNumerics"]) -> None:
        """Add every part's partial sums of an output tile into this (the final) accumulator."""
        (m0, m1), (n0, n1) = region
        for part in partials:
            self.c[m0:m1, n0:n1] += part.c[m0:m1, n0:n1]
            self.coverage[m0:m1, n0:n1] += part.coverage[m0:m1, n0:n1]

    def result(self) -> np.ndarray:
        """The output as the hardware holds it (integers wrap to the accumulator width; float
        sums rounded to a narrower output format)."""
        if not self.is_int:
            return self._written(self.c) if self._rounded else self.c
        return wrap(self.c, self.accumulator)

    def _held(self, rows: slice, cols: slice) -> np.ndarray:
        """One block of the output as the hardware holds it (see `result`), wrapped or rounded
        block by block so that costs one block's copy, not the whole output's."""
        block = self.c[rows, cols]
        if self.is_int:
            return wrap(block, self.accumulator)
        return self._written(block) if self._rounded else block

    def _check_blocks(self) -> list[tuple[slice, slice]]:
        """The (rows, cols) blocks of the outputs compared (all, or the sampled tiles), in the
        check's order (BLOCK_ROWS x BLOCK_COLS: small float64 temporaries instead of
        whole-problem ones)."""
        if self._sample.on:
            regions = [r for r, kind in self._sample.chosen.items() if kind]
        else:
            regions = [(0, self.c.shape[0], 0, self.c.shape[1])]
        return [block for region in regions for block in _blocks(region)]

    @functools.cached_property
    def _magnitudes_fp32(self) -> bool:
        """Whether the float check sums Higham's magnitudes in fp32 (see Fp32Bound)."""
        return not self.is_int and _magnitudes_fit_fp32(self.dtype, self._a, self._b, self.K)

    def _references(self, blocks: list[tuple[slice, slice]]):
        """Each block's `_reference`, in order: from the thread `references_ahead` began, else
        computed here."""
        if self._given is not None:
            given, self._given = self._given, None
            return itertools.islice(given, len(blocks))
        return (self._reference(rows, cols) for rows, cols in blocks)

    def _reference(self, rows: slice, cols: slice) -> tuple[np.ndarray, ...]:
        """What one block's check needs that depends on the operands only. Integers: the exact sum
        (beyond int64 where it must be), so a wrapped accumulator shows as an error. Floats: the
        float64 A @ B, and Higham's magnitudes |A| @ |B| in fp32 where `_magnitudes_fp32` (see
        Fp32Bound), else in float64 times gamma_K (the bound itself)."""
        if self.is_int:
            return (exact_int_matmul(self.a[rows], self.b[:, cols]),)
        if self._panels is None:  # the check computing every block itself: one panel at a time
            self._panels = _Panels(self._b, self._magnitudes_fp32, keep=1)
        b, b_abs = self._panels.get(cols)
        a = self._a[rows]
        reference = a.astype(np.float64) @ b
        if self._magnitudes_fp32:
            return reference, np.abs(a) @ b_abs
        bound = np.abs(a.astype(np.float64)) @ b_abs
        bound *= self._gamma
        return reference, bound

    @functools.cached_property
    def _gamma(self) -> float:
        """Higham's bound for a length-K fp32 dot product: |err| <= gamma_K * sum |a||b|."""
        return rounding_gamma(self.K, unit_roundoff("fp32"))

    def _compared(self, blocks: list[tuple[slice, slice]]):
        """(result, reference, bound, rounding allowance) of each block; integers have no bound
        (exact), and only float outputs narrower than the accumulator an allowance."""
        for (rows, cols), reference in zip(blocks, self._references(blocks), strict=True):
            held = self._held(rows, cols)
            if self.is_int:
                yield held, reference[0], np.zeros(0), None
                continue
            allowance = self._rounding_allowance(rows, cols) if self._rounded else None
            if self._magnitudes_fp32:
                exact = functools.partial(self._exact_magnitudes, rows, cols)
                bound = Fp32Bound(self._gamma, self.K, reference[1], exact)
                yield held, reference[0], bound, allowance
            else:
                yield held, reference[0], reference[1], allowance

    def _exact_magnitudes(self, rows: slice, cols: slice) -> np.ndarray:
        """|A| @ |B| of one block in float64 (where Fp32Bound's sides do not decide)."""
        a_abs, b_abs = np.abs(self._a[rows]), np.abs(self._b[:, cols])
        return a_abs.astype(np.float64) @ b_abs.astype(np.float64)

    def check(self) -> NumericsResult:
        """Compare with the reference (on every output, or on the sampled tiles), and check every
        output's K coverage."""
        if self._sample.on:
            kinds = list(self._sample.chosen.values())
            edges = kinds.count("edge")
            checked = (
                f"sample: all {edges} edge and {kinds.count('interior')} of "
                f"{len(kinds) - edges} interior output tiles"
            )
        else:
            checked = "all outputs"
        blocks = self._check_blocks()
        if self.is_int and self._requantized:
            errors, wrapped = self._requantized_errors(blocks)
        else:
            errors = [self._errors(*block) for block in self._compared(blocks)]
            wrapped = sum(block[0] for block in errors)  # counted per block, on the exact sums
        wrong = np.argwhere(self.coverage != self.K)
        coverage_ok = wrong.size == 0
        if coverage_ok:
            message = "every output reduced over all K exactly once"
        else:
            i, j = wrong[0]
            message = (
                f"{len(wrong)} outputs reduced over the wrong K extent "
                f"(C[{i}, {j}] got {self.coverage[i, j]} of K={self.K})"
            )
        if not self.is_int and self.K * unit_roundoff("fp32") >= 1:
            message += (
                f"; K={self.K:,} fp32 roundings reach K u >= 1: the bound (e^(K u) - 1) "
                "guarantees no digit"
            )
        if wrapped and not self.is_int:
            message += f"; {wrapped:,} outputs overflowed {self.output or self.accumulator}"
        elif wrapped:
            message += "; " + wrap_message(wrapped, self.accumulator, self.dtype, self.K)
        elif self.is_int:
            message += f"; {self.accumulator} accumulator"
        within = all(block[4] for block in errors)
        self._panels = None
        return NumericsResult(
            _worst(block[1] for block in errors),
            _worst(block[2] for block in errors),
            _worst(block[3] for block in errors),
            within and coverage_ok,
            coverage_ok,
            message,
            checked=checked,
        )

    def _requantized_errors(self, blocks: list[tuple[slice, slice]]) -> tuple[list, int]:
        """Errors of the outputs compared (all, or the sample) requantized with one shared scale,
        set by their largest exact sum, and how many exact sums wrapped; in two passes over
        blocks, so the check holds one block at a time. The first finds the scale, counts the
        wrapped sums and notes the blocks whose hardware sums differ from the exact ones; the
        second requantizes those (a block equal before requantizing is equal after: no error).
        Their references are computed again rather than kept."""
        largest, wrapped, differing = 0.0, 0, []
        for (rows, cols), (reference,) in zip(blocks, self._references(blocks), strict=True):
            largest = max(largest, largest_magnitude(reference))
            wrapped += _outside(reference.ravel(), self.accumulator)
            if not np.array_equal(self._held(rows, cols), reference):
                differing.append((rows, cols))
        bits = precision(self.output).bits
        shift = requant_shift(largest, bits)
        errors = []
        for rows, cols in differing:
            (reference,) = self._reference(rows, cols)
            requantized = (
                requantize(side, shift, bits) for side in (self._held(rows, cols), reference)
            )
            errors.append(self._errors(*requantized, np.zeros(0)))
        return errors, wrapped

    def _errors(self, result, reference, bound_matrix, allowance=None):
        """Of one block: outputs wrapped (integers) or overflowed (floats: not finite where the
        reference is), largest absolute and relative error, largest bound, and whether every
        error is within its bound (integers: zero; floats: the fp32 sum's bound plus the
        `allowance` its rounding to the output format may add)."""
        if self.is_int:
            wrapped = _outside(reference.ravel(), self.accumulator)
        else:
            wrapped = int(np.count_nonzero(~np.isfinite(result) & np.isfinite(reference)))
        error = _difference(result, reference)
        scale = np.abs(reference.astype(np.float64, copy=False))
        np.maximum(scale, 1.0, out=scale)
        judged = error if allowance is None else np.maximum(error - allowance, 0.0)
        if self.is_int:
            within = bool(np.all(error == 0))
        elif isinstance(bound_matrix, Fp32Bound):
            within = bound_matrix.holds(judged)
            bound_matrix = bound_matrix.upper
        else:
            within = bool(np.all(judged <= bound_matrix))
        if allowance is not None:
            bound_matrix = bound_matrix + allowance
        return (
            wrapped,
            float(error.max(initial=0.0)),
            float(np.divide(error, scale, out=scale).max(initial=0.0)),
            float(bound_matrix.max(initial=0.0)),
            within,
        )


def references_ahead(gemms: list[GemmNumerics]) -> Ahead | None:
    """Start computing the references of these GEMMs' full checks (they depend on the operands
    only) on a background thread, while the engine runs the tile kernels; at most AHEAD_BYTES of
    them wait for the checks, which take them in this order (the check runs any block the thread
    has not reached; a GEMM listed twice is computed ahead once, for its first check). A sampled
    check's tiles are known only once the kernels have run: it computes its references when it
    runs. The caller stops the thread (Ahead.stop) when done."""
    full = [gemm for gemm in {id(gemm): gemm for gemm in gemms}.values() if not gemm._sample.on]
    if not full:
        return None
    tasks = []
    for gemm in full:
        if not gemm.is_int:  # decided here, before the two threads share them
            gemm._panels = _Panels(gemm._b, gemm._magnitudes_fp32, keep=2)
        tasks += [functools.partial(gemm._reference, *block) for block in gemm._check_blocks()]
    ahead = Ahead(tasks, AHEAD_BYTES)
    results = ahead.results()
    for gemm in full:
        gemm._given = results
    return ahead


class Fp32Bound:
    """Higham's bound gamma_K * S (S = |A| @ |B|) of one block, from S' = fl32(|A| @ |B|): half
    the cost of S in float64. With no product below fp32's normal range and no sum near its top
    (`_magnitudes_fit_fp32`), every one of S's K terms passes at most K roundings, each within
    (1 +- u), so S'/(1 + gamma_K) <= S <= S'/(1 - K u) (Higham, Accuracy and Stability, 3.1-3.5:
    any summation order). `upper` is the reported bound, valid and at most about 2 K u above
    gamma_K * S; an error between the two sides is judged on S in float64, as the float64 check
    does, so every verdict is the float64 check's."""

    def __init__(self, gamma: float, K: int, magnitudes: np.ndarray, exact):
        u = unit_roundoff("fp32")
        # float64's own roundings: of this scaling, and of S in the float64 check (K u64)
        slack = 1 + (K + 4) * 2.0**-52
        bound = magnitudes.astype(np.float64)
        self._lower = bound * (gamma / (1 + K * u / (1 - K * u)) / slack)
        bound *= gamma / (1 - K * u) * slack
        self.upper = bound
        self._exact, self._gamma = exact, gamma  # exact(): S = |A| @ |B| in float64

    def holds(self, error: np.ndarray) -> bool:
        """Whether every error is within gamma_K * S: decided by the sides where they decide,
        else on S in float64 (the same numbers as the float64 check)."""
        if np.all(error <= self._lower):
            return True
        if np.any(error > self.upper):
            return False
        exact = self._exact()
        exact *= self._gamma
        return bool(np.all(error <= exact))


def _magnitudes_fit_fp32(dtype: str, a: np.ndarray, b: np.ndarray, K: int) -> bool:
    """Whether |A| @ |B| in fp32 has relative rounding errors only: every nonzero product at
    least fp32's smallest normal (no underflow) and K times the largest below 2^127 (no
    overflow), and no operand itself subnormal (a BLAS that flushes subnormals to zero would
    undercount S'). fp16 guarantees it for any finite operands (its non-finite ones give the same
    inf or NaN bounds in either precision); other formats are scanned, NaN or inf failing. The
    argument assumes the fp32 matmul rounds as IEEE fp32 (no TF32 or bf16 fast modes), and
    K u < 1 (from K = 2^24 on S' bounds S by no relative margin)."""
    if K * unit_roundoff("fp32") >= 1:
        return False  # S' may be off by more than its size: no relative bound (float64 path)
    tiny = float(np.finfo(np.float32).tiny)
    if dtype == "fp16":
        fp16 = np.finfo(np.float16)
        return float(fp16.smallest_subnormal) ** 2 >= tiny and K * float(fp16.max) ** 2 < 2.0**127
    largest_a, smallest_a = _extremes(a)
    largest_b, smallest_b = _extremes(b)
    normal = min(smallest_a, smallest_b) >= tiny and smallest_a * smallest_b >= tiny
    return bool(K * largest_a * largest_b < 2.0**127) and normal


def _extremes(operand: np.ndarray) -> tuple[float, float]:
    """(largest, smallest nonzero) magnitude of an operand, scanned a few rows at a time so no
    whole-operand temporary is built (inf, 0 where a value is not finite: fp32 cannot hold it)."""
    rows = np.atleast_2d(operand)
    step = max(1, SCAN_ELEMENTS // max(1, rows.shape[1]))
    largest, smallest = 0.0, math.inf
    for start in range(0, rows.shape[0], step):
        chunk = np.abs(rows[start : start + step])
        peak = float(chunk.max(initial=0))
        if not math.isfinite(peak):
            return math.inf, 0.0
        largest = max(largest, peak)
        smallest = min(smallest, float(chunk[chunk > 0].min(initial=math.inf)))
    return largest, smallest


def wrap(values: np.ndarray, accumulator: str) -> np.ndarray:
    """Integers held in a two's-complement accumulator of that precision's width (wrapping)."""
    bits = precision(accumulator).bits
    if bits >= 64 and values.dtype == np.int64:
        return values  # int64 arithmetic already wraps modulo 2^64
    half = 2 ** (bits - 1)
    if values.size == 0 or (values.max().item() < half and values.min().item() >= -half):
        return values  # nothing wraps (exact integers, in float64 or int64; no |values| copy)
    return (values.astype(np.int64) + half) % (2 * half) - half


def _outside(exact: np.ndarray, accumulator: str) -> int:
    """How many exact sums a two's-complement accumulator of that width cannot hold."""
    half = 2 ** (precision(accumulator).bits - 1)
    if exact.dtype == object:
        return sum(1 for value in exact if not -half <= value < half)
    if exact.dtype == np.int64 and half >= 2**63:
        return 0
    return int(np.count_nonzero((exact < -half) | (exact >= half)))


def _difference(result: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """|result - reference| as float64, the subtraction exact even for sums beyond 2^53."""
    if result.dtype.kind == "f" and reference.dtype.kind == "f":
        difference = result - reference
        return np.abs(difference, out=difference)
    difference = result.astype(object) - reference.astype(object)
    return np.abs(difference).astype(np.float64)


def accumulator_bits_needed(dtype: str, K: int) -> int:
    """Bits that hold any sum of K products of two `dtype` operands: in_a + in_b + ceil(log2 K)."""
    return 2 * precision(dtype).bits + max(K - 1, 0).bit_length()


def wrap_message(wrapped: int, accumulator: str, dtype: str, K: int) -> str:
    """The numerics message for outputs that overflowed their accumulator."""
    return (
        f"{wrapped:,} outputs wrapped in the {accumulator} accumulator "
        f"({dtype} x {dtype} over K={K:,} needs {accumulator_bits_needed(dtype, K)} bits; "
        f"set the array's accumulator_precision)"
    )


def _blocks(region: tuple[int, int, int, int]):
    """The (rows, cols) slices of one output region's check blocks (BLOCK_ROWS x BLOCK_COLS,
    the last ones partial), column panels outermost."""
    m0, m1, n0, n1 = region
    for c0 in range(n0, n1, BLOCK_COLS):
        cols = slice(c0, min(c0 + BLOCK_COLS, n1))
        for r0 in range(m0, m1, BLOCK_ROWS):
            yield slice(r0, min(r0 + BLOCK_ROWS, m1)), cols


def largest_magnitude(exact: np.ndarray) -> float:
    """The largest |value| of exact outputs (0 for none), as float64 for `requant_shift`."""
    return float(np.abs(exact).max(initial=0)) if exact.size else 0.0


def requant_shift(largest: float, bits: int) -> int:
    """The smallest right shift that brings exact outputs whose largest magnitude is `largest`
    into a signed `bits`-bit range (a per-tensor power-of-two scale, as calibrated integer
    accelerators use)."""
    limit = 2 ** (bits - 1) - 1
    shift = 0
    while np.floor(largest / 2**shift + 0.5) > limit:
        shift += 1
    return shift


def requantize(values: np.ndarray, shift: int, bits: int) -> np.ndarray:
    """Round-half-up right shift, saturated to signed `bits` bits."""
    half = 2 ** (bits - 1)
    return np.clip(np.floor(values.astype(np.float64) / 2**shift + 0.5), -half, half - 1)


def _largest_product(a: np.ndarray, b: np.ndarray) -> int:
    """Largest |a_ik * b_kj| the operands can form (bounds every partial sum with K)."""

    def magnitude(x):
        return max(-int(x.min(initial=0)), int(x.max(initial=0)))

    return magnitude(a) * magnitude(b)


def exact_int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer A @ B, independent of any mapping's tiling.

    K is cut into blocks whose fp32 sums cannot exceed 2^24 (exact in fp32 BLAS); the blocks are
    summed in float64, exact below 2^53, so the result holds exact integers. Operands too wide for
    that use numpy's int64 matmul, and sums that may pass 2^63 (long int32 dot products) are
    assembled from 16-bit halves into Python integers (an object array).
    """
    largest = _largest_product(a, b)
    if largest * a.shape[1] >= 2**63:
        return _beyond_int64_matmul(a, b)
    block = 2**24 // largest if largest else a.shape[1]
    if block < 64 or largest * a.shape[1] >= 2**53:
        return a.astype(np.int64) @ b.astype(np.int64)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.float64)
    for k0 in range(0, a.shape[1], block):
        out += a32[:, k0 : k0 + block] @ b32[k0 : k0 + block]  # [M, k] @ [k, N] -> [M, N]
    return out


def _beyond_int64_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact A @ B as Python integers for operands up to 32 bits: each splits into a signed high
    and an unsigned low 16-bit half, whose three partial products sum exactly in int64."""
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    ah, al, bh, bl = a64 >> 16, a64 & 0xFFFF, b64 >> 16, b64 & 0xFFFF
    high = (ah @ bh).astype(object)  # [M, N], weight 2^32
    middle = (ah @ bl + al @ bh).astype(object)  # weight 2^16
    low = (al @ bl).astype(object)
    return high * 2**32 + middle * 2**16 + low


def _worst(values) -> float:
    """The largest of the blocks' figures, NaN if any is NaN (Python's max drops a NaN after the
    first item, which would hide a NaN output outside the first block)."""
    values = list(values)
    return float(np.max(values)) if values else 0.0
