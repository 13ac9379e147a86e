"""Extra columns of a sweep row: unit-string parameters in base units beside the text, and the
mapping each point actually ran (dataflow, tile, loop order), so results can be sorted and
plotted without parsing strings."""

from typing import Any

from simulator.spec.units import BASE_SUFFIX, parse_quantity, quantity_kind


def base_unit_columns(params: dict[str, Any]) -> dict[str, float]:
    """'arch.components.sram.capacity' = '2 MiB' -> 'arch.components.sram.capacity_bytes' = 2097152.
    A value the units reject ('-2 GHz') gets no column: its point fails with the schema's message."""
    out = {}
    for path, value in params.items():
        kind = quantity_kind(value)
        if kind:
            try:
                out[f"{path}_{BASE_SUFFIX[kind]}"] = parse_quantity(value, kind)
            except ValueError:
                continue
    return out


def chosen_mapping_columns(ops: list) -> dict[str, Any]:
    """The tiled ops' mappings (a program's ops, each with its `details`): `chosen.mapping` names
    each ('op: ws M512xN512xK256 MNK'), and the first tiled op's dataflow, tile sizes and loop
    order get a column each."""
    tiled = [op for op in ops if isinstance(op.details.get("tile"), dict)]
    if not tiled:
        return {}
    labels = [
        f"{op.name}: {op.details.get('dataflow')} "
        + "x".join(f"{dim}{size}" for dim, size in op.details["tile"].items())
        + f" {op.details.get('loop_order')}"
        for op in tiled
    ]
    first = tiled[0].details
    return {
        "chosen.mapping": "; ".join(labels),
        "chosen.dataflow": first.get("dataflow"),
        "chosen.loop_order": first.get("loop_order"),
        **{f"chosen.tile.{dim}": int(size) for dim, size in first["tile"].items()},
    }
