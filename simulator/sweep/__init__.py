"""Design-space sweeps: parameter grids over dotted YAML paths, run locally or on Dask, resumable.

from simulator.sweep import run_sweep, pareto_front
outcome = run_sweep("array-vs-sram", "results.parquet")
pareto_front(outcome.results, {"energy_pj": "min", "cycles": "min"})
"""

from simulator.sweep.pareto import pareto_front
from simulator.sweep.point import Point, run_point
from simulator.sweep.results import parameter_columns, read_results, write_results
from simulator.sweep.run import Sweep, SweepOutcome, load_sweep, run_sweep
from simulator.sweep.spec import SweepSpec, list_sweeps

__all__ = [
    "Point",
    "Sweep",
    "SweepOutcome",
    "SweepSpec",
    "list_sweeps",
    "load_sweep",
    "pareto_front",
    "parameter_columns",
    "read_results",
    "run_point",
    "run_sweep",
    "write_results",
]
