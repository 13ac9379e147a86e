"""DRAM `write_cost`: a written byte holds the DRAM `write_cost` times as long as a read byte
(the bus turnarounds of a stream mixing reads and writes); reads are untouched. Checked by hand
on a copy, whose reads and writes are the same bytes, on a GPU-like chip's fine-interleaved pool
and on a single core's plain bus."""

import copy
import math

import pytest

import simulator
from simulator.spec import load_arch
from tests.mapping.test_cta import gpu_doc

ROWS, COLS = 64, 512  # a 64 KB fp16 copy


def _copy():
    op = {"kind": "concat", "name": "c", "rows": ROWS, "cols": COLS, "dtype": "fp16"}
    return {"name": "c", "ops": [op]}


@pytest.mark.parametrize("cost", [1.0, 1.28, 2.0])
def test_a_copy_holds_the_dram_for_its_reads_and_its_costlier_writes(cost):
    """4 SMs copy 16 rows each, one step (16 x 512 x 2 = 16,384 B in, as many out), with the NoC
    ports and shared memory never binding. 1000 GB/s at 1 GHz is 1000 B a cycle: each load holds
    the pool ceil(16.384) cycles, each store ceil(16.384 x cost)."""
    doc = copy.deepcopy(gpu_doc())
    doc["components"]["hbm"]["write_cost"] = cost
    doc["components"]["xbar"]["link_bandwidth"] = "1e40 B/s"
    doc["cores"]["components"]["smem"]["banks"] = 2**62
    report = simulator.simulate(load_arch(doc), _copy())
    assert {row["map_rows_per_step"] for row in report.op_rows()} == {16}
    step = 16 * COLS * 2 / 1000
    assert report.record.busy["hbm"] == 4 * (math.ceil(step) + math.ceil(step * cost))


def test_writes_cost_more_on_a_plain_bus_too():
    """edge-npu (one core, DRAM on a plain bus): doubling the write cost adds the writes' bus
    time once more (65,536 B at the bus's bytes per cycle), the reads' stays."""
    base = simulator.simulate(simulator.load_arch("edge-npu"), _copy())
    arch = simulator.load_arch("edge-npu", [(["components", "dram", "write_cost"], 2.0)])
    dearer = simulator.simulate(arch, _copy())
    extra = dearer.record.busy["dram"] - base.record.busy["dram"]
    assert extra == pytest.approx(ROWS * COLS * 2 / base.machine.dram.bytes_per_cycle, abs=1)
