"""Pipeline-parallel replicas against schedules derived by hand: the activation hop on the link,
a second micro-batch waiting for stage 0, the bubble of a lone request, the per-stage KV split."""

import pytest

from simulator.errors import SpecError
from simulator.serving import Batch, CostModel, Fleet, Lengths, Limits, fixed_batch, serve
from simulator.spec.chip import ChipSpec, LinkPorts

# tpu_v4_ici in simulator/tech/noc.yaml: 50 GB/s per link per direction, 500 ns one way
ICI_PORTS, ICI_GBPS, ICI_LATENCY_S = 6, 50e9, 500e-9
PP2 = Fleet(pipeline_stages=2)


@pytest.fixture(scope="module")
def linked(arch, tiny):
    """tpu-v4-like with its six ICI ports declared, so stages can be linked."""
    chip = ChipSpec(links=[LinkPorts(kind="tpu_v4_ici", count=ICI_PORTS)])
    return CostModel(arch.model_copy(update={"chip": chip}), tiny)


def _hop_s(tiny, tokens: int) -> float:
    """One token's hidden state is hidden x 2 bytes (bf16); all six ports carry it."""
    return ICI_LATENCY_S + tokens * tiny.layer.hidden * 2 / (ICI_PORTS * ICI_GBPS)


def test_a_prompt_crosses_one_link_between_two_stages(tiny, linked):
    prompt = 200
    specs = fixed_batch(1, Lengths(prompt, 2))
    flat = serve(linked.arch, tiny, specs, costs=linked).requests.iloc[0]
    piped = serve(linked.arch, tiny, specs, PP2, costs=linked).requests.iloc[0]
    assert piped.ttft_s - flat.ttft_s == pytest.approx(_hop_s(tiny, prompt), rel=1e-9)


def test_a_lone_request_gains_nothing_from_stages_the_bubble(tiny, linked):
    specs = fixed_batch(1, Lengths(64, 9))
    flat = serve(linked.arch, tiny, specs, costs=linked).requests.iloc[0]
    piped = serve(linked.arch, tiny, specs, PP2, costs=linked).requests.iloc[0]
    assert piped.tpot_s - flat.tpot_s == pytest.approx(_hop_s(tiny, 1), rel=1e-6)


def test_a_second_micro_batch_waits_for_stage_zero_then_for_stage_one(tiny, linked):
    prompt = 128
    result = serve(linked.arch, tiny, fixed_batch(2, Lengths(prompt, 1)), PP2, costs=linked)
    first, second = sorted(result.requests.ttft_s)
    one = Batch((), ((prompt, prompt),), 1)
    layer = linked.layer(one).seconds * tiny.layers / 2  # one stage's layers
    head = linked.head(one).seconds
    hop = _hop_s(tiny, prompt)
    # A: stage 0 [0, l], link, stage 1 [l + x, 2l + x + h].  B: stage 0 [l, 2l], link until
    # 2l + x, stage 1 busy with A until 2l + x + h, so B ends at 3l + x + 2h.
    assert first == pytest.approx(2 * layer + hop + head, rel=1e-9)
    assert second == pytest.approx(3 * layer + hop + 2 * head, rel=1e-9)


def test_each_stage_scheduler_gets_its_share_of_the_last_stage_blocks(tiny, linked):
    from simulator.serving.engine import Simulation

    sim = Simulation(linked, PP2, Limits())
    dram = 32 * 2**30  # tpu-v4-like: 32 GiB HBM
    head = tiny.layer.hidden * tiny.vocab * 2
    layers = tiny.weight_bytes - head
    kv_per_token_per_stage = tiny.kv_bytes_per_token / 2
    blocks = int((int(dram * 0.9) - (layers / 2 + head)) // (kv_per_token_per_stage * 16))
    assert len(sim.replicas) == 2
    assert [r.scheduler.kv.total for r in sim.replicas] == [blocks // 2] * 2


def test_stages_need_links_and_an_even_split(tiny, costs, linked):
    with pytest.raises(SpecError, match="chip.links"):
        serve(costs.arch, tiny, fixed_batch(1, Lengths(16, 2)), PP2, costs=costs)
    with pytest.raises(SpecError, match="do not split evenly"):
        serve(linked.arch, tiny, fixed_batch(1, Lengths(16, 2)), Fleet(pipeline_stages=3),
              costs=linked)  # fmt: skip
