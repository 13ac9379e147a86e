"""The CLI's front: --version, accsim schema, the run header after mapping overrides, tables that
keep cells whole, and `map -o` refusing to write among the shipped presets."""

import importlib.metadata
import json

from simulator.cli import main
from simulator.spec.loader import preset_dir


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"accsim {importlib.metadata.version('accsim')}"


def test_schema_command_prints_json(capsys):
    assert main(["schema", "mapping"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "accsim mapping" and "dataflow" in schema["properties"]


def test_header_names_mapping_overrides(capsys):
    assert (
        main(["run", "eyeriss-like", "gemm-256", "--set", "mapping.dataflow=os", "--no-numerics"])
        == 0
    )
    assert "(mapping: auto, dataflow=os)" in capsys.readouterr().out


def test_piped_tables_keep_cells_whole(capsys, monkeypatch):
    """Piped output (no terminal, no COLUMNS) takes the tables' natural width: a cell is never
    cut ('…') nor folded over two lines, so the kind 'systolic_array' and every count read whole."""
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["run", "tpu-v1-like", "gemm-256", "--no-numerics"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert "systolic_array" in out
    assert f"{256**3:,}" in out  # the MAC count, one cell on one line


def test_columns_bounds_piped_tables(capsys, monkeypatch):
    """COLUMNS still sets the width, and cells that do not fit fold rather than cut."""
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["run", "tpu-v1-like", "gemm-256", "--no-numerics"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_map_refuses_to_write_into_presets(capsys):
    target = preset_dir("mapping") / "searched-by-a-test.yaml"
    assert main(["map", "edge-npu", "gemm-256", "-o", str(target)]) == 2
    assert not target.exists()
    assert "inside the shipped mapping presets" in capsys.readouterr().err


def test_scale_prints_its_table(capsys):
    """`accsim scale` ran into a name clash (its results shadowed the table helper)."""
    assert main(["scale", "mesh-4x4", "gemm-256", "-m", "split-mn", "--cores", "1,2"]) == 0
    assert "strong scaling of gemm-256 on mesh-4x4" in capsys.readouterr().out
