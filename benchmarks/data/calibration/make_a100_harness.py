"""Write a100_harness_{gemm,softmax,layernorm}.csv: the calibration subsets for the host cost of
LLMCompass's timing harness, one per kernel family.

LLMCompass (ae/figure5, software_model/*.py `run_on_gpu`) times every kernel on the host:
`time.time()` around one call and `torch.cuda.synchronize()`, median over iterations after three
warm-ups. What the host adds depends on how the call is made: softmax (`torch.softmax`) and
matmul (`torch.matmul`) are eager PyTorch calls, LayerNorm and GELU are `@torch.compile`d
functions (TorchDynamo's guards and Inductor's Triton launcher run on the host first). So each
family gets its own constant, fitted on its smallest measured rows, where that fixed cost is
most of the time: softmax and LayerNorm over 4096 rows of 32 to 256 values, GEMMs of 8192 rows
by 64 to 256. GELU's is fitted with a100-like's DRAM efficiency on its largest rows
(make_a100_vector.py). `accsim calibrate a100-like FILE --efficiency 0.8` fits the eager ones.
LayerNorm's host work after the launch overlaps the kernel (validate.py's HOST_OVERLAP): its
subset adds the M sweep's three largest rows (8192 to 32768 rows of 4096), whose kernels outlast
that work, and `python benchmarks/host_overlap.py` fits the two constants.
"""

from pathlib import Path

from simulator.sweep.calibrate import write_measurements

HERE = Path(__file__).parent
DATA = HERE.parent / "llmcompass"
SMALL_VECTOR = {(4096, cols) for cols in (32, 64, 128, 256)}
SMALL_GEMM = {(8192, n, n) for n in (64, 128, 256)}
LONG_NORM = {(rows, 4096) for rows in (8192, 16384, 32768)}


def _lines(name: str):
    for line in (DATA / name).read_text().splitlines():
        if line.strip():
            yield [
                cell.strip().removesuffix("ms").removesuffix("Tflops") for cell in line.split(",")
            ]


def vector_rows(kind: str, shapes: set = SMALL_VECTOR, kernel: str = ""):
    """(workload, seconds) of `kind`'s rows of `shapes`: latency = elements / (throughput * 1e9);
    `kernel` names a compiled family's GPU kernel (validate.py's COMPILED)."""
    for m, n, throughput in _lines(f"{kind}_A100.csv"):
        if (int(m), int(n)) in shapes:
            workload = f"{kind}:rows={m},cols={n},dtype=fp16" + (f",kernel={kernel}" * bool(kernel))
            yield workload, int(m) * int(n) / (float(throughput) * 1e9)


def gemm_rows():
    """(workload, seconds) of the smallest GEMMs (latency printed in ms)."""
    for m, n, k, ms, _ in _lines("matmul_A100.csv"):
        if (int(m), int(n), int(k)) in SMALL_GEMM:
            yield f"gemm:M={m},N={n},K={k},dtype=bf16", float(ms) / 1e3


if __name__ == "__main__":
    for family, rows in (
        ("gemm", gemm_rows()),
        ("softmax", vector_rows("softmax")),
        ("layernorm", vector_rows("layernorm", SMALL_VECTOR | LONG_NORM, "inductor-2.0")),
    ):
        write_measurements(HERE / f"a100_harness_{family}.csv", rows)
