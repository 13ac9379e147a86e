"""The auto mapper searches each distinct GEMM shape once per compile, however often it repeats."""

from simulator.components import build_machine
from simulator.mapping import compile_program, plan_cache
from simulator.spec import load_arch, load_mapping, load_workload


def test_each_distinct_shape_is_planned_once(monkeypatch):
    calls = []
    search = plan_cache.auto_plan
    monkeypatch.setattr(plan_cache, "auto_plan", lambda *a: calls.append(a[0].name) or search(*a))
    shapes = [(64, 96, 32), (128, 64, 64), (64, 96, 32)]
    ops = [
        {"name": f"g{i}", "kind": "gemm", "M": m, "N": n, "K": k, "dtype": "int8"}
        for i, (m, n, k) in enumerate(shapes * 20)
    ]
    workload = load_workload({"name": "stack", "ops": ops})
    machine = build_machine(load_arch("datacenter-hbm"))
    program, _ = compile_program(workload, load_mapping(None), machine, False, 0)
    assert len(program.ops) == 60
    assert calls == ["g0", "g1"]  # two distinct shapes
    plans = {op.details["tile"].__repr__() + op.details["loop_order"] for op in program.ops}
    assert len(plans) <= 2
