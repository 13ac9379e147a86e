"""parse_quantity turns unit strings into the internal unit of their kind and rejects the rest."""

import pytest

from simulator.spec.units import parse_quantity


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("700 MHz", "frequency", 700e6),
        ("1.4 GHz", "frequency", 1.4e9),
        ("34 GB/s", "bandwidth", 34e9),
        ("24 MiB", "size", 24 * 2**20),
        ("0.2 pJ", "energy", 0.2),
        ("8 bit", "bits", 8),
        ("100 ns", "time", 1e-7),
        ("2 mW", "power", 2.0),
        ("0.5 mm2", "area", 0.5),
        ("28 nm", "length", 28),
    ],
)
def test_every_kind_parses_to_its_internal_unit(text, kind, expected):
    assert parse_quantity(text, kind) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1 KB", "size", 1000),
        ("1 kB", "size", 1000),
        ("1 KiB", "size", 1024),
        ("1 MB", "size", 10**6),
        ("1 MiB", "size", 2**20),
        ("1 GB/s", "bandwidth", 10**9),
        ("1 GiB/s", "bandwidth", 2**30),
    ],
)
def test_decimal_and_iec_prefixes_differ(text, kind, expected):
    assert parse_quantity(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("700MHz", 700e6), ("  700   MHz  ", 700e6), ("7e2 MHz", 700e6), (".7 GHz", 700e6)],
)
def test_spacing_and_number_forms(text, expected):
    assert parse_quantity(text, "frequency") == pytest.approx(expected, rel=1e-12)


def test_zero_is_allowed_where_the_kind_allows_it():
    # Zero leakage or zero energy overrides are meaningful; positivity is a field's job.
    assert parse_quantity("0 mW", "power") == 0.0


def _message(value, kind) -> str:
    with pytest.raises(ValueError) as info:
        parse_quantity(value, kind)
    return str(info.value)


def test_bare_number_string_is_rejected():
    assert _message("700", "frequency") == (
        "expected a frequency like '700 MHz' (units: Hz, kHz, MHz, GHz), got '700'"
    )


def test_bare_number_is_rejected():
    assert _message(700, "frequency") == "expected a frequency with a unit, like '700 MHz', got 700"


def test_boolean_is_not_a_number():
    assert _message(True, "size") == "expected a size with a unit, like '24 MiB', got True"


def test_bandwidth_where_a_size_is_expected():
    assert _message("34 GB/s", "size") == (
        "expected a size like '24 MiB' (units: B, KiB, MiB, GiB, TiB, kB, KB, MB, GB, TB), "
        "got '34 GB/s'"
    )


def test_size_where_a_bandwidth_is_expected():
    assert _message("24 MiB", "bandwidth") == (
        "expected a bandwidth like '34 GB/s' "
        "(units: B/s, kB/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s), got '24 MiB'"
    )


def test_unit_case_matters():
    # 'mhz' is not 'MHz' (and 'mW' is not 'MW'): no guessing.
    assert _message("700 mhz", "frequency") == (
        "expected a frequency like '700 MHz' (units: Hz, kHz, MHz, GHz), got '700 mhz'"
    )


def test_negative_value_is_rejected():
    assert _message("-1 MiB", "size") == "a size must not be negative, got '-1 MiB'"


def test_garbage_text_is_rejected():
    assert _message("fast", "frequency") == (
        "expected a frequency like '700 MHz' (units: Hz, kHz, MHz, GHz), got 'fast'"
    )


def test_two_numbers_are_rejected():
    assert _message("1 2 ns", "time") == (
        "expected a time like '100 ns' (units: ps, ns, us, µs, ms, s), got '1 2 ns'"
    )
