"""simulate(): the one call that runs spec -> mapping -> engine -> report."""

from pathlib import Path

from simulator.components import build_machine
from simulator.engine import execute
from simulator.errors import UnsupportedError
from simulator.mapping import compile_program
from simulator.report import Report
from simulator.snn import simulate_snn
from simulator.spec import (
    ArchSpec,
    MappingSpec,
    WorkloadSpec,
    load_arch,
    load_mapping,
    load_workload,
)
from simulator.spec.snn import SnnSpec

SpecRef = str | Path | dict


def simulate(
    arch: ArchSpec | SpecRef,
    workload: WorkloadSpec | SpecRef,
    mapping: MappingSpec | SpecRef | None = None,
    numerics: bool = True,
    seed: int = 0,
    trace: bool = False,
) -> Report:
    """Simulate `workload` on `arch` under `mapping` (None: auto) and return the Report.

    Each argument is a loaded spec, a preset name, a YAML path or a dict; a workload may also be
    inline text like 'gemm:M=512,N=512,K=512,dtype=int8'. `numerics=False` skips the tile kernels
    (timing only, for sweeps); `trace=True` keeps the timeline for `Report.chrome_trace()`.
    """
    arch = arch if isinstance(arch, ArchSpec) else load_arch(arch)
    if not isinstance(workload, (WorkloadSpec, SnnSpec)):
        workload = load_workload(workload)
    if isinstance(workload, SnnSpec):  # spiking: neuro cores, placement in the workload
        named = mapping.name if isinstance(mapping, MappingSpec) else mapping
        if named not in (None, "auto"):
            raise UnsupportedError(
                f"{workload.name} is a spiking network: its placement is the workload's "
                f"placement: (fill, layer, spread or ranges), not mapping {named}"
            )
        return simulate_snn(arch, workload, numerics, seed, trace)
    if arch.neuromorphic:
        raise UnsupportedError(
            f"{arch.name} has neuro cores, which run spiking networks (kind: snn); "
            f"{workload.name} is a {workload.ops[0].kind} workload"
        )
    mapping = mapping if isinstance(mapping, MappingSpec) else load_mapping(mapping)
    machine = build_machine(arch)
    program, states = compile_program(workload, mapping, machine, numerics, seed)
    record = execute(program, machine, trace=trace)
    checked = {name: state.check() for name, state in states.items()} if numerics else None
    return Report(arch.name, workload.name, mapping.name, machine, program, record, checked)
