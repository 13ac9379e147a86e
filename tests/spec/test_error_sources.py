"""Error messages name what the user wrote: a value set by --set as --set (not the preset's line
that holds another value), a SCALE-Sim key as the file spells it, host memory in a unit that
shows the numbers."""

from pathlib import Path

import pytest

from simulator.components import build_machine
from simulator.errors import CapacityError, SpecError
from simulator.spec import load_arch, load_workload
from simulator.spec.guards import Limits, check_cost, readable_bytes
from simulator.spec.scalesim import import_scalesim


def _error(call, *args) -> str:
    with pytest.raises(SpecError) as error:
        call(*args)
    return str(error.value)


def test_a_wafer_bound_passed_by_a_set_value_names_the_set():
    arch = load_arch("edge-npu", [(["components", "mac_array", "rows"], 100_000_000)])
    message = _error(build_machine, arch)
    assert message.startswith(
        f"{arch._source} (from --set components.mac_array.rows): components.mac_array: "
    )


def test_a_clock_bound_passed_by_a_set_value_names_the_set():
    message = _error(load_arch, "edge-npu", [(["clock"], "1001 GHz")])
    assert " (from --set clock): clock: 1001 GHz is faster than any digital circuit" in message


def test_the_same_bound_from_the_file_names_its_line(tmp_path):
    lines = Path(load_arch("edge-npu")._source).read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("clock:"))
    lines[line - 1] = "clock: 1001 GHz"
    path = tmp_path / "a.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert _error(load_arch, path).startswith(f"{path}:{line}: clock: 1001 GHz is faster")


def test_a_misspelt_scalesim_key_is_named_as_the_file_wrote_it(tmp_path):
    cfg, topology = tmp_path / "c.cfg", tmp_path / "t.csv"
    cfg.write_text(
        "[architecture_presets]\nArrayHeight : 8\nArrayWidth : 8\nIfmapSramSzkB : 64\n"
        "FilterSramSzkB : 64\nOfmapSramSzkB : 64\nDataflow : ws\nBandWith : 50\n"
    )
    topology.write_text("Layer, M, N, K,\ng, 8, 8, 8,\n")
    assert _error(import_scalesim, cfg, topology) == (
        f"{cfg}: [architecture_presets] BandWith: not a key the import reads; did you mean "
        "Bandwidth under [architecture_presets]?"
    )


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 bytes"),
        (1023, "1,023 bytes"),
        (1024, "1.0 KiB"),
        (1536 * 1024, "1.5 MiB"),
        (16 * 2**30, "16.0 GiB"),
        (3 * 2**40, "3.0 TiB"),
    ],
)
def test_bytes_read_in_the_largest_binary_unit_they_reach(count, text):
    assert readable_bytes(count) == text


def test_a_small_memory_limit_prints_in_a_unit_that_shows_it():
    # gemm 256^3 with numerics: 3 x 65,536 elements x 12 B = 2.25 MiB before its steps
    arch, workload = load_arch("edge-npu"), load_workload("gemm-256")
    with pytest.raises(CapacityError) as refused:
        check_cost(arch, workload, True, Limits(max_memory=1024))
    message = str(refused.value)
    assert "MiB of host memory (most in gemm), above the limit of 1.0 KiB;" in message
    needed = float(message.split("about ")[1].split(" MiB")[0])
    assert needed >= 2.25
