"""Unfused attention on a GPU-like chip as PyTorch runs it: three kernels, each over a grid.

S = Q K^T and O = P V are cuBLAS batched GEMMs: every (batch, query head) GEMM's CTA tiles, the
heads outermost, are dealt to the cores in waves (tile i on core i mod cores), as cta.py deals one
GEMM's tiles; the softmax is the chip's softmax row kernel (mapping/vector_ops.py, PyTorch's
cunn_SoftMaxForward) over S as a (batch x heads x rows, keys) matrix, its rows split over the
cores as a softmax op's are; S and P are kept in that layout. A kernel starts on a core, after
its launch cost, once every core has written what the kernel before it returns. Cores whose work
has the same shapes form a core class (mapping/classes.py), simulated once.
"""

import dataclasses
from collections.abc import Callable, Iterator

from simulator.components import Machine
from simulator.mapping.attention import attention_units, check_unfused
from simulator.mapping.cta import choose_grid, launch_cycles
from simulator.mapping.gemm import compile_gemm
from simulator.mapping.plan_cache import planned
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, altered, as_many, bind
from simulator.mapping.ranges import tile_ranges
from simulator.mapping.shifted import moved, replayed
from simulator.mapping.unfused import renamed
from simulator.numerics.attention import AttentionNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.workload import AttentionOpSpec, GemmOpSpec, VectorOpSpec


@dataclasses.dataclass(frozen=True)
class _Gemm:
    """One batched GEMM kernel: per (batch, query head) an M x N x K GEMM of CTA tiles."""

    suffix: str  # the kernel's name in step names (scores, weighted)
    M: int
    N: int
    K: int
    tensors: dict[str, str]  # GEMM tensor suffix (A, B, C) -> attention tensor
    flat: dict[str, tuple[int, int]]  # S or P: kept as (batch x heads x rows, cols), see `renamed`
    tile_m: int = 0
    tile_n: int = 0


def grid_parts(
    op: AttentionOpSpec,
    mapping: MappingSpec,
    machine: Machine,
    cores: int,
    numerics: bool,
    seed: int,
    states: dict,
    softmax_parts: Callable,
) -> list[OpProgram]:
    """One OpProgram per core that has work: its S CTAs, its softmax rows, its P V CTAs.
    `softmax_parts(op, cores)`: a softmax op's parts, one per core it runs on (partition.py)."""
    state = AttentionNumerics(op, seed) if numerics else None
    if state:
        states[op.name] = state
    check_unfused(mapping)
    matrix, _ = attention_units(op, mapping, machine.view(0))
    flat = (op.heads, op.q_len)
    gemms = [
        _tiled(op, gemm, mapping, machine, cores)
        for gemm in (
            _Gemm(
                "scores",
                op.q_len,
                op.keys,
                op.head_dim,
                {"A": f"{op.name}.Q", "B": f"{op.name}.K", "C": f"{op.name}.S"},
                {"C": flat},
            ),
            _Gemm(
                "weighted",
                op.q_len,
                op.head_dim,
                op.keys,
                {"A": f"{op.name}.P", "B": f"{op.name}.V", "C": f"{op.name}.O"},
                {"A": flat},
            ),
        )
    ]
    heads = [(b, h) for b in range(op.batch) for h in range(op.heads)]
    tiles = [
        [
            (b, h, m, n)
            for b, h in heads
            for m in tile_ranges(0, g.M, g.tile_m)
            for n in tile_ranges(0, g.N, g.tile_n)
        ]
        for g in gemms
    ]
    rows = op.batch * op.heads * op.q_len
    softmax = VectorOpSpec(
        kind="softmax", name=f"{op.name}.softmax", rows=rows, cols=op.keys, dtype=op.dtype
    )
    by_core = {part.core: part for part in softmax_parts(softmax, cores)}
    dealt = [[items[core::cores] for core in range(cores)] for items in tiles]
    dealt.insert(1, [by_core.get(core) for core in range(cores)])
    grid = _Grid(op, matrix, mapping, machine, gemms, dealt, state)
    return [grid.part(core) for core in range(cores) if any(d[core] for d in dealt)]


def _tiled(op, gemm: _Gemm, mapping, machine: Machine, cores: int) -> _Gemm:
    """The kernel's CTA tile: the chip's grid choice for the GEMM of all heads stacked along M
    (whole tiles: a batched GEMM has tiles enough for every core, so no split-K or stream-K)."""
    stacked = GemmOpSpec(
        kind="gemm",
        name=f"{op.name}.{gemm.suffix}",
        M=op.batch * op.heads * gemm.M,
        N=gemm.N,
        K=gemm.K,
        dtype=op.dtype,
    )
    chosen = choose_grid(stacked, mapping, machine, cores, pairs=False)  # deals its own tiles
    return dataclasses.replace(
        gemm, tile_m=min(chosen.tile_m, gemm.M), tile_n=min(chosen.tile_n, gemm.N)
    )


class _Grid:
    """The three kernels' work dealt to the cores, and each core's step stream."""

    def __init__(self, op, matrix: str, mapping, machine: Machine, gemms, dealt, numerics):
        self.op, self.matrix, self.mapping, self.machine = op, matrix, mapping, machine
        self.gemms, self.dealt, self.numerics = gemms, dealt, numerics
        kernels = machine.arch.cores.kernels
        self.launch = launch_cycles(kernels.launch, machine)
        self.compiled: dict[tuple, OpProgram] = {}  # (kernel, m, n) -> its first CTA's
        self.tile_steps: dict[tuple, list[Step]] = {}  # (core, kernel, m, n) -> steps at 0, 0

    def part(self, core: int) -> OpProgram:
        op = self.op
        scores, softmax, weighted = (d[core] for d in self.dealt)
        macs = sum(
            (m[1] - m[0]) * (n[1] - n[0]) * g.K
            for g, items in zip(self.gemms, (scores, weighted))
            for _, _, m, n in items
        )
        shapes = (
            tuple((m[1] - m[0], n[1] - n[0]) for _, _, m, n in scores),
            softmax and _softmax_class(softmax),
            tuple((m[1] - m[0], n[1] - n[0]) for _, _, m, n in weighted),
        )
        unit = self.matrix.replace("core0.", f"core{core}.", 1)
        return OpProgram(
            name=f"{op.name}@c{core}",
            kind="attention",
            steps=lambda: self._steps(core),
            macs=macs,
            flops=2 * macs,
            unit=unit,
            double_buffering=self.mapping.double_buffering,
            barrier=False,
            core=core,
            group=op.name,
            details={
                "unit": unit,
                "algorithm": "unfused",
                "cta": " ".join(f"{g.tile_m}x{g.tile_n}" for g in self.gemms),
                "ctas": len(scores) + len(weighted),
                "double_buffering": self.mapping.double_buffering,
            },
            shape_class=repr(("unfused", shapes)),
        )

    def _steps(self, core: int) -> Iterator[Step]:
        """The core's kernels in order: each after a launch step that waits for every core's
        last step of the kernel before (the first kernel's launch is the part's own)."""
        done: tuple[str, ...] = ()
        view = self.machine.view(core)
        unit = self.matrix.replace("core0.", f"core{core}.", 1)
        for index, work in enumerate(self.dealt):
            mine = work[core]
            if mine:
                waits = ()
                if done:
                    launched = f"{self.op.name}.kernel{index + 1}.launched.c{core}"
                    compute = Compute(unit, self.launch, (), 0, (), {})
                    yield Step((), (compute,), (), (), waits=done, signals=(launched,))
                    waits = (launched,)
                signal = f"{self.op.name}.kernel{index + 1}.c{core}"
                yield from _marked(self._kernel(index, core, view, mine), waits, signal)
            done = tuple(
                f"{self.op.name}.kernel{index + 1}.c{c}" for c, items in enumerate(work) if items
            )

    def _kernel(self, index: int, core: int, view: Machine, work) -> Iterator[Step]:
        if index == 1:
            for step in work.steps():
                yield self._softmax(step)
            return
        gemm = self.gemms[index // 2]
        tile = self.numerics and (
            self.numerics.scores_tile if index == 0 else self.numerics.weighted_tile
        )
        group = self.op.heads // self.op.kv_groups
        for b, head, m, n in work:
            lead = {"A": (b, head), "B": (b, head // group), "C": (b, head)}
            shift = {"A": (m[0], 0), "B": (0, n[0]), "C": (m[0], n[0])}
            for step in self._tile(gemm, index, core, view, m[1] - m[0], n[1] - n[0]):
                yield renamed(step, gemm.tensors, lead, tile, shift, gemm.flat)

    def _softmax(self, step: Step) -> Step:
        """A step of the softmax op on S and P (its X and Y), with the attention's numerics."""
        names = {"X": f"{self.op.name}.S", "Y": f"{self.op.name}.P"}

        def named(t: Transfer) -> Transfer:
            return dataclasses.replace(t, tensor=names[t.tensor[-1]])

        (compute,) = step.computes
        region = compute.regions["X"]
        kernel = self.numerics and bind(_softmax_rows, self.numerics, self.op, region[0])
        compute = dataclasses.replace(compute, regions={"S": region}, kernel=kernel)
        return dataclasses.replace(
            step,
            loads=tuple(map(named, step.loads)),
            computes=(compute,),
            stores=tuple(map(named, step.stores)),
        )

    def _tile(self, gemm: _Gemm, index, core, view, rows: int, cols: int) -> list[Step]:
        """The steps of one CTA of `rows` x `cols` at the GEMM's origin, on `core`, storing its
        tile in the op's precision: compiled once per shape, on the first core that runs it, and
        moved to each other core (its components renamed, as cta.py moves a leader's CTAs)."""
        key = (core, index, rows, cols)
        steps = self.tile_steps.get(key)
        if steps is None:
            first = self.compiled.get(key[1:])
            if first is None:
                first = self.compiled[key[1:]] = self._compiled(gemm, core, view, rows, cols)
            else:  # another core's: moved here
                first = moved(first, first.name, dict.fromkeys("MNK", 0), core)
            steps = self.tile_steps[key] = list(first.steps())
        return steps

    def _compiled(self, gemm: _Gemm, core, view, rows: int, cols: int) -> OpProgram:
        """One CTA compiled on `core`, its tile loop nest walked once (its steps replayed)."""
        sub = GemmOpSpec(
            kind="gemm",
            name=f"{self.op.name}.{gemm.suffix}",
            M=rows,
            N=cols,
            K=gemm.K,
            dtype=self.op.dtype,
        )
        plan = planned(sub, self.mapping, self.machine.view(0))
        plan = dataclasses.replace(
            plan, unit=plan.unit.replace("core0.", f"core{core}.", 1), output=self.op.dtype
        )
        program = compile_gemm(sub, plan, view, None, barrier=False, core=core)
        again = replayed(program.steps)
        return altered(program, steps=again, step_count=as_many(program, again))


def _softmax_class(part: OpProgram) -> tuple:
    """What a core's softmax steps depend on: its rows (as its flops) and its resolved details
    but the unit, which names the core."""
    return part.flops, sorted((k, v) for k, v in part.details.items() if k != "unit")


def _softmax_rows(numerics: AttentionNumerics, op: AttentionOpSpec, rows: tuple[int, int]):
    """The attention's softmax over rows of S as a (batch x heads x q_len, keys) matrix: each
    (batch, head)'s share of them."""
    for head_row in range(rows[0] // op.q_len, -(-rows[1] // op.q_len)):
        b, head = divmod(head_row, op.heads)
        start = head_row * op.q_len
        q = (max(rows[0] - start, 0), min(rows[1] - start, op.q_len))
        numerics.softmax_rows(b, head, q)


def _marked(steps: Iterator[Step], waits: tuple[str, ...], signal: str) -> Iterator[Step]:
    """`steps` with the first waiting for `waits` and the last raising `signal`."""
    previous = None
    for step in steps:
        if previous is None:
            step = dataclasses.replace(step, waits=step.waits + waits) if waits else step
        else:
            yield previous
        previous = step
    yield dataclasses.replace(previous, signals=previous.signals + (signal,))
