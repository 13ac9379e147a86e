"""Near-memory SIMD units in the DRAM (Samsung HBM-PIM): MACs beside the banks, weights read inside.

A GEMM's weights never cross the external interface: each input row streams them out of the banks
at the internal bandwidth (shared by `reuse_rows` rows held in the units' registers), so a tile costs
max(MACs / (units x lanes), weight bytes / internal bandwidth). MAC energy is Horowitz's fp16
multiply plus fp32 add at the arch's node; the bank read energy per byte is tech/pim.yaml's estimate.
"""

import math

from simulator import tech
from simulator.components.base import Component
from simulator.errors import UnsupportedError
from simulator.spec.arch import PimSpec
from simulator.spec.precision import nbytes, precision


class PimUnit(Component):
    """`units` x `lanes` MAC lanes at the units' clock, fed by the banks' internal bandwidth."""

    kind = "pim"

    def __init__(self, name: str, spec: PimSpec, ref_clock_hz: float, node_nm: float):
        super().__init__(name, spec.clock or ref_clock_hz, ref_clock_hz)
        self.spec = spec
        self.node_nm = node_nm
        self.lanes = spec.units * spec.lanes
        bank = spec.bank_read_energy
        if bank is None:
            bank = tech.table("pim")["hbm_pim"]["bank_read_energy_pj_per_byte"]["value"]
        self.actions = {f"mac_{p}": self._mac_energy(p) for p in spec.input_precision}
        self.actions["bank_read"] = bank

    def accumulator(self, dtype: str) -> str:
        """Accumulator precision used for operands of `dtype`."""
        return self.spec.accumulator_precision or precision(dtype).accumulator

    def _mac_energy(self, dtype: str) -> float:
        if self.spec.mac_energy is not None:
            return self.spec.mac_energy
        family = dtype.split("_")[0]
        acc = self.accumulator(dtype).split("_")[0]
        try:
            e45 = tech.op_energy_pj(f"{family}_mul") + tech.op_energy_pj(f"{acc}_add")
        except KeyError:
            raise UnsupportedError(
                f"{self.name}: no tech-table energy for {dtype} MACs; set mac_energy in the arch"
            ) from None
        return tech.scale_energy(e45, self.node_nm)

    @property
    def peak_macs_per_cycle(self) -> float:
        """MACs per reference cycle with every lane busy."""
        return self.lanes * self.clock_hz / self.ref_clock_hz

    @property
    def internal_bytes_per_cycle(self) -> float:
        """Bank-side bytes per reference cycle."""
        return self.spec.internal_bandwidth / self.ref_clock_hz

    def check(self, op_name: str, dtype: str) -> None:
        """Raise UnsupportedError unless the lanes take `dtype` operands."""
        if dtype not in self.spec.input_precision:
            raise UnsupportedError(
                f"{self.name} (pim) cannot run {op_name} in {dtype}; "
                f"it supports {', '.join(self.spec.input_precision)}"
            )

    def weight_reads(self, rows: int, k: int, n: int, dtype: str) -> int:
        """Bank bytes read to multiply `rows` input rows by a k x n weight block."""
        return nbytes(k * n, dtype) * math.ceil(rows / self.spec.reuse_rows)

    def gemm_cycles(self, rows: int, k: int, n: int, dtype: str) -> int:
        """Reference cycles of rows x k x n MACs: lane-bound or bank-bandwidth-bound."""
        compute = self.to_ref_cycles(math.ceil(rows * k * n / self.lanes))
        banks = math.ceil(
            self.weight_reads(rows, k, n, dtype) / self.internal_bytes_per_cycle - 1e-9
        )
        return max(compute, banks)

    def area_mm2(self) -> float:
        if self.spec.area is not None:
            return self.spec.area
        lane_um2 = tech.op_area_um2("fp16_mul") + tech.op_area_um2("fp32_add")
        return tech.scale_area(lane_um2, self.node_nm) * self.lanes * 1e-6

    def leakage_mw(self) -> float:
        return self.spec.leakage or 0.0
