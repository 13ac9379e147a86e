"""HuggingFace configs of GPT-J, Falcon, Phi, GPT-NeoX and Gemma build the layer their model
has: weights counted against published parameter counts, blocks and norms against transformers'
modeling code (each model type's DecoderLayer), or are refused naming the key."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.serving.models import Model, load_model
from simulator.spec.transformer import TransformerSpec, expand

GPTJ_6B = {  # EleutherAI/gpt-j-6b config.json (its model keys)
    "architectures": ["GPTJForCausalLM"],
    "model_type": "gptj",
    "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-05,
    "n_embd": 4096,
    "n_head": 16,
    "n_inner": None,
    "n_layer": 28,
    "n_positions": 2048,
    "rotary_dim": 64,
    "tie_word_embeddings": False,
    "vocab_size": 50400,
}
FALCON_7B = {  # tiiuae/falcon-7b config.json (its model keys)
    "architectures": ["FalconForCausalLM"],
    "model_type": "falcon",
    "alibi": False,
    "bias": False,
    "hidden_size": 4544,
    "layer_norm_epsilon": 1e-05,
    "multi_query": True,
    "new_decoder_architecture": False,
    "num_attention_heads": 71,
    "num_hidden_layers": 32,
    "parallel_attn": True,
    "torch_dtype": "bfloat16",
    "vocab_size": 65024,
}
PHI_2 = {  # microsoft/phi-2 config.json (its model keys)
    "architectures": ["PhiForCausalLM"],
    "model_type": "phi",
    "hidden_act": "gelu_new",
    "hidden_size": 2560,
    "intermediate_size": 10240,
    "layer_norm_eps": 1e-05,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 32,
    "partial_rotary_factor": 0.4,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
    "vocab_size": 51200,
}

SMALL = {"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128}
"""The sizes of a small layer."""


def _workload(tmp_path, config: dict, layers: int):
    """The whole model (`layers` layers and the LM head) of `config` written as a config.json."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return simulator.load_workload(str(path), [(["layers"], layers)])


def _gemm_weights(workload) -> int:
    return sum(op.N * op.K for op in workload.ops if op.kind == "gemm")


def test_gpt_j_6b_is_28_parallel_layers_of_its_published_size(tmp_path):
    """GPT-J 6B (model card: 6,053,381,344 parameters): per layer Q, K, V, O of 4096 x 4096 and an
    MLP of 4 x 4096 (n_inner null), by hand 201,326,592; with the untied LM head and embedding of
    50,400 x 4096 the GEMMs are within 0.1 % of the card: 0.056 % below it, of which biases and
    LayerNorms are 861,408 (0.014 %) and 2,498,560 (0.041 %) is the card's own."""
    workload = _workload(tmp_path, GPTJ_6B, 28)
    ops = {op.name: op for op in workload.ops}
    layer = sum(op.N * op.K for n, op in ops.items() if n.startswith("L0.") and op.kind == "gemm")
    assert layer == 4 * 4096**2 + 2 * 4096 * 16384
    assert _gemm_weights(workload) + 50400 * 4096 == pytest.approx(6_053_381_344, rel=1e-3)
    kinds = [op.kind for name, op in ops.items() if name.startswith("L0.")]
    assert kinds.count("layernorm") == 1 and "rmsnorm" not in kinds  # one shared LayerNorm
    assert ops["L0.up_proj"].inputs == ["L0.attn_norm"]  # the MLP beside attention
    assert ops["L1.residual"].inputs == ["L1.o_proj", "L1.down_proj", "L0.residual"]
    served = load_model(tmp_path / "config.json")  # n_layer, n_positions read as their aliases
    assert (served.layers, served.max_context) == (28, 2048)
    assert served.weight_bytes == 2 * (28 * layer + 4096 * 50400)


def test_falcon_7b_is_multi_query_parallel_layers_of_its_published_size(tmp_path):
    """Falcon-7B (model card: 6.92B parameters, LM head tied to the embedding, so counted once):
    71 query heads of 4544 / 71 = 64, one K/V head (multi_query), MLP 4 x 4544."""
    workload = _workload(tmp_path, FALCON_7B, 32)
    ops = {op.name: op for op in workload.ops}
    assert (ops["L0.k_proj"].N, ops["L0.attention"].kv_heads) == (64, 1)
    assert ops["L0.up_proj"].N == 4 * 4544
    assert round(_gemm_weights(workload), -7) == 6.92e9
    assert ops["L0.up_proj"].inputs == ["L0.attn_norm"] and ops["L0.attn_norm"].kind == "layernorm"


def test_falcon_40b_norms_each_branch_and_keeps_its_kv_heads(tmp_path):
    """Falcon-40B's new decoder architecture: num_kv_heads K/V heads and, by default, one
    LayerNorm for attention and one for the MLP (FalconDecoderLayer's ln_attn, ln_mlp)."""
    config = FALCON_7B | {"new_decoder_architecture": True, "num_kv_heads": 8}
    config |= {"hidden_size": 8192, "num_attention_heads": 128}
    ops = {op.name: op for op in _workload(tmp_path, config, 1).ops}
    assert (ops["L0.k_proj"].N, ops["L0.attention"].kv_heads) == (8 * 64, 8)
    assert ops["L0.mlp_norm"].inputs == [] and ops["L0.up_proj"].inputs == ["L0.mlp_norm"]
    assert ops["L0.residual"].inputs == ["L0.o_proj", "L0.down_proj"]


def test_phi_2_is_layernorm_parallel_layers_of_its_published_size(tmp_path):
    """Phi-2 (model card: 2.7B; 2.78B as transformers counts it): one LayerNorm a layer feeding
    attention and the MLP (PhiDecoderLayer), untied LM head and embedding of 51,200 x 2560."""
    workload = _workload(tmp_path, PHI_2, 32)
    ops = {op.name: op for op in workload.ops}
    assert round(_gemm_weights(workload) + 51200 * 2560, -7) == 2.78e9
    assert {op.kind for op in workload.ops} & {"layernorm", "rmsnorm"} == {"layernorm"}
    assert ops["L0.up_proj"].inputs == ["L0.attn_norm"] and "L0.mlp_norm" not in ops


def test_gpt_neox_parallel_residual_norms_each_branch(tmp_path):
    """GPTNeoXLayer with use_parallel_residual (its default): x + attn(ln1(x)) + mlp(ln2(x))."""
    config = {"model_type": "gpt_neox", "hidden_size": 64, "num_attention_heads": 4}
    ops = {op.name: op for op in _workload(tmp_path, config | {"intermediate_size": 256}, 1).ops}
    assert ops["L0.mlp_norm"].kind == "layernorm" and ops["L0.mlp_norm"].inputs == []
    assert ops["L0.gelu"].inputs == ["L0.up_proj"]


def test_stablelm_parallel_residual_shares_one_norm_and_bigcode_is_multi_query(tmp_path):
    """StableLmDecoderLayer with use_parallel_residual: x + attn(ln1(x)) + mlp(ln1(x)); GPTBigCode
    (StarCoder): n_embd, n_head, 4 x n_embd MLP, one K/V head where multi_query."""
    config = {"model_type": "stablelm", "use_parallel_residual": True, "hidden_size": 64}
    config |= {"num_attention_heads": 4, "intermediate_size": 256}
    ops = {op.name: op for op in _workload(tmp_path, config, 1).ops}
    assert ops["L0.up_proj"].inputs == ["L0.attn_norm"] and "L0.mlp_norm" not in ops
    assert ops["L0.attn_norm"].kind == "layernorm" and ops["L0.gate_proj"].N == 256
    bigcode = {"model_type": "gpt_bigcode", "n_embd": 64, "n_head": 4, "multi_query": True}
    ops = {op.name: op for op in _workload(tmp_path, bigcode, 1).ops}
    assert (ops["L0.k_proj"].N, ops["L0.up_proj"].N, ops["L0.mlp_norm"].kind) == (
        16,
        256,
        "layernorm",
    )


def test_gemma_7b_heads_wider_than_hidden_over_heads_give_its_published_size(tmp_path):
    """Gemma 7B: 16 heads of 256 (4096 wide) on a 3072 model; Q, K, V 3072 x 4096 and O back,
    so 28 layers' GEMMs are the paper's 7,751,248,896 non-embedding parameters (Gemma Team
    2024, Table 2) less 57 RMSNorm vectors of 3072. Its hidden_activation names the GeGLU."""
    config = {
        "model_type": "gemma",
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": 3072,
        "head_dim": 256,
        "intermediate_size": 24576,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "rms_norm_eps": 1e-06,
    }
    workload = _workload(tmp_path, config, 28)
    assert _gemm_weights(workload) == 7_751_248_896 - 57 * 3072
    attention = next(op for op in workload.ops if op.kind == "attention")
    assert attention.head_dim == 256 and workload.ops[1].N == 4096


def test_a_gemma_config_with_hidden_activation_alone_is_a_gated_gelu(tmp_path):
    """Gemma configs name the MLP's activation hidden_activation (GemmaMLP reads it); with no
    hidden_act beside it, it read as SiLU."""
    config = {"model_type": "gemma", "hidden_activation": "gelu_pytorch_tanh"}
    config |= SMALL
    kinds = {op.kind for op in _workload(tmp_path, config, 1).ops}
    assert "gelu" in kinds and "silu" not in kinds and "rmsnorm" in kinds


COMMAND_R = {  # CohereForAI/c4ai-command-r-v01 config.json (its model keys)
    "architectures": ["CohereForCausalLM"],
    "model_type": "cohere",
    "hidden_act": "silu",
    "hidden_size": 8192,
    "intermediate_size": 22528,
    "layer_norm_eps": 1e-05,
    "num_attention_heads": 64,
    "num_hidden_layers": 40,
    "num_key_value_heads": 64,
    "use_qk_norm": False,
    "vocab_size": 256000,
}


def test_command_r_is_parallel_layers_on_one_layernorm_of_its_published_size(tmp_path):
    """CohereDecoderLayer: x + attn(ln(x)) + mlp(ln(x)), one CohereLayerNorm (no config key says
    parallel); 35B parameters (model card): 40 x (4 x 8192^2 + 3 x 8192 x 22528) and a tied
    256,000 x 8192 embedding = 34.98e9."""
    workload = _workload(tmp_path, COMMAND_R, 40)
    ops = {op.name: op for op in workload.ops}
    assert _gemm_weights(workload) == 40 * (4 * 8192**2 + 3 * 8192 * 22528) + 256000 * 8192
    assert round(_gemm_weights(workload), -9) == 35e9
    assert ops["L0.gate_proj"].inputs == ops["L0.q_proj"].inputs == ["L0.attn_norm"]
    assert ops["L0.attn_norm"].kind == "layernorm" and "L0.mlp_norm" not in ops
    assert ops["L0.residual"].inputs == ["L0.o_proj", "L0.down_proj"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"model_type": "mpt", "use_parallel_residual": True}, "use_parallel_residual: True"),
        ({"model_type": "mpt", "multi_query": True}, "multi_query: True, read for model_type"),
        ({"rms_norm_eps": 1e-6, "layer_norm_eps": 1e-5}, "rms_norm_eps: given with a LayerNorm"),
        ({"activation_function": "relu"}, "activation_function: 'relu'"),
        ({"model_type": "gemma2"}, "model_type: 'gemma2': its layers have norms after attention"),
        ({"model_type": "gemma3_text"}, "model_type: 'gemma3_text': its layers have norms after"),
        ({"model_type": "qwen3"}, r"model_type: 'qwen3': its layers have norms of Q and K"),
        ({"model_type": "phi", "qk_layernorm": True}, "qk_layernorm: true: norms of Q and K"),
        ({"model_type": "cohere", "use_qk_norm": True}, "use_qk_norm: true: norms of Q and K"),
    ],
)
def test_configs_accsim_would_build_wrong_are_refused_naming_the_key(tmp_path, extra, message):
    config = SMALL | extra
    with pytest.raises(simulator.SpecError, match=f"config.json: {message}"):
        _workload(tmp_path, config, 1)


@settings(max_examples=60, deadline=None)
@given(
    kv=st.integers(1, 4),
    group=st.integers(1, 4),
    head_dim=st.integers(1, 32),
    hidden=st.integers(1, 128),
    ffn=st.integers(1, 256),
    block=st.sampled_from(["sequential", "parallel", "parallel_norms"]),
    mlp=st.sampled_from(["gelu", "gated_silu", "gated_gelu"]),
)
def test_any_layer_has_the_closed_form_weights_serving_counts(
    kv, group, head_dim, hidden, ffn, block, mlp
):
    """Q and O are hidden x heads·head_dim, K and V hidden x kv_heads·head_dim, the MLP two or
    (gated) three hidden x ffn, whatever the block; serving's weight bytes count the same."""
    heads = kv * group  # each K/V head serves `group` query heads
    spec = TransformerSpec(
        kind="transformer", name="t", hidden=hidden, heads=heads, kv_heads=kv,
        head_dim=head_dim, ffn=ffn, block=block, mlp=mlp, vocab=7, dtype="fp16",
    )  # fmt: skip
    ops = expand(spec)["ops"]
    layer = sum(op["N"] * op["K"] for op in ops if op["kind"] == "gemm" and op["name"] != "lm_head")
    matrices = 3 if mlp.startswith("gated") else 2
    assert (
        layer
        == 2 * hidden * heads * head_dim + 2 * hidden * kv * head_dim + matrices * hidden * ffn
    )
    norms = [op for op in ops if op["kind"] == "rmsnorm" and op["name"].startswith("L0.")]
    assert len(norms) == (1 if block == "parallel" else 2)
    served = Model(name="t", layer=spec, layers=1, vocab=7, max_context=8)
    assert served.weight_bytes == 2 * (layer + 7 * hidden)
