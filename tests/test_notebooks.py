"""Every notebook runs top to bottom on a fresh kernel, and is committed without outputs."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 120


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_errors(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # files a notebook writes land here
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_first_two_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS][:2] == ["01-quickstart", "02-design-space-sweep"]


def test_the_neuromorphic_notebook_is_there():
    assert "05-neuromorphic-sparsity" in [p.stem for p in NOTEBOOKS]


def test_the_attention_pim_and_survey_notebooks_are_there():
    stems = {p.stem for p in NOTEBOOKS}
    assert {"03-attention-prefill-vs-decode", "04-pim-adc-bits", "06-survey-platforms"} <= stems
