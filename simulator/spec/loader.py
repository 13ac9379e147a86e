"""Find and load arch / workload / mapping specs: shipped preset names, file paths or inline text."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from simulator.errors import SpecError
from simulator.spec.arch import ArchSpec
from simulator.spec.mapping import MappingSpec
from simulator.spec.validate import locate, validate
from simulator.spec.workload import WorkloadSpec
from simulator.spec.yamlio import (
    Document,
    apply_overrides,
    parse_override,
    parse_value,
    read_yaml,
)

if TYPE_CHECKING:  # their models are built on first load of such a file (lean start-up)
    from simulator.spec.snn import SnnSpec
    from simulator.spec.system import SystemArchSpec

_PACKAGE = Path(__file__).resolve().parent.parent
FOLDERS = {"arch": "archs", "workload": "workloads", "mapping": "mappings"}


def preset_dir(kind: str) -> Path:
    """Folder of shipped presets: inside the wheel, or the repository root in a source checkout."""
    if not isinstance(kind, str) or kind not in FOLDERS:
        raise SpecError(f"preset kind {kind!r}: choose one of {', '.join(FOLDERS)}")
    installed = _PACKAGE / "presets" / FOLDERS[kind]
    return installed if installed.is_dir() else _PACKAGE.parent / FOLDERS[kind]


def list_presets(kind: str) -> list[str]:
    """Names of the shipped presets of one kind ('arch', 'workload', 'mapping')."""
    return sorted(p.stem for p in preset_dir(kind).glob("*.yaml"))


def _exists(path: Path) -> bool:
    """Whether `path` exists; False for a name the file system cannot hold (an inline workload
    of 300 characters was an OSError: File name too long)."""
    try:
        return path.exists()
    except OSError:
        return False


def _find(kind: str, name: str) -> Path:
    if not name.strip():  # Path('') is the working folder: 'no such file (that is a folder)'
        raise SpecError(f"{name!r}: an empty {kind} name; give a preset name or a file path")
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or _exists(path):
        if _exists(path) and path.is_dir():
            raise SpecError(f"{name}: no such {kind} file (that is a folder)")
        if not (_exists(path) and path.is_file()):
            raise SpecError(f"{name}: no such {kind} file")
        return path
    preset = preset_dir(kind) / f"{name}.yaml"
    if _exists(preset) and preset.is_file():
        return preset
    known = ", ".join(list_presets(kind))
    raise SpecError(f"{name}: no {kind} preset or file of that name; presets: {known}")


def _inline_workload(text: str) -> Document:
    """'gemm:M=512,N=512,K=512,dtype=int8' -> a one-op workload document."""
    kind, _, args = text.partition(":")
    op: dict = {"kind": kind.strip()}
    for item in filter(None, (a.strip() for a in args.split(","))):
        key, eq, value = (part.strip() for part in item.partition("="))
        if not eq or not key:
            raise SpecError(f"inline workload {text!r}: expected KEY=VALUE, got {item!r}")
        if key in op:
            raise SpecError(f"inline workload {text!r}: {key}: given twice")
        op[key] = _inline_value(text, key, value)
    dims = "x".join(str(op[d]) for d in ("M", "N", "K") if d in op)
    name = f"{kind.strip()}-{dims}" if dims else kind.strip()
    return Document({"name": name, "ops": [op]}, "inline workload", {})


def _inline_value(text: str, key: str, value: str) -> object:
    """One inline value: a YAML scalar (number, word, true/false), nothing nested or tagged."""
    try:
        parsed = parse_value(value, f"inline workload: {key}") if value else None
    except yaml.YAMLError:
        parsed = []  # not a plain scalar: rejected below with the text as given
    if parsed is None or not isinstance(parsed, (int, float, str)):
        raise SpecError(
            f"inline workload {text!r}: {key}: expected a number or a word, got {value!r}"
        )
    return parsed


def spec_document(kind: str, ref: str | Path | dict | Document | None, dtype=None) -> Document:
    """The parsed document an arch / workload / mapping reference names, before overrides (see
    load_workload for `dtype`). The loaders also take such a document as the reference: a sweep
    worker parses its base specs once and loads each point from them."""
    if isinstance(ref, Document):
        return ref
    if kind == "mapping" and ref in (None, "auto"):
        return Document({}, "<auto mapping>", {})
    if kind == "workload" and isinstance(ref, (str, Path)) and str(ref).endswith(".json"):
        from simulator.spec.hf_config import from_hf_config

        return Document(from_hf_config(Path(ref)), str(ref), {})
    if kind == "workload" and isinstance(ref, (str, Path)) and str(ref).endswith(".onnx"):
        from simulator.spec.onnx import import_onnx

        return Document(import_onnx(onnx_path(str(ref)), dtype), str(ref), {})
    if dtype is not None:
        raise SpecError(
            f"dtype {dtype!r}: sets the precision of an .onnx model only; {ref} is not one "
            "(give its ops' dtype in the workload, e.g. gemm:M=64,N=64,K=64,dtype=int8)"
        )
    return _document(kind, ref)


def _document(kind: str, ref: str | Path | dict) -> Document:
    if isinstance(ref, dict):
        return Document(ref, f"<{kind} dict>", {})
    if kind == "workload" and isinstance(ref, str) and ":" in ref and not _exists(Path(ref)):
        return _inline_workload(ref)
    return read_yaml(_find(kind, str(ref)))


def _with_overrides(doc: Document, overrides: list[tuple[list[str], object]]) -> Document:
    return apply_overrides(doc, overrides) if overrides else doc


def _pairs(overrides) -> list[tuple[list[str], object]]:
    """The (keys, value) pairs given as overrides; anything else (a '--set' string, a dotted path
    as the keys) is an error, not a key path read character by character."""
    iterable = isinstance(overrides, Iterable) and not isinstance(overrides, str | bytes)
    pairs = list(overrides) if iterable else [overrides]  # overrides=5: a TypeError
    for pair in pairs:
        if not (
            isinstance(pair, tuple | list)
            and len(pair) == 2
            and isinstance(pair[0], tuple | list)
            and pair[0]
            and all(isinstance(k, str) and k for k in pair[0])
        ):
            raise SpecError(
                f"override {pair!r}: give (keys, value) pairs, keys a non-empty list of names like "
                "['components', 'mxu', 'rows'] or ['ops', '0', 'M'] (split_overrides reads "
                "'--set' strings)"
            )
    return pairs


def split_overrides(
    settings: list[str], takes: tuple[str, ...] = ("arch", "workload", "mapping")
) -> dict[str, list[tuple[list[str], object]]]:
    """Route '--set' strings to their spec: a leading 'arch.', 'workload.' or 'mapping.' picks it
    (default arch). A spec the command does not read (`takes`) is an error, not a silent no-op;
    so is a value set twice (`clock=1 GHz` and `arch.clock=2 GHz`: the last one won)."""
    routed: dict[str, list] = {"arch": [], "workload": [], "mapping": []}
    given: dict[tuple, str] = {}
    for text in settings:
        keys, value = parse_override(text)
        if len(keys) == 1 and keys[0] in routed:  # 'arch' was an empty key path, 'workload' a key
            raise SpecError(  # the arch's
                f"--set {text}: names a whole {keys[0]} file, not a value in it; give a key path "
                f"({keys[0]}.KEY=VALUE), or the file where the command takes it"
            )
        target = keys[0] if keys[0] in routed and len(keys) > 1 else "arch"
        if target not in takes:
            raise SpecError(
                f"--set {text}: this command reads no {target} file to override "
                f"(it takes {' and '.join(takes)} values)"
            )
        path = keys[1:] if keys[0] == target else keys
        if (target, *path) in given:
            first = given[target, *path]
            raise SpecError(f"--set {text}: sets the value --set {first} sets; give it once")
        given[target, *path] = text
        routed[target].append((path, value))
    return routed


def load_arch(ref: str | Path | dict | Document, overrides=()) -> ArchSpec | SystemArchSpec:
    """Load an architecture by preset name, path, or dict; `overrides` are (keys, value) pairs.
    A file with a `system:` key is a system of chips, its chip loaded (and overridden) here."""
    doc = _with_overrides(spec_document("arch", ref), _pairs(overrides))
    if "system" not in doc.data:
        return validate(ArchSpec, doc)
    if ("system",) not in doc.lines and doc.lines:  # an override added it to a chip's file
        raise SpecError(
            f"{doc.source}: system: this file is one chip, not a system of chips (a file of "
            "its own with name, description and system: chip, count, links); no override adds one"
        )
    from simulator.spec.system import SystemArchSpec

    spec = validate(SystemArchSpec, doc)
    chip = spec.system.chip
    if isinstance(chip, str):
        try:
            chip = load_arch(
                chip, [(key.split("."), value) for key, value in spec.system.set.items()]
            )
        except SpecError as error:
            raise SpecError(f"{locate(spec, 'system', 'chip')}: {error}") from None
    elif spec.system.set:
        raise SpecError(
            f"{locate(spec, 'system', 'set')}: overrides apply to a chip named by preset or "
            "file; edit the inline chip instead"
        )
    if not isinstance(chip, ArchSpec):  # a chip file that is itself a system
        raise SpecError(
            f"{locate(spec, 'system', 'chip')}: a chip cannot itself be a system ({chip.name})"
        )
    resolved = spec.model_copy(update={"system": spec.system.model_copy(update={"chip": chip})})
    resolved._source, resolved._lines = spec._source, spec._lines
    resolved._overridden = spec._overridden
    return resolved


def load_workload(
    ref: str | Path | dict | Document, overrides=(), dtype: str | None = None
) -> WorkloadSpec | SnnSpec:
    """Load a workload by preset name, path, dict, inline 'gemm:M=..,N=..,K=..', a transformer
    config (`kind: transformer` YAML or a HuggingFace config.json), expanded into its op graph,
    or an ONNX model (.onnx; `dtype` sets every op's precision, default the graph's)."""
    doc = _with_overrides(spec_document("workload", ref, dtype), _pairs(overrides))
    if doc.data.get("kind") == "snn":
        from simulator.spec.snn import SnnSpec

        return validate(SnnSpec, doc)  # a spiking network: simulate() runs it on neuro cores
    if doc.data.get("kind") != "transformer":
        return validate(WorkloadSpec, doc)
    from simulator.spec.transformer import TransformerSpec, expand

    model = validate(TransformerSpec, doc)
    workload = validate(WorkloadSpec, Document(expand(model), doc.source, {}))
    workload._lines, workload._overridden = doc.lines, doc.overridden
    return workload


def onnx_path(name: str) -> Path:
    """An .onnx path as given, else a shipped graph of that name (workloads/onnx/)."""
    path = Path(name)
    shipped = preset_dir("workload") / "onnx" / path.name
    return path if _exists(path) or not _exists(shipped) else shipped


def load_mapping(ref: str | Path | dict | Document | None, overrides=()) -> MappingSpec:
    """Load a mapping; None means 'auto' (every choice made by the auto-mapper)."""
    return validate(MappingSpec, _with_overrides(spec_document("mapping", ref), _pairs(overrides)))
