"""Run SANA-FE on an architecture and SNN file and print its counts and energy as one JSON line.

Runs under a Python that has SANA-FE installed (GPL; a separate venv, dev-only cross-check):

    python -m venv /tmp/sanafe-venv && /tmp/sanafe-venv/bin/pip install sanafe
    /tmp/sanafe-venv/bin/python benchmarks/sanafe_runner.py ARCH.yaml SNN.yaml STEPS \
        [simple|detailed]

The run uses SANA-FE's timing model given (default simple). Counts come from SANA-FE's run
summary; hops and each step's simulated time (step_s, seven significant digits as the trace
prints them) from its per-step performance trace. Times: wall (load_s, run_s) and CPU seconds of
every thread (cpu_s), which a loaded machine does not inflate. spike_trace: (step, "group.i") of
every spike of the neurons the network file marks log_spikes.
"""

import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import sanafe


def _loaded(arch_path: str, snn_path: str):
    arch = sanafe.load_arch(arch_path)
    chip = sanafe.SpikingChip(arch)
    chip.load(sanafe.load_net(snn_path, arch))
    return chip


def main(arch_path: str, snn_path: str, steps: int, timing: str) -> None:
    cpu = time.process_time()
    start = time.perf_counter()
    chip = _loaded(arch_path, snn_path)
    loaded = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        perf, spikes = Path(folder) / "perf.csv", Path(folder) / "spikes.csv"
        result = chip.sim(steps, perf_trace=str(perf), spike_trace=str(spikes), timing_model=timing)
        done = time.perf_counter()
        with perf.open() as file:
            rows = list(csv.DictReader(file))
        with spikes.open() as file:
            fired = sorted((int(r["timestep"]), r["neuron"]) for r in csv.DictReader(file))
    print(
        json.dumps(
            {
                "neurons_fired": result["neurons_fired"],
                "synaptic_events": result["spikes"],
                "packets": result["packets_sent"],
                "neurons_updated": result["neurons_updated"],
                "hops": sum(int(r["hops"]) for r in rows),
                "energy_j": result["energy"],
                "sim_time_s": result["sim_time"],
                "load_s": loaded - start,
                "run_s": done - loaded,
                "cpu_s": time.process_time() - cpu,
                "timing": timing,
                "step_s": [float(r["sim_time"]) for r in rows],
                "spike_trace": fired,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), (sys.argv[4:] or ["simple"])[0])
