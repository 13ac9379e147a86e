"""HuggingFace configs build the rotary position embedding their model runs: the pairing each
model type's modeling file uses (LLaMA's rotate_half, GPT-J's rotate_every_two, Cohere's
interleaved rotate_half), the values of each head that rotate (GPT-J's rotary_dim, GPT-NeoX's
rotary_pct, Phi's partial_rotary_factor) and the base (rope_theta); absolute-position models
(BERT, GPT-2) rotate nothing; bad RoPE keys are refused naming the key."""

import json

import pytest

import simulator
from tests.spec.test_hf_models import FALCON_7B, GPTJ_6B, PHI_2, SMALL

NEOX_20B = {  # EleutherAI/gpt-neox-20b config.json (its model keys)
    "architectures": ["GPTNeoXForCausalLM"],
    "model_type": "gpt_neox",
    "hidden_act": "gelu_fast",
    "hidden_size": 6144,
    "intermediate_size": 24576,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 2048,
    "num_attention_heads": 64,
    "num_hidden_layers": 44,
    "rotary_emb_base": 10000,
    "rotary_pct": 0.25,
    "use_parallel_residual": True,
    "vocab_size": 50432,
}


def _rope(tmp_path, config: dict, context: int = 16):
    """The rope op of `config`'s layer (None where it has none), prefill over `context` tokens."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    workload = simulator.load_workload(str(path), [(["context"], context)])
    return next((op for op in workload.ops if op.kind == "rope"), None)


@pytest.mark.parametrize(
    ("config", "style", "rotated", "head"),
    [
        # LLaMA-3-8B preset: 32 + 8 heads of 4096 / 32 = 128, all rotated as rotate_half
        ("llama-3-8b", "half", 128, 128),
        (GPTJ_6B, "interleaved", 64, 4096 // 16),  # rotate_every_two over rotary_dim 64 of 256
        (NEOX_20B, "half", 6144 // 64 // 4, 6144 // 64),  # rotary_pct 0.25 of 96: 24
        (PHI_2, "half", 32, 2560 // 32),  # partial_rotary_factor 0.4 of 80: 32
        (FALCON_7B, "half", 4544 // 71, 4544 // 71),  # rotate_half over the whole head of 64
        (SMALL | {"model_type": "stablelm"}, "half", 4, 16),  # StableLM's default 0.25 of 16
        (SMALL | {"model_type": "cohere"}, "interleaved", 16, 16),  # Cohere's ::2 / 1::2 pairs
    ],
)
def test_each_model_type_rotates_its_pairs_over_its_share_of_each_head(
    tmp_path, config, style, rotated, head
):
    if isinstance(config, str):
        config = json.loads((simulator.serving.models.PRESETS / f"{config}.json").read_text())
    op = _rope(tmp_path, config)
    heads = config.get("num_attention_heads", config.get("n_head"))
    kv_heads = 1 if config.get("multi_query") else config.get("num_key_value_heads", heads)
    assert (op.style, op.rotated, op.head_dim) == (style, rotated, head)
    assert op.cols == (heads + kv_heads) * head  # Q's and K's heads, V's not rotated
    assert (op.start, op.seq_len, op.rows) == (0, 16, 16)


def test_absolute_position_models_rotate_nothing(tmp_path):
    """BERT's and GPT-2's positions are a learned table added to the input: no rope op."""
    bert = SMALL | {"model_type": "bert", "architectures": ["BertModel"]}
    assert _rope(tmp_path, bert) is None
    assert _rope(tmp_path, SMALL | {"model_type": "gpt2"}) is None


def test_the_base_is_read_from_rope_theta_or_rope_parameters(tmp_path):
    """LLaMA-3's 500,000; transformers 5 nests it (and the share) in rope_parameters; GPT-NeoX's
    rotary_emb_base; 10,000 where none is given."""
    assert _rope(tmp_path, SMALL | {"rope_theta": 500000.0}).base == 500000.0
    nested = {"rope_parameters": {"rope_theta": 1e6, "partial_rotary_factor": 0.5}}
    op = _rope(tmp_path, SMALL | nested)
    assert (op.base, op.rotated) == (1e6, 8)
    assert _rope(tmp_path, NEOX_20B | {"rotary_emb_base": 20000}).base == 20000.0
    assert _rope(tmp_path, SMALL).base == 10000.0


def test_a_decode_step_rotates_the_new_token_at_its_position(tmp_path):
    """Decode at a 2,048-token cache: one row per sequence, at position 2,047."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(SMALL))
    overrides = [(["phase"], "decode"), (["batch"], 3)]
    workload = simulator.load_workload(str(path), overrides)
    op = next(op for op in workload.ops if op.kind == "rope")
    assert (op.rows, op.start, op.seq_len) == (3, 2047, 1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"partial_rotary_factor": 0}, "partial_rotary_factor: expected a share of the head"),
        ({"partial_rotary_factor": 1.5}, "partial_rotary_factor: expected a share"),
        ({"rotary_pct": "quarter"}, "rotary_pct: expected a share"),
        ({"partial_rotary_factor": 0.01}, "partial_rotary_factor: rotates 0 values"),
        ({"partial_rotary_factor": 0.35}, "partial_rotary_factor: rotates 5 values"),
        ({"model_type": "gptj", "rotary_dim": 15}, "rotary_dim: rotates 15 values"),
        ({"model_type": "gptj", "rotary_dim": 64}, "rotary_dim: rotates 64 values of each head"),
        ({"rope_theta": 1}, "rope_theta: expected a frequency base above 1"),
        ({"rope_theta": "big"}, "rope_theta: expected a frequency base"),
        ({"rope_parameters": [1]}, "rope_parameters: expected an object"),
    ],
)
def test_bad_rope_keys_are_refused_naming_the_key(tmp_path, extra, message):
    with pytest.raises(simulator.SpecError, match=f"config.json: {message}"):
        _rope(tmp_path, SMALL | extra)


@pytest.mark.parametrize(
    ("model_type", "architectures"),
    [
        ("biogpt", ["BioGptForCausalLM"]),  # learned absolute positions, no RoPE
        ("xlm-roberta", ["XLMRobertaForMaskedLM"]),  # an encoder neither key names
        ("electra", ["ElectraForPreTraining"]),
        ("opt", ["OPTForCausalLM"]),
    ],
)
def test_a_model_type_of_unknown_positions_is_refused(tmp_path, model_type, architectures):
    """A named model type whose positions accsim does not know got LLaMA's RoPE on a causal
    layer: an encoder ran causal and a learned-position decoder rotated Q and K."""
    config = SMALL | {"model_type": model_type, "architectures": architectures}
    with pytest.raises(simulator.SpecError, match=f"config.json: model_type: '{model_type}': "):
        _rope(tmp_path, config)


def test_a_config_without_a_model_type_is_llama_like(tmp_path):
    op = _rope(tmp_path, SMALL)
    assert (op.style, op.rotary_dim or op.head_dim) == ("half", 16)
