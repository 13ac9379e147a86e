"""How a report shows itself in a REPL or a notebook: one line, or its headline as an HTML table.

A report holds its machine, program and engine record, so the dataclass's own repr printed
hundreds of kilobytes (420 kB for a small GEMM on a100-like); the full tables stay attributes.
"""

from html import escape

# summary key -> (label, formatter of its value); shown where a report's summary has the key
_HEADLINE = (
    ("cycles", "cycles", lambda v: f"{v:,}"),
    ("seconds", "time", lambda v: seconds(v)),
    ("energy_pj", "energy", lambda v: si(v * 1e-12, "J")),
    ("mac_utilization", "MAC utilization", lambda v: f"{v:.1%}"),
    ("dram_bytes", "DRAM traffic", lambda v: si(v, "B")),
    ("area_mm2", "area", lambda v: f"{v:,.2f} mm²"),
    ("chips", "chips", lambda v: str(v)),
    ("spikes", "spikes", lambda v: f"{v:,}"),
    ("synaptic_ops", "synaptic ops", lambda v: f"{v:,}"),
    ("numerics_ok", "numerics", lambda v: {None: "off", True: "OK", False: "MISMATCH"}[v]),
)


def si(value: float, unit: str) -> str:
    """A value with an SI prefix from tera down to pico, e.g. 4.05 µJ."""
    prefixes = (
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
    )
    for factor, prefix in prefixes:
        if abs(value) >= factor:
            return f"{value / factor:,.3g} {prefix}{unit}"
    return f"{value / 1e-12:,.3g} p{unit}" if value else f"0 {unit}"


def seconds(value: float) -> str:
    """A duration in s, ms, µs or ns with four significant digits."""
    for factor, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= factor:
            return f"{value / factor:,.4g} {unit}"
    return f"{value / 1e-9:,.4g} ns"


def headline(summary: dict) -> list[tuple[str, str]]:
    """(label, value) of the headline numbers a summary has, in a fixed order."""
    return [(label, shown(summary[key])) for key, label, shown in _HEADLINE if key in summary]


class Shown:
    """Mixin for the report dataclasses (declared with repr=False): a one-line repr and a
    notebook's HTML headline, both from `self.summary`."""

    def __repr__(self) -> str:
        s = self.summary
        numbers = ", ".join(f"{label} {value}" for label, value in headline(s)[:4])
        return f"<{type(self).__name__} {s['arch']} × {s['workload']}: {numbers}>"

    def _repr_html_(self) -> str:
        s = self.summary
        rows = "".join(
            f"<tr><td style='text-align:left'>{escape(label)}</td>"
            f"<td style='text-align:right'>{escape(value)}</td></tr>"
            for label, value in headline(s)
        )
        title = escape(f"{type(self).__name__}: {s['arch']} × {s['workload']}")
        return (
            f"<table><caption style='text-align:left'><b>{title}</b></caption>{rows}</table>"
            "<p>Everything else: <code>.summary</code> (a dict) and the report's tables.</p>"
        )
