"""accsim (scalesim accounting) against the stored SCALE-Sim 3.0.0 golden results, per layer.

Reads tests/data/scalesim_golden.json (written by make_scalesim_golden.py); needs no SCALE-Sim.

    python benchmarks/vs_scalesim_golden.py [--only SUBSTRING]
"""

import argparse
import json
import tempfile
from pathlib import Path

import simulator
from simulator.spec.scalesim import import_scalesim

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "scalesim_golden.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="cases whose id contains this")
    args = parser.parse_args()
    cases = [c for c in json.loads(GOLDEN.read_text())["cases"] if args.only in c["id"]]
    print(
        "| case | layer | SCALE-Sim total | stall | accsim total | stall | compute "
        "SCALE-Sim / accsim | total diff % |"
    )
    print("|---|---|---|---|---|---|---|---|")
    exact = stall_free = 0
    with tempfile.TemporaryDirectory() as folder:
        cfg, topo = Path(folder) / "run.cfg", Path(folder) / "topology.csv"
        for case in cases:
            cfg.write_text(case["cfg_text"])
            topo.write_text(case["topology_text"])
            summary = simulator.simulate(*import_scalesim(cfg, topo), numerics=False).summary
            for ours, theirs in zip(summary["layers"], case["results"]):
                compute = theirs["total_cycles"] - theirs["stall_cycles"]
                diff = (
                    100
                    * (ours["total_cycles"] - theirs["total_cycles"])
                    / max(theirs["total_cycles"], 1)
                )
                if theirs["stall_cycles"] == 0:
                    stall_free += 1
                    exact += ours["total_cycles"] == theirs["total_cycles"]
                print(
                    f"| {case['id']} | {ours['name']} | {theirs['total_cycles']} "
                    f"| {theirs['stall_cycles']} | {ours['total_cycles']} | {ours['stall_cycles']} "
                    f"| {compute} / {ours['compute_cycles']} | {diff:+.1f} |"
                )
    print(f"\nstall-free layers with accsim's total equal to SCALE-Sim's: {exact} of {stall_free}")


if __name__ == "__main__":
    main()
