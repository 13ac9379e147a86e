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
        """The accumulator a MAC array uses for this input format (int32 or fp32)."""
        return "int32" if self.is_int else "fp32"


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


def precision(name: str) -> Precision:
    """Look up a precision by name (validated at spec load, so a KeyError here is a bug)."""
    return PRECISIONS[name]


def nbytes(elements: int, precision_name: str) -> int:
    """Bytes occupied by `elements` values packed densely (int4 packs two per byte)."""
    return -(-elements * PRECISIONS[precision_name].bits // 8)
