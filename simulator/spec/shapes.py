"""What an op reads from the ops its `inputs:` name, against what they write: a consumer whose
shape fits none of its producers (a relu of 5 columns after a 64 x 12544 convolution) is refused
at load, not simulated silently wrong.

Shapes are compared by element count, as producers are reshaped between ops without an op of
their own (a flatten before an FC, heads split from a projection). `inputs:` also orders ops that
read no data of each other (a serving cost part drops the attention and its readers wait for
its inputs instead), so an op that reads one tensor (gemm's A, a vector op's rows x cols, conv's
and pool's N x C x H x W) fits when its producers together write what it reads (an add's
operands, heads gathered, a concat's parts) or one of them does: the same count, or for a
matrix (gemm, vector ops, attention) a slice of it: all its rows and some columns (a head of a
projection, Q and K of a fused QKV), all its columns and some rows (the last token), or an equal
share of it (one batch index of a stacked matmul). An attention fits when one producer writes
some of its Q and its new positions' K and V (q_len positions; the rest are the KV-cache).
Collectives (data per core) and ONNX host ops, and the ops reading them, are not checked. An add
or mul reads `operands` tensors: more inputs that each write a whole one are refused.
"""

UNCHECKED = ("collective", "onnx")


def written(op) -> tuple[int, tuple[int, int] | None, str]:
    """(elements, 2-D rows x cols or None where it is not a matrix, shape text) of op's result."""
    if op.kind == "gemm":
        return op.M * op.N, (op.M, op.N), f"{op.M}x{op.N}"
    if op.kind == "attention":
        rows, cols = op.batch * op.q_len, op.heads * op.head_dim
        return rows * cols, (rows, cols), f"{rows}x{cols}"
    if op.kind == "conv2d":
        return op.N * op.K * op.P * op.Q, None, f"{op.N}x{op.K}x{op.P}x{op.Q}"
    if op.kind == "pool":
        return op.N * op.C * op.P * op.Q, None, f"{op.N}x{op.C}x{op.P}x{op.Q}"
    return op.rows * op.cols, (op.rows, op.cols), f"{op.rows}x{op.cols}"


def _read(op) -> tuple[int, tuple[int, int] | None, str]:
    """(elements, 2-D rows x cols or None, shape text) of the one tensor a non-attention op reads."""
    if op.kind == "gemm":
        return op.M * op.K, (op.M, op.K), f"A {op.M}x{op.K}"
    if op.kind in ("conv2d", "pool"):
        return op.N * op.C * op.H * op.W, None, f"{op.N}x{op.C}x{op.H}x{op.W}"
    return op.rows * op.cols, (op.rows, op.cols), f"{op.rows}x{op.cols}"


def _slice_of(read: tuple[int, int] | None, result: tuple[int, int] | None) -> bool:
    """Whether a read of `read` rows x cols is a row or column slice or an equal share of a
    `result` matrix."""
    if read is None or result is None:
        return False
    (rows, cols), (result_rows, result_cols) = read, result
    share = (result_rows * result_cols) % (rows * cols) == 0
    return (
        share
        or (rows == result_rows and cols <= result_cols)
        or (cols == result_cols and rows <= result_rows)
    )


def _attention_parts(op) -> tuple[set[int], str]:
    """The element counts a producer of an attention may write (sums of its Q and its q_len new
    positions' K and V), and the text naming them."""
    q = op.batch * op.q_len * op.heads * op.head_dim
    kv = op.batch * op.q_len * op.kv_groups * op.head_dim
    text = f"Q {op.batch * op.q_len}x{op.heads * op.head_dim}"
    text += f", K and V {op.batch * op.q_len}x{op.kv_groups * op.head_dim} each"
    return {q, kv, q + kv, 2 * kv, q + 2 * kv}, text


def _check_operands(index: int, op, producers) -> None:
    """An add or mul reads `op.reads` tensors; inputs that each write a whole one and outnumber
    them were priced and computed as fewer than it reads: refused, naming the count to give."""
    if op.kind not in ("add", "mul"):
        return
    whole = [p.name for p in producers if written(p)[0] == op.rows * op.cols]
    if len(whole) > op.reads:
        raise ValueError(
            f"ops.{index}.operands: {op.name} reads {op.reads} tensors of {op.rows}x{op.cols}, "
            f"but its inputs {', '.join(whole)} each write one: give operands: {len(whole)}"
        )


def check_inputs(ops) -> None:
    """Raise ValueError('ops.I.inputs: ...') naming the first op that fits none of its producers,
    with both shapes (the module docstring has the rule)."""
    by_name = {op.name: op for op in ops}
    for index, op in enumerate(ops):
        producers = [by_name[name] for name in op.inputs]
        if not producers or op.kind in UNCHECKED or any(p.kind in UNCHECKED for p in producers):
            continue
        results = [(p, written(p)) for p in producers]
        _check_operands(index, op, producers)
        if op.kind == "attention":
            parts, reads = _attention_parts(op)
            if any(w[0] in parts for _, w in results):
                continue
            rule = "an input must write Q, K, V or several of them, for q_len positions"
        else:
            count, view, reads = _read(op)
            reads += f" ({count:,} elements)"
            fits = (w[0] == count or _slice_of(view, w[1]) for _, w in results)
            if sum(w[0] for _, w in results) == count or any(fits):
                continue
            rule = (
                "an input must write what it reads, or a matrix it reads whole rows, whole "
                "columns or an equal share of, or its inputs together what it reads"
            )
        producer, (elements, _, shape) = results[0]
        raise ValueError(
            f"ops.{index}.inputs: {op.name} reads {reads}, but {producer.name} writes "
            f"{shape} ({elements:,} elements); {rule}"
        )
