"""Reports: one face (summary dict, DataFrames, JSON, trace) for every kind of run."""

from simulator.report.single import PJ_PER_MW_SECOND, STATIC, Report
from simulator.report.spiking import SpikingReport

__all__ = ["PJ_PER_MW_SECOND", "STATIC", "Report", "SpikingReport"]
