"""Fold a many-core report's per-core rows into one row per part for the terminal view.

A GPU-like chip names every core's components `coreN.PART` and every core's share of an op
`OP@cN`: printed row by row, one GEMM on 108 SMs is thousands of lines. Folded, each part (or
op) is one row over all its cores, summed where the quantity adds up (energy, counts, bytes,
area) and taken over the cores where it does not (an op's span runs from its first part's start
to its last part's end, as the summary's ops give it).
"""

import re
from collections import defaultdict

_COMPONENT = re.compile(r"^core(\d+)\.(.+)$")  # core N's part: simulator/components/chip.py


def core_ranges(cores: list[int]) -> str:
    """Sorted core indices as ranges: [0, 1, 2, 5] -> '0-2,5'."""
    pieces: list[list[int]] = []
    for core in sorted(set(cores)):
        if pieces and core == pieces[-1][1] + 1:
            pieces[-1][1] = core
        else:
            pieces.append([core, core])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in pieces)


def _label(stem: str, cores: list[int], suffix: str) -> str:
    """'core[0-107].tc' for a part of many cores (a core's own name when it is alone)."""
    if len(cores) == 1:
        return f"{stem}{cores[0]}{suffix}"
    return f"{stem}[{core_ranges(cores)}]{suffix}"


def _fold_keys(names: list[str]) -> tuple[list[str], dict[str, list[int]]]:
    """Each name's folded key ('core*.tc', or the name itself) and the cores under each key."""
    keys, cores = [], defaultdict(list)
    for name in names:
        match = _COMPONENT.match(name)
        key = f"core*.{match[2]}" if match else name
        keys.append(key)
        if match:
            cores[key].append(int(match[1]))
    return keys, cores


def _folded_name(key: str, cores: dict[str, list[int]]) -> str:
    return _label("core", cores[key], key[len("core*") :]) if key in cores else key


def fold_grouped(rows: list[tuple], width: int) -> list[tuple]:
    """Rows (name, *labels, *numbers) whose first `width` fields label them: rows that differ only
    in the core of their name become one row with the numbers summed, in order of first
    appearance."""
    keys, cores = _fold_keys([row[0] for row in rows])
    folded: dict[tuple, list] = {}
    for key, row in zip(keys, rows):
        label = (key, *row[1:width])
        if label in folded:
            folded[label] = [a + b for a, b in zip(folded[label], row[width:])]
        else:
            folded[label] = list(row[width:])
    return [
        (_folded_name(label[0], cores), *label[1:], *numbers) for label, numbers in folded.items()
    ]


def fold_components(rows: list[dict]) -> list[dict]:
    """Component rows, one per part over all cores: area, bytes and bandwidths summed (the chip's
    whole), utilization the cores' mean."""
    keys, cores = _fold_keys([row["component"] for row in rows])
    members: dict[str, list[dict]] = defaultdict(list)
    for key, row in zip(keys, rows):
        members[key].append(row)
    folded = []
    for key, group in members.items():
        peaks = [row["peak_gbps"] for row in group]
        folded.append(
            {
                "component": _folded_name(key, cores),
                "kind": group[0]["kind"],
                "area_mm2": sum(row["area_mm2"] for row in group),
                "utilization": sum(row["utilization"] for row in group) / len(group),
                "read_bytes": sum(row["read_bytes"] for row in group),
                "write_bytes": sum(row["write_bytes"] for row in group),
                "achieved_gbps": sum(row["achieved_gbps"] for row in group),
                "peak_gbps": None if None in peaks else sum(peaks),
            }
        )
    return folded


def fold_ops(summary_ops: list[dict], op_rows: list[dict], groups: dict[str, str], label) -> list:
    """The summary's ops (a partitioned op's parts as one: its span, sums, its longest part's
    bound), each with its parts' mapping `label(row)`, kept when every part's agrees."""
    labels: dict[str, set] = defaultdict(set)
    for row in op_rows:
        labels[groups[row["name"]]].add(label(row))
    folded = []
    for row in summary_ops:
        named = labels[row["name"]]
        mapping = named.pop() if len(named) == 1 else "varies by part"
        name = row["name"] if row["parts"] == 1 else f"{row['name']} ({row['parts']} parts)"
        folded.append({**row, "name": name, "mapping": mapping})
    return folded


def fold_core_times(rows: list[dict], columns: tuple[str, ...], most: int) -> list[tuple]:
    """Per-core time rows as (cores, row): runs of consecutive cores with equal values share one
    row; past `most` runs, the min, mean and max over all cores instead (cores: a word)."""
    runs: list[tuple[list[int], dict]] = []
    for row in rows:
        values = tuple(row[c] for c in columns)
        if runs and tuple(runs[-1][1][c] for c in columns) == values:
            runs[-1][0].append(row["core"])
        else:
            runs.append(([row["core"]], row))
    if len(runs) <= most:
        return [(core_ranges(cores), row) for cores, row in runs]
    stats = []
    for word, pick in (("min", min), ("mean", None), ("max", max)):
        stats.append(
            (
                f"{word} of {len(rows)}",
                {
                    c: sum(r[c] for r in rows) / len(rows)
                    if pick is None
                    else pick(r[c] for r in rows)
                    for c in columns
                },
            )
        )
    return stats
