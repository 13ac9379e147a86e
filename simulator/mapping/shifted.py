"""A CTA's steps on another core derived from an equal-shaped CTA's: the same steps with its
regions moved to the other CTA's place in the GEMM and its components renamed to the other
core's. Walking the tile loop nest costs far more than this, and a kernel's SMs mostly run CTAs
of one shape, so each shape's steps are walked once (cta.py)."""

import dataclasses
from collections.abc import Callable, Iterable

from simulator.components.systolic import OPERAND_DIMS
from simulator.mapping.gemm import TENSOR_OF
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, altered

DIMS = {TENSOR_OF[role]: dims for role, dims in OPERAND_DIMS.items()}
"""A GEMM tensor's name suffix (A, B, C) -> the problem dims its regions range over."""


def replayed(steps: Callable[[], Iterable[Step]]) -> Callable[[], Iterable[Step]]:
    """`steps` walked once, on first use, and replayed from then on (steps are immutable)."""
    walked: list[tuple[Step, ...]] = []

    def replay():
        if not walked:
            walked.append(tuple(steps()))
        return iter(walked[0])

    return replay


def moved(program: OpProgram, name: str, delta: dict[str, int], to: int) -> OpProgram:
    """`program` (a plain GEMM CTA's: no signals, no kernels) as the equal-shaped CTA `name` on
    core `to` that sits `delta` (dim -> offset) from it: every region moved, every component of
    its core renamed to core `to`'s (its steps, unit, details and level rows)."""
    mover = _Mover(delta, f"core{program.core}.", f"core{to}.")
    steps, resume, levels = program.steps, program.resume, program.levels
    return altered(
        program,
        name=name,
        steps=lambda: map(mover.step, steps()),
        resume=resume and (lambda start: map(mover.step, resume(start))),
        unit=mover.name(program.unit),
        core=to,
        details=program.details | {"unit": mover.name(program.details["unit"])},
        signature=program.signature and repr(("moved", to, delta)) + program.signature,
        levels=lambda: tuple(
            dataclasses.replace(row, level=mover.name(row.level)) for row in levels()
        ),
    )


class _Mover:
    """Moves one CTA's steps (names and moved regions are cached: steps repeat them)."""

    def __init__(self, delta: dict[str, int], prefix: str, other: str):
        self.delta, self.prefix, self.other = delta, prefix, other
        self.names: dict[str, str] = {}
        self.traffic: dict[tuple, tuple] = {}
        self.dims: dict[str, tuple[str, ...]] = {}  # tensor -> the dims of its regions
        self.ranges: dict[str, dict] = {d: {} for d in delta}  # dim -> range -> moved range

    def name(self, name: str) -> str:
        if name not in self.names:
            moved = name.startswith(self.prefix)
            self.names[name] = self.other + name[len(self.prefix) :] if moved else name
        return self.names[name]

    def region(self, tensor: str, region: tuple) -> tuple:
        """A 2-D GEMM region moved (each dim's ranges moved once)."""
        dims = self.dims.get(tensor)
        if dims is None:
            dims = self.dims[tensor] = DIMS[tensor.rsplit(".", 1)[-1]]
        (a, b), (r, s) = dims, region
        ranges = self.ranges
        return (ranges[a].get(r) or self.range(a, r), ranges[b].get(s) or self.range(b, s))

    def range(self, dim: str, r: tuple[int, int]) -> tuple[int, int]:
        moved = self.ranges[dim][r] = (r[0] + self.delta[dim], r[1] + self.delta[dim])
        return moved

    def transfer(self, t: Transfer) -> Transfer:
        return Transfer(
            t.kind,
            t.tensor,
            self.region(t.tensor, t.region),
            self.name(t.buffer),
            t.dram_bytes,
            t.space,
            t.peer and self.name(t.peer),
            t.noc_bytes,
            t.miss,
        )

    def compute(self, c: Compute) -> Compute:
        if c.kernel is not None:
            raise ValueError("moved(): a step with a tile kernel (numerics) cannot move")
        if c.sram_traffic not in self.traffic:
            self.traffic[c.sram_traffic] = tuple((self.name(b), r, w) for b, r, w in c.sram_traffic)
        return Compute(
            self.name(c.unit),
            c.cycles,
            c.work,
            c.macs,
            self.traffic[c.sram_traffic],
            {tensor: self.region(tensor, r) for tensor, r in c.regions.items()},
            None,
            c.refill,
            tuple(map(self.transfer, c.streamed)),
            c.dma_wait,
            tuple(map(self.name, c.holds)),
            c.pace,
        )

    def step(self, s: Step) -> Step:
        if s.waits or s.signals or s.peers:
            raise ValueError("moved(): only a plain CTA's steps (no signals, no peers) move")
        return Step(
            tuple(map(self.transfer, s.loads)),
            tuple(map(self.compute, s.computes)),
            tuple(map(self.transfer, s.stores)),
            tuple((self.name(b), n) for b, n in s.frees),
        )
