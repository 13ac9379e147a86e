"""Attention IO: naive vs FlashAttention HBM traffic and time for sequences 512 ... 16k, flash
traffic as SRAM grows, and the wall time of simulating a LLaMA-2-7B prefill layer.

    python benchmarks/attention.py [--max-seq 16384]
"""

import argparse
import time

from rich.console import Console
from rich.table import Table

import simulator

ARCH = "datacenter-hbm"


def _attention(seq: int, kv_heads: int = 8) -> dict:
    op = {
        "kind": "attention",
        "name": "attention",
        "heads": 32,
        "kv_heads": kv_heads,
        "q_len": seq,
        "kv_len": seq,
        "head_dim": 128,
        "causal": True,
        "dtype": "bf16",
    }
    return {"name": f"attention-{seq}", "ops": [op]}


def _run(arch, workload, mapping):
    start = time.perf_counter()
    report = simulator.simulate(arch, workload, mapping, numerics=False)
    return report, time.perf_counter() - start


def sequence_table(max_seq: int) -> Table:
    table = Table(title=f"{ARCH}: causal GQA attention (32 heads, 8 KV heads, d=128, bf16)")
    for column in (
        "seq",
        "naive HBM MB",
        "flash HBM MB",
        "naive/flash",
        "naive ms",
        "flash ms",
        "flash bound",
        "sim wall s",
    ):
        table.add_column(column, justify="right")
    seq = 512
    while seq <= max_seq:
        naive, naive_wall = _run(ARCH, _attention(seq), "naive-attention")
        flash, flash_wall = _run(ARCH, _attention(seq), "flash-attention")
        n, f = naive.summary, flash.summary
        table.add_row(
            f"{seq:,}",
            f"{n['dram_bytes'] / 1e6:,.1f}",
            f"{f['dram_bytes'] / 1e6:,.1f}",
            f"{n['dram_bytes'] / f['dram_bytes']:,.1f}x",
            f"{n['seconds'] * 1e3:,.2f}",
            f"{f['seconds'] * 1e3:,.2f}",
            flash.ops.bound[0],
            f"{naive_wall + flash_wall:.2f}",
        )
        seq *= 2
    return table


def sram_table(seq: int = 4096) -> Table:
    table = Table(
        title=f"flash attention HBM traffic vs on-chip SRAM (MHA, seq {seq}, blocks from SRAM as in FlashAttention)"
    )
    for column in ("SRAM", "Br", "Bc", "HBM MB", "ms"):
        table.add_column(column, justify="right")
    for kib in (128, 256, 512, 1024, 4096, 32768):  # 64 KiB: 16 x 16 blocks, minutes of steps
        arch = simulator.load_arch(
            ARCH, [(["components", "global_buffer", "capacity"], f"{kib} KiB")]
        )
        report, _ = _run(arch, _attention(seq, kv_heads=32), "flash-attention")
        row = report.ops.iloc[0]
        table.add_row(
            f"{kib:,} KiB",
            str(row.map_block_q),
            str(row.map_block_kv),
            f"{report.summary['dram_bytes'] / 1e6:,.1f}",
            f"{report.summary['seconds'] * 1e3:,.2f}",
        )
    return table


def layer_table() -> Table:
    table = Table(title="simulating one LLaMA-2-7B layer, timing only")
    for column in ("workload", "ops", "tiles", "simulated ms", "wall s"):
        table.add_column(column, justify="right")
    for workload in ("llama-2-7b-prefill", "llama-2-7b-decode"):
        report, wall = _run(ARCH, workload, None)
        table.add_row(
            workload,
            str(len(report.program.ops)),
            f"{report.record.steps:,}",
            f"{report.seconds * 1e3:,.2f}",
            f"{wall:.2f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seq", type=int, default=16384)
    args = parser.parse_args()
    console = Console(width=140)
    console.print(sequence_table(args.max_seq))
    console.print(sram_table())
    console.print(layer_table())


if __name__ == "__main__":
    main()
