"""Strong scaling of one workload over core counts: S(n) = T(1) / T(n), E(n) = S(n) / n."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.api import simulate
from simulator.engine.progress import ProgressCallback, labelled
from simulator.errors import SpecError, UnsupportedError
from simulator.spec import MappingSpec, WorkloadSpec, load_mapping, load_workload
from simulator.spec.guards import DEFAULT_LIMITS
from simulator.spec.snn import SnnSpec
from simulator.spec.validate import locate

if TYPE_CHECKING:  # imported where the table is built: the CLI's sweep processes stay lean
    import pandas as pd


def scaling(
    arch,
    workload,
    mapping,
    core_counts: list[int],
    limits=DEFAULT_LIMITS,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Strong scaling of one workload: the same arch run with the first n cores, n in core_counts.
    `progress(phase, done, total)` as for simulate(), each phase named after its run ("4 cores:
    simulate")."""
    if not isinstance(workload, WorkloadSpec | SnnSpec):
        workload = load_workload(workload)
    if isinstance(workload, SnnSpec):  # its report has no MAC utilization: a KeyError here
        raise UnsupportedError(
            f"{workload.name}: a spiking network; strong scaling runs ops over a chip's cores "
            "(a spiking network spreads over the neuro cores its placement gives)"
        )
    base = mapping if isinstance(mapping, MappingSpec) else load_mapping(mapping)
    if base.partition.cores is not None:  # each run's count replaced it without a word
        raise SpecError(
            f"{locate(base, 'partition', 'cores')}: {base.partition.cores}: strong scaling sets "
            "each run's cores (--cores, core_counts); leave it out"
        )
    rows = []
    for n in core_counts:
        partition = base.partition.model_copy(update={"cores": n})
        summary = simulate(
            arch,
            workload,
            base.model_copy(update={"partition": partition}),
            numerics=False,
            limits=limits,
            progress=labelled(progress, f"{n} core{'s' if n > 1 else ''}"),
        ).summary
        rows.append(
            {
                "cores": n,
                "seconds": summary["seconds"],
                "energy_pj": summary["energy_pj"],
                "mac_utilization": summary["mac_utilization"],
                "dram_bytes": summary["dram_bytes"],
            }
        )
    import pandas as pd

    table = pd.DataFrame(rows)
    table["speedup"] = table.seconds.iloc[0] / table.seconds
    table["efficiency"] = table.speedup / (table.cores / table.cores.iloc[0])
    return table
