"""Reading SANA-FE 2.x YAML: its attribute lists, unit ranges and SI numbers (J, s)."""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from simulator.errors import SpecError
from simulator.spec.textio import check_readable

RANGE = re.compile(r"^(.*)\[(\d+)(?:\.\.(\d+))?\]$")  # 'name[0..3]', 'name[5]'
SILENT = {  # trace switches: they change what SANA-FE logs, not what it simulates
    "log_spikes",
    "log_potential",
    "log_u",
    "force_soma_update",
    "log_energy",
    "log_latency",
}


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """Safe YAML where floats stay strings: '1.10' is tile 1 core 10, not 1.1."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:float"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# one neuron-to-neuron edge with only a weight, as SANA-FE's Network.save writes millions of them
_SINGLE_EDGE = re.compile(
    r"^[ \t]*- ([^.\s:{}\[\]]+)\.(\d+) -> ([^.\s:{}\[\]]+)\.(\d+): "
    r"\{(?:weight|w): ([-+0-9.eE]+)\}[ \t]*\r?\n",
    re.M,
)
_CHUNK = 1 << 24  # characters of text scanned per regex pass (bounds the temporary tuples)


@dataclass(frozen=True)
class SingleEdges:
    """Neuron-to-neuron edges read straight from the text, in file order (arrays of one length)."""

    source_group: np.ndarray  # str
    source: np.ndarray  # int64 neuron index
    target_group: np.ndarray  # str
    target: np.ndarray  # int64 neuron index
    weight: np.ndarray  # float64


def _single_edges(text: str) -> tuple[str, SingleEdges]:
    """Cut the single-edge lines out of `text` (linear, a regex per chunk) and return the rest,
    which the YAML parser then reads: 3.6 M edges as YAML nodes would take gigabytes."""
    rows, rest, start = [], [], 0
    while start < len(text):
        stop = text.find("\n", min(start + _CHUNK, len(text) - 1)) + 1 or len(text)
        chunk = text[start:stop]
        found = _SINGLE_EDGE.findall(chunk)
        if found:
            rows.append(np.array(found, dtype=str).reshape(-1, 5))
            chunk = _SINGLE_EDGE.sub("", chunk)
        rest.append(chunk)
        start = stop
    table = np.concatenate(rows) if rows else np.zeros((0, 5), dtype=str)
    edges = SingleEdges(
        table[:, 0],
        table[:, 1].astype(np.int64),
        table[:, 2],
        table[:, 3].astype(np.int64),
        table[:, 4].astype(np.float64),
    )
    return "".join(rest), edges


def read_sanafe(path: Path, top: str) -> dict:
    """A SANA-FE YAML file as data; SpecError if it is unreadable or lacks its `top` key.
    A network file's neuron-to-neuron edges come back apart, under the key 'single_edges'."""
    check_readable(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a UTF-8 text file") from None
    singles = None
    if top == "network":
        text, singles = _single_edges(text)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: malformed YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict) or top not in data:
        raise SpecError(f"{path}: not a SANA-FE {top} file (no top-level '{top}:')")
    if singles is not None:
        data["single_edges"] = singles
    return data


def attributes_of(value) -> dict:
    """SANA-FE attributes: a mapping or a list of one-key mappings."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    merged = {}
    for item in value:
        if not isinstance(item, dict):
            raise SpecError(f"attribute {item!r} is not 'key: value'")
        merged.update(item)
    return merged


def number(value) -> float:
    """A SANA-FE number (floats arrive as strings from the loader)."""
    return float(value) if not isinstance(value, bool) else float(value)


def unit_count(name: str) -> tuple[str, int]:
    """'loihi_core[0..3]' -> ('loihi_core', 4)."""
    match = RANGE.match(str(name))
    if not match:
        return str(name), 1
    first, last = int(match.group(2)), int(match.group(3) or match.group(2))
    return match.group(1), last - first + 1


def pj(joules) -> str:
    """Joules as an accsim energy string."""
    return f"{number(joules) * 1e12:.15g} pJ"


def ns(seconds) -> str:
    """Seconds as an accsim time string, the same float SANA-FE reads (its timing rules add
    these latencies in order, and equal sums must stay equal)."""
    return f"{number(seconds)!r} s"
