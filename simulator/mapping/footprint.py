"""A model's device-memory footprint: all weights plus the activations alive at the same time."""

from simulator.mapping.host import input_bytes, output_bytes
from simulator.spec.precision import nbytes
from simulator.spec.workload import WorkloadSpec


def weight_bytes(op) -> int:
    if op.kind == "conv2d":
        return nbytes(op.K * (op.C // op.groups) * op.R * op.S, op.dtype)
    if op.kind == "gemm":
        return nbytes(op.N * op.K, op.dtype)
    return 0


def past_kv_bytes(op) -> int:
    """K and V of the positions before an attention op's queries (a decode's KV-cache): they live
    in device memory all run long. Counted only where attention reads an earlier op, whose output
    holds the current positions; an attention op that reads nothing has all its keys counted as
    its external input at its own step. A windowed op's queries see window - 1 earlier keys at
    most (the rolling buffer TransformerSpec.kv_cache_bytes counts)."""
    if op.kind != "attention" or not op.inputs:
        return 0
    past = min(op.keys - op.q_len, (op.window or op.keys) - 1)
    return nbytes(2 * op.batch * past * op.kv_groups * op.head_dim, op.dtype)


def peak_activation_bytes(workload: WorkloadSpec) -> int:
    """Largest sum of live tensors while an op runs: its result, plus every earlier result that
    an op at or after it still reads (the model input counts until its first reader runs)."""
    ops = workload.ops
    last_use = {}
    for index, op in enumerate(ops):
        for name in op.inputs:
            last_use[name] = index
    peak = 0
    for index, op in enumerate(ops):
        live = sum(
            output_bytes(earlier)
            for earlier in ops[:index]
            if last_use.get(earlier.name, -1) >= index
        )
        external = input_bytes(op) if not op.inputs else 0
        peak = max(peak, live + external + output_bytes(op))
    return peak
