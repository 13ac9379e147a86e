"""Write workloads/onnx/bert-base.onnx: the 12-layer BERT-base encoder (Devlin et al. 2019: hidden
768, 12 heads of 64, FFN 3072, GELU, post-LayerNorm, bidirectional) on one 128-token sequence,
built with onnx's helper API as an exporter lays it out (per-head Reshape + Transpose, batched
MatMuls for Q K^T and P V). Weight-stripped: every weight is external data that is not shipped,
so the file holds shapes only. Embeddings and the pooler are left out (the encoder's input is the
embedded sequence); there is no attention mask (one unpadded sequence).

    python benchmarks/onnx_bert_base.py --write   # write the graph
    python benchmarks/onnx_bert_base.py           # the numbers docs/models.md quotes

The run imports the graph (batched MatMuls become one GEMM per head) and runs it on edge-npu in
int8 next to the same encoder written as accsim's own transformer preset (attention as one op).
"""

import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

import simulator
from simulator.spec import load_workload

ROOT = Path(__file__).resolve().parent.parent
SEQ, HIDDEN, HEADS, FFN, LAYERS = 128, 768, 12, 3072, 12
HEAD = HIDDEN // HEADS


class Encoder:
    """Nodes and weight-stripped initializers appended in order; helpers return output names."""

    def __init__(self):
        self.nodes, self.weights = [], []

    def weight(self, name: str, dims: list[int]) -> str:
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
        tensor.data_location = TensorProto.EXTERNAL
        entry = tensor.external_data.add()  # shapes only: the data file is not shipped
        entry.key, entry.value = "location", "bert-base.weights"
        self.weights.append(tensor)
        return name

    def node(self, op: str, name: str, inputs: list[str], **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def shape(self, name: str, dims: list[int]) -> str:
        self.weights.append(helper.make_tensor(name, TensorProto.INT64, [len(dims)], dims))
        return name

    def dense(self, prefix: str, x: str, n_in: int, n_out: int) -> str:
        y = self.node(
            "MatMul", f"{prefix}/MatMul", [x, self.weight(f"{prefix}.weight", [n_in, n_out])]
        )
        return self.node("Add", f"{prefix}/Add", [y, self.weight(f"{prefix}.bias", [n_out])])

    def heads(self, prefix: str, x: str, perm: list[int]) -> str:
        """[1, S, H] -> [1, heads, S, 64] (perm 0 2 1 3) or its transpose [1, heads, 64, S]."""
        split = self.node("Reshape", f"{prefix}/Reshape", [x, f"{prefix}.heads_shape"])
        self.shape(f"{prefix}.heads_shape", [1, SEQ, HEADS, HEAD])
        return self.node("Transpose", f"{prefix}/Transpose", [split], perm=perm)

    def layer_norm(self, prefix: str, x: str) -> str:
        scale = self.weight(f"{prefix}/LayerNorm.weight", [HIDDEN])
        bias = self.weight(f"{prefix}/LayerNorm.bias", [HIDDEN])
        return self.node("LayerNormalization", f"{prefix}/LayerNorm", [x, scale, bias], axis=-1)

    def layer(self, i: int, x: str) -> str:
        p = f"encoder/layer.{i}"
        q = self.heads(
            f"{p}/attention/query",
            self.dense(f"{p}/attention/query", x, HIDDEN, HIDDEN),
            [0, 2, 1, 3],
        )
        k = self.heads(
            f"{p}/attention/key", self.dense(f"{p}/attention/key", x, HIDDEN, HIDDEN), [0, 2, 3, 1]
        )
        v = self.heads(
            f"{p}/attention/value",
            self.dense(f"{p}/attention/value", x, HIDDEN, HIDDEN),
            [0, 2, 1, 3],
        )
        scores = self.node("MatMul", f"{p}/attention/scores/MatMul", [q, k])  # [1, 12, S, S]
        scaled = self.node("Mul", f"{p}/attention/scores/Mul", [scores, self.shape_scale(p)])
        probs = self.node("Softmax", f"{p}/attention/Softmax", [scaled], axis=-1)
        context = self.node("MatMul", f"{p}/attention/context/MatMul", [probs, v])  # [1, 12, S, 64]
        merged = self.node(
            "Transpose", f"{p}/attention/context/Transpose", [context], perm=[0, 2, 1, 3]
        )
        flat = self.node("Reshape", f"{p}/attention/context/Reshape", [merged, f"{p}.merge_shape"])
        self.shape(f"{p}.merge_shape", [1, SEQ, HIDDEN])
        out = self.dense(f"{p}/attention/output", flat, HIDDEN, HIDDEN)
        res = self.node("Add", f"{p}/attention/output/residual", [out, x])
        h = self.layer_norm(f"{p}/attention/output", res)
        up = self.node(
            "Gelu", f"{p}/intermediate/Gelu", [self.dense(f"{p}/intermediate", h, HIDDEN, FFN)]
        )
        down = self.dense(f"{p}/output", up, FFN, HIDDEN)
        return self.layer_norm(f"{p}/output", self.node("Add", f"{p}/output/residual", [down, h]))

    def shape_scale(self, prefix: str) -> str:
        """1 / sqrt(64), the score scale, as a constant the Mul reads."""
        name = f"{prefix}.score_scale"
        self.weights.append(helper.make_tensor(name, TensorProto.FLOAT, [], [HEAD**-0.5]))
        return name


def build() -> onnx.ModelProto:
    encoder = Encoder()
    x = "hidden_states"
    for i in range(LAYERS):
        x = encoder.layer(i, x)
    graph = helper.make_graph(
        encoder.nodes,
        "bert-base",
        [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, [1, SEQ, HIDDEN])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, SEQ, HIDDEN])],
        encoder.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.producer_name = "accsim benchmarks/onnx_bert_base.py"
    return model


def run() -> None:
    imported = load_workload("bert-base.onnx", dtype="int8")
    preset = {
        "name": "bert-base-12x128",
        "kind": "transformer",
        "hidden": HIDDEN,
        "heads": HEADS,
        "ffn": FFN,
        "layers": LAYERS,
        "norm": "layernorm",
        "mlp": "gelu",
        "causal": False,
        "phase": "prefill",
        "batch": 1,
        "context": SEQ,
        "dtype": "int8",
    }
    print("BERT-base encoder, 12 layers x 128 tokens, int8, on edge-npu")
    print(
        "| workload | ops | GEMMs | MACs | time (ms) | energy (uJ) | attention cycles | "
        "attention DRAM (MB) | numerics |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, workload in (("bert-base.onnx", imported), ("transformer preset", preset)):
        report = simulator.simulate("edge-npu", workload, numerics=name.endswith(".onnx"))
        s, ops = report.summary, report.program.ops
        gemms = sum(op.kind == "gemm" for op in ops)
        checked = ("OK" if s["numerics_ok"] else "FAILED") if s["numerics_checked"] else "-"
        rows = report.ops  # attention: the fused op, or the scores, scale, softmax and P V ops
        attention = rows[
            (rows.kind == "attention") | rows.name.str.contains("scores|Softmax|context")
        ]
        print(
            f"| {name} | {len(ops)} | {gemms} | {s['macs']:,} | {s['seconds'] * 1e3:.3f} | "
            f"{s['energy_pj'] * 1e-6:.1f} | {attention.cycles.sum():,} | "
            f"{attention.dram_bytes.sum() / 1e6:.1f} | {checked} |"
        )


if __name__ == "__main__":
    if "--write" in sys.argv:
        path = ROOT / "workloads" / "onnx" / "bert-base.onnx"
        onnx.save(build(), str(path))
        print(f"wrote {path} ({path.stat().st_size:,} B)")
    else:
        run()
