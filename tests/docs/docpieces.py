"""Read the README and docs pages into the pieces the docs tests check: fenced blocks, tables,
and the HTML-comment markers in front of them.

Markers (an HTML comment on its own line; it applies to the next block or table):
  docs-test: skip reason="..."     the block is not run, for the reason given
  docs-test: slow reason="..."     the block runs with the slow set (pytest -m slow)
  docs-test: load arch|workload|mapping   the YAML block must load as that spec
  output-of: COMMAND               the block is COMMAND's output; its numbers must match a fresh run
  numbers-from: COMMAND [| timing: col, col] [| slow: reason]
                                   the table's numbers (but the timing columns) come from COMMAND
  numbers-cited: SOURCE            the table's numbers are cited facts (preset datasheets)
  numbers-peer: REASON             the table comes from a peer tool that CI cannot run
  numbers-measured: COMMAND | why  the table is COMMAND's output on a named machine or commit
                                   (timings, before/after, hour-long runs): not re-run, the
                                   script must exist and the reason must be given
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(
    r"^\s*<!--\s*(docs-test: (?:skip|slow|load)|output-of|numbers-from|numbers-cited|numbers-peer|numbers-measured)"
    r":?\s*(.*?)\s*-->\s*$"
)
NUMBER = re.compile(r"(?<![\w.])[-+−]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")


@dataclass
class Piece:
    """A fenced block (lang, text) or a table (rows of cells), with the marker before it."""

    page: Path
    line: int
    kind: str  # "block" or "table"
    lang: str = ""
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    marker: str = ""
    argument: str = ""

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def option(self, name: str) -> str | None:
        """`| name: value` from a numbers-from marker's argument."""
        for part in self.argument.split("|")[1:]:
            key, _, value = part.partition(":")
            if key.strip() == name:
                return value.strip()
        return None

    @property
    def reason(self) -> str:
        found = re.search(r'reason="([^"]+)"', self.argument)
        return found.group(1) if found else ""


def pages() -> list[Path]:
    """README and every hand-written docs page (generated pages are built, not stored)."""
    docs = sorted((ROOT / "docs").rglob("*.md"))
    return [ROOT / "README.md", *docs]


def pieces(page: Path) -> list[Piece]:
    """Every fenced block and table of `page`, in order."""
    lines = page.read_text().splitlines()
    found: list[Piece] = []
    marker, argument = "", ""
    i = 0
    while i < len(lines):
        line = lines[i]
        match = MARKER.match(line)
        stripped = line.strip()
        if match:
            marker, argument = match.group(1), match.group(2)
        elif stripped.startswith("```"):
            lang = stripped[3:].strip()
            start = i
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            indent = len(line) - len(line.lstrip())
            text = "\n".join(b[indent:] if b[:indent].isspace() else b for b in body)
            found.append(
                Piece(page, start + 1, "block", lang, text, marker=marker, argument=argument)
            )
            marker, argument = "", ""
        elif stripped.startswith("|"):
            start = i
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(set(c) <= set("-: ") for c in cells):
                    rows.append(cells)
                i += 1
            found.append(
                Piece(page, start + 1, "table", rows=rows, marker=marker, argument=argument)
            )
            marker, argument = "", ""
            continue
        i += 1
    return found


def all_pieces() -> list[Piece]:
    return [piece for page in pages() for piece in pieces(page)]


def numbers(text: str) -> list[str]:
    """Numeric tokens as written ("1,060,414", "−62.0", "0.15"), outside `code` spans."""
    text = re.sub(r"`[^`]*`", " ", text)
    return [token.replace("−", "-").lstrip("+") for token in NUMBER.findall(text)]


def commands(text: str) -> list[str]:
    """The commands of a shell block: one per line, comments dropped, `&&` chains split."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        out += [part.strip() for part in line.split("&&") if part.strip()]
    return out
