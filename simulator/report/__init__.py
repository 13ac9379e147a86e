"""Reports: one face (summary dict, DataFrames, JSON, trace) for every kind of run."""

from simulator.report.single import PJ_PER_MW_SECOND, STATIC, Report

__all__ = ["PJ_PER_MW_SECOND", "STATIC", "Report", "SpikingReport"]


def __getattr__(name: str):
    """SpikingReport on first use: it loads the spiking engine, which a GEMM run never needs."""
    if name == "SpikingReport":
        from simulator.report.spiking import SpikingReport

        return SpikingReport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
