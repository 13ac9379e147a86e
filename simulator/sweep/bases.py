"""A sweep process's base specs: each base parsed once, each spec without overrides built once.

A point's specs are its base documents with the point's overrides applied to the parsed data
(only the overridden paths copied, `apply_overrides`) and validated; a spec the point does not
override is the one validated model (specs are frozen) every point of the process shares. A base
file is read once per process, so every point sees it as the sweep's first point did.
"""

from typing import Any

from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.loader import spec_document
from simulator.spec.yamlio import Document

LOADERS = {"arch": load_arch, "workload": load_workload, "mapping": load_mapping}

_DOCUMENTS: dict[tuple[str, str | None], Document] = {}
_SPECS: dict[tuple[str, str | None], Any] = {}


def load_spec(kind: str, ref: str | dict | None, overrides: list[tuple[list[str], Any]]):
    """The `kind` spec of a point: as LOADERS[kind](ref, overrides) loads it."""
    if isinstance(ref, dict):  # an inline base: nothing to read or find
        return LOADERS[kind](ref, overrides)
    key = (kind, ref)
    if overrides:
        return LOADERS[kind](_document(key), overrides)
    if key not in _SPECS:
        _SPECS[key] = LOADERS[kind](_document(key))
    return _SPECS[key]


def _document(key: tuple[str, str | None]) -> Document:
    if key not in _DOCUMENTS:
        _DOCUMENTS[key] = spec_document(*key)
    return _DOCUMENTS[key]
