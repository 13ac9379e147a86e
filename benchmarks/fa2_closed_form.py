"""FlashAttention-2 forward in closed form on the GPU-like presets: CTAs, waves, MMA cycles,
shared-memory bytes and softmax cycles per K/V step, and the rate each bound allows, for the
validation rows' attention (batch 8, 16 heads, seq 2048, d 128, bf16, not causal).

    python benchmarks/fa2_closed_form.py

Per step of a (Br x Bc) block on an R x C array (output-stationary, one fold per R x C output
tile): S = Q K^T and O += P V each take 2 Br Bc d FLOPs; the array reads K and V once per row
fold (ceil(Br / R) times, as each of FlashAttention-2's four warps reads all of K and V with 128
query rows), Q once per column fold of S and P once per column fold of O. FlashAttention-2 keeps
Q and P in registers: only K and V come from shared memory, plus the DMA writing them there.
"Q, P in smem" charges Q and P to shared memory too (accsim before Q and P were kept in
registers). Port cycles are bytes over banks x width per clock; the rate is the whole op's FLOPs
over waves x steps x max(MMA, port) cycles. Softmax per interior step: Br Bc + Br exponentials
on the SFUs and 3 Br Bc + Br + Br d max/add/mul on the lanes at their cycles per element (the
busier sets its cycles); where
it does not overlap the MMAs (FlashAttention-2: `softmax_overlap: false`) it adds to each step.
"mma.sync": the MMA cycles at the share of the rate the array gives that instruction family
(`instructions`; h100-like 0.667, a100-like lists none: its full rate), as FlashAttention-2
issues it (`attention.mma`).
"""

import math

from rich.console import Console
from rich.table import Table

from simulator.spec import load_arch

BATCH, HEADS, SEQ, D, BYTES = 8, 16, 2048, 128, 2  # bf16
FA2_BLOCK = (128, 64)  # FlashAttention-2's forward tile for head dim 128 on sm80/sm90


def _model(arch: str, br: int, bc: int) -> dict:
    spec = load_arch(arch)
    units = spec.cores.components
    rows, cols = units["tc"].rows, units["tc"].cols
    port = units["smem"].banks * units["smem"].width  # bytes per clock
    macs_per_clock = rows * cols
    ctas = BATCH * HEADS * math.ceil(SEQ / br)
    waves = math.ceil(ctas / spec.cores.count)
    steps = math.ceil(SEQ / bc)
    mma = 2 * br * bc * D / macs_per_clock  # both matmuls, MACs over the array's rate
    mma_sync = mma / units["tc"].instructions.get("mma.sync", 1.0)
    kv = 2 * bc * D * BYTES * math.ceil(br / rows)  # K and V, once per row fold
    q_and_p = (br * D * math.ceil(bc / cols) + br * bc * math.ceil(D / cols) + br * bc) * BYTES
    dma = 2 * bc * D * BYTES
    alu = units["alu"]
    exps = br * bc + br
    cost = {p: alu.cycles_per_element.get(p, 1) for p in ("add", "max")}  # a100-like: 2 each
    fma, cmp = 2 * br * bc + br * D, br * bc + br  # adds and rescaling muls; maxes
    if alu.pipes.get("max", "fma") == "alu":  # maxes on the ALU pipe beside the FMA pipe
        lanes = max(
            math.ceil(fma / alu.lanes) * cost["add"], math.ceil(cmp / alu.lanes) * cost["max"]
        )
    else:
        lanes = math.ceil((fma + cmp) / alu.lanes) * cost["add"]
    softmax = max(lanes, math.ceil(exps / alu.sfu)) if alu.sfu else lanes + 4 * exps / alu.lanes
    flops = 4 * BATCH * HEADS * SEQ * SEQ * D
    clock = spec.clock

    def rate(smem_bytes: float, serial: float = 0, matmuls: float = mma) -> float:
        return flops / (waves * steps * (max(matmuls, smem_bytes / port) + serial) / clock) / 1e12

    return {
        "arch": arch,
        "block": f"{br}x{bc}",
        "ctas": ctas,
        "waves": f"{ctas / spec.cores.count:.2f} -> {waves}",
        "mma": mma,
        "fa2_port": (kv + dma) / port,
        "smem_port": (kv + dma + q_and_p) / port,
        "fa2_rate": rate(kv + dma),
        "smem_rate": rate(kv + dma + q_and_p),
        "softmax": softmax,
        "serial_rate": rate(kv + dma, softmax),
        "mma_sync": mma_sync,
        "sync_rate": rate(kv + dma, softmax, mma_sync),
    }


def main() -> None:
    table = Table(title="FlashAttention-2 forward, b8 h16 s2048 d128 bf16, per K/V step of one SM")
    for column in (
        "arch",
        "Br x Bc",
        "CTAs",
        "waves",
        "MMA cycles",
        "port cycles (FA2)",
        "port cycles (Q, P in smem)",
        "TFLOPS bound (FA2)",
        "TFLOPS bound (Q, P in smem)",
        "softmax cycles",
        "TFLOPS bound (FA2, softmax serial)",
        "MMA cycles (mma.sync)",
        "TFLOPS bound (FA2, mma.sync, softmax serial)",
    ):
        table.add_column(column, justify="right")
    for arch in ("a100-like", "h100-like"):
        plan = load_arch(arch).cores.components["smem"].capacity
        elements = int(plan) // 2 // BYTES  # FlashAttention's M: half the buffer (double-buffered)
        default = min(math.ceil(elements / (4 * D)), D)
        for br, bc in ((default, default), FA2_BLOCK):
            row = _model(arch, br, bc)
            table.add_row(
                row["arch"],
                row["block"],
                str(row["ctas"]),
                row["waves"],
                f"{row['mma']:.0f}",
                f"{row['fa2_port']:.0f}",
                f"{row['smem_port']:.0f}",
                f"{row['fa2_rate']:.1f}",
                f"{row['smem_rate']:.1f}",
                f"{row['softmax']:.0f}",
                f"{row['serial_rate']:.1f}",
                f"{row['mma_sync']:.0f}",
                f"{row['sync_rate']:.1f}",
            )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
