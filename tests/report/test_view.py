"""A report in a REPL or a notebook: one short line and an HTML headline, for every kind of run
(the dataclass repr printed the machine, program and engine record: hundreds of kB)."""

import re

import pytest

from simulator import simulate
from simulator.report.view import seconds, si

TINY_SYSTEM = {
    "name": "tiny-system",
    "system": {
        "chip": "datacenter-hbm",
        "count": 2,
        "links": {"kind": "nvlink3", "count": 12, "topology": "switch"},
    },
}
TINY_LAYER = {
    "kind": "transformer",
    "name": "tiny",
    "hidden": 256,
    "heads": 4,
    "ffn": 1024,
    "layers": 1,
    "norm": "layernorm",
    "mlp": "gelu",
    "context": 64,
    "dtype": "bf16",
}


@pytest.mark.parametrize(
    ("arch", "workload", "kind"),
    [
        ("tpu-v1-like", "gemm-256", "Report"),
        ("loihi-like", "snn-digits-mlp", "SpikingReport"),
        (TINY_SYSTEM, TINY_LAYER, "SystemReport"),
    ],
)
def test_a_report_shows_one_line_and_an_html_headline(arch, workload, kind):
    report = simulate(arch, workload, numerics="off")
    s = report.summary
    line = repr(report)
    assert type(report).__name__ == kind
    assert "\n" not in line and len(line) < 200
    assert line.startswith(f"<{kind} {s['arch']} × {s['workload']}: ")
    assert f"time {seconds(s['seconds'])}" in line or f"cycles {s['cycles']:,}" in line
    html = report._repr_html_()
    assert html.count("<tr>") >= 3 and si(s["energy_pj"] * 1e-12, "J") in html
    assert not re.search(r"<(script|style)", html)


def test_si_and_seconds():
    assert si(4.05e-6, "J") == "4.05 µJ"
    assert si(0, "B") == "0 B"
    assert si(3e-13, "J") == "0.3 pJ"
    assert seconds(0.0012345) == "1.234 ms"
    assert seconds(5e-9) == "5 ns"
