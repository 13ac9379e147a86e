"""accsim against SANA-FE on the same chip and network: counts, energy and run time.

SANA-FE (GPL) runs in its own venv through benchmarks/sanafe_runner.py; accsim imports the same
files (`accsim import-sanafe`) and simulates them with numerics on. Cases: the small chips and
network in tests/data/sanafe (written for the importer tests), SANA-FE's bundled example, and
with --dvs its DVS-gesture network on its Loihi description (benchmarks/sanafe_dvs.py), 1000 steps.

    python3 -m venv ~/venvs/sanafe && ~/venvs/sanafe/bin/pip install sanafe==2.2.9
    python benchmarks/vs_sanafe.py --sanafe-python ~/venvs/sanafe/bin/python [--dvs] [--saved]
        [--write-golden]

--saved also imports the DVS network as SANA-FE's Network.save writes it (one line per synapse,
3.6 M lines) and runs it in accsim (SANA-FE itself is not rerun on it).

Every case runs under SANA-FE's simple and detailed timing models (its run option; accsim's
import takes the same one, `import_sanafe(..., timing=...)`), and the table gives how many time
steps' simulated times agree to the 7 digits SANA-FE's trace prints and the largest relative
difference of any step.

--speed N runs only the DVS network, N times under each timing model, SANA-FE and accsim
interleaved (their order alternating) in fresh processes each, and prints each pair's CPU seconds
and their ratio, and the median ratio: on a loaded machine only runs side by side compare.

--write-golden stores SANA-FE's results (per-step times included) for the tests/data/sanafe cases
in tests/data/sanafe_golden.json, which tests/test_sanafe.py checks accsim against, and its
totals and per-step times for the bundled example and DVS (those inputs are SANA-FE's, GPL, so
only its results are kept; this script checks them).
"""

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sanafe_dvs import write_dvs  # noqa: E402

import simulator  # noqa: E402
from simulator.spec.sanafe import import_sanafe, write_import  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "sanafe"
GOLDEN = REPO / "tests" / "data" / "sanafe_golden.json"
TEST_CASES = [
    ("chip.yaml", "net.yaml", 20),
    ("chip.yaml", "net.yaml", 60),
    ("chip_forced.yaml", "net.yaml", 60),
    ("chip_busy.yaml", "net.yaml", 60),
    ("tn_chip.yaml", "tn_net.yaml", 100),
    ("chip_wide.yaml", "wide_net.yaml", 40),
    ("chip_wide.yaml", "wide_frac_net.yaml", 40),
    ("chip_wide.yaml", "wide_reverse_net.yaml", 40),
    ("chip_wide.yaml", "wide_mapped_net.yaml", 40),
    ("chip_wide.yaml", "wide_force_net.yaml", 40),
    ("tn_chip.yaml", "tn_force_net.yaml", 100),
]
TIMINGS = ("simple", "detailed")


def run_sanafe(python: str, arch: Path, snn: Path, steps: int, timing: str) -> dict:
    out = subprocess.run(
        [
            python,
            str(REPO / "benchmarks" / "sanafe_runner.py"),
            str(arch),
            str(snn),
            str(steps),
            timing,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_accsim(arch: Path, snn: Path, steps: int, timing: str) -> dict:
    cpu = time.process_time()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        arch_path, workload_path = write_import(
            Path(folder), *import_sanafe(arch, snn, steps, timing)
        )
        arch_spec, workload = simulator.load_arch(arch_path), simulator.load_workload(workload_path)
        imported = time.perf_counter()
        report = simulator.simulate(arch_spec, workload)
    done = time.perf_counter()
    s, energy = report.summary, report.energy_by_category
    return {
        "neurons_fired": s["spikes"],
        "synaptic_events": s["synaptic_ops"],
        "packets": s["packets"],
        "neurons_updated": s["neuron_updates"],
        "hops": s["hops"],
        "energy_pj": s["energy_pj"],
        "synapse_pj": energy["synaptic_ops"],
        "soma_pj": energy["neuron_updates"] + energy["neuron_idle"],
        "network_pj": energy["spike_traffic_intra_core"] + energy["spike_traffic_inter_core"],
        "sim_time_s": s["seconds"],
        "step_s": (report.steps["cycles"] / report.clock_hz).tolist(),
        "spike_trace": spike_trace(report),
        "spike_trains_match": s["spike_trains_match"],
        "import_s": imported - start,
        "run_s": done - imported,
        "cpu_s": time.process_time() - cpu,
    }


def _child_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process(command: list) -> tuple[dict, float]:
    """Run a command that prints one JSON line last: that line and the process's CPU seconds."""
    before = _child_cpu()
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]), _child_cpu() - before


def print_speed(python: str, arch: Path, snn: Path, repeats: int) -> None:
    """SANA-FE and accsim on one case, interleaved, each run in a fresh process: CPU seconds of
    the run as each measures it (SANA-FE: load + run; accsim: import + run + numerics check)
    and of the whole process (interpreter start and module imports included)."""
    runner = [python, str(REPO / "benchmarks" / "sanafe_runner.py"), str(arch), str(snn), "1000"]
    ours = [sys.executable, __file__, "--sanafe-python", python, "--accsim-run", str(arch)]
    ours += [str(snn), "1000"]
    print(
        "| timing | repeat | SANA-FE CPU s (process) | accsim CPU s (process) | accsim / SANA-FE "
        "| sim time equal (1e-12) |"
    )
    print("|---|---|---|---|---|---|")
    ratios = {t: [] for t in TIMINGS}
    for r in range(repeats):
        for timing in TIMINGS:
            pair = [(runner, "sanafe"), (ours, "accsim")]
            results = dict(
                (name, _process(command + [timing])) for command, name in pair[:: 1 - 2 * (r % 2)]
            )
            (theirs, their_cpu), (mine, my_cpu) = results["sanafe"], results["accsim"]
            ratios[timing].append(mine["cpu_s"] / theirs["cpu_s"])
            print(
                f"| {timing} | {r + 1} | {theirs['cpu_s']:.2f} ({their_cpu:.2f}) "
                f"| {mine['cpu_s']:.2f} ({my_cpu:.2f}) | {ratios[timing][-1]:.2f} "
                f"| {'yes' if abs(mine['sim_time_s'] / theirs['sim_time_s'] - 1) < 1e-12 else 'NO'} |"
            )
    for timing in TIMINGS:
        print(f"median ratio, {timing}: {statistics.median(ratios[timing]):.2f}")


def spike_trace(report) -> list:
    """(step, "group.i") of every spike, steps from 1 as SANA-FE numbers them."""
    names = [f"{g.name}.{i}" for g in report.net.groups for i in range(g.size)]
    return sorted(
        (t + 1, names[i]) for t, fired in enumerate(report.record.fired) for i in fired.tolist()
    )


def _logged(sanafe: dict, accsim: dict) -> bool | None:
    """Whether accsim's spikes of the neurons SANA-FE logged are SANA-FE's (None: none logged)."""
    theirs = [tuple(s) for s in sanafe["spike_trace"]]
    logged = {n.split(".")[0] for _, n in theirs}  # groups; SANA-FE's tests log whole groups
    ours = [s for s in accsim["spike_trace"] if s[1].split(".")[0] in logged]
    return theirs == ours if theirs else None


def _relative(mine: float, theirs: float) -> float:
    """|mine - theirs| / |theirs|, 0 where both are 0 (a chip whose every cost is 0)."""
    if theirs == 0:
        return 0.0 if mine == 0 else math.inf
    return abs(mine - theirs) / abs(theirs)


def compare(name: str, sanafe: dict, accsim: dict) -> dict:
    e = sanafe["energy_j"]
    counts = ("neurons_fired", "synaptic_events", "packets", "neurons_updated", "hops")
    return {
        "case": name,
        "counts_equal": all(sanafe[k] == accsim[k] for k in counts),
        **{k: (sanafe[k], accsim[k]) for k in counts},
        "energy_rel_diff": _relative(accsim["energy_pj"], e["total"] * 1e12),
        "synapse_rel_diff": _relative(accsim["synapse_pj"], (e["synapse"] + e["dendrite"]) * 1e12),
        "sanafe_s": (sanafe["load_s"], sanafe["run_s"]),
        "accsim_s": (accsim["import_s"], accsim["run_s"]),
        "latency_s": (sanafe["sim_time_s"], accsim["sim_time_s"]),
        "step_s": (sanafe["step_s"], accsim["step_s"]),
        "logged_spikes_equal": _logged(sanafe, accsim),
        "steps_equal": sum(  # SANA-FE's trace prints 7 significant digits
            abs(a - b) <= 1e-6 * abs(a) for a, b in zip(sanafe["step_s"], accsim["step_s"])
        ),
        "step_max_rel": max(_relative(b, a) for a, b in zip(sanafe["step_s"], accsim["step_s"])),
        "cpu_s": (sanafe["cpu_s"], accsim["cpu_s"]),
    }


def print_saved_import(python: str, examples: Path, folder: Path) -> None:
    """Have SANA-FE write the DVS network with Network.save, then time accsim's import of it."""
    write_dvs(examples / "dvs_challenge.npz", folder / "dvs.yaml")
    saved = folder / "dvs_saved.yaml"
    script = (
        "import sanafe, sys; a = sanafe.load_arch(sys.argv[1]); "
        "sanafe.load_net(sys.argv[2], a).save(sys.argv[3])"
    )
    args = [str(examples / "loihi.yaml"), str(folder / "dvs.yaml"), str(saved)]
    subprocess.run([python, "-c", script, *args], check=True, capture_output=True)
    lines = sum(1 for _ in saved.open())
    cpu = time.process_time()
    _, workload, arrays = import_sanafe(examples / "loihi.yaml", saved, 1000)
    synapses = sum(a.shape[0] for k, a in arrays.items() if k.endswith(".pairs"))
    print(
        f"Network.save DVS file: {saved.stat().st_size / 1e6:.0f} MB, {lines:,} lines; accsim "
        f"import {time.process_time() - cpu:.1f} CPU s, {synapses:,} synapses, peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sanafe-python", required=True, help="a Python with SANA-FE installed")
    parser.add_argument(
        "--dvs", action="store_true", help="also run the DVS-gesture network, 1000 steps"
    )
    parser.add_argument(
        "--saved", action="store_true", help="also import the DVS network as Network.save writes it"
    )
    parser.add_argument(
        "--write-golden", action="store_true", help=f"write {GOLDEN.relative_to(REPO)}"
    )
    parser.add_argument(
        "--speed", type=int, default=0, help="only DVS, this many interleaved timing repeats"
    )
    parser.add_argument("--accsim-run", nargs=4, help=argparse.SUPPRESS)  # ARCH SNN STEPS TIMING
    args = parser.parse_args()
    if args.accsim_run:  # one accsim run in this fresh process, for --speed
        arch, snn, steps, timing = args.accsim_run
        result = run_accsim(Path(arch), Path(snn), int(steps), timing)
        print(json.dumps({k: result[k] for k in ("sim_time_s", "cpu_s", "spike_trains_match")}))
        return
    examples = (
        Path(
            subprocess.run(
                [
                    args.sanafe_python,
                    "-c",
                    "import sanafe, os; print(os.path.dirname(sanafe.__file__))",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        / "examples"
    )
    if args.speed:
        folder = Path(tempfile.mkdtemp())
        write_dvs(examples / "dvs_challenge.npz", folder / "dvs.yaml")
        print_speed(args.sanafe_python, examples / "loihi.yaml", folder / "dvs.yaml", args.speed)
        return
    cases = [(f"{a} + {n}, {steps} steps", DATA / a, DATA / n, steps) for a, n, steps in TEST_CASES]
    cases.append(
        (
            "SANA-FE example_chip + example_snn, 100 steps",
            examples / "example_chip.yaml",
            examples / "example_snn.yaml",
            100,
        )
    )
    # SANA-FE's own chips (GPL, so only their results are kept) with networks of ours
    cases.append(
        (
            "SANA-FE truenorth + tn_small_net, 30 steps",
            examples / "truenorth.yaml",
            DATA / "tn_small_net.yaml",
            30,
        )
    )
    cases.append(
        (
            "SANA-FE loihi + loihi_net, 40 steps",
            examples / "loihi.yaml",
            DATA / "loihi_net.yaml",
            40,
        )
    )
    folder = Path(tempfile.mkdtemp())
    if args.dvs:
        write_dvs(examples / "dvs_challenge.npz", folder / "dvs.yaml")
        cases.append(
            (
                "DVS gesture on loihi.yaml, 1000 steps",
                examples / "loihi.yaml",
                folder / "dvs.yaml",
                1000,
            )
        )
    if args.saved:
        print_saved_import(args.sanafe_python, examples, folder)
    golden, peer, rows = [], [], []
    for name, arch, snn, steps in cases:
        for timing in TIMINGS:
            sanafe = run_sanafe(args.sanafe_python, arch, snn, steps, timing)
            accsim = run_accsim(arch, snn, steps, timing)
            rows.append(compare(f"{name}, {timing}", sanafe, accsim))
            kept = {k: v for k, v in sanafe.items() if not k.endswith("_s") or k.endswith("time_s")}
            kept["step_s"] = sanafe["step_s"]
            if arch.parent == DATA:
                golden.append(
                    {
                        "arch": arch.name,
                        "snn": snn.name,
                        "steps": steps,
                        "timing": timing,
                        "sanafe": kept,
                    }
                )
            else:
                peer.append({"case": name, "timing": timing, "sanafe": kept})
    print(
        "| case | counts equal | neurons fired | synaptic events | packets | hops "
        "| logged spikes equal | energy rel. diff | SANA-FE sim time s | accsim sim time s | steps equal (7 digits) "
        "| largest step rel. diff | SANA-FE load + run s (CPU s) | accsim import + run s (CPU s) "
        "| CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        (load, run), (imported, simulated) = r["sanafe_s"], r["accsim_s"]
        (theirs, ours), (their_cpu, our_cpu) = r["latency_s"], r["cpu_s"]
        print(
            f"| {r['case']} | {'yes' if r['counts_equal'] else 'NO'} | {r['neurons_fired'][0]:,} "
            f"| {r['synaptic_events'][0]:,} | {r['packets'][0]:,} | {r['hops'][0]:,} "
            f"| {({True: 'yes', False: 'NO', None: '-'})[r['logged_spikes_equal']]} "
            f"| {r['energy_rel_diff']:.1e} | {theirs:.10g} | {ours:.10g} "
            f"| {r['steps_equal']} of {len(r['step_s'][0])} | {r['step_max_rel']:.1e} "
            f"| {load + run:.2f} ({load:.2f} + {run:.2f}; {their_cpu:.2f}) "
            f"| {imported + simulated:.2f} ({imported:.2f} + {simulated:.2f}; {our_cpu:.2f}) "
            f"| {our_cpu / their_cpu:.2f} |"
        )
    for r in rows:
        if not r["counts_equal"]:
            print(
                f"{r['case']}: "
                + ", ".join(
                    f"{k} {v}" for k, v in r.items() if isinstance(v, tuple) and k != "step_s"
                )
            )
    if args.write_golden:
        version = subprocess.run(
            [
                args.sanafe_python,
                "-c",
                "import importlib.metadata as m; print(m.version('sanafe'))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        rerun = {(row["case"], row["timing"]) for row in peer}  # peer rows not rerun are kept
        kept = [
            r
            for r in json.loads(GOLDEN.read_text())["peer"]
            if (r["case"], r["timing"]) not in rerun
        ]
        GOLDEN.write_text(
            json.dumps({"sanafe_version": version, "cases": golden, "peer": peer + kept}, indent=1)
            + "\n"
        )
        print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
