"""The JSON Schema: generated from the specs, stored in schemas/, referenced by every shipped YAML,
and typing unit fields as strings with a unit (pydantic alone would call "24 MiB" a number)."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from simulator.schema import MODELS, schema_text
from simulator.spec.units import format_quantity, parse_quantity

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"arch": "archs", "workload": "workloads", "mapping": "mappings", "sweep": "sweeps"}


@pytest.mark.parametrize("kind", MODELS)
def test_stored_schema_is_the_generated_one(kind):
    stored = (ROOT / "schemas" / f"{kind}.schema.json").read_text()
    assert stored == schema_text(kind), (
        f"schemas/{kind}.schema.json is stale: run `accsim schema {kind} -o schemas/{kind}.schema.json`"
    )


@pytest.mark.parametrize("kind", MODELS)
def test_every_shipped_file_points_at_its_schema_and_validates(kind):
    validator = jsonschema.Draft202012Validator(json.loads(schema_text(kind)))
    files = sorted((ROOT / FOLDERS[kind]).glob("*.yaml"))
    assert files
    for path in files:
        first = path.read_text().splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../schemas/{kind}.schema.json", path
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert not errors, f"{path.name}: {errors[:3]}"


def _sram_capacity():
    schema = json.loads(schema_text("arch"))
    return schema["$defs"]["SramSpec"]["properties"]["capacity"]


def test_unit_fields_are_strings_with_a_unit():
    capacity = jsonschema.Draft202012Validator(_sram_capacity())
    assert capacity.is_valid("24 MiB") and capacity.is_valid("1.5 MB")
    assert (
        not capacity.is_valid(24)
        and not capacity.is_valid("24")
        and not capacity.is_valid("24 MHz")
    )


def test_defaults_of_unit_fields_are_unit_strings():
    tech_node = json.loads(schema_text("arch"))["$defs"]["ArchSpec"]["properties"]["tech_node"]
    assert tech_node["default"] == "45 nm"


@pytest.mark.parametrize(
    "value, kind, text",
    [
        (1.28e9, "frequency", "1.28 GHz"),
        (1e-7, "time", "100 ns"),
        (24 * 2**20, "size", "24 MiB"),
        (34e9, "bandwidth", "34 GB/s"),
        (0.5, "area", "0.5 mm2"),
        (1500.0, "energy", "1.5 nJ"),
    ],
)
def test_format_quantity_reads_back(value, kind, text):
    assert format_quantity(value, kind) == text
    assert parse_quantity(text, kind) == pytest.approx(value)


def test_field_descriptions_are_their_attribute_docstrings():
    """The specs skip pydantic's docstring reading at import (start-up cost); the schema adds the
    same descriptions, inherited fields included (`name` comes from each spec's own body)."""
    sram = json.loads(schema_text("arch"))["$defs"]["SramSpec"]["properties"]
    assert sram["capacity"]["description"] == "Total capacity, e.g. '24 MiB'."
    assert sram["ports"]["description"] == "Ports per bank (each moves width bytes per cycle)."


def test_importing_the_specs_reads_no_class_source():
    """use_attribute_docstrings is off: loading a spec does not parse its classes' source."""
    from simulator.spec.arch import SramSpec

    assert SramSpec.model_config.get("use_attribute_docstrings") is not True
