"""Short GEMMs (M = 64..512) measured on Hopper against h100-like: the published kernel time, the
simulated one, and the simulated kernel without the preset's per-kernel cost, to tell how much of
a short GEMM's time is its body (DRAM-bound streaming of B) and how much is fixed.

benchmarks/data/short_gemms_h100.csv holds two sources: vidur's H100 LLaMA-2-7B projections at
64 to 512 tokens (fp16, PyTorch/cuBLAS, profiler medians; extract_vidur_kernels.py keeps only the
1-token rows for --suite vidur) and DeepGEMM's fp8 GEMMs with M = 64 and 128 on an H800 SXM5
(H100 SXM's SMs, clock and HBM3 with NVLink cut; README table, kernel time from the profiler
with L2 flushed, C written in bf16). GB/s counts A, B and C once, as DeepGEMM's table does.

    python benchmarks/short_gemms.py
"""

import csv
import statistics
from pathlib import Path

import simulator
from simulator.spec.workload import WorkloadSpec

DATA = Path(__file__).parent / "data" / "short_gemms_h100.csv"
BYTES = {"fp16": 2, "bf16": 2, "fp8_e4m3": 1}


def published_seconds(row: dict) -> float:
    """A row's kernel time: its milliseconds, or its shape's FLOPs over its TFLOPS."""
    M, N, K, value = int(row["M"]), int(row["N"]), int(row["K"]), float(row["published"])
    if row["unit"] == "ms":
        return value * 1e-3
    if row["unit"] == "TFLOPS":
        return 2 * M * N * K / (value * 1e12)
    raise SystemExit(f"{DATA}: unit {row['unit']!r} is neither ms nor TFLOPS")


def compulsory_bytes(row: dict) -> int:
    """A, B and C each moved once."""
    M, N, K = int(row["M"]), int(row["N"]), int(row["K"])
    return (M * K + K * N) * BYTES[row["dtype"]] + M * N * BYTES[row["output_dtype"]]


def simulated_seconds(arch, row: dict) -> float:
    op = {key: row[key] for key in ("dtype", "output_dtype")} | {"kind": "gemm"}
    op |= {dim: int(row[dim]) for dim in "MNK"}
    workload = WorkloadSpec.model_validate({"name": "gemm", "ops": [op]})
    return simulator.simulate(arch, workload, None, numerics=False).summary["seconds"]


def main() -> None:
    arch = simulator.load_arch("h100-like", [])
    body = simulator.load_arch("h100-like", [(["cores", "kernels", "launch"], "0 us")])
    rows = list(csv.DictReader(DATA.open()))
    print(
        f"{'source':9s} {'M x N x K':20s} {'dtype':8s} {'published':>10s} {'GB/s':>6s} "
        f"{'h100-like':>10s} {'GB/s':>6s} {'error':>7s} {'body':>8s} {'pub-body':>9s}"
    )
    by_source: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        measured, moved = published_seconds(row), compulsory_bytes(row)
        simulated, kernel_body = simulated_seconds(arch, row), simulated_seconds(body, row)
        source = row["source"].split("/")[1].split("@")[0]
        by_source.setdefault(source, []).append((simulated / measured - 1, measured - kernel_body))
        shape = f"{row['M']}x{row['N']}x{row['K']}"
        print(
            f"{source:9s} {shape:20s} {row['dtype']:8s} {measured * 1e6:8.1f}us "
            f"{moved / measured / 1e9:6.0f} {simulated * 1e6:8.1f}us {moved / simulated / 1e9:6.0f} "
            f"{(simulated / measured - 1) * 100:+6.1f}% {kernel_body * 1e6:6.1f}us "
            f"{(measured - kernel_body) * 1e6:7.2f}us"
        )
    for source, pairs in by_source.items():
        errors, rest = zip(*pairs)
        print(
            f"{source}: {len(pairs)} rows, median error {statistics.median(errors) * 100:+.1f}%, "
            f"median |error| {statistics.median(map(abs, errors)) * 100:.1f}%, published minus "
            f"body: median {statistics.median(rest) * 1e6:.2f} us "
            f"({min(rest) * 1e6:.2f} to {max(rest) * 1e6:.2f}); the preset's per-kernel cost "
            f"{arch.cores.kernels.launch * 1e6:.2f} us"
        )


if __name__ == "__main__":
    main()
