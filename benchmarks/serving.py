"""Serving: published A100 measurements, how exact the iteration cost model is, how it compares
with measured A100 kernel times, and how fast 10,000 requests simulate.

0. Published serving measurements (benchmarks/data/published_serving.csv: LMDeploy's and
   TensorRT-LLM's A100 fp16 LLaMA-2 tables, a source per row): each setup (static batch of
   `batch` equal requests sent at once) served on a100-like; TTFT and TPOT p50 and output
   throughput against the published figure. For llama-2-7b also with the dense ops priced at
   vidur's measured A100 kernel times, which separates the op-level error from the serving
   layer's.
1. Cost model against simulate() itself (LLaMA-2-7B on tpu-v4-like, whose shapes simulate in
   about a second): bucketing error of the ratio-2 and ratio-4 grids on random mixed batches,
   and the error of pricing a layer as dense part + attention instead of the whole layer.
2. vidur's profiled A100-80GB per-layer times of LLaMA-2-7B's dense ops
   (benchmarks/data/vidur_a100_llama2_7b_dense.csv, made by extract_vidur.py) against accsim's
   dense part on a100-like; only shapes already in the cost cache unless --simulate-a100.
3. Speed: 10,000 Poisson requests (512 prompt, 128 output tokens, 4 req/s) of LLaMA-2-7B on
   a100-like (--speed-arch), ratio-4 grid, continuous batching of at most 1024 tokens, with a
   progress bar, timed again once the cost cache is warm (the second run is the serving loop's
   own time).

    python benchmarks/serving.py [--cache PATH] [--simulate-a100] [--requests 10000]
        [--speed-arch a100-like] [--skip-published] [--skip-cost-model] [--skip-speed]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.cli.serve import default_cache
from simulator.serving import (
    Cost,
    CostModel,
    Fleet,
    Lengths,
    Limits,
    fixed_batch,
    load_model,
    poisson,
    serve,
)
from simulator.serving.accuracy import bucketing_error, decomposition_error, random_batches
from simulator.spec import load_arch

DATA = Path(__file__).resolve().parent / "data"
VIDUR = DATA / "vidur_a100_llama2_7b_dense.csv"
PUBLISHED = DATA / "published_serving.csv"


def cost_model_error(console: Console, cache: Path) -> None:
    arch, model = load_arch("tpu-v4-like"), load_model("llama-2-7b")
    exact = CostModel(arch, model, ratio=1, cache=cache)
    batches = random_batches(np.random.default_rng(0), 12, 2048)
    table = Table(title="iteration cost model vs exact-shape simulate(), llama-2-7b on tpu-v4-like")
    for column in ("approximation", "cases", "median |error|", "max |error|"):
        table.add_column(column, justify="right")
    for ratio in (2.0, 4.0):
        errors = bucketing_error(CostModel(arch, model, ratio, cache=cache), exact, batches)
        table.add_row(f"bucketing, grid ratio {ratio:g}", *_stats(errors.rel_error))
    shapes = [("decode", 1, 512), ("decode", 32, 1024), ("prefill", 1, 512), ("prefill", 4, 256)]
    split = decomposition_error(exact, shapes)
    table.add_row("layer = dense + attention", *_stats(split.rel_error))
    console.print(table)


def _stats(errors: pd.Series) -> tuple[str, str, str]:
    return str(len(errors)), f"{errors.abs().median():.1%}", f"{errors.abs().max():.1%}"


def vidur_comparison(console: Console, cache: Path, simulate_all: bool) -> None:
    costs = CostModel(load_arch("a100-like"), load_model("llama-2-7b"), ratio=1, cache=cache)
    measured = pd.read_csv(VIDUR)
    table = Table(title="LLaMA-2-7B dense ops per layer: a100-like vs vidur's A100 measurements")
    for column in ("tokens", "vidur A100 (ms)", "accsim (ms)", "error"):
        table.add_column(column, justify="right")
    errors = []
    for row in measured.itertuples():
        if not simulate_all and not costs.known("dense", row.num_tokens):
            table.add_row(str(row.num_tokens), f"{row.dense_ms:.3f}", "not simulated", "")
            continue
        ours = costs.price("dense", row.num_tokens).seconds * 1e3
        errors.append(ours / row.dense_ms - 1)
        table.add_row(
            str(row.num_tokens), f"{row.dense_ms:.3f}", f"{ours:.3f}", f"{errors[-1]:+.0%}"
        )
    console.print(table)
    if errors:
        console.print(f"median |error| over {len(errors)} shapes: {np.median(np.abs(errors)):.0%}")
    console.print(f"source: {measured.source.iloc[0]}")


class VidurDense(CostModel):
    """a100-like with only the dense part of a layer priced at vidur's measured A100 kernel times
    (linear in tokens between vidur's points): what the serving error is once the op-level dense
    error is taken out."""

    def __init__(self, arch, model, cache: Path):
        super().__init__(arch, model, ratio=2, cache=cache)
        self.measured = pd.read_csv(VIDUR)

    def price(self, part: str, *size: int) -> Cost:
        if part != "dense":
            return super().price(part, *size)
        ms = np.interp(size[0], self.measured.num_tokens, self.measured.dense_ms)
        return Cost(float(ms) * 1e-3, 0.0)


def published_comparison(console: Console, cache: Path) -> None:
    """Published A100 serving measurements (static batches of `batch` equal requests, all sent at
    once) against serve() on a100-like; for llama-2-7b also with the dense ops at vidur's times."""
    arch, published = load_arch("a100-like"), pd.read_csv(PUBLISHED)
    table = Table(title="published A100 serving measurements vs accsim serve() on a100-like")
    for column in ("model", "batch", "prompt", "output", "metric", "published", "a100-like"):
        table.add_column(column, justify="right")
    table.add_column("error", justify="right")
    table.add_column("dense at vidur's times", justify="right")
    table.add_column("runtime")
    errors, measured_dense = [], []
    setups = published.groupby(["model", "batch", "prompt", "output"], sort=False)
    for (name, batch, prompt, output), rows in setups:
        model = load_model(name)
        specs = fixed_batch(int(batch), Lengths(int(prompt), int(output)))
        limits = Limits(max_batch=int(batch), max_tokens=int(batch * prompt))
        runs = [
            serve(arch, model, specs, STATIC, limits, costs=CostModel(arch, model, 2, cache=cache))
        ]
        if name == "llama-2-7b":
            runs.append(
                serve(arch, model, specs, STATIC, limits, costs=VidurDense(arch, model, cache))
            )
        for row in rows.itertuples():
            ours = [run.summary[_KEYS[row.metric]] for run in runs]
            errors.append(_error(ours[0], row.published, row.metric))
            alt = ""
            if len(ours) > 1:
                measured_dense.append(_error(ours[1], row.published, row.metric))
                alt = f"{measured_dense[-1]:+.0%}"
            table.add_row(
                name, str(batch), str(prompt), str(output), row.metric,
                f"{row.published:g}", f"{ours[0]:.4g}", f"{errors[-1]:+.0%}", alt,
                row.runtime,
            )  # fmt: skip
    console.print(table)
    for runtime, source in published.groupby("runtime", sort=False).source.first().items():
        console.print(f"{runtime}: {source}")
    console.print(
        f"median |error| a100-like: {np.median(np.abs(errors)):.0%} over {len(errors)} rows; "
        f"with the dense ops at vidur's measured A100 times: "
        f"{np.median(np.abs(measured_dense)):.0%} over {len(measured_dense)} llama-2-7b rows"
    )


STATIC = Fleet(scheduler="static")
_KEYS = {
    "ttft_s": "ttft_p50_s",
    "tpot_s": "tpot_p50_s",
    "throughput_tokens_per_s": "throughput_tokens_per_s",
}


def _error(ours: float, published: float, metric: str) -> float:
    """Relative error of a time (or a throughput: a rate, so the same sign means slower)."""
    return ours / published - 1


SPEED_LIMITS = Limits(max_batch=256, max_tokens=1024)
"""At most two 512-token prompts per iteration: the grid's dense knots stay at or below 1024
tokens, which a100-like simulates in minutes (4096 takes far longer)."""


def speed(console: Console, cache: Path, requests: int, arch_name: str) -> None:
    """Serve the stream twice with a progress bar: the first run simulates the shapes the cost
    cache lacks, the second (warm) is the serving loop's own time, the 30 s target."""
    arch, model = load_arch(arch_name), load_model("llama-2-7b")
    specs = poisson(4.0, requests, Lengths(512, 128), seed=0)
    for attempt in ("first", "second"):
        costs = CostModel(arch, model, ratio=4, cache=cache)
        columns = (TextColumn(f"{attempt} run"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("serving", total=requests)
            start, cpu = time.perf_counter(), time.process_time()
            result = serve(
                arch,
                model,
                specs,
                limits=SPEED_LIMITS,
                costs=costs,
                progress=lambda n, t=task: bar.update(t, completed=n),
            )
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        console.print(
            f"{attempt} run: {requests} requests of llama-2-7b on {arch_name} in {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU "
            f"({result.summary['iterations']} iterations, {costs.simulations} shapes simulated); "
            f"TTFT p99 {result.summary['ttft_p99_s'] * 1e3:.1f} ms, "
            f"TPOT p99 {result.summary['tpot_p99_s'] * 1e3:.1f} ms"
        )
        if costs.simulations == 0:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache(), help="cost cache (JSON)")
    parser.add_argument("--simulate-a100", action="store_true", help="simulate missing shapes")
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--speed-arch", default="a100-like", help="arch of the timing run")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-published", action="store_true")
    parser.add_argument("--skip-cost-model", action="store_true", help="no tpu-v4-like bucketing")
    args = parser.parse_args()
    console = Console()
    if not args.skip_published:
        published_comparison(console, args.cache)
    if not args.skip_cost_model:
        cost_model_error(console, args.cache)
    vidur_comparison(console, args.cache, args.simulate_a100)
    if not args.skip_speed:
        speed(console, args.cache, args.requests, args.speed_arch)


if __name__ == "__main__":
    main()
