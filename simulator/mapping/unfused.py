"""Standard attention as GPUs run it (`algorithm: unfused`): three kernels, S and P through DRAM.

S = Q K^T and O = P V are batched GEMMs, one GEMM per (batch, query head) tiled over query rows,
keys and head_dim by the chip's own GEMM plan for that shape (as cuBLAS tiles them: no kernel
holds all of K or V on chip; a query head of a GQA group reads its K/V head like a repeated one,
as PyTorch's math path does). Softmax is a row kernel over S in DRAM. S and P are written in the
op's precision; the GEMM steps are the GEMM mapper's own, renamed onto Q, K, V, S, P and O.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from simulator.components import Machine
from simulator.errors import CapacityError
from simulator.mapping.attention import ACC
from simulator.mapping.cta import launch_cycles
from simulator.mapping.gemm import GemmPlan, compile_gemm
from simulator.mapping.plan_cache import planned
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, bind
from simulator.numerics.attention import AttentionNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.workload import AttentionOpSpec, GemmOpSpec


def gemm_plans(
    op: AttentionOpSpec, mapping: MappingSpec, machine: Machine
) -> tuple[GemmPlan, GemmPlan]:
    """The chip's GEMM plans of one (batch, query head): S[q, keys] = Q[q, d] K^T[d, keys] and
    O[q, d] = P[q, keys] V[keys, d], each written back in the op's precision."""
    shapes = ((op.keys, op.head_dim, "S"), (op.head_dim, op.keys, "O"))
    return tuple(
        planned(
            GemmOpSpec(
                kind="gemm",
                name=f"{op.name}.{out}",
                M=op.q_len,
                N=n,
                K=k,
                dtype=op.dtype,
                output_dtype=op.dtype,
            ),
            mapping,
            machine,
        )
        for n, k, out in shapes
    )


def softmax_rows(
    op: AttentionOpSpec, machine: Machine, double: bool, given: int | None, where: str
) -> int:
    """Query rows per softmax step: S (fp32 as computed on) and P of that many rows of all keys
    fit their buffers (x2 double-buffered); from `given`, else head_dim, halved until they do."""
    factor = 2 if double else 1

    def used(rows: int) -> dict[str, int]:
        need: dict[str, int] = {}
        for role, size in (
            ("output", nbytes(rows * op.keys, ACC)),
            ("input", nbytes(rows * op.keys, op.dtype)),
        ):
            name = machine.buffer_for(role).name
            need[name] = need.get(name, 0) + size * factor
        return need

    rows = min(given or op.head_dim, op.q_len)
    while True:
        need = used(rows)
        if all(v <= machine.components[n].capacity_bytes for n, v in need.items()):
            return rows
        if given or rows == 1:
            raise CapacityError(
                f"{where}: the softmax kernel of {op.name} needs "
                f"{', '.join(f'{v:,} B in {n}' for n, v in need.items())} for {rows} query "
                f"rows of {op.keys} keys, more than the buffers hold"
            )
        rows = max(1, rows // 2)


@dataclass(frozen=True)
class _Kernel:
    """One GEMM kernel over every (batch, query head): its GEMM's steps per head, renamed."""

    program: OpProgram  # the GEMM's (steps in the GEMM's own tensor names)
    count: int  # steps per (batch, query head)
    tensors: dict[str, str]  # GEMM tensor suffix (A, B, C) -> attention tensor
    kernel: Callable | None  # numerics tile kernel (b, head, m, n, k ranges)


class UnfusedSteps:
    """The step stream of an unfused attention op (or a core's part of one): every head's S tiles,
    then softmax row blocks, then every head's P V tiles. A kernel starts once the one before has
    written all it returns (its last step's write-backs signal the next kernel's first step), after
    the chip's per-kernel launch cost where its cores run kernels (the part's own launch covers
    kernel 1)."""

    def __init__(
        self,
        op: AttentionOpSpec,
        plan,
        cost,
        machine: Machine,
        numerics: AttentionNumerics | None,
        kv_tensor: str,
    ):
        """`plan`: the op's AttentionPlan (its `gemms`, softmax `block_q`); `cost`: its segment
        costs (attention._Cost: buffers and the softmax's work)."""
        self.op, self.plan, self.cost = op, plan, cost
        self.heads = [(b, h) for b in range(op.batch) for h in range(op.heads)]
        self.group = op.heads // op.kv_groups
        self.rows = [(s, min(s + plan.block_q, op.q_len)) for s in range(0, op.q_len, plan.block_q)]
        gemm = [
            compile_gemm(
                GemmOpSpec(kind="gemm", name=name, M=op.q_len, N=n, K=k, dtype=op.dtype),
                gemm_plan,
                machine,
                None,
                barrier=False,
            )
            for name, (n, k), gemm_plan in zip(
                ("scores", "weighted"),
                ((op.keys, op.head_dim), (op.head_dim, op.keys)),
                plan.gemms,
            )
        ]
        self.kernels = (
            _Kernel(
                gemm[0],
                len(gemm[0].classes(0)),
                {"A": f"{op.name}.Q", "B": f"{kv_tensor}.K", "C": f"{op.name}.S"},
                numerics and numerics.scores_tile,
            ),
            _Kernel(
                gemm[1],
                len(gemm[1].classes(0)),
                {"A": f"{op.name}.P", "B": f"{kv_tensor}.V", "C": f"{op.name}.O"},
                numerics and numerics.weighted_tile,
            ),
        )
        self.numerics = numerics
        kernels = machine.arch.cores.kernels if machine.arch.cores else None
        self.launch = launch_cycles(kernels.launch, machine) if kernels else 0
        launches = 1 if self.launch else 0
        heads = len(self.heads)
        self.segments = (  # (steps, generator of them from an offset)
            (heads * self.kernels[0].count, lambda at: self._gemm(self.kernels[0], at)),
            (launches, self._launch),
            (heads * len(self.rows), self._softmax),
            (launches, self._launch),
            (heads * self.kernels[1].count, lambda at: self._gemm(self.kernels[1], at)),
        )
        self.marks = self._barriers([count for count, _ in self.segments])

    def _barriers(self, counts: list[int]) -> dict[int, tuple[tuple, tuple]]:
        """Step index -> (signals it waits for, signals it raises): each kernel's last step
        signals that it is done; the next kernel's launch (or, without one, its first step) waits
        for that, and a launch signals the first step of its kernel."""
        ends = np.cumsum(counts).tolist()  # each segment's end
        marks: dict[int, tuple[tuple, tuple]] = {}

        def mark(index: int, waits=(), signals=()):
            old = marks.get(index, ((), ()))
            marks[index] = (old[0] + waits, old[1] + signals)

        for kernel, (done, launch, first) in enumerate(((0, 1, 2), (2, 3, 4))):
            finished = (f"{self.op.name}.kernel{kernel + 1}.done",)
            mark(ends[done] - 1, signals=finished)
            if self.launch:
                launched = (f"{self.op.name}.kernel{kernel + 2}.launched",)
                mark(ends[launch] - 1, waits=finished, signals=launched)
                finished = launched
            mark(ends[first - 1], waits=finished)
        return marks

    def steps(self, start: int = 0) -> Iterator[Step]:
        """The steps from index `start` on."""
        index = start
        for count, generate in self.segments:
            if start < count:
                for step in generate(start):
                    mark = self.marks.get(index)
                    if mark:
                        waits, signals = mark
                        step = replace(
                            step, waits=step.waits + waits, signals=step.signals + signals
                        )
                    yield step
                    index += 1
            start = max(start - count, 0)

    def classes(self, start: int) -> np.ndarray:
        """A class per step from `start` on: each kernel's GEMM classes (which tile loops are
        first or last), a softmax block's edge flag, kept apart per kernel; launches and the
        steps that wait or signal between kernels are classes of their own."""
        heads = len(self.heads)
        scores, weighted = (np.asarray(k.program.classes(0), np.int64) for k in self.kernels)
        top = max(int(scores.max()), int(weighted.max())) + 1
        edge = np.array([r[1] - r[0] != self.plan.block_q for r in self.rows], np.int64)
        launch = np.zeros(1 if self.launch else 0, np.int64)
        classes = np.concatenate(
            (
                np.tile(scores, heads),
                launch,
                np.tile(top + edge, heads),
                launch,
                np.tile(2 * top + 2 + weighted, heads),
            )
        )
        for order, index in enumerate(sorted(self.marks)):
            classes[index] = 3 * top + 2 + order
        return classes[start:]

    def _launch(self, start: int) -> Iterator[Step]:
        """A kernel's fixed cost on the array (`launch_step`); its barrier marks order it."""
        compute = Compute(self.plan.matrix_unit, self.launch, (), 0, (), {})
        yield Step((), (compute,), (), ())

    def _gemm(self, kernel: _Kernel, start: int) -> Iterator[Step]:
        """Each (batch, query head)'s GEMM steps from overall index `start` on, renamed onto the
        attention's tensors, with (batch, head) leading every region."""
        first, skip = divmod(start, kernel.count)
        for b, head in self.heads[first:]:
            lead = {"A": (b, head), "B": (b, head // self.group), "C": (b, head)}
            for step in kernel.program.resume(skip):
                yield renamed(step, kernel.tensors, lead, kernel.kernel)
            skip = 0

    def _softmax(self, start: int) -> Iterator[Step]:
        """P = softmax(S) per (batch, query head, block of rows): S read, P written, in op.dtype."""
        op, buf, dt = self.op, self.cost.buffer, self.op.dtype
        for at in range(start, len(self.heads) * len(self.rows)):
            (b, head), q = self.heads[at // len(self.rows)], self.rows[at % len(self.rows)]
            rows = q[1] - q[0]
            region = ((b, b + 1), (head, head + 1), q, (0, op.keys))
            s_acc, moved = nbytes(rows * op.keys, ACC), nbytes(rows * op.keys, dt)
            kernel = self.numerics and bind(self.numerics.softmax_rows, b, head, q)
            yield Step(
                (
                    Transfer("load", f"{op.name}.S", region, buf["output"], moved, s_acc),
                    Transfer("alloc", f"{op.name}.P", region, buf["input"], 0, moved),
                ),
                (self.cost.softmax(rows, op.keys, True, False, {"S": region}, kernel),),
                (Transfer("store", f"{op.name}.P", region, buf["input"], moved, moved),),
                ((buf["output"], s_acc),),
            )


def renamed(
    step: Step,
    tensors: dict[str, str],
    lead: dict,
    tile: Callable | None,
    shift: dict | None = None,
    flat: dict | None = None,
) -> Step:
    """A GEMM step on the attention's tensors: each GEMM tensor (A, B, C) renamed by `tensors`,
    its region moved by `shift` (per tensor, its two dims' offsets: a CTA's origin) and led by
    its (batch, head) from `lead`, or, for the tensors in `flat` (suffix -> (heads, rows a
    head)), its rows moved into the (batch x heads x rows, cols) matrix those are kept as; a
    compute gets the tile's numerics kernel `tile` (batch, head and head-local ranges)."""

    def local(which: str, region: tuple) -> tuple:
        if shift:
            return tuple((r0 + s, r1 + s) for (r0, r1), s in zip(region, shift[which]))
        return region

    def placed(which: str, region: tuple) -> tuple:
        b, h = lead[which]
        region = local(which, region)
        if flat and which in flat:
            heads, rows = flat[which]
            base = (b * heads + h) * rows
            return ((region[0][0] + base, region[0][1] + base), *region[1:])
        return ((b, b + 1), (h, h + 1), *region)

    def moved(t: Transfer) -> Transfer:
        which = t.tensor[-1]
        return replace(t, tensor=tensors[which], region=placed(which, t.region))

    computes = []
    for c in step.computes:
        call = None
        if tile:
            (m, k), (_, n) = local("A", c.regions["A"]), local("B", c.regions["B"])
            call = bind(tile, *lead["A"], m, n, k)
        regions = {tensors[t].rsplit(".", 1)[1]: placed(t, r) for t, r in c.regions.items()}
        streamed = tuple(map(moved, c.streamed))
        computes.append(replace(c, regions=regions, kernel=call, streamed=streamed))
    return replace(
        step,
        loads=tuple(map(moved, step.loads)),
        computes=tuple(computes),
        stores=tuple(map(moved, step.stores)),
    )
