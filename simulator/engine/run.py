"""Execute a Program on a Machine with simpy: DMA-in, compute and DMA-out run as three processes.

Timing assumptions, one per process:
- DMA-in takes buffer space first (blocking while the buffer is full: back-pressure), then holds the
  DRAM bus for bytes / bandwidth, then waits the access latency without holding the bus.
- Compute runs one step at a time for max(unit cycles, SRAM port cycles), once its loads are in.
- DMA-out holds the DRAM bus for each write-back, then releases the tile's buffer space.
Overlap and stalls are emergent: nothing here adds or subtracts formulas across processes.
"""

import simpy

from simulator.components import Machine
from simulator.engine.trace import Record
from simulator.mapping.program import Program, Step, Transfer


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
        self.ready = simpy.Store(self.env)  # loaded steps, in order, for compute
        self.written = simpy.Store(self.env)  # computed steps, in order, for DMA-out
        self.loader_waiting_space = False
        self.done = self.env.event()

    def _dram(self, op: str, transfers: tuple[Transfer, ...], direction: str):
        """Move a batch of transfers over the shared bus; one bus hold for the whole batch."""
        total = sum(t.dram_bytes for t in transfers)
        if total == 0:
            return
        with self.bus.request() as grant:
            yield grant
            start = self.env.now
            yield self.env.timeout(self.dram.transfer_cycles(total))
            self.record.busy[self.dram.name] += self.env.now - start
            self.record.op_dram_busy[op] += self.env.now - start
            self.record.interval(
                f"{self.dram.name} {direction}", transfers[0].kind, op, start, self.env.now
            )
        yield self.env.timeout(self.dram.latency_cycles)
        action = "read" if direction == "read" else "write"
        self.record.counts[(op, self.dram.name, action)] += total
        for t in transfers:
            if not t.dram_bytes:
                continue
            self.record.op_dram[op][t.kind] += t.dram_bytes
            # the SRAM side of the DMA: writes on the way in, reads on the way out
            self.record.counts[(op, t.buffer, "write" if direction == "read" else "read")] += (
                t.dram_bytes
            )

    def loader(self):
        previous_done = None
        for op in self.program.ops:
            if op.barrier and previous_done is not None:
                yield self.op_finished
            self.op_finished = self.env.event()
            for step in op.steps():
                if not op.double_buffering and previous_done is not None:
                    yield previous_done
                for t in step.loads:
                    self.loader_waiting_space = True
                    yield self.space[t.buffer].get(t.space)
                    self.loader_waiting_space = False
                yield from self._dram(op.name, step.loads, "read")
                step_done = self.env.event()
                yield self.ready.put((op, step, step_done))
                previous_done = step_done
            yield self.ready.put((op, None, self.op_finished))
        yield self.ready.put(None)

    def compute(self):
        record, last_end, current_op = self.record, 0, None
        while True:
            item = yield self.ready.get()
            if item is None:
                yield self.written.put(None)
                return
            op, step, signal = item
            if step is None:
                yield self.written.put((op, None, signal))
                continue
            wait = self.env.now - last_end
            if wait:
                op_start = op is not current_op and (current_op is None or op.barrier)
                cause = (
                    "fill"
                    if op_start
                    else ("buffer_full" if self.loader_waiting_space else "dram_bandwidth")
                )
                record.stalls[cause] += wait
                record.op_stalls[op.name][cause] += wait
            current_op = op
            yield from self._run(op.name, step)
            last_end = self.env.now
            signal.succeed()
            yield self.written.put((op, step, None))

    def _run(self, op: str, step: Step):
        c = step.compute
        ports = max(
            (self.machine.components[b].access_cycles(r + w) for b, r, w in c.sram_traffic),
            default=0,
        )
        duration = max(c.cycles, ports)
        start = self.env.now
        yield self.env.timeout(duration)
        if c.kernel is not None:
            c.kernel()
        rec = self.record
        rec.busy[c.unit] += c.cycles
        rec.stalls["sram_bandwidth"] += duration - c.cycles
        rec.op_stalls[op]["sram_bandwidth"] += duration - c.cycles
        rec.op_compute[op] += c.cycles
        rec.counts[(op, c.unit, c.action)] += c.macs
        for buffer, read, write in c.sram_traffic:
            rec.counts[(op, buffer, "read")] += read
            rec.counts[(op, buffer, "write")] += write
        rec.steps += 1
        rec.interval(c.unit, "compute", op, start, self.env.now)
        for buffer, size in step.frees:
            self.space[buffer].put(size)

    def storer(self):
        while True:
            item = yield self.written.get()
            if item is None:
                self.done.succeed()
                return
            op, step, op_signal = item
            if step is None:
                self.record.op_end[op.name] = int(self.env.now)
                op_signal.succeed()
                continue
            if step.stores:
                yield from self._dram(op.name, step.stores, "write")
                for t in step.stores:
                    self.space[t.buffer].put(t.space)

    def run(self) -> Record:
        self.env.process(self.loader())
        self.env.process(self.compute())
        self.env.process(self.storer())
        self.env.run(until=self.done)
        record = self.record
        record.cycles = int(self.env.now)
        record.events_processed = self.env.processed
        # whatever the compute unit was neither busy nor stalled for is the final write-back
        record.stalls["drain"] = (
            record.cycles - sum(record.op_compute.values()) - sum(record.stalls.values())
        )
        if self.program.ops:
            record.op_stalls[self.program.ops[-1].name]["drain"] += record.stalls["drain"]
        return record


def execute(program: Program, machine: Machine, trace: bool = False) -> Record:
    """Run `program` on `machine`; returns counters, busy cycles, stalls and op spans in ref cycles."""
    return _Engine(program, machine, trace).run()
