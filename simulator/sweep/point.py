"""One sweep point: its resolved inputs, its key, and the function that runs it anywhere.

`run_point` is a plain module-level function of a picklable Point, so the same call runs inline,
in a process pool or on a Dask worker, and returns one flat results row.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from simulator.api import simulate
from simulator.components import build_machine
from simulator.errors import AccsimError
from simulator.report import SpikingReport
from simulator.report.power import machine_parts
from simulator.sweep.bases import load_spec
from simulator.sweep.columns import base_unit_columns, chosen_mapping_columns
from simulator.sweep.serving import run_serving, serving_point

HEAD = ("point", "key", "status", "error")
"""The first columns of every row; parameters and summary metrics follow."""
STALL_PREFIX = "stall_cycles_by_cause."


@dataclass(frozen=True)
class Base:
    """The base specs every point of a sweep starts from, and how points run."""

    arch: str | dict
    workload: str | dict | None
    mapping: str | dict | None
    numerics: bool
    seed: int
    contents: str  # contents_key of the base specs as the sweep loaded them
    serving: dict | None = None


@dataclass(frozen=True)
class Point:
    """One point of a sweep: parameter values by canonical path, and the key of the resolved point."""

    index: int
    key: str
    params: dict[str, Any]
    base: Base

    def overrides(self, kind: str) -> list[tuple[list[str], Any]]:
        """(keys, value) pairs for one spec kind, as load_arch / load_workload / load_mapping take them."""
        return [
            (path.split(".")[1:], value)
            for path, value in self.params.items()
            if path.split(".", 1)[0] == kind
        ]


def contents_key(resolved_base: dict[str, Any]) -> str:
    """Hash of the base specs' contents: a process keeps the bases it parsed per this key, so a
    base file changed before a later sweep is read again (simulator/sweep/bases.py)."""
    text = json.dumps(resolved_base, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def point_key(resolved_base: dict[str, Any], params: dict[str, Any], base: Base) -> str:
    """Hash of what determines a point's result: base spec contents, parameter values, run options."""
    payload = {
        "base": resolved_base,
        "params": params,
        "numerics": base.numerics,
        "seed": base.seed,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_point(point: Point) -> dict[str, Any]:
    """Simulate one point; an error becomes the row's status and message instead of an exception.

    status 'failed': the inputs cannot be simulated (SpecError, CapacityError, UnsupportedError);
    'crashed': anything else (a bug, a lost worker), which a rerun tries again.
    """
    row = _row(point, "ok", None)
    base = point.base
    try:
        arch = load_spec(base, "arch", point.overrides("arch"))
        if base.serving is not None:
            where = f"point {point.index}: serving"
            row.update(
                run_serving(arch, serving_point(base.serving, point.overrides("serving"), where))
            )
            return row
        workload = load_spec(base, "workload", point.overrides("workload"))
        mapping = load_spec(base, "mapping", point.overrides("mapping"))
        report = simulate(arch, workload, mapping, numerics=base.numerics, seed=base.seed)
        row.update(flatten_summary(report.summary))
        if not isinstance(report, SpikingReport):  # spiking reports have no tiled ops
            row.update(chosen_mapping_columns(report.program.ops))
    except AccsimError as error:
        row.update(status="failed", error=str(error))
    except Exception as error:  # a row must come back whatever happens inside the simulator
        row = crashed_row(point, error)
    return row


def warm(point: Point) -> None:
    """Fill what any point of `point`'s sweep reads whatever its parameters, without running one:
    the base documents parsed (a spec no parameter overrides is kept validated; the first
    point's overridden ones are validated once, which warms the validators), the tech tables its
    chip's components and parts read, code paths. A sweep's workers fork after this and inherit it.
    Nothing here is needed: a point that fails here fails again in its own run, with its row."""
    try:
        arch = load_spec(point.base, "arch", point.overrides("arch"))
        if point.base.serving is None:
            load_spec(point.base, "workload", point.overrides("workload"))
            load_spec(point.base, "mapping", point.overrides("mapping"))
        machine_parts(build_machine(arch))
    except Exception:  # the point's own run reports it (a failed or crashed row)
        return


def run_points(points: list[Point]) -> list[dict[str, Any]]:
    """Run a batch of points in one task (fewer, larger Dask tasks spend less in the scheduler)."""
    return [run_point(point) for point in points]


def crashed_row(point: Point, error: BaseException) -> dict[str, Any]:
    """The row of a point whose run died of something other than bad input."""
    return _row(point, "crashed", f"{type(error).__name__}: {error}")


def _row(point: Point, status: str, error: str | None) -> dict[str, Any]:
    return {
        "point": point.index,
        "key": point.key,
        "status": status,
        "error": error,
        **point.params,
        **base_unit_columns(point.params),
    }


def flatten_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Scalars as they are; dicts of scalars as 'key.sub' columns; lists as their length 'n_key'."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                if _is_scalar(item):
                    flat[f"{key}.{sub}"] = _plain(item)
        elif isinstance(value, list | tuple):
            flat[f"n_{key}"] = len(value)
        elif _is_scalar(value):
            flat[key] = _plain(value)
    return flat


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, bool | int | float | str) or hasattr(value, "item")


def _plain(value):
    """numpy scalars -> Python scalars (JSON lines and parquet both take them)."""
    return value.item() if hasattr(value, "item") else value
