"""Valid inputs next to the refusals hostile16 added (YAML booleans, ideal SRAMs, wafer-scale
chips, spreadsheet CSVs, names with brackets), and fixes that are no command-line error: the
Python API's writers and the tables' text."""

import math

import pytest
import yaml

from simulator.cli import main
from simulator.components import build_machine
from simulator.components.die import WAFER_MM2
from simulator.errors import SpecError, UnsupportedError
from simulator.spec import load_arch, load_mapping
from simulator.spec.scalesim import import_scalesim
from simulator.sweep import load_sweep
from simulator.sweep.calibrate import read_measurements

TOO_LONG = "x" * 300  # longer than a file name may be (255 bytes on Linux file systems)


@pytest.mark.parametrize("word", ["true", "yes", "on", "false", "no", "off"])
def test_yaml_booleans_are_switches(word):
    value = yaml.safe_load(word)  # YAML 1.1 reads each of these as a bool
    mapping = load_mapping("auto", [(["double_buffering"], value)])
    assert mapping.double_buffering is (word in ("true", "yes", "on"))


@pytest.mark.parametrize("value", [1, 0, 1.0, "yes", "true"])
def test_numbers_and_text_are_no_switches(value):
    with pytest.raises(SpecError, match="double_buffering: must be true or false"):
        load_mapping("auto", [(["double_buffering"], value)])


def test_a_spreadsheets_empty_last_column_reads_as_the_plain_file(tmp_path):
    rows = [(f"gemm:M={m},N=64,K=64,dtype=bf16", 1e-5 * m / 64) for m in (64, 128, 256)]
    plain, saved = tmp_path / "plain.csv", tmp_path / "saved.csv"
    plain.write_text("workload,seconds\n" + "".join(f'"{w}",{s}\n' for w, s in rows))
    saved.write_text("workload,seconds,,\n" + "".join(f'"{w}",{s},,\n' for w, s in rows))
    read = [(m.workload, m.seconds) for m in read_measurements(saved)]
    assert read == [(m.workload, m.seconds) for m in read_measurements(plain)] == rows
    lines = saved.read_text().splitlines()
    saved.write_text("\n".join([lines[0], lines[1] + "3", *lines[2:]]) + "\n")  # a cell, no name
    with pytest.raises(SpecError, match="line 2: 4 fields where the header names 2"):
        read_measurements(saved)


def test_an_ideal_sram_wider_than_it_holds_is_allowed(tmp_path):
    arch = load_arch("edge-npu", [(["components", "sram", "width"], "1 GiB")])
    assert arch.components["sram"].width == 2**30
    # SCALE-Sim folds its fill bandwidth into the SRAM's width: 128 + 10 x 256 / 2 B > 1 kB
    cfg, topology = tmp_path / "a.cfg", tmp_path / "t.csv"
    cfg.write_text(
        "[architecture_presets]\nArrayHeight : 128\nArrayWidth : 128\nIfmapSramSzkB : 1\n"
        "FilterSramSzkB : 1\nOfmapSramSzkB : 1\nDataflow : ws\nMemoryBanks : 1\n"
        "IfmapOffset : 0\n[run_presets]\nInterfaceBandwidth : CALC\n"
    )
    topology.write_text("Layer name, M, N, K,\ng, 64, 64, 64,\n")
    arch, _, _ = import_scalesim(cfg, topology)
    load_arch(arch)


def test_unbounded_storage_is_left_alone():
    # engine tests write 2^62 banks for a bandwidth that never limits, the work guard's case a
    # 100 GB SRAM: storage is not counted against the wafer
    overrides = [
        (["components", "sram", "banks"], 2**62),
        (["components", "sram", "capacity"], "100 GB"),
    ]
    build_machine(load_arch("edge-npu", overrides))


def test_a_wafer_is_a_300_mm_disc():
    assert WAFER_MM2 == pytest.approx(math.pi * 150**2, rel=1e-5)


def test_a_wafer_scale_chip_is_built_and_a_bigger_one_refused():
    def array(side: int):
        sides = [(["components", "mac_array", d], side) for d in ("rows", "cols")]
        return load_arch("edge-npu", sides)

    machine = build_machine(array(4096))  # 16.8 M PEs: tens of thousands of mm², under a wafer
    assert 0.1 * WAFER_MM2 < machine.components["mac_array"].area_mm2() < WAFER_MM2
    with pytest.raises(SpecError, match="components.mac_array: .* more than a 300 mm wafer"):
        build_machine(array(4 * 4096))  # 16 x the area


def test_names_print_as_written_not_as_markup(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    workload = tmp_path / "w.yaml"
    workload.write_text(
        "name: '[bold]w:smile:'\nops:\n  - {name: '[red]g:smile:', kind: gemm, M: 8, N: 8, K: 8}\n"
    )
    assert main(["run", "edge-npu", str(workload), "--no-numerics"]) == 0
    out = capsys.readouterr().out
    assert "[bold]w:smile:" in out and "[red]g:smile:" in out and "😄" not in out


def test_the_api_writers_name_a_path_the_file_system_refuses(tmp_path):
    from simulator import plots
    from simulator.api import simulate
    from simulator.sweep.search import search_mapping

    report = simulate("edge-npu", "gemm:M=32,N=32,K=32", numerics=False)
    with pytest.raises(UnsupportedError, match="cannot write: File name too long"):
        plots.write_figure(plots.utilization(report), tmp_path / f"{TOO_LONG}.html")
    result = search_mapping("edge-npu", "gemm:M=32,N=32,K=32", top_k=1)
    with pytest.raises(SpecError, match="cannot write: File name too long"):
        result.write(tmp_path / f"{TOO_LONG}.yaml")


def test_a_constraint_may_compare_a_quantity_with_a_plain_number():
    sweep = load_sweep(
        {
            "name": "s",
            "base": {"arch": "edge-npu", "workload": "gemm-256"},
            "grid": {"clock": ["1 GHz", "2 GHz"]},
            "constraints": [{"left": "arch.clock", "op": "<", "right": 1.5e9}],  # in Hz
        }
    )
    assert [p.params["arch.clock"] for p in sweep.points] == ["1 GHz"]


@pytest.mark.parametrize(
    ("act", "mlp"), [("gelu_new", "gelu"), ("quick_gelu", "gelu"), ("swish", "gated_silu")]
)
def test_a_huggingface_activation_of_either_family_is_read(tmp_path, act, mlp):
    from simulator.spec.hf_config import from_hf_config

    config = tmp_path / "config.json"
    config.write_text(
        '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, '
        f'"head_dim": 16, "num_local_experts": 1, "hidden_act": "{act}"}}'
    )
    assert from_hf_config(config)["mlp"] == mlp
