"""Check options before any work is done: output paths (so a long run never ends on a failed
write) and the cost limits a user raised."""

from pathlib import Path

from simulator.errors import SpecError
from simulator.spec.guards import DEFAULT_LIMITS, Limits
from simulator.spec.loader import FOLDERS, preset_dir
from simulator.spec.units import parse_quantity


def limits_from(args) -> Limits:
    """The cost guards, with --max-tiles / --max-memory where given."""
    limits = DEFAULT_LIMITS
    if args.max_tiles:
        limits = Limits(args.max_tiles, limits.max_memory, limits.max_cores)
    if args.max_memory:
        try:
            memory = parse_quantity(args.max_memory, "size")
        except ValueError as error:
            raise SpecError(f"--max-memory: {error}") from None
        if memory <= 0:
            raise SpecError(f"--max-memory: must be above 0, got {args.max_memory!r}")
        limits = Limits(limits.max_tiles, memory, limits.max_cores)
    return limits


def outside_presets(path: Path, option: str) -> None:
    """What a command writes must not land among the shipped presets, where it would replace one
    or become one."""
    target = path.resolve()
    for kind in FOLDERS:
        folder = preset_dir(kind).resolve()
        if target.is_relative_to(folder):
            raise SpecError(
                f"{option} {path}: that is inside the shipped {kind} presets ({folder}); "
                "write elsewhere, e.g. a folder of your own"
            )


def not_an_input(path: Path, option: str, reads: tuple) -> None:
    """What a command writes must not be a file it reads (`import-onnx m.onnx -o m.onnx` replaced
    the model with its YAML): `reads` are the command's input arguments, given or not."""
    for text in reads:
        if text and path.exists() and Path(text).exists() and path.samefile(text):
            raise SpecError(
                f"{option} {path}: that is the input {text}; writing it would replace what the "
                "command reads; write elsewhere"
            )


def output_file(text: str, option: str, reads: tuple = (), suffixes: tuple = ()) -> Path:
    """A file the command will write: not a folder, not among the shipped presets nor one of the
    files it reads (`reads`), named with one of `suffixes` where the file is read back by its
    suffix; its folder is created if missing."""
    path = Path(text)
    if path.is_dir():
        raise SpecError(f"{option} {text}: is a folder; give a file name")
    outside_presets(path, option)
    not_an_input(path, option, reads)
    if suffixes and path.suffix.lower() not in suffixes:  # import-onnx -o w.json: YAML in a
        raise SpecError(  # file read back as a HuggingFace config, w.onnx as a model
            f"{option} {text}: name it {' or '.join(suffixes)}; accsim reads a file by its suffix "
            "(.onnx a model, .json a HuggingFace config)"
        )
    output_folder(str(path.parent), option)
    return path


def output_folder(text: str, option: str) -> Path:
    """A folder the command will write files into: created if missing, never an existing file nor
    a shipped presets folder."""
    path = Path(text)
    outside_presets(path, option)
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
