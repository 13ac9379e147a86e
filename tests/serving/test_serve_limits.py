"""Serving's cost guards: each shape the cost model prices is guarded as any run (`accsim serve
--max-tiles / --max-memory`, `CostModel(limits=...)`), and a sweep's bucket ratio is refused where
it is given, named by its key path."""

import pytest

from simulator.cli import main
from simulator.errors import CapacityError, UnsupportedError
from simulator.serving.costs import CostModel
from simulator.spec.guards import Limits
from simulator.sweep import load_sweep
from simulator.sweep.point import run_point

FAR = "the cost grid's top knot is 1,000,000 tokens, above the limit of 131,072"


def test_serve_takes_the_run_limits(tiny_config, tmp_path, capsys):
    """A dense layer of 512 tokens takes more than 10 tile steps on tpu-v4-like (a GEMM each):
    refused at --max-tiles 10, named with the option; --max-memory is read the same way."""
    args = ["serve", "tpu-v4-like", str(tiny_config), "--requests", "2", "--prompt-len", "512"]
    args += ["--cost-cache", str(tmp_path / "c.json")]
    assert main([*args, "--max-tiles", "10"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "above the limit of 10;" in lines[0]
    assert lines[0].startswith("error: ") and lines[0].endswith("raise the limit with --max-tiles")
    assert main([*args, "--max-memory", "1 KiB"]) == 2
    assert capsys.readouterr().err.strip().endswith("raise the limit with --max-memory")


def test_the_cost_model_guards_each_shape(arch, tiny):
    costs = CostModel(arch, tiny, limits=Limits(max_tiles=10))
    with pytest.raises(CapacityError, match="above the limit of 10;"):
        costs.price("dense", 512)
    with pytest.raises(UnsupportedError, match="CostModel: limits"):
        CostModel(arch, tiny, limits=10)


def _sweep(tmp_path, base: str = "", grid: str = "") -> str:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nbase:\n  arch: tpu-v4-like\n  serving:\n    model: llama-2-7b\n"
        f"    requests: 4\n{base}grid:\n  serving.rate: [1]\n{grid}"
    )
    return str(path)


def test_a_sweeps_far_bucket_ratio_is_named_where_it_is_given(tmp_path, capsys):
    """In the base: refused when the sweep is loaded, with the file, line and key path; as a
    grid parameter: that point's row names the point and the key, and the sweep's error the
    file (every point failed), before any shape is simulated."""
    source = _sweep(tmp_path, base="    bucket_ratio: 1.0e6\n")
    assert main(["sweep", source, "-o", str(tmp_path / "a.csv")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {source}:7: base.serving.bucket_ratio: 1e+06: {FAR} (8 x the 16,384 it "
        "serves), where a dense layer and a prompt of that many tokens would be simulated; "
        "give a ratio of at most 8"
    )
    source = _sweep(tmp_path, grid="  serving.bucket_ratio: [1.0e6]\n")
    (point,) = load_sweep(source).points
    row = run_point(point)
    assert row["status"] == "failed"
    assert row["error"].startswith(f"point 0: serving: bucket_ratio: 1e+06: {FAR}")
    assert main(["sweep", source, "-o", str(tmp_path / "b.csv")]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: {source}: all 1 points run failed; the first: point 0: ")
