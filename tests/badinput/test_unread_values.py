"""hostile17: values that were read wrong or by nothing (an ONNX Softmax before opset 13, a
report's to_json given a path, serving requests out of order) and the valid edges next to each
refusal, which must still run."""

import math
import re

import pandas as pd
import pytest

import simulator
from simulator.errors import AccsimError
from simulator.serving import serve
from simulator.serving.requests import RequestSpec
from simulator.spec import load_arch, load_workload
from simulator.sweep import parameter_columns, pareto_front, read_results, write_results


def _softmax_model(tmp_path, opset: int, **attrs):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Softmax", ["x"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", [x], [y])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = 7
    path = tmp_path / f"softmax{opset}.onnx"
    onnx.save(proto, str(path))
    return path


@pytest.mark.parametrize(
    ("opset", "attrs", "rows", "cols"),
    [
        (11, {}, 4, 8 * 16),  # opset 11: the input flattened to 2-D at axis 1, the default
        (11, {"axis": 2}, 4 * 8, 16),
        (11, {"axis": 0}, 1, 4 * 8 * 16),
        (13, {}, 4 * 8, 16),  # opset 13: along the last axis, the default -1
    ],
)
def test_an_onnx_softmax_normalises_the_rows_its_opset_names(tmp_path, opset, attrs, rows, cols):
    """ONNX Softmax before opset 13 coerces its input to 2-D at `axis` (default 1): a [4, 8, 16]
    input is 4 rows of 128, which was imported as 32 rows of 16 (the opset-13 reading)."""
    (op,) = load_workload(_softmax_model(tmp_path, opset, **attrs)).ops
    assert (op.kind, op.rows, op.cols) == ("softmax", rows, cols)


def test_pool_padding_just_below_the_window_still_runs():
    """padding = window - 1 leaves every window a real element (the refusal starts at window)."""
    report = simulator.simulate("edge-npu", "pool:C=1,H=4,W=4,R=3,S=3,padding=2,dtype=fp16")
    assert report.summary["numerics_ok"] is True


@pytest.mark.parametrize("flit", ["1 B", "3 B", "16 B"])
def test_whole_byte_flits_are_taken(flit):
    arch = load_arch("mesh-4x4", [(["components", "noc", "flit"], flit)])
    assert arch.components["noc"].flit == int(flit.split()[0])


def test_per_operand_dram_interfaces_given_whole_still_load():
    dram = {"input": "1 GB/s", "weight": "2 GB/s", "output": "3 GB/s"}
    arch = load_arch("edge-npu", [(["components", "dram", "operand_bandwidth"], dram)])
    assert sum(arch.components["dram"].operand_bandwidth.values()) == pytest.approx(6e9)


def test_a_preset_with_a_voltage_law_runs_uncapped_once_its_law_is_cleared_too():
    """mi300x-like's cap carries a fitted V-f law: lifting the cap alone leaves the law read by
    nothing (refused, naming the --set that clears it); cleared with it, the chip runs at its
    data sheet's 2100 MHz (no operating points: its clock). It was refused however given."""
    cap = [(["chip", "tdp"], None)]
    with pytest.raises(AccsimError, match=r"--set chip.voltage_exponent=0 clears a preset's"):
        load_arch("mi300x-like", cap)
    report = simulator.simulate(
        load_arch("mi300x-like", [*cap, (["chip", "voltage_exponent"], 0)]),
        "gemm:M=256,N=256,K=256",
        numerics=False,
    )
    assert report.summary["clock_hz"] == pytest.approx(2.1e9)


def test_to_json_refuses_a_path_as_its_indent():
    """`to_json('out.json')` wrote 'out.json' before every key and no file."""
    report = simulator.simulate("edge-npu", "gemm:M=32,N=32,K=32", numerics=False)
    with pytest.raises(AccsimError, match="to_json: indent='out.json'"):
        report.to_json("out.json")
    assert report.to_json(0).startswith("{\n") and report.to_json(None).startswith("{")


LIBRARY_CALLS = [
    (lambda: load_arch("edge-npu", overrides=5), "override 5: give (keys, value) pairs"),
    (lambda: read_results(3), "read_results: path: expected str or Path, got int"),
    (lambda: write_results([1], "r.csv"), "write_results: df (the results table)"),
    (lambda: parameter_columns([1]), "parameter_columns: df (the results table)"),
    (
        lambda: pareto_front(pd.DataFrame({"s": ["ok", "ok"]}), {"s": "min"}),
        "objective 's' holds words",
    ),
    (
        lambda: simulator.simulate("edge-npu", "gemm-256", numerics=False).program_op("x"),
        "program_op: no op 'x'; ops: gemm",
    ),
    (lambda: RequestSpec(0, -1.0, 16, 4), "arrival_s must be a time in"),
    (lambda: RequestSpec(0, math.nan, 16, 4), "arrival_s must be a time in"),
    (lambda: RequestSpec(0, "0", 16, 4), "arrival_s must be a time in"),
    (lambda: RequestSpec(0, 0.0, 0, 4), "prompt_tokens must be an integer >= 1"),
    (lambda: RequestSpec(0, 0.0, 16, 2.5), "output_tokens must be an integer >= 1"),
    (lambda: RequestSpec(0, 0.0, True, 4), "prompt_tokens must be an integer >= 1, got True"),
    (
        lambda: serve("tpu-v4-like", "llama-2-7b", [RequestSpec(0, 0, 16, 4)] * 2),
        "rid 0 given twice",
    ),
    (
        lambda: serve(
            "tpu-v4-like", "llama-2-7b", [RequestSpec(0, 1.0, 16, 4), RequestSpec(1, 0.0, 16, 4)]
        ),
        "request 1 arrives at 0 s, before request 0 (1 s)",
    ),
]


@pytest.mark.parametrize(("call", "message"), LIBRARY_CALLS, ids=[m for _, m in LIBRARY_CALLS])
def test_the_library_refuses_what_it_read_wrong_in_one_line(call, message, tmp_path, monkeypatch):
    """Each was a TypeError or AttributeError, or a result of a request that never was (an
    arrival at -1 s counted a second of waiting; a later arrival listed first was served first)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AccsimError, match=re.escape(message)) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_results_helpers_take_a_str_path(tmp_path):
    table = pd.DataFrame({"arch.clock": [1e9, 2e9], "cycles": [3, 1], "status": ["ok", "ok"]})
    write_results(table, str(tmp_path / "r.csv"))
    back = read_results(str(tmp_path / "r.csv"))
    assert parameter_columns(back) == ["arch.clock"]
    assert list(pareto_front(back, "cycles").index) == [1]  # one column, not its letters


def test_a_router_picks_among_several_replicas(tmp_path, capsys):
    """--router is taken where it picks: several replicas, or several decode replicas."""
    from simulator.cli import main

    base = "serve tpu-v4-like llama-2-7b --requests 4 --prompt-len 16 --output-len 4".split()
    cache = ["--cost-cache", str(tmp_path / "c.json"), "--router", "least_outstanding"]
    assert main([*base, *cache, "--replicas", "2"]) == 0
    split = ["--scheduler", "disaggregated", "--decode-replicas", "2"]
    assert main([*base, *cache, *split]) == 0
