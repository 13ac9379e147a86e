"""Spec of a neuromorphic core (`kind: neuro_core`): capacities, numerics and per-event costs.

A number left out comes from the `technology` table (tech/neuro.yaml: loihi, truenorth), or is zero
when no technology is named; SANA-FE imports name none and give every number.
"""

from typing import Annotated, Literal

from pydantic import Field, field_validator

from simulator.spec.types import Bytes, Mm2, Mw, Pj, PositiveInt, Seconds, Strict


def _all_directions(value):
    """'3 pJ' stands for the same cost in every direction."""
    if isinstance(value, str):
        return {"east": value, "west": value, "north": value, "south": value}
    return value


class HopEnergy(Strict):
    """Energy of one spike packet crossing one router-to-router hop, by direction (x grows east,
    y grows north, as in SANA-FE); a single value means the same in every direction."""

    east: Pj
    """Hop towards larger x."""
    west: Pj
    """Hop towards smaller x."""
    north: Pj
    """Hop towards larger y."""
    south: Pj
    """Hop towards smaller y."""


class HopLatency(Strict):
    """Latency of one spike packet hop by direction; a single value means every direction."""

    east: Seconds
    """Hop towards larger x."""
    west: Seconds
    """Hop towards smaller x."""
    north: Seconds
    """Hop towards larger y."""
    south: Seconds
    """Hop towards smaller y."""


class SomaUnitSpec(Strict):
    """A neuron-update unit: what each neuron it serves costs per time step."""

    model: Literal["lif", "input", "truenorth"] = "lif"
    """lif: leaky integrate-and-fire neurons; input: spike sources driven by the input encoder;
    truenorth: TrueNorth's neuron (SANA-FE's truenorth soma): additive leak, a threshold reached
    at or above, reverse threshold and reset, optional stochastic threshold."""
    access_energy: Pj | None = None
    """Every neuron, every time step, active or not (Loihi's 'inactive' neuron update)."""
    update_energy: Pj | None = None
    """Extra for an active neuron: it received input, holds a non-zero potential or has a bias."""
    spike_energy: Pj | None = None
    """Extra for a neuron that fires."""
    access_latency: Seconds | None = None
    """Time per neuron per step."""
    update_latency: Seconds | None = None
    """Extra time per active neuron."""
    spike_latency: Seconds | None = None
    """Extra time per spike fired."""


class SynapseUnitSpec(Strict):
    """A synapse unit: the cost of one synaptic event (weight read and accumulate)."""

    energy: Pj | None = None
    """Energy per synaptic event."""
    latency: Seconds | None = None
    """Time per synaptic event."""


class NeuroCoreSpec(Strict):
    """A neuromorphic core (Loihi / TrueNorth style): LIF neurons in fixed point whose input arrives
    as spike packets over the NoC, so the work in a time step follows the spikes it receives."""

    kind: Literal["neuro_core"]
    technology: Literal["loihi", "truenorth"] | None = None
    """Table in tech/neuro.yaml that supplies every number not given here; none: they are zero."""
    neurons: PositiveInt | None = None
    """Neurons (compartments) one core holds (none: the technology's, else no limit)."""
    synapses: PositiveInt | None = None
    """Synaptic memory entries per core: the summed fan-in of its neurons must fit (none: the
    technology's, else no limit)."""
    axons: PositiveInt | None = None
    """Input axons per core: distinct presynaptic neurons x axons_per_source must fit (none: no limit)."""
    axons_per_source: PositiveInt | None = None
    """Axons one presynaptic neuron occupies on a core it reaches (TrueNorth: one per axon type used)."""
    weight_bits: Annotated[PositiveInt, Field(le=32)] | None = None
    """Signed weight precision: weights are integers in +-(2^(bits-1) - 1); 2 bits is trinary
    (none: the technology's, else 16). At most 32 (Loihi: 1 to 9, TrueNorth 9): sums of them,
    shifted by the fraction bits, are int64s (100 bits overflowed into garbage potentials)."""
    potential_bits: Annotated[PositiveInt, Field(le=64)] | None = None
    """Width of the membrane-potential register (saturating, at most an int64's 64 bits); none:
    unbounded."""
    potential_frac_bits: Annotated[int, Field(ge=0, le=16)] | None = None
    """Fraction bits of the potential below one weight unit (Loihi shifts weights left by 6)."""
    spike_bits: Annotated[PositiveInt, Field(le=32)] = 1
    """Payload bits of a spike: 1 is a binary spike; more are graded spikes (Loihi 2) that carry how
    many thresholds the potential crossed, up to 2^bits - 1 (at most 32 bits: payloads are summed
    in int64s; 100,000 was an OverflowError)."""
    soma: dict[str, SomaUnitSpec] = {}
    """Named neuron-update units (default: the technology's 'lif' and 'input' units)."""
    synapse: dict[str, SynapseUnitSpec] = {}
    """Named synapse units (default: the technology's 'default' unit)."""
    packet_out_energy: Pj | None = None
    """Energy to emit one spike packet (axon lookup and injection into the local router)."""
    packet_out_latency: Seconds | None = None
    """Time to emit one spike packet."""
    packet_in_energy: Pj | None = None
    """Energy to receive one spike packet at its destination core."""
    packet_in_latency: Seconds | None = None
    """Time to receive one spike packet."""
    hop_energy: HopEnergy | None = None
    """Energy per packet per hop by direction; default the technology's."""
    hop_latency: HopLatency | None = None
    """Latency per packet per hop by direction; default the technology's, else the NoC's hop latency."""
    packet_size: Bytes | None = None
    """Bytes a spike packet occupies on a link (link serialisation; default 4 B)."""
    barrier: dict[PositiveInt, Seconds] | None = None
    """End-of-step barrier latency by the number of NoC nodes (tiles) in use, linearly interpolated
    between the listed points and clamped outside them."""
    time_step: Seconds | None = None
    """Fixed duration of a time step (TrueNorth's 1 ms tick); none: as long as the work takes."""
    timing: Literal["event", "simple", "detailed"] = "event"
    """How a step's length follows from its work. event: each core updates its neurons, then sends
    its packets over contended links, then serves what lands in arrival order. simple: SANA-FE's
    simple model, the largest of any core's neuron work (updates, spikes, packets out) and any
    core's message work (packets in, synaptic events); links and hops cost no time. detailed:
    SANA-FE's detailed model, every message scheduled in time order with hop latencies, a
    per-link congestion estimate and each destination core serving its messages in turn."""
    link_buffer: Annotated[int, Field(ge=0)] = 1
    """Messages one NoC link buffers (SANA-FE's link_buffer_size); under `timing: detailed` a
    message blocks once its route holds more than (hops + 1) x this many."""
    leakage: Mw | None = None
    """Static power of one core."""
    area: Mm2 | None = None
    """Area of one core (with its share of router and uncore where the source counts it so)."""

    _hops = field_validator("hop_energy", "hop_latency", mode="before")(_all_directions)

    @field_validator("soma")
    @classmethod
    def _one_lif(cls, units):
        if units and not any(u.model == "lif" for u in units.values()):
            raise ValueError("needs at least one unit with model: lif")
        return units
