"""The chip-to-chip network as an arch of its own: one node per chip, the links as its NoC, each
chip's HBM local to it, and each chip's vector lanes adding the chunks an all-reduce receives.

Collectives then run on it with mapping/collective.py, as they do between the cores of a chip:
every chunk is loaded from the chip's HBM, sent over the links, added and stored back, so link
contention and latency are simulated, not a formula. On links GPUs run NCCL over (NVLink, PCIe),
a collective's links are the ones NCCL's cost model sees (tech/nccl.yaml): each link at NCCL's
rating of it, busy with wire bytes at the rate that moves the data at the protocol's bandwidth
fraction, and each hop the latency of one step of the collective's algorithm and protocol.
"""

from simulator import tech
from simulator.spec.arch import ArchSpec, SramSpec
from simulator.spec.system import SystemArchSpec
from simulator.spec.units import format_quantity
from simulator.tech import nccl

TOPOLOGY = {"switch": "crossbar", "ring": "ring", "torus": "ring"}
"""The NoC each network becomes; a torus is simulated one line (a ring) along a dimension at a
time, its all-reduces ring by ring along the dimensions (simulator/system/run.py)."""


def neighbours(system: SystemArchSpec) -> int:
    """Each chip's ports are split evenly between this many neighbours (a switch: one fabric
    port; a ring: 2; a torus: 2 per dimension, 6 on a TPU v4 cube)."""
    links = system.system.links
    return {"switch": 1, "ring": 2}.get(links.topology) or 2 * len(links.dims)


def neighbour_link(
    system: SystemArchSpec, protocol: str | None = None, algorithm: str = "ring"
) -> tuple[float, float, float]:
    """(bytes/s per direction to one neighbour, one-way hop latency in s, pJ per bit) of the
    system's links, from tech/noc.yaml chip_to_chip unless the system overrides them; with NCCL's
    `protocol`, the bandwidth NCCL rates the links at (within its per-generation bus cap) and the
    latency of one step of `algorithm`, again unless the system sets `bandwidth` or `latency`."""
    links = system.system.links
    table = tech.table("noc")["chip_to_chip"][links.kind]
    per_link = (protocol and nccl.link_gbps(links.kind)) or table["bandwidth_gbps_per_direction"]
    per_chip = links.count * per_link * 1e9
    if protocol and nccl.bus_cap_gbps(links.kind):
        per_chip = min(per_chip, nccl.bus_cap_gbps(links.kind) * 1e9)
    per_chip = links.bandwidth or per_chip
    step = protocol and nccl.step_seconds(nccl.hardware(links.kind), algorithm, protocol)
    latency = links.latency or step or table["latency_ns"] * 1e-9
    return per_chip / neighbours(system), latency, table["energy_pj_per_bit"]


def link_arch(
    system: SystemArchSpec,
    line: int | None = None,
    protocol: str | None = None,
    algorithm: str = "ring",
    pattern: str = "all_reduce",
) -> ArchSpec:
    """The network of `system` as a multi-core arch whose cores are the chips; with `line`, one
    line of that many chips along a dimension of its torus, a ring of neighbour links; with
    `protocol`, the links as NCCL runs that protocol over them for `algorithm` and `pattern`:
    its step latency per hop, and busy with its wire bytes at the rate that moves the data at
    its bandwidth fraction."""
    spec, chip = system.system, system.chip_arch
    chips = line or spec.count
    links = spec.links
    bandwidth_per_link, latency, energy = neighbour_link(system, protocol, algorithm)
    if protocol:
        bandwidth_per_link *= nccl.wire_rate(algorithm, protocol, pattern)
    dram = chip.components[next(n for n, c in chip.components.items() if c.kind == "dram")]
    local = chip.cores.components if chip.cores else chip.components
    copies = chip.cores.count if chip.cores else 1
    lanes = copies * sum(c.lanes for c in local.values() if c.kind == "vector")
    buffer = _staging_buffer(chip)
    hbm = dram.bandwidth or 0.0
    return ArchSpec.model_validate(
        {
            "name": f"{system.name} links",
            "clock": format_quantity(chip.clock, "frequency"),
            "tech_node": format_quantity(chip.tech_node, "length"),
            "components": {
                "hbm": dram.model_copy(
                    update={
                        "bandwidth": hbm * chips if hbm else None,
                        "channels": dram.channels and dram.channels * chips,
                        "capacity": dram.capacity and dram.capacity * chips,
                    }
                ),
                "links": {
                    "kind": "noc",
                    "topology": TOPOLOGY[links.topology],
                    "dims": [chips],
                    "link_bandwidth": format_quantity(bandwidth_per_link, "bandwidth"),
                    "hop_latency": format_quantity(latency, "time"),
                    "link_energy": format_quantity(energy, "energy"),
                    "router_energy": "0 pJ",  # the PHY energy covers both ends; no router modelled
                    "router_area": "0 mm2",
                    "memory_nodes": list(range(chips)),
                    "memory": "local",
                },
            },
            "cores": {
                "count": chips,
                "components": {
                    "lanes": {"kind": "vector", "lanes": max(lanes, 1)},
                    "buffer": buffer,
                },
            },
        }
    )


def _staging_buffer(chip: ArchSpec) -> SramSpec:
    """The chip's on-chip memory a collective stages its chunks in: the shared L2 where there is
    one, else every core's SRAM together (capacity and banks times the cores)."""
    shared = [c for c in chip.components.values() if c.kind == "sram"]
    if shared:
        sram = max(shared, key=lambda c: c.capacity)
    else:
        local = chip.cores.components if chip.cores else chip.components
        copies = chip.cores.count if chip.cores else 1
        core = max(
            (c for c in local.values() if c.kind == "sram" and c.unit is None),
            key=lambda c: c.capacity,
        )
        sram = core.model_copy(
            update={"capacity": core.capacity * copies, "banks": core.banks * copies}
        )
    return sram.model_copy(
        update={"holds": ["input", "weight", "output"], "unit": None, "share": None}
    )
