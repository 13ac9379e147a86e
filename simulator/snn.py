"""simulate_snn(): a spiking workload on neuromorphic cores, spec -> network -> placement ->
engine -> report (simulator.simulate dispatches here for `kind: snn` workloads)."""

from simulator.components import build_machine
from simulator.engine.spiking import run_spiking
from simulator.errors import UnsupportedError
from simulator.mapping.placement import place
from simulator.mapping.snn import compile_network
from simulator.numerics.snn_check import check_snn
from simulator.spec.arch import ArchSpec
from simulator.spec.snn import SnnSpec
from simulator.spec.validate import locate
from simulator.spiking_report import SpikingReport


def simulate_snn(
    arch: ArchSpec, workload: SnnSpec, numerics: bool = True, seed: int = 0, trace: bool = False
) -> SpikingReport:
    """Run one inference of `workload` on `arch`'s neuro cores. The cores' fixed-point neurons
    always run (their spikes are the work); numerics=True also reruns the network in float64 and,
    for a converted ANN, measures the agreement on the test inputs."""
    if not arch.neuromorphic:
        raise UnsupportedError(
            f"{workload.name} is a spiking network; {arch.name} has no neuro_core "
            "(try loihi-like or truenorth-like)"
        )
    machine = build_machine(arch)
    names = [n for n, c in machine.components.items() if c.kind == "neuro_core"]
    core = machine.components[names[0]]
    net = compile_network(workload, core, seed)
    where = locate(workload, "placement")
    placement = place(net, workload.placement, core, len(names), where)
    record = run_spiking(net, placement, machine, trace)
    checked = (
        check_snn(net, record.fired, record.spike_counts, record.final_potential)
        if numerics
        else None
    )
    return SpikingReport(arch.name, workload.name, machine, net, placement, record, checked)
