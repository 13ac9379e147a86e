"""Number formats accsim knows: bit width, integer or float, and the default accumulator."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Precision:
    """One number format: `bits` wide; integers are signed two's complement."""

    name: str
    bits: int
    is_int: bool

    @property
    def accumulator(self) -> str:
        """The accumulator a MAC array uses by default for this input format: fp32 for floats;
        int32 for int4/int8 (a K of 2^15 int8 products fits); int64 for int16/int32, whose sums
        pass 2^31 after a few terms (int16 fits any K below 2^33; int32 operands spanning their
        full range need up to 63 + ceil(log2 K) bits, so long int32 sums may still wrap)."""
        if not self.is_int:
            return "fp32"
        return "int64" if self.bits >= 16 else "int32"


PRECISIONS: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision("int4", 4, True),
        Precision("int8", 8, True),
        Precision("int16", 16, True),
        Precision("int32", 32, True),
        Precision("fp8_e4m3", 8, False),
        Precision("fp8_e5m2", 8, False),
        Precision("fp16", 16, False),
        Precision("bf16", 16, False),
        Precision("fp32", 32, False),
    )
}


ACCUMULATOR_ONLY: dict[str, Precision] = {"int64": Precision("int64", 64, True)}
"""Formats an accumulator may hold but no operand may have (no MAC multiplies int64)."""


def precision(name: str) -> Precision:
    """Look up a precision by name (validated at spec load, so a KeyError here is a bug)."""
    return PRECISIONS.get(name) or ACCUMULATOR_ONLY[name]


def written_precision(dtype: str, output_dtype: str | None, accumulator: str) -> str:
    """The precision a matrix product of `dtype` operands writes its complete outputs in:
    `output_dtype` where given; else a float input's own format, as frameworks write it
    (torch.matmul on cuBLAS and jnp.matmul return bf16 for bf16 operands; torch._scaled_mm's
    out_dtype defaults to its fp8 input's, `out_dtype.value_or(mat_a.scalar_type())` in
    aten/src/ATen/native/cuda/Blas.cpp); else, for integers, the `accumulator` (int32 for
    int8: no requantization is stated)."""
    if output_dtype:
        return output_dtype
    return accumulator if precision(dtype).is_int else dtype


def nbytes(elements: int, precision_name: str) -> int:
    """Bytes occupied by `elements` values packed densely (int4 packs two per byte)."""
    return -(-elements * precision(precision_name).bits // 8)
