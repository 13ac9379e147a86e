"""SANA-FE 2.2.9's detailed timing model: one time step's messages scheduled in global time order
with a NoC congestion estimate (src/schedule.cpp, schedule_messages_timestep_detailed).

Each core sends its messages in order, the next one generation_delay after the previous one was
sent; a message's own generation_delay already holds the neuron updates since the core's last
message. Messages are served by earliest sent time from a binary heap (Python's heapq follows
libstdc++'s std::priority_queue step for step, so equal times resolve as in SANA-FE). Per message:
- messages already received (received <= now) leave the NoC, by destination core then arrival;
- its route's congestion is the summed message density of its links (SANA-FE's link indexing:
  the source core's output link, then each router's incoming direction; dimension order, x first);
- above (hops + 1) x link_buffer_size it blocks, delaying its send by the excess x the mean
  processing delay of the messages in flight;
- it travels max(hop latency, congestion x mean processing delay / (hops + 1)), then queues at its
  destination core, which serves messages one after the other;
- entering the NoC it adds 1 / (hops + 2) density to each link of its route.
The step lasts until the latest send or finished receive (the barrier is added by the caller).
DetailedTiming builds each step's messages from the spikes (SANA-FE's chip.cpp); DetailedNoc holds
the routes and schedules them, or engine.sanafe_kernel does, compiled, where numba is installed.
A heap entry is (time, tie, core, route, processing delay); `tie` compares never-less.
Floating-point operations follow SANA-FE's order.
"""

from collections import defaultdict, deque
from heapq import heappop, heappush

import numpy as np

from simulator.components.neuro import NeuroCore
from simulator.engine.sanafe_kernel import compiled
from simulator.mapping.placement import Placement

NORTH, EAST, SOUTH, WEST = 0, 1, 2, 3  # SANA-FE's router link directions


class _Tie:
    """Compares never-less, so a heap entry (time, tie, core) orders by time alone, as SANA-FE's
    message comparator does (CompareMessagesBySentTime)."""

    __slots__ = ()

    def __lt__(self, other) -> bool:
        return False


def _pair(dst: int, links: tuple, hops: int, capacity: int, min_hop: float) -> tuple:
    """What the schedule needs of one route: (destination core, density links, hops + 1, path
    capacity in messages, hop latency s, density one message adds per link)."""
    return (dst, links, hops + 1.0, float(capacity), min_hop, 1.0 / (2.0 + hops))


class DetailedNoc:
    """A mesh of tiles as SANA-FE's scheduler sees it (NocInfo): per-link message density."""

    def __init__(self, xy, offset, height, width, per_tile, hop_s: dict, buffer: int):
        self.xy, self.offset = xy, offset  # per core: tile (x, y) and index within its tile
        self.height, self.per_link = height, per_tile + 4
        self.links = width * height * self.per_link
        self.hop_s, self.buffer = hop_s, buffer
        self.pairs: dict[tuple[int, int], tuple] = {}
        self.ids: dict[tuple[int, int], int] = {}  # each pair's index in the route table
        self.ties = [_Tie() for _ in xy]
        self._table: tuple | None = None

    def _idx(self, x: int, y: int, link: int) -> int:
        return x * self.height * self.per_link + y * self.per_link + link

    def pair(self, src: int, dst: int) -> tuple:
        """The route facts of src -> dst (NocInfo::update_message_density's links and
        SpikingChip::sim_estimate_network_costs's latency), cached."""
        key = (src, dst)
        if key in self.pairs:
            return self.pairs[key]
        (sx, sy), (dx, dy) = self.xy[src], self.xy[dst]
        own = 4 + self.offset[src]
        step_x, step_y = (1 if sx < dx else -1), (1 if sy < dy else -1)
        links, previous = [], own
        x = sx
        while x != dx:
            direction = EAST if step_x > 0 else WEST
            links.append(self._idx(x, sy, own if x == sx else direction))
            previous, x = direction, x + step_x
        y = sy
        while y != dy:
            direction = NORTH if step_y > 0 else SOUTH
            links.append(self._idx(dx, y, own if (sx == dx and y == sy) else previous))
            previous, y = direction, y + step_y
        links.append(self._idx(dx, dy, own if (sx, sy) == (dx, dy) else previous))
        hops_x, hops_y = abs(sx - dx), abs(sy - dy)
        latency = 0.0
        latency += hops_x * (self.hop_s["east"] if sx < dx else self.hop_s["west"])
        latency += hops_y * (self.hop_s["north"] if sy < dy else self.hop_s["south"])
        hops = hops_x + hops_y
        made = _pair(dst, tuple(links), hops, (hops + 1) * self.buffer, latency)
        self.pairs[key] = made
        self.ids[key] = len(self.ids)
        self._table = None
        return made

    def table(self) -> tuple:
        """The routes so far as arrays, by pair index (what schedule_arrays takes): destination,
        link pointers, links, hops + 1, capacity, hop latency, density added per link."""
        if self._table is None:
            pairs = list(self.pairs.values())
            sizes = [len(p[1]) for p in pairs]
            self._table = (
                np.array([p[0] for p in pairs], dtype=np.int64),
                np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64),
                np.array([link for p in pairs for link in p[1]], dtype=np.int64),
                *(np.array([p[k] for p in pairs], dtype=np.float64) for k in range(2, 6)),
            )
        return self._table

    def schedule(self, queues: list, cores: int) -> float:
        """The step's last timestamp (s) for `queues`: per core, its messages in send order as
        (generation delay s, pair() of its route or None for a placeholder, processing delay s)."""
        density = [0.0] * self.links
        finished = [0.0] * cores  # NocInfo::core_finished_receiving
        # messages in the NoC per destination core, in arrival order; their received times never
        # decrease (each is at least the previous one's finish), so the ones due at time t are a
        # prefix; `heads` holds (received, core) of each non-empty queue's first message
        flight: list[deque] = [deque() for _ in range(cores)]
        heap, heads, ties = [], [], self.ties
        position = [1] * cores
        for core, queue in enumerate(queues):  # schedule_init_timing_priority
            if queue:
                heappush(heap, (queue[0][0], ties[core], core, queue[0][1], queue[0][2]))
        last, mean, count = 0.0, 0.0, 0
        while heap:
            sent, tie, core, pair, processing = heappop(heap)
            if last < sent:
                last = sent
            if heads and heads[0][0] <= sent:  # noc_update_all_tracked_messages
                due = [heappop(heads)[1]]
                while heads and heads[0][0] <= sent:
                    due.append(heappop(heads)[1])
                due.sort()  # by destination core, then arrival order, as SANA-FE walks them
                for dst in due:
                    queue = flight[dst]
                    while queue and queue[0][0] <= sent:
                        _, links, adjust, leaving = queue.popleft()
                        for link in links:
                            density[link] += -adjust
                        if count > 1:
                            mean += (mean - leaving) / (count - 1.0)
                        else:
                            mean = 0.0
                        count -= 1
                    if queue:
                        heappush(heads, (queue[0][0], dst))
            if pair is not None:  # schedule_handle_message
                dst, links, hops1, capacity, min_hop, adjust = pair
                along = 0.0
                for link in links:
                    along += density[link]
                if along > capacity:
                    sent += (along - capacity) * mean
                congestion = along * mean / hops1
                earliest = sent + (congestion if min_hop < congestion else min_hop)
                before = finished[dst]
                queued, direct = before + processing, earliest + processing
                done = direct if queued < direct else queued
                finished[dst] = done
                if last < done:
                    last = done
                for link in links:
                    density[link] += adjust
                mean += (processing - mean) / (count + 1.0)
                count += 1
                received = earliest if before < earliest else before
                queue = flight[dst]
                if not queue:
                    heappush(heads, (received, dst))
                queue.append((received, links, adjust, processing))
            queue = queues[core]
            at = position[core]
            if at < len(queue):  # schedule_push_next_message
                generation, following, work = queue[at]
                position[core] = at + 1
                sent += generation
                heappush(heap, (sent, tie, core, following, work))
                if last < sent:
                    last = sent
        return last


def _sequential_sums(values: np.ndarray, begin: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Sums of values[begin:stop] per segment, each added left to right from 0.0 as a loop would
    (np.cumsum along rows; segments grouped by length so padding stays small). Equal sums stay
    bit-equal, which SANA-FE's time-ordered schedule depends on."""
    sums = np.zeros(begin.size)
    lengths = stop - begin
    bucket = np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    for b in np.unique(bucket[lengths > 0]).tolist():
        rows = np.flatnonzero((bucket == b) & (lengths > 0))
        width = int(lengths[rows].max())
        index = begin[rows, None] + np.arange(width)
        inside = index < stop[rows, None]
        padded = np.where(inside, values[np.minimum(index, values.size - 1)], 0.0)
        sums[rows] = np.cumsum(padded, axis=1)[:, -1]
    return sums


class DetailedTiming:
    """SANA-FE's detailed model over a placed network: per step, each core's messages as
    SANA-FE's chip.cpp builds them, then DetailedNoc's schedule."""

    def __init__(self, placement: Placement, core: NeuroCore, nodes, noc, soma_s: tuple, synapse_s):
        """`nodes`: each core's NoC node; `noc`: the mesh (None on one node); `soma_s`: each
        neuron's soma access, update and spike latency (s); `synapse_s`: each synapse unit's
        latency (s), in the order of the placement's axon_synapses columns."""
        self.placement, self.core = placement, core
        self.access_s, self.update_s, self.spike_s = soma_s
        self.cores = len(nodes)
        core_of = placement.core_of
        width, height = noc.shape if noc is not None else (1, 1)
        xy = [noc.coords(int(n)) if noc is not None else (0, 0) for n in nodes]
        seen: dict[int, int] = defaultdict(int)
        offset = []  # each core's index within its tile
        for n in nodes.tolist():
            offset.append(seen[n])
            seen[n] += 1
        self.by_core = np.lexsort((placement.update_rank, core_of))  # the order cores update
        self.position = np.empty_like(self.by_core)
        self.position[self.by_core] = np.arange(self.by_core.size)
        size = np.bincount(core_of, minlength=self.cores)
        self.core_stop = np.cumsum(size)  # one past each core's last position
        self.core_start = self.core_stop - size
        proc = np.full(placement.axon_core.size, core.packet_in_s)  # SANA-FE's processing_delay:
        for unit, seconds in enumerate(synapse_s.tolist()):  # + each synaptic event in turn
            for k in range(int(placement.axon_synapses[:, unit].max(initial=0))):
                proc += np.where(placement.axon_synapses[:, unit] > k, seconds, 0.0)
        self.axon_proc = proc
        self.noc = DetailedNoc(
            xy,
            offset,
            height,
            width,
            max(seen.values(), default=1),
            core.hop_s,
            core.spec.link_buffer,
        )
        source = np.repeat(core_of, np.diff(placement.axon_indptr))
        for a, b in sorted(set(zip(source.tolist(), placement.axon_core.tolist()))):
            self.noc.pair(a, b)
        ids = self.noc.ids  # each axon's route, fixed for the run
        self.axon_route = np.array(
            [ids[a, b] for a, b in zip(source.tolist(), placement.axon_core.tolist())],
            dtype=np.int64,
        )
        self.kernel = compiled()

    def step_seconds(self, fired_idx: np.ndarray, active_idx: np.ndarray) -> float:
        """Seconds of the step's work under SANA-FE's detailed model: each core's messages in
        the order it sends them (neurons in core order, each fired neuron's axons in turn), the
        neuron updates since the previous message in the first one's generation delay and what
        is left after the last in a placeholder (SpikingChip::process_neurons)."""
        latency = self.access_s.copy()  # soma latency: access, + update, + spike
        latency[active_idx] += self.update_s[active_idx]
        latency[fired_idx] += self.spike_s[fired_idx]
        pl = self.placement
        ptr = pl.axon_indptr
        senders = fired_idx[ptr[fired_idx + 1] > ptr[fired_idx]]
        at = np.sort(self.position[senders])
        neurons = self.by_core[at]
        core = pl.core_of[neurons]
        start_of = self.core_start
        first = np.ones(at.size, dtype=bool)
        first[1:] = core[1:] != core[:-1]
        begin = np.empty_like(at)
        begin[1:] = at[:-1] + 1
        begin[first] = start_of[core[first]]
        last = np.full(self.cores, -1)
        last[core] = at
        used = pl.cores_used
        tail_begin = np.where(last[used] >= 0, last[used] + 1, start_of[used])
        sums = _sequential_sums(
            latency[self.by_core],
            np.concatenate([begin, tail_begin]),
            np.concatenate([at + 1, self.core_stop[used]]),
        )
        segment, left = sums[: at.size], sums[at.size :]
        starts = ptr[neurons]
        counts = ptr[neurons + 1] - starts
        firsts = np.cumsum(counts) - counts
        axons = np.repeat(starts - firsts, counts) + np.arange(int(counts.sum()))
        generation = np.full(axons.size, 0.0 + self.core.packet_out_s)
        generation[firsts] = segment + self.core.packet_out_s
        sends = np.bincount(core, counts, self.cores).astype(np.int64)
        rest = used[left != 0.0]  # cores with work after their last message: a placeholder
        at_end = np.cumsum(sends)[rest]
        generation = np.insert(generation, at_end, left[left != 0.0])
        route = np.insert(self.axon_route[axons], at_end, -1)
        work = np.insert(self.axon_proc[axons], at_end, 0.0)
        sends[rest] += 1
        stop = np.cumsum(sends)
        first = stop - sends
        if self.kernel is not None:
            return self.kernel(
                first, stop, generation, route, work, *self.noc.table(), self.noc.links, self.cores
            )
        pairs = [None, *self.noc.pairs.values()]  # route -1: a placeholder
        messages = list(
            zip(generation.tolist(), map(pairs.__getitem__, (route + 1).tolist()), work.tolist())
        )
        return self.noc.schedule(
            [messages[a:b] for a, b in zip(first.tolist(), stop.tolist())], self.cores
        )
