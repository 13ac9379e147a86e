"""Transformer workloads: a model config (YAML or a HuggingFace config.json) expanded into an op graph.

One decoder/encoder layer is: norm -> Q, K, V projections -> (RoPE on Q and K where the model
rotates them) -> attention -> output projection ->
residual add -> norm -> MLP (GELU, or gated SiLU as in LLaMA) -> residual add; `layers` repeats
it, `vocab` adds the final norm and LM head. Prefill processes `context` prompt tokens per
sequence; decode processes one new token per sequence against a KV-cache of `context` tokens.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.errors import SpecError
from simulator.spec.precision import nbytes
from simulator.spec.textio import read_json
from simulator.spec.types import Flag, PositiveInt, PrecisionName, Real, Strict
from simulator.spec.validate import locate


class TransformerSpec(Strict):
    """A transformer model config plus the phase, batch and context to simulate."""

    kind: Literal["transformer"]
    name: str
    """Short name shown in reports."""
    description: str = ""
    """One line on what this model is."""
    hidden: PositiveInt
    """Model width (hidden_size)."""
    heads: PositiveInt
    """Attention (query) heads."""
    kv_heads: PositiveInt | None = None
    """Key/value heads for GQA/MQA (default: heads)."""
    ffn: PositiveInt
    """MLP inner width (intermediate_size)."""
    layers: Annotated[PositiveInt, Field(le=1024)] = 1
    """Layers to simulate (a whole stack, or one layer to study)."""
    vocab: PositiveInt | None = None
    """Vocabulary size: adds the final norm and LM head when given."""
    norm: Literal["layernorm", "rmsnorm"] = "rmsnorm"
    """Normalisation (BERT: layernorm; LLaMA: rmsnorm)."""
    mlp: Literal["gelu", "gated_silu", "gated_gelu"] = "gated_silu"
    """MLP: up, GELU, down (BERT); SiLU(gate) * up, down (LLaMA); GELU(gate) * up, down (Gemma's
    GeGLU, Shazeer 2020)."""
    causal: Flag = True
    """Decoder (causal mask) or encoder (sees every position)."""
    rope: Literal["none", "half", "interleaved"] = "none"
    """Rotary position embedding of Q and K (a `rope` op before attention): pairs (i, i + d/2)
    as LLaMA and GPT-NeoX, (2i, 2i + 1) as GPT-J; none for absolute positions (BERT, GPT-3)."""
    rotary_dim: PositiveInt | None = None
    """Leading values of each head that rotate (default the head; GPT-J 64)."""
    rope_theta: Real = Field(10000.0, gt=1)
    """The rotation frequencies' base."""
    phase: Literal["prefill", "decode"] = "prefill"
    """prefill: `context` prompt tokens per sequence; decode: one token against `context` cached."""
    batch: PositiveInt = 1
    """Sequences processed together."""
    context: PositiveInt = 2048
    """Prompt length (prefill) or tokens in the KV-cache including the new one (decode)."""
    dtype: PrecisionName = "bf16"
    """Precision of weights, activations and the KV-cache."""
    output_dtype: PrecisionName | None = None
    """Precision every GEMM writes its output in (default: its accumulator's, fp32 for float
    inputs); fp16/bf16 where the engine's GEMMs write 16-bit activations, as TensorRT-LLM's do,
    its fp8 GEMMs included. Tensor parallelism all-reduces row-split GEMMs' outputs in it."""

    @model_validator(mode="after")
    def _rotary_fields_need_rope(self):
        """rotary_dim and rope_theta shape a `rope` op; with rope: none there is none, and the
        values given were silently dropped."""
        given = sorted({"rotary_dim", "rope_theta"} & self.model_fields_set)
        if self.rope == "none" and given:
            raise ValueError(f"{given[0]}: read only with rope: half or interleaved; rope is none")
        return self

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def kv_cache_bytes(self) -> int:
        """layers x 2 x L x H_kv x d x bytes x batch."""
        per_layer = 2 * self.context * (self.kv_heads or self.heads) * self.head_dim
        return self.layers * self.batch * nbytes(per_layer, self.dtype)


def expand(model: TransformerSpec) -> dict:
    """The op-list workload (as a dict for WorkloadSpec) of a transformer config."""
    if model.hidden % model.heads:
        raise SpecError(
            f"{locate(model, 'heads')}: hidden ({model.hidden}) must be a multiple of heads "
            f"({model.heads})"
        )
    d, kv = model.head_dim, model.kv_heads or model.heads
    if model.heads % kv:  # each K/V head serves a whole group of query heads
        raise SpecError(f"{locate(model, 'kv_heads')}: {kv} must divide heads ({model.heads})")
    tokens = model.batch * (model.context if model.phase == "prefill" else 1)
    q_len = model.context if model.phase == "prefill" else 1
    common = {"dtype": model.dtype}
    ops: list[dict] = []

    def add(kind: str, name: str, inputs: list[str], **shape) -> str:
        ops.append({"kind": kind, "name": name, "inputs": inputs, **common, **shape})
        return name

    def gemm(name, inputs, n, k, m=tokens, parallel=None):
        return add(
            "gemm", name, inputs, M=m, N=n, K=k, parallel=parallel, output_dtype=model.output_dtype
        )

    def vector(kind, name, inputs, cols=model.hidden, rows=tokens):
        return add(kind, name, inputs, rows=rows, cols=cols)

    residual: list[str] = []
    for layer in range(model.layers):
        p = f"L{layer}."
        normed = vector(model.norm, p + "attn_norm", residual)
        q = gemm(p + "q_proj", [normed], model.hidden, model.hidden, parallel="column")
        k = gemm(p + "k_proj", [normed], kv * d, model.hidden, parallel="column")
        v = gemm(p + "v_proj", [normed], kv * d, model.hidden, parallel="column")
        if model.rope != "none":
            q = k = add(
                "rope",
                p + "rope",
                [q, k],
                rows=tokens,
                cols=(model.heads + kv) * d,
                head_dim=d,
                rotary_dim=model.rotary_dim,
                style=model.rope,
                base=model.rope_theta,
                start=model.context - q_len,
                seq_len=q_len,
            )
        attention = add(
            "attention",
            p + "attention",
            list(dict.fromkeys([q, k, v])),
            batch=model.batch,
            heads=model.heads,
            kv_heads=kv,
            q_len=q_len,
            kv_len=model.context,
            head_dim=d,
            causal=model.causal,
            phase=model.phase,
        )
        out = gemm(p + "o_proj", [attention], model.hidden, model.hidden, parallel="row")
        mid = vector("add", p + "attn_residual", [out] + residual)
        normed = vector(model.norm, p + "mlp_norm", [mid])
        if model.mlp in ("gated_silu", "gated_gelu"):
            gate = gemm(p + "gate_proj", [normed], model.ffn, model.hidden, parallel="column")
            up = gemm(p + "up_proj", [normed], model.ffn, model.hidden, parallel="column")
            kind = "silu" if model.mlp == "gated_silu" else "gelu"
            act = vector(kind, p + kind, [gate], cols=model.ffn)
            hidden = vector("mul", p + "gate_mul", [act, up], cols=model.ffn)
        else:
            up = gemm(p + "up_proj", [normed], model.ffn, model.hidden, parallel="column")
            hidden = vector("gelu", p + "gelu", [up], cols=model.ffn)
        down = gemm(p + "down_proj", [hidden], model.hidden, model.ffn, parallel="row")
        residual = [vector("add", p + "mlp_residual", [down, mid])]
    if model.vocab:
        normed = vector(model.norm, "final_norm", residual, rows=model.batch)
        gemm("lm_head", [normed], model.vocab, model.hidden, m=model.batch)
    for op in ops:  # drop the hints where they do not apply
        for hint in ("parallel", "output_dtype"):
            if op.get(hint, "") is None:
                del op[hint]
    weights = sum(op["N"] * op["K"] for op in ops if op["kind"] == "gemm")
    meta = {
        "model": model.name,
        "phase": model.phase,
        "batch": model.batch,
        "context": model.context,
        "layers": model.layers,
        "tokens": tokens,
        "kv_cache_bytes": model.kv_cache_bytes(),
        "weight_bytes": nbytes(weights, model.dtype),
    }
    return {"name": model.name, "description": model.description, "ops": ops, "meta": meta}


HF_KEYS = {
    "hidden_size": "hidden",
    "num_attention_heads": "heads",
    "num_key_value_heads": "kv_heads",
    "intermediate_size": "ffn",
    "num_hidden_layers": "layers",
    "vocab_size": "vocab",
}
HF_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
GATED_GELU_TYPES = ("gemma", "gemma2", "gemma3", "gemma3_text")
"""HuggingFace model types whose GELU MLP is gated, GELU(gate) * up (transformers' GemmaMLP,
Gemma2MLP, Gemma3MLP); other GELU configs (BERT, GPT-NeoX, Phi) are up, GELU, down."""


MOE_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
"""The expert counts of mixture-of-experts configs (Mixtral, Qwen-MoE, DeepSeek, ...)."""


def _check_modelled(path: Path, config: dict) -> None:
    """Refuse a config whose layer is not the one accsim builds from it (each was built as a
    dense LLaMA-like layer and ran): an activation that is neither GELU nor SiLU (OPT's relu), a
    head size other than hidden / heads (Gemma's, Qwen3's), a dtype accsim holds none of (float64
    ran as bf16), experts in the MLP."""
    act = config.get("hidden_act", "silu")
    if not (isinstance(act, str) and ("gelu" in act or act in ("silu", "swish"))):
        raise SpecError(
            f"{path}: hidden_act: {act!r}; accsim builds GELU (BERT-like) and SiLU (LLaMA-like) "
            "MLPs"
        )
    head_dim, hidden, heads = (
        config.get(k) for k in ("head_dim", "hidden_size", "num_attention_heads")
    )
    if head_dim is not None and all(type(v) is int and v > 0 for v in (hidden, heads)):
        if head_dim != hidden / heads:
            raise SpecError(
                f"{path}: head_dim: {head_dim!r}, not hidden_size / num_attention_heads "
                f"({hidden} / {heads}); accsim's attention heads are hidden / heads wide"
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


def from_hf_config(path: Path) -> dict:
    """A HuggingFace config.json as a transformer workload dict (BERT-like or LLaMA-like)."""
    config = read_json(path)
    if not isinstance(config, dict):
        raise SpecError(f"{path}: expected a JSON object, got {type(config).__name__}")
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
    _check_modelled(path, config)
    gelu = "gelu" in str(config.get("hidden_act", "silu"))  # gelu_new, quick_gelu, ...
    spec.update(
        kind="transformer",
        name=path.parent.name if path.name == "config.json" else path.stem,
        description=f"HuggingFace config {path.name}",
        norm="layernorm" if encoder else "rmsnorm",
        mlp=_mlp(gelu, config.get("model_type")),
        causal=not encoder,
        dtype=HF_DTYPES.get(str(config.get(_dtype_key(config))), "bf16"),
    )
    spec["description"] += f" ({config.get('num_hidden_layers', '?')} layers in the model)"
    spec["layers"] = 1  # one layer unless --set workload.layers=... (or --layers) asks for more
    return spec
