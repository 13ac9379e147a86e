"""Transformer workloads: a model config (YAML or a HuggingFace config.json) expanded into an op graph.

One decoder/encoder layer is: norm -> Q, K, V projections -> (RoPE on Q and K where the model
rotates them) -> attention -> output projection ->
residual add -> norm -> MLP (GELU, or gated SiLU as in LLaMA) -> residual add, or, in a parallel
block (GPT-J, Falcon, Phi), attention and the MLP side by side on the normed input, both added to
the residual at once; `layers` repeats it, `vocab` adds the final norm and LM head. Prefill
processes `context` prompt tokens per sequence; decode processes one new token per sequence against
a KV-cache of `context` tokens.
"""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.errors import SpecError
from simulator.spec.precision import nbytes
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
    head_dim: PositiveInt | None = None
    """Width of each attention head (default hidden / heads; Gemma 7B's 256 of a 3072 model):
    Q, K, V project hidden to heads x head_dim, the output projection back."""
    ffn: PositiveInt
    """MLP inner width (intermediate_size)."""
    layers: Annotated[PositiveInt, Field(le=1024)] = 1
    """Layers to simulate (a whole stack, or one layer to study)."""
    vocab: PositiveInt | None = None
    """Vocabulary size: adds the final norm and LM head when given."""
    norm: Literal["layernorm", "rmsnorm"] = "rmsnorm"
    """Normalisation (BERT: layernorm; LLaMA: rmsnorm)."""
    block: Literal["sequential", "parallel", "parallel_norms"] = "sequential"
    """sequential: attention, then the MLP on the attention's residual (LLaMA, BERT); parallel:
    one norm feeds attention and the MLP side by side, both outputs added to the residual (GPT-J,
    Phi, Falcon-7B); parallel_norms: the same with a norm of its own for each (GPT-NeoX,
    Falcon-40B)."""
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
    max_context: PositiveInt | None = None
    """Positions the model has (a HuggingFace config's max_position_embeddings): a longer
    context is refused, the model cannot run it."""
    sliding_window: PositiveInt | None = None
    """Keys each query attends to at most (Mistral's sliding window): the attention op's
    `window`, and the KV-cache a sequence holds (a rolling buffer of that many tokens)."""
    dtype: PrecisionName = "bf16"
    """Precision of weights, activations and the KV-cache."""
    output_dtype: PrecisionName | None = None
    """Precision every GEMM writes its output in (default: the GEMM's inputs' format for floats,
    as frameworks write activations; the accumulator's for integers); fp16 for fp8 GEMMs that
    write 16-bit activations, as TensorRT-LLM's do. Tensor parallelism all-reduces row-split
    GEMMs' outputs in it."""

    @model_validator(mode="after")
    def _rotary_fields_need_rope(self):
        """rotary_dim and rope_theta shape a `rope` op; with rope: none there is none, and the
        values given were silently dropped."""
        given = sorted({"rotary_dim", "rope_theta"} & self.model_fields_set)
        if self.rope == "none" and given:
            raise ValueError(f"{given[0]}: read only with rope: half or interleaved; rope is none")
        return self

    @model_validator(mode="after")
    def _context_fits(self):
        """A context the model has no positions for would be simulated silently wrong: refused."""
        if self.max_context is not None and self.context > self.max_context:
            raise ValueError(
                f"context: {self.context} tokens exceed the model's {self.max_context} positions "
                "(max_context, max_position_embeddings in a HuggingFace config)"
            )
        if self.sliding_window is not None and not self.causal:
            raise ValueError(
                f"sliding_window: {self.sliding_window}: a window of the last keys up to each "
                "query, read only with causal: true"
            )
        return self

    @property
    def head_width(self) -> int:
        """Each attention head's width: head_dim where given, else hidden / heads."""
        return self.head_dim or self.hidden // self.heads

    def kv_cache_bytes(self) -> int:
        """layers x 2 x L x H_kv x d x bytes x batch, L the context or the sliding window where
        shorter (a rolling buffer keeps the window's keys)."""
        tokens = min(self.context, self.sliding_window or self.context)
        per_layer = 2 * tokens * (self.kv_heads or self.heads) * self.head_width
        return self.layers * self.batch * nbytes(per_layer, self.dtype)


def expand(model: TransformerSpec) -> dict:
    """The op-list workload (as a dict for WorkloadSpec) of a transformer config."""
    if model.head_dim is None and model.hidden % model.heads:
        raise SpecError(
            f"{locate(model, 'heads')}: hidden ({model.hidden}) must be a multiple of heads "
            f"({model.heads})"
        )
    d, kv = model.head_width, model.kv_heads or model.heads
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

    def vector(kind, name, inputs, cols=model.hidden, rows=tokens, **fields):
        return add(kind, name, inputs, rows=rows, cols=cols, **fields)

    residual: list[str] = []
    for layer in range(model.layers):
        p = f"L{layer}."
        normed = vector(model.norm, p + "attn_norm", residual)
        q = gemm(p + "q_proj", [normed], model.heads * d, model.hidden, parallel="column")
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
            **({"window": model.sliding_window} if model.sliding_window else {}),
        )
        out = gemm(p + "o_proj", [attention], model.hidden, model.heads * d, parallel="row")
        if model.block == "sequential":
            mid = vector("add", p + "attn_residual", [out] + residual)
            normed = vector(model.norm, p + "mlp_norm", [mid])
        elif model.block == "parallel_norms":
            normed = vector(model.norm, p + "mlp_norm", residual)
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
        if model.block == "sequential":
            residual = [vector("add", p + "mlp_residual", [down, mid])]
        else:  # one add of both branches and the residual (layer 0's: the embeddings), as
            # GPT-J's and Falcon's blocks: it reads all three
            residual = [vector("add", p + "residual", [out, down] + residual, operands=3)]

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
