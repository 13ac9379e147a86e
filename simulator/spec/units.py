"""Parse unit strings ("700 MHz", "34 GB/s", "24 MiB", "0.2 pJ") once, at the boundary.

Inside the code every quantity is a float in the unit its name says:
hz, bytes, bytes_per_s, pj, s, mw, mm2, bits, nm.
"""

import math
import re

from simulator.errors import a_or_an

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PATTERN = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµ/²0-9]+)\s*$")

# kind -> {unit spelling: factor to the internal unit}; sizes are IEC, bandwidths decimal as vendors quote.
_UNITS: dict[str, dict[str, float]] = {
    "frequency": {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9},
    "size": {
        "B": 1.0,
        "KiB": 2.0**10,
        "MiB": 2.0**20,
        "GiB": 2.0**30,
        "TiB": 2.0**40,
        "kB": 1e3,
        "KB": 1e3,
        "MB": 1e6,
        "GB": 1e9,
        "TB": 1e12,
    },
    "bandwidth": {
        "B/s": 1.0,
        "kB/s": 1e3,
        "KB/s": 1e3,
        "MB/s": 1e6,
        "GB/s": 1e9,
        "TB/s": 1e12,
        "KiB/s": 2.0**10,
        "MiB/s": 2.0**20,
        "GiB/s": 2.0**30,
    },
    "energy": {"fJ": 1e-3, "pJ": 1.0, "nJ": 1e3, "uJ": 1e6, "µJ": 1e6, "mJ": 1e9, "J": 1e12},
    "time": {"ps": 1e-12, "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0},
    "power": {"uW": 1e-3, "µW": 1e-3, "mW": 1.0, "W": 1e3},
    "area": {"um2": 1e-6, "µm2": 1e-6, "µm²": 1e-6, "um²": 1e-6, "mm2": 1.0, "mm²": 1.0},
    "bits": {"bit": 1.0, "bits": 1.0, "b": 1.0},
    "length": {"nm": 1.0},
    "voltage": {"mV": 1e-3, "V": 1.0},
    "temperature": {"K": 1.0},
}

EXAMPLES = {
    "frequency": "700 MHz",
    "size": "24 MiB",
    "bandwidth": "34 GB/s",
    "energy": "0.2 pJ",
    "time": "100 ns",
    "power": "2 mW",
    "area": "0.5 mm2",
    "bits": "8 bit",
    "length": "28 nm",
    "voltage": "0.9 V",
    "temperature": "360 K",
}


BASE_SUFFIX = {
    "frequency": "hz",
    "size": "bytes",
    "bandwidth": "bytes_per_s",
    "energy": "pj",
    "time": "s",
    "power": "mw",
    "area": "mm2",
    "bits": "bits",
    "length": "nm",
}
"""Kind -> the suffix that names its internal unit (what `parse_quantity` returns)."""


def quantity_kind(value: object) -> str | None:
    """The kind of a unit string ("2 MiB" -> "size"), or None for anything that is not one."""
    match = _PATTERN.match(value) if isinstance(value, str) else None
    if not match:
        return None
    return next((kind for kind, units in _UNITS.items() if match.group(2) in units), None)


def json_schema(kind: str) -> dict:
    """JSON Schema of a `kind` quantity as written in a file: a string, number then unit."""
    units = "|".join(re.escape(unit) for unit in _UNITS[kind])
    return {
        "type": "string",
        "pattern": rf"^\s*{_NUMBER}\s*({units})\s*$",
        "examples": [EXAMPLES[kind]],
        "description": f"{a_or_an(kind)} with a unit ({', '.join(_UNITS[kind])})",
        "x-unit": kind,
    }


def format_quantity(value: float, kind: str) -> str:
    """`value` in the internal unit of `kind` as a unit string that parses back to it."""
    units = {
        unit: factor
        for unit, factor in _UNITS[kind].items()
        if unit not in ("KB", "KB/s", "b", "bits", "uJ", "us", "uW", "um2", "µm²", "um²", "mm²")
        and not unit.startswith(("Ki", "Mi", "Gi", "Ti"))
    }
    if kind == "size":  # sizes read best in IEC when they are whole KiB, MiB, ...
        iec = {u: f for u, f in _UNITS[kind].items() if u.startswith(("Ki", "Mi", "Gi", "Ti"))}
        for unit, factor in sorted(iec.items(), key=lambda item: -item[1]):
            if value >= factor and value % factor == 0:
                return f"{value / factor:g} {unit}"
    if kind == "area" and value >= 1e-3:  # chip areas read best in mm2, even below 1
        return f"{value:g} mm2"
    fitting = [(f, u) for u, f in units.items() if value and abs(value) >= f]
    factor, unit = max(fitting) if fitting else min((f, u) for u, f in units.items())
    return f"{value / factor:g} {unit}"


def parse_quantity(value: object, kind: str) -> float:
    """Return `value` ("34 GB/s") in the internal unit of `kind`; raise ValueError saying what was expected."""
    units = _UNITS[kind]
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            f"expected {a_or_an(kind)} with a unit, like '{EXAMPLES[kind]}', got {value!r}"
        )
    match = _PATTERN.match(value)
    if not match or match.group(2) not in units:
        known = ", ".join(units)
        raise ValueError(
            f"expected {a_or_an(kind)} like '{EXAMPLES[kind]}' (units: {known}), got {value!r}"
        )
    number = float(match.group(1)) * units[match.group(2)]
    if not math.isfinite(number):
        raise ValueError(f"{a_or_an(kind)} must be finite, got {value!r}")
    if number < 0:
        raise ValueError(f"{a_or_an(kind)} must not be negative, got {value!r}")
    return number
