"""ONNX import: a model's graph becomes a workload document (conv2d, gemm, pool, vector ops).

Shapes come from onnx shape inference, never from weight values, so weight-stripped files work
(the numerics draw seeded operands). Reshapes and other free ops pass their producer through.
Needs the optional `onnx` package: pip install 'accsim[onnx]'.
"""

import math
import re
from pathlib import Path

from simulator.errors import SpecError, UnsupportedError
from simulator.spec.workload import MULTI_OPERAND, ConvOpSpec, PoolOpSpec
from simulator.spec.yamlio import MAX_NODES

# ONNX TensorProto element types -> accsim precisions
ELEMENT_TYPES = {1: "fp32", 2: "int8", 3: "int8", 5: "int16", 6: "int32", 10: "fp16", 16: "bf16"}
# no arithmetic: their consumer reads the producer's tensor (a Transpose through its load
# addressing, as the per-head split of attention does)
FREE = {
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Identity",
    "Dropout",
    "Constant",
    "Shape",
    "Transpose",
}
VECTOR = {
    "Relu": "relu",
    "Clip": "relu",  # ReLU6: a max and a min, costed as one max
    "Add": "add",
    "Sum": "add",
    "Mul": "mul",
    "BatchNormalization": "batchnorm",
    "Concat": "concat",
    "Softmax": "softmax",
    "LayerNormalization": "layernorm",
    "Gelu": "gelu",
}
POOLS = {"MaxPool": "max", "AveragePool": "avg", "GlobalAveragePool": "avg", "GlobalMaxPool": "max"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise UnsupportedError(
            "reading .onnx files needs the onnx package: pip install 'accsim[onnx]'"
        ) from None
    return onnx


def _shapes(graph, path: Path) -> dict[str, list[int]]:
    """Tensor name -> shape; symbolic dims (a batch 'N') are taken as 1, a dim of 0 is refused."""
    shapes = {}
    for t in graph.initializer:
        if 0 in t.dims:
            raise SpecError(f"{path}: tensor {t.name!r} has an empty dim {list(t.dims)}")
        shapes[t.name] = list(t.dims)
    for info in [*graph.input, *graph.value_info, *graph.output]:
        if not info.type.tensor_type.HasField("shape"):
            continue  # no shape at all (not a scalar's empty one): unknown to every node
        dims = info.type.tensor_type.shape.dim
        if any(d.WhichOneof("value") == "dim_value" and d.dim_value <= 0 for d in dims):
            shown = [
                d.dim_value if d.WhichOneof("value") == "dim_value" else d.dim_param for d in dims
            ]
            raise SpecError(f"{path}: tensor {info.name!r} has an empty dim {shown}")
        shapes[info.name] = [d.dim_value if d.dim_value > 0 else 1 for d in dims]
    return shapes


def _types(graph) -> dict[str, int]:
    types = {t.name: t.data_type for t in graph.initializer}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        types[info.name] = info.type.tensor_type.elem_type
    return types


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def short_name(text: str) -> str:
    """'/layer1/layer1.0/conv1/Conv' -> 'layer1.0/conv1/Conv': a path part that only prefixes
    the next one is dropped, characters outside [A-Za-z0-9_./-] become '_'."""
    parts = [p for p in text.split("/") if p]
    kept = [p for p, after in zip(parts, parts[1:] + [""]) if not after.startswith(p)]
    return re.sub(r"[^A-Za-z0-9_./-]+", "_", "/".join(kept)).strip("_/")


def _name(node, index: int, taken: set[str]) -> str:
    """A short unique op name for a node (its ONNX name, shortened)."""
    base = short_name(node.name or f"{node.op_type.lower()}_{index}") or f"node_{index}"
    name, i = base, 1
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _rows_cols(shape: list[int], along_last: bool = False) -> tuple[int, int]:
    """A vector op's rows x cols: channels (N C) by map size (H W) for a feature map, else (and
    for ops that normalise along the last axis, as attention's softmax) leading dims by the last."""
    if len(shape) == 4 and not along_last:
        return shape[0] * shape[1], shape[2] * shape[3]
    return max(1, math.prod(shape[:-1])), shape[-1] if shape else 1


def _symmetric(pads: list[int], where: str) -> int:
    if pads and len(set(pads)) != 1:
        raise UnsupportedError(f"{where}: asymmetric padding {pads} (accsim pads every side alike)")
    return pads[0] if pads else 0


def _padding(
    attrs: dict, size: list[int], window: list[int], stride: int, dilation: int, where: str
) -> int:
    """The one padding of every side: from `pads`, or what `auto_pad` SAME_* implies for these
    sizes (ONNX: output = ceil(input / stride)); VALID pads nothing."""
    mode = attrs.get("auto_pad", b"NOTSET")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode in ("NOTSET", ""):
        return _symmetric(list(attrs.get("pads", [])), where)
    if mode == "VALID":
        return 0
    totals = [
        max(0, (math.ceil(n / stride) - 1) * stride + (r - 1) * dilation + 1 - n)
        for n, r in zip(size, window)
    ]
    return _symmetric(
        [half for total in totals for half in (total // 2, total - total // 2)], where
    )


def _check_output(node, name: str, shapes: dict, height: int, width: int) -> None:
    """The map size accsim's conv/pool parameters give must be the model's own (shape
    inference's); else a padding or window rule was read wrong, and results would be."""
    out = shapes.get(node.output[0], [])
    if len(out) == 4 and out[2:] != [height, width]:
        raise UnsupportedError(
            f"{name}: output map {out[2]}x{out[3]} in the model, {height}x{width} with accsim's "
            f"stride, padding and dilation (an unsupported {node.op_type} attribute?)"
        )


def _same(values: list[int], what: str, where: str) -> int:
    if values and len(set(values)) != 1:
        raise UnsupportedError(f"{where}: different {what} per axis {values}")
    return values[0] if values else 1


def _conv(node, name, shapes, attrs, dtype):
    x, w = shapes[node.input[0]], shapes[node.input[1]]  # [N, C, H, W], [K, C/g, R, S]
    if len(x) != 4:
        raise UnsupportedError(f"{name}: only 2-D convolutions are supported (input {x})")
    groups = attrs.get("group", 1)
    if len(w) != 4 or w[1] * groups != x[1]:
        raise SpecError(f"{name}: weight {w} with group {groups} does not fit input {x}")
    stride = _same(list(attrs.get("strides", [])), "strides", name)
    dilation = _same(list(attrs.get("dilations", [])), "dilations", name)
    padding = _padding(attrs, x[2:], w[2:], stride, dilation, name)
    op = {
        "kind": "conv2d",
        "N": x[0],
        "C": x[1],
        "H": x[2],
        "W": x[3],
        "K": w[0],
        "R": w[2],
        "S": w[3],
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "dtype": dtype,
    }
    conv = ConvOpSpec.model_construct(**op)  # its output size, before the spec is validated
    _check_output(node, name, shapes, conv.P, conv.Q)
    return op


def _gemm(node, name, shapes, attrs, dtype):
    a, b = shapes[node.input[0]], shapes[node.input[1]]
    if node.op_type == "Gemm":
        m, k = (a[1], a[0]) if attrs.get("transA") else (a[0], a[1])
        n = b[0] if attrs.get("transB") else b[1]
    else:  # MatMul: [..., M, K] @ [K, N] (batched: [..., M, K] @ [..., K, N], see _batch)
        if len(a) < 2 or len(b) < 2:
            raise UnsupportedError(f"{name}: MatMul of a vector {a} x {b}")
        m, k, n = math.prod(a[:-1]) if len(b) == 2 else a[-2], a[-1], b[-1]
    return {"kind": "gemm", "M": m, "N": n, "K": k, "dtype": dtype}


def _batch(node, name, shapes) -> int:
    """GEMMs a MatMul is: the broadcast batch dims of [..., M, K] @ [..., K, N] (1 for a 2-D B,
    whose rows every leading dim of A shares)."""
    if node.op_type != "MatMul" or len(shapes[node.input[1]]) <= 2:
        return 1
    a, b = shapes[node.input[0]][:-2], shapes[node.input[1]][:-2]
    width = max(len(a), len(b))
    a, b = [1] * (width - len(a)) + a, [1] * (width - len(b)) + b
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        raise UnsupportedError(f"{name}: MatMul batch dims {a} and {b} do not broadcast")
    return math.prod(max(x, y) for x, y in zip(a, b))


def _pool(node, name, shapes, attrs, dtype):
    x = shapes[node.input[0]]  # [N, C, H, W]
    if len(x) != 4:  # a 1-D one failed on x[3], a 3-D one pooled two of its three dims
        raise UnsupportedError(f"{name}: only 2-D pooling is supported (input {x})")
    op = {"kind": "pool", "mode": POOLS[node.op_type], "N": x[0], "C": x[1], "H": x[2], "W": x[3]}
    if not node.op_type.startswith("Global"):
        r, s = attrs["kernel_shape"]
        stride = _same(list(attrs.get("strides", [])), "strides", name)
        if (
            attrs.get("ceil_mode")
            or _same(list(attrs.get("dilations", [])), "dilations", name) != 1
        ):
            raise UnsupportedError(f"{name}: {node.op_type} with ceil_mode or dilations")
        padding = _padding(attrs, x[2:], [r, s], stride, 1, name)
        op |= {"R": r, "S": s, "stride": stride, "padding": padding}
        pool = PoolOpSpec.model_construct(**op)  # its output size, before the spec is validated
        _check_output(node, name, shapes, pool.P, pool.Q)
    return op | {"dtype": dtype}


def _vector(node, name, shapes, attrs, dtype, opset: int):
    shape = shapes[node.output[0]]
    along_last = node.op_type in ("Softmax", "LayerNormalization")
    if node.op_type == "Softmax" and opset < 13:  # the input as 2-D [:axis] x [axis:], axis 1
        axis = attrs.get("axis", 1) % max(1, len(shape))  # by default (a 3-D one was read as -1)
        rows, cols = math.prod(shape[:axis]), math.prod(shape[axis:])
        return {"kind": "softmax", "rows": rows, "cols": cols, "dtype": dtype}
    if along_last and attrs.get("axis", -1) not in (-1, len(shape) - 1):
        raise UnsupportedError(f"{name}: {node.op_type} over axis {attrs['axis']}, not the last")
    rows, cols = _rows_cols(shape, along_last)
    op = {"kind": VECTOR[node.op_type], "rows": rows, "cols": cols, "dtype": dtype}
    operands = sum(1 for t in node.input if t)  # Sum is variadic: it reads each, weights too
    if op["kind"] in MULTI_OPERAND and operands > 2:
        op["operands"] = operands
    return op


def _opaque(node, shapes, weights, dtype):
    inputs = [t for t in node.input if t and t not in weights and t in shapes]
    return {
        "kind": "onnx",
        "op_type": node.op_type,
        "input_elements": max(1, sum(math.prod(shapes[t]) for t in inputs)),
        "output_elements": max(1, math.prod(shapes[node.output[0]])),
        "dtype": dtype,
    }


def _op(node, name: str, shapes: dict, weights: set[str], dtype: str, opset: int) -> dict:
    """The op fields of one compute node, by its ONNX op type (and the model's opset, where an
    attribute's meaning changed with it)."""
    attrs = _attrs(node)
    if node.op_type == "Conv":
        return _conv(node, name, shapes, attrs, dtype)
    if node.op_type in ("Gemm", "MatMul"):
        return _gemm(node, name, shapes, attrs, dtype)
    if node.op_type in POOLS:
        return _pool(node, name, shapes, attrs, dtype)
    if node.op_type in VECTOR:
        return _vector(node, name, shapes, attrs, dtype, opset)
    return _opaque(node, shapes, weights, dtype)  # no model: runs only on a host fallback


def _check_order(graph, weights: set[str], path: Path) -> None:
    """Every node reads graph inputs, weights or an earlier node's outputs (ONNX's own rule: nodes
    are topologically sorted), so each op's inputs are known when it is read; and every tensor is
    made once (static single assignment: a second writer would silently replace the first's
    consumers' producer)."""
    known = weights | {t.name for t in graph.input} | {""}
    for index, node in enumerate(graph.node):
        where = node.name or f"{node.op_type} node {index}"
        unknown = [t for t in node.input if t not in known]
        if unknown:
            raise SpecError(f"{path}: {where} reads {unknown[0]!r}, which no earlier node makes")
        again = [t for t in node.output if t in known and t]
        if again:
            raise SpecError(
                f"{path}: {where} writes {again[0]!r}, which a graph input, weight or earlier "
                "node already makes (ONNX tensors are made once)"
            )
        known.update(node.output)


def import_onnx(path: str | Path, dtype: str | None = None) -> dict:
    """The workload document of an ONNX model; `dtype` sets every op's precision (default: the
    graph's element type per node). A node accsim has no model of becomes a `kind: onnx` op, which
    only a host CPU fallback runs."""
    onnx = _onnx()
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such ONNX file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # onnx raises many types for a bad file
        raise SpecError(f"{path}: not a readable ONNX model ({error})") from None
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as error:  # an InferenceError, or a schema error of a malformed node
        reason = " ".join(str(error).split())
        raise SpecError(f"{path}: shapes that do not agree ({reason})") from None
    graph = model.graph
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=1)
    shapes, types = _shapes(graph, path), _types(graph)
    weights = {t.name for t in graph.initializer}
    _check_order(graph, weights, path)
    producer: dict[str, list[str]] = {}  # tensor -> the ops that make it ([]: a graph input)
    ops, taken, position = [], set(), {}
    for index, node in enumerate(graph.node):
        sources = [producer.get(t, []) for t in node.input if t and t not in weights]
        inputs = sorted({s for names in sources for s in names}, key=position.get)
        lone_sum = node.op_type == "Sum" and sum(1 for t in node.input if t) == 1
        if node.op_type in FREE or lone_sum:  # a Sum of one tensor is that tensor
            for out in node.output:
                producer[out] = sources[0] if sources else []
            continue
        name = _name(node, index, taken)
        missing = [t for t in node.input[:1] if t not in shapes]
        if missing or node.output[0] not in shapes:
            raise SpecError(
                f"{path}: node {name}: shape inference left {missing or node.output[:1]} unknown"
            )
        element = types.get(node.input[0], 1)
        node_dtype = dtype or ELEMENT_TYPES.get(element, "fp32")
        try:
            op = _op(node, name, shapes, weights, node_dtype, opset)
            if dtype is None and element not in ELEMENT_TYPES and op["kind"] != "onnx":
                raise UnsupportedError(  # read as fp32, its arithmetic was silently another's
                    f"{name}: its input {node.input[0]!r} is ONNX "
                    f"{onnx.TensorProto.DataType.Name(element)}, which no accsim precision "
                    "holds; give the precision to model it in (--dtype)"
                )
            batch = _batch(node, name, shapes) if op["kind"] == "gemm" else 1
        except (SpecError, UnsupportedError) as error:  # about one node: name the file too
            raise type(error)(f"{path}: {error}") from None
        if len(ops) + batch > MAX_NODES:  # each batch index is an op: bound them as a spec's values
            raise SpecError(
                f"{path}: {name}: a batch of {batch:,} GEMMs makes more than {MAX_NODES:,} ops in "
                "all, the most a spec holds"
            )
        names = [name] if batch == 1 else [f"{name}/b{i}" for i in range(batch)]
        for part in names:  # a batched MatMul: one GEMM per batch index, each its own A and B
            position[part] = len(ops)
            ops.append({"name": part, **op, "inputs": inputs})
        for out in node.output:
            producer[out] = names
    if not ops:
        raise SpecError(f"{path}: the graph has no compute nodes")
    return {
        "name": path.stem,
        "description": f"imported from {path.name} ({len(ops)} ops)",
        "ops": ops,
        "meta": {"source": "onnx", "onnx_nodes": len(graph.node)},
    }
