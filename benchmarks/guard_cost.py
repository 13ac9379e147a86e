"""What the engine-work guard counts and costs (docs/errors.md, "Cost guards").

For each case: the steps engine/work.py counts, the steps the engine takes from its op streams
(the steps simulated as events: coalesced jumps, memo copies and class members not taken), the
events it processes, the guard's CPU time on the compiled program (its core classes worked out
already: the engine shares them) and a whole timing-only simulate()'s CPU time, best of 3 each.
Then the runs the spec guard passes that the count refuses (compiled, never run), and with
`--rows SUITE` the largest count among the validation rows of that suite (compiled only).

With `--spiking`, only the host bytes a time step adds to a timing-only spiking run's peak.

    python benchmarks/guard_cost.py [--rows all] [--spiking]
"""

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import simulator
from simulator.components import build_machine
from simulator.engine.work import engine_work
from simulator.mapping import compile_program
from simulator.mapping.classes import classed
from simulator.spec import ArchSpec, load_arch, load_mapping, load_workload
from simulator.spec.guards import DEFAULT_LIMITS, estimate
from simulator.spec.scalesim import import_scalesim
from tests.engine.test_work import simulated_steps


def _array(size: int, sram: str | None = None) -> list:
    """edge-npu overrides: a size x size MAC array (and the SRAM's capacity)."""
    unit = ["components", "mac_array"]
    sized = [(unit + ["rows"], size), (unit + ["cols"], size)]
    return sized + ([(["components", "sram", "capacity"], sram)] if sram else [])


DECODE = ("llama-2-7b-decode", [(["layers"], 32)])
CASES = [  # (case, arch, workload)
    ("a100-like 4096³ fp16", ("a100-like",), ("gemm:M=4096,N=4096,K=4096,dtype=fp16",)),
    ("datacenter-hbm LLaMA-2-7B decode, 32 layers", ("datacenter-hbm",), DECODE),
    (
        "datacenter-hbm LLaMA-2-7B prefill, 8 layers",
        ("datacenter-hbm",),
        ("llama-2-7b-prefill", [(["layers"], 8)]),
    ),
    ("h100-like LLaMA-2-7B decode, 32 layers", ("h100-like",), DECODE),
    ("array-vs-sram point (16x16, 512 KiB)", ("edge-npu", _array(16, "512 KiB")), ("gemm-1024",)),
    (
        "edge-npu 32x32, 16384³ int8",
        ("edge-npu", _array(32)),
        ("gemm:M=16384,N=16384,K=16384,dtype=int8",),
    ),
    (  # an elementwise op just under the limit: 32 rows a step
        "edge-npu relu, 24,000,000 x 4,096 fp16",
        ("edge-npu",),
        ("relu:rows=24000000,cols=4096,dtype=fp16",),
    ),
]
CONV = {"kind": "conv2d", "name": "c1", "N": 1, "C": 64, "H": 4096, "W": 4096, "K": 64, "R": 3}
CONV |= {"S": 3, "padding": 1}
RELUS = [{"kind": "relu", "name": f"r{i}", "rows": 8064, "cols": 64, "dtype": "fp16"}
         for i in range(16000)]  # fmt: skip
SPIKING = [(arch, workload) for arch in ("loihi-like", "truenorth-like") for workload in
           ("snn-digits-mlp", "snn-mnist-mlp")]  # fmt: skip


def _best(fn, repeats: int = 3):
    """(least CPU seconds of `repeats` calls, the last call's result)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return min(times), result


def _compiled(arch, workload, mapping=None):
    machine = build_machine(arch)
    program, _ = compile_program(workload, load_mapping(mapping), machine, False, 0)
    return program, machine


def hostile_rows() -> None:
    """The spec guard's lower bound and the count (and of it the steps a budget would take
    whatever coalescing finds: refused before the run) of runs that pass the one and not the
    other; CPU seconds to count on the compiled program."""
    with tempfile.TemporaryDirectory() as folder:
        cfg, topology = Path(folder, "huge.cfg"), Path(folder, "topo.csv")
        cfg.write_text(
            "[general]\nrun_name : r\n\n[architecture_presets]\nArrayHeight : 8\n"
            "ArrayWidth : 8\nIfmapSramSzkB : 100000000\nFilterSramSzkB : 64\n"
            "OfmapSramSzkB : 64\nBandwidth : 10\nDataflow : ws\n\n[run_presets]\n"
            "InterfaceBandwidth : USER\n"
        )
        topology.write_text("Layer name, M, N, K,\ng, 100000000000, 64, 64,\n")
        arch, workload, mapping = import_scalesim(cfg, topology)
        scalesim = (load_arch(arch), load_workload(workload), mapping)
    small = load_arch("edge-npu", [(["components", "sram", "capacity"], "64 KiB")])
    cases = [
        (
            "mesh-4x4, 65536³",
            (load_arch("mesh-4x4"), load_workload("gemm:M=65536,N=65536,K=65536"), None),
        ),
        ("SCALE-Sim 8x8, 100 GB ifmap SRAM, 10^11 x 64 x 64", scalesim),
        (
            "edge-npu 64 KiB SRAM, 3x3 conv 64 -> 64 channels on 4096²",
            (small, load_workload({"name": "conv", "ops": [CONV]}), None),
        ),
        (
            "edge-npu 64 KiB SRAM, 16,000 relus of 8,064 x 64 fp16 (63 steps each)",
            (small, load_workload({"name": "relus", "ops": RELUS}), None),
        ),
    ]
    print()
    print("| run | spec guard (lower bound) | steps counted | of them sure | CPU s to count |")
    print("|---|---|---|---|---|")
    for case, (arch, workload, mapping) in cases:
        program, machine = _compiled(arch, workload, mapping)
        start = time.process_time()
        work = engine_work(program, machine, DEFAULT_LIMITS.max_tiles)
        seconds = time.process_time() - start
        bound = estimate(arch, workload, False).tiles
        print(f"| {case} | {bound:,} | {work.steps:,} | {work.sure:,} | {seconds:.2f} |")


def _traced_peak(arch: str, workload: str, steps: int) -> int:
    """Peak bytes tracemalloc sees over a timing-only spiking run of `steps` time steps."""
    spec = load_workload(workload, [(["time_steps"], steps)])
    gc.collect()
    tracemalloc.start()
    simulator.simulate(load_arch(arch), spec, numerics=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def spiking_bytes(short: int = 1000, long: int = 3000) -> None:
    """Host bytes a time step of a timing-only spiking run adds to its peak: (peak at `long`
    steps - peak at `short`) / (long - short), after a warm-up run (spec/guards.py's
    TIME_STEP_BYTES is the lower bound the guard takes)."""
    print()
    print(f"| spiking run | peak at {short:,} steps | at {long:,} | bytes per step |")
    print("|---|---|---|---|")
    for arch, workload in SPIKING:
        _traced_peak(arch, workload, 100)  # imports and caches: not the run's own
        low, high = _traced_peak(arch, workload, short), _traced_peak(arch, workload, long)
        per_step = (high - low) / (long - short)
        print(f"| {arch} {workload} | {low:,} | {high:,} | {per_step:.0f} |")


def row_counts(suite: str) -> None:
    """The largest count among a validation suite's rows (each distinct part compiled once)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from validate import _pairs, _parts, suite_entries, with_precision

    counts = {}
    for entry in suite_entries(suite):
        arch = load_arch(entry["device"], _pairs(entry.get("arch_overrides")))
        if not isinstance(arch, ArchSpec):
            continue  # a system of chips: its chip's runs are counted as they come
        for part in _parts(entry):
            loaded = load_workload(part["workload"], _pairs(part.get("workload_overrides")))
            workload = with_precision(loaded, part.get("precision"), entry["id"])
            program, machine = _compiled(arch, workload, part.get("mapping"))
            counts[(entry["id"], workload.name)] = engine_work(program, machine, 10**9).steps
    (row, name), most = max(counts.items(), key=lambda item: item[1])
    print(f"\n{suite}: {len(counts)} row parts, the largest count {most:,} ({row}, {name})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", metavar="SUITE", help="also count a validation suite's rows")
    parser.add_argument(
        "--spiking", action="store_true", help="only the host bytes per spiking time step"
    )
    args = parser.parse_args()
    if args.spiking:
        spiking_bytes()
        return
    print("| case | steps counted | steps simulated | events | guard ms | run s | guard share |")
    print("|---|---|---|---|---|---|---|")
    for case, arch_ref, workload_ref in CASES:
        arch, workload = load_arch(*arch_ref), load_workload(*workload_ref)
        program, machine = _compiled(arch, workload)
        classed(program)  # the engine's core classes, shared with the guard
        guard, work = _best(lambda: engine_work(program, machine, 10**6))  # noqa: B023
        steps, events = simulated_steps(program, machine)
        run, _ = _best(lambda: simulator.simulate(arch, workload, numerics=False))  # noqa: B023
        print(
            f"| {case} | {work.steps:,} | {steps:,} | {events:,} | {1e3 * guard:.2f} "
            f"| {run:.3f} | {100 * guard / run:.1f} % |"
        )
    hostile_rows()
    if args.rows:
        row_counts(args.rows)


if __name__ == "__main__":
    main()
