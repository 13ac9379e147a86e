"""Analog crossbars in ISAAC-style IMAs and tiles: bit-slicing, ADC range, timing, energy and area.

Per-action energies are ISAAC's per-component powers (Shafiee et al., ISCA 2016, Table I, 32 nm;
tech/pim.yaml) divided by the rate each component runs at in ISAAC's 100 ns pipeline, then moved
to this crossbar's size, resolutions and node by the rules in that file. The ADCs dominate area
and energy, and the breakdowns (`area_breakdown_mm2`, the per-action energy rows) show it.
"""

import math
from dataclasses import dataclass

from simulator import tech
from simulator.components.base import Component
from simulator.errors import UnsupportedError, a_or_an
from simulator.spec.arch import CrossbarSpec
from simulator.spec.precision import precision

ISAAC_NODE_NM = 32.0
# a tile's digital parts besides its eDRAM (which is the arch's sram component)
TILE_PERIPHERY = ("edram_bus", "router", "sigmoid", "shift_add", "maxpool", "output_register")


@dataclass(frozen=True)
class Slicing:
    """How one GEMM precision is cut up on a crossbar: input cycles and weight cell slices."""

    dtype: str  # integer format the crossbar computes in (a float GEMM's fixed-point format)
    bits: int  # input and weight bits
    input_cycles: int  # T: DAC cycles per input vector (the last one the sign bit)
    weight_slices: int  # S: cells per weight and polarity
    polarities: int  # 1 (offset encoding) or 2 (differential)

    @property
    def cells_per_weight(self) -> int:
        return self.weight_slices * self.polarities


@dataclass(frozen=True)
class AdcRange:
    """The ADC's input range in conductance-level steps: full scale, lossless bits, LSB; the range
    (2^adc_bits LSBs) always covers the full scale of an ideal column sum."""

    full_scale: int  # largest ideal column sum
    lossless_bits: int  # ceil(log2(full_scale + 1))
    step: float  # LSB in level steps, 2^(lossless_bits - adc_bits): integer-aligned
    top_code: int  # 2^adc_bits - 1

    @property
    def lossless(self) -> bool:
        """Every integer column sum up to full scale is a code: ideal devices lose nothing."""
        return self.step <= 1

    @property
    def max_error(self) -> float:
        """Largest |ŷ - y| for an ideal (integer) column sum: none when lossless, else half an
        LSB, or the clip at the top code."""
        if self.lossless:
            return 0.0
        return max(self.step / 2, self.full_scale - self.top_code * self.step)


def adc_scale(bits: int, key: str) -> float:
    """ADC energy or area at `bits` relative to 8 bits (tech/pim.yaml adc_scaling, log-linear)."""
    points = sorted((int(b), float(v)) for b, v in tech.table("pim")["adc_scaling"][key].items())
    reference = dict(points)[8]
    lo, hi = points[0], points[-1]
    if bits <= lo[0]:
        (b0, v0), (b1, v1) = points[0], points[1]
    elif bits >= hi[0]:
        (b0, v0), (b1, v1) = points[-2], points[-1]
    else:
        (b0, v0), (b1, v1) = next(
            (a, b) for a, b in zip(points, points[1:]) if a[0] <= bits <= b[0]
        )
    value = v0 * (v1 / v0) ** ((bits - b0) / (b1 - b0))
    return value / reference


class Crossbar(Component):
    """tiles x imas_per_tile x crossbars_per_ima crossbars of rows x cols cells."""

    kind = "crossbar"
    leakage_in_actions = True  # ISAAC's Table I powers are totals, leakage included

    def __init__(self, name: str, spec: CrossbarSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, spec.clock or ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.rows, self.cols = spec.rows, spec.cols
        self.crossbars = spec.tiles * spec.imas_per_tile * spec.crossbars_per_ima
        self.levels = 2**spec.cell_bits - 1  # L_c
        self.dac_levels = 2**spec.dac_bits - 1  # L_d
        self.columns_per_adc = spec.columns_per_adc or spec.cols
        self.adcs = self.crossbars * spec.cols / self.columns_per_adc
        isaac = tech.table("pim")["isaac"]
        self._isaac = isaac
        self._energy_scale = tech.scale_energy(1.0, node_nm) / tech.scale_energy(1.0, ISAAC_NODE_NM)
        self._area_scale = tech.scale_area(1.0, node_nm) / tech.scale_area(1.0, ISAAC_NODE_NM)
        programming = tech.table("pim")["programming"]
        self.program_row_s = (
            spec.program_latency
            if spec.program_latency is not None
            else programming["row_latency_ns"] * 1e-9
        )
        self.actions = self._energies(isaac, programming)

    # ----- geometry -----------------------------------------------------------------------------
    def slicing(self, dtype: str) -> Slicing:
        """Input cycles and weight slices of a GEMM in `dtype` (floats use the fixed-point format)."""
        fmt = precision(dtype)
        computed = dtype if fmt.is_int else self.spec.fixed_point
        if computed is None or computed not in self.spec.input_precision:
            supported = ", ".join(self.spec.input_precision)
            extra = f"; floats become {self.spec.fixed_point}" if self.spec.fixed_point else ""
            raise UnsupportedError(
                f"{self.name} (crossbar) cannot run {dtype} GEMMs; it supports {supported}{extra}"
            )
        bits = precision(computed).bits
        return Slicing(
            dtype=computed,
            bits=bits,
            input_cycles=1 + math.ceil((bits - 1) / self.spec.dac_bits),
            weight_slices=math.ceil(bits / self.spec.cell_bits),
            polarities=2 if self.spec.weight_encoding == "differential" else 1,
        )

    def weights_per_crossbar(self, slicing: Slicing) -> int:
        """Whole weights (all their cell slices) in one crossbar's columns."""
        per = self.cols // slicing.cells_per_weight
        if per == 0:
            raise UnsupportedError(
                f"{self.name} (crossbar): {a_or_an(slicing.dtype)} weight needs "
                f"{slicing.cells_per_weight} columns but a crossbar has {self.cols}"
            )
        return per

    def adc_range(self) -> AdcRange:
        """Full scale of a column sum, and the power-of-two LSB an N-bit ADC needs to cover it."""
        cells = self.rows * self.levels
        full = self.dac_levels * (cells // 2 if self.spec.column_flip else cells)
        lossless = math.ceil(math.log2(full + 1))
        step = 2.0 ** (lossless - self.spec.adc_bits)  # below 1: bits to spare resolve noise
        return AdcRange(full, lossless, step, 2**self.spec.adc_bits - 1)

    # ----- timing -------------------------------------------------------------------------------
    @property
    def cycle_s(self) -> float:
        """One input cycle: the analog read, pipelined with the ADCs converting the last one's columns."""
        return max(self.spec.read_latency, self.columns_per_adc / self.spec.adc_sample_rate)

    def mvm_cycles(self, slicing: Slicing, waves: int) -> int:
        """Reference cycles for `waves` back-to-back input vectors on a set of crossbars."""
        return math.ceil(waves * slicing.input_cycles * self.cycle_s * self.ref_clock_hz - 1e-9)

    def program_cycles(self, rows: int) -> int:
        """Reference cycles to program `rows` rows of cells (crossbars program in parallel)."""
        return math.ceil(rows * self.program_row_s * self.ref_clock_hz - 1e-9)

    @property
    def peak_macs_per_cycle(self) -> float:
        """MACs per reference cycle with every cell busy, in the cheapest supported precision."""
        best = min(
            (self.slicing(p) for p in self.spec.input_precision),
            key=lambda s: s.cells_per_weight * s.input_cycles,
        )
        weights = self.crossbars * self.rows * self.weights_per_crossbar(best)
        return weights / (best.input_cycles * self.cycle_s * self.ref_clock_hz)

    # ----- energy and area ----------------------------------------------------------------------
    def _energies(self, isaac: dict, programming: dict) -> dict[str, float]:
        """pJ per action: ISAAC's power x its cycle / its count, moved to this size and node."""
        ima, tile = isaac["ima"], isaac["tile"]
        cycle_ns = isaac["cycle_ns"]
        per_ima = ima["crossbars"]
        size = self.rows * self.cols / (ima["crossbar"]["rows"] * ima["crossbar"]["cols"])
        mw_ns = 1.0  # 1 mW for 1 ns = 1 pJ
        adc = ima["adc"]
        adc_rate_per_ns = adc["sample_rate_gsps"]
        adc_pj = adc["power_mw"] / adc["count"] / adc_rate_per_ns * mw_ns
        conversions_per_ns = adc["count"] * adc_rate_per_ns
        register_mw = (
            ima["input_register"]["power_mw"] * self.rows / ima["crossbar"]["rows"]
            + ima["output_register"]["power_mw"] * self.cols / ima["crossbar"]["cols"]
        )
        tile_mw = sum(
            tile[k]["power_mw"] / tile[k].get("shared_by_tiles", 1) for k in TILE_PERIPHERY
        )
        crossbars_per_tile = self.spec.imas_per_tile * self.spec.crossbars_per_ima
        table = {
            "crossbar_read": (
                ima["crossbar"]["power_mw"] * size
                + ima["sample_hold"]["power_mw"] * self.cols / ima["crossbar"]["cols"]
            )
            / per_ima
            * cycle_ns,
            "dac_drive": ima["dac"]["power_mw"] / ima["dac"]["count"] * cycle_ns * self._dac_factor,
            "adc_convert": adc_pj * adc_scale(self.spec.adc_bits, "energy_pj"),
            "shift_add": ima["shift_add"]["power_mw"] / conversions_per_ns,
            "ima_registers": register_mw / per_ima * cycle_ns,
            "tile_periphery": tile_mw / crossbars_per_tile * cycle_ns,
            "accumulate": tech.op_energy_pj("int32_add")
            * tech.scale_energy(1.0, ISAAC_NODE_NM),  # digital partial-sum add, 32 nm
            "program_cell": programming["cell_energy_pj"],
        }
        energies = {action: pj * self._energy_scale for action, pj in table.items()}
        if self.spec.adc_energy is not None:
            energies["adc_convert"] = self.spec.adc_energy
        if self.spec.program_energy is not None:
            energies["program_cell"] = self.spec.program_energy
        return energies

    @property
    def _dac_factor(self) -> float:
        return 2.0 ** (self.spec.dac_bits - 1)

    def area_breakdown_mm2(self) -> dict[str, float]:
        """Area by part over the whole chip: ADCs, DACs, arrays, S+H, S+A, registers, tile periphery."""
        ima, tile = self._isaac["ima"], self._isaac["tile"]
        array = ima["crossbar"]
        rows, cols = self.rows / array["rows"], self.cols / array["cols"]  # relative to ISAAC's
        adcs = self.adcs
        adc_each = ima["adc"]["area_mm2"] / ima["adc"]["count"] * self._area_scale
        adc_each *= adc_scale(self.spec.adc_bits, "area_um2")
        per_crossbar = {  # ISAAC's per-IMA area / 8 crossbars, sized to this crossbar
            "dac": ima["dac"]["area_mm2"] * rows * self._dac_factor,
            "crossbar": array["area_mm2"] * rows * cols,
            "sample_hold": ima["sample_hold"]["area_mm2"] * cols,
            "ima_registers": ima["input_register"]["area_mm2"] * rows
            + ima["output_register"]["area_mm2"] * cols,
        }
        parts = {
            "adc": self.spec.adc_area * adcs if self.spec.adc_area is not None else adc_each * adcs,
            **{
                k: v / ima["crossbars"] * self.crossbars * self._area_scale
                for k, v in per_crossbar.items()
            },
            "shift_add": ima["shift_add"]["area_mm2"]
            / ima["adc"]["count"]
            * adcs
            * self._area_scale,
            "tile_periphery": sum(
                tile[k]["area_mm2"] / tile[k].get("shared_by_tiles", 1) for k in TILE_PERIPHERY
            )
            * self.spec.tiles
            * self._area_scale,
        }
        return parts

    def area_mm2(self) -> float:
        return sum(self.area_breakdown_mm2().values())

    def check(self, op_name: str, dtype: str) -> Slicing:
        """The slicing of `op_name`'s precision; UnsupportedError when the crossbar cannot run it."""
        try:
            return self.slicing(dtype)
        except UnsupportedError as error:
            raise UnsupportedError(f"{op_name}: {error}") from None
