"""The precision a GEMM writes C in: its output_dtype; else a float GEMM its inputs' format (as
torch.matmul, cuBLAS and jnp.matmul return bf16 for bf16), an integer GEMM its accumulator."""

import pytest

import simulator
from simulator.spec.precision import written_precision
from tests.conftest import tiny_arch


@pytest.mark.parametrize(
    ("dtype", "output_dtype", "accumulator", "written"),
    [
        ("bf16", None, "fp32", "bf16"),
        ("fp16", None, "fp32", "fp16"),
        ("fp32", None, "fp32", "fp32"),
        ("fp8_e4m3", None, "fp32", "fp8_e4m3"),  # torch._scaled_mm's default out_dtype
        ("bf16", "fp32", "fp32", "fp32"),
        ("fp8_e4m3", "fp16", "fp32", "fp16"),  # TensorRT-LLM's fp8 GEMMs
        ("int8", None, "int32", "int32"),
        ("int8", None, "int16", "int16"),  # an arch's narrower accumulator
        ("int16", None, "int64", "int64"),
        ("int8", "int8", "int32", "int8"),  # requantized
    ],
)
def test_output_dtype_else_float_inputs_else_the_accumulator(
    dtype, output_dtype, accumulator, written
):
    assert written_precision(dtype, output_dtype, accumulator) == written


@pytest.mark.parametrize(("dtype", "in_bytes", "c_bytes"), [("bf16", 2, 2), ("int8", 1, 4)])
def test_one_chip_writes_c_once_in_the_precision_it_writes(dtype, in_bytes, c_bytes):
    """One tile holds the whole 48 x 40 x 64 problem (1 MiB of SRAM), so DRAM moves A and B once
    and C once: M K + K N input values and M N outputs, a bf16 C in 2 bytes, an int8 GEMM's
    int32 accumulators in 4."""
    M, N, K = 48, 40, 64
    mapping = {"tile": {"M": M, "N": N, "K": K}, "loop_order": ["M", "N", "K"]}
    report = simulator.simulate(tiny_arch(), f"gemm:M={M},N={N},K={K},dtype={dtype}", mapping)
    assert report.summary["dram_bytes"] == (M * K + K * N) * in_bytes + M * N * c_bytes
    assert report.summary["numerics_ok"]


def test_output_dtype_fp32_keeps_the_accumulators():
    M, N, K = 48, 40, 64
    mapping = {"tile": {"M": M, "N": N, "K": K}, "loop_order": ["M", "N", "K"]}
    workload = f"gemm:M={M},N={N},K={K},dtype=bf16,output_dtype=fp32"
    report = simulator.simulate(tiny_arch(), workload, mapping)
    assert report.summary["dram_bytes"] == (M * K + K * N) * 2 + M * N * 4
