"""A sliding-window model in serving: a sequence holds its window's KV at most (Mistral's rolling
buffer), a decode step reads its window's keys, and a prompt chunk's attention is windowed."""

import json

from simulator.serving import CostModel, load_model
from simulator.serving.costs import Batch
from simulator.serving.kvcache import BlockManager
from tests.serving.conftest import TINY


def test_a_windowed_sequence_holds_its_windows_blocks_at_most():
    """10,000 tokens in blocks of 16: 625 blocks; with a 4,096-token window, 4096 / 16 = 256."""
    args = (2**40, 0, 1024, 16, 1.0, "test")
    assert BlockManager(*args).blocks(10_000) == 625
    windowed = BlockManager(*args, window=4096)
    assert (windowed.blocks(10_000), windowed.blocks(100)) == (256, 7)
    windowed.grow(1, 10_000)
    assert windowed.held[1] == 256


def test_a_decode_step_past_the_window_costs_what_one_at_the_window_does(tmp_path, arch):
    """The new token of a 1,000-token sequence with a 64-key window reads 64 keys, as one of a
    64-token sequence; a prompt chunk's attention carries the window."""
    path = tmp_path / "windowed.json"
    path.write_text(json.dumps(TINY | {"sliding_window": 64}))
    costs = CostModel(arch, load_model(path), ratio=1)
    far, near = Batch((1000,), (), 1), Batch((64,), (), 1)
    assert costs.layer(far) == costs.layer(near)
    op = costs.workload("prefill", 32, 200)["ops"][0]
    assert (op["q_len"], op["kv_len"], op["window"]) == (32, 200, 64)
