"""Fit a benchmark harness's fixed cost per request (validate.py's REQUEST) on its calibration
rows and print each row's error with it and each calibration row's leave-one-out error.

TensorRT-LLM v0.5's gptSessionBenchmark times one GptSession::generate call and a stream
synchronize per request; besides the engine's kernels that takes the runtime's own work, which
no source prices. Its first-token rows (published_multi.yaml, `harness: gptsession`) are
simulated; the cost is the median of (published - simulated) over the rows marked `calibration`
(the 128-token prompts, where it is largest against the kernels), a closed form.

    python benchmarks/request_overhead.py [HARNESS]
"""

import statistics
import sys

import validate
import yaml


def fit(rows: list[tuple[float, float]]) -> float:
    """The per-request seconds: the median of measured - simulated over (simulated, measured)."""
    return statistics.median(measured - simulated for simulated, measured in rows)


def main(harness: str = "gptsession") -> None:
    entries = [e for e in yaml.safe_load(validate.MULTI.read_text()) if e.get("harness") == harness]
    runner = validate.Runner()
    rows = [(validate.simulated(entry, runner)[0], entry["value"]) for entry in entries]
    calibration = [i for i, entry in enumerate(entries) if entry.get("calibration")]
    constant = fit([rows[i] for i in calibration])
    print(f"{'row':42s} {'published':>10s} {'simulated':>10s} {'fit':>8s} {'leave-one-out':>14s}")
    loo, held = [], []
    for i, (entry, (simulated, measured)) in enumerate(zip(entries, rows)):
        fitted = (simulated + constant) / measured - 1
        left = ""
        if i in calibration:
            others = fit([rows[j] for j in calibration if j != i])
            loo.append(abs((simulated + others) / measured - 1))
            left = f"{((simulated + others) / measured - 1) * 100:+13.1f}%"
        else:
            held.append(abs(fitted))
        print(
            f"{entry['id']:42s} {measured * 1e3:8.2f}ms {simulated * 1e3:8.2f}ms "
            f"{fitted * 100:+7.1f}% {left:>14s}"
        )
    print(
        f"{harness}: {constant * 1e3:.2f} ms a request; median |leave-one-out error| "
        f"{statistics.median(loo) * 100:.1f}% over {len(loo)} calibration rows; held-out median "
        f"|error| {statistics.median(held) * 100:.1f}% over {len(held)}"
    )


if __name__ == "__main__":
    main(*sys.argv[1:2])
