"""The watch describes every `stride`-th step only: the strides are the shortest and longest
period lengths whose jumps skip most steps (worked out here by hand and by a plain loop), and
runs described that sparsely give the event-by-event run's results on sweep-like GEMMs."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine.coalesce import Stream, shape, strides
from simulator.errors import CapacityError, SpecError
from simulator.mapping import compile_program
from simulator.spec import load_arch, load_mapping, load_workload
from tests.engine.test_coalesce import _both, assert_identical


def _sequence(text: str) -> np.ndarray:
    return np.array([ord(c) - ord("A") for c in text], dtype=np.int64)


def _loop_strides(sequence: list[int]) -> tuple[int, int]:
    """The same definition, one stretch at a time: a stretch of L steps k whose shape equals the
    one p steps later allows a jump over L // p - 1 periods of p steps."""
    n = len(sequence)
    skipped = {}
    for p in range(1, n // 3 + 1):
        total, length = 0, 0
        for k in range(n - p + 1):
            if k < n - p and sequence[k] == sequence[k + p]:
                length += 1
                continue
            total += max(length // p - 1, 0) * p
            length = 0
        skipped[p] = total
    best = max(skipped.values(), default=0)
    if not best:
        return 0, 0
    chosen = [p for p, total in skipped.items() if total == best]
    return chosen[0], chosen[-1]


def test_strides_by_hand():
    # 32 folds of first, two middles, last: 4-step periods from the start, 120 steps to skip
    assert strides(_sequence("CAAB" * 32)) == (4, 4)
    # 8 folds with 6 middles: 1-step jumps skip 4 of each fold (32), 8-step ones 48 of 64
    assert strides(_sequence("CAAAAAAB" * 8)) == (8, 8)
    # 14 middles: 1-step jumps skip 12 of 16 steps per fold, 16-step ones 6 of 8 folds (96 both)
    assert strides(_sequence(("C" + "A" * 14 + "B") * 8)) == (1, 16)
    # one shape throughout: every step repeats the one before (342 of 344 steps to skip)
    assert strides(_sequence("A" * 344)) == (1, 1)
    # 4 stretches of 85 alike steps, each ended by another: 1-step jumps (4 x 83 = 332) beat
    # 86-step ones (two of four periods: 172)
    assert strides(_sequence(("A" * 85 + "B") * 4)) == (1, 1)
    # nothing repeats: no description can lead to a jump
    assert strides(_sequence("ABCDEFGHIJKL")) == (0, 0)
    assert strides(_sequence("AB")) == (0, 0)


@given(st.lists(st.integers(0, 3), min_size=0, max_size=60))
def test_strides_equal_a_plain_loop(sequence):
    assert strides(np.array(sequence, dtype=np.int64)) == _loop_strides(sequence)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.sampled_from([16, 32, 64, 128]),
    cols=st.sampled_from([16, 32, 64, 128]),
    sram=st.sampled_from(["256 KiB", "512 KiB", "2 MiB", "8 MiB"]),
    dims=st.tuples(*[st.sampled_from([256, 384, 512, 768, 1024])] * 3),
)
def test_sweep_like_runs_equal_event_runs(rows, cols, sram, dims):
    """Property: the edge NPU with random array sizes and SRAM, a GEMM of random dims, the auto
    mapping (as in the array-vs-sram sweep): coalesced, described every stride-th step, the same
    cycles, bytes, stalls, energy and per-unit rows as every step run as events."""
    components = ["components"]
    arch = load_arch(
        "edge-npu",
        [
            ([*components, "mac_array", "rows"], rows),
            ([*components, "mac_array", "cols"], cols),
            ([*components, "sram", "capacity"], sram),
        ],
    )
    m, n, k = dims
    try:
        both = _both(arch, load_workload(f"gemm:M={m},N={n},K={k},dtype=int8"))
    except CapacityError:
        return
    assert_identical(*both)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.sampled_from([16, 32, 128]),
    sram=st.sampled_from(["256 KiB", "2 MiB"]),
    dims=st.tuples(*[st.sampled_from([100, 256, 384, 1024])] * 3),
    tile=st.tuples(*[st.sampled_from([32, 64, 128, 256])] * 3),
    order=st.permutations("MNK"),
    start=st.integers(0, 40),
)
def test_shape_ids_tell_apart_exactly_the_steps_of_other_shapes(
    rows, sram, dims, tile, order, start
):
    """Property: the steps' shape ids (one step of each class built, resumed streams walked a few
    steps on to the next class's first) are equal exactly where the shapes of every step built
    by the op's own stream are, on GEMMs of random tiles and loop orders."""
    arch = load_arch(
        "edge-npu",
        [
            (["components", "mac_array", "rows"], rows),
            (["components", "sram", "capacity"], sram),
        ],
    )
    m, n, k = dims
    mapping = load_mapping(
        {
            "name": "t",
            "tile": dict(zip("MNK", tile)),
            "loop_order": list(order),
            "edge_tiles": "partial",
        }
    )
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=int8")
    try:
        machine = build_machine(arch)
        (op,) = compile_program(workload, mapping, machine, False, 0)[0].ops
    except (CapacityError, SpecError):
        return
    steps = list(op.steps())
    start = min(start, len(steps) - 1)
    stream = Stream(op)
    stream.shape_ids(0)  # classes met before: a later call builds only the new ones
    ids = stream.shape_ids(start)
    shapes = [shape(step) for step in steps[start:]]
    assert len(ids) == len(shapes)
    # ids[i] == ids[j] exactly where shapes[i] == shapes[j]: each id names one shape and each
    # shape one id (one pass instead of comparing every pair)
    shape_of, id_of = {}, {}
    for step_id, step_shape in zip(ids, shapes, strict=True):
        assert shape_of.setdefault(step_id, step_shape) == step_shape
        assert id_of.setdefault(step_shape, step_id) == step_id
