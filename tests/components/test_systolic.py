"""Fold timing of the systolic array, derived by hand from SCALE-Sim's published model."""

import pytest

from simulator.components import build_machine
from simulator.spec import load_arch
from tests.conftest import tiny_arch


def array(rows=8, cols=8):
    return build_machine(load_arch(tiny_arch(rows, cols))).components["pe"]


# GEMM M=20, N=16, K=8 on an 8x8 array.
# os: rows M, cols N, T=K: folds ceil(20/8)*ceil(16/8)=6, each K+R+C-2 = 22        -> 132
# ws: rows K, cols N, T=M: folds 1*2=2, each M+2R+C-2 = 20+16+8-2 = 42              -> 84
# is: rows K, cols M, T=N: folds 1*3=3, each N+2R+C-2 = 16+16+8-2 = 38              -> 114
@pytest.mark.parametrize(
    "dataflow, spatial, cycles, folds",
    [
        ("os", ("M", "N"), 132, 6),
        ("ws", ("K", "N"), 84, 2),
        ("is", ("K", "M"), 114, 3),
    ],
)
def test_scalesim_fold_cycles(dataflow, spatial, cycles, folds):
    cost = array().tile_cost(
        {"M": 20, "N": 16, "K": 8}, spatial, dataflow, "scalesim", True, dtype="int8"
    )
    assert (cost.cycles, cost.folds, cost.macs) == (cycles, folds, 20 * 16 * 8)


# realistic: stationary preload R (ws/is only) + folds * max(T, R) + R + C - 2
# os: 0 + 6*max(8, 8) + 14 = 62; ws: 8 + 2*max(20, 8) + 14 = 62; is: 8 + 3*max(16, 8) + 14 = 70
@pytest.mark.parametrize(
    "dataflow, spatial, cycles",
    [
        ("os", ("M", "N"), 62),
        ("ws", ("K", "N"), 62),
        ("is", ("K", "M"), 70),
    ],
)
def test_realistic_fold_cycles(dataflow, spatial, cycles):
    cost = array().tile_cost(
        {"M": 20, "N": 16, "K": 8}, spatial, dataflow, "realistic", True, dtype="int8"
    )
    assert cost.cycles == cycles


# the same hand counts through tile_cycles (the auto mapper's ranking), and a scalesim tile that
# continues its folds pays T alone per fold: os 6 folds x K=8 = 48, ws 2 x M=20 = 40
@pytest.mark.parametrize(
    "dataflow, spatial, accounting, continues, cycles",
    [
        ("os", ("M", "N"), "scalesim", False, 132),
        ("is", ("K", "M"), "scalesim", False, 114),
        ("os", ("M", "N"), "scalesim", True, 48),
        ("ws", ("K", "N"), "scalesim", True, 40),
        ("ws", ("K", "N"), "realistic", False, 62),
        ("is", ("K", "M"), "realistic", True, 70),
    ],
)
def test_tile_cycles_alone(dataflow, spatial, accounting, continues, cycles):
    extent = {"M": 20, "N": 16, "K": 8}
    assert (
        array().tile_cycles(extent, spatial, dataflow, accounting, continues, dtype="int8")
        == cycles
    )


def test_non_square_array_swaps_roles_of_rows_and_cols():
    # 4 rows x 16 cols, ws, M=10 N=16 K=8: folds ceil(8/4)*ceil(16/16)=2, each 10 + 8 + 16 - 2 = 32
    cost = array(4, 16).tile_cost(
        {"M": 10, "N": 16, "K": 8}, ("K", "N"), "ws", "scalesim", True, dtype="int8"
    )
    assert cost.cycles == 64


def test_sram_accesses_follow_scalesim_counts():
    # ws on 8x8, M=20 N=16 K=16: ifmap reads M*K*ceil(N/C) = 20*16*2, filter reads K*N = 256,
    # ofmap writes M*N*ceil(K/R) = 20*16*2; partial sums read back once between the two K folds.
    cost = array().tile_cost(
        {"M": 20, "N": 16, "K": 16}, ("K", "N"), "ws", "scalesim", True, dtype="int8"
    )
    assert cost.reads == {"input": 640, "weight": 256, "output": 320}
    assert cost.writes == {"output": 640}


def test_array_clock_converts_to_reference_cycles():
    spec = tiny_arch()
    spec["components"]["pe"]["clock"] = "350 MHz"  # half the 700 MHz reference clock
    pe = build_machine(load_arch(spec)).components["pe"]
    cost = pe.tile_cost(
        {"M": 20, "N": 16, "K": 8}, ("K", "N"), "ws", "scalesim", True, dtype="int8"
    )
    assert cost.cycles == 2 * 84
    assert pe.peak_macs_per_cycle == 32


def test_timing_key_tells_apart_arrays_whose_tile_times_differ():
    """The memoized tile timings (auto's compute estimate) key on `timing_key`: arrays of one
    shape and clock share it; a different shape or an array clock of its own (its tile cycles
    rescaled to the chip's) does not."""
    base = array().timing_key
    assert array().timing_key == base
    assert array(8, 16).timing_key != base and array(16, 8).timing_key != base
    arch = tiny_arch()
    arch["components"]["pe"]["clock"] = "350 MHz"
    slow = build_machine(load_arch(arch)).components["pe"]
    assert slow.tile_cost(
        {"M": 8, "N": 8, "K": 8}, ("K", "N"), "ws", "realistic", True, dtype="int8"
    ).cycles != (
        array()
        .tile_cost({"M": 8, "N": 8, "K": 8}, ("K", "N"), "ws", "realistic", True, dtype="int8")
        .cycles
    )
    assert slow.timing_key != base
