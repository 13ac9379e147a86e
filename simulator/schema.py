"""JSON Schema of accsim's four file kinds, for editors (yaml-language-server) and the docs.

Unit fields are strings with a pattern ("24 MiB"), as written in files, not the floats they
become once loaded. The schemas are generated from the pydantic specs; `schemas/` in the
repository holds the same text, which a test keeps in step.
"""

import json
import typing

from pydantic import BaseModel, TypeAdapter
from pydantic._internal._docs_extraction import extract_docstrings_from_cls

from simulator.errors import SpecError
from simulator.spec.arch import ArchSpec
from simulator.spec.mapping import MappingSpec
from simulator.spec.snn import SnnSpec
from simulator.spec.system import SystemArchSpec
from simulator.spec.transformer import TransformerSpec
from simulator.spec.units import format_quantity
from simulator.spec.workload import WorkloadSpec
from simulator.sweep.spec import SweepSpec

MODELS = {
    "arch": ArchSpec | SystemArchSpec,
    "workload": WorkloadSpec | TransformerSpec | SnnSpec,
    "mapping": MappingSpec,
    "sweep": SweepSpec,
}
"""File kind -> the spec (or union of specs) a file of that kind validates into."""

TITLES = {
    "arch": "accsim architecture (a chip, or a system of chips)",
    "workload": "accsim workload (ops, kind: transformer or kind: snn)",
    "mapping": "accsim mapping",
    "sweep": "accsim sweep",
}


def _unit(prop: dict) -> str | None:
    """The unit kind of a quantity property (or of the quantity in an `X or null` union)."""
    if "x-unit" in prop:
        return prop["x-unit"]
    return next((option["x-unit"] for option in prop.get("anyOf", ()) if "x-unit" in option), None)


def _unit_defaults(node):
    """Write numeric defaults of unit fields as unit strings, so the defaults match the pattern."""
    if isinstance(node, dict):
        for prop in node.get("properties", {}).values():
            kind = _unit(prop)
            if kind and isinstance(prop.get("default"), (int, float)):
                prop["default"] = format_quantity(prop["default"], kind)
        for value in node.values():
            _unit_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _unit_defaults(value)


def _models(annotation) -> list[type[BaseModel]]:
    """The spec models an annotation names (through unions, lists, dicts and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models(arg)]


def _describe(model: type[BaseModel], done: set) -> None:
    """Give each field of `model` (and of the models it holds, first) its attribute docstring as
    its description, as pydantic's `use_attribute_docstrings` would have at class creation: the
    specs leave that off, since reading the source of every class costs each run's start-up
    about 90 ms, and only the schemas show descriptions."""
    if model in done:
        return
    done.add(model)
    for field in model.model_fields.values():
        for held in _models(field.annotation):
            _describe(held, done)
    changed = False
    for name, field in model.model_fields.items():
        owner = next(c for c in model.__mro__ if name in c.__dict__.get("__annotations__", {}))
        doc = extract_docstrings_from_cls(owner, use_inspect=True).get(name)
        if field.description is None and doc is not None:
            field.description = doc
            changed = True
    if changed:
        model.model_rebuild(force=True)


def json_schema(kind: str) -> dict:
    """The JSON Schema (draft 2020-12) of a `kind` file: arch, workload, mapping or sweep."""
    if not isinstance(kind, str) or kind not in MODELS:
        raise SpecError(f"schema kind {kind!r}: choose one of {', '.join(MODELS)}")
    done: set = set()
    for model in _models(MODELS[kind]):
        _describe(model, done)
    schema = TypeAdapter(MODELS[kind]).json_schema(mode="validation")
    _unit_defaults(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": TITLES[kind],
        **{key: value for key, value in schema.items() if key != "title"},
    }


def schema_text(kind: str) -> str:
    """`json_schema(kind)` as the indented JSON text that `schemas/KIND.schema.json` holds."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
