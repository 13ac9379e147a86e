"""Multi-core runs timed by hand: link contention, the bisection bound, ring all-reduce, and exact
partitioned GEMM numerics."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.engine import execute
from simulator.mapping.program import OpProgram, Program, Step, Transfer
from simulator.numerics.gemm import GemmNumerics
from simulator.spec import load_arch

LINK = 64  # bytes per cycle: 64 GB/s links at 1 GHz


def mesh(dims=(4, 4), cores=16, memory=None, topology="mesh", sram="1 MiB", width="64 B"):
    arch = {
        "name": "m",
        "clock": "1 GHz",
        "components": {
            "dram": {
                "kind": "dram",
                "technology": "hbm2e",
                "bandwidth": "100000 GB/s",
                "latency": "0 ns",
            },
            "noc": {
                "kind": "noc",
                "topology": topology,
                "dims": list(dims),
                "link_bandwidth": "64 GB/s",
                "hop_latency": "0 ns",
                "link_energy": "0.1 pJ",
                "router_energy": "1 pJ",
                "router_area": "0.1 mm2",
                "memory_nodes": memory or list(range(cores)),
                "memory": "local",
            },
        },
        "cores": {
            "count": cores,
            "components": {
                "pe": {
                    "kind": "systolic_array",
                    "rows": 8,
                    "cols": 8,
                    "input_precision": ["int8", "bf16"],
                },
                "vpu": {"kind": "vector", "lanes": 4096},
                "buf": {"kind": "sram", "capacity": sram, "banks": 64, "ports": 2, "width": width},
            },
        },
    }
    return load_arch(arch)


def send_program(flows, size):
    """One op per source core, sending `size` bytes to each of its destinations."""
    by_src = {}
    for src, dst in flows:
        by_src.setdefault(src, []).append(dst)
    ops = []
    for src, dsts in sorted(by_src.items()):
        sends = tuple(
            Transfer(
                "send",
                "x",
                ((0, size),),
                f"core{src}.buf",
                0,
                0,
                peer=f"core{d}.buf",
                noc_bytes=size,
            )
            for d in dsts
        )
        steps = [Step((), (), sends, ())]
        ops.append(
            OpProgram(
                f"send{src}",
                "send",
                lambda steps=steps: iter(steps),
                0,
                0,
                f"core{src}.pe",
                True,
                False,
                core=src,
            )
        )
    return Program(tuple(ops))


def test_two_flows_on_one_link_take_twice_as_long_as_on_disjoint_links():
    machine = build_machine(mesh((3, 1), cores=3))
    size = 64 * 1000  # 1000 cycles on one link
    alone = execute(send_program([(0, 1)], size), machine).cycles
    shared = execute(send_program([(0, 2), (1, 2)], size), machine).cycles  # both use link 1->2
    disjoint = execute(send_program([(0, 1), (2, 1)], size), machine).cycles  # links 0->1 and 2->1
    assert alone == 1000
    assert shared == 2000
    assert disjoint == 1000


def test_all_to_all_cannot_beat_the_bisection_bound():
    machine = build_machine(mesh())
    size = 64 * 100
    flows = [(s, d) for s, d in itertools.permutations(range(16), 2)]
    cycles = execute(send_program(flows, size), machine).cycles
    # 8 nodes west of the middle cut each send to the 8 east of it: 64 flows over 4 eastbound links
    assert cycles >= 64 * size / (4 * LINK)


def test_ring_all_reduce_is_within_ten_percent_of_the_bandwidth_bound():
    # S bytes per core over n = 4 cores: each link carries 2(n-1)/n * S
    size = 4 * 400_000
    workload = {
        "name": "ar",
        "ops": [
            {
                "kind": "collective",
                "name": "ar",
                "pattern": "all_reduce",
                "elements": size // 4,
                "dtype": "int32",
            }
        ],
    }
    arch = mesh((4,), cores=4, topology="ring", sram="4 MiB", width="4 KiB")
    report = simulator.simulate(arch, workload)
    bound = 2 * 3 / 4 * size / LINK
    assert bound <= report.cycles <= 1.10 * bound
    assert report.summary["numerics_ok"]
    assert report.summary["noc"]["core_to_core_bytes"] == 4 * 2 * 3 * size // 4


@pytest.mark.parametrize(
    "pattern, algorithm",
    [("all_gather", "ring"), ("reduce_scatter", "ring"), ("all_reduce", "tree")],
)
def test_collectives_compute_the_right_numbers(pattern, algorithm):
    workload = {
        "name": "c",
        "ops": [
            {
                "kind": "collective",
                "name": "c",
                "pattern": pattern,
                "elements": 1000,
                "algorithm": algorithm,
            }
        ],
    }
    assert simulator.simulate(mesh((3, 2), cores=6), workload).summary["numerics_ok"]


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from(["M", "N", "MN", "K"]),
    st.integers(1, 60),
    st.integers(1, 60),
    st.integers(1, 90),
    st.sampled_from([2, 3, 4]),
)
def test_partitioned_gemms_are_exact_and_do_all_the_macs(mode, m, n, k, cores):
    arch = mesh((cores, 1), cores=cores, sram="256 KiB")
    report = simulator.simulate(
        arch, f"gemm:M={m},N={n},K={k},dtype=int8", {"partition": {"gemm": mode}}
    )
    assert report.summary["numerics_ok"] and report.summary["numerics_max_abs_error"] == 0
    assert (
        sum(busy for name, busy in report.record.counts.items() if name[2] == "mac_int8")
        == m * n * k
    )


def test_k_split_needs_its_reduction_to_be_right(monkeypatch):
    monkeypatch.setattr(GemmNumerics, "reduce", lambda self, region, partials: None)
    report = simulator.simulate(
        mesh((4, 1), cores=4), "gemm:M=32,N=32,K=64,dtype=int8", {"partition": {"gemm": "K"}}
    )
    assert not report.summary["numerics_ok"] and not report.summary["coverage_ok"]


def test_k_split_moves_every_non_owner_partial_over_the_noc():
    # 4 cores: every output tile is owned by one core and receives 3 partials of int32 C
    report = simulator.simulate(
        mesh((4, 1), cores=4), "gemm:M=64,N=48,K=256,dtype=int8", {"partition": {"gemm": "K"}}
    )
    assert report.summary["noc"]["core_to_core_bytes"] == 3 * 64 * 48 * 4


def test_scaling_starts_at_one_and_efficiency_never_exceeds_one():
    from simulator.sweep.scaling import scaling

    table = scaling("mesh-4x4", "gemm-1024", "split-mn", [1, 2, 4])
    assert table.speedup.iloc[0] == 1.0
    assert (table.efficiency <= 1.0 + 1e-9).all() and table.speedup.is_monotonic_increasing


def test_tensor_parallel_decode_on_four_chips_all_reduces_the_row_parallel_outputs():
    single = simulator.simulate("datacenter-hbm", "llama-2-7b-decode", numerics=False).summary
    tp = simulator.simulate("tp-4chips", "llama-2-7b-decode", numerics=False).summary
    # o_proj and down_proj outputs, 1 x 4096 fp32 each, ring all-reduced over 4 chips
    assert tp["noc"]["core_to_core_bytes"] == 2 * 4 * 2 * 3 * (4096 * 4 // 4)
    assert 3.0 < single["seconds"] / tp["seconds"] <= 4.0


@pytest.mark.parametrize("how", ["heads", "sequence"])
@pytest.mark.parametrize("causal", [True, False])
def test_attention_partitions_compute_the_right_numbers(how, causal):
    op = {
        "kind": "attention",
        "name": "a",
        "heads": 4,
        "kv_heads": 2,
        "q_len": 96,
        "kv_len": 128,
        "head_dim": 32,
        "causal": causal,
        "dtype": "bf16",
    }
    report = simulator.simulate(
        mesh((4, 1), cores=4), {"name": "a", "ops": [op]}, {"partition": {"attention": how}}
    )
    assert report.summary["numerics_ok"] and report.summary["coverage_ok"]
    assert report.summary["ops"][0]["parts"] == (
        2 if how == "heads" else 4
    )  # 2 K/V heads; 96 rows over 4


def test_a_shared_l2_serves_a_region_a_second_core_loads_again():
    # split N over 2 cores: both load the same A tiles; with an L2 only the first load reaches DRAM
    arch = mesh((2, 1), cores=2, memory=[0])
    spec = {
        "name": "l2",
        "clock": "1 GHz",
        "components": {
            "dram": {
                "kind": "dram",
                "technology": "hbm2e",
                "bandwidth": "100 GB/s",
                "latency": "0 ns",
            },
            "l2": {"kind": "sram", "capacity": "4 MiB", "banks": 8, "width": "64 B"},
            "noc": {
                "kind": "noc",
                "topology": "mesh",
                "dims": [2, 1],
                "link_bandwidth": "64 GB/s",
                "hop_latency": "0 ns",
                "link_energy": "0.1 pJ",
                "router_energy": "1 pJ",
                "router_area": "0.1 mm2",
                "memory_nodes": [0],
            },
        },
        "cores": {
            "count": 2,
            "components": {
                "pe": {"kind": "systolic_array", "rows": 8, "cols": 8, "input_precision": ["int8"]},
                "buf": {"kind": "sram", "capacity": "1 MiB", "banks": 8, "width": "64 B"},
            },
        },
    }
    mapping = {
        "partition": {"gemm": "N"},
        "tile": {"M": 64, "N": 32, "K": 64},
        "loop_order": ["M", "N", "K"],
    }
    workload = "gemm:M=64,N=64,K=64,dtype=int8"
    without = simulator.simulate(arch, workload, mapping).summary
    with_l2 = simulator.simulate(spec, workload, mapping).summary
    a_bytes = 64 * 64  # A (int8) is read by both cores; B halves and C halves are each read once
    assert without["dram_bytes"] - with_l2["dram_bytes"] == a_bytes
    assert with_l2["noc"]["l2_hit_rate"] == a_bytes / (2 * a_bytes + 64 * 64)
    assert with_l2["numerics_ok"]
