"""The per-level table: storage level x operand x action, from the mapping's closed-form counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.components import Machine
from simulator.mapping import Program

if TYPE_CHECKING:
    import pandas as pd

ACTION = {"read_low": "read", "write_low": "update", "read_high": "drain", "write_high": "fill"}
"""Timeloop's names for ZigZag's four directions: read (to the level below or the MACs), update
(partial sums written from below), drain (read out to the level above), fill (written from above)."""

COLUMNS = [
    "op",
    "level",
    "operand",
    "action",
    "elements",
    "bytes",
    "accesses",
    "pj_per_byte",
    "energy_pj",
]


def level_table(rows: list[tuple]) -> pd.DataFrame:
    """The level rows (`level_rows`) as a table (COLUMNS)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=COLUMNS)


def level_rows(program: Program, machine: Machine) -> list[tuple]:
    """One row per (op, level, operand, action); accesses are bytes over the level's access width
    (None for DRAM), energy is bytes x the level's per-byte read or write energy."""
    rows = []
    for op in program.ops:
        for row in op.levels():
            component = machine.components[row.level]
            kind = "read" if row.direction.startswith("read") else "write"
            per_byte = component.energy_pj(kind)
            width = _access_bytes(component)
            rows.append(
                (
                    op.name,
                    row.level,
                    row.operand,
                    ACTION[row.direction],
                    row.elements,
                    row.nbytes,
                    row.nbytes / width if width else None,
                    per_byte,
                    row.nbytes * per_byte,
                )
            )
    return rows


def _access_bytes(component) -> float | None:
    """Bytes one access of a storage level moves: a register's width, one SRAM port's width."""
    if component.kind == "regfile":
        return component.access_bytes
    if component.kind == "sram":
        return component.spec.width
    return None
