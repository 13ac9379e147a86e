"""Collectives as NCCL runs them: the protocol NCCL's cost model picks by size, and simulated
all-reduces on the links against NCCL's own time estimate, worked out by hand from the constants
of NCCL v2.18.3-1's src/graph/tuning.cc and topo.h (tech/nccl.yaml)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import simulate
from simulator.spec import load_arch
from simulator.spec.mapping import MappingSpec
from simulator.spec.workload import WorkloadSpec
from simulator.system.links import link_arch
from simulator.tech import nccl

A100_BUS = min(12 * 20e9, 235e9)  # 12 NVLinks at NCCL's 20 GB/s each (topo.h SM80_NVLINK_BW),
# within tuning.cc's Ampere bus cap of 235 GB/s


def _a100s(chips: int):
    return load_arch(
        "a100x4-nvlink", [(["system", "count"], chips), (["system", "tensor_parallel"], chips)]
    )


def _all_reduce_seconds(chips: int, elements: int, protocol: str) -> float:
    """One fp16 ring all-reduce of `elements` per chip, simulated on the A100 node's links."""
    return _all_reduce(chips, elements, protocol).summary["seconds"]


def _all_reduce(chips: int, elements: int, protocol: str):
    """The report of one fp16 ring all-reduce of `elements` per chip on the A100 node's links."""
    workload = WorkloadSpec.model_validate(
        {
            "name": "one all-reduce",
            "ops": [
                {
                    "kind": "collective",
                    "name": "ar",
                    "pattern": "all_reduce",
                    "elements": elements,
                    "dtype": "fp16",
                    "protocol": protocol,
                }
            ],
        }
    )
    ring = MappingSpec.model_validate({"name": "ring", "partition": {"cores": chips}})
    arch = link_arch(_a100s(chips), protocol=protocol)
    return simulate(arch, workload, ring, numerics="off")


# NCCL's estimate, by hand: base + 2 (n - 1) x step + bytes / (bus x fraction x n / (2 (n - 1))),
# bus = 235 GB/s; ring base LL 6.6 / LL128 14.0 / Simple 8.4 us, NVLink step 0.6 / 1.9 / 3.4 us,
# fraction 1/4 / 0.92 / 1 (tuning.cc baseLat, hwLat and the bandwidth refinements).
CASES = [
    # chips, bytes, NCCL's protocol, its time in us
    (2, 65536, "LL", 6.6 + 2 * 0.6 + 65536 / (235e3 * 0.25 * 1.0)),  # 8.92
    (2, 33554432, "Simple", 8.4 + 2 * 3.4 + 33554432 / (235e3 * 1.0 * 1.0)),  # 158.0
    (4, 65536, "LL", 6.6 + 6 * 0.6 + 65536 / (235e3 * 0.25 * 4 / 6)),  # 11.87
    (4, 2097152, "LL128", 14.0 + 6 * 1.9 + 2097152 / (235e3 * 0.92 * 4 / 6)),  # 39.95
    (4, 33554432, "Simple", 8.4 + 6 * 3.4 + 33554432 / (235e3 * 1.0 * 4 / 6)),  # 243.0
]


@pytest.mark.parametrize(("chips", "size", "protocol", "micros"), CASES)
def test_nccl_picks_the_protocol_its_estimate_finds_fastest(chips, size, protocol, micros):
    assert nccl.choose("nvlink", "ring", "all_reduce", size, chips, A100_BUS) == protocol
    estimate = nccl.estimate_seconds(
        "nvlink", "ring", protocol, "all_reduce", size, chips, A100_BUS
    )
    assert estimate == pytest.approx(micros * 1e-6)


def test_the_crossovers_fall_where_nccls_estimate_puts_them():
    # 4 x A100 (bus 235 GB/s), all_reduce, B in kB, times in us: LL128 beats LL once
    # 14.0 + 11.4 + B / 144.13 < 6.6 + 3.6 + B / 39.17, B > 15.2 / (1/39.17 - 1/144.13) = 817.5 kB;
    # Simple beats LL128 once 8.4 + 20.4 + B / 156.67 < 25.4 + B / 144.13, B > 6126 kB
    def pick(size):
        return nccl.choose("nvlink", "ring", "all_reduce", size, 4, A100_BUS)

    assert (pick(816_500), pick(818_500)) == ("LL", "LL128")
    assert (pick(6_124_000), pick(6_128_000)) == ("LL128", "Simple")
    assert (
        nccl.choose("pci", "ring", "all_reduce", 2097152, 4, 24e9) == "Simple"
    )  # no LL128 on PCIe


@pytest.mark.parametrize(("chips", "size", "protocol", "micros"), CASES)
def test_a_simulated_all_reduce_takes_what_nccl_estimates(chips, size, protocol, micros):
    # the links carry the chunks at NCCL's rate over the protocol's fraction, each hop one step's
    # latency, after the protocol's fixed cost; the simulation adds what NCCL's linear estimate
    # leaves out: HBM reads and writes, and the pipeline's fill (the first piece of each chunk
    # before the next ring step can start on it)
    seconds = _all_reduce_seconds(chips, size // 2, protocol)
    assert micros * 1e-6 <= seconds <= 1.15 * micros * 1e-6


def test_nvlink_runs_at_nccls_rate_with_one_steps_latency_per_hop():
    links = link_arch(_a100s(4), protocol="LL128").components["links"]
    # busy with LL128's 128-byte lines (120 data bytes) at the rate that moves data at 0.92
    assert links.link_bandwidth == pytest.approx(A100_BUS * 0.92 * 128 / 120, rel=1e-5)
    assert links.hop_latency == pytest.approx(1.9e-6)
    ll = link_arch(_a100s(4), protocol="LL").components["links"]
    assert ll.link_bandwidth == pytest.approx(A100_BUS * 0.25 * 2)  # 16-byte lines, 8 data bytes
    gather = link_arch(_a100s(4), protocol="LL", pattern="all_gather").components["links"]
    assert gather.link_bandwidth == pytest.approx(A100_BUS / 3 * 2, rel=1e-3)  # 0.3333
    bare = link_arch(_a100s(4)).components["links"]  # without NCCL: the links' own rate
    assert bare.link_bandwidth == pytest.approx(12 * 25e9)


@pytest.mark.parametrize(
    ("protocol", "elements", "wire_per_byte"),
    [("LL", 32768, 2.0), ("LL128", 1048576, 128 / 120), ("Simple", 1048576, 1.0)],
)
def test_the_links_carry_the_protocols_wire_bytes_and_their_energy(
    protocol, elements, wire_per_byte
):
    # a ring all-reduce over 4 chips: each chip sends 2 (n - 1) = 6 chunks of S / 4 bytes, and the
    # wire carries them in the protocol's lines: LL 8 data + 8 flag bytes per 16, LL128 120 + 8
    noc = _all_reduce(4, elements, protocol).summary["noc"]
    wire = 4 * 6 * (2 * elements // 4) * wire_per_byte
    assert noc["core_to_core_bytes"] == pytest.approx(wire, rel=1e-4)  # LL128: ceil per piece
    # one crossbar hop per send, 5 pJ per bit (tech/noc.yaml nvlink3), no router energy
    assert noc["noc_energy_pj"] == pytest.approx(8 * noc["core_to_core_bytes"] * 5.0)


def test_a_tree_all_reduce_takes_nccls_tree_latency_per_step():
    # tuning.cc hwLat[NVLINK][TREE]: LL 0.6, LL128 1.25, Simple 4.0 us (the ring's: 0.6 / 1.9 / 3.4)
    for protocol, micros in [("LL", 0.6), ("LL128", 1.25), ("Simple", 4.0)]:
        links = link_arch(_a100s(4), protocol=protocol, algorithm="tree").components["links"]
        assert links.hop_latency == pytest.approx(micros * 1e-6)
        # the tree's own data share (tuning.cc: 0.92, LL x 1/3.8, LL128 x 7/9) times the wire's
        share = {"LL": 0.92 / 3.8 * 2, "LL128": 0.92 * 7 / 9 * 128 / 120, "Simple": 0.92}
        assert links.link_bandwidth == pytest.approx(A100_BUS * share[protocol], rel=1e-3)


def test_pcie_runs_at_nccls_rating_as_nvlink_does():
    # topo.cc ncclTopoAddPci: width x speed / 80 GB/s, Gen4 16 GT/s -> 120 per lane: 24 GB/s per
    # x16 port, where tech/noc.yaml's signalling rate is 31.5; a ring: half to each neighbour
    from simulator.system.links import neighbour_link

    system = load_arch(
        {
            "name": "four pcie gpus",
            "system": {
                "chip": "a100-like",
                "count": 4,
                "links": {"kind": "pcie4_x16", "count": 2, "topology": "ring"},
            },
        }
    )
    assert neighbour_link(system, "Simple")[:2] == pytest.approx((2 * 24e9 / 2, 5.7e-6))
    assert neighbour_link(system)[0] == pytest.approx(2 * 31.5e9 / 2)  # pipeline hops: raw rate


def test_a_torus_of_gpus_runs_each_phase_as_nccl_picks():
    system = load_arch(
        {
            "name": "a 2x2 torus of A100s",
            "system": {
                "chip": "a100-like",
                "count": 4,
                "links": {"kind": "nvlink3", "count": 12, "topology": "torus", "dims": [2, 2]},
            },
        }
    )
    gemm = {"kind": "gemm", "name": "g", "M": 16, "N": 2048, "K": 256, "dtype": "fp16",
            "parallel": "row"}  # fmt: skip
    report = simulate(system, {"name": "one", "ops": [gemm]}, numerics="off")
    protocols = {
        part.group: part.details["protocol"]
        for run in report.links
        for part in run.report.program.ops
    }
    # 64 KiB reduce-scattered along X, its 32 KiB half all-reduced along Y, gathered back:
    # every phase small enough for LL, each pattern on its own run of the links
    assert protocols == {
        "g.all_reduce.x.reduce_scatter": "LL",
        "g.all_reduce.x.all_gather": "LL",
        "g.all_reduce.y.all_reduce": "LL",
    }
    assert [run.copies for run in report.links] == [2, 2, 2]


def test_a_tensor_parallel_layer_runs_its_all_reduces_as_nccl_picks():
    layer = {
        "name": "two all-reduces",
        "ops": [
            {"kind": "gemm", "name": "small", "M": 16, "N": 2048, "K": 256, "parallel": "row"},
            {"kind": "gemm", "name": "large", "M": 512, "N": 8192, "K": 256, "parallel": "row"},
        ],
    }
    for op in layer["ops"]:
        op["dtype"] = "fp16"
    report = simulate(_a100s(4), layer, numerics="off")
    protocols = {
        part.group: part.details["protocol"]
        for run in report.links
        for part in run.report.program.ops
    }
    # 64 KiB -> LL, 8 MiB -> Simple (the crossovers above), each on its own run of the links
    assert protocols == {"small.all_reduce": "LL", "large.all_reduce": "Simple"}
    assert len(report.links) == 2


def test_links_without_nccl_keep_the_bare_chunk_moves():
    system = load_arch(
        {
            "name": "two tpu-like chips",
            "system": {
                "chip": "datacenter-hbm",
                "count": 2,
                "links": {"kind": "tpu_v4_ici", "count": 2, "topology": "ring"},
            },
        }
    )
    gemm = {"kind": "gemm", "name": "g", "M": 16, "N": 256, "K": 256, "parallel": "row"}
    report = simulate(system, {"name": "one", "ops": [gemm]}, numerics="off")
    (run,) = report.links
    assert {part.details["protocol"] for part in run.report.program.ops} == {None}
    assert link_arch(system).components["links"].hop_latency == pytest.approx(500e-9)


@given(
    size=st.integers(1, 1 << 31),
    ranks=st.integers(2, 16),
    bus=st.floats(1e9, 1e12),
    hardware=st.sampled_from(["nvlink", "pci"]),
    pattern=st.sampled_from(["all_reduce", "reduce_scatter", "all_gather"]),
)
def test_the_chosen_protocol_is_enabled_and_never_slower_than_another(
    size, ranks, bus, hardware, pattern
):
    chosen = nccl.choose(hardware, "ring", pattern, size, ranks, bus)
    enabled = ["LL", "LL128", "Simple"] if hardware == "nvlink" else ["LL", "Simple"]
    assert chosen in enabled

    def time(p):
        return nccl.estimate_seconds(hardware, "ring", p, pattern, size, ranks, bus)

    assert all(time(chosen) <= time(p) for p in enabled)
    # a larger message never goes back to a protocol with a smaller bandwidth share
    larger = nccl.choose(hardware, "ring", pattern, 2 * size, ranks, bus)
    share = {p: nccl.fraction("ring", p, pattern) for p in enabled}
    assert share[larger] >= share[chosen]


def test_a_systems_own_link_latency_and_bandwidth_win_over_nccls():
    # a user's links.latency / links.bandwidth override NCCL's step latency and rated bus
    from simulator.system.links import neighbour_link

    system = load_arch(
        "a100x4-nvlink",
        [(["system", "links", "latency"], "50 us"), (["system", "links", "bandwidth"], "100 GB/s")],
    )
    assert neighbour_link(system, "LL")[:2] == pytest.approx((100e9, 50e-6))
    assert neighbour_link(_a100s(4), "LL")[:2] == pytest.approx((235e9, 0.6e-6))  # NCCL's: capped
