"""What one serving iteration costs, priced by accsim's own op-level simulate().

An iteration runs every layer over the batch's tokens: the dense part (norms, projections, RoPE,
MLP, residuals) over all T tokens of the batch, attention per request (decode requests together as one
batched op over their mean KV length; each prefill chunk as its own causal op over its prefix),
and the LM head over the sequences that emit a token. Layers are identical, so one layer is
simulated and counted `layers` times (exact: a 7B layer's weights do not fit any on-chip level,
so consecutive layers share nothing).

simulate() takes seconds to minutes per shape, so shapes are bucketed: each size is placed between
two knots of a geometric grid (1, r, r^2, ... rounded) and the cost interpolated linearly between
the knots' simulations (bilinearly for two sizes). `ratio=1` simulates every exact shape;
`bucketing_error()` compares the two. Simulated knots are memoized in memory and, given a path,
in a JSON file keyed by the arch, the model layer and a fingerprint of the simulator's code.
"""

import bisect
import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

from simulator.api import simulate
from simulator.errors import CapacityError, SpecError, expect
from simulator.serving.models import Model
from simulator.spec import ArchSpec
from simulator.spec.guards import DEFAULT_LIMITS, Limits
from simulator.spec.textio import read_json
from simulator.spec.transformer import expand

log = logging.getLogger(__name__)
_PACKAGE = Path(__file__).resolve().parent.parent


def _cache_folder(path: Path) -> None:
    """The cost cache's folder exists or is made, and may be written: a file where a folder
    should be ($XDG_CACHE_HOME a file) or a read-only folder is an error before any shape is
    simulated, not an internal one after the first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SpecError(f"{path}: cannot keep the cost cache there ({error.strerror})") from None
    if not os.access(path.parent, os.W_OK):
        raise SpecError(f"{path}: cannot keep the cost cache there (its folder is read-only)")


def read_cache(path: Path) -> dict[str, list[float]]:
    """A cost cache's shapes ({} when there is no file yet): a JSON object of [seconds, joules]
    pairs, else a SpecError naming the file and the bad entry (accsim did not write it)."""
    if not path.exists():
        return {}
    known = read_json(path)
    if not isinstance(known, dict):
        raise SpecError(
            f"{path}: not an accsim cost cache (a JSON object of [seconds, joules] entries); "
            "delete the file or give another --cost-cache"
        )
    for key, value in known.items():
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and 0 <= v < math.inf for v in value)
        ):
            raise SpecError(
                f"{path}: {key}: not an accsim cost cache entry ([seconds, joules]); "
                "delete the file or give another --cost-cache"
            )
    return known


@dataclass(frozen=True)
class Cost:
    """Simulated seconds and joules (dynamic + leakage over those seconds)."""

    seconds: float
    energy_j: float

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.seconds + other.seconds, self.energy_j + other.energy_j)

    def scale(self, factor: float) -> "Cost":
        return Cost(self.seconds * factor, self.energy_j * factor)


ZERO = Cost(0.0, 0.0)


@dataclass(frozen=True)
class Batch:
    """One iteration's work: decode requests' KV lengths (including the new token), prefill chunks
    as (chunk tokens, KV length after the chunk), and how many sequences emit a token."""

    decode_kv: tuple[int, ...]
    prefill: tuple[tuple[int, int], ...]
    emitting: int

    @property
    def tokens(self) -> int:
        return len(self.decode_kv) + sum(q for q, _ in self.prefill)


def code_fingerprint() -> str:
    """Hash of the simulator's modelling code (all but serving, sweep and the CLI): cached costs
    from another version of the engine are never reused."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        if path.relative_to(_PACKAGE).parts[0] not in ("serving", "sweep", "cli"):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def knots(ratio: float, top: int) -> list[int]:
    """The bucket grid: 1, then geometric steps of `ratio` (rounded, distinct) up to >= top."""
    grid, value = [1], 1.0
    while grid[-1] < top:
        value *= ratio
        grid.append(max(grid[-1] + 1, round(value)))
    return grid


GRID_TOP = 16384
"""Tokens the cost grid is built to cover (its knots go on to the first at or past it)."""
MAX_REACH = 8
"""How far past the largest size it serves the cost grid's top knot may lie. Its shapes are
simulated (a dense layer over that many tokens, a prompt of them), so a grid reaching far past
what the run asks for prices a far larger shape than any it uses: a ratio of 10^6 puts a knot at
10^6 tokens, minutes per shape. Every ratio up to MAX_REACH stops within it."""


def grid_reach(ratio: float, top: int) -> str | None:
    """Why a grid of `ratio` up to `top` (`knots`) reaches too far to simulate, with the limit and
    the way under it; None where it does not."""
    last = knots(ratio, top)[-1] if ratio > 1 else top
    if last <= MAX_REACH * top:
        return None
    shown = f"{last:,}" if last < 10**12 else f"{last:.3g}"
    return (
        f"the cost grid's top knot is {shown} tokens, above the limit of {MAX_REACH * top:,} "
        f"({MAX_REACH} x the {top:,} it serves), where a dense layer and a prompt of that many "
        f"tokens would be simulated; give a ratio of at most {MAX_REACH}"
    )


def _bracket(grid: list[int], x: int) -> tuple[int, int, float]:
    """The knots around x and x's linear weight on the upper one (x beyond the grid: extrapolate)."""
    i = bisect.bisect_left(grid, x)
    if i < len(grid) and grid[i] == x:
        return x, x, 0.0
    lo, hi = (grid[i - 1], grid[i]) if i < len(grid) else (grid[-2], grid[-1])
    return lo, hi, (x - lo) / (hi - lo)


class CostModel:
    """Iteration costs of `model` on `arch`, bucketed on a grid of `ratio` (1: exact shapes)."""

    def __init__(
        self,
        arch: ArchSpec,
        model: Model,
        ratio: float = 2.0,
        max_tokens: int = GRID_TOP,
        cache: Path | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ):
        expect(arch, ArchSpec, "CostModel: arch (load_arch gives one)")
        expect(model, Model, "CostModel: model (load_model gives one)")
        expect(ratio, (int, float), "CostModel: ratio")
        expect(limits, Limits, "CostModel: limits (simulator.spec.guards.Limits)")
        if not 1 <= ratio < math.inf:
            raise SpecError(f"bucket ratio must be finite and >= 1, got {ratio!r}")
        reach = grid_reach(ratio, max_tokens)
        if reach is not None:
            raise CapacityError(f"bucket ratio {ratio:g}: {reach}")
        self.arch, self.model, self.ratio = arch, model, ratio
        self.grid = knots(ratio, max_tokens) if ratio > 1 else None
        self.cache = cache
        self.limits = limits  # each priced shape's cost guards, as any run's (docs/errors.md)
        self.simulations = 0
        self._known: dict[str, list[float]] = {}
        self._prefix = hashlib.sha256(
            (arch.model_dump_json() + model.layer.model_dump_json() + code_fingerprint()).encode()
        ).hexdigest()[:16]
        if cache:
            _cache_folder(cache)
            self._known = read_cache(cache)

    # ----- one iteration ------------------------------------------------------------------------
    def iteration(self, batch: Batch) -> Cost:
        """Seconds and joules of one iteration over `batch` (all layers, then the LM head)."""
        return self.layer(batch).scale(self.model.layers) + self.head(batch)

    def layer(self, batch: Batch) -> Cost:
        """One layer over `batch`: the dense part over every token, then each attention."""
        layer = self._interp1("dense", batch.tokens)
        if batch.decode_kv:  # a windowed model's new token reads its window's keys at most
            window = self.model.layer.sliding_window
            kept = [min(kv, window or kv) for kv in batch.decode_kv]
            mean_kv = -(-sum(kept) // len(kept))
            layer += self._interp2("decode", len(batch.decode_kv), mean_kv)
        for q, kv in batch.prefill:
            layer += self._interp2("prefill", q, kv) if q < kv else self._interp1("prompt", q)
        return layer

    def head(self, batch: Batch) -> Cost:
        """The final norm and LM head over the sequences that emit a token."""
        return self._interp1("head", batch.emitting) if batch.emitting else ZERO

    # ----- bucketing ----------------------------------------------------------------------------
    def _bracket(self, x: int) -> tuple[int, int, float]:
        return (x, x, 0.0) if self.grid is None else _bracket(self.grid, x)

    def _interp1(self, part: str, x: int) -> Cost:
        lo, hi, w = self._bracket(x)
        low = self.price(part, lo)
        return low if w == 0 else low.scale(1 - w) + self.price(part, hi).scale(w)

    def _interp2(self, part: str, x: int, y: int) -> Cost:
        x0, x1, wx = self._bracket(x)
        y0, y1, wy = self._bracket(y)
        total = ZERO
        for xi, fx in ((x0, 1 - wx), (x1, wx)):
            for yi, fy in ((y0, 1 - wy), (y1, wy)):
                if fx * fy:
                    total += self.price(part, xi, yi).scale(fx * fy)
        return total

    # ----- simulated parts ----------------------------------------------------------------------
    def price(self, part: str, *size: int) -> Cost:
        """One layer's `part` at an exact size, simulated once (memoized, cached on disk)."""
        if part == "prefill" and size[0] >= size[1]:  # a chunk never has more queries than keys
            part, size = "prompt", (size[1],)
        key = f"{self._prefix}|{part}|{','.join(map(str, size))}"
        if key not in self._known:
            log.info("simulating %s %s on %s", part, size, self.arch.name)
            workload = self.workload(part, *size)
            report = simulate(self.arch, workload, numerics=False, limits=self.limits)
            self._known[key] = [report.seconds, report.summary["energy_pj"] * 1e-12]
            self.simulations += 1
            if self.cache:
                self._save()
        return Cost(*self._known[key])

    def known(self, part: str, *size: int) -> bool:
        """Is this exact shape already simulated (in memory or in the cache file)?"""
        return f"{self._prefix}|{part}|{','.join(map(str, size))}" in self._known

    def _save(self) -> None:
        """Merge into the cache file (other runs may have added shapes) and replace it whole."""
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        merged = read_cache(self.cache)
        merged.update(self._known)
        scratch = self.cache.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(merged))
        scratch.replace(self.cache)

    def workload(self, part: str, *size: int) -> dict:
        """The workload dict of one layer's part: dense (T tokens), decode (b requests, KV L),
        prefill (q chunk tokens over KV L), prompt (a whole prompt of q tokens), head (n rows)."""
        spec = self.model.layer
        d, kv_heads = spec.head_width, spec.kv_heads or spec.heads
        name = f"{self.model.name}-{part}-{'x'.join(map(str, size))}"
        if part == "dense":
            ops = expand(spec.model_copy(update={"phase": "prefill", "context": size[0]}))["ops"]
            attention = next(op for op in ops if op["kind"] == "attention")
            ops.remove(attention)
            for op in ops:  # whoever read the attention output now waits for what it read
                if attention["name"] in op["inputs"]:
                    op["inputs"] = attention["inputs"]
            return {"name": name, "ops": ops}
        if part == "head":
            norm = {"kind": spec.norm, "name": "final_norm", "rows": size[0], "cols": spec.hidden}
            head = {"kind": "gemm", "name": "lm_head", "inputs": ["final_norm"], "M": size[0]}
            head.update(N=self.model.vocab, K=spec.hidden, dtype=spec.dtype)
            return {"name": name, "ops": [{**norm, "dtype": spec.dtype}, head]}
        batch, q, kv = {
            "decode": (size[0], 1, size[1] if len(size) > 1 else 1),
            "prefill": (1, *size),
            "prompt": (1, size[0], size[0]),
        }[part]
        op = {"kind": "attention", "name": "attention", "batch": batch, "heads": spec.heads}
        op.update(kv_heads=kv_heads, q_len=q, kv_len=kv, head_dim=d, causal=spec.causal)
        op.update(dtype=spec.dtype, phase="decode" if q == 1 else "prefill")
        if spec.sliding_window and part != "decode":  # decode's KV is capped at the window
            op["window"] = spec.sliding_window  # a one-token prompt chunk's is not
        return {"name": name, "ops": [op]}
