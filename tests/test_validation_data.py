"""The validation data behind benchmarks/validate.py: every entry names a loadable arch and
workload, the LLMCompass and vidur rows convert to seconds consistently with their own columns,
and (slow) the default suite meets the accuracy it is held to."""

import csv
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

import simulator

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import validate  # noqa: E402  (a script in benchmarks/, not a package)

ENTRIES = validate.suite_entries("all")


def test_entry_ids_are_unique():
    ids = [entry["id"] for entry in ENTRIES]
    assert len(ids) == len(set(ids))


def test_every_entry_loads():
    archs = {json.dumps([e["device"], e.get("arch_overrides")]) for e in ENTRIES}
    for device, overrides in map(json.loads, sorted(archs)):
        simulator.load_arch(device, validate._pairs(overrides))
    for entry in ENTRIES:
        for part in validate._parts(entry):
            workload = part["workload"]
            loaded = simulator.load_workload(
                workload, validate._pairs(part.get("workload_overrides"))
            )
            validate.with_precision(loaded, part.get("precision"), entry["id"])


def test_part_precision_sets_only_the_named_kinds():
    """`precision: {gemm: fp8_e4m3}` on an fp16 LLaMA layer: its 7 GEMMs read fp8, its attention,
    2 RMSNorms, SiLU, gate multiply and 2 residual adds stay fp16, and nothing else changes; a kind
    the workload lacks or a precision that does not exist is an error naming the row."""
    layer = {"kind": "transformer", "name": "l", "hidden": 64, "heads": 4, "ffn": 128}
    workload = simulator.load_workload(layer | {"dtype": "fp16", "output_dtype": "fp16"})
    mixed = validate.with_precision(workload, {"gemm": "fp8_e4m3"}, "row")
    kinds = [(op.kind, op.dtype) for op in mixed.ops]
    assert sorted(kinds).count(("gemm", "fp8_e4m3")) == 7
    assert [k for k in kinds if k[0] != "gemm"] == [
        ("rmsnorm", "fp16"),
        ("attention", "fp16"),
        ("add", "fp16"),
        ("rmsnorm", "fp16"),
        ("silu", "fp16"),
        ("mul", "fp16"),
        ("add", "fp16"),
    ]
    unchanged = [op.model_dump(exclude={"dtype"}) for op in workload.ops]
    assert [op.model_dump(exclude={"dtype"}) for op in mixed.ops] == unchanged
    assert validate.with_precision(workload, None, "row") is workload
    with pytest.raises(ValueError, match="row: precision: the workload has no conv2d op"):
        validate.with_precision(workload, {"conv2d": "int8"}, "row")
    with pytest.raises(ValueError, match="row: precision: "):
        validate.with_precision(workload, {"gemm": "fp9"}, "row")


def test_llmcompass_gemm_seconds_agree_with_the_printed_tflops():
    rows = validate._csv_rows("matmul_A100.csv")
    entries = [e for e in validate.llmcompass_entries() if e["category"] == "gemm"]
    assert len(entries) == len(rows) == 20
    for entry, (m, n, k, _, tflops) in zip(entries, rows):
        assert 2 * m * n * k / entry["value"] / 1e12 == pytest.approx(tflops, rel=2e-3)


def test_llmcompass_vector_rows_invert_the_throughput_formula():
    # softmax_A100.csv row 1: M=4096, N=32 at 9.99556 elements/ns -> 13.11 µs
    softmax = next(e for e in validate.llmcompass_entries() if e["id"].endswith("softmax-4096x32"))
    assert softmax["value"] == pytest.approx(4096 * 32 / 9.99556025250909e9)


def test_vidur_rows_have_vidur_shapes_and_seconds():
    # vidur's H100 LLaMA-2-7B fused QKV at one token: [1, 4096] @ [4096, (32 + 2 x 32) x 128],
    # median 0.038 ms in data/profiling/compute/h100/meta-llama/Llama-2-7b-hf/mlp.csv
    entries = {e["id"]: e for e in validate.vidur_entries()}
    qkv = entries["h100-vidur-llama-2-7b-hf-attn_pre_proj-1tok"]
    (op,) = qkv["workload"]["ops"]
    assert (op["M"], op["N"], op["K"]) == (1, 12288, 4096)
    assert qkv["value"] == pytest.approx(38e-6)
    # LLaMA-3-8B's gate/up is one GEMM of 2 x 14336 columns; GQA QKV (32 + 2 x 8) x 128
    assert (
        entries["a100-vidur-meta-llama-3-8b-mlp_up_proj-1tok"]["workload"]["ops"][0]["N"] == 28672
    )
    assert (
        entries["a100-vidur-meta-llama-3-8b-attn_pre_proj-1tok"]["workload"]["ops"][0]["N"] == 6144
    )


def test_calibration_rows_are_the_fitted_shapes_of_each_gpu():
    """The four LLaMA-2-7B GEMVs of each GPU (its preset's calibration subset), and A100
    LLaMA-3-8B's output projection, whose 1x4096x4096 shape is LLaMA-2-7B's: its simulation is
    a fitted row's, so it is not held out either."""
    marked = {e["id"] for e in validate.vidur_entries() if e["calibration"]}
    ops = ("attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj")
    expected = {f"{gpu}-vidur-llama-2-7b-hf-{op}-1tok" for gpu in ("a100", "h100") for op in ops}
    assert marked == expected | {"a100-vidur-meta-llama-3-8b-attn_post_proj-1tok"}


@pytest.mark.slow
def test_default_suite_meets_the_validation_targets(script_output):
    """Issue 17's targets over the held-out rows of `python benchmarks/validate.py` (its summary
    line, from the run the docs' validation tables quote): at least 40 rows, median |error|
    <= 8 %, every row <= 20 % (the AMD rows since their chips run as GPU-like cores, one a CU;
    see docs/validation.md)."""
    printed = script_output("python benchmarks/validate.py").splitlines()
    last = next(line.strip() for line in printed if line.startswith("all held-out rows:"))
    found = re.fullmatch(
        r"all held-out rows: median \|error\| ([\d.]+)% over (\d+) \(target 8%\), "
        r"(\d+) within 20%, largest ([\d.]+)%",
        last,
    )
    assert found, last
    median, count, within, largest = map(float, found.groups())
    assert count >= 40
    assert median <= 8.0
    assert within == count and largest <= 20.0


def test_llmcompass_rows_carry_their_family_harness_and_calibration_marks():
    """Each eager LLMCompass row runs with its family's harness cost as its launch, LayerNorm's
    (a compiled call) at the chip's own with its host work before and after the launch; the
    marked rows are the per-family calibration subsets (GEMMs 8192 x 64/128/256, softmax and
    LayerNorm 4096 x 32 to 256, LayerNorm's 8192 to 32768 x 4096) and GELU's three largest."""
    entries = validate.llmcompass_entries()
    for entry in entries:
        family = entry["workload"]["ops"][0]["kind"]
        if family in validate.HOST_OVERLAP:
            assert "arch_overrides" not in entry
            assert entry["host"] == list(validate.HOST_OVERLAP[family])
        else:
            assert entry["arch_overrides"] == [
                [["cores", "kernels", "launch"], validate.HARNESS[family]]
            ]
    marked = {e["id"] for e in entries if e["calibration"]}
    gemms = {f"gemm-8192x{n}x{n}" for n in (64, 128, 256)}
    vectors = {f"{k}-4096x{c}" for k in ("softmax", "layernorm") for c in (32, 64, 128, 256)}
    vectors |= {f"layernorm-{rows}x4096" for rows in (8192, 16384, 32768)}
    gelus = {f"gelu-{r}x1024" for r in (131072, 262144, 524288)}
    assert marked == {f"a100-llmcompass-{name}" for name in gemms | vectors | gelus}


def test_host_overlap_fit_recovers_the_constants_by_hand():
    """Rows made with 20 µs of host work before the launch and 30 µs after it, which hides kernels
    of 5 and 10 µs (50 µs each) and not ones of 100 and 200 µs (120 and 220): the fit gives the
    two back, and a row's prediction is before + max(after, kernel)."""
    import host_overlap

    rows = [(5e-6, 50e-6), (10e-6, 50e-6), (100e-6, 120e-6), (200e-6, 220e-6)]
    before, after = host_overlap.fit(rows)
    assert (before, after) == (pytest.approx(20e-6), pytest.approx(30e-6))
    entry = {"id": "x", "device": "a100-like", "metric": "seconds", "value": 1.0, "source": "s"}
    entry |= {"category": "vector", "host": [20e-6, 30e-6], "workload": "w"}

    class Fixed:
        def run(self, entry, part):
            return {"seconds": 10e-6, "dram_bytes": 0}, 0.0

    assert validate.evaluate(entry, Fixed())["predicted"] == pytest.approx(50e-6)


def test_request_overhead_fit_is_the_median_residual():
    """Rows whose harness costs 5 ms a request over kernels of 1 to 300 ms, one 1 ms under and one
    4 ms over (a mean would give 5.6 ms): the fit is the median residual, 5 ms; a row naming it gets
    REQUEST's cost on top of its kernels, and an unknown harness is an error naming the row."""
    import request_overhead

    kernels = [1e-3, 2e-3, 20e-3, 100e-3, 300e-3]
    residuals = [5e-3, 4e-3, 5e-3, 9e-3, 5e-3]
    rows = [(k, k + r) for k, r in zip(kernels, residuals)]
    assert request_overhead.fit(rows) == pytest.approx(5e-3)
    assert request_overhead.fit(rows[1:]) == pytest.approx(5e-3)
    assert request_overhead.fit(rows[:2] + rows[3:4]) == pytest.approx(5e-3)

    class Fixed:
        def run(self, entry, part):
            return {"seconds": 10e-3, "dram_bytes": 0}, 0.0

    entry = {"id": "x", "device": "a100-like", "metric": "seconds", "value": 1.0, "source": "s"}
    entry |= {"category": "prefill", "harness": "gptsession", "workload": "w"}
    predicted = validate.evaluate(entry, Fixed())["predicted"]
    assert predicted == pytest.approx(10e-3 + validate.REQUEST["gptsession"])
    with pytest.raises(ValueError, match="x: unknown harness 'nope'"):
        validate.evaluate(entry | {"harness": "nope"}, Fixed())


def test_request_overhead_compares_a_cost_per_layer():
    """Rows of 10, 20 and 40 layers that each cost 0.1 ms a layer more than their kernels: per
    layer, the fit and every leave-one-out give it back exactly; per request (residuals 1, 2 and
    4 ms) the fit is 2 ms, and leaving the 4 ms row out fits 1.5 ms, 2.5 ms short on its 24 ms."""
    import request_overhead

    layers = [10, 20, 40]
    rows = [(k, k + 0.1e-3 * n) for k, n in zip([1e-3, 2e-3, 20e-3], layers)]
    cost, errors, left = request_overhead.errors(rows, layers, [0, 1, 2])
    assert cost == pytest.approx(0.1e-3)
    assert errors == pytest.approx([0, 0, 0], abs=1e-12)
    assert list(left.values()) == pytest.approx([0, 0, 0], abs=1e-12)
    cost, errors, left = request_overhead.errors(rows, [1, 1, 1], [0, 1, 2])
    assert cost == pytest.approx(2e-3)
    assert errors[2] == pytest.approx((22e-3 - 24e-3) / 24e-3)
    assert left[2] == pytest.approx((21.5e-3 - 24e-3) / 24e-3)


def test_trtllm_calibration_rows_are_the_128_token_prompts():
    """The per-request cost is fitted on the shortest prompts of each table, and only there."""
    multi = yaml.safe_load(validate.MULTI.read_text())
    assert all(entry["harness"] == "gptsession" for entry in multi)
    marked = {entry["id"] for entry in multi if entry.get("calibration")}
    assert marked == {entry["id"] for entry in multi if "-ttft-128" in entry["id"]}
    assert len(marked) == len(multi) // 2


def test_trtllm_layers_fuse_qkv_as_its_attention_layer():
    """Each TensorRT-LLM layer reads Q, K and V from one GEMM of (heads + 2 kv_heads) x head_dim
    columns over the hidden width, as its Attention layer's qkv ColumnLinear, rotates the Q and K
    heads and copies K and V into the KV cache before attention (the attention plugin's context
    kernel), and the H100 rows run only the GEMMs of their layers in fp8."""
    for entry in yaml.safe_load(validate.MULTI.read_text()):
        ops = {op["name"]: op for op in entry["parts"][0]["workload"]["ops"]}
        attention, qkv, rope, cache = ops["attention"], ops["qkv"], ops["rope"], ops["kv_cache"]
        heads, kv = attention["heads"], attention.get("kv_heads", attention["heads"])
        d = attention["head_dim"]
        assert attention["inputs"] == ["rope", "kv_cache"] and cache["inputs"] == ["rope", "qkv"]
        assert rope["inputs"] == ["qkv"] and rope["head_dim"] == d, entry["id"]
        assert (rope["cols"], cache["cols"]) == ((heads + kv) * d, 2 * kv * d), entry["id"]
        assert rope["rows"] == cache["rows"] == qkv["M"] == attention["q_len"], entry["id"]
        assert qkv["N"] == (heads + 2 * kv) * attention["head_dim"], entry["id"]
        assert qkv["K"] == heads * attention["head_dim"], entry["id"]
        fp8 = {"gemm": "fp8_e4m3"} if entry["id"].endswith("-fp8") else None
        assert entry["parts"][0].get("precision") == fp8
        assert {op["dtype"] for op in ops.values()} == {"fp16"}


@pytest.mark.slow
def test_request_overhead_holds_its_fit():
    """validate.py's REQUEST for TensorRT-LLM's gptSessionBenchmark is what
    benchmarks/request_overhead.py fits on its calibration rows, to the printed 0.01 ms."""
    import request_overhead

    multi = yaml.safe_load(validate.MULTI.read_text())
    runner = validate.Runner()
    rows = [(validate.simulated(e, runner)[0], e["value"]) for e in multi if e.get("calibration")]
    fitted = request_overhead.fit(rows)
    assert validate.REQUEST["gptsession"] == pytest.approx(fitted, abs=0.005e-3)


def test_jax_timeit_rows_are_the_guides_and_fit_on_their_1024_cubed_rows():
    """Every TPU v5e row comes from a JAX guide's timeit loop and pays its cost per call; the
    cost is fitted on the two 1024^3 rows (XLA's and the Pallas kernel's), and only there."""
    published = yaml.safe_load(validate.DATA.read_text())
    tpu = yaml.safe_load(validate.TPU.read_text())
    v5e = [e for e in published + tpu if e["device"] == "tpu-v5e-like"]
    assert len(v5e) == 9 and all(e["harness"] == "jax-timeit" for e in v5e)
    marked = {e["id"] for e in v5e if e.get("calibration")}
    assert marked == {e["id"] for e in v5e if e["workload"]["ops"][0]["M"] == 1024}
    assert len(marked) == 2


def test_tpu_v5e_rows_write_c_in_bf16_as_jax_returns_it():
    """jnp.matmul, `x @ y` and the Pallas kernel of two bf16 arrays return a bf16 array (the
    guides' matmuls ask no other result type), so every TPU v5e row, the fitted 1024^3 rows
    and the rows the fit is applied to alike, writes C in bf16, not in the f32 accumulator."""
    published = yaml.safe_load(validate.DATA.read_text())
    tpu = yaml.safe_load(validate.TPU.read_text())
    ops = [e["workload"]["ops"][0] for e in published + tpu if e["device"] == "tpu-v5e-like"]
    assert len(ops) == 9
    assert all((op["dtype"], op.get("output_dtype")) == ("bf16", "bf16") for op in ops)


def test_pallas_rows_move_the_bytes_the_matmul_guide_counts():
    """The Pallas TPU matmul guide's count of a blocked kernel's HBM traffic, (M K N / bn +
    K N M / bm + M N) x 2 B for bf16 in and out, is what the 128-cubed rows' tiling moves on
    tpu-v5e-like (at 1024^3: 8 M + 8 M + 1 M elements, 35,651,584 B)."""
    row = next(e for e in yaml.safe_load(validate.TPU.read_text()) if e["id"].endswith("-128"))
    (op,) = row["workload"]["ops"]
    tile = row["mapping"]["tile"]
    assert tile == {"M": 128, "N": 128, "K": 128} and op["output_dtype"] == "bf16"
    small = {"name": "g", "ops": [op | {"M": 1024, "N": 1024, "K": 1024}]}
    report = simulator.simulate(
        simulator.load_arch(row["device"]), small, row["mapping"], numerics=False
    )
    n = 1024
    assert report.summary["dram_bytes"] == (n**3 // 128 + n**3 // 128 + n * n) * 2 == 35_651_584


@pytest.mark.slow
def test_jax_timeit_cost_holds_its_fit():
    """validate.py's REQUEST for the JAX guides' timeit loop is what request_overhead.py fits on
    its two 1024^3 rows, to the printed 0.1 us."""
    import request_overhead

    tpu = yaml.safe_load(validate.TPU.read_text())
    runner = validate.Runner()
    rows = [(validate.simulated(e, runner)[0], e["value"]) for e in tpu if e.get("calibration")]
    assert validate.REQUEST["jax-timeit"] == pytest.approx(request_overhead.fit(rows), abs=0.05e-6)


def test_short_gemm_rows_reproduce_their_sources_rates():
    """short_gemms.py's kernel times and bytes give back what DeepGEMM's README prints beside the
    TFLOPS (GB/s of A and B in fp8, C in bf16) and vidur's medians in milliseconds."""
    import short_gemms

    rows = {
        (r["M"], r["N"], r["K"], r["dtype"]): r for r in csv.DictReader(short_gemms.DATA.open())
    }
    # README: 128 x 7168 x 16384 at 645 TFLOPS, 2604 GB/s; 64 x 24576 x 1536 at 289, 2455 GB/s
    for key, rate in (
        (("128", "7168", "16384", "fp8_e4m3"), 2604),
        (("64", "24576", "1536", "fp8_e4m3"), 2455),
    ):
        row = rows[key]
        gbps = short_gemms.compulsory_bytes(row) / short_gemms.published_seconds(row) / 1e9
        assert gbps == pytest.approx(rate, rel=2e-3)
    # vidur's H100 LLaMA-2-7B fused QKV at 128 tokens: median 0.041 ms
    assert short_gemms.published_seconds(rows[("128", "12288", "4096", "fp16")]) == pytest.approx(
        41e-6
    )


def test_kernel_cost_split_gives_a_direct_run_at_another_cost():
    """kernel_cost.py's body and kernel count of a whole-model entry (a three-op layer twice, one
    GEMM after) give, at another per-kernel cost by hand, what a run at that cost gives; on a
    system its chip's cost is set through `system.set`."""
    import kernel_cost

    layer = {
        "name": "layer",
        "ops": [
            {"kind": "layernorm", "name": "ln", "inputs": [], "rows": 64, "cols": 512},
            {"kind": "gemm", "name": "up", "inputs": ["ln"], "M": 64, "N": 1024, "K": 512},
            {"kind": "gelu", "name": "act", "inputs": ["up"], "rows": 64, "cols": 1024},
        ],
    }
    head = {"name": "head", "ops": [{"kind": "gemm", "name": "g", "M": 1, "N": 2048, "K": 512}]}
    entry = {"id": "x", "device": "a100-like", "value": 1.0}
    entry |= {"parts": [{"workload": layer, "repeat": 2}, {"workload": head, "repeat": 1}]}
    runner = validate.Runner()
    row = kernel_cost.split(entry, runner)
    assert row["kernels"] == 7 and row["chip"] == "a100-like"
    other = entry | {"arch_overrides": [[["cores", "kernels", "launch"], "1 us"]]}
    direct = validate.simulated(other, runner)[0]
    assert row["body"] + row["kernels"] * 1e-6 == pytest.approx(direct, rel=1e-6)
    system = kernel_cost.without_cost({"device": "h100x8-nvswitch"})
    assert system["arch_overrides"] == [[["system", "set", "cores.kernels.launch"], "0 s"]]
    assert kernel_cost.chip(system).cores.kernels.launch == 0


def test_kernel_cost_refits_the_request_on_the_calibration_rows():
    """At another per-kernel cost each row's kernels are body + count x cost; the harness's cost
    is the median residual of its calibration rows (by hand: 3, 5 and 4 ms give 4 ms), and a row
    without a harness gets none; a chip given no other cost keeps its rows as simulated."""
    import kernel_cost

    def row(value, body, kernels, calibration, harness="gptsession"):
        entry = {"value": value, "calibration": calibration} | (
            {"harness": harness} if harness else {}
        )
        split = {"body": body, "kernels": kernels, "seconds": body + kernels * 5e-6}
        return {"entry": entry, "chip": "c", "launch": 5e-6} | split

    rows = [
        row(10e-3, 6e-3, 1000, True),  # kernels 7 ms at 1 us: residual 3 ms
        row(20e-3, 14e-3, 1000, True),  # residual 5 ms
        row(30e-3, 25e-3, 1000, True),  # residual 4 ms
        row(50e-3, 40e-3, 1000, False),
        row(8e-3, 7e-3, 200, False, harness=None),
    ]
    request, predicted = kernel_cost.predictions(rows, {"c": 1e-6})
    assert request == {"gptsession": pytest.approx(4e-3)}
    assert predicted == pytest.approx([11e-3, 19e-3, 30e-3, 45e-3, 7.2e-3])
    request, predicted = kernel_cost.predictions(rows, {})
    assert request == {"gptsession": pytest.approx(0)}  # 11, 19 and 30 ms kernels: -1, +1, 0 ms
    assert predicted[4] == pytest.approx(8e-3)


def test_request_overhead_fits_a_cost_per_group():
    """Two groups of rows whose kernels fall 1 ms and 5 ms short of their measurements (one row of
    each 1 ms further off): each group's cost is its own median residual, every row's error is
    taken with its group's cost, and leaving a calibration row out refits on its group alone."""
    import request_overhead

    kernels = [2e-3, 3e-3, 4e-3, 10e-3, 20e-3, 30e-3]
    residuals = [1e-3, 1e-3, 2e-3, 5e-3, 5e-3, 6e-3]
    rows = [(k, k + r) for k, r in zip(kernels, residuals)]
    groups = ["one", "one", "one", "tp", "tp", "tp"]
    costs, fitted, left = request_overhead.grouped(rows, groups, [0, 1, 3, 4])
    assert costs == {"one": pytest.approx(1e-3), "tp": pytest.approx(5e-3)}
    assert fitted[2] == pytest.approx((4e-3 + 1e-3) / 6e-3 - 1)
    assert fitted[5] == pytest.approx((30e-3 + 5e-3) / 36e-3 - 1)
    assert sorted(left) == [0, 1, 3, 4] and left[0] == pytest.approx(0, abs=1e-12)
    costs, fitted, left = request_overhead.grouped(rows, groups, [0, 2, 3, 5])
    assert left[0] == pytest.approx((2e-3 + 2e-3) / 3e-3 - 1)  # the one-GPU cost from row 2
    assert left[5] == pytest.approx((30e-3 + 5e-3) / 36e-3 - 1)  # the tensor-parallel one, row 3


def test_layer_ops_shows_a_system_rows_all_reduces():
    """On a system of chips, layer_ops.py runs the layer once: the row-split GEMM's output is
    all-reduced over the chips and the column-split one's is not (Megatron's split)."""
    import layer_ops

    ops = [
        {"kind": "gemm", "name": "up", "inputs": [], "M": 64, "N": 1024, "K": 256},
        {"kind": "gemm", "name": "down", "inputs": ["up"], "M": 64, "N": 256, "K": 1024},
    ]
    ops[0]["parallel"], ops[1]["parallel"] = "column", "row"
    entry = {"id": "x", "device": "h100x8-nvswitch"}
    entry["parts"] = [{"workload": {"name": "layer", "ops": ops}, "repeat": 1}]
    summary = layer_ops.system_layer(entry)
    reduce = {op["name"]: op["all_reduce_seconds"] for op in summary["ops"]}
    assert reduce["up"] == 0 and reduce["down"] > 0
    assert summary["all_reduce_seconds"] == pytest.approx(reduce["down"])
