"""Megatron tensor parallelism: one chip's share of a workload, and the all-reduces between chips.

A GEMM marked `parallel: column` keeps N / tp of its columns on each chip, one marked `row` its
K / tp slice of the reduction (its partial outputs, in the precision it writes, are all-reduced
over the group right after); every GEMM writes its output_dtype, else its float inputs' format
(the activation dtype, as Megatron-LM and TensorRT-LLM write it), so what the all-reduce and the
pipeline hops move is what the GEMM wrote to HBM;
an unmarked GEMM is split by columns too, its output left split (as Megatron's vocabulary-parallel
LM head); attention keeps heads / tp query heads (with their K/V heads, which are copied when
there are fewer K/V heads than chips); an elementwise vector op on split columns keeps cols / tp;
norms and residual adds run whole on every chip, as in Megatron-LM.
"""

from dataclasses import dataclass

from simulator.errors import SpecError, UnsupportedError
from simulator.spec.precision import PRECISIONS, precision, written_precision
from simulator.spec.workload import VECTOR_KINDS, CollectiveOpSpec, WorkloadSpec

ELEMENTWISE = ("add", "mul", "gelu", "silu", "relu", "rope", "concat")
"""Vector ops that act on each element alone (RoPE on each head, concat copying), so a column
split needs no communication."""


@dataclass(frozen=True)
class Shard:
    """One chip's workload, the all-reduce after each row-split GEMM (by GEMM name), and the
    stage (0-based) each op runs on."""

    workload: WorkloadSpec
    all_reduces: dict[str, CollectiveOpSpec]
    stage_of: dict[str, int]


def shard(workload: WorkloadSpec, tp: int, stages: int, where: str) -> Shard:
    """Split `workload` over a group of `tp` chips and its layers over `stages` groups."""
    ops, reduces, split_out = [], {}, set()

    def part(op, dim: str, value: int):
        if value % tp:
            raise SpecError(
                f"{where}: tensor_parallel {tp} does not divide {op.name}'s {dim} ({value})"
            )
        return value // tp

    for op in workload.ops:
        split_in = any(name in split_out for name in op.inputs)
        if op.kind == "gemm" and op.parallel != "row":
            op = op.model_copy(update={"N": part(op, "N", op.N)})
            split_out.add(op.name)
        elif op.kind == "gemm" and op.parallel == "row":
            op = op.model_copy(update={"K": part(op, "K", op.K)})
            if tp > 1:
                moved = written_dtype(op)
                if moved not in PRECISIONS:
                    raise UnsupportedError(
                        f"{where}: {op.name} accumulates {op.dtype} in {moved}, which no "
                        "collective carries; set its output_dtype"
                    )
                reduces[op.name] = CollectiveOpSpec(
                    kind="collective",
                    name=f"{op.name}.all_reduce",
                    pattern="all_reduce",
                    elements=op.M * op.N,
                    dtype=moved,
                )
        elif op.kind == "attention":
            heads = part(op, "heads", op.heads)
            kv = op.kv_groups // tp if op.kv_groups % tp == 0 else 1
            op = op.model_copy(update={"heads": heads, "kv_heads": kv})
            split_out.add(op.name)
        elif op.kind in VECTOR_KINDS and split_in:
            if op.kind not in ELEMENTWISE or not all(n in split_out for n in op.inputs):
                raise UnsupportedError(
                    f"{where}: {op.name} ({op.kind}) reads column-split and whole tensors; "
                    "tensor parallelism splits only elementwise ops between split GEMMs"
                )
            width = op.head_dim if op.kind == "rope" else 1  # RoPE splits whole heads
            dim = "heads" if op.kind == "rope" else "cols"
            op = op.model_copy(update={"cols": part(op, dim, op.cols // width) * width})
            split_out.add(op.name)
        elif op.kind == "collective" or (op.kind not in ("gemm", *VECTOR_KINDS) and tp > 1):
            raise UnsupportedError(
                f"{where}: {op.name} ({op.kind}) has no tensor-parallel split; systems of chips "
                "run GEMMs, attention and vector ops"
            )
        ops.append(op)
    return Shard(
        workload.model_copy(update={"ops": ops, "name": f"{workload.name}/tp{tp}"}),
        reduces,
        _stages(ops, workload.meta.get("layers", 1), stages, where),
    )


def written_dtype(op) -> str:
    """The precision an op writes its output in on a system of chips: a GEMM's, as on one chip
    (`written_precision`: a float GEMM its input format, as Megatron-LM writes activations:
    RowParallelLinear all-reduces the bf16/fp16 output of its matmul as it is,
    megatron/core/tensor_parallel/layers.py; an integer GEMM its default accumulator, int32 for
    int4 and int8, int64 for int16 and int32); any other op its own dtype."""
    if op.kind != "gemm":
        return op.dtype
    return written_precision(op.dtype, op.output_dtype, precision(op.dtype).accumulator)


def _stages(ops, layers: int, stages: int, where: str) -> dict[str, int]:
    """Layer i (ops named 'L<i>.') goes to stage i // (layers / stages); ops outside the layers
    (final norm, LM head) to the last stage."""
    if layers % stages:
        raise SpecError(
            f"{where}: pipeline_stages {stages} does not divide the workload's {layers} layers"
        )
    per = layers // stages
    stage_of = {}
    for op in ops:
        head, dot, _ = op.name.partition(".")
        layer = int(head[1:]) if dot and head[:1] == "L" and head[1:].isdigit() else None
        stage_of[op.name] = stages - 1 if layer is None else min(layer // per, stages - 1)
    return stage_of
