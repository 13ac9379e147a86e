"""SANA-FE import: counts equal SANA-FE 2.2.9's, energy agrees, simulated time matches under its
simple and detailed timing models, and truenorth spike trains equal its own, on the test chips and
networks (golden results from benchmarks/vs_sanafe.py --write-golden); the detailed model's
schedule against a hand-worked example; the importer's layout rules; one-line errors for what
accsim does not model."""

import json
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.cli import main
from simulator.engine.sanafe_detailed import DetailedNoc
from simulator.errors import SpecError, UnsupportedError
from simulator.numerics.glibc_rand import GlibcRand
from simulator.spec.sanafe import import_arch, import_sanafe, write_import

DATA = Path(__file__).parent / "data" / "sanafe"
GOLDEN = json.loads((Path(__file__).parent / "data" / "sanafe_golden.json").read_text())["cases"]


def imported(tmp_path, arch="chip.yaml", snn="net.yaml", steps=20, timing="simple"):
    arch_path, workload_path = write_import(
        tmp_path, *import_sanafe(DATA / arch, DATA / snn, steps, timing)
    )
    return simulator.simulate(arch_path, workload_path)


@pytest.mark.parametrize(
    "case", GOLDEN, ids=[f"{c['arch']}-{c['snn']}-{c['steps']}-{c['timing']}" for c in GOLDEN]
)
def test_counts_equal_sanafe_and_energy_agrees(tmp_path, case):
    report = imported(tmp_path, case["arch"], case["snn"], case["steps"], case["timing"])
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
    steps = (report.steps["cycles"] / report.clock_hz).to_numpy()
    theirs = np.array(golden["step_s"])  # its trace's 7 significant digits
    if case["timing"] == "simple":
        assert s["seconds"] == pytest.approx(golden["sim_time_s"], rel=1e-12)
        assert steps == pytest.approx(theirs, rel=1e-6)
    else:  # detailed: every step within 1 %; all but where SANA-FE orders by heap address equal
        assert s["seconds"] == pytest.approx(golden["sim_time_s"], rel=1e-3)
        assert steps == pytest.approx(theirs, rel=1e-2)
        assert np.sum(np.abs(steps - theirs) <= 1e-6 * theirs) >= len(theirs) - 2
    names = [f"{g.name}.{i}" for g in report.net.groups for i in range(g.size)]
    logged = {n.split(".")[0] for _, n in golden["spike_trace"]}
    ours = sorted(
        (t + 1, names[i])
        for t, fired in enumerate(report.record.fired)
        for i in fired.tolist()
        if names[i].split(".")[0] in logged
    )
    assert ours == sorted(tuple(x) for x in golden["spike_trace"])  # SANA-FE's own spike trace


def test_truenorth_network_is_checked_and_logs_every_group():
    """The truenorth case's golden trace holds every group, so the check above covers all of
    its spikes, the stochastic (random_mask) group's included."""
    case = next(c for c in GOLDEN if c["snn"] == "tn_net.yaml")
    groups = {n.split(".")[0] for _, n in case["sanafe"]["spike_trace"]}
    assert groups == {"in", "hard", "soft", "sat", "keep", "noisy"}


def test_glibc_rand_gives_glibcs_first_values():
    # srand(1); rand() x 3 on glibc: 1804289383, 846930886, 1681692777 (its documented stream)
    assert GlibcRand(1).draw(3) == [1804289383, 846930886, 1681692777]


def _noc(buffer=0, per_tile=3, width=1, height=1):
    hops = {"east": 1e-9, "west": 2e-9, "north": 3e-9, "south": 4e-9}
    cores = width * height * per_tile
    xy = [(t // height, t % height) for t in range(width * height) for _ in range(per_tile)]
    offsets = [c % per_tile for c in range(cores)]
    return DetailedNoc(xy, offsets, height, width, per_tile, hops, buffer)


def test_detailed_schedule_by_hand():
    """One tile, three cores, link_buffer_size 0 (any message met on the route blocks). Core 1
    sends B to core 2 (generation 0.5, processing 2); core 0 sends A1 (1.0, 4) then A2 (0.5, 2).
    B: sent 0.5, lands at once, core 2 busy to 2.5. A1 (sent 1.0): B was received at 0.5, so it
    leaves the NoC (mean 0); A1 waits for core 2 until 2.5, done at 6.5, and puts density 1/2 on
    core 0's output link, mean processing 4. A2 (sent 1.5): A1 is still in flight (received
    2.5), so the route holds 0.5 > 0: it blocks 0.5 x 4 = 2 (sent 3.5) and travels
    0.5 x 4 / 1 = 2 (at 5.5); core 2 is busy until 6.5, so it is done at 8.5."""
    noc = _noc()
    a, b = noc.pair(0, 2), noc.pair(1, 2)
    assert noc.schedule([[(1.0, a, 4.0), (0.5, a, 2.0)], [(0.5, b, 2.0)], []], 3) == 8.5
    # with room on the link (buffer 1): no blocking, A2 travels 2 from 1.5, done at 6.5 + 2
    noc = _noc(buffer=1)
    a, b = noc.pair(0, 2), noc.pair(1, 2)
    assert noc.schedule([[(1.0, a, 4.0), (0.5, a, 2.0)], [(0.5, b, 2.0)], []], 3) == 8.5
    # a placeholder only moves its core's clock
    assert noc.schedule([[(1.0, None, 0.0), (2.0, None, 0.0)], [], []], 3) == 3.0


def test_detailed_routes_follow_sanafes_link_indexing():
    """2 x 2 tiles of two cores (6 links a router: N, E, S, W and two core ports). From tile
    (0, 0) core 1 to tile (1, 1): its own port at (0, 0), then east into (1, 0), then north
    into (1, 1): indices x * 2 * 6 + y * 6 + link = 5, 13, 18; one hop east and one north."""
    noc = _noc(per_tile=2, width=2, height=2)
    dst, links, hops1, capacity, min_hop, adjust = noc.pair(1, 6)
    assert (dst, links, hops1, capacity, adjust) == (6, (5, 13, 18), 3.0, 0.0, 0.25)
    assert min_hop == 1e-9 + 3e-9
    assert noc.pair(0, 1)[1] == (4,)  # same tile: the sender's port only


def test_tiles_lie_column_major_on_the_mesh():
    arch, units = import_arch(DATA / "chip.yaml")
    # SANA-FE: tile t at x = t // height, y = t % height; 2 cores per tile
    assert arch["cores"]["nodes"] == [0, 0, 2, 2, 1, 1, 3, 3]
    assert arch["cores"]["per_node"] == 2 and units["first_soma"] == "lif"
    core = arch["cores"]["components"]["core"]
    assert core["synapse"]["fast_synapse"]["energy"] == "11.5 pJ"  # 11 pJ synapse + 0.5 pJ dendrite
    assert core["hop_energy"] == {"east": "3 pJ", "west": "7 pJ", "north": "2 pJ", "south": "5 pJ"}
    assert core["barrier"] == {1: "1e-07 s", 2: "1e-07 s", 3: "3e-07 s"}  # SANA-FE's step table


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


def test_a_core_updates_its_neurons_in_the_order_the_mappings_place_them(tmp_path):
    """wide_mapped_net lists cv and h1 interleaved on one core: under the detailed model the
    core's messages follow that order, and every step equals SANA-FE's (in group order two
    steps were 1.4 % off)."""
    _, workload, _ = import_sanafe(DATA / "chip_wide.yaml", DATA / "wide_mapped_net.yaml", 40)
    assert workload["placement"][:2] == [
        {"group": "cv", "neurons": [0, 5], "core": 3},
        {"group": "h1", "neurons": [0, 3], "core": 3},
    ]
    case = next(
        c for c in GOLDEN if c["snn"] == "wide_mapped_net.yaml" and c["timing"] == "detailed"
    )
    report = imported(tmp_path, "chip_wide.yaml", "wide_mapped_net.yaml", 40, "detailed")
    steps = (report.steps["cycles"] / report.clock_hz).to_numpy()
    assert steps == pytest.approx(np.array(case["sanafe"]["step_s"]), rel=1e-6)


def test_a_saturating_lif_reset_keeps_the_potential_as_sanafe_does(tmp_path):
    """SANA-FE 2.2.9's LIF resets only hard and soft, so `saturate` runs as `none`: its run of
    wide_net with cv saturating is wide_net's, trace for trace (checked with SANA-FE), and so is
    accsim's import of it."""
    snn = _variant(
        tmp_path,
        "sat.yaml",
        "reset_mode: none, leak_decay: 0.8",
        "reset_mode: saturate, leak_decay: 0.8",
        "wide_net.yaml",
    )
    _, workload, _ = import_sanafe(DATA / "chip_wide.yaml", snn, 40, "simple")
    cv = next(g for g in workload["groups"] if g["name"] == "cv")
    assert cv["neuron"]["reset"] == "none"
    case = next(c for c in GOLDEN if c["snn"] == "wide_net.yaml" and c["timing"] == "simple")
    report = imported(tmp_path / "out", "chip_wide.yaml", snn, 40, "simple")
    assert report.summary["spikes"] == case["sanafe"]["neurons_fired"]
    assert report.summary["synaptic_ops"] == case["sanafe"]["synaptic_events"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("threshold: 2.5, leak_decay", "threshold: 2.3, leak_decay", "groups h1: threshold 2.3"),
        ("{bias: -0.25}", "{bias: -0.1}", "groups h1: bias -0.1"),
        (
            "out.3 -> h1.0: [weight: -3]",
            "out.3 -> h1.0: [weight: 0.3]",
            "edges out->h1: weight 0.3",
        ),
    ],
)
def test_values_off_sanafes_potential_grid_are_one_line_errors(tmp_path, old, new, message):
    """SANA-FE's LIF keeps potentials on a 1/64 grid, so values on it run exactly (as integers
    in units of 2^-f); one off it is refused at import, naming where it is."""
    snn = _variant(tmp_path, "off.yaml", old, new, "wide_frac_net.yaml")
    with pytest.raises(UnsupportedError) as error:
        import_sanafe(DATA / "chip_wide.yaml", snn)
    assert str(error.value) == (
        f"{snn}: {message} is not a multiple of 1/64: accsim runs SANA-FE's neurons exactly, "
        "on its potential grid"
    )


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
