"""What the engine records while it runs: counters, busy time, stalls per unit, per-op spans."""

from collections import defaultdict
from dataclasses import dataclass, field


def _nested():
    return defaultdict(lambda: defaultdict(int))


@dataclass
class Record:
    """Owned by one engine run; components never hold results themselves."""

    counts: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    """(op, component, action) -> count (MACs, bytes, elements)."""
    busy: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    """component -> cycles it was doing work (compute units: excluding SRAM-port stretch)."""
    interface_busy: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """operand -> cycles its own DRAM interface was held (per-operand interfaces; whole cycles,
    so sums are exact: the DRAM's busy share is booked from them once the run ends)."""
    unit_stalls: dict[str, dict[str, int]] = field(default_factory=_nested)
    """compute unit -> cause -> cycles it sat idle or stretched; busy + stalls = total cycles."""
    op_busy: dict[str, dict[str, int]] = field(default_factory=_nested)
    """op -> component -> cycles of work for that op (the DRAM entry is bus time)."""
    op_stalls: dict[str, dict[str, int]] = field(default_factory=_nested)
    """op -> cause -> stall cycles on the op's own (primary) unit."""
    op_dram: dict[str, dict[str, int]] = field(default_factory=_nested)
    """op -> transfer kind (load, reload, store, spill) -> DRAM bytes."""
    op_noc: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """op -> bytes sent core-to-core over the NoC (DRAM traffic crossing the NoC is in op_dram)."""
    link_bytes: dict[tuple, int] = field(default_factory=lambda: defaultdict(int))
    """NoC link -> bytes it carried."""
    link_busy: dict[tuple, float] = field(default_factory=lambda: defaultdict(float))
    """NoC link -> cycles it was held."""
    l2_bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Shared L2: bytes of load hits, load misses and writes."""
    hop_bytes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    """hops -> bytes that travelled that many hops (the hop-count histogram)."""
    op_start: dict[str, int] = field(default_factory=dict)
    """op -> cycle its first load was issued (after the ops it depends on had finished)."""
    op_end: dict[str, int] = field(default_factory=dict)
    """op -> cycle its last write-back landed."""
    events: list[tuple[str, str, str, int, int]] | None = None  # (track, name, op, start, end)
    stall_marks: list[tuple[str, str, int, int]] | None = None
    """(unit, cause, cycle, cycles): stall cycles of a cause counted at that cycle (the end of the
    gap or stretch; a memoized run's correction may be negative). Kept only when tracing."""
    steps: int = 0
    cycles: int = 0
    events_processed: int = 0

    def stall(self, unit: str, cycle: float, causes: dict[str, int]) -> None:
        """Note stall cycles by cause that `unit` ended at `cycle` (kept only when tracing)."""
        if self.events is not None:
            if self.stall_marks is None:
                self.stall_marks = []
            self.stall_marks += [(unit, c, int(cycle), n) for c, n in causes.items() if n]

    def interval(self, track: str, name: str, op: str, start: float, end: float) -> None:
        """Note a busy interval of `track` for the timeline (kept only when tracing)."""
        if self.events is not None and end > start:
            self.events.append((track, name, op, int(start), int(end)))
