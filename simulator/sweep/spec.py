"""Sweep files: a base arch / workload / mapping plus parameters over dotted paths.

A parameter path means what it means to `accsim run --set`: a leading `arch.`, `workload.` or
`mapping.` picks the spec (default arch), then keys and list indices walk into it; `serving.`
sets a field of the base's serving block (a serving sweep, simulator/sweep/serving.py). Exactly one of
`grid` (every combination), `points` (an explicit list) or `random` (seeded samples) names them.
"""

import math
import operator
from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator, model_validator

from simulator.errors import SpecError, a_or_an
from simulator.spec import split_overrides
from simulator.spec.loader import preset_dir
from simulator.spec.types import Flag, PositiveInt, Real, Seed, Strict
from simulator.spec.units import EXAMPLES, parse_quantity, quantity_kind
from simulator.spec.validate import validate
from simulator.spec.yamlio import Document, read_yaml
from simulator.sweep.serving import ServingPoint

SPEC_KINDS = ("arch", "workload", "mapping", "serving")
Scalar = bool | int | float | str

COMPARISONS = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
    "divides": lambda left, right: right % left == 0,
}


class BaseSpecs(Strict):
    """What every point starts from; each is a preset name, a YAML path or an inline mapping.
    A serving sweep gives `serving` instead of a workload."""

    arch: str | dict
    """Architecture preset, path (relative to the sweep file or the working folder) or mapping."""
    workload: str | dict | None = None
    """Workload preset, path, mapping or inline text like 'gemm:M=1024,N=1024,K=1024'."""
    mapping: str | dict | None = None
    """Mapping preset, path or mapping; none means `auto`."""
    serving: ServingPoint | None = None
    """A serving run per point (model, request stream, scheduler); its summary is the row."""

    @model_validator(mode="after")
    def _workload_or_serving(self):
        if (self.workload is None) == (self.serving is None):
            raise ValueError("needs exactly one of workload or serving")
        if self.serving is not None and self.mapping is not None:
            raise ValueError("a serving sweep maps its own iterations: leave mapping out")
        return self


class Range(Strict):
    """A numeric interval that `random` sweeps sample uniformly (or log-uniformly)."""

    low: Real
    """Smallest value."""
    high: Real
    """Largest value."""
    log: Flag = False
    """Sample the logarithm uniformly (sizes, bandwidths)."""
    integer: Flag = False
    """Round each sample to the nearest integer."""

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must not be below low ({self.low})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got {self.low}")
        return self


class RandomSpec(Strict):
    """Seeded random samples: each parameter draws from a list of choices or a Range."""

    samples: PositiveInt
    """Number of samples (identical samples run once)."""
    seed: Seed = 0
    """Seed of the sampler: the same seed gives the same points."""
    parameters: dict[str, list[Any] | Range]
    """Dotted path -> list of choices (drawn uniformly) or {low, high, log, integer}."""

    @field_validator("parameters")
    @classmethod
    def _choices(cls, parameters):
        """A list of no choices has nothing to draw (numpy's draw from it was an internal error)."""
        empty = next((path for path, domain in parameters.items() if domain == []), None)
        if empty is not None:
            raise ValueError(
                f"{empty}: no choices; give at least one value or a {{low, high}} range"
            )
        return parameters


class Constraint(Strict):
    """Skip points where `left op right` is false, before they run; operands are paths or literals."""

    left: Scalar
    """A path starting with arch., workload. or mapping. (its value in the point), or a literal."""
    op: Literal["<", "<=", "==", "!=", ">=", ">", "divides"]
    """Comparison; 'divides' holds when right is a multiple of left."""
    right: Scalar
    """A path or a literal; literals with units ('1 MiB') compare as numbers."""

    @model_validator(mode="after")
    def _names_a_path(self):
        if not (is_path(self.left) or is_path(self.right)):  # 'cycles < 5' compared two words
            raise ValueError(
                f"neither {self.left!r} nor {self.right!r} is a path (arch., workload., mapping. "
                "or serving.): constraints compare a point's values before it runs, not results"
            )
        return self


class SweepSpec(Strict):
    """A design-space sweep: base specs, parameters, constraints and objectives."""

    name: str
    """Short name of the sweep."""
    description: str = ""
    """One line on what the sweep explores."""
    base: BaseSpecs
    """The arch, workload and mapping every point starts from."""
    grid: dict[str, list[Any]] | None = None
    """Path -> values; every combination runs. 'a.b, c.d: [[1, 2], [3, 4]]' sets paths together."""
    points: list[dict[str, Any]] | None = None
    """An explicit list of points, each a mapping of path -> value."""
    random: RandomSpec | None = None
    """Seeded random samples over parameters."""
    constraints: list[Constraint] = []
    """Points failing any of these are skipped without being simulated."""
    objectives: dict[str, Literal["minimize", "maximize"]] = {}
    """Summary metric -> direction; the results mark the Pareto front over them."""
    numerics: Flag = False
    """Run the tile kernels too (slower); sweeps are timing-only by default."""
    seed: Seed = 0
    """Seed of the random operands when numerics are on."""

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("grid", "points", "random") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"needs exactly one of grid, points or random, got {', '.join(given) or 'none'}"
            )
        for axis, values in (self.grid or {}).items():
            if not values:
                raise ValueError(f"grid.{axis}: no values; give at least one")
            _each_once(values, f"grid.{axis}")
        _each_once(self.points or [], "points")
        if self.grid == {} or self.points == [] or (self.random and not self.random.parameters):
            raise ValueError(f"{given[0]}: no parameters to sweep; give at least one")
        return self


def _each_once(values: list, where: str) -> None:
    """Refuse a value given twice in a grid axis or points: the same value ran once (identical
    points share a key) and one written two ways ('1 GHz', '1000 MHz') ran twice."""
    seen: dict = {}
    for index, value in enumerate(values):
        first = seen.setdefault(_meaning(value), index)
        if first != index:
            raise ValueError(
                f"{where}: items {first} and {index} are one value ({values[first]!r}, "
                f"{value!r}); give each once"
            )


def _meaning(value: Any):
    """What a sweep value sets, hashable: '1 GHz' and '1000 MHz' one clock, 1 and 1.0 one number
    (true is no number), a point's or a grouped axis's items each so."""
    if isinstance(value, list):
        return tuple(_meaning(v) for v in value)
    if isinstance(value, dict):
        return frozenset((str(k), _meaning(v)) for k, v in value.items())
    if isinstance(value, bool):
        return ("flag", value)
    kind = quantity_kind(value)
    if kind is not None:
        try:
            return (kind, parse_quantity(value, kind))
        except ValueError:  # a negative or infinite quantity: the point's spec names it
            return value
    return value


def sweep_dir() -> Path:
    """Folder of the shipped sweep files (beside the arch presets, in the wheel or the checkout)."""
    return preset_dir("arch").parent / "sweeps"


def list_sweeps() -> list[str]:
    """Names of the shipped sweep files."""
    return sorted(p.stem for p in sweep_dir().glob("*.yaml"))


def check_counts(least: int = 1, **counts) -> None:
    """Counts a caller gives (points, jobs, new points, top_k, ...) are integers >= `least` or
    None: 0 or -1 jobs would run nothing or fork no workers, a limit of -1 would drop the last
    point, a float top_k would cut a list at a fraction."""
    for name, value in counts.items():
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < least
        ):
            raise SpecError(f"{name}={value!r}: give an integer >= {least}")


def read_sweep(ref: str | Path | dict) -> tuple[SweepSpec, Path]:
    """Validate a sweep (preset name, path or dict); also return the folder its paths are relative to."""
    if isinstance(ref, dict):
        return validate(SweepSpec, Document(ref, "<sweep dict>", {})), Path.cwd()
    if not isinstance(ref, str | Path) or not str(ref).strip():
        raise SpecError(f"sweep {ref!r}: give a preset name, a path or a dict")
    path = Path(ref)
    if path.suffix not in (".yaml", ".yml") and not path.exists():
        path = sweep_dir() / f"{ref}.yaml"
        if not path.is_file():
            known = ", ".join(list_sweeps())
            raise SpecError(f"{ref}: no sweep preset or file of that name; presets: {known}")
    if not path.is_file():
        folder = " (that is a folder)" if path.is_dir() else ""
        raise SpecError(f"{ref}: no such sweep file{folder}")
    return validate(SweepSpec, read_yaml(path)), path.resolve().parent


def route(path: str) -> tuple[str, tuple[str, ...]]:
    """'components.mxu.rows' -> ('arch', ('components', 'mxu', 'rows')), exactly as --set routes it;
    'serving.rate' -> ('serving', ('rate',))."""
    kind, _, rest = path.partition(".")
    if kind == "serving":
        if rest not in ServingPoint.model_fields:
            known = ", ".join(ServingPoint.model_fields)
            raise SpecError(f"{path}: no serving field {rest!r}; fields: {known}")
        return kind, (rest,)
    try:
        routed = split_overrides([f"{path}=0"])
    except SpecError as error:  # its words are about --set: name the parameter instead
        raise SpecError(f"parameter {path!r}: {str(error).split(': ', 1)[-1]}") from None
    ((kind, ((keys, _),)),) = [(k, v) for k, v in routed.items() if v]
    return kind, tuple(keys)


def canonical(path: str) -> str:
    """A parameter's column name: its path with the spec it routes to spelled out."""
    kind, keys = route(path)
    return ".".join((kind, *keys))


def point_count(spec: SweepSpec) -> int:
    """How many points `expand` would make, without making them."""
    if spec.grid is not None:
        return math.prod(len(values) for values in spec.grid.values())
    if spec.points is not None:
        return len(spec.points)
    return spec.random.samples


def expand(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every point as {canonical path: value}, in a stable order (grid: last axis fastest).
    Two parameters naming one value ('clock' and 'arch.clock') are an error: one would silently
    win."""
    reads = ("arch", "serving") if spec.base.serving else ("arch", "workload", "mapping")
    if spec.points is not None:
        for point in spec.points:
            _once(point, reads)
    else:
        keys = spec.grid or spec.random.parameters
        _once((p.strip() for key in keys for p in key.split(",")), reads)
    if spec.grid is not None:
        return _grid(spec.grid)
    if spec.points is not None:
        return [{canonical(p): v for p, v in point.items()} for point in spec.points]
    return _sample(spec.random)


def _once(paths, reads: tuple[str, ...]) -> None:
    """Refuse two paths that route to one value, and a path into a spec the sweep does not read
    (a serving sweep has no workload or mapping file: such a value would be silently unused)."""
    seen: dict[str, str] = {}
    for given in paths:
        path = canonical(given)
        kind = path.split(".")[0]
        if kind not in reads:
            raise SpecError(
                f"parameter {given!r}: this sweep reads no {kind} (its base has "
                f"{', '.join(reads)}); it would change nothing"
            )
        if path in seen:
            raise SpecError(f"{given}: the same parameter as {seen[path]}; give it once")
        seen[path] = given


def _grid(grid: dict[str, list]) -> list[dict[str, Any]]:
    axes = []
    for key, values in grid.items():
        paths = [canonical(p.strip()) for p in key.split(",")]
        if len(paths) == 1:
            axes.append([{paths[0]: v} for v in values])
            continue
        for value in values:
            if not isinstance(value, list) or len(value) != len(paths):
                raise SpecError(
                    f"grid.{key}: each value must list {len(paths)} items (one per path), got {value!r}"
                )
        axes.append([dict(zip(paths, value)) for value in values])
    points = [{}]
    for axis in axes:
        points = [{**point, **choice} for point in points for choice in axis]
    return points


def _sample(random: RandomSpec) -> list[dict[str, Any]]:
    import numpy as np

    rng = np.random.default_rng(random.seed)
    points = []
    for _ in range(random.samples):
        point = {}
        for path, domain in random.parameters.items():
            point[canonical(path)] = _draw(rng, domain)
        points.append(point)
    return points


def _draw(rng, domain: list | Range):
    if isinstance(domain, list):
        return domain[int(rng.integers(len(domain)))]
    if domain.log:
        value = math.exp(rng.uniform(math.log(domain.low), math.log(domain.high)))
    else:
        value = float(rng.uniform(domain.low, domain.high))
    return int(round(value)) if domain.integer else value


def satisfies(
    constraints: list[Constraint], point: dict[str, Any], base: dict[str, Any], where: str
) -> bool:
    """True when every constraint holds for `point`; `base` holds the loaded base specs by kind."""
    for index, rule in enumerate(constraints):
        at = f"{where}: constraints.{index}"
        left, right = (_operand(side, point, base, at) for side in (rule.left, rule.right))
        _same_kind(rule, left, right, at)
        left, right = _number(left), _number(right)
        try:
            if not COMPARISONS[rule.op](left, right):
                return False
        except (TypeError, ZeroDivisionError):
            raise SpecError(f"{at}: cannot compare {left!r} {rule.op} {right!r}") from None
    return True


def is_path(value: Scalar) -> bool:
    """Does a constraint operand name a spec value ('arch.clock'), rather than being a literal?"""
    return isinstance(value, str) and value.split(".", 1)[0] in SPEC_KINDS and "." in value


def _operand(value: Scalar, point: dict[str, Any], base: dict[str, Any], where: str):
    """A path's value (from the point's parameters, else the base spec), or the literal itself."""
    if not is_path(value):
        return value
    path = canonical(value)
    for name in sorted(point, key=len, reverse=True):  # the longest parameter that covers path
        if path == name or path.startswith(name + "."):
            return _walk(
                point[name], path[len(name) + 1 :].split(".") if path != name else [], where, value
            )
    kind, *keys = path.split(".")
    return _walk(base[kind], keys, where, value)


def _walk(node, keys: list[str], where: str, path: str):
    for key in keys:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list):
            node = node[int(key)] if key.isdigit() and int(key) < len(node) else None
        else:
            node = getattr(node, key, None)
        if node is None:
            raise SpecError(f"{where}: {path} has no value in this point")
    return node


def _same_kind(rule: Constraint, left, right, where: str) -> None:
    """Both sides of a comparison measure one thing: unit strings of one kind, or a unit string and
    a loaded quantity (a float) or a plain literal; a spec's count (an integer at a path) is no
    quantity (`workload.ops.0.M < 1 GHz` compared 64 with 10^9 and held)."""
    kinds = [
        quantity_kind(value) or ("count" if is_path(side) and _is_count(value) else None)
        for side, value in ((rule.left, left), (rule.right, right))
    ]
    if None not in kinds and kinds[0] != kinds[1]:
        raise SpecError(
            f"{where}: compares {a_or_an(kinds[0])} ({left!r}) with {a_or_an(kinds[1])} ({right!r}); "
            "compare values of one kind"
        )


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value):
    """Unit strings ('1 MiB', '900 GB/s') become SI numbers so they compare with loaded specs."""
    if isinstance(value, str):
        for kind in EXAMPLES:
            try:
                return parse_quantity(value, kind)
            except ValueError:
                continue
    return value
