"""The validation data behind benchmarks/validate.py: every entry names a loadable arch and
workload, and the LLMCompass rows convert to seconds consistently with their own columns."""

import json
import sys
from pathlib import Path

import pytest
import yaml

import simulator

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import validate  # noqa: E402  (a script in benchmarks/, not a package)

ENTRIES = (
    yaml.safe_load(validate.DATA.read_text())
    + yaml.safe_load(validate.FA3_SWEEP.read_text())
    + validate.llmcompass_entries()
    + yaml.safe_load(validate.MULTI.read_text())
)


def test_entry_ids_are_unique():
    ids = [entry["id"] for entry in ENTRIES]
    assert len(ids) == len(set(ids))


def test_every_entry_loads():
    archs = {json.dumps([e["device"], e.get("arch_overrides")]) for e in ENTRIES}
    for device, overrides in map(json.loads, sorted(archs)):
        simulator.load_arch(device, validate._pairs(overrides))
    for entry in ENTRIES:
        for part in validate._parts(entry):
            workload = part["workload"]
            simulator.load_workload(workload, validate._pairs(part.get("workload_overrides")))


def test_llmcompass_gemm_seconds_agree_with_the_printed_tflops():
    rows = validate._csv_rows("matmul_A100.csv")
    entries = [e for e in validate.llmcompass_entries() if e["category"] == "gemm"]
    assert len(entries) == len(rows) == 20
    for entry, (m, n, k, _, tflops) in zip(entries, rows):
        assert 2 * m * n * k / entry["value"] / 1e12 == pytest.approx(tflops, rel=2e-3)


def test_llmcompass_vector_rows_invert_the_throughput_formula():
    # softmax_A100.csv row 1: M=4096, N=32 at 9.99556 elements/ns -> 13.11 µs
    softmax = next(e for e in validate.llmcompass_entries() if e["id"].endswith("softmax-4096x32"))
    assert softmax["value"] == pytest.approx(4096 * 32 / 9.99556025250909e9)
