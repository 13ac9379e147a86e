"""Numbers on a power-of-two grid: the fraction bits that make them integers, so a network whose
weights, thresholds and biases sit on its core's potential grid runs exactly in integers."""

import numpy as np


def dyadic_bits(values, most: int) -> int | None:
    """The fewest fraction bits f <= `most` that make every value times 2^f an integer (None if
    none do): a network on that grid runs exactly as integers in units of 2^-f, with f fewer
    potential fraction bits, so its integer state is the same."""
    for bits in range(most + 1):
        if all(np.all(np.ldexp(v, bits) == np.round(np.ldexp(v, bits))) for v in values):
            return bits
    return None
