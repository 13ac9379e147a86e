"""Technology tables (cited YAML data files) and the node-scaling rule applied to them.

Per-op energy and area are given at 45 nm (Horowitz, ISSCC 2014); `scale_energy` and `scale_area`
move them to another node with the factors in node_scaling.yaml (see README.md in this folder).
"""

import math
from functools import cache
from pathlib import Path

import yaml

_HERE = Path(__file__).resolve().parent


@cache
def table(name: str) -> dict:
    """A tech table by file stem ('dram', 'logic_45nm', 'node_scaling')."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster, same data
    return yaml.load((_HERE / f"{name}.yaml").read_text(), Loader=loader)


def loglog(points: list[tuple[float, float]], x: float, extrapolate: bool) -> float:
    """Piecewise log-log interpolation through sorted (x, y) points; clamp or extend at the ends."""
    if not extrapolate and (x <= points[0][0] or x >= points[-1][0]):
        return points[0][1] if x <= points[0][0] else points[-1][1]
    segment = next(
        ((a, b) for a, b in zip(points, points[1:]) if x <= b[0]), (points[-2], points[-1])
    )
    (x0, y0), (x1, y1) = segment
    slope = (math.log(y1) - math.log(y0)) / (math.log(x1) - math.log(x0))
    return math.exp(math.log(y0) + slope * (math.log(x) - math.log(x0)))


@cache
def node_range() -> tuple[float, float]:
    """The smallest and largest node (nm) node_scaling.yaml tabulates: the nodes a spec may name."""
    nodes = [float(n) for n in table("node_scaling")["nodes"]]
    return min(nodes), max(nodes)


@cache
def _node_factor(node_nm: float, key: str) -> float:
    """Scaling factor from 45 nm to `node_nm`, log-log interpolated between tabulated nodes
    (memoized: every report scales each component's energy and area by it)."""
    nodes = {float(n): float(v[key]) for n, v in table("node_scaling")["nodes"].items()}
    return loglog(sorted(nodes.items()), node_nm, extrapolate=False)


def scale_energy(energy_45nm_pj: float, node_nm: float) -> float:
    """Dynamic energy at `node_nm` from its 45 nm value."""
    return energy_45nm_pj * _node_factor(node_nm, "energy_factor")


def scale_wire_energy(energy_45nm_pj: float, node_nm: float) -> float:
    """Wire energy at `node_nm`: capacitance per mm barely scales, so only V^2 does (vdd per node)."""
    return energy_45nm_pj * (_node_factor(node_nm, "vdd") / _node_factor(45.0, "vdd")) ** 2


def scale_area(area_45nm: float, node_nm: float) -> float:
    """Area at `node_nm` from its 45 nm value (any area unit)."""
    return area_45nm * _node_factor(node_nm, "area_factor")


def op_energy_pj(op: str) -> float:
    """45 nm energy of one arithmetic op, e.g. 'int8_mul', 'fp32_add'."""
    return float(table("logic_45nm")["ops"][op]["energy_pj"])


def op_area_um2(op: str) -> float:
    """45 nm area of one arithmetic operator, e.g. 'int8_mul'."""
    return float(table("logic_45nm")["ops"][op]["area_um2"])


def sram_read_pj_per_byte_45nm(bank_bytes: float) -> float:
    """45 nm SRAM read energy per byte for a bank of `bank_bytes`, log-log through Horowitz's points."""
    points = table("logic_45nm")["sram"]["read_64bit_pj"]
    scale = {"KiB": 2**10, "MiB": 2**20}
    curve = sorted(
        (float(key[:-3]) * scale[key[-3:]], float(value))
        for key, value in points.items()
        if key[-3:] in scale
    )
    return loglog(curve, bank_bytes, extrapolate=True) / 8.0


def sram_area_mm2_per_mib_45nm() -> float:
    """45 nm SRAM area density."""
    return float(table("logic_45nm")["sram"]["area_mm2_per_mib"]["value"])


def sram_port_area_factor(ports: int, kind: str = "read_write") -> float:
    """Area of a `ports`-ported SRAM over a single-ported one of the same capacity: CACTI's 1 MiB
    45 nm macro with that many ports of `kind` (read_write, or split into exclusive read and write
    ports; one port is read-write either way), its cell and periphery grow per port."""
    runs = table("logic_45nm")["sram"]["ports"]["area_mm2"]
    one = float(runs["read_write"][1])
    points = sorted({1: one, **runs[kind]}.items())
    return loglog(
        [(float(p), float(mm2) / one) for p, mm2 in points], float(ports), extrapolate=True
    )


def scale_sram_area(area_45nm: float, node_nm: float) -> float:
    """SRAM area at `node_nm` from its 45 nm value, scaled by published 6T bit cells rather than the
    logic area factor (bit cells shrink slower than logic at 10 nm and below)."""
    cells = table("logic_45nm")["sram"]["bit_cell_um2"]
    points = sorted((float(n), float(v["value"])) for n, v in cells.items() if isinstance(n, int))
    return area_45nm * loglog(points, node_nm, extrapolate=False) / float(cells[45]["value"])


def sram_leakage_mw_per_mib_45nm() -> float:
    """45 nm SRAM leakage per MiB, or 0 where the table has no cited figure."""
    entry = table("logic_45nm")["sram"].get("leakage_mw_per_mib")
    return float(entry["value"]) if entry else 0.0


FLIPFLOP_LIMIT_BYTES = 64  # instances up to this size are flip-flops, larger ones register files


def register_pj_per_bit(instance_bytes: float, node_nm: float) -> float:
    """Access energy per bit of a register level: flip-flops (Aladdin, 40 nm) for small instances,
    a register file (EIE Table I, 45 nm: 1 pJ per 32-bit access) for larger ones."""
    registers = table("logic_45nm")["registers"]
    if instance_bytes <= FLIPFLOP_LIMIT_BYTES:
        entry = registers["flipflop_pj_per_bit"]
        return (
            entry["value"]
            * _node_factor(node_nm, "energy_factor")
            / _node_factor(float(entry["node_nm"]), "energy_factor")
        )
    return scale_energy(registers["register_file_32bit_pj"]["value"] / 32, node_nm)


def register_area_um2_per_bit(node_nm: float) -> float:
    """Flip-flop area per bit (Aladdin, 40 nm) moved to `node_nm`."""
    entry = table("logic_45nm")["registers"]["flipflop_pj_per_bit"]
    return (
        entry["area_um2_per_bit"]
        * _node_factor(node_nm, "area_factor")
        / _node_factor(float(entry["node_nm"]), "area_factor")
    )


def dram_preset(technology: str) -> dict:
    """DRAM technology preset: energy_pj_per_bit, channel_bandwidth_gbps, default_channels, latency_ns."""
    return table("dram")["presets"][technology]
