"""The loop nests a tile's temporal iterations can run, as ZigZag's LOMA enumerates them.

A dim's iterations split into loop prime factors; every distinct order of all the dims' factors
is one nest (adjacent loops over one dim merged), and each storage level then holds the innermost
loops that fit it, so an order fixes both the loop order and the blocking per level. Where the
orders would pass a budget, the smallest factors of the dim with the most are merged first
(LOMA's `lpf_limit`, chosen per tile from the budget instead of fixed).
"""

import math
from collections import Counter
from collections.abc import Iterator

Nest = tuple[tuple[str, int], ...]
"""Temporal loops, innermost first, as (dim, iterations): a mapping's `nest:`."""


def prime_factors(n: int) -> list[int]:
    """Prime factors of n, ascending (none for 1)."""
    factors, p = [], 2
    while p * p <= n:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors + ([n] if n > 1 else [])


def orders_count(factors: dict[str, list[int]]) -> int:
    """Distinct orders of the loop factors: the multinomial over equal (dim, factor) pairs."""
    items = Counter((d, f) for d, fs in factors.items() for f in fs)
    return math.factorial(items.total()) // math.prod(math.factorial(c) for c in items.values())


def loop_factors(iterations: dict[str, int], budget: int) -> dict[str, list[int]]:
    """Each dim's loop prime factors, the two smallest of the dim with the most merged until
    their distinct orders number at most `budget` (ties: the dim first in M, N, K), or every dim
    is down to one loop (a budget below their orders then keeps those)."""
    factors = {d: prime_factors(n) for d, n in iterations.items()}
    while orders_count(factors) > budget:
        dim = max(factors, key=lambda d: len(factors[d]))  # first of the longest
        if len(factors[dim]) < 2:  # one loop per dim: its orders cannot be fewer
            break
        first, second, *rest = factors[dim]
        factors[dim] = sorted([first * second, *rest])
    return factors


def _distinct_permutations(items: list) -> Iterator[tuple]:
    """Every distinct order of `items`, lexicographic (the next-permutation algorithm)."""
    items = sorted(items)
    while True:
        yield tuple(items)
        i = len(items) - 2
        while i >= 0 and items[i] >= items[i + 1]:
            i -= 1
        if i < 0:
            return
        j = len(items) - 1
        while items[j] <= items[i]:
            j -= 1
        items[i], items[j] = items[j], items[i]
        items[i + 1 :] = reversed(items[i + 1 :])


def _merged(order: tuple) -> Nest:
    """Adjacent loops over one dim as one loop."""
    loops: list[list] = []
    for dim, factor in order:
        if loops and loops[-1][0] == dim:
            loops[-1][1] *= factor
        else:
            loops.append([dim, factor])
    return tuple((d, n) for d, n in loops)


def nests(iterations: dict[str, int], budget: int) -> list[Nest]:
    """The distinct nests of a tile's temporal iterations per dim (M, N, K; 1: no loop), at most
    `budget` orders of their loop factors (`loop_factors`), in a fixed order; none without a loop."""
    factors = loop_factors({d: n for d, n in iterations.items() if n > 1}, budget)
    items = [(d, f) for d, fs in factors.items() for f in fs]
    if not items:
        return []
    return list(dict.fromkeys(_merged(order) for order in _distinct_permutations(items)))
