"""The `accsim` command: JSON summary, overrides, listing, one-line errors, traces."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simulator
from simulator.cli import main

SMALL = "gemm:M=64,N=64,K=64,dtype=int8"
SUMMARY_KEYS = {
    "cycles",
    "seconds",
    "clock_hz",
    "energy_pj",
    "area_mm2",
    "mac_utilization",
    "peak_macs_per_cycle",
    "dram_bytes",
    "dram_bandwidth_gbps",
    "dram_peak_bandwidth_gbps",
    "numerics_max_abs_error",
    "numerics_ok",
    "ops",
}
OP_KEYS = {"name", "cycles", "bound", "dram_bytes", "energy_pj"}


@pytest.fixture(autouse=True)
def plain_console(monkeypatch):
    # rich must not colour or wrap what the tests read.
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "dumb")


def run_json(capsys, *args) -> dict:
    assert main(["run", *args, "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def test_json_summary_has_the_documented_keys(capsys):
    summary = run_json(capsys, "tpu-v1-like", "gemm-256")
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["numerics_ok"] is True
    assert summary["numerics_max_abs_error"] == 0  # int8 x int8 -> int32 is exact
    assert summary["clock_hz"] == 700e6
    assert summary["seconds"] == pytest.approx(summary["cycles"] / 700e6)
    assert summary["peak_macs_per_cycle"] == 256 * 256
    assert summary["dram_peak_bandwidth_gbps"] == pytest.approx(34.0)
    (op,) = summary["ops"]
    assert OP_KEYS <= op.keys()
    assert op["name"] == "gemm"


def test_no_numerics_reports_null(capsys):
    summary = run_json(capsys, "tpu-v1-like", SMALL, "--no-numerics")
    assert summary["numerics_ok"] is None
    assert summary["numerics_max_abs_error"] is None


def test_set_changes_the_array(capsys):
    summary = run_json(
        capsys, "tpu-v1-like", SMALL, "--no-numerics", "--set", "components.mxu.rows=128"
    )
    assert summary["peak_macs_per_cycle"] == 128 * 256


def test_set_reaches_workload_and_mapping(capsys):
    summary = run_json(
        capsys,
        "edge-npu",
        SMALL,
        "--no-numerics",
        "--set",
        "workload.ops.0.M=32",
        "--set",
        "mapping.dataflow=os",
    )
    (op,) = summary["ops"]
    assert op["name"] == "gemm"
    assert summary["macs"] == 32 * 64 * 64


def test_list_names_every_preset(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for kind in ("arch", "workload", "mapping"):
        for name in simulator.list_presets(kind):
            assert name in out


@pytest.mark.parametrize(
    "args",
    [
        ["run", "tpu-v1-like", SMALL, "--set", "nonsense"],
        ["run", "tpu-v1-like", "gemm:M=512,N"],
        ["run", "no-such-arch", SMALL],
        ["run", "tpu-v1-like", SMALL, "--set", "components.mxu.rowz=4"],  # long message
        ["run", "tpu-v1-like", "gemm-256", "-m", "output-stationary"],  # UnsupportedError
    ],
)
def test_bad_input_prints_one_error_line_and_exits_2(capsys, args):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in captured.err


def test_error_line_is_the_exception_message(capsys):
    assert main(["run", "tpu-v1-like", SMALL, "--set", "nonsense"]) == 2
    assert (
        capsys.readouterr().err
        == "error: --set nonsense: expected PATH=VALUE, e.g. components.mxu.rows=64\n"
    )


def test_error_text_is_printed_verbatim(capsys):
    assert main(["run", "tpu-v1-like", SMALL, "--set", "components.mxu.[bold]x=1"]) == 2
    assert "'[bold]x'" in capsys.readouterr().err


def test_trace_is_valid_chrome_json(capsys, tmp_path):
    path = tmp_path / "out.json"
    run_json(capsys, "tpu-v1-like", SMALL, "--no-numerics", "--trace", str(path))
    trace = json.loads(path.read_text())
    assert isinstance(trace["traceEvents"], list)
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert spans
    for event in spans:
        assert event["ts"] >= 0 and event["dur"] >= 0
        assert {"name", "pid", "tid"} <= event.keys()


def test_installed_command_runs(tmp_path):
    exe = Path(sys.executable).with_name("accsim")
    command = str(exe) if exe.exists() else shutil.which("accsim")
    assert command, "the accsim console script is not installed"
    done = subprocess.run(
        [command, "run", "tpu-v1-like", "gemm-256"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "numerics" in done.stdout
    assert "OK" in done.stdout
