"""The FlashAttention-2 validation rows at batch 1 and at the measured batch 8, with the softmax
overlapping the matmuls or serialised with them (`attention.softmax_overlap`): what each of the
two changes does alone (docs/validation.md, "Exponentials and the MMAs").

    python benchmarks/fa2_variants.py
"""

from rich.console import Console
from rich.table import Table

import simulator

ROWS = (  # (published row, arch, causal)
    ("h100-fa2-fwd-2k / h100-triton-fa2-fwd-2k", "h100-like", False),
    ("h100-fa2-fwd-2k-causal", "h100-like", True),
    ("a100-fa2-fwd-headline", "a100-like", False),
)


def tflops(arch: str, batch: int, causal: bool, overlap: bool) -> float:
    """Simulated TFLOPS of the rows' attention (16 heads, 2048 tokens, d 128, bf16) on a CTA grid,
    FLOPs counted as the FlashAttention papers do (halved when causal)."""
    op = {
        "kind": "attention",
        "name": "attn",
        "batch": batch,
        "heads": 16,
        "kv_heads": 16,
        "q_len": 2048,
        "kv_len": 2048,
        "head_dim": 128,
        "causal": causal,
        "dtype": "bf16",
    }
    mapping = {
        "name": "fa2-cta",
        "partition": {"attention": "cta"},
        "attention": {"softmax_overlap": overlap},
    }
    workload = {"name": "attn", "ops": [op]}
    seconds = simulator.simulate(arch, workload, mapping, numerics=False).summary["seconds"]
    return 4 * batch * 16 * 2048 * 2048 * 128 / (2 if causal else 1) / seconds / 1e12


def main() -> None:
    table = Table(title="FlashAttention-2 rows: TFLOPS by batch and softmax overlap")
    for column in ("row", "arch", "b1 overlap", "b1 serial", "b8 overlap", "b8 serial"):
        table.add_column(column, justify="right")
    for row, arch, causal in ROWS:
        cells = [
            f"{tflops(arch, batch, causal, overlap):.1f}"
            for batch in (1, 8)
            for overlap in (True, False)
        ]
        table.add_row(row, arch, *cells)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
