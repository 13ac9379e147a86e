"""Closed-form DRAM traffic of a tiled GEMM loop nest, for ranking mappings without simulating.

A tile stays resident only while consecutive iterations use it, so an operand is reloaded every
time a loop over one of its own dims (or any loop outside that) advances. `dma_moves` is the
engine's rule (a one-trip loop changes no tile); `dram_traffic`, auto's ranking, still counts
the trips outside an operand's innermost own loop even where that loop has one trip.
"""

import math

from simulator.components.systolic import OPERAND_DIMS


def trip_counts(problem: dict[str, int], tile: dict[str, int]) -> dict[str, int]:
    """Number of tiles along each dim."""
    return {d: math.ceil(problem[d] / tile[d]) for d in problem}


def operand_passes(role: str, order: list[str], trips: dict[str, int]) -> int:
    """How many times the whole operand is streamed: the trips of outer loops over other dims."""
    dims = OPERAND_DIMS[role]
    innermost_own = max(order.index(d) for d in dims)
    return math.prod(trips[d] for d in order[:innermost_own] if d not in dims)


def dram_traffic(
    problem: dict[str, int],
    tile: dict[str, int],
    order: list[str],
    in_bytes: float,
    acc_bytes: float,
    out_bytes: float,
) -> dict[str, float]:
    """DRAM bytes per operand: input and weight loads, output stores (in the precision the GEMM
    writes), partial-sum spills/reloads (in the accumulator's)."""
    trips = trip_counts(problem, tile)
    size = {role: problem[a] * problem[b] for role, (a, b) in OPERAND_DIMS.items()}
    visits = operand_passes("output", order, trips)  # visits per output tile
    return {
        "input": size["input"] * operand_passes("input", order, trips) * in_bytes,
        "weight": size["weight"] * operand_passes("weight", order, trips) * in_bytes,
        "output": size["output"] * out_bytes,
        "partial_sums": 2 * size["output"] * (visits - 1) * acc_bytes,
    }


def held_traffic(moved: dict[str, float], write_cost: float) -> float:
    """`dram_traffic`'s bytes as read bytes' worth of DRAM bus time: output stores and the spill
    half of the partial sums are writes, each `write_cost` read bytes (`Dram.held_bytes`)."""
    return sum(
        (
            moved["input"],
            moved["weight"],
            moved["output"] * write_cost,
            moved["partial_sums"] * (1 + write_cost) / 2,
        )
    )


def passes(role: str, order: list[str], trips: dict[str, int]) -> int:
    """How often the DMA streams the whole operand, as the engine walks the tiles: the trips of
    the tile loops (outermost first) outside its innermost loop that actually iterates (a
    one-trip loop changes no tile)."""
    dims = OPERAND_DIMS[role]
    own = [i for i, d in enumerate(order) if d in dims and trips[d] > 1]
    if not own:
        return 1
    return math.prod(trips[d] for d in order[: max(own)] if d not in dims)


def dma_moves(problem: dict[str, int], tile: dict[str, int], order: list[str]) -> dict[str, int]:
    """Elements the DMA moves between DRAM and the buffers, as the engine moves them: input and
    weight loads, final output stores, and partial-sum spills (each also reloaded)."""
    trips = trip_counts(problem, tile)
    size = {role: problem[a] * problem[b] for role, (a, b) in OPERAND_DIMS.items()}
    return {
        "input": size["input"] * passes("input", order, trips),
        "weight": size["weight"] * passes("weight", order, trips),
        "output": size["output"],
        "spills": size["output"] * (passes("output", order, trips) - 1),
    }
