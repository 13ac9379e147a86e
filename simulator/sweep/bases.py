"""A sweep process's base specs: each base parsed once, each spec without overrides built once.

A point's specs are its base documents with the point's overrides applied to the parsed data
(only the overridden paths copied, `apply_overrides`) and validated; a spec the point does not
override is the one validated model (specs are frozen) every point of the process shares. They
are kept for one set of base contents (the sweep's `Base.contents`): every point of a sweep sees
its base files as its first point in the process did, and a later sweep whose bases changed
reads them again.
"""

from typing import Any

from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.loader import spec_document

LOADERS = {"arch": load_arch, "workload": load_workload, "mapping": load_mapping}

_KEPT: dict[str, dict[tuple, Any]] = {}
"""Base contents key -> {("document" or "spec", kind): parsed document or validated spec}."""


def load_spec(base, kind: str, overrides: list[tuple[list[str], Any]]):
    """The `kind` spec of a point of sweep base `base` (a sweep.point.Base), as
    LOADERS[kind](base's reference, overrides) loads it."""
    ref = getattr(base, kind)
    if isinstance(ref, dict):  # an inline base: nothing to find or read
        return LOADERS[kind](ref, overrides)
    kept = _KEPT.get(base.contents)
    if kept is None:  # another sweep's bases: drop those kept for the last one
        _KEPT.clear()
        kept = _KEPT[base.contents] = {}
    if ("document", kind) not in kept:
        kept["document", kind] = spec_document(kind, ref)
    if overrides:
        return LOADERS[kind](kept["document", kind], overrides)
    if ("spec", kind) not in kept:
        kept["spec", kind] = LOADERS[kind](kept["document", kind])
    return kept["spec", kind]
