"""NCCL's cost model (tech/nccl.yaml, from NCCL's src/graph/tuning.cc): each protocol's fixed and
per-step latency and bandwidth fraction, and the protocol NCCL picks for a collective, the one its
time estimate finds fastest."""

from simulator import tech


def _table() -> dict:
    return tech.table("nccl")


def hardware(link_kind: str) -> str | None:
    """NCCL's class of a chip-to-chip link kind ('nvlink', 'pci'); None off GPUs' links."""
    return _table()["hardware"].get(link_kind)


def link_gbps(link_kind: str) -> float | None:
    """GB/s per direction NCCL rates one link of this kind at (NVLink and PCIe alike); None: the
    link's own rate."""
    return _table()["gbps_per_link"].get(link_kind)


def bus_cap_gbps(link_kind: str) -> float | None:
    """The most bus bandwidth NCCL credits a GPU with over links of this kind (GB/s); None: no cap."""
    return _table()["bus_cap_gbps"].get(link_kind)


def base_seconds(algorithm: str, protocol: str) -> float:
    """The fixed cost of one collective call (tuning.cc baseLat)."""
    return _table()["base_latency_us"][algorithm][protocol] * 1e-6


def step_seconds(hardware: str, algorithm: str, protocol: str) -> float:
    """The latency of one step over links of NCCL class `hardware` (tuning.cc hwLat)."""
    return _table()["step_latency_us"][hardware][algorithm][protocol] * 1e-6


def fraction(algorithm: str, protocol: str, pattern: str) -> float:
    """The share of the links' bandwidth the protocol carries as data."""
    value = _table()["bandwidth_fraction"][algorithm][protocol]
    return value[pattern] if isinstance(value, dict) else value


def wire_overhead(protocol: str) -> float:
    """Bytes on the wire per data byte: a line's bytes over the data bytes it carries (LL 2,
    LL128 128/120, Simple 1)."""
    line = _table()["wire_line"][protocol]
    return line["bytes"] / line["data"]


def wire_rate(algorithm: str, protocol: str, pattern: str) -> float:
    """The share of the links' rate the protocol keeps busy with wire bytes, so that its data
    moves at its bandwidth fraction: fraction x wire overhead (ring LL all-reduce 1/2)."""
    return fraction(algorithm, protocol, pattern) * wire_overhead(protocol)


def steps(algorithm: str, pattern: str, ranks: int) -> int:
    """Steps NCCL counts latency for: a ring all-reduce 2 (n - 1), reduce-scatter and all-gather
    n - 1; a tree all-reduce within one node 2 (n - 1) (its tree is a chain there)."""
    return (2 if pattern == "all_reduce" else 1) * (ranks - 1)


def estimate_seconds(
    hardware: str, algorithm: str, protocol: str, pattern: str, size: int, ranks: int, bus: float
) -> float:
    """NCCL's time for `size` bytes over `ranks` GPUs on one node whose links give `bus` bytes/s
    (tuning.cc: latency + bytes / algorithm bandwidth; a ring's is bus x n / steps, a tree's
    bus / 2)."""
    count = steps(algorithm, pattern, ranks)
    ratio = ranks / count if algorithm == "ring" else 0.5
    bandwidth = bus * fraction(algorithm, protocol, pattern) * ratio
    return (
        base_seconds(algorithm, protocol)
        + count * step_seconds(hardware, algorithm, protocol)
        + size / bandwidth
    )


def choose(hardware: str, algorithm: str, pattern: str, size: int, ranks: int, bus: float) -> str:
    """The protocol enabled on `hardware` with the least estimated time (NCCL's getAlgoInfo; the
    first listed wins a tie)."""
    enabled = _table()["enabled"][hardware]
    return min(
        enabled,
        key=lambda p: estimate_seconds(hardware, algorithm, p, pattern, size, ranks, bus),
    )
