"""Full-size runs, CI only (pytest -m slow): every preset pairing, and a 4096^3 GEMM checked exactly."""

import pytest

import simulator
from simulator.errors import UnsupportedError
from simulator.spec import ArchSpec

pytestmark = pytest.mark.slow


def _chip(name: str) -> bool:
    """A chip preset that runs GEMMs (systems of chips have their own tests in tests/system)."""
    arch = simulator.load_arch(name)
    return isinstance(arch, ArchSpec) and not arch.neuromorphic


@pytest.mark.parametrize("arch", [a for a in simulator.list_presets("arch") if _chip(a)])
@pytest.mark.parametrize("workload", ["gemm-1024", "gemv-4096", "bert-base-ffn"])
def test_every_preset_pairing_runs_with_exact_numerics(arch, workload):
    # Volta's tensor cores multiply fp16 only: these int8 GEMMs are refused
    if arch == "gv100-like":
        with pytest.raises(UnsupportedError, match="in int8; it supports fp16"):
            simulator.simulate(arch, workload)
        spec = simulator.load_workload(workload).model_dump(exclude_unset=True)
        workload = {**spec, "ops": [{**op, "dtype": "fp16"} for op in spec["ops"]]}
    report = simulator.simulate(arch, workload)
    summary = report.summary
    assert summary["coverage_ok"]
    assert summary["cycles"] >= summary["roofline_cycles"]
    if arch == "zigzag-tpu-like":
        # ZigZag's 16-bit partial sums: int8 x int8 over K >= 768 needs at least 8 + 8 + 10 = 26
        # bits, so full-range operands wrap the int16 accumulator, and a wrap is a mismatch
        assert not summary["numerics_ok"]
        for result in report.numerics.values():
            assert not result.ok and "wrapped in the int16 accumulator" in result.coverage_message
    else:
        assert summary["numerics_ok"]


def test_gemm_4096_on_128x128_is_exact_and_compute_bound():
    summary = simulator.simulate("datacenter-hbm", "gemm-4096").summary
    assert summary["numerics_ok"] and summary["numerics_max_abs_error"] == 0
    assert summary["roofline_bound"] == "compute"
    assert 0.9 < summary["mac_utilization"] <= 1.0


def test_resnet18_on_edge_npu_is_exact_layer_by_layer():
    """ZigZag's ResNet-18 graph in int8: every conv equals the direct convolution exactly."""
    pytest.importorskip("onnx")
    workload = simulator.load_workload("resnet18.onnx", dtype="int8")
    report = simulator.simulate("edge-npu", workload)
    convs = [op.name for op in workload.ops if op.kind == "conv2d"]
    assert all(report.numerics[name].max_abs_error == 0 for name in convs)
    assert report.summary["numerics_ok"] and report.summary["macs"] == 1_814_073_344
