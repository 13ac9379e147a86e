"""A segment that holds a second unit (a softmax not overlapping the matmuls keeps the array
waiting): by hand, the step runs serially and nothing else uses the held unit meanwhile."""

from simulator.components import build_machine
from simulator.engine.memo import execute
from simulator.mapping.program import Compute, OpProgram, Program, Step
from simulator.spec import load_arch

MM1, SOFTMAX, MM2 = 100, 50, 100  # cycles of QK^T on the array, the softmax, PV


def _arch():
    return {
        "name": "held-test",
        "clock": "1 GHz",
        "components": {
            "mxu": {"kind": "systolic_array", "rows": 8, "cols": 8},
            "vpu": {"kind": "vector", "lanes": 8},
            "buf": {"kind": "sram", "capacity": "1 MiB", "banks": 8, "width": "64 B"},
            "dram": {"kind": "dram", "technology": "hbm2e", "bandwidth": "100 GB/s"},
        },
    }


def _run(blocks: int, holds: tuple[str, ...]):
    """`blocks` steps of mm1 (mxu), softmax (vpu, holding `holds`), mm2 (mxu); no DMA."""
    step = Step(
        (),
        (
            Compute("mxu", MM1, (), 0, (), {}),
            Compute("vpu", SOFTMAX, (), 0, (), {}, holds=holds),
            Compute("mxu", MM2, (), 0, (), {}),
        ),
        (),
        (),
    )
    op = OpProgram("attn", "hand", lambda: iter([step] * blocks), 0, 0, "mxu", True, False)
    return execute(Program((op,)), build_machine(load_arch(_arch())), memoize=False)


def test_one_block_is_the_sum_of_its_segments_either_way():
    # One step: its segments depend on each other, so mm1 + softmax + mm2 with or without holding.
    assert _run(1, ()).cycles == MM1 + SOFTMAX + MM2
    assert _run(1, ("mxu",)).cycles == MM1 + SOFTMAX + MM2


def test_a_held_array_runs_no_other_block_during_the_softmax():
    # Overlapped, block a's softmax runs under block b's mm1 and b's under a's mm2: the array
    # never waits, 2 * (mm1 + mm2). Held, every softmax is on the path.
    assert _run(2, ()).cycles == 2 * (MM1 + MM2)
    held = _run(2, ("mxu",))
    assert held.cycles == 2 * (MM1 + SOFTMAX + MM2)
    assert held.busy["mxu"] == 2 * (MM1 + MM2)  # held is not busy: it waits for the vector unit
    assert held.unit_stalls["mxu"]["waiting_vpu"] == 2 * SOFTMAX
