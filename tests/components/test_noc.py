"""NoC routes and hop counts, derived by hand on small topologies."""

import pytest

from simulator.components import build_machine
from simulator.spec import load_arch


def noc(topology="mesh", dims=(4, 4)):
    arch = {
        "name": "n",
        "clock": "1 GHz",
        "components": {
            "dram": {"kind": "dram", "technology": "hbm2e"},
            "noc": {
                "kind": "noc",
                "topology": topology,
                "dims": list(dims),
                "link_bandwidth": "64 GB/s",
                "hop_latency": "1 ns",
                "link_energy": "0.1 pJ",
                "router_energy": "1 pJ",
                "router_area": "0.1 mm2",
            },
        },
        "cores": {
            "count": 2,
            "components": {
                "pe": {"kind": "systolic_array", "rows": 4, "cols": 4},
                "buf": {"kind": "sram", "capacity": "64 KiB"},
            },
        },
    }
    return build_machine(load_arch(arch)).noc


def test_mesh_routes_x_first_then_y():
    # node = y * 4 + x: 0 = (0, 0), 15 = (3, 3); XY goes along row 0, then down column 3
    assert noc().route(0, 15) == [
        ("link", 0, 1),
        ("link", 1, 2),
        ("link", 2, 3),
        ("link", 3, 7),
        ("link", 7, 11),
        ("link", 11, 15),
    ]
    assert noc().route(13, 2) == [
        ("link", 13, 14),
        ("link", 14, 10),
        ("link", 10, 6),
        ("link", 6, 2),
    ]


@pytest.mark.parametrize(
    "src, dst, hops", [(0, 0, 0), (0, 1, 1), (0, 15, 6), (3, 12, 6), (5, 10, 2)]
)
def test_mesh_hops_are_manhattan_distance(src, dst, hops):
    assert noc().hops(src, dst) == hops


def test_torus_takes_the_shorter_way_round():
    torus = noc("torus")
    assert torus.route(0, 3) == [("link", 0, 3)]  # wrap instead of three hops east
    assert torus.hops(0, 15) == 2
    assert torus.hops(0, 10) == 4  # (0,0) -> (2,2): two either way in each dimension


def test_ring_crossbar_and_bus():
    assert noc("ring", (6,)).route(0, 4) == [("link", 0, 5), ("link", 5, 4)]
    assert noc("crossbar", (8,)).route(2, 5) == [("in", 2), ("out", 5)]
    assert noc("bus", (8,)).route(2, 5) == [("bus",)]
    assert noc("crossbar", (8,)).hops(2, 5) == noc("bus", (8,)).hops(2, 5) == 1


def test_bisection_of_a_4x4_mesh_is_four_links_per_direction():
    assert noc().bisection_links() == 4
