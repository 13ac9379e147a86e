"""Batch formation, one iteration at a time: static, continuous (vLLM) and chunked (Sarathi-Serve).

Each request's state is the KV it holds (`prefilled` tokens) and the tokens it has emitted. A
prefill runs `target` tokens (the prompt, or prompt + emitted tokens after a recompute) and emits
the first token; each decode step runs the last emitted token and emits the next. When KV blocks
run out the newest running request is preempted (vLLM's policy): by recompute (its KV is dropped
and its tokens prefilled again) or by swap (its KV goes to host memory and comes back later).
"""

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field

from simulator.serving.costs import Batch
from simulator.serving.kvcache import BlockManager
from simulator.serving.requests import RequestSpec


@dataclass(eq=False)
class Request:
    """A request in flight (mutable, owned by one replica's scheduler)."""

    spec: RequestSpec
    target: int = 0
    prefilled: int = 0
    generated: int = 0
    preemptions: int = 0
    first_token_s: float | None = None
    finish_s: float | None = None
    replica: int = 0
    energy_j: float = 0.0
    swapped: bool = False
    handed_off: bool = False
    token_s: list[float] = field(default_factory=list)

    def __post_init__(self):
        self.target = self.target or self.spec.prompt_tokens

    @property
    def rid(self) -> int:
        return self.spec.rid

    @property
    def decoding(self) -> bool:
        return self.prefilled >= self.target

    @property
    def done(self) -> bool:
        return self.generated >= self.spec.output_tokens


@dataclass(frozen=True)
class Limits:
    """Scheduler knobs: sequences per batch, tokens per iteration (chunked: the chunk size)."""

    max_batch: int = 256
    max_tokens: int = 8192
    preemption: str = "recompute"


@dataclass
class Step:
    """What one iteration runs: (request, tokens) items, plus padding rows (static batching) and
    the KV bytes swapped between host and device before it starts."""

    items: list[tuple[Request, int]]
    padding_kv: tuple[int, ...] = ()
    swap_bytes: int = 0

    def batch(self) -> Batch:
        decode = [r.prefilled + 1 for r, q in self.items if r.decoding]
        prefill = [(q, r.prefilled + q) for r, q in self.items if not r.decoding]
        emitting = sum(1 for r, q in self.items if r.decoding or r.prefilled + q >= r.target)
        return Batch(tuple(decode) + self.padding_kv, tuple(prefill), emitting)


class Scheduler(ABC):
    """The common part: waiting queue (FCFS), running list, KV blocks, preemption."""

    def __init__(self, limits: Limits, kv: BlockManager):
        self.limits, self.kv = limits, kv
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.preemptions = 0
        self.swap_bytes = 0

    def add(self, request: Request) -> None:
        request.swapped = request.handed_off  # a handed-off prompt resumes like swapped-in KV
        self.waiting.append(request)

    @property
    def outstanding(self) -> int:
        return len(self.waiting) + len(self.running)

    @abstractmethod
    def step(self) -> Step | None:
        """The next iteration's batch, or None when nothing can run now."""

    def finish(self, request: Request) -> None:
        self.running.remove(request)
        self.kv.release(request.rid)

    # ----- shared pieces ------------------------------------------------------------------------
    def _preempt(self, victim: Request) -> int:
        """Take `victim`'s blocks back; returns the KV bytes swapped out (0 for recompute)."""
        self.running.remove(victim)
        blocks = self.kv.release(victim.rid)
        victim.preemptions += 1
        self.preemptions += 1
        self.waiting.appendleft(victim)
        if self.limits.preemption == "swap" and victim.decoding:
            victim.swapped = True
            self.swap_bytes += blocks * self.kv.block_bytes
            return blocks * self.kv.block_bytes
        victim.prefilled, victim.target = 0, victim.spec.prompt_tokens + victim.generated
        return 0

    def _grow_decodes(self, step: Step) -> None:
        """Give each decoding request the KV slot of its next token, preempting the newest
        running requests when blocks run out; adds the survivors to `step`."""
        preempted: set[int] = set()
        for request in list(self.running):
            if request.rid in preempted or not request.decoding:
                continue
            while not self.kv.can_hold(request.rid, request.prefilled + 1):
                victim = self.running[-1]
                step.swap_bytes += self._preempt(victim)
                preempted.add(victim.rid)
                if victim is request:
                    break
            else:
                self.kv.grow(request.rid, request.prefilled + 1)
                step.items.append((request, 1))

    def _resume_swapped(self, step: Step) -> None:
        """Bring swapped-out requests at the head of the queue back while their KV fits."""
        while self.waiting and self.waiting[0].swapped:
            request = self.waiting[0]
            if len(self.running) >= self.limits.max_batch or not self.kv.can_hold(
                request.rid, request.prefilled + 1
            ):
                return
            self.waiting.popleft()
            self.kv.grow(request.rid, request.prefilled)
            if not request.handed_off:  # its KV comes back from the host
                step.swap_bytes += self.kv.held[request.rid] * self.kv.block_bytes
                self.swap_bytes += self.kv.held[request.rid] * self.kv.block_bytes
            request.swapped = request.handed_off = False
            self.running.append(request)

    def _admit(self, budget: int, reserve_output: bool = False) -> list[tuple[Request, int]]:
        """Admit waiting requests FCFS while they fit the batch, the token budget and the KV
        blocks (their whole prompt; with `reserve_output`, their whole answer too)."""
        admitted: list[tuple[Request, int]] = []
        while self.waiting and not self.waiting[0].swapped and budget > 0:
            request = self.waiting[0]
            if len(self.running) >= self.limits.max_batch:
                break
            need = request.target + (request.spec.output_tokens if reserve_output else 0)
            if not self.kv.can_hold(request.rid, need):
                break
            chunk = min(request.target - request.prefilled, budget)
            if chunk < request.target - request.prefilled and not self._chunks:
                break  # a whole prompt must fit the iteration's token budget
            self.waiting.popleft()
            self.kv.grow(request.rid, need)
            self.running.append(request)
            admitted.append((request, chunk))
            budget -= chunk
        return admitted

    _chunks = False


class ContinuousScheduler(Scheduler):
    """vLLM (v0) continuous batching: an iteration prefills newly admitted prompts if any fit,
    else every running request decodes one token; batches change at every iteration."""

    def step(self) -> Step | None:
        step = Step([])
        self._resume_swapped(step)
        step.items = self._admit(self.limits.max_tokens)
        if not step.items:
            self._grow_decodes(step)
        return step if step.items else None


class ChunkedScheduler(Scheduler):
    """Sarathi-Serve chunked prefill: every iteration carries all decodes plus prompt chunks up to
    a token budget (the chunk size), so long prompts never stall the decodes."""

    _chunks = True

    def step(self) -> Step | None:
        step = Step([])
        self._resume_swapped(step)
        self._grow_decodes(step)
        budget = self.limits.max_tokens - len(step.items)
        for request in self.running:
            if not request.decoding and budget > 0:  # a prompt part-way through its chunks
                chunk = min(request.target - request.prefilled, budget)
                step.items.append((request, chunk))
                budget -= chunk
        step.items += self._admit(budget)
        return step if step.items else None


class StaticScheduler(Scheduler):
    """Static batching: a batch is formed only when the last one has finished, runs its prompts
    together, then decodes until its longest answer ends (finished rows stay on as padding).
    Each request's whole prompt + answer is reserved in KV at admission, so nothing is preempted."""

    def __init__(self, limits: Limits, kv: BlockManager):
        super().__init__(limits, kv)
        self.padding: list[Request] = []

    def step(self) -> Step | None:
        if not self.running:
            self.padding = []
            admitted = self._admit(self.limits.max_tokens, reserve_output=True)
            return Step(admitted) if admitted else None
        step = Step([(r, 1) for r in self.running])
        step.padding_kv = tuple(r.prefilled + 1 for r in self.padding)
        for r in self.padding:
            r.prefilled += 1
        return step

    def finish(self, request: Request) -> None:
        super().finish(request)
        if self.running:
            self.padding.append(request)


SCHEDULERS = {
    "continuous": ContinuousScheduler,
    "chunked": ChunkedScheduler,
    "static": StaticScheduler,
}
