"""Vector unit timing and the vector-op recipes, counted by hand."""

import simulator
from simulator.components import build_machine
from simulator.spec import load_arch


def vector_unit(lanes=64):
    spec = load_arch("edge-npu", [(["components", "vector", "lanes"], lanes)])
    return build_machine(spec).components["vector"]


def test_cycles_are_lanes_at_a_time_times_issue_cost():
    unit = vector_unit()
    assert unit.cycles({"add": 64 * 300}) == 300
    # softmax of 2 rows x 64: max 128, add 256, exp 128 (x4), mul 128, div 2 (x4)
    assert (
        unit.cycles({"max": 128, "add": 256, "exp": 128, "mul": 128, "div": 2}) == 2 + 4 + 8 + 2 + 4
    )


def test_special_function_units_run_exp_div_rsqrt_beside_the_lanes():
    spec = load_arch(
        "edge-npu",
        [(["components", "vector", "lanes"], 128), (["components", "vector", "sfu"], 16)],
    )
    unit = build_machine(spec).components["vector"]
    # lanes: max 8192 / 128 + add 16384 / 128 = 192 cycles; SFUs: exp 8192 / 16 = 512
    assert unit.cycles({"max": 8192, "add": 16384, "exp": 8192}) == 512
    # lanes busier: add 128 * 600 / 128 = 600 against div 16 * 10 / 16 = 10
    assert unit.cycles({"add": 128 * 600, "div": 160}) == 600


def test_primitives_on_separate_pipes_take_the_busiest_pipes_time():
    spec = load_arch(
        "edge-npu",
        [
            (["components", "vector", "lanes"], 128),
            (["components", "vector", "cycles_per_element"], {"add": 2, "mul": 2, "max": 2}),
            (["components", "vector", "pipes"], {"max": "alu"}),
        ],
    )
    unit = build_machine(spec).components["vector"]
    # fma pipe: (add 16384 + mul 16384) / 128 x 2 = 512; alu pipe: max 8320 / 128 x 2 = 130
    assert unit.cycles({"max": 8320, "add": 16384, "mul": 16384}) == 512
    # alu busier: max 128 * 300 / 128 x 2 = 600 against add 128 * 10 / 128 x 2 = 20
    assert unit.cycles({"max": 128 * 300, "add": 128 * 10}) == 600


def test_a_residual_add_runs_on_the_vector_unit_and_is_memory_bound():
    # 64 x 300 bf16 add on edge-npu: 300 vector cycles; reads 2 x 38,400 B, writes 38,400 B
    workload = {"name": "r", "ops": [{"kind": "add", "name": "res", "rows": 64, "cols": 300}]}
    report = simulator.simulate("edge-npu", workload)
    assert report.record.busy["vector"] == 300
    assert report.summary["dram_bytes"] == 3 * 64 * 300 * 2
    assert report.summary["numerics_ok"]


def test_unsupported_op_runs_on_the_declared_fallback():
    arch = simulator.load_arch(
        "edge-npu", [(["components", "vector", "runs"], ["add"]), (["fallback"], "vector")]
    )
    workload = {"name": "g", "ops": [{"kind": "gelu", "name": "act", "rows": 8, "cols": 64}]}
    report = simulator.simulate(arch, workload)
    row = report.ops.iloc[0]
    assert row.map_fallback and row.dram_bytes == 2 * 8 * 64 * 2
