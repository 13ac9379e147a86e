"""Fit a benchmark harness's fixed cost per request (validate.py's REQUEST) on its calibration
rows and print each row's error with it and each calibration row's leave-one-out error.

TensorRT-LLM v0.5's gptSessionBenchmark times one GptSession::generate call and a stream
synchronize per request; besides the engine's kernels that takes the runtime's own work, which
no source prices. Its first-token rows (published_multi.yaml, `harness: gptsession`) are
simulated; the cost is the median of (published - simulated) over the rows marked `calibration`
(the 128-token prompts, where it is largest against the kernels), a closed form. The last lines
fit the same residuals as a cost per layer instead (each over its row's layers), and as one cost
per request for one-GPU rows and another for tensor-parallel ones, to compare. The JAX guides'
timeit loop (`jax-timeit`: TPU v5e rows of published.yaml and published_tpu.yaml) is fitted the
same way on its 1024^3 rows.

    python benchmarks/request_overhead.py [HARNESS]
"""

import statistics
import sys

import validate

import simulator
from simulator.spec.system import SystemArchSpec


def fit(rows: list[tuple[float, float]]) -> float:
    """The per-request seconds: the median of measured - simulated over (simulated, measured)."""
    return statistics.median(measured - simulated for simulated, measured in rows)


def errors(
    rows: list[tuple[float, float]], scales: list[int], calibration: list[int]
) -> tuple[float, list[float], dict[int, float]]:
    """The cost per unit of scale fitted on the calibration rows, each row's relative error with
    it, and each calibration row's with the cost fitted on the others."""

    def fitted(indices):
        return fit([(rows[j][0] / scales[j], rows[j][1] / scales[j]) for j in indices])

    def error(i, cost):
        return (rows[i][0] + cost * scales[i]) / rows[i][1] - 1

    constant = fitted(calibration)
    left = {i: error(i, fitted([j for j in calibration if j != i])) for i in calibration}
    return constant, [error(i, constant) for i in range(len(rows))], left


def grouped(
    rows: list[tuple[float, float]], groups: list[str], calibration: list[int]
) -> tuple[dict[str, float], list[float], dict[int, float]]:
    """As `errors` with one cost per request for each group, fitted on its own calibration rows."""
    costs, fitted, left = {}, [0.0] * len(rows), {}
    for group in sorted(set(groups)):
        members = [i for i in range(len(rows)) if groups[i] == group]
        mine = [i for i in calibration if groups[i] == group]
        costs[group], own, own_left = errors(
            [rows[i] for i in members], [1] * len(members), [members.index(i) for i in mine]
        )
        for k, i in enumerate(members):
            fitted[i] = own[k]
            if k in own_left:
                left[i] = own_left[k]
    return costs, fitted, left


def main(harness: str = "gptsession") -> None:
    entries = [e for e in validate.suite_entries("all") if e.get("harness") == harness]
    runner = validate.Runner()
    rows = [(validate.simulated(entry, runner)[0], entry["value"]) for entry in entries]
    calibration = [i for i, entry in enumerate(entries) if entry.get("calibration")]
    held = [i for i in range(len(entries)) if i not in calibration]
    constant, fitted, left = errors(rows, [1] * len(rows), calibration)
    print(f"{'row':42s} {'published':>10s} {'simulated':>10s} {'fit':>8s} {'leave-one-out':>14s}")
    for i, (entry, (simulated, measured)) in enumerate(zip(entries, rows)):
        loo = f"{left[i] * 100:+13.1f}%" if i in left else ""
        print(
            f"{entry['id']:42s} {measured * 1e3:8.2f}ms {simulated * 1e3:8.2f}ms "
            f"{fitted[i] * 100:+7.1f}% {loo:>14s}"
        )

    def summary(values: list[float]) -> str:
        return f"{statistics.median(map(abs, values)) * 100:.1f}%"

    def errors_of(fitted: list[float], left: dict[int, float]) -> str:
        """A fit's leave-one-out and held-out errors, as the alternatives below print them."""
        return (
            f"median |leave-one-out error| {summary(left.values())}; held-out median |error| "
            f"{summary([fitted[i] for i in held])}, largest "
            f"{max(abs(fitted[i]) for i in held) * 100:.1f}%"
        )

    print(
        f"{harness}: {constant * 1e3:.2f} ms ({constant * 1e6:.1f} us) a request; median "
        f"|leave-one-out error| "
        f"{summary(left.values())} over {len(left)} calibration rows; held-out median |error| "
        f"{summary([fitted[i] for i in held])} over {len(held)}"
    )
    if not all("parts" in entry for entry in entries):
        return  # the alternatives below price a row's layers and systems: one-op rows have neither
    layers = [entry["parts"][0]["repeat"] for entry in entries]
    per_layer, fitted, left = errors(rows, layers, calibration)
    print(f"per layer instead: {per_layer * 1e6:.1f} us a layer; {errors_of(fitted, left)}")
    kinds = [
        "tensor-parallel"
        if isinstance(simulator.load_arch(e["device"]), SystemArchSpec)
        else "one GPU"
        for e in entries
    ]
    costs, fitted, left = grouped(rows, kinds, calibration)
    each = ", ".join(f"{kind} {cost * 1e3:.2f} ms" for kind, cost in costs.items())
    print(f"per system kind instead: {each}; {errors_of(fitted, left)}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
