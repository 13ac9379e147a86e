"""Rotary position embedding (RoPE) on rows of packed heads: the numerics of a `rope` op.

Row r is the token at position start + r mod seq_len; in each head the pairs of the first
rotary_dim values turn by the angle position x base^(-2i / rotary_dim), pair i being
(i, i + rotary_dim / 2) ("half", GPT-NeoX and LLaMA's rotate_half) or (2i, 2i + 1)
("interleaved", GPT-J's rotate_every_two); values past rotary_dim pass through unchanged.
"""

import numpy as np

from simulator.spec.workload import RopeOpSpec


def pairs(op: RopeOpSpec) -> tuple[np.ndarray, np.ndarray]:
    """Column indices, within one head, of each pair's first and second values."""
    half = op.rotated // 2
    if op.style == "half":
        return np.arange(half), np.arange(half) + half
    return np.arange(0, op.rotated, 2), np.arange(1, op.rotated, 2)


def angles(op: RopeOpSpec, r0: int, r1: int) -> np.ndarray:
    """Rows r0:r1's angle of each pair, in float64: position x base^(-2i / rotary_dim)."""
    rows = np.arange(r0, r1)
    position = op.start + rows % (op.seq_len or op.rows)
    frequency = op.base ** (-np.arange(0, op.rotated, 2) / op.rotated)
    return position[:, None] * frequency[None, :]


def rotate(op: RopeOpSpec, x: np.ndarray, r0: int) -> np.ndarray:
    """Rows r0:r0 + len(x) of the op's input, rotated, in x's float type (cos and sin rounded
    to it first, as a kernel reading them from a table of that type would)."""
    theta = angles(op, r0, r0 + len(x))
    cos, sin = np.cos(theta).astype(x.dtype), np.sin(theta).astype(x.dtype)
    heads = x.reshape(len(x), -1, op.head_dim)
    first, second = pairs(op)
    a, b = heads[:, :, first], heads[:, :, second]
    out = heads.copy()
    out[:, :, first] = a * cos[:, None, :] - b * sin[:, None, :]
    out[:, :, second] = a * sin[:, None, :] + b * cos[:, None, :]
    return out.reshape(x.shape)


def pair_norm(op: RopeOpSpec, x: np.ndarray) -> np.ndarray:
    """Each value's size for the error bound: the norm of its pair, which the rotation keeps
    (so a rotated value near zero is judged against the pair it came from); unrotated values
    their own magnitude."""
    heads = np.abs(x.reshape(len(x), -1, op.head_dim)).astype(np.float64)
    first, second = pairs(op)
    norm = np.hypot(heads[:, :, first], heads[:, :, second])
    heads[:, :, first] = norm
    heads[:, :, second] = norm
    return heads.reshape(x.shape)
