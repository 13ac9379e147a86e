"""SCALE-Sim compatibility against golden outputs of the real SCALE-Sim 3.0.0 (tests/data).

The golden file was produced by benchmarks/make_scalesim_golden.py running SCALE-Sim itself; see
docs/scalesim-notes.md. accsim's `scalesim` accounting must reproduce its compute cycles, and its
total cycles and utilization wherever SCALE-Sim reports no stalls.
"""

import json
from pathlib import Path

import pytest

import simulator
from simulator.errors import SpecError
from simulator.spec.scalesim import import_scalesim, read_topology

GOLDEN = json.loads((Path(__file__).parent.parent / "data" / "scalesim_golden.json").read_text())
CASES = {case["id"]: case for case in GOLDEN["cases"]}


def _smallest_sram_kb(case) -> int:
    presets = case["config"]["architecture_presets"]
    return min(presets[f"{x}SramSzkB"] for x in ("Ifmap", "Filter", "Ofmap"))


def simulate_case(case, tmp_path):
    cfg, topo = tmp_path / "run.cfg", tmp_path / "topology.csv"
    cfg.write_text(case["cfg_text"])
    topo.write_text(case["topology_text"])
    arch, workload, mapping = import_scalesim(cfg, topo)
    return simulator.simulate(arch, workload, mapping, numerics=False).summary


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_compute_and_total_cycles_match_scalesim(case_id, tmp_path):
    case = CASES[case_id]
    summary = simulate_case(case, tmp_path)
    assert [layer["name"] for layer in summary["layers"]] == [r["name"] for r in case["results"]]
    for ours, theirs in zip(summary["layers"], case["results"]):
        if theirs["stall_cycles"] == 0:  # every stall-free layer, 1 kB SRAMs included
            assert ours["total_cycles"] == theirs["total_cycles"]
            assert ours["overall_util_pct"] == pytest.approx(theirs["overall_util_pct"], rel=1e-12)
        # SCALE-Sim's compute cycles are its Total less its Stall (folds x cycles per fold - 1),
        # on every layer, also where the streamed dim is split to fit small buffers
        if _smallest_sram_kb(case) == 1:  # may not hold an array-aligned double-buffered tile:
            # accsim then runs smaller folds, SCALE-Sim streams through the buffer
            assert ours["compute_cycles"] >= theirs["total_cycles"] - theirs["stall_cycles"]
            continue
        assert ours["compute_cycles"] == theirs["total_cycles"] - theirs["stall_cycles"]


@pytest.mark.parametrize("case_id", [c for c in sorted(CASES) if c.startswith("conv")])
def test_conv_rows_lower_to_scalesims_gemm_dims(case_id, tmp_path):
    case = CASES[case_id]
    topo = tmp_path / "topology.csv"
    topo.write_text(case["topology_text"])
    ops = read_topology(topo)
    assert [[op["M"], op["N"], op["K"]] for op in ops] == [r["gemm_mnk"] for r in case["results"]]


def test_conv_lowering_by_hand(tmp_path):
    # 16x16 ifmap, 3x3 filter, 8 channels, 16 filters, stride 2: Ho = Wo = ceil((16-3+2)/2) = 8
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, H, W, Fh, Fw, C, F, S,\nc, 16, 16, 3, 3, 8, 16, 2,\n")
    (op,) = read_topology(topo)
    assert (op["M"], op["N"], op["K"]) == (64, 16, 72)


def test_a_rows_last_field_is_dropped_as_scalesim_drops_it(tmp_path):
    # SCALE-Sim reads row.split(',')[:-1]: its own mobilenet topology writes '#dw' there; a row
    # without the trailing comma keeps its last number (SCALE-Sim would fail on it)
    topo = tmp_path / "t.csv"
    rows = ["c, 7, 7, 3, 3, 1, 1, 1,#dw", "c, 7, 7, 3, 3, 1, 1, 1,", "c, 7, 7, 3, 3, 1, 1, 1"]
    for row in rows:
        topo.write_text(f"Layer, H, W, Fh, Fw, C, F, S,\n{row}\n")
        (op,) = read_topology(topo)
        assert (op["M"], op["N"], op["K"]) == (25, 1, 9)  # Ho = Wo = 7 - 3 + 1


def test_tolerates_missing_sections_and_mixed_case_keys(tmp_path):
    cfg = tmp_path / "min.cfg"
    cfg.write_text(
        "[architecture_presets]\narrayheight = 4\nARRAYWIDTH: 4\nifmapsramszkb: 64\n"
        "FilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow: OS\n"
    )
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ng, 8, 8, 8,\n")
    arch, workload, mapping = import_scalesim(cfg, topo)
    summary = simulator.simulate(arch, workload, mapping).summary
    # os 4x4, 8x8x8: folds 2*2 = 4, each K + R + C - 2 = 14 -> 56 rows, SCALE-Sim's 55 cycles
    assert summary["compute_cycles"] == 55 and summary["numerics_ok"]


def test_missing_array_height_is_a_one_line_error(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("[architecture_presets]\nArrayWidth: 4\n")
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ng, 8, 8, 8,\n")
    with pytest.raises(SpecError) as error:
        import_scalesim(cfg, topo)
    assert str(error.value) == f"{cfg}: [architecture_presets] ArrayHeight: missing required key"


def test_cli_runs_a_scalesim_pair_and_imports_it(tmp_path, capsys):
    case = CASES["gemm_large_ws_8x8"]
    cfg, topo = tmp_path / "run.cfg", tmp_path / "topology.csv"
    cfg.write_text(case["cfg_text"])
    topo.write_text(case["topology_text"])
    from simulator.cli import main

    assert main(["run", str(cfg), str(topo), "--json", "--no-numerics"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["layers"][0]["total_cycles"] == case["results"][0]["total_cycles"]
    assert main(["import-scalesim", str(cfg), str(topo), "-o", str(tmp_path / "out")]) == 0
    for name in ("arch", "workload", "mapping"):
        assert (tmp_path / "out" / f"{name}.yaml").is_file()
    report = simulator.simulate(
        tmp_path / "out" / "arch.yaml",
        tmp_path / "out" / "workload.yaml",
        tmp_path / "out" / "mapping.yaml",
        numerics=False,
    )
    assert report.summary["layers"][0]["total_cycles"] == case["results"][0]["total_cycles"]


def test_one_cycle_layer_has_no_utilization_rather_than_a_crash():
    # 1x1x1 on a 1x1 os array: one fold of K + R + C - 2 = 1 cycle, so SCALE-Sim's total is 0
    from tests.conftest import tiny_arch

    mapping = {"dataflow": "os", "accounting": "scalesim"}
    summary = simulator.simulate(tiny_arch(1, 1), "gemm:M=1,N=1,K=1,dtype=int8", mapping).summary
    assert summary["layers"][0]["total_cycles"] == 0
    assert summary["overall_util_pct"] is None


def test_each_operand_has_its_own_dram_bandwidth(tmp_path):
    """A GEMV is bound by its filter: K x N one-byte words at 2 words/cycle take at least K N / 2
    cycles, however fast the other two interfaces are (one summed bus would take a third)."""
    cfg = tmp_path / "gemv.cfg"
    cfg.write_text(
        "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nIfmapSramSzkB: 1024\n"
        "FilterSramSzkB: 1024\nOfmapSramSzkB: 1024\nDataflow: ws\nBandwidth: 2\n"
        "[layout]\nIfmapSRAMBankBandwidth: 2\nFilterSRAMBankBandwidth: 2\n"
        "[run_presets]\nInterfaceBandwidth: USER\n"
    )
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ngemv, 1, 256, 256,\n")
    arch, workload, mapping = import_scalesim(cfg, topo)
    assert arch["components"]["dram"]["operand_bandwidth"] == {
        "input": "2 GB/s",
        "weight": "2 GB/s",
        "output": "8 GB/s",  # 2 words of 4-byte accumulators
    }
    summary = simulator.simulate(arch, workload, mapping, numerics=False).summary
    assert summary["cycles"] >= 256 * 256 / 2


def test_bad_scalesim_files_are_one_line_errors(tmp_path):
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ng, 8, 8, 8,\n")
    cfg = tmp_path / "pct.cfg"
    cfg.write_text("[architecture_presets]\nArrayHeight: %(x)s\nArrayWidth: 4\n")
    with pytest.raises(SpecError, match=r"ArrayHeight: expected int, got '%\(x\)s'"):
        import_scalesim(cfg, topo)
    binary = tmp_path / "latin.cfg"
    binary.write_bytes("[architecture_presets]\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="not a UTF-8 text file"):
        import_scalesim(binary, topo)


@pytest.mark.parametrize("rate", [1, 2, 4])
def test_utilization_counts_the_arrays_rate(rate):
    """An 8x8 os fold of K = 256 streams ceil(256 / rate) elements: SCALE-Sim's compute cycles
    T + R + C - 2 less one; utilization is MNK over those cycles times R C rate (never over 100)."""
    from tests.conftest import tiny_arch

    arch = tiny_arch(8, 8)
    arch["components"]["pe"]["rate"] = {"int8": rate}
    mapping = {"dataflow": "os", "accounting": "scalesim"}
    summary = simulator.simulate(arch, "gemm:M=8,N=8,K=256,dtype=int8", mapping).summary
    total = -(-256 // rate) + 8 + 8 - 2 - 1
    assert summary["layers"][0]["total_cycles"] == total
    assert summary["overall_util_pct"] == pytest.approx(100 * 8 * 8 * 256 / (total * 64 * rate))


def _write_cfg(tmp_path, **changes):
    """A complete USER-mode SCALE-Sim config for a 4x4 array, with some `Key: value` lines
    replaced (keys as SCALE-Sim spells them)."""
    lines = {
        "ArrayHeight": "4",
        "ArrayWidth": "4",
        "IfmapSramSzkB": "64",
        "FilterSramSzkB": "64",
        "OfmapSramSzkB": "64",
        "Bandwidth": "4",
        "Dataflow": "ws",
        "IfmapCustomLayout": "False",
        "FilterCustomLayout": "False",
        "SparsitySupport": "false",
        "InterfaceBandwidth": "USER",
        "UseRamulatorTrace": "False",
        **changes,
    }
    sections = {
        "architecture_presets": lines.keys()
        - {
            "IfmapCustomLayout",
            "FilterCustomLayout",
            "SparsitySupport",
            "InterfaceBandwidth",
            "UseRamulatorTrace",
        },
        "layout": {"IfmapCustomLayout", "FilterCustomLayout"},
        "sparsity": {"SparsitySupport"},
        "run_presets": {"InterfaceBandwidth", "UseRamulatorTrace"},
    }
    text = "".join(
        f"[{section}]\n" + "".join(f"{key}: {lines[key]}\n" for key in sorted(keys))
        for section, keys in sections.items()
    )
    cfg = tmp_path / "run.cfg"
    cfg.write_text(text)
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ng, 8, 8, 8,\n")
    return cfg, topo


@pytest.mark.parametrize(
    "key, value, message",
    [
        # SCALE-Sim 3.0.0 runs any Dataflow other than exact 'ws'/'is' as os
        ("Dataflow", "WS", "Dataflow: SCALE-Sim 3.0.0 runs 'WS' as os"),
        ("Dataflow", "Is", "Dataflow: SCALE-Sim 3.0.0 runs 'Is' as os"),
        ("Dataflow", "weight", "Dataflow: SCALE-Sim 3.0.0 runs 'weight' as os"),
        ("SparsitySupport", "True", "SparsitySupport: 'True' turns on structured sparsity"),
        ("IfmapCustomLayout", "yes", "IfmapCustomLayout: 'yes' turns on custom SRAM layouts"),
        ("FilterCustomLayout", "1", "FilterCustomLayout: '1' turns on custom SRAM layouts"),
        ("UseRamulatorTrace", "True", "UseRamulatorTrace: 'True' turns on Ramulator DRAM"),
        ("InterfaceBandwidth", "AUTO", "InterfaceBandwidth: must be USER or CALC, got 'AUTO'"),
    ],
)
def test_switches_scalesim_reads_differently_are_refused(tmp_path, key, value, message):
    """An input SCALE-Sim would run as something else, or with a feature accsim does not model,
    is a one-line error naming the file and key rather than a different result."""
    cfg, topo = _write_cfg(tmp_path, **{key: value})
    with pytest.raises(SpecError) as error:
        import_scalesim(cfg, topo)
    assert str(error.value).startswith(f"{cfg}: [") and message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "key, value", [("Dataflow", "OS"), ("UseRamulatorTrace", "true"), ("SparsitySupport", "no")]
)
def test_values_scalesim_reads_as_written_are_accepted(tmp_path, key, value):
    # 'OS' runs os in SCALE-Sim too; Ramulator is on only for the exact string 'True'
    import_scalesim(*_write_cfg(tmp_path, **{key: value}))


def test_bandwidth_list_uses_its_first_value(tmp_path):
    arch, _, _ = import_scalesim(*_write_cfg(tmp_path, Bandwidth="3, 100"))
    assert arch["components"]["dram"]["operand_bandwidth"]["output"] == "12 GB/s"  # 3 words x 4 B


@pytest.mark.parametrize(
    ("key", "value"),
    [("ArrayHeight", "0"), ("IfmapSramSzkB", "-4"), ("Bandwidth", "0, 3"), ("ArrayWidth", "-1")],
)
def test_sizes_and_bandwidths_must_be_positive(tmp_path, key, value):
    cfg, topo = _write_cfg(tmp_path, **{key: value})
    with pytest.raises(SpecError) as error:
        import_scalesim(cfg, topo)
    assert str(error.value) == f"{cfg}: [architecture_presets] {key}: must be > 0, got '{value}'"


def test_a_layer_of_size_zero_names_its_line(tmp_path):
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ng1, 8, 8, 8,\ng2, 0, 8, 8,\n")
    with pytest.raises(SpecError, match=r"t.csv:3: g2: sizes must be > 0, got \[0, 8, 8\]"):
        read_topology(topo)


def test_conv_row_with_two_strides_is_refused(tmp_path):
    # the old two-stride layout crashes SCALE-Sim 3.0.0 (it reads the second stride as N:M)
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, H, W, Fh, Fw, C, F, Sh, Sw,\nc, 8, 8, 3, 3, 2, 4, 1, 2,\n")
    with pytest.raises(SpecError, match=r"t.csv:2: expected 3 \(GEMM\) or 7 \(conv, one stride\)"):
        read_topology(topo)


def test_auto_prices_each_operand_on_its_own_interface(tmp_path):
    """ws 9x4, 11x150x33, the ifmap's 4 kB SRAM filled at 2 words a cycle: tiles that re-read
    the 363-word ifmap for every 4-column N tile keep its interface busy 38 x 182 cycles, more
    than the compute; priced on the interfaces' sum they looked free. Each interface stays under
    the compute, so the layer is SCALE-Sim's stall-free folds x cycles per fold - 1 (K 33 on 9
    rows: 4 folds, N 150 on 4 columns: 38; each M + 2R + C - 2 = 31 cycles)."""
    case = CASES["gemm_small_ws_9x4_4kB_bw2"]
    cfg, topo = tmp_path / "run.cfg", tmp_path / "topology.csv"
    cfg.write_text(case["cfg_text"])
    topo.write_text("Layer, M, N, K,\ng, 11, 150, 33,\n")
    report = simulator.simulate(*import_scalesim(cfg, topo), numerics=False)
    compute = 4 * 38 * 31 - 1
    assert report.summary["layers"][0]["total_cycles"] == compute
    assert max(report.record.interface_busy.values()) <= compute
