"""Every malformed input fails with one exact, one-line message naming the file, line and key path.

The files are written to tmp_path so the path in each message is known; line numbers are counted
by hand from the texts below.
"""

import pytest

import simulator
from simulator.errors import CapacityError, SpecError, UnsupportedError
from simulator.spec import load_arch, load_mapping, load_workload, split_overrides

# Lines: 1 name, 2 clock, 3 components, 4 mxu, 5 kind, 6 rows, 7 cols, 8 dataflows,
# 9 input_precision, 10 buf, 11 kind, 12 capacity, 13 dram, 14 kind, 15 technology, 16 bandwidth.
ARCH = """\
name: tiny
clock: 700 MHz
components:
  mxu:
    kind: systolic_array
    rows: 16
    cols: 16
    dataflows: [ws]
    input_precision: [int8]
  buf:
    kind: sram
    capacity: 64 KiB
  dram:
    kind: dram
    technology: ddr4
    bandwidth: 25.6 GB/s
"""

PRECISIONS = "int4, int8, int16, int32, fp8_e4m3, fp8_e5m2, fp16, bf16, fp32"
SYSTOLIC_KEYS = (
    "kind, rows, cols, dataflows, input_precision, rate, instructions, accumulator_precision, "
    "clock, mac_energy, mac_area, leakage, depthwise"
)


def edit(old: str, new: str) -> str:
    """ARCH with one exact fragment replaced (asserting the fragment is there)."""
    assert old in ARCH
    return ARCH.replace(old, new)


def write(tmp_path, text: str, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def error_of(call, *args, error=SpecError, **kwargs) -> str:
    """The message of the error `call` raises; it must be exactly one line."""
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_base_arch_is_valid(tmp_path):
    # Every case below breaks exactly one thing of this file.
    arch = load_arch(write(tmp_path, ARCH))
    assert arch.components["buf"].capacity == 64 * 1024


# ----- YAML syntax ----------------------------------------------------------------------------


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, edit("    rows: 16\n", "    rows: 16: 4\n"))
    assert (
        error_of(load_arch, path)
        == f"{path}:6: malformed YAML: mapping values are not allowed here"
    )


def test_duplicate_key(tmp_path):
    path = write(tmp_path, edit("    cols: 16\n", "    cols: 16\n    rows: 8\n"))
    assert error_of(load_arch, path) == f"{path}:8: components.mxu.rows: duplicate key"


def test_top_level_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "- tiny\n- arch\n")
    assert (
        error_of(load_arch, path)
        == f"{path}: expected a mapping of keys at the top level, got list"
    )


# ----- keys -----------------------------------------------------------------------------------


def test_misspelt_key_suggests_the_real_one(tmp_path):
    # 'rows' is then also missing; the typo is what the user must be told about.
    path = write(tmp_path, edit("    rows: 16", "    rowz: 16"))
    assert error_of(load_arch, path) == (
        f"{path}:6: components.mxu.rowz: unknown key 'rowz' (did you mean 'rows'?)"
    )


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(tmp_path):
    path = write(tmp_path, edit("    cols: 16\n", "    cols: 16\n    flux_capacitor: 1\n"))
    assert error_of(load_arch, path) == (
        f"{path}:8: components.mxu.flux_capacitor: unknown key 'flux_capacitor'; "
        f"allowed: {SYSTOLIC_KEYS}"
    )


def test_missing_required_key(tmp_path):
    path = write(tmp_path, edit("    cols: 16\n", ""))
    assert error_of(load_arch, path) == f"{path}:4: components.mxu.cols: missing required key"


def test_missing_top_level_key_has_no_line(tmp_path):
    path = write(tmp_path, edit("clock: 700 MHz\n", ""))
    assert error_of(load_arch, path) == f"{path}: clock: missing required key"


def test_missing_kind(tmp_path):
    path = write(tmp_path, edit("    kind: systolic_array\n", ""))
    assert error_of(load_arch, path) == f"{path}:4: components.mxu: missing required key 'kind'"


# ----- values ---------------------------------------------------------------------------------


def test_wrong_type(tmp_path):
    path = write(tmp_path, edit("rows: 16", 'rows: "many"'))
    assert (
        error_of(load_arch, path)
        == f"{path}:6: components.mxu.rows: must be an integer, got 'many'"
    )


def test_float_is_not_an_integer(tmp_path):
    path = write(tmp_path, edit("rows: 16", "rows: 16.0"))
    assert (
        error_of(load_arch, path) == f"{path}:6: components.mxu.rows: must be an integer, got 16.0"
    )


def test_negative_size(tmp_path):
    path = write(tmp_path, edit("rows: 16", "rows: -4"))
    assert error_of(load_arch, path) == f"{path}:6: components.mxu.rows: must be > 0, got -4"


def test_zero_capacity(tmp_path):
    path = write(tmp_path, edit("capacity: 64 KiB", "capacity: 0 KiB"))
    assert (
        error_of(load_arch, path) == f"{path}:12: components.buf.capacity: must be > 0, got '0 KiB'"
    )


def test_wrong_unit(tmp_path):
    path = write(tmp_path, edit("capacity: 64 KiB", "capacity: 34 GB/s"))
    assert error_of(load_arch, path) == (
        f"{path}:12: components.buf.capacity: expected a size like '24 MiB' "
        "(units: B, KiB, MiB, GiB, TiB, kB, KB, MB, GB, TB), got '34 GB/s'"
    )


def test_number_without_unit(tmp_path):
    path = write(tmp_path, edit("clock: 700 MHz", "clock: 700"))
    assert error_of(load_arch, path) == (
        f"{path}:2: clock: expected a frequency with a unit, like '700 MHz', got 700"
    )


def test_unknown_kind(tmp_path):
    path = write(tmp_path, edit("kind: systolic_array", "kind: tensor_core"))
    assert error_of(load_arch, path) == (
        f"{path}:4: components.mxu: unknown kind 'tensor_core'; "
        "known kinds: 'systolic_array', 'vector', 'sram', 'regfile', 'dram', 'noc', 'crossbar', 'pim', "
        "'neuro_core', 'cpu', 'link'"
    )


def test_unknown_precision(tmp_path):
    path = write(tmp_path, edit("input_precision: [int8]", "input_precision: [int8, int7]"))
    assert error_of(load_arch, path) == (
        f"{path}:9: components.mxu.input_precision.1: unknown precision 'int7'; known: {PRECISIONS}"
    )


@pytest.mark.parametrize(
    "rate, message",
    [
        ("{int7: 2}", f"components.mxu.rate.int7: unknown precision 'int7'; known: {PRECISIONS}"),
        ("{bf16: 2}", "components.mxu.rate: bf16 not in input_precision (int8)"),
        ("{int8: 1.5}", "components.mxu.rate.int8: must be an integer, got 1.5"),
        ("{int8: 0}", "components.mxu.rate.int8: must be > 0, got 0"),
    ],
)
def test_bad_rate(tmp_path, rate, message):
    text = edit("input_precision: [int8]", f"input_precision: [int8]\n    rate: {rate}")
    path = write(tmp_path, text)
    assert error_of(load_arch, path) == f"{path}:10: {message}"


def test_unknown_dataflow(tmp_path):
    path = write(tmp_path, edit("dataflows: [ws]", "dataflows: [rs]"))
    assert error_of(load_arch, path) == (
        f"{path}:8: components.mxu.dataflows.0: must be one of 'os', 'ws' or 'is', got 'rs'"
    )


def test_unknown_technology(tmp_path):
    path = write(tmp_path, edit("technology: ddr4", "technology: ddr9"))
    assert error_of(load_arch, path) == (
        f"{path}:15: components.dram.technology: must be one of 'ddr3', 'ddr4', 'lpddr4', "
        "'lpddr5', 'hbm2', 'hbm2e' or 'hbm3', got 'ddr9'"
    )


# ----- whole-arch rules -----------------------------------------------------------------------


def test_arch_without_dram(tmp_path):
    path = write(tmp_path, ARCH.split("  dram:")[0])
    assert error_of(load_arch, path) == (
        f"{path}:3: components: needs exactly one dram component, found 0"
    )


def test_arch_without_compute_unit(tmp_path):
    text = ARCH.replace(ARCH[ARCH.index("  mxu:") : ARCH.index("  buf:")], "")
    path = write(tmp_path, text)
    assert error_of(load_arch, path) == (
        f"{path}:3: components: needs at least one compute unit (kind: systolic_array or vector)"
    )


def test_two_srams_holding_input(tmp_path):
    extra = "  buf2:\n    kind: sram\n    capacity: 1 MiB\n    holds: [input]\n"
    path = write(tmp_path, ARCH + extra)
    assert error_of(load_arch, path) == (
        f"{path}:3: components: exactly one sram must hold the 'input' operand, "
        "found ['buf', 'buf2']"
    )


def test_no_sram_holding_weights(tmp_path):
    path = write(
        tmp_path,
        edit("    capacity: 64 KiB\n", "    capacity: 64 KiB\n    holds: [input, output]\n"),
    )
    assert error_of(load_arch, path) == (
        f"{path}:3: components: exactly one sram must hold the 'weight' operand, found none"
    )


# ----- workloads ------------------------------------------------------------------------------


def test_workload_with_duplicate_op_names(tmp_path):
    path = write(
        tmp_path,
        (
            "name: twice\n"
            "ops:\n"
            "  - {kind: gemm, name: proj, M: 64, N: 64, K: 64}\n"
            "  - {kind: gemm, name: proj, M: 64, N: 64, K: 64}\n"
        ),
    )
    assert (
        error_of(load_workload, path) == f"{path}:2: ops: op names must be unique, repeated: proj"
    )


def test_workload_with_no_ops(tmp_path):
    path = write(tmp_path, "name: empty\nops: []\n")
    assert error_of(load_workload, path) == f"{path}:2: ops: needs at least one op"


def test_workload_op_key_path_has_no_kind_tag(tmp_path):
    path = write(
        tmp_path, "name: w\nops:\n  - kind: gemm\n    M: 64\n    N: 64\n    K: 64\n    dtyp: int8\n"
    )
    assert error_of(load_workload, path) == (
        f"{path}:7: ops.0.dtyp: unknown key 'dtyp' (did you mean 'dtype'?)"
    )


def test_workload_op_unknown_precision(tmp_path):
    path = write(tmp_path, "name: w\nops:\n  - {kind: gemm, M: 64, N: 64, K: 64, dtype: int7}\n")
    assert error_of(load_workload, path) == (
        f"{path}:3: ops.0.dtype: unknown precision 'int7'; known: {PRECISIONS}"
    )


def test_workload_unknown_op_kind(tmp_path):
    path = write(tmp_path, "name: w\nops:\n  - {kind: conv, M: 64}\n")
    assert (
        error_of(load_workload, path)
        == f"{path}:3: ops.0: unknown kind 'conv'; known kinds: 'gemm', 'attention', 'softmax', "
        "'layernorm', 'rmsnorm', 'gelu', 'silu', 'add', 'mul', 'relu', 'batchnorm', 'concat', "
        "'rope', 'conv2d', 'pool', 'onnx', 'collective'"
    )


def test_bad_inline_workload():
    assert error_of(load_workload, "gemm:M=512,N") == (
        "inline workload 'gemm:M=512,N': expected KEY=VALUE, got 'N'"
    )


def test_inline_workload_missing_dim():
    assert (
        error_of(load_workload, "gemm:M=512,N=512")
        == "inline workload: ops.0.K: missing required key"
    )


# ----- mappings -------------------------------------------------------------------------------


def test_loop_order_not_a_permutation(tmp_path):
    path = write(tmp_path, "name: m\nloop_order: [M, M, K]\n")
    assert error_of(load_mapping, path) == (
        f"{path}:2: loop_order: must be a permutation of M, N, K, got ['M', 'M', 'K']"
    )


def test_spatial_dims_that_do_not_fit_the_dataflow(tmp_path):
    path = write(tmp_path, "name: m\ndataflow: ws\nspatial: {rows: M, cols: N}\n")
    assert error_of(load_mapping, path) == (
        f"{path}:3: spatial: spatial dims M/N do not fit dataflow 'ws', "
        "which spreads K/N over the array"
    )


def test_unknown_mapping_dataflow(tmp_path):
    path = write(tmp_path, "name: m\ndataflow: rs\n")
    assert (
        error_of(load_mapping, path)
        == f"{path}:2: dataflow: must be one of 'os', 'ws' or 'is', got 'rs'"
    )


def test_tile_larger_than_the_problem_fails_at_simulate(tmp_path):
    path = write(tmp_path, "name: big\ntile:\n  N: 64\n  M: 512\n")
    message = error_of(simulator.simulate, "tpu-v1-like", "gemm-256", path, numerics=False)
    assert message == f"{path}:4: tile.M: 512 exceeds gemm's M = 256"


def test_tile_that_does_not_divide_with_strict_edges(tmp_path):
    path = write(tmp_path, "name: odd\nedge_tiles: strict\ntile: {M: 48}\n")
    message = error_of(simulator.simulate, "tpu-v1-like", "gemm-256", path, numerics=False)
    assert message == (
        f"{path}:3: tile.M: 48 does not divide gemm's M = 256 "
        "(set edge_tiles: partial to allow a smaller last tile)"
    )


def test_tile_that_does_not_fit_its_buffer(tmp_path):
    arch = write(tmp_path, ARCH, "arch.yaml")
    mapping = write(tmp_path, "name: fat\ntile: {M: 128, N: 128, K: 128}\n", "mapping.yaml")
    # int8 A and B tiles: 128*128 B each; int32 C tile: 128*128*4 B; double-buffered: x2.
    needed = 2 * (128 * 128 + 128 * 128 + 128 * 128 * 4)
    message = error_of(
        simulator.simulate,
        arch,
        "gemm:M=128,N=128,K=128,dtype=int8",
        mapping,
        numerics=False,
        error=CapacityError,
    )
    assert message == (
        f"{mapping}:2: tile: double-buffered tile M128xN128xK128 needs {needed:,} B in buf "
        f"but it holds {64 * 1024:,} B"
    )


def test_op_precision_the_unit_does_not_support(tmp_path):
    arch = write(tmp_path, ARCH, "arch.yaml")
    workload = write(
        tmp_path,
        "name: w\nops:\n  - {kind: gemm, name: proj, M: 64, N: 64, K: 64, dtype: fp16}\n",
        "workload.yaml",
    )
    message = error_of(simulator.simulate, arch, workload, numerics=False, error=UnsupportedError)
    assert message == "mxu (systolic_array) cannot run proj in fp16; it supports int8"


def test_dataflow_the_unit_lacks():
    message = error_of(
        simulator.simulate,
        "tpu-v1-like",
        "gemm-256",
        "output-stationary",
        numerics=False,
        error=UnsupportedError,
    )
    assert message == "mxu (systolic_array) cannot run gemm in the 'os' dataflow; it supports ws"


def test_mapping_names_a_unit_the_arch_lacks(tmp_path):
    path = write(tmp_path, "name: m\nunit: vpu\n")
    message = error_of(simulator.simulate, "tpu-v1-like", "gemm-256", path, numerics=False)
    assert message == f"{path}:2: unit: no compute unit 'vpu'; units: mxu"


# ----- references and overrides ---------------------------------------------------------------


def test_unknown_preset_lists_the_presets():
    presets = ", ".join(simulator.list_presets("arch"))
    assert (
        error_of(load_arch, "tpu-v9")
        == f"tpu-v9: no arch preset or file of that name; presets: {presets}"
    )


def test_missing_file(tmp_path):
    path = str(tmp_path / "absent.yaml")
    assert error_of(load_arch, path) == f"{path}: no such arch file"


def test_set_without_equals():
    assert error_of(split_overrides, ["nonsense"]) == (
        "--set nonsense: expected PATH=VALUE, e.g. components.mxu.rows=64"
    )


def test_set_with_empty_key():
    assert error_of(split_overrides, ["components..rows=4"]) == (
        "--set components..rows=4: empty key in path 'components..rows'"
    )


def test_set_of_a_path_that_does_not_exist(tmp_path):
    # the missing key is created, the schema names what the new component lacks, and the
    # message says an override made it and which components the file has
    path = write(tmp_path, ARCH)
    routed = split_overrides(["components.nope.rows=4"])
    message = error_of(load_arch, path, routed["arch"])
    assert message.startswith(f"{path}:") and message.endswith(
        ": components.nope: missing required key 'kind' (components.nope is not in the file: "
        "an override made it; the file has mxu, buf, dram under components)"
    )


def test_set_creates_missing_keys_of_an_auto_mapping():
    routed = split_overrides(["mapping.tile.M=64", "mapping.attention.block_q=32"])
    mapping = load_mapping(None, routed["mapping"])
    assert mapping.tile == {"M": 64} and mapping.attention.block_q == 32


def test_set_below_a_scalar(tmp_path):
    path = write(tmp_path, ARCH)
    routed = split_overrides(["components.mxu.rows.x=4"])
    assert error_of(load_arch, path, routed["arch"]) == (
        f"{path}: --set components.mxu.rows.x: components.mxu.rows is not a mapping"
    )


def test_set_of_a_list_item_that_does_not_exist():
    routed = split_overrides(["workload.ops.3.M=64"])
    message = error_of(load_workload, "gemm-256", routed["workload"])
    assert message.endswith("gemm-256.yaml: --set ops.3.M: no key ops.3")


def test_set_value_is_validated_like_the_file(tmp_path):
    # The override is checked by the same rules; the message names the --set that gave the
    # value, not the file's line, which holds another.
    path = write(tmp_path, ARCH)
    routed = split_overrides(["components.mxu.rows=-4"])
    assert (
        error_of(load_arch, path, routed["arch"])
        == f"{path} (from --set components.mxu.rows): components.mxu.rows: must be > 0, got -4"
    )


# ----- the line part --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("    cols: 16", "    cols: 16:", 7),  # malformed YAML
        ("clock: 700 MHz", "clock: 700 MHz/s", 2),
        ("    kind: systolic_array", "    kind: gpu", 4),
        ("rows: 16", "rows: 0", 6),
        ("cols: 16", "cols: sixteen", 7),
        ("capacity: 64 KiB", "capacity: lots", 12),
        ("bandwidth: 25.6 GB/s", "bandwidth: 25.6 GB", 16),
    ],
)
def test_message_starts_with_file_and_line(tmp_path, old, new, line):
    path = write(tmp_path, edit(old, new))
    assert error_of(load_arch, path).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize("seed", [-1, 1.5, 2**32, True, "7"])
def test_simulate_refuses_a_seed_numpy_cannot_take(seed):
    with pytest.raises(SpecError, match=r"seed=.*integer in \[0, 2\*\*32\)"):
        simulator.simulate("edge-npu", "gemm-256", seed=seed, numerics="off")


SNN = """\
name: s
kind: snn
time_steps: 4
groups:
  - {name: in, size: 2, kind: input, rates: RATES}
"""


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ("[0.5, .nan]", "groups.0.rates.1: must be a finite number, got nan"),
        ("[0.5, x]", "groups.0.rates.1: must be a number, got 'x'"),
        ("{file: a.npz}", "groups.0.rates.key: missing required key"),
        ("x", "groups.0.rates: must be a number, got 'x'"),
    ],
)
def test_a_value_that_may_be_a_number_a_list_or_a_file_is_named_by_the_branch_it_took(
    tmp_path, rates, message
):
    """`rates` (one number, a list, or an array in a file): a list with a bad item names that item,
    a file reference its missing key, where the message said the whole value must be a number."""
    path = tmp_path / "s.yaml"
    path.write_text(SNN.replace("RATES", rates))
    with pytest.raises(SpecError) as error:
        load_workload(str(path))
    assert str(error.value) == f"{path}:5: {message}"
