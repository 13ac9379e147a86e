"""accsim vs SCALE-Sim 3.0.0 on one GEMM grid: cycles side by side and the wall-time ratio.

SCALE-Sim pins numpy < 2.4, so it lives in its own venv (see benchmarks/scalesim_runner.py) and is
driven through a subprocess; its wall time is the time spent inside its own run_scale(), not
interpreter start-up. accsim runs in this process through the same SCALE-Sim files it imports.

    python benchmarks/vs_scalesim.py [--scalesim-python ~/venvs/scalesim/bin/python] [--big]

--big adds the 1024^3 GEMM on a 32x32 array (SCALE-Sim needs many minutes for it).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import simulator
from simulator.spec.scalesim import import_scalesim

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_scalesim_golden import DEFAULT_PY, cfg_text, gemm_topology, make_config  # noqa: E402

GRID = [(128, 128, 128), (256, 64, 192), (256, 256, 256)]
ARRAYS = [(32, 32), (16, 16), (32, 8)]


def run_scalesim(python: str, cfg: Path, topo: Path) -> dict | None:
    if not Path(python).exists():
        return None
    proc = subprocess.run(
        [python, str(HERE / "scalesim_runner.py"), str(cfg), str(topo), "--gemm"],
        capture_output=True,
        text=True,
        cwd=cfg.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout)


def run_accsim(cfg: Path, topo: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    arch, workload, mapping = import_scalesim(cfg, topo)
    summary = simulator.simulate(arch, workload, mapping, numerics=False).summary
    return summary, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalesim-python", default=DEFAULT_PY)
    parser.add_argument(
        "--big", action="store_true", help="add 1024^3 on 32x32 (slow in SCALE-Sim)"
    )
    args = parser.parse_args()
    cases = [(shape, array, df) for shape in GRID for array in ARRAYS for df in ("os", "ws", "is")]
    if args.big:
        cases.append(((1024, 1024, 1024), (32, 32), "os"))
    table = Table(title="accsim (scalesim accounting) vs SCALE-Sim 3.0.0, large SRAMs")
    for column in (
        "GEMM MxNxK",
        "array",
        "df",
        "SCALE-Sim cycles",
        "accsim cycles",
        "diff %",
        "SCALE-Sim s",
        "accsim s",
        "speedup",
    ):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for (m, n, k), (rows, cols), df in cases:
            cfg, topo = Path(tmp) / "run.cfg", Path(tmp) / "topo.csv"
            cfg.write_text(
                cfg_text(
                    make_config(
                        "bench", rows, cols, df, ifmap_kb=8192, filter_kb=8192, ofmap_kb=8192
                    )
                )
            )
            topo.write_text(gemm_topology([("g", m, n, k)]))
            ours, ours_s = run_accsim(cfg, topo)
            theirs = run_scalesim(args.scalesim_python, cfg, topo)
            ours_cycles = ours["layers"][0]["total_cycles"]
            if theirs is None:
                row = ["-", f"{ours_cycles:,}", "-", "-", f"{ours_s:.4f}", "-"]
            else:
                their_cycles = theirs["layers"][0]["total_cycles"]
                row = [
                    f"{their_cycles:,}",
                    f"{ours_cycles:,}",
                    f"{100 * (ours_cycles - their_cycles) / their_cycles:+.2f}",
                    f"{theirs['wall_s']:.2f}",
                    f"{ours_s:.4f}",
                    f"{theirs['wall_s'] / ours_s:,.0f}x",
                ]
            table.add_row(f"{m}x{n}x{k}", f"{rows}x{cols}", df, *row)
    Console().print(table)
    if not Path(args.scalesim_python).exists():
        print(
            f"SCALE-Sim not found at {args.scalesim_python}: pass --scalesim-python (see scalesim_runner.py)"
        )


if __name__ == "__main__":
    main()
