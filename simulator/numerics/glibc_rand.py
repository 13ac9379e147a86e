"""glibc's rand(): the stream SANA-FE's truenorth soma draws its stochastic thresholds from.

glibc's default generator (random_r, TYPE_3): 34 words seeded by a Lehmer generator
(16807 x mod 2^31 - 1), then r[i] = r[i - 3] + r[i - 31] mod 2^32, the first 310 discarded; each
call returns r[i] >> 1. SANA-FE never calls srand, so its stream is srand(1)'s.
"""

MODULUS = 2147483647  # 2^31 - 1


class GlibcRand:
    """A deterministic rand() stream, seeded as srand(seed)."""

    def __init__(self, seed: int = 1):
        words = [seed or 1]
        for _ in range(30):
            hi, lo = divmod(words[-1], 127773)  # Schrage's method, as glibc computes it
            word = 16807 * lo - 2836 * hi
            words.append(word + MODULUS if word < 0 else word)
        words += words[:3]
        self.words = words
        for _ in range(310):
            self._next()

    def _next(self) -> int:
        words = self.words
        word = (words[-31] + words[-3]) & 0xFFFFFFFF
        words.append(word)
        del words[0]
        return word >> 1

    def draw(self, count: int) -> list[int]:
        """The next `count` values of rand()."""
        return [self._next() for _ in range(count)]
