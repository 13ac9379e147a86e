"""Attention numerics: the tiled online softmax (or the naive or unfused S, P, O) on the real block
regions.

Q, K, V are drawn in the op's precision; scores, running max m, running sum l and the output
accumulator are fp32; P is rounded to the input precision before P V, as FlashAttention does.
Unfused kernels run GEMM tiles (S and O accumulate over their K chunks in fp32) and a softmax
row kernel between them; S is rounded to the input precision, as the Q K^T kernel writes it.
The reference is float64 softmax(Q K^T / sqrt(d) + mask) V on the same rounded Q, K, V (the mask:
causal, and a sliding window where the op has one).
"""

import math

import numpy as np

from simulator.errors import UnsupportedError
from simulator.numerics.formats import random_operand, storage, unit_roundoff
from simulator.numerics.gemm import NumericsResult
from simulator.numerics.rounding import gamma
from simulator.spec.workload import AttentionOpSpec


class AttentionNumerics:
    """State of one attention op; `flash_step` and `naive_rows` are the per-step kernels."""

    def __init__(self, op: AttentionOpSpec, seed: int):
        if np.issubdtype(storage(op.dtype), np.integer):  # the reference and bound are float ones
            raise UnsupportedError(
                f"{op.name}: the numerics of an attention in {op.dtype} are not modelled (its "
                "softmax and error bound are a float format's); give it a float dtype (fp16, "
                "bf16, fp32, fp8_e4m3, fp8_e5m2) or run timing only (--numerics off)"
            )
        rng = np.random.default_rng(seed)
        self.op = op
        self.groups = op.heads // op.kv_groups
        b, h, hk, lq, lk, d = op.batch, op.heads, op.kv_groups, op.q_len, op.keys, op.head_dim
        self.q = random_operand(rng, (b, h, lq, d), op.dtype).astype(np.float32)
        self.k = random_operand(rng, (b, hk, lk, d), op.dtype).astype(np.float32)
        self.v = random_operand(rng, (b, hk, lk, d), op.dtype).astype(np.float32)
        self.scale = np.float32(1 / math.sqrt(d))
        self.o = np.zeros((b, h, lq, d), np.float32)
        self.m = np.full((b, h, lq), -np.inf, np.float32)
        self.l = np.zeros((b, h, lq), np.float32)
        self.coverage = np.zeros((b, h, lq), np.int64)  # keys accumulated per query
        self.finished = np.zeros((b, h, lq), np.int64)  # times each output row was finalised
        self.scores_rounded = False  # set by scores_tile: S went through memory in op.dtype
        self.s: np.ndarray | None = None  # unfused: S, then P in place (as stored), per query head
        self.columns = 1  # output columns counted per key seen: head_dim where O is GEMM-tiled

    def _mask(self, q: tuple[int, int], k: tuple[int, int]) -> np.ndarray:
        """True where query (absolute position kv_len - q_len + i) may see key j: j <= p when
        causal, and p - window < j within a sliding window."""
        if not self.op.causal:
            return np.ones((q[1] - q[0], k[1] - k[0]), bool)
        rows = np.arange(q[0], q[1])[:, None] + self.op.keys - self.op.q_len  # [br, 1]
        keys = np.arange(k[0], k[1])[None, :]  # [1, bc]
        seen = keys <= rows
        return seen & (keys > rows - self.op.window) if self.op.window else seen

    def _round_p(self, p: np.ndarray) -> np.ndarray:
        """P (or S) as stored in the op's precision, back in fp32 for the next kernel."""
        return p.astype(storage(self.op.dtype)).astype(np.float32)

    def flash_step(
        self, b: int, kv_head: int, q: tuple[int, int], k: tuple[int, int], first: bool, last: bool
    ):
        """One (Q block, K/V block) step of FlashAttention-2 for the query heads of one K/V head."""
        heads = slice(kv_head * self.groups, (kv_head + 1) * self.groups)
        qs, ks = slice(*q), slice(*k)
        mask = self._mask(q, k)  # [br, bc]
        s = (self.q[b, heads, qs] @ self.k[b, kv_head, ks].T) * self.scale  # [g, br, d] @ [d, bc]
        s = np.where(mask, s, -np.inf)
        m_old = self.m[b, heads, qs]
        m_new = np.maximum(m_old, s.max(axis=-1))  # [g, br]
        safe = np.where(np.isfinite(m_new), m_new, 0)
        p = np.exp(s - safe[..., None])  # [g, br, bc]; masked entries give exp(-inf) = 0
        correction = np.exp(np.where(np.isfinite(m_old), m_old - safe, -np.inf))
        self.l[b, heads, qs] = self.l[b, heads, qs] * correction + p.sum(axis=-1)
        self.o[b, heads, qs] = (
            self.o[b, heads, qs] * correction[..., None] + self._round_p(p) @ self.v[b, kv_head, ks]
        )
        self.m[b, heads, qs] = m_new
        self.coverage[b, heads, qs] += mask.sum(axis=-1)
        if last:
            self.o[b, heads, qs] /= self.l[b, heads, qs][..., None]
            self.finished[b, heads, qs] += 1

    def naive_rows(self, b: int, kv_head: int, q: tuple[int, int]):
        """Standard attention for one block of query rows: S, then P = softmax(S), then P V."""
        heads = slice(kv_head * self.groups, (kv_head + 1) * self.groups)
        qs = slice(*q)
        mask = self._mask(q, (0, self.op.keys))
        s = (self.q[b, heads, qs] @ self.k[b, kv_head].T) * self.scale  # [g, br, d] @ [d, lk]
        s = np.where(mask, s, -np.inf)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        self.o[b, heads, qs] = self._round_p(p) @ self.v[b, kv_head]
        self.coverage[b, heads, qs] += mask.sum(axis=-1)
        self.finished[b, heads, qs] += 1

    def scores_tile(self, b: int, head: int, m: tuple, n: tuple, k: tuple):
        """Unfused Q K^T, one GEMM tile: S[m, n] += Q[m, k] K[n, k]^T in fp32; at the last K
        chunk the tile is scaled by 1/sqrt(d) and rounded to op.dtype, as the kernel writes it."""
        if self.s is None:
            shape = (self.op.batch, self.op.heads, self.op.q_len, self.op.keys)
            self.s = np.zeros(shape, np.float32)
        self.scores_rounded = True
        kv, rows, keys = head // self.groups, slice(*m), slice(*n)
        tile = self.s[b, head, rows, keys]  # a view: updated in place
        tile += self.q[b, head, rows, slice(*k)] @ self.k[b, kv, keys, slice(*k)].T
        if k[1] == self.op.head_dim:
            tile[...] = self._round_p(tile * self.scale)

    def softmax_rows(self, b: int, head: int, q: tuple[int, int]):
        """Unfused softmax over a block of rows of S: P rounded to op.dtype, in S's place."""
        rows = self.s[b, head, slice(*q)]
        s = np.where(self._mask(q, (0, self.op.keys)), rows, -np.inf)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        rows[...] = self._round_p(p / p.sum(axis=-1, keepdims=True))

    def weighted_tile(self, b: int, head: int, m: tuple, n: tuple, k: tuple):
        """Unfused P V, one GEMM tile: O[m, n] += P[m, k] V[k, n] in fp32 (n: head_dim columns,
        k: keys); coverage counts each key once per output column it reached."""
        self.columns = self.op.head_dim
        kv, rows, cols, keys = head // self.groups, slice(*m), slice(*n), slice(*k)
        self.o[b, head, rows, cols] += self.s[b, head, rows, keys] @ self.v[b, kv, keys, cols]
        width = n[1] - n[0]
        self.coverage[b, head, rows] += self._mask(m, k).sum(axis=-1) * width
        if k[1] == self.op.keys:
            self.finished[b, head, rows] += width

    def reference(self) -> np.ndarray:
        """float64 softmax(Q K^T / sqrt(d) + mask) V, one (batch, head) at a time."""
        out = np.empty(self.o.shape, np.float64)
        mask = self._mask((0, self.op.q_len), (0, self.op.keys))
        for b in range(self.op.batch):
            for h in range(self.op.heads):
                kv = h // self.groups
                s = (
                    self.q[b, h].astype(np.float64)
                    @ self.k[b, kv].T.astype(np.float64)
                    / math.sqrt(self.op.head_dim)
                )
                s = np.where(mask, s, -np.inf)
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                out[b, h] = (p / p.sum(axis=-1, keepdims=True)) @ self.v[b, kv].astype(np.float64)
        return out

    def error_bound(self) -> float:
        """|O - O_ref| <= max|V| (2 dS + u_P + gamma_L + 8 u): dS bounds the fp32 score error
        (gamma_d |q||k| / sqrt(d), Cauchy-Schwarz; plus u_S |q||k| / sqrt(d) where S is stored in
        op.dtype), u_P the rounding of P, gamma_L the fp32 sums over L keys and 8u the exp and
        division; softmax weights sum to one."""
        u = unit_roundoff("fp32")
        d, length = self.op.head_dim, self.op.keys
        q_norm = float(np.linalg.norm(self.q, axis=-1).max())
        k_norm = float(np.linalg.norm(self.k, axis=-1).max())
        u_p = unit_roundoff(self.op.dtype)
        d_scores = (
            (gamma(d, u) + (u_p if self.scores_rounded else 0)) * q_norm * k_norm / math.sqrt(d)
        )
        return float(np.abs(self.v).max()) * (2 * d_scores + u_p + gamma(length, u) + 8 * u)

    def check(self) -> NumericsResult:
        """Compare with the float64 reference; every query must see exactly its visible keys once
        (in each output column where O is GEMM-tiled: `columns`)."""
        reference = self.reference()
        error = np.abs(self.o.astype(np.float64) - reference)
        bound = self.error_bound()
        visible = self._mask((0, self.op.q_len), (0, self.op.keys)).sum(axis=-1)  # [lq]
        wrong = np.argwhere(
            (self.coverage != visible * self.columns) | (self.finished != self.columns)
        )
        coverage_ok = wrong.size == 0
        if coverage_ok:
            message = "every query attended to each visible key exactly once"
        else:
            b, h, i = wrong[0]
            covered, finished = self.coverage[b, h, i], self.finished[b, h, i]
            message = (
                f"{len(wrong)} query rows covered wrongly (batch {b}, head {h}, query {i}: "
                f"{covered // self.columns} keys of {visible[i]}, finalised "
                f"{finished // self.columns}x)"
            )
        scale = np.maximum(np.abs(reference), 1.0)
        return NumericsResult(
            float(error.max()),
            float((error / scale).max()),
            bound,
            bool(error.max() <= bound) and coverage_ok,
            coverage_ok,
            message,
        )
