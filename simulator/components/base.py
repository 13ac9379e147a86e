"""The face every hardware component shares: area, static power, energy per action."""

import math

from simulator.errors import UnsupportedError


class Component:
    """A named piece of hardware; subclasses set `actions` (action -> pJ per count)."""

    kind = ""
    # True where the per-action energies come from published total powers, which already hold the
    # part's leakage: the chip model then adds no area-based leakage on top
    leakage_in_actions = False

    def __init__(self, name: str, clock_hz: float, ref_clock_hz: float):
        self.name = name
        self.clock_hz = clock_hz
        self.ref_clock_hz = ref_clock_hz
        self.actions: dict[str, float] = {}

    def area_mm2(self) -> float:
        """On-chip area of the component."""
        return 0.0

    def leakage_mw(self) -> float:
        """Static power while the chip is on."""
        return 0.0

    def rate(self, dtype: str) -> int:
        """MACs per PE per cycle at `dtype`, relative to `peak_macs_per_cycle` (1 but for a MAC
        array whose spec sets a faster rate for narrow types)."""
        return 1

    def fastest_rate(self, dtypes) -> int:
        """The largest `rate` among precisions `dtypes` (1 with none): a run's peak at the
        precisions its MACs use."""
        return max((self.rate(d) for d in dtypes), default=1)

    def energy_pj(self, action: str) -> float:
        """Energy of one count of `action` (one MAC, one byte read, ...)."""
        try:
            return self.actions[action]
        except KeyError:
            raise UnsupportedError(
                f"{self.name} ({self.kind}) has no action {action!r}; it has: {', '.join(self.actions)}"
            ) from None

    def to_ref_cycles(self, own_cycles: float) -> int:
        """Convert a duration in this component's clock to cycles of the reference clock."""
        return math.ceil(own_cycles * self.ref_clock_hz / self.clock_hz - 1e-9)
