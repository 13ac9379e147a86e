"""Messages choose "a" or "an" by how the word that follows is read, not by a fixed "a"."""

import pytest

from simulator.errors import a_or_an
from simulator.spec.units import json_schema, parse_quantity


@pytest.mark.parametrize(
    "word, phrase",
    [
        ("energy", "an energy"),
        ("area", "an area"),
        ("alloc", "an alloc"),
        ("input", "an input"),
        ("int", "an int"),
        ("ArchSpec", "an ArchSpec"),
        ("size", "a size"),
        ("reload", "a reload"),
        ("DataFrame", "a DataFrame"),
        ("uint8", "a uint8"),  # you-int
        ("unit", "a unit"),
        ("fp16", "an fp16"),  # eff-pee
        ("bf16", "a bf16"),  # bee-eff
        ("SRAM", "an SRAM"),  # ess-ram
        ("DRAM", "a DRAM"),
        ("x", "an x"),
        (8, "an 8"),
        (11, "an 11"),
        (18, "an 18"),
        (110, "a 110"),
        (18000, "an 18000"),  # eighteen thousand
        (1800, "a 1800"),  # one thousand eight hundred
        (800, "an 800"),
        (64, "a 64"),
    ],
)
def test_the_article_follows_the_sound(word, phrase):
    assert a_or_an(word) == phrase


@pytest.mark.parametrize("kind", ["energy", "area"])
def test_unit_messages_read_an_before_a_vowel(kind):
    """The unit parser's messages and the schema's descriptions said "a energy", "a area"."""
    with pytest.raises(ValueError, match=f"^expected an {kind} with a unit"):
        parse_quantity(3, kind)
    with pytest.raises(ValueError, match=f"^expected an {kind} like"):
        parse_quantity("3 parsecs", kind)
    with pytest.raises(ValueError, match=f"^an {kind} must not be negative"):
        parse_quantity("-3 " + {"energy": "pJ", "area": "mm2"}[kind], kind)
    assert json_schema(kind)["description"].startswith(f"an {kind} with a unit")
