"""Attention as tile steps: FlashAttention-2 (online softmax), naive (materialised S and P per
row block) or unfused (three kernels with S and P through DRAM: mapping/unfused.py).

Query heads that share a K/V head (GQA/MQA) are stacked into one block of g * Br rows, so each
K/V block is read once per query block and group, never once per query head. Q, K and V live
in the buffers holding the input, weight and output roles respectively... of the matmuls they
feed: Q and P are matmul inputs, K and V matmul weights, S and O accumulators.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

from simulator.components import Machine
from simulator.errors import CapacityError, SpecError, UnsupportedError
from simulator.mapping.gemm import GemmPlan
from simulator.mapping.program import (
    Compute,
    OpProgram,
    Step,
    StepCount,
    Transfer,
    bind,
    signature,
)
from simulator.numerics.attention import AttentionNumerics
from simulator.spec.mapping import DEFAULT_SPATIAL, MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.validate import locate
from simulator.spec.workload import AttentionOpSpec

ACC = "fp32"  # scores, running sums and the output accumulator


@dataclass(frozen=True)
class AttentionPlan:
    """Everything resolved: units, algorithm and block sizes."""

    matrix_unit: str
    vector_unit: str
    algorithm: str
    block_q: int  # Br (query rows per head in a block)
    block_kv: int  # Bc
    spill: bool  # naive: S and P go to DRAM (always for unfused)
    double_buffering: bool
    gemms: tuple[
        GemmPlan, ...
    ] = ()  # unfused: the GEMM plans of Q K^T and P V (mapping/unfused.py)
    mma_rate: float = 1.0  # fraction of the array's rate its MMA instructions reach (`mma`)


def attention_units(op: AttentionOpSpec, mapping: MappingSpec, machine: Machine):
    """The matrix unit (the mapping's, else the first systolic array) and vector unit of `op`."""
    matrix = [n for n, c in machine.compute_units.items() if c.kind == "systolic_array"]
    name = mapping.unit or (matrix[0] if matrix else None)
    if name not in matrix:
        raise UnsupportedError(
            f"{op.name} (attention) needs a systolic_array for Q K^T and P V; units: "
            f"{', '.join(machine.compute_units)}"
        )
    array = machine.components[name]
    array.check(op.name, op.dtype, mapping.dataflow or array.spec.dataflows[0])
    vector, _ = machine.vector_unit_for(op.name, "attention")
    return name, vector


def _budget(machine: Machine, double_buffering: bool) -> dict[str, int]:
    """Bytes each role's buffer gives one block: half of it double-buffered, but a staged
    output's registers hold one copy (`_staging`)."""
    factor = 2 if double_buffering else 1
    staged = _staging(machine, double_buffering) is not None
    return {
        role: machine.buffer_for(role).capacity_bytes
        // (1 if role == "output" and staged else factor)
        for role in ("input", "weight", "output")
    }


def _staging(machine: Machine, double_buffering: bool) -> str | None:
    """The SRAM O is written back through when double-buffered (the output register level's
    `stages_through`), else None. S and O stay in registers over the K/V blocks, one copy; O
    leaves converted to the input precision through the SRAM, in the Q block's space where that
    SRAM holds Q (FlashAttention-2's epilogue writes O to shared memory over sQ, flash_fwd_kernel.h)."""
    sram = machine.staging_for("output") if double_buffering else None
    return sram and sram.name


def _footprint(op: AttentionOpSpec, br: int, bc: int, machine: Machine, double: bool) -> dict:
    """Buffer bytes of a flash step: Q and P (input role), K and V (weight), S and O (output),
    x2 double-buffered, but a staged output's registers once and its O in the staging SRAM."""
    rows = op.heads // op.kv_groups * br
    factor = 2 if double else 1
    used = {
        "input": factor * nbytes(rows * op.head_dim + rows * bc, op.dtype),
        "weight": factor * nbytes(2 * bc * op.head_dim, op.dtype),
        "output": factor * nbytes(rows * bc + rows * op.head_dim, ACC),
    }
    staging = _staging(machine, double)
    if staging is None:
        return _by_buffer(machine, used)
    used["output"] //= factor
    merged = _by_buffer(machine, used)
    if staging != machine.buffer_for("input").name:  # else O takes Q's space
        merged[staging] = merged.get(staging, 0) + nbytes(rows * op.head_dim, op.dtype)
    return merged


def plan_attention(
    op: AttentionOpSpec, mapping: MappingSpec, machine: Machine, where: str
) -> AttentionPlan:
    """Block sizes as FlashAttention derives them from on-chip memory (or as the mapping gives)."""
    matrix, vector = attention_units(op, mapping, machine)
    spec = mapping.attention
    double = mapping.double_buffering
    mma_rate = _mma_rate(mapping, machine.components[matrix])
    if spec.algorithm == "unfused":  # its kernels tile as the chip's GEMMs and row kernels do
        from simulator.mapping.unfused import gemm_plans, softmax_rows

        check_unfused(mapping)
        gemms = gemm_plans(op, mapping, machine)
        rows = softmax_rows(op, machine, double, spec.block_q, where)
        keys = min(gemms[1].tile["K"], op.keys)  # P V's key tile
        return AttentionPlan(matrix, vector, "unfused", rows, keys, True, double, gemms)
    budget = _budget(machine, double)
    d, lq, lk = op.head_dim, op.q_len, op.keys
    # FlashAttention: with M elements of on-chip memory, Bc = ceil(M / 4d), Br = min(Bc, d)
    elements = min(budget.values()) // nbytes(1, op.dtype)
    bc = min(spec.block_kv or math.ceil(elements / (4 * d)), lk)
    if op.window and spec.block_kv is None:  # blocks within the window: those before it skip
        bc = min(bc, op.window)
    br = min(spec.block_q or min(bc, d), lq)
    square = op.causal and spec.block_kv is None and lq > br  # a diagonal to skip exists
    if square:
        bc = min(
            bc, br
        )  # square blocks, as FlashAttention-2's causal kernel, so masked blocks are skipped

    def fits(br, bc):
        return all(
            used <= machine.components[n].capacity_bytes
            for n, used in _footprint(op, br, bc, machine, double).items()
        )

    while not fits(br, bc) and spec.block_kv is None and bc > 16:
        bc = max(16, bc // 2)
        br = min(spec.block_q or min(bc, d), lq)
        bc = min(bc, br) if square else bc
    # a large query group (GQA: every query head of a K/V head shares its blocks) may not fit even
    # at Bc = 16: fewer query rows a head, down to one
    while not fits(br, bc) and spec.block_q is None and br > 1:
        br = max(1, br // 2)
        bc = min(bc, br) if square and spec.block_kv is None else bc
    if not fits(br, bc):
        used = _footprint(op, br, bc, machine, double)
        raise CapacityError(
            f"{where}: attention blocks Br={br} Bc={bc} for {op.name} need "
            f"{', '.join(f'{v:,} B in {k}' for k, v in used.items())}"
            f"{' (double-buffered)' if double else ''}, more than the buffers hold"
        )
    spill = False
    if spec.algorithm == "naive":
        br, spill = _naive_rows(op, machine, double, spec.block_q, where)
    return AttentionPlan(matrix, vector, spec.algorithm, br, bc, spill, double, (), mma_rate)


def check_unfused(mapping: MappingSpec) -> None:
    """Unfused attention runs the chip's GEMM kernels: an `mma` instruction family is an error."""
    if mapping.attention.mma is not None:
        raise SpecError(
            f"{locate(mapping, 'attention', 'mma')}: unfused attention runs the chip's GEMM "
            "kernels at their own rate; the key is for flash and naive kernels"
        )


def _mma_rate(mapping: MappingSpec, array) -> float:
    """The fraction of the array's rate reached by the instruction family the mapping names
    (`attention.mma`, one of the array's `instructions`); 1 where it names none."""
    family = mapping.attention.mma
    if family is None:
        return 1.0
    known = array.spec.instructions
    if family not in known:
        raise SpecError(
            f"{locate(mapping, 'attention', 'mma')}: {array.name} lists no instruction family "
            f"{family!r}; it lists {', '.join(known) or 'none'}"
        )
    return known[family]


def _by_buffer(machine: Machine, used: dict[str, int]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for role, size in used.items():
        name = machine.buffer_for(role).name
        merged[name] = merged.get(name, 0) + size
    return merged


def _naive_rows(op: AttentionOpSpec, machine: Machine, double: bool, given: int | None, where: str):
    """Row block and spill decision of naive attention: keep S and P on chip when a row block's
    Q, K, V, S, P and O fit; otherwise each of the three phases (S = QK^T, softmax, PV) must fit
    alone."""
    g, d, lk, dt = op.heads // op.kv_groups, op.head_dim, op.keys, op.dtype
    factor = 2 if double else 1

    def fit(used: dict[str, int]) -> bool:
        return all(
            v * factor <= machine.components[n].capacity_bytes
            for n, v in _by_buffer(machine, used).items()
        )

    def on_chip(r):
        return {
            "input": nbytes(r * d + r * lk, dt),
            "weight": nbytes(2 * lk * d, dt),
            "output": nbytes(r * lk + r * d, ACC),
        }

    def phases(r):
        return [
            {
                "input": nbytes(r * d, dt),
                "weight": nbytes(lk * d, dt),
                "output": nbytes(r * lk, ACC),
            },
            {"output": nbytes(r * lk, ACC), "input": nbytes(r * lk, dt)},
            {
                "input": nbytes(r * lk, dt),
                "weight": nbytes(lk * d, dt),
                "output": nbytes(r * d, ACC),
            },
        ]

    rows = min(given or d, op.q_len)
    while True:
        if fit(on_chip(g * rows)):
            return rows, False
        if all(fit(p) for p in phases(g * rows)):
            return rows, True
        if given or rows == 1:
            need = max((sum(p.values()) for p in phases(g * rows)), default=0) * factor
            raise CapacityError(
                f"{where}: naive attention of {op.name} needs {need:,} B on chip for a "
                f"block of {rows} query rows (K and V of {lk} keys included); use flash"
            )
        rows = max(1, rows // 2)


def compile_attention(
    op: AttentionOpSpec,
    plan: AttentionPlan,
    mapping: MappingSpec,
    machine: Machine,
    numerics: AttentionNumerics | None,
    core: int = 0,
    group: str = "",
    kv_tensor: str = "",
) -> OpProgram:
    """The OpProgram of one attention op. A part of a partitioned op names its core and group, and
    `kv_tensor` when its K/V regions are the whole op's (sequence split), so cores share them in L2."""
    g = op.heads // op.kv_groups
    # two matmuls, dense: each query against every key, a windowed op's against a window's worth
    # (a long decode reads window keys; a window no shorter than the keys changes nothing)
    flops = 4 * op.batch * op.heads * op.q_len * min(op.keys, op.window or op.keys) * op.head_dim
    kv = kv_tensor or op.name
    if plan.algorithm == "unfused":
        from simulator.mapping.unfused import UnfusedSteps

        @functools.cache
        def unfused() -> UnfusedSteps:  # built when the engine first asks (compiles its GEMMs)
            cost = _Cost(op, plan, mapping, machine)
            return UnfusedSteps(op, plan, cost, machine, numerics, kv)

        def walk(start):
            return unfused().steps(start)

        def classes(start):
            return unfused().classes(start)
    else:
        steps = {"flash": _flash_steps, "naive": _naive_steps}[plan.algorithm]
        known = {"flash": _flash_classes, "naive": _naive_classes}[plan.algorithm]

        def walk(start):
            return steps(op, plan, mapping, machine, numerics, kv, start)

        def classes(start):
            return known(op, plan, start)

    details = {
        "unit": plan.matrix_unit,
        "vector_unit": plan.vector_unit,
        "algorithm": plan.algorithm,
        "block_q": plan.block_q,
        "block_kv": plan.block_kv,
        "gqa_group": g,
        "spill": plan.spill,
        "double_buffering": plan.double_buffering,
    }
    if plan.gemms:
        details["gemm_tiles"] = [dict(p.tile) for p in plan.gemms]

    def every_step():
        return walk(0)

    return OpProgram(
        name=op.name,
        kind="attention",
        steps=every_step,
        step_count=StepCount(every_step, lambda: len(classes(0))),  # a class per step
        resume=walk,
        classes=classes,
        macs=_computed_macs(op, plan),
        flops=flops,
        unit=plan.matrix_unit,
        double_buffering=plan.double_buffering,
        barrier=False,
        depends_on=tuple(op.inputs),
        core=core,
        group=group or op.name,
        details=details,
        signature=signature(op, plan, bool(kv_tensor), bool(group)),
    )


def _blocks(extent: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, extent)) for s in range(0, extent, size)]


def _visible(op: AttentionOpSpec, q: tuple[int, int], k: tuple[int, int]) -> bool:
    """Whether any query in q sees any key in k (queries are the last q_len positions): the
    block is neither past the diagonal nor before the first query's window."""
    first, end = op.visible_keys(*q)
    return k[0] < end and k[1] > first


def _computed_macs(op: AttentionOpSpec, plan: AttentionPlan) -> int:
    """MACs of the blocks actually computed (fully masked blocks are skipped by flash)."""
    pairs = 0
    for q in _blocks(op.q_len, plan.block_q):
        for k in _blocks(op.keys, plan.block_kv):
            if plan.algorithm != "flash" or _visible(op, q, k):
                pairs += (q[1] - q[0]) * (k[1] - k[0])
    return 2 * op.batch * op.heads * pairs * op.head_dim


def _register_home(op: AttentionOpSpec, plan: AttentionPlan, machine: Machine) -> str | None:
    """The register file (one per array) where flash keeps a block's Q and P, if they fit: as in
    FlashAttention-2, Q is loaded into registers once per query block and P never leaves them, so
    neither is re-read from (or written to) shared memory at each K/V step."""
    rows = op.heads // op.kv_groups * plan.block_q
    held = nbytes(rows * op.head_dim + rows * plan.block_kv, op.dtype)
    for level in machine.registers_for("input", plan.matrix_unit):
        if (
            level.kind == "regfile"
            and level.spec.instances == "array"
            and level.capacity_bytes >= held
        ):
            return level.name
    return None


class _Cost:
    """Per-segment costs of the matmuls (on the array) and the softmax work (on the vector unit)."""

    def __init__(
        self, op: AttentionOpSpec, plan: AttentionPlan, mapping: MappingSpec, machine: Machine
    ):
        self.op, self.machine = op, machine
        self.array = machine.components[plan.matrix_unit]
        self.vector = machine.components[plan.vector_unit]
        self.dataflow = mapping.dataflow or self.array.spec.dataflows[0]
        self.spatial = (
            (mapping.spatial.rows, mapping.spatial.cols)
            if mapping.spatial
            else DEFAULT_SPATIAL[self.dataflow]
        )
        self.accounting = mapping.accounting
        self.overlap = mapping.attention.softmax_overlap
        self.mma_rate = plan.mma_rate
        self.buffer = {
            role: machine.buffer_for(role).name for role in ("input", "weight", "output")
        }
        self.operand = dict(self.buffer)  # where the computes read and write each role
        if plan.algorithm == "flash":
            self.operand["input"] = _register_home(op, plan, machine) or self.buffer["input"]

    def matmul(self, m: int, n: int, k: int, in_fmt: str, regions: dict, kernel=None) -> Compute:
        """[m, k] @ [k, n] on the array: inputs in `in_fmt`, results in fp32."""
        cost = self.array.tile_cost(
            {"M": m, "N": n, "K": k},
            self.spatial,
            self.dataflow,
            self.accounting,
            True,
            dtype=in_fmt,
            fraction=self.mma_rate,
        )
        traffic: dict[str, list[int]] = {}
        for role in ("input", "weight", "output"):
            fmt = ACC if role == "output" else in_fmt
            entry = traffic.setdefault(self.operand[role], [0, 0])
            entry[0] += nbytes(cost.reads.get(role, 0), fmt)
            entry[1] += nbytes(cost.writes.get(role, 0), fmt)
        return Compute(
            self.array.name,
            cost.cycles,
            ((f"mac_{in_fmt}", cost.macs),),
            cost.macs,
            tuple((b, r, w) for b, (r, w) in traffic.items()),
            regions,
            kernel,
        )

    def softmax(
        self, rows: int, cols: int, finish: bool, rescale: bool, regions: dict, kernel=None
    ) -> Compute:
        """Online-softmax update of a rows x cols score block (and the final 1/l scaling); where
        it does not overlap the matmuls (`softmax_overlap: false`) it holds the array idle."""
        d = self.op.head_dim
        work = {
            "max": rows * cols + (rows if rescale else 0),
            "add": 2 * rows * cols,
            "exp": rows * cols + (rows if rescale else 0),
            "mul": rows * d if rescale else 0,
        }
        if finish:
            work["div"] = rows
            work["mul"] += rows * d
        work = {k: v for k, v in work.items() if v}
        # S read (fp32), P written (op dtype), O read and written when rescaled; S and P may
        # share one buffer, so each access adds to its buffer's entry
        accesses = [
            (self.operand["output"], nbytes(rows * cols, ACC), 0),
            (self.operand["input"], 0, nbytes(rows * cols, self.op.dtype)),
        ]
        if rescale or finish:
            accesses.append((self.operand["output"], nbytes(rows * d, ACC), nbytes(rows * d, ACC)))
        merged: dict[str, list[int]] = {}
        for b, r, w in accesses:
            entry = merged.setdefault(b, [0, 0])
            entry[0] += r
            entry[1] += w
        return Compute(
            self.vector.name,
            self.vector.cycles(work),
            tuple(work.items()),
            0,
            tuple((b, r, w) for b, (r, w) in merged.items()),
            regions,
            kernel,
            holds=() if self.overlap else (self.array.name,),
        )


def _flash_rows(op: AttentionOpSpec, plan: AttentionPlan) -> list[tuple[tuple, list]]:
    """(Q block, the K/V blocks it sees) for one (batch, K/V head), in step order."""
    kvs = _blocks(op.keys, plan.block_kv)
    return [(q, [k for k in kvs if _visible(op, q, k)]) for q in _blocks(op.q_len, plan.block_q)]


def _flash_classes(op: AttentionOpSpec, plan: AttentionPlan, start: int) -> np.ndarray:
    """A class per flash step from `start` on: whether its Q block and its K/V block are smaller
    edge blocks and whether it is its Q block's first and last step."""
    per_head = []
    rows = _flash_rows(op, plan)
    for q, ks in rows:
        for index, k in enumerate(ks):
            edges = (q[1] - q[0] != plan.block_q) * 2 + (k[1] - k[0] != plan.block_kv)
            per_head.append(edges * 4 + (index == 0) * 2 + (index == len(ks) - 1))
    return np.tile(np.array(per_head, dtype=np.int8), op.batch * op.kv_groups)[start:]


def _flash_steps(op, plan: AttentionPlan, mapping, machine, numerics, kv_tensor: str, start=0):
    """FlashAttention-2: for each (batch, K/V head, Q block), stream K/V blocks; O stays on chip.
    From step `start` on."""
    cost = _Cost(op, plan, mapping, machine)
    g, d, dt = op.heads // op.kv_groups, op.head_dim, op.dtype
    buf = cost.buffer
    staging = _staging(machine, plan.double_buffering)
    rows_of = _flash_rows(op, plan)
    head, skip = divmod(start, sum(len(ks) for _, ks in rows_of))
    for bh in range(head, op.batch * op.kv_groups):
        b, h = divmod(bh, op.kv_groups)
        for q, ks in rows_of:
            rows = g * (q[1] - q[0])
            begin, skip = min(skip, len(ks)), max(skip - len(ks), 0)
            for index in range(begin, len(ks)):
                k = ks[index]
                first, last = index == 0, index == len(ks) - 1
                cols = k[1] - k[0]
                regions = {
                    "Q": ((b, b + 1), (h * g, h * g + g), q),
                    "K": ((b, b + 1), (h, h + 1), k),
                }
                loads = []
                if first:
                    loads.append(
                        Transfer(
                            "load",
                            f"{op.name}.Q",
                            regions["Q"],
                            buf["input"],
                            nbytes(rows * d, dt),
                            nbytes(rows * d + rows * plan.block_kv, dt),
                        )
                    )
                    loads.append(
                        Transfer(
                            "alloc",
                            f"{op.name}.O",
                            regions["Q"],
                            buf["output"],
                            0,
                            0 if staging else nbytes(rows * d + rows * plan.block_kv, ACC),
                        )
                    )
                kv_bytes = nbytes(cols * d, dt)
                loads.append(
                    Transfer(
                        "load",
                        f"{kv_tensor}.K",
                        regions["K"],
                        buf["weight"],
                        kv_bytes,
                        kv_bytes,
                    )
                )
                loads.append(
                    Transfer(
                        "load",
                        f"{kv_tensor}.V",
                        regions["K"],
                        buf["weight"],
                        kv_bytes,
                        kv_bytes,
                    )
                )
                kernel = numerics and bind(numerics.flash_step, b, h, q, k, first, last)
                softmax = cost.softmax(rows, cols, last, not first, regions)
                computes = (
                    cost.matmul(rows, cols, d, dt, regions),
                    softmax,
                    cost.matmul(rows, d, cols, dt, regions, kernel),
                )
                frees = [(buf["weight"], 2 * kv_bytes)]
                stores = []
                if last:
                    q_space = nbytes(rows * d + rows * plan.block_kv, dt)
                    o_out = nbytes(rows * d, dt)
                    if staging is None:
                        frees.append((buf["input"], q_space))
                        out, space = buf["output"], nbytes(rows * d + rows * plan.block_kv, ACC)
                    elif staging == buf["input"]:  # O leaves through Q's space
                        out, space = staging, q_space
                    else:
                        frees.append((buf["input"], q_space))
                        loads.append(
                            Transfer("alloc", f"{op.name}.O", regions["Q"], staging, 0, o_out)
                        )
                        out, space = staging, o_out
                    stores.append(
                        Transfer("store", f"{op.name}.O", regions["Q"], out, o_out, space)
                    )
                yield Step(tuple(loads), computes, tuple(stores), tuple(frees))


def _naive_classes(op: AttentionOpSpec, plan: AttentionPlan, start: int) -> np.ndarray:
    """A class per naive step from `start` on: its phase (one, or three with `spill`) and whether
    its row block is a smaller edge block."""
    phases = 3 if plan.spill else 1
    blocks = len(_blocks(op.q_len, plan.block_q))
    position = np.arange(start, op.batch * op.kv_groups * blocks * phases, dtype=np.int64)
    edge = op.q_len % plan.block_q != 0  # the last row block is smaller
    return (edge & (position // phases % blocks == blocks - 1)) * phases + position % phases


def _naive_steps(op, plan: AttentionPlan, mapping, machine, numerics, kv_tensor: str, start=0):
    """Standard attention per (batch, K/V head, row block): S = Q K^T, P = softmax(S), O = P V.
    With `spill`, S and P make a round trip through DRAM between the three phases. From step
    `start` on."""
    cost = _Cost(op, plan, mapping, machine)
    g, d, dt, lk = op.heads // op.kv_groups, op.head_dim, op.dtype, op.keys
    buf = cost.buffer
    k_all = (0, lk)
    qs = _blocks(op.q_len, plan.block_q)
    phases = 3 if plan.spill else 1
    first_block, skip = divmod(start, phases)
    for at in range(first_block, op.batch * op.kv_groups * len(qs)):
        bh, q = divmod(at, len(qs))
        (b, h), q = divmod(bh, op.kv_groups), qs[q]
        rows = g * (q[1] - q[0])
        regions = {
            "Q": ((b, b + 1), (h * g, h * g + g), q),
            "K": ((b, b + 1), (h, h + 1), k_all),
        }
        kv, qb = nbytes(lk * d, dt), nbytes(rows * d, dt)
        s_acc, p_in = nbytes(rows * lk, ACC), nbytes(rows * lk, dt)
        kernel = numerics and bind(numerics.naive_rows, b, h, q)
        scores = cost.matmul(rows, lk, d, dt, regions)
        softmax = cost.softmax(rows, lk, True, False, regions)
        weighted = cost.matmul(rows, d, lk, dt, regions, kernel)
        o_space = nbytes(rows * d, ACC)
        if not plan.spill:
            loads = (
                Transfer("load", f"{op.name}.Q", regions["Q"], buf["input"], qb, qb + p_in),
                Transfer("load", f"{kv_tensor}.K", regions["K"], buf["weight"], kv, kv),
                Transfer("load", f"{kv_tensor}.V", regions["K"], buf["weight"], kv, kv),
                Transfer("alloc", f"{op.name}.S", regions["Q"], buf["output"], 0, s_acc + o_space),
            )
            store = Transfer(
                "store", f"{op.name}.O", regions["Q"], buf["output"], qb, s_acc + o_space
            )
            yield Step(
                loads,
                (scores, softmax, weighted),
                (store,),
                ((buf["input"], qb + p_in), (buf["weight"], 2 * kv)),
            )
            continue
        spilled = (
            Step(
                (
                    Transfer("load", f"{op.name}.Q", regions["Q"], buf["input"], qb, qb),
                    Transfer("load", f"{kv_tensor}.K", regions["K"], buf["weight"], kv, kv),
                    Transfer("alloc", f"{op.name}.S", regions["Q"], buf["output"], 0, s_acc),
                ),
                (scores,),
                (Transfer("spill", f"{op.name}.S", regions["Q"], buf["output"], s_acc, s_acc),),
                ((buf["input"], qb), (buf["weight"], kv)),
            ),
            Step(
                (
                    Transfer("reload", f"{op.name}.S", regions["Q"], buf["output"], s_acc, s_acc),
                    Transfer("alloc", f"{op.name}.P", regions["Q"], buf["input"], 0, p_in),
                ),
                (softmax,),
                (Transfer("spill", f"{op.name}.P", regions["Q"], buf["input"], p_in, p_in),),
                ((buf["output"], s_acc),),
            ),
            Step(
                (
                    Transfer("reload", f"{op.name}.P", regions["Q"], buf["input"], p_in, p_in),
                    Transfer("load", f"{kv_tensor}.V", regions["K"], buf["weight"], kv, kv),
                    Transfer("alloc", f"{op.name}.O", regions["Q"], buf["output"], 0, o_space),
                ),
                (weighted,),
                (Transfer("store", f"{op.name}.O", regions["Q"], buf["output"], qb, o_space),),
                ((buf["input"], p_in), (buf["weight"], kv)),
            ),
        )
        yield from spilled[skip:]
        skip = 0
