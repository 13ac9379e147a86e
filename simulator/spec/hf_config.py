"""HuggingFace config.json files read as transformer workloads: which keys (and their aliases in
transformers' attribute maps) give the layer's sizes, norm, activation and block, and which
configs are refused because accsim would build their layer wrong."""

from pathlib import Path

from simulator.errors import SpecError
from simulator.spec.textio import read_json

HF_KEYS = {
    "hidden_size": "hidden",
    "num_attention_heads": "heads",
    "num_key_value_heads": "kv_heads",
    "head_dim": "head_dim",
    "intermediate_size": "ffn",
    "num_hidden_layers": "layers",
    "vocab_size": "vocab",
}
HF_ALIASES = {
    "n_embd": "hidden_size",
    "n_head": "num_attention_heads",
    "n_layer": "num_hidden_layers",
    "n_positions": "max_position_embeddings",
    "n_inner": "intermediate_size",
    "n_embed": "hidden_size",
    "ffn_hidden_size": "intermediate_size",
}
"""Other names of those keys: transformers' attribute_map of GPT-2 and GPT-J (n_embd, n_head,
n_layer, n_positions; n_inner their MLP width; GPTBigCode's the same), FalconConfig's n_embed and ffn_hidden_size."""
FOUR_X_FFN_TYPES = ("gpt2", "gptj", "gpt_bigcode", "falcon")
"""Model types whose MLP is 4 x hidden wide where the config leaves its width out or null
(GPT2MLP, GPTJMLP, GPTBigCodeMLP: n_inner None; FalconConfig: ffn_hidden_size None)."""
HF_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
GATED_GELU_TYPES = ("gemma", "gemma2", "gemma3", "gemma3_text")
"""HuggingFace model types whose GELU MLP is gated, GELU(gate) * up (transformers' GemmaMLP,
Gemma2MLP, Gemma3MLP); other GELU configs (BERT, GPT-NeoX, Phi) are up, GELU, down."""
ACTIVATION_KEYS = ("hidden_activation", "hidden_act", "activation_function", "activation")
"""Where configs name the MLP's activation: Gemma's hidden_activation (read before hidden_act,
as GemmaMLP does), LLaMA's and BERT's hidden_act, GPT-2's and GPT-J's activation_function,
Falcon's activation."""
DEFAULT_ACTIVATIONS = {
    "gpt2": "gelu_new",
    "gptj": "gelu_new",
    "gpt_bigcode": "gelu_pytorch_tanh",
    "phi": "gelu_new",
    "falcon": "gelu",
    "gpt_neox": "gelu",
    **dict.fromkeys(GATED_GELU_TYPES, "gelu_pytorch_tanh"),
}
"""The activation of a config that names none: its transformers config class's default (LLaMA's,
silu, for other types)."""
LAYERNORM_TYPES = ("bert", "roberta", "distilbert", "gpt2", "gptj", "gpt_bigcode", "gpt_neox")
LAYERNORM_TYPES += ("falcon", "phi", "stablelm", "starcoder2", "cohere")
"""Model types whose layers normalise with LayerNorm (their modeling_*.py: nn.LayerNorm;
Cohere's CohereLayerNorm, one without a bias)."""
NORM_KEYS = {
    "rms_norm_eps": "rmsnorm",
    "layer_norm_eps": "layernorm",
    "layer_norm_epsilon": "layernorm",
}
"""The epsilon key a config gives names its norm, for model types not in LAYERNORM_TYPES."""
PARALLEL_KEYS = ("parallel_attn", "use_parallel_residual", "parallel_residual")
"""Keys that ask for a parallel block: read for Falcon, GPT-NeoX and StableLM, refused elsewhere."""
MULTI_QUERY_TYPES = ("falcon", "gpt_bigcode")
"""Model types whose `multi_query` (their default) gives every query head one K/V head."""


_GEMMA3_PARTS = (
    "norms after attention and the MLP as well as before, norms of Q and K, and sliding-window "
    "attention in five layers of six"
)
UNBUILT_TYPES = {
    "gemma2": "norms after attention and the MLP as well as before, sliding-window attention in "
    "every other layer and soft-capped logits",
    "gemma3": _GEMMA3_PARTS,
    "gemma3_text": _GEMMA3_PARTS,
    "qwen3": "norms of Q and K (q_norm, k_norm)",
    "bloom": "ALiBi biases added to the attention scores",
}
"""Model types whose layers (transformers' Gemma2DecoderLayer, Gemma3DecoderLayer,
Qwen3Attention, BloomAttention) have parts accsim's transformer layer has none of."""


MOE_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
"""The expert counts of mixture-of-experts configs (Mixtral, Qwen-MoE, DeepSeek, ...)."""
BIAS_KEYS = ("attention_bias", "mlp_bias", "bias", "use_bias")
"""Keys that give the projections biases (LlamaConfig's attention_bias and mlp_bias,
FalconConfig's bias, and use_bias): a bias add on each GEMM's output, which accsim does not
build (its GEMMs have no epilogue), so a config that sets one is refused."""
ABSOLUTE_POSITION_TYPES = ("bert", "roberta", "distilbert", "gpt2", "gpt_bigcode")
"""Model types that add learned absolute position embeddings to the input and rotate nothing
(BertEmbeddings' position_embeddings, GPT-2's and GPTBigCode's wpe); other decoders rotate Q and K."""
INTERLEAVED_ROPE_TYPES = ("gptj", "cohere")
"""Model types whose RoPE pairs neighbours (2i, 2i + 1): GPT-J's rotate_every_two, Cohere's
rotate_half (x[..., ::2], x[..., 1::2]) with repeat_interleave'd frequencies."""
HALF_ROPE_TYPES = (
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "gemma", "gemma2",
    "gemma3_text", "gpt_neox", "phi", "phi3", "falcon", "stablelm", "starcoder2", "olmo",
)  # fmt: skip
"""Model types whose RoPE pairs (i, i + d/2) with LLaMA's rotate_half, as does a config that
names no model_type (LLaMA-like). Another named type is refused: its positions may be learned
(BioGPT, OPT), sinusoidal or relative, or the model an encoder no key names (XLM-RoBERTa,
ELECTRA), and a guessed RoPE on a causal layer would be wrong."""
ROTARY_FRACTION_KEYS = ("partial_rotary_factor", "rotary_pct")
"""The share of each head that rotates: Phi's, StableLM's and Phi-3's partial_rotary_factor,
GPT-NeoX's rotary_pct (transformers: int(head_dim x share) values)."""
DEFAULT_ROTARY_FRACTION = {"gpt_neox": 0.25, "phi": 0.5, "stablelm": 0.25}
"""The share a config that names none rotates: its config class's default (the whole head for
other types)."""
GPTJ_ROTARY_DIM = 64
"""GPTJConfig's default rotary_dim (a null rotary_dim rotates the whole head)."""
THETA_KEYS = ("rope_theta", "rotary_emb_base")
"""The rotation frequencies' base: rope_theta, GPT-NeoX's older rotary_emb_base (10,000 where
neither is given, every config class's default; GPT-J's is fixed at 10,000)."""
BIASED_TYPES = {"gpt_neox": "attention_bias", "starcoder2": "use_bias"}
"""Model types whose config defaults a bias key to true (GPTNeoXConfig's attention_bias,
Starcoder2Config's use_bias): that value is the model itself, the one a config without the key
describes, built as GPT-2's and BERT's biased projections are (without the adds), not refused."""
DEFAULT_CONTEXT = 2048
"""The context a HuggingFace config is simulated at, unless the model has fewer positions
(max_position_embeddings); --set workload.context changes it."""


def _activation(config: dict) -> tuple[str, object]:
    """The key the MLP's activation is under and its value (the model type's default where none
    is given)."""
    key = next((k for k in ACTIVATION_KEYS if config.get(k) is not None), None)
    if key is None:
        return "hidden_act", DEFAULT_ACTIVATIONS.get(config.get("model_type"), "silu")
    return key, config[key]


def _check_modelled(path: Path, config: dict) -> None:
    """Refuse a config whose layer is not the one accsim builds from it (each was built as a
    dense LLaMA-like layer and ran): an activation that is neither GELU nor SiLU (OPT's relu), a
    model type whose layer has more than accsim's (Gemma-2's sandwich norms), norms of Q and K, a
    dtype accsim holds none of (float64 ran as bf16), experts in the MLP."""
    key, act = _activation(config)
    if not (isinstance(act, str) and ("gelu" in act or act in ("silu", "swish"))):
        raise SpecError(
            f"{path}: {key}: {act!r}; accsim builds GELU (BERT-like) and SiLU (LLaMA-like) MLPs"
        )
    model_type = config.get("model_type")
    if model_type in UNBUILT_TYPES:
        raise SpecError(
            f"{path}: model_type: {model_type!r}: its layers have {UNBUILT_TYPES[model_type]}, "
            "which accsim does not build"
        )
    for key in ("qk_layernorm", "use_qk_norm"):  # Phi's and Cohere's optional norms of Q and K
        if config.get(key):
            raise SpecError(f"{path}: {key}: true: norms of Q and K, which accsim does not build")
    for key in BIAS_KEYS:
        if config.get(key) and BIASED_TYPES.get(model_type) != key:
            raise SpecError(
                f"{path}: {key}: {config[key]!r}: bias adds on the projections' outputs, which "
                "accsim's GEMMs do not do (they would run without them)"
            )
    if config.get("alibi"):  # Falcon-RW's: a bias on every score, built from no position table
        raise SpecError(
            f"{path}: alibi: {config['alibi']!r}: ALiBi biases added to the attention scores, "
            "which accsim's attention does not add"
        )
    key = _dtype_key(config)
    dtype = config.get(key)
    if dtype is not None and dtype not in HF_DTYPES:  # float64 ran as the default bf16
        raise SpecError(
            f"{path}: {key}: {dtype!r}; accsim holds {', '.join(HF_DTYPES)}: give one of those"
        )
    experts = {k: config[k] for k in MOE_KEYS if config.get(k) not in (None, 0, 1)}
    if experts:
        key, count = next(iter(experts.items()))
        raise SpecError(
            f"{path}: {key}: {count!r} experts: a mixture-of-experts MLP, which accsim does not "
            "model (it would run as one dense MLP)"
        )


def _dtype_key(config: dict) -> str:
    """The key a config's weight dtype is under: `dtype` as transformers 4.56 and later save it
    (read first where both are, as transformers does: huggingface/transformers#39782), else the
    older `torch_dtype`."""
    return "dtype" if "dtype" in config else "torch_dtype"


def _mlp(gelu: bool, model_type: object) -> str:
    """The MLP a HuggingFace config's layer has: its activation, gated by its model type."""
    if not gelu:
        return "gated_silu"
    return "gated_gelu" if model_type in GATED_GELU_TYPES else "gelu"


def _norm(path: Path, config: dict, encoder: bool) -> str:
    """The layers' norm: LayerNorm for the model types transformers builds with it, else the one
    the config's epsilon key names, else LayerNorm for encoders and RMSNorm for decoders."""
    if config.get("model_type") in LAYERNORM_TYPES:
        return "layernorm"
    named = {NORM_KEYS[k] for k in NORM_KEYS if k in config}
    if len(named) > 1:
        raise SpecError(f"{path}: rms_norm_eps: given with a LayerNorm epsilon; give one norm's")
    return named.pop() if named else ("layernorm" if encoder else "rmsnorm")


def _block(path: Path, config: dict) -> str:
    """How a layer's attention and MLP are arranged (each model type's DecoderLayer/Block in
    transformers): GPT-J's, Phi's and Cohere's (Command-R's: no config key says so) side by side
    on one LayerNorm; Falcon's as parallel_attn and new_decoder_architecture say
    (num_ln_in_parallel_attn norms, two by default); GPT-NeoX's two norms side by side where
    use_parallel_residual (its default), StableLM's one norm where it is set. Any other config
    asking for a parallel block is refused: accsim would build it sequential."""
    model_type = config.get("model_type")
    if model_type in ("gptj", "phi", "cohere"):
        return "parallel"
    if model_type == "falcon" and config.get("new_decoder_architecture"):
        return "parallel" if config.get("num_ln_in_parallel_attn") == 1 else "parallel_norms"
    if model_type == "falcon":
        return "parallel" if config.get("parallel_attn", True) else "sequential"
    if model_type == "gpt_neox":
        return "parallel_norms" if config.get("use_parallel_residual", True) else "sequential"
    if model_type == "stablelm":
        return "parallel" if config.get("use_parallel_residual") else "sequential"
    for key in PARALLEL_KEYS:
        if config.get(key):
            raise SpecError(
                f"{path}: {key}: {config[key]!r}: a parallel block of model_type {model_type!r}, "
                "whose norms accsim does not know; it builds parallel blocks of gptj, phi, "
                "cohere, falcon, gpt_neox and stablelm"
            )
    return "sequential"


def _multi_query_kv_heads(config: dict) -> int | None:
    """Falcon's and GPTBigCode's K/V heads (FalconAttention, GPTBigCodeAttention): Falcon's
    num_kv_heads in its new decoder architecture, else one where multi_query (their default),
    else one per query head."""
    if config.get("model_type") == "falcon" and config.get("new_decoder_architecture"):
        return config.get("num_kv_heads")
    return 1 if config.get("multi_query", True) else None


def _sliding_window(path: Path, config: dict) -> int | None:
    """Keys a query attends to at most where every layer's attention is windowed alike (Mistral,
    Phi-3, Starcoder2: `sliding_window`), None where no layer's is: no window given, Qwen2's
    use_sliding_window false, or every layer before max_window_layers (Qwen2) or full in
    layer_types. Windows in some layers only are refused: accsim builds every layer alike."""
    window = config.get("sliding_window")
    if window is None or config.get("use_sliding_window") is False:
        return None
    kinds = config.get("layer_types")
    if kinds is not None and not (
        isinstance(kinds, list) and all(isinstance(k, str) for k in kinds)
    ):
        raise SpecError(f"{path}: layer_types: expected a list of names, got {kinds!r}")
    if kinds is None and "use_sliding_window" in config:  # Qwen2: layers from max_window_layers
        first, layers = config.get("max_window_layers", 28), config.get("num_hidden_layers", 28)
        if isinstance(first, int) and isinstance(layers, int):  # Qwen2Config's defaults: 28
            full = max(0, min(first, layers))
            kinds = ["full_attention"] * full + ["sliding_attention"] * (layers - full)
    if kinds is None or set(kinds) == {"sliding_attention"}:
        return window
    if set(kinds) == {"full_attention"}:
        return None
    key = "layer_types" if "layer_types" in config else "max_window_layers"
    windowed = kinds.count("sliding_attention")
    raise SpecError(
        f"{path}: {key}: sliding-window attention in {windowed} of {len(kinds)} layers, which "
        "accsim does not build (it builds every layer alike)"
    )


def _rope_parameters(path: Path, config: dict) -> dict:
    """The config's RoPE keys: its top-level ones, over them transformers 5's `rope_parameters`
    (rope_theta, partial_rotary_factor)."""
    nested = config.get("rope_parameters")
    if nested is not None and not isinstance(nested, dict):
        raise SpecError(f"{path}: rope_parameters: expected an object, got {nested!r}")
    return config | (nested or {})


def _rotary_dim(path: Path, config: dict, head_width: int) -> int | None:
    """Leading values of each head that rotate (None: all): GPT-J's rotary_dim, else the head x
    the share ROTARY_FRACTION_KEYS give (or the model type's default), rounded down as
    transformers does; refused unless a positive even count within the head."""
    model_type = config.get("model_type")
    if model_type == "gptj":
        key, rotary = "rotary_dim", config.get("rotary_dim", GPTJ_ROTARY_DIM)
    else:
        key = next((k for k in ROTARY_FRACTION_KEYS if config.get(k) is not None), None)
        share = config[key] if key else DEFAULT_ROTARY_FRACTION.get(model_type, 1.0)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise SpecError(f"{path}: {key}: expected a share of the head in (0, 1], got {share!r}")
        rotary = int(head_width * share)
    if rotary is None or rotary == head_width:
        return None
    if type(rotary) is not int or not 0 < rotary <= head_width or rotary % 2:
        raise SpecError(
            f"{path}: {key or 'head_dim'}: rotates {rotary!r} values of each head of {head_width}; RoPE turns "
            "pairs, so give an even count of at least 2 and at most the head"
        )
    return rotary


def _rope(path: Path, config: dict, spec: dict, encoder: bool) -> dict:
    """The transformer's rope fields: none for encoders and absolute-position models, else the
    pairing, rotated values and base the model type's modeling file uses."""
    model_type = config.get("model_type")
    if encoder or model_type in ABSOLUTE_POSITION_TYPES:
        return {}
    if model_type is not None and model_type not in HALF_ROPE_TYPES + INTERLEAVED_ROPE_TYPES:
        known = ", ".join(ABSOLUTE_POSITION_TYPES + HALF_ROPE_TYPES + INTERLEAVED_ROPE_TYPES)
        raise SpecError(
            f"{path}: model_type: {model_type!r}: accsim does not know how this model encodes "
            f"positions (rotary, learned or other) or whether it is an encoder; known: {known}"
        )
    config = _rope_parameters(path, config)
    interleaved = model_type in INTERLEAVED_ROPE_TYPES
    fields = {"rope": "interleaved" if interleaved else "half"}
    key = next((k for k in THETA_KEYS if config.get(k) is not None), None)
    if key and config.get("model_type") != "gptj":
        theta = config[key]
        if isinstance(theta, bool) or not isinstance(theta, int | float) or not 1 < theta < 1e30:
            raise SpecError(f"{path}: {key}: expected a frequency base above 1, got {theta!r}")
        fields["rope_theta"] = float(theta)
    hidden, heads = spec.get("hidden"), spec.get("heads")
    head_width = spec.get("head_dim") or (
        hidden // heads if type(hidden) is int and type(heads) is int and heads > 0 else None
    )
    if type(head_width) is int and head_width > 0:  # else TransformerSpec refuses the sizes
        if (rotary := _rotary_dim(path, config, head_width)) is not None:
            fields["rotary_dim"] = rotary
    return fields


def _default_context(spec: dict) -> int:
    """`DEFAULT_CONTEXT`, or the model's positions where fewer."""
    positions = spec.get("max_context")
    return min(
        DEFAULT_CONTEXT, positions if type(positions) is int and positions > 0 else DEFAULT_CONTEXT
    )


def read_hf_config(path: Path) -> dict:
    """A HuggingFace config.json read once: a JSON object with its aliased keys under their usual
    names (`canonical_config`)."""
    config = read_json(path)
    if not isinstance(config, dict):
        raise SpecError(f"{path}: expected a JSON object, got {type(config).__name__}")
    return canonical_config(config)


def canonical_config(config: dict) -> dict:
    """The config with every aliased key under its usual name (an alias's null left out, and a
    4 x hidden MLP filled in for the types whose config may leave it null)."""
    config = dict(config)
    for alias, key in HF_ALIASES.items():
        if config.get(alias) is not None:
            config.setdefault(key, config[alias])
    hidden = config.get("hidden_size")
    if config.get("model_type") in FOUR_X_FFN_TYPES and config.get("intermediate_size") is None:
        if type(hidden) is int:
            config["intermediate_size"] = 4 * hidden
    return config


def from_hf_config(path: Path) -> dict:
    """A HuggingFace config.json as a transformer workload dict (BERT-, LLaMA-, GPT-2-, GPT-J-,
    GPT-NeoX-, Falcon-, Phi- or Gemma-like), RoPE included where the model rotates Q and K."""
    return hf_transformer(path, read_hf_config(path))


def hf_transformer(path: Path, config: dict) -> dict:
    """The transformer workload dict of `config`, a HuggingFace config `read_hf_config` read from
    `path` (named in errors)."""
    names = config.get("architectures") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SpecError(f"{path}: architectures: expected a list of names, got {names!r}")
    missing = [
        k for k in ("hidden_size", "num_attention_heads", "intermediate_size") if k not in config
    ]
    if missing:
        raise SpecError(f"{path}: {missing[0]}: missing required key of a HuggingFace config")
    architectures = "".join(names)
    encoder = (
        config.get("model_type") in ("bert", "roberta", "distilbert") or "Bert" in architectures
    )
    spec = {HF_KEYS[k]: v for k, v in config.items() if k in HF_KEYS and v is not None}
    if config.get("model_type") in MULTI_QUERY_TYPES:
        spec.pop("kv_heads", None)
        if kv_heads := _multi_query_kv_heads(config):
            spec["kv_heads"] = kv_heads
    elif config.get("multi_query"):
        raise SpecError(
            f"{path}: multi_query: {config['multi_query']!r}, read for model_type falcon and "
            f"gpt_bigcode only, not {config.get('model_type')!r}: give num_key_value_heads"
        )
    _check_modelled(path, config)
    gelu = "gelu" in str(_activation(config)[1])  # gelu_new, quick_gelu, gelu_pytorch_tanh, ...
    spec.update(
        kind="transformer",
        name=path.parent.name if path.name == "config.json" else path.stem,
        description=f"HuggingFace config {path.name}",
        norm=_norm(path, config, encoder),
        block=_block(path, config),
        mlp=_mlp(gelu, config.get("model_type")),
        causal=not encoder,
        dtype=HF_DTYPES.get(str(config.get(_dtype_key(config))), "bf16"),
    )
    spec.update(_rope(path, config, spec, encoder))
    if (positions := config.get("max_position_embeddings")) is not None:
        if type(positions) is not int or positions < 1:
            raise SpecError(
                f"{path}: max_position_embeddings: expected a positive integer, got {positions!r}"
            )
        spec["max_context"] = positions
    if (window := _sliding_window(path, config)) is not None:
        spec["sliding_window"] = window
    if _default_context(spec) < DEFAULT_CONTEXT:
        spec["context"] = _default_context(spec)
    spec["description"] += f" ({config.get('num_hidden_layers', '?')} layers in the model)"
    spec["layers"] = 1  # one layer unless --set workload.layers=... (or --layers) asks for more
    return spec
