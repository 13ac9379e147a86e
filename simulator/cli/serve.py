"""`accsim serve ARCH MODEL`: serve a request stream and print TTFT, TPOT, throughput, goodput."""

import json
import math
import os
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from simulator.cli.format import table
from simulator.cli.paths import limits_from
from simulator.errors import CapacityError, SpecError
from simulator.report.view import seconds, si
from simulator.serving import (
    ClosedLoop,
    CostModel,
    Fleet,
    Lengths,
    Limits,
    Slo,
    capacity,
    fixed_batch,
    gamma,
    load_model,
    load_trace,
    rate_sweep,
    serve,
)
from simulator.serving.costs import GRID_TOP, grid_reach
from simulator.spec import load_arch, split_overrides
from simulator.spec.system import one_chip


def default_cache() -> Path:
    """Where simulated iteration shapes are kept between runs ($XDG_CACHE_HOME/accsim)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "accsim" / "serving-costs.json"


SERVE_DEFAULTS = {
    "requests": 200,
    "prompt_len": 512,
    "output_len": 128,
    "prompt_sd": 0.0,
    "output_sd": 0.0,
    "cv": 1.0,
    "think": 0.0,
    "decode_replicas": 1,
    "router": "round_robin",
    "seed": 0,
}
"""Options left unset take these values; serve notes which were given (some are read only in some
runs, and a trace holds at most its own rows)."""

READ_WHEN = {  # option: (does this run read it?, the runs that do)
    "prompt_len": (lambda a: a.trace is None, "generated requests (the trace gives lengths)"),
    "output_len": (lambda a: a.trace is None, "generated requests (the trace gives lengths)"),
    "prompt_sd": (lambda a: a.trace is None, "generated requests (the trace gives lengths)"),
    "output_sd": (lambda a: a.trace is None, "generated requests (the trace gives lengths)"),
    "cv": (
        lambda a: a.trace is None and a.users is None and a.rates is None,
        "--rate arrivals (--rates runs Poisson arrivals)",
    ),
    "think": (lambda a: a.users is not None, "a closed loop (--users)"),
    "seed": (
        lambda a: a.trace is None,
        "generated requests (the trace gives arrivals and lengths)",
    ),
    "decode_replicas": (lambda a: a.scheduler == "disaggregated", "--scheduler disaggregated"),
    "router": (
        lambda a: a.replicas > 1 or (a.scheduler == "disaggregated" and a.decode_replicas > 1),
        "runs of several replicas (--replicas, or --decode-replicas when disaggregated)",
    ),
}


def _unread(args, given: set[str]) -> None:
    """Refuse an option given (`given`) that this run does not read: `--think` without
    `--users` silently did nothing."""
    for name, (read, runs) in READ_WHEN.items():
        if name in given and not read(args):
            option = "--" + name.replace("_", "-")
            raise SpecError(f"{option}: read only by {runs}; leave it out of this run")


def _requests(args, lengths: Lengths):
    if args.trace:
        return load_trace(args.trace, args.requests)
    if args.users:
        return fixed_batch(args.requests, lengths, args.seed)
    return gamma(args.rate or 1.0, args.cv, args.requests, lengths, args.seed)


def _asked_of_trace(args, specs: list, given: set[str]) -> None:
    """`--requests N` with a trace asks for N of its rows: a shorter trace is refused (it was
    served, shorter, without a word)."""
    if args.trace and "requests" in given and len(specs) < args.requests:
        raise SpecError(
            f"--requests {args.requests:,}: {args.trace} holds {len(specs):,} requests; "
            "ask for at most that many, or leave --requests out"
        )


def _fleet(args) -> Fleet:
    return Fleet(
        scheduler=args.scheduler,
        replicas=args.replicas,
        router=args.router,
        block_size=args.block_size,
        decode_replicas=args.decode_replicas,
        pipeline_stages=args.pipeline_stages,
        host_overhead_s=args.host_overhead,
    )


def serve_command(args, console: Console) -> int:
    """Run one serving simulation with a progress bar on stderr; print tables or JSON."""
    arch = one_chip(
        load_arch(args.arch, split_overrides(args.set, ("arch",))["arch"]), "accsim serve"
    )
    model = load_model(args.model)
    given = {name for name in SERVE_DEFAULTS if getattr(args, name) is not None}
    for name, value in SERVE_DEFAULTS.items():
        if name not in given:
            setattr(args, name, value)
    lengths = Lengths(args.prompt_len, args.output_len, args.prompt_sd, args.output_sd)
    specs = _requests(args, lengths)  # a bad trace is named first
    _unread(args, given)
    _asked_of_trace(args, specs, given)
    max_tokens = args.max_tokens or (512 if args.scheduler == "chunked" else 8192)
    cache = Path(args.cost_cache) if args.cost_cache else default_cache()
    reach = grid_reach(args.bucket_ratio, GRID_TOP)
    if reach is not None:
        raise CapacityError(f"--bucket-ratio {args.bucket_ratio:g}: {reach}")
    costs = CostModel(arch, model, args.bucket_ratio, cache=cache, limits=limits_from(args))
    if args.rates is not None:
        return _capacity(args, costs, lengths, max_tokens, console)
    columns = (TextColumn("serving"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("serving", total=len(specs))
        result = serve(
            arch,
            model,
            specs,
            _fleet(args),
            Limits(args.max_batch, max_tokens, args.preemption),
            Slo(args.slo_ttft, args.slo_tpot),
            ClosedLoop(args.users, args.think) if args.users else None,
            costs,
            lambda done: bar.update(task, completed=done),
        )
    summary = result.summary
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    out = table(f"{model.name} on {arch.name}, {args.scheduler} batching", ["metric", "p50", "p99"])
    for name, label in (
        ("ttft", "TTFT"),
        ("tpot", "TPOT"),
        ("itl_max", "worst ITL"),
        ("e2e", "e2e"),
    ):
        low, high = summary[f"{name}_p50_s"], summary[f"{name}_p99_s"]
        out.add_row(label, *(seconds(v) if v is not None else "-" for v in (low, high)))
    console.print(out)
    facts = table("throughput and resources", ["", "value"])
    facts.add_row("requests", f"{summary['requests']} in {seconds(summary['duration_s'])}")
    facts.add_row("throughput", f"{summary['throughput_tokens_per_s']:,.1f} tokens/s")
    facts.add_row("requests/s", f"{summary['requests_per_s']:.3f}")
    facts.add_row(
        "goodput", f"{summary['goodput_rps']:.3f} req/s ({summary['slo_attainment']:.0%})"
    )
    facts.add_row("mean batch", f"{summary['mean_batch_size']:.1f}")
    facts.add_row("KV peak", f"{summary['kv_peak_utilization']:.1%}")
    facts.add_row("preemptions", str(summary["preemptions"]))
    facts.add_row("energy/token", si(summary["energy_per_token_j"], "J"))
    facts.add_row("shapes simulated", str(summary["cost_simulations"]))
    console.print(facts)
    return 0


def _capacity(args, costs, lengths, max_tokens, console: Console) -> int:
    """`--rates 1,2,4`: one run per rate, a row each, and the highest rate meeting the SLO."""
    try:
        rates = [float(r) for r in args.rates.split(",")]
    except ValueError:
        rates = []
    if not rates or not all(0 < rate < math.inf for rate in rates):
        raise SpecError(f"--rates {args.rates}: expected positive numbers like 1,2,4")
    twice = next((r for i, r in enumerate(rates) if r in rates[:i]), None)
    if twice is not None:  # its row ran twice
        raise SpecError(f"--rates {args.rates}: {twice:g} given twice; give each rate once")
    fleet = _fleet(args)
    limits = Limits(args.max_batch, max_tokens, args.preemption)
    slo = Slo(args.slo_ttft, args.slo_tpot)
    rows, _ = rate_sweep(costs, rates, lengths, args.requests, slo, fleet, limits, args.seed)
    best = capacity(rows)
    if args.json:
        print(json.dumps({"capacity_rps": best, "rates": rows.to_dict("records")}, indent=2))
        return 0
    out = table(
        f"{costs.model.name} on {costs.arch.name}: p99 latency by rate",
        ["rate", "TTFT p99", "TPOT p99", "tokens/s", "goodput", "meets SLO"],
    )
    for row in rows.itertuples():
        out.add_row(
            f"{row.rate:g}",
            seconds(row.ttft_p99_s),
            seconds(row.tpot_p99_s) if row.tpot_p99_s == row.tpot_p99_s else "-",
            f"{row.throughput_tokens_per_s:,.1f}",
            f"{row.goodput_rps:.3f}",
            "yes" if row.meets_slo else "no",
        )
    console.print(out)
    console.print(f"capacity at the SLO: {best if best is not None else 'none'} req/s")
    return 0
