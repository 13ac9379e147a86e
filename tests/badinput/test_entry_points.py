"""Classes of bad input beyond `accsim run`: outputs aimed at the shipped presets, cost caches,
request traces, archs serving cannot use, and the files commands read besides specs. Each test
covers the whole class; the corpus (cases.tsv) holds one command line per instance found."""

import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.api import simulate
from simulator.cli import main
from simulator.errors import AccsimError, SpecError
from simulator.serving.costs import read_cache
from simulator.serving.engine import dram_capacity
from simulator.serving.requests import load_trace
from simulator.spec import list_presets, load_arch
from simulator.spec.guards import Limits
from simulator.spec.loader import FOLDERS, preset_dir
from simulator.spec.sanafe_yaml import read_sanafe
from simulator.spec.scalesim import import_scalesim
from simulator.spec.system import SystemArchSpec
from simulator.spec.textio import read_json, read_text
from simulator.sweep.calibrate import read_measurements

ONNX = str(preset_dir("workload") / "onnx" / "resnet18.onnx")


def _one_error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize("kind", list(FOLDERS))
@pytest.mark.parametrize(
    "command",
    [
        "schema arch -o {out}",
        "import-onnx " + ONNX + " -o {out}",
        "map edge-npu gemm:M=32,N=32,K=32 --top 1 -o {out}",
        "import-scalesim x.cfg y.csv -o {folder}",
    ],
)
def test_no_command_writes_into_the_shipped_presets(kind, command, capsys, monkeypatch):
    """Every output file or folder is checked before any work: among the presets it would replace
    one (schema and import-onnx did) or become one."""
    monkeypatch.setenv("COLUMNS", "400")
    folder = preset_dir(kind)
    out = folder / "written-by-a-test.yaml"
    argv = command.format(out=out, folder=folder / "imported").split()
    assert main(argv) == 2
    assert f"inside the shipped {kind} presets" in _one_error_line(capsys)
    assert not out.exists() and not (folder / "imported").exists()


def test_import_onnx_writes_nothing_when_the_workload_is_refused(tmp_path, capsys):
    out = tmp_path / "w.yaml"
    assert main(["import-onnx", ONNX, "-o", str(out), "--dtype", "int3"]) == 2
    assert "unknown precision 'int3'" in _one_error_line(capsys)
    assert not out.exists()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(value=_JSON)
def test_a_cost_cache_is_read_whole_or_refused_in_one_line(value, tmp_path_factory):
    """Any JSON in a --cost-cache file: the cache if it is an object of [seconds, joules] pairs
    of finite non-negative numbers, else one SpecError naming the file."""
    path = tmp_path_factory.mktemp("cache") / "c.json"
    path.write_text(json.dumps(value))
    pairs = isinstance(value, dict) and all(
        isinstance(v, list)
        and len(v) == 2
        and all(isinstance(x, int | float) and 0 <= x < math.inf for x in v)
        for v in value.values()
    )
    if pairs:
        assert read_cache(path) == value
    else:
        with pytest.raises(SpecError, match=str(path)):
            read_cache(path)


@pytest.mark.parametrize("arch", list_presets("arch"))
def test_serving_takes_the_dram_capacity_of_every_preset_or_names_what_is_missing(arch):
    spec = load_arch(arch)
    if isinstance(spec, SystemArchSpec):
        pytest.skip("a system of chips: serve refuses it before (accsim serve takes one chip)")
    drams = [(n, c) for n, c in spec.components.items() if c.kind == "dram"]
    if drams and drams[0][1].capacity is not None:
        assert dram_capacity(spec) == drams[0][1].capacity
    else:
        with pytest.raises(SpecError, match=r"\.yaml:\d+: components"):
            dram_capacity(spec)


@pytest.mark.parametrize(
    ("cell", "column"),
    [("nan", "arrival_s"), ("inf", "arrival_s"), ("-inf", "arrival_s")]
    + [(v, c) for c in ("prompt_tokens", "output_tokens") for v in ("0", "-3", "2.5", "nan", "x")],
)
def test_a_trace_row_with_a_bad_value_is_named_by_row_and_column(cell, column, tmp_path):
    columns = ["arrival_s", "prompt_tokens", "output_tokens"]
    row = ["1" if c != column else cell for c in columns]
    path = tmp_path / "t.csv"
    path.write_text(",".join(columns) + "\n0,4,4\n" + ",".join(row) + "\n")
    with pytest.raises(SpecError, match=f"row 3: {column}: must be"):
        load_trace(path)


def test_a_trace_of_whole_numbers_is_read_as_given(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,prompt_tokens,output_tokens\n2.5,4,7\n0.5,8.0,3\n")
    specs = load_trace(path)
    assert [(s.arrival_s, s.prompt_tokens, s.output_tokens) for s in specs] == [
        (0.0, 8, 3),
        (2.0, 4, 7),
    ]


def test_a_measurements_file_with_a_byte_order_mark_is_read(tmp_path):
    """Spreadsheets save CSV as UTF-8 with a byte-order mark; the header is still found."""
    path = tmp_path / "m.csv"
    rows = "workload,seconds\ngemm-256,1e-5\ngemm-1024,2e-4\ngemm-4096,3e-3\n"
    path.write_bytes(b"\xef\xbb\xbf" + rows.encode())
    measured = read_measurements(path)
    assert [(m.workload, m.seconds) for m in measured] == [
        ("gemm-256", 1e-5),
        ("gemm-1024", 2e-4),
        ("gemm-4096", 3e-3),
    ]
    assert measured[0].source == f"{path}: line 2"


@pytest.mark.parametrize(
    "fields",
    [{"max_tiles": 0}, {"max_tiles": 1.5}, {"max_tiles": True}, {"max_memory": -1.0}]
    + [{"max_memory": math.nan}, {"max_memory": math.inf}, {"max_cores": 0}, {"max_cores": "8"}],
)
def test_limits_that_would_refuse_every_run_or_none_are_refused_when_made(fields):
    with pytest.raises(SpecError, match=f"Limits\\({next(iter(fields))}="):
        Limits(**fields)


@pytest.mark.parametrize("limits", [None, "1e6", {"max_tiles": 10}])
def test_simulate_takes_limits_as_a_limits_object_only(limits):
    with pytest.raises(SpecError, match="give a Limits"):
        simulate("edge-npu", "gemm:M=8,N=8,K=8", limits=limits)


@pytest.mark.parametrize("output", [["--json"], []])
def test_a_reader_that_leaves_early_ends_the_command_quietly(output):
    """`accsim run ... | head -1`, JSON or tables: the closed pipe is no internal error, no
    traceback, and not status 1 (a numerics mismatch)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from simulator.cli import main; sys.exit(main())"]
        + ["run", "edge-npu", "gemm:M=8,N=8,K=8", *output, "--no-numerics"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdout.close()  # before the child's start-up is over: its first write finds no reader
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141 and stderr == ""


@pytest.mark.parametrize(
    "overrides",
    ["clock=1 GHz", [("clock", "1 GHz")], [(["ops", 0, "M"], 64)], [(["clock"],)], [["clock"]]],
)
def test_overrides_that_are_no_key_list_and_value_are_refused_whole(overrides):
    """The Python API's overrides are (keys, value) pairs; a '--set' string or a dotted path was
    read one character per key ('unknown key c')."""
    with pytest.raises(SpecError, match="give \\(keys, value\\) pairs"):
        load_arch("edge-npu", overrides)


def test_override_pairs_as_lists_or_tuples_apply():
    spec = load_arch("edge-npu", [(("clock",), "3 GHz"), [["components", "sram", "banks"], 4]])
    assert spec.clock == 3e9 and spec.components["sram"].banks == 4


@pytest.mark.parametrize("progress", [5, "yes", [1]])
def test_simulate_takes_a_callable_or_a_switch_as_progress(progress):
    with pytest.raises(SpecError, match="progress="):
        simulate("edge-npu", "gemm:M=8,N=8,K=8", progress=progress)


@pytest.mark.parametrize(
    "read",
    [read_text, read_json, load_trace, read_cache, lambda p: read_sanafe(p, "network")]
    + [lambda p: import_scalesim(p, p)],
)
def test_no_reader_waits_on_a_pipe_or_a_device(read, tmp_path):
    """A FIFO (or /dev/zero) never ends: read whole, it blocks or fills the memory (serve --trace
    /dev/zero took 24 GB). Every reader of a user's file refuses it before reading."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="not a regular file"):
        read(fifo)


def _api_calls():
    """The library's public calls (docs/reference/api.md) with arguments of the wrong kind or out
    of range: (id, call, fragment of its one-line AccsimError)."""
    from simulator.schema import json_schema
    from simulator.serving.requests import Lengths, fixed_batch, gamma
    from simulator.sweep.run import load_sweep, run_sweep
    from simulator.sweep.search import search_mapping

    return [
        ("presets-kind", lambda: list_presets("archs"), "preset kind 'archs'"),
        ("presets-unhashable", lambda: list_presets(["arch"]), "preset kind"),
        ("schema-kind", lambda: json_schema("system"), "schema kind 'system'"),
        ("override-no-keys", lambda: load_arch("edge-npu", [((), 1)]), "non-empty list"),
        ("override-empty-key", lambda: load_arch("edge-npu", [(("clock", ""), 1)]), "non-empty"),
        ("search-system", lambda: search_mapping("tpu-v4-slice", "gemm-256"), "system of chips"),
        ("search-snn", lambda: search_mapping("edge-npu", "snn-mnist-mlp"), "spiking network"),
        ("search-top-0", lambda: search_mapping("edge-npu", "gemm-256", top_k=0), "top_k=0"),
        ("search-top-float", lambda: search_mapping("edge-npu", "gemm-256", top_k=2.5), "top_k"),
        ("search-nests", lambda: search_mapping("edge-npu", "gemm-256", nest_budget=-1), "nest"),
        ("sweep-ref", lambda: load_sweep(3), "sweep 3"),
        ("sweep-points", lambda: load_sweep("array-vs-sram", max_points="9"), "max_points"),
        ("sweep-jobs", lambda: run_sweep("array-vs-sram", "r.csv", jobs=0), "jobs=0"),
        ("sweep-limit", lambda: run_sweep("array-vs-sram", "r.csv", limit=-1), "limit=-1"),
        ("sweep-output", lambda: run_sweep("array-vs-sram", None), "output=None"),
        ("sweep-address", lambda: run_sweep("array-vs-sram", "r.csv", scheduler="x"), "x"),
        ("requests-float", lambda: gamma(1.0, 1.0, 2.5, Lengths()), "positive integer"),
        ("requests-negative", lambda: fixed_batch(-1, Lengths()), "positive integer"),
        ("requests-huge", lambda: fixed_batch(10**9, Lengths()), "GiB of host memory"),
        ("arrivals-span", lambda: gamma(1e-9, 1.0, 4, Lengths()), "past 4.5e+06 s"),
    ]


@pytest.mark.parametrize("name", [case[0] for case in _api_calls()])
def test_the_library_refuses_bad_arguments_in_one_line(name, tmp_path, monkeypatch):
    """A Python caller gets an AccsimError of one line, as the CLI does, never a KeyError,
    TypeError or AttributeError from deep inside (or a silent no-op: jobs=0, limit=-1)."""
    monkeypatch.chdir(tmp_path)
    call, fragment = next((c, f) for n, c, f in _api_calls() if n == name)
    with pytest.raises(AccsimError) as caught:
        call()
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_default_cost_cache_under_a_file_is_one_error_line(tmp_path, monkeypatch, capsys):
    """serve's default cache lives under $XDG_CACHE_HOME: a file there is named before any shape
    is simulated, not an internal NotADirectoryError from the first save."""
    blocking = tmp_path / "cache"
    blocking.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocking))
    assert main(["serve", "tpu-v4-like", "llama-2-7b", "--requests", "2"]) == 2
    assert "cannot keep the cost cache there (Not a directory)" in _one_error_line(capsys)


def _value_arguments():
    """(argv, name) for every argument of every command that takes a value: that argument empty,
    every other required one filled in (a choice's first choice)."""
    from simulator.cli import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for command, parser in commands.items():
        takes = [a for a in parser._actions if a.nargs is None and not a.const]
        takes = [a for a in takes if a.dest != "help"]
        for action in takes:
            argv = [command]
            for other in takes:
                value = "" if other is action else next(iter(other.choices or ["x"]))
                if not other.option_strings:
                    argv.append(value)
                elif other is action or other.required:
                    argv += [other.option_strings[-1], value]
            name = "/".join(action.option_strings) or action.dest
            yield pytest.param(argv, name, id=f"{command}-{action.dest}")


@pytest.mark.parametrize(("argv", "name"), list(_value_arguments()))
def test_every_argument_given_as_empty_text_is_refused_by_name(argv, name, capsys):
    """`--trace ''` or `-o ''` used to read as not given (the run went on without a trace)."""
    assert main(argv) == 2
    line = _one_error_line(capsys)
    assert f"argument {name}:" in line, line


SERVE = ["serve", "tpu-v4-like", "llama-2-7b", "--requests", "2", "--cost-cache"]


@pytest.mark.parametrize(
    ("given", "option"),
    [
        (["--rate", "2", "--think", "1 ms"], "--think"),
        (["--users", "2", "--cv", "2"], "--cv"),
        (["--rates", "1,2", "--cv", "2"], "--cv"),
        (["--decode-replicas", "2"], "--decode-replicas"),
        (["--scheduler", "chunked", "--decode-replicas", "1"], "--decode-replicas"),
        *[
            (["--trace", "t.csv", option, "3"], option)
            for option in ("--prompt-len", "--output-len", "--prompt-sd", "--output-sd", "--cv")
        ],
    ],
)
def test_serve_refuses_an_option_its_run_does_not_read(given, option, tmp_path, capsys):
    """Each such option silently did nothing; it is named before any shape is simulated."""
    (tmp_path / "t.csv").write_text("arrival_s,prompt_tokens,output_tokens\n0,4,2\n")
    given = [str(tmp_path / g) if g == "t.csv" else g for g in given]
    assert main([*SERVE, str(tmp_path / "c.json"), *given]) == 2
    assert _one_error_line(capsys).startswith(f"error: {option}: read only by")
    assert not (tmp_path / "c.json").exists()  # nothing simulated


@pytest.mark.parametrize("key", ["[a, b]", "{a: 1}", "[[1], {b: [2]}]"])
@pytest.mark.parametrize("depth", [0, 1, 3])
def test_a_key_that_is_a_list_or_mapping_is_named_by_its_line(key, depth):
    """`? [a, b]` made an unhashable key (an internal TypeError); it is refused at its line."""
    from simulator.spec.yamlio import parse_yaml

    nest = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth))
    text = f"name: a\n{nest}{'  ' * depth}? {key}\n{'  ' * depth}: 1\n"
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, "f.yaml")
    message = str(caught.value)
    assert message.startswith(f"f.yaml:{depth + 2}: ") and "a key must be a name" in message
    assert "\n" not in message


@pytest.mark.parametrize(("key", "value"), [("1", 1), ("0x10", 16), ("true", True), ("~", None)])
def test_a_scalar_key_keeps_its_line_under_the_value_the_data_holds(key, value):
    """`1:` is the integer 1 in the data: the line table holds it so, as errors look it up."""
    from simulator.spec.yamlio import parse_yaml

    doc = parse_yaml(f"name: a\nc:\n  {key}: x\n", "f.yaml")
    assert doc.data["c"] == {value: "x"} and doc.lines[("c", value)] == 3


@pytest.mark.parametrize(
    ("command", "written"),
    [
        ("import-onnx {in}/m.onnx -o {in}/m.onnx", "m.onnx"),
        ("run {in}/a.yaml gemm:M=32,N=32,K=32 --trace {in}/a.yaml", "a.yaml"),
        ("run edge-npu {in}/w.yaml --trace {in}/w.yaml", "w.yaml"),
        ("run edge-npu gemm:M=32,N=32,K=32 -m {in}/m.yaml --trace {in}/m.yaml", "m.yaml"),
        ("map edge-npu {in}/w.yaml -o {in}/w.yaml", "w.yaml"),
        ("plot {in}/r.csv --x a --y b -o {in}/r.csv", "r.csv"),
        ("import-scalesim {in}/arch.yaml {in}/t.csv -o {in}", "arch.yaml"),
        ("import-sanafe {in}/a.yaml {in}/workload.yaml -o {in}", "workload.yaml"),
    ],
)
def test_no_command_writes_over_a_file_it_reads(command, written, tmp_path, capsys):
    """`import-onnx m.onnx -o m.onnx` replaced the model with its YAML; each input is kept."""
    (tmp_path / written).write_bytes(b"the user's own file\n")
    argv = [word.replace("{in}", str(tmp_path)) for word in command.split()]
    assert main(argv) == 2
    assert "that is the input" in _one_error_line(capsys)
    assert (tmp_path / written).read_bytes() == b"the user's own file\n"


@given(
    st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    st.sampled_from(["<", "<=", "==", "!=", ">=", ">", "divides"]),
)
@settings(max_examples=50, deadline=None)
def test_a_constraint_of_two_literals_is_refused(left, right, op):
    """`cycles < 5000` compared the word 'cycles' with a number, or two words: every point kept
    or none, silently; a constraint names a value of the point on one side at least."""
    from simulator.sweep.spec import Constraint, is_path

    if is_path(left) or is_path(right):
        Constraint(left=left, op=op, right=right)
    else:
        with pytest.raises(ValueError, match="is a path"):
            Constraint(left=left, op=op, right=right)


def _costs(model: str = "llama-2-7b"):
    from simulator.serving import CostModel, load_model

    return CostModel(load_arch("tpu-v4-like"), load_model(model))


def _library_calls():
    """(call, expected message): the serving and sweep library given wrong objects."""
    import pandas as pd

    from simulator.serving import CostModel, Lengths, Slo, capacity, load_model, rate_sweep, serve
    from simulator.serving.plots import kv_over_time, latency_cdf, throughput_latency
    from simulator.sweep import pareto_front

    arch, lengths = "tpu-v4-like", Lengths(16, 4)
    return [
        (lambda: load_model(5), "load_model: ref: expected str or Path, got int"),
        (lambda: Slo(ttft_s="1 s"), "slo: ttft_s: expected int or float, got str"),
        (lambda: Slo(tpot_s=True), "slo: tpot_s: expected int or float, got bool"),
        (lambda: CostModel(arch, _costs().model), "CostModel: arch"),
        (lambda: CostModel(_costs().arch, "llama-2-7b"), "CostModel: model"),
        (lambda: CostModel(_costs().arch, _costs().model, ratio="2"), "CostModel: ratio"),
        (lambda: rate_sweep(_costs(), [], lengths, 4, Slo()), "give at least one arrival rate"),
        (lambda: rate_sweep(_costs(), 5, lengths, 4, Slo()), "rate_sweep: rates"),
        (lambda: rate_sweep(_costs(), ["2"], lengths, 4, Slo()), "rate_sweep: rates"),
        (lambda: capacity(5), "capacity: table"),
        (lambda: capacity(pd.DataFrame({"x": [1]})), "no column 'rate'"),
        (lambda: serve(arch, "llama-2-7b", "requests"), "serve: requests"),
        (lambda: serve(arch, "llama-2-7b", [1, 2]), "serve: requests"),
        (lambda: serve(arch, "llama-2-7b", [], costs=_costs("llama-3-8b")), "was built for"),
        (lambda: kv_over_time(None), "kv_over_time: result"),
        (lambda: latency_cdf([1]), "latency_cdf: results"),
        (lambda: throughput_latency({1.0: "run"}), "throughput_latency: runs"),
        (lambda: pareto_front([1, 2], {"a": "min"}), "pareto_front: df"),
        (lambda: simulate("edge-npu", "gemm-256", mapping=" "), "an empty mapping name"),
        (lambda: load_arch(""), "an empty arch name"),
    ]


LIBRARY_CALLS = _library_calls()


@pytest.mark.parametrize(("call", "message"), LIBRARY_CALLS, ids=[m for _, m in LIBRARY_CALLS])
def test_the_serving_and_sweep_library_refuse_wrong_objects_in_one_line(call, message):
    """Each was an AttributeError, TypeError, KeyError or ValueError from inside the library."""
    with pytest.raises(AccsimError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


@given(st.integers(-(10**30), 10**30), st.integers(0, 59), st.integers(1, 7))
@settings(max_examples=200, deadline=None)
def test_yaml_numbers_are_decimal_or_text(number, seconds, zeros):
    """YAML 1.1 read `1:30` as 90 and `010` as 8, silently; they stay text (refused by key),
    while decimal, hexadecimal and underscored numbers read as before."""
    from simulator.spec.yamlio import parse_yaml

    text = (
        f"a: {number}\nb: {abs(number)}:{seconds:02d}\nc: {'0' * zeros}{abs(number) + 1}\n"
        f"d: {hex(number)}\ne: {number:_}\nf: {number}.5\n"
    )
    data = parse_yaml(text, "f.yaml").data
    assert data["a"] == number and data["d"] == number and data["e"] == number
    assert data["b"] == f"{abs(number)}:{seconds:02d}"
    assert data["c"] == f"{'0' * zeros}{abs(number) + 1}"
    assert data["f"] == float(f"{number}.5")


@pytest.mark.parametrize("element", ["INT64", "DOUBLE", "UINT32", "UINT64"])
def test_an_onnx_type_no_precision_holds_needs_a_dtype(element, tmp_path):
    """A MatMul of int64 or double operands was imported as fp32, silently; it is refused by
    node and type, and imports with the precision given."""
    from onnx import TensorProto, helper

    from simulator.spec.onnx import import_onnx

    kind = getattr(TensorProto, element)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", kind, [4, 8])],
        [helper.make_tensor_value_info("y", kind, None)],
        [helper.make_tensor("w", kind, [8, 4], [0] * 32)],
    )
    path = tmp_path / "m.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    with pytest.raises(AccsimError, match=f"matmul_0: its input 'x' is ONNX {element}"):
        import_onnx(path)
    assert import_onnx(path, "int8")["ops"][0]["dtype"] == "int8"
