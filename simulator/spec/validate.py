"""Turn pydantic validation errors into one-line SpecErrors: file:line: key.path: message."""

import difflib
import re
import types
import typing

from pydantic import BaseModel, Tag, ValidationError

from simulator.errors import SpecError
from simulator.spec.yamlio import Document


def validate(model: type[BaseModel], doc: Document):
    """Build `model` from `doc`, or raise a SpecError for the first problem found."""
    try:
        spec = model.model_validate(doc.data)
    except ValidationError as error:
        errors = _branch_that_fits(error.errors(include_url=False))
        # A misspelt key also leaves its real key missing; the unknown key is the one to report.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise SpecError(_describe(model, doc, first)) from None
    spec._source = doc.source
    spec._lines = doc.lines
    spec._overridden = doc.overridden
    return spec


SHAPES = ("list_type", "dict_type", "model_type", "model_attributes_type")
SCALARS = ("float_type", "int_type", "string_type", "bool_type", "literal_error")
"""Errors of a scalar branch; given a list or mapping, only that it has another shape (a
placement list said it must be one of 'fill', 'layer' or 'spread')."""


def _branch_that_fits(errors: list[dict]) -> list[dict]:
    """The errors of a union's branches less those that only say the value has another shape
    than the branch (a list, a mapping; a number branch given a list) where a sibling branch took
    it and found what is wrong inside: a sweep range with high < low said `...rows.list[any]:
    must be a list`, `rates: [0.5, .nan]` that the whole list must be a number. A sibling went
    inside where it found a problem in a part of the value (`rates: [[1]]`: its item 0 is no
    number), whatever its kind."""

    def other_shape(err: dict) -> bool:
        return err["type"] in SHAPES or (
            err["type"] in SCALARS and isinstance(err.get("input"), list | dict)
        )

    def sibling_went_deeper(err: dict) -> bool:
        parent, branch = err["loc"][:-1], err["loc"][-1:]
        return any(
            other["loc"][: len(parent)] == parent
            and other["loc"][len(parent) :][:1] != branch
            and len(other["loc"]) > len(parent)
            for other in errors
            if other is not err and (not other_shape(other) or len(other["loc"]) > len(parent) + 1)
        )

    kept = [e for e in errors if not (other_shape(e) and sibling_went_deeper(e))]
    return kept or errors


def locate(spec: BaseModel, *path) -> str:
    """'file:line: key.path' for a key of a loaded spec, to start an error raised after loading;
    'file: key.path (set by --set ...)' where an override gave its value, not the file's line."""
    return _where(Document({}, spec._source, spec._lines, spec._overridden), tuple(path))


def _where(doc: Document, path: tuple, overrides: bool = True) -> str:
    """'file:line: key.path', or 'file (from --set ...): key.path' where an override gave the
    value (with `overrides`): the file's line then holds another value."""
    dotted = ".".join(map(str, path)) or "(top level)"
    if overrides and (sets := doc.overrides_at(path)):
        return f"{doc.source} (from --set {', '.join(sets)}): {dotted}"
    line = doc.line_of(path)
    return f"{doc.source}:{line}: {dotted}" if line else f"{doc.source}: {dotted}"


def _describe(model: type[BaseModel], doc: Document, err: dict) -> str:
    loc = tuple(err["loc"])
    data_path = _data_path(model, loc)
    message = _message(model, loc, err)
    # a whole-model check names the key it is about first ("components: ..."): locate that key
    head, sep, rest = message.partition(": ")
    if not data_path and sep and head.split(".")[0] in _field_names(model):
        data_path, message = _head_path(doc, head), rest
    hint = "" if err["type"] == "extra_forbidden" else _override_hint(doc, data_path)
    return f"{_where(doc, data_path, overrides=not hint)}: {message}{hint}"


def _head_path(doc: Document, head: str) -> tuple:
    """The key path a whole-model check's message starts with: its dotted words, or its first word
    and the rest as one key where the file has such a key (`grid.arch.clock`: the axis
    `arch.clock` of a sweep's grid)."""
    first, _, rest = head.partition(".")
    if rest and (first, rest) in doc.lines:
        return (first, rest)
    return tuple(int(key) if key.isdigit() else key for key in head.split("."))  # list items


def _override_hint(doc: Document, path: tuple) -> str:
    """Where the key a problem lies under is not in the file, an override (`--set`, a sweep
    axis) made it, most often from a misspelt name: say so and name what the file has there
    (an unknown key's own message already lists the allowed ones)."""
    if not doc.lines:
        return ""
    parent = doc.data
    for end in range(1, len(path) + 1):
        if not isinstance(parent, dict) or path[end - 1] not in parent:
            return ""  # a missing key, or a list item: not one an override added
        if path[:end] in doc.lines:
            parent = parent[path[end - 1]]
            continue
        known = ", ".join(str(k) for k in parent if k != path[end - 1])
        under = ".".join(map(str, path[: end - 1])) or "the top level"
        has = f"; the file has {known} under {under}" if known else ""
        return f" ({'.'.join(map(str, path[:end]))} is not in the file: an override made it{has})"
    return ""


def _message(model: type[BaseModel], loc: tuple, err: dict) -> str:
    kind, given = err["type"], err.get("input")
    if kind == "extra_forbidden":
        allowed = _field_names(_model_at(model, loc[:-1]))
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
        return f"unknown key {loc[-1]!r}{hint}"
    if kind == "missing":
        return "missing required key"
    if kind == "union_tag_invalid":
        return f"unknown kind {err['ctx']['tag']!r}; known kinds: {err['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return "missing required key 'kind'"
    if kind in ("greater_than", "greater_than_equal"):
        bound = err["ctx"].get("gt", err["ctx"].get("ge"))
        return f"must be {'>' if kind == 'greater_than' else '>='} {bound}, got {given!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be an integer, got {given!r}"
    if kind in ("less_than", "less_than_equal"):
        bound = err["ctx"].get("lt", err["ctx"].get("le"))
        return f"must be {'<' if kind == 'less_than' else '<='} {bound}, got {given!r}"
    if kind == "finite_number":
        return f"must be a finite number, got {given!r}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {given!r}"
    if kind in ("string_type",):
        return f"must be a string, got {given!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {given!r}"
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        want = {"list_type": "a list", "dict_type": "a mapping"}.get(kind, "a mapping of keys")
        return f"must be {want}, got {given!r}"
    if kind == "literal_error":
        return f"must be one of {err['ctx']['expected']}, got {given!r}"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    return f"{err['msg']}, got {given!r}"


def _data_path(model: type[BaseModel], loc: tuple) -> tuple:
    """Drop the discriminator tags pydantic inserts into locations of tagged unions, and the
    '[key]' it appends when a mapping's key (not its value) is bad: the key is already named."""
    path, current = [], model
    for part in loc:
        if part == "[key]":
            continue
        options = _tagged_options(current)
        if options is not None and part in options:
            current = options[part]
            continue
        branch = _untagged_branch(current, part)
        if branch is not None:
            current = branch
            continue
        path.append(part)
        current = _child_type(current, part)
    return tuple(path)


def _untagged_branch(current, part):
    """The member of an untagged union (`list[Any] | Range`) that pydantic's label of a branch
    in an error's location names ('list[any]', 'function-after[_ordered(), Range]'), or None
    where `part` is a key: the label is no key of the file."""
    current = _strip(current)
    if typing.get_origin(current) not in _UNIONS or not isinstance(part, str):
        return None
    found = []  # 'list[float]' names float too: the name it names first is the branch
    for member in typing.get_args(current):
        name = getattr(typing.get_origin(_strip(member)) or _strip(member), "__name__", "")
        match = name and re.search(rf"\b{name}\b", part, flags=re.IGNORECASE)
        if match:
            found.append((match.start(), member))
    return min(found, key=lambda f: f[0])[1] if found else None


def _model_at(model, loc: tuple):
    current = model
    for part in loc:
        options = _tagged_options(current)
        if options is not None and part in options:
            current = options[part]
        else:
            current = _child_type(current, part)
    return current


_UNIONS = (typing.Union, types.UnionType)  # Union[A, B] and A | B


def _strip(annotation):
    """Unwrap Annotated / Optional wrappers around a type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in _UNIONS:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _child_type(current, part):
    current = _strip(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        field = current.model_fields.get(part)
        return field.annotation if field else None
    origin = typing.get_origin(current)
    if origin is dict:
        return typing.get_args(current)[1]
    if origin is list:
        return typing.get_args(current)[0]
    return None


def _tagged_options(current) -> dict | None:
    """For a union of models discriminated by `kind` (or members marked with a Tag), map each
    kind to its model."""
    current = _strip(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        members = (current,)  # a one-kind union (workload ops today) collapses to its only model
    elif typing.get_origin(current) in _UNIONS:
        members = typing.get_args(current)
    else:
        return None
    options = {}
    for member in members:
        tags = [t.tag for t in getattr(member, "__metadata__", ()) if isinstance(t, Tag)]
        if tags:  # a union tagged by a callable discriminator (a system's chip: name or inline)
            options[tags[0]] = _strip(member)
            continue
        if (
            isinstance(member, type)
            and issubclass(member, BaseModel)
            and "kind" in member.model_fields
        ):
            for tag in typing.get_args(member.model_fields["kind"].annotation):
                options[tag] = member
    return options


def _field_names(model) -> list[str]:
    model = _strip(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []
