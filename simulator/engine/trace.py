"""What the engine records while it runs: counters, busy intervals, stalls and per-op spans."""

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Record:
    """Owned by one engine run; components never hold results themselves."""

    counts: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    """(op, component, action) -> count (MACs, bytes)."""
    busy: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    stalls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    op_end: dict[str, int] = field(default_factory=dict)
    op_compute: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    op_dram: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    op_dram_busy: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    op_stalls: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    events: list[tuple[str, str, str, int, int]] | None = None  # (track, name, op, start, end)
    steps: int = 0
    events_processed: int = 0
    cycles: int = 0

    def interval(self, track: str, name: str, op: str, start: float, end: float) -> None:
        """Note a busy interval of `track` for the timeline (kept only when tracing)."""
        if self.events is not None and end > start:
            self.events.append((track, name, op, int(start), int(end)))
