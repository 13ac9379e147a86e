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


def test_a_one_token_prompt_chunk_past_the_window_reads_its_windows_keys(tmp_path, arch):
    """A chunked prompt's last chunk of one token at position 999 (a prompt of 1,000 cut at 999)
    sees keys 936..999 with a 64-key window, as a decode step of 1,000 tokens does: the chunk's
    attention carries the window (it read all 1,000 keys), so it costs less than the unwindowed
    model's chunk and no less than a decode step over the window."""
    windowed, plain = tmp_path / "windowed.json", tmp_path / "plain.json"
    windowed.write_text(json.dumps(TINY | {"sliding_window": 64}))
    plain.write_text(json.dumps(TINY))
    costs = CostModel(arch, load_model(windowed), ratio=1)
    op = costs.workload("prefill", 1, 1000)["ops"][0]
    assert (op["q_len"], op["kv_len"], op["window"]) == (1, 1000, 64)
    chunk = Batch((), ((1, 1000),), 1)
    unwindowed = CostModel(arch, load_model(plain), ratio=1).layer(chunk)
    assert costs.layer(Batch((1000,), (), 1)).seconds <= costs.layer(chunk).seconds
    assert costs.layer(chunk).seconds < unwindowed.seconds
