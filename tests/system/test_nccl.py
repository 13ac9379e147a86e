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
    return simulate(arch, workload, ring, numerics="off").summary["seconds"]


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
    assert links.link_bandwidth == pytest.approx(A100_BUS)
    assert links.hop_latency == pytest.approx(1.9e-6)
    bare = link_arch(_a100s(4)).components["links"]  # without NCCL: the links' own rate
    assert bare.link_bandwidth == pytest.approx(12 * 25e9)


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
