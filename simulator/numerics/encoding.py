"""Input spike trains from rates: seeded Poisson, deterministic rate coding, or periodic."""

import numpy as np


def encode(rates: np.ndarray, encoding: str, steps: int, seed) -> np.ndarray:
    """Spike trains [steps, inputs] (bool) for spike probabilities per step `rates` in [0, 1].

    poisson: an independent Bernoulli draw per step (numpy PCG64 seeded with `seed`);
    rate: deterministic, a spike whenever the running sum of the rate passes an integer;
    periodic: a spike every floor(1 / rate) steps, at steps that are multiples of it (steps count
    from 1, as SANA-FE's 'rate' inputs do).
    """
    rates = np.clip(np.asarray(rates, dtype=np.float64), 0.0, 1.0)
    if encoding == "poisson":
        return np.random.default_rng(seed).random((steps, rates.size)) < rates
    step = np.arange(1, steps + 1, dtype=np.float64)[:, None]  # [steps, 1]
    if encoding == "rate":
        passed = np.floor(step * rates + 1e-9)  # [steps, inputs]
        return np.diff(passed, axis=0, prepend=0.0) > 0
    interval = np.floor(1.0 / np.where(rates > 0, rates, 1.0))
    return (rates > 0) & (np.mod(step, interval) == 0)
