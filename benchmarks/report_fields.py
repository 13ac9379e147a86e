"""Every table and view of two reports, pickled, to check a report change against another
checkout field by field (byte for byte): a100-like 4096³ fp16 and h100-like LLaMA-2-7B decode
(3 layers).

    PYTHONPATH=OTHER_CHECKOUT python benchmarks/report_fields.py before.pkl
    python benchmarks/report_fields.py after.pkl --against before.pkl
"""

import argparse
import pickle

import simulator

PROPERTIES = ["energy", "breakdown", "power_timeline", "power", "components", "ops", "levels"]
PROPERTIES += ["cores", "summary"]
METHODS = ["level_groups", "component_rows", "op_rows", "energy_by_action", "to_json"]


def fields() -> dict[str, dict]:
    """Case -> field -> its value (a DataFrame, dict or list)."""
    decode = simulator.load_workload("llama-2-7b-decode", [(["layers"], 3)])
    cases = {
        "a100-like 4096³": ("a100-like", "gemm:M=4096,N=4096,K=4096,dtype=fp16"),
        "h100-like decode, 3 layers": ("h100-like", decode),
    }
    out = {}
    for case, (arch, workload) in cases.items():
        report = simulator.simulate(arch, workload)
        out[case] = {name: getattr(report, name) for name in PROPERTIES}
        out[case].update({name: getattr(report, name)() for name in METHODS})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="pickle to write this checkout's fields to")
    parser.add_argument("--against", help="another checkout's pickle to compare with")
    args = parser.parse_args()
    mine = fields()
    with open(args.output, "wb") as f:
        pickle.dump(mine, f)
    if args.against:
        with open(args.against, "rb") as f:
            theirs = pickle.load(f)
        differ = [
            f"{case}: {name}"
            for case, values in mine.items()
            for name, value in values.items()
            if pickle.dumps(value) != pickle.dumps(theirs[case][name])
        ]
        print("\n".join(differ) or f"all {sum(map(len, mine.values()))} fields identical")


if __name__ == "__main__":
    main()
