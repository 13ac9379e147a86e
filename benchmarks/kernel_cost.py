"""How much of a whole-model row is its kernels' bodies and how much the chip's per-kernel cost
(`cores.kernels.launch`), and what each row gives at another per-kernel cost.

accsim adds the per-kernel cost once per dependent kernel, so a row's simulated seconds are
t0 + k x launch with t0 simulated at no per-kernel cost (the model `accsim calibrate` fits): two
runs give each row's body t0 and k, the kernels on its critical path (all of them where they run
one after another; branches that overlap, as GPT-J's attention and MLP, count where they wait),
and another cost is then t0 + k x cost by hand (exact for a chain of kernels). The
rows are TensorRT-LLM's first-token rows (published_multi.yaml; their harness's REQUEST refitted
at each cost as request_overhead.py fits it) and the whole-model decode rows of published.yaml
(torch.compile with CUDA graphs) on chips with a per-kernel cost. `--launch CHIP=TIME` gives
that chip another cost, e.g. h100-like=1.48us (DeepGEMM's kernels, docs/validation.md).

    python benchmarks/kernel_cost.py [--launch CHIP=TIME ...]
"""

import argparse
import copy
import statistics

import request_overhead
import validate
import yaml

import simulator
from simulator.spec.system import SystemArchSpec
from simulator.spec.units import parse_quantity

NO_COST = "0 s"


def chip(entry: dict):
    """The chip an entry runs on: its device, or the chip of its system of chips."""
    arch = simulator.load_arch(entry["device"], validate._pairs(entry.get("arch_overrides")))
    return arch.system.chip if isinstance(arch, SystemArchSpec) else arch


def without_cost(entry: dict) -> dict:
    """The entry with its chip's per-kernel cost set to zero (a system's through `system.set`)."""
    keys = ["cores", "kernels", "launch"]
    if isinstance(simulator.load_arch(entry["device"]), SystemArchSpec):
        keys = ["system", "set", ".".join(keys)]
    bare = copy.deepcopy(entry)
    bare["arch_overrides"] = [*(entry.get("arch_overrides") or []), [keys, NO_COST]]
    return bare


def whole_model_entries() -> list[dict]:
    """The first-token rows and the decode rows made of parts, on chips with a per-kernel cost."""
    rows = [e for e in yaml.safe_load(validate.MULTI.read_text()) if "harness" in e]
    rows += [e for e in yaml.safe_load(validate.DATA.read_text()) if "parts" in e]
    return [e for e in rows if chip(e).cores.kernels is not None]


def split(entry: dict, runner: validate.Runner) -> dict:
    """A row's simulated seconds, body (no per-kernel cost), kernels on its critical path, chip
    and the chip's per-kernel cost."""
    seconds = validate.simulated(entry, runner)[0]
    body = validate.simulated(without_cost(entry), runner)[0]
    arch = chip(entry)
    launch = arch.cores.kernels.launch
    return {
        "entry": entry,
        "chip": arch.name,
        "seconds": seconds,
        "body": body,
        "kernels": round((seconds - body) / launch) if launch else 0,
        "launch": launch,
    }


def predictions(rows: list[dict], launch: dict[str, float]) -> tuple[dict[str, float], list]:
    """Each harness's REQUEST refitted on its calibration rows, and each row's predicted seconds,
    with each chip's per-kernel cost from `launch` (the row as simulated where it names none)."""

    def kernels(row):
        if row["chip"] not in launch:
            return row["seconds"]
        return row["body"] + row["kernels"] * launch[row["chip"]]

    request = {}
    for harness in {r["entry"]["harness"] for r in rows if "harness" in r["entry"]}:
        fitted = [
            (kernels(r), r["entry"]["value"])
            for r in rows
            if r["entry"].get("harness") == harness and r["entry"].get("calibration")
        ]
        request[harness] = request_overhead.fit(fitted)
    return request, [kernels(r) + request.get(r["entry"].get("harness"), 0.0) for r in rows]


def summary(rows: list[dict], predicted: list[float]) -> str:
    """Median and largest |error| of the held-out first-token rows, and each decode row's error."""
    errors = [p / r["entry"]["value"] - 1 for r, p in zip(rows, predicted)]
    held = [
        abs(e)
        for r, e in zip(rows, errors)
        if "harness" in r["entry"] and not r["entry"].get("calibration")
    ]
    decode = [f"{e * 100:+.1f}%" for r, e in zip(rows, errors) if "harness" not in r["entry"]]
    return (
        f"first-token held out: median |error| {statistics.median(held) * 100:.1f}%, largest "
        f"{max(held) * 100:.1f}% over {len(held)}; decode rows {', '.join(decode)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launch", nargs="*", default=[], metavar="CHIP=TIME")
    args = parser.parse_args()
    other = {}
    for item in args.launch:
        name, _, time = item.partition("=")
        try:
            other[name] = parse_quantity(time, "time")
        except ValueError as error:
            parser.error(f"--launch {item}: {error}")
    entries = whole_model_entries()
    chips = sorted({chip(entry).name for entry in entries})
    for name in other:
        if name not in chips:
            parser.error(
                f"--launch {name}: no row runs on it (the rows' chips: {', '.join(chips)})"
            )
    runner = validate.Runner()
    rows = [split(entry, runner) for entry in entries]
    request, preset = predictions(rows, {})
    other_request, changed = predictions(rows, other)
    print(
        f"{'row':42s} {'published':>10s} {'body':>9s} {'kernels':>7s} {'x cost':>8s} "
        f"{'residual':>9s} {'preset':>8s} {'other':>8s}"
    )
    for row, now, then in zip(rows, preset, changed):
        entry = row["entry"]
        name = entry["id"] + (" (cal.)" if entry.get("calibration") else "")
        residual = entry["value"] - row["seconds"]  # what the kernels leave to a harness
        print(
            f"{name:42s} {entry['value'] * 1e3:8.2f}ms {row['body'] * 1e3:7.2f}ms "
            f"{row['kernels']:7d} {row['kernels'] * row['launch'] * 1e3:6.2f}ms "
            f"{residual * 1e3:7.2f}ms "
            f"{(now / entry['value'] - 1) * 100:+7.1f}% {(then / entry['value'] - 1) * 100:+7.1f}%"
        )
    for name, value in other.items():
        print(f"{name}: per-kernel cost {value * 1e6:.2f} us in 'other'")
    for label, fitted, predicted in (
        ("preset", request, preset),
        ("other", other_request, changed),
    ):
        costs = ", ".join(f"{h} {s * 1e3:.2f} ms" for h, s in sorted(fitted.items()))
        print(f"{label}: REQUEST {costs}; {summary(rows, predicted)}")


if __name__ == "__main__":
    main()
