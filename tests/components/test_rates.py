"""Per-precision MAC rates (`rate:` on a systolic array), timed by hand from the fold count."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.components import build_machine
from simulator.spec import load_arch
from tests.conftest import tiny_arch

SINGLE_TILE = {"dataflow": "os", "accounting": "scalesim"}
DATAFLOWS = {"os": ("M", "N"), "ws": ("K", "N"), "is": ("K", "M")}


def fast_int8(rows=8, cols=8):
    """tiny_arch whose array runs int8 at twice its base rate (bf16 and the rest at 1)."""
    spec = tiny_arch(rows, cols)
    spec["components"]["pe"]["rate"] = {"int8": 2}
    return spec


def array(spec):
    return build_machine(load_arch(spec)).components["pe"]


# M=20, N=16, K=8 on 8x8, scalesim: each fold streams T in ceil(T / rate) cycles plus R + C - 2
# (os) or 2R + C - 2 (ws, is) = 14 or 22.
# os: T=K=8, 6 folds: rate 1 6 * (8 + 14) = 132, rate 2 6 * (4 + 14) = 108
# ws: T=M=20, 2 folds: rate 1 2 * (20 + 22) = 84, rate 2 2 * (10 + 22) = 64
# is: T=N=16, 3 folds: rate 1 3 * (16 + 22) = 114, rate 2 3 * (8 + 22) = 90
@pytest.mark.parametrize(
    "dataflow, slow, fast", [("os", 132, 108), ("ws", 84, 64), ("is", 114, 90)]
)
def test_scalesim_folds_stream_at_the_precisions_rate(dataflow, slow, fast):
    extent = {"M": 20, "N": 16, "K": 8}
    pe = array(fast_int8())
    args = (extent, DATAFLOWS[dataflow], dataflow, "scalesim", True)
    assert pe.tile_cost(*args, dtype="int8").cycles == fast
    assert pe.tile_cost(*args, dtype="bf16").cycles == slow  # no rate listed: 1
    assert array(tiny_arch()).tile_cost(*args, dtype="int8").cycles == slow


def test_realistic_folds_stream_at_the_rate_but_not_below_the_stationary_load():
    # realistic os, M=20 N=16 K=40: 6 folds of max(ceil(40 / rate), R) + R + C - 2:
    # rate 1 6 * 40 + 14 = 254; rate 2 6 * 20 + 14 = 134. K=9 at rate 2: max(5, 8) = 8 a fold.
    pe = array(fast_int8())
    cost = pe.tile_cost(
        {"M": 20, "N": 16, "K": 40}, ("M", "N"), "os", "realistic", True, dtype="int8"
    )
    assert cost.cycles == 6 * 20 + 14
    base = pe.tile_cost(
        {"M": 20, "N": 16, "K": 40}, ("M", "N"), "os", "realistic", True, dtype="bf16"
    )
    assert base.cycles == 6 * 40 + 14
    short = pe.tile_cost(
        {"M": 20, "N": 16, "K": 9}, ("M", "N"), "os", "realistic", True, dtype="int8"
    )
    assert short.cycles == 6 * 8 + 14


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 40),
    n=st.integers(1, 40),
    k=st.integers(1, 40),
    rate=st.integers(1, 4),
    times=st.sampled_from([1, 2, 4, 5, 10]),
    dataflow=st.sampled_from(sorted(DATAFLOWS)),
    accounting=st.sampled_from(["scalesim", "realistic"]),
    continues=st.booleans(),
)
def test_a_rate_shortens_the_streamed_dim_and_nothing_else(
    m, n, k, rate, times, dataflow, accounting, continues
):
    """At rate r, issued by an instruction family reaching 1/t of it (`instructions`), a tile
    costs what the base rate costs with its streamed dim ceil(T t / r) long; its MACs, folds and
    SRAM accesses are those of the whole tile."""
    spec = tiny_arch()
    spec["components"]["pe"]["rate"] = {"int8": rate}
    pe, spatial = array(spec), DATAFLOWS[dataflow]
    extent = {"M": m, "N": n, "K": k}
    (streamed,) = set(extent) - set(spatial)
    short = {**extent, streamed: math.ceil(extent[streamed] * times / rate)}
    args = (spatial, dataflow, accounting, True, continues)
    fast = pe.tile_cost(extent, *args, dtype="int8", fraction=1 / times)
    whole = pe.tile_cost(extent, *args, dtype="bf16")
    assert fast.cycles == pe.tile_cost(short, *args, dtype="bf16").cycles
    assert (fast.macs, fast.folds, fast.reads, fast.writes) == (
        whole.macs,
        whole.folds,
        whole.reads,
        whole.writes,
    )


def test_a_whole_run_computes_at_the_rate():
    # M=8 N=8 K=16 int8, one os tile: load A and B (128 + 128 B at 1 B/cycle), one fold of
    # ceil(16 / 2) + 14 = 22 cycles (30 at rate 1), store C int32 256 B.
    gemm = "gemm:M=8,N=8,K=16,dtype=int8"
    mapping = {**SINGLE_TILE, "tile": {"M": 8, "N": 8, "K": 16}}
    fast = simulator.simulate(fast_int8(), gemm, mapping)
    base = simulator.simulate(tiny_arch(), gemm, mapping)
    assert (fast.summary["compute_busy_cycles"], fast.summary["cycles"]) == (22, 256 + 22 + 256)
    assert (base.summary["compute_busy_cycles"], base.summary["cycles"]) == (30, 256 + 30 + 256)
    for report in (fast, base):  # one MAC costs the same at any rate: 1 pJ (tiny_arch)
        macs = report.energy[report.energy.action == "mac_int8"]
        assert (macs["count"].sum(), macs.energy_pj.sum()) == (8 * 8 * 16, 8 * 8 * 16 * 1.0)


def test_the_reports_peak_is_at_the_runs_precision():
    fast_int8_run = simulator.simulate(fast_int8(), "gemm:M=8,N=8,K=8,dtype=int8").summary
    bf16_run = simulator.simulate(fast_int8(), "gemm:M=8,N=8,K=8,dtype=bf16").summary
    assert fast_int8_run["peak_macs_per_cycle"] == 2 * 64
    assert bf16_run["peak_macs_per_cycle"] == 64
    assert fast_int8_run["ridge_point"] == 2 * bf16_run["ridge_point"]


def test_an_int8_mma_is_k32_on_a_gpu_like_core():
    # a100-like int8 runs at twice the fp16 rate: m16n8k32 MMAs (4,096 MACs each), each reading
    # A 16x32 and B 32x8 int8 and C 16x8 int32 (512 + 256 + 512 B) and writing D (512 B); its SM
    # is busy one cycle per 2 x 1,024 MACs.
    macs = 256**3
    energy = simulator.simulate("a100-like", "gemm:M=256,N=256,K=256,dtype=int8", numerics=False)
    rows = energy.energy[energy.energy.component.str.endswith(".tc")]
    by_action = rows.groupby(["part", "action"])["count"].sum()
    assert by_action[("instruction_issue", "issue")] == pytest.approx(macs / 4096)
    assert by_action[("mma_operands", "rf_read")] == pytest.approx(macs / 4096 * 1280)
    assert by_action[("mma_operands", "rf_write")] == pytest.approx(macs / 4096 * 512)
    assert by_action[("sm_active", "busy_cycle")] == pytest.approx(macs / 2048)


def with_accumulators(rate: int) -> dict:
    """tiny_arch whose PEs each keep an int32 partial sum in a register (per-PE accumulators)."""
    spec = tiny_arch()
    spec["components"]["pe"]["rate"] = {"int8": rate}
    spec["components"]["acc"] = {
        "kind": "regfile",
        "unit": "pe",
        "holds": ["output"],
        "capacity": "4 B",
        "instances": "pe",
    }
    return spec


@pytest.mark.parametrize("rate", [1, 2, 4])
def test_an_output_stationary_pe_sums_its_rates_products_before_its_accumulator(rate):
    # M=8 N=8 K=9 int8, one os fold on 8x8: each of the 64 PEs takes ceil(9 / rate) steps of K,
    # summing `rate` products a step (a dot product) into its accumulator: 64 x ceil(9 / rate)
    # updates, the first of each output without a read; the array reads its 8 x 9 inputs and
    # 9 x 8 weights from the buffer once either way, and the outputs drain once.
    mapping = {**SINGLE_TILE, "tile": {"M": 8, "N": 8, "K": 9}}
    report = simulator.simulate(with_accumulators(rate), "gemm:M=8,N=8,K=9,dtype=int8", mapping)
    rows = report.levels.groupby(["level", "operand", "action"])["elements"].sum()
    steps = math.ceil(9 / rate)
    assert rows[("acc", "output", "update")] == 64 * steps
    assert rows[("acc", "output", "read")] == 64 * steps - 64
    assert rows[("acc", "output", "drain")] == 64
    assert (rows[("buf", "input", "read")], rows[("buf", "weight", "read")]) == (72, 72)
    assert report.summary["compute_busy_cycles"] == steps + 14  # one fold: T / rate + R + C - 2


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 20), n=st.integers(1, 20), k=st.integers(1, 20), rate=st.integers(1, 4))
def test_accumulator_updates_and_fold_cycles_in_closed_form(m, n, k, rate):
    """One os tile on 8x8 at any rate: every output takes ceil(K / rate) accumulator updates,
    and each of the ceil(M / 8) x ceil(N / 8) folds ceil(K / rate) + R + C - 2 cycles."""
    mapping = {**SINGLE_TILE, "tile": {"M": m, "N": n, "K": k}}
    report = simulator.simulate(
        with_accumulators(rate), f"gemm:M={m},N={n},K={k},dtype=int8", mapping, numerics=False
    )
    rows = report.levels.groupby(["level", "operand", "action"])["elements"].sum()
    steps = math.ceil(k / rate)
    assert rows[("acc", "output", "update")] == m * n * steps
    assert rows.get(("acc", "output", "read"), 0) == m * n * (steps - 1)
    folds = math.ceil(m / 8) * math.ceil(n / 8)
    assert report.summary["compute_busy_cycles"] == folds * (steps + 14)
