"""ONNX import: shapes from shape inference, weight-stripped graphs, MAC counts, clear errors."""

import sys
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import simulator  # noqa: E402
from simulator.cli import main  # noqa: E402
from simulator.errors import SpecError, UnsupportedError  # noqa: E402
from simulator.spec import load_workload  # noqa: E402

RESNET18_MACS = 1_814_073_344  # ZigZag's count for its resnet18.onnx at 224x224 (issue #15)


def _model(tmp_path, nodes, inputs, outputs, initializers=(), name="m"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    path = tmp_path / f"{name}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), str(path))
    return path


def _weight(name, dims):
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * _count(dims))


def _count(dims):
    total = 1
    for d in dims:
        total *= d
    return total


def _small_cnn(tmp_path, extra=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 10, 10])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node(
            "Conv", ["x", "w1"], ["a"], name="/stem/Conv", pads=[1, 1, 1, 1], strides=[2, 2]
        ),
        helper.make_node("Relu", ["a"], ["b"], name="/stem/Relu"),
        helper.make_node("Conv", ["b", "w2"], ["c"], name="/dw/Conv", pads=[1] * 4, group=8),
        helper.make_node("Add", ["b", "c"], ["d"], name="/Add"),
        helper.make_node("GlobalAveragePool", ["d"], ["e"], name="/pool"),
        helper.make_node("Flatten", ["e"], ["f"], name="/flatten"),
        helper.make_node("Gemm", ["f", "fc"], ["g"], name="/fc", transB=1),
        *extra,
    ]
    last = extra[-1].output[0] if extra else "g"
    nodes.append(helper.make_node("Identity", [last], ["y"], name="/out"))
    weights = [_weight("w1", [8, 4, 3, 3]), _weight("w2", [8, 1, 3, 3]), _weight("fc", [10, 8])]
    return _model(tmp_path, nodes, [x], [y], weights)


def test_a_helper_built_cnn_imports_with_inferred_shapes(tmp_path):
    workload = load_workload(_small_cnn(tmp_path), dtype="int8")
    ops = {op.name: op for op in workload.ops}
    stem, dw, fc = ops["stem/Conv"], ops["dw/Conv"], ops["fc"]
    assert (stem.C, stem.H, stem.K, stem.R, stem.stride, stem.padding) == (4, 10, 8, 3, 2, 1)
    assert (stem.P, stem.Q) == (5, 5)  # (10 + 2 - 3) // 2 + 1
    assert dw.depthwise and dw.groups == 8 and (dw.H, dw.W) == (5, 5)
    assert (fc.M, fc.N, fc.K) == (1, 10, 8)
    assert ops["Add"].inputs == ["stem/Relu", "dw/Conv"]
    assert ops["fc"].inputs == ["pool"]  # Flatten passes its producer through
    report = simulator.simulate("edge-npu", workload)
    assert report.summary["numerics_ok"]
    assert report.summary["macs"] == 8 * 25 * 36 + 8 * 25 * 9 + 80


def test_unsupported_ops_are_listed_in_one_error(tmp_path):
    extra = [
        helper.make_node("Sigmoid", ["g"], ["h"], name="/sig"),
        helper.make_node("Sigmoid", ["h"], ["i"], name="/sig2"),
        helper.make_node("Erf", ["i"], ["j"], name="/erf"),
    ]
    workload = load_workload(_small_cnn(tmp_path, extra), dtype="int8")
    with pytest.raises(UnsupportedError, match=r"Erf \(x1\), Sigmoid \(x2\)"):
        simulator.simulate("edge-npu", workload)


def test_with_a_host_fallback_unsupported_ops_run_there_and_are_reported(tmp_path):
    extra = [helper.make_node("Sigmoid", ["g"], ["h"], name="/sig")]
    workload = load_workload(_small_cnn(tmp_path, extra), dtype="int8")
    sig = next(op for op in workload.ops if op.kind == "onnx")
    assert (sig.op_type, sig.input_elements, sig.output_elements) == ("Sigmoid", 10, 10)
    report = simulator.simulate("edge-npu-host", workload)
    part = report.partition.set_index("op")
    assert part.loc["sig", "place"] == "host" and part.loc["sig", "reason"] == "unsupported op"
    assert "ONNX Sigmoid" in part.loc["sig", "detail"]
    assert report.summary["numerics_ok"]  # the modelled ops are still checked
    assert "sig" not in report.numerics


def test_resnet18_weight_stripped_graph_has_zigzags_mac_count():
    workload = load_workload("resnet18.onnx", dtype="int8")
    kinds = [op.kind for op in workload.ops]
    assert kinds.count("conv2d") == 20 and kinds.count("gemm") == 1
    macs = sum(op.macs for op in workload.ops if op.kind == "conv2d")
    macs += sum(op.M * op.N * op.K for op in workload.ops if op.kind == "gemm")
    assert macs == RESNET18_MACS


def test_resnet18_runs_on_edge_npu_with_every_mac():
    report = simulator.simulate(
        "edge-npu", load_workload("resnet18.onnx", dtype="int8"), numerics=False
    )
    s = report.summary
    assert s["macs"] == RESNET18_MACS
    assert s["cycles"] >= RESNET18_MACS / 1024  # 32x32 array at one MAC per PE per cycle
    assert len(report.layers) == 21


def test_graph_precision_is_used_without_dtype():
    workload = load_workload("resnet18.onnx")
    assert {op.dtype for op in workload.ops} == {"fp32"}
    with pytest.raises(UnsupportedError, match="in fp32"):
        simulator.simulate("edge-npu", workload, numerics=False)


def test_a_missing_or_broken_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="no such ONNX file"):
        load_workload(str(tmp_path / "absent.onnx"))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf")
    with pytest.raises(SpecError, match="not a readable ONNX model"):
        load_workload(str(bad))


def test_import_onnx_writes_a_workload_yaml_that_loads(tmp_path):
    out = tmp_path / "r18.yaml"
    assert main(["import-onnx", "resnet18.onnx", "-o", str(out), "--dtype", "int8"]) == 0
    workload = load_workload(out)
    assert len(workload.ops) == 48 and workload.ops[0].kind == "conv2d"


def test_run_accepts_an_onnx_model(tmp_path):
    path = _small_cnn(tmp_path)
    assert main(["run", "edge-npu", str(path), "--dtype", "int8", "--json"]) == 0


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv2"])
def test_yaml_presets_have_the_conv_shapes_of_zigzags_graphs(name):
    """The presets are written from the torchvision definitions (benchmarks/cnn_presets.py); the
    shipped ONNX graphs were exported from torchvision independently: every conv must agree."""

    def shapes(workload):
        fields = ("C", "H", "W", "K", "R", "S", "stride", "padding", "groups")
        return [tuple(getattr(op, f) for f in fields) for op in workload.ops if op.kind == "conv2d"]

    assert shapes(load_workload(name)) == shapes(load_workload(f"{name}.onnx", dtype="int8"))


def test_resnet50_preset_has_the_published_mac_count():
    # 4.09 GMACs (torchvision's table lists ResNet-50 at 4.09 "GFLOPS", counted as MACs)
    workload = load_workload("resnet50")
    macs = sum(op.macs for op in workload.ops if op.kind == "conv2d")
    macs += sum(op.M * op.N * op.K for op in workload.ops if op.kind == "gemm")
    assert round(macs / 1e9, 2) == 4.09


def test_a_batched_matmul_of_two_activations_is_one_gemm_per_batch_index(tmp_path):
    # q [2, 3, 4, 5] @ k [3, 5, 6]: batch dims (2, 3) and (3,) broadcast to 6 GEMMs of 4 x 5 x 6
    q = helper.make_tensor_value_info("q", TensorProto.FLOAT, [2, 3, 4, 5])
    k = helper.make_tensor_value_info("k", TensorProto.FLOAT, [3, 5, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Relu", ["q"], ["a"], name="/qa"),
        helper.make_node("MatMul", ["a", "k"], ["s"], name="/scores"),
        helper.make_node("Transpose", ["s"], ["t"], name="/t", perm=[0, 1, 3, 2]),
        helper.make_node("Softmax", ["t"], ["y"], name="/softmax", axis=-1),
    ]
    ops = load_workload(_model(tmp_path, nodes, [q, k], [y]), dtype="int8").ops
    gemms = [op for op in ops if op.kind == "gemm"]
    assert [op.name for op in gemms] == [f"scores/b{i}" for i in range(6)]
    assert {(op.M, op.K, op.N) for op in gemms} == {(4, 5, 6)}
    assert all(op.inputs == ["qa"] for op in gemms)
    # a Transpose is free: the softmax reads every batch's GEMM
    assert ops[-1].inputs == [op.name for op in gemms] and ops[-1].rows == 2 * 3 * 6


def test_batch_dims_that_do_not_broadcast_are_an_error(tmp_path):
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 4, 5])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [3, 5, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 6])
    path = _model(
        tmp_path, [helper.make_node("MatMul", ["a", "b"], ["y"], name="/mm")], [a, b], [y]
    )
    with pytest.raises((UnsupportedError, SpecError), match="mm"):
        load_workload(path)


def test_bert_base_graph_has_the_encoders_closed_form_macs():
    """12 layers of 4 S H^2 (Q, K, V, output) + 2 S H F (FFN) + 2 S^2 H (Q K^T, P V over 12
    heads of 64) MACs at S = 128, H = 768, F = 3072."""
    ops = load_workload("bert-base.onnx", dtype="int8").ops
    s, h, f = 128, 768, 3072
    gemms = [op for op in ops if op.kind == "gemm"]
    assert sum(op.M * op.N * op.K for op in gemms) == 12 * (
        4 * s * h * h + 2 * s * h * f + 2 * s * s * h
    )
    assert len(gemms) == 12 * (6 + 2 * 12)
    assert sum(op.kind == "softmax" for op in ops) == 12
    assert {(op.M, op.N, op.K) for op in gemms if "/scores/" in op.name} == {(s, s, 64)}


def test_the_shipped_bert_graph_is_what_its_script_writes():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import onnx_bert_base  # noqa: PLC0415  (a script in benchmarks/, not a package)

    shipped = Path(__file__).resolve().parents[2] / "workloads" / "onnx" / "bert-base.onnx"
    assert onnx_bert_base.build().SerializeToString() == shipped.read_bytes()


def _conv_model(tmp_path, name, out_dims=None, **attrs):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 9, 9])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_dims)
    conv = helper.make_node("Conv", ["x", "w"], ["y"], **attrs)
    return _model(tmp_path, [conv], [x], [y], [_weight("w", [8, 4, 3, 3])], name=name)


@pytest.mark.parametrize(
    ("attrs", "padding"),
    [
        ({"auto_pad": "SAME_UPPER"}, 1),  # total (9 - 1) + 3 - 9 = 2: one a side
        ({"auto_pad": "SAME_LOWER", "dilations": [2, 2]}, 2),  # (9 - 1) + 5 - 9 = 4
        ({"auto_pad": "VALID"}, 0),
        ({"auto_pad": "SAME_UPPER", "strides": [3, 3]}, 0),  # (3 - 1) * 3 + 3 - 9 = 0
    ],
)
def test_auto_pad_becomes_the_padding_onnx_defines(tmp_path, attrs, padding):
    op = load_workload(_conv_model(tmp_path, "pad", **attrs)).ops[0]
    assert op.padding == padding
    stride = attrs.get("strides", [1])[0]
    assert op.P == op.Q == (-(-9 // stride) if attrs["auto_pad"] != "VALID" else 7)


@pytest.mark.parametrize(
    ("attrs", "out_dims", "fragment"),
    [
        ({"auto_pad": "SAME_UPPER", "strides": [7, 7]}, None, "asymmetric padding"),  # 1 + 3 - 3
        ({"dilations": [2, 2]}, [1, 8, 7, 7], "shapes that do not agree"),
        ({"group": 2}, None, "does not fit input"),
    ],
)
def test_graphs_accsim_would_misread_are_refused(tmp_path, attrs, out_dims, fragment):
    with pytest.raises((SpecError, UnsupportedError), match=fragment):
        load_workload(_conv_model(tmp_path, "bad", out_dims, **attrs))


def test_matmul_inner_dims_empty_tensors_and_unsorted_nodes_are_refused(tmp_path):
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    cases = {
        "shapes that do not agree": ([2, 4], "mm", ["x", "w"], [3, 5]),
        "empty dim": ([0, 4], "mm", ["x", "w"], [4, 5]),
        "no earlier node makes": ([2, 4], "mm", ["x", "later"], [4, 5]),
    }
    for fragment, (x_dims, name, inputs, w_dims) in cases.items():
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)
        node = helper.make_node("MatMul", inputs, ["y"], name=name)
        path = _model(tmp_path, [node], [x], [y], [_weight("w", w_dims)], name=name)
        with pytest.raises(SpecError, match=fragment):
            load_workload(path)


def test_a_sum_of_three_tensors_and_a_weight_reads_all_four(tmp_path):
    """ONNX Sum is variadic: Sum(relu(x), relu(x), x, w) reads four 2 x 8 tensors, whatever made
    them (two ops, a graph input, a weight), and adds three times per element; Max, Min and Mean
    are no vector op, so they stay `onnx` ops whose input elements count every input."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="r1"),
        helper.make_node("Relu", ["x"], ["b"], name="r2"),
        helper.make_node("Sum", ["a", "b", "x", "w"], ["s"], name="sum"),
        helper.make_node("Mean", ["s", "a", "b"], ["y"], name="mean"),
    ]
    path = _model(tmp_path, nodes, [x], [y], [_weight("w", [2, 8])])
    ops = {op.name: op for op in load_workload(str(path)).ops}
    assert (ops["sum"].kind, ops["sum"].reads, ops["sum"].inputs) == ("add", 4, ["r1", "r2"])
    assert (ops["mean"].kind, ops["mean"].input_elements) == ("onnx", 3 * 16)


def test_a_sum_of_one_tensor_is_that_tensor(tmp_path):
    """Sum(relu(x)) is relu(x) itself (ONNX Sum of one input): its consumer reads the Relu's
    output, and nothing adds a second, absent operand (it was an add of 2 x 8 + 2 x 8)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="r1"),
        helper.make_node("Sum", ["a"], ["s"], name="sum"),
        helper.make_node("Relu", ["s"], ["y"], name="r2"),
    ]
    path = _model(tmp_path, nodes, [x], [y], [])
    ops = {op.name: op for op in load_workload(str(path)).ops}
    assert set(ops) == {"r1", "r2"} and ops["r2"].inputs == ["r1"]
