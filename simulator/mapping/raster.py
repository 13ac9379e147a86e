"""The order a GPU launches a GEMM's output tiles (CTAs) in, and the DRAM bytes that order costs
under an LRU L2.

cuBLAS and CUTLASS do not launch tiles M-row by M-row: CUTLASS's persistent tile scheduler
(`cutlass/gemm/kernel/tile_scheduler_params.h`, `PersistentTileSchedulerSm90Params` on Hopper,
`...Sm100Params` on Blackwell) rasterises along M when the grid has more tiles along N than along M and
along N otherwise (`get_rasterization_order`, `RasterOrderOptions::Heuristic`), and swizzles:
consecutive tiles walk a group of 1, 2, 4 or 8 rows (or columns) of tiles together, the kernel's
`max_swizzle_size` as far as the smaller grid side allows (`get_log_swizzle_size`: 8 from 6
tiles, 4 from 3, 2 from 2).
Triton's matmul tutorial groups 8 rows the same way (`GROUP_SIZE_M`) and CUTLASS 2's
`GemmIdentityThreadblockSwizzle<8>` 8 columns: the tiles in flight then share few A rows and B
columns, and the L2 serves them again. The group width is an argument of the kernel
(CUTLASS's `max_swizzle_size`; cuBLASLt's `CUBLASLT_MATMUL_ALGO_CONFIG_CTA_SWIZZLING`) that the
library's heuristics set per shape with the tile, so the grid search picks it here too
(`cta.choose_grid`): the width with the fewest DRAM bytes, the widest on a tie; the raster is
CUTLASS's heuristic's.

Hopper's and Blackwell's schedulers differ at the grid's edges. Blackwell's
(`PersistentTileSchedulerSm100Params`, `sm100_tile_scheduler.hpp`'s `swizzle_and_rasterize`,
b200-like's kernels) picks the raster on the grid as it is and remaps only the part of it that
the swizzle size divides, its residual tiles left in place; Hopper's (`...Sm90Params`) first
rounds the grid up to a multiple of the width (so 7 x 8 tiles at width 8 raster along N there)
and runs the ids past its edge as tiles whose loads all fall outside the operands. The raster
here is Blackwell's; the widths are Hopper's rule, the last group narrower where they do not
divide the grid, and no id past the edge runs.
"""

import math
from collections import OrderedDict
from functools import lru_cache

GROUPS = ((8, 6), (4, 3), (2, 2), (1, 1))  # (group width, fewest tiles along the smaller side)


def along_m(tiles_m: int, tiles_n: int) -> bool:
    """CUTLASS's heuristic raster: consecutive tiles walk down M (a column of tiles) when the grid
    has more tiles along N than along M."""
    return tiles_n > tiles_m


def orders(tiles_m: int, tiles_n: int) -> list[tuple[bool, int]]:
    """The (along M, group width) launch orders CUTLASS runs a tiles_m x tiles_n grid in: its
    heuristic raster (`along_m`) with each group width its `get_log_swizzle_size` allows for a
    largest size asked (8 from 6 tiles along the smaller side, 4 from 3, 2 from 2), widest
    first."""
    smaller = min(tiles_m, tiles_n)
    down = along_m(tiles_m, tiles_n)
    return [(down, width) for width, least in GROUPS if smaller >= least]


def tile_order(tiles_m: int, tiles_n: int, down: bool, width: int) -> list[tuple[int, int]]:
    """The grid's (M index, N index) tiles in launch order: along N (not `down`), groups of
    `width` tile rows one after another, each walked column by column, the group's rows of a
    column consecutive; along M the same with rows and columns swapped (the ids CUTLASS rounds
    the grid up to, past its edge, launch nothing and are left out)."""
    major, minor = (tiles_m, tiles_n) if down else (tiles_n, tiles_m)
    order = []
    for group in range(0, minor, width):
        for i in range(major):
            for j in range(group, min(group + width, minor)):
                order.append((i, j) if down else (j, i))
    return order


def wave_blocks(start: int, end: int, major: int, minor: int, width: int):
    """The major and minor tile indices of `tile_order`'s tiles start ... end - 1 (a wave), with
    `major` tiles along the walked side, `minor` across it: (major indices, minor indices)."""
    majors: set[int] = set()
    minors: set[int] = set()
    per_group = width * major
    while start < end:
        first = start // per_group * width  # the group's first minor index
        wide = min(width, minor - first)
        offset, stop = start - first * major, min(end - first * major, wide * major)
        majors.update(range(offset // wide, (stop - 1) // wide + 1))
        if stop - offset >= wide:
            minors.update(range(first, first + wide))
        else:
            minors.update(first + q % wide for q in range(offset, stop))
        start = first * major + stop
    return majors, minors


@lru_cache(maxsize=1024)
def wave_traffic(
    shape: tuple[int, int, int],
    tile: tuple[int, int],
    order: tuple[bool, int],
    per_wave: int,
    sizes: tuple[float, float],
    capacity: int,
) -> tuple[float, float]:
    """DRAM (read, written) bytes of an M x N x K GEMM's tm x tn tiles launched in `order`
    (`tile_order`'s along M and group width), `per_wave` at once, A and B `sizes[0]` bytes an
    element and C `sizes[1]`, under an LRU L2 of `capacity` bytes that keeps what is read and
    written. A tile reads its A row block (tm x K) and B column block (K x tn) and writes its C
    tile. The tiles of one wave load their blocks K-chunk by K-chunk together: a block two of
    them share is read once, and a block an earlier wave left in the L2 is a hit. A wave whose
    blocks and C tiles outgrow the L2 leaves none of them for the next (their first K-chunks
    went first: the next wave misses them chunk by chunk, the cyclic LRU pattern). Without an
    L2 (`capacity` 0) every tile reads its own blocks."""
    M, N, K = shape
    tm, tn = tile
    in_bytes, out_bytes = sizes
    tiles_m, tiles_n = math.ceil(M / tm), math.ceil(N / tn)
    a, b, c = M * K * in_bytes, K * N * in_bytes, M * N * out_bytes
    if capacity <= 0:
        return a * tiles_n + b * tiles_m, c
    if a + b + c <= capacity:
        return a + b, c
    down, width = order
    block = {  # (operand, index) -> bytes; edge blocks are narrower
        **{("A", m): min(tm, M - m * tm) * K * in_bytes for m in range(tiles_m)},
        **{("B", n): min(tn, N - n * tn) * K * in_bytes for n in range(tiles_n)},
    }
    major, minor = ("A", "B") if down else ("B", "A")
    extents = (tiles_m, tiles_n) if down else (tiles_n, tiles_m)
    tiles = tiles_m * tiles_n
    lines: OrderedDict[tuple, float] = OrderedDict()
    used = read = 0.0
    for start in range(0, tiles, per_wave):
        stop = min(start + per_wave, tiles)
        majors, minors = wave_blocks(start, stop, *extents, width)
        keys = [(major, i) for i in majors] + [(minor, j) for j in minors]
        for key in keys:
            if key in lines:
                lines.move_to_end(key)
            else:
                read += block[key]
                lines[key] = block[key]
                used += block[key]
        stored = c * (stop - start) / tiles  # the wave's C tiles, at their mean size
        lines[("C", start)] = stored
        used += stored
        if sum(block[key] for key in keys) + stored > capacity:
            lines.clear()
            used = 0.0
        while used > capacity:
            _, size = lines.popitem(last=False)
            used -= size
    return read, c
