"""plotly figures: the traces each figure should have, with numbers derived by hand."""

import importlib.util
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import simulator
from simulator import plots
from simulator.errors import UnsupportedError
from tests.conftest import tiny_arch

GEMM = "gemm:M=64,N=48,K=96,dtype=int8"


@pytest.fixture(scope="module")
def report():
    return simulator.simulate(tiny_arch(), GEMM, numerics=False, trace=True)


def test_energy_breakdown_stacks_one_trace_per_action(report):
    fig = plots.energy_breakdown(report)
    assert isinstance(fig, go.Figure) and fig.layout.barmode == "stack"
    assert {t.name for t in fig.data} == set(report.energy.action)
    # the MAC trace: 64 x 48 x 96 MACs at 1 pJ each, on the array only, in µJ
    (mac,) = [t for t in fig.data if t.name == "mac_int8"]
    assert dict(zip(mac.x, mac.y))["pe"] == pytest.approx(64 * 48 * 96 * 1e-6)
    total = sum(float(np.sum(t.y)) for t in fig.data)
    assert total == pytest.approx(report.summary["energy_pj"] * 1e-6)
    by_op = plots.energy_breakdown(report, by="op")
    assert {t.name for t in by_op.data} <= {"pe", "buf", "dram", "(chip)"}


def test_timeline_draws_every_interval_of_the_trace(report):
    fig = plots.timeline(report)
    assert sum(len(t.x) for t in fig.data) == len(report.record.events)
    assert {t.name for t in fig.data} >= {"compute", "load", "store"}
    us_per_cycle = 1e6 / 700e6
    last_end = max(float(b + x) for t in fig.data for b, x in zip(t.base, t.x))
    assert last_end == pytest.approx(report.cycles * us_per_cycle)
    untraced = simulator.simulate(tiny_arch(), GEMM, numerics=False)
    with pytest.raises(UnsupportedError, match="trace=True"):
        plots.timeline(untraced)


def test_roofline_has_the_roof_by_hand_and_places_the_op(report):
    fig = plots.roofline(report)
    roof, ops = fig.data
    peak = 2 * 8 * 8 * 700e6  # FLOP/s of the 8x8 array at 700 MHz
    bandwidth = 700e6  # B/s
    assert max(roof.y) == pytest.approx(peak)
    low = roof.x[0]
    assert roof.y[0] == pytest.approx(low * bandwidth)
    flops = 2 * 64 * 48 * 96
    (op,) = report.ops.to_dict("records")
    assert ops.x[0] == pytest.approx(flops / op["dram_bytes"])
    assert ops.y[0] == pytest.approx(flops / (op["cycles"] / 700e6))
    assert ops.y[0] <= peak and ops.y[0] <= ops.x[0] * bandwidth * (1 + 1e-9)  # under the roof


def test_roofline_of_two_archs_draws_two_roofs(report):
    other = simulator.simulate("edge-npu", GEMM, numerics=False)
    fig = plots.roofline([report, other])
    assert [t.name for t in fig.data] == [
        "tiny roof",
        "edge-npu roof",
        "tiny × gemm-64x48x96",
        "edge-npu × gemm-64x48x96",
    ]


def test_utilization_has_one_bar_per_component(report):
    fig = plots.utilization(report)
    (bars,) = fig.data
    assert list(bars.x) == ["pe", "buf", "dram"]
    assert all(0 <= value <= 100 for value in bars.y)


def test_pareto_scatter_hovers_parameters_and_joins_the_front_left_to_right():
    df = pd.DataFrame(
        {
            "status": ["ok", "ok", "ok", "failed"],
            "arch.components.pe.rows": [4, 8, 16, 32],
            "cycles": [300.0, 100.0, 200.0, None],
            "energy_pj": [1.0, 3.0, 4.0, None],
        }
    )
    front = df.iloc[[1, 0]]
    fig = plots.pareto_scatter(df, "cycles", "energy_pj", front=front)
    points, line = fig.data
    assert list(points.x) == [300.0, 100.0, 200.0]  # the failed row is left out
    assert "arch.components.pe.rows = %{customdata[0]}" in points.hovertemplate
    assert list(line.x) == [100.0, 300.0] and line.name == "Pareto front"
    coloured = plots.pareto_scatter(df, "cycles", "energy_pj", color="arch.components.pe.rows")
    assert coloured.data[0].marker.showscale is True
    with pytest.raises(UnsupportedError, match="no column 'area_mm2'"):
        plots.pareto_scatter(df, "area_mm2", "cycles")


def test_write_figure_writes_self_contained_html(tmp_path, report):
    path = plots.write_figure(plots.utilization(report), tmp_path / "u.html")
    assert "plotly" in path.read_text()[:100_000].lower()
    with pytest.raises(UnsupportedError, match="figures are written as"):
        plots.write_figure(plots.utilization(report), tmp_path / "u.txt")


@pytest.mark.skipif(importlib.util.find_spec("kaleido") is not None, reason="kaleido installed")
def test_png_without_kaleido_says_how_to_get_it(tmp_path, report):
    with pytest.raises(UnsupportedError, match="needs kaleido"):
        plots.write_figure(plots.utilization(report), tmp_path / "u.png")


def test_sunbursts_hold_the_area_and_the_energy(report):
    area = plots.sunburst(report, "area")
    (trace,) = area.data
    leaves = [v for i, v in zip(trace.ids, trace.values) if "/" in i]
    assert sum(leaves) == pytest.approx(report.summary["area_mm2"])
    energy = plots.sunburst(report, "energy")
    roots = [v for p, v in zip(energy.data[0].parents, energy.data[0].values) if p == ""]
    assert sum(roots) == pytest.approx(report.summary["energy_pj"] * 1e-6)
    with pytest.raises(UnsupportedError, match="area' or 'energy"):
        plots.sunburst(report, "power")


def test_power_timeline_stacks_static_and_dynamic(report):
    fig = plots.power_timeline(report)
    static, dynamic = fig.data
    assert np.allclose(np.asarray(static.y) + np.asarray(dynamic.y), report.power_timeline.power_w)


def test_axis_titles_carry_units():
    from simulator.plots import axis_title

    assert axis_title("energy_pj") == "energy (pJ)"
    assert axis_title("area_mm2") == "area (mm²)"
    assert axis_title("arch.components.sram.capacity_bytes") == "sram.capacity (bytes)"
    assert axis_title("arch.components.dram.bandwidth_bytes_per_s") == "dram.bandwidth (B/s)"
    assert axis_title("cycles") == "cycles"


def test_html_holds_plotly_js_once(tmp_path):
    """Two figures in one page share one inline copy of plotly.js; the CDN page is small."""
    import plotly.graph_objects as go

    from simulator.plots import write_figure

    figures = [go.Figure(go.Scatter(x=[1, 2], y=[3, 4])), go.Figure(go.Bar(x=[1], y=[2]))]
    inline = write_figure(figures, tmp_path / "two.html").read_text()
    assert inline.count("plotly.js v") == 1 or inline.count("* plotly.js") == 1
    assert inline.count('class="plotly-graph-div"') == 2
    cdn = write_figure(figures, tmp_path / "cdn.html", plotlyjs="cdn").read_text()
    assert "cdn.plot.ly" in cdn and len(cdn) < 50_000


FIGURES = [
    plots.energy_breakdown,
    plots.sunburst,
    plots.power_timeline,
    plots.timeline,
    plots.roofline,
    plots.utilization,
    plots.partition_map,
]


@pytest.fixture(scope="module")
def system_report():
    return simulator.simulate("a100x4-nvlink", "gemm:M=64,N=64,K=64,dtype=bf16", numerics=False)


@pytest.mark.parametrize("figure", FIGURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("given", ["system", None, "edge-npu", [], 5])
def test_a_figure_given_no_report_of_one_chip_is_one_error_line(figure, given, system_report):
    """A system's report, a preset name or None was an AttributeError or TypeError from inside."""
    given = system_report if given == "system" else given
    with pytest.raises(UnsupportedError, match=f"^{figure.__name__}: ") as caught:
        figure(given)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: plots.timeline(r, max_events=0), "max_events: give an integer >= 1"),
        (lambda r: plots.timeline(r, max_events=-1), "max_events: give an integer >= 1"),
        (lambda r: plots.roofline(r, points=1), "points: give an integer >= 2"),
        (lambda r: plots.roofline(r, points=2.5), "points: give an integer >= 2"),
        (lambda r: plots.energy_breakdown(r, by="x"), "by must be"),
        (lambda r: plots.write_figure(5, "x.html"), "give a plotly Figure"),
        (lambda r: plots.pareto_scatter(r, "a", "b"), "as a DataFrame"),
    ],
)
def test_a_figure_argument_out_of_its_range_is_one_error_line(call, message, report):
    """max_events=0 drew an empty timeline, -1 all but one interval; points=1 a one-point roof."""
    with pytest.raises(UnsupportedError, match=message):
        call(report)


def test_chrome_trace_of_an_untraced_run_is_an_accsim_error():
    untraced = simulator.simulate(tiny_arch(), GEMM, numerics=False)
    with pytest.raises(UnsupportedError, match="trace=True"):
        untraced.chrome_trace()


def test_a_system_report_writes_its_summary_and_ops_as_json(system_report):
    """SystemReport.to_json was an AttributeError; it holds the summary and the per-op table."""
    data = json.loads(system_report.to_json())
    assert data["summary"]["chips"] == system_report.summary["chips"] == 4
    assert data["summary"]["seconds"] == system_report.summary["seconds"]
    assert [row["name"] for row in data["ops"]] == list(system_report.ops.name)
    assert [row["macs"] for row in data["ops"]] == list(system_report.ops.macs)


def test_a_spiking_run_writes_its_trace_slices():
    """SpikingReport borrowed the chip's whole trace, whose stall and power tracks it has not:
    an AttributeError; each recorded interval is one slice."""
    spiking = simulator.simulate("loihi-like", "snn-digits-mlp", trace=True)
    events = spiking.chrome_trace()["traceEvents"]
    assert sum(e["ph"] == "X" for e in events) == len(spiking.record.events) > 0
    untraced = simulator.simulate("loihi-like", "snn-digits-mlp")
    with pytest.raises(UnsupportedError, match="trace=True"):
        untraced.chrome_trace()
