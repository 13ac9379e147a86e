"""Workload spec: a list of operations run in order."""

from typing import Annotated, Literal

from pydantic import Field, field_validator

from simulator.spec.types import PositiveInt, PrecisionName, Strict


class GemmOpSpec(Strict):
    """C[M, N] = A[M, K] @ B[K, N]; A is the input (activations), B the weight."""

    kind: Literal["gemm"]
    name: str = "gemm"
    """Name of the op in reports."""
    M: PositiveInt
    """Rows of A and C (tokens, output pixels)."""
    N: PositiveInt
    """Columns of B and C (output features, filters)."""
    K: PositiveInt
    """Reduction dimension."""
    dtype: PrecisionName = "int8"
    """Precision of A and B; C is produced in the accumulator precision."""


OpSpec = Annotated[GemmOpSpec, Field(discriminator="kind")]


class WorkloadSpec(Strict):
    """What to run: ops executed in list order."""

    name: str
    """Short name shown in reports."""
    description: str = ""
    """One line on what this workload is."""
    ops: list[OpSpec]
    """Operations, in execution order."""

    @field_validator("ops")
    @classmethod
    def _unique_names(cls, ops):
        names = [op.name for op in ops]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"op names must be unique, repeated: {', '.join(duplicates)}")
        if not ops:
            raise ValueError("needs at least one op")
        return ops
