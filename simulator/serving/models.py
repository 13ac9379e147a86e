"""Served models: a preset name (llama-2-7b, llama-3-8b, ...) or a HuggingFace config.json, as the
whole model (every layer, the LM head) that serving prices and whose weights must fit in DRAM."""

from dataclasses import dataclass
from pathlib import Path

from simulator.errors import SpecError, expect
from simulator.spec.hf_config import hf_transformer, read_hf_config
from simulator.spec.precision import nbytes
from simulator.spec.transformer import TransformerSpec
from simulator.spec.validate import validate
from simulator.spec.yamlio import Document

PRESETS = Path(__file__).resolve().parent / "models"


def list_models() -> list[str]:
    """Names of the shipped model presets (HuggingFace configs of public checkpoints)."""
    return sorted(p.stem for p in PRESETS.glob("*.json"))


@dataclass(frozen=True)
class Model:
    """One layer's config (`layer`: layers=1, no LM head) plus the whole model's depth and vocab."""

    name: str
    layer: TransformerSpec
    layers: int
    vocab: int
    max_context: int
    """Tokens a request may hold: the model's positions."""

    @property
    def kv_bytes_per_token(self) -> int:
        """K and V of one token in every layer: 2 x layers x H_kv x d x bytes."""
        kv = self.layer.kv_heads or self.layer.heads
        return self.layers * nbytes(2 * kv * self.layer.head_width, self.layer.dtype)

    @property
    def weight_bytes(self) -> int:
        """Q, K, V, O and MLP weights of every layer plus the LM head (embeddings not counted:
        a lookup table read one row per token, often tied to the head)."""
        layer, h = self.layer, self.layer.hidden
        q, kv = layer.heads * layer.head_width, (layer.kv_heads or layer.heads) * layer.head_width
        mlp = (3 if layer.mlp.startswith("gated") else 2) * h * layer.ffn
        per_layer = 2 * h * q + 2 * h * kv + mlp
        return nbytes(self.layers * per_layer + h * self.vocab, self.layer.dtype)


def load_model(ref: str | Path) -> Model:
    """A model preset name or a HuggingFace config.json path (needs num_hidden_layers, vocab_size)."""
    expect(ref, (str, Path), "load_model: ref")
    path = Path(ref)
    if not str(ref).endswith(".json"):
        path = PRESETS / f"{ref}.json"
        if not path.is_file():
            raise SpecError(
                f"{ref}: no model preset of that name; presets: {', '.join(list_models())}"
            )
    elif not path.is_file():
        raise SpecError(f"{ref}: no such model config file")
    config = read_hf_config(path)
    layer = hf_transformer(path, config)
    config.setdefault("max_position_embeddings", 4096)
    for key in ("num_hidden_layers", "vocab_size", "max_position_embeddings"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"{path}: {key}: serving needs a positive integer, got {value!r}")
    name = path.stem if path.parent == PRESETS else layer["name"]
    layer.update(name=name, vocab=None, layers=1)
    spec = validate(TransformerSpec, Document(layer, str(path), {}))
    return Model(
        name=name,
        layer=spec,
        layers=config["num_hidden_layers"],
        vocab=config["vocab_size"],
        max_context=config["max_position_embeddings"],
    )
