"""Workload spec: a list of operations; `inputs` name the ops whose results an op reads."""

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.spec.types import PositiveInt, PrecisionName, Strict

VECTOR_KINDS = ("softmax", "layernorm", "rmsnorm", "gelu", "silu", "add", "mul")


class _Op(Strict):
    name: str
    """Name of the op in reports (unique in the workload)."""
    inputs: list[str] = []
    """Ops whose results this op reads: it starts loading only after they have finished."""


class GemmOpSpec(_Op):
    """C[M, N] = A[M, K] @ B[K, N]; A is the input (activations), B the weight."""

    kind: Literal["gemm"]
    name: str = "gemm"
    M: PositiveInt
    """Rows of A and C (tokens, output pixels)."""
    N: PositiveInt
    """Columns of B and C (output features, filters)."""
    K: PositiveInt
    """Reduction dimension."""
    dtype: PrecisionName = "int8"
    """Precision of A and B; partial sums stay in the accumulator precision."""
    output_dtype: PrecisionName | None = None
    """Precision C is written back in once complete (requantized, e.g. int8 in, int8 out);
    default the accumulator precision."""
    parallel: Literal["column", "row"] | None = None
    """Tensor parallelism: column (split N) or row (split K, then all-reduce C); set by transformers."""


class AttentionOpSpec(_Op):
    """softmax(Q K^T / sqrt(d) + mask) V for every (batch, head); K and V are shared by query-head
    groups (MHA: kv_heads = heads; GQA: fewer; MQA: 1). K and V are the KV-cache in DRAM."""

    kind: Literal["attention"]
    name: str = "attention"
    batch: PositiveInt = 1
    """Independent sequences."""
    heads: PositiveInt
    """Query heads."""
    kv_heads: PositiveInt | None = None
    """Key/value heads (default: heads); must divide heads."""
    q_len: PositiveInt
    """Query positions per sequence (1 in decode)."""
    kv_len: PositiveInt | None = None
    """Key/value positions per sequence, the context (default: q_len)."""
    head_dim: PositiveInt
    """d, the width of one head."""
    causal: bool = False
    """Query i sees keys up to its own position (queries are the last q_len of kv_len positions)."""
    dtype: PrecisionName = "bf16"
    """Precision of Q, K, V and of P in the P V product; scores and sums are fp32."""
    phase: Literal["prefill", "decode"] = "prefill"
    """Prefill (a prompt) or decode (one new token against the KV-cache)."""

    @model_validator(mode="after")
    def _groups(self):
        if self.heads % (self.kv_heads or self.heads):
            raise ValueError(f"kv_heads ({self.kv_heads}) must divide heads ({self.heads})")
        if self.q_len > (self.kv_len or self.q_len):
            raise ValueError(f"q_len ({self.q_len}) must not exceed kv_len ({self.kv_len})")
        return self

    @property
    def kv_groups(self) -> int:
        return self.kv_heads or self.heads

    @property
    def keys(self) -> int:
        return self.kv_len or self.q_len


class VectorOpSpec(_Op):
    """An elementwise or row-reduction op on a rows x cols tensor, run on a vector unit."""

    kind: Literal["softmax", "layernorm", "rmsnorm", "gelu", "silu", "add", "mul"]
    name: str = "vector"
    rows: PositiveInt
    """Rows (tokens); reductions run along each row."""
    cols: PositiveInt
    """Elements per row (hidden size)."""
    dtype: PrecisionName = "bf16"
    """Precision of inputs and outputs in memory; the unit computes in fp32."""


class CollectiveOpSpec(_Op):
    """A collective over the cores of a multi-core arch, on data each core holds in DRAM."""

    kind: Literal["collective"]
    name: str = "collective"
    pattern: Literal["all_reduce", "all_gather", "reduce_scatter"]
    """all_reduce: every core ends with the sum; reduce_scatter: core i with chunk i of the sum;
    all_gather: every core ends with every core's chunk."""
    elements: PositiveInt
    """Elements per core (all_reduce, reduce_scatter) or in the gathered result (all_gather)."""
    dtype: PrecisionName = "int32"
    """Element precision."""
    algorithm: Literal["ring", "tree"] = "ring"
    """ring: 2(n-1) (all_reduce) or n-1 rounds of S/n bytes between neighbours; tree: binomial
    reduce then broadcast, 2 ceil(log2 n) rounds of S bytes (all_reduce only)."""


OpSpec = Annotated[
    GemmOpSpec | AttentionOpSpec | VectorOpSpec | CollectiveOpSpec, Field(discriminator="kind")
]


class WorkloadSpec(Strict):
    """What to run: ops in dependency order (each op's inputs come earlier in the list)."""

    name: str
    """Short name shown in reports."""
    description: str = ""
    """One line on what this workload is."""
    ops: list[OpSpec]
    """Operations, in execution order."""
    meta: dict = {}
    """Facts about where the ops came from (a transformer's phase, tokens, KV-cache bytes)."""

    @field_validator("ops")
    @classmethod
    def _names_and_inputs(cls, ops):
        if not ops:
            raise ValueError("needs at least one op")
        names = [op.name for op in ops]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"op names must be unique, repeated: {', '.join(duplicates)}")
        seen: set[str] = set()
        for op in ops:
            missing = [i for i in op.inputs if i not in seen]
            if missing:
                raise ValueError(f"op {op.name!r} reads {missing}, which no earlier op produces")
            seen.add(op.name)
        return ops
