"""Fit a @torch.compile'd call's host work before and after its kernel's launch (validate.py's
HOST_OVERLAP) on a calibration subset, and print each row's fit and leave-one-out error.

LLMCompass times `layer_norm_gpu` (a @torch.compile'd function) with time.time() around one call
and a torch.cuda.synchronize(). The launch is asynchronous: the host work after it overlaps the
kernel, so a row takes before + max(after, kernel). Small rows (the host work hides the kernel)
fix before + after; rows whose kernel outlasts the host work fix before. For each `after` on a
0.01 µs grid the `before` that minimises the squared relative error has a closed form; the best
pair wins. The kernels run on a100-like at its own launch cost.

    python benchmarks/host_overlap.py [benchmarks/data/calibration/a100_harness_layernorm.csv]
"""

import csv
import statistics
import sys
from pathlib import Path

import simulator

SUBSET = Path(__file__).parent / "data" / "calibration" / "a100_harness_layernorm.csv"
STEP = 1e-8  # the grid of `after`, in seconds


def kernel_seconds(workload: str, arch: str = "a100-like") -> float:
    """The simulated kernel, launch cost included, timing only."""
    report = simulator.simulate(
        simulator.load_arch(arch), simulator.load_workload(workload), None, numerics=False
    )
    return report.summary["seconds"]


def fit(rows: list[tuple[float, float]]) -> tuple[float, float]:
    """(before, after) minimising sum(((before + max(after, kernel)) / measured - 1)^2) over rows
    of (kernel, measured) seconds."""
    best = None
    longest = max(measured for _, measured in rows)
    for step in range(int(longest / STEP) + 1):
        after = step * STEP
        weights = [1 / measured for _, measured in rows]
        hidden = [max(after, kernel) for kernel, _ in rows]
        before = sum(w * (1 - h * w) for w, h in zip(weights, hidden)) / sum(w * w for w in weights)
        error = sum(((before + h) * w - 1) ** 2 for w, h in zip(weights, hidden))
        if best is None or error < best[0]:
            best = (error, before, after)
    return best[1], best[2]


def main(path: Path = SUBSET) -> None:
    with path.open() as handle:
        subset = [(row["workload"], float(row["seconds"])) for row in csv.DictReader(handle)]
    rows = [(kernel_seconds(workload), measured) for workload, measured in subset]
    before, after = fit(rows)
    print(f"{'workload':45s} {'measured':>10s} {'kernel':>10s} {'fit':>8s} {'leave-one-out':>14s}")
    loo = []
    for i, ((workload, measured), (kernel, _)) in enumerate(zip(subset, rows)):
        b, a = fit(rows[:i] + rows[i + 1 :])
        fitted = (before + max(after, kernel)) / measured - 1
        left = (b + max(a, kernel)) / measured - 1
        loo.append(abs(left))
        print(
            f"{workload:45s} {measured * 1e6:8.2f}us {kernel * 1e6:8.2f}us "
            f"{fitted * 100:+7.1f}% {left * 100:+13.1f}%"
        )
    print(
        f"before {before * 1e6:.2f} us, after {after * 1e6:.2f} us; "
        f"median |leave-one-out error| {statistics.median(loo) * 100:.1f}%"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SUBSET)
