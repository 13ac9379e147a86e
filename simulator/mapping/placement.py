"""Place neurons onto cores, within each core's capacities, and build the axon tables that say
where a neuron's spike goes: one packet per (neuron, destination core), as Loihi and SANA-FE send.

Capacities per core: neurons; synapses (the summed fan-in of its neurons); axons (distinct
presynaptic neurons x axons_per_source). `fill` packs cores in neuron order, `layer` does the same
but starts each group on a fresh core, `spread` deals neuron i to core i mod cores, and a list gives
the ranges per core.
"""

from dataclasses import dataclass

import numpy as np

from simulator.components.neuro import NeuroCore
from simulator.errors import CapacityError, SpecError
from simulator.mapping.snn import SnnNetwork


@dataclass(frozen=True)
class Placement:
    """Where every neuron lives and which cores each neuron's spikes reach."""

    policy: str
    core_of: np.ndarray  # int64 [n]
    axon_indptr: np.ndarray  # int64 [n + 1]: axons of neuron i are axon_* [indptr[i]:indptr[i+1]]
    axon_core: np.ndarray  # int64 [A]: destination core of each axon
    axon_synapses: np.ndarray  # int64 [A, units]: synaptic events per spike, by synapse unit
    neurons: np.ndarray  # int64 [cores]: neurons per core
    synapses: np.ndarray  # int64 [cores]: fan-in synapses per core
    axons_in: np.ndarray  # int64 [cores]: input axons per core
    update_rank: np.ndarray  # int64 [n]: a core updates its neurons in this order (given lists)

    @property
    def cores_used(self) -> np.ndarray:
        return np.flatnonzero(self.neurons)


class _Incoming:
    """Synapses sorted by target, to count a range of neurons' fan-in and distinct sources."""

    def __init__(self, net: SnnNetwork):
        sources = np.repeat(np.arange(net.size), net.synapses.fan_out)
        order = np.argsort(net.synapses.targets, kind="stable")
        self.sources = sources[order]
        self.indptr = np.zeros(net.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(net.synapses.targets, minlength=net.size), out=self.indptr[1:])

    def synapses(self, a: int, b: int) -> int:
        return int(self.indptr[b] - self.indptr[a])

    def range_sources(self, a: int, b: int) -> int:
        return int(np.unique(self.sources[self.indptr[a] : self.indptr[b]]).size)


def _limits(core: NeuroCore) -> tuple[float, float, float]:
    inf = float("inf")
    return (
        core.neurons or inf,
        core.synapses or inf,
        (core.axons / core.axons_per_source) if core.axons else inf,
    )


def _fill(net: SnnNetwork, core: NeuroCore, incoming: _Incoming, by_group: bool) -> np.ndarray:
    """Pack neurons into cores in order; with by_group, a group never shares its first core."""
    max_neurons, max_synapses, max_sources = _limits(core)
    ends = sorted({g.start + g.size for g in net.groups}) if by_group else [net.size]
    core_of = np.zeros(net.size, dtype=np.int64)
    a, k = 0, 0
    for end in ends:
        while a < end:
            b = int(min(end, a + max_neurons))
            b = min(
                b,
                int(
                    np.searchsorted(incoming.indptr, incoming.indptr[a] + max_synapses, "right") - 1
                ),
            )
            if (
                incoming.range_sources(a, b) > max_sources
            ):  # binary search the largest range that fits
                lo, hi = a, b
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (
                        (mid, hi) if incoming.range_sources(a, mid) <= max_sources else (lo, mid)
                    )
                b = lo
            if b <= a:
                name = next(g.name for g in net.groups if g.start <= a < g.start + g.size)
                raise CapacityError(
                    f"neuron {a} ({name}) alone exceeds a core: {incoming.synapses(a, a + 1)} synapses "
                    f"(core holds {core.synapses}), {incoming.range_sources(a, a + 1)} input axons "
                    f"x {core.axons_per_source} (core holds {core.axons})"
                )
            core_of[a:b] = k
            a, k = b, k + 1
    return core_of


def _given(net: SnnNetwork, entries, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Each neuron's core, and its rank in the list: a core updates its neurons in the order the
    placement lists them (as SANA-FE's mappings do)."""
    core_of = np.full(net.size, -1, dtype=np.int64)
    rank = np.zeros(net.size, dtype=np.int64)
    listed = 0
    names = [g.name for g in net.groups]
    for entry in entries:
        if entry.group not in names:  # an ann's groups are known once it is converted
            raise SpecError(f"{where}: no group named {entry.group!r}; groups: {', '.join(names)}")
        group = net.group(entry.group)
        start, stop = entry.neurons if entry.neurons else (0, group.size)
        if not 0 <= start < stop <= group.size:
            raise SpecError(
                f"{where}: placement of {entry.group}: range [{start}, {stop}) outside its {group.size} neurons"
            )
        core_of[group.start + start : group.start + stop] = entry.core
        rank[group.start + start : group.start + stop] = np.arange(listed, listed + stop - start)
        listed += stop - start
    if (core_of < 0).any():
        first = int(np.flatnonzero(core_of < 0)[0])
        name = next(g.name for g in net.groups if g.start <= first < g.start + g.size)
        raise SpecError(
            f"{where}: placement leaves neurons of {name} unplaced (neuron {first - net.group(name).start})"
        )
    return core_of, rank


def place(net: SnnNetwork, policy, core: NeuroCore, cores: int, where: str) -> Placement:
    """Assign every neuron a core (CapacityError if the chip is too small) and build the axons."""
    incoming = _Incoming(net)
    rank = np.arange(net.size, dtype=np.int64)  # a policy's cores update in neuron order
    if policy in ("fill", "layer"):
        core_of = _fill(net, core, incoming, by_group=policy == "layer")
    elif policy == "spread":
        core_of = np.arange(net.size, dtype=np.int64) % cores
    else:
        core_of, rank = _given(net, policy, where)
    used = int(core_of.max()) + 1 if net.size else 0
    if used > cores:
        label = policy if isinstance(policy, str) else "the given"
        raise CapacityError(
            f"{net.name} needs {used} cores with {label} placement; the arch has {cores}"
        )
    neurons = np.bincount(core_of, minlength=cores)
    synapses = np.bincount(core_of, weights=np.diff(incoming.indptr), minlength=cores).astype(
        np.int64
    )
    sources = np.repeat(np.arange(net.size, dtype=np.int64), net.synapses.fan_out)
    pairs = np.unique(core_of[net.synapses.targets] * net.size + sources)  # (core, source) once
    axons_in = np.bincount(pairs // max(net.size, 1), minlength=cores) * core.axons_per_source
    _check(core, neurons, synapses, axons_in)
    return Placement(
        policy if isinstance(policy, str) else "given",
        core_of,
        *_axons(net, core_of, cores),
        neurons,
        synapses,
        axons_in,
        rank,
    )


def _check(core: NeuroCore, neurons, synapses, axons_in) -> None:
    for label, have, limit in (
        ("neurons", neurons, core.neurons),
        ("synapses", synapses, core.synapses),
        ("input axons", axons_in, core.axons),
    ):
        if limit is not None and have.max(initial=0) > limit:
            worst = int(np.argmax(have))
            raise CapacityError(
                f"core {worst} gets {int(have[worst])} {label}; a {core.kind} holds {limit}"
            )


def _axons(net: SnnNetwork, core_of: np.ndarray, cores: int):
    """One axon per (presynaptic neuron, destination core), with its synaptic events by unit."""
    syn = net.synapses
    sources = np.repeat(np.arange(net.size, dtype=np.int64), syn.fan_out)
    key = sources * cores + core_of[syn.targets]
    axon_keys, inverse = np.unique(key, return_inverse=True)
    units = len(net.synapse_units)
    counts = np.bincount(inverse * units + net.synapse_unit, minlength=axon_keys.size * units)
    indptr = np.zeros(net.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(axon_keys // cores, minlength=net.size), out=indptr[1:])
    return indptr, axon_keys % cores, counts.reshape(axon_keys.size, units).astype(np.int64)
