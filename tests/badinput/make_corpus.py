"""Write the bad-input corpus: the files in files/ and the table cases.tsv (id, expected error
fragment, command line). Rerun after editing; test_corpus.py reads only what this writes, and
test_make_corpus.py checks that the committed corpus is exactly what this writes.

    python tests/badinput/make_corpus.py
"""

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"

# ----- files ----------------------------------------------------------------------------------
GOOD_ARCH = (
    "name: a\nclock: 1 GHz\ncomponents:\n  mac:\n    kind: systolic_array\n    rows: 8\n"
    "    cols: 8\n  sram:\n    kind: sram\n    capacity: 64 KiB\n  dram:\n"
    "    kind: dram\n    technology: ddr4\n"
)


def _alias_bomb() -> str:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npz_object() -> bytes:
    """An .npz whose array needs pickle (object dtype): np.load refuses it without allow_pickle."""
    buffer = io.BytesIO()
    np.savez(buffer, w=np.array([{"a": 1}], dtype=object))
    return buffer.getvalue()


# every corrupt-file kind, used in every place a spec file goes
BROKEN = {
    "binary.yaml": bytes(range(256)) * 4,
    "latin1.yaml": "name: caf\u00e9\nclock: 1 GHz\n".encode("latin-1"),
    "utf16.yaml": "name: a\nclock: 1 GHz\n".encode("utf-16"),
    "utf16be.yaml": "name: a\n".encode("utf-16-be"),
    "nul.yaml": b"name: a\x00\n",
    "empty.yaml": b"",
    "comment-only.yaml": b"# nothing here\n",
    "list.yaml": b"- a\n- b\n",
    "scalar.yaml": b"just words\n",
    "malformed.yaml": b"name: [a, b\nclock: 1 GHz\n",
    "tabs.yaml": b"name: a\ncomponents:\n\tmac: 1\n",
    "deep.yaml": ("a: " + "[" * 20000 + "]" * 20000 + "\n").encode(),
    "deep-map.yaml": ("a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n").encode(),
    "alias-bomb.yaml": _alias_bomb().encode(),
    "duplicate.yaml": b"name: a\nname: b\n",
    "python-tag.yaml": b"name: !!python/object/apply:os.system ['true']\n",
    "unknown-tag.yaml": b"name: !custom a\n",
    "bad-anchor.yaml": b"name: *nowhere\n",
}
JSON_FILES = {
    "hf-null-arch.json": '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, '
    '"architectures": null}',
    "hf-arch-string.json": '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128,'
    ' "architectures": "LlamaForCausalLM"}',
    "hf-arch-numbers.json": '{"hidden_size": 64, "num_attention_heads": 4, '
    '"intermediate_size": 128, "architectures": [1, 2]}',
    "hf-list.json": "[1, 2, 3]",
    "hf-missing.json": '{"hidden_size": 64}',
    "hf-infinity.json": '{"hidden_size": Infinity, "num_attention_heads": 4, "intermediate_size": 8}',
    "hf-nan.json": '{"hidden_size": NaN, "num_attention_heads": 4, "intermediate_size": 8}',
    "hf-string-size.json": '{"hidden_size": "big", "num_attention_heads": 4, '
    '"intermediate_size": 8}',
    "hf-negative.json": '{"hidden_size": -64, "num_attention_heads": 4, "intermediate_size": 8}',
    "hf-float-size.json": '{"hidden_size": 64.5, "num_attention_heads": 4, "intermediate_size": 8}',
    "hf-heads-indivisible.json": '{"hidden_size": 64, "num_attention_heads": 5, '
    '"intermediate_size": 8, "num_key_value_heads": 3}',
    "hf-dtype-list.json": '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 8, '
    '"torch_dtype": [1]}',
    "hf-truncated.json": '{"hidden_size": 64, "num_attention_',
    "hf-deep.json": "[" * 100000 + "]" * 100000,
}
HF_SERVED = (  # a served model's config: {extra} added or replacing its last key
    '{{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, '
    '"num_hidden_layers": {layers}, "vocab_size": 100{extra}}}'
)
HF_SERVED_FILES = {  # serve reads these keys itself: (layers, extra, the key the error names)
    "hf-served-context-word.json": ("2", ', "max_position_embeddings": "abc"', "max_position"),
    "hf-served-context-null.json": ("2", ', "max_position_embeddings": null', "max_position"),
    "hf-served-context-list.json": ("2", ', "max_position_embeddings": [1]', "max_position"),
    "hf-served-context-negative.json": ("2", ', "max_position_embeddings": -5', "max_position"),
    "hf-served-layers-bool.json": ("true", "", "num_hidden_layers"),
}
SNN = (
    "name: s\nkind: snn\ntime_steps: 4\nplacement: fill\ngroups:\n"
    "  - {{name: in, size: 4, kind: input, rates: {rates}}}\n"
    "  - {{name: out, size: 2, kind: lif}}\n"
    "connections:\n  - {{source: in, target: out, kind: dense, weights: {weights}}}\n"
)
SANAFE_TN_ARCH = (  # a one-core SANA-FE chip with a truenorth soma
    "architecture:\n  name: c\n  attributes: {{topology: mesh, width: 1, height: 1, "
    "link_buffer_size: {buffer}}}\n  tile:\n    - name: t\n      core:\n        - name: c\n"
    "          attributes: {{buffer_position: soma}}\n          soma:\n"
    "            - name: tn\n              attributes: {{model: {model}}}\n"
)
SANAFE_TN_NET = (
    "network:\n  name: n\n  groups:\n    - name: a\n      attributes: {{threshold: 2, {extra}}}\n"
    "      neurons:\n        - 0..1: {{}}\n  edges:\n    - a.0 -> a.1: {{weight: 1}}\n"
    "mappings:\n  - a: {{core: 0.0, soma: tn}}\n"
)
SANAFE_TN_BAD = {  # network file: (attribute text, expected error fragment)
    "leak-decay": ("leak_decay: 0.5", "not modelled by accsim for a truenorth soma"),
    "mask-negative": ("random_mask: -1", "random_mask must be an integer >= 0"),
    "mask-fraction": ("random_mask: 2.5", "random_mask must be an integer >= 0"),
    "mask-word": ("random_mask: seven", "random_mask must be an integer >= 0"),
    "leak-word": ("leak: abc", "leak must be a finite number"),
    "leak-inf": ("leak: .inf", "leak must be a finite number"),
    "leak-nan": ("leak: .nan", "leak must be a finite number"),
    "towards-word": ("leak_towards_zero: maybe", "leak_towards_zero is true or false"),
    "reset-mode": ("reset_mode: explode", "reset_mode 'explode'"),
    "reverse-mode": ("reverse_reset_mode: 3", "reverse_reset_mode '3'"),
    "reverse-word": ("reverse_threshold: low", "reverse_threshold must be a finite number"),
    "reset-list": ("reset: [1, 2]", "reset must be a finite number"),
}
SNN_TRUENORTH_FIELDS = {  # label: (neuron fields of a LIF group, expected error fragment)
    "lif-leak": ("leak: 1", "only neurons on a truenorth soma unit have it"),
    "lif-saturate": ("reset: saturate", "saturate is a truenorth soma's reset"),
    "mask-negative": ("random_mask: -3", "must be >= 0"),
    "mask-word": ("random_mask: lots", "random_mask"),
    "towards-word": ("leak_towards_zero: maybe", "leak_towards_zero"),
}
CALIBRATION_FILES = {  # `accsim calibrate` measurement tables
    "calibration-bad-seconds.csv": 'workload,seconds\n"gemm:M=64,N=64,K=64,dtype=bf16",fast\n',
    "calibration-unquoted.csv": "workload,seconds\ngemm:M=64,N=64,K=64,dtype=bf16,1e-5\n",
    "calibration-short-row.csv": "workload,seconds\ngemm-1024\n",
    "calibration-no-header.csv": "kernel,time\ngemm:M=64,N=64,K=64,1e-5\n",
    "calibration-three.csv": "workload,seconds\n"
    + "".join(f'"gemm:M={m},N=64,K=64,dtype=bf16",1e-5\n' for m in (64, 128, 256)),
    "calibration-repeats.csv": "workload,seconds\n"  # one kernel, three times: nothing to fit
    + "".join(f'"gemm:M=64,N=64,K=64,dtype=bf16",{t}\n' for t in ("1e-5", "2e-5", "5e-1")),
    "calibration-huge-time.csv": "workload,seconds\ngemm-256,1e-5\ngemm-1024,1e-3\n"
    "gemm-4096,1e300\n",
    "calibration-tiny-time.csv": "workload,seconds\ngemm-256,1e-320\ngemm-1024,1e-3\n"
    "gemm-4096,1e-2\n",
    "calibration-snn.csv": "workload,seconds\ngemm-256,1e-5\nsnn-mnist-mlp,1e-5\ngemm-1024,1e-3\n",
    "calibration-unrunnable.csv": 'workload,seconds\n"gemm:M=99999999,N=99999999,K=99999999,'
    'dtype=bf16",1\ngemm-256,1e-5\ngemm-1024,1e-3\n',
}
SANAFE_NET_EDITS = {  # network file: (text of SANAFE_TN_NET, replacement, expected fragment)
    "sanafe-neurons-huge.yaml": ("0..1", "0..100000000000", "neurons '0..100000000000': give ids"),
    "sanafe-neurons-inverted.yaml": ("0..1", "5..1", "neurons '5..1': give ids"),
    "sanafe-neurons-negative.yaml": ("0..1", "-1..1", "neurons '-1..1': give ids"),
    "sanafe-weight-infinite.yaml": (
        "weight: 1",
        "weight: 1e400",
        "a weight, threshold, bias or reset is not",
    ),
}
SWEEP_BASE = "name: s\nbase: {arch: edge-npu, workload: gemm-256}\n"
SERVING_SWEEP = "name: s\nbase: {arch: tpu-v4-like, serving: {model: llama-2-7b, requests: 4}}\n"
SERVING_FILES = {  # `accsim serve` cost caches and request traces
    "cost-cache-malformed.json": '{"broken',
    "cost-cache-list.json": "[1, 2]",
    "cost-cache-entry.json": '{"shape": [1, "x"]}',
    "cost-cache-nan.json": '{"shape": [NaN, 1]}',
    "trace-header-only.csv": "arrival_s,prompt_tokens,output_tokens\n",
    "trace-good.csv": "arrival_s,prompt_tokens,output_tokens\n0,10,10\n1,12,4\n",
    "trace-nan-arrival.csv": "arrival_s,prompt_tokens,output_tokens\n0,10,10\nnan,10,10\n",
    "trace-inf-arrival.csv": "arrival_s,prompt_tokens,output_tokens\n0,10,10\ninf,10,10\n",
    "trace-fraction.csv": "arrival_s,prompt_tokens,output_tokens\n0,10,10\n1,1.5,10\n",
    "trace-azure-no-time.csv": "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:15:46.6805900,374,44\n,396,109\n",
    "trace-far-arrival.csv": "arrival_s,prompt_tokens,output_tokens\n0,10,10\n1e300,10,10\n",
    "trace-azure-years.csv": "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:15:46,374,44\n1999-01-01 00:00:00,396,109\n",
    "hf-served-context-4.json": HF_SERVED.format(layers=2, extra=', "max_position_embeddings": 4'),
    "results-no-status.csv": "a,b\n1,3\n2,4\n",
    "results-ok.csv": "a,b,status\n1,3,ok\n2,4,ok\n",
    "results-header-only.csv": "a,b,status\n",
    "results-all-failed.csv": "a,b,status\n1,,failed\n2,,failed\n",
}
GUARD_FILES = {  # runs the step budget took to the limit before refusing; serving reach in a sweep
    "conv-4096.yaml": "name: conv\nops:\n  - {kind: conv2d, name: c1, N: 1, C: 64, H: 4096, "
    "W: 4096, K: 64, R: 3, S: 3, padding: 1}\n",
    "relus-100.yaml": "name: relus\nops:\n"
    + "".join(
        f"  - {{kind: relu, name: r{i}, rows: 8064, cols: 64, dtype: fp16}}\n" for i in range(100)
    ),
    "sweep-serving-far-base.yaml": "name: s\nbase:\n  arch: tpu-v4-like\n  serving:\n"
    "    model: llama-2-7b\n    bucket_ratio: 1.0e6\ngrid:\n  serving.rate: [1]\n",
    "sweep-serving-far-grid.yaml": f"{SERVING_SWEEP}grid:\n  serving.bucket_ratio: [1.0e6]\n",
    # nits16: a consumer narrower than its producer (64 x 12,544 convolution outputs, 320 read)
    "relu-narrower-than-conv.yaml": "name: w\nops:\n  - {kind: conv2d, name: conv1, C: 3, "
    "H: 224, W: 224, K: 64, R: 3, S: 3, padding: 1, stride: 2}\n"
    "  - {kind: relu, name: r1, rows: 64, cols: 5, inputs: [conv1]}\n",
}
SCALESIM_CFG = (  # a SCALE-Sim 3 config; {field} replaced per file
    "[general]\nrun_name : r\n\n[architecture_presets]\nArrayHeight : {height}\n"
    "ArrayWidth : 8\nIfmapSramSzkB : {sram}\nFilterSramSzkB : 64\nOfmapSramSzkB : 64\n"
    "Bandwidth : {bandwidth}\nDataflow : ws\n\n[run_presets]\nInterfaceBandwidth : USER\n"
)
SCALESIM_FILES = {
    "scalesim-good.cfg": SCALESIM_CFG.format(height=8, sram=64, bandwidth=10),
    "scalesim-zero-array.cfg": SCALESIM_CFG.format(height=0, sram=64, bandwidth=10),
    "scalesim-zero-sram.cfg": SCALESIM_CFG.format(height=8, sram=0, bandwidth=10),
    "scalesim-nan-bandwidth.cfg": SCALESIM_CFG.format(height=8, sram=64, bandwidth="nan"),
    "topology-duplicate.csv": "Layer name, M, N, K,\ng, 64, 64, 64,\ng, 64, 64, 64,\n",
    "topology-zero.csv": "Layer name, M, N, K,\ng, 0, 64, 64,\n",
    "topology-depthwise-huge.csv": "Layer name, IFMAP Height, IFMAP Width, Filter Height, "
    "Filter Width, Channels, Num Filter, Strides,\nDPconv, 8, 8, 3, 3, 1000000000, 1, 1,\n",
    # 100 GB of ifmap SRAM: the spec guard's tile bound is 1 step, the engine's work 781,250,016
    "scalesim-huge-ifmap.cfg": SCALESIM_CFG.format(height=8, sram=10**8, bandwidth=10),
    "topology-gemm-huge.csv": "Layer name, M, N, K,\ng, 100000000000, 64, 64,\n",
}


def _onnx_files() -> dict[str, bytes]:
    """Small ONNX graphs accsim cannot import (its IR version pinned: bytes independent of the
    installed onnx)."""
    from onnx import TensorProto, helper

    def model(node, x_shape, weight=None, element=TensorProto.FLOAT) -> bytes:
        x = helper.make_tensor_value_info("x", element, x_shape)
        y = helper.make_tensor_value_info("y", element, None)
        inits = []
        if weight is not None:
            size = int(np.prod(weight))
            inits = [helper.make_tensor("w", element, weight, [0] * size)]
        nodes = node if isinstance(node, list) else [node]
        graph = helper.make_graph(nodes, "g", [x], [y], inits)
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
        proto.ir_version, proto.producer_name, proto.producer_version = 8, "", ""
        return proto.SerializeToString()

    conv = helper.make_node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])
    return {
        "onnx-asymmetric-pad.onnx": model(conv, [1, 4, 9, 9], [8, 4, 4, 4]),
        "onnx-conv1d.onnx": model(
            helper.make_node("Conv", ["x", "w"], ["y"]), [1, 4, 10], [8, 4, 3]
        ),
        "onnx-softmax-axis0.onnx": model(helper.make_node("Softmax", ["x"], ["y"], axis=0), [4, 8]),
        "onnx-no-shape.onnx": model(helper.make_node("MatMul", ["x", "w"], ["y"]), None, [8, 4]),
        "onnx-matmul.onnx": model(helper.make_node("MatMul", ["x", "w"], ["y"]), [4, 8], [8, 4]),
        # tensors made twice: a node overwriting the graph input, two nodes writing one output
        "onnx-writes-input.onnx": model(
            [helper.make_node("Relu", ["x"], ["z"]), helper.make_node("Relu", ["z"], ["x"])], [4, 8]
        ),
        "onnx-two-writers.onnx": model(
            [helper.make_node("MatMul", ["x", "w"], ["y"])] * 2, [4, 8], [8, 4]
        ),
        # element types no accsim precision holds (were imported as fp32, silently)
        "onnx-int64-matmul.onnx": model(
            helper.make_node("MatMul", ["x", "w"], ["y"]), [4, 8], [8, 4], TensorProto.INT64
        ),
        "onnx-double-relu.onnx": model(
            helper.make_node("Relu", ["x"], ["y"]), [4, 8], None, TensorProto.DOUBLE
        ),
    }


SYSTEM = (
    "# yaml-language-server: $schema=../../../schemas/arch.schema.json\n"
    "name: bad-system\nsystem:\n  chip: {chip}\n{fields}"
)
SWITCH = "  links: {kind: nvlink3, count: 12, topology: switch}\n"
SYSTEM_FILES = {  # systems of chips: (chip, the fields after it)
    "system-bad-set.yaml": ("a100-like", "  set: {components.hbm.bandwdth: 1 TB/s}\n  count: 4\n"),
    "system-chip-system-key.yaml": ("a100-like", "  set: {system.count: 2}\n  count: 4\n"),
    "system-count-zero.yaml": ("a100-like", "  count: 0\n"),
    "system-groups.yaml": ("a100-like", "  count: 4\n  tensor_parallel: 3\n"),
    "system-inline-bad.yaml": (
        "{name: c, clock: 1 GHz, components: {mxu: {kind: systolic_array, rows: -8, cols: 8}}}",
        "  count: 2\n",
    ),
    "system-inline-set.yaml": (
        "{name: c, clock: 1 GHz, components: {hbm: {kind: dram, technology: hbm2}, mxu: "
        "{kind: systolic_array, rows: 8, cols: 8}, buf: {kind: sram, capacity: 1 MiB}}}",
        "  set: {clock: 2 GHz}\n  count: 2\n",
    ),
    "system-link-kind.yaml": (
        "a100-like",
        "  count: 4\n  links: {kind: nvlink9, count: 12, topology: switch}\n",
    ),
    "system-nested.yaml": ("a100x4-nvlink", "  count: 2\n"),
    "system-no-such-chip.yaml": ("no-such-chip", "  count: 4\n"),
    "system-torus-dims.yaml": (
        "tpu-v4-like",
        "  count: 4\n  links: {kind: tpu_v4_ici, count: 4, topology: torus}\n",
    ),
    "system-micro-batches-zero.yaml": ("tpu-v4-like", "  count: 4\n  micro_batches: 0\n"),
    "system-micro-batches-split.yaml": (
        "tpu-v4-like",
        "  count: 2\n  pipeline_stages: 2\n  micro_batches: 3\n",
    ),
    "system-torus-3d-dims.yaml": (
        "tpu-v4-like",
        "  count: 64\n  links: {kind: tpu_v4_ici, count: 6, topology: torus, dims: [4, 4, 2]}\n",
    ),
    "system-torus-group.yaml": (
        "tpu-v4-like",
        "  count: 16\n  tensor_parallel: 4\n  pipeline_stages: 4\n"
        "  links: {kind: tpu_v4_ici, count: 6, topology: torus, dims: [2, 4, 2]}\n",
    ),
}
KEY_FILES = {  # YAML keys that are no names: (text, expected fragment)
    "key-list.yaml": (GOOD_ARCH + "? [a, b]\n: 1\n", "a key must be a name, not a list"),
    "key-mapping.yaml": (
        GOOD_ARCH.replace("components:\n", "components:\n  ? {kind: sram}\n  : 1\n"),
        "components: a key must be a name, not a mapping",
    ),
}
NPZ_FILES = {
    "not-a-zip.npz": b"this is not a zip file\n",
    "empty.npz": b"",
    "object.npz": _npz_object(),
    "strings.npz": _npz(w=np.array(["a", "b"])),
    "infinite.npz": _npz(w=np.array([np.inf, 1.0])),
    "nan.npz": _npz(w=np.array([np.nan, 1.0])),
}


def write_files(folder: Path = FILES) -> None:
    """Write every corpus file into `folder` (emptied first)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    (folder / "folder.yaml").mkdir()
    (folder / "folder.yaml" / ".keep").write_text("")
    (folder / "good-arch.yaml").write_text(GOOD_ARCH)
    for name, data in {**BROKEN, **NPZ_FILES}.items():
        (folder / name).write_bytes(data)
    for name, text in {
        **JSON_FILES,
        **CALIBRATION_FILES,
        **SERVING_FILES,
        **SCALESIM_FILES,
        **GUARD_FILES,
    }.items():
        (folder / name).write_text(text)
    for name, (text, _) in KEY_FILES.items():
        (folder / name).write_text(text)
    for name, data in _onnx_files().items():
        (folder / name).write_bytes(data)
    for name, (layers, extra, _) in HF_SERVED_FILES.items():
        (folder / name).write_text(HF_SERVED.format(layers=layers, extra=extra))
    for name, (text, replacement, _) in SANAFE_NET_EDITS.items():
        net = SANAFE_TN_NET.format(extra="leak: 1")
        (folder / name).write_text(net.replace(text, replacement))
    for name, (chip, fields) in SYSTEM_FILES.items():
        links = "" if "links:" in fields else SWITCH
        (folder / name).write_text(SYSTEM.format(chip=chip, fields=fields + links))
    for name in NPZ_FILES:
        stem = Path(name).stem
        weights = f"{{file: {name}, key: w}}"
        (folder / f"snn-{stem}.yaml").write_text(SNN.format(rates=0.5, weights=weights))
    for label, neuron in SNN_TRUENORTH_FIELDS.items():  # TrueNorth fields on a LIF group
        text = SNN.format(rates=0.5, weights=0.5).replace(
            "kind: lif}", f"kind: lif, neuron: {{{neuron[0]}}}}}"
        )
        (folder / f"snn-{label}.yaml").write_text(text)
    for label, rates in {"rate-above-1": 1.5, "rate-negative": -0.1}.items():
        (folder / f"snn-{label}.yaml").write_text(SNN.format(rates=rates, weights=0.5))
    with zipfile.ZipFile(folder / "zip-no-arrays.npz", "w") as archive:
        archive.writestr(zipfile.ZipInfo("readme.txt", (2020, 1, 1, 0, 0, 0)), "no arrays")
    (folder / "snn-zip-no-arrays.yaml").write_text(
        SNN.format(rates=0.5, weights="{file: zip-no-arrays.npz, key: w}")
    )
    (folder / "sanafe-tn-arch.yaml").write_text(SANAFE_TN_ARCH.format(buffer=1, model="truenorth"))
    (folder / "sanafe-tn-net.yaml").write_text(SANAFE_TN_NET.format(extra="leak: 1"))
    for label, buffer in {"buffer-negative": -2, "buffer-word": "four"}.items():
        (folder / f"sanafe-{label}.yaml").write_text(
            SANAFE_TN_ARCH.format(buffer=buffer, model="truenorth")
        )
    (folder / "sanafe-izhikevich.yaml").write_text(SANAFE_TN_ARCH.format(buffer=1, model="izh"))
    for label, (extra, _) in SANAFE_TN_BAD.items():
        (folder / f"sanafe-tn-{label}.yaml").write_text(SANAFE_TN_NET.format(extra=extra))
    for name in ("binary", "latin1", "utf16"):  # SCALE-Sim configs in the wrong encoding
        shutil.copy(folder / f"{name}.yaml", folder / f"{name}.cfg")
    for name in ("binary", "latin1", "utf16", "nul"):  # model configs in the wrong encoding
        shutil.copy(folder / f"{name}.yaml", folder / f"{name}.json")
    (folder / "topology.csv").write_text("Layer name, M, N, K,\ngemm, 64, 64, 64,\n")
    (folder / "bad-results.parquet").write_bytes(b"PAR1 not really parquet")
    (folder / "bad-results.csv").write_bytes(b"\xff\xfe\x00garbage")
    (folder / "results.txt").write_text("a,b\n1,2\n")
    sweeps = {
        "sweep-nan-range.yaml": "name: s\nbase: {arch: edge-npu, workload: gemm-256}\n"
        "random:\n  samples: 2\n  parameters:\n    clock: {low: .nan, high: 2}\n",
        "sweep-huge.yaml": "name: s\nbase: {arch: edge-npu, workload: gemm-256}\n"
        "random:\n  samples: 100000000\n  parameters:\n    components.mac_array.rows: [8, 16]\n",
        "sweep-huge-grid.yaml": "name: s\nbase: {arch: edge-npu, workload: gemm-256}\ngrid:\n"
        + "".join(f"  workload.ops.0.{d}: [{', '.join(map(str, range(1, 101)))}]\n" for d in "MNK"),
        "sweep-inverted-range.yaml": "name: s\nbase: {arch: edge-npu, workload: gemm-256}\n"
        "random:\n  samples: 2\n  parameters:\n    clock: {low: 3, high: 2}\n",
        "sweep-no-axes.yaml": "name: s\nbase: {arch: edge-npu, workload: gemm-256}\n",
        "sweep-bad-base.yaml": "name: s\nbase: {arch: nowhere-arch, workload: gemm-256}\n"
        "grid:\n  clock: [1 GHz]\n",
        "sweep-bad-objective.yaml": "name: s\nbase: {arch: edge-npu, workload: gemm-256}\n"
        "grid:\n  clock: [1 GHz]\nobjectives: {cycles: sideways}\n",
        "sweep-axis-typo.yaml": "name: s\nbase: {arch: edge-npu, workload: gemm-256}\n"
        "grid:\n  arch.components.mac_arr.rows: [8, 16]\n",
        "sweep-serving-field.yaml": "name: s\nbase: {arch: tpu-v4-like, serving: {model: llama-2-7b}}"
        "\ngrid:\n  serving.chunk: [256]\n",
        "sweep-same-axis.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz]\n  arch.clock: [2 GHz]\n",
        "sweep-same-in-group.yaml": f'{SWEEP_BASE}grid:\n  "clock, clock": [[1 GHz, 2 GHz]]\n',
        "sweep-same-in-point.yaml": f"{SWEEP_BASE}points:\n  - {{clock: 1 GHz, arch.clock: 2 GHz}}\n",
        "sweep-empty-grid.yaml": f"{SWEEP_BASE}grid: {{}}\n",
        "sweep-empty-points.yaml": f"{SWEEP_BASE}points: []\n",
        "sweep-no-parameters.yaml": f"{SWEEP_BASE}random:\n  samples: 2\n  parameters: {{}}\n",
        "sweep-empty-path.yaml": f'{SWEEP_BASE}grid:\n  "": [1]\n',
        # values no point would use, or a front that would be silently empty
        "sweep-excludes-all.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz, 2 GHz]\n"
        "constraints:\n  - {left: arch.clock, op: '<=', right: 5}\n",
        "sweep-word-objective.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz]\n"
        "objectives: {primary_unit: minimize}\n",
        "sweep-serving-workload.yaml": f"{SERVING_SWEEP}grid:\n  workload.ops.0.M: [64]\n",
        "sweep-serving-mapping.yaml": f"{SERVING_SWEEP}grid:\n  mapping.dataflow: [ws]\n",
        "sweep-serving-in-point.yaml": f"{SERVING_SWEEP}points:\n  - {{serving.rate: 2, mapping.tile.M: 8}}\n",
        "sweep-gemm-serving.yaml": f"{SWEEP_BASE}grid:\n  serving.rate: [1, 2]\n",
        # constraints of two literals (a result metric read as a word: always true or false)
        "sweep-constraint-metric.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz, 2 GHz]\n"
        "constraints:\n  - {left: cycles, op: '<', right: 5000}\n",
        "sweep-constraint-status.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz, 2 GHz]\n"
        "constraints:\n  - {left: status, op: '==', right: ok}\n",
        "sweep-random-seed-negative.yaml": f"{SWEEP_BASE}random:\n  samples: 2\n  seed: -1\n"
        "  parameters: {clock: {low: 1, high: 2}}\n",
        "sweep-seed-huge.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz]\nseed: 4294967296\n",
        "sweep-grid-sexagesimal.yaml": f"{SWEEP_BASE}grid:\n  workload.ops.0.M: [1:4, 2:8]\n",
    }
    for name, text in sweeps.items():
        (folder / name).write_text(text)
    for name, text in HOSTILE15_FILES.items():
        (folder / name).write_text(text)
    for name, data in _hostile15_onnx().items():
        (folder / name).write_bytes(data)
    for name, text in {
        **HOSTILE16_FILES,
        **HFCFG16_FILES,
        **HF17_FILES,
        **HOSTILE17_FILES,
        **HFROPE17_FILES,
        **REVIEW17B_FILES,
    }.items():
        (folder / name).write_text(text)
    for name, data in _hostile17_onnx().items():
        (folder / name).write_bytes(data)


# ----- hostile15: CSV cells and columns, union branches, ONNX pools and batches -----------------
CALIBRATION_ROWS = "".join(f'"gemm:M={m},N=64,K=64,dtype=bf16",1e-5\n' for m in (64, 128, 256))
HOSTILE15_FILES = {
    "calibration-extra-column.csv": "workload,seconds,stddev\n"
    + CALIBRATION_ROWS.replace("\n", ",1e-7\n"),
    "calibration-open-quote.csv": "workload,seconds\n"
    + CALIBRATION_ROWS
    + '"gemm:M=8,N=8,K=8,1e-5\n',  # the quote is never closed
    "trace-bool-arrival.csv": "arrival_s,prompt_tokens,output_tokens\nTrue,10,10\nFalse,12,4\n",
    "trace-column-twice.csv": "arrival_s,prompt_tokens,output_tokens,arrival_s\n0,10,10,5\n1,12,4,6\n",
    "topology-no-header.csv": "g1, 64, 64, 64,\ng2, 128, 128, 128,\n",
    "sweep-random-bool-low.yaml": f"{SWEEP_BASE}random:\n  samples: 2\n"
    "  parameters: {clock: {low: true, high: 2}}\n",
}


# ----- hostile16: repeated values, sweep constraints of two kinds, SCALE-Sim keys misspelt ------
HOSTILE16_FILES = {
    "sweep-grid-repeat.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz, 2 GHz, 1000 MHz]\n",
    "sweep-points-repeat.yaml": f"{SWEEP_BASE}points:\n  - {{clock: 1 GHz}}\n  - {{clock: 1 GHz}}\n",
    "sweep-empty-axis.yaml": f"{SWEEP_BASE}grid:\n  clock: []\n",
    "sweep-numerics-one.yaml": f"{SWEEP_BASE}grid:\n  clock: [1 GHz]\nnumerics: 1\n",
    "sweep-constraint-kinds.yaml": f"{SWEEP_BASE}grid:\n  workload.ops.0.M: [64, 128]\n"
    "constraints:\n  - {left: workload.ops.0.M, op: '<', right: 1 GHz}\n",
    **{
        f"hf-{label}.json": '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": '
        f'128, "num_hidden_layers": 2, "vocab_size": 100, {extra}}}'
        for label, extra in {
            "relu": '"hidden_act": "relu"',
            "head-dim": '"head_dim": 0',
            "experts": '"num_local_experts": 8',
            "float64": '"torch_dtype": "float64"',
            "key-twice": '"hidden_size": 128',
        }.items()
    },
    "scalesim-misspelt.cfg": SCALESIM_CFG.format(height=8, sram=64, bandwidth=10).replace(
        "Bandwidth : 10", "Bandwith : 50"
    ),
    "scalesim-key-elsewhere.cfg": SCALESIM_CFG.format(height=8, sram=64, bandwidth=10)
    + "Bandwidth : 50\n",  # under [run_presets]: the import read [architecture_presets]'s
}


def _hostile15_onnx() -> dict[str, bytes]:
    """ONNX graphs whose pools are not 2-D, and a batched MatMul of 300,000 GEMMs (IR version
    pinned, as _onnx_files)."""
    from onnx import TensorProto, helper

    def model(node, *shapes) -> bytes:
        names = ["x", "w"][: len(shapes)]
        inputs = [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip(names, shapes)
        ]
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
        graph = helper.make_graph([node], "g", inputs, [y])
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
        proto.ir_version, proto.producer_name, proto.producer_version = 8, "", ""
        return proto.SerializeToString()

    return {
        "onnx-maxpool-1d.onnx": model(
            helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3]), [1, 4, 10]
        ),
        "onnx-global-pool-3d.onnx": model(
            helper.make_node("GlobalAveragePool", ["x"], ["y"]), [1, 4, 6, 6, 6]
        ),
        "onnx-batched-300k.onnx": model(
            helper.make_node("MatMul", ["x", "w"], ["y"]), [300000, 2, 2], [300000, 2, 2]
        ),
    }


# ----- cases ----------------------------------------------------------------------------------
def cases() -> list[tuple[str, str]]:
    """(expected fragment, command line) pairs; {files} and {tmp} are filled in by the test, which
    puts a copy of files/bad-results.parquet in {tmp} (a sweep writes its lock beside its output)."""
    out: list[tuple[str, str]] = []
    broken_fragment = {
        "binary.yaml": "not UTF-8",
        "latin1.yaml": "not UTF-8",
        "utf16.yaml": "not UTF-8",
        "utf16be.yaml": "NUL",
        "nul.yaml": "NUL",
        "empty.yaml": "expected a mapping",
        "comment-only.yaml": "expected a mapping",
        "list.yaml": "expected a mapping",
        "scalar.yaml": "expected a mapping",
        "malformed.yaml": "malformed YAML",
        "tabs.yaml": "malformed YAML",
        "deep.yaml": "nested too deeply",
        "deep-map.yaml": "nested too deeply",
        "alias-bomb.yaml": "aliases repeated",
        "duplicate.yaml": "duplicate key",
        "python-tag.yaml": "malformed YAML",
        "unknown-tag.yaml": "malformed YAML",
        "bad-anchor.yaml": "malformed YAML",
        "folder.yaml": "no such",
        "missing.yaml": "no such",
    }
    places = {
        "arch": "run {f} gemm-256",
        "workload": "run edge-npu {f}",
        "mapping": "run edge-npu gemm-256 -m {f}",
        "sweep": "sweep {f} -o {tmp}/r.parquet -j 1",
        "map": "map {f} gemm-256",
        "scale": "scale {f} gemm-256",
    }
    for place, template in places.items():
        for name, fragment in broken_fragment.items():
            if place in ("map", "scale") and name not in ("binary.yaml", "alias-bomb.yaml"):
                continue  # the same loader as run: two files prove it is used
            out.append((fragment, template.format(f="{files}/" + name, tmp="{tmp}")))
    # the hierarchy of arch fields: every kind of bad value through --set
    unit_fields = {
        "clock": "frequency",
        "components.sram.capacity": "size",
        "components.sram.width": "size",
        "components.dram.bandwidth": "bandwidth",
        "components.dram.latency": "time",
        "components.dram.capacity": "size",
        "components.vector.buffer": "size",
        "tech_node": "length",
    }
    examples = {
        "frequency": "GHz",
        "size": "MiB",
        "bandwidth": "GB/s",
        "time": "ns",
        "length": "nm",
    }
    for field, kind in unit_fields.items():
        unit = examples[kind]
        for value, fragment in (
            (f"1e400 {unit}", "must be finite"),
            (f"-1 {unit}", "must not be negative"),
            ("12", f"expected a {kind}"),
            ("12 parsecs", f"expected a {kind}"),
            (".nan", f"expected a {kind}"),
            (".inf", f"expected a {kind}"),
            ("[1]", f"expected a {kind}"),
        ):
            out.append((fragment, f"run edge-npu gemm-256 --set '{field}={value}'"))
    count_fields = [
        "components.mac_array.rows",
        "components.mac_array.cols",
        "components.sram.banks",
        "components.sram.ports",
        "components.vector.lanes",
        "components.dram.channels",
    ]
    for field in count_fields:
        for value, fragment in (
            ("0", "must be > 0"),
            ("-3", "must be > 0"),
            ("1.5", "must be an integer"),
            ("abc", "must be an integer"),
            (".nan", "must be an integer"),
            ("1e400", "must be an integer"),
            ("true", "must be an integer"),
            ("[1,2]", "must be an integer"),
        ):
            out.append((fragment, f"run edge-npu gemm-256 --set '{field}={value}'"))
    physics = [
        ("isaac-like", "components.xbar.adc_bits=64", "must be <= 16"),
        ("isaac-like", "components.xbar.cell_bits=40", "must be <= 8"),
        ("isaac-like", "components.xbar.dac_bits=20", "must be <= 8"),
        ("isaac-like", "components.xbar.off_conductance=.inf", "finite"),
        ("isaac-like", "components.xbar.off_conductance=-1", "must be >= 0"),
        ("isaac-like", "components.xbar.read_noise=.nan", "finite"),
        ("isaac-like", "components.xbar.ir_drop=0.7", "must be < 0.5"),
        ("isaac-like", "components.xbar.stuck_at_rate=2", "must be <= 1"),
        ("mesh-4x4", "components.noc.link_length_mm=-1", "must be > 0"),
        ("mesh-4x4", "components.noc.link_length_mm=.nan", "finite"),
        ("mesh-4x4", "components.noc.link_length_mm=.inf", "finite"),
        ("mesh-4x4", "components.noc.link_bandwidth='1e400 GB/s'", "must be finite"),
        ("mesh-4x4", "components.noc.dims=[4,0]", "must be > 0"),
        ("mesh-4x4", "cores.count=0", "must be > 0"),
        ("mesh-4x4", "cores.count=90000", "outside"),
        ("mesh-4x4", "components.noc.memory_nodes=[99]", "outside"),
        ("edge-npu", "name=", "name"),
        ("edge-npu", "components.mac_array.kind=quantum", "unknown kind"),
        ("edge-npu", "components.mac_array.input_precision=[int7]", "unknown precision"),
        ("edge-npu", "components.mac_array.dataflows=[xyz]", "must be one of"),
        ("edge-npu", "components.mac_array.mac_energy='-1 pJ'", "must not be negative"),
        ("edge-npu", "components.mac_array.mac_energy='1e400 pJ'", "must be finite"),
        ("edge-npu", "components.sram.holds=[everything]", "holds"),
        ("edge-npu", "components.dram.technology=ddr9", "must be one of"),
        ("edge-npu", "nosuchkey=1", "unknown key"),
        ("edge-npu", "components.mac_array.rowz=8", "did you mean"),
        ("edge-npu", "components.sram.capacity='1 B'", "tile steps"),
        ("edge-npu", "components.sram.unit=dram", "not a systolic_array"),
        ("edge-npu", "components.sram.share.input=1.5", "must be <= 1"),
        (
            "edge-npu",
            "components.sram.share.weight=0.6 --set components.sram.share.input=0.6",
            "add up to",
        ),
        ("edge-npu", "components.mac_array.accumulator_precision=int128", "unknown accumulator"),
        ("edge-npu", "components.vector.sfu=0", "must be > 0"),
        ("edge-npu", "components.vector.sfu=1.5", "must be an integer"),
        ("edge-npu", "'components.vector.pipes={max: int}'", "pipes.max"),
        (
            "a100-like",
            "'cores.components.alu.cycles_per_element={exp: 2}'",
            "cycles_per_element sets exp, which the 16 SFUs run",
        ),
        ("a100-like", "'cores.kernels.mma_shape=[16,0,16]'", "mma_shape.1: must be > 0"),
        ("a100-like", "'cores.kernels.mma_shape=[16,8]'", "mma_shape.2: missing"),
        ("a100-like", "cores.kernels.latency.dram=0", "latency.dram: must be > 0"),
        ("a100-like", "cores.kernels.latency.l2=fast", "latency.l2: must be an integer"),
        ("a100-like", "cores.kernels.threads=0", "threads: must be > 0"),
        ("a100-like", "cores.kernels.cta_pairs=maybe", "cta_pairs: must be true or false"),
        ("tpu-v1-like", "chip.memory_interface_on_die=maybe", "must be true or false"),
        ("tpu-v1-like", "'chip.temperature=450 K'", "must be <= 400"),
        ("tpu-v1-like", "'chip.temperature=85 C'", "expected a temperature"),
        ("tpu-v1-like", "chip.clock_gating=sometimes", "must be true or false"),
    ]
    for arch, setting, fragment in physics:
        out.append((fragment, f"run {arch} gemm-256 --set {setting}"))
    # inline workloads
    for dim in ("M", "N", "K"):
        for value, fragment in (
            ("0", "must be > 0"),
            ("-1", "must be > 0"),
            ("1.5", "must be an integer"),
            ("abc", "must be an integer"),
            ("[1", "expected a number or a word"),
            ("*x", "expected a number or a word"),
            ("!!python/object/apply:os.system", "expected a number or a word"),
            ("1e400", "must be an integer"),
            (".nan", "must be an integer"),
            ("true", "must be an integer"),
            ("{a: 1}", "expected a number or a word"),
            ("", "expected a number or a word"),
        ):
            others = ",".join(f"{d}=64" for d in "MNK" if d != dim)
            out.append((fragment, f"run edge-npu 'gemm:{dim}={value},{others}'"))
    inline = [
        ("given twice", "gemm:M=64,M=32,N=64,K=64"),
        ("given twice", "gemm:M=64,N=64,K=64,K=64"),
        ("expected KEY=VALUE", "gemm:M=64,N,K=64"),
        ("expected KEY=VALUE", "gemm:=64,N=64,K=64"),
        ("unknown kind", "conv9d:M=64"),
        ("unknown kind", ":M=64"),
        ("missing required key", "gemm:M=64,N=64"),
        ("unknown key", "gemm:M=64,N=64,K=64,Q=3"),
        ("unknown precision", "gemm:M=64,N=64,K=64,dtype=int7"),
        ("cannot run", "gemm:M=64,N=64,K=64,dtype=int16"),
        ("must be > 0", "softmax:rows=0,cols=8"),
        ("tile steps", "softmax:rows=1099511627776,cols=64"),
        ("tile steps", "gemm:M=4611686018427387904,N=64,K=64"),
        ("tile steps", "gemm:M=4611686018427387904,N=4611686018427387904,K=4611686018427387904"),
        ("above the limit", "gemm:M=65536,N=65536,K=65536"),
        ("above the limit", "attention:heads=32,q_len=131072,head_dim=128"),
        ("must divide", "attention:heads=5,kv_heads=2,q_len=8,head_dim=8"),
        ("must not exceed", "attention:heads=4,q_len=16,kv_len=8,head_dim=8"),
        ("must be one of", "attention:heads=4,q_len=16,head_dim=8,phase=train"),
        ("multi-core", "collective:pattern=all_reduce,elements=64"),
        ("must be one of", "collective:pattern=scatter,elements=64"),
        ("must be one of", "collective:pattern=all_reduce,elements=64,protocol=LL64"),
    ]
    for fragment, text in inline:
        out.append((fragment, f"run edge-npu '{text}'"))
    out.append(("tile steps", "run edge-npu 'gemm:M=65536,N=65536,K=65536' --no-numerics"))
    out.append(("host memory", "run edge-npu gemm-4096 --max-memory '1 MiB'"))
    out.append(("tile steps", "run edge-npu gemm-4096 --max-tiles 5"))
    out.append(  # a crossbar conv whose one output row does not fit the buffer
        (
            "one output row",
            "run isaac-like 'conv2d:C=64,H=56,W=56,K=64,R=3,S=3,padding=1' "
            "--set 'components.edram.capacity=2 KiB'",
        )
    )
    out.append(
        (
            "cores exceed",
            "run mesh-4x4 gemm-256 --set cores.count=90000 --set components.noc.dims=[300,300]",
        )
    )
    # mappings through --set
    mapping = [
        ("mesh-4x4", "mapping.partition.cores=1000", "cores asked"),
        ("mesh-4x4", "mapping.partition.cores=0", "must be > 0"),
        ("edge-npu", "mapping.dataflow=diagonal", "must be one of"),
        ("edge-npu", "mapping.accounting=magic", "must be one of"),
        ("edge-npu", "mapping.tile.M=0", "must be > 0"),
        ("edge-npu", "mapping.tile.M=-8", "must be > 0"),
        ("edge-npu", "mapping.tile.M=abc", "must be an integer"),
        ("edge-npu", "mapping.tile.Z=8", "Z"),
        ("edge-npu", "mapping.loop_order=[M,M,K]", "loop_order"),
        ("edge-npu", "mapping.loop_order=[M,N]", "loop_order"),
        ("edge-npu", "mapping.tile.M=100000", "tile"),
        ("edge-npu", "mapping.nonsense=1", "unknown key"),
        ("edge-npu", "mapping.levels.lb.tile.M=4", "no local SRAM"),
        ("edge-npu", "mapping.levels.lb.loop_order=[M,M,K]", "permutation"),
        ("edge-npu", "mapping.attention.softmax_overlap=sometimes", "must be true or false"),
        ("edge-npu", "mapping.spatial.rows=K --set mapping.spatial.cols=K", "two different dims"),
    ]
    for arch, setting, fragment in mapping:
        out.append((fragment, f"run {arch} gemm-256 --set {setting}"))
    # transformer workloads through --set and --layers
    transformer = [
        ("workload.layers=0", "must be > 0"),
        ("workload.hidden=-1", "must be > 0"),
        ("workload.heads=7", "heads"),
        ("workload.phase=train", "must be one of"),
        ("workload.dtype=int7", "unknown precision"),
        ("workload.context=.inf", "must be an integer"),
        ("workload.batch=1e400", "must be an integer"),
    ]
    for setting, fragment in transformer:
        out.append((fragment, f"run tpu-v4-like llama-2-7b-decode --set {setting}"))
    out.append(("--layers", "run tpu-v4-like llama-2-7b-decode --layers 0"))
    out.append(("--layers", "run tpu-v4-like llama-2-7b-decode --layers -2"))
    out.append(("--layers", "run tpu-v4-like llama-2-7b-decode --layers x"))
    out.append(("must be <= 1024", "run tpu-v4-like llama-2-7b-prefill --layers 100000"))
    out.append(("tile steps", "run tpu-v4-like llama-2-7b-prefill --max-tiles 100"))
    # HuggingFace configs
    hf = {
        "hf-null-arch.json": None,
        "hf-arch-string.json": "architectures",
        "hf-arch-numbers.json": "architectures",
        "hf-list.json": "expected a JSON object",
        "hf-missing.json": "missing required key",
        "hf-infinity.json": "not a JSON number",
        "hf-nan.json": "not a JSON number",
        "hf-string-size.json": "must be an integer",
        "hf-negative.json": "must be > 0",
        "hf-float-size.json": "must be an integer",
        "hf-heads-indivisible.json": "heads",
        "hf-dtype-list.json": None,
        "hf-truncated.json": "malformed JSON",
        "hf-deep.json": "nested too deeply",
    }
    for name, fragment in hf.items():
        if fragment is not None:
            out.append((fragment, f"run edge-npu {{files}}/{name}"))
    for name in ("binary", "latin1", "utf16", "nul"):
        out.append(("not UTF-8" if name != "nul" else "NUL", f"run edge-npu {{files}}/{name}.json"))
    # SNN files and arrays
    for name, fragment in {
        "not-a-zip": "not a readable .npz",
        "empty": "not a readable .npz",
        "object": "not a readable .npz",
        "strings": "not numbers",
        "infinite": "infinite or NaN",
        "nan": "infinite or NaN",
        "zip-no-arrays": "not a numpy array",
        "rate-above-1": "in [0, 1]",
        "rate-negative": "in [0, 1]",
    }.items():
        out.append((fragment, f"run loihi-like {{files}}/snn-{name}.yaml"))
    # command-line arguments
    args = [
        ("--seed", "run edge-npu gemm-256 --seed -1"),
        ("--seed", "run edge-npu gemm-256 --seed x"),
        ("--seed", "run edge-npu gemm-256 --seed 1e3"),
        ("--seed", "run edge-npu gemm-256 --seed 99999999999999999999"),
        ("--max-tiles", "run edge-npu gemm-256 --max-tiles 0"),
        ("--max-memory", "run edge-npu gemm-256 --max-memory lots"),
        ("--max-memory", "run edge-npu gemm-256 --max-memory '-1 GiB'"),
        ("--max-memory", "run edge-npu gemm-256 --max-memory '1e400 GiB'"),
        ("--trace", "run edge-npu gemm-256 --trace {tmp}"),
        ("--trace", "run edge-npu gemm-256 --trace {files}/good-arch.yaml/t.json"),
        ("--set", "run edge-npu gemm-256 --set clock"),
        ("--set", "run edge-npu gemm-256 --set .rows=3"),
        ("--set", "run edge-npu gemm-256 --set components..rows=3"),
        ("not a mapping", "run edge-npu gemm-256 --set name.x=3"),
        ("an override made it", "run edge-npu gemm-256 --set 'components.sramm.capacity=2 MiB'"),
        ("an override made it", "run h100-like gemm-256 --set cores.components.tcc.rows=8"),
        ("ops.7", "run edge-npu gemm-256 --set workload.ops.7.M=3"),
        ("no list item", "run edge-npu gemm-256 --set workload.ops.7=3"),
        ("invalid choice", "frobnicate"),
        ("required", "run"),
        ("required", "run edge-npu"),
        ("unrecognized", "run edge-npu gemm-256 --bogus"),
        ("no arch preset", "run no-such-arch gemm-256"),
        ("(that is a folder)", "run edge-npu {tmp}"),
        ("no workload preset", "run edge-npu no-such-workload"),
        ("no mapping preset", "run edge-npu gemm-256 -m no-such-mapping"),
        (".onnx model only", "run edge-npu gemm-256 --dtype int8"),
        # (hostile16: refused now by the clock's bound, before the run's length is counted)
        (
            "faster than any digital circuit",
            "run tpu-v1-like gemm-256 --no-numerics --set clock=1e30GHz",
        ),
        ("counts exactly", "run tpu-v1-like gemm-256 --set components.dram.bandwidth=1e-20GB/s"),
        (".onnx model only", "run edge-npu 'gemm:M=8,N=8,K=8' --dtype int3"),
        ("spiking network", "run loihi-like snn-digits-mlp -m weight-stationary"),
        ("neuro cores", "run loihi-like gemm-256"),
        ("no neuro_core", "run edge-npu snn-digits-mlp"),
        ("--cores", "scale mesh-4x4 gemm-256 --cores a,b"),
        ("--cores", "scale mesh-4x4 gemm-256 --cores 0"),
        ("--cores", "scale mesh-4x4 gemm-256 --cores 1,,2"),
        ("--cores", "scale mesh-4x4 gemm-256 --cores -4"),
        ("core(s)", "scale mesh-4x4 gemm-256 --cores 1,64"),
        ("--top", "map edge-npu gemm-256 --top 0"),
        ("--top", "map edge-npu gemm-256 --top -1"),
        ("--nests", "map edge-npu gemm-256 --nests -1"),
        ("--nests", "map edge-npu gemm-256 --nests many"),
        ("objective", "map edge-npu gemm-256 --objective speed"),
        ("-o", "map edge-npu gemm-256 -o {tmp}"),
        ("-o", "map edge-npu gemm-256 -o {files}/good-arch.yaml/m.yaml"),
        ("--jobs", "sweep adc-bits -o {tmp}/r.parquet -j -3"),
        ("--jobs", "sweep adc-bits -o {tmp}/r.parquet -j 0"),
        ("--limit", "sweep adc-bits -o {tmp}/r.parquet --limit -1"),
        ("--limit", "sweep adc-bits -o {tmp}/r.parquet --limit 0"),
        ("--max-points", "sweep adc-bits -o {tmp}/r.parquet --max-points 0"),
        ("--scheduler", "sweep adc-bits -o {tmp}/r.parquet --scheduler foo"),
        ("--scheduler", "sweep adc-bits -o {tmp}/r.parquet --scheduler 'tcp://'"),
        ("results must end in", "sweep adc-bits -o {tmp}/r.txt"),
        ("no sweep preset", "sweep no-such-sweep -o {tmp}/r.parquet"),
        ("clock", "sweep {files}/sweep-nan-range.yaml -o {tmp}/r.parquet -j 1"),
        ("points, above the limit", "sweep {files}/sweep-huge.yaml -o {tmp}/r.parquet --limit 1"),
        ("points, above the limit", "sweep {files}/sweep-huge-grid.yaml -o {tmp}/r.parquet"),
        ("high", "sweep {files}/sweep-inverted-range.yaml -o {tmp}/r.parquet"),
        ("sweep", "sweep {files}/sweep-no-axes.yaml -o {tmp}/r.parquet"),
        ("no arch preset", "sweep {files}/sweep-bad-base.yaml -o {tmp}/r.parquet"),
        ("objectives", "sweep {files}/sweep-bad-objective.yaml -o {tmp}/r.parquet"),
        ("no serving field", "sweep {files}/sweep-serving-field.yaml -o {tmp}/r.parquet"),
        (
            "constraints: all 2 points are excluded",
            "sweep {files}/sweep-excludes-all.yaml -o {tmp}/r.parquet",
        ),
        (
            "objectives.primary_unit: not a number",
            "sweep {files}/sweep-word-objective.yaml -o {tmp}/r.parquet -j 1",
        ),
        ("reads no workload", "sweep {files}/sweep-serving-workload.yaml -o {tmp}/r.parquet"),
        ("reads no mapping", "sweep {files}/sweep-serving-mapping.yaml -o {tmp}/r.parquet"),
        (
            "'mapping.tile.M': this sweep",
            "sweep {files}/sweep-serving-in-point.yaml -o {tmp}/r.csv",
        ),
        ("reads no serving", "sweep {files}/sweep-gemm-serving.yaml -o {tmp}/r.parquet"),
        ("all 2 points run failed", "sweep {files}/sweep-axis-typo.yaml -o {tmp}/r.csv -j 1"),
        ("is not a folder", "sweep array-vs-sram -o {files}/sweep-no-axes.yaml/r.csv"),
        ("chip.links", "serve tpu-v4-like llama-2-7b --pipeline-stages 2 --cost-cache {tmp}/c"),
        ("split evenly", "serve a100-like llama-2-7b --pipeline-stages 3 --cost-cache {tmp}/c"),
        ("--host-overhead", "serve tpu-v4-like llama-2-7b --host-overhead -1 --cost-cache {tmp}/c"),
        ("--rate", "serve tpu-v4-like llama-2-7b --rate nan --cost-cache {tmp}/c"),
        # a request stream's host memory is bounded before it is drawn (10^9 was a MemoryError)
        (
            "GiB of host memory",
            "serve a100-like llama-2-7b --requests 1000000000 --cost-cache {tmp}/c",
        ),
        (
            "GiB of host memory",
            "serve a100-like llama-2-7b --users 2 --requests 3000000 --cost-cache {tmp}/c",
        ),
        (
            "GiB of host memory",
            "serve a100-like llama-2-7b --trace {files}/trace-fraction.csv --requests 10000000000 "
            "--cost-cache {tmp}/c",
        ),
        # arrivals past 2^52 ns, where iterations would round away; requests past the context
        (
            "arrival_s: the last request arrives 1e+300 s",
            "serve a100-like llama-2-7b --trace {files}/trace-far-arrival.csv --cost-cache {tmp}/c",
        ),
        (
            "TIMESTAMP: the last request arrives 7.85e+08 s",
            "serve a100-like llama-2-7b --trace {files}/trace-azure-years.csv --cost-cache {tmp}/c",
        ),
        (
            "arrivals at rate 1e-09/s",
            "serve a100-like llama-2-7b --rate 1e-9 --requests 4 --cost-cache {tmp}/c",
        ),
        (
            "exceed hf-served-context-4's context of 4",
            "serve tpu-v4-like {files}/hf-served-context-4.json --requests 2 --cost-cache {tmp}/c",
        ),
        (
            "exceed llama-2-7b's context of 4096",
            "serve tpu-v4-like llama-2-7b --requests 2 --prompt-len 4000 --cost-cache {tmp}/c",
        ),
        # a transformer's head counts named by their keys (kv_heads was 'ops.4', a derived op)
        (
            "kv_heads: 3 must divide heads (32)",
            "run tpu-v4-like llama-2-7b-decode --set workload.kv_heads=3",
        ),
        (
            "heads: hidden (4096) must be",
            "run tpu-v4-like llama-2-7b-decode --set workload.heads=7",
        ),
        # a full disk while writing the mapping (was an internal OSError)
        ("-o /dev/full: cannot write", "map edge-npu gemm-256 -o /dev/full --no-progress"),
        # a cost cache under a file: refused before serving (was an internal NotADirectoryError)
        (
            "cannot keep the cost cache there",
            "serve tpu-v4-like llama-2-7b --requests 2 --cost-cache {files}/good-arch.yaml/c.json",
        ),
        # values a table would silently clamp, or a falsy cap silently not applied
        (
            "tech_node: 1 nm is outside the 5 .. 180 nm",
            "run tpu-v4-like gemm-256 --set 'tech_node=1 nm'",
        ),
        ("tech_node: 1000 nm is outside", "run tpu-v4-like gemm-256 --set 'tech_node=1000 nm'"),
        ("chip.tdp: must be > 0.0", "run a100-like gemm-256 --set 'chip.tdp=0 W'"),
        # `system` added to one chip's file by an override (named 'clock' as an unknown key)
        ("system: this file is one chip", "run tpu-v1-like gemm-256 --set system.count=2"),
        ("system: this file is one chip", "map edge-npu gemm-256 --set system.chip=a100-like"),
        ("--rate", "serve tpu-v4-like llama-2-7b --rate inf --cost-cache {tmp}/c"),
        ("--cv", "serve tpu-v4-like llama-2-7b --cv 0 --cost-cache {tmp}/c"),
        ("--slo-ttft", "serve tpu-v4-like llama-2-7b --slo-ttft -1 --cost-cache {tmp}/c"),
        ("--slo-tpot", "serve tpu-v4-like llama-2-7b --slo-tpot 50kg --cost-cache {tmp}/c"),
        ("--think", "serve tpu-v4-like llama-2-7b --users 2 --think -3 --cost-cache {tmp}/c"),
        ("--prompt-sd", "serve tpu-v4-like llama-2-7b --prompt-sd -1 --cost-cache {tmp}/c"),
        ("--bucket-ratio", "serve tpu-v4-like llama-2-7b --bucket-ratio 0.5 --cost-cache {tmp}/c"),
        ("--output-len", "serve tpu-v4-like llama-2-7b --output-len 0 --cost-cache {tmp}/c"),
        ("--rates 1,nan", "serve tpu-v4-like llama-2-7b --rates 1,nan --cost-cache {tmp}/c"),
        ("not a readable parquet", "plot {files}/bad-results.parquet --x a --y b -o {tmp}/p.html"),
        ("not a readable csv", "plot {files}/bad-results.csv --x a --y b -o {tmp}/p.html"),
        ("results must end in", "plot {files}/results.txt --x a --y b -o {tmp}/p.html"),
        ("no such results file", "plot {tmp}/none.parquet --x a --y b -o {tmp}/p.html"),
        ("-o", "plot {files}/bad-results.parquet --x a --y b -o {tmp}"),
        ("not a readable parquet", "sweep adc-bits -o {tmp}/bad-results.parquet --limit 1"),
        ("-o", "import-scalesim x.cfg y.csv -o {files}/good-arch.yaml"),
        ("-o", "import-scalesim x.cfg y.csv -o {files}/good-arch.yaml/sub"),
        ("-o", "import-sanafe x.yaml y.yaml -o {files}/good-arch.yaml"),
        ("--steps", "import-sanafe x.yaml y.yaml -o {tmp} --steps 0"),
        ("--timing", "import-sanafe x.yaml y.yaml -o {tmp} --timing cycle"),
        (
            "link_buffer_size: a count of messages",
            "import-sanafe {files}/sanafe-buffer-negative.yaml {files}/sanafe-tn-net.yaml -o {tmp}",
        ),
        (
            "link_buffer_size: a count of messages",
            "import-sanafe {files}/sanafe-buffer-word.yaml {files}/sanafe-tn-net.yaml -o {tmp}",
        ),
        (
            "soma model 'izh'",
            "import-sanafe {files}/sanafe-izhikevich.yaml {files}/sanafe-tn-net.yaml -o {tmp}",
        ),
        (
            "timing: must be one of",
            "run loihi-like snn-mnist-mlp --set cores.components.core.timing=cycle",
        ),
        (
            "link_buffer: must be >= 0",
            "run loihi-like snn-mnist-mlp --set cores.components.core.link_buffer=-1",
        ),
        ("link_buffer", "run loihi-like snn-mnist-mlp --set cores.components.core.link_buffer=two"),
        ("soma", "run loihi-like snn-mnist-mlp --set cores.components.core.soma.lif.model=izh"),
    ]
    for label, (_, fragment) in SNN_TRUENORTH_FIELDS.items():
        args.append((fragment, f"run loihi-like {{files}}/snn-{label}.yaml"))
    for label, (_, fragment) in SANAFE_TN_BAD.items():
        args.append(
            (
                fragment,
                f"import-sanafe {{files}}/sanafe-tn-arch.yaml {{files}}/sanafe-tn-{label}.yaml -o {{tmp}}",
            )
        )
    out += args
    for name in ("binary", "latin1", "utf16"):
        out.append(("UTF-8", f"run {{files}}/{name}.cfg {{files}}/topology.csv"))
        out.append(
            ("UTF-8", f"import-scalesim {{files}}/{name}.cfg {{files}}/topology.csv -o {{tmp}}")
        )
    return out + _beyond_run_cases()


SERVE = "serve tpu-v4-like llama-2-7b --requests 4 --prompt-len 16 --output-len 4 --cost-cache"


def _beyond_run_cases() -> list[tuple[str, str]]:
    """The commands besides run: calibrate, serve, map, plot, schema and the importers (each case
    an input that was a traceback, a silent no-op or a run without end)."""
    out = [
        ("not UTF-8", "calibrate a100-like {files}/utf16.yaml"),
        ("1 distinct workloads (3 rows", "calibrate a100-like {files}/calibration-repeats.csv"),
        ("launch 1e+30 s", "calibrate a100-like {files}/calibration-three.csv --launch 1e30s"),
        # a DRAM controller listed twice would take two shares of the bandwidth; true is no node
        (
            "memory_nodes: must list one or more distinct nodes",
            "run mesh-4x4 gemm-256 --set components.noc.memory_nodes.1=0",
        ),
        (
            "memory_nodes.1: must be an integer",
            "run mesh-4x4 gemm-256 --set components.noc.memory_nodes.1=true",
        ),
        ("memory_nodes: must list", "run mesh-4x4 gemm-256 --set 'components.noc.memory_nodes=[]'"),
        ("not UTF-8", "calibrate a100-like {files}/binary.yaml"),
        (
            "line 4: seconds: 1e+300 is not a kernel's time",
            "calibrate a100-like {files}/calibration-huge-time.csv",
        ),
        (
            "line 2: seconds: 9.99989e-321 is not a kernel's time",
            "calibrate a100-like {files}/calibration-tiny-time.csv",
        ),
        (
            "line 3: workload: snn-mnist-mlp is a spiking network",
            "calibrate a100-like {files}/calibration-snn.csv",
        ),
        (
            "calibration-unrunnable.csv: line 2: workload: gemm-99999999x99999999x99999999: at least",
            "calibrate a100-like {files}/calibration-unrunnable.csv",
        ),
        ("malformed JSON", f"{SERVE} {{files}}/cost-cache-malformed.json"),
        ("not an accsim cost cache", f"{SERVE} {{files}}/cost-cache-list.json"),
        ("shape: not an accsim cost cache entry", f"{SERVE} {{files}}/cost-cache-entry.json"),
        ("NaN is not a JSON number", f"{SERVE} {{files}}/cost-cache-nan.json"),
        ("is a folder", f"{SERVE} {{tmp}}"),
        ("not UTF-8", f"{SERVE} {{files}}/binary.yaml"),
        ("--seed", f"{SERVE} {{tmp}}/c --seed -1"),
        ("--seed", f"{SERVE} {{tmp}}/c --seed 4294967296"),
        ("--rates", f"{SERVE} {{tmp}}/c --rates ''"),
        ("gamma shape or scale", f"{SERVE} {{tmp}}/c --rate 1 --cv 1e-300"),
        ("gamma shape or scale", f"{SERVE} {{tmp}}/c --rate 1 --cv 1e200"),
        ("gamma shape or scale", f"{SERVE} {{tmp}}/c --rate 1e-300 --cv 1e10"),
        ("prompt_sd must be in [0, max_tokens", f"{SERVE} {{tmp}}/c --prompt-sd 1e300"),
        ("output_sd must be in [0, max_tokens", f"{SERVE} {{tmp}}/c --output-sd 5000"),
        (
            "replicas: 100,000,000 replicas for 4 requests",
            f"{SERVE} {{tmp}}/c --replicas 100000000",
        ),
        ("users: 100,000,000 users for 4 requests", f"{SERVE} {{tmp}}/c --users 100000000"),
        (
            "decode_replicas: 100,000,000 replicas for 4 requests",
            f"{SERVE} {{tmp}}/c --scheduler disaggregated --decode-replicas 100000000",
        ),
        ("reads no workload file", f"{SERVE} {{tmp}}/c --set workload.ops.0.M=4"),
        ("reads no mapping file", f"{SERVE} {{tmp}}/c --set mapping.dataflow=ws"),
        (
            "no requests (a header and no rows)",
            f"{SERVE} {{tmp}}/c --trace {{files}}/trace-header-only.csv",
        ),
        (
            "row 3: arrival_s: must be a finite time",
            f"{SERVE} {{tmp}}/c --trace {{files}}/trace-nan-arrival.csv",
        ),
        (
            "row 3: arrival_s: must be a finite time",
            f"{SERVE} {{tmp}}/c --trace {{files}}/trace-inf-arrival.csv",
        ),
        (
            "row 3: prompt_tokens: must be a positive integer",
            f"{SERVE} {{tmp}}/c --trace {{files}}/trace-fraction.csv",
        ),
        (
            "row 3: TIMESTAMP: must be a finite time",
            f"{SERVE} {{tmp}}/c --trace {{files}}/trace-azure-no-time.csv",
        ),
        ("components.dram: serving needs the DRAM's capacity", "serve edge-npu llama-2-7b"),
        ("components.dram: serving needs the DRAM's capacity", "serve eyeriss-like llama-2-7b"),
        ("components: serving keeps weights and KV-cache in DRAM", "serve loihi-like llama-2-7b"),
        ("a spiking network", "map edge-npu snn-mnist-mlp"),
        ("reads no mapping file", "map edge-npu gemm-256 --set mapping.dataflow=ws"),
        ("units: none", "map loihi-like gemm-256"),
        (
            "no column 'status'",
            "plot {files}/results-no-status.csv --x a --y b -o {tmp}/p.html --pareto",
        ),
        (
            "--maximize c: not an axis",
            "plot {files}/results-ok.csv --x a --y b -o {tmp}/p.html --maximize c --pareto",
        ),
        ("is a folder", "schema arch -o {tmp}"),
        ("is a file, not a folder", "schema arch -o {files}/good-arch.yaml/s.json"),
        ("is a folder", "import-onnx {files}/onnx-matmul.onnx -o {tmp}"),
        (
            "onnx-matmul.onnx: ops.0.dtype: unknown precision",
            "import-onnx {files}/onnx-matmul.onnx -o {tmp}/w.yaml --dtype int3",
        ),
        (
            "[architecture_presets] ArrayHeight: must be > 0",
            "import-scalesim {files}/scalesim-zero-array.cfg {files}/topology.csv -o {tmp}",
        ),
        (
            "[architecture_presets] IfmapSramSzkB: must be > 0",
            "import-scalesim {files}/scalesim-zero-sram.cfg {files}/topology.csv -o {tmp}",
        ),
        (
            "[architecture_presets] Bandwidth: must be > 0",
            "import-scalesim {files}/scalesim-nan-bandwidth.cfg {files}/topology.csv -o {tmp}",
        ),
        (
            "topology-duplicate.csv: ops: op names must be unique",
            "import-scalesim {files}/scalesim-good.cfg {files}/topology-duplicate.csv -o {tmp}",
        ),
        (
            "topology-zero.csv:2: g: sizes must be > 0",
            "run {files}/scalesim-good.cfg {files}/topology-zero.csv",
        ),
        (
            "1,000,000,000 channels, one GEMM each",
            "run {files}/scalesim-good.cfg {files}/topology-depthwise-huge.csv",
        ),
        ("runs with its topology (.csv) as the workload", "run {files}/scalesim-good.cfg gemm-256"),
        ("runs with its config (.cfg) as the arch", "run edge-npu {files}/topology.csv"),
        ("--max-memory: must be above 0", "run edge-npu gemm-256 --max-memory '0 GiB'"),
        ("/dev/zero: not a regular file", f"{SERVE} {{tmp}}/c --trace /dev/zero"),
        ("/dev/zero: not a regular file", f"{SERVE} /dev/zero"),
        (
            "/dev/zero: not a regular file",
            "import-scalesim /dev/zero {files}/topology.csv -o {tmp}",
        ),
        (
            "/dev/zero: not a regular file",
            "import-sanafe /dev/zero {files}/sanafe-tn-net.yaml -o {tmp}",
        ),
        (
            "partition.cores: 3 cores asked, edge-npu has 1",
            "run edge-npu gemm-256 --set mapping.partition.cores=3",
        ),
        (
            "partition.cores: 2 cores asked, isaac-like has 1",
            "run isaac-like gemm-256 --set mapping.partition.cores=2",
        ),
        ("--max-memory: must be above 0", "scale mesh-4x4 gemm-256 --cores 2 --max-memory '0 B'"),
    ]
    for name, fragment in (
        ("same-axis", "arch.clock: the same parameter as clock"),
        ("same-in-group", "clock: the same parameter as clock"),
        ("same-in-point", "arch.clock: the same parameter as clock"),
        ("empty-grid", "grid: no parameters to sweep"),
        ("empty-points", "points: no parameters to sweep"),
        ("no-parameters", "random: no parameters to sweep"),
        ("empty-path", "sweep-empty-path.yaml: parameter '': empty key"),
    ):
        out.append((fragment, f"sweep {{files}}/sweep-{name}.yaml -o {{tmp}}/r.csv -j 1"))
    for name, (_, _, key) in HF_SERVED_FILES.items():
        fragment = f"{name}: {key}"
        out.append((fragment, f"serve tpu-v4-like {{files}}/{name} --cost-cache {{tmp}}/c"))
    for name, (_, _, fragment) in SANAFE_NET_EDITS.items():
        arch = "{files}/sanafe-tn-arch.yaml"
        out.append((f"{name}: {fragment}", f"import-sanafe {arch} {{files}}/{name} -o {{tmp}}"))
    for command in ("import-onnx {f} -o {{tmp}}/w.yaml", "run edge-npu {f}"):
        for name, fragment in (
            ("onnx-asymmetric-pad", "conv_0: asymmetric padding"),
            ("onnx-conv1d", "conv_0: only 2-D convolutions"),
            ("onnx-softmax-axis0", "softmax_0: Softmax over axis 0"),
            ("onnx-no-shape", "node matmul_0: shape inference left ['x'] unknown"),
            ("onnx-writes-input", "Relu node 1 writes 'x'"),
            ("onnx-two-writers", "MatMul node 1 writes 'y'"),
        ):
            path = f"{{files}}/{name}.onnx"
            out.append((f"{name}.onnx: {fragment}", command.format(f=path)))
    for option in (
        "--max-batch",
        "--max-tokens",
        "--block-size",
        "--replicas",
        "--decode-replicas",
        "--pipeline-stages",
    ):
        out.append((f"argument {option}: must be >= 1", f"{SERVE} {{tmp}}/c {option} 0"))
    return out


EYERISS_TILE = "--set mapping.tile.M=128 --set mapping.tile.N=64 --set mapping.tile.K=64"
"""A gemm-256 tile on eyeriss-like: its fold nest is K 64, M 11 row folds, N 5 column folds."""

NAMED = [  # cases with ids of their own: (id, expected fragment, command line)
    (
        "run-mesh-4x4-gemm-256-cta",
        "cta needs a GPU-like arch",
        "run mesh-4x4 gemm-256 --set mapping.partition.gemm=cta",
    ),
    (
        "calibrate-bad-seconds",
        "seconds: not a number",
        "calibrate a100-like {files}/calibration-bad-seconds.csv",
    ),
    (
        "calibrate-no-header",
        "workload,seconds",
        "calibrate a100-like {files}/calibration-no-header.csv",
    ),
    (
        "calibrate-unquoted",
        "5 fields where the header names 2",
        "calibrate a100-like {files}/calibration-unquoted.csv",
    ),
    (
        "calibrate-short-row",
        "line 2: 1 field where the header names 2",
        "calibrate a100-like {files}/calibration-short-row.csv",
    ),
    ("calibrate-missing", "no such measurements file", "calibrate a100-like {tmp}/none.csv"),
    (
        "calibrate-not-gpu",
        "calibration needs a GPU-like arch",
        "calibrate tpu-v4-like {files}/calibration-three.csv",
    ),
    (
        "calibrate-bad-launch",
        "--launch: expected a time",
        "calibrate a100-like {files}/calibration-three.csv --launch fast",
    ),
    (
        "calibrate-bad-efficiency",
        "--efficiency: must be in (0, 1]",
        "calibrate a100-like {files}/calibration-three.csv --efficiency 1.5",
    ),
    (
        "run-system-no-such-chip-1",
        "no arch preset",
        "run {files}/system-no-such-chip.yaml gemm-256",
    ),
    ("run-system-groups-1", "must equal count", "run {files}/system-groups.yaml gemm-256"),
    (
        "run-system-int16-all-reduce-1",
        "which no collective carries; set its output_dtype",
        "run a100x4-nvlink 'gemm:M=64,N=64,K=256,dtype=int16,parallel=row'",
    ),
    ("run-system-link-kind-1", "system.links.kind", "run {files}/system-link-kind.yaml gemm-256"),
    ("run-system-torus-dims-1", "links.dims", "run {files}/system-torus-dims.yaml gemm-256"),
    ("run-system-bad-set-1", "bandwdth", "run {files}/system-bad-set.yaml gemm-256"),
    ("run-system-nested-1", "cannot itself be a system", "run {files}/system-nested.yaml gemm-256"),
    ("run-system-inline-set-1", "system.set", "run {files}/system-inline-set.yaml gemm-256"),
    (
        "run-system-inline-bad-1",
        "system.chip.components.mxu.rows",
        "run {files}/system-inline-bad.yaml gemm-256",
    ),
    ("run-system-count-zero-1", "system.count", "run {files}/system-count-zero.yaml gemm-256"),
    (
        "run-system-chip-system-key-1",
        "chips cannot themselves be systems",
        "run {files}/system-chip-system-key.yaml gemm-256",
    ),
    (
        "run-system-micro-batches-zero-1",
        "system.micro_batches",
        "run {files}/system-micro-batches-zero.yaml gemm-256",
    ),
    (
        "run-system-micro-batches-split-1",
        "system.micro_batches: micro_batches 3 does not divide",
        "run {files}/system-micro-batches-split.yaml gemm-256",
    ),
    ("run-system-torus-3d-dims-1", "links.dims", "run {files}/system-torus-3d-dims.yaml gemm-256"),
    (
        "run-system-torus-group-1",
        "must span the first dims",
        "run {files}/system-torus-group.yaml gemm-256",
    ),
    ("run-a100x4-nvlink-tp-split-1", "does not divide", "run a100x4-nvlink gemm:M=8,N=6,K=8"),
    ("run-a100x4-nvlink-resnet18-1", "no tensor-parallel split", "run a100x4-nvlink resnet18"),
    (
        "run-a100x4-nvlink-snn-1",
        "spiking networks run on one arch",
        "run a100x4-nvlink snn-digits-mlp",
    ),
    ("map-a100x4-nvlink-gemm-256-1", "system of chips", "map a100x4-nvlink gemm-256"),
    ("scale-a100x4-nvlink-gemm-256-1", "system of chips", "scale a100x4-nvlink gemm-256"),
    ("serve-a100x4-nvlink-llama-2-7b-1", "system of chips", "serve a100x4-nvlink llama-2-7b"),
    (
        "calibrate-a100x4-nvlink-1",
        "system of chips",
        "calibrate a100x4-nvlink benchmarks/data/calibration/a100_vector.csv",
    ),
    (
        "run-a100x4-nvlink-trace-1",
        "no trace is written",
        "run a100x4-nvlink gemm-256 --trace {tmp}/t.json",
    ),
    (
        "run-edge-npu-double-buffer-1",
        "double_buffer is for a local buffer",
        "run edge-npu gemm-256 --set components.sram.double_buffer=true",
    ),
    (
        "run-edge-npu-double-buffer-2",
        "must be true or false",
        "run edge-npu gemm-256 --set components.sram.double_buffer=maybe",
    ),
    # a register level's tiling in the mapping's levels (EYERISS_TILE: K 64 streamed, M 11 row
    # folds, N 5 column folds)
    (
        "run-eyeriss-like-register-tiling-1",
        "levels.psum_spad: tile",
        "run eyeriss-like gemm-256 --set 'mapping.levels.psum_spad.tile={M: 3}'",
    ),
    (
        "run-eyeriss-like-register-tiling-2",
        "no local SRAM 'nope'",
        "run eyeriss-like gemm-256 --set mapping.levels.nope.tile.M=4",
    ),
    (
        "run-eyeriss-like-register-tiling-3",
        "also set in registers",
        "run eyeriss-like gemm-256 --set mapping.registers.psum_spad=1 "
        "--set mapping.levels.psum_spad.tile.K=64",
    ),
    (
        "run-eyeriss-like-register-tiling-4",
        "levels.psum_spad.tile: psum_spad: holding 3 fold loops needs 220 B",
        f"run eyeriss-like gemm-256 {EYERISS_TILE} "
        "--set 'mapping.levels.psum_spad.tile={M: 11, N: 5, K: 64}'",
    ),
    (
        "run-eyeriss-like-register-tiling-5",
        "is not a loop nest of this tile",
        f"run eyeriss-like gemm-256 {EYERISS_TILE} "
        "--set 'mapping.levels.psum_spad.tile={M: 11, K: 64}' "
        "--set mapping.levels.psum_spad.loop_order=[K,M,N]",
    ),
    # a mapping's explicit inner nest (mappings/zigzag-tpu-like-gemm512.yaml: tile M512 N256 K512)
    (
        "run-zigzag-tpu-like-nest-1",
        "a whole iteration past the K = 480 of gemm",
        "run zigzag-tpu-like gemm:M=512,N=512,K=480,dtype=int8 -m zigzag-tpu-like-gemm512",
    ),
    (
        "run-zigzag-tpu-like-nest-2",
        "is not the nest's tile",
        "run zigzag-tpu-like gemm:M=512,N=512,K=512,dtype=int8 -m zigzag-tpu-like-gemm512 "
        "--set mapping.tile.M=256",
    ),
    (
        "run-zigzag-tpu-like-nest-3",
        "not per-level tilings",
        "run zigzag-tpu-like gemm:M=512,N=512,K=512,dtype=int8 -m zigzag-tpu-like-gemm512 "
        "--set mapping.levels.output_regs.tile.K=2",
    ),
    (
        "run-zigzag-tpu-like-nest-4",
        "nest.0.0: must be one of",
        "run zigzag-tpu-like gemm:M=512,N=512,K=512,dtype=int8 -m zigzag-tpu-like-gemm512 "
        "--set 'mapping.nest=[[Q,2]]'",
    ),
    (
        "run-zigzag-tpu-like-nest-5",
        "nest: weight_regs: the nest's weight tile needs 200 B per instance",
        "run zigzag-tpu-like gemm:M=8,N=6400,K=16,dtype=int8 --set mapping.double_buffering=false "
        "--set 'mapping.nest=[[N,200],[M,8]]'",
    ),
    (
        "run-zigzag-tpu-like-nest-6",
        "registers.weight_regs: 0 loops, but weight_regs is the level the DMA fills",
        "run zigzag-tpu-like gemm:M=512,N=512,K=512,dtype=int8 -m zigzag-tpu-like-gemm512 "
        "--set mapping.registers.weight_regs=0",
    ),
    (
        "run-mesh-4x4-nest-partition-1",
        "a whole iteration past the M = 4 of each core's part of gemm (split across cores)",
        "run mesh-4x4 gemm:M=64,N=64,K=64,dtype=int8 --set mapping.partition.gemm=M "
        "--set mapping.double_buffering=false --set 'mapping.nest=[[M,64]]'",
    ),
    (  # an edge tile along M: the nest's last iteration may reach past M, not a whole one
        "run-zigzag-tpu-like-nest-7",
        "cover 96, a whole iteration past the M = 64 of gemm",
        "run zigzag-tpu-like gemm:M=64,N=64,K=64,dtype=int8 --set mapping.double_buffering=false "
        "--set 'mapping.nest=[[M,32],[M,3]]'",
    ),
    (
        "run-eyeriss-like-register-tiling-6",
        "double_buffer is for a local SRAM",
        "run eyeriss-like gemm-256 --set mapping.levels.psum_spad.double_buffer=true",
    ),
    (
        "run-eyeriss-like-register-tiling-7",
        "double_buffer",
        "run eyeriss-like gemm-256 --set mapping.levels.psum_spad.double_buffer=maybe",
    ),
    (
        "run-edge-npu-gemm-256-port-kind-1",
        "must be one of",
        "run edge-npu gemm-256 --set components.sram.port_kind=dual",
    ),
    (
        "run-a100-like-softmax-cta-threads",
        "kernels.threads: 32 threads per core cannot hold one 256-thread CTA",
        "run a100-like softmax:rows=64,cols=4096,dtype=fp16 --set cores.kernels.threads=32",
    ),
    # an option given as empty text read as not given (the run went on without it)
    ("run-empty-trace", "argument --trace: empty", "run edge-npu gemm-256 --trace ''"),
    (
        "run-empty-max-memory",
        "argument --max-memory: empty",
        "run edge-npu gemm-256 --max-memory ''",
    ),
    ("run-empty-arch", "argument arch: empty", "run '' gemm-256"),
    ("run-empty-mapping", "argument -m/--mapping: empty", "run edge-npu gemm-256 -m ' '"),
    ("map-empty-output", "argument -o/--output: empty", "map edge-npu gemm-256 -o ''"),
    ("schema-empty-output", "argument -o/--output: empty", "schema arch -o ''"),
    ("sweep-empty-output", "argument -o/--output: empty", "sweep array-vs-sram -o ''"),
    (
        "serve-empty-cost-cache",
        "argument --cost-cache: empty",
        "serve tpu-v4-like llama-2-7b --cost-cache ''",
    ),
    ("serve-empty-trace", "argument --trace: empty", "serve tpu-v4-like llama-2-7b --trace ''"),
    # serve options the run does not read (each silently did nothing)
    (
        "serve-think-without-users",
        "--think: read only by a closed loop (--users)",
        f"{SERVE} {{tmp}}/c --rate 2 --think '1 s'",
    ),
    (
        "serve-cv-with-rates",
        "--cv: read only by --rate arrivals",
        f"{SERVE} {{tmp}}/c --rates 1,2 --cv 3",
    ),
    (
        "serve-cv-with-users",
        "--cv: read only by --rate arrivals",
        f"{SERVE} {{tmp}}/c --users 2 --cv 3",
    ),
    (
        "serve-decode-replicas-continuous",
        "--decode-replicas: read only by --scheduler disaggregated",
        f"{SERVE} {{tmp}}/c --decode-replicas 4",
    ),
    (
        "serve-lengths-with-trace",
        "--prompt-sd: read only by generated requests (the trace gives lengths)",
        "serve tpu-v4-like llama-2-7b --trace {files}/trace-good.csv --prompt-sd 0.5 "
        "--cost-cache {tmp}/c",
    ),
    # an output that is the command's own input (import-onnx m.onnx -o m.onnx replaced the model)
    *[
        (
            f"{command.split()[0]}-output-is-its-input",
            "bad-results.parquet: that is the input",
            command,
        )
        for command in (
            "import-onnx {tmp}/bad-results.parquet -o {tmp}/bad-results.parquet",
            "run {tmp}/bad-results.parquet gemm-256 --trace {tmp}/bad-results.parquet",
            "map edge-npu {tmp}/bad-results.parquet -o {tmp}/bad-results.parquet",
            "plot {tmp}/bad-results.parquet --x a --y b -o {tmp}/bad-results.parquet",
        )
    ],
    # sweep constraints that compare no value of a point; seeds numpy cannot take
    (
        "sweep-constraint-metric",
        "constraints.0: neither 'cycles' nor 5000 is a path",
        "sweep {files}/sweep-constraint-metric.yaml -o {tmp}/r.csv -j 1",
    ),
    (
        "sweep-constraint-status",
        "constraints.0: neither 'status' nor 'ok' is a path",
        "sweep {files}/sweep-constraint-status.yaml -o {tmp}/r.csv -j 1",
    ),
    (
        "sweep-random-seed-negative",
        "random.seed: must be >= 0",
        "sweep {files}/sweep-random-seed-negative.yaml -o {tmp}/r.csv -j 1",
    ),
    (
        "sweep-seed-huge",
        "seed: must be < 4294967296",
        "sweep {files}/sweep-seed-huge.yaml -o {tmp}/r.csv -j 1",
    ),
    # plots of results with no point run ok (an empty figure), a front over a column of words
    (
        "plot-results-header-only",
        "none of its 0 points ran ok",
        "plot {files}/results-header-only.csv --x a --y b -o {tmp}/p.html",
    ),
    (
        "plot-results-all-failed",
        "none of its 2 points ran ok",
        "plot {files}/results-all-failed.csv --x a --y b -o {tmp}/p.html",
    ),
    (
        "plot-pareto-words",
        "--pareto: column 'status' holds words ('ok')",
        "plot {files}/results-ok.csv --x status --y b --pareto -o {tmp}/p.html",
    ),
    # YAML 1.1's sexagesimal and leading-zero octal numbers (1:30 was read as 90, 010 as 8)
    (
        "run-edge-npu-rows-octal",
        "components.mac_array.rows: must be an integer, got '010'",
        "run edge-npu gemm-256 --set components.mac_array.rows=010",
    ),
    (
        "run-edge-npu-rows-sexagesimal",
        "components.mac_array.rows: must be an integer, got '1:30'",
        "run edge-npu gemm-256 --set components.mac_array.rows=1:30",
    ),
    (
        "run-inline-octal",
        "ops.0.K: must be an integer, got '0100'",
        "run edge-npu gemm:M=64,N=64,K=0100",
    ),
    (
        "sweep-grid-sexagesimal",
        "must be an integer, got '1:4'",
        "sweep {files}/sweep-grid-sexagesimal.yaml -o {tmp}/r.csv -j 1",
    ),
    # ONNX element types no accsim precision holds (imported as fp32, silently)
    (
        "import-onnx-int64-matmul",
        "onnx-int64-matmul.onnx: matmul_0: its input 'x' is ONNX INT64",
        "import-onnx {files}/onnx-int64-matmul.onnx -o {tmp}/w.yaml",
    ),
    (
        "run-onnx-double-relu",
        "onnx-double-relu.onnx: relu_0: its input 'x' is ONNX DOUBLE",
        "run edge-npu {files}/onnx-double-relu.onnx",
    ),
    # a spiking network's seed numpy cannot take (an internal ValueError)
    (
        "run-loihi-like-snn-seed-negative",
        "seed: must be >= 0, got -1",
        "run loihi-like snn-digits-mlp --set workload.seed=-1",
    ),
    # YAML keys that are no names (an internal TypeError: unhashable type)
    *[
        (f"run-{Path(name).stem}", fragment, f"run {{files}}/{name} gemm-256")
        for name, (_, fragment) in KEY_FILES.items()
    ],
    # integer attention: its numerics are float ones (an internal ValueError from numpy)
    (
        "run-edge-npu-attention-int8-numerics",
        "the numerics of an attention in int8 are not modelled",
        "run edge-npu attention:heads=4,head_dim=64,q_len=16,kv_len=16,dtype=int8",
    ),
    (
        "run-mesh-4x4-attention-int16-numerics",
        "the numerics of an attention in int16 are not modelled",
        "run mesh-4x4 attention:heads=4,head_dim=64,q_len=16,kv_len=16,dtype=int16",
    ),
    (  # passes the spec guard (about 9x under); the engine's work is counted once compiled
        "run-mesh-4x4-gemm-65536-engine-work",
        "4,194,304 tile steps to simulate (most in gemm), above the limit of 1,000,000",
        "run mesh-4x4 gemm:M=65536,N=65536,K=65536 --no-numerics",
    ),
    (
        "run-mesh-4x4-gemm-65536-numerics-memory",
        "needs about 144.9 GiB of host memory (most in gemm)",
        "run mesh-4x4 gemm:M=65536,N=65536,K=65536",
    ),
    (
        "run-scalesim-huge-ifmap-engine-work",
        "781,250,016 tile steps to simulate (most in g)",
        "run {files}/scalesim-huge-ifmap.cfg {files}/topology-gemm-huge.csv --no-numerics",
    ),
    # hostile15: an elementwise row wider than the SRAM (ran minutes, then a MemoryError)
    (
        "run-edge-npu-relu-row-wider-than-sram",
        "at least 1,907,349 tile steps (most in vector)",
        "run edge-npu relu:rows=1,cols=999999999999 --no-numerics",
    ),
    # plain numbers given a bool or text (efficiency: true was 1.0)
    (
        "run-b200-like-efficiency-bool",
        "components.hbm.efficiency: must be a number, got True",
        "run b200-like gemm-256 --set components.hbm.efficiency=true",
    ),
    (
        "run-h100-like-write-cost-text",
        "components.hbm.write_cost: must be a number, got '2'",
        "run h100-like gemm-256 --set components.hbm.write_cost=\"'2'\"",
    ),
    (
        "sweep-random-bool-low",
        "random.parameters.clock.low: must be a number, got True",
        "sweep {files}/sweep-random-bool-low.yaml -o {tmp}/r.csv -j 1",
    ),
    # a storage level holding no role (built and priced, never used)
    (
        "run-a100-like-frag-holds-nothing",
        "cores.components.frag.holds: must list at least one entry",
        "run a100-like gemm-256 --set cores.components.frag.holds=[]",
    ),
    # calibration tables: a column read by nothing, a quote never closed, nothing left to fit
    (
        "calibrate-extra-column",
        "line 1: the header must name the columns workload,seconds, and no other",
        "calibrate a100-like {files}/calibration-extra-column.csv",
    ),
    (
        "calibrate-open-quote",
        "line 5: a double quote is open at the end of the file",
        "calibrate a100-like {files}/calibration-open-quote.csv",
    ),
    (
        "calibrate-launch-and-efficiency",
        "--launch, --efficiency: with both fixed nothing is left to fit",
        "calibrate a100-like {files}/calibration-three.csv --launch '1 us' --efficiency 0.8",
    ),
    # serving traces: true/false read as 1 and 0, a column given twice (the first was read)
    (
        "serve-trace-bool-arrival",
        "arrival_s: holds true/false, not numbers",
        f"{SERVE} {{tmp}}/c --trace {{files}}/trace-bool-arrival.csv",
    ),
    (
        "serve-trace-column-twice",
        "row 1: column arrival_s given twice",
        f"{SERVE} {{tmp}}/c --trace {{files}}/trace-column-twice.csv",
    ),
    # a SCALE-Sim topology without its header line (its first layer was skipped, silently)
    (
        "run-scalesim-topology-no-header",
        "topology-no-header.csv:1: g1 is a layer, not the header line",
        "run {files}/scalesim-good.cfg {files}/topology-no-header.csv",
    ),
    # ONNX pools that are not 2-D (an IndexError; a 3-D one pooled two of its dims), a batched
    # MatMul of 300,000 GEMMs (minutes making them)
    (
        "import-onnx-maxpool-1d",
        "maxpool_0: only 2-D pooling is supported (input [1, 4, 10])",
        "import-onnx {files}/onnx-maxpool-1d.onnx -o {tmp}/w.yaml",
    ),
    (
        "run-onnx-global-pool-3d",
        "globalaveragepool_0: only 2-D pooling is supported",
        "run edge-npu {files}/onnx-global-pool-3d.onnx",
    ),
    (
        "import-onnx-batched-300k",
        "matmul_0: a batch of 300,000 GEMMs makes more than 200,000 ops",
        "import-onnx {files}/onnx-batched-300k.onnx -o {tmp}/w.yaml",
    ),
    # options that contradict (the last or the dedicated one won, silently); scaling a spiking
    # network (an internal KeyError)
    (
        "run-numerics-and-no-numerics",
        "argument --no-numerics: not allowed with argument --numerics",
        "run edge-npu gemm-256 --numerics full --no-numerics",
    ),
    (
        "run-layers-and-set-layers",
        "--layers, --set workload.layers: two layer counts; give one",
        "run datacenter-hbm llama-2-7b-decode --layers 2 --set workload.layers=3",
    ),
    (
        "scale-loihi-like-snn",
        "snn-digits-mlp: a spiking network; strong scaling runs ops over a chip's cores",
        "scale loihi-like snn-digits-mlp",
    ),
    # a transformer's rotary fields with rope: none (dropped, silently)
    (
        "run-transformer-rotary-dim-without-rope",
        "rotary_dim: read only with rope: half or interleaved; rope is none",
        "run datacenter-hbm llama-2-7b-decode --set workload.rotary_dim=64",
    ),
    # counts past int64 (an OverflowError: int too large to convert to float)
    (
        "run-edge-npu-rows-past-2-63",
        "components.mac_array.rows: must be <= 9223372036854775807, got 1" + "0" * 40,
        "run edge-npu gemm-256 --set components.mac_array.rows=1" + "0" * 40,
    ),
    (
        "run-gemm-m-past-2-63",
        "ops.0.M: must be <= 9223372036854775807",
        "run edge-npu gemm-256 --set workload.ops.0.M=1" + "0" * 400,
    ),
    (
        "serve-requests-past-2-63",
        "argument --requests: must be below 2**63, got 401 digits",
        f"{SERVE} {{tmp}}/c --requests 1" + "0" * 400,
    ),
    # a path no file system holds (an OSError: File name too long)
    (
        "run-inline-workload-name-too-long",
        "ops.0.M: must be <= 9223372036854775807",
        "run edge-npu gemm:M=1" + "0" * 300 + ",N=4,K=4",
    ),
    (
        "run-trace-name-too-long",
        ": File name too long",
        "run edge-npu gemm-256 --trace {tmp}/" + "x" * 300 + ".json",
    ),
    (
        "calibrate-measurements-name-too-long",
        ": File name too long",
        "calibrate a100-like {tmp}/" + "x" * 300 + ".csv",
    ),
    # 10^11 cores on a 4-node NoC: their node ids listed before the check (a MemoryError)
    (
        "run-tpu-v5e-like-cores-past-the-noc",
        "99999999995 nodes (4, 5, 6, 7, 8, 9, 10, 11, ...) are outside the 4-node mesh",
        "run tpu-v5e-like gemm-256 --set cores.count=99999999999",
    ),
    # runs the engine-work guard does not count: a spiking network's time steps (an internal
    # MemoryError), its numerics check's batch; a serving cost grid far past what it serves
    (
        "run-loihi-like-snn-time-steps",
        "time_steps: 100,000,000 time steps to simulate, above the limit of 1,000,000",
        "run loihi-like snn-digits-mlp --set workload.time_steps=100000000",
    ),
    (
        "run-loihi-like-snn-time-steps-memory",
        "time_steps: 100,000,000 time steps need about 59.6 GiB of host memory",
        "run loihi-like snn-digits-mlp --set workload.time_steps=100000000 --max-tiles 1000000000",
    ),
    (
        "run-loihi-like-snn-numerics-memory",
        "time_steps: 300,000 time steps need about 21.0 GiB of host memory, above the limit of "
        "16.0 GiB; run with --no-numerics",
        "run loihi-like snn-digits-mlp --set workload.time_steps=300000",
    ),
    (
        "serve-bucket-ratio-far",
        "--bucket-ratio 1e+06: the cost grid's top knot is 1,000,000 tokens, above the limit",
        "serve tpu-v4-like llama-2-7b --bucket-ratio 1e6 --cost-cache {tmp}/c",
    ),
    # review15b: a bad item of a list that may also be one number names its index (it said the
    # whole list "must be a number")
    (
        "run-loihi-like-snn-rates-item-nan",
        "groups.0.rates.1: must be a finite number, got nan",
        "run loihi-like {files}/snn-nan.yaml --set 'workload.groups.0.rates=[0.5, .nan]'",
    ),
    (
        "run-loihi-like-snn-threshold-item-text",
        "groups.1.neuron.threshold.1: must be a number, got 'x'",
        "run loihi-like {files}/snn-nan.yaml --set 'workload.groups.1.neuron={threshold: [1, x]}'",
    ),
    # hostile16: switches that took 1, 0 and 'yes'; values given twice (they ran once, or twice
    # when written two ways); impossible chips; user text printed as markup; deep values
    (
        "run-mapping-double-buffering-one",
        "double_buffering: must be true or false, got 1",
        "run edge-npu gemm-256 --set mapping.double_buffering=1",
    ),
    (
        "run-mapping-double-buffering-yes-text",
        "double_buffering: must be true or false, got 'yes'",
        "run edge-npu gemm-256 --set \"mapping.double_buffering='yes'\"",
    ),
    (
        "sweep-numerics-one",
        "numerics: must be true or false, got 1",
        "sweep {files}/sweep-numerics-one.yaml -o {tmp}/r.csv -j 1",
    ),
    (
        "sweep-grid-repeat",
        "grid.clock: items 0 and 2 are one value ('1 GHz', '1000 MHz')",
        "sweep {files}/sweep-grid-repeat.yaml -o {tmp}/r.csv -j 1",
    ),
    (
        "sweep-points-repeat",
        "points: items 0 and 1 are one value",
        "sweep {files}/sweep-points-repeat.yaml -o {tmp}/r.csv -j 1",
    ),
    (
        "sweep-empty-axis",
        "sweep-empty-axis.yaml:4: grid.clock: no values",
        "sweep {files}/sweep-empty-axis.yaml -o {tmp}/r.csv -j 1",
    ),
    (
        "sweep-constraint-kinds",
        "constraints.0: compares a count (64) with a frequency ('1 GHz')",
        "sweep {files}/sweep-constraint-kinds.yaml -o {tmp}/r.csv -j 1",
    ),
    ("scale-cores-repeat", "'1,2,1': 1 given twice", "scale mesh-4x4 gemm-256 --cores 1,2,1"),
    ("serve-rates-repeat", "--rates 1,2,1.0: 1 given twice", f"{SERVE} {{tmp}}/c --rates 1,2,1.0"),
    (
        "serve-requests-past-trace",
        "trace-good.csv holds 2 requests; ask for at most that many",
        "serve tpu-v4-like llama-2-7b --cost-cache {tmp}/c --trace {files}/trace-good.csv --requests 3",
    ),
    (
        "run-set-twice",
        "--set arch.clock=2 GHz: sets the value --set clock=1 GHz sets",
        "run edge-npu gemm-256 --set 'clock=1 GHz' --set 'arch.clock=2 GHz'",
    ),
    (
        "run-loihi-like-snn-rates-nested",
        "groups.0.rates.0: must be a number, got [1]",
        "run loihi-like {files}/snn-nan.yaml --set 'workload.groups.0.rates=[[1]]'",
    ),
    (
        "run-edge-npu-pes-past-a-wafer",
        "components.mac_array: 1,106,560 mm² of silicon",
        "run edge-npu gemm-256 --set components.mac_array.rows=1000000 "
        "--set components.mac_array.cols=1000",
    ),
    (
        "run-edge-npu-lanes-past-a-wafer",
        "more than a 300 mm wafer holds (70,686 mm²",
        "run edge-npu gemm-256 --set components.vector.lanes=1000000000000",
    ),
    (
        "run-edge-npu-clock-past-1-thz",
        "clock: 1001 GHz is faster than any digital circuit has run",
        "run edge-npu gemm-256 --set 'clock=1001 GHz'",
    ),
    (
        "run-a100-like-no-kernel-tiles",
        "cores.kernels.tiles: must list at least one entry",
        "run a100-like gemm-256 --set 'cores.kernels.tiles=[]'",
    ),
    (
        "run-isaac-like-no-precision",
        "components.xbar.input_precision: must list at least one entry",
        "run isaac-like gemm-256 --set 'components.xbar.input_precision=[]'",
    ),
    (
        "run-edge-npu-dataflow-twice",
        "components.mac_array.dataflows: lists 'os' twice",
        "run edge-npu gemm-256 --set 'components.mac_array.dataflows=[os, os]'",
    ),
    (
        "run-edge-npu-vector-runs-nothing",
        "components.vector.runs: must list at least one entry",
        "run edge-npu gemm-256 --set 'components.vector.runs=[]'",
    ),
    (
        "run-arch-name-with-emoji-code",
        "a:smile:.yaml: no such arch file",
        "run {tmp}/a:smile:.yaml gemm-256",
    ),
    (
        "run-arch-name-with-markup",
        "[bold]a.yaml: no such arch file",
        "run '{tmp}/[bold]a.yaml' gemm-256",
    ),
    (
        "import-scalesim-misspelt-key",
        "Bandwith: not a key the import reads; did you mean Bandwidth",
        "import-scalesim {files}/scalesim-misspelt.cfg {files}/topology.csv -o {tmp}/s",
    ),
    (
        "import-scalesim-key-elsewhere",
        "[run_presets] Bandwidth: not a key the import reads",
        "import-scalesim {files}/scalesim-key-elsewhere.cfg {files}/topology.csv -o {tmp}/s",
    ),
    (
        "run-hf-relu",
        "hidden_act: 'relu'; accsim builds GELU",
        "run tpu-v4-like {files}/hf-relu.json",
    ),
    (
        "run-hf-head-dim",
        "hf-head-dim.json: head_dim: must be > 0, got 0",
        "run tpu-v4-like {files}/hf-head-dim.json",
    ),
    (
        "run-hf-experts",
        "num_local_experts: 8 experts: a mixture-of-experts MLP",
        "run tpu-v4-like {files}/hf-experts.json",
    ),
    (
        "run-hf-float64",
        "torch_dtype: 'float64'; accsim holds bfloat16",
        "run tpu-v4-like {files}/hf-float64.json",
    ),
    (
        "run-hf-key-twice",
        "hf-key-twice.json: hidden_size: duplicate key",
        "run tpu-v4-like {files}/hf-key-twice.json",
    ),
    (
        "run-set-deep",
        "--set name:1: malformed YAML: nested too deeply (more than 100 levels)",
        "run edge-npu gemm-256 --set name=" + "[" * 1000 + "]" * 1000,
    ),
    (
        "run-inline-deep",
        "inline workload: M:1: malformed YAML: nested too deeply (more than 100 levels)",
        "run edge-npu gemm:M=" + "[" * 1000 + "]" * 1000,
    ),
    # guard16: steps no coalescing can skip (a convolution's stream takes the steps its jumps
    # skip; ops too short to be watched) ran under the step budget up to the limit as events
    # (the convolution for minutes) before the refusal: now refused before the engine starts;
    # a sweep's far bucket ratio named without its key path; serve's own --max-tiles
    (
        "run-edge-npu-conv-steps-all-taken",
        "conv: 2,097,152 tile steps to simulate (most in c1), above the limit of 1,000,000",
        "run edge-npu {files}/conv-4096.yaml --set 'components.sram.capacity=64 KiB' --no-numerics",
    ),
    (
        "run-edge-npu-short-ops-together",
        "relus: 6,300 tile steps to simulate (most in r0), above the limit of 6,000",
        "run edge-npu {files}/relus-100.yaml --set 'components.sram.capacity=64 KiB' "
        "--no-numerics --max-tiles 6000",
    ),
    (
        "sweep-serving-base-bucket-ratio-far",
        ":6: base.serving.bucket_ratio: 1e+06: the cost grid's top knot is 1,000,000 tokens",
        "sweep {files}/sweep-serving-far-base.yaml -o {tmp}/r.csv",
    ),
    (
        "sweep-serving-grid-bucket-ratio-far",
        "all 1 points run failed; the first: point 0: serving: bucket_ratio: 1e+06: the cost grid",
        "sweep {files}/sweep-serving-far-grid.yaml -o {tmp}/r.csv",
    ),
    (
        "serve-max-tiles",
        "above the limit of 10; shrink the op or the layers, give the arch more SRAM, or raise the "
        "limit with --max-tiles",
        "serve tpu-v4-like llama-2-7b --max-tiles 10 --cost-cache {tmp}/c",
    ),
    # nits16: error-policy fixes
    (
        "run-max-memory-in-a-unit-that-shows-it",
        "MiB of host memory (most in gemm), above the limit of 1.0 KiB",
        "run edge-npu gemm-256 --max-memory '1 KiB'",
    ),
    (
        "run-wafer-bound-names-the-set",
        "edge-npu.yaml (from --set components.mac_array.rows): components.mac_array: ",
        "run edge-npu gemm-256 --set components.mac_array.rows=100000000",
    ),
    (
        "run-clock-bound-names-the-set",
        "edge-npu.yaml (from --set clock): clock: 1001 GHz is faster",
        "run edge-npu gemm-256 --set 'clock=1001 GHz'",
    ),
    (
        "run-consumer-narrower-than-its-producer",
        "relu-narrower-than-conv.yaml:4: ops.1.inputs: r1 reads 64x5 (320 elements), but conv1 "
        "writes 1x64x112x112 (802,816 elements)",
        "run edge-npu {files}/relu-narrower-than-conv.yaml",
    ),
]


# ----- hfcfg16: HuggingFace configs whose layer accsim would build wrong ------------------------
HFCFG16_FILES = {
    f"hf-{label}.json": '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, '
    f'"num_hidden_layers": 2, "vocab_size": 100, {extra}}}'
    for label, extra in {
        "parallel-unknown": '"model_type": "mpt", "use_parallel_residual": true',
        "two-norm-eps": '"rms_norm_eps": 1e-6, "layer_norm_eps": 1e-5',
        "gemma-relu": '"model_type": "gemma", "hidden_activation": "relu"',
        "gemma3": '"model_type": "gemma3_text", "hidden_activation": "gelu_pytorch_tanh"',
        "gptj-relu": '"model_type": "gptj", "activation_function": "relu"',
    }.items()
}
NAMED += [
    (
        "run-hf-parallel-unknown",
        "hf-parallel-unknown.json: use_parallel_residual: True: a parallel block of model_type "
        "'mpt'",
        "run tpu-v4-like {files}/hf-parallel-unknown.json",
    ),
    (
        "run-hf-two-norm-eps",
        "hf-two-norm-eps.json: rms_norm_eps: given with a LayerNorm epsilon",
        "run tpu-v4-like {files}/hf-two-norm-eps.json",
    ),
    (
        "run-hf-gemma-relu",
        "hf-gemma-relu.json: hidden_activation: 'relu'; accsim builds GELU",
        "run tpu-v4-like {files}/hf-gemma-relu.json",
    ),
    (
        "run-hf-gemma3",
        "hf-gemma3.json: model_type: 'gemma3_text': its layers have norms after attention and "
        "the MLP as well as before",
        "run tpu-v4-like {files}/hf-gemma3.json",
    ),
    (
        "serve-hf-gptj-relu",
        "hf-gptj-relu.json: activation_function: 'relu'; accsim builds GELU",
        "serve tpu-v4-like {files}/hf-gptj-relu.json --cost-cache {tmp}/c",
    ),
]


# ----- hf17: HuggingFace keys that change the work, and adds of more operands than declared ------
HF17_FILES = {
    **{
        f"hf-{label}.json": '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": '
        f'128, "num_hidden_layers": 2, "vocab_size": 100, {extra}}}'
        for label, extra in {
            "window-some-layers": '"sliding_window": 64, "layer_types": ["full_attention", '
            '"sliding_attention"]',
            "qwen2-window": '"model_type": "qwen2", "use_sliding_window": true, '
            '"sliding_window": 64, "max_window_layers": 1',
            "layer-types-word": '"sliding_window": 64, "layer_types": "sliding"',
            "positions-512": '"max_position_embeddings": 512',
            "positions-word": '"max_position_embeddings": "many"',
            "attention-bias": '"attention_bias": true',
            "falcon-bias": '"model_type": "falcon", "bias": true',
            "alibi": '"model_type": "falcon", "alibi": true',
            "bloom": '"model_type": "bloom"',
        }.items()
    },
    "add-operands-short.yaml": "name: w\nops:\n"
    + "".join(f"  - {{kind: relu, name: r{i}, rows: 4, cols: 8}}\n" for i in range(3))
    + "  - {kind: add, name: s, rows: 4, cols: 8, inputs: [r0, r1, r2]}\n",
    "relu-operands.yaml": "name: w\nops:\n  - {kind: relu, name: r, rows: 4, cols: 8, operands: 2}\n",
}
NAMED += [
    (
        "run-hf-window-some-layers",
        "hf-window-some-layers.json: layer_types: sliding-window attention in 1 of 2 layers",
        "run tpu-v4-like {files}/hf-window-some-layers.json",
    ),
    (
        "run-hf-qwen2-window",
        "hf-qwen2-window.json: max_window_layers: sliding-window attention in 1 of 2 layers",
        "run tpu-v4-like {files}/hf-qwen2-window.json",
    ),
    (
        "run-hf-layer-types-word",
        "hf-layer-types-word.json: layer_types: expected a list of names",
        "run tpu-v4-like {files}/hf-layer-types-word.json",
    ),
    (
        "run-hf-positions-context",
        "hf-positions-512.json (from --set context): context: 1024 tokens exceed the model's 512 "
        "positions",
        "run tpu-v4-like {files}/hf-positions-512.json --set workload.context=1024",
    ),
    (
        "run-hf-positions-word",
        "hf-positions-word.json: max_position_embeddings: expected a positive integer",
        "run tpu-v4-like {files}/hf-positions-word.json",
    ),
    (
        "run-hf-attention-bias",
        "hf-attention-bias.json: attention_bias: True: bias adds on the projections' outputs",
        "run tpu-v4-like {files}/hf-attention-bias.json",
    ),
    (
        "run-hf-falcon-bias",
        "hf-falcon-bias.json: bias: True: bias adds on the projections' outputs",
        "run tpu-v4-like {files}/hf-falcon-bias.json",
    ),
    (
        "run-hf-alibi",
        "hf-alibi.json: alibi: True: ALiBi biases added to the attention scores",
        "run tpu-v4-like {files}/hf-alibi.json",
    ),
    (
        "run-hf-bloom",
        "hf-bloom.json: model_type: 'bloom': its layers have ALiBi biases",
        "run tpu-v4-like {files}/hf-bloom.json",
    ),
    (
        "run-add-operands-short",
        "add-operands-short.yaml:6: ops.3.operands: s reads 2 tensors of 4x8, but its inputs r0, "
        "r1, r2 each write one: give operands: 3",
        "run edge-npu {files}/add-operands-short.yaml",
    ),
    (
        "run-relu-operands",
        "relu-operands.yaml:3: ops.0: operands is for add and mul, not relu",
        "run edge-npu {files}/relu-operands.yaml",
    ),
]


# ----- hostile17: pools of padding only, sub-byte flits, values and options read by nothing --------
SNN17 = (  # a 4 -> 2 network; {groups} and {connection} replaced per file
    "name: s\nkind: snn\ntime_steps: 4\nplacement: {placement}\ngroups:\n"
    "  - {{name: in, size: 4, kind: input, rates: 0.5}}\n  - {{name: out, size: 2, kind: lif{lif}}}\n"
    "connections:\n  - {{source: in, target: out, {connection}}}\n"
)
DENSE = "kind: dense, weights: 0.5"
HOSTILE17_FILES = {
    "snn-conv-stride-three.yaml": SNN17.format(
        placement="fill",
        lif="",
        connection="kind: conv2d, weights: 0.5, input_shape: [1, 2, 2], kernel: [1, 1], "
        "stride: [1, 1, 1]",
    ),
    "snn-dense-kernel.yaml": SNN17.format(
        placement="fill", lif="", connection=f"{DENSE}, kernel: [2, 2]"
    ),
    "snn-dense-pairs.yaml": SNN17.format(
        placement="fill", lif="", connection=f"{DENSE}, pairs: [[0, 1]]"
    ),
    "snn-sparse-triples.yaml": SNN17.format(
        placement="fill",
        lif="",
        connection="kind: sparse, weights: 0.5, pairs: [[0, 1, 1], [1, 0, 1]]",
    ),
    "snn-lif-encoding.yaml": SNN17.format(
        placement="fill", lif=", encoding: rate", connection=DENSE
    ),
    "snn-placement-three.yaml": SNN17.format(
        placement="[{group: in, core: 0, neurons: [0, 2, 4]}, {group: out, core: 0}]",
        lif="",
        connection=DENSE,
    ),
    "snn-ann-placement.yaml": "name: s\nkind: snn\ntime_steps: 4\nann: {}\n"
    "placement:\n  - {group: nosuch, core: 0}\n",
    "snn-ann-agreement.yaml": "name: s\nkind: snn\ntime_steps: 4\nann: {agreement_samples: 100000}\n",
    "sweep-whole-workload.yaml": f"{SWEEP_BASE}grid:\n  workload: [gemm-256, gemm-1024]\n",
    "sweep-random-no-choices.yaml": f"{SWEEP_BASE}random:\n  samples: 2\n"
    "  parameters:\n    arch.components.mac_array.rows: []\n",
}


def _hostile17_onnx() -> dict[str, bytes]:
    """A MaxPool whose pads pass its kernel (ONNX's shape inference takes it; onnxruntime does
    not), IR version pinned as _onnx_files."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[3, 3, 3, 3])
    proto = helper.make_model(
        helper.make_graph([node], "g", [x], [y]), opset_imports=[helper.make_opsetid("", 14)]
    )
    proto.ir_version, proto.producer_name, proto.producer_version = 8, "", ""
    return {"onnx-maxpool-pads-past-kernel.onnx": proto.SerializeToString()}


NAMED += [
    # a window of padding only (its max NaN: a numerics mismatch and a RuntimeWarning)
    (
        "run-pool-padding-only-window",
        "ops.0.padding: 2 is not below the 2x2 window, so some windows hold padding only",
        "run edge-npu pool:C=1,H=4,W=4,R=2,S=2,padding=2,dtype=fp16",
    ),
    (
        "import-onnx-maxpool-pads-past-kernel",
        "onnx-maxpool-pads-past-kernel.onnx: ops.0.padding: 3 is not below the 2x2 window",
        "import-onnx {files}/onnx-maxpool-pads-past-kernel.onnx -o {tmp}/w.yaml",
    ),
    # flits of a fraction of a byte (0.5 B: a ZeroDivisionError; 1.5 B charged as 1 B)
    (
        "run-mesh-4x4-flit-half-byte",
        "components.noc.flit: must be a whole number of bytes (at least 1 B), got 0.5 B",
        "run mesh-4x4 gemm-256 --set 'components.noc.flit=0.5 B'",
    ),
    (
        "run-mesh-4x4-flit-fraction",
        "components.noc.flit: must be a whole number of bytes (at least 1 B), got 1.5 B",
        "run mesh-4x4 gemm-256 --set 'components.noc.flit=1.5 B'",
    ),
    # per-operand DRAM interfaces: one missing (a KeyError), a bandwidth beside them (unread)
    (
        "run-edge-npu-operand-bandwidth-missing",
        "components.dram: operand_bandwidth: must give input, weight and output, missing "
        "['weight', 'output']",
        "run edge-npu gemm-256 --set 'components.dram.operand_bandwidth={input: 1 GB/s}'",
    ),
    (
        "run-edge-npu-operand-bandwidth-and-bandwidth",
        "components.dram: bandwidth: with operand_bandwidth the bandwidth is their sum",
        "run edge-npu gemm-256 --set 'components.dram.operand_bandwidth={input: 1 GB/s, "
        "weight: 1 GB/s, output: 1 GB/s}' --set 'components.dram.bandwidth=9 GB/s'",
    ),
    # a whole spec named where a value goes ('arch' was an empty key path, 'workload' an arch key)
    (
        "run-set-whole-arch",
        "--set arch=tpu-v1-like: names a whole arch file, not a value in it",
        "run edge-npu gemm-256 --set arch=tpu-v1-like",
    ),
    (
        "run-set-whole-workload",
        "--set workload=gemm-1024: names a whole workload file, not a value in it",
        "run edge-npu gemm-256 --set workload=gemm-1024",
    ),
    (
        "sweep-whole-workload",
        "parameter 'workload': names a whole workload file, not a value in it",
        "sweep {files}/sweep-whole-workload.yaml -o {tmp}/r.csv -j 1",
    ),
    (  # an internal ValueError from numpy's draw
        "sweep-random-no-choices",
        "random.parameters: arch.components.mac_array.rows: no choices",
        "sweep {files}/sweep-random-no-choices.yaml -o {tmp}/r.csv -j 1",
    ),
    # spiking networks: a third stride (a ValueError), a sparse pair of three (re-paired), fields
    # of another kind of connection or group (read by nothing), an ann's placement naming no group
    # (a StopIteration), more agreement samples than test inputs (cut to them)
    (
        "run-snn-conv-stride-three",
        "connections.0.stride: List should have at most 2 items",
        "run loihi-like {files}/snn-conv-stride-three.yaml",
    ),
    (
        "run-snn-sparse-triples",
        "connections.0.pairs.0: List should have at most 2 items",
        "run loihi-like {files}/snn-sparse-triples.yaml",
    ),
    (
        "run-snn-dense-kernel",
        "connections.0: kernel: read only by conv2d connections, not dense",
        "run loihi-like {files}/snn-dense-kernel.yaml",
    ),
    (
        "run-snn-dense-pairs",
        "connections.0: pairs: read only by sparse connections, not dense",
        "run loihi-like {files}/snn-dense-pairs.yaml",
    ),
    (
        "run-snn-lif-encoding",
        "groups.1: group 'out': rates, spikes and encoding belong to input groups",
        "run loihi-like {files}/snn-lif-encoding.yaml",
    ),
    (
        "run-snn-placement-three",
        "placement.0.neurons: List should have at most 2 items",
        "run loihi-like {files}/snn-placement-three.yaml",
    ),
    (
        "run-snn-ann-placement",
        "placement: no group named 'nosuch'; groups: input, hidden0, output",
        "run loihi-like {files}/snn-ann-placement.yaml",
    ),
    (
        "run-snn-ann-agreement",
        "ann.agreement_samples: 100000 > 540 test inputs in digits_mlp.npz",
        "run loihi-like {files}/snn-ann-agreement.yaml",
    ),
    # options and values read by nothing
    (
        "serve-router-one-replica",
        "--router: read only by runs of several replicas",
        f"{SERVE} {{tmp}}/c --router least_outstanding",
    ),
    (
        "plot-maximize-without-pareto",
        "--maximize b: read only with --pareto (the front)",
        "plot {files}/results-ok.csv --x a --y b --maximize b -o {tmp}/p.html",
    ),
    (
        "scale-partition-cores",
        "partition.cores: 4: strong scaling sets each run's cores",
        "scale mesh-4x4 gemm-256 --cores 1,2 --set mapping.partition.cores=4",
    ),
    (
        "run-per-core-one-core",
        "--per-core: read only by a many-core chip's ops; edge-npu: not a chip of several cores",
        "run edge-npu gemm-256 --per-core",
    ),
    (
        "run-per-core-json",
        "--per-core: read only by the tables, not --json",
        "run mesh-4x4 gemm-256 --per-core --json",
    ),
    (
        "run-voltage-law-without-cap",
        "chip: voltage_exponent: read only under a power cap (tdp)",
        "run edge-npu gemm-256 --set chip.voltage_exponent=0.2",
    ),
    (
        "sweep-dask-and-scheduler",
        "--dask, --scheduler: two clusters (a local one, one at an address); give one",
        "sweep adc-bits -o {tmp}/r.csv --dask --scheduler tcp://127.0.0.1:1",
    ),
    (  # one CTA was taken as resident whatever the registers
        "run-b200-like-registers-below-one-cta",
        "cores.kernels.registers: 1,024 registers per core cannot hold one CTA of vector",
        "run b200-like softmax:rows=64,cols=4096,dtype=fp16,kernel=aten-2.9 "
        "--set cores.kernels.registers=1024",
    ),
    (  # int64 weights and payloads: 100 weight bits overflowed into garbage potentials
        "run-loihi-like-weight-bits-past-int64",
        "cores.components.core.weight_bits: must be <= 32, got 100",
        "run loihi-like snn-digits-mlp --set cores.components.core.weight_bits=100",
    ),
    (
        "run-loihi-like-spike-bits-past-int64",
        "cores.components.core.spike_bits: must be <= 32, got 100000",
        "run loihi-like snn-digits-mlp --set cores.components.core.spike_bits=100000",
    ),
    # a workload written where accsim reads another kind of file (.json: a HuggingFace config)
    (
        "import-onnx-output-json",
        "w.json: name it .yaml or .yml; accsim reads a file by its suffix",
        "import-onnx {files}/onnx-matmul.onnx -o {tmp}/w.json",
    ),
    # nits17: an SM with no register counts (every row kernel's registers went unbounded)
    (
        "run-b200-like-sm-without-registers",
        "cores.kernels.sm: must be one of 80, 90 or 100, got 86",
        "run b200-like softmax:rows=64,cols=4096,dtype=fp16,kernel=aten-2.9 "
        "--set cores.kernels.sm=86",
    ),
    # nits17: a rope whose rows end in part of a sequence (rotated as a cut-short sequence)
    (
        "run-rope-partial-sequence",
        "ops.0: seq_len (4) must divide rows (10)",
        "run edge-npu rope:rows=10,cols=64,head_dim=64,seq_len=4",
    ),
    # nits17: a seed read by nothing (every seed gave the same timing; a trace's requests)
    (
        "run-seed-without-numerics",
        "--seed: read only by the numerics check's operands and a spiking network's inputs",
        "run edge-npu gemm-256 --no-numerics --seed 3",
    ),
    (
        "serve-seed-with-trace",
        "--seed: read only by generated requests (the trace gives arrivals and lengths)",
        "serve tpu-v4-like llama-2-7b --trace {files}/trace-good.csv --seed 3 --cost-cache {tmp}/c",
    ),
    # nits17: --layers on a workload with no layers (named as "--set layers")
    (
        "run-layers-not-transformer",
        "--layers: read only by transformer workloads",
        "run edge-npu gemm-256 --layers 2",
    ),
]


# ----- hfrope17: RoPE keys of HuggingFace configs, sliding-window attention -------------------------
HFROPE17_FILES = {
    **{
        f"hf-{label}.json": '{"hidden_size": 64, "num_attention_heads": 4, "intermediate_size": '
        f'128, "num_hidden_layers": 2, "vocab_size": 100, {extra}}}'
        for label, extra in {
            "rotary-share-zero": '"partial_rotary_factor": 0',
            "rotary-odd": '"model_type": "gptj", "rotary_dim": 15',
            "rope-theta-word": '"rope_theta": "big"',
            "encoder-window": '"model_type": "bert", "sliding_window": 8',
        }.items()
    },
    **{
        f"attention-{label}.yaml": "name: w\nops:\n  - {kind: attention, heads: 2, q_len: 8, "
        f"head_dim: 4, {extra}}}\n"
        for label, extra in {
            "window-zero": "causal: true, window: 0",
            "window-not-causal": "window: 4",
        }.items()
    },
}
NAMED += [
    (
        "run-hf-rotary-share-zero",
        "hf-rotary-share-zero.json: partial_rotary_factor: expected a share of the head in (0, 1]",
        "run tpu-v4-like {files}/hf-rotary-share-zero.json",
    ),
    (
        "run-hf-rotary-odd",
        "hf-rotary-odd.json: rotary_dim: rotates 15 values of each head of 16",
        "run tpu-v4-like {files}/hf-rotary-odd.json",
    ),
    (
        "run-hf-rope-theta-word",
        "hf-rope-theta-word.json: rope_theta: expected a frequency base above 1, got 'big'",
        "run tpu-v4-like {files}/hf-rope-theta-word.json",
    ),
    (
        "run-hf-encoder-window",
        "hf-encoder-window.json: sliding_window: 8: a window of the last keys up to each query, "
        "read only with causal: true",
        "run tpu-v4-like {files}/hf-encoder-window.json",
    ),
    (
        "run-attention-window-zero",
        "attention-window-zero.yaml:3: ops.0.window: must be > 0",
        "run edge-npu {files}/attention-window-zero.yaml",
    ),
    (
        "run-attention-window-not-causal",
        "attention-window-not-causal.yaml:3: ops.0: window (4): a sliding window is the last keys "
        "up to each query, read only with causal: true",
        "run edge-npu {files}/attention-window-not-causal.yaml",
    ),
]


# ----- review17b: positions of a model type accsim does not know ---------------------------------
REVIEW17B_FILES = {
    "hf-model-type-biogpt.json": '{"model_type": "biogpt", "hidden_size": 64, '
    '"num_attention_heads": 4, "intermediate_size": 128, "num_hidden_layers": 2, '
    '"vocab_size": 100}',
}
NAMED += [
    (
        "run-hf-model-type-biogpt",
        "hf-model-type-biogpt.json: model_type: 'biogpt': accsim does not know how this model "
        "encodes positions",
        "run tpu-v4-like {files}/hf-model-type-biogpt.json",
    ),
]


def table() -> str:
    """cases.tsv: the generated cases, each id its first three words and a digest of its whole line
    (so adding a case never renames another), then the NAMED."""
    lines = ["# id\texpected fragment\tcommand line (shell words; {files}, {tmp} filled in)"]
    for fragment, command in cases():
        words = command.split()
        stem = "-".join(w.strip("'{}").split("/")[-1] for w in words[:3])[:60]
        digest = hashlib.sha1(f"{fragment}\t{command}".encode()).hexdigest()[:8]
        lines.append(f"{stem}-{digest}\t{fragment}\t{command}")
    lines += ["\t".join(case) for case in NAMED]
    return "\n".join(lines) + "\n"


def main() -> None:
    write_files()
    text = table()
    (HERE / "cases.tsv").write_text(text)
    print(f"{text.count(chr(10)) - 1} cases, {len(list(FILES.iterdir()))} files")


if __name__ == "__main__":
    main()
