"""Host-side components: a CPU that runs fallback ops, and the link between host and accelerator."""

from typing import Literal

from simulator.spec.types import BytesPerS, Flag, Hz, Pj, PositiveInt, Seconds, Strict


class CpuSpec(Strict):
    """A host CPU (`kind: cpu`): runs any op the accelerator cannot, at SIMD speed from its own
    memory; its results reach the accelerator over the arch's `kind: link` component."""

    kind: Literal["cpu"]
    cores: PositiveInt
    """Cores working on one op in parallel."""
    vector_width: PositiveInt = 8
    """fp32 lanes per core per instruction (AVX2: 8, AVX-512: 16)."""
    clock: Hz = 3e9
    """Core clock, e.g. '3 GHz'."""
    memory_bandwidth: BytesPerS = 50e9
    """Host DRAM bandwidth, e.g. '50 GB/s' (two DDR4-3200 channels: 51.2 GB/s)."""
    fma: Flag = True
    """A multiply and an add issue as one fused instruction (MAC work costs one, not two)."""
    energy_per_instruction: Pj = 70.0
    """Energy of one (SIMD) instruction with its fetch, decode and register overhead: 70 pJ for a
    32-bit add on a 45 nm core (Horowitz, ISSCC 2014), recalled, not re-read."""


class LinkSpec(Strict):
    """The host <-> accelerator link (PCIe, CXL, an SoC bus): `bandwidth` bytes/s one way at a
    time, after a fixed `latency` per transfer."""

    kind: Literal["link"]
    bandwidth: BytesPerS
    """e.g. '32 GB/s' (PCIe 4.0 x16: 16 GT/s x 16 lanes x 128/130)."""
    latency: Seconds = 1e-6
    """Per-transfer latency, e.g. '1 us' (a PCIe DMA round trip is about 1 us)."""
    energy_per_bit: Pj = 5.0
    """Energy per bit moved, e.g. '5 pJ' (PCIe-class SerDes are a few pJ/bit)."""
