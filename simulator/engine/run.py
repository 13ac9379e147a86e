"""Execute a Program on a Machine with simpy.

Timing assumptions, one per process:
- DMA-in (one process) walks the steps in program order: it takes buffer space first (blocking
  while the buffer is full: back-pressure) and holds the DRAM bus for bytes / bandwidth; the
  access latency then delays only that step's compute, so requests pipeline like a real DMA
  engine's. An op's loads wait for the ops it depends on.
- Each loaded step runs as its own process: its compute segments go in order, each holding its
  unit (a FIFO resource, so a unit serves steps in program order) for max(unit cycles, SRAM port
  cycles). Segments of different steps on different units overlap: software pipelining emerges.
- DMA-out (one process) writes results back over the same bus and releases their buffer space;
  a step counts as finished (for ops that depend on it) one access latency later.
Overlap and stalls are emergent: nothing here adds or subtracts formulas across processes.
"""

import simpy

from simulator.components import Machine
from simulator.engine.trace import Record
from simulator.mapping.program import Compute, OpProgram, Program, Step, Transfer


class _CountingEnvironment(simpy.Environment):
    """A simpy Environment that counts the events it processes (for events/s benchmarks)."""

    processed = 0

    def step(self) -> None:
        self.processed += 1
        super().step()


class _Engine:
    def __init__(self, program: Program, machine: Machine, trace: bool):
        self.env = _CountingEnvironment()
        self.machine = machine
        self.program = program
        self.record = Record(events=[] if trace else None)
        self.dram = machine.dram
        self.bus = simpy.Resource(self.env, capacity=1)
        self.space = {
            c.name: simpy.Container(self.env, capacity=c.capacity_bytes, init=c.capacity_bytes)
            for c in machine.components.values()
            if c.kind == "sram"
        }
        self.units = {name: simpy.Resource(self.env, capacity=1) for name in machine.compute_units}
        self.unit_free_at: dict[str, int] = {}  # when each unit last finished a segment
        self.written = simpy.Store(self.env)  # computed steps with write-backs, for DMA-out
        self.op_done = {op.name: self.env.event() for op in program.ops}
        self.outstanding = {op.name: 0 for op in program.ops}  # steps loaded but not finished
        self.all_loaded: set[str] = set()
        self.op_started: set[str] = set()

    # ----- DMA --------------------------------------------------------------------------------
    def _dram(self, op: str, transfers: tuple[Transfer, ...], direction: str):
        """Move a batch of transfers over the shared bus; one bus hold for the whole batch."""
        total = sum(t.dram_bytes for t in transfers)
        if total == 0:
            return
        with self.bus.request() as grant:
            yield grant
            start = self.env.now
            yield self.env.timeout(self.dram.transfer_cycles(total))
            held = self.env.now - start
            self.record.busy[self.dram.name] += held
            self.record.op_busy[op][self.dram.name] += held
            self.record.interval(
                f"{self.dram.name} {direction}", transfers[0].kind, op, start, self.env.now
            )
        self.record.counts[(op, self.dram.name, "read" if direction == "read" else "write")] += (
            total
        )
        for t in transfers:
            if not t.dram_bytes:
                continue
            self.record.op_dram[op][t.kind] += t.dram_bytes
            # the SRAM side of the DMA: writes on the way in, reads on the way out
            side = "write" if direction == "read" else "read"
            self.record.counts[(op, t.buffer, side)] += t.dram_bytes

    def loader(self):
        previous_done = None
        for index, op in enumerate(self.program.ops):
            earlier = self.program.ops[:index] if op.barrier else ()
            waits = [self.op_done[d] for d in op.depends_on] + [
                self.op_done[e.name] for e in earlier
            ]
            if waits:
                yield self.env.all_of(waits)
            self.record.op_start[op.name] = int(self.env.now)
            for step in op.steps():
                if not op.double_buffering and previous_done is not None:
                    yield previous_done
                asked = self.env.now
                for t in step.loads:
                    yield self.space[t.buffer].get(t.space)
                space_wait = self.env.now - asked
                yield from self._dram(op.name, step.loads, "read")
                previous_done = self.env.event()
                self.outstanding[op.name] += 1
                arrival = self.env.now + (
                    self.dram.latency_cycles if any(t.dram_bytes for t in step.loads) else 0
                )
                self.env.process(self._execute(op, step, space_wait, arrival, previous_done))
            self.all_loaded.add(op.name)
            self._maybe_finish(op.name)

    def storer(self):
        while True:
            op, step = yield self.written.get()
            yield from self._dram(op.name, step.stores, "write")
            for t in step.stores:
                self.space[t.buffer].put(t.space)
            self.env.process(self._land(op.name))

    def _land(self, op: str):
        """A write-back is visible to dependent ops one access latency after it leaves the bus."""
        yield self.env.timeout(self.dram.latency_cycles)
        self._step_finished(op)

    # ----- compute ----------------------------------------------------------------------------
    def _execute(
        self, op: OpProgram, step: Step, space_wait: int, arrival: float, done: simpy.Event
    ):
        if arrival > self.env.now:
            yield self.env.timeout(arrival - self.env.now)
        previous_unit = None
        for segment in step.computes:
            with self.units[segment.unit].request() as grant:
                yield grant
                self._note_gap(op, segment.unit, previous_unit, space_wait)
                start = self.env.now
                cycles = self._duration(segment)
                yield self.env.timeout(cycles)
                self.unit_free_at[segment.unit] = int(self.env.now)
            self._account(op, segment, cycles, start)
            previous_unit = segment.unit
        self.record.steps += 1
        for buffer, size in step.frees:
            self.space[buffer].put(size)
        done.succeed()
        if step.stores:
            yield self.written.put((op, step))
        else:
            self._step_finished(op.name)

    def _duration(self, segment: Compute) -> int:
        ports = max(
            (self.machine.components[b].access_cycles(r + w) for b, r, w in segment.sram_traffic),
            default=0,
        )
        return max(segment.cycles, ports)

    def _note_gap(
        self, op: OpProgram, unit: str, previous_unit: str | None, space_wait: int
    ) -> None:
        """Attribute the idle time a unit had before this segment to what the segment waited for."""
        now = int(self.env.now)
        gap = now - self.unit_free_at.get(unit, 0)
        if gap <= 0:
            return
        if previous_unit is not None:
            causes = {f"waiting_{previous_unit}": gap}
        elif unit not in self.unit_free_at or op.name not in self.op_started:
            causes = {"fill": gap}
        else:
            full = min(gap, space_wait)
            causes = {"buffer_full": full, "dram_bandwidth": gap - full}
        self.op_started.add(op.name)
        for cause, cycles in causes.items():
            if cycles:
                self.record.unit_stalls[unit][cause] += cycles
                if unit == op.unit:
                    self.record.op_stalls[op.name][cause] += cycles

    def _account(self, op: OpProgram, segment: Compute, cycles: int, start: float) -> None:
        rec = self.record
        stretch = cycles - segment.cycles
        rec.busy[segment.unit] += segment.cycles
        rec.op_busy[op.name][segment.unit] += segment.cycles
        if stretch:
            rec.unit_stalls[segment.unit]["sram_bandwidth"] += stretch
            if segment.unit == op.unit:
                rec.op_stalls[op.name]["sram_bandwidth"] += stretch
        for action, count in segment.work:
            rec.counts[(op.name, segment.unit, action)] += count
        for buffer, read, write in segment.sram_traffic:
            rec.counts[(op.name, buffer, "read")] += read
            rec.counts[(op.name, buffer, "write")] += write
        rec.interval(segment.unit, "compute", op.name, start, self.env.now)
        if segment.kernel is not None:
            segment.kernel()

    # ----- op completion ----------------------------------------------------------------------
    def _step_finished(self, op: str) -> None:
        self.outstanding[op] -= 1
        self._maybe_finish(op)

    def _maybe_finish(self, op: str) -> None:
        if op in self.all_loaded and self.outstanding[op] == 0 and not self.op_done[op].triggered:
            self.record.op_end[op] = int(self.env.now)
            self.op_done[op].succeed()

    def run(self) -> Record:
        self.env.process(self.loader())
        self.env.process(self.storer())
        self.env.run(until=self.env.all_of(list(self.op_done.values())))
        record = self.record
        record.cycles = int(self.env.now)
        record.events_processed = self.env.processed
        last_op = self.program.ops[-1].name if self.program.ops else None
        for unit in self.units:
            # after its last segment a unit only waits for the final write-backs
            tail = record.cycles - self.unit_free_at.get(unit, record.cycles)
            if tail:
                record.unit_stalls[unit]["drain"] += tail
                if last_op is not None and unit == self.program.ops[-1].unit:
                    record.op_stalls[last_op]["drain"] += tail
        return record


def execute(program: Program, machine: Machine, trace: bool = False) -> Record:
    """Run `program` on `machine`; counters, busy cycles, stalls and op spans in reference cycles."""
    return _Engine(program, machine, trace).run()
