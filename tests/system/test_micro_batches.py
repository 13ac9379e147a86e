"""Pipeline micro-batches: the GPipe schedule against its closed form, and a system run whose
micro-batches add up to the whole batch."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import simulate
from simulator.errors import SpecError
from simulator.spec import load_arch
from simulator.system.links import neighbour_link
from simulator.system.pipeline import gpipe

TINY = {
    "kind": "transformer",
    "name": "tiny",
    "hidden": 256,
    "heads": 4,
    "ffn": 1024,
    "layers": 2,
    "norm": "layernorm",
    "mlp": "gelu",
    "context": 64,
    "batch": 4,
    "dtype": "bf16",
}


def _pipeline(micro_batches: int, stages: int = 2):
    return load_arch(
        {
            "name": "tiny-pipeline",
            "system": {
                "chip": "datacenter-hbm",
                "count": stages,
                "pipeline_stages": stages,
                "micro_batches": micro_batches,
                "links": {"kind": "nvlink3", "count": 12, "topology": "ring"},
            },
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    stages=st.integers(1, 8),
    micro=st.integers(1, 32),
    t=st.floats(1e-6, 1.0),
    hop=st.floats(0.0, 1.0),
)
def test_equal_stages_end_at_the_gpipe_closed_form(stages, micro, t, hop):
    # a hop shorter than a stage never queues on its link: micro-batch j leaves stage s at
    # (j + 1) t + s (t + h), so the last one leaves at m t + (p - 1)(t + h)
    h = hop * t
    schedule = gpipe([t] * stages, [h] * (stages - 1), micro)
    assert schedule.seconds == pytest.approx(micro * t + (stages - 1) * (t + h))
    if h == 0:
        assert schedule.bubble == pytest.approx((stages - 1) / (micro + stages - 1), abs=1e-12)


def test_the_slowest_stage_sets_the_pace():
    # stage times 1, 3, 2; one micro-batch enters stage 1 every 3 s once the pipeline is full
    schedule = gpipe([1.0, 3.0, 2.0], [0.5, 0.5], 10)
    assert schedule.seconds == pytest.approx(1 + 0.5 + 10 * 3 + 0.5 + 2)
    assert schedule.busy == (10.0, 30.0, 20.0)


def test_a_link_slower_than_the_stages_queues_the_micro_batches():
    schedule = gpipe([1.0, 1.0], [4.0], 5)  # the link carries one micro-batch every 4 s
    assert schedule.seconds == pytest.approx(1 + 5 * 4 + 1)


def test_micro_batches_flow_through_the_stages():
    whole = simulate(_pipeline(1), TINY, numerics="off").summary
    four = simulate(_pipeline(4), TINY, numerics="off").summary
    assert four["macs"] == whole["macs"]  # the same work, in four pieces
    t0, t1 = four["stage_seconds"]  # one micro-batch's stages (a layer each)
    bandwidth, latency, _ = neighbour_link(_pipeline(4))
    hop = latency + 64 * 256 * 2 / bandwidth  # one sequence's hidden states, bf16
    assert four["pipeline_hop_seconds"] == pytest.approx(hop)
    assert hop < min(t0, t1)  # so the link never queues
    assert four["seconds"] == pytest.approx(t0 + hop + t1 + 3 * max(t0, t1))
    assert four["pipeline_bubble"] == pytest.approx(1 - 4 * (t0 + t1) / (2 * four["seconds"]))
    # one batch: stage after stage, the bubble is one of the two stages
    assert whole["seconds"] == pytest.approx(
        sum(whole["stage_seconds"]) + whole["pipeline_hop_seconds"]
    )
    assert four["seconds"] < 4 * (t0 + t1)  # the stages overlap: faster than one after another


def test_micro_batches_must_divide_the_batch():
    with pytest.raises(
        SpecError,
        match=r"system.micro_batches: micro_batches 3 does not divide L0.attn_norm's rows \(256\)",
    ):
        simulate(_pipeline(3), TINY, numerics="off")


def test_a_micro_batch_of_a_rope_holds_whole_sequences():
    """TINY's rope rotates 4 sequences of 64 rows: 2 micro-batches of 2 sequences run; a rope of
    one 64-row sequence cut in 2 would rotate rows 32..63 from position 0 (and break seq_len
    dividing rows), so it is refused."""
    assert simulate(_pipeline(2), TINY | {"rope": "half"}, numerics="off").seconds > 0
    rope = {"kind": "rope", "name": "rope", "rows": 64, "cols": 64, "head_dim": 16}
    with pytest.raises(SpecError, match=r"micro_batches 2 cuts rope's sequences of 64 rows"):
        simulate(_pipeline(2), {"name": "r", "ops": [rope | {"seq_len": 64}]}, numerics="off")
