#!/usr/bin/env python3
"""Generate tests/data/scalesim_golden.json from the real SCALE-Sim 3.0.0.

This script needs only the standard library.  It writes one .cfg + topology .csv per case into a
temporary directory and runs ``benchmarks/scalesim_runner.py`` on each with the interpreter of a
separate venv that has SCALE-Sim installed (never a project dependency):

    python3 -m venv ~/venvs/scalesim
    ~/venvs/scalesim/bin/pip install scalesim==3.0.0 "numpy<2.4"
    python3 benchmarks/make_scalesim_golden.py            # regenerate the JSON (~1-2 min)
    python3 benchmarks/make_scalesim_golden.py --verify   # check closed forms against the JSON

Options: --python PATH (default $SCALESIM_PYTHON or ~/venvs/scalesim/bin/python),
--out PATH, --jobs N, --only SUBSTRING, --missing (run only cases the output lacks).

Each case in the JSON is
    {"id", "description", "kind": "gemm"|"conv", "config": {section: {key: value}},
     "cfg_text", "topology_text", "results": [per-layer dicts from scalesim_runner.py],
     "scalesim_wall_s"}
``config`` holds every value written to the .cfg (ints as ints; strings as written); ``cfg_text``
and ``topology_text`` are the exact file contents SCALE-Sim parsed.

--verify re-derives, independently of SCALE-Sim (see docs/scalesim-notes.md):
  total_cycles = folds * cycles_per_fold - 1 + stall_cycles          (every layer)
  overall_util_pct, mapping_efficiency_pct, compute_util_pct, SRAM access counts (every layer)
  total_cycles_incl_prefetch = total_cycles + (ofmap flush lines - 1) + max(ifmap, filter fill
  lines) and the DRAM access counts (stall-free USER-mode layers whose operands fit)
and prints a summary table (used to write docs/scalesim-notes.md).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNNER = HERE / "scalesim_runner.py"
DEFAULT_OUT = REPO / "tests" / "data" / "scalesim_golden.json"
DEFAULT_PY = os.environ.get("SCALESIM_PYTHON", os.path.expanduser("~/venvs/scalesim/bin/python"))

# --------------------------------------------------------------------------------------------
# Config construction
# --------------------------------------------------------------------------------------------

SECTION_ORDER = ["general", "architecture_presets", "layout", "sparsity", "run_presets"]


def make_config(
    name,
    rows,
    cols,
    dataflow,
    *,
    ifmap_kb=1024,
    filter_kb=1024,
    ofmap_kb=1024,
    ifmap_bw=10,
    filter_bw=10,
    ofmap_bw=10,
    mode="USER",
):
    """All values SCALE-Sim 3.0.0 requires (it raises on any missing key/section)."""
    return {
        "general": {"run_name": name},
        "architecture_presets": {
            "ArrayHeight": rows,
            "ArrayWidth": cols,
            "IfmapSramSzkB": ifmap_kb,
            "FilterSramSzkB": filter_kb,
            "OfmapSramSzkB": ofmap_kb,
            "IfmapOffset": 0,
            "FilterOffset": 10000000,
            "OfmapOffset": 20000000,
            "Bandwidth": ofmap_bw,
            "Dataflow": dataflow,
            "ReadRequestBuffer": 32,
            "WriteRequestBuffer": 32,
        },
        "layout": {
            "IfmapCustomLayout": "False",
            "IfmapSRAMBankBandwidth": ifmap_bw,
            "IfmapSRAMBankNum": 1,
            "IfmapSRAMBankPort": 2,
            "FilterCustomLayout": "False",
            "FilterSRAMBankBandwidth": filter_bw,
            "FilterSRAMBankNum": 1,
            "FilterSRAMBankPort": 2,
        },
        "sparsity": {
            "SparsitySupport": "false",
            "SparseRep": "ellpack_block",
            "OptimizedMapping": "false",
            "BlockSize": 8,
            "RandomNumberGeneratorSeed": 40,
        },
        "run_presets": {"InterfaceBandwidth": mode, "UseRamulatorTrace": "False"},
    }


def cfg_text(config, style="plain"):
    """Render a config dict as SCALE-Sim .cfg text.

    style="plain":  'Key : value' with SCALE-Sim's own mixed-case key spelling.
    style="quirky": 'key=value' with lower/upper-cased keys, '#'/';' full-line comments and blank
                    lines -- all accepted by configparser (keys are case-insensitive, section
                    names are not), used to pin down what an importer must tolerate.
    """
    out = []
    if style == "quirky":
        out.append("# SCALE-Sim config written with unusual (but legal) syntax")
        out.append("; configparser accepts '#' and ';' full-line comments")
    for sec in SECTION_ORDER:
        out.append(f"[{sec}]")
        for i, (k, v) in enumerate(config[sec].items()):
            if style == "quirky":
                key = k.lower() if i % 2 == 0 else k.upper()
                out.append(f"{key}={v}")
            else:
                out.append(f"{k} : {v}")
        out.append("")
    return "\n".join(out)


def gemm_topology(rows, style="plain"):
    """rows: list of (name, M, N, K).  SCALE-Sim drops the last comma-separated field of every
    row, so each row must end with a trailing comma."""
    if style == "plain":
        lines = ["Layer, M, N, K,"] + [f"{n}, {m}, {nn}, {k}," for n, m, nn, k in rows]
        return "\n".join(lines) + "\n"
    # quirky: no spaces, explicit 1:1 sparsity column, CRLF line endings, a blank line
    lines = ["Layer,M,N,K,Sparsity,"] + [f"{n},{m},{nn},{k},1:1," for n, m, nn, k in rows]
    lines.insert(2, "")
    return "\r\n".join(lines) + "\r\n"


def conv_topology(rows):
    """rows: (name, H, W, Fh, Fw, C, NumFilter, Stride)."""
    lines = [
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,"
    ]
    lines += [", ".join(str(x) for x in r) + "," for r in rows]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------

DATAFLOWS = ["os", "ws", "is"]
ARRAYS = [(8, 8), (16, 16), (8, 16), (16, 8), (4, 32)]
GEMM_SHAPES = [  # (name, M, N, K)
    ("g64x64x64", 64, 64, 64),
    ("g100x37x50", 100, 37, 50),
    ("g31x17x9", 31, 17, 9),
    ("g128x48x96", 128, 48, 96),
    ("g40x200x24", 40, 200, 24),
    ("g1x1x1", 1, 1, 1),
    ("g7x1x33", 7, 1, 33),
    ("g3x40x5", 3, 40, 5),
]
STALL_SHAPES = [
    ("g64x64x64", 64, 64, 64),
    ("g100x37x50", 100, 37, 50),
    ("g31x17x9", 31, 17, 9),
]
BIG_ARRAY_SHAPES = [
    ("g256x256x256", 256, 256, 256),
    ("g512x128x64", 512, 128, 64),
    ("g200x300x130", 200, 300, 130),
]
KB64_SHAPES = [
    ("g256x256x256", 256, 256, 256),
    ("g128x128x1024", 128, 128, 1024),
    ("g1024x64x128", 1024, 64, 128),
]
CONV_ROWS = [  # name, H, W, Fh, Fw, C, NumFilter, Stride
    ("conv16_s1", 16, 16, 3, 3, 8, 16, 1),
    ("conv16_s2", 16, 16, 3, 3, 8, 16, 2),
    ("conv_rect", 12, 20, 5, 3, 4, 10, 1),
    ("conv_1x1", 8, 8, 1, 1, 32, 24, 1),
    ("conv15_s3", 15, 15, 3, 3, 2, 5, 3),
    ("dw_DP", 10, 10, 3, 3, 4, 1, 1),  # 'DP' in the name: depth-wise, expanded per channel
]


def build_cases():
    cases = []

    # A. Large SRAMs (no stalls): every dataflow x array, all GEMM shapes in one topology file.
    #    Bandwidths differ per array so total_cycles_incl_prefetch pins down which knob is which.
    bw_by_array = {
        (8, 8): (10, 10, 10),
        (16, 16): (16, 16, 16),
        (8, 16): (10, 10, 10),
        (16, 8): (8, 8, 8),
        (4, 32): (4, 8, 16),
    }
    for df in DATAFLOWS:
        for r, c in ARRAYS:
            ib, fb, ob = bw_by_array[(r, c)]
            cid = f"gemm_large_{df}_{r}x{c}"
            cases.append(
                dict(
                    id=cid,
                    kind="gemm",
                    description=f"GEMM, {df}, {r}x{c} array, 1024 kB SRAMs (no stalls), "
                    f"DRAM bw ifmap/filter/ofmap = {ib}/{fb}/{ob} words/cycle",
                    config=make_config(cid, r, c, df, ifmap_bw=ib, filter_bw=fb, ofmap_bw=ob),
                    topology_text=gemm_topology([s for s in GEMM_SHAPES]),
                )
            )

    # A2. A bigger array with bigger GEMMs (still no stalls).
    for df in DATAFLOWS:
        cid = f"gemm_large_{df}_32x32"
        cases.append(
            dict(
                id=cid,
                kind="gemm",
                description=f"GEMM, {df}, 32x32 array, 2048 kB SRAMs (no stalls), bw 32",
                config=make_config(
                    cid,
                    32,
                    32,
                    df,
                    ifmap_kb=2048,
                    filter_kb=2048,
                    ofmap_kb=2048,
                    ifmap_bw=32,
                    filter_bw=32,
                    ofmap_bw=32,
                ),
                topology_text=gemm_topology(
                    [
                        ("g256x256x256", 256, 256, 256),
                        ("g300x100x70", 300, 100, 70),
                        ("g33x65x129", 33, 65, 129),
                    ]
                ),
            )
        )

    # B. Tiny SRAMs + low DRAM bandwidth: SCALE-Sim reports stalls.
    for df in DATAFLOWS:
        for r, c in [(8, 8), (16, 8)]:
            for kb, bw in [(1, 1), (1, 4), (2, 2)]:
                cid = f"gemm_stall_{df}_{r}x{c}_{kb}kB_bw{bw}"
                cases.append(
                    dict(
                        id=cid,
                        kind="gemm",
                        description=f"GEMM, {df}, {r}x{c}, all SRAMs {kb} kB, all DRAM bw {bw}",
                        config=make_config(
                            cid,
                            r,
                            c,
                            df,
                            ifmap_kb=kb,
                            filter_kb=kb,
                            ofmap_kb=kb,
                            ifmap_bw=bw,
                            filter_bw=bw,
                            ofmap_bw=bw,
                        ),
                        topology_text=gemm_topology(STALL_SHAPES),
                    )
                )
    # B2. One small SRAM at a time (the others large), distinct bandwidths.
    for df in DATAFLOWS:
        for which in ["ifmap", "filter", "ofmap"]:
            kw = dict(
                ifmap_kb=1024, filter_kb=1024, ofmap_kb=1024, ifmap_bw=10, filter_bw=10, ofmap_bw=10
            )
            kw[f"{which}_kb"] = 1
            kw[f"{which}_bw"] = {"ifmap": 2, "filter": 3, "ofmap": 1}[which]
            cid = f"gemm_stall_{df}_8x8_only_{which}_small"
            cases.append(
                dict(
                    id=cid,
                    kind="gemm",
                    description=f"GEMM, {df}, 8x8, only the {which} SRAM small (1 kB, bw "
                    f"{kw[which + '_bw']}); others 1024 kB, bw 10",
                    config=make_config(cid, 8, 8, df, **kw),
                    topology_text=gemm_topology(STALL_SHAPES[:2]),
                )
            )

    # C. Convolutions (multi-row topology, incl. a depth-wise 'DP' row), large SRAMs.
    for df in DATAFLOWS:
        for r, c in [(8, 8), (16, 8)]:
            cid = f"conv_large_{df}_{r}x{c}"
            cases.append(
                dict(
                    id=cid,
                    kind="conv",
                    description=f"conv topology (6 rows, one depth-wise), {df}, {r}x{c}, 1024 kB",
                    config=make_config(cid, r, c, df),
                    topology_text=conv_topology(CONV_ROWS),
                )
            )
        cid = f"conv_stall_{df}_8x8_1kB_bw2"
        cases.append(
            dict(
                id=cid,
                kind="conv",
                description=f"conv (2 rows), {df}, 8x8, all SRAMs 1 kB, all bw 2",
                config=make_config(
                    cid,
                    8,
                    8,
                    df,
                    ifmap_kb=1,
                    filter_kb=1,
                    ofmap_kb=1,
                    ifmap_bw=2,
                    filter_bw=2,
                    ofmap_bw=2,
                ),
                topology_text=conv_topology(CONV_ROWS[:2]),
            )
        )

    # D. CALC mode (estimated bandwidth): read buffers never stall, DRAM bws are not read.
    for df in DATAFLOWS:
        cid = f"gemm_calc_{df}_8x8_1kB"
        cases.append(
            dict(
                id=cid,
                kind="gemm",
                description=f"GEMM, {df}, 8x8, 1 kB SRAMs, InterfaceBandwidth CALC",
                config=make_config(cid, 8, 8, df, ifmap_kb=1, filter_kb=1, ofmap_kb=1, mode="CALC"),
                topology_text=gemm_topology(STALL_SHAPES[:2]),
            )
        )

    # F. A 128x128 array with large SRAMs: whole operands prefetched before cycle 0, no stalls.
    for df in DATAFLOWS:
        cid = f"gemm_big_{df}_128x128"
        cases.append(
            dict(
                id=cid,
                kind="gemm",
                description=f"GEMM, {df}, 128x128, 1024 kB SRAMs, bw 10/10/10",
                config=make_config(cid, 128, 128, df),
                topology_text=gemm_topology(BIG_ARRAY_SHAPES),
            )
        )

    # G. 64 kB SRAMs on 32x32: a long streamed dim does not fit a double-buffered whole tile.
    for df in DATAFLOWS:
        cid = f"gemm_64kB_{df}_32x32"
        cases.append(
            dict(
                id=cid,
                kind="gemm",
                description=f"GEMM, {df}, 32x32, 64 kB SRAMs, bw 16/16/16",
                config=make_config(
                    cid,
                    32,
                    32,
                    df,
                    ifmap_kb=64,
                    filter_kb=64,
                    ofmap_kb=64,
                    ifmap_bw=16,
                    filter_bw=16,
                    ofmap_bw=16,
                ),
                topology_text=gemm_topology(KB64_SHAPES),
            )
        )

    # E. Syntax quirks: same machine as a plain case, unusual but accepted cfg/topology syntax.
    for df in DATAFLOWS:
        cid = f"gemm_quirky_syntax_{df}_8x16"
        cfg = make_config(cid, 8, 16, df)
        cases.append(
            dict(
                id=cid,
                kind="gemm",
                description=f"same as gemm_large_{df}_8x16 (first 4 shapes) but 'key=value', mixed-case "
                "keys, comments; topology without spaces, with a 1:1 sparsity column, "
                "CRLF line endings and a blank line",
                config=cfg,
                cfg_text=cfg_text(cfg, style="quirky"),
                topology_text=gemm_topology(GEMM_SHAPES[:4], style="quirky"),
            )
        )

    cases += odd_cases()
    cases += shipped_cases()
    for case in cases:
        case.setdefault("cfg_text", cfg_text(case["config"]))
    return cases


ODD_ARRAYS = [(7, 13), (13, 7), (3, 64), (1, 16), (16, 1)]
ODD_GEMM_SHAPES = [  # (name, M, N, K): primes, a dim of 1, dims just past a multiple of 7/13/16
    ("g50x23x41", 50, 23, 41),
    ("g97x5x11", 97, 5, 11),
    ("g13x7x64", 13, 7, 64),
    ("g2x129x3", 2, 129, 3),
    ("g17x1x100", 17, 1, 100),
]
ODD_CONV_ROWS = [  # name, H, W, Fh, Fw, C, NumFilter, Stride
    ("c11_s2_c3", 11, 11, 3, 3, 3, 17, 2),
    ("c9x14_s3_c5", 9, 14, 2, 4, 5, 6, 3),
    ("c7_s2_1x1_c19", 7, 7, 1, 1, 19, 9, 2),
    ("c6_s4_c2", 6, 6, 5, 5, 2, 3, 4),
    ("odd_DP_s2", 9, 9, 3, 3, 3, 2, 2),
]


def odd_cases():
    """Cases the first grid lacks: prime and one-wide arrays, odd shapes, strided convs whose
    channels do not divide the array, mid-sized SRAMs at odd bandwidths, a Bandwidth list."""
    specs = []  # (id, kind, description, array, make_config keywords, topology text)
    for df in DATAFLOWS:
        for r, c in ODD_ARRAYS:
            specs.append(
                (
                    f"gemm_odd_{df}_{r}x{c}",
                    "gemm",
                    f"GEMM, {df}, {r}x{c} array, 1024 kB SRAMs, bw 3/5/7",
                    (r, c, df),
                    dict(ifmap_bw=3, filter_bw=5, ofmap_bw=7),
                    gemm_topology(ODD_GEMM_SHAPES),
                )
            )
        for r, c in [(7, 13), (3, 64)]:
            specs.append(
                (
                    f"conv_odd_{df}_{r}x{c}",
                    "conv",
                    f"strided convs (5 rows, one depth-wise), {df}, {r}x{c}, 1024 kB",
                    (r, c, df),
                    dict(ifmap_bw=6, filter_bw=9, ofmap_bw=4),
                    conv_topology(ODD_CONV_ROWS),
                )
            )
        for kb, bw in [(32, 5), (200, 3)]:
            sizes = dict(ifmap_kb=kb, filter_kb=kb + 1, ofmap_kb=kb + 2)
            specs.append(
                (
                    f"gemm_mid_{df}_7x13_{kb}kB_bw{bw}",
                    "gemm",
                    f"GEMM, {df}, 7x13, SRAMs {kb}/{kb + 1}/{kb + 2} kB, bw {bw}",
                    (7, 13, df),
                    dict(**sizes, ifmap_bw=bw, filter_bw=bw + 1, ofmap_bw=bw + 2),
                    gemm_topology(ODD_GEMM_SHAPES[:3]),
                )
            )
        # Bandwidth as a comma list: SCALE-Sim uses the first value for the OFMAP interface
        specs.append(
            (
                f"gemm_bwlist_{df}_13x7",
                "gemm",
                f"GEMM, {df}, 13x7, 1024 kB SRAMs, Bandwidth '2, 50, 50' (first used)",
                (13, 7, df),
                dict(ifmap_bw=4, filter_bw=6, ofmap_bw="2, 50, 50"),
                gemm_topology(ODD_GEMM_SHAPES[:2]),
            )
        )
    return _from_specs(specs)


def _from_specs(specs: list[tuple]) -> list[dict]:
    """Cases of (id, kind, description, array, make_config keywords, topology text[, values
    set in the config's sections over make_config's])."""
    cases = []
    for cid, kind, description, array, keywords, topology, *overrides in specs:
        config = make_config(cid, *array, **keywords)
        for section, values in (overrides[0] if overrides else {}).items():
            config[section].update(values)
        cases.append(
            dict(id=cid, kind=kind, description=description, config=config, topology_text=topology)
        )
    return cases


CONV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n"
)
# Layers of SCALE-Sim's own topologies (scalesim-project/scale-sim-v2, topologies/conv_nets/
# mobilnet_paper.csv, yolo_tiny.csv, alexnet.csv) made small, written as those files write them:
# mobilenet's blank line after the header, tab-indented rows and '#dw' after the last comma
# (SCALE-Sim drops a row's last field), yolo's aligned columns and a space after the last comma
SHIPPED_TOPOLOGIES = {
    "mobile": CONV_HEADER + "\nConv1, 15, 15, 3, 3, 3, 8, 2,\nConv2_dw, 7, 7, 3, 3, 1, 1, 1,#dw\n"
    "Conv3, 7, 7, 1, 1, 8, 16, 1,\n\tConv4_DP, 7, 7, 3, 3, 3, 1, 2,\nFC, 1, 1, 1, 1, 64, 10, 1,\n",
    "yolo": CONV_HEADER + "Conv1,  26, 26,    3, 3,      3,      4,     1,\n"
    "Conv2,  13,  13,     3, 3,      16,     32,     1, \n"
    "Conv9,  5,   5,      1, 1,      64,    25,    1,\n",
    "alex": CONV_HEADER + "Conv1, 35, 35, 11, 11, 3, 12, 4,\nConv2, 9, 9, 5, 5, 12, 20, 1,\n"
    "Conv3, 7, 7, 3, 3, 20, 24, 1,\nFC1, 1, 1, 1, 1, 96, 40, 1,\nConv_s5, 12, 12, 2, 2, 4, 6, 5,\n",
}
SMALL_GEMMS = [("g45x52x39", 45, 52, 39), ("g120x9x70", 120, 9, 70), ("g11x150x33", 11, 150, 33)]
SMALL_CONVS = [("c20_s2", 20, 20, 3, 3, 6, 14, 2), ("c13x17_s1", 13, 17, 4, 2, 5, 11, 1)]


def shipped_cases():
    """The third round: SCALE-Sim's own conv topologies (small), the run keys that change no
    result set off their defaults, 1x1, 2x3 and 64x5 arrays, and SRAMs of 3 to 6 kB at low
    bandwidths (some layers stall-free, some not)."""
    specs = []
    for df in DATAFLOWS:
        for name, (r, c) in (("mobile", (5, 9)), ("yolo", (11, 6)), ("alex", (12, 4))):
            specs.append(
                (
                    f"conv_{name}_{df}_{r}x{c}",
                    "conv",
                    f"{name} layers as SCALE-Sim's own topology writes them, {df}, {r}x{c}",
                    (r, c, df),
                    dict(ifmap_bw=7, filter_bw=5, ofmap_bw=3),
                    SHIPPED_TOPOLOGIES[name],
                    {},
                )
            )
        run_keys = {
            "architecture_presets": dict(
                IfmapOffset=5,
                FilterOffset=77,
                OfmapOffset=123457,
                ReadRequestBuffer=3,
                WriteRequestBuffer=5,
            ),
            "layout": dict(
                IfmapSRAMBankNum=2, IfmapSRAMBankPort=1, FilterSRAMBankNum=3, FilterSRAMBankPort=1
            ),
        }
        specs.append(
            (
                f"gemm_runkeys_{df}_6x10",
                "gemm",
                f"GEMM, {df}, 6x10, 8/9/10 kB, offsets, banks and request buffers off defaults",
                (6, 10, df),
                dict(ifmap_kb=8, filter_kb=9, ofmap_kb=10, ifmap_bw=4, filter_bw=6, ofmap_bw=8),
                gemm_topology(
                    [("g29x31x37", 29, 31, 37), ("g6x10x1", 6, 10, 1), ("g1x61x12", 1, 61, 12)]
                ),
                run_keys,
            )
        )
        for r, c in ((2, 3), (1, 1), (64, 5)):
            specs.append(
                (
                    f"gemm_tiny_{df}_{r}x{c}",
                    "gemm",
                    f"GEMM, {df}, {r}x{c} array, 4 kB SRAMs, bw 2",
                    (r, c, df),
                    dict(ifmap_kb=4, filter_kb=4, ofmap_kb=4, ifmap_bw=2, filter_bw=2, ofmap_bw=2),
                    gemm_topology([("g5x7x3", 5, 7, 3), ("g9x2x11", 9, 2, 11)]),
                    {},
                )
            )
        for kb, bw, (r, c) in ((3, 8, (5, 7)), (4, 2, (9, 4)), (6, 5, (3, 11))):
            sizes = dict(ifmap_kb=kb, filter_kb=kb + 1, ofmap_kb=kb + 2)
            keywords = dict(**sizes, ifmap_bw=bw, filter_bw=bw + 1, ofmap_bw=bw + 2)
            for kind, topology in (
                ("gemm", gemm_topology(SMALL_GEMMS)),
                ("conv", conv_topology(SMALL_CONVS)),
            ):
                specs.append(
                    (
                        f"{kind}_small_{df}_{r}x{c}_{kb}kB_bw{bw}",
                        kind,
                        f"{kind}, {df}, {r}x{c}, SRAMs {kb}/{kb + 1}/{kb + 2} kB, bw "
                        f"{bw}/{bw + 1}/{bw + 2}",
                        (r, c, df),
                        keywords,
                        topology,
                        {},
                    )
                )
    return _from_specs(specs)


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def run_case(case, python):
    with tempfile.TemporaryDirectory(prefix="ssgold_") as tmp:
        cfgp = Path(tmp) / f"{case['id']}.cfg"
        topp = Path(tmp) / f"{case['id']}.csv"
        # newline="" keeps the exact text (CRLF in the quirky topology) on disk
        with open(cfgp, "w", newline="") as f:
            f.write(case["cfg_text"])
        with open(topp, "w", newline="") as f:
            f.write(case["topology_text"])
        flag = "--gemm" if case["kind"] == "gemm" else "--conv"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [python, str(RUNNER), str(cfgp), str(topp), flag],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{case['id']} failed:\n{proc.stderr[-3000:]}")
        out = json.loads(proc.stdout)
        return out, time.perf_counter() - t0


def generate(args):
    cases = build_cases()
    if args.only:
        cases = [c for c in cases if args.only in c["id"]]
    results, kept = {}, {}
    if args.missing and Path(args.out).exists():  # keep the cases already there, run the rest
        kept = {c["id"]: c for c in json.loads(Path(args.out).read_text())["cases"]}
        for c in cases:
            if c["id"] in kept:
                results[c["id"]] = {
                    "layers": kept[c["id"]]["results"],
                    "wall_s": kept[c["id"]]["scalesim_wall_s"],
                }
    todo = [c for c in cases if c["id"] not in results]
    t_all = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = {ex.submit(run_case, c, args.python): c["id"] for c in todo}
        for fut in cf.as_completed(futs):
            cid = futs[fut]
            out, wall = fut.result()
            results[cid] = out
            print(
                f"{cid:45s} {len(out['layers'])} layers  run_scale {out['wall_s']:6.2f} s",
                file=sys.stderr,
            )
    golden = []
    total_ss = 0.0
    for c in cases:
        out = results[c["id"]]
        total_ss += out["wall_s"]
        golden.append(
            {
                "id": c["id"],
                "description": c["description"],
                "kind": c["kind"],
                "config": c["config"],
                "cfg_text": c["cfg_text"],
                "topology_text": c["topology_text"],
                "results": out["layers"],
                "scalesim_wall_s": round(out["wall_s"], 3),
            }
        )
    doc = {
        "generator": "benchmarks/make_scalesim_golden.py (scalesim==3.0.0, numpy<2.4)",
        "scalesim_version": "3.0.0",
        "note": (
            "Golden outputs of the real SCALE-Sim 3.0.0 Python API "
            "(save_disk_space=True). results[i] follows the topology's layer order; "
            "'DP' rows are expanded per channel by SCALE-Sim. Cycle counts are array cycles."
        ),
        "total_scalesim_wall_s": round(total_ss, 2),
        "cases": golden,
    }
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    n_layers = sum(len(c["results"]) for c in golden)
    print(
        f"wrote {out_path}: {len(golden)} cases, {n_layers} layer results, "
        f"SCALE-Sim run_scale total {total_ss:.1f} s, wall {time.perf_counter() - t_all:.1f} s",
        file=sys.stderr,
    )


# --------------------------------------------------------------------------------------------
# Independent verification of the closed forms
# --------------------------------------------------------------------------------------------


def cdiv(a, b):
    return -(-a // b)


def parse_topology(kind, text):
    """Mimic SCALE-Sim's reader: skip first line and blank lines; drop the last comma field."""
    layers = []
    for row in text.splitlines()[1:]:
        row = row.strip()
        if not row:
            continue
        f = [x.strip() for x in row.split(",")[:-1]]
        if kind == "gemm":
            layers.append((f[0], int(f[1]), int(f[2]), int(f[3]), None))
        else:
            name = f[0]
            h, w, fh, fw, ch, nf, s = (int(x) for x in f[1:8])
            ho = cdiv(h - fh + s, s)
            wo = cdiv(w - fw + s, s)
            if "DP" in name:
                for i in range(ch):
                    layers.append((f"{name}Channel_{i}", ho * wo, nf, fh * fw, None))
            else:
                layers.append((name, ho * wo, nf, fh * fw * ch, None))
    return layers


def mapping(df, M, N, K, R, C):
    """(spatial rows, spatial cols, temporal T) per dataflow."""
    return {"os": (M, N, K), "ws": (K, N, M), "is": (K, M, N)}[df]


def closed_forms(df, M, N, K, R, C, cfg):
    Sr, Sc, T = mapping(df, M, N, K, R, C)
    fr, fc = cdiv(Sr, R), cdiv(Sc, C)
    folds = fr * fc
    cpf = T + R + C - 2 if df == "os" else T + 2 * R + C - 2
    total = folds * cpf - 1
    # per-fold utilisation as SCALE-Sim averages it
    maps, comps = [], []
    # SCALE-Sim's per-fold "cycles_this_fold" for compute util: os T+R+C-2; ws/is 2R+2C+T-3
    cyc_util = T + R + C - 2 if df == "os" else T + 2 * R + 2 * C - 3
    for i in range(fr):
        ru = min(R, Sr - i * R)
        for j in range(fc):
            cu = min(C, Sc - j * C)
            maps.append(ru * cu / (R * C))
            comps.append(ru * cu * T / (R * C * cyc_util))
    overall = 100.0 * M * N * K / (total * R * C)
    # DRAM: initial fill (negative cycles) and final ofmap flush
    arch, lay = cfg["architecture_presets"], cfg["layout"]
    act_i = math.ceil(1024 * arch["IfmapSramSzkB"] * 0.5)
    act_f = math.ceil(1024 * arch["FilterSramSzkB"] * 0.5)
    bi, bf = lay["IfmapSRAMBankBandwidth"], lay["FilterSRAMBankBandwidth"]
    bo = int(str(arch["Bandwidth"]).split(",")[0])  # SCALE-Sim uses a comma list's first value
    # prefetch-matrix element counts including the -1 padding of partial folds
    e_if = {"os": cdiv(M, R) * R * K, "ws": M * cdiv(K, R) * R, "is": cdiv(M, C) * C * K}[df]
    e_fl = {"os": cdiv(N, C) * C * K, "ws": K * cdiv(N, C) * C, "is": cdiv(K, R) * R * N}[df]
    fill_i = min(cdiv(act_i, bi), cdiv(e_if, bi))
    fill_f = min(cdiv(act_f, bf), cdiv(e_fl, bf))
    writes = M * N if df == "os" else M * N * cdiv(K, R)
    flush = cdiv(writes, bo)
    incl = total + flush - 1 + max(fill_i, fill_f)
    # SRAM access counts (DETAILED_ACCESS_REPORT), including the os per-fold +R+C write bug
    sram = {
        "os": (M * K * fc, K * N * fr, M * N + folds * (R + C)),
        "ws": (M * K * fc, K * N, M * N * fr),
        "is": (M * K, K * N * fc, M * N * fr),
    }[df]
    tot_o = 1024 * arch["OfmapSramSzkB"]
    return dict(
        folds=folds,
        cpf=cpf,
        total=total,
        incl=incl,
        overall=overall,
        writes=writes,
        ofmap_drain_half=tot_o - math.ceil(tot_o * 0.5),
        sram=sram,
        dram=(fill_i * bi, fill_f * bf, writes),
        fits=e_if <= act_i and e_fl <= act_f,
        mapeff=100.0 * sum(maps) / len(maps),
        comp=100.0 * sum(comps) / len(comps),
    )


def verify(args):
    doc = json.load(open(args.out))
    checked = {"total": 0, "incl": 0, "overall": 0, "mapeff": 0, "comp": 0, "sram": 0, "dram": 0}
    bad = dict.fromkeys(checked, 0)
    n_layers = n_stall = 0
    for case in doc["cases"]:
        cfg = case["config"]
        arch = cfg["architecture_presets"]
        R, C, df = arch["ArrayHeight"], arch["ArrayWidth"], arch["Dataflow"]
        layers = parse_topology(case["kind"], case["topology_text"])
        assert len(layers) == len(case["results"]), case["id"]
        for (name, M, N, K, _), res in zip(layers, case["results"]):
            assert res["name"] == name and res["gemm_mnk"] == [M, N, K], (case["id"], name)
            n_layers += 1
            stall = res["stall_cycles"]
            n_stall += stall != 0
            f = closed_forms(df, M, N, K, R, C, cfg)
            checks = {
                # Total Cycles = (number of demand rows) - 1 + stall cycles, always
                "total": f["total"] + stall == res["total_cycles"],
                "overall": abs(
                    100.0 * M * N * K / (res["total_cycles"] * R * C) - res["overall_util_pct"]
                )
                < 1e-9,
                "mapeff": abs(f["mapeff"] - res["mapping_efficiency_pct"]) < 1e-9,
                "comp": abs(f["comp"] - res["compute_util_pct"]) < 1e-9,
                "sram": f["sram"]
                == (
                    res["detail"]["ifmap_sram_reads"],
                    res["detail"]["filter_sram_reads"],
                    res["detail"]["ofmap_sram_writes"],
                ),
            }
            if stall == 0:
                checks["overall"] = (
                    checks["overall"] and abs(f["overall"] - res["overall_util_pct"]) < 1e-9
                )
            # the incl-prefetch closed form holds only without stalls, in USER mode, and when
            # the OFMAP SRAM never drains mid-layer (all writes fit in its drain half)
            if (
                stall == 0
                and cfg["run_presets"]["InterfaceBandwidth"] == "USER"
                and f["writes"] <= f["ofmap_drain_half"]
            ):
                checks["incl"] = f["incl"] == res["total_cycles_incl_prefetch"]
                if f["fits"]:  # no refetch: DRAM reads = fill lines * bw (padding included)
                    checks["dram"] = f["dram"] == (
                        res["detail"]["ifmap_dram_reads"],
                        res["detail"]["filter_dram_reads"],
                        res["detail"]["ofmap_dram_writes"],
                    )
            for k, ok in checks.items():
                checked[k] += 1
                if not ok:
                    bad[k] += 1
                    print(
                        f"MISMATCH {k}: {case['id']} {name} M,N,K={M},{N},{K} "
                        f"formula={f} scalesim={res}"
                    )
    print(
        f"layers: {n_layers} ({n_stall} with stalls); checked per quantity: {checked}; "
        f"mismatches: {bad}"
    )
    return 0 if not any(bad.values()) else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=DEFAULT_PY)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--missing",
        action="store_true",
        help="run only the cases --out does not hold yet; keep the others as they are",
    )
    ap.add_argument("--only", default="")
    ap.add_argument("--verify", action="store_true")
    args = ap.parse_args()
    if args.verify:
        return verify(args)
    generate(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
