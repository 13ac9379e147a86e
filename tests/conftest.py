"""Shared fixtures: small hand-checkable architectures built as dicts, and scripts run once per
session."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tiny_arch(
    rows=8,
    cols=8,
    dataflows=("os", "ws", "is"),
    bandwidth="700 MB/s",
    latency="0 ns",
    capacity="1 MiB",
    width="64 B",
    precisions=("int8", "bf16", "fp16", "fp32", "int16"),
):
    """An array at 700 MHz whose DRAM moves exactly 1 byte per cycle by default, with known costs."""
    return {
        "name": "tiny",
        "clock": "700 MHz",
        "components": {
            "pe": {
                "kind": "systolic_array",
                "rows": rows,
                "cols": cols,
                "dataflows": list(dataflows),
                "input_precision": list(precisions),
                "mac_energy": "1 pJ",
            },
            "buf": {
                "kind": "sram",
                "capacity": capacity,
                "banks": 1,
                "ports": 1,
                "width": width,
                "read_energy": "1 pJ",
                "write_energy": "2 pJ",
                "leakage": "0 mW",
            },
            "dram": {
                "kind": "dram",
                "technology": "ddr4",
                "bandwidth": bandwidth,
                "latency": latency,
                "energy_per_bit": "10 pJ",
            },
        },
    }


@pytest.fixture
def arch():
    return tiny_arch()


@pytest.fixture(scope="session")
def script_output(tmp_path_factory):
    """Run a benchmark script once per test session and return what it printed: docs tables and
    tests that quote the same deterministic script (`python benchmarks/validate.py` feeds three
    tables and the validation targets) share one run. Runs in a scratch folder that sees the
    repository's folders, as a user in a checkout would."""
    folder = tmp_path_factory.mktemp("scripts")
    for name in ("archs", "workloads", "mappings", "sweeps", "schemas", "tests", "benchmarks"):
        (folder / name).symlink_to(ROOT / name)
    printed: dict[str, str] = {}

    def run(command: str) -> str:
        if command not in printed:
            argv = shlex.split(command)
            if argv[0] == "python":
                argv[0] = sys.executable
            env = {**os.environ, "COLUMNS": "200"}
            done = subprocess.run(
                argv, capture_output=True, text=True, env=env, cwd=folder, timeout=1800
            )
            assert done.returncode == 0, (
                f"{command} exited {done.returncode}:\n{done.stderr[-2000:]}"
            )
            printed[command] = done.stdout
        return printed[command]

    return run
