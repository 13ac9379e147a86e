"""HuggingFace config keys that change the work a layer does are read or refused, never dropped:
sliding windows (Mistral, Qwen2's per-layer ones, layer_types), positions
(max_position_embeddings), biases and ALiBi; keys that change no work (tie_word_embeddings,
rope_scaling) build the same layer. Serving reads a config once."""

import json

import pytest

import simulator
from simulator.serving.models import load_model
from simulator.spec import hf_config

MISTRAL_7B = {  # mistralai/Mistral-7B-v0.1 config.json (its model keys)
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "hidden_act": "silu",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "max_position_embeddings": 32768,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05,
    "sliding_window": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 32000,
}
SMALL = {"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128}


def _load(tmp_path, config: dict, context: int | None = None):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return simulator.load_workload(str(path), [(["context"], context)] if context else [])


def _attention(workload):
    return next(op for op in workload.ops if op.kind == "attention")


def test_mistral_attends_to_its_window(tmp_path):
    """Mistral 7B v0.1: each query sees at most 4,096 keys. A 4,096-token prefill's causal
    attention is the same with or without the window (query i sees keys 0..i, at most 4,096 of
    them): 32 heads x 4096 x 4097 / 2 scores of 128 MACs, for QK^T and PV, 2 x 128 x 32 x
    4096 x 4097 / 2 = 68,736,253,952 MACs. At 8,192 tokens query p sees min(p + 1, 4096) keys:
    1 + ... + 4095 + 4096 x 4097 = 25,167,872 pairs a head, 2 x 128 x 32 x that =
    206,175,207,424 MACs (the whole prefix would be 8192 x 8193 / 2 = 33,558,528 pairs)."""
    attention = _attention(_load(tmp_path, MISTRAL_7B, 4096))
    assert (attention.q_len, attention.kv_len, attention.causal) == (4096, 4096, True)
    assert attention.window == 4096
    assert 2 * attention.heads * attention.score_pairs * attention.head_dim == 68_736_253_952
    unwindowed = _attention(_load(tmp_path, MISTRAL_7B | {"sliding_window": None}, 4096))
    assert unwindowed.window is None and unwindowed.score_pairs == attention.score_pairs
    long = _attention(_load(tmp_path, MISTRAL_7B, 8192))
    assert (long.kv_len, long.window, long.score_pairs) == (8192, 4096, 25_167_872)
    assert 2 * long.heads * long.score_pairs * long.head_dim == 206_175_207_424


def test_the_default_context_is_within_the_models_positions(tmp_path):
    """2,048 tokens unless the model has fewer positions (GPT-2: n_positions 1,024); a shorter
    window (Phi-3-mini-4k: sliding_window 2,047) windows it; more positions than the model has
    are refused."""
    gpt2 = SMALL | {"model_type": "gpt2", "n_positions": 1024}
    assert _attention(_load(tmp_path, gpt2)).kv_len == 1024
    phi3 = _attention(_load(tmp_path, SMALL | {"sliding_window": 2047}))
    assert (phi3.kv_len, phi3.window) == (2048, 2047)
    assert _attention(_load(tmp_path, MISTRAL_7B)).kv_len == 2048
    with pytest.raises(simulator.SpecError, match="context: 2048 tokens exceed the model's 1024"):
        _load(tmp_path, gpt2, 2048)


@pytest.mark.parametrize(
    ("keys", "window"),
    [
        ({"use_sliding_window": False}, None),  # Qwen2's default: the window is not used
        ({"use_sliding_window": True, "max_window_layers": 2}, None),  # no layer from 2 of 2
        ({"use_sliding_window": True, "max_window_layers": 0}, 64),  # every layer
        ({"layer_types": ["sliding_attention"] * 2}, 64),
        ({"layer_types": ["full_attention"] * 2}, None),
    ],
)
def test_qwen2_and_layer_types_windows_apply_where_every_layer_has_one(tmp_path, keys, window):
    config = SMALL | {"model_type": "qwen2", "num_hidden_layers": 2, "sliding_window": 64} | keys
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert hf_config.from_hf_config(path).get("sliding_window") == window


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"sliding_window": 64, "use_sliding_window": True, "max_window_layers": 1},
            "max_window_layers: sliding-window attention in 1 of 2 layers",
        ),
        (
            {"sliding_window": 64, "layer_types": ["full_attention", "sliding_attention"]},
            "layer_types: sliding-window attention in 1 of 2 layers",
        ),
        ({"sliding_window": 64, "layer_types": "sliding"}, "layer_types: expected a list"),
        ({"sliding_window": 0}, "sliding_window: must be > 0"),
        ({"max_position_embeddings": "many"}, "max_position_embeddings: expected a positive"),
        ({"attention_bias": True}, "attention_bias: True: bias adds on the projections"),
        ({"mlp_bias": True}, "mlp_bias: True: bias adds"),
        ({"model_type": "falcon", "bias": True}, "bias: True: bias adds"),
        ({"use_bias": True}, "use_bias: True: bias adds"),
        ({"model_type": "falcon", "alibi": True}, "alibi: True: ALiBi biases"),
        ({"model_type": "bloom"}, "model_type: 'bloom': its layers have ALiBi biases"),
    ],
)
def test_keys_that_change_work_accsim_does_not_build_are_refused(tmp_path, extra, message):
    config = SMALL | {"num_hidden_layers": 2} | extra
    with pytest.raises(simulator.SpecError, match=f"config.json: {message}"):
        _load(tmp_path, config)


def test_keys_that_change_no_work_build_the_same_layer(tmp_path):
    """Tied embeddings share a matrix (the LM head runs either way); scaled RoPE frequencies
    change the angles, not the work; biases set false add nothing."""
    plain = [op.model_dump() for op in _load(tmp_path, MISTRAL_7B).ops]
    for extra in (
        {"tie_word_embeddings": True},
        {"rope_scaling": {"type": "linear", "factor": 4.0}},
        {"attention_bias": False, "mlp_bias": False, "alibi": False},
    ):
        assert [op.model_dump() for op in _load(tmp_path, MISTRAL_7B | extra).ops] == plain


STARCODER2_7B = {  # bigcode/starcoder2-7b config.json (its model keys)
    "architectures": ["Starcoder2ForCausalLM"],
    "model_type": "starcoder2",
    "hidden_act": "gelu_pytorch_tanh",
    "hidden_size": 4608,
    "intermediate_size": 18432,
    "max_position_embeddings": 16384,
    "norm_epsilon": 1e-05,
    "num_attention_heads": 36,
    "num_hidden_layers": 32,
    "num_key_value_heads": 4,
    "sliding_window": 4096,
    "use_bias": True,
    "vocab_size": 49152,
}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        (STARCODER2_7B, "use_bias"),  # Starcoder2Config's default: true
        (SMALL | {"model_type": "gpt_neox", "num_hidden_layers": 2}, "attention_bias"),  # GPTNeoX's
    ],
)
def test_a_bias_key_at_its_model_types_default_builds_the_model_without_it(tmp_path, config, key):
    """Starcoder2's use_bias and GPT-NeoX's attention_bias default to true in transformers, so a
    config that spells the default out is the model a config without the key describes (built
    like GPT-2's biased projections): the same layer, not a refusal (every StarCoder2 was one)."""
    plain = [op.model_dump() for op in _load(tmp_path, {**config, key: None}).ops]
    assert [op.model_dump() for op in _load(tmp_path, config | {key: True}).ops] == plain
    with pytest.raises(simulator.SpecError, match="mlp_bias: True: bias adds"):
        _load(tmp_path, config | {"mlp_bias": True})  # not its type's default: refused still


def test_starcoder2_7b_runs_at_the_default_context_inside_its_window(tmp_path):
    """StarCoder2-7B (model card: 16,384 positions, a 4,096-token window): 36 heads of
    4608 / 36 = 128, 4 KV heads, at accsim's default context of 2048 (below both); requests may
    run to its positions, a sequence holding its window's KV at most."""
    attention = _attention(_load(tmp_path, STARCODER2_7B))
    assert (attention.heads, attention.kv_heads, attention.head_dim) == (36, 4, 128)
    assert attention.keys == 2048
    path = tmp_path / "config.json"
    assert load_model(path).max_context == 16384


def test_serving_reads_a_config_once_and_serves_past_its_window(tmp_path, monkeypatch):
    """load_model reads the file once (it read it twice); requests may hold the model's
    positions, and a windowed model's sequence holds its window's KV at most."""
    reads = []
    real = hf_config.read_json
    monkeypatch.setattr(hf_config, "read_json", lambda path: reads.append(path) or real(path))
    path = tmp_path / "config.json"
    path.write_text(json.dumps(MISTRAL_7B))
    model = load_model(path)
    assert (len(reads), model.max_context, model.layers) == (1, 32768, 32)
    assert model.layer.sliding_window == 4096
