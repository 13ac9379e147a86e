"""Execute a Program on a Machine with simpy.

Timing assumptions, one per process:
- DMA-in (one process per core) walks that core's steps in program order: it waits for the
  signals a step needs from other cores, takes buffer space (blocking while the buffer is full:
  back-pressure), then moves the bytes; the access latency delays only that step's compute, so
  requests pipeline like a real DMA engine's. An op's loads wait for the ops it depends on.
- DRAM without a NoC is one bus held for bytes / bandwidth. With a NoC, a transfer is split over
  the memory controllers (or goes to the core's own, for `memory: local`); each share holds its
  controller and every link of its route for max(bytes / controller bandwidth, bytes / link
  bandwidth) and arrives DRAM latency + hops x hop latency later. Resources are acquired in one
  global order, so crossing flows never deadlock; flows sharing a link take turns.
- Each loaded step runs as its own process: its compute segments go in order, each holding its
  unit (a FIFO resource, so a unit serves steps in program order) for max(unit cycles, SRAM port
  cycles). Segments of different steps on different units overlap: pipelining emerges.
- An SRAM's ports are shared by its compute segments and the DMA transfers into and out of it:
  each access takes bytes / port bandwidth of port time, in the latest free stretch during the
  transfer (else the first one after), so port time never overlaps and SRAM utilization cannot
  exceed 1; a segment or transfer ends when both its own work and its port time are done.
- DMA-out (one process per core) writes results back (DRAM) or sends them to another core (NoC),
  releases their space, and raises the step's signals once they have landed.
"""

import bisect
import functools
import math
from collections import OrderedDict
from dataclasses import dataclass
from heapq import heappop, heappush
from itertools import chain, repeat

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT

from simulator.components import STORAGE_KINDS, Machine
from simulator.engine.coalesce import Stream, Watch, worth_watching
from simulator.engine.l2_lines import Plan, update
from simulator.engine.progress import Progress
from simulator.engine.resources import Fifo, Space
from simulator.engine.tally import Tally
from simulator.engine.trace import Record
from simulator.errors import CapacityError, UnsupportedError, a_or_an
from simulator.mapping.classes import last_part
from simulator.mapping.program import Compute, OpProgram, Program, Step, Transfer
from simulator.mapping.shifted import (
    line_key,
    members_located,
    members_moving,
    members_streamed,
)


class _CountingEnvironment(simpy.Environment):
    """A simpy Environment that counts the events it processes (for events/s benchmarks): every
    event scheduled draws the next id, and a run to the end processes every event scheduled.
    The end of a `_Quiet` process is not scheduled: nothing waits for it, so processing it would
    only run the engine's own bookkeeping, done at once instead (the order of every other event
    is unchanged: ids are drawn in the same order, one fewer)."""

    def schedule(self, event, priority=NORMAL, delay=0) -> None:
        if event.__class__ is _Quiet and event._ok:  # a quiet process ended (failures raise)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            return
        heappush(self._queue, (self._now + delay, priority, next(self._eid), event))

    def processed(self) -> int:
        """Events processed so far, once the queue is empty (called once, at the end of a run)."""
        return next(self._eid) - len(self._queue)


class _PlainEnvironment(_CountingEnvironment):
    """The environment of one core on a plain DRAM bus: it also notes whether the event being
    processed resumes one callback alone (`sole`), so that a grant or a take the resumed process
    gets at once, with no other event due now, is no event (engine/resources.py `_at_once`).
    `step` is simpy's own but for that note."""

    sole = False

    def step(self) -> None:
        try:
            self._now, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None
        self.sole = len(callbacks) == 1
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:  # as simpy: the rest of the callbacks when the run resumes
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, URGENT - 1)
            raise
        if not event._ok and not hasattr(event, "_defused"):
            error = type(event._value)(*event._value.args)
            error.__cause__ = event._value
            raise error


class _Quiet(simpy.Process):
    """A process nothing waits for (a step's compute): its end is no event (see
    `_CountingEnvironment`), and where `start` is given (an event already scheduled, its loads'
    arrival) it begins when that is processed instead of at an Initialize event of its own."""

    def __init__(self, env: simpy.Environment, generator, start: simpy.Event | None = None):
        if start is None:
            super().__init__(env, generator)
            return
        self.env, self.callbacks, self._generator, self._target = env, [], generator, start
        start.callbacks.append(self._resume)


def _waits(ops: tuple[OpProgram, ...]) -> dict[str, list[str]]:
    """The ops each op waits for before loading: its inputs and, for a barrier op, every earlier op.
    A barrier op only started once all ops before it were done, so waiting for the last barrier
    and the ops after it is the same wait, in linear rather than quadratic bookkeeping."""
    waits: dict[str, list[str]] = {}
    since_barrier: list[str] = []  # the last barrier op and every op after it
    for op in ops:
        waits[op.name] = list(op.depends_on) + (since_barrier if op.barrier else [])
        if op.barrier:
            since_barrier = []
        since_barrier.append(op.name)
    return waits


@dataclass(frozen=True)
class Entry:
    """The state a run of consecutive ops starts from when every op before them has finished
    (a quiescent point; see engine/memo.py). The default is the start of a whole program."""

    turn: int = -1  # the memory controller / L2 slice that served the last interleaved transfer
    order: tuple[int, ...] = ()  # cores whose DMA-in engines resume, in the order they resume
    idle: tuple[int, ...] = ()  # cores with no op here but a next op after (in waiting order)
    first: bool = True  # the program's start: idle cores begin waiting now, in this order
    following: tuple[tuple[int, tuple[str, ...] | None], ...] = ()
    """core -> the ops its next op waits for, when that op is in the next run (None: later)."""


class _Engine:
    def __init__(
        self,
        ops: tuple[OpProgram, ...],
        machine: Machine,
        trace: bool,
        waits_for: dict[str, list[str]],
        entry: Entry,
        coalesce: bool = False,
    ):
        self.cores = list(entry.order) or sorted({op.core for op in ops}) or [0]
        plain = machine.noc is None and len(self.cores) == 1
        self.env = _PlainEnvironment() if plain else _CountingEnvironment()
        self.machine = machine
        self.ops = ops
        self.entry = entry
        self.record = Record(events=[] if trace else None)
        self.dram = machine.dram
        self.noc = machine.noc
        self.space = {
            c.name: Space(self.env, capacity=c.capacity_bytes, init=c.capacity_bytes)
            for c in machine.components.values()
            if c.kind in STORAGE_KINDS
        }
        self.units = {name: Fifo(self.env) for name in machine.timed_units}
        self.ported = {  # SRAMs whose ports are modelled
            name: c for name, c in machine.components.items() if hasattr(c, "access_cycles")
        }
        self.unit_free_at: dict[str, int] = {}  # when each unit last finished a segment
        self.port_busy: dict[str, list[list[float]]] = {}  # SRAM -> its ports' busy spans
        self.moving: list[float] = []  # when transfers whose port time is not placed were asked
        self.first_use: dict[str, tuple] = {}  # unit -> how its first segment here was attributed
        self.deferred: list[tuple[str, int, int]] | None = None  # kernels to run later, in order
        self.progress: Progress | None = None  # credited as segments and ops finish
        self.written = {
            core: simpy.Store(self.env) for core in self.cores
        }  # steps with write-backs
        self.op_done = {op.name: self.env.event() for op in ops}
        # a core class (mapping/classes.py): member core -> its part's name, the representative first
        self.twins = {
            op.name: {part.core: part.name for part in (op, *op.members)}
            for op in ops
            if op.members
        }
        self.copies: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}  # see _copies
        self.twin_units: dict[tuple[str, str], tuple[str, ...]] = {}  # see _twins
        self.owners = {op: _Owners(op, twins) for op, twins in self.twins.items()}  # see _who
        self.gap_rows: dict[tuple, tuple] = {}  # see _gap_rows
        self.class_rows: dict[tuple, tuple] = {}  # see _class_rows
        self.tally = Tally()  # a class's repeated rows, added once per kind (engine/tally.py)
        self.member_ports: dict[tuple, dict] = {}  # (op, node, direction) -> buffer -> `_port`
        self.member_rows: dict[tuple, _Members] = {}  # see _ports
        self.side_rows: dict[tuple, tuple] = {}  # see _book
        self.wait_rows: dict[str, tuple] = {}  # see _waits_rows
        self.signatures: dict[tuple, int] = {}  # see _Side.signature
        self.plans: dict[tuple, Plan] = {}  # see _split_lines
        self.busy_rows: dict[tuple, tuple] = {}  # a route -> its links' busy rows (_count_noc)
        self.link_cycles: dict[int, int] = {}  # see _link_cycles
        # ops before these have all finished: one already-processed event stands for them all
        self.finished = self.env.event()
        self.finished.callbacks, self.finished._ok, self.finished._value = None, True, None
        self.waits_for = waits_for
        self.following = dict(entry.following)
        self.registered: list[int] = []  # cores that began waiting for their next run, in order
        self.resumed: list[int] = []  # ... and the order in which they resumed
        self.outstanding = {op.name: 0 for op in ops}  # steps loaded but not finished
        self.awaited = _awaited(ops)  # ops whose steps' ends a loader may wait for
        self.paced: dict[str, float] = {}  # op -> when its last paced segment's bound fell
        self.all_loaded: set[str] = set()
        self.op_started: set[str] = set()
        self.signals: dict[str, simpy.Event] = {}
        self.turn = entry.turn  # the controller that served the last interleaved transfer
        self.turns = 0  # how many times the turn moved on in this run
        self.live: dict[simpy.Process, None] = {}  # running processes, in the order they began
        self.in_flight: set[str] = set()  # ops with steps loaded but not finished
        self.skipped = 0  # cycles advanced in closed form: the engine's clock is simpy's + this
        operands = self.dram.spec.operand_bandwidth or {}
        if self.noc is not None and operands:
            raise UnsupportedError(
                f"{self.dram.name}: operand_bandwidth needs a chip without a NoC"
            )
        # per-operand DRAM interfaces, each its own bus (SCALE-Sim's USER bandwidth mode)
        self.operand_buses = {role: Fifo(self.env) for role in operands}
        if self.noc is None:
            self.bus = Fifo(self.env)
        else:
            self.controllers = {n: Fifo(self.env) for n in self.noc.spec.memory_nodes}
            self.memory_nodes = list(self.controllers)  # controllers and L2 slices, in turn order
            self.links: dict[tuple, Fifo] = {}
            self.paths: dict[tuple, list] = {}  # (src, dst, core node) -> the links held
            self.ordered: dict[tuple, list] = {}  # a route -> its links' resources, acquiring order
            self.hop_counts: dict[tuple, int] = {}  # (src, dst) -> router hops
            # fine interleaving: all controllers (and L2 slices) serve every transfer as one pool
            self.fine = self.noc.spec.memory == "fine"
            # a member's port the same whichever memory node serves it: fine interleaving holds
            # only the core's own port, every route enters a node by one link, and no memory
            # node is a core's (its route would be empty); its ports and rows are then shared
            self.one_port = (
                self.fine
                and self.noc.one_way_in()
                and self.controllers.keys().isdisjoint(machine.nodes.values())
            )
            self.dram_pool = Fifo(self.env)
        self.l2 = machine.l2
        if self.l2 is not None:  # sliced at the memory nodes, LRU over whole tile regions
            self.l2_slices = {n: Fifo(self.env) for n in self.noc.spec.memory_nodes}
            self.l2_pool = Fifo(self.env)
            self.l2_lines: OrderedDict[tuple, int] = OrderedDict()
            self.l2_used = 0
        self.resource_list = [
            *((f"space {name}", c) for name, c in self.space.items()),
            *((f"unit {name}", u) for name, u in self.units.items()),
            *((f"written {core}", s) for core, s in self.written.items()),
            *((("bus", self.bus),) if self.noc is None else ()),
            *((f"interface {role}", bus) for role, bus in self.operand_buses.items()),
        ]
        self.resource_names = {id(r): name for name, r in self.resource_list}
        self.coalesce = (
            coalesce
            and self.noc is None
            and len(self.cores) == 1
            and not entry.idle
            and self.record.events is None
        )

    def clock(self) -> int:
        """The engine's cycle: simpy's clock plus the periods advanced in closed form."""
        return int(self.env.now) + self.skipped

    def _spawn(self, generator, quiet: bool = False, start: simpy.Event | None = None):
        """Start a process (`_Quiet`, begun by `start` where given), kept in `live` until it ends
        (the state coalescing compares; without coalescing nothing reads it)."""
        process = _Quiet(self.env, generator, start) if quiet else self.env.process(generator)
        if not self.coalesce:
            return process
        self.live[process] = None
        process.callbacks.append(lambda _: self.live.pop(process))
        return process

    def _signal(self, name: str) -> simpy.Event:
        if name not in self.signals:
            self.signals[name] = self.env.event()
        return self.signals[name]

    # ----- core classes ----------------------------------------------------------------------
    def _parts(self, op: str) -> list[str]:
        """The parts an op's private results are booked to: a class's every member, else itself."""
        twins = self.twins.get(op)
        return [op] if twins is None else list(twins.values())

    def _who(self, op: str, component: str) -> str:
        """The part of `op` whose core owns `component` (a class member's buffer: that member)."""
        owners = self.owners.get(op)
        return op if owners is None else owners[component]

    def _copies(self, op: str, unit: str) -> tuple[tuple[str, str], ...]:
        """(part, unit) pairs a private booking of `op` on `unit` goes to: for a class, every
        member's part and its own copy of the unit (the representative's values, per member).
        Worked out once per (op, unit): a class books every segment to every member."""
        copies = self.copies.get((op, unit))
        if copies is None:
            twins = self.twins.get(op)
            if twins is None or _core(unit) is None:
                copies = ((op, unit),)
            else:
                rest = unit.split(".", 1)[1]
                copies = tuple((name, f"core{core}.{rest}") for core, name in twins.items())
            self.copies[(op, unit)] = copies
        return copies

    def _ports(self, op: str, side: "_Side", src: int, direction: str, nbytes: int):
        """The bytes over the representative's own NoC port, and the other members' `_Members`
        (their ports' routes from or to `src`, bytes and counter rows; None for a plain op,
        which moves all `nbytes` itself)."""
        if op not in self.owners:
            return nbytes, None
        parts = side.parts
        key = (op, None if self.one_port else src, direction, side.signature(self.signatures))
        members = self.member_rows.get(key)
        if members is None:
            members = self.member_rows[key] = self._members(op, parts, src, direction)
        own = parts.get(op)
        return (0 if own is None else own[1]), members

    def _members(self, op: str, parts: dict, src: int, direction: str) -> "_Members":
        """`_Members` of a batch's other parts ([first buffer, bytes] each), worked out once per
        such batch: a class's batches repeat (the same members, hits and misses, bytes)."""
        where = (op, None if self.one_port else src, direction)
        ports = self.member_ports.get(where)
        if ports is None:
            ports = self.member_ports[where] = {}
        members = _Members()
        for part, (buffer, nbytes) in parts.items():
            if part == op:
                continue
            port = ports.get(buffer)
            if port is None:
                port = ports[buffer] = self._port(part, buffer, src, direction)
            members.count += 1
            members.cycles += self._link_cycles(nbytes)
            if nbytes and port[0]:
                members.ports.append((port, nbytes))
        return members

    def _member_rows(self, members: "_Members"):
        """The (table, key, count) rows the members' ports book, as `_count_noc` books a plain
        op's port, in member order: bytes, hops and counters, then each link's busy time (a
        count of 1, times the cycles held)."""
        rec, flit_bits = self.record, self.noc.flit_bits
        for (route, hops, bit_hop, flit_hop), nbytes in members.ports:
            for link in route:
                yield rec.link_bytes, link, nbytes
            yield rec.hop_bytes, hops, nbytes
            yield rec.counts, bit_hop, 8 * nbytes * hops
            yield rec.counts, flit_hop, math.ceil(8 * nbytes / flit_bits) * hops
        for (route, *_), _ in members.ports:
            for link in route:
                yield rec.link_busy, link, 1

    def _port(self, part: str, buffer: str, src: int, direction: str) -> tuple:
        """A class member's NoC port to or from memory node `src`, as `_hold` counts its bytes:
        (route, hops, its bit-hop and flit-hop counters), worked out once per member and node."""
        node = self.machine.nodes[buffer]
        route = self._path(*((src, node) if direction == "read" else (node, src)), node)
        hops = len(route) if route and route[0][0] == "link" else 1
        noc = self.noc.name
        return (route, hops, (part, noc, "bit_hop"), (part, noc, "flit_hop"))

    # ----- moving bytes -----------------------------------------------------------------------
    def _dram(self, op: str, transfers, direction: str, peers: tuple = ()):
        """Move a batch of DRAM transfers (and, for a class, its members' `peers` steps' own);
        returns (the latency still to come after the last byte, the cycles then spent waiting
        for SRAM ports)."""
        entries = [(None, t.buffer, t) for t in transfers if t.dram_bytes and t.kind != "send"]
        moving = None  # a class's members moving one leader step: split line by line (`_cache`)
        if peers:
            stores = direction == "write"
            if self.l2 is not None and entries:
                moving = members_moving(peers, stores)
            if moving is None:
                members_located(peers, entries, stores=stores)
            else:
                moving = (peers, *moving)
        if not entries:
            return 0, 0
        asked = self.env.now
        self.moving.append(asked)  # no port time of this batch lands before it was asked for
        latency, began = yield from self._move(op, entries, direction, moving)
        waited = self._port_wait(began)
        if waited:
            yield self.env.timeout(waited)
        self.moving.remove(asked)
        return latency, waited

    def _move(self, op: str, entries: list, direction: str, moving: tuple | None = None):
        """The bytes of `_dram` ((L2 key, buffer, transfer) entries as `members_located` gives
        them, the key None for a transfer's own region; `moving`: a class's members, as
        `_cache` takes them): returns (latency, [(when a transfer began, its (buffer, bytes))]).
        With an L2, loads of resident regions are served by its slices and only misses reach
        DRAM."""
        began = []
        home = entries[0][1]  # the representative's, for a class (its transfers come first)
        cached = None  # a class's L2 hits, streaming while its misses go to DRAM
        if self.l2 is not None:
            hits, side = self._cache(op, entries, direction, moving)
            if hits.has_rows() and side.has_rows() and op in self.twins:
                cached = self.env.process(self._l2_read(op, hits, home))
                began.append((cached, hits.accesses(op)))
            elif hits.has_rows():
                start = yield from self._l2_read(op, hits, home)
                began.append((start, hits.accesses(op)))
            if not side.has_rows():
                return self.dram.latency_cycles, began
        elif self.noc is not None:
            side = self._side(op, entries)
        else:  # one core's bus or interfaces: its entries as they come (coalescing describes
            side = None  # a waiting frame: no _Side, no regions in it)
        asked = self.env.now
        if self.operand_buses:
            groups: dict[str, list] = {}
            for entry in entries:
                groups.setdefault(self._operand(entry[1]), []).append(entry)
            buses = {
                role: self.env.process(self._operand_bus(op, role, [t for *_, t in es], direction))
                for role, es in groups.items()
            }
            yield self.env.all_of(list(buses.values()))
            began += [(buses[role].value, _accesses(es)) for role, es in groups.items()]
            latency = self.dram.latency_cycles
        elif self.noc is None:
            grant = self.bus.request()
            yield grant
            start = self.env.now
            nbytes = sum(t.dram_bytes for *_, t in entries)
            yield self.env.timeout(self.dram.transfer_cycles(nbytes, direction=direction))
            self._dram_busy(start, 1.0, op, entries[0][2].kind, direction)
            self.bus.release(grant)
            began.append((start, _accesses(entries)))
            latency = self.dram.latency_cycles
        else:
            node = self.machine.nodes[home]
            shares = self._controller_shares(node, side.total)
            flows = [
                self.env.process(self._flow(op, nbytes, ctrl, node, direction, side))
                for ctrl, nbytes in shares
            ]
            done = yield self.env.all_of(flows)
            began.append((min(start for _, start in done.values()), side.accesses(op)))
            latency = self.dram.latency_cycles + self.noc.latency_cycles(
                max(hops for hops, _ in done.values())
            )
            if cached is not None:
                began[0] = (yield cached), began[0][1]
        # the op waited for DRAM from its request to its last byte, queueing behind others included
        if op in self.twins:  # every member: rows of 1 times the wait (the tally)
            self.tally.book(self._waits_rows(op), self.env.now - asked)
        else:
            self.record.op_busy[op][self.dram.name] += self.env.now - asked
        what = f"dram {direction}"
        if side is None and op not in self.owners:  # a plain op's rows: its entries, its own
            self._book_each([(op, buffer, t) for _, buffer, t in entries], what)
        else:
            self._book(op, side or self._side(op, entries), what)
        return latency, began

    def _waits_rows(self, op: str) -> tuple:
        """A class's DRAM wait rows, (op_busy of each part, the DRAM, 1), worked out once per op."""
        rows = self.wait_rows.get(op)
        if rows is None:
            busy, dram = self.record.op_busy, self.dram.name
            rows = self.wait_rows[op] = tuple((busy[part], dram, 1) for part in self._parts(op))
        return rows

    def _book(self, op: str, side: "_Side", what: str) -> None:
        """Book a side's bytes to `what`'s counters (`_targets`). A class's side whose parts
        each move one kind into one buffer and that came before books each part's bytes
        summed, as rows worked out once per such side and waiting in the tally (engine/tally.py:
        whole numbers); else, or where the tally cannot wait, each transfer as it comes."""
        if side.uniform and op in self.twins:
            kind = side.kind()
            key = (op, what, kind, side.signature(self.signatures))
            rows = self.side_rows.get(key)
            if rows is None:  # the first such side: rows only for one that repeats
                self.side_rows[key] = ()
            else:
                if not rows:
                    rows = self.side_rows[key] = tuple(
                        (table, counter, nbytes)
                        for part, (buffer, nbytes) in side.parts.items()
                        for table, counter in self._targets(what, part, buffer, kind)
                    )
                if self.tally.defer(rows):
                    return
        self._book_each(side.rows, what)

    def _book_each(self, rows, what: str) -> None:
        """Book each (part, buffer, transfer) row's bytes to `what`'s counters, in row order."""
        last = None  # a member's transfers come one after another: their counters once
        for part, buffer, t in rows:
            if t.dram_bytes:
                if (buffer, t.kind) != last:
                    last = buffer, t.kind
                    targets = self._targets(what, part, buffer, t.kind)
                for table, counter in targets:
                    table[counter] += t.dram_bytes

    def _targets(self, what: str, part: str, buffer: str, kind: str) -> tuple:
        """(table, key) pairs a transfer's bytes go to, in booking order: L2 writes or reads
        (hits: the SRAM side written too), or DMA bytes (DRAM reads, into SRAM, or writes, per
        op and transfer kind, and the SRAM side: written on the way in, read on the way out)."""
        counts = self.record.counts
        if what == "l2 write":
            return ((counts, (part, self.l2.name, "write")),)
        if what == "l2 read":
            return ((counts, (part, self.l2.name, "read")), (counts, (part, buffer, "write")))
        direction, side = ("read", "write") if what == "dram read" else ("write", "read")
        return (
            (counts, (part, self.dram.name, direction)),
            (self.record.op_dram[part], kind),
            (counts, (part, buffer, side)),
        )

    def _side(self, op: str, entries: list) -> "_Side":
        """All of a batch's entries as one `_Side` (no L2 to split them)."""
        side, owners, kind = _Side(), self.owners.get(op), entries[0][2].kind
        rows, parts = side.rows, side.parts
        last = mine = None  # a member's transfers come one after another: their part once
        for _, buffer, t in entries:
            if buffer != last:
                last = buffer
                part = op if owners is None else owners[buffer]
                mine = parts.get(part)
                if mine is None:
                    mine = parts[part] = [buffer, 0]
                elif mine[0] != buffer:
                    side.uniform = False
            if t.kind != kind:
                side.uniform = False
            rows.append((part, buffer, t))
            mine[1] += t.dram_bytes
            side.total += t.dram_bytes
        return side

    def _cache(self, op: str, entries: list, direction: str, moving: tuple | None = None):
        """Split loads into L2 hits and misses (a `_Side` each); every region read or written
        becomes resident (LRU). A forced miss (`Transfer.miss`) refills its region's own line:
        it sits in the L2 once. `moving` (peers, leader transfers, movers; `members_moving`):
        a class's members' loads after `entries`, split line by line where that is exact."""
        hits, misses, reading = _Side(), _Side(), direction == "read"
        kind = entries[0][2].kind
        uniform = self._split(op, entries, reading, hits, misses, kind)
        if moving is not None:
            members = self._split_lines(op, moving, reading, hits, misses, kind)
            if members is None:  # a line the batch touches is evicted within it: load by load
                located: list = []
                members_located(moving[0], located, stores=not reading)
                members = self._split(op, located, reading, hits, misses, kind)
            uniform = uniform and members
        hits.uniform = misses.uniform = uniform
        if misses.has_rows():
            self._book(op, misses, "l2 write")
        self.record.l2_bytes["hit" if reading else "write"] += hits.total
        if reading:
            self.record.l2_bytes["miss"] += misses.total
        return hits, misses

    def _split(self, op: str, entries: list, reading: bool, hits, misses, kind: str) -> bool:
        """`_cache`'s loads one at a time, added to its sides; whether each part kept one buffer
        and every load is of `kind`."""
        lines, used = self.l2_lines, self.l2_used
        to_end, add = lines.move_to_end, (hits.rows.append, misses.rows.append)
        sides, totals = (hits.parts, misses.parts), [hits.total, misses.total]
        capacity, owners, uniform = self.l2.capacity_bytes, self.owners.get(op), True
        last = None
        for key, buffer, t in entries:
            if key is None:
                key = line_key(t.tensor, t.region)
            nbytes = t.dram_bytes
            if buffer != last:  # a member's transfers come one after another: its part once
                last = buffer
                part = op if owners is None else owners[buffer]
                current = [None, None]  # its [first buffer, bytes] on each side
            if t.kind != kind:
                uniform = False
            resident = key in lines
            missed = 1
            if reading and resident:
                to_end(key)
                missed = 1 if t.miss else 0
            add[missed]((part, buffer, t))
            mine = current[missed]
            if mine is None:
                mine = current[missed] = sides[missed].get(part)
                if mine is None:
                    mine = current[missed] = sides[missed][part] = [buffer, 0]
                elif mine[0] != buffer:
                    uniform = False
            mine[1] += nbytes
            totals[missed] += nbytes
            if missed and nbytes <= capacity and not resident:
                lines[key] = nbytes
                used += nbytes
                while used > capacity:
                    _, size = lines.popitem(last=False)
                    used -= size
        self.l2_used = used
        hits.total, misses.total = totals
        return uniform

    def _split_lines(self, op: str, moving: tuple, reading: bool, hits, misses, kind: str):
        """A class's members' loads (`moving`) added to `_cache`'s sides a line at a time
        (engine/l2_lines.py): as `_split` would add them; whether each part kept one buffer and
        every load is of `kind`. None, with nothing changed, where that is not exact: a line
        the batch touches evicted within it, two leader transfers of one tensor, a line larger
        than the L2, bytes that are not whole."""
        _, located, movers = moving
        transfers = tuple(row[-1] for row in located)
        capacity = self.l2.capacity_bytes
        if len({row[0] for row in located}) < len(located) or not all(
            type(t.dram_bytes) is int and t.dram_bytes <= capacity for t in transfers
        ):
            return None
        key = (op, movers, reading, tuple((row[0], row[5]) for row in located))
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = Plan(movers, located, self.owners[op])
        keys, lines = plan.keys(located), self.l2_lines
        resident = tuple(map(lines.__contains__, keys))
        sizes = plan.bytes(transfers)
        used = update(lines, self.l2_used, capacity, keys, resident, plan, sizes, reading)
        if used is None:
            return None
        self.l2_used = used
        *split, uniform = plan.sides(transfers, reading, resident)
        for side, (rows, parts, total) in zip((hits, misses), split):
            if rows:
                side.later = (rows, transfers)
            have = side.parts
            if have.keys().isdisjoint(parts):  # (first buffer, bytes): read only from here on
                have.update(parts)
            else:
                for part, (buffer, nbytes) in parts.items():
                    mine = have.get(part)
                    if mine is None:
                        have[part] = [buffer, nbytes]
                    else:
                        uniform = uniform and mine[0] == buffer
                        mine[1] += nbytes
            side.total += total
        return uniform and all(t.kind == kind for t in transfers)

    def _l2_read(self, op: str, hits: "_Side", buffer: str):
        """Hits stream from the next L2 slice over its NoC route at the slice's share of L2
        bandwidth (a class's hits: all its members' bytes, each member's over its own port);
        returns when they began."""
        node = self.machine.nodes[buffer]
        self._next_turn()
        src = self.memory_nodes[self.turn]
        route = self._path(src, node, node)
        ways = 1 if self.fine else len(self.memory_nodes)
        port = self.l2_pool if self.fine else self.l2_slices[src]
        nbytes = hits.total
        slice_cycles = math.ceil(nbytes * ways / self.l2.bytes_per_cycle - 1e-9)
        own, members = self._ports(op, hits, src, "read", nbytes)
        held = yield from self._hold([port], route, own, slice_cycles, op, members)
        self._book(op, hits, "l2 read")
        return self.env.now - held

    def _operand(self, buffer: str) -> str:
        """The operand whose interface carries a transfer into or out of `buffer`: the one the
        buffer holds."""
        holds = self.machine.components[buffer].spec.holds
        if len(holds) != 1 or holds[0] not in self.operand_buses:
            raise UnsupportedError(
                f"{buffer} holds {', '.join(holds)}; per-operand DRAM interfaces need one "
                "buffer per operand, each operand with a bandwidth"
            )
        return holds[0]

    def _operand_bus(self, op: str, role: str, transfers: list, direction: str):
        """Move one operand's transfers over its own DRAM interface; returns when they began."""
        with self.operand_buses[role].request() as grant:
            yield grant
            start = self.env.now
            nbytes = sum(t.dram_bytes for t in transfers)
            yield self.env.timeout(self.dram.transfer_cycles(nbytes, role, direction))
            self.record.interface_busy[role] += self.env.now - start  # whole cycles: exact sums
            track = f"{self.dram.name} {direction}"
            self.record.interval(track, transfers[0].kind, op, start, self.env.now)
        return start

    def _dram_busy(
        self, start: float, share: float, op: str, kind: str, direction: str, busy=None
    ) -> None:
        """The DRAM as a whole was busy `share` of this transfer (one of several controllers):
        from `start` to now, or `busy` cycles where given (a class's, see `_flow`)."""
        held = self.env.now - start if busy is None else busy
        self.record.busy[self.dram.name] += held * share
        if self.record.events is not None:  # a trace's timeline (the track named only then)
            self.record.interval(f"{self.dram.name} {direction}", kind, op, start, self.env.now)

    def _controller_shares(self, node: int, total: int) -> list[tuple[int, int]]:
        """(controller node, bytes): the core's nearest controller (local memory), or the next
        controller in turn (interleaved: over many transfers every controller serves equally)."""
        controllers = self.memory_nodes
        if self.noc.spec.memory == "local":
            return [(min(controllers, key=lambda c: (self._hops(c, node), c)), total)]
        self._next_turn()
        return [(controllers[self.turn], total)]

    def _next_turn(self) -> None:
        """The next memory node (controller and L2 slice) in turn serves an interleaved transfer."""
        self.turn = advance(self.turn, 1, len(self.controllers))
        self.turns += 1

    def _flow(self, op: str, nbytes: int, ctrl: int, node: int, direction: str, side: "_Side"):
        """One controller's share of a DRAM transfer, over its NoC route: (hops, when it began).
        A class's transfers hold the controller (the fine pool) for all its members' bytes."""
        route = (
            self._path(ctrl, node, node) if direction == "read" else self._path(node, ctrl, node)
        )
        ways = 1 if self.fine else len(self.controllers)
        port = self.dram_pool if self.fine else self.controllers[ctrl]
        cost = self.dram.held_bytes(nbytes, direction)
        ctrl_cycles = math.ceil(cost * ways / self.dram.bytes_per_cycle - 1e-9)
        own, members = self._ports(op, side, ctrl, direction, nbytes)
        held = yield from self._hold([port], route, own, ctrl_cycles, op, members)
        busy = held
        if members is not None and members.count and route:
            # a class: the pool, or every member's port as long as per core (whole cycles)
            busy = max(ctrl_cycles, self._link_cycles(own) + members.cycles)
        kind = side.kind()
        self._dram_busy(self.env.now - held, 1 / ways, op, kind, direction, busy)
        return (self._hops(ctrl, node) if route else 0), self.env.now - held

    def _link_cycles(self, nbytes: int) -> int:
        """A NoC link's cycles for `nbytes` (computed once per size: a class asks per member)."""
        cycles = self.link_cycles.get(nbytes)
        if cycles is None:
            cycles = self.link_cycles[nbytes] = self.noc.transfer_cycles(nbytes)
        return cycles

    def _hops(self, src: int, dst: int) -> int:
        """Router hops from src to dst (computed once per pair)."""
        if (src, dst) not in self.hop_counts:
            self.hop_counts[(src, dst)] = self.noc.hops(src, dst)
        return self.hop_counts[(src, dst)]

    def _path(self, src: int, dst: int, node: int | None) -> list:
        """The route a transfer holds (routes are fixed: each is computed once). Fine interleaving:
        the bytes come from every slice's port at once, so of the route only the core's own port
        (`node`'s) is a bottleneck worth holding; core-to-core sends (node None) hold all of it."""
        key = (src, dst, node)
        if key not in self.paths:
            route = self.noc.route(src, dst)
            spread = self.fine and node is not None
            self.paths[key] = [link for link in route if link[-1] == node] if spread else route
        return self.paths[key]

    def _hold(self, first: list, route: list, nbytes: int, floor: int, op: str, members=None):
        """Hold `first` resources (a memory controller) for `floor` cycles and the route's links for
        nbytes / link bandwidth, all acquired in global order; each is released when its part is done.
        `members`: a class's other members (`_ports`), counted on their own ports."""
        key = tuple(route)
        links = self.ordered.get(key)
        if links is None:
            links = self.ordered[key] = [self._link(link) for link in sorted(route, key=str)]
            self.busy_rows[key] = tuple((self.record.link_busy, link, 1) for link in route)
        link_cycles = self.noc.transfer_cycles(nbytes) if route else 0
        held = [(r, floor) for r in first] + [(link, link_cycles) for link in links]
        if self.fine:  # the shared pool is taken last, so no one holds it while waiting for a port
            held = held[len(first) :] + held[: len(first)]
        grants = []
        for resource, _ in held:
            grant = resource.request()
            grants.append((resource, grant))
            yield grant
        start = self.env.now
        finish = [cycles for _, cycles in held]
        for done_at in sorted(set(finish)):
            if done_at > self.env.now - start:
                yield self.env.timeout(done_at - (self.env.now - start))
            for (resource, grant), end in zip(grants, finish):
                if end == done_at:
                    resource.release(grant)
        if nbytes or op not in self.twins:
            self._count_noc(op, route, key, nbytes, self.env.now - start)
        if members is not None:  # every member's port, its rows as `_count_noc` books them
            self._count_members(members, self.env.now - start)
        return max(finish, default=0)

    def _count_members(self, members: "_Members", held) -> None:
        """A class's other members' port rows (`_member_rows`), their links held `held` cycles:
        the first time as they come (where `held` is whole: a fraction must reach the tally),
        and through the tally where such a batch came before (its rows then kept)."""
        if members.rows is None:
            whole = type(held) is int or (type(held) is float and held.is_integer())
            if whole and held >= 0 and not members.seen:  # nothing kept for a one-off batch
                members.seen, busy = True, self.record.link_busy
                for table, key, count in self._member_rows(members):
                    table[key] += held if table is busy else count
                return
            rows = tuple(self._member_rows(members))
            split = len(rows) - sum(len(port[0]) for port, _ in members.ports)
            members.rows, members.busy = rows[:split], rows[split:]
        self.tally.book(members.rows)
        self.tally.book(members.busy, held)

    def _link(self, link: tuple) -> Fifo:
        if link not in self.links:
            self.links[link] = Fifo(self.env)
        return self.links[link]

    def _count_noc(self, op: str, route: list, key: tuple, nbytes: int, held) -> None:
        """A transfer's bytes and hops on its route, whose links were held `held` cycles (the
        links' busy time through the tally, as a class's members' ports book theirs)."""
        if not route:
            return
        rec, noc = self.record, self.noc
        hops = len(route) if route[0][0] == "link" else 1
        for link in route:
            rec.link_bytes[link] += nbytes
        self.tally.book(self.busy_rows[key], held)
        rec.hop_bytes[hops] += nbytes
        rec.counts[(op, noc.name, "bit_hop")] += 8 * nbytes * hops
        rec.counts[(op, noc.name, "flit_hop")] += math.ceil(8 * nbytes / noc.flit_bits) * hops

    def _send(self, op: str, sends: list[Transfer]):
        """Core-to-core transfers over the NoC; returns the head latency still to come."""
        latency = 0
        for t in sends:
            src, dst = self.machine.nodes[t.buffer], self.machine.nodes[t.peer]
            route = self._path(src, dst, None)
            asked = self.env.now
            self.moving.append(asked)
            held = yield from self._hold([], route, t.noc_bytes, 0, op)
            waited = self._port_wait(
                [(self.env.now - held, [(t.buffer, t.noc_bytes), (t.peer, t.noc_bytes)])]
            )
            if waited:
                yield self.env.timeout(waited)
            self.moving.remove(asked)
            self.record.op_noc[op] += t.noc_bytes
            latency = max(latency, self.noc.latency_cycles(self._hops(src, dst)) if route else 0)
        return latency

    # ----- per-core DMA processes -------------------------------------------------------------
    def _done_events(self, names) -> list[simpy.Event]:
        return [self.op_done.get(name, self.finished) for name in names]

    def loader(self, core: int):
        previous_done = None
        for op in self.ops:
            if op.core != core:
                continue
            waits = self._done_events(self.waits_for[op.name])
            if waits:
                yield self.env.all_of(waits)
            for part in self._parts(op.name):
                self.record.op_start[part] = self.clock()
            stream = Stream(op)
            watch = Watch(self, op, stream) if self.coalesce and worth_watching(stream) else None
            while True:
                if watch is not None:
                    watch.at(previous_done)
                index = stream.index
                step = stream.next()
                if step is None:
                    break
                if watch is not None:
                    watch.note(index, step)
                if not op.double_buffering and previous_done is not None:
                    yield previous_done
                asked = self.env.now
                if step.waits:
                    yield self.env.all_of([self._signal(name) for name in step.waits])
                synced = self.env.now
                for t in step.loads:
                    if t.space > self.space[t.buffer].capacity:
                        raise CapacityError(
                            f"{op.name}: {a_or_an(t.kind)} of {t.space:,} B does not fit "
                            f"{t.buffer} ({self.space[t.buffer].capacity:,} B)"
                        )
                    if t.space:
                        yield self.space[t.buffer].get(t.space)
                waited = {"sync": synced - asked, "buffer_full": self.env.now - synced}
                issued = self.env.now
                latency, waited["sram_bandwidth"] = yield from self._dram(
                    op.name, step.loads, "read", step.peers
                )
                previous_done = self.env.event() if op.name in self.awaited else None
                self.outstanding[op.name] += 1
                self.in_flight.add(op.name)
                arrival = self.env.now + latency  # the step's compute begins as its loads arrive
                start = self.env.timeout(arrival - self.env.now) if arrival > self.env.now else None
                compute = self._execute(op, index, step, waited, issued, previous_done)
                self._spawn(compute, quiet=True, start=start)
            self.all_loaded.add(op.name)
            self._maybe_finish(op.name)
        yield from self._await_next(core)

    def _await_next(self, core: int, register: bool = True):
        """A core whose next op comes after these ops begins waiting for it, as the whole program's
        loader would; the order of waiting and resuming is what the next run starts from."""
        if core not in self.following:
            return
        if register:
            self.registered.append(core)
        if self.following[core] is not None:
            yield self.env.all_of(self._done_events(self.following[core]))
            self.resumed.append(core)

    def storer(self, core: int):
        while True:
            op, step = yield self.written[core].get()
            sends = [t for t in step.stores if t.kind == "send"]
            latency, _ = yield from self._dram(op.name, step.stores, "write", step.peers)
            if sends:
                latency = max(latency, (yield from self._send(op.name, sends)))
            for t in step.stores:
                if t.space:
                    self.space[t.buffer].put(t.space)
            self._land(op.name, step, latency)

    def _land(self, op: str, step: Step, latency: int) -> None:
        """A step's results are visible to others one access latency after they leave: an event
        whose processing lands them (`_landed`), where a process of its own would have waited
        (a timeout now, or an urgent event in the place of its Initialize), without the process."""
        if latency:
            landed = self.env.timeout(latency, (op, step))
        else:
            landed = simpy.Event(self.env)
            landed._ok, landed._value = True, (op, step)
            self.env.schedule(landed, URGENT)
        landed.callbacks.append(self._landed)

    def _landed(self, event: simpy.Event) -> None:
        self._arrive(*event._value)

    def _arrive(self, op: str, step: Step) -> None:
        """A step's results have landed: its signals rise and it is finished."""
        for name in step.signals:
            self._signal(name).succeed()
        self._step_finished(op)

    # ----- compute ----------------------------------------------------------------------------
    def _execute(
        self,
        op: OpProgram,
        index: int,
        step: Step,
        waited: dict,
        issued: float,
        done: simpy.Event | None,
    ):
        """Run a step's segments, begun as its loads (issued at `issued`) arrive; `done` (where
        the loader may wait for it) succeeds once they have run."""
        previous_unit = None
        for number, segment in enumerate(step.computes):
            units = (segment.unit, *segment.holds)
            grants = [self.units[u].request() for u in units]  # queued at once: no deadlock
            for grant in grants:
                yield grant
            self._note_gap(op, segment.unit, previous_unit, waited)
            for unit in segment.holds:
                self._note_gap(op, unit, segment.unit, waited)
            start = self.env.now
            cycles, paced = self._duration(segment), 0
            if segment.pace:  # a latency bound over the op's loads and compute together
                bound = self.paced.get(op.name, issued) + segment.pace
                self.paced[op.name] = bound
                paced = max(0, math.ceil(bound - start) - cycles)
                cycles += paced
            if segment.streamed:
                queued = yield from self._stream(segment, start, cycles)
            else:
                queued = 0
                yield self.env.timeout(cycles)
            self._free(op.name, units)
            for unit, grant in zip(units, grants):
                self.units[unit].release(grant)
            peers = members_streamed(step.peers, number)
            self._account(
                op, segment, cycles + queued, start, (index, number), paced, peers, queued
            )
            previous_unit = segment.unit
        self.record.steps += 1 + len(step.peers)
        for buffer, size in step.frees:
            if size:
                self.space[buffer].put(size)
        if done is not None:
            done.succeed()
        if step.stores:  # the storer takes them (nothing here waits for the put)
            self.written[op.core].put((op, step))
        else:  # lands now: where `_land`'s urgent event would have come, right after this
            self._arrive(op.name, step)

    def _free(self, op: str, units: tuple[str, ...]) -> None:
        """The units (a class's: every member's copy of each) are free from now on. Not inline in
        `_execute`: a generator's locals are part of the state coalescing compares."""
        free_at, now = self.unit_free_at, self.clock()
        for unit in units:
            free_at.update(zip(self._twins(op, unit), repeat(now)))

    def _twins(self, op: str, unit: str) -> tuple[str, ...]:
        """Every copy of `unit` a booking of `op` goes to (`_copies`' units), once per pair."""
        twins = self.twin_units.get((op, unit))
        if twins is None:
            twins = self.twin_units[(op, unit)] = tuple(twin for _, twin in self._copies(op, unit))
        return twins

    def _stream(self, segment: Compute, start: float, cycles: int):
        """Hold the DRAM bus for a segment's streamed DMA (a nest's, on a plain bus) while it
        runs its `cycles` from `start`: its bytes and every other transfer share the bus, so the
        segment ends no sooner than the bus has moved them; returns the cycles it ran past them.
        (Times as `start` plus cycles: coalescing describes a frame's times relative to now.)"""
        with self.bus.request() as grant:
            yield grant
            cost = sum(self.dram.held_bytes(t.dram_bytes, _direction(t)) for t in segment.streamed)
            yield self.env.timeout(math.ceil(cost / self.dram.bytes_per_cycle - 1e-9))
        if start + cycles >= self.env.now:
            yield self.env.timeout(start + cycles - self.env.now)
            return 0
        return math.ceil(self.env.now - start - cycles)

    def _duration(self, segment: Compute) -> int:
        """The unit's cycles plus the waits for local-buffer refills and streamed DMA, or longer
        while the segment's SRAM traffic waits for the ports."""
        now = self.env.now
        ports = self._port_time(((b, r + w) for b, r, w in segment.sram_traffic), now, now)
        return max(segment.cycles + segment.refill + segment.dma_wait, math.ceil(ports - now))

    # ----- SRAM ports -------------------------------------------------------------------------
    def _port_time(self, accesses, start: float, end: float) -> float:
        """Place each buffer's (buffer, bytes) accesses of work that ran from `start` to `end` on
        its SRAM's ports: in the latest free stretch that ends by `end` and begins after `start`,
        else the first one after; returns when the last of them ends."""
        last = end
        moved: dict[str, int] = {}
        for buffer, nbytes in accesses:
            moved[buffer] = moved.get(buffer, 0) + nbytes
        for buffer, nbytes in moved.items():
            component = self.ported.get(buffer)
            if nbytes and component is not None:
                busy = self.port_busy.setdefault(buffer, [])
                if len(busy) > PORT_SPANS:
                    del busy[: bisect.bisect_right(busy, self.horizon(), key=_end)]
                last = max(last, _place(busy, component.access_cycles(nbytes), start, end))
        return last

    def _port_wait(self, began: list[tuple[float, list]]) -> float:
        """Place the port time of transfers that began at the given times; returns the cycles
        until it has been served (0: already), which the caller waits."""
        last = max(self._port_time(accesses, start, self.env.now) for start, accesses in began)
        return 0 if last <= self.env.now else last - self.env.now

    def horizon(self) -> float:
        """No port time is placed before this from now on: busy spans that end by it are spent."""
        return min(self.moving, default=self.env.now)  # each was asked by now

    def port_state(self) -> tuple:
        """The ports' busy spans still in play, relative to now (part of coalescing's state)."""
        now, horizon = self.env.now, self.horizon()
        return tuple(
            (buffer, tuple((a - now, b - now) for a, b in busy if b > horizon))
            for buffer, busy in self.port_busy.items()
        )

    def _note_gap(self, op: OpProgram, unit: str, previous_unit: str | None, waited: dict) -> None:
        """Attribute the idle time a unit had before this segment to what the segment waited for
        (a class's: each member's copy of the unit by its own idle time)."""
        now = self.clock()
        started = op.name in self.op_started
        self.op_started.add(op.name)  # on its first segment, whatever the gap: see gap_causes
        rec, free_at, primary = self.record, self.unit_free_at, unit == op.unit
        last = causes = None  # a class's copies mostly share their gap: its causes once
        for part, twin, before, own in self._gap_rows(op, unit, previous_unit):
            if twin not in free_at:
                self.first_use[twin] = (part, own, before, started, waited, now)
                gap, seen = now, False
            else:
                gap, seen = now - free_at[twin], started
            if gap <= 0:
                continue
            if before is not None or (gap, seen) != last:
                causes = gap_causes(gap, before, seen, waited)
                last = None if before is not None else (gap, seen)
            rec.stall(twin, now, causes)
            for cause, cycles in causes.items():
                if cycles:
                    rec.unit_stalls[twin][cause] += cycles
                    if primary:
                        rec.op_stalls[part][cause] += cycles

    def _gap_rows(self, op: OpProgram, unit: str, previous_unit: str | None) -> tuple:
        """(part, its copy of `unit`, its copy of `previous_unit`, its copy of the op's unit) for
        every copy `_note_gap` books (worked out once per op and pair of units)."""
        key = (op.name, unit, previous_unit)
        rows = self.gap_rows.get(key)
        if rows is None:
            rows = self.gap_rows[key] = tuple(
                (
                    part,
                    twin,
                    previous_unit and _same_core(previous_unit, twin),
                    _same_core(op.unit, twin),
                )
                for part, twin in self._copies(op.name, unit)
            )
        return rows

    def _account(
        self,
        op: OpProgram,
        segment: Compute,
        cycles: int,
        start: float,
        where: tuple[int, int],
        paced: int,
        peers: tuple[Transfer, ...] = (),
        queued: int = 0,
    ) -> None:
        """Book a segment that ran `cycles` from `start`, `paced` of them held by its latency
        bound (the load_latency stall), `queued` past its own time for its streamed DMA's bus;
        a class's to every member (`peers`: the DMA the members' own segments streamed, theirs)."""
        rec = self.record
        stretch = cycles - segment.cycles - paced - queued
        copies = self._copies(op.name, segment.unit)
        if op.name in self.twins:  # the same rows for every segment of this kind: a tally
            self.tally.book(self._class_rows(op.name, segment))
        else:
            busy, op_busy, own = rec.busy, rec.op_busy, segment.cycles
            busy[segment.unit] += own
            op_busy[op.name][segment.unit] += own
            counts = rec.counts
            for key, count in self._count_keys(op.name, segment):
                counts[key] += count
        # the streamed DMA's share of the stretch (and its bus queueing), the ports' the rest
        if segment.dma_wait or queued:
            wait = min(segment.dma_wait, stretch)
            stretch -= wait
            self._book_stall(op, segment.unit, "dram_bandwidth", wait + queued)
        if paced:
            self._book_stall(op, segment.unit, "load_latency", paced)
        if stretch:
            self._book_stall(op, segment.unit, "sram_bandwidth", stretch)
        for unit in segment.holds:  # held idle while the segment's own unit works
            self._book_stall(op, unit, f"waiting_{segment.unit}", cycles)
        for t in segment.streamed + peers:
            direction = _direction(t)
            busy = self.dram.transfer_cycles(t.dram_bytes, direction=direction)  # DMA meanwhile
            rec.busy[self.dram.name] += busy
            part = self._who(op.name, t.buffer)
            rec.op_busy[part][self.dram.name] += busy
            self._book_each(((part, t.buffer, t),), f"dram {direction}")
        if rec.events is not None:
            for part, unit in copies:
                rec.interval(unit, "compute", part, start, self.env.now)
        if self.progress is not None:
            self.progress.credit(op.name, segment.macs)
        if segment.kernel is None:
            return
        if self.deferred is None:
            segment.kernel()
        else:  # (op, step index, segment index): run later, in this order
            self.deferred.append((op.name, *where))

    def _count_keys(self, op: str, segment: Compute) -> list[tuple[tuple, int]]:
        """(counter, count) a segment of `op` adds, in booking order: its unit's actions, then its
        SRAM reads and writes, each for every copy (a class's: every member's)."""
        work = [
            ((part, unit, action), count)
            for part, unit in self._copies(op, segment.unit)
            for action, count in segment.work
        ]
        for buffer, read, write in segment.sram_traffic:
            for part, copy in self._copies(op, buffer):
                work += [((part, copy, "read"), read), ((part, copy, "write"), write)]
        return work

    def _class_rows(self, op: str, segment: Compute) -> tuple:
        """The (table, key, count) rows a class segment books, as `_account` books a plain one's
        (each member's busy time, its op's, then `_count_keys`), worked out once per op, unit,
        cycles, work and SRAM traffic: every segment of that kind books the same rows (`tally`)."""
        key = (op, segment.unit, segment.cycles, segment.work, segment.sram_traffic)
        rows = self.class_rows.get(key)
        if rows is None:
            rec, own = self.record, segment.cycles
            rows = []
            for part, unit in self._copies(op, segment.unit):
                rows += [(rec.busy, unit, own), (rec.op_busy[part], unit, own)]
            rows += [(rec.counts, k, count) for k, count in self._count_keys(op, segment)]
            rows = self.class_rows[key] = tuple(rows)
        return rows

    def _book_stall(self, op: OpProgram, unit: str, cause: str, cycles: int) -> None:
        """A segment's unit stalled `cycles` for `cause`, ending now: per unit, in the timeline,
        and per op where the unit is the op's own (a class's: every member's)."""
        rec, primary = self.record, unit == op.unit
        for part, twin in self._copies(op.name, unit):
            rec.unit_stalls[twin][cause] += cycles
            rec.stall(twin, self.env.now, {cause: cycles})
            if primary:
                rec.op_stalls[part][cause] += cycles

    # ----- op completion ----------------------------------------------------------------------

    def _step_finished(self, op: str) -> None:
        self.outstanding[op] -= 1
        if not self.outstanding[op]:
            self.in_flight.discard(op)
        self._maybe_finish(op)

    def _maybe_finish(self, op: str) -> None:
        if op in self.all_loaded and self.outstanding[op] == 0 and not self.op_done[op].triggered:
            for part in self._parts(op):
                self.record.op_end[part] = self.clock()
            self.op_done[op].succeed()
            if self.progress is not None:
                self.progress.finish_op(op)

    def run(self) -> Record:
        """Run these ops to the end; cycles is when the last of them finished."""
        for core in self.entry.idle:
            self._spawn(self._await_next(core, register=self.entry.first))
        for core in self.cores:
            self._spawn(self.loader(core))
            self._spawn(self.storer(core))
        self.env.run()
        self.tally.flush()
        if not all(done.triggered for done in self.op_done.values()):
            raise RuntimeError("engine stalled: an op waits for a signal nobody raises")
        record = self.record
        record.cycles = max(record.op_end.values(), default=0)
        if record.interface_busy:  # the DRAM as a whole: the mean of its interfaces' busy time
            interfaces = sum(record.interface_busy.values())
            record.busy[self.dram.name] += interfaces / len(self.operand_buses)
        record.events_processed = self.env.processed()
        return record

    def quiescent(self) -> bool:
        """Every buffer byte returned: nothing carries over to the ops that come next."""
        return all(space.level == space.capacity for space in self.space.values())


def _awaited(ops: tuple[OpProgram, ...]) -> set[str]:
    """Ops whose steps' ends a loader may wait for: a single-buffered op's step waits for the
    step its core loaded before it (an earlier op's last, at its first), so every op of a core
    from the start to its last single-buffered op. Other steps' ends are no events at all."""
    awaited: set[str] = set()
    waiting: set[int] = set()  # cores with a single-buffered op still to come
    for op in reversed(ops):
        if not op.double_buffering:
            waiting.add(op.core)
        if op.core in waiting:
            awaited.add(op.name)
    return awaited


class _Members:
    """A class batch's other members on their own NoC ports (`_members`): how many, their link
    cycles in all, and the tally rows they book (bytes, hops and counters; busy time per cycle
    held), each member's in the order `_count_noc` books a port."""

    __slots__ = ("count", "cycles", "ports", "rows", "busy", "seen")

    def __init__(self):
        self.count, self.cycles, self.ports = 0, 0, []  # ports: (port, bytes) with bytes to book
        self.rows = self.busy = None  # tally rows, once such a batch repeats
        self.seen = False  # booked once already (`_count_members`)


class _Side:
    """A batch's DRAM transfers on one path (L2 hits, misses, or all) as the engine books them:
    (part, buffer, transfer) rows in batch order (a member's buffer is its own, the transfer
    its leader's), each part's [first buffer, bytes], and their bytes in all. Rows a class's
    members added line by line (`_split_lines`) are built only where read."""

    __slots__ = ("built", "later", "parts", "total", "uniform", "_signature")

    def __init__(self):
        self.built: list[tuple[str, str, Transfer]] = []
        self.later: tuple[list, tuple] | None = None  # rows (part, buffer, number), transfers
        self.parts: dict[str, list] = {}
        self.total = 0
        self.uniform = True  # one transfer kind, and one buffer per part
        self._signature = None

    @property
    def rows(self) -> list[tuple[str, str, Transfer]]:
        if self.later is not None:
            rows, transfers = self.later
            self.later = None
            self.built += [(part, buffer, transfers[number]) for part, buffer, number in rows]
        return self.built

    def has_rows(self) -> bool:
        return bool(self.built) or self.later is not None

    def kind(self) -> str:
        """The first row's transfer kind."""
        if self.built:
            return self.built[0][2].kind
        rows, transfers = self.later
        return transfers[rows[0][2]].kind

    def signature(self, known: dict[tuple, int]) -> int:
        """Each part's (first buffer, bytes), what a class's repeated batches share (a buffer
        names its part), as its number in `known` (hashed once, then looked up by number)."""
        if self._signature is None:
            parts = tuple(chain.from_iterable(self.parts.values()))
            self._signature = known.setdefault(parts, len(known))
        return self._signature

    def accesses(self, part: str) -> list[tuple[str, int]]:
        """(buffer, bytes) of `part`'s transfers, as `_port_wait` places them (summed per
        buffer: one pair where the part moves into one buffer)."""
        if self.uniform:
            mine = self.parts.get(part)
            return [] if mine is None else [tuple(mine)]
        return _accesses(row for row in self.rows if row[0] == part)


class _Owners(dict):
    """A core class's component -> the part whose core owns it (the class's own part for a
    shared one), each worked out on first use: every member transfer asks."""

    def __init__(self, op: str, twins: dict[int, str]):
        super().__init__()
        self.op, self.twins = op, twins

    def __missing__(self, component: str) -> str:
        part = self[component] = self.twins.get(_core(component), self.op)
        return part


PORT_SPANS = 16
"""Busy spans an SRAM's ledger may hold before the spent ones (see `horizon`) are dropped."""


def _end(span: list[float]) -> float:
    return span[1]


def _place(busy: list[list[float]], cycles: int, start: float, end: float) -> float:
    """Put `cycles` of port time into `busy` (sorted, disjoint [begin, end] spans): ending by
    `end` in the latest gap that fits after `start`, else in the first gap after `start`.
    Returns when it ends. Spans never overlap, so the ports are never more than fully used."""
    last = busy[-1][1] if busy else -math.inf
    if last <= max(start, end - cycles):  # nothing in the way: the common case
        at = max(start, end - cycles)
        busy.append([at, at + cycles])
        return at + cycles
    at = _latest_fit(busy, cycles, start, end)
    if at is None:  # the first gap after start
        i = bisect.bisect_right(busy, start, key=_end)
        at = max(start, busy[i - 1][1]) if i else start
        while i < len(busy) and busy[i][0] - at < cycles:
            at, i = busy[i][1], i + 1
    bisect.insort(busy, [at, at + cycles])
    return at + cycles


def _latest_fit(busy: list[list[float]], cycles: int, start: float, end: float) -> float | None:
    """Where `cycles` of port time fit in a gap of `busy` within [start, end], as late as possible."""
    right = math.inf
    for i in range(len(busy) - 1, -2, -1):
        left = busy[i][1] if i >= 0 else -math.inf
        if min(right, end) - max(left, start) >= cycles:
            return min(right, end) - cycles
        if left <= start:
            return None
        right = busy[i][0]
    return None


@functools.cache
@functools.cache  # component names repeat in every booking of a core class
def _core(component: str) -> int | None:
    """The core whose component this is (`core3.smem` -> 3), None for a shared one."""
    head, dot, _ = component.partition(".")
    if not dot or not head.startswith("core") or not head[4:].isdigit():
        return None
    return int(head[4:])


def _same_core(unit: str, like: str) -> str:
    """`unit` on the core of component `like` (a class member's copy of the representative's)."""
    core = _core(like)
    return unit if core is None or _core(unit) is None else f"core{core}.{unit.split('.', 1)[1]}"


def _accesses(rows) -> list[tuple[str, int]]:
    """(buffer, bytes) each DRAM transfer, a (part or key, buffer, transfer) row or entry,
    moves through its SRAM's ports."""
    return [(buffer, t.dram_bytes) for _, buffer, t in rows]


def advance(turn: int, moves: int, nodes: int) -> int:
    """The memory-node turn after `moves` more interleaved transfers (-1: none served yet)."""
    return turn if not moves else (turn + moves) % nodes


def turn_blind(machine: Machine) -> bool:
    """Whether the memory-node turn changes nothing but itself: without a NoC it is never used;
    with fine interleaving on a crossbar or bus every transfer takes the shared pool and only the
    core's own port, whichever controller or slice is in turn, and every route is one hop (no
    core sits at a memory node, where a route would be empty)."""
    noc = machine.noc
    if noc is None:
        return True
    apart = not set(noc.spec.memory_nodes) & set(machine.nodes.values())
    return noc.spec.memory == "fine" and noc.topology in ("crossbar", "bus") and apart


def gap_causes(gap: int, previous_unit: str | None, started: bool, waited: dict) -> dict[str, int]:
    """Why a unit sat idle for `gap` cycles before a segment: the previous segment of the step on
    another unit, the pipeline filling (the op's first segment, `started` False), or else what the
    step waited for while loading (signals from other cores, a full buffer, SRAM ports), the rest
    DRAM bandwidth. An op has started once its first segment ran, with or without a gap before it
    (so a run entered at a quiescent point attributes its gaps as the whole program does)."""
    if previous_unit is not None:
        return {f"waiting_{previous_unit}": gap}
    if not started:
        return {"fill": gap}
    sync = min(gap, waited["sync"])
    full = min(gap - sync, waited["buffer_full"])
    ports = min(gap - sync - full, math.ceil(waited["sram_bandwidth"]))
    return {
        "sync": sync,
        "buffer_full": full,
        "sram_bandwidth": ports,
        "dram_bandwidth": gap - sync - full - ports,
    }


def add_drain(record: Record, units, unit_free_at: dict[str, int], last_op) -> None:
    """After its last segment a unit only waits for the final write-backs: a drain stall."""
    for unit in units:
        tail = record.cycles - unit_free_at.get(unit, record.cycles)
        if tail:
            record.unit_stalls[unit]["drain"] += tail
            record.stall(unit, record.cycles, {"drain": tail})
            if last_op is not None and unit == last_op.unit:
                record.op_stalls[last_op.name]["drain"] += tail


def execute_whole(
    program: Program,
    machine: Machine,
    trace: bool = False,
    progress: Progress | None = None,
    coalesce: bool = True,
) -> Record:
    """Run all of `program` on one engine (no memoization): the reference the memo must equal.
    With `coalesce`, periodic runs of identical steps advance in closed form (engine/coalesce.py)."""
    engine = _Engine(program.ops, machine, trace, _waits(program.ops), Entry(), coalesce)
    if progress is not None:
        progress.start_ops(program.ops)
        engine.progress = progress
    record = engine.run()
    add_drain(record, engine.units, engine.unit_free_at, last_part(program.ops))
    return record


def _direction(transfer) -> str:
    """A transfer's DRAM direction: loads (and reloads) read, the rest write."""
    return "read" if transfer.kind in ("load", "reload") else "write"
