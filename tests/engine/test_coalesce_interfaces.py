"""Coalescing with per-operand DRAM interfaces (SCALE-Sim's USER bandwidth mode): each interface's
busy time is booked in whole cycles, so a period's delta multiplies exactly, and coalesced runs
of imported SCALE-Sim configs equal their event-by-event runs."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import CapacityError
from simulator.spec import load_arch, load_workload
from simulator.spec.scalesim import import_scalesim
from tests.engine.test_coalesce import _both, assert_identical
from tests.strategies import LOOP_ORDERS


def _imported(rows, cols, dataflow, sram_kb, bandwidths, gemms, mode="USER"):
    """(arch, workload, mapping) specs of a SCALE-Sim config and GEMM topology, as imported."""
    ifmap_bw, filter_bw, ofmap_bw = bandwidths
    config = f"""[general]
run_name : t
[architecture_presets]
ArrayHeight : {rows}
ArrayWidth : {cols}
IfmapSramSzkB : {sram_kb[0]}
FilterSramSzkB : {sram_kb[1]}
OfmapSramSzkB : {sram_kb[2]}
Bandwidth : {ofmap_bw}
Dataflow : {dataflow}
[layout]
IfmapSRAMBankBandwidth : {ifmap_bw}
FilterSRAMBankBandwidth : {filter_bw}
[run_presets]
InterfaceBandwidth : {mode}
"""
    topology = "Layer, M, N, K,\n" + "".join(
        f"g{i}, {m}, {n}, {k},\n" for i, (m, n, k) in enumerate(gemms)
    )
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "run.cfg").write_text(config)
        (Path(folder) / "topo.csv").write_text(topology)
        arch, workload, mapping = import_scalesim(
            Path(folder) / "run.cfg", Path(folder) / "topo.csv"
        )
    return load_arch(arch), load_workload(workload), mapping


def test_a_1024_cube_coalesces_with_exact_interface_busy_time():
    """SCALE-Sim's 1024³ on 32x32 (os, 8 MiB buffers, 10 words/cycle per operand): 1,024 output
    tiles of K = 1024, each reading a 32 KiB weight panel (3,277 cycles at 10 B/cycle), every
    32nd also a 32 KiB input panel, each writing 32x32 int32 outputs (4 KiB at 40 B/cycle: 103
    cycles). Coalesced, it runs under a tenth of the events, with every counter equal, and the
    DRAM's busy time is the interfaces' mean, in one division. The tiles are the mapping's (auto
    takes 128x128 ones, reading the weights 8 times)."""
    arch, workload, mapping = _imported(32, 32, "os", (8192,) * 3, (10, 10, 10), [(1024,) * 3])
    mapping = {**mapping, "tile": {"M": 32, "N": 32, "K": 1024}, "loop_order": ["M", "K", "N"]}
    coalesced, events = _both(arch, workload, mapping)
    assert_identical(coalesced, events)
    record = coalesced[0]
    assert dict(record.interface_busy) == {
        "input": 32 * 3277,
        "weight": 1024 * 3277,
        "output": 1024 * 103,
    }
    assert record.busy["dram"] == (32 * 3277 + 1024 * 3277 + 1024 * 103) / 3
    assert record.events_processed < events[0].events_processed / 10


@st.composite
def scalesim_runs(draw):
    """A SCALE-Sim-style config (array, dataflow, buffer sizes, per-operand bandwidths in words
    per cycle, or CALC's one interface) and one or two GEMM layers of up to a few thousand steps."""
    dims = st.integers(16, 160)
    return (
        draw(st.sampled_from([2, 4, 8])),
        draw(st.sampled_from([2, 4, 8])),
        draw(st.sampled_from(["os", "ws", "is"])),
        tuple(draw(st.sampled_from([1, 2, 8, 64, 1024])) for _ in range(3)),
        tuple(draw(st.sampled_from([1, 2, 2.5, 4, 10, 32])) for _ in range(3)),
        draw(st.lists(st.tuples(dims, dims, dims), min_size=1, max_size=2)),
        draw(st.sampled_from(["USER", "USER", "CALC"])),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalesim_runs())
def test_coalesced_scalesim_runs_equal_event_runs(run):
    """Property: imported SCALE-Sim configs of random arrays, dataflows, buffer sizes, operand
    bandwidths and GEMMs give identical cycles, steps, counters, stalls, energy and summaries
    coalesced and event by event."""
    arch, workload, mapping = _imported(*run)
    assert_identical(*_both(arch, workload, mapping))


@st.composite
def tilings(draw):
    """A GEMM and an explicit mapping of it in 27 to 512 steps (tiles a third to an eighth of each
    dim): any loop order, buffering and accounting."""
    shape = {d: draw(st.integers(16, 120)) for d in "MNK"}
    mapping = {
        "name": "p",
        "dataflow": draw(st.sampled_from(["os", "ws", "is"])),
        "tile": {d: draw(st.integers(-(-n // 8), -(-n // 3))) for d, n in shape.items()},
        "loop_order": draw(st.sampled_from(LOOP_ORDERS)),
        "edge_tiles": "partial",
        "double_buffering": draw(st.booleans()),
        "accounting": draw(st.sampled_from(["realistic", "scalesim"])),
    }
    return (shape["M"], shape["N"], shape["K"]), mapping


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tilings(),
    st.sampled_from([2, 4, 8]),
    st.sampled_from([1, 4, 64]),
    st.tuples(*[st.sampled_from([1, 2.5, 10]) for _ in range(3)]),
)
def test_explicit_tilings_on_operand_interfaces_equal_event_runs(drawn, size, sram_kb, bandwidths):
    """Property: per-operand interfaces under any tiling, loop order, buffering and accounting
    (realistic folds overlap): coalesced runs equal event-by-event runs."""
    gemm, mapping = drawn
    arch, workload, _ = _imported(
        size, size, mapping["dataflow"], (sram_kb,) * 3, bandwidths, [gemm]
    )
    try:
        coalesced, events = _both(arch, workload, mapping)
    except CapacityError:
        return  # a tile that does not fit the drawn buffers: refused either way
    assert_identical(coalesced, events)
