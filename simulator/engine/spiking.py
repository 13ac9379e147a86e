"""Run a placed spiking network on neuromorphic cores with simpy, in lock-step time steps.

Timing assumptions, one per stage of a step:
- every core starts the step together (after the previous step's barrier) by updating its neurons:
  per neuron its soma unit's access time, plus the update time if active and the spike time if it
  fires, plus the emit time of each packet it sends (all from the core's event latencies);
- each core then injects its packets one destination core at a time (one injection port): a flow
  to another NoC node holds every link of its route (simpy Resources acquired in one global order,
  so crossing flows never deadlock) for packets x packet size / link bandwidth, and lands
  hops x hop latency after its last byte leaves; flows to the same node need no link;
- a destination core serves what lands first come, first served after its own neuron phase:
  packets x receive time + synaptic events x synapse time;
- the step ends when the last core is done, plus the barrier (by NoC nodes in use) and, on a
  fixed tick, the rest of the tick. Work in a step is proportional to the spikes: a silent core
  only pays its neurons' access time.
Senders whose link holds cannot overlap are laid out in closed form (each core's bursts back to
back from the end of its neuron phase); only a group of senders where two holds on one link would
overlap runs as simpy processes, in an environment that starts at the step's start, so both paths
do the same float arithmetic. Under the core's `timing: simple` (SANA-FE's simple model) a
step lasts the largest neuron or message work of any core, plus the barrier; under `timing:
detailed` it lasts as SANA-FE's detailed model schedules its messages (engine.sanafe_detailed).
Neuron state advances in the core's fixed-point kernel (numerics.lif.FixedPointLif); spikes fired
in step t are delivered within step t and integrated at step t + 1.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import simpy

from simulator.components import Machine
from simulator.components.neuro import DIRECTIONS, NeuroCore, hop_directions
from simulator.engine.progress import Progress
from simulator.engine.sanafe_detailed import DetailedTiming
from simulator.mapping.placement import Placement
from simulator.mapping.snn import SnnNetwork
from simulator.numerics.lif import FixedPointLif, deliver


class _Counted(simpy.Environment):
    """simpy Environment that also counts processed events (for the events/s figure)."""

    events = 0

    def step(self) -> None:
        self.events += 1
        return super().step()


def _overlap(holds: list) -> bool:
    """Whether two holds (start, end) on one link would contend: one starts before the other
    ends, or two start together (simpy could then grant either first)."""
    if len(holds) < 2:
        return False
    holds.sort()
    return any(later < end or later == start for (start, end), (later, _) in zip(holds, holds[1:]))


@dataclass
class SpikingRecord:
    """What one run measured, in reference cycles and event counts (owned by the run)."""

    cores: list[str]  # component name of each core index
    counts: dict = field(
        default_factory=lambda: defaultdict(float)
    )  # (component, action) -> events
    step_cycles: list[float] = field(default_factory=list)
    spikes: list[int] = field(default_factory=list)  # neurons fired per step (inputs included)
    packets: list[int] = field(default_factory=list)
    synaptic_ops: list[int] = field(default_factory=list)
    fired: list[np.ndarray] = field(default_factory=list)  # the spike trains
    core_busy: np.ndarray | None = None  # cycles per core index
    link_busy: dict = field(default_factory=lambda: defaultdict(float))
    link_packets: dict = field(default_factory=lambda: defaultdict(int))
    totals: dict = field(default_factory=lambda: defaultdict(int))
    spike_counts: np.ndarray | None = None  # per neuron
    final_potential: np.ndarray | None = None
    events: list | None = None  # (track, name, op, start, end) when tracing
    nodes_used: int = 0
    cycles: float = 0.0
    events_processed: int = 0


class _Flow:
    """One step's packets from one core to another."""

    __slots__ = ("src", "dst", "packets", "receive", "route", "latency")

    def __init__(self, src, dst, packets, receive, route, latency):
        self.src, self.dst, self.packets = src, dst, packets
        self.receive, self.route, self.latency = receive, route, latency


class _Traffic(NamedTuple):
    """One step's packets by (source core, destination core) pair, in pair order."""

    keys: np.ndarray  # source * cores + destination
    src: np.ndarray
    dst: np.ndarray
    packets: np.ndarray
    receive: np.ndarray  # cycles the destination spends on them (packets in + synaptic events)


class _SpikingEngine:
    def __init__(self, net: SnnNetwork, placement: Placement, machine: Machine, trace: bool):
        self.net, self.placement, self.machine = net, placement, machine
        self.env: simpy.Environment | None = None  # a contended step's flows, else none
        self.now = 0.0
        self.events = 0
        names = [n for n, c in machine.components.items() if c.kind == "neuro_core"]
        self.core: NeuroCore = machine.components[names[0]]
        self.clock = machine.clock_hz
        self.noc = machine.noc
        self.nodes = np.array([machine.nodes.get(n, 0) for n in names], dtype=np.int64)
        self.record = SpikingRecord(names, events=[] if trace else None)
        self.links: dict[tuple, simpy.Resource] = {}
        self.routes: dict[tuple, tuple] = {}
        self.pair_hops: dict[int, list] = {}  # per core pair: hops by direction
        self.pair_linked: dict[int, bool] = {}  # per core pair: the route crosses links
        cores = len(names)
        self.pair_hold = np.zeros(cores * cores)  # simple rule: link cycles and packets per pair
        self.pair_packets = np.zeros(cores * cores, dtype=np.int64)
        self.pair_order: list[int] = []
        core, n = self.core, net.size
        somas = [core.somas[name] for name in net.soma_units]
        self.update_s = np.array([somas[u].update_s for u in net.soma_unit])
        self.spike_s = np.array([somas[u].spike_s for u in net.soma_unit])
        access = np.array([somas[u].access_s for u in net.soma_unit])
        self.cores = len(names)
        core_of = placement.core_of
        self.base_cycles = np.bincount(core_of, weights=access, minlength=self.cores) * self.clock
        self.synapse_s = np.array([core.synapse_units[u].latency_s for u in net.synapse_units])
        self.unit_key = core_of * len(somas) + net.soma_unit  # (core, soma unit) of each neuron
        self.record.core_busy = np.zeros(self.cores)
        self.lif = FixedPointLif(net.params)
        self.current = np.zeros(n, dtype=np.int64)
        self.received = np.zeros(n, dtype=bool)
        self.spike_counts = np.zeros(n, dtype=np.int64)
        used = placement.cores_used
        self.record.nodes_used = int(np.unique(self.nodes[used]).size) if used.size else 0
        self.barrier = core.barrier_s(max(self.record.nodes_used, 1)) * self.clock
        self.tick = None if core.time_step_s is None else core.time_step_s * self.clock
        self.hop_latency_given = core.spec.hop_latency is not None or "hop_latency" in core.table
        self.simple = core.spec.timing in ("simple", "detailed")  # links take no time in both
        self.detailed = (
            DetailedTiming(
                placement,
                core,
                self.nodes,
                self.noc,
                (access, self.update_s, self.spike_s),
                self.synapse_s,
            )
            if core.spec.timing == "detailed"
            else None
        )
        self.soma_counts = np.zeros((self.cores, 3, len(somas)))  # access, update, spike
        self.synapse_counts = np.zeros((self.cores, len(net.synapse_units)))
        self.packet_counts = np.zeros((self.cores, 2))  # local, remote (by sending core)
        self.hop_counts = np.zeros((self.cores, len(DIRECTIONS)))

    # ----- routes ---------------------------------------------------------------------------------
    def _route(self, src: int, dst: int) -> tuple:
        """(links, hops by direction, latency cycles) between two cores' nodes, cached."""
        key = (int(self.nodes[src]), int(self.nodes[dst]))
        if key not in self.routes:
            if self.noc is None or key[0] == key[1]:
                self.routes[key] = ((), dict.fromkeys(DIRECTIONS, 0), 0.0)
            else:
                route = self.noc.route(*key)
                hops = hop_directions(self.noc, route)
                if self.hop_latency_given:
                    latency = sum(hops[d] * self.core.hop_s[d] for d in DIRECTIONS) * self.clock
                else:
                    latency = float(self.noc.latency_cycles(self.noc.hops(*key)))
                self.routes[key] = (tuple(sorted(route, key=str)), hops, latency)
        return self.routes[key]

    def _link(self, link: tuple) -> simpy.Resource:
        if link not in self.links:
            self.links[link] = simpy.Resource(self.env, capacity=1)
        return self.links[link]

    def _bursts(self, flows: list[_Flow]) -> list[tuple[tuple, list[_Flow], float]]:
        """A core's flows grouped by route (flows to cores of one node share it), with the cycles
        each burst holds its links."""
        grouped: dict[tuple, list[_Flow]] = {}
        for f in flows:
            grouped.setdefault(f.route, []).append(f)
        size = self.core.packet_bytes
        return [
            (route, burst, self.noc.transfer_cycles(sum(f.packets for f in burst) * size))
            for route, burst in grouped.items()
        ]

    def _senders(self, start: float, ready: dict, remote: dict, arrivals: dict) -> float:
        """Inject the remote flows; when the last sender is done. Senders that share a link form a
        group; a group whose holds cannot overlap is laid out in closed form (each sender's bursts
        back to back), and only a group where two holds on one link would overlap runs as simpy
        processes. Groups share no link, so they cannot affect each other's timing."""
        group = {c: c for c in remote}  # union-find over senders that share a link

        def root(c: int) -> int:
            while group[c] != c:
                group[c] = group[group[c]]
                c = group[c]
            return c

        holds: dict[tuple, list] = defaultdict(list)
        plans, owner = {}, {}
        for c, flows in remote.items():
            now = start + (ready[c] - start) if ready[c] > start else start
            plans[c] = []
            for route, burst, hold in self._bursts(flows):
                end = now + hold if hold else now
                for link in route:
                    holds[link].append((now, end))
                    if link in owner:
                        group[root(c)] = root(owner[link])
                    owner[link] = c
                plans[c].append((end, now, route, burst, hold))
                now = end
        contended = {root(owner[link]) for link, held in holds.items() if _overlap(held)}
        finish, done = start, []
        for c, plan in plans.items():
            if root(c) not in contended:
                done += plan
                finish = max(finish, plan[-1][0])
        if contended:
            events = self._contended(
                start, ready, {c: remote[c] for c in remote if root(c) in contended}
            )
            done += events
            finish = max(finish, max(entry[0] for entry in events))
        done.sort(key=lambda entry: entry[:2])  # the order the holds end: link sums add alike
        for end, _, route, burst, hold in done:
            self._hold(route, sum(f.packets for f in burst), hold)
            for f in burst:
                arrivals[f.dst].append((end + f.latency, f.receive))
        return finish

    # ----- one step -------------------------------------------------------------------------------
    def _flows(self, fired_idx: np.ndarray) -> "_Traffic | None":
        """Group this step's packets by (source core, destination core), counting packets and
        hops; None when nothing fired with an axon."""
        pl = self.placement
        starts = pl.axon_indptr[fired_idx]
        counts = pl.axon_indptr[fired_idx + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return None
        axons = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        src = np.repeat(pl.core_of[fired_idx], counts)
        dst = pl.axon_core[axons]
        pair = src * self.cores + dst
        synapses = pl.axon_synapses[axons]  # [packets, synapse units]
        if self.cores <= 1024:  # count by pair directly: no sort
            bins = self.cores * self.cores
            per_pair = np.bincount(pair, minlength=bins)
            keys = np.flatnonzero(per_pair)
            packets = per_pair[keys]
            events = np.stack(
                [np.bincount(pair, weights=column, minlength=bins)[keys] for column in synapses.T],
                axis=1,
            )
        else:
            keys, inverse, packets = np.unique(pair, return_inverse=True, return_counts=True)
            events = np.zeros((keys.size, synapses.shape[1]))
            np.add.at(events, inverse, synapses)
        pair_src, pair_dst = np.divmod(keys, self.cores)
        receive = (packets * self.core.packet_in_s + events @ self.synapse_s) * self.clock
        np.add.at(self.synapse_counts, pair_dst, events)
        hops, _ = self._pair_routes(keys, pair_src, pair_dst)
        np.add.at(self.packet_counts, (pair_src, (pair_src != pair_dst).astype(np.int64)), packets)
        np.add.at(self.hop_counts, pair_src, packets[:, None] * hops)
        self.record.synaptic_ops.append(int(events.sum()))
        self.record.packets.append(int(packets.sum()))
        return _Traffic(keys, pair_src, pair_dst, packets, receive)

    def _pair_routes(self, keys, sources, targets) -> tuple[np.ndarray, np.ndarray]:
        """Hops by direction [pairs, 4] and whether a route crosses links, per (source, target)
        core pair, from the cached routes."""
        for key, s, d in zip(keys.tolist(), sources.tolist(), targets.tolist()):
            if key not in self.pair_hops:
                route, hops, _ = self._route(s, d)
                self.pair_hops[key] = [hops[direction] for direction in DIRECTIONS]
                self.pair_linked[key] = bool(route)
        hops = np.array([self.pair_hops[k] for k in keys.tolist()], dtype=np.float64)
        linked = np.array([self.pair_linked[k] for k in keys.tolist()], dtype=bool)
        return hops.reshape(-1, len(DIRECTIONS)), linked

    def _flow_list(self, traffic: "_Traffic") -> list[_Flow]:
        """The step's flows as objects, for the event rule's senders and arrivals."""
        flows = []
        for s, d, p, r in zip(
            traffic.src.tolist(),
            traffic.dst.tolist(),
            traffic.packets.tolist(),
            traffic.receive.tolist(),
        ):
            route, _, latency = self._route(s, d)
            flows.append(_Flow(s, d, p, r, route, latency))
        return flows

    def _send(self, core: int, ready: float, flows: list[_Flow], done: list):
        """Inject a core's remote flows one route after another (flows to cores of one node share
        the route and go back to back), each burst holding every link of its route."""
        env = self.env
        if ready > env.now:
            yield env.timeout(ready - env.now)
        for route, burst, hold in self._bursts(flows):
            grants = []
            for link in route:
                resource = self._link(link)
                request = resource.request()
                yield request
                grants.append((resource, request))
            began = env.now
            if hold:
                yield env.timeout(hold)
            for resource, request in grants:
                resource.release(request)
            done.append((env.now, began, route, burst, hold))

    def _hold(self, route: tuple, packets: int, hold: int) -> None:
        for link in route:
            self.record.link_busy[link] += hold
            self.record.link_packets[link] += packets

    def _contended(self, start: float, ready: dict, remote: dict) -> list:
        """Run these senders as simpy processes on fresh link resources; the bursts they sent,
        as (end, start, route, flows, hold)."""
        self.env, self.links, done = _Counted(initial_time=start), {}, []
        senders = [self.env.process(self._send(c, ready[c], fs, done)) for c, fs in remote.items()]
        self.env.run(self.env.all_of(senders))
        self.events += self.env.events
        return done

    def _step(self, t: int) -> None:
        net, rec = self.net, self.record
        start = self.now
        fired, payload, active = self.lif.step(self.current, self.received, net.input_spikes(t))
        self.current, self.received = deliver(net.synapses, fired, payload, net.size)
        fired_idx, active_idx = np.flatnonzero(fired), np.flatnonzero(active)
        self.spike_counts[fired_idx] += 1
        rec.fired.append(fired_idx)
        rec.spikes.append(int(fired_idx.size))
        core_of = self.placement.core_of
        units = self.soma_counts.shape[2]
        self.soma_counts[:, 1, :] += np.bincount(
            self.unit_key[active_idx], minlength=self.cores * units
        ).reshape(self.cores, units)
        self.soma_counts[:, 2, :] += np.bincount(
            self.unit_key[fired_idx], minlength=self.cores * units
        ).reshape(self.cores, units)
        traffic = self._flows(fired_idx)
        if traffic is None:
            rec.synaptic_ops.append(0)
            rec.packets.append(0)
            traffic = _Traffic(*(np.zeros(0, dtype=np.int64) for _ in range(4)), np.zeros(0))
        emitted = np.bincount(traffic.src, weights=traffic.packets, minlength=self.cores)
        neuron = (
            self.base_cycles
            + np.bincount(
                core_of[active_idx], weights=self.update_s[active_idx], minlength=self.cores
            )
            * self.clock
            + np.bincount(core_of[fired_idx], weights=self.spike_s[fired_idx], minlength=self.cores)
            * self.clock
            + emitted * self.core.packet_out_s * self.clock
        )
        if self.simple:
            end = self._simple_end(start, neuron, traffic, fired_idx, active_idx)
            self._step_end(start, start, end)
            return
        flows = self._flow_list(traffic)
        arrivals = defaultdict(list)
        remote = defaultdict(list)
        sharing = defaultdict(int)  # flows per link this step: a link with one flow cannot contend
        for f in flows:
            for link in f.route:
                sharing[link] += 1
        ready = {}  # a source core's next injection time, for flows that skip the link resources
        for f in flows:
            if not f.route:
                arrivals[f.dst].append((start + neuron[f.src] + f.latency, f.receive))
            elif not remote.get(f.src) and all(sharing[link] == 1 for link in f.route):
                at = ready.get(f.src, start + neuron[f.src])
                hold = self.noc.transfer_cycles(f.packets * self.core.packet_bytes)
                ready[f.src] = at + hold
                self._hold(f.route, f.packets, hold)
                arrivals[f.dst].append((at + hold + f.latency, f.receive))
            else:
                remote[f.src].append(f)
        for c in remote:
            ready.setdefault(c, start + neuron[c])
        now = self._senders(start, ready, remote, arrivals) if remote else start
        end = start
        for c in self.placement.cores_used.tolist():
            free = start + neuron[c]
            busy = neuron[c]
            self._interval(f"core{c}", "neurons", start, free)
            for arrival, work in sorted(arrivals.get(c, ())):
                begin = max(free, arrival)
                free = begin + work
                busy += work
                self._interval(f"core{c}", "spikes in", begin, free)
            rec.core_busy[c] += busy
            end = max(end, free)
        self._step_end(start, now, end)

    def _simple_end(
        self, start: float, neuron: np.ndarray, traffic: "_Traffic", fired_idx, active_idx
    ) -> float:
        """SANA-FE's simple model: the step's work ends with the busiest core's neuron work or
        the busiest core's message work, whichever is larger; no core waits for another. Under
        its detailed model the step ends as that model schedules the messages."""
        received = np.bincount(traffic.dst, weights=traffic.receive, minlength=self.cores)
        _, linked = self._pair_routes(traffic.keys, traffic.src, traffic.dst)
        if linked.any():  # the links carry the packets, but take no time in this model
            keys, packets = traffic.keys[linked], traffic.packets[linked]
            per_cycle = self.noc.bytes_per_cycle
            holds = np.ceil(packets * self.core.packet_bytes / per_cycle - 1e-9)
            fresh = keys[self.pair_packets[keys] == 0]
            self.pair_order.extend(fresh.tolist())
            np.add.at(self.pair_hold, keys, holds)
            np.add.at(self.pair_packets, keys, packets)
        used = self.placement.cores_used
        self.record.core_busy[used] += neuron[used] + received[used]
        if self.record.events is not None:  # the two kinds of work side by side, as the rule has it
            for c in used.tolist():
                self._interval(f"core{c}", "neurons", start, start + neuron[c])
                self._interval(f"core{c} in", "spikes in", start, start + received[c])
        if self.detailed is not None:
            return start + self.detailed.step_seconds(fired_idx, active_idx) * self.clock
        work = max(neuron[used].max(initial=0.0), received.max(initial=0.0))
        return start + work

    def _link_totals(self) -> None:
        """Spread the simple rule's per-pair link totals over each pair's route (first used,
        first listed, as the event rule lists them)."""
        for key in self.pair_order:
            route, _, _ = self._route(*divmod(key, self.cores))
            self._hold(route, int(self.pair_packets[key]), self.pair_hold[key])

    def _step_end(self, start: float, now: float, end: float) -> None:
        """Close the step: its length (work, barrier, tick) and the clock moved to its end."""
        length = max(end, now) - start + self.barrier
        if self.tick is not None:
            length = max(length, self.tick)
        self.record.step_cycles.append(length)
        self.now = now + (start + length - now) if start + length > now else now

    def _interval(self, track: str, name: str, start: float, end: float) -> None:
        if self.record.events is not None and end > start:
            self.record.events.append((track, name, self.net.name, start, end))

    def run(self, progress: Progress | None = None) -> SpikingRecord:
        if progress is not None:
            progress.start("simulate", self.net.steps)
        for t in range(self.net.steps):
            self._step(t)
            if progress is not None:
                progress.advance(1)
        if progress is not None:
            progress.finish()
        self._link_totals()
        rec, steps = self.record, self.net.steps
        rec.cycles = float(self.now)
        rec.events_processed = self.events
        rec.spike_counts = self.spike_counts
        rec.final_potential = self.lif.potential
        self.soma_counts[:, 0, :] = (
            np.bincount(self.unit_key, minlength=self.cores * self.soma_counts.shape[2]).reshape(
                self.cores, -1
            )
            * steps
        )
        self._counts()
        return rec

    def _counts(self) -> None:
        """Event counts per (core component, action), the report's energy input."""
        rec, net = self.record, self.net
        counts = rec.counts
        for c in np.flatnonzero(
            self.soma_counts.sum(axis=(1, 2)) + self.synapse_counts.sum(axis=1)
        ):
            name = rec.cores[c]
            for u, unit in enumerate(net.soma_units):
                for k, action in enumerate(("neuron_access", "neuron_update", "spike")):
                    if self.soma_counts[c, k, u]:
                        counts[name, f"{action}.{unit}"] += self.soma_counts[c, k, u]
            for u, unit in enumerate(net.synapse_units):
                if self.synapse_counts[c, u]:
                    counts[name, f"synaptic_op.{unit}"] += self.synapse_counts[c, u]
            for k, action in enumerate(("packet_local", "packet_remote")):
                if self.packet_counts[c, k]:
                    counts[name, action] += self.packet_counts[c, k]
            for i, direction in enumerate(DIRECTIONS):
                if self.hop_counts[c, i]:
                    counts[name, f"hop_{direction}"] += self.hop_counts[c, i]
        rec.totals.update(
            neurons_fired=int(self.soma_counts[:, 2, :].sum()),
            neuron_updates=int(self.soma_counts[:, 1, :].sum()),
            neuron_accesses=int(self.soma_counts[:, 0, :].sum()),
            synaptic_ops=int(self.synapse_counts.sum()),
            packets_local=int(self.packet_counts[:, 0].sum()),
            packets_remote=int(self.packet_counts[:, 1].sum()),
            hops=int(self.hop_counts.sum()),
        )


def run_spiking(
    net: SnnNetwork,
    placement: Placement,
    machine: Machine,
    trace: bool = False,
    progress: Progress | None = None,
) -> SpikingRecord:
    """Simulate `net` placed by `placement` on `machine`: counts, per-step cycles, spike trains;
    `progress` counts the time steps."""
    return _SpikingEngine(net, placement, machine, trace).run(progress)
