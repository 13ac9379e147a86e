"""Network-on-chip (or chip-to-chip network): topology, deterministic routes, link timing and energy.

Nodes are numbered row-major (node = y * X + x). Routes are lists of directed links:
mesh XY (x first, then y); torus the same but each dimension takes the shorter way round (ties
go the positive way); ring the shorter way; crossbar an input port and an output port per
transfer; bus one shared medium. A transfer holds every link of its route for bytes / link
bandwidth (wormhole: the flits stream through all links at once), then arrives hops x hop
latency later. Links are acquired in one global order, so crossing flows never deadlock.
"""

import math

from simulator import tech
from simulator.components.base import Component
from simulator.spec.arch import NocSpec

Link = tuple  # ("link", u, v) between routers; ("in", n) / ("out", n) crossbar ports; ("bus",)


class Noc(Component):
    """Routes between nodes and the per-link cost of moving bytes."""

    kind = "noc"

    def __init__(self, name: str, spec: NocSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, spec.clock or ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.node_nm = node_nm
        self.topology = spec.topology
        self.shape = tuple(spec.dims) if len(spec.dims) == 2 else (spec.dims[0], 1)
        self.nodes = math.prod(spec.dims)
        self.flit_bits = 8 * int(spec.flit)
        self.actions = {
            "bit_hop": spec.link_energy
            if spec.link_energy is not None
            else self._table_link_energy(),
            "flit_hop": spec.router_energy
            if spec.router_energy is not None
            else self._table_router_energy(),
        }
        self._hop_latency = spec.hop_latency

    def _table_link_energy(self) -> float:
        """Wire energy per bit over one link: pJ/bit/mm x link length, scaled from the table's node."""
        table = tech.table("noc")["on_chip"]
        length = self.spec.link_length_mm
        length = table["default_link_mm"]["value"] if length is None else length
        return tech.scale_wire_energy(
            table["link_energy_pj_per_bit_mm"]["value"] * length, self.node_nm
        )

    def _table_router_energy(self) -> float:
        """One router traversal of one flit, scaled by flit width and node."""
        router = tech.table("noc")["on_chip"]["router_energy_pj_per_flit"]
        return tech.scale_energy(
            router["value"] * self.flit_bits / router["flit_bits"], self.node_nm
        )

    # ----- topology ---------------------------------------------------------------------------
    def coords(self, node: int) -> tuple[int, int]:
        return node % self.shape[0], node // self.shape[0]

    def node(self, x: int, y: int) -> int:
        return y * self.shape[0] + x

    def route(self, src: int, dst: int) -> list[Link]:
        """The deterministic route from src to dst as directed links (empty when src == dst)."""
        if src == dst:
            return []
        if self.topology == "bus":
            return [("bus",)]
        if self.topology == "crossbar":
            return [("in", src), ("out", dst)]
        links: list[Link] = []
        (x, y), (tx, ty) = self.coords(src), self.coords(dst)
        wrap = self.topology in ("torus", "ring")
        for axis in (0, 1):  # X first, then Y
            size = self.shape[axis]
            here, there = (x, tx) if axis == 0 else (y, ty)
            step = 1 if there > here else -1
            if wrap:
                forward = (there - here) % size
                step = 1 if forward <= size - forward else -1
            while here != there:
                nxt = (here + step) % size if wrap else here + step
                a = self.node(here, y) if axis == 0 else self.node(tx, here)
                b = self.node(nxt, y) if axis == 0 else self.node(tx, nxt)
                links.append(("link", a, b))
                here = nxt
            x = tx
        return links

    def one_way_in(self) -> bool:
        """Whether every route into a node ends on the same link, whatever its source (a
        crossbar's output port; a bus has none): then a node's own port, all a fine-interleaved
        transfer holds of its route, is the same whichever memory node serves it."""
        return self.topology in ("crossbar", "bus")

    def hops(self, src: int, dst: int) -> int:
        """Router-to-router hops of the route (1 for crossbar and bus)."""
        route = self.route(src, dst)
        return 1 if route and route[0][0] in ("in", "bus") else len(route)

    def bisection_links(self) -> int:
        """Links crossing the middle cut in one direction (mesh / torus along X, ring, bus, crossbar)."""
        x, y = self.shape
        if self.topology == "mesh":
            return y if x > 1 else 1
        if self.topology in ("torus", "ring"):
            return 2 * y if x > 2 else y
        return 1 if self.topology == "bus" else self.nodes // 2

    # ----- timing -----------------------------------------------------------------------------
    @property
    def bytes_per_cycle(self) -> float:
        """Bytes one link moves per reference cycle."""
        return self.spec.link_bandwidth / self.ref_clock_hz

    def transfer_cycles(self, nbytes: int) -> int:
        return math.ceil(nbytes / self.bytes_per_cycle - 1e-9)

    def latency_cycles(self, hops: int) -> int:
        """Head-flit latency over `hops` router traversals, in reference cycles."""
        per_hop = self._hop_latency
        if per_hop is None:
            return self.to_ref_cycles(
                hops * tech.table("noc")["on_chip"]["hop_latency_cycles"]["value"]
            )
        return math.ceil(hops * per_hop * self.ref_clock_hz - 1e-9)

    def area_mm2(self) -> float:
        if self.spec.router_area is not None:
            return self.spec.router_area * self.nodes
        router = tech.table("noc")["on_chip"]["router_area_mm2"]
        return (
            tech.scale_area(router["value"] * self.flit_bits / router["flit_bits"], self.node_nm)
            * self.nodes
        )
