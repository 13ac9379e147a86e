"""How many distinct CTA waves a many-core GEMM runs: the bound on what wave-level coalescing can skip.

Runs the GEMM event by event with a trace (timing only, coalescing off, every core simulated on
its own: the per-core model, not core classes), cuts each core's compute
intervals into its CTAs (a launch segment, then one interval per K step) and describes wave w by
every core's CTA-w intervals relative to the wave's first start. An exact jump over whole waves
needs the engine's state to repeat, which needs at least these timings to repeat: waves whose
descriptions were seen before are the most such a mechanism could skip. A jump over K steps
inside a wave needs every core to run regular K steps (each as long as the most common one, back
to back, no CTA starting or ending) for at least a few steps at once: the longest such stretch of
each wave, in K steps, is the bound there. `--uncontended` runs
the same chip with 100x the DRAM bandwidth and L2 banks (shared memory pools that barely queue),
the control that shows what keeps the waves from repeating.

    python benchmarks/waves.py [--arch NAME] [--cores N] [--gemm M N K ...] [--uncontended]
"""

import argparse
import math
import statistics
import time
from collections import Counter, defaultdict

from simulator.api import build_machine, compile_program, load_arch, load_mapping, load_workload
from simulator.engine.memo import execute
from simulator.spec.arch import ArchSpec

CASES = [(1024, 1024, 4096), (2048, 2048, 2048), (4096, 4096, 4096)]


def uncontended(name: str, overrides: list = (), scale: int = 100) -> ArchSpec:
    """Arch `name` (with `overrides`) with `scale` x the bandwidth of its DRAM and the banks of its
    chip-level SRAMs."""
    arch = load_arch(name, list(overrides))
    overrides = list(overrides)
    for key, component in arch.components.items():
        if component.kind == "dram":
            bandwidth = f"{component.bandwidth * scale / 1e9:g} GB/s"
            overrides.append((["components", key, "bandwidth"], bandwidth))
        elif component.kind == "sram":
            overrides.append((["components", key, "banks"], component.banks * scale))
    return load_arch(name, overrides)


def wave_signatures(arch: ArchSpec, m: int, n: int, k: int):
    """(waves, their descriptions in order, events, details) of one traced event run."""
    machine = build_machine(arch)
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    details = program.ops[0].details
    if details["split_k"] != 1 or details["stream_k"]:
        return None, [], 0, details
    record = execute(program, machine, trace=True, coalesce=False, classes=False)
    per_step = math.ceil(k / details["tile"]["K"])
    intervals = defaultdict(list)  # core unit -> its compute intervals in order
    for track, name, _, start, end in record.events:
        if name == "compute":
            intervals[track].append((start, end))
    ctas = {  # unit -> its CTAs' intervals, the launch segment dropped
        unit: [spans[1 + i : 1 + i + per_step] for i in range(0, len(spans) - 1, per_step)]
        for unit, spans in intervals.items()
    }
    waves = max(len(c) for c in ctas.values())
    signatures = []
    for w in range(waves):
        cores = {unit: c[w] for unit, c in sorted(ctas.items()) if w < len(c)}
        first = min(spans[0][0] for spans in cores.values())
        signatures.append(
            tuple(
                (unit, tuple((a - first, b - first) for a, b in spans))
                for unit, spans in cores.items()
            )
        )
    return waves, signatures, record.events_processed, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="a100-like")
    parser.add_argument("--gemm", type=int, nargs=3, action="append", metavar=("M", "N", "K"))
    parser.add_argument("--cores", type=int, help="this many cores instead of the arch's")
    parser.add_argument("--uncontended", action="store_true", help="100x DRAM and L2 bandwidth")
    args = parser.parse_args()
    cores = [(["cores", "count"], args.cores)] if args.cores else []
    arch = uncontended(args.arch, cores) if args.uncontended else load_arch(args.arch, cores)
    print(
        "| GEMM | CTA | waves | distinct waves | first repeat | distinct CTAs | CTAs "
        "| regular K steps (median wave) | K steps per CTA | events | seconds |"
    )
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for m, n, k in args.gemm or CASES:
        start = time.perf_counter()
        waves, signatures, events, details = wave_signatures(arch, m, n, k)
        seconds = time.perf_counter() - start
        if waves is None:
            print(f"| {m}x{n}x{k} | {details['cta']} | split-K or stream-K: not cut |" + " |" * 8)
            continue
        seen: dict = {}
        repeat = "-"
        for w, signature in enumerate(signatures):
            if signature in seen and repeat == "-":
                repeat = f"wave {w} = wave {seen[signature]}"
            seen.setdefault(signature, w)
        ctas = [_relative(spans) for signature in signatures for _, spans in signature]
        row = f"| {m}x{n}x{k} | {details['cta']} | {waves} | {len(seen)} | {repeat} | "
        regular = statistics.median(map(regular_steps, signatures))
        per_cta = math.ceil(k / details["tile"]["K"])
        row += f"{len(set(ctas)):,} | {len(ctas):,} | {regular:g} | {per_cta} | "
        row += f"{events:,} | {seconds:.1f} |"
        print(row, flush=True)


def regular_steps(signature: tuple) -> int:
    """The most K steps in a row, in one wave, during which every core ran regular K steps: each
    as long as the wave's most common step, back to back, none of its CTA's first or last."""
    step = Counter(b - a for _, spans in signature for a, b in spans).most_common(1)[0][0]
    breaks = []  # when some core's run of regular steps is broken
    for _, spans in signature:
        breaks += [spans[0][0], spans[-1][1]]
        for (_, end), (a, b) in zip(spans, spans[1:]):
            if b - a != step or a != end:  # a gap or a longer step: irregular from end to b
                breaks += [end, b]
    breaks.sort()
    return max((b - a for a, b in zip(breaks, breaks[1:])), default=0) // step


def _relative(spans: tuple) -> tuple:
    """A CTA's intervals relative to its own first start: equal for cores that ran alike."""
    return tuple((a - spans[0][0], b - spans[0][0]) for a, b in spans)


if __name__ == "__main__":
    main()
