"""A compiled op's parts reused for an identical op: a layer stack repeats each op's shape, so
partition_program compiles each distinct op once and hands its parts to the repeats renamed.

Every name in a part, its steps included, is derived from its op's name (tensors, signals, part
names: `L0.q@c3`, `L0.q.A`, `L0.q@c3.launched`): the parts are compiled from sub-ops without
inputs, the ops they read being added as dependencies afterwards. Nothing else in a part depends
on the name (signatures leave it out), so swapping the name's prefix makes the parts a compile of
the other op would make (tests/mapping/test_renamed.py checks that field by field).
"""

from simulator.mapping.program import (
    Compute,
    OpProgram,
    Step,
    Transfer,
    altered,
    as_many,
    signature,
)
from simulator.mapping.shifted import Moved


def op_key(op) -> str:
    """What an op's parts depend on: its spec's fields but its name and inputs."""
    return signature(op)


class Renamer:
    """Swaps op name `old` for `new` in the names of a part and its steps (each name once)."""

    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        self.names: dict[str, str] = {}
        self.last: tuple[Step, Step] | None = None  # the step renamed last, and its renaming

    def name(self, name: str) -> str:
        """`name` swapped, remembered: steps repeat their tensors' and signals' names."""
        swapped = self.names.get(name)
        if swapped is None:
            swapped = self.names[name] = self.swapped(name)
        return swapped

    def swapped(self, name: str) -> str:
        return self.new + name[len(self.old) :] if name.startswith(self.old) else name

    def transfer(self, t: Transfer) -> Transfer:
        return Transfer(
            t.kind,
            self.name(t.tensor),
            t.region,
            t.buffer,
            t.dram_bytes,
            t.space,
            t.peer,
            t.noc_bytes,
            t.miss,
        )

    def compute(self, c: Compute) -> Compute:
        if not c.streamed:
            return c
        return Compute(
            c.unit,
            c.cycles,
            c.work,
            c.macs,
            c.sram_traffic,
            c.regions,
            c.kernel,
            c.refill,
            tuple(map(self.transfer, c.streamed)),
            c.dma_wait,
            c.holds,
            c.pace,
        )

    def step(self, s: Step | Moved) -> Step | Moved:
        """`s` renamed; a class member's moved view stays a view, of its leader's step renamed
        (moving touches regions and components, renaming tensors and signals: they commute)."""
        if isinstance(s, Moved):
            return s.over(self.source)
        renamed = Step(
            tuple(map(self.transfer, s.loads)),
            tuple(map(self.compute, s.computes)),
            tuple(map(self.transfer, s.stores)),
            s.frees,
            tuple(map(self.name, s.waits)),
            tuple(map(self.name, s.signals)),
            tuple(map(self.step, s.peers)),
        )
        self.last = (s, renamed)
        return renamed

    def source(self, s: Step) -> Step:
        """A moved view's source renamed: the step renamed last where it is that (a core class's
        members are walked right after their leader, whose steps they move), else renamed anew."""
        last = self.last
        return last[1] if last is not None and last[0] is s else self.step(s)

    def part(self, part: OpProgram, depends_on: tuple[str, ...]) -> OpProgram:
        """`part` as the other op's, depending on `depends_on` and on its renamed own."""
        steps, resume = part.steps, part.resume
        own = part.depends_on and tuple(map(self.name, part.depends_on))

        def renamed():
            return map(self.step, steps())

        return altered(
            part,
            name=self.swapped(part.name),
            group=self.name(part.group),
            depends_on=depends_on + own,
            steps=renamed,
            step_count=as_many(part, renamed),
            resume=resume and (lambda start: map(self.step, resume(start))),
        )
