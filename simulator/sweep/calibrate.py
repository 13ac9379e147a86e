"""Fit a GPU-like chip's few per-chip constants (per-kernel launch cost, achievable DRAM
efficiency) to a user's measured kernel times, and report the leave-one-out error.

The model: a run of k kernels takes t0(efficiency) + k x launch, where t0 is simulated with no
launch cost (the launch adds exactly its cycles per dependent kernel). For each efficiency on a
grid, the launch that minimises the summed squared relative error has a closed form; the pair
with the least error wins. Leave-one-out refits without each row and predicts it.
"""

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from simulator.api import simulate
from simulator.errors import AccsimError, SpecError
from simulator.spec import load_arch, load_workload
from simulator.spec.system import one_chip
from simulator.spec.textio import read_text
from simulator.spec.workload import WorkloadSpec

SECONDS = (1e-12, 1e6)
"""The measured times a fit accepts: a picosecond to 11 days (squared errors of times far outside
overflow a float)."""
EFFICIENCIES = tuple(round(0.6 + 0.05 * i, 2) for i in range(9))  # 0.60, 0.65, ... 1.00


@dataclass(frozen=True)
class Measurement:
    """One measured run: a workload (preset, path or inline spec) and its seconds; `source` names
    its file and line for errors."""

    workload: str
    seconds: float
    kernels: int
    source: str = ""


@dataclass(frozen=True)
class Fit:
    """The fitted constants and, per row, the fitted and the leave-one-out prediction."""

    efficiency: float
    launch_s: float
    rows: list[dict]

    @property
    def median_loo_error(self) -> float:
        errors = sorted(abs(r["loo_error"]) for r in self.rows)
        mid = len(errors) // 2
        return errors[mid] if len(errors) % 2 else (errors[mid - 1] + errors[mid]) / 2


def write_measurements(path: str | Path, rows) -> None:
    """Write (workload, seconds) rows as the `workload,seconds` file read_measurements reads
    (the calibration subsets' make_*.py scripts)."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["workload", "seconds"])
        for workload, seconds in rows:
            writer.writerow([workload, f"{seconds:.6e}"])


def read_measurements(path: str | Path) -> list[Measurement]:
    """Rows `workload,seconds` (a header line naming them is required); every bad row is a
    SpecError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such measurements file")
    with io.StringIO(read_text(path), newline="") as handle:
        reader = csv.DictReader(handle, strict=True)
        rows = []
        for row in _rows(reader, path):
            where = f"{path}: line {reader.line_num}"
            if None in row or None in row.values():
                given = [v for k, v in row.items() if k is not None and v is not None]
                fields = len(given) + len(row.get(None, ()))
                raise SpecError(
                    f"{where}: {fields} field{'s' * (fields != 1)} where the header names "
                    f"{len(reader.fieldnames)} "
                    '(a workload with commas goes in double quotes: "gemm:M=1,N=2,K=3")'
                )
            try:
                seconds = float(row["seconds"])
            except (TypeError, ValueError):
                raise SpecError(f"{where}: seconds: not a number: {row['seconds']!r}") from None
            if not math.isfinite(seconds) or seconds <= 0:
                raise SpecError(f"{where}: seconds: must be a positive number, got {seconds}")
            if not SECONDS[0] <= seconds <= SECONDS[1]:
                raise SpecError(
                    f"{where}: seconds: {seconds:g} is not a kernel's time "
                    f"(between {SECONDS[0]:g} and {SECONDS[1]:g} s)"
                )
            workload = (row["workload"] or "").strip()
            try:
                spec = load_workload(workload)
            except SpecError as error:
                raise SpecError(f"{where}: workload: {error}") from None
            if not isinstance(spec, WorkloadSpec):
                raise SpecError(f"{where}: workload: {workload} is a spiking network, not kernels")
            kernels = sum(op.kind != "collective" for op in spec.ops)
            rows.append(Measurement(workload, seconds, kernels, where))
    distinct = len({m.workload for m in rows})
    if distinct < 3:  # repeats of one kernel cannot separate its launch cost from its DRAM time
        repeats = f" ({len(rows)} rows, repeats counted once)" if distinct < len(rows) else ""
        raise SpecError(
            f"{path}: {distinct} distinct workloads{repeats}; calibration needs at least 3"
        )
    return rows


def _rows(reader: csv.DictReader, path: Path):
    """The rows of a measurements file whose header names workload and seconds, once each, and
    no other column (a third one was ignored: a stddev, or times in another unit); a quote left
    open is a SpecError naming its line (it took the rest of the file as one cell)."""
    try:
        names = reader.fieldnames or []
        blank = len(names) - len(_without_trailing_blanks(names))
        if blank:  # a spreadsheet's empty last column(s): read without them
            names = reader.fieldnames = names[:-blank]
        if sorted(names) != ["seconds", "workload"]:
            raise SpecError(
                f"{path}: line 1: the header must name the columns workload,seconds"
                + (f", and no other ({', '.join(map(repr, names))})" if len(names) > 2 else "")
            )
        for row in reader:
            extra = row.get(None, [])
            if len(extra) <= blank and not any(cell.strip() for cell in extra):
                row.pop(None, None)  # the empty cells under the empty columns
            yield row
    except csv.Error as error:
        line = reader.reader.line_num  # the DictReader's own count stops at the last good row
        if "end of data" in str(error):
            raise SpecError(
                f"{path}: line {line}: a double quote is open at the end of the file"
            ) from None
        raise SpecError(f"{path}: line {line}: not CSV: {error}") from None


def _without_trailing_blanks(names: list[str]) -> list[str]:
    """A header less the empty names at its end (`workload,seconds,` as spreadsheets save it)."""
    while names and not names[-1].strip():
        names = names[:-1]
    return names


def simulated_times(
    arch: str, measurements: list[Measurement], efficiencies=EFFICIENCIES
) -> list[list[float]]:
    """Seconds of every measurement at every efficiency, with no launch cost."""
    spec = one_chip(load_arch(arch), "accsim calibrate")
    if spec.cores is None or spec.cores.kernels is None:
        raise SpecError(f"{arch}: calibration needs a GPU-like arch (cores.kernels)")
    dram = next(n for n, c in spec.components.items() if c.kind == "dram")
    times = []
    for m in measurements:
        try:
            times.append(
                [
                    simulate(
                        load_arch(
                            arch,
                            [
                                (["components", dram, "efficiency"], e),
                                (["cores", "kernels", "launch"], "0 s"),
                            ],
                        ),
                        load_workload(m.workload),
                        numerics=False,
                    ).seconds
                    for e in efficiencies
                ]
            )
        except AccsimError as error:  # the row's workload does not run on this arch
            raise type(error)(f"{m.source}: workload: {error}") from None
    return times


def _best(times, measured, kernels, rows, launch_s=None) -> tuple[int, float, float]:
    """(efficiency index, launch, squared error) minimising sum ((t0 + k L) / m - 1)^2 over `rows`
    (L fixed at `launch_s` when given)."""
    best = None
    for e in range(len(times[0])):
        num = sum(kernels[i] * (measured[i] - times[i][e]) / measured[i] ** 2 for i in rows)
        den = sum((kernels[i] / measured[i]) ** 2 for i in rows)
        launch = max(0.0, num / den) if den else 0.0
        launch = launch if launch_s is None else launch_s
        error = sum(((times[i][e] + kernels[i] * launch) / measured[i] - 1) ** 2 for i in rows)
        if best is None or error < best[2]:
            best = (e, launch, error)
    return best


def fit(measurements: list[Measurement], times, efficiencies=EFFICIENCIES, launch_s=None) -> Fit:
    """Fit on all rows (the launch fixed at `launch_s` when given); leave-one-out: refit without
    each row and predict it."""
    if launch_s is not None and not 0 <= launch_s <= SECONDS[1]:
        raise SpecError(
            f"launch {launch_s:g} s: must be in 0 .. {SECONDS[1]:g} s, as a kernel's time"
        )
    measured = [m.seconds for m in measurements]
    kernels = [m.kernels for m in measurements]
    everyone = range(len(measurements))
    e, launch, _ = _best(times, measured, kernels, everyone, launch_s)
    rows = []
    for i, m in enumerate(measurements):
        others = [j for j in everyone if j != i]
        le, ll, _ = _best(times, measured, kernels, others, launch_s)
        fitted = times[i][e] + m.kernels * launch
        held_out = times[i][le] + m.kernels * ll
        rows.append(
            {
                "workload": m.workload,
                "measured_s": m.seconds,
                "fitted_s": fitted,
                "error": fitted / m.seconds - 1,
                "loo_s": held_out,
                "loo_error": held_out / m.seconds - 1,
            }
        )
    return Fit(efficiencies[e], launch, rows)
