"""ZigZag 3.9.1's memory-access count (`accounting: zigzag`), derived from its cost model.

ZigZag prices a level's traffic per transfer period, not per element: each period one instance
moves a fixed amount of data, rounded up to whole words of the port's smallest access
(`bandwidth_min`); a cell's (level, operand, direction) total is then counted in words of the
port's full access (`bandwidth_max`) and truncated to an integer. Partial-sum reads take the
periods of the writes they pair with (the skipped first read of each output still costs its
word), and fills of partial sums those of the drains. Precision is one per cell: partial sums
wherever they also flow back, the final output precision elsewhere.
"""

from collections import Counter

from simulator.mapping.nest import Moves
from simulator.spec.precision import precision

# The direction whose transfers set each side's periods, per operand kind; the other direction
# on that side (outputs only) mirrors them.
CARRIER = {
    "input": {"low": "read_low", "high": "write_high"},
    "output": {"low": "write_low", "high": "read_high"},
}
MIRROR = {"read_low": "write_low", "write_high": "read_high"}
SIDE = {"read_low": "low", "write_low": "low", "read_high": "high", "write_high": "high"}


def _kind(role: str) -> str:
    return "output" if role == "output" else "input"


def port_bits(component) -> tuple[int, int]:
    """(smallest access, full access) of a level's port in bits, ZigZag's bandwidth_min and
    bandwidth_max: a register's width, an SRAM port's width, DRAM's peak bytes per cycle; the
    smallest is `min_access` where the spec gives one, else the full access."""
    if component.kind == "regfile":
        full = component.access_bytes
    elif component.kind == "sram":
        full = component.spec.width
    else:
        full = component.bandwidth_bytes_per_s / component.ref_clock_hz
    smallest = getattr(component.spec, "min_access", None) or full
    return round(8 * smallest), round(8 * full)


def nest_transfers(role: str, moves: list[Moves], sizes: list[tuple[int, int]]) -> list[Counter]:
    """Transfers per level of one nest, keyed (side, elements per transfer): each side's carrier
    elements over the elements one transfer moves (nest.transfer_sizes)."""
    carrier = CARRIER[_kind(role)]
    out = []
    for m, (low, high) in zip(moves, sizes):
        level = Counter()
        for side, amount in (("low", low), ("high", high)):
            elements = getattr(m, carrier[side])
            if elements:
                level[(side, amount)] += elements // amount
        out.append(level)
    return out


def cell_bits(role: str, elements: dict[str, int], dtype: str, partial: str, final: str) -> dict:
    """ZigZag's precision of each direction's cell, in bits: operands' own; partial sums where
    the side's mirrored direction also moves data (they flow back), else final outputs."""
    if role != "output":
        return dict.fromkeys(SIDE, precision(dtype).bits)
    back = {"low": elements.get("read_low", 0), "high": elements.get("write_high", 0)}
    return {d: precision(partial if d in MIRROR or back[SIDE[d]] else final).bits for d in SIDE}


def cell_words(
    role: str, elements: dict[str, int], transfers: Counter, bits: dict[str, int], port
) -> dict[str, int]:
    """Full port words ZigZag charges each direction of one level: per transfer the data
    rounded up to smallest accesses, summed, in full accesses, truncated (int())."""
    smallest, full = port
    words = {}
    for direction, side in SIDE.items():
        if not elements.get(direction, 0):
            words[direction] = 0
            continue
        granules = sum(
            -(-amount * bits[direction] // smallest) * n
            for (s, amount), n in transfers.items()
            if s == side
        )
        words[direction] = granules * smallest // full
    return words


def word_bytes(component, words: int) -> int:
    """Bytes of `words` full accesses of a level's port (what the levels table prices)."""
    return words * port_bits(component)[1] // 8


def zigzag_cells(rows: Counter, transfers: Counter, machine, formats: tuple, port_bytes):
    """(level, role, direction, elements, bytes) per cell of a per-level table whose `rows` are
    elements by (level, role, direction, format) and `transfers` are by (level, role, side,
    elements per transfer); `formats` are the operands', partial sums' and outputs'. A side no
    transfer was gathered for (a role without register levels) is charged the data moved
    (`port_bytes(component, elements, format)`)."""
    cells: dict = {}
    for (level, role, direction, fmt), elements in rows.items():
        cell = cells.setdefault((level, role), {"elements": Counter(), "moved": Counter()})
        cell["elements"][direction] += elements
        cell["moved"][direction] += port_bytes(machine.components[level], elements, fmt)
    for (level, role), cell in sorted(cells.items()):
        component = machine.components[level]
        own = Counter({k[2:]: n for k, n in transfers.items() if k[:2] == (level, role)})
        bits = cell_bits(role, cell["elements"], *formats)
        words = cell_words(role, cell["elements"], own, bits, port_bits(component))
        for direction in SIDE:
            elements = cell["elements"][direction]
            if not elements:
                continue
            charged = cell["moved"][direction]
            if any(side == SIDE[direction] for side, _ in own):
                charged = word_bytes(component, words[direction])
            yield level, role, direction, elements, charged
