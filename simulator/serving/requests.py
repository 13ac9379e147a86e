"""Request streams: arrival times and prompt/output lengths, synthetic (seeded) or from a trace CSV.

A trace CSV has one row per request: arrival time in seconds (or a timestamp), prompt tokens and
output tokens. The public Azure LLM inference trace columns (TIMESTAMP, ContextTokens,
GeneratedTokens) load as they are; so do arrival_s, prompt_tokens, output_tokens.
"""

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.errors import SpecError
from simulator.spec.guards import DEFAULT_LIMITS
from simulator.spec.textio import check_readable

REQUEST_BYTES = 6 * 2**10
"""Host bytes a request holds through a serving run: its spec, its state in the engine and its
rows in the result (measured: 2,000 -> 20,000 requests on a100-like raised the peak by 100 MB)."""
MAX_MEMORY = DEFAULT_LIMITS.max_memory
"""The host memory a request stream may take: the cost guards' default for a run."""

LAST_ARRIVAL_S = 2**52 * 1e-9
"""The latest arrival a run times exactly: past 2^52 ns (52 days) a float64 time no longer
resolves a nanosecond, and microsecond iterations would round away."""

TRACE_COLUMNS = (
    ("arrival_s", "prompt_tokens", "output_tokens"),
    ("TIMESTAMP", "ContextTokens", "GeneratedTokens"),
)


@dataclass(frozen=True)
class RequestSpec:
    """One request as it arrives: when (s, from the start), how long its prompt and its answer are."""

    rid: int
    arrival_s: float
    prompt_tokens: int
    output_tokens: int

    def __post_init__(self):
        """A request the serving run can time: a 0-token prompt, an arrival of NaN or -1 s and a
        fraction of a token were served as given, a text arrival was a TypeError."""
        counts = {"rid": (self.rid, 0), "prompt_tokens": (self.prompt_tokens, 1)}
        counts["output_tokens"] = (self.output_tokens, 1)
        for name, (value, least) in counts.items():
            if not _integer(value) or value < least:
                raise SpecError(
                    f"request {self.rid!r}: {name} must be an integer >= {least}, got {value!r}"
                )
        arrival = self.arrival_s
        if not (_real(arrival) and 0 <= arrival <= LAST_ARRIVAL_S):
            raise SpecError(
                f"request {self.rid}: arrival_s must be a time in [0, {LAST_ARRIVAL_S:.3g}] s, "
                f"got {arrival!r}"
            )


def _integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Lengths:
    """Prompt and output lengths: fixed (`*_sd` 0) or lognormal around the mean, clipped to [1, max]."""

    prompt_mean: int = 512
    output_mean: int = 128
    prompt_sd: float = 0.0
    output_sd: float = 0.0
    max_tokens: int = 4096

    def __post_init__(self):
        for name in ("prompt_mean", "output_mean", "max_tokens"):
            value = getattr(self, name)
            if not _whole(value) or value < 1:
                raise SpecError(f"lengths: {name} must be a positive integer, got {value!r}")
        for name in ("prompt_sd", "output_sd"):
            if not 0 <= getattr(self, name) <= self.max_tokens:
                raise SpecError(
                    f"lengths: {name} must be in [0, max_tokens = {self.max_tokens}] (lengths are "
                    f"clipped to [1, max_tokens]), got {getattr(self, name)!r}"
                )

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        return (
            _lognormal(rng, self.prompt_mean, self.prompt_sd, n, self.max_tokens),
            _lognormal(rng, self.output_mean, self.output_sd, n, self.max_tokens),
        )


def _whole(value: object) -> bool:
    """True for an integer, or a real number with no fraction (a sweep axis may give 512.0)."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and float(value).is_integer()
    )


def _lognormal(rng, mean: float, sd: float, n: int, top: int) -> np.ndarray:
    """n integer lengths with this mean and standard deviation (lognormal; sd 0: all equal)."""
    if sd <= 0:
        return np.full(n, int(mean), dtype=np.int64)
    sigma2 = np.log1p((sd / mean) ** 2)
    draws = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), n)
    return np.clip(np.rint(draws), 1, top).astype(np.int64)


def poisson(rate: float, n: int, lengths: Lengths, seed: int = 0) -> list[RequestSpec]:
    """n requests arriving as a Poisson process of `rate` requests/s."""
    return gamma(rate, 1.0, n, lengths, seed)


def gamma(rate: float, cv: float, n: int, lengths: Lengths, seed: int = 0) -> list[RequestSpec]:
    """n requests with gamma-distributed gaps of mean 1/rate and coefficient of variation `cv`
    (1: Poisson; above 1: bursty)."""
    check_count(n)
    if not (0 < rate < math.inf and 0 < cv < math.inf):
        raise SpecError(f"arrivals: rate ({rate}), cv ({cv}) and requests ({n}) must be positive")
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):  # float64 as Python's floats, but inf where they would raise
        shape = 1.0 / np.float64(cv) ** 2
        scale = 1.0 / (rate * shape)
    if not (0 < shape < math.inf and 0 < scale < math.inf):
        raise SpecError(
            f"arrivals: rate ({rate:g}) and cv ({cv:g}) give a gamma shape or scale a float "
            "cannot hold; bring them nearer 1"
        )
    gaps = rng.gamma(shape, scale, n)
    gaps[0] = 0.0  # the first request opens the run
    prompts, outputs = lengths.draw(rng, n)
    arrivals = np.cumsum(gaps)
    _check_span(arrivals, f"arrivals at rate {rate:g}/s")
    return _specs(arrivals, prompts, outputs)


def fixed_batch(n: int, lengths: Lengths, seed: int = 0) -> list[RequestSpec]:
    """n requests all at time 0 (an offline batch; also each closed-loop user's request shape)."""
    check_count(n)
    prompts, outputs = lengths.draw(np.random.default_rng(seed), n)
    return _specs(np.zeros(n), prompts, outputs)


def check_count(n: object, source: str = "requests") -> None:
    """A stream of n requests is a positive integer count whose run fits the host's memory (10^9
    requests would take terabytes, and fail or swap long before they are served)."""
    if not _whole(n) or n < 1:
        raise SpecError(f"{source}: give a positive integer number of requests, got {n!r}")
    if n * REQUEST_BYTES > MAX_MEMORY:
        raise SpecError(
            f"{source}: {n:,} requests need about {n * REQUEST_BYTES / 2**30:,.0f} GiB of host "
            f"memory ({REQUEST_BYTES // 2**10} KiB each), above the limit of "
            f"{MAX_MEMORY / 2**30:.0f} GiB; serve at most {MAX_MEMORY // REQUEST_BYTES:,}"
        )


def load_trace(path: str | Path, limit: int | None = None) -> list[RequestSpec]:
    """Requests from a trace CSV (columns above); timestamps are shifted so the first arrives at 0."""
    check_readable(Path(path))
    if limit is not None:
        check_count(limit)
    try:
        frame = pd.read_csv(path, nrows=limit)
        header = pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()
    except (OSError, ValueError) as error:
        raise SpecError(f"{path}: cannot read as CSV: {error}") from None
    read = {name for names in TRACE_COLUMNS for name in names}
    twice = sorted({name for name in header if name in read and header.count(name) > 1})
    if twice:  # pandas names the second 'arrival_s.1' and reads the first: which one was meant?
        raise SpecError(f"{path}: row 1: column {', '.join(twice)} given twice")
    columns = next((c for c in TRACE_COLUMNS if set(c) <= set(frame.columns)), None)
    if columns is None:
        raise SpecError(
            f"{path}: needs columns {', '.join(TRACE_COLUMNS[0])} "
            f"(or Azure's {', '.join(TRACE_COLUMNS[1])}); has {', '.join(frame.columns)}"
        )
    if frame.empty:
        raise SpecError(f"{path}: no requests (a header and no rows)")
    check_count(len(frame), str(path))
    when, prompt, output = (frame[c] for c in columns)
    for name in columns:  # True/False cells were read as 1 and 0: seconds or tokens
        if pd.api.types.is_bool_dtype(frame[name]):
            raise SpecError(f"{path}: {name}: holds true/false, not numbers")
    if not pd.api.types.is_numeric_dtype(when):
        try:
            stamps = pd.to_datetime(when, format="mixed")
        except (ValueError, TypeError) as error:
            raise SpecError(f"{path}: {columns[0]}: not a time: {error}") from None
        when = (stamps - stamps.min()).dt.total_seconds()
    _first_bad(path, columns[0], ~np.isfinite(when.to_numpy(dtype=float)), "a finite time")
    for name, values in zip(columns[1:], (prompt, output), strict=True):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(numbers) & (numbers >= 1) & (numbers == np.floor(numbers))
        _first_bad(path, name, ~whole, "a positive integer")
    order = np.argsort(when.to_numpy(dtype=float), kind="stable")
    arrivals = when.to_numpy(dtype=float)[order]
    _check_span(arrivals - arrivals[0], f"{path}: {columns[0]}")
    return _specs(arrivals - arrivals[0], prompt.to_numpy()[order], output.to_numpy()[order])


def _check_span(arrivals: np.ndarray, source: str) -> None:
    """Arrivals from 0 to at most LAST_ARRIVAL_S (a trace in ms read as s, years between two
    timestamps, or a rate off by orders would time iterations as zero)."""
    if arrivals[-1] > LAST_ARRIVAL_S:
        raise SpecError(
            f"{source}: the last request arrives {arrivals[-1]:.3g} s after the first, past "
            f"{LAST_ARRIVAL_S:.3g} s (where a float64 time no longer resolves a nanosecond)"
        )


def _first_bad(path, column: str, bad: np.ndarray, expected: str) -> None:
    """SpecError naming the file, row (as a spreadsheet numbers it) and column of the first bad
    value, if any."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise SpecError(f"{path}: row {row}: {column}: must be {expected}")


def _specs(arrivals, prompts, outputs) -> list[RequestSpec]:
    return [
        RequestSpec(i, float(t), int(p), int(o))
        for i, (t, p, o) in enumerate(zip(arrivals, prompts, outputs, strict=True))
    ]
