"""An op's inputs write what it reads (spec/shapes.py): a consumer whose shape does not fit its
producer is refused at load with both shapes; reshapes between ops (flatten, heads, slices of a
fused QKV, the last token's row) stay valid. Element counts here are worked by hand."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import SpecError
from simulator.spec import load_workload

CONV = {"kind": "conv2d", "name": "conv1", "C": 3, "H": 224, "W": 224, "K": 64, "R": 3, "S": 3}
CONV |= {"padding": 1, "stride": 2}  # 112 x 112 outputs: 64 x 12,544 = 802,816 elements


def _load(*ops):
    return load_workload({"name": "w", "ops": list(ops)})


def test_a_relu_narrower_than_the_convolution_it_reads_is_refused(tmp_path):
    path = Path(tmp_path / "w.yaml")
    path.write_text(
        "name: w\nops:\n"
        "  - {kind: conv2d, name: conv1, C: 3, H: 224, W: 224, K: 64, R: 3, S: 3, padding: 1, "
        "stride: 2}\n"
        "  - {kind: relu, name: r1, rows: 64, cols: 5, inputs: [conv1]}\n"
    )
    with pytest.raises(SpecError) as refused:
        load_workload(path)
    assert str(refused.value).startswith(
        f"{path}:4: ops.1.inputs: r1 reads 64x5 (320 elements), but conv1 writes 1x64x112x112 "
        "(802,816 elements); "
    )


def test_a_relu_of_the_whole_convolution_in_any_2d_view_loads():
    for rows, cols in ((64, 12544), (12544, 64), (802816, 1)):
        _load(CONV, {"kind": "relu", "name": "r", "rows": rows, "cols": cols, "inputs": ["conv1"]})


def test_a_flatten_before_an_fc_loads_and_a_wrong_k_is_refused():
    pool = {"kind": "pool", "name": "p", "C": 512, "H": 7, "W": 7, "inputs": []}  # 512 x 1 x 1
    fc = {"kind": "gemm", "name": "fc", "M": 1, "N": 1000, "K": 512, "inputs": ["p"]}
    _load(pool, fc)
    with pytest.raises(SpecError, match=r"fc reads A 1x500 \(500 elements\), but p writes "):
        _load(pool, fc | {"K": 500})


def test_slices_of_a_fused_qkv_and_the_last_token_load():
    # 128 tokens; 8 heads of 64 (512) and 2 KV heads (128 each for K and V): QKV 128 x 768
    qkv = {"kind": "gemm", "name": "qkv", "M": 128, "N": 768, "K": 512, "dtype": "bf16"}
    rope = {"kind": "rope", "name": "rope", "rows": 128, "cols": 640, "head_dim": 64}
    attention = {"kind": "attention", "name": "a", "heads": 8, "kv_heads": 2, "q_len": 128}
    attention |= {"head_dim": 64, "inputs": ["rope", "qkv"]}
    last = {"kind": "rmsnorm", "name": "n", "rows": 1, "cols": 512, "inputs": ["a"]}
    _load(qkv, rope | {"inputs": ["qkv"]}, attention, last)
    # 100 of its rows and 640 of its columns: neither whole rows nor whole columns
    with pytest.raises(SpecError, match=r"rope reads 100x640 .* qkv writes 128x768"):
        _load(qkv, rope | {"rows": 100, "inputs": ["qkv"]})


def test_an_attention_reading_no_producer_of_its_q_k_v_is_refused():
    q = {"kind": "gemm", "name": "q", "M": 16, "N": 256, "K": 256}  # 4 heads of 64, 16 tokens
    k = {"kind": "gemm", "name": "k", "M": 16, "N": 100, "K": 256}
    attention = {"kind": "attention", "name": "a", "heads": 4, "q_len": 16, "head_dim": 64}
    _load(q, k, attention | {"inputs": ["q", "k"]})  # q writes its Q; k only orders it
    with pytest.raises(SpecError) as refused:
        _load(q, k, attention | {"inputs": ["k"]})
    assert "ops.2.inputs: a reads Q 16x256, K and V 16x256 each, but k writes 16x100 " in str(
        refused.value
    )


def test_inputs_that_only_order_an_op_beside_its_data_load():
    """A serving part without its attention: o_proj waits for q, k and v projections (only q is
    its A's size), as simulator/serving/costs.py writes it."""
    q = {"kind": "gemm", "name": "q", "M": 64, "N": 256, "K": 256}
    k = {"kind": "gemm", "name": "k", "M": 64, "N": 128, "K": 256}
    o = {"kind": "gemm", "name": "o", "M": 64, "N": 256, "K": 256, "inputs": ["q", "k"]}
    _load(q, k, o)
    with pytest.raises(SpecError, match=r"o reads A 64x256 \(16,384 elements\), but k writes"):
        _load(k, o | {"inputs": ["k"]})


@given(
    rows=st.integers(1, 64),
    cols=st.integers(1, 64),
    parts=st.integers(1, 6),
    extra=st.integers(1, 64),
)
def test_an_add_fits_equal_operands_and_a_concat_its_parts(rows, cols, parts, extra):
    """Property: an add of two rows x cols operands and a concat of `parts` of them load; an add
    whose operand is neither its size nor a whole-row or whole-column slice is refused."""
    ops = [{"kind": "gelu", "name": f"g{i}", "rows": rows, "cols": cols} for i in range(parts)]
    add = {"kind": "add", "name": "add", "rows": rows, "cols": cols, "inputs": ["g0", "g0"]}
    concat = {"kind": "concat", "name": "cat", "rows": rows, "cols": cols * parts}
    _load(*ops, add, concat | {"inputs": [op["name"] for op in ops]})
    wider = {"kind": "add", "name": "add", "rows": rows + extra, "cols": cols + extra}
    with pytest.raises(SpecError, match=r"ops\.\d+\.inputs: add reads "):
        _load(ops[0], wider | {"inputs": ["g0"]})
