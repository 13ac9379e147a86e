"""Bit-sliced analog crossbar MVM: the functional model of every tile a crossbar mapping runs.

The model of reference/hardware.md, vectorised over input cycles and cell slices: offset or
differential weight encoding; weights cut into cell levels and inputs into DAC cycles (two's
complement, the sign-bit cycle weighted negative); conductances with programming variation and
stuck-at cells; per-row-tile column sums with IR-drop and read noise; ADC clip and quantisation;
shift-and-add and the offset correction. The result is compared with the exact integer matmul of
the same operands (float GEMMs: the float64 matmul of the unquantised operands).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.numerics.formats import random_operand
from simulator.numerics.gemm import NumericsResult, exact_int_matmul
from simulator.spec.precision import precision

CHUNK_ELEMENTS = 2**25  # column sums held at once (128 MiB of float32): bounds the kernel's memory


@dataclass(frozen=True)
class CrossbarResult(NumericsResult):
    """The check of a crossbar GEMM, with the error statistics an ADC-bits study needs."""

    rms_error: float
    rms_rel_error: float  # RMS error / RMS of the exact result
    snr_db: float  # 10 log10(sum ref^2 / sum err^2); inf when exact
    predicted_rms_error: float  # ADC quantisation-noise estimate (uniform rounding error)
    adc_bits: int
    lossless_adc_bits: int
    ideal: bool  # no variation, noise, IR-drop or stuck cells: the error bound is a hard bound


def input_planes(x: np.ndarray, bits: int, dac_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Two's-complement inputs as DAC levels per cycle: planes [T, M, K] and cycle weights [T].

    x = sum_t 2^(d t) X_t for the bits - 1 magnitude bits, minus 2^(bits-1) x the sign bit, which
    streams alone in the last cycle.
    """
    magnitude_cycles = -(-(bits - 1) // dac_bits)
    low = np.asarray(x, dtype=np.int64) & (2 ** (bits - 1) - 1)  # x + 2^(b-1) s, below 2^(b-1)
    sign = (np.asarray(x) < 0).astype(np.uint8)
    mask = 2**dac_bits - 1
    planes = [((low >> (dac_bits * t)) & mask).astype(np.uint8) for t in range(magnitude_cycles)]
    weights = [2.0 ** (dac_bits * t) for t in range(magnitude_cycles)] + [-(2.0 ** (bits - 1))]
    return np.stack(planes + [sign]), np.array(weights)


def weight_levels(w: np.ndarray, bits: int, cell_bits: int, encoding: str):
    """Weights as cell levels [P S, K, N], each slice's signed place value [P S], and the offset."""
    slices = -(-bits // cell_bits)
    mask = 2**cell_bits - 1
    w = np.asarray(w, dtype=np.int64)
    if encoding == "offset":
        sets, signs, offset = [w + 2 ** (bits - 1)], [1.0], 2 ** (bits - 1)
    else:
        sets, signs, offset = [np.maximum(w, 0), np.maximum(-w, 0)], [1.0, -1.0], 0
    levels = [((u >> (cell_bits * s)) & mask).astype(np.uint8) for u in sets for s in range(slices)]
    places = [sign * 2.0 ** (cell_bits * s) for sign in signs for s in range(slices)]
    return np.stack(levels), np.array(places), offset


class CrossbarNumerics:
    """Operands of one GEMM, the programmed cells of its weights, and the per-tile analog model."""

    @classmethod
    def random(cls, M: int, N: int, K: int, dtype: str, unit, seed: int) -> CrossbarNumerics:
        """Seeded operands A[M, K] and B[K, N] in `dtype`."""
        rng = np.random.default_rng(seed)
        a = random_operand(rng, (M, K), dtype)  # [M, K]
        return cls(a, random_operand(rng, (K, N), dtype), dtype, unit, seed)

    def __init__(self, a: np.ndarray, b: np.ndarray, dtype: str, unit, seed: int):
        """A[M, K] streamed through the DACs, B[K, N] programmed into cells; `seed` seeds the
        device effects (variation, stuck cells, read noise)."""
        (M, K), (_, N) = a.shape, b.shape
        spec, slicing = unit.spec, unit.slicing(dtype)
        self.dtype, self.K, self.rows = dtype, K, unit.rows
        self.a, self.b = a, b
        self.is_int = precision(dtype).is_int
        qa, self.scale_a = _fixed_point(self.a, slicing.bits)
        qb, self.scale_b = _fixed_point(self.b, slicing.bits)
        self.x = qa  # [M, K] integers the DACs stream
        self.planes, self.cycle_weights = input_planes(qa, slicing.bits, spec.dac_bits)
        levels, self.places, self.offset = weight_levels(
            qb, slicing.bits, spec.cell_bits, spec.weight_encoding
        )
        self.levels_max = unit.levels
        self.range = unit.adc_range()
        self.adc_bits = spec.adc_bits
        self.ideal = not (
            spec.conductance_sigma or spec.read_noise or spec.ir_drop or spec.stuck_at_rate
        )
        self.ir_drop, self.read_noise = spec.ir_drop, spec.read_noise
        device_rng = np.random.default_rng([seed, 1])  # device effects: their own stream
        self.cells, self.flips = _program(levels, unit, device_rng)  # [K, P S, N], [tiles, P S, N]
        self.noise_rng = np.random.default_rng([seed, 2])
        # sum over cycles in float32 while every value is an integer below 2^24 (so exact): the
        # weighted codes, and the flip correction L_c sum_k x subtracted from them
        codes = float(np.abs(self.cycle_weights).sum()) * self.range.top_code * self.range.step
        flipped = unit.levels * unit.rows * 2 ** (slicing.bits - 1)
        self.acc_dtype = np.float32 if max(codes, flipped) < 2**24 else np.float64
        self.c = np.zeros((M, N), dtype=np.float64)  # integer result before rescaling
        self.coverage = np.zeros((M, N), dtype=np.int32)

    # ----- the tile kernel ----------------------------------------------------------------------
    def tile(self, m: tuple[int, int], n: tuple[int, int], k: tuple[int, int]) -> None:
        """C[m, n] += the crossbars' result for A[m, k] @ B[k, n], one row tile (R rows) at a time."""
        (m0, m1), (n0, n1), (k0, k1) = m, n, k
        cycles, sets = len(self.cycle_weights), len(self.places)
        chunk = max(1, CHUNK_ELEMENTS // (cycles * sets * (n1 - n0)))
        for r0 in range(k0, k1, self.rows):
            r1 = min(r0 + self.rows, k1)
            stored = self.cells[r0:r1, :, n0:n1].reshape(r1 - r0, sets * (n1 - n0))  # [R, PS n]
            flips = self.flips[r0 // self.rows, :, n0:n1]  # [PS, n]
            for c0 in range(m0, m1, chunk):
                c1 = min(c0 + chunk, m1)
                self.c[c0:c1, n0:n1] += self._row_tile(c0, c1, r0, r1, stored, flips)
        if self.offset:  # offset encoding stored W + 2^(b-1): remove 2^(b-1) sum_k x
            self.c[m0:m1, n0:n1] -= (
                self.offset * self.x[m0:m1, k0:k1].sum(1, dtype=np.int64)[:, None]
            )
        self.coverage[m0:m1, n0:n1] += k1 - k0

    def _row_tile(self, m0, m1, r0, r1, stored, flips) -> np.ndarray:
        """Shift-and-added, flip-corrected column sums of one row tile for rows m0:m1 -> [m, n]."""
        cycles, sets, rows = len(self.cycle_weights), len(self.places), m1 - m0
        x = self.planes[:, m0:m1, r0:r1].reshape(cycles * rows, r1 - r0).astype(np.float32)
        y = x @ stored  # [T m, R] @ [R, PS n] -> [T m, PS n]: one analog column sum per entry
        lsb = 1.0  # ideal and lossless: every sum is an integer the ADC reads exactly, skip it
        if not (self.ideal and self.range.lossless):
            y, lsb = self._digitize(y), self.range.step  # codes, in LSBs
        weights = self.cycle_weights.astype(self.acc_dtype)
        z = (weights @ y.reshape(cycles, -1)).reshape(rows, sets, -1)  # sum_t c_t y_t: [m, PS, n]
        z *= lsb
        if flips.any():  # flipped column stored (L_c - w): y = L_c sum_k x - y'
            total = self.levels_max * self.x[m0:m1, r0:r1].sum(1, dtype=np.int64).astype(z.dtype)
            z = np.where(flips[None], total[:, None, None] - z, z)
        return np.einsum("msn,s->mn", z, self.places)  # [m, PS, n] -> [m, n]

    def _digitize(self, y: np.ndarray) -> np.ndarray:
        """Analog effects on the column sums, then the ADC: clip(round(y / LSB), 0, 2^N - 1)."""
        full = self.range.full_scale
        if self.ir_drop:
            y *= 1 - (self.ir_drop / full) * y
        if self.read_noise:
            y += self.read_noise * self.noise_rng.standard_normal(y.shape, dtype=np.float32)
        y *= 1.0 / self.range.step
        np.rint(y, out=y)
        return np.clip(y, 0, self.range.top_code, out=y)

    # ----- the check ----------------------------------------------------------------------------
    def result(self) -> np.ndarray:
        """The output as the hardware delivers it (rescaled for fixed-point float GEMMs)."""
        return self.c if self.is_int else self.c * (self.scale_a * self.scale_b)

    def check(self, reference: np.ndarray | None = None) -> CrossbarResult:
        """Errors against `reference` [M, N] (default the exact matmul of A and B), the ADC bound
        and noise estimate, and K coverage."""
        a64, b64 = self.a.astype(np.float64), self.b.astype(np.float64)
        if reference is None:
            reference = exact_int_matmul(self.a, self.b) if self.is_int else a64 @ b64
        error = self.result() - reference
        scale = self.scale_a * self.scale_b
        row_tiles = -(-self.K // self.rows)
        weighted = float(np.abs(self.cycle_weights).sum() * np.abs(self.places).sum()) * row_tiles
        bound = self.range.max_error * weighted * scale + np.zeros_like(reference)
        if not self.is_int:  # rounding the operands to fixed point
            bound += np.abs(a64).sum(1, keepdims=True) * self.scale_b / 2
            bound += np.abs(b64).sum(0, keepdims=True) * self.scale_a / 2
            bound += self.K * scale / 4
        if not self.ideal:
            bound[:] = np.inf  # variation and noise have no worst case: judge by rms and SNR
        # rounding error per conversion: an integer sum to a multiple of LSB D >= 2 is off by
        # (D^2 + 2) / 12 on average; a noisy sum by D^2 / 12, plus the read noise itself
        step = self.range.step
        per_conversion = (step**2 + 2) / 12 if step > 1 else 0.0
        if not self.ideal:
            per_conversion = step**2 / 12 + self.read_noise**2
        conversions = float((self.cycle_weights**2).sum() * (self.places**2).sum()) * row_tiles
        rms = float(np.sqrt(np.mean(error**2)))
        signal = float(np.sqrt(np.mean(reference**2)))
        wrong = np.argwhere(self.coverage != self.K)
        coverage_ok = wrong.size == 0
        message = (
            "every output reduced over all K exactly once"
            if coverage_ok
            else f"{len(wrong)} outputs reduced over the wrong K extent (C[{wrong[0][0]}, "
            f"{wrong[0][1]}] got {self.coverage[tuple(wrong[0])]} of K={self.K})"
        )
        abs_error = np.abs(error)
        return CrossbarResult(
            max_abs_error=float(abs_error.max()),
            max_rel_error=float((abs_error / np.maximum(np.abs(reference), 1.0)).max()),
            error_bound=float(bound.max()),
            ok=bool(np.all(abs_error <= bound)) and coverage_ok,
            coverage_ok=coverage_ok,
            coverage_message=message,
            rms_error=rms,
            rms_rel_error=rms / signal if signal else 0.0,
            snr_db=float(10 * np.log10(signal**2 / rms**2)) if rms else float("inf"),
            predicted_rms_error=float(np.sqrt(per_conversion * conversions)) * scale,
            adc_bits=self.adc_bits,
            lossless_adc_bits=self.range.lossless_bits,
            ideal=self.ideal,
        )


def _fixed_point(x: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    """Integers stay as they are (scale 1); floats round to `bits`-bit fixed point, per tensor."""
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.int64), 1.0
    values = x.astype(np.float64)
    peak = float(np.abs(values).max(initial=0.0))
    scale = peak / (2 ** (bits - 1) - 1) if peak else 1.0
    return np.rint(values / scale).astype(np.int64), scale


def _program(levels: np.ndarray, unit, rng: np.random.Generator):
    """Write the levels into cells: column flips, stuck-at faults, conductance variation.

    Returns what each cell adds to a column sum per unit input, G - g0, as [K, P S, N] float32,
    and the flipped columns per row tile [tiles, P S, N].
    """
    spec, top, rows = unit.spec, unit.levels, unit.rows
    sets, k, n = levels.shape
    tiles = -(-k // rows)
    flips = np.zeros((tiles, sets, n), dtype=bool)
    stored = levels.copy()
    if spec.column_flip:
        for t in range(tiles):
            block = levels[:, t * rows : (t + 1) * rows, :]  # [PS, R, N]
            half = block.shape[1] * top / 2
            flips[t] = block.sum(1, dtype=np.int64) > half
            stored[:, t * rows : (t + 1) * rows, :] = np.where(
                flips[t][:, None, :], top - block, block
            )
    cells = stored.astype(np.float32)
    if spec.stuck_at_rate:
        stuck = rng.random(cells.shape) < spec.stuck_at_rate
        high = rng.random(cells.shape) < 0.5
        cells[stuck] = np.where(high[stuck], top, 0).astype(np.float32)
    if spec.conductance_sigma:
        g0 = spec.off_conductance
        spread = rng.standard_normal(cells.shape, dtype=np.float32) * spec.conductance_sigma
        cells = np.maximum((g0 + cells) * (1 + spread), 0) - g0
    return np.ascontiguousarray(cells.transpose(1, 0, 2)), flips
