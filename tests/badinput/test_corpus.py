"""The bad-input corpus: every case of cases.tsv ends in one line `error: ...` naming its problem,
exit status 2, within 5 s of CPU time (wall time varies with the machine's load) and 1 GB; never
the last-resort 'internal error'. Most cases run in-process through simulator.cli.main (fast); a
few run as real subprocesses."""

import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.cli import main

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
SECONDS = 5.0
MEMORY_KIB = 2**20  # 1 GiB of peak resident memory


def _cases() -> list[tuple[str, str, str]]:
    rows = []
    for line in (HERE / "cases.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            case, fragment, command = line.split("\t")
            rows.append((case, fragment, command))
    return rows


CASES = _cases()


def _argv(command: str, tmp: Path) -> list[str]:
    shutil.copy(FILES / "bad-results.parquet", tmp)  # outputs a case may write beside
    return [
        w.replace("{files}", str(FILES)).replace("{tmp}", str(tmp)) for w in shlex.split(command)
    ]


def _check(stderr: str, code: int, fragment: str, elapsed: float) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, f"exit {code}, stderr: {stderr!r}"
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert "internal error" not in lines[0], lines[0]
    assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert elapsed < SECONDS, f"took {elapsed:.1f} s of CPU time"


def test_corpus_is_big_enough():
    assert len(CASES) >= 250
    assert len({case for case, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("case", "fragment", "command"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, fragment, command, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # rich must not wrap the one line
    start = time.process_time()
    code = main(_argv(command, tmp_path))
    elapsed = time.process_time() - start
    _check(capsys.readouterr().err, code, fragment, elapsed)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert peak < MEMORY_KIB + 2**19, f"test process peaked at {peak / 2**20:.2f} GiB"


SUBPROCESS = [c for c in CASES if c[0].split("-")[0] in ("run",)][::40][:6]


@pytest.mark.parametrize(
    ("case", "fragment", "command"), SUBPROCESS, ids=[c[0] for c in SUBPROCESS]
)
def test_bad_input_in_a_fresh_process(case, fragment, command, tmp_path):
    """A real `accsim` process: exit status, one stderr line, and its own peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from simulator.cli import main; sys.exit(main())"]
        + _argv(command, tmp_path),
        capture_output=True,
        text=True,
        env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    _check(done.stderr, done.returncode, fragment, cpu)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < MEMORY_KIB
