"""Extract vidur's measured A100 per-layer times of LLaMA-2-7B's dense ops into a small CSV.

vidur (Agrawal et al., MLSys 2024; github.com/microsoft/vidur, MIT licence) profiles each operator
of a decoder layer on a real A100 80GB and ships the medians in
data/profiling/compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv. This script sums, per token count
at tensor-parallel degree 1, the median times of the ops accsim's dense part also has (the two
norms, fused QKV, RoPE of Q and K, output projection, fused gate/up, SiLU x up, down
projection, two residual adds) and writes benchmarks/data/.

    python benchmarks/extract_vidur.py /path/to/vidur/data/.../Llama-2-7b-hf/mlp.csv COMMIT
"""

import sys
from pathlib import Path

import pandas as pd

OPS = [
    "input_layernorm",
    "attn_pre_proj",
    "attn_rope",
    "attn_post_proj",
    "post_attention_layernorm",
    "mlp_up_proj",
    "mlp_act",
    "mlp_down_proj",
]
TOKENS = [1, 4, 16, 64, 128, 256, 512, 1024, 2048, 4096]
REPO_PATH = "data/profiling/compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv"
OUT = Path(__file__).resolve().parent / "data" / "vidur_a100_llama2_7b_dense.csv"


def main(path: str, commit: str) -> None:
    frame = pd.read_csv(path)
    frame = frame[(frame.num_tensor_parallel_workers == 1) & frame.num_tokens.isin(TOKENS)]
    frame = frame.drop_duplicates("num_tokens")  # vidur lists some token counts twice
    dense = sum(frame[f"time_stats.{op}.median"] for op in OPS) + 2 * frame["time_stats.add.median"]
    out = pd.DataFrame({"num_tokens": frame.num_tokens, "dense_ms": dense.round(4)})
    out["source"] = f"microsoft/vidur@{commit[:12]} {REPO_PATH}"
    out.sort_values("num_tokens").to_csv(OUT, index=False)
    print(out.sort_values("num_tokens").to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
