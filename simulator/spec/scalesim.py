"""Read SCALE-Sim 3.0.0 config (.cfg) and topology (.csv) files into accsim arch/workload/mapping dicts.

SCALE-Sim has no clock (cycles are array cycles), one-byte words, SRAM sizes in KiB of words, and
DRAM bandwidth in words per cycle per operand. The import uses a nominal 1 GHz clock, so one
simulated cycle is one SCALE-Sim cycle and "N words/cycle" becomes "N GB/s".
"""

import configparser
import difflib
import math
from pathlib import Path

from simulator.errors import SpecError
from simulator.spec.textio import check_readable
from simulator.spec.yamlio import MAX_NODES

NOMINAL_CLOCK_HZ = 1e9
ACCUMULATOR_BYTES = 4  # accsim keeps outputs as int32 accumulators; SCALE-Sim counts 1-byte words


def _config(path: Path, keep_case: bool = False) -> configparser.ConfigParser:
    # keys are case-insensitive (kept as written with keep_case, for messages); ':' and '=' both
    # accepted; '%' is a plain character
    parser = configparser.ConfigParser(interpolation=None)
    if keep_case:
        parser.optionxform = str
    try:
        parser.read_string(_text(path))
    except configparser.Error as error:
        raise SpecError(
            f"{path}: malformed SCALE-Sim config: {str(error).splitlines()[0]}"
        ) from None
    return parser


def _text(path: Path) -> str:
    check_readable(path)
    try:
        return path.read_text()
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a UTF-8 text file") from None


def _get(parser, path: Path, section: str, key: str, kind=int, default=None):
    try:
        raw = parser.get(section, key)
    except (configparser.NoSectionError, configparser.NoOptionError):
        if default is not None:
            return default
        raise SpecError(f"{path}: [{section}] {key}: missing required key") from None
    try:
        value = kind(raw.strip())
    except ValueError:
        expected = "a number" if kind is _first_of_list else kind.__name__
        raise SpecError(f"{path}: [{section}] {key}: expected {expected}, got {raw!r}") from None
    if kind is not str and not value > 0:  # array sizes, SRAM sizes and bandwidths
        raise SpecError(f"{path}: [{section}] {key}: must be > 0, got {raw!r}")
    return value


def _word(role: str) -> int:
    """Bytes of one SCALE-Sim word in accsim: outputs are int32 accumulators."""
    return ACCUMULATOR_BYTES if role == "output" else 1


def _first_of_list(raw: str) -> float:
    """SCALE-Sim reads `Bandwidth` as a comma list and uses only its first value."""
    return float(raw.split(",")[0])


def _dataflow(path: Path, raw: str) -> str:
    """The dataflow SCALE-Sim 3.0.0 runs: only exact `ws` and `is` select those, anything else
    runs os; a value whose name says otherwise (`WS`) is refused rather than run as os."""
    runs = raw if raw in ("ws", "is") else "os"
    if raw.lower() != runs:
        raise SpecError(
            f"{path}: [architecture_presets] Dataflow: SCALE-Sim 3.0.0 runs {raw!r} as os "
            "(it reads ws and is in lower case only); write os, ws or is"
        )
    return runs


_TRUE = ("1", "yes", "true", "on")  # configparser's getboolean
# Config switches that change SCALE-Sim's results in ways accsim does not model, each with the
# test SCALE-Sim 3.0.0 applies to the value (scale_config.py) to turn it on.
_UNMODELLED = (
    ("sparsity", "SparsitySupport", lambda v: v.lower() == "true", "structured sparsity"),
    ("layout", "IfmapCustomLayout", lambda v: v.lower() in _TRUE, "custom SRAM layouts"),
    ("layout", "FilterCustomLayout", lambda v: v.lower() in _TRUE, "custom SRAM layouts"),
    ("run_presets", "UseRamulatorTrace", lambda v: v == "True", "Ramulator DRAM traces"),
)


READ_KEYS = {
    "general": ("run_name",),
    "architecture_presets": (
        "ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB",
        "Bandwidth", "Dataflow",
    ),
    "run_presets": ("InterfaceBandwidth", "UseRamulatorTrace"),
    "layout": (
        "IfmapSRAMBankBandwidth", "FilterSRAMBankBandwidth", "IfmapCustomLayout",
        "FilterCustomLayout",
    ),
    "sparsity": ("SparsitySupport",),
}  # fmt: skip
"""The config keys the import reads, by section."""
OTHER_KEYS = (
    "IfmapOffset", "FilterOffset", "OfmapOffset", "ReadRequestBuffer", "WriteRequestBuffer",
    "MemoryBanks", "OnChipMemoryBanks", "IfmapSRAMBankNum", "IfmapSRAMBankPort",
    "FilterSRAMBankNum", "FilterSRAMBankPort", "SparseRep", "OptimizedMapping", "BlockSize",
    "RandomNumberGeneratorSeed",
)  # fmt: skip
"""SCALE-Sim keys the import leaves unread (addresses, request buffers, bank layouts)."""


def _refuse_misspelt(path: Path) -> None:
    """A key the import would read, misspelt or in another section (`Bandwith : 50`, `Bandwidth`
    under [run_presets]), is refused, named as the file wrote it: the import read the default
    instead and said nothing. Other keys are SCALE-Sim's own options the import does not read,
    and are left alone."""
    read = {key.lower(): (section, key) for section, keys in READ_KEYS.items() for key in keys}
    other = {key.lower() for key in OTHER_KEYS}
    parser = _config(path, keep_case=True)
    for section in parser.sections():
        for key in parser[section]:
            if key.lower() in other or read.get(key.lower(), ("",))[0] == section:
                continue
            close = difflib.get_close_matches(key.lower(), list(read), n=1, cutoff=0.8)
            if close:
                want, name = read[close[0]]
                raise SpecError(
                    f"{path}: [{section}] {key}: not a key the import reads; did you mean "
                    f"{name} under [{want}]?"
                )


def _refuse_unmodelled(parser, path: Path) -> None:
    for section, key, on, what in _UNMODELLED:
        raw = parser.get(section, key, fallback="").strip()
        if on(raw):
            raise SpecError(
                f"{path}: [{section}] {key}: {raw!r} turns on {what}, which accsim does not "
                "model; set it off to import"
            )


def read_topology(path: Path) -> list[dict]:
    """GEMM rows (name, M, N, K) or conv rows (name, H, W, Fh, Fw, C, filters, stride) as GEMM ops."""
    lines = _text(path).splitlines()
    header = _fields(lines[0]) if lines else []
    if len(header) > 3 and all(_is_number(c) for c in header[1:]):  # SCALE-Sim skips line 1
        raise SpecError(
            f"{path}:1: {header[0]} is a layer, not the header line a topology starts with "
            "(Layer name, ...), which SCALE-Sim skips: add one"
        )
    ops: list[dict] = []
    for number, line in enumerate(lines[1:], start=2):
        cells = _fields(line)
        if not any(cells):
            continue
        name = cells[0]
        numbers = [
            c for c in cells[1:] if ":" not in c
        ]  # a trailing N:M sparsity column is ignored
        try:
            values = [int(c) for c in numbers]
        except ValueError:
            raise SpecError(
                f"{path}:{number}: expected integers after the layer name, got {cells[1:]}"
            ) from None
        if min(values, default=1) <= 0:
            raise SpecError(f"{path}:{number}: {name}: sizes must be > 0, got {values}")
        if len(values) == 3:
            m, n, k = values
            ops.append({"kind": "gemm", "name": name, "M": m, "N": n, "K": k, "dtype": "int8"})
        elif len(values) == 7:
            ops.extend(_conv_as_gemms(path, number, name, values))
        else:
            raise SpecError(
                f"{path}:{number}: expected 3 (GEMM) or 7 (conv, one stride) numbers, "
                f"got {len(values)}"
            )
        if len(ops) > MAX_NODES:  # each depthwise channel is an op: bound them as a spec's values
            raise SpecError(
                f"{path}:{number}: more than {MAX_NODES:,} GEMMs in all, the most a spec holds"
            )
    if not ops:
        raise SpecError(f"{path}: no layers after the header line")
    return ops


def _fields(line: str) -> list[str]:
    """A topology row's fields as SCALE-Sim reads them: it drops every row's last field, the
    empty one after the trailing comma or whatever follows the last comma (its own topologies
    write `#dw` there). A last field that is a number stays: a row without the trailing comma,
    which SCALE-Sim would fail on, runs here as written."""
    cells = [c.strip() for c in line.strip().split(",")]
    if len(cells) > 1 and not _is_number(cells[-1]):
        return cells[:-1]
    return cells


def _is_number(cell: str) -> bool:
    try:
        int(cell)
    except ValueError:
        return False
    return True


def _conv_as_gemms(path, number, name, values) -> list[dict]:
    """im2col lowering as SCALE-Sim does: M = Ho*Wo, N = filters, K = Fh*Fw*C; 'DP' layers per channel."""
    height, width, fh, fw, channels, filters, stride = values
    if fh > height or fw > width:
        raise SpecError(
            f"{path}:{number}: {name}: filter {fh}x{fw} does not fit ifmap {height}x{width}"
        )
    if "DP" in name and channels > MAX_NODES:
        raise SpecError(
            f"{path}:{number}: {name}: {channels:,} channels, one GEMM each; at most {MAX_NODES:,}"
        )
    ho = math.ceil((height - fh + stride) / stride)
    wo = math.ceil((width - fw + stride) / stride)
    gemm = {"kind": "gemm", "M": ho * wo, "N": filters, "dtype": "int8"}
    if "DP" in name:
        return [{**gemm, "name": f"{name}Channel_{c}", "K": fh * fw} for c in range(channels)]
    return [{**gemm, "name": name, "K": fh * fw * channels}]


def import_scalesim(config_path: Path, topology_path: Path) -> tuple[dict, dict, dict]:
    """(arch, workload, mapping) dicts equivalent to a SCALE-Sim config and topology."""
    parser = _config(config_path)
    arch_sec = "architecture_presets"
    rows = _get(parser, config_path, arch_sec, "ArrayHeight")
    cols = _get(parser, config_path, arch_sec, "ArrayWidth")
    dataflow = _dataflow(config_path, _get(parser, config_path, arch_sec, "Dataflow", str))
    _refuse_unmodelled(parser, config_path)
    _refuse_misspelt(config_path)
    sizes = {
        role: _get(parser, config_path, arch_sec, f"{prefix}SramSzkB")
        for role, prefix in (("input", "Ifmap"), ("weight", "Filter"), ("output", "Ofmap"))
    }
    ofmap_bw = _get(parser, config_path, arch_sec, "Bandwidth", _first_of_list, default=10.0)
    mode = _get(
        parser, config_path, "run_presets", "InterfaceBandwidth", str, default="CALC"
    ).upper()
    if mode not in ("USER", "CALC"):
        raise SpecError(
            f"{config_path}: [run_presets] InterfaceBandwidth: must be USER or CALC, got {mode!r}"
        )
    dram = {"kind": "dram", "technology": "ddr4", "latency": "0 ns"}
    if mode == "USER":  # one DRAM interface per operand, each at its own bandwidth
        ifmap_bw = _get(
            parser, config_path, "layout", "IfmapSRAMBankBandwidth", float, default=ofmap_bw
        )
        filter_bw = _get(
            parser, config_path, "layout", "FilterSRAMBankBandwidth", float, default=ofmap_bw
        )
        words = {"input": ifmap_bw, "weight": filter_bw, "output": ofmap_bw}
        fill = {role: w * _word(role) for role, w in words.items()}  # bytes per cycle
        dram["operand_bandwidth"] = {
            role: f"{b * NOMINAL_CLOCK_HZ / 1e9:g} GB/s" for role, b in fill.items()
        }
    else:  # CALC: SCALE-Sim sizes the interface so nothing stalls; give the same headroom
        bus = 10.0 * (rows + cols)
        fill = dict.fromkeys(sizes, bus)
        dram["bandwidth"] = f"{bus * NOMINAL_CLOCK_HZ / 1e9:g} GB/s"
    name = _get(parser, config_path, "general", "run_name", str, default=config_path.stem)
    buffer_names = {"input": "ifmap_sram", "weight": "filter_sram", "output": "ofmap_sram"}
    components = {
        "array": {
            "kind": "systolic_array",
            "rows": rows,
            "cols": cols,
            "dataflows": [dataflow],
            "input_precision": ["int8"],
        },
    }
    for role, kib in sizes.items():
        # SCALE-Sim's scratchpads feed the array from one half while DRAM fills the other, so
        # its fills never wait for the array's accesses: two ports of an array row or column
        # each, plus what the DRAM interface delivers per cycle
        components[buffer_names[role]] = {
            "kind": "sram",
            "capacity": f"{kib * 1024 * _word(role)} B",
            "holds": [role],
            "banks": 1,
            "ports": 2,
            "width": f"{max(rows, cols) * _word(role) + math.ceil(fill[role] / 2)} B",
        }
    components["dram"] = dram
    arch = {
        "name": f"scalesim-{name}",
        "description": f"Imported from {config_path.name} (SCALE-Sim {rows}x{cols} {dataflow}); 1 GHz nominal clock.",
        "clock": "1 GHz",
        "tech_node": "45 nm",
        "components": components,
    }
    workload = {
        "name": topology_path.stem,
        "description": f"Imported from {topology_path.name}",
        "ops": read_topology(topology_path),
    }
    mapping = {
        "name": "scalesim",
        "description": "SCALE-Sim accounting: folds never overlap",
        "dataflow": dataflow,
        "accounting": "scalesim",
        "edge_tiles": "partial",
    }
    return arch, workload, mapping
