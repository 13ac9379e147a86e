"""The committed corpus is what make_corpus.py writes: a case or file added by hand to cases.tsv
or files/ (and not to the script) would be dropped by the next regeneration."""

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _script():
    spec = importlib.util.spec_from_file_location("make_corpus", HERE / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cases_tsv_is_what_the_script_writes():
    assert _script().table() == (HERE / "cases.tsv").read_text()


def test_files_are_what_the_script_writes(tmp_path):
    _script().write_files(tmp_path)
    committed = HERE / "files"
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert written == sorted(p.relative_to(committed) for p in committed.rglob("*"))
    for path in written:
        if (tmp_path / path).is_file():
            assert (tmp_path / path).read_bytes() == (committed / path).read_bytes(), path


def test_case_ids_are_unique_and_survive_a_removed_case(monkeypatch):
    """An id names its own case: dropping (or inserting) a case never renames another one."""
    script = _script()
    ids = [line.split("\t")[0] for line in script.table().splitlines()[1:]]
    assert len(ids) == len(set(ids))
    every = script.cases()
    heads = [command.split()[:3] for _, command in every]
    shared = next(k for k, head in enumerate(heads) if heads.count(head) > 1)  # a numbered stem
    monkeypatch.setattr(script, "cases", lambda: every[:shared] + every[shared + 1 :])
    kept = ids[:shared] + ids[shared + 1 :]
    assert [line.split("\t")[0] for line in script.table().splitlines()[1:]] == kept
