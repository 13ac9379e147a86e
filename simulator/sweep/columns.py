"""Extra columns of a sweep row: unit-string parameters in base units beside the text, and the
mapping each point actually ran (dataflow, tile, loop order), so results can be sorted and
plotted without parsing strings."""

import json
from typing import Any

import pandas as pd

from simulator.spec.units import BASE_SUFFIX, parse_quantity, quantity_kind


def base_unit_columns(params: dict[str, Any]) -> dict[str, float]:
    """'arch.components.sram.capacity' = '2 MiB' -> 'arch.components.sram.capacity_bytes' = 2097152."""
    out = {}
    for path, value in params.items():
        kind = quantity_kind(value)
        if kind:
            out[f"{path}_{BASE_SUFFIX[kind]}"] = parse_quantity(value, kind)
    return out


def chosen_mapping_columns(ops: pd.DataFrame) -> dict[str, Any]:
    """The tiled ops' mappings: `chosen.mapping` names each ('op: ws M512xN512xK256 MNK'), and
    the first tiled op's dataflow, tile sizes and loop order get a column each."""
    if "map_tile" not in ops:
        return {}
    tiled = ops[ops["map_tile"].apply(lambda tile: isinstance(tile, str))]
    if tiled.empty:
        return {}
    labels = []
    for row in tiled.itertuples():
        tile = json.loads(row.map_tile)
        labels.append(
            f"{row.name}: {row.map_dataflow} "
            + "x".join(f"{dim}{size}" for dim, size in tile.items())
            + f" {row.map_loop_order}"
        )
    first = tiled.iloc[0]
    return {
        "chosen.mapping": "; ".join(labels),
        "chosen.dataflow": first["map_dataflow"],
        "chosen.loop_order": first["map_loop_order"],
        **{f"chosen.tile.{dim}": int(size) for dim, size in json.loads(first["map_tile"]).items()},
    }
