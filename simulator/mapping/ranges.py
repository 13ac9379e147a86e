"""Cutting an extent or a core count into near-equal parts."""

import math


def split(extent: int, parts: int) -> list[tuple[int, int]]:
    """`extent` cut into at most `parts` nearly equal, non-empty ranges (none when extent is 0)."""
    if extent <= 0:
        return []
    size = math.ceil(extent / parts)
    return [(lo, min(lo + size, extent)) for lo in range(0, extent, size)]


def tile_ranges(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    """[lo, hi) cut into consecutive ranges of `size`, the last one shorter where it does not
    divide (a loop's tiles)."""
    return [(start, min(start + size, hi)) for start in range(lo, hi, size)]


def grid(cores: int) -> tuple[int, int]:
    """The most nearly square rows x cols factorisation of `cores`."""
    rows = max(r for r in range(1, math.isqrt(cores) + 1) if cores % r == 0)
    return rows, cores // rows
