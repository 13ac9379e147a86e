"""Cutting an extent or a core count into near-equal parts."""

import math


def split(extent: int, parts: int) -> list[tuple[int, int]]:
    """`extent` cut into at most `parts` nearly equal, non-empty ranges (none when extent is 0)."""
    if extent <= 0:
        return []
    size = math.ceil(extent / parts)
    return [(lo, min(lo + size, extent)) for lo in range(0, extent, size)]


def grid(cores: int) -> tuple[int, int]:
    """The most nearly square rows x cols factorisation of `cores`."""
    rows = max(r for r in range(1, math.isqrt(cores) + 1) if cores % r == 0)
    return rows, cores // rows
