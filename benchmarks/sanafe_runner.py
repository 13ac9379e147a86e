"""Run SANA-FE on an architecture and SNN file and print its counts and energy as one JSON line.

Runs under a Python that has SANA-FE installed (GPL; a separate venv, dev-only cross-check):

    python -m venv /tmp/sanafe-venv && /tmp/sanafe-venv/bin/pip install sanafe
    /tmp/sanafe-venv/bin/python benchmarks/sanafe_runner.py ARCH.yaml SNN.yaml STEPS

Counts come from SANA-FE's run summary; hops from its per-step performance trace. Times: wall
(load_s, run_s) and CPU seconds of every thread (cpu_s), which a loaded machine does not inflate.
"""

import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import sanafe


def main(arch_path: str, snn_path: str, steps: int) -> None:
    cpu = time.process_time()
    start = time.perf_counter()
    arch = sanafe.load_arch(arch_path)
    net = sanafe.load_net(snn_path, arch)
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    loaded = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        perf = Path(folder) / "perf.csv"
        result = chip.sim(steps, perf_trace=str(perf), timing_model="simple")
        done = time.perf_counter()
        with perf.open() as file:
            rows = list(csv.DictReader(file))
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
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
