"""Collectives as per-core steps: each round, a core loads a chunk from DRAM and sends it to its
ring (or tree) partner over the NoC; the receiver adds it to its own copy and stores the result.

Ring all-reduce over n cores moves 2(n-1) chunks of S/n bytes per core (reduce-scatter, then
all-gather), each round between ring neighbours at once; a binomial tree moves the whole S
2 ceil(log2 n) times. Time is emergent from the links, not a formula. A collective run as NCCL's
`protocol` (tech/nccl.yaml) first pays the protocol's fixed latency on every core, and each send
puts its payload with the protocol's flags on the link (LL 8 flag bytes in 16, LL128 8 in 128);
the links NCCL runs over (system/links.py) carry those wire bytes at the rate that moves the data
at the protocol's bandwidth fraction, each hop NCCL's per-step latency. On a chip's own NoC the
protocol adds its fixed latency and its flag bytes, at the NoC's rate.
"""

import math

from simulator.components import Machine
from simulator.errors import UnsupportedError
from simulator.mapping.cta import launch_step
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, bind
from simulator.mapping.ranges import split
from simulator.numerics.collective import CollectiveNumerics
from simulator.spec.precision import nbytes
from simulator.spec.workload import CollectiveOpSpec
from simulator.tech import nccl

Move = tuple[
    int, int, int | None, bool
]  # (src position, dst position, chunk or None = all, reduce)
PIECES_PER_MOVE = (
    4  # each move is pipelined in at least this many pieces, so reductions overlap sends
)


def ring_order(machine: Machine, cores: int) -> list[int]:
    """Cores in a ring whose neighbours are adjacent: a snake through a mesh / torus, else in order."""
    noc = machine.noc
    if noc is None or noc.topology not in ("mesh", "torus"):
        return list(range(cores))
    node_of = {machine.nodes[f"core{c}.{_any_unit(machine)}"]: c for c in range(cores)}
    width = noc.shape[0]
    snake = sorted(
        node_of, key=lambda n: (n // width, n % width if (n // width) % 2 == 0 else -(n % width))
    )
    return [node_of[n] for n in snake]


def _any_unit(machine: Machine) -> str:
    return next(iter(machine.arch.cores.components))


def schedule(pattern: str, algorithm: str, n: int) -> list[list[Move]]:
    """Rounds of concurrent moves between ring positions."""
    if n == 1:
        return []
    if algorithm == "tree":
        if pattern != "all_reduce":
            raise UnsupportedError(f"tree collectives implement all_reduce only, not {pattern}")
        levels = math.ceil(math.log2(n))
        up = [
            [(p, p - 2**r, None, True) for p in range(n) if p % 2 ** (r + 1) == 2**r]
            for r in range(levels)
        ]
        down = [
            [(p, p + 2**r, None, False) for p in range(0, n, 2 ** (r + 1)) if p + 2**r < n]
            for r in reversed(range(levels))
        ]
        return up + down
    reduce_rounds = [[(p, (p + 1) % n, (p - s) % n, True) for p in range(n)] for s in range(n - 1)]
    gather_from = 1 if pattern == "all_reduce" else 0  # after reduce-scatter, p holds chunk p+1
    gather_rounds = [
        [(p, (p + 1) % n, (p + gather_from - s) % n, False) for p in range(n)] for s in range(n - 1)
    ]
    return {
        "all_reduce": reduce_rounds + gather_rounds,
        "reduce_scatter": reduce_rounds,
        "all_gather": gather_rounds,
    }[pattern]


def collective_parts(
    op: CollectiveOpSpec, machine: Machine, cores: int, arrays: list | None
) -> tuple[list[OpProgram], CollectiveNumerics | None]:
    """One OpProgram per core (its sends and receives in round order), and the numerics state over
    `arrays` (one per core; None for timing only)."""
    order = ring_order(machine, cores)
    n = len(order)
    chunks = split(op.elements, n)
    chunks += [(op.elements, op.elements)] * (n - len(chunks))  # empty chunks when elements < cores
    rounds = schedule(op.pattern, op.algorithm, n)
    position_of = {core: p for p, core in enumerate(order)}

    def kept(core):  # after reduce-scatter, ring position p holds chunk p + 1
        return (
            chunks[(position_of[core] + 1) % n]
            if op.pattern == "reduce_scatter"
            else (0, op.elements)
        )

    state = arrays and CollectiveNumerics(op.pattern, arrays, chunks, kept, lambda c: order[c])
    parts = []
    for position, core in enumerate(order):
        view = machine.view(core)
        steps = _core_steps(op, machine, position, order, rounds, chunks, state)
        unit = next(iter(view.compute_units))
        parts.append(
            OpProgram(
                name=f"{op.name}@c{core}",
                kind="collective",
                steps=lambda steps=steps: iter(steps),
                macs=0,
                flops=sum(1 for r in rounds for m in r if m[1] == position and m[3])
                * op.elements
                // max(n, 1),
                unit=unit,
                double_buffering=True,
                barrier=False,
                core=core,
                group=op.name,
                details={
                    "pattern": op.pattern,
                    "algorithm": op.algorithm,
                    "protocol": op.protocol,
                    "cores": n,
                    "position": position,
                },
            )
        )
    if op.protocol and n > 1:
        fixed = nccl.base_seconds(op.algorithm, op.protocol)
        parts = [launch_step(part, fixed, machine) for part in parts]
    return parts, state


def _core_steps(op, machine: Machine, position: int, order, rounds, chunks, state) -> list[Step]:
    """This core's sends and receives in round order, each move cut into pieces that fit a quarter
    of the buffer (so receiving, reducing and sending pipeline)."""
    view = machine.view(order[position])
    buffer = view.buffer_for("input")
    piece_bytes = max(buffer.capacity_bytes // 4, 1)
    overhead = nccl.wire_overhead(op.protocol) if op.protocol else 1.0
    steps: list[Step] = []
    stored: dict[tuple[int, int], str] = {}  # (lo, hi) piece -> signal of its latest stored receipt
    for k, moves in enumerate(rounds):
        mine = [m for m in moves if position in m[:2]]
        for src, dst, chunk, reduce in sorted(mine, key=lambda m: m[0] != position):  # sends first
            lo, hi = chunks[chunk] if chunk is not None else (0, op.elements)
            if hi == lo:  # fewer elements than cores: this chunk is empty on every core alike
                continue
            per_piece = max(1, piece_bytes // max(nbytes(1, op.dtype), 1))
            pieces = min(hi - lo, max(PIECES_PER_MOVE, -(-(hi - lo) // per_piece)))
            for p_lo, p_hi in ((a + lo, b + lo) for a, b in split(hi - lo, pieces)):
                size, region = nbytes(p_hi - p_lo, op.dtype), ((p_lo, p_hi),)
                label = f"{op.name}.r{k}.{src}to{dst}.{p_lo}"
                if src == position:
                    peer = machine.view(order[dst]).buffer_for("input").name
                    earlier = tuple(sig for (a, b), sig in stored.items() if a < p_hi and p_lo < b)
                    steps.append(
                        Step(
                            (Transfer("load", f"{op.name}.data", region, buffer.name, size, size),),
                            (),
                            (
                                Transfer(
                                    "send",
                                    f"{op.name}.data",
                                    region,
                                    buffer.name,
                                    0,
                                    size,
                                    peer=peer,
                                    noc_bytes=math.ceil(size * overhead),
                                ),
                            ),
                            (),
                            waits=earlier,
                            signals=(label,),
                        )
                    )
                else:
                    loads = (
                        Transfer(
                            "load",
                            f"{op.name}.data",
                            region,
                            buffer.name,
                            size if reduce else 0,
                            size,
                        ),
                    )
                    kernel = state and bind(
                        state.receive_range, order[src], order[dst], p_lo, p_hi, reduce
                    )
                    add = _add(
                        view, op, (p_hi - p_lo) if reduce else 0, buffer.name, size, region, kernel
                    )
                    stored[(p_lo, p_hi)] = f"{label}.stored"
                    steps.append(
                        Step(
                            loads,
                            (add,),
                            (
                                Transfer(
                                    "store", f"{op.name}.data", region, buffer.name, size, size
                                ),
                            ),
                            (),
                            waits=(label,),
                            signals=(f"{label}.stored",),
                        )
                    )
    return steps


def _add(view: Machine, op, elements: int, buffer: str, size: int, region, kernel) -> Compute:
    """The reduction of a received chunk on the core's vector unit (or the array's adders)."""
    try:
        unit, _ = view.vector_unit_for(op.name, "add")
        cycles = view.components[unit].cycles({"add": elements}) if elements else 0
        work = (("add", elements),) if elements else ()
    except UnsupportedError:  # no vector unit: the array's accumulator adders, one row per cycle
        unit = next(n for n, c in view.compute_units.items() if c.kind == "systolic_array")
        cycles, work = math.ceil(elements / view.components[unit].cols), ()
    return Compute(unit, cycles, work, 0, ((buffer, 2 * size, size),), {"data": region}, kernel)
