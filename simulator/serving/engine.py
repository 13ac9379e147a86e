"""The request-level simulation: arrivals, a router, and replicas that run one iteration at a time.

Each replica is a simpy process: it asks its scheduler for the next iteration, holds the
simulated time the cost model prices for that batch, then emits tokens and retires finished
requests. Replicas idle (no events) while nothing waits. The router sends each arrival to a
replica: round robin, or the one with the fewest outstanding requests. A pipeline-parallel
replica runs one scheduler per stage (its micro-batches) over shared stages (pipeline.py); the
router picks the replica, then its scheduler with the fewest outstanding requests.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import simpy

from simulator.errors import CapacityError, SpecError
from simulator.serving.costs import CostModel
from simulator.serving.pipeline import Pipeline, check_stages, kv_blocks
from simulator.serving.requests import RequestSpec
from simulator.serving.scheduler import SCHEDULERS, Limits, Request, Scheduler
from simulator.spec import ArchSpec
from simulator.spec.validate import locate


@dataclass(frozen=True)
class Fleet:
    """Replicas behind one router, each holding the whole model on the arch (multi-chip archs
    split it tensor-parallel inside simulate()), or on `pipeline_stages` copies of the arch
    linked by its chip-to-chip ports. `disaggregated` runs prompts on `replicas` prefill
    replicas and hands each request's KV over `link_gbps` to `decode_replicas` decode replicas
    (DistServe); the same link carries swapped KV to and from the host. `host_overhead_s` is the
    serving runtime's CPU time per iteration that the accelerator waits for (scheduling, input
    preparation, sampling, output processing; 0 for runtimes that hide it)."""

    scheduler: str = "continuous"
    replicas: int = 1
    router: str = "round_robin"
    block_size: int = 16
    memory_fraction: float = 0.9
    link_gbps: float = 32.0  # PCIe 4.0 x16, one direction
    decode_replicas: int = 1
    pipeline_stages: int = 1
    host_overhead_s: float = 0.0


@dataclass(frozen=True)
class ClosedLoop:
    """N users, each sending its next request `think_s` after the previous answer ends."""

    users: int
    think_s: float = 0.0

    def __post_init__(self):
        if not isinstance(self.users, int) or self.users < 1:
            raise SpecError(f"closed loop: users must be a positive integer, got {self.users!r}")
        if not 0 <= self.think_s < math.inf:
            raise SpecError(f"closed loop: think_s must be finite and >= 0, got {self.think_s!r}")


class Replica:
    """One copy of the model: a scheduler over its own KV-cache, run as a simpy process."""

    def __init__(
        self,
        index: int,
        scheduler: Scheduler,
        sim: "Simulation",
        hands_off: bool,
        pipeline: Pipeline | None,
    ):
        self.index, self.scheduler, self.sim, self.hands_off = index, scheduler, sim, hands_off
        self.pipeline = pipeline
        self.wake = sim.env.event()

    def submit(self, request: Request) -> None:
        request.replica = self.index
        self.scheduler.add(request)
        if not self.wake.triggered:
            self.wake.succeed()

    def run(self):
        """Timing assumption: an iteration takes the host overhead, the host transfers of any
        swap, then the cost model's time for its whole batch (or its trip through the pipeline's
        stages), and nothing overlaps this scheduler's consecutive iterations."""
        env, sched, fleet = self.sim.env, self.scheduler, self.sim.fleet
        while True:
            step = sched.step()
            if step is None:
                self.wake = env.event()
                yield self.wake
                continue
            batch = step.batch()
            in_system = sched.outstanding
            swap_s = step.swap_bytes / (fleet.link_gbps * 1e9)
            start = env.now
            if self.pipeline is None:
                cost = self.sim.costs.iteration(batch)
                yield env.timeout(fleet.host_overhead_s + swap_s + cost.seconds)
            else:
                parts = self.pipeline.stage_costs(batch)
                cost = sum(parts[1:], parts[0])
                yield env.timeout(fleet.host_overhead_s + swap_s)
                yield from self.pipeline.run(batch, parts)
            tokens = batch.tokens
            for request, q in step.items:
                request.energy_j += cost.energy_j * q / tokens
                request.prefilled += q
                if request.prefilled >= request.target:
                    request.generated += 1
                    request.token_s.append(env.now)
                    if request.first_token_s is None:
                        request.first_token_s = env.now
                if request.done:
                    request.finish_s = env.now
                    sched.finish(request)
                    self.sim.retire(request)
                elif self.hands_off and request.decoding:
                    sched.finish(request)
                    env.process(self.sim.hand_off(request))
            self.sim.iterations.append(
                (
                    self.index,
                    start,
                    env.now - start,
                    len(step.items),
                    len(batch.decode_kv),
                    sum(q for q, _ in batch.prefill),
                    tokens,
                    batch.emitting,
                    1 - sched.kv.free / sched.kv.total,
                    len(sched.waiting),
                    in_system,
                    cost.energy_j,
                    step.swap_bytes,
                )
            )


def dram_capacity(arch: ArchSpec) -> float:
    """Bytes of the arch's DRAM, which holds the weights and the KV-cache; SpecError if the arch
    has no DRAM or does not give its capacity."""
    name, dram = next(
        ((n, c) for n, c in arch.components.items() if c.kind == "dram"), (None, None)
    )
    if dram is None:
        raise SpecError(
            f"{locate(arch, 'components')}: serving keeps weights and KV-cache in DRAM; "
            f"{arch.name} has no dram component"
        )
    if dram.capacity is None:
        raise SpecError(
            f"{locate(arch, 'components', name)}: serving needs the DRAM's capacity (for weights "
            f"and KV-cache); set it, e.g. --set 'components.{name}.capacity=16 GiB'"
        )
    return dram.capacity


class Simulation:
    """A whole serving run: its simpy environment, replicas, finished requests and iterations."""

    def __init__(
        self,
        costs: CostModel,
        fleet: Fleet,
        limits: Limits,
        progress: Callable[[int], None] | None = None,
    ):
        if fleet.scheduler not in (*SCHEDULERS, "disaggregated"):
            known = ", ".join((*SCHEDULERS, "disaggregated"))
            raise SpecError(f"scheduler {fleet.scheduler!r}: choose one of {known}")
        for name, value in (
            ("replicas", fleet.replicas),
            ("decode_replicas", fleet.decode_replicas),
            ("block_size", fleet.block_size),
            ("max_batch", limits.max_batch),
            ("max_tokens", limits.max_tokens),
        ):
            if not isinstance(value, int) or value < 1:
                raise SpecError(f"{name}: must be a positive integer, got {value!r}")
        if not 0 < fleet.memory_fraction <= 1 or not 0 < fleet.link_gbps < math.inf:
            raise SpecError("memory_fraction must be in (0, 1] and link_gbps positive")
        if not 0 <= fleet.host_overhead_s < math.inf:
            raise SpecError(f"host_overhead_s: must be >= 0, got {fleet.host_overhead_s!r}")
        check_stages(fleet.pipeline_stages, costs.model.layers, costs.model.name)
        if limits.preemption not in ("recompute", "swap"):
            raise SpecError(f"preemption {limits.preemption!r}: choose recompute or swap")
        if fleet.router not in ("round_robin", "least_outstanding"):
            raise SpecError(f"router {fleet.router!r}: choose round_robin or least_outstanding")
        self.env = simpy.Environment()
        self.costs, self.fleet, self.limits, self.progress = costs, fleet, limits, progress
        split = fleet.scheduler == "disaggregated"
        counts = (fleet.replicas, fleet.decode_replicas if split else 0)
        groups = [self._replica(g, split and g < counts[0]) for g in range(sum(counts))]
        self.replicas = [engine for group in groups for engine in group]
        self.entry, self.decoders = groups[: counts[0]], groups[counts[0] :]
        self.finished: list[Request] = []
        self.iterations: list[tuple] = []
        self._turn = 0
        self._done_hooks: dict[int, simpy.Event] = {}

    def _replica(self, index: int, hands_off: bool) -> list[Replica]:
        """One replica: a scheduler over the whole KV-cache, or with pipeline stages one per stage
        (vLLM v0's virtual engines), each over its share of the blocks, sharing the stages."""
        costs, fleet, stages = self.costs, self.fleet, self.fleet.pipeline_stages
        dram = int(dram_capacity(costs.arch))
        where = f"{costs.model.name} on {costs.arch.name}"
        kv = kv_blocks(dram, costs.model, stages, fleet.block_size, fleet.memory_fraction, where)
        pipeline = Pipeline(self.env, costs, stages) if stages > 1 else None
        policy = SCHEDULERS["continuous" if fleet.scheduler == "disaggregated" else fleet.scheduler]
        return [
            Replica(index, policy(self.limits, share), self, hands_off, pipeline)
            for share in kv.share(stages)
        ]

    def check(self, spec: RequestSpec) -> None:
        """A request that could never run is an error now, not a run that hangs."""
        kv = self.replicas[0].scheduler.kv
        tokens = spec.prompt_tokens + spec.output_tokens
        if kv.blocks(tokens) > kv.total:
            raise CapacityError(
                f"request {spec.rid}: {tokens} tokens need {kv.blocks(tokens)} "
                f"KV blocks; {self.costs.arch.name} holds {kv.total} after the weights"
            )
        model = self.costs.model
        if tokens > model.max_context:  # the model has no positions past it (vLLM refuses it)
            raise SpecError(
                f"request {spec.rid}: {spec.prompt_tokens} prompt + {spec.output_tokens} output "
                f"tokens exceed {model.name}'s context of {model.max_context} "
                "(max_position_embeddings); shorten the request"
            )
        if self.fleet.scheduler != "chunked" and spec.prompt_tokens > self.limits.max_tokens:
            raise SpecError(
                f"request {spec.rid}: prompt of {spec.prompt_tokens} tokens exceeds max batched "
                f"tokens ({self.limits.max_tokens}); raise it or use the chunked scheduler"
            )

    def route(self, spec: RequestSpec) -> Request:
        self.check(spec)
        request = Request(spec)
        self._pick(self.entry).submit(request)
        return request

    def _pick(self, pool: list[list[Replica]]) -> Replica:
        """The router's replica, then its scheduler with the fewest outstanding requests."""
        if self.fleet.router == "round_robin":
            self._turn += 1
            group = pool[(self._turn - 1) % len(pool)]
        else:
            group = min(pool, key=lambda g: sum(r.scheduler.outstanding for r in g))
        return min(group, key=lambda r: r.scheduler.outstanding)

    def hand_off(self, request: Request):
        """Disaggregated: the prompt's KV crosses the link, then a decode replica resumes it."""
        model = self.costs.model
        kept = min(request.prefilled, model.layer.sliding_window or request.prefilled)
        kv_bytes = kept * model.kv_bytes_per_token
        yield self.env.timeout(kv_bytes / (self.fleet.link_gbps * 1e9))
        request.handed_off = True
        self._pick(self.decoders).submit(request)

    def retire(self, request: Request) -> None:
        self.finished.append(request)
        if self.progress:
            self.progress(len(self.finished))
        hook = self._done_hooks.pop(request.rid, None)
        if hook:
            hook.succeed()

    def open_loop(self, specs: list[RequestSpec]):
        """Requests arriving at the same instant are all routed before any replica forms its next
        batch (an offline batch of N requests is one batch, not 1 then N - 1)."""
        for spec in specs:
            if spec.arrival_s > self.env.now:
                yield self.env.timeout(spec.arrival_s - self.env.now)
            self.route(spec)

    def user(self, specs: list[RequestSpec], loop: ClosedLoop):
        """One closed-loop user: send, wait for the answer, think, send the next."""
        for spec in specs:
            spec = RequestSpec(spec.rid, self.env.now, spec.prompt_tokens, spec.output_tokens)
            self._done_hooks[spec.rid] = done = self.env.event()
            self.route(spec)
            yield done
            yield self.env.timeout(loop.think_s)

    def run(self, specs: list[RequestSpec], loop: ClosedLoop | None = None) -> None:
        for replica in self.replicas:
            self.env.process(replica.run())
        if loop is None:
            self.env.process(self.open_loop(specs))
        else:
            for u in range(loop.users):
                self.env.process(self.user(specs[u :: loop.users], loop))
        self.env.run()
