"""accsim: a cycle-approximate simulator of neural-network accelerators with real tile numerics.

import simulator
report = simulator.simulate("tpu-v1-like", "gemm-1024")
report.summary["cycles"], report.components, report.ops

The names below are imported on first use (module __getattr__), so `import simulator` and
`accsim --help` do not pay for pydantic, pandas or ml_dtypes until a name that needs them is used.
"""

import importlib

_HOMES = {
    "simulate": "simulator.api",
    "AccsimError": "simulator.errors",
    "CapacityError": "simulator.errors",
    "SpecError": "simulator.errors",
    "UnsupportedError": "simulator.errors",
    "Report": "simulator.report",
    "list_presets": "simulator.spec",
    "load_arch": "simulator.spec",
    "load_mapping": "simulator.spec",
    "load_workload": "simulator.spec",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    """Import a public name from its home module the first time it is asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
