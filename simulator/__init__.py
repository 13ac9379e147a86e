"""accsim: a cycle-approximate simulator of neural-network accelerators with real tile numerics.

import simulator
report = simulator.simulate("tpu-v1-like", "gemm-1024")
report.summary["cycles"], report.components, report.ops
"""

from simulator.api import simulate
from simulator.errors import AccsimError, CapacityError, SpecError, UnsupportedError
from simulator.report import Report
from simulator.spec import list_presets, load_arch, load_mapping, load_workload

__all__ = [
    "AccsimError",
    "CapacityError",
    "Report",
    "SpecError",
    "UnsupportedError",
    "list_presets",
    "load_arch",
    "load_mapping",
    "load_workload",
    "simulate",
]
