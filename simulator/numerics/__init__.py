"""Functional tile kernels per precision and their check against float64 / exact references."""

from simulator.numerics.gemm import GemmNumerics, NumericsResult

__all__ = ["GemmNumerics", "NumericsResult"]
