"""plotly figures of reports and sweep results: energy, area and power, timeline, roofline,
utilization, Pareto.

Every function returns a `plotly.graph_objects.Figure` and only reads what the Report or the
results DataFrame already hold; nothing here simulates.
"""

import importlib.util
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from simulator.errors import UnsupportedError, a_or_an
from simulator.report import Report
from simulator.report.spiking import SpikingReport

PARAMETER_PREFIXES = ("arch.", "workload.", "mapping.")


def energy_breakdown(report: Report, by: str = "component") -> go.Figure:
    """Stacked bars of energy: one bar per component, stacked by action (by='op': per op, by component)."""
    _report(report, "energy_breakdown", (Report, SpikingReport))
    if by not in ("component", "op"):
        raise UnsupportedError(f"energy_breakdown: by must be 'component' or 'op', got {by!r}")
    stack = "action" if by == "component" else "component"
    table = report.energy.pivot_table(
        index=by, columns=stack, values="energy_pj", aggfunc="sum", fill_value=0.0, sort=False
    )
    fig = go.Figure(
        [
            go.Bar(
                name=str(part),
                x=list(table.index),
                y=table[part] * 1e-6,
                hovertemplate=f"%{{x}} · {part}: %{{y:.4g}} µJ<extra></extra>",
            )
            for part in table.columns
        ]
    )
    fig.update_layout(
        barmode="stack",
        title=f"Energy by {by} and {stack}: {report.arch_name} × {report.workload_name}",
        xaxis_title=by,
        yaxis_title="energy (µJ)",
        legend_title=stack,
    )
    return fig


def sunburst(report: Report, what: str = "area") -> go.Figure:
    """Sunburst of the die area (mm²) or the run's energy (µJ): component, then part. The cores of
    a multi-core chip are folded into one ring entry per core component ('core*.tc')."""
    _report(report, "sunburst")
    if what not in ("area", "energy"):
        raise UnsupportedError(f"sunburst: what must be 'area' or 'energy', got {what!r}")
    if what == "area":
        table, value, unit, scale = report.area[report.area.on_die], "area_mm2", "mm²", 1.0
    else:
        table, value, unit, scale = report.energy, "energy_pj", "µJ", 1e-6
    folded = table.assign(
        component=table.component.str.replace(r"^core\d+\.", "core*.", regex=True)
    )
    sums = folded.groupby(["component", "part"], sort=True)[value].sum() * scale
    sums = sums[sums > 0]
    comps = sums.groupby(level=0).sum()
    ids = list(comps.index) + [f"{c}/{p}" for c, p in sums.index]
    fig = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=list(comps.index) + [p for _, p in sums.index],
            parents=[""] * len(comps) + [c for c, _ in sums.index],
            values=list(comps.values) + list(sums.values),
            branchvalues="total",
            hovertemplate=f"%{{label}}: %{{value:.4g}} {unit}<extra></extra>",
        )
    )
    total = float(comps.sum())
    fig.update_layout(
        title=f"{what.capitalize()} by component and part: {report.arch_name} ({total:.4g} {unit})"
    )
    return fig


def power_timeline(report: Report) -> go.Figure:
    """Power over the run (W): dynamic (each op's energy over its span) stacked on static."""
    _report(report, "power_timeline")
    line = report.power_timeline
    mid_us = (line.start_s + line.end_s) * 0.5e6
    fig = go.Figure(
        [
            go.Scatter(x=mid_us, y=line.static_w, name="static", stackgroup="power"),
            go.Scatter(x=mid_us, y=line.dynamic_w, name="dynamic", stackgroup="power"),
        ]
    )
    if report.power["tdp_w"]:
        fig.add_hline(y=report.power["tdp_w"], line_dash="dash", annotation_text="tdp")
    fig.update_layout(
        title=f"Power over the run: {report.arch_name} × {report.workload_name}",
        xaxis_title="time (µs)",
        yaxis_title="power (W)",
    )
    return fig


def timeline(report: Report, max_events: int = 20_000) -> go.Figure:
    """Gantt chart of the run: one row per DMA direction and compute unit, one bar per busy interval.

    Needs `simulate(..., trace=True)`; the first `max_events` intervals are drawn.
    """
    _report(report, "timeline")
    _at_least(max_events, 1, "timeline: max_events")
    if report.record.events is None:
        raise UnsupportedError("timeline: run simulate(..., trace=True) to record a timeline")
    events = pd.DataFrame(
        report.record.events[:max_events], columns=["track", "name", "op", "start", "end"]
    )
    us_per_cycle = 1e6 / report.clock_hz
    fig = go.Figure()
    for name, group in events.groupby("name", sort=True):
        fig.add_trace(
            go.Bar(
                name=str(name),
                orientation="h",
                y=group.track,
                base=group.start * us_per_cycle,
                x=(group.end - group.start) * us_per_cycle,
                customdata=np.stack([group.op, group.start, group.end], axis=1),
                hovertemplate="%{customdata[0]} "
                + str(name)
                + ": cycles %{customdata[1]:,}–%{customdata[2]:,}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="overlay",
        title=f"Timeline: {report.arch_name} × {report.workload_name}",
        xaxis_title="time (µs)",
        yaxis_title="",
        yaxis={"categoryorder": "category descending"},
    )
    return fig


def roofline(reports: Report | Sequence[Report], points: int = 200) -> go.Figure:
    """Roofline (FLOP/s against FLOP per DRAM byte, log-log) with every op of every report placed.

    The roof of each arch is min(peak FLOP/s, intensity x DRAM peak bandwidth); an op sits at its
    arithmetic intensity and the FLOP/s it achieved. Ops that moved no DRAM bytes are left out.
    """
    one = isinstance(reports, Report | str) or not isinstance(reports, Iterable)
    reports = [reports] if one else list(reports)
    if not reports:
        raise UnsupportedError("roofline: give at least one Report")
    for report in reports:
        _report(report, "roofline")
    _at_least(points, 2, "roofline: points")
    if points > ROOF_POINTS:  # each is a point of every roof line: 10^9 took minutes and gigabytes
        raise UnsupportedError(f"roofline: points: give at most {ROOF_POINTS:,}, got {points:,}")
    fig = go.Figure()
    roofs = {}
    for report in reports:
        s = report.summary
        roofs[s["arch"]] = (
            2 * s["peak_macs_per_cycle"] * s["clock_hz"],
            s["dram_peak_bandwidth_gbps"] * 1e9,
        )
    intensities = [
        i for r in reports for i in r.ops.arithmetic_intensity if np.isfinite(i) and i > 0
    ]
    low = min([*intensities, *(p / b for p, b in roofs.values())]) / 10
    high = max([*intensities, *(p / b for p, b in roofs.values())]) * 10
    x = np.geomspace(low, high, points)
    for arch, (peak, bandwidth) in roofs.items():
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.minimum(peak, x * bandwidth),
                mode="lines",
                name=f"{arch} roof",
                hovertemplate="%{x:.3g} FLOP/B → %{y:.3g} FLOP/s<extra>" + arch + "</extra>",
            )
        )
    for report in reports:
        ops = report.ops[np.isfinite(report.ops.arithmetic_intensity) & (report.ops.dram_bytes > 0)]
        achieved = _op_flops(ops) / ops.seconds.where(ops.seconds > 0)
        fig.add_trace(
            go.Scatter(
                x=ops.arithmetic_intensity,
                y=achieved,
                mode="markers+text",
                text=ops.name,
                textposition="top center",
                name=f"{report.arch_name} × {report.workload_name}",
                customdata=np.stack([ops.name, ops.bound], axis=1),
                hovertemplate="%{customdata[0]} (%{customdata[1]}-bound): "
                "%{x:.3g} FLOP/B, %{y:.3g} FLOP/s<extra></extra>",
            )
        )
    fig.update_layout(
        title="Roofline",
        xaxis={"type": "log", "title": "arithmetic intensity (FLOP per DRAM byte)"},
        yaxis={"type": "log", "title": "achieved FLOP/s"},
    )
    return fig


def utilization(report: Report) -> go.Figure:
    """Utilization per component: busy share for compute units, bandwidth share for memories."""
    _report(report, "utilization", (Report, SpikingReport))
    table = report.components
    fig = go.Figure(
        go.Bar(
            x=table.component,
            y=table.utilization * 100,
            marker_color=[_KIND_COLOURS.get(k, "#7f7f7f") for k in table.kind],
            customdata=table.kind,
            hovertemplate="%{x} (%{customdata}): %{y:.1f} %<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Utilization: {report.arch_name} × {report.workload_name}",
        xaxis_title="component",
        yaxis={"title": "utilization (%)", "range": [0, 105]},
    )
    return fig


def partition_map(report: Report) -> go.Figure:
    """The partition map: each op's busy time as a bar, coloured by where it ran (accelerator,
    host, pim, coreN); fallbacks carry their reason in the hover text."""
    _report(report, "partition_map")
    part = report.partition
    fig = go.Figure()
    for place, rows in part.groupby("place", sort=True):
        fig.add_bar(
            x=rows.op,
            y=rows.busy_cycles / report.clock_hz * 1e6,
            name=place,
            customdata=rows[["unit", "kind", "reason"]].to_numpy(),
            hovertemplate="%{x}<br>%{customdata[1]} on %{customdata[0]}<br>%{y:.3g} µs"
            "<br>%{customdata[2]}<extra></extra>",
        )
    fig.update_layout(
        title=f"Partition map: {report.workload_name} on {report.arch_name}",
        xaxis={"title": "op", "categoryorder": "array", "categoryarray": list(part.op)},
        yaxis_title="busy time on its unit (µs)",
        barmode="overlay",
        legend_title="ran on",
    )
    return fig


def pareto_scatter(
    df: pd.DataFrame,
    x: str,
    y: str,
    front: pd.DataFrame | None = None,
    color: str | None = None,
    hover: Sequence[str] | None = None,
) -> go.Figure:
    """Scatter of sweep results (rows with status 'ok'), the `front` rows highlighted and joined.

    Hover shows every parameter column (arch./workload./mapping. paths) unless `hover` names others;
    `front` is typically `pareto_front(df, {x: 'min', y: 'min'})`.
    """
    if not isinstance(df, pd.DataFrame):
        raise UnsupportedError(
            f"pareto_scatter: give the sweep results as a DataFrame, not {a_or_an(type(df).__name__)}"
        )
    missing = [c for c in (x, y, color) if c is not None and c not in df.columns]
    if missing:
        raise UnsupportedError(
            f"no column {missing[0]!r}; columns: {', '.join(map(str, df.columns))}"
        )
    rows = df[df["status"] == "ok"] if "status" in df.columns else df
    hover = list(hover) if hover is not None else [c for c in df.columns if _is_parameter(c)]
    fig = go.Figure()
    if color is None or pd.api.types.is_numeric_dtype(rows[color]):
        fig.add_trace(_scatter(rows, x, y, hover, color, "points"))
    else:  # one trace per category, so the legend names them
        for value, group in rows.groupby(color, sort=False):
            fig.add_trace(_scatter(group, x, y, hover, None, f"{color} = {value}"))
    if front is not None and len(front):
        ordered = front.sort_values(x)
        trace = _scatter(ordered, x, y, hover, None, "Pareto front")
        trace.update(mode="lines+markers", line={"shape": "hv", "color": "#d62728"})
        trace.marker.update(size=11, symbol="diamond", color="#d62728")
        fig.add_trace(trace)
    fig.update_layout(
        title=f"{axis_title(y)} against {axis_title(x)}",
        xaxis_title=axis_title(x),
        yaxis_title=axis_title(y),
    )
    return fig


_SUFFIX_UNITS = {
    "_bytes_per_s": "B/s",
    "_bytes": "bytes",
    "_pj": "pJ",
    "_mm2": "mm²",
    "_hz": "Hz",
    "_mw": "mW",
    "_nm": "nm",
    "_s": "s",
}


def axis_title(column: str) -> str:
    """A result column as an axis title with its unit: 'energy_pj' -> 'energy (pJ)',
    'arch.components.sram.capacity_bytes' -> 'sram.capacity (bytes)'."""
    name = ".".join(column.split(".")[-2:]) if column.count(".") > 1 else column
    unit = next((u for suffix, u in _SUFFIX_UNITS.items() if name.endswith(suffix)), None)
    if unit:
        name = name[: name.rindex("_")] if unit != "B/s" else name[: -len("_bytes_per_s")]
    name = name.replace("_", " ")
    return f"{name} ({unit})" if unit else name


def write_figure(
    fig: go.Figure | Sequence[go.Figure], path: str | Path, plotlyjs: str = "inline"
) -> Path:
    """Write HTML or, where kaleido is installed, PNG / SVG / PDF by extension.

    HTML may hold several figures; plotly.js is in the page once, inline (works offline, about
    4.6 MB) or, with plotlyjs="cdn", loaded from the plotly CDN when the page opens (a few kB).
    """
    path = Path(path)
    figures = (
        [fig] if isinstance(fig, go.Figure) else list(fig) if isinstance(fig, list | tuple) else []
    )
    if not figures or not all(isinstance(f, go.Figure) for f in figures):
        raise UnsupportedError(
            f"write_figure: give a plotly Figure or a list of them, not {type(fig).__name__}"
        )
    if plotlyjs not in ("inline", "cdn"):
        raise UnsupportedError(f"plotlyjs={plotlyjs!r}: use 'inline' or 'cdn'")
    if path.suffix not in (".html", ".png", ".svg", ".pdf"):
        raise UnsupportedError(f"{path}: figures are written as .html, .png, .svg or .pdf")
    if path.suffix != ".html" and len(figures) > 1:
        raise UnsupportedError(f"{path}: several figures go into one .html file, not one image")
    if path.suffix != ".html" and importlib.util.find_spec("kaleido") is None:
        raise UnsupportedError(
            f"{path}: writing {path.suffix[1:].upper()} needs kaleido "
            "(pip install 'accsim[png]'); write .html instead"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UnsupportedError(f"{path}: cannot create its folder: {error.strerror}") from None
    try:  # a name the file system cannot hold (300 characters), a folder given, no permission
        if path.suffix == ".html":
            path.write_text(_html_page(figures, plotlyjs))
        else:
            figures[0].write_image(path)
    except OSError as error:
        raise UnsupportedError(f"{path}: cannot write: {error.strerror}") from None
    return path


def _html_page(figures: list[go.Figure], plotlyjs: str) -> str:
    """One HTML page of `figures`, plotly.js in it once (inline or from the CDN)."""
    parts = [
        figure.to_html(
            full_html=False,
            include_plotlyjs=(True if plotlyjs == "inline" else "cdn") if i == 0 else False,
        )
        for i, figure in enumerate(figures)
    ]
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


_KIND_COLOURS = {
    "systolic_array": "#1f77b4",
    "vector": "#9467bd",
    "sram": "#2ca02c",
    "dram": "#ff7f0e",
}


def _report(report, figure: str, kinds: tuple = (Report,)) -> None:
    """A figure reads the tables of one kind of report: anything else given (a system of chips'
    report, a preset name, a DataFrame) is a one-line error naming the figure and what came."""
    if not isinstance(report, kinds):
        names = " or ".join(kind.__name__ for kind in kinds)
        raise UnsupportedError(
            f"{figure}: takes {a_or_an(names)} from simulate() of one chip, not {a_or_an(type(report).__name__)}"
        )


ROOF_POINTS = 100_000
"""The most points a roofline's roof lines are drawn with (the default 200 draws them smooth)."""


def _at_least(value, minimum: int, what: str) -> None:
    """An integer argument of a figure (`points`, `max_events`) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise UnsupportedError(f"{what}: give an integer >= {minimum}, got {value!r}")


def _op_flops(ops: pd.DataFrame) -> pd.Series:
    """FLOPs per op: the report's own column where it has one, else 2 per MAC."""
    return ops["flops"] if "flops" in ops.columns else 2 * ops["macs"]


def _is_parameter(column) -> bool:
    return str(column).startswith(PARAMETER_PREFIXES)


def _scatter(rows: pd.DataFrame, x: str, y: str, hover: list[str], color, name: str) -> go.Scatter:
    lines = "<br>".join(f"{c} = %{{customdata[{i}]}}" for i, c in enumerate(hover))
    marker = {"size": 8}
    if color is not None:
        marker.update(
            color=rows[color], colorscale="Viridis", showscale=True, colorbar={"title": color}
        )
    return go.Scatter(
        x=rows[x],
        y=rows[y],
        mode="markers",
        name=name,
        marker=marker,
        customdata=rows[hover].astype(str).to_numpy() if hover else None,
        hovertemplate=f"{x} = %{{x:.4g}}<br>{y} = %{{y:.4g}}<br>{lines}<extra>{name}</extra>",
    )
