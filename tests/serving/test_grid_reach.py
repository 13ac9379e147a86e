"""The serving cost grid's reach (serving/costs.py: grid_reach): a ratio whose top knot lies far
past the tokens the grid serves is refused before any shape is simulated; every ratio up to
MAX_REACH passes, whatever the top."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simulator
from simulator.errors import CapacityError
from simulator.serving.costs import GRID_TOP, MAX_REACH, CostModel, grid_reach
from simulator.serving.models import load_model


@given(ratio=st.floats(1, MAX_REACH), top=st.integers(1, 10**6))
def test_a_ratio_up_to_the_reach_always_passes(ratio, top):
    assert grid_reach(ratio, top) is None


def test_a_ratio_of_100_puts_its_top_knot_at_a_million_tokens():
    """Knots 1, 100, 10^4, 10^6 (by hand): 10^6 > 8 x 16,384 = 131,072."""
    why = grid_reach(100, GRID_TOP)
    assert why.startswith(
        "the cost grid's top knot is 1,000,000 tokens, above the limit of 131,072"
    )
    assert grid_reach(128, GRID_TOP) is None  # 1, 128, 16,384: exactly the top


def test_the_cost_model_refuses_a_far_grid_before_simulating():
    arch, model = simulator.load_arch("tpu-v4-like"), load_model("llama-2-7b")
    with pytest.raises(CapacityError, match=r"^bucket ratio 1e\+06: the cost grid's top knot"):
        CostModel(arch, model, 1e6)
