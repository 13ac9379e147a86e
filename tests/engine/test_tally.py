"""The tally of repeated bookings (engine/tally.py) against adding every booking as it comes."""

import dataclasses
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.engine.memo import execute
from simulator.engine.tally import CAP, Tally
from simulator.mapping import compile_program
from simulator.spec import load_mapping, load_workload
from tests.mapping.test_shifted import CUT_GEMMS, a100_cut

KEYS = ("a", "b", "c", "d")
COUNTS = st.one_of(
    st.integers(0, 2**12),
    st.integers(0, CAP),
    st.integers(CAP + 1, 2**60),  # too large to defer
    st.integers(-(2**20), -1),  # negative: booked as it comes
    st.integers(0, 2**20).map(float),  # whole floats defer too
    st.floats(0, 2**20, allow_nan=False).filter(lambda x: not x.is_integer()),
    st.floats(allow_nan=False, allow_infinity=True),
)
ROW = st.tuples(st.integers(0, 2), st.sampled_from(KEYS), COUNTS)
SCALES = st.one_of(  # a booking's scale: 1, or a hold's cycles (whole or not)
    st.just(1),
    st.integers(0, 2**20),
    st.integers(0, 2**20).map(float),
    st.floats(0, 2**20, allow_nan=False).filter(lambda x: not x.is_integer()),
    st.integers(CAP + 1, 2**60),  # too large to defer
)
STEP = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 5)),
    st.tuples(st.just("book"), st.integers(0, 5), SCALES),
    # another writer's whole numbers at least 0 (the engine's DMA bytes)
    st.tuples(st.just("add"), st.integers(0, 2), st.sampled_from(KEYS), st.integers(0, 2**44)),
    st.tuples(st.just("group"), st.integers(0, 5)),
)
GROUP = st.tuples(  # a row standing for several whole bookings (a part's bytes of a batch)
    st.integers(0, 2),
    st.sampled_from(KEYS),
    st.lists(st.integers(0, 2**42), min_size=1, max_size=4),
)


def _tables():
    return [defaultdict(float), defaultdict(int), defaultdict(float)]


def _state(tables):
    """Every table's items in key order, with each value's type (bit-identical means all three)."""
    return [[(key, type(value), value) for key, value in table.items()] for table in tables]


def _run(pool, steps, tally: Tally | None, groups=((),)):
    tables = _tables()
    rows = [tuple((tables[t], key, count) for t, key, count in spec) for spec in pool]
    summed = [tuple((tables[t], key, sum(parts)) for t, key, parts in spec) for spec in groups]
    for step in steps:
        if step[0] == "group":
            index = step[1] % len(groups)
            if tally is None or not tally.defer(summed[index]):
                for t, key, parts in groups[index]:
                    for part in parts:
                        tables[t][key] += part
            continue
        if step[0] == "book":
            booked, times = rows[step[1] % len(rows)], (*step[2:], 1)[0]
            if tally is None:
                for table, key, count in booked:
                    table[key] += count * times
            else:
                tally.book(booked, times)
        else:
            tables[step[1]][step[2]] += step[3]
    if tally is not None:
        tally.flush()
    return _state(tables)


def _same(a, b) -> bool:
    """Equal states, NaN equal to NaN (an infinite count's sums may give NaN both ways)."""
    return repr(a) == repr(b)


@settings(max_examples=300, deadline=None)
@given(
    pool=st.lists(st.lists(ROW, min_size=1, max_size=5), min_size=1, max_size=6),
    steps=st.lists(STEP, max_size=200),
    groups=st.lists(st.lists(GROUP, max_size=4), min_size=1, max_size=4),
)
def test_tally_gives_the_eager_tables_bit_for_bit(pool, steps, groups):
    """Random rows (whole and fractional, small, huge, negative, infinite counts) booked in a
    random order, some scaled (whole, fractional and huge scales, as a NoC hold's cycles scale
    its links' busy rows), beside another writer's whole numbers: the same values, types and
    key order as adding each booking as it comes; so do rows that stand for several whole
    bookings each, summed (`defer`), or where they cannot wait, booked one by one."""
    assert _same(_run(pool, steps, Tally(), groups), _run(pool, steps, None, groups))


@settings(max_examples=50, deadline=None)
@given(
    count=st.integers(2**28, 2**30).map(lambda c: c | 1),
    start=st.integers(2**53 - 2**42, 2**53 - 2**41),
    bookings=st.integers(1, 40_000),
)
def test_a_total_nearing_2_53_is_booked_eagerly_on(count, start, bookings):
    """An odd count booked until the sum passes 2**53, where float sums round in booking order:
    the deferral ends near 2**53, so the tally rounds exactly as adding each booking does."""
    steps = [("add", 0, "a", start)] + [("book", 0)] * bookings
    pool = [[(0, "a", count)]]
    eager = _run(pool, steps, None)
    assert _same(_run(pool, steps, Tally()), eager)


@pytest.mark.parametrize("first_scale", [1, 90_640])
def test_a_scale_past_the_cap_books_as_it_comes(first_scale):
    """A count near CAP / 11 scaled by 90,640 twice passes 2**53 (found by the property above):
    past the cap a scaled booking is added as it comes, rounding as the eager sums do."""
    count = 99_372_240_540
    assert count * 90_640 > CAP and 2 * count * 90_640 > 2**53
    pool = [[(0, "a", count)]]
    steps = [("book", 0, first_scale), ("book", 0, 90_640)]
    assert _same(_run(pool, steps, Tally()), _run(pool, steps, None))


def test_bookings_wait_until_flushed_and_keys_keep_the_first_bookings_order():
    """A deferred row is added on its first booking (its keys take their place), then waits."""
    counts = defaultdict(float)
    counts["x"] += 1
    rows = ((counts, "b", 3), (counts, "a", 2))
    tally = Tally()
    for _ in range(5):
        tally.book(rows)
    assert list(counts.items()) == [("x", 1.0), ("b", 3.0), ("a", 2.0)]
    tally.flush()
    assert list(counts.items()) == [("x", 1.0), ("b", 15.0), ("a", 10.0)]


def test_a_key_that_took_a_fraction_is_never_deferred():
    """1/3 then ten bookings of 1 rounds differently from 1/3 + 1 + 9 (10.333...332 against
    ...334): a whole row on a key a fractional row touched, before or after, is added as it
    comes."""
    for fraction_first in (True, False):
        steps = [("book", 0)] * 10
        steps.insert(0 if fraction_first else 1, ("book", 1))
        pool = [[(0, "a", 1)], [(0, "a", 1 / 3)]]
        eager = _run(pool, steps, None)
        assert _same(_run(pool, steps, Tally()), eager)
    ten = 1 / 3
    for _ in range(10):
        ten += 1
    assert ten != 1 / 3 + 1 + 9  # the order matters here


def _record_state(record) -> str:
    """Every Record field with its keys in order and each value's type (nested tables too)."""

    def plain(value):
        if isinstance(value, dict):
            return [(key, plain(item)) for key, item in value.items()]
        return (type(value).__name__, value)

    return repr([(f.name, plain(getattr(record, f.name))) for f in dataclasses.fields(record)])


def _eager(self, rows, times=1):
    for table, key, count in rows:
        table[key] += count * times


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(64, 128, 8192, 12)  # split-K
@given(*CUT_GEMMS)
def test_class_runs_with_the_tally_equal_runs_booking_each_segment(m, n, k, cores):
    """a100-like cut to `cores` SMs (its pools queue): a class run whose repeated rows wait in
    the tally gives every Record field, key order and value type, of a run booking them as they
    come."""
    machine = build_machine(a100_cut(cores))
    workload = load_workload(f"gemm:M={m},N={n},K={k},dtype=fp16")
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    tallied = _record_state(execute(program, machine))
    with pytest.MonkeyPatch().context() as patch:
        patch.setattr(Tally, "book", _eager)
        assert tallied == _record_state(execute(program, machine))
