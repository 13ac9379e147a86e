"""Core classes: the parts of a CTA kernel whose cores run the same step shapes at the same time,
simulated once as one representative core with the others as its members.

On a fine-interleaved chip the DRAM channels and L2 slices serve concurrent requests in small
pieces, so tiles that several SMs ask for at once progress together and finish together
(processor sharing). A class's step therefore carries its members' copies (`Step.peers`): the
engine weighs the class's transfers on the shared memory pools by all members' bytes, decides L2
hits over the members' regions, and books the representative's private time (units, SRAM, its own
NoC port) to every member core (engine/run.py).
"""

import dataclasses
import weakref
from itertools import chain
from operator import attrgetter

from simulator.mapping.program import Compute, OpProgram, Program, Step, altered, joined_signature


def classed(program: Program) -> Program:
    """The program with each workload op's parts grouped by shape class (parts without one stay
    as they are); ops that depended on a member now depend on its class. Worked out once per
    program while it lives (a program is immutable): the cost guard and the engine both ask."""
    key = id(program)
    found = _CLASSED.get(key)
    if found is None:
        found = _CLASSED[key] = _classed(program)
        weakref.finalize(program, _CLASSED.pop, key, None)
    return found


_CLASSED: dict[int, Program] = {}
"""id of a living program -> its classed program (dropped when the program is collected)."""


def _classed(program: Program) -> Program:
    """`classed`, worked out."""
    ops, renamed = [], {}
    index = 0
    while index < len(program.ops):
        op = program.ops[index]
        end = index + 1
        if op.shape_class is not None:
            while (
                end < len(program.ops)
                and program.ops[end].group == op.group
                and program.ops[end].shape_class is not None
            ):
                end += 1
        buckets: dict[str, list[OpProgram]] = {}
        for part in program.ops[index:end]:
            buckets.setdefault(part.shape_class, []).append(part)
        for parts in buckets.values():
            head = _renamed(parts[0], renamed)
            ops.append(class_program([head, *parts[1:]]) if len(parts) > 1 else head)
            renamed.update({part.name: parts[0].name for part in parts})
        index = end
    return dataclasses.replace(program, ops=tuple(ops))


def _renamed(op: OpProgram, renamed: dict[str, str]) -> OpProgram:
    """`op` depending on the classes of the parts it depended on (each named once)."""
    depends = tuple(dict.fromkeys(renamed.get(name, name) for name in op.depends_on))
    return op if depends == op.depends_on else altered(op, depends_on=depends)


def class_program(parts: list[OpProgram]) -> OpProgram:
    """The first part as the class's representative, its steps carrying the others' as peers."""
    head, members = parts[0], tuple(parts[1:])

    def steps():
        for own, *others in zip(head.steps(), *(m.steps() for m in members), strict=True):
            yield _joined(own, others)

    signatures = tuple(p.signature for p in parts)
    cores = tuple(p.core for p in parts)
    return altered(
        head,
        steps=steps,
        resume=None,
        classes=None,
        members=members,
        signature=None if None in signatures else joined_signature(("class", cores), signatures),
    )


_WAITS, _SIGNALS = attrgetter("waits"), attrgetter("signals")


def _joined(own: Step, others: list[Step]) -> Step:
    """The representative's step waiting for every member's signals and raising all of theirs,
    running every member's tile kernels, with the members' steps as its peers."""
    waits = tuple(dict.fromkeys(chain(own.waits, *map(_WAITS, others))))
    signals = tuple(chain(own.signals, *map(_SIGNALS, others)))  # every member step: in C
    computes = own.computes
    if any(c.kernel is not None for c in own.computes):
        computes = tuple(
            _all_kernels(c, [s.computes[i] for s in others]) for i, c in enumerate(own.computes)
        )
    return Step(own.loads, computes, own.stores, own.frees, waits, signals, tuple(others))


def _all_kernels(own: Compute, others: list[Compute]) -> Compute:
    kernels = [c.kernel for c in (own, *others) if c.kernel is not None]
    if len(kernels) <= 1:
        return own

    def run():
        for kernel in kernels:
            kernel()

    return dataclasses.replace(own, kernel=run)


def last_part(ops: tuple[OpProgram, ...]) -> OpProgram | None:
    """The part the per-core program ends with (its drain is booked to it): the last op, or where
    the last workload op runs as core classes, its part on the highest core (CTA parts come in
    core order)."""
    if not ops:
        return None
    group = [op for op in ops if op.group == ops[-1].group]
    if not any(op.members for op in group):
        return ops[-1]
    return max((part for op in group for part in (op, *op.members)), key=lambda p: p.core)
