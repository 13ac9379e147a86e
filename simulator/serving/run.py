"""serve(): one serving run of a request stream on a fleet of replicas, as a ServingResult."""

from collections.abc import Callable
from pathlib import Path

from simulator.errors import SpecError, expect
from simulator.serving.costs import CostModel
from simulator.serving.engine import ClosedLoop, Fleet, Simulation
from simulator.serving.metrics import ServingResult, Slo, iteration_table, request_table
from simulator.serving.models import Model, load_model
from simulator.serving.requests import RequestSpec
from simulator.serving.scheduler import Limits
from simulator.spec import ArchSpec, load_arch
from simulator.spec.system import one_chip

DEFAULT_FLEET, DEFAULT_LIMITS, NO_SLO = Fleet(), Limits(), Slo()


def serve(
    arch: ArchSpec | str | Path,
    model: Model | str | Path,
    requests: list[RequestSpec],
    fleet: Fleet = DEFAULT_FLEET,
    limits: Limits = DEFAULT_LIMITS,
    slo: Slo = NO_SLO,
    loop: ClosedLoop | None = None,
    costs: CostModel | None = None,
    progress: Callable[[int], None] | None = None,
) -> ServingResult:
    """Serve `requests` with `model` on `fleet` replicas of `arch` and return the result.

    `costs` reuses a CostModel (and its memo) across runs of the same arch and model; without
    one, a fresh in-memory model buckets on a ratio-2 grid. With `loop`, requests are sent by
    closed-loop users and their arrival times are ignored.
    """
    arch = arch if isinstance(arch, ArchSpec) else one_chip(load_arch(arch), "serving")
    model = model if isinstance(model, Model) else load_model(model)
    expect(requests, (list, tuple), "serve: requests (a list of RequestSpec)")
    for request in requests:
        expect(request, RequestSpec, "serve: requests")
    _check_stream(requests, loop)
    costs = costs or CostModel(arch, model)
    if (costs.arch, costs.model) != (arch, model):
        raise SpecError(
            f"serve: the cost model was built for {costs.model.name} on {costs.arch.name}, "
            f"not {model.name} on {arch.name}"
        )
    _check_fleet_size(fleet, loop, len(requests))
    sim = Simulation(costs, fleet, limits, progress)
    before = costs.simulations
    sim.run(requests, loop)
    schedulers = [r.scheduler for r in sim.replicas]
    return ServingResult(
        arch=arch.name,
        model=model.name,
        scheduler=fleet.scheduler,
        requests=request_table(sim.finished),
        iterations=iteration_table(sim.iterations),
        slo=slo,
        preemptions=sum(s.preemptions for s in schedulers),
        swap_bytes=sum(s.swap_bytes for s in schedulers),
        simulations=costs.simulations - before,
    )


def _check_stream(requests: list[RequestSpec], loop: ClosedLoop | None) -> None:
    """Each request once, and (arriving open loop) in arrival order: a later one listed first was
    routed first, and the earlier one's time to first token counted from the later's arrival."""
    rids = [r.rid for r in requests]
    if len(set(rids)) != len(rids):
        twice = next(rid for i, rid in enumerate(rids) if rid in rids[:i])
        raise SpecError(f"serve: requests: rid {twice} given twice; give each request its own")
    if loop is None:
        for before, after in zip(requests, requests[1:]):
            if after.arrival_s < before.arrival_s:
                raise SpecError(
                    f"serve: requests: request {after.rid} arrives at {after.arrival_s:g} s, "
                    f"before request {before.rid} ({before.arrival_s:g} s) listed ahead of it; "
                    "give them in arrival order"
                )


def _check_fleet_size(fleet: Fleet, loop: ClosedLoop | None, requests: int) -> None:
    """Every request stream has a request, and every replica and closed-loop user may get one:
    more would only idle, and each costs memory (a typo's 10^8 replicas or users would exhaust
    it, or run for hours)."""
    if requests < 1:
        raise SpecError("no requests to serve")
    counts = {"replicas": fleet.replicas}
    if fleet.scheduler == "disaggregated":
        counts["decode_replicas"] = fleet.decode_replicas
    if loop is not None:
        counts["users"] = loop.users
    for name, count in counts.items():
        if isinstance(count, int) and count > requests:
            raise SpecError(
                f"{name}: {count:,} {name.split('_')[-1]} for {requests:,} requests; one without "
                "a request only idles, so give at most one per request"
            )
