"""Safe YAML reading that remembers the line of every key, and dotted-path overrides."""

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from simulator.errors import SpecError
from simulator.spec.textio import read_text

INT, FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
MERGE = "tag:yaml.org,2002:merge"
DECIMAL_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?(?:0|[1-9][0-9_]*))$")
"""YAML 1.1's integers but its sexagesimal (`1:30` read as 90) and leading-zero octal (`010`
read as 8), which a spec's author means as text or decimal: those stay text, refused by key."""
DECIMAL_FLOAT = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9]+[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
"""YAML 1.1's floats but its sexagesimal ones (`1:30.5`), plus YAML 1.2's and JSON's exponents
without a dot or a sign (`5e5`, `1.0e3`): plain numbers are strict (spec/types.py Real), so
text that YAML 1.1 leaves `5e5` as would be refused."""


def _decimal(loader: type) -> type:
    """`loader` resolving numbers by DECIMAL_INT and DECIMAL_FLOAT (the rest of YAML 1.1 kept)."""
    resolvers = {
        first: [(tag, regex) for tag, regex in entries if tag not in (INT, FLOAT)]
        for first, entries in loader.yaml_implicit_resolvers.items()
    }
    decimal = type(f"Decimal{loader.__name__}", (loader,), {"yaml_implicit_resolvers": resolvers})
    decimal.add_implicit_resolver(INT, DECIMAL_INT, list("-+0123456789"))
    decimal.add_implicit_resolver(FLOAT, DECIMAL_FLOAT, list("-+0123456789."))
    return decimal


SAFE_LOADER = _decimal(yaml.SafeLoader)
"""PyYAML's pure-Python safe loader, numbers read by DECIMAL_INT and DECIMAL_FLOAT."""
FAST_LOADER = _decimal(yaml.CSafeLoader) if hasattr(yaml, "CSafeLoader") else None
"""PyYAML's libyaml-backed safe loader likewise, where PyYAML was built with libyaml (None
otherwise)."""
MAX_NODES = 200_000
"""Most values a YAML document may expand to (aliases counted each time they are used)."""
MAX_DEPTH = 100
"""Deepest nesting a spec may have (real specs nest under ten levels); deeper is refused before
the data is built, whose recursion would otherwise depend on the caller's stack depth."""


@dataclass(frozen=True)
class Document:
    """A parsed YAML document plus where it came from and the line of each key path."""

    data: dict
    source: str
    lines: dict[tuple, int] = field(default_factory=dict)
    overridden: tuple[tuple[str, ...], ...] = ()
    """Key paths an override (`--set`, a sweep axis) set, in the order applied."""

    def line_of(self, path: tuple) -> int | None:
        """Line (1-based) of the deepest key in `path` that the file has."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def overrides_at(self, path: tuple) -> list[str]:
        """The dotted overrides that set `path`, a key under it or a mapping holding it: a value
        that came from them is not the one on the file's line."""
        keys = tuple(map(str, path))
        return [
            ".".join(o) for o in self.overridden if o[: len(keys)] == keys or keys[: len(o)] == o
        ]


def _walk(root, lines: dict, source: str) -> None:
    """Record the line of every key below `root`, reject duplicate keys, documents nested deeper
    than MAX_DEPTH and alias bombs (more than MAX_NODES values). Iterative, in document order, so
    the check never depends on how deep the caller's stack already is."""
    budget = MAX_NODES
    stack = [(root, (), False)]
    while stack:
        node, path, merged = stack.pop()
        budget -= 1
        if budget < 0:
            dotted = ".".join(map(str, path)) or "(top level)"
            raise SpecError(
                f"{source}:{node.start_mark.line + 1}: {dotted}: the document expands to more than "
                f"{MAX_NODES:,} values (aliases repeated); not a spec"
            )
        if len(path) > MAX_DEPTH:
            raise SpecError(
                f"{source}:{node.start_mark.line + 1}: malformed YAML: nested too deeply "
                f"(more than {MAX_DEPTH} levels)"
            )
        children = []
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value_node in node.value:
                if key_node.tag == MERGE:
                    children.extend(_merged(value_node, path))
                    continue
                key = _key(key_node, path, source)
                if key in seen:
                    dotted = ".".join(map(str, path + (key,)))
                    raise SpecError(
                        f"{source}:{key_node.start_mark.line + 1}: {dotted}: duplicate key"
                    )
                seen.add(key)
                line = key_node.start_mark.line + 1
                if merged:  # a key the merging mapping also names keeps that line
                    lines.setdefault(path + (key,), line)
                else:
                    lines[path + (key,)] = line
                children.append((value_node, path + (key,), merged))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[path + (index,)] = item.start_mark.line + 1
                children.append((item, path + (index,), merged))
        stack.extend(reversed(children))


def _merged(value_node, path: tuple) -> list:
    """The mappings a merge key (`<<: *base` or `<<: [*a, *b]`) brings into the mapping at
    `path`, walked as its own keys (their lines where the anchor defines them)."""
    if isinstance(value_node, yaml.SequenceNode):
        return [(item, path, True) for item in value_node.value]
    return [(value_node, path, True)]


def _key(node, path: tuple, source: str):
    """A mapping key as the loaded data will hold it (`1:` the integer 1, as the line table must
    match the data), refused where it is a list or mapping (`? [a, b]`), which no spec has."""
    if not isinstance(node, yaml.ScalarNode):
        dotted = ".".join(map(str, path)) or "(top level)"
        raise SpecError(
            f"{source}:{node.start_mark.line + 1}: {dotted}: a key must be a name, not a "
            f"{'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}"
        )
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    return yaml.load(yaml.serialize(node), Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)


def _compose_and_load(text: str, source: str, lines: dict):
    """The document's node tree, checked by `_walk` (which fills `lines`) before its data is
    built, and the data; one libyaml parse when PyYAML has libyaml (about 10x faster); any YAML
    error is parsed again by the pure-Python loader, so a malformed file reads the same message
    either way."""
    if FAST_LOADER is not None:
        try:
            loader = FAST_LOADER(text)
            try:
                node = loader.get_single_node()
                if node is None:
                    return None
                _walk(node, lines, source)
                return loader.construct_document(node)
            finally:
                loader.dispose()
        except yaml.YAMLError:
            lines.clear()
    node = yaml.compose(text, Loader=SAFE_LOADER)
    if node is None:
        return None
    _walk(node, lines, source)
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)


def parse_yaml(text: str, source: str) -> Document:
    """Parse one YAML mapping safely; malformed YAML becomes a one-line SpecError."""
    lines: dict[tuple, int] = {}
    try:
        data = _compose_and_load(text, source, lines)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise SpecError(f"{source}{where}: malformed YAML: {problem}") from None
    except RecursionError:
        raise SpecError(f"{source}: malformed YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise SpecError(
            f"{source}: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    return Document(data, source, lines)


def read_yaml(path: Path) -> Document:
    """Read and parse a YAML file. Parses are kept per (path, modification time, size): a sweep or
    a serving study loads the same base files for every point; each caller gets its own copy."""
    try:
        stat = path.stat()
        parsed = _parsed(path, stat.st_mtime_ns, stat.st_size)
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror}") from None
    return Document(_deep_copy(parsed.data), parsed.source, dict(parsed.lines))


@functools.lru_cache(maxsize=256)
def _parsed(path: Path, mtime_ns: int, size: int) -> Document:
    return parse_yaml(read_text(path), str(path))


def parse_override(text: str) -> tuple[list[str], object]:
    """Split 'components.mxu.rows=64' into (['components', 'mxu', 'rows'], 64)."""
    if "=" not in text:
        raise SpecError(f"--set {text}: expected PATH=VALUE, e.g. components.mxu.rows=64")
    path, _, raw = text.partition("=")
    keys = [k for k in path.strip().split(".")]
    if not all(keys):
        raise SpecError(f"--set {text}: empty key in path {path!r}")
    try:
        value = parse_value(raw, f"--set {path}") if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return keys, value


def parse_value(text: str, source: str) -> object:
    """One YAML value given on a command line (an override, an inline workload's item), read as a
    file is, its nesting and aliases bounded (a value 50,000 brackets deep was a RecursionError);
    a YAMLError is the caller's (text that is no YAML may be meant as a word)."""
    try:
        return _compose_and_load(text, source, {})
    except RecursionError:
        raise SpecError(f"{source}: malformed YAML: nested too deeply") from None


def apply_override(doc: Document, keys: list[str], value: object) -> Document:
    """Return a copy of `doc` with the value at the dotted path set; list items by index. Missing
    mapping keys on the way are created (`mapping.tile.M=64` on an auto mapping); the schema then
    judges the result, so a misspelt path still fails with its key path."""
    return apply_overrides(doc, [(keys, value)])


def apply_overrides(doc: Document, overrides: list[tuple[list[str], object]]) -> Document:
    """`doc` with each (keys, value) applied in order, as `apply_override` applies one. Only the
    mappings and lists on the overrides' paths are copied; the rest is shared with `doc`, which
    is left as it was (a sweep point overrides a few keys of a base parsed once)."""
    data = dict(doc.data)
    copied = {id(data)}  # containers made for this result, safe to change in place
    for keys, value in overrides:
        node = data
        for depth, key in enumerate(keys[:-1]):
            step = int(key) if isinstance(node, list) and key.isdigit() else key
            if isinstance(node, dict) and step not in node:
                node[step] = {}
                copied.add(id(node[step]))
            try:
                child = node[step]
            except (KeyError, IndexError, TypeError):
                dotted = ".".join(keys[: depth + 1])
                raise SpecError(f"{doc.source}: --set {'.'.join(keys)}: no key {dotted}") from None
            if isinstance(child, dict | list) and id(child) not in copied:
                child = node[step] = type(child)(child)
                copied.add(id(child))
            node = child
        last = keys[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise SpecError(f"{doc.source}: --set {'.'.join(keys)}: no list item {last}")
            node[int(last)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise SpecError(
                f"{doc.source}: --set {'.'.join(keys)}: {'.'.join(keys[:-1])} is not a mapping"
            )
    applied = tuple(tuple(keys) for keys, _ in overrides)
    return Document(data, doc.source, doc.lines, doc.overridden + applied)


def _deep_copy(value):
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
