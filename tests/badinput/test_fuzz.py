"""Fuzz random arch / workload / mapping dicts through simulate(): every outcome is a report or
an AccsimError (never another exception), and every report obeys physics: utilizations <= 1,
energies >= 0, strictly valid JSON, cycles at least the compute and the DRAM bandwidth bounds,
the cost guard's tile estimate a true lower bound, and progress reported to completion."""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.api import simulate
from simulator.errors import AccsimError
from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.guards import estimate

# values a user might write, good and bad, for each kind of field
COUNTS = st.one_of(
    st.integers(1, 64),
    st.sampled_from([0, -1, 2**40, 1.5, "8", None, True, float("nan"), float("inf")]),
)
SIZES = st.one_of(
    st.sampled_from(["1 B", "64 B", "4 KiB", "64 KiB", "1 MiB", "0 B", "-1 KiB", "1e400 B"]),
    st.integers(-4, 4096).map(lambda n: f"{n} KiB"),
    st.sampled_from([12, None, "lots", "1 parsec"]),
)
CLOCKS = st.sampled_from(["1 GHz", "700 MHz", "1 Hz", "0 Hz", "1e400 GHz", "fast", 1e9])
DIMS = st.one_of(st.integers(1, 96), st.sampled_from([0, -5, 1.5, "x", 2**62]))
DTYPES = st.sampled_from(["int8", "fp16", "bf16", "int16", "int4", "fp32", "int7"])


@st.composite
def archs(draw):
    components = {
        "mac": {
            "kind": "systolic_array",
            "rows": draw(COUNTS),
            "cols": draw(COUNTS),
            "input_precision": draw(st.lists(DTYPES, min_size=1, max_size=3, unique=True)),
        },
        "sram": {
            "kind": "sram",
            "capacity": draw(SIZES),
            "ports": draw(COUNTS),
            "banks": draw(COUNTS),
            "width": draw(SIZES),
        },
        "dram": {"kind": "dram", "technology": draw(st.sampled_from(["ddr4", "hbm2", "ddr9"]))},
    }
    if draw(st.booleans()):
        components["vector"] = {"kind": "vector", "lanes": draw(COUNTS)}
    return {"name": "fuzz", "clock": draw(CLOCKS), "components": components}


@st.composite
def workloads(draw):
    kind = draw(st.sampled_from(["gemm", "gemm", "softmax", "gelu", "add", "attention"]))
    dtype = draw(DTYPES)
    if kind == "gemm":
        op = {"kind": kind, "M": draw(DIMS), "N": draw(DIMS), "K": draw(DIMS), "dtype": dtype}
    elif kind == "attention":
        op = {
            "kind": kind,
            "heads": draw(st.integers(1, 4)),
            "q_len": draw(DIMS),
            "head_dim": draw(st.sampled_from([8, 16, 0])),
            "dtype": draw(st.sampled_from(["bf16", "fp16"])),
        }
    else:
        op = {"kind": kind, "rows": draw(DIMS), "cols": draw(DIMS), "dtype": dtype}
    return {"name": "fuzz", "ops": [op]}


@st.composite
def mappings(draw):
    mapping = {}
    if draw(st.booleans()):
        mapping["dataflow"] = draw(st.sampled_from(["os", "ws", "is", "xx"]))
    if draw(st.booleans()):
        mapping["tile"] = {d: draw(DIMS) for d in draw(st.sets(st.sampled_from("MNK")))}
    if draw(st.booleans()):
        mapping["accounting"] = draw(st.sampled_from(["realistic", "scalesim"]))
    return mapping


def _numbers(tree, path=""):
    """(dotted path, value) of every number in a nested summary."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _numbers(value, f"{path}.{key}")
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _numbers(value, f"{path}.{index}")
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield path, tree


def _invariants(arch, workload, report) -> None:
    summary = report.summary
    json.dumps(summary, allow_nan=False)  # strictly valid JSON: no Infinity, no NaN
    json.loads(report.to_json())
    for path, value in _numbers(summary):
        assert math.isfinite(value), path
        if "energy" in path or path.endswith("_pj"):
            assert value >= 0, (path, value)
        if path.endswith("utilization"):
            assert 0 <= value <= 1 + 1e-9, (path, value)
    compute_bound = summary["macs"] / summary["peak_macs_per_cycle"]
    assert summary["cycles"] >= compute_bound * (1 - 1e-9)
    dram_bytes_per_cycle = summary["dram_peak_bandwidth_gbps"] * 1e9 / summary["clock_hz"]
    assert summary["cycles"] >= summary["dram_bytes"] / dram_bytes_per_cycle * (1 - 1e-9)
    for row in report.components.itertuples():
        assert row.energy_pj >= 0
        assert row.utilization <= 1 + 1e-9, (row.component, row.utilization)
    steps = sum(sum(1 for _ in op.steps()) for op in report.program.ops)
    assert estimate(arch, workload, numerics=False).tiles <= max(steps, 1)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(arch=archs(), workload=workloads(), mapping=mappings(), numerics=st.booleans())
def test_random_specs_give_a_report_or_a_clean_error(arch, workload, mapping, numerics):
    try:
        arch_spec = load_arch(arch)
        workload_spec = load_workload(workload)
        mapping_spec = load_mapping(mapping)
        progress: dict[str, list] = {}
        report = simulate(
            arch_spec,
            workload_spec,
            mapping_spec,
            numerics=numerics,
            progress=lambda phase, done, total: progress.setdefault(phase, []).append(
                (done, total)
            ),
        )
    except AccsimError as error:
        message = str(error)
        assert message and "\n" not in message.strip()
        return
    _invariants(arch_spec, workload_spec, report)
    for phase, points in progress.items():  # each phase from 0 to its total, never backwards
        dones = [done for done, _ in points]
        assert dones[0] == 0 and dones[-1] == points[-1][1], phase
        assert all(a <= b for a, b in zip(dones, dones[1:])), phase
    if numerics:
        assert all(row["ok"] for row in report.numerics_table()), report.numerics_table()
