#!/usr/bin/env python3
"""Run the real SCALE-Sim 3.0.0 on one config + topology and print its compute report as JSON.

This script is *standalone*: it imports only the standard library and ``scalesim``; it never
imports the project.  Run it with the interpreter of a separate venv that has SCALE-Sim:

    python3 -m venv ~/venvs/scalesim
    ~/venvs/scalesim/bin/pip install scalesim==3.0.0 "numpy<2.4"
    ~/venvs/scalesim/bin/python benchmarks/scalesim_runner.py CONFIG.cfg TOPO.csv --gemm

Usage:  scalesim_runner.py CONFIG.cfg TOPOLOGY.csv [--gemm|--conv] [--layout LAYOUT.csv]

Output (stdout, one JSON object, nothing else):

    {"layers": [{"name": ..., "total_cycles_incl_prefetch": ..., "total_cycles": ...,
                 "stall_cycles": ..., "overall_util_pct": ..., "mapping_efficiency_pct": ...,
                 "compute_util_pct": ..., "gemm_mnk": [M, N, K], "detail": {...}}, ...],
     "wall_s": <seconds spent inside scalesim.run_scale>}

The six report fields are ``single_layer_sim.get_compute_report_items()`` in SCALE-Sim's order
(the same columns as COMPUTE_REPORT.csv):

    [0] Total Cycles (incl. prefetch) = ofmap DRAM stop cycle - min(ifmap, filter DRAM start cycle)
    [1] Total Cycles                  = max cycle at which an OFMAP SRAM write row was serviced
                                        (last demand row index + accumulated stalls)
    [2] Stall Cycles                  = sum over demand rows of max(ifmap, filter, ofmap) stall
    [3] Overall Util %                = 100 * MACs / (Total Cycles * R * C)
    [4] Mapping Efficiency %          = mean over folds of used PEs / (R * C)
    [5] Compute Util %                = mean over folds of used PEs * T / (R * C * cycles_this_fold)

``gemm_mnk`` is SCALE-Sim's own conv->GEMM lowering (M = ofmap pixels, N = filters, K = window).
``detail`` holds the DETAILED_ACCESS_REPORT columns (SRAM/DRAM start/stop cycles and counts).

If no layout file is given, a well-formed (but unused: custom layouts are off in our configs)
layout CSV with one row per topology row is written to a temporary directory, because
SCALE-Sim 3.0.0 always opens the layout file.  All of SCALE-Sim's own prints are redirected
away from stdout (to stderr with --debug, else to /dev/null) at the file-descriptor level.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time

LAYOUT_HEADER = [
    "Layer name",
    "IFMAP Height Intraline Factor",
    "IFMAP Width Intraline Factor",
    "Filter Height Intraline Factor",
    "Filter Width Intraline Factor",
    "Channel Intraline Factor",
    "Num Filter Intraline Factor",
    "IFMAP Height Intraline Order",
    "IFMAP Width Intraline Order",
    "Channel Intraline Order",
    "IFMAP Height Interline Order",
    "IFMAP Width Interline Order",
    "Channel Interline Order",
    "Num Filter Intraline Order",
    "Channel Intraline Order",
    "Filter Height Intraline Order",
    "Filter Width Intraline Order",
    "Num Filter Interline Order",
    "Channel Interline Order",
    "Filter Height Interline Order",
    "Filter Width Interline Order",
]
# All intraline factors 1; identity permutations.  The ifmap tensor is reshaped into
# (X/x, Y/y, C/c, x, y, c) so "interline" axes are 0..2 and "intraline" axes 3..5; the filter
# tensor likewise uses 0..3 / 4..7.  Only read when [layout] *CustomLayout = True.
LAYOUT_ROW_VALUES = [1, 1, 1, 1, 1, 1, 3, 4, 5, 0, 1, 2, 4, 5, 6, 7, 0, 1, 2, 3]

DETAIL_KEYS = [
    "ifmap_sram_start_cycle",
    "ifmap_sram_stop_cycle",
    "ifmap_sram_reads",
    "filter_sram_start_cycle",
    "filter_sram_stop_cycle",
    "filter_sram_reads",
    "ofmap_sram_start_cycle",
    "ofmap_sram_stop_cycle",
    "ofmap_sram_writes",
    "ifmap_dram_start_cycle",
    "ifmap_dram_stop_cycle",
    "ifmap_dram_reads",
    "filter_dram_start_cycle",
    "filter_dram_stop_cycle",
    "filter_dram_reads",
    "ofmap_dram_start_cycle",
    "ofmap_dram_stop_cycle",
    "ofmap_dram_writes",
]


def topology_layer_names(topology_path: str) -> list[str]:
    """Layer names as SCALE-Sim's topology reader sees them (header skipped, blank rows skipped)."""
    names = []
    with open(topology_path) as f:
        lines = f.read().splitlines()
    for row in lines[1:]:
        row = row.strip()
        if not row:
            continue
        names.append(row.split(",")[0].strip())
    return names


def write_default_layout(path: str, names: list[str]) -> None:
    with open(path, "w") as f:
        f.write(", ".join(LAYOUT_HEADER) + ",\n")
        for name in names or ["layer0"]:
            f.write(name + ", " + ", ".join(str(v) for v in LAYOUT_ROW_VALUES) + ",\n")


@contextlib.contextmanager
def stdout_redirected(target_fd: int):
    """Send everything written to fd 1 (Python prints and C-level writes) to ``target_fd``."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(target_fd, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _num(x):
    """numpy scalar / 1-element array -> plain Python int or float."""
    if hasattr(x, "reshape"):
        x = x.reshape(-1)[0]
    if hasattr(x, "item"):
        x = x.item()
    return x


def run(config: str, topology: str, gemm: bool, layout: str | None, debug: bool = False) -> dict:
    from scalesim.scale_sim import scalesim

    with tempfile.TemporaryDirectory(prefix="scalesim_run_") as tmp:
        if not layout:
            layout = os.path.join(tmp, "layout.csv")
            write_default_layout(layout, topology_layer_names(topology))
        out_dir = os.path.join(tmp, "out")
        target = os.dup(2) if debug else os.open(os.devnull, os.O_WRONLY)
        try:
            with stdout_redirected(target):
                s = scalesim(
                    save_disk_space=True,
                    verbose=False,
                    config=config,
                    topology=topology,
                    layout=layout,
                    input_type_gemm=gemm,
                )
                t0 = time.perf_counter()
                s.run_scale(top_path=out_dir)
                wall = time.perf_counter() - t0
                layers = []
                # NB: topologies.get_transformed_mnk_dimensions() reports M = Ho*Wo*N (it uses
                # get_layer_num_ofmap_px, which already multiplies by the filter count), so
                # derive the GEMM dims from the ofmap dims instead.
                mnk = []
                for i in range(s.topo.get_num_layers()):
                    oh, ow = s.topo.get_layer_ofmap_dims(i)
                    mnk.append(
                        [oh * ow, s.topo.get_layer_num_filters(i), s.topo.get_layer_window_size(i)]
                    )
                for i, obj in enumerate(s.runner.single_layer_sim_object_list):
                    items = obj.get_compute_report_items()
                    detail = obj.get_detail_report_items()
                    layers.append(
                        {
                            "name": s.topo.get_layer_name(i),
                            "total_cycles_incl_prefetch": int(_num(items[0])),
                            "total_cycles": int(_num(items[1])),
                            "stall_cycles": int(_num(items[2])),
                            "overall_util_pct": float(_num(items[3])),
                            "mapping_efficiency_pct": float(_num(items[4])),
                            "compute_util_pct": float(_num(items[5])),
                            "gemm_mnk": [int(v) for v in mnk[i]],
                            "detail": {k: int(_num(v)) for k, v in zip(DETAIL_KEYS, detail)},
                        }
                    )
        finally:
            os.close(target)
    return {"layers": layers, "wall_s": wall}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config")
    ap.add_argument("topology")
    g = ap.add_mutually_exclusive_group()
    g.add_argument(
        "--gemm",
        dest="gemm",
        action="store_true",
        default=True,
        help="topology rows are 'name, M, N, K,' (default)",
    )
    g.add_argument(
        "--conv",
        dest="gemm",
        action="store_false",
        help="topology rows are 'name, H, W, Fh, Fw, C, NumFilter, Stride,'",
    )
    ap.add_argument("--layout", default=None, help="layout CSV (default: generated)")
    ap.add_argument("--debug", action="store_true", help="show SCALE-Sim's prints on stderr")
    args = ap.parse_args(argv)
    result = run(
        os.path.abspath(args.config),
        os.path.abspath(args.topology),
        args.gemm,
        os.path.abspath(args.layout) if args.layout else None,
        args.debug,
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
