"""Overrides applied to a base parsed once (only the overridden paths copied) give the spec that
loading the overridden YAML file gives, and leave the base as it was."""

import copy
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import SpecError
from simulator.spec import load_arch, load_mapping, load_workload
from simulator.spec.loader import spec_document

LOADERS = {"arch": load_arch, "workload": load_workload, "mapping": load_mapping}
BASES = [
    ("arch", "edge-npu"),
    ("arch", "tpu-v1-like"),
    ("arch", "h100-like"),
    ("arch", "tp-4chips"),  # a system: its chip preset loaded and overridden too
    ("workload", "gemm-1024"),
    ("workload", "resnet18"),
    ("mapping", "split-k"),
]
OVERRIDE_HINT = r" \([^()]* is not in the file: an override made it[^()]*\)$"
VALUES = st.one_of(
    st.integers(-2, 300),
    st.sampled_from(["512 KiB", "2 MiB", "1 GHz", "16 B", "os", "ws", "int8", "fp16", "lpddr5"]),
    st.floats(0.01, 1e3),
    st.booleans(),
    st.just([4, 8]),
    st.just({"kind": "sram", "capacity": "64 KiB"}),
)


def _paths(node, prefix=()):
    """Every key path of a parsed document, containers included, as --set spells them."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        path = (*prefix, str(key))
        yield path
        if isinstance(value, dict | list) and value:
            yield from _paths(value, path)


def _set_by_hand(data, keys, value) -> bool:
    """Set keys = value in `data` as a YAML author would edit the file (missing mapping keys
    created); False where the path cannot be written (through a scalar, past a list's end)."""
    node = data
    for key in keys[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(key, {})
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    last = keys[-1]
    if isinstance(node, dict):
        node[last] = copy.deepcopy(value)
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = copy.deepcopy(value)
    else:
        return False
    return True


def _loaded(load, ref, overrides=()):
    try:
        return load(ref, overrides)
    except SpecError as error:
        return error


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@pytest.mark.parametrize("kind, name", BASES)
def test_overrides_on_a_parsed_base_give_the_spec_of_the_edited_file(kind, name, tmp_path, data):
    base = spec_document(kind, name)
    pristine = copy.deepcopy(base.data)
    paths = sorted(set(_paths(base.data)))
    new_keys = [(*path[:-1], "extra_key") for path in paths[:5]]
    chosen = data.draw(st.lists(st.sampled_from(paths + new_keys), min_size=1, max_size=4))
    overrides = [(list(path), data.draw(VALUES)) for path in chosen]
    edited = copy.deepcopy(base.data)
    writable = all(_set_by_hand(edited, keys, value) for keys, value in overrides)

    got = _loaded(LOADERS[kind], base, overrides)
    assert base.data == pristine  # the shared base is never written
    if not writable:
        assert isinstance(got, SpecError) and "--set" in str(got)
        return
    path = tmp_path / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))
    want = _loaded(LOADERS[kind], str(path))
    if isinstance(want, SpecError):  # the same complaint, at the base's file and line
        assert isinstance(got, SpecError), got
        # only the override's message may add that a key is not in the base file
        complaint = re.sub(OVERRIDE_HINT, "", str(got))
        assert complaint.split(": ", 1)[1] == str(want).split(": ", 1)[1]
        return
    assert not isinstance(got, SpecError), got
    assert got.model_dump() == want.model_dump()
    assert got.model_dump(exclude_unset=True) == want.model_dump(exclude_unset=True)


def test_a_later_override_inside_an_earlier_ones_value_leaves_the_value_alone():
    value = {"kind": "sram", "capacity": "64 KiB"}
    overrides = [(["components", "sram"], value), (["components", "sram", "capacity"], "2 MiB")]
    arch = load_arch(spec_document("arch", "edge-npu"), overrides)
    assert arch.components["sram"].capacity == 2 * 2**20
    assert value == {"kind": "sram", "capacity": "64 KiB"}
