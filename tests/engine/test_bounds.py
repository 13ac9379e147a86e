"""Simulated time never beats the physical bound, for random shapes, arrays and mappings."""

from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from tests.conftest import tiny_arch
from tests.strategies import shapes_and_mappings


@st.composite
def runs(draw):
    rows, cols = draw(st.integers(1, 16)), draw(st.integers(1, 16))
    shape, mapping = draw(shapes_and_mappings())
    bandwidth = draw(st.sampled_from(["350 MB/s", "700 MB/s", "7 GB/s", "70 GB/s"]))
    return tiny_arch(rows, cols, bandwidth=bandwidth), shape, mapping


@settings(max_examples=60, deadline=None)
@given(runs())
def test_cycles_never_beat_compute_or_bandwidth_bound(run):
    arch, shape, mapping = run
    workload = "gemm:M={M},N={N},K={K},dtype=int8".format(**shape)
    s = simulator.simulate(arch, workload, mapping, numerics=False).summary
    macs = shape["M"] * shape["N"] * shape["K"]
    bytes_per_cycle = simulator.load_arch(arch).components["dram"].bandwidth / 700e6
    # compulsory traffic: A and B read once (int8), C written once (int32)
    compulsory = shape["M"] * shape["K"] + shape["K"] * shape["N"] + 4 * shape["M"] * shape["N"]
    assert s["cycles"] >= macs / s["peak_macs_per_cycle"]
    assert s["cycles"] >= s["dram_bytes"] / bytes_per_cycle
    assert s["dram_bytes"] >= compulsory
    assert s["mac_utilization"] <= 1.0
    assert s["compute_busy_cycles"] + s["total_stall_cycles"] == s["cycles"]


@settings(max_examples=40, deadline=None)
@given(runs(), st.sampled_from(["1 B", "4 B", "64 B"]))
def test_sram_ports_are_never_more_than_fully_used(run, width):
    """The DMA and the array share the buffer's ports (one bank, one port): every byte either
    moves through them takes 1 / width of a cycle, so cycles >= those bytes / width."""
    arch, shape, mapping = run
    arch["components"]["buf"]["width"] = width
    workload = "gemm:M={M},N={N},K={K},dtype=int8".format(**shape)
    report = simulator.simulate(arch, workload, mapping, numerics=False)
    buf = report.components.set_index("component").loc["buf"]
    port_bytes_per_cycle = int(width.split()[0])
    assert report.cycles >= (buf.read_bytes + buf.write_bytes) / port_bytes_per_cycle
    assert buf.utilization <= 1


def test_a_one_byte_port_bounds_a_preset_gemm():
    """edge-npu, 64^3 int8 with a 1-byte, 1-port, 1-bank SRAM (once at 1.36 utilization): every
    byte the DMA and the array move through it costs a port cycle."""
    sram = ["components", "sram"]
    arch = simulator.load_arch(
        "edge-npu", [(sram + ["width"], "1 B"), (sram + ["ports"], 1), (sram + ["banks"], 1)]
    )
    report = simulator.simulate(arch, "gemm:M=64,N=64,K=64,dtype=int8", numerics=False)
    row = report.components.set_index("component").loc["sram"]
    # at least A and B in, C out (int32) through the DMA, and the array reads A and B once
    assert row.read_bytes + row.write_bytes >= 2 * (2 * 64 * 64 + 4 * 64 * 64)
    assert report.cycles >= row.read_bytes + row.write_bytes
    assert row.utilization <= 1
