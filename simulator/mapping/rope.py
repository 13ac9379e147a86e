"""The work of a `rope` op on a vector unit: it is elementwise and runs as the other vector ops
do (rows in chunks, each value read and written once), with its own instruction counts."""

from simulator.spec.workload import RopeOpSpec


def rope_recipe(op: RopeOpSpec) -> tuple[dict[str, int], dict[str, int]]:
    """Primitives per element and per row: a rotated value is a x cos - b x sin (or a x sin +
    b x cos), 2 multiplies and an add, on each row's heads x rotary_dim rotated values; the
    other values are copied. cos and sin come from a table of positions x rotary_dim / 2 (as
    HuggingFace's and vLLM's rotary embeddings cache them), not counted here."""
    rotated = op.cols // op.head_dim * op.rotated
    return {}, {"mul": 2 * rotated, "add": rotated}
