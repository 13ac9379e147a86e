"""A CTA's steps on another core derived from an equal-shaped CTA's: the same steps with its
regions moved to the other CTA's place in the GEMM and its components renamed to the other
core's. Walking the tile loop nest costs far more than this, and a kernel's SMs mostly run CTAs
of one shape, so each shape's steps are walked once (cta.py). A moved step is a `Moved` view,
built field by field as it is read: a core class's engine reads only its members' transfers."""

import dataclasses
from collections.abc import Callable, Iterable
from itertools import chain
from operator import attrgetter

from simulator.components.systolic import OPERAND_DIMS
from simulator.mapping.gemm import TENSOR_OF
from simulator.mapping.program import Compute, OpProgram, Step, Transfer, altered, as_many

_new = object.__new__  # a view without Moved.__new__ (which builds a Step)

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

    def viewed():
        return map(mover.view, steps())

    return altered(
        program,
        name=name,
        steps=viewed,
        step_count=as_many(program, viewed),
        resume=resume and (lambda start: map(mover.view, resume(start))),
        unit=mover.name(program.unit),
        core=to,
        details=program.details | {"unit": mover.name(program.details["unit"])},
        signature=program.signature and repr(("moved", to, delta)) + program.signature,
        levels=lambda: tuple(
            dataclasses.replace(row, level=mover.name(row.level)) for row in levels()
        ),
    )


class Moved:
    """A leader's step moved to another core, each field moved when first read (a class's engine
    reads a member's loads, stores and streamed DMA, never its computes or frees: moving those for
    every member step was about a third of a many-core GEMM's run). It stands for the Step
    `step()` gives: it reads, compares and prints as that Step, and dataclasses.replace on it
    makes a Step (its fields are Step's; `Moved(...)` builds a Step)."""

    __slots__ = ("_source", "_mover", "_loads", "_stores", "_step")
    __dataclass_fields__ = Step.__dataclass_fields__
    waits = signals = peers = ()  # only a plain step moves

    def __new__(cls, *fields, **named) -> Step:
        return Step(*fields, **named)

    @classmethod
    def of(cls, source: Step, mover: "_Mover") -> "Moved":
        view = _new(cls)
        view._source, view._mover = source, mover
        view._loads = view._stores = view._step = None
        return view

    @property
    def loads(self) -> tuple[Transfer, ...]:
        if self._loads is None:
            self._loads = tuple(map(self._mover.transfer, self._source.loads))
        return self._loads

    @property
    def stores(self) -> tuple[Transfer, ...]:
        if self._stores is None:
            stores = self._source.stores
            self._stores = tuple(map(self._mover.transfer, stores)) if stores else ()
        return self._stores

    @property
    def computes(self) -> tuple[Compute, ...]:
        return self.step().computes

    @property
    def frees(self) -> tuple[tuple[str, int], ...]:
        return self.step().frees

    def streamed(self, number: int) -> tuple[Transfer, ...]:
        """The DMA streamed during segment `number`, moved without moving the segment."""
        streamed = self._source.computes[number].streamed
        return tuple(map(self._mover.transfer, streamed)) if streamed else ()

    def over(self, source: Callable[[Step], Step]) -> "Moved":
        """The same move of `source(its leader's step)`, a view too (an identical op's member
        renamed: mapping/renamed.py; `source` must keep the step plain and its regions' dims)."""
        return Moved.of(source(self._source), self._mover)

    def step(self) -> Step:
        """The moved Step itself (built once)."""
        if self._step is None:
            mover, source = self._mover, self._source
            computes = tuple(map(mover.compute, source.computes))
            self._step = Step(self.loads, computes, self.stores, mover.renamed(source.frees))
        return self._step

    def __eq__(self, other) -> bool:
        return self.step() == (other.step() if isinstance(other, Moved) else other)

    def __hash__(self) -> int:
        return hash(self.step())

    def __repr__(self) -> str:
        return repr(self.step())


def line_key(tensor: str, region: tuple) -> tuple:
    """An L2 line's key: the tensor and its region's bounds as one flat tuple (a region moves
    into the same key whichever way it was built; flat, it hashes and compares in one pass)."""
    if len(region) == 2:
        (a, b), (c, d) = region
        return (tensor, a, b, c, d)
    return (tensor, *chain.from_iterable(region))


def members_located(peers: tuple[Step | Moved, ...], out: list, stores: bool = False) -> None:
    """A class's members' DRAM loads (or stores) in member order, appended to `out` as
    (L2 key, buffer, transfer): a moved member's key is `line_key` of its moved region and its
    buffer its own, the transfer its leader's (giving kind, bytes and miss flag: moving only the
    key and buffer is all its engine needs); a built one's key is None (its transfer's own
    region). Transfers with no DRAM bytes and sends are left out. Every member step of a class
    passes here: the leader step's DRAM transfers are read once per run of members moving it,
    and each member's key is its leader's bounds offset in place."""
    append = out.append
    last = located = None  # members mostly move one leader step: its transfers read once
    for peer in peers:
        if type(peer) is Moved:
            built = peer._stores if stores else peer._loads
            if built is None:
                if peer._source is not last:
                    last = peer._source
                    located = _bounds(last.stores if stores else last.loads)
                mover = peer._mover
                names, moves = mover.names, mover.moves
                for tensor, r0, r1, s0, s1, buffer, t in located:
                    _, _, down, across = moves.get(tensor) or mover.move(tensor)
                    key = (tensor, r0 + down, r1 + down, s0 + across, s1 + across)
                    append((key, names.get(buffer) or mover.name(buffer), t))
                continue
        else:
            built = peer.stores if stores else peer.loads
        out += [(None, t.buffer, t) for t in built if t.dram_bytes and t.kind != "send"]


_SOURCE, _MOVER = attrgetter("_source"), attrgetter("_mover")
_BUILT = {False: attrgetter("_loads"), True: attrgetter("_stores")}


def members_moving(peers: tuple[Step | Moved, ...], stores: bool = False) -> tuple | None:
    """(the leader's DRAM transfers as `_bounds` gives them, the members' movers) where every
    member is a view moving one leader step with none of those transfers built; else None. Then
    `members_located`'s loads are the leader's offset by each mover, member by member."""
    if not peers or {*map(type, peers)} != {Moved}:
        return None
    source = peers[0]._source
    if {*map(id, map(_SOURCE, peers))} != {id(source)} or any(map(_BUILT[stores], peers)):
        return None
    return _bounds(source.stores if stores else source.loads), tuple(map(_MOVER, peers))


def _bounds(transfers: tuple[Transfer, ...]) -> list[tuple]:
    """A leader's DRAM transfers (no sends) as (tensor, its 2-D region's four bounds, buffer,
    transfer): what `members_located` offsets per member."""
    return [
        (t.tensor, *t.region[0], *t.region[1], t.buffer, t)
        for t in transfers
        if t.dram_bytes and t.kind != "send"
    ]


def members_streamed(peers: tuple[Step | Moved, ...], number: int) -> tuple[Transfer, ...]:
    """The DMA a class's members stream during their segment `number`, in member order (a moved
    member's moved without its segment, and only where its leader's segment streams any)."""
    if {*map(type, peers)} == {Moved} and len({*map(id, map(_SOURCE, peers))}) == 1:
        if not peers[0]._source.computes[number].streamed:  # one leader step, streaming none
            return ()
    moved: tuple[Transfer, ...] = ()
    last = streams = None  # members mostly move one leader step: whether it streams, once
    for peer in peers:
        if type(peer) is Moved:
            if peer._source is not last:
                last = peer._source
                streams = bool(last.computes[number].streamed)
            if streams:
                moved += peer.streamed(number)
        else:
            moved += peer.computes[number].streamed
    return moved


class _Mover:
    """Moves one CTA's steps. Names, each dim's moved ranges, SRAM traffic and frees are cached (steps
    repeat them), and a tensor's pair of dims is looked up once: a class's members are moved
    step by step as the engine runs, so this is on a many-core run's hot path."""

    checked: Step | None = None  # the last step `view` found movable (steps are immutable)

    def __init__(self, delta: dict[str, int], prefix: str, other: str):
        self.delta, self.prefix, self.other = delta, prefix, other
        self.names: dict[str, str] = {}
        self.traffic: dict[tuple, tuple] = {}  # (component, ...) pairs -> renamed
        self.ranges: dict[str, dict] = {d: {} for d in delta}  # dim -> range -> moved range
        self.moves: dict[str, tuple] = {}  # tensor -> (its dims' range caches and offsets)

    def name(self, name: str) -> str:
        moved = self.names.get(name)
        if moved is None:
            inside = name.startswith(self.prefix)
            moved = self.names[name] = self.other + name[len(self.prefix) :] if inside else name
        return moved

    def move(self, tensor: str) -> tuple:
        """A tensor's (first dim's moved ranges, second dim's, their offsets), looked up once."""
        a, b = DIMS[tensor.rsplit(".", 1)[-1]]
        move = self.moves[tensor] = (self.ranges[a], self.ranges[b], self.delta[a], self.delta[b])
        return move

    def region(self, tensor: str, region: tuple) -> tuple:
        """A 2-D GEMM region moved (each dim's ranges moved once)."""
        rows, cols, down, across = self.moves.get(tensor) or self.move(tensor)
        r, s = region
        moved_r = rows.get(r)
        if moved_r is None:
            moved_r = rows[r] = (r[0] + down, r[1] + down)
        moved_s = cols.get(s)
        if moved_s is None:
            moved_s = cols[s] = (s[0] + across, s[1] + across)
        return moved_r, moved_s

    def transfer(self, t: Transfer) -> Transfer:
        buffer = self.names.get(t.buffer) or self.name(t.buffer)
        return Transfer(
            t.kind,
            t.tensor,
            self.region(t.tensor, t.region),
            buffer,
            t.dram_bytes,
            t.space,
            t.peer and self.name(t.peer),
            t.noc_bytes,
            t.miss,
        )

    def compute(self, c: Compute) -> Compute:
        region = self.region
        return Compute(
            self.name(c.unit),
            c.cycles,
            c.work,
            c.macs,
            self.renamed(c.sram_traffic),
            {tensor: region(tensor, r) for tensor, r in c.regions.items()},
            None,
            c.refill,
            tuple(map(self.transfer, c.streamed)) if c.streamed else (),
            c.dma_wait,
            tuple(map(self.name, c.holds)) if c.holds else (),
            c.pace,
        )

    def view(self, s: Step) -> Moved:
        if s is not _Mover.checked:  # a class's members move one leader step one after another
            if s.waits or s.signals or s.peers:
                raise ValueError("moved(): only a plain CTA's steps (no signals, no peers) move")
            for c in s.computes:
                if c.kernel is not None:
                    raise ValueError("moved(): a step with a tile kernel (numerics) cannot move")
            _Mover.checked = s
        view = _new(Moved)  # Moved.of inlined: every member step of a class is a view
        view._source, view._mover = s, self
        view._loads = view._stores = view._step = None
        return view

    def renamed(self, pairs: tuple) -> tuple:
        """(component, value) pairs (SRAM traffic, frees) with the components renamed, once each."""
        moved = self.traffic.get(pairs)
        if moved is None:
            moved = self.traffic[pairs] = tuple((self.name(b), *rest) for b, *rest in pairs)
        return moved
