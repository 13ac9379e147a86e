"""Check output paths before any work is done, so a long run never ends on a failed write."""

from pathlib import Path

from simulator.errors import SpecError


def output_file(text: str, option: str) -> Path:
    """A file the command will write: not a folder; its folder is created if missing."""
    path = Path(text)
    if not text.strip():
        raise SpecError(f"{option}: empty file name")
    if path.is_dir():
        raise SpecError(f"{option} {text}: is a folder; give a file name")
    output_folder(str(path.parent), option)
    return path


def output_folder(text: str, option: str) -> Path:
    """A folder the command will write files into: created if missing, never an existing file."""
    path = Path(text)
    if not text.strip():
        raise SpecError(f"{option}: empty folder name")
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise SpecError(f"{option} {text}: {blocking} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SpecError(f"{option} {text}: cannot create folder: {error.strerror}") from None
    return path


def write_text(path: Path, text: str, option: str) -> None:
    """Write `text`, turning an OS refusal (permissions, full disk) into a one-line error."""
    try:
        path.write_text(text)
    except OSError as error:
        raise SpecError(f"{option} {path}: cannot write: {error.strerror}") from None
