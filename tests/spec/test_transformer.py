"""Transformer configs expand into the op graph a reader can write down by hand."""

import json

import pytest

import simulator
from simulator.errors import CapacityError
from simulator.serving.models import load_model
from simulator.spec.transformer import TransformerSpec, expand


def test_llama_layer_expands_into_fifteen_ops_with_the_right_shapes():
    rotary = [(["rope"], "half"), (["rope_theta"], 500000)]
    workload = simulator.load_workload("llama-3-8b-prefill", rotary)
    ops = {op.name: op for op in workload.ops}
    assert len(ops) == 15
    assert (ops["L0.q_proj"].M, ops["L0.q_proj"].N, ops["L0.q_proj"].K) == (2048, 4096, 4096)
    assert ops["L0.k_proj"].N == 8 * 128  # GQA: 8 KV heads of width 4096 / 32
    assert (ops["L0.gate_proj"].N, ops["L0.down_proj"].K) == (14336, 14336)
    attention = ops["L0.attention"]
    assert (attention.heads, attention.kv_heads, attention.q_len, attention.kv_len) == (
        32,
        8,
        2048,
        2048,
    )
    rope = ops["L0.rope"]  # Q's 32 and K's 8 heads of 128 rotate, position by position
    assert rope.inputs == ["L0.q_proj", "L0.k_proj"] and ops["L0.attention"].inputs == [
        "L0.rope",
        "L0.v_proj",
    ]
    assert (rope.rows, rope.cols, rope.head_dim, rope.style) == (2048, 40 * 128, 128, "half")
    assert (rope.base, rope.start, rope.seq_len) == (500000, 0, 2048)
    assert ops["L0.mlp_residual"].inputs == ["L0.down_proj", "L0.attn_residual"]


def test_decode_overrides_reach_the_expanded_ops():
    overrides = [(["context"], 1000), (["batch"], 4), (["layers"], 2), (["rope"], "half")]
    workload = simulator.load_workload("llama-2-7b-decode", overrides)
    assert len(workload.ops) == 30
    q = workload.ops[1]
    assert (q.name, q.M) == ("L0.q_proj", 4)  # one token per sequence
    attention = next(op for op in workload.ops if op.kind == "attention")
    assert (attention.batch, attention.q_len, attention.kv_len) == (4, 1, 1000)
    assert workload.meta["kv_cache_bytes"] == 2 * 4 * 2 * 1000 * 32 * 128 * 2
    rope = next(op for op in workload.ops if op.kind == "rope")
    assert (rope.rows, rope.start, rope.seq_len) == (4, 999, 1)  # each sequence's new token


def test_models_without_rotary_embeddings_expand_without_rope():
    gpt3 = simulator.load_workload("gpt-3-175b-prefill")
    assert "rope" not in {op.kind for op in gpt3.ops}
    gptj = simulator.load_workload(
        "llama-2-7b-prefill", [(["rope"], "interleaved"), (["rotary_dim"], 64)]
    )
    rope = next(op for op in gptj.ops if op.kind == "rope")
    assert (rope.style, rope.rotated) == ("interleaved", 64)


def test_huggingface_config_json_is_a_transformer(tmp_path):
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "hidden_act": "gelu",
        "vocab_size": 30522,
    }
    workload = _from_hf(tmp_path, config)
    kinds = [op.kind for op in workload.ops]
    assert kinds.count("layernorm") == 3 and "gelu" in kinds  # two per layer plus the final norm
    attention = next(op for op in workload.ops if op.kind == "attention")
    assert not attention.causal and attention.head_dim == 64
    assert "rope" not in kinds  # HuggingFace configs expand without RoPE (serving's presets)


def test_a_gemma_config_has_a_gated_gelu_mlp_of_the_published_size(tmp_path):
    """Gemma 2B's config (transformers' GemmaMLP: GELU(gate) * up, down): a layer's GEMM weights
    are its share of the paper's 1,981,884,416 non-embedding parameters (Gemma Team 2024, Table
    2) less its 37 RMSNorm weight vectors of 2,048 (two a layer and the final one), 18 layers."""
    config = {
        "architectures": ["GemmaForCausalLM"],
        "model_type": "gemma",
        "hidden_act": "gelu",
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": 2048,
        "head_dim": 256,
        "intermediate_size": 16384,
        "num_attention_heads": 8,
        "num_key_value_heads": 1,
        "num_hidden_layers": 18,
        "torch_dtype": "bfloat16",
        "vocab_size": 256000,
    }
    ops = {op.name: op for op in _from_hf(tmp_path, config).ops}
    weights = sum(
        op.N * op.K for name, op in ops.items() if name.startswith("L0.") and op.kind == "gemm"
    )
    assert weights == (1_981_884_416 - 37 * 2048) // 18
    assert ops["L0.gelu"].inputs == ["L0.gate_proj"]
    assert ops["L0.gate_mul"].inputs == ["L0.gelu", "L0.up_proj"]
    served = load_model(tmp_path / "config.json")  # 18 such layers and the LM head, in bf16
    assert served.weight_bytes == 2 * (18 * weights + 2048 * 256000)


@pytest.mark.parametrize(
    ("dtypes", "built"),
    [({"dtype": "float32"}, "fp32"), ({"torch_dtype": "float16"}, "fp16"),
     ({"torch_dtype": "float16", "dtype": "float32"}, "fp32")],
)  # fmt: skip
def test_a_huggingface_config_gives_its_dtype_under_either_key(tmp_path, dtypes, built):
    """transformers 4.56 and later save `dtype` (read first where both are, as transformers
    does); older configs `torch_dtype`. Every op of the workload is in that format."""
    assert {op.dtype for op in _from_hf(tmp_path, SMALL_HF | dtypes).ops} == {built}


def test_a_huggingface_dtype_accsim_holds_none_of_is_refused_under_its_key(tmp_path):
    with pytest.raises(simulator.SpecError, match=r"config.json: dtype: 'float64'; accsim holds"):
        _from_hf(tmp_path, SMALL_HF | {"dtype": "float64"})


SMALL_HF = {"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128}
"""The keys a HuggingFace config.json needs, of a small layer."""


def _from_hf(tmp_path, config: dict):
    """The workload of `config` written as a config.json."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return simulator.load_workload(str(path))


def test_kv_cache_that_does_not_fit_names_the_footprint():
    overrides = [(["layers"], 32), (["context"], 100_000)]
    workload = simulator.load_workload("llama-2-7b-decode", overrides)
    with pytest.raises(CapacityError) as error:
        simulator.simulate("datacenter-hbm", workload, numerics=False)
    kv = 32 * 2 * 100_000 * 32 * 128 * 2
    assert f"KV-cache {kv:,} B (32 layers x 2 x L=100000 x H_kv x d x bytes x batch 1)" in str(
        error.value
    )
    assert "34,359,738,368 B" in str(error.value)


@pytest.mark.parametrize("block", ["parallel", "parallel_norms"])
def test_a_parallel_blocks_residual_add_reads_attention_mlp_and_residual(block):
    """x + attn(ln(x)) + mlp(ln(x)): one add of three tensors in every layer (layer 0's residual
    is the embeddings, which no op writes); a sequential block's adds read two."""
    spec = TransformerSpec(kind="transformer", name="t", hidden=64, heads=4, ffn=128, layers=2)
    parallel = {op["name"]: op for op in expand(spec.model_copy(update={"block": block}))["ops"]}
    assert parallel["L0.residual"]["operands"] == parallel["L1.residual"]["operands"] == 3
    adds = [op for op in expand(spec)["ops"] if op["kind"] == "add"]
    assert len(adds) == 4 and all("operands" not in op for op in adds)  # the default two
