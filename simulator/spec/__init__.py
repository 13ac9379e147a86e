"""Validated, immutable models of the YAML inputs, and the functions that load them."""

from simulator.spec.arch import ArchSpec, DramSpec, SramSpec, SystolicArraySpec
from simulator.spec.loader import (
    list_presets,
    load_arch,
    load_mapping,
    load_workload,
    split_overrides,
)
from simulator.spec.mapping import MappingSpec
from simulator.spec.workload import GemmOpSpec, WorkloadSpec

__all__ = [
    "ArchSpec",
    "DramSpec",
    "GemmOpSpec",
    "MappingSpec",
    "SramSpec",
    "SystolicArraySpec",
    "WorkloadSpec",
    "list_presets",
    "load_arch",
    "load_mapping",
    "load_workload",
    "split_overrides",
]
