"""Workload spec: a list of operations; `inputs` name the ops whose results an op reads."""

from collections import Counter
from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator, model_validator

from simulator.spec.shapes import check_inputs
from simulator.spec.types import Flag, NonNegativeInt, PositiveInt, PrecisionName, Real, Strict

VectorKind = Literal[
    "softmax", "layernorm", "rmsnorm", "gelu", "silu", "add", "mul", "relu", "batchnorm", "concat"
]
"""Elementwise and row-reduction ops a vector unit runs on a rows x cols tensor."""
VECTOR_KINDS = (*get_args(VectorKind), "rope")
MULTI_OPERAND = ("add", "mul")
"""Vector kinds that combine several tensors element by element (`VectorOpSpec.operands`)."""


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
    """Precision C is written back in once complete (requantized, e.g. int8 in, int8 out; fp32
    for a kernel that writes its float accumulators); default: float inputs their own format
    (bf16 in, bf16 out, as torch.matmul and jnp.matmul; fp8 in, fp8 out, as torch._scaled_mm),
    integer inputs the accumulator's (int32 for int8)."""
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
    causal: Flag = False
    """Query i sees keys up to its own position (queries are the last q_len of kv_len positions)."""
    window: PositiveInt | None = None
    """Sliding-window attention (Mistral's): a query at position p sees only the last `window`
    keys up to it, p - window < j <= p (needs causal). Flash plans K/V blocks no longer than the
    window and skips those wholly outside every query's window, as it skips blocks past the
    diagonal; naive and unfused kernels compute the masked scores."""
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
        if self.window is not None and not self.causal:
            raise ValueError(
                f"window ({self.window}): a sliding window is the last keys up to each query, "
                "read only with causal: true"
            )
        return self

    def visible_keys(self, q0: int, q1: int) -> tuple[int, int]:
        """Keys [first, end) that any of the queries q0:q1 can see (queries are the last q_len
        of the keys' positions): all without a mask; up to the last query's position when
        causal; from the first query's window on when windowed."""
        if not self.causal:
            return 0, self.keys
        offset = self.keys - self.q_len
        first = max(0, offset + q0 - self.window + 1) if self.window else 0
        return first, offset + q1

    @property
    def score_pairs(self) -> int:
        """Visible (query, key) pairs of one (batch, head): the query at position p sees
        min(p + 1, window) keys when windowed (p + 1 when only causal, all keys without a mask)."""
        if not self.causal:
            return self.q_len * self.keys
        low, high = self.keys - self.q_len + 1, self.keys  # p + 1 over the queries
        cap = self.window or high
        ramp_end = min(high, cap - 1)  # p + 1 below the window: sum of low..ramp_end
        ramp = (low + ramp_end) * (ramp_end - low + 1) // 2 if ramp_end >= low else 0
        return ramp + cap * max(0, high - max(low, cap) + 1)

    @property
    def kv_groups(self) -> int:
        return self.kv_heads or self.heads

    @property
    def keys(self) -> int:
        return self.kv_len or self.q_len


ATEN_DTYPES = ("fp32", "fp16", "bf16")
"""The dtypes PyTorch's CUDA row reductions dispatch (float, Half, BFloat16; double aside)."""


class VectorOpSpec(_Op):
    """An elementwise or row-reduction op on a rows x cols tensor, run on a vector unit."""

    kind: VectorKind
    name: str = "vector"
    rows: PositiveInt
    """Rows (tokens); reductions run along each row."""
    cols: PositiveInt
    """Elements per row (hidden size)."""
    dtype: PrecisionName = "bf16"
    """Precision of inputs and outputs in memory; the unit computes in fp32."""
    kernel: Literal["aten", "aten-2.9", "inductor-2.0"] = "aten"
    """Whose GPU kernel runs a row reduction (on chips with `cores.kernels`): PyTorch 2.0's eager
    ATen kernels (`aten`), PyTorch 2.9's (`aten-2.9`: a wide softmax row read once and kept in
    registers or shared memory, mapping/aten_rows.py), or torch.compile's Inductor as PyTorch 2.0 generates it
    (mapping/inductor_rows.py)."""
    transposed: Flag = False
    """A concat that reads its source across rows: a permute whose output's innermost dimension is
    strided in the source, as PyTorch copies rearrange(k, 'b s h d -> (b h) d s'). On chips with
    `cores.kernels` each element read then fetches a sector of its own through the L2
    (mapping/vector_ops.py, `sector_rereads`); elsewhere the DMA moves whole rows."""

    strided_dims: PositiveInt | None = None
    """A concat that reads a strided source: its dimensions once PyTorch's TensorIterator has
    merged those contiguous in both tensors (rearrange(q, 'b t h d -> (b h) t d') of a packed QKV:
    4). On chips with `cores.kernels` it runs as PyTorch's non-vectorised copy, one element a
    thread at a time with an integer divide per dimension (mapping/strided_copy.py). None: a
    contiguous copy, vectorised, at the streaming rate."""

    operands: PositiveInt | None = None
    """Tensors of rows x cols an add or mul reads and combines (default 2; a parallel block's
    residual add of attention, MLP and residual: 3; an ONNX Sum: its inputs); other kinds read
    one."""

    @model_validator(mode="after")
    def _operand_count(self):
        """An add or mul combines two tensors or more; other kinds read one."""
        if self.operands is None:
            return self
        if self.kind not in MULTI_OPERAND:
            raise ValueError(f"operands is for {' and '.join(MULTI_OPERAND)}, not {self.kind}")
        if self.operands < 2:
            raise ValueError(f"operands ({self.operands}) must be at least 2")
        return self

    @property
    def reads(self) -> int:
        """Tensors of rows x cols the op reads: an add's or mul's operands, else one."""
        return self.operands or (2 if self.kind in MULTI_OPERAND else 1)

    @model_validator(mode="after")
    def _transposed_copy(self):
        for key in ("transposed", "strided_dims"):
            if getattr(self, key) and self.kind != "concat":
                raise ValueError(f"{key} is for concat (a copy), not {self.kind}")
        return self

    @model_validator(mode="after")
    def _aten_dtype(self):
        """PyTorch's CUDA softmax and norms dispatch fp32, fp16 and bf16 only
        (AT_DISPATCH_FLOATING_TYPES_AND2(Half, BFloat16)): there is no 2.9 kernel to model."""
        if self.kernel == "aten-2.9" and self.dtype not in ATEN_DTYPES:
            raise ValueError(
                f"kernel aten-2.9 runs {', '.join(ATEN_DTYPES)} rows, not {self.dtype}"
            )
        return self


class RopeOpSpec(VectorOpSpec):
    """Rotary position embedding (Su et al. 2021, RoFormer) of query and key heads, in place: each
    row is a token's heads of `head_dim` side by side, and the first `rotary_dim` values of each
    head turn by position x base^(-2i / rotary_dim) in pairs (simulator/numerics/rope.py)."""

    kind: Literal["rope"]
    name: str = "rope"
    head_dim: PositiveInt
    """Width of one head; `cols` holds a whole number of heads."""
    rotary_dim: PositiveInt | None = None
    """Leading values of each head that rotate (default all; GPT-J 64 of 256)."""
    style: Literal["half", "interleaved"] = "half"
    """Pairs (i, i + rotary_dim/2) as GPT-NeoX and LLaMA, or (2i, 2i + 1) as GPT-J."""
    base: Real = Field(10000.0, gt=1)
    """The frequencies' base (rope_theta)."""
    start: NonNegativeInt = 0
    """Position of each sequence's first row (decode: the tokens already cached)."""
    seq_len: PositiveInt | None = None
    """Rows per sequence, each sequence's positions counting from `start` (default: rows); the
    rows are whole sequences, so it divides `rows`."""

    @model_validator(mode="after")
    def _heads(self):
        if self.cols % self.head_dim:
            raise ValueError(f"cols ({self.cols}) must be a multiple of head_dim ({self.head_dim})")
        if self.rotated % 2 or self.rotated > self.head_dim:
            raise ValueError(
                f"rotary_dim ({self.rotated}) must be even and at most head_dim ({self.head_dim})"
            )
        return self

    @model_validator(mode="after")
    def _whole_sequences(self):
        """A last sequence cut short (rows 10, seq_len 4) is no batch of seq_len-token sequences,
        and a seq_len past rows says nothing rows does not: both are refused, not rotated."""
        if self.seq_len is not None and self.rows % self.seq_len:
            raise ValueError(
                f"seq_len ({self.seq_len}) must divide rows ({self.rows}): the rows are whole "
                "sequences of seq_len tokens"
            )
        return self

    @property
    def rotated(self) -> int:
        """Values of each head that rotate."""
        return self.rotary_dim or self.head_dim


class ConvOpSpec(_Op):
    """Y[N, K, P, Q] = sum over c, r, s of X[N, g C/G + c, p stride + r dilation - pad, ...] W[K, c, r, s]:
    a 2-D convolution with zero padding; `groups` G splits C and K (G = C = K: depthwise)."""

    kind: Literal["conv2d"]
    name: str = "conv2d"
    N: PositiveInt = 1
    """Batch."""
    C: PositiveInt
    """Input channels."""
    H: PositiveInt
    """Input height."""
    W: PositiveInt
    """Input width."""
    K: PositiveInt
    """Output channels (filters)."""
    R: PositiveInt = 1
    """Filter height."""
    S: PositiveInt = 1
    """Filter width."""
    stride: PositiveInt = 1
    """Step of the filter window, both axes."""
    padding: NonNegativeInt = 0
    """Zero rows / columns added on every side of the input."""
    dilation: PositiveInt = 1
    """Spacing of the filter taps, both axes."""
    groups: PositiveInt = 1
    """Channel groups: each sees C/groups inputs and makes K/groups outputs."""
    dtype: PrecisionName = "int8"
    """Precision of X and W; sums are kept in the accumulator precision."""

    @model_validator(mode="after")
    def _shape(self):
        if self.C % self.groups or self.K % self.groups:
            raise ValueError(f"groups ({self.groups}) must divide C ({self.C}) and K ({self.K})")
        if self.P < 1 or self.Q < 1:
            raise ValueError(
                f"the {self.R}x{self.S} filter (dilation {self.dilation}) does not fit the "
                f"{self.H}x{self.W} input with padding {self.padding}"
            )
        return self

    @property
    def P(self) -> int:
        """Output height."""
        return (self.H + 2 * self.padding - self.dilation * (self.R - 1) - 1) // self.stride + 1

    @property
    def Q(self) -> int:
        """Output width."""
        return (self.W + 2 * self.padding - self.dilation * (self.S - 1) - 1) // self.stride + 1

    @property
    def depthwise(self) -> bool:
        """One input channel per group (MobileNet's depthwise layers)."""
        return self.C == self.groups

    @property
    def macs(self) -> int:
        return self.N * self.K * self.P * self.Q * (self.C // self.groups) * self.R * self.S


class PoolOpSpec(_Op):
    """Max or average pooling of an N x C x H x W map on a vector unit (global: R = H, S = W)."""

    kind: Literal["pool"]
    name: str = "pool"
    mode: Literal["max", "avg"] = "max"
    """max or average over each window (average counts padding zeros, ONNX's default)."""
    N: PositiveInt = 1
    """Batch."""
    C: PositiveInt
    """Channels."""
    H: PositiveInt
    """Input height."""
    W: PositiveInt
    """Input width."""
    R: PositiveInt | None = None
    """Window height (default H: global pooling)."""
    S: PositiveInt | None = None
    """Window width (default W: global pooling)."""
    stride: PositiveInt = 1
    """Step of the window, both axes."""
    padding: NonNegativeInt = 0
    """Rows / columns added on every side (never selected by max, zeros for avg)."""
    dtype: PrecisionName = "int8"
    """Precision of input and output."""

    @model_validator(mode="after")
    def _shape(self):
        if self.P < 1 or self.Q < 1:
            raise ValueError(f"the {self.window} window does not fit the {self.H}x{self.W} input")
        return self

    @field_validator("padding")
    @classmethod
    def _window_not_all_padding(cls, padding, info):
        """A window of padding only: its max was NaN (a numerics mismatch), its average 0."""
        window = [info.data.get(w) or info.data.get(d) for w, d in (("R", "H"), ("S", "W"))]
        if None not in window and padding >= min(window):
            raise ValueError(
                f"{padding} is not below the {window[0]}x{window[1]} window, so some windows "
                "hold padding only (onnxruntime: pad should be smaller than kernel)"
            )
        return padding

    @property
    def window(self) -> tuple[int, int]:
        return (self.R or self.H, self.S or self.W)

    @property
    def P(self) -> int:
        return (self.H + 2 * self.padding - self.window[0]) // self.stride + 1

    @property
    def Q(self) -> int:
        return (self.W + 2 * self.padding - self.window[1]) // self.stride + 1


class OnnxOpSpec(_Op):
    """An ONNX node accsim has no model of: it runs only on a host CPU fallback, costed as one
    SIMD instruction per output element plus streaming its tensors through host memory."""

    kind: Literal["onnx"]
    name: str = "onnx"
    op_type: str
    """The ONNX operator, e.g. 'Sigmoid'."""
    input_elements: PositiveInt
    """Elements of its activation inputs."""
    output_elements: PositiveInt
    """Elements of its output."""
    dtype: PrecisionName = "fp32"
    """Precision of its tensors in memory."""


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
    protocol: Literal["LL", "LL128", "Simple"] | None = None
    """NCCL's protocol (simulator/tech/nccl.yaml): its fixed latency before the first move and its
    flag bytes on every send (on GPUs' links also its share of their rate); None: the bare chunk
    moves. Systems of GPUs set it as NCCL picks it by size."""


OpSpec = Annotated[
    GemmOpSpec
    | AttentionOpSpec
    | VectorOpSpec
    | RopeOpSpec
    | ConvOpSpec
    | PoolOpSpec
    | OnnxOpSpec
    | CollectiveOpSpec,
    Field(discriminator="kind"),
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
        counts = Counter(op.name for op in ops)  # list.count per name: hours at 200,000 ops
        duplicates = sorted(n for n, count in counts.items() if count > 1)
        if duplicates:
            raise ValueError(f"op names must be unique, repeated: {', '.join(duplicates)}")
        seen: set[str] = set()
        for op in ops:
            missing = [i for i in op.inputs if i not in seen]
            if missing:
                raise ValueError(f"op {op.name!r} reads {missing}, which no earlier op produces")
            seen.add(op.name)
        return ops

    @model_validator(mode="after")
    def _inputs_fit(self):
        """Each op's inputs write what it reads (spec/shapes.py has the rule)."""
        check_inputs(self.ops)
        return self
