"""Hypothesis strategies shared by the property tests: random GEMM shapes and valid tilings."""

import itertools

from hypothesis import strategies as st

LOOP_ORDERS = [list(p) for p in itertools.permutations("MNK")]


@st.composite
def shapes_and_mappings(draw, max_dim=80):
    """A random M, N, K and a random valid explicit mapping of it (partial edge tiles allowed).

    Tiles are at least a sixth of each dim, so a run has at most 6^3 steps."""
    shape = {d: draw(st.integers(1, max_dim)) for d in "MNK"}
    mapping = {
        "dataflow": draw(st.sampled_from(["os", "ws", "is"])),
        "tile": {d: draw(st.integers(-(-shape[d] // 6), shape[d])) for d in "MNK"},
        "loop_order": draw(st.sampled_from(LOOP_ORDERS)),
        "edge_tiles": "partial",
        "double_buffering": draw(st.booleans()),
        "accounting": draw(st.sampled_from(["realistic", "scalesim"])),
    }
    return shape, mapping
