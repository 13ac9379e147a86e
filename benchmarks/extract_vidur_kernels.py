"""Extract vidur's measured per-kernel times of decoder-layer projections (one GEMM each) on
A100 and H100 into benchmarks/data/vidur_kernels.csv, for benchmarks/validate.py --suite vidur.

vidur (Agrawal et al., MLSys 2024; github.com/microsoft/vidur, MIT licence) profiles each operator
of a decoder layer on real GPUs (PyTorch profiler, record_function mode: CUDA kernel time, 2
warm-up and 20 timed steps) and ships the medians in data/profiling/compute/GPU/MODEL/mlp.csv.
This script keeps tensor-parallel degree 1 and the four projections, each one GEMM of
[tokens, K] @ [K, N] in fp16 (vidur's shapes: fused QKV, output, fused gate/up (or up), down).

    python benchmarks/extract_vidur_kernels.py /path/to/vidur COMMIT
"""

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

GPUS = ("a100", "h100")
TOKENS = (1,)  # GEMVs: bandwidth-bound, seconds to simulate
OUT = Path(__file__).resolve().parent / "data" / "vidur_kernels.csv"


def shapes(row) -> dict[str, tuple[int, int]]:
    """(K, N) of each projection, as vidur's mlp_impl.py builds them."""
    head_dim = row.n_embd // row.n_head
    up = 2 * row.n_expanded_embd if row.use_gated_mlp else row.n_expanded_embd
    return {
        "attn_pre_proj": (row.n_embd, (row.n_head + 2 * row.n_kv_head) * head_dim),
        "attn_post_proj": (row.n_head * head_dim, row.n_embd),
        "mlp_up_proj": (row.n_embd, up),
        "mlp_down_proj": (row.n_expanded_embd, row.n_embd),
    }


def main(repo: str, commit: str) -> None:
    files = subprocess.run(
        ["git", "-C", repo, "ls-tree", "-r", "--name-only", commit, "data/profiling/compute"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    rows = []
    for path in sorted(f for f in files if f.endswith("/mlp.csv")):
        gpu, model = path.split("/")[3], "/".join(path.split("/")[4:6])
        if gpu not in GPUS:
            continue
        show = ["git", "-C", repo, "show", f"{commit}:{path}"]
        text = subprocess.run(show, capture_output=True, text=True, check=True).stdout
        frame = pd.read_csv(io.StringIO(text))
        frame = frame[(frame.num_tensor_parallel_workers == 1) & frame.num_tokens.isin(TOKENS)]
        for _, row in frame.drop_duplicates("num_tokens").iterrows():
            for op, (k, n) in shapes(row).items():
                rows.append(
                    {
                        "gpu": gpu,
                        "model": model,
                        "op": op,
                        "M": row.num_tokens,
                        "N": n,
                        "K": k,
                        "median_ms": row[f"time_stats.{op}.median"],
                        "source": f"microsoft/vidur@{commit[:12]} {path}",
                    }
                )
    out = pd.DataFrame(rows)
    out.to_csv(OUT, index=False)
    print(out.to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
