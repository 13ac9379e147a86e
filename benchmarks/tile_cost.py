"""CPU seconds of an a100-like 2048³ fp16 GEMM (timing only) and how often it computes a tile's
cost (`mapping/gemm.py` `_tile_cost`, counted by cProfile in a second run). Run it with
PYTHONPATH at another commit's checkout to compare; alternate runs on a shared machine.

    python benchmarks/tile_cost.py [--runs N]
"""

import argparse
import cProfile
import pstats
import time

import simulator

CASE = ("a100-like", "gemm:M=2048,N=2048,K=2048,dtype=fp16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="timed runs (each printed)")
    args = parser.parse_args()
    simulator.simulate("tpu-v1-like", "gemm:M=64,N=64,K=64,dtype=int8", numerics=False)  # imports
    for _ in range(args.runs):
        start = time.process_time()
        simulator.simulate(*CASE, numerics=False)
        print(f"CPU s: {time.process_time() - start:.2f}")
    profile = cProfile.Profile()
    profile.runcall(simulator.simulate, *CASE, numerics=False)
    calls = sum(
        stat[1]
        for (path, _, name), stat in pstats.Stats(profile).stats.items()
        if name == "_tile_cost" and path.endswith("gemm.py")
    )
    print(f"_tile_cost calls: {calls:,}")


if __name__ == "__main__":
    main()
