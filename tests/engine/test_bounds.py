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
