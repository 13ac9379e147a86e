"""A tiny LLaMA-shaped model on tpu-v4-like: every simulated shape takes well under a second."""

import json

import pytest

from simulator.serving import CostModel, load_model
from simulator.spec import load_arch

TINY = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 256,
    "intermediate_size": 688,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 1000,
    "max_position_embeddings": 2048,
    "torch_dtype": "bfloat16",
}


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


@pytest.fixture(scope="session")
def tiny(tiny_config):
    return load_model(tiny_config)


@pytest.fixture(scope="session")
def arch():
    return load_arch("tpu-v4-like")


@pytest.fixture(scope="session")
def costs(arch, tiny):
    """One memo for the session's runs (bucketed on the default ratio-2 grid)."""
    return CostModel(arch, tiny)


@pytest.fixture(scope="session")
def exact(arch, tiny):
    """Exact shapes, no bucketing."""
    return CostModel(arch, tiny, ratio=1)
