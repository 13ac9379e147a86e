"""libyaml parses every shipped YAML file to the data and key lines the pure-Python loader gives,
and a malformed file keeps the pure-Python loader's message."""

import sys
from pathlib import Path

import pytest
import yaml

from simulator.errors import SpecError
from simulator.spec import load_arch, split_overrides, yamlio
from simulator.sweep.spec import read_sweep

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    path
    for folder in ("archs", "workloads", "mappings", "sweeps", "simulator/tech")
    for path in (ROOT / folder).rglob("*.yaml")
)


def _pure_python(text: str, source: str, monkeypatch) -> yamlio.Document:
    with monkeypatch.context() as patch:
        patch.setattr(yamlio, "FAST_LOADER", None)
        return yamlio.parse_yaml(text, source)


@pytest.mark.skipif(yamlio.FAST_LOADER is None, reason="PyYAML built without libyaml")
def test_libyaml_reads_every_shipped_file_as_pyyaml_does(monkeypatch):
    assert len(SHIPPED) > 40
    for path in SHIPPED:
        text = path.read_text()
        fast = yamlio.parse_yaml(text, str(path))
        slow = _pure_python(text, str(path), monkeypatch)
        assert fast.data == slow.data, path
        assert repr(fast.data) == repr(slow.data), path  # types too (1 vs 1.0, dict order)
        assert fast.lines == slow.lines, path
        assert fast.data == yaml.safe_load(text), path


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\nb: 3\n",
        "a: 1\n  b: 2\n",
        "a: *missing\n",
        "key: value\n\t- tab\n",
        "a: 1\na: 2\n",
    ],
)
def test_malformed_yaml_reads_the_pure_python_message(text, monkeypatch):
    with pytest.raises(SpecError) as fast:
        yamlio.parse_yaml(text, "f.yaml")
    with pytest.raises(SpecError) as slow:
        _pure_python(text, "f.yaml", monkeypatch)
    assert str(fast.value) == str(slow.value)


def _nested(depth: int) -> str:
    """A spec whose key `a` holds `depth` nested lists around one number."""
    return "a: " + "[" * depth + "1" + "]" * depth + "\n"


def test_nesting_up_to_the_limit_loads():
    document = yamlio.parse_yaml(_nested(yamlio.MAX_DEPTH - 1), "deep.yaml")
    value = document.data["a"]
    for _ in range(yamlio.MAX_DEPTH - 1):
        value = value[0]
    assert value == 1


def test_nesting_beyond_the_limit_is_one_line_whatever_the_stack_depth():
    """The depth check runs before the data is built, so it cannot turn into a RecursionError
    when the caller already sits deep in the stack (pytest, a notebook, a sweep worker)."""

    def parse_from_depth(frames: int, depth: int):
        if frames:
            return parse_from_depth(frames - 1, depth)
        return yamlio.parse_yaml(_nested(depth), "deep.yaml")

    for depth in (yamlio.MAX_DEPTH + 1, 900, 20_000):
        for frames in (0, sys.getrecursionlimit() - 200):
            with pytest.raises(
                SpecError, match=r"^deep\.yaml(:1)?: malformed YAML: nested too deeply"
            ):
                parse_from_depth(frames, depth)


MERGED = """\
defaults: &base
  rows: 32
  cols: 16
array:
  <<: *base
  cols: 64
both:
  <<: [*base, {depth: 8}]
"""


@pytest.mark.parametrize("fast", [True, False])
def test_merge_keys_load_as_yaml_defines_them(fast, monkeypatch):
    """`<<: *anchor` (YAML's merge key) is valid YAML: it loads as PyYAML's safe_load reads it, a
    key the mapping names itself keeps its own line, a merged one the anchor's line."""
    doc = (
        yamlio.parse_yaml(MERGED, "m.yaml") if fast else _pure_python(MERGED, "m.yaml", monkeypatch)
    )
    assert doc.data == yaml.safe_load(MERGED)
    assert doc.data["array"] == {"rows": 32, "cols": 64}
    assert doc.data["both"] == {"rows": 32, "cols": 16, "depth": 8}
    assert doc.lines[("array", "cols")] == 6
    assert doc.lines[("array", "rows")] == 2
    assert doc.lines[("both", "depth")] == 8


@pytest.mark.parametrize(
    ("text", "value"),
    [("5e5", 500000.0), ("1.0e3", 1000.0), ("-2E-3", -0.002), ("+1e+2", 100.0), (".5e1", 5.0)],
)
@pytest.mark.parametrize("fast", [True, False])
def test_exponents_without_a_dot_or_a_sign_are_numbers(text, value, fast, monkeypatch):
    """YAML 1.2 and JSON read `5e5` as a number, YAML 1.1 as text: plain numbers are strict
    (no text), so `rope_theta: 5e5` or a sweep range's `low: 1e-3` was refused as text."""
    source = f"x: {text}\n"
    doc = yamlio.parse_yaml(source, "e") if fast else _pure_python(source, "e", monkeypatch)
    assert doc.data["x"] == value and isinstance(doc.data["x"], float)


@pytest.mark.parametrize("text", ["1e", "e5", "1e5x", "1_e5", "0x1e5"])
def test_text_that_only_looks_like_an_exponent_stays_text_or_an_integer(text):
    assert yamlio.parse_yaml(f"x: {text}\n", "e.yaml").data == yaml.safe_load(f"x: {text}")


def test_plain_number_fields_take_exponent_notation_in_files_and_overrides(tmp_path):
    """A float field written as 9.5e-1 (--set) or 5e-1 (a sweep file) reads as that number."""
    overrides = split_overrides(["components.dram.efficiency=9.5e-1"])["arch"]
    arch = load_arch("edge-npu", overrides=overrides)
    assert arch.components["dram"].efficiency == 0.95
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        "name: s\nbase: {arch: edge-npu, workload: gemm-256}\nrandom:\n  samples: 1\n"
        "  parameters:\n    arch.components.dram.efficiency: {low: 5e-1, high: 1e0}\n"
    )
    spec, _ = read_sweep(sweep)
    parameter = spec.random.parameters["arch.components.dram.efficiency"]
    assert (parameter.low, parameter.high) == (0.5, 1.0)
