"""Systolic MAC array: fold timing per dataflow (SCALE-Sim's model), MAC energy and PE area."""

import math
from dataclasses import dataclass
from fractions import Fraction

from simulator import tech
from simulator.components.base import Component
from simulator.errors import UnsupportedError
from simulator.spec.arch import SystolicArraySpec
from simulator.spec.precision import precision


@dataclass(frozen=True, slots=True)
class TileCost:
    """Cost of one SRAM tile on the array: reference cycles, MACs and array-side element accesses."""

    cycles: int
    macs: int
    folds: int
    reads: dict[str, int]  # role -> elements read from SRAM by the array
    writes: dict[str, int]  # role -> elements written to SRAM by the array


OPERAND_DIMS = {"input": ("M", "K"), "weight": ("K", "N"), "output": ("M", "N")}


class SystolicArray(Component):
    """rows x cols PEs; one fold = one stationary block mapped onto the array."""

    kind = "systolic_array"

    def __init__(self, name: str, spec: SystolicArraySpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, spec.clock or ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.rows, self.cols = spec.rows, spec.cols
        self.node_nm = node_nm
        self.actions = {f"mac_{p}": self._mac_energy(p) for p in spec.input_precision}

    @property
    def peak_macs_per_cycle(self) -> float:
        """MACs per reference cycle with every PE busy, at the base rate (`rate` 1)."""
        return self.rows * self.cols * self.clock_hz / self.ref_clock_hz

    def rate(self, dtype: str) -> int:
        return self.spec.rate.get(dtype, 1)

    def accumulator(self, dtype: str) -> str:
        """Accumulator precision used for operands of `dtype`."""
        return self.spec.accumulator_precision or precision(dtype).accumulator

    def _mac_energy(self, dtype: str) -> float:
        if self.spec.mac_energy is not None:
            return self.spec.mac_energy
        try:
            e45 = tech.op_energy_pj(f"{_family(dtype)}_mul") + tech.op_energy_pj(
                f"{_family(self.accumulator(dtype))}_add"
            )
        except KeyError:
            raise UnsupportedError(
                f"{self.name}: no tech-table energy for {dtype} MACs; set mac_energy in the arch"
            ) from None
        return tech.scale_energy(e45, self.node_nm)

    def area_mm2(self) -> float:
        if self.spec.mac_area is not None:
            return self.spec.mac_area * self.rows * self.cols
        widest = max(self.spec.input_precision, key=lambda p: precision(p).bits)
        pe_um2 = tech.op_area_um2(f"{_family(widest)}_mul") + tech.op_area_um2(
            f"{_family(self.accumulator(widest))}_add"
        )
        return tech.scale_area(pe_um2, self.node_nm) * self.rows * self.cols * 1e-6

    def leakage_mw(self) -> float:
        return self.spec.leakage or 0.0

    def check(self, op_name: str, dtype: str, dataflow: str) -> None:
        """Raise UnsupportedError unless the array runs `dtype` operands in `dataflow`."""
        if dtype not in self.spec.input_precision:
            raise UnsupportedError(
                f"{self.name} (systolic_array) cannot run {op_name} in {dtype}; "
                f"it supports {', '.join(self.spec.input_precision)}"
            )
        if dataflow not in self.spec.dataflows:
            raise UnsupportedError(
                f"{self.name} (systolic_array) cannot run {op_name} in the {dataflow!r} dataflow; "
                f"it supports {', '.join(self.spec.dataflows)}"
            )

    @property
    def timing_key(self) -> tuple:
        """Everything `tile_cost` reads of the array but its `rate` at the tile's dtype (its
        shape and clocks), hashable: memoized tile timings key on it and on that rate, so a
        timing field added here is in their keys too."""
        return (type(self), self.rows, self.cols, self.clock_hz, self.ref_clock_hz)

    def tile_cost(
        self,
        extent: dict[str, int],
        spatial: tuple[str, str],
        dataflow: str,
        accounting: str,
        first_k_chunk: bool,
        continues_fold: bool = False,
        *,
        dtype: str,
        fraction: float = 1.0,
    ) -> TileCost:
        """Cycles and SRAM accesses of one M x N x K tile of `dtype` operands (pure: no simulation
        state). At `rate` r a fold streams its T elements in ceil(T / r) cycles; its accesses
        and its fill and drain are the same at any rate.

        scalesim: each fold costs T + R + C - 2 (os) or T + 2R + C - 2 (ws/is) and folds never
        overlap; a tile that continues the previous tile's folds along the streamed dim (its
        buffers hold only part of T) pays T alone, as SCALE-Sim streams one fold's T in one go.
        realistic: the next fold's stationary operand loads while the current one streams,
        so folds cost max(T, R) each, plus one initial load (ws/is) and one final skew drain R + C - 2.
        `fraction`: the share of the rate the kernel's instruction family reaches (`instructions`):
        a fold streams T in ceil(T / (r * fraction)) cycles.
        """
        row_dim, col_dim = spatial
        (temporal_dim,) = {"M", "N", "K"} - set(spatial)
        array_len = {row_dim: self.rows, col_dim: self.cols, temporal_dim: 1}
        reads, writes = {}, {}
        for role, dims in OPERAND_DIMS.items():
            size = extent[dims[0]] * extent[dims[1]]
            repeats = math.prod(
                math.ceil(extent[d] / array_len[d]) for d in spatial if d not in dims
            )
            if role == "output":
                writes[role] = size * repeats
                reads[role] = size * (repeats - 1) + (0 if first_k_chunk else size)
            else:
                reads[role] = size * repeats
        macs = extent["M"] * extent["N"] * extent["K"]
        cycles = self.tile_cycles(
            extent, spatial, dataflow, accounting, continues_fold, dtype=dtype, fraction=fraction
        )
        return TileCost(cycles, macs, self._folds(extent, spatial), reads, writes)

    def tile_cycles(
        self,
        extent: dict[str, int],
        spatial: tuple[str, str],
        dataflow: str,
        accounting: str,
        continues_fold: bool = False,
        *,
        dtype: str,
        fraction: float = 1.0,
    ) -> int:
        """`tile_cost`'s reference cycles alone (see there), without its SRAM accesses: the auto
        mapper ranks a few hundred tiles by them."""
        (temporal_dim,) = {"M", "N", "K"} - set(spatial)
        streamed, rate = extent[temporal_dim], self.rate(dtype)
        if fraction == 1:
            t = -(-streamed // rate)
        else:  # the share as written (0.667 is 667/1000): exact, no float rounding
            t = math.ceil(streamed / (rate * Fraction(str(fraction))))
        folds = self._folds(extent, spatial)
        r, c = self.rows, self.cols
        stationary_load = 0 if dataflow == "os" else r
        if accounting == "scalesim":
            own = folds * (t + (0 if continues_fold else stationary_load + r + c - 2))
        else:
            own = stationary_load + folds * max(t, r) + r + c - 2
        return self.to_ref_cycles(own)

    def _folds(self, extent: dict[str, int], spatial: tuple[str, str]) -> int:
        """Array-sized pieces of the tile's spatial plane."""
        row_dim, col_dim = spatial
        return math.ceil(extent[row_dim] / self.rows) * math.ceil(extent[col_dim] / self.cols)


def _family(dtype: str) -> str:
    """Tech-table name of a precision: fp8 variants share one entry ('fp8_e4m3' -> 'fp8')."""
    return dtype.split("_")[0]
