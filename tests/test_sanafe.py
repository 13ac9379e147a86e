"""SANA-FE import: counts equal SANA-FE 2.2.9's and energy agrees on the test chips and network
(golden results from benchmarks/vs_sanafe.py --write-golden), the importer's layout rules, and
one-line errors for what accsim does not model."""

import json
from pathlib import Path

import pytest

import simulator
from simulator.cli import main
from simulator.errors import SpecError, UnsupportedError
from simulator.spec.sanafe import import_arch, import_sanafe, write_import

DATA = Path(__file__).parent / "data" / "sanafe"
GOLDEN = json.loads((Path(__file__).parent / "data" / "sanafe_golden.json").read_text())["cases"]


def imported(tmp_path, arch="chip.yaml", snn="net.yaml", steps=20):
    arch_path, workload_path = write_import(
        tmp_path, *import_sanafe(DATA / arch, DATA / snn, steps)
    )
    return simulator.simulate(arch_path, workload_path)


@pytest.mark.parametrize("case", GOLDEN, ids=[f"{c['arch']}-{c['steps']}" for c in GOLDEN])
def test_counts_equal_sanafe_and_energy_agrees(tmp_path, case):
    report = imported(tmp_path, case["arch"], case["snn"], case["steps"])
    s, golden, energy = report.summary, case["sanafe"], report.energy_by_category
    assert (s["spikes"], s["synaptic_ops"], s["packets"], s["neuron_updates"], s["hops"]) == (
        golden["neurons_fired"],
        golden["synaptic_events"],
        golden["packets"],
        golden["neurons_updated"],
        golden["hops"],
    )
    joules = golden["energy_j"]
    assert s["energy_pj"] == pytest.approx(joules["total"] * 1e12, rel=1e-12)
    assert energy["synaptic_ops"] == pytest.approx(
        (joules["synapse"] + joules["dendrite"]) * 1e12, rel=1e-12
    )
    assert energy["neuron_updates"] + energy["neuron_idle"] == pytest.approx(
        joules["soma"] * 1e12, rel=1e-12
    )
    traffic = energy["spike_traffic_intra_core"] + energy["spike_traffic_inter_core"]
    assert traffic == pytest.approx(joules["network"] * 1e12, rel=1e-12)
    assert s["spike_trains_match"]
    assert s["seconds"] == pytest.approx(golden["sim_time_s"], rel=1e-12)  # its simple timing


def test_tiles_lie_column_major_on_the_mesh():
    arch, units = import_arch(DATA / "chip.yaml")
    # SANA-FE: tile t at x = t // height, y = t % height; 2 cores per tile
    assert arch["cores"]["nodes"] == [0, 0, 2, 2, 1, 1, 3, 3]
    assert arch["cores"]["per_node"] == 2 and units["first_soma"] == "lif"
    core = arch["cores"]["components"]["core"]
    assert core["synapse"]["fast_synapse"]["energy"] == "11.5 pJ"  # 11 pJ synapse + 0.5 pJ dendrite
    assert core["hop_energy"] == {"east": "3 pJ", "west": "7 pJ", "north": "2 pJ", "south": "5 pJ"}
    assert core["barrier"] == {1: "100 ns", 2: "100 ns", 3: "300 ns"}  # SANA-FE's step table


def test_cli_import_then_run(tmp_path, capsys):
    assert (
        main(
            [
                "import-sanafe",
                str(DATA / "chip.yaml"),
                str(DATA / "net.yaml"),
                "-o",
                str(tmp_path),
                "--steps",
                "20",
            ]
        )
        == 0
    )
    assert (
        main(["run", str(tmp_path / "arch.yaml"), str(tmp_path / "workload.yaml"), "--json"]) == 0
    )
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{") :])
    assert summary["synaptic_ops"] == GOLDEN[0]["sanafe"]["synaptic_events"]


def _variant(tmp_path, name, old, new, source="chip.yaml"):
    text = (DATA / source).read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def test_unsupported_features_are_one_line_errors(tmp_path):
    ring = _variant(tmp_path, "ring.yaml", "topology: mesh", "topology: ring")
    with pytest.raises(UnsupportedError, match="topology 'ring'; accsim imports SANA-FE meshes"):
        import_arch(ring)
    dendrite = _variant(
        tmp_path, "dendrite.yaml", "buffer_position: soma", "buffer_position: dendrite"
    )
    with pytest.raises(UnsupportedError, match="buffer_position 'dendrite'"):
        import_arch(dendrite)
    shared = _variant(
        tmp_path,
        "shared.yaml",
        '  - in.3: [core: 3.1, soma: "source[3]"]',
        '  - in.3: [core: 3.1, soma: "source[2]"]',
        "net.yaml",
    )
    with pytest.raises(UnsupportedError, match=r"in.3 shares soma unit source\[2\] with in.2"):
        import_sanafe(DATA / "chip.yaml", shared)
    delayed = _variant(
        tmp_path,
        "delay.yaml",
        "in.3 -> a.3: [weight: 2]",
        "in.3 -> a.3: [weight: 2, delay: 1]",
        "net.yaml",
    )
    with pytest.raises(UnsupportedError, match="synaptic delays are not modelled"):
        import_sanafe(DATA / "chip.yaml", delayed)
    with pytest.raises(SpecError, match="not a SANA-FE network file"):
        import_sanafe(DATA / "chip.yaml", DATA / "chip.yaml")


def test_bad_values_are_one_line_errors(tmp_path):
    width = _variant(tmp_path, "width.yaml", "width: 2", "width: two")
    with pytest.raises(SpecError, match="width and height must be integers, got 'two'"):
        import_arch(width)
    for old, new, message in (
        ("in.2 -> a.2: {weight: 6}", "in.2 -> a.9: {weight: 6}", r"no neuron a\.9"),
        ("in.0 -> a.0: [weight: 4]", "in.0 -> a.7: [weight: 4]", r"no neuron a\.7"),
        ("in.2 -> a.2: {weight: 6}", "in.2 -> zz.2: {weight: 6}", "no neuron group 'zz'"),
    ):
        net = _variant(tmp_path, "edge.yaml", old, new, "net.yaml")
        with pytest.raises(SpecError, match=message):
            import_sanafe(DATA / "chip.yaml", net)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00network")
    with pytest.raises(SpecError, match="not a UTF-8 text file"):
        import_sanafe(DATA / "chip.yaml", binary)


def test_single_edges_read_by_regex_equal_the_yaml_form(tmp_path):
    """The same edges written as '{weight: w}' lines (regex path) and as '[weight: w]' (YAML
    path) give the same synapses."""
    text = (DATA / "net.yaml").read_text()
    flow = _variant(tmp_path, "flow.yaml", "[weight: 4]", "{weight: 4}", "net.yaml")
    _, _, regex_arrays = import_sanafe(DATA / "chip.yaml", flow, 20)
    _, _, yaml_arrays = import_sanafe(DATA / "chip.yaml", DATA / "net.yaml", 20)
    assert "{weight: 4}" in flow.read_text() and "[weight: 4]" in text

    def synapses(arrays):
        rows = []
        for key, pairs in arrays.items():
            if key.endswith(".pairs") and key.replace(".pairs", ".weights") in arrays:
                weights = arrays[key.replace(".pairs", ".weights")]
                rows += [(key, int(s), int(d), float(w)) for (s, d), w in zip(pairs, weights)]
        return sorted(rows)

    assert synapses(regex_arrays) == synapses(yaml_arrays)
