"""Read a user's text file once, at the boundary: missing, unreadable or non-UTF-8 files become
one-line SpecErrors naming the file, never a traceback."""

import json
from pathlib import Path

from simulator.errors import SpecError

MAX_TEXT_BYTES = 256 * 2**20
"""Largest spec or peer file read (256 MiB); a bigger one is almost surely not a spec."""


def check_readable(path: Path) -> None:
    """A file a reader may take whole: a regular file (not a folder, a device like /dev/zero or a
    pipe, which never end) of at most MAX_TEXT_BYTES; else a SpecError naming it."""
    try:
        if path.is_dir():
            raise SpecError(f"{path}: is a folder, not a file")
        if path.exists() and not path.is_file():
            raise SpecError(f"{path}: not a regular file (a device or a pipe)")
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise SpecError(f"{path}: larger than {MAX_TEXT_BYTES // 2**20} MiB; not a spec file")
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror or error}") from None


def read_text(path: Path) -> str:
    """The file's text (UTF-8, an optional byte-order mark dropped); SpecError if it cannot be."""
    check_readable(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SpecError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
            f"{error.start}); save the file as UTF-8"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SpecError(f"{path}:{line}: contains NUL bytes; not a text file")
    return text


def _no_constant(name: str):
    """JSON has no NaN or Infinity: Python's reader accepts them, a user's file must not."""
    raise ValueError(f"{name} is not a JSON number")


def _no_repeats(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object's keys each once: Python's reader kept the last of two silently."""
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"{key}: duplicate key")
        seen.add(key)
    return dict(pairs)


def read_json(path: Path) -> object:
    """The file's strict JSON value (no NaN or Infinity); SpecError naming the file (and line) if
    it is not JSON."""
    text = read_text(path)
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_repeats)
    except json.JSONDecodeError as error:
        raise SpecError(f"{path}:{error.lineno}: malformed JSON: {error.msg}") from None
    except RecursionError:
        raise SpecError(f"{path}: malformed JSON: nested too deeply") from None
    except ValueError as error:
        raise SpecError(f"{path}: {error}") from None
