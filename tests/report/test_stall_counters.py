"""Stall counters in the trace: per compute unit and cause, the stall cycles counted so far; by
hand on a one-byte-per-cycle array, and ending at the report's stalls on memoized and multi-core
runs."""

import simulator
from simulator.components import build_machine
from simulator.engine.memo import execute
from simulator.mapping.program import Compute, OpProgram, Program, Step, Transfer
from simulator.spec import load_arch, load_workload
from tests.conftest import tiny_arch

SINGLE_TILE = {"dataflow": "os", "tile": {"M": 8, "N": 16, "K": 8}, "accounting": "scalesim"}


def _counters(report) -> dict[tuple[int, str], list[tuple[float, dict]]]:
    """(pid, unit) -> [(cycle, values by cause)] of each '<unit> stall cycles' track."""
    us_per_cycle = 1e6 / report.clock_hz
    tracks: dict[tuple[int, str], list] = {}
    for e in report.chrome_trace()["traceEvents"]:
        if e["ph"] == "C" and e["name"].endswith(" stall cycles"):
            key = (e["pid"], e["name"].removesuffix(" stall cycles"))
            tracks.setdefault(key, []).append((round(e["ts"] / us_per_cycle), e["args"]))
    return tracks


def test_a_one_tile_gemm_by_hand():
    """DRAM and SRAM move 1 B/cycle: the array waits for A and B (64 + 128 B: a fill of 192
    cycles), computes 44 cycles stretched to the 768 its SRAM traffic takes (724 of SRAM
    bandwidth), then waits while C's 512 B are written back (drain)."""
    report = simulator.simulate(
        tiny_arch(width="1 B"), "gemm:M=8,N=16,K=8,dtype=int8", SINGLE_TILE, trace=True
    )
    ((_, points),) = _counters(report).items()
    assert points == [
        (0, {"drain": 0, "fill": 0, "sram_bandwidth": 0}),
        (192, {"drain": 0, "fill": 192, "sram_bandwidth": 0}),
        (192 + 768, {"drain": 0, "fill": 192, "sram_bandwidth": 724}),
        (192 + 768 + 512, {"drain": 512, "fill": 192, "sram_bandwidth": 724}),
    ]


def _assert_counters_end_at_the_report(report):
    tracks = _counters(report)
    events = report.chrome_trace()["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    ended = {}
    for (pid, unit), points in tracks.items():
        process = names[pid]
        full = unit if process == "chip" else f"core{process.split()[1]}.{unit}"
        ended[full] = {cause: value for cause, value in points[-1][1].items() if value}
        totals = [sum(values.values()) for _, values in points]
        assert all(a <= b for a, b in zip(totals, totals[1:]))  # stalls never un-happen
        assert all(total <= cycle for (cycle, _), total in zip(points, totals))  # nor outrun time
    report_stalls = {
        unit: {cause: cycles for cause, cycles in causes.items() if cycles}
        for unit, causes in report.record.unit_stalls.items()
    }
    assert ended == {unit: causes for unit, causes in report_stalls.items() if causes}
    primary = report.summary["stall_cycles_by_cause"]
    assert ended.get(report.primary_unit, {}) == primary


def test_memoized_layers_end_at_the_report_stalls():
    """Four identical decode layers: one is simulated, three are copied, and each copy's first
    gap is re-attributed (fill becomes a DRAM wait): the counters follow."""
    workload = load_workload("llama-2-7b-decode", [(["layers"], 4)])
    report = simulator.simulate("datacenter-hbm", workload, numerics=False, trace=True)
    assert report.record.unit_stalls[report.primary_unit]["dram_bandwidth"] > 0
    _assert_counters_end_at_the_report(report)


def test_multicore_counters_end_at_each_core_stalls():
    report = simulator.simulate("mesh-4x4", "gemm-256", "split-mn", numerics=False, trace=True)
    _assert_counters_end_at_the_report(report)


def _hand_op(name, steps):
    """A single-core op on `pe` from (bytes loaded, compute cycles) steps; no SRAM traffic."""
    built = [
        Step(
            (Transfer("load", name, ((i, i + 1),), "buf", nbytes, nbytes),) if nbytes else (),
            (Compute("pe", cycles, (), 0, (), {}),),
            (),
            (("buf", nbytes),),
        )
        for i, (nbytes, cycles) in enumerate(steps)
    ]
    return OpProgram(name, "hand", lambda: iter(built), 0, 0, "pe", True, False)


def test_an_op_starting_without_a_gap_is_started_by_hand():
    """DRAM moves 1 B/cycle. a loads 100 B (cycles 0-100) and computes 100 (100-200): a fill of
    100. b's first step loads nothing, so it queues behind a and computes 200-250 with no gap: b
    has started. Its second step's 300 B load from cycle 100 to 400, so the array idles 250-400:
    150 cycles of DRAM bandwidth (b's first segment is behind it), not a second fill."""
    machine = build_machine(load_arch(tiny_arch()))
    a = _hand_op("a", [(100, 100)])
    b = _hand_op("b", [(0, 50), (300, 50)])
    record = execute(Program((a, b)), machine, memoize=False)
    assert record.cycles == 450
    assert _nonzero(record.unit_stalls["pe"]) == {"fill": 100, "dram_bandwidth": 150}
    assert _nonzero(record.op_stalls["a"]) == {"fill": 100}
    assert _nonzero(record.op_stalls["b"]) == {"dram_bandwidth": 150}


def _nonzero(causes):
    return {cause: cycles for cause, cycles in causes.items() if cycles}
