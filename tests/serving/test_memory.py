"""Weights, paged KV blocks, admission and preemption."""

import pytest

from simulator.errors import CapacityError
from simulator.serving import Fleet, Lengths, Limits, fixed_batch, load_model, serve
from simulator.serving.kvcache import BlockManager
from simulator.spec import load_arch


def test_llama_2_7b_weights_match_the_published_parameter_count():
    # 6,738,415,616 parameters (Meta's checkpoint) less the 32000 x 4096 embedding table and the
    # 65 RMSNorm weight vectors of 4096, which serving does not stream per token
    params = 6_738_415_616 - 32000 * 4096 - 65 * 4096
    assert load_model("llama-2-7b").weight_bytes == 2 * params


def test_kv_bytes_per_token_by_hand():
    assert load_model("llama-2-7b").kv_bytes_per_token == 2 * 32 * 4096 * 2  # 512 KiB
    assert load_model("llama-3-8b").kv_bytes_per_token == 2 * 32 * 8 * 128 * 2  # GQA: 128 KiB


def test_a_model_that_does_not_fit_names_its_footprint():
    # LLaMA-2-70B: 68,976,648,192 parameters, less its 32000 x 8192 embedding and 161 norm vectors
    gib = 2 * (68_976_648_192 - 32000 * 8192 - 161 * 8192) / 2**30
    with pytest.raises(
        CapacityError, match=f"llama-2-70b on a100-like: the weights take {gib:.2f} GiB"
    ):
        serve("a100-like", "llama-2-70b", fixed_batch(1, Lengths()))


def test_blocks_by_hand():
    kv = BlockManager(1000 * 64, 0, 4, 16, 1.0, "x")  # 64 bytes a block -> 1000 blocks
    assert kv.total == 1000
    kv.grow(1, 17)  # 17 tokens: 2 blocks
    kv.grow(1, 32)  # still 2
    kv.grow(2, 1)
    assert kv.free == 997 and kv.held == {1: 2, 2: 1}
    assert kv.release(1) == 2 and kv.free == 999
    assert kv.can_hold(3, 999 * 16) and not kv.can_hold(3, 999 * 16 + 1)


def _small_hbm(mib: int):
    return load_arch("tpu-v4-like", [(["components", "hbm", "capacity"], f"{mib} MiB")])


@pytest.mark.parametrize("mode", ["recompute", "swap"])
def test_preemption_when_blocks_run_out_still_serves_every_token(tiny, mode):
    # 6 MiB x 0.9 less 3.4 MB of weights leaves 135 blocks of 16 tokens (1 KiB each): 8 prompts
    # of 256 are admitted, but 8 x 320 tokens need 160 blocks by the end
    specs = fixed_batch(12, Lengths(256, 64))
    result = serve(_small_hbm(6), tiny, specs, limits=Limits(preemption=mode))
    assert result.summary["preemptions"] > 0
    assert len(result.requests) == 12
    assert (result.requests.output_tokens == 64).all()
    assert result.summary["kv_peak_utilization"] <= 1.0
    if mode == "swap":
        # every swapped-out block comes back once: bytes out == bytes in, a whole number of blocks
        assert result.summary["swap_bytes"] > 0
        assert result.summary["swap_bytes"] % (2 * 16 * tiny.kv_bytes_per_token) == 0


def test_static_batching_reserves_whole_answers_and_never_preempts(tiny):
    specs = fixed_batch(12, Lengths(256, 64))
    result = serve(_small_hbm(6), tiny, specs, Fleet(scheduler="static"))
    assert result.summary["preemptions"] == 0 and len(result.requests) == 12


def test_a_request_longer_than_the_whole_cache_is_an_error(tiny):
    with pytest.raises(CapacityError, match="request 0: 4000 tokens need 250 KV blocks"):
        serve(_small_hbm(6), tiny, fixed_batch(1, Lengths(3000, 1000)))


@pytest.mark.parametrize(
    ("fleet", "limits", "message"),
    [
        (Fleet(block_size=0), Limits(), "block_size: must be a positive integer, got 0"),
        (Fleet(), Limits(max_batch=-1), "max_batch: must be a positive integer, got -1"),
        (Fleet(), Limits(preemption="drop"), "preemption 'drop': choose recompute or swap"),
        (Fleet(router="random"), Limits(), "router 'random'"),
    ],
)
def test_bad_knobs_are_one_line_errors(tiny, costs, fleet, limits, message):
    from simulator.errors import SpecError

    with pytest.raises(SpecError, match=message):
        serve(costs.arch, tiny, fixed_batch(1, Lengths(8, 2)), fleet, limits, costs=costs)


def test_every_model_preset_loads_with_its_depth_and_vocab():
    from simulator.serving import list_models

    depths = {"llama-2-7b": 32, "llama-2-13b": 40, "llama-2-70b": 80, "llama-3-8b": 32}
    assert {name: load_model(name).layers for name in list_models()} == depths
    assert load_model("llama-3-8b").vocab == 128256
