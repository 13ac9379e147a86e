"""Valid specs that used to crash or misreport, sweep locking and journal checks, the per-op
numerics table and the cost guard's estimate."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.api import simulate
from simulator.errors import CapacityError, SpecError, UnsupportedError
from simulator.numerics.collective import CollectiveNumerics
from simulator.numerics.gemm import GemmNumerics
from simulator.spec import load_arch, load_workload
from simulator.spec.guards import Limits, check_cost, estimate
from simulator.sweep import run_sweep
from simulator.sweep.results import OutputLock, journal_path

SWEEP = {
    "name": "tiny",
    "base": {"arch": "edge-npu", "workload": "gemm:M=32,N=32,K=32"},
    "grid": {"arch.components.mac_array.rows": [8, 16]},
}


@pytest.mark.parametrize("dtype", ["int8", "int16", "int4"])
@pytest.mark.parametrize("kind", ["softmax", "gelu", "add", "rmsnorm"])
def test_integer_vector_ops_round_and_saturate(kind, dtype):
    report = simulate("edge-npu", f"{kind}:rows=16,cols=32,dtype={dtype}")
    (row,) = report.numerics_table()
    assert row["ok"] and row["max_abs_error"] <= 0.5 + 1e-3  # rounding to an integer


def test_int16_gemm_passes_in_its_declared_int64_accumulator():
    report = simulate("eyeriss-like", "gemm:M=32,N=32,K=256,dtype=int16")
    (row,) = report.numerics_table()
    # |a b| <= 2^30 over 256 terms needs 16 + 16 + 8 = 40 bits: int64 holds every sum
    assert row["ok"] and row["max_abs_error"] == 0 and "int64 accumulator" in row["coverage"]


def test_int16_gemm_in_an_int32_accumulator_is_a_mismatch_that_counts_the_wraps():
    arch = load_arch(
        "eyeriss-like", [(["components", "pe_array", "accumulator_precision"], "int32")]
    )
    report = simulate(arch, "gemm:M=32,N=32,K=256,dtype=int16")
    (row,) = report.numerics_table()
    state = GemmNumerics(32, 32, 256, "int16", "int32", seed=0)  # the run's operands (seed 0)
    exact = state.a.astype(np.int64) @ state.b.astype(np.int64)
    wrapped = int(np.count_nonzero((exact < -(2**31)) | (exact >= 2**31)))
    assert wrapped > 0 and not row["ok"] and not report.summary["numerics_ok"]
    assert f"{wrapped:,} outputs wrapped in the int32 accumulator" in row["coverage"]
    assert "needs 40 bits" in row["coverage"]  # 16 + 16 + ceil(log2 256)


def test_long_int32_sums_overflow_even_int64_and_say_so():
    arch = load_arch("edge-npu", [(["components", "mac_array", "input_precision"], ["int32"])])
    short = simulate(arch, "gemm:M=16,N=16,K=1,dtype=int32")  # |a b| <= 2^62 fits int64
    assert short.summary["numerics_ok"] is True
    report = simulate(arch, "gemm:M=16,N=16,K=64,dtype=int32")
    (row,) = report.numerics_table()
    # full-range int32 products are ~2^61 each: 64 of them pass 2^63 for many outputs
    assert not row["ok"] and "wrapped in the int64 accumulator" in row["coverage"]
    assert "needs 70 bits" in row["coverage"]  # 32 + 32 + ceil(log2 64)


def test_one_core_chip_keeps_its_l2():
    arch = load_arch("a100-like", [(["cores", "count"], 1)])
    report = simulate(arch, "gemm:M=256,N=256,K=256,dtype=fp16")
    assert report.summary["numerics_ok"] is True
    assert "l2" in set(report.components.component)


def test_scalesim_accounting_with_a_vector_op():
    workload = {
        "name": "gemm-softmax",
        "ops": [
            {"kind": "gemm", "name": "g", "M": 64, "N": 64, "K": 64},
            {"kind": "softmax", "name": "s", "rows": 64, "cols": 64, "inputs": ["g"]},
        ],
    }
    report = simulate("edge-npu", workload, "scalesim")
    assert [layer["name"] for layer in report.summary["layers"]] == ["g"]


def test_fp32_ring_sums_are_held_to_the_fp32_bound():
    """Four fp32 partials summed in ring order differ from the float64 sum by rounding only:
    within (n - 1) u sum |x|, where a float64-eps bound would call them a mismatch."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(1000).astype(np.float32) * 1e3 for _ in range(4)]
    state = CollectiveNumerics("all_reduce", arrays, [(0, 1000)], lambda core: (0, 1000), None)
    for src, dst in [(0, 1), (1, 2), (2, 3)]:
        state.receive_range(src, dst, 0, 1000, reduce=True)
    for src, dst in [(3, 0), (3, 1), (3, 2)]:
        state.receive_range(src, dst, 0, 1000, reduce=False)
    result = state.check()
    assert result.ok and 0 < result.max_abs_error <= result.error_bound
    state.arrays[2][5] += 1.0  # a real error is still caught
    assert not state.check().ok


def test_numerics_table_names_every_op():
    report = simulate("edge-npu", "bert-base-ffn")
    names = [row["op"] for row in report.numerics_table()]
    assert names == [op.name for op in load_workload("bert-base-ffn").ops]
    assert report.summary["numerics_failed"] == []
    json.dumps(report.summary, allow_nan=False)


def test_a_second_sweep_into_one_output_is_refused(tmp_path):
    output = tmp_path / "r.parquet"
    held = OutputLock(output)
    try:
        with pytest.raises(SpecError, match="another sweep is writing to it"):
            run_sweep(SWEEP, output, jobs=1)
    finally:
        held.release()
    assert run_sweep(SWEEP, output, jobs=1).ran == 2  # free again


def test_journal_lines_that_are_not_rows_are_skipped_with_a_warning(tmp_path):
    output = tmp_path / "r.parquet"
    journal_path(output).write_text('[1, 2]\n"text"\n{"key": 3}\n')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = run_sweep(SWEEP, output, jobs=1)
    assert outcome.ran == 2 and len(outcome.results) == 2
    # lines 1-3, each once the run's own rows follow it (a last line may be one a kill cut short)
    assert len({str(w.message) for w in caught}) == 3
    assert all("not a result row" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    "workload",
    ["gemm:M=200,N=100,K=300", "gemm:M=64,N=4096,K=64,dtype=fp16", "softmax:rows=512,cols=4096"],
)
def test_tile_estimate_is_a_lower_bound(workload):
    arch, spec = load_arch("edge-npu"), load_workload(workload)
    report = simulate(arch, spec, numerics=False)
    assert estimate(arch, spec, numerics=False).tiles <= sum(
        sum(1 for _ in op.steps()) for op in report.program.ops
    )


def test_guard_refuses_with_the_estimate_and_accepts_when_raised():
    arch, spec = load_arch("edge-npu"), load_workload("gemm:M=1024,N=1024,K=1024")
    with pytest.raises(CapacityError, match="raise the limit with --max-tiles"):
        check_cost(arch, spec, False, Limits(max_tiles=1))
    assert check_cost(arch, spec, False, Limits(max_tiles=10**9)).tiles >= 1


def test_an_unexpected_exception_is_one_line_with_the_traceback_saved(capsys, monkeypatch):
    """The last resort: a bug (here a loader that raises KeyError) is reported, not dumped."""
    import simulator.cli.run as run_module
    from simulator.cli import main

    def broken(ref, overrides=()):
        raise KeyError("l2")

    monkeypatch.setattr(run_module, "load_arch", broken)
    monkeypatch.setenv("COLUMNS", "400")
    assert main(["run", "edge-npu", "gemm-256"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(
        "error: internal error: KeyError: 'l2' (please report; traceback saved at "
    )
    saved = line.rsplit("saved at ", 1)[1].rstrip(")")
    assert "KeyError" in open(saved).read()


@pytest.mark.parametrize("role", ["arch", "workload"])
def test_simulate_refuses_an_object_that_is_no_spec_in_one_line(role):
    """simulate() dispatches on ArchSpec and WorkloadSpec; anything else passed as an object is
    named, not run as a system of chips or a spiking network."""
    args = {"arch": load_arch("edge-npu"), "workload": load_workload("gemm:M=32,N=32,K=32")}
    args[role] = 42
    with pytest.raises(UnsupportedError, match=f"^{role} 42: give a spec.*not an int") as error:
        simulate(args["arch"], args["workload"])
    assert "\n" not in str(error.value)


def test_an_elementwise_row_wider_than_the_sram_counts_its_pieces():
    """A relu of one 2^32-element fp32 row: each step's piece lives in the 1 MiB SRAM, so at
    least 2^34 B / 2^20 B = 16,384 steps (it counted one, then ran minutes)."""
    arch, spec = load_arch("edge-npu"), load_workload(f"relu:rows=1,cols={2**32},dtype=fp32")
    assert estimate(arch, spec, numerics=False).tiles == 2**34 // 2**20


@pytest.mark.parametrize("value", [True, "0.5"])
def test_a_plain_number_field_refuses_a_bool_or_text(value):
    arch = yaml.safe_load((Path(__file__).parents[2] / "archs" / "b200-like.yaml").read_text())
    arch["components"]["hbm"]["efficiency"] = value
    with pytest.raises(
        SpecError, match=f"components.hbm.efficiency: must be a number, got {value!r}"
    ):
        load_arch(arch)


@pytest.mark.parametrize(("numerics", "trace"), [([], False), (1, False), (False, "yes")])
def test_simulate_takes_a_mode_or_bool_for_numerics_and_a_bool_for_trace(numerics, trace):
    with pytest.raises((SpecError, UnsupportedError)) as error:
        simulate("edge-npu", "gemm:M=32,N=32,K=32", numerics=numerics, trace=trace)
    assert "\n" not in str(error.value)


def test_a_system_report_has_no_chrome_trace_and_says_which_chip_to_trace():
    report = simulate("a100x4-nvlink", "gemm:M=256,N=256,K=256,dtype=bf16", numerics=False)
    with pytest.raises(UnsupportedError, match=r"records no timeline.*simulate\('a100-like'"):
        report.chrome_trace()


def test_op_names_are_checked_unique_in_linear_time():
    """40,000 ops and one name repeated: list.count per name took minutes (1.6e9 compares)."""
    import time

    ops = [{"kind": "relu", "name": f"r{i}", "rows": 1, "cols": 1} for i in range(40_000)]
    ops[-1]["name"] = "r7"
    start = time.process_time()
    with pytest.raises(SpecError, match="op names must be unique, repeated: r7"):
        load_workload({"name": "w", "ops": ops})
    assert time.process_time() - start < 10


def test_a_roofline_of_a_billion_points_is_refused():
    import simulator.plots as plots

    report = simulate("edge-npu", "gemm:M=64,N=64,K=64", numerics=False)
    with pytest.raises(UnsupportedError, match="roofline: points: give at most 100,000"):
        plots.roofline(report, points=10**9)
