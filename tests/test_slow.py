"""Full-size runs, CI only (pytest -m slow): every preset pairing, and a 4096^3 GEMM checked exactly."""

import pytest

import simulator

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "arch", [a for a in simulator.list_presets("arch") if not simulator.load_arch(a).neuromorphic]
)
@pytest.mark.parametrize("workload", ["gemm-1024", "gemv-4096", "bert-base-ffn"])
def test_every_preset_pairing_runs_with_exact_numerics(arch, workload):
    summary = simulator.simulate(arch, workload).summary
    # zigzag-tpu-like keeps ZigZag's 16-bit partial sums: full-range int8 products over K >= 768
    # overflow them, and that must show (docs/memory-hierarchy.md)
    assert summary["numerics_ok"] == (arch != "zigzag-tpu-like") and summary["coverage_ok"]
    assert summary["cycles"] >= summary["roofline_cycles"]


def test_gemm_4096_on_128x128_is_exact_and_compute_bound():
    summary = simulator.simulate("datacenter-hbm", "gemm-4096").summary
    assert summary["numerics_ok"] and summary["numerics_max_abs_error"] == 0
    assert summary["roofline_bound"] == "compute"
    assert 0.9 < summary["mac_utilization"] <= 1.0
