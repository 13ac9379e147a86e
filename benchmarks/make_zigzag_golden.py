#!/usr/bin/env python3
"""Generate tests/data/zigzag_golden.json from the real ZigZag 3.9.1 (dev-side, its own venv).

    python3 -m venv ~/venvs/zigzag && ~/venvs/zigzag/bin/pip install zigzag-dse==3.9.1 six
    python3 benchmarks/make_zigzag_golden.py [--python ~/venvs/zigzag/bin/python]
    python3 benchmarks/make_zigzag_golden.py --hardware eyeriss_like   # -> zigzag_eyeriss_golden.json
    python3 benchmarks/make_zigzag_golden.py --hardware generic_array_cacti  # -> zigzag_generic_golden.json
    python3 benchmarks/make_zigzag_golden.py --hardware tpu_like --only ID ...  # rerun these, keep the rest

Each case runs one GEMM on ZigZag's bundled tpu_like accelerator through benchmarks/zigzag_runner.py:
`temporal` forces the loop order and sizes (innermost first); without it ZigZag's own mapper (LOMA)
picks the temporal mapping for the bundled default spatial mapping (D1: N 32, D2: K 32), and the
golden records what it chose. tests/mapping/test_zigzag_golden.py rebuilds every case's nest in
accsim and compares per-level element counts (exact), energies and latency. With `--hardware
eyeriss_like` it runs ZigZag's bundled eyeriss_like instead (per-PE input, weight and output
register files, an 8 KiB output SRAM under a 1 MiB input/output SRAM, a 64 KiB weight SRAM, DRAM:
four output levels), spatial D1 = N 14, D2 = K 12 (or a case's own), ZigZag's mapper choosing the
temporal mapping or a case forcing accsim's fold nest. With `--hardware generic_array_cacti`
ZigZag's bundled 256 x 256 array with per-PE input, weight and output register files over one
32 MiB SRAM for all three operands (int8 operands, 32-bit sums), D1 = N 256, D2 = K 256. Every
case also records ZigZag's port activity (stall or slack per memory port), which its latency is
made of.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"


def _hardware(name: str, sums: int, final: int, columns: int, rows: int) -> dict:
    """One bundled ZigZag accelerator as the cases run it: int8 operands, `sums`-bit partial
    sums and `final`-bit outputs, N unrolled over D1 and K over D2."""
    return {
        "hardware": name,
        "precision": {"W": 8, "I": 8, "O": sums, "O_final": final},
        "spatial": {"D1": ["N", columns], "D2": ["K", rows]},
        "operand_links": {"O": "O", "W": "I2", "I": "I1"},
    }


TPU_LIKE = _hardware("tpu_like", 16, 8, 32, 32)
CASES = [
    {"id": "gemm512-default", "M": 512, "N": 512, "K": 512},
    {
        "id": "gemm512-ws-folds",
        "M": 512,
        "N": 512,
        "K": 512,
        "temporal": [["M", 512], ["K", 16], ["N", 16]],
    },
    {"id": "gemm256x1024x128-default", "M": 256, "N": 1024, "K": 128},
    {"id": "gemm128x512x256-default", "M": 128, "N": 512, "K": 256},
    {
        "id": "gemm128x256x256-ws-folds",
        "M": 128,
        "N": 256,
        "K": 256,
        "temporal": [["M", 128], ["K", 8], ["N", 8]],
    },
    # shapes off the 32 x 32 array: K = 72 leaves a partial row fold, M = 60 and 200 are not
    # powers of two, N = 96 and 160 are odd multiples of 32
    {"id": "gemm96x160x72-default", "M": 96, "N": 160, "K": 72},
    {"id": "gemm60x64x96-default", "M": 60, "N": 64, "K": 96},
    {"id": "gemm200x96x64-default", "M": 200, "N": 96, "K": 64},
    # held out from the first eight (accounting: zigzag's check): K 40 runs 20 wide on the 32
    # rows, twice; a taller M with N and K whole multiples of the array
    {"id": "gemm48x96x40-default", "M": 48, "N": 96, "K": 40},
    {"id": "gemm384x128x160-default", "M": 384, "N": 128, "K": 160},
]
EYERISS_LIKE = _hardware("eyeriss_like", 16, 16, 14, 12)
EYERISS_CASES = [
    {"id": "eyeriss-gemm224x224x192-default", "M": 224, "N": 224, "K": 192},
    {"id": "eyeriss-gemm112x168x96-default", "M": 112, "N": 168, "K": 96},
    # odd multiples of the 14 x 12 array, M not a power of two
    {"id": "eyeriss-gemm100x70x60-default", "M": 100, "N": 70, "K": 60},
    {"id": "eyeriss-gemm56x98x36-default", "M": 56, "N": 98, "K": 36},
    # held out from the first ones (accounting: zigzag's check)
    {"id": "eyeriss-gemm84x126x48-default", "M": 84, "N": 126, "K": 48},
    {"id": "eyeriss-gemm30x56x24-default", "M": 30, "N": 56, "K": 24},
    # accsim's fold nest forced (M streamed, K folds, N folds), for the latency comparison:
    # 8 of the 14 columns (N tiles of 8), so a partial-sum vector is one 128-bit word ...
    {
        "id": "eyeriss-gemm64x256x192-ws-folds",
        "M": 64,
        "N": 256,
        "K": 192,
        "spatial": {"D1": ["N", 8], "D2": ["K", 12]},
        "temporal": [["M", 64], ["K", 16], ["N", 32]],
    },
    # ... and all 14, where it is 224 bits: ZigZag rounds each to two words
    {
        "id": "eyeriss-gemm224x224x192-ws-folds",
        "M": 224,
        "N": 224,
        "K": 192,
        "temporal": [["M", 224], ["K", 16], ["N", 16]],
    },
]
GENERIC_ARRAY = _hardware("generic_array_cacti", 32, 32, 256, 256)
GENERIC_CASES = [
    {"id": "generic-gemm96x512x768-default", "M": 96, "N": 512, "K": 768},
    # one fold of the 256 x 256 array; N 300 and K 200 off it (ZigZag unrolls N 150 wide)
    {"id": "generic-gemm64x256x256-default", "M": 64, "N": 256, "K": 256},
    {"id": "generic-gemm100x300x200-default", "M": 100, "N": 300, "K": 200},
    # held out from the first three (accounting: zigzag's check): N and K over several folds
    {"id": "generic-gemm48x768x512-default", "M": 48, "N": 768, "K": 512},
]
SETS = {
    "tpu_like": (TPU_LIKE, CASES, DATA / "zigzag_golden.json"),
    "eyeriss_like": (EYERISS_LIKE, EYERISS_CASES, DATA / "zigzag_eyeriss_golden.json"),
    "generic_array_cacti": (GENERIC_ARRAY, GENERIC_CASES, DATA / "zigzag_generic_golden.json"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=os.path.expanduser("~/venvs/zigzag/bin/python"))
    parser.add_argument("--hardware", choices=sorted(SETS), default="tpu_like")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--only", nargs="+", metavar="ID", help="run these cases; keep the others as stored"
    )
    args = parser.parse_args()
    hardware, cases, out = SETS[args.hardware]
    out = args.out or out
    stored = {c["id"]: c for c in json.loads(out.read_text())["cases"]} if args.only else {}
    generator = "benchmarks/make_zigzag_golden.py"
    if args.hardware != "tpu_like":
        generator += f" --hardware {args.hardware}"
    results = []
    for case in cases:
        if args.only and case["id"] not in args.only:
            results.append(stored[case["id"]])
            continue
        spec = {**hardware, **{k: v for k, v in case.items() if k != "id"}}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "case.json"
            path.write_text(json.dumps(spec))
            done = subprocess.run(
                [args.python, str(HERE / "zigzag_runner.py"), str(path)],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=True,
            )
        results.append({"id": case["id"], "case": spec, "zigzag": json.loads(done.stdout)})
        print(case["id"], results[-1]["zigzag"]["energy_total_pj"], file=sys.stderr)
    out.write_text(json.dumps({"generator": generator, "cases": results}, indent=1))


if __name__ == "__main__":
    main()
