"""The runtime boundary: fallback to the host CPU with reasons, host-link transfers, the partition
map, and a model that does not fit device memory."""

import json
import math

import pytest

import simulator
from simulator.errors import CapacityError, SpecError
from simulator.spec import load_arch, load_workload
from tests.conftest import tiny_arch

LINK = {"kind": "link", "bandwidth": "1 GB/s", "latency": "1 us", "energy_per_bit": "5 pJ"}
CPU = {
    "kind": "cpu",
    "cores": 2,
    "vector_width": 4,
    "clock": "700 MHz",
    "memory_bandwidth": "7 GB/s",
}


def host_arch(**array):
    arch = tiny_arch()
    arch["components"]["pe"].update(array)
    arch["components"]["cpu"] = CPU
    arch["components"]["link"] = LINK
    arch["fallback"] = "cpu"
    return arch


def conv(name, inputs=(), **shape):
    return {"kind": "conv2d", "name": name, "inputs": list(inputs), "dtype": "int8", **shape}


def test_a_depthwise_conv_without_depthwise_support_runs_on_the_host():
    ops = [
        conv("pw", C=4, H=8, W=8, K=8),
        conv("dw", ["pw"], C=8, H=8, W=8, K=8, R=3, S=3, padding=1, groups=8),
        conv("pw2", ["dw"], C=8, H=8, W=8, K=4),
    ]
    report = simulator.simulate(host_arch(depthwise=False), {"name": "w", "ops": ops})
    part = report.partition.set_index("op")
    assert list(part.place) == ["accelerator", "host", "accelerator"]
    assert part.loc["dw", "reason"] == "unsupported op" and "depthwise" in part.loc["dw", "detail"]
    assert report.summary["numerics_ok"]
    # the host: 8 x 64 x 9 = 4608 MACs over 2 x 4 fma lanes at 700 MHz = the reference clock
    # -> 576 cycles; its bytes (512 in + 72 weights + 512 out) at 10 B/cycle -> 59 cycles
    assert part.loc["dw", "busy_cycles"] == max(4608 // 8, math.ceil(1096 / 10))
    links = report.host_link.set_index("transfer")
    # the input from the host, pw's output out to the host and dw's back, pw2's result home
    assert list(links.index) == ["host->pw", "pw->dw", "dw->pw2", "pw2->host"]
    assert links.loc["host->pw", "bytes"] == 4 * 64
    assert links.loc["pw->dw", "bytes"] == 8 * 64
    # 1 us + 512 B / 1 GB/s at 700 MHz
    assert links.loc["pw->dw", "link_cycles"] == math.ceil((1e-6 + 512 / 1e9) * 700e6 - 1e-9)
    b = report.summary["boundary"]
    assert b["fallback_ops"] == 1 and b["fallback_reasons"] == {"unsupported op": 1}
    assert b["fallback_flops_share"] == pytest.approx(4608 / (256 * 8 + 4608 + 512 * 4))
    assert b["host_link_bytes"] == 256 + 512 + 512 + 256


def test_an_unsupported_precision_falls_back_with_that_reason():
    arch = host_arch(input_precision=["int8"])
    op = conv("c", C=2, H=4, W=4, K=2) | {"dtype": "fp16"}
    report = simulator.simulate(arch, {"name": "w", "ops": [op]})
    assert report.partition.reason.tolist() == ["unsupported precision"]
    assert report.summary["numerics_ok"]


def test_without_a_fallback_the_depthwise_conv_is_an_error():
    arch = tiny_arch()
    arch["components"]["pe"]["depthwise"] = False
    op = conv("dw", C=4, H=4, W=4, K=4, R=3, S=3, groups=4)
    with pytest.raises(simulator.errors.UnsupportedError, match="depthwise"):
        simulator.simulate(arch, {"name": "w", "ops": [op]})


def test_mobilenetv2_on_an_array_without_depthwise_shows_the_fallback_share():
    pytest.importorskip("onnx")
    workload = load_workload("mobilenetv2.onnx", dtype="int8")
    depthwise = [op.name for op in workload.ops if op.kind == "conv2d" and op.depthwise]
    report = simulator.simulate("edge-npu-host", workload, numerics=False)
    part = report.partition
    assert sorted(part[part.fallback].op) == sorted(depthwise) and len(depthwise) == 17
    assert report.summary["macs"] == sum(
        op.macs if op.kind == "conv2d" else op.M * op.N * op.K
        for op in workload.ops
        if op.kind in ("conv2d", "gemm")
    )
    # the image, 3 x 224 x 224 int8, comes over the link first
    assert report.host_link.iloc[0]["bytes"] == 3 * 224 * 224


def test_a_model_larger_than_device_memory_is_a_capacity_error_with_its_footprint():
    arch = tiny_arch()
    arch["components"]["dram"]["capacity"] = "4 KiB"
    ops = [conv("a", C=16, H=8, W=8, K=32, R=3, S=3, padding=1)]
    # weights 32 x 16 x 9 = 4608 B, activations 16 x 64 in + 32 x 64 out = 3072 B
    with pytest.raises(CapacityError, match="footprint 7,680 B"):
        simulator.simulate(arch, {"name": "w", "ops": ops})


def test_a_cpu_needs_a_link():
    arch = tiny_arch()
    arch["components"]["cpu"] = CPU
    with pytest.raises(SpecError, match="one cpu and one link"):
        load_arch(arch)


def test_runs_without_host_or_fallback_report_no_boundary():
    report = simulator.simulate("edge-npu", "gemm-256", numerics=False)
    assert "boundary" not in report.summary
    assert report.partition.place.tolist() == ["accelerator"]


def test_the_partition_figure_has_one_bar_trace_per_place():
    from simulator.plots import partition_map

    ops = [
        conv("pw", C=4, H=8, W=8, K=8),
        conv("dw", ["pw"], C=8, H=8, W=8, K=8, R=3, S=3, padding=1, groups=8),
    ]
    report = simulator.simulate(host_arch(depthwise=False), {"name": "w", "ops": ops})
    fig = partition_map(report)
    assert sorted(trace.name for trace in fig.data) == ["accelerator", "host"]
    host = next(trace for trace in fig.data if trace.name == "host")
    assert list(host.x) == ["dw"]


def test_a_vector_unit_fallback_runs_a_depthwise_conv_at_one_mul_and_add_per_mac():
    arch = tiny_arch()
    arch["components"]["pe"]["depthwise"] = False
    arch["components"]["vec"] = {"kind": "vector", "lanes": 16}
    arch["fallback"] = "vec"
    op = conv("dw", C=8, H=6, W=6, K=8, R=3, S=3, padding=1, groups=8)
    report = simulator.simulate(arch, {"name": "w", "ops": [op]})
    assert report.summary["numerics_ok"]
    part = report.partition.set_index("op")
    assert part.loc["dw", "unit"] == "vec" and part.loc["dw", "fallback"]
    assert part.loc["dw", "reason"] == "unsupported op"
    # 8 x 36 x 9 = 2592 MACs: 2592 / 16 lanes multiplies + as many adds, one cycle each
    assert report.record.busy["vec"] == 2 * 2592 // 16


def test_weights_that_do_not_fit_are_streamed_from_the_host_and_reported():
    ops = [
        conv("a", C=16, H=8, W=8, K=32, R=3, S=3, padding=1),
        conv("b", ["a"], C=32, H=8, W=8, K=32, R=3, S=3, padding=1),
    ]
    # weights 4,608 + 9,216 B; live activations peak at b: a's 2,048 B output + b's 2,048 B
    arch = host_arch()
    arch["components"]["dram"]["capacity"] = "16 KiB"  # 13,824 + 4,096 = 17,920 B do not fit
    report = simulator.simulate(arch, {"name": "w", "ops": ops})
    b = report.summary["boundary"]
    assert b["weights_streamed"] and b["streamed_weight_bytes"] == 4608 + 9216
    assert report.host_link.set_index("transfer").loc["host->b.weights", "bytes"] == 9216
    assert report.summary["numerics_ok"]
    without_host = tiny_arch()
    without_host["components"]["dram"]["capacity"] = "16 KiB"
    with pytest.raises(CapacityError, match=r"footprint 17,920 B .* streams weights"):
        simulator.simulate(without_host, {"name": "w", "ops": ops})


def test_host_transfers_export_as_json_with_null_intensity():
    # host->pw and pw->host move no DRAM bytes: their arithmetic intensity is infinite, which
    # JSON cannot hold, so the export writes null (it raised ValueError before)
    report = simulator.simulate(host_arch(), {"name": "w", "ops": [conv("pw", C=4, H=8, W=8, K=8)]})
    intensity = {op["name"]: op["arithmetic_intensity"] for op in report.summary["ops"]}
    assert math.isinf(intensity["host->pw"])
    exported = {
        op["name"]: op["arithmetic_intensity"]
        for op in json.loads(report.to_json())["summary"]["ops"]
    }
    assert exported["host->pw"] is None and exported["pw"] == intensity["pw"]
