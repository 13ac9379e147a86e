"""altered() (mapping/program.py) makes the program dataclasses.replace makes."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.mapping.program import OpProgram, altered

BASE = OpProgram("g", "gemm", tuple, 8, 16, "core0.mxu", True, False, details={"ctas": 2})
CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=5),
        "core": st.integers(0, 200),
        "depends_on": st.lists(st.text(max_size=3), max_size=3).map(tuple),
        "signature": st.none() | st.text(max_size=8),
        "shape_class": st.none() | st.text(max_size=8),
        "details": st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
        "macs": st.integers(0, 10**9),
    },
)


@given(CHANGES)
def test_altered_equals_replace(changes):
    made = altered(BASE, **changes)
    assert made == dataclasses.replace(BASE, **changes)
    assert type(made) is OpProgram
    assert (BASE.name, BASE.core, BASE.details) == ("g", 0, {"ctas": 2})  # left as it was


def test_altered_rejects_a_field_the_program_has_not():
    with pytest.raises(TypeError, match="no field colour"):
        altered(BASE, colour="red")
