"""CPU seconds and results (cycles, events, steps, energy) of a preset layer stack simulated
timing only, with the engine's memo on or off: layers the engine simulates rather than serves
from the memo (a prefill's, or every layer with the memo off) run their renamed parts' steps.

    python benchmarks/layers.py a100-like llama-2-7b-prefill 2
    python benchmarks/layers.py a100-like llama-2-7b-decode 4 --no-memo
"""

import argparse
import time

import simulator
import simulator.api as api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch")
    parser.add_argument("workload", help="a preset with a `layers` parameter")
    parser.add_argument("layers", type=int)
    parser.add_argument("--no-memo", action="store_true", help="simulate every layer")
    args = parser.parse_args()
    if args.no_memo:
        execute = api.execute
        api.execute = lambda *a, **k: execute(*a, **k, memoize=False)
    workload = simulator.load_workload(args.workload, [(["layers"], args.layers)])
    simulator.simulate(args.arch, "gemm:M=64,N=64,K=64,dtype=fp16", numerics=False)  # warm-up
    start = time.process_time()
    report = simulator.simulate(args.arch, workload, numerics=False)
    cpu = time.process_time() - start
    record = report.record
    print(
        f"{cpu:.2f} s CPU, {record.cycles:,} cycles, {record.events_processed:,} events, "
        f"{record.steps:,} steps, {float(report.energy['energy_pj'].sum())!r} pJ"
    )


if __name__ == "__main__":
    main()
