"""Every command and snippet in the README and docs runs, and every number quoted from a script
is what the script prints (see tests/docs/docpieces.py for the markers)."""

import os
import shlex
import subprocess
import sys

import pytest
import yaml
from docpieces import ROOT, all_pieces, commands, numbers, pages

import simulator
from simulator.cli import main

PIECES = all_pieces()
SHELL = [p for p in PIECES if p.kind == "block" and p.lang in ("bash", "sh", "console")]
PYTHON = [p for p in PIECES if p.kind == "block" and p.lang == "python"]
SHARED = ("archs", "workloads", "mappings", "sweeps", "schemas", "tests", "benchmarks", "notebooks")


def _param(piece, slow_marker="docs-test: slow"):
    marks = []
    if piece.marker == "docs-test: skip":
        marks.append(pytest.mark.skip(reason=piece.reason))
    if piece.marker == slow_marker or piece.option("slow"):
        marks.append(pytest.mark.slow)
    return pytest.param(piece, id=piece.id, marks=marks)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A scratch folder that sees the repository's preset, test and benchmark folders."""
    for name in SHARED:
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(command: str, capsys) -> str:
    """Run one documented command: accsim in-process, anything else as a subprocess."""
    argv = shlex.split(command)
    if argv[0] == "accsim":
        try:
            code = main(argv[1:])
        except SystemExit as done:  # argparse's --version and --help exit
            code = done.code
        out = capsys.readouterr().out
        assert code == 0, f"{command} exited {code}:\n{out}"
        return out
    env = {**os.environ, "COLUMNS": "200"}
    if argv[0] == "python":
        argv[0] = sys.executable
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.mark.parametrize("piece", [_param(p) for p in SHELL])
def test_shell_block_runs(piece, workdir, capsys):
    for command in commands(piece.text):
        _run(command, capsys)


@pytest.mark.parametrize("piece", [_param(p) for p in PYTHON])
def test_python_snippet_runs(piece, workdir):
    exec(compile(piece.text, piece.id, "exec"), {"__name__": "docs_snippet"})


def _table_commands():
    """The `accsim ...` commands in the cells of README's hardware table."""
    for piece in PIECES:
        for row in piece.rows:
            for cell in row:
                if cell.startswith("`accsim ") and cell.endswith("`"):
                    yield pytest.param(cell.strip("`"), id=f"{piece.id}:{cell.strip('`')}")


@pytest.mark.parametrize("command", list(_table_commands()))
def test_table_command_runs(command, workdir, capsys):
    _run(command, capsys)


LOADERS = {
    "arch": simulator.load_arch,
    "workload": simulator.load_workload,
    "mapping": simulator.load_mapping,
}


@pytest.mark.parametrize(
    "piece", [pytest.param(p, id=p.id) for p in PIECES if p.marker == "docs-test: load"]
)
def test_yaml_block_loads(piece):
    LOADERS[piece.argument.strip()](yaml.safe_load(piece.text))


def _assert_numbers_in(quoted: list[str], printed: str, where: str):
    printed_numbers = set(numbers(printed))
    missing = [n for n in quoted if n not in printed_numbers]
    assert not missing, f"{where}: these numbers are not in the script's output: {missing}"


@pytest.mark.parametrize(
    "piece", [pytest.param(p, id=p.id) for p in PIECES if p.marker == "output-of"]
)
def test_quoted_output_matches(piece, workdir, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    printed = _run(piece.argument, capsys)
    _assert_numbers_in(numbers(piece.text), printed, piece.id)


def _numbers_from():
    for piece in PIECES:
        if piece.marker == "numbers-from":
            yield pytest.param(piece, id=piece.id, marks=[pytest.mark.slow])


@pytest.mark.parametrize("piece", list(_numbers_from()))
def test_table_numbers_come_from_their_script(piece, workdir, capsys, script_output):
    command = piece.argument.split("|")[0].strip()
    printed = _run(command, capsys) if command.startswith("accsim") else script_output(command)
    header, *rows = piece.rows
    timing = {c.strip() for c in (piece.option("timing") or "").split(",") if c.strip()}
    quoted = [
        token
        for row in rows
        for name, cell in zip(header, row)
        if name not in timing
        for token in numbers(cell)
    ]
    _assert_numbers_in(quoted, printed, piece.id)


SOURCES = ("numbers-from", "numbers-cited", "numbers-peer", "numbers-measured")


def test_every_table_with_numbers_names_its_source():
    """A table of numbers says where they come from; a script it names exists."""
    for piece in PIECES:
        if piece.kind != "table" or not any(numbers(" ".join(r)) for r in piece.rows[1:]):
            continue
        assert piece.marker in SOURCES, (
            f"{piece.id}: a table of numbers needs a numbers-from/-cited/-peer/-measured marker"
        )
        if piece.marker in ("numbers-from", "numbers-measured"):
            command = shlex.split(piece.argument.split("|")[0])
            script = next((a for a in command if a.endswith(".py")), None)
            assert command[0] == "accsim" or (ROOT / script).exists(), piece.id
        if piece.marker == "numbers-measured":
            assert piece.argument.split("|")[1:], f"{piece.id}: say why the table is not re-run"


def test_skipped_and_slow_blocks_say_why():
    for piece in PIECES:
        if piece.marker in ("docs-test: skip", "docs-test: slow"):
            assert piece.reason, f'{piece.id}: {piece.marker} needs reason="..."'


def test_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_links_stay_inside_the_repository():
    """Relative links resolve to files of the repository; nothing points at other checkouts."""
    import re

    for page in pages():
        text = page.read_text()
        assert "/work/" not in text and "../shared" not in text, page
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (page.parent / target).resolve()
            if resolved.relative_to(ROOT).parts[:2] in (
                ("docs", "reference"),
                ("docs", "notebooks"),
            ):
                if resolved.name != "api.md":
                    continue  # generated by the MkDocs hook (tools/mkdocs_hooks.py)
            assert resolved.exists(), f"{page.relative_to(ROOT)}: link to missing {target}"
