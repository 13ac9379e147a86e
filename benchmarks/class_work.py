"""Per-member work of a core-class run: how many member loads pass the L2 split one at a time,
how many L2 lines the line-by-line split touches, and how many members' port sets and row lists
the engine builds (counted by wrapping the engine's methods in one timing-only simulate(); a
tree without the line-by-line split prints "-" for its lines).

    python benchmarks/class_work.py [--arch a100-like] [--gemm M N K] [--dtype fp16]
"""

import argparse
import functools

import simulator
from simulator.engine import run
from simulator.spec.guards import Limits


def _counted(owner, name: str, counts: dict, label: str, weigh=None) -> None:
    """Wrap owner.name so that each call adds 1 (or weigh(*args)) to counts[label]."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **named):
        counts[label] += 1 if weigh is None else weigh(*args, **named)
        return original(*args, **named)

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="a100-like")
    parser.add_argument("--gemm", nargs=3, type=int, default=[8192, 12288, 12288])
    parser.add_argument("--dtype", default="fp16")
    args = parser.parse_args()
    counts = dict.fromkeys(("located", "lines", "port sets", "row lists"), 0)
    located = run.members_located

    def locate(peers, out, stores=False):
        before = len(out)
        located(peers, out, stores)
        counts["located"] += len(out) - before

    run.members_located = locate
    _counted(run._Engine, "_members", counts, "port sets")
    _counted(run._Engine, "_member_rows", counts, "row lists")
    plan = getattr(run, "Plan", None)
    if plan is None:
        counts["lines"] = None
    else:
        _counted(plan, "keys", counts, "lines", lambda self, _: len(self.first))
    m, n, k = args.gemm
    workload = f"gemm:M={m},N={n},K={k},dtype={args.dtype}"
    report = simulator.simulate(
        args.arch, workload, numerics=False, limits=Limits(max_tiles=20_000_000)
    )
    print(f"{args.arch} {workload}: {report.record.events_processed:,} events")
    print(f"member loads located one by one: {counts['located']:,}")
    lines = "-" if counts["lines"] is None else f"{counts['lines']:,}"
    print(f"L2 lines touched, line by line: {lines}")
    print(f"member port sets built: {counts['port sets']:,}")
    print(f"member row lists built: {counts['row lists']:,}")


if __name__ == "__main__":
    main()
