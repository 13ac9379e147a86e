"""The GPU MMA residual chip.yaml carries is the one benchmarks/gpu_power_fit.py fits on the
measured Quadro GV100 GEMMs (slow: it simulates the four kernels)."""

import sys
from pathlib import Path

import pytest

from simulator import tech

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import gpu_power_fit  # noqa: E402  (a script in benchmarks/, not a package)


@pytest.mark.slow
def test_chip_yaml_carries_the_fitted_mma_residual():
    rows = gpu_power_fit.kernels()
    c, _ = gpu_power_fit.fit(rows)
    assert round(c, 2) == tech.table("chip")["mma_residual"]["pj_per_mac"]
