"""SCALE-Sim 3.0.0's per-layer metrics, defined as SCALE-Sim defines them (docs/scalesim-notes.md).

SCALE-Sim walks one demand row per cycle: a layer of F folds of c cycles each reports
Total = F c - 1 + Stall (its last row's index), so its compute cycles are F c - 1. Before cycle 0
it prefetches up to the active half of each read SRAM; when an operand fits whole, none of its
reads can stall and its whole load is prefetch, outside Total.
"""

import math


def prefetch_matrix_words(dataflow: str, m: int, n: int, k: int, rows: int, cols: int) -> tuple:
    """(ifmap, filter) words SCALE-Sim's prefetch matrices hold, padding included."""
    if dataflow == "os":
        return math.ceil(m / rows) * rows * k, math.ceil(n / cols) * cols * k
    if dataflow == "ws":
        return m * math.ceil(k / rows) * rows, k * math.ceil(n / cols) * cols
    return math.ceil(m / cols) * cols * k, math.ceil(k / rows) * rows * n


def prefetches_whole(dataflow, shape, rows, cols, ifmap_bytes, filter_bytes) -> bool:
    """Whether both read operands fit the active half of their SRAM (one-byte words)."""
    ifmap, filter_ = prefetch_matrix_words(dataflow, *shape, rows, cols)
    return ifmap <= math.ceil(ifmap_bytes / 2) and filter_ <= math.ceil(filter_bytes / 2)


def layer_metrics(name, macs, busy, stalls, whole, macs_per_cycle) -> dict:
    """One layer's COMPUTE_REPORT figures from accsim's busy cycles and stalls by cause. The
    initial fill and the final write-back are outside Total (as in SCALE-Sim), and so are waits
    for DRAM when both read operands were prefetched whole. Utilization is against the array's
    MACs per cycle at the layer's precision (R x C x its `rate`; SCALE-Sim's R x C at rate 1)."""
    prefetched = ("fill", "drain", "dram_bandwidth") if whole else ("fill", "drain")
    stall = sum(v for cause, v in stalls.items() if cause not in prefetched)
    compute = max(busy - 1, 0)
    total = compute + stall
    prefetch = stalls.get("fill", 0) + (stalls.get("dram_bandwidth", 0) if whole else 0)
    return {
        "name": name,
        "compute_cycles": compute,
        "stall_cycles": stall,
        "total_cycles": total,
        "prefetch_cycles": prefetch,
        "total_cycles_incl_prefetch": total + prefetch,
        "overall_util_pct": 100 * macs / (total * macs_per_cycle) if total else None,
    }
