"""A GEMM tile's cost is computed once per machine and plan, across ops: the cached costs equal
a direct computation, and every input the cost depends on selects its own entry."""

import dataclasses
import gc

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator.components import build_machine
from simulator.errors import CapacityError, SpecError, UnsupportedError
from simulator.mapping import gemm
from simulator.mapping.gemm import _tile_cost, compile_gemm, plan_from, tile_costs
from simulator.mapping.hierarchy import TileLevels
from simulator.mapping.traffic import OPERAND_DIMS
from simulator.spec import load_arch, load_mapping
from simulator.spec.workload import GemmOpSpec
from tests.strategies import shapes_and_mappings

ARCHES = ("tpu-v1-like", "eyeriss-like", "zigzag-tpu-like", "a100-like")
MACHINES: dict = {}  # one machine per arch for the whole run: its cache warms across examples


def _built(arch: str):
    """The machine GEMMs compile for: core 0's view on a many-core arch."""
    machine = build_machine(load_arch(arch))
    return machine.view(0) if machine.arch.cores else machine


def _machine(arch: str):
    if arch not in MACHINES:
        MACHINES[arch] = _built(arch)
    return MACHINES[arch]


def _planned(shape, mapping, machine, dtype):
    """(op, plan, levels) of a random GEMM, or None where the arch cannot run or hold it."""
    op = GemmOpSpec(kind="gemm", name="g", dtype=dtype, **shape)
    try:
        spec = load_mapping(mapping)
        plan = plan_from(op, spec, machine, spec.tile, spec.loop_order)
        levels = TileLevels(plan, machine, op.K)
        levels.check({d: min(plan.tile[d], shape[d]) for d in "MNK"})
    except (CapacityError, SpecError, UnsupportedError):
        return None
    return op, plan, levels


def _uncached(machine, plan, levels, key):
    """The cost of one cached tile kind, computed afresh."""
    extent = dict(zip("MNK", key[:3]))
    unit = machine.components[plan.unit]
    buffers = {role: machine.buffer_for(role).name for role in OPERAND_DIMS}
    return _tile_cost(extent, plan, unit, levels, machine, buffers, *key[3:])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(
    st.sampled_from(ARCHES),
    st.sampled_from(["int8", "fp16"]),
    shapes_and_mappings(max_dim=48),
    shapes_and_mappings(max_dim=48),
    st.data(),
)
def test_cached_costs_equal_uncached(arch, dtype, first, second, data):
    """Two random GEMMs compiled on a machine whose cache earlier examples warmed give the same
    steps as on a fresh machine, and every cached tile cost equals a direct computation."""
    machine = _machine(arch)
    (unit,) = [c for c in machine.compute_units.values() if c.kind == "systolic_array"]
    for _, mapping in (first, second):  # a dataflow the arch's array runs
        mapping["dataflow"] = data.draw(st.sampled_from(unit.spec.dataflows))
    planned = [_planned(shape, mapping, machine, dtype) for shape, mapping in (first, second)]
    assume(all(planned))
    fresh = _built(arch)
    for op, plan, levels in planned:
        warm = list(compile_gemm(op, plan, machine, None, barrier=False).steps())
        cold = list(compile_gemm(op, plan, fresh, None, barrier=False).steps())
        assert warm == cold
        costs = tile_costs(machine, plan, levels)
        assert costs
        for key, cached in costs.items():
            assert cached == _uncached(machine, plan, levels, key)


def _base():
    machine = _machine("eyeriss-like")  # register levels: costs come from the level tables
    shape = {"M": 40, "N": 24, "K": 32}
    mapping = {"dataflow": "os", "tile": {"M": 16, "N": 8, "K": 32}, "loop_order": ["M", "N", "K"]}
    op, plan, levels = _planned(shape, mapping, machine, "int8")
    return machine, op, plan, levels


def test_each_input_selects_its_own_costs():
    """Changing any plan field, whether K fits one tile, or the machine gives another entry."""
    machine, op, plan, levels = _base()
    base = tile_costs(machine, plan, levels)
    variants = [
        dataclasses.replace(plan, dataflow="ws"),
        dataclasses.replace(plan, spatial=("M", "K")),
        dataclasses.replace(plan, tile={"M": 16, "N": 8, "K": 16}),
        dataclasses.replace(plan, loop_order=["N", "M", "K"]),
        dataclasses.replace(plan, double_buffering=not plan.double_buffering),
        dataclasses.replace(plan, accounting="scalesim"),
        dataclasses.replace(plan, dtype="fp16"),
        dataclasses.replace(plan, accumulator="fp32"),
        dataclasses.replace(plan, output="int8"),
        dataclasses.replace(plan, registers={"x": 1}),
        dataclasses.replace(plan, levels={"x": ({"M": 1}, ["M"])}),
        dataclasses.replace(plan, unit="other"),
        dataclasses.replace(plan, halved=frozenset({"x"})),
    ]
    entries = [tile_costs(machine, v, levels) for v in variants]
    entries.append(tile_costs(machine, plan, TileLevels(plan, machine, 2 * op.K)))  # K > tile
    entries.append(tile_costs(_machine("tpu-v1-like"), plan, levels))
    assert all(entry is not base for entry in entries)
    assert len({id(entry) for entry in entries}) == len(entries)
    assert tile_costs(machine, dataclasses.replace(plan), levels) is base  # equal plan: same


def test_a_changed_input_changes_the_cost():
    """The accounting and the dataflow move a tile's cycles: their entries hold other costs."""
    machine, op, plan, levels = _base()
    list(compile_gemm(op, plan, machine, None, barrier=False).steps())
    cycles = {key: cost.cycles for key, (cost, *_) in tile_costs(machine, plan, levels).items()}
    for changed in (
        dataclasses.replace(plan, accounting="scalesim"),
        dataclasses.replace(plan, dataflow="ws"),
    ):
        changed_levels = TileLevels(changed, machine, op.K)
        list(compile_gemm(op, changed, machine, None, barrier=False).steps())
        other = tile_costs(machine, changed, changed_levels)
        assert other.keys() == cycles.keys()
        assert {key: cost.cycles for key, (cost, *_) in other.items()} != cycles


def test_costs_go_with_their_machine():
    """A machine's cache is dropped when the machine is: a new machine starts empty."""
    machine = build_machine(load_arch("tpu-v1-like"))
    op = GemmOpSpec(kind="gemm", name="g", M=64, N=64, K=64, dtype="int8")
    spec = load_mapping({"tile": {"M": 32, "N": 32, "K": 64}, "loop_order": ["M", "N", "K"]})
    plan = plan_from(op, spec, machine, spec.tile, spec.loop_order)
    list(compile_gemm(op, plan, machine, None, barrier=False).steps())
    assert tile_costs(machine, plan, TileLevels(plan, machine, op.K))
    del machine
    gc.collect()
    again = build_machine(load_arch("tpu-v1-like"))
    assert not tile_costs(again, plan, TileLevels(plan, again, op.K))


def test_cores_of_a_chip_share_their_costs(monkeypatch):
    """Every core of a many-core chip is built from one template: a tile kind's cost is computed
    once for all of them, and each core's steps and costs (its own buffer names) equal a direct
    computation on that core's view."""
    chip = build_machine(load_arch("a100-like"))
    op = GemmOpSpec(kind="gemm", name="g", dtype="fp16", M=96, N=80, K=64)
    mapping = {"tile": {"M": 64, "N": 64, "K": 32}, "loop_order": ["M", "N", "K"]}
    computed = []
    monkeypatch.setattr(gemm, "_tile_cost", lambda *a: computed.append(a) or _tile_cost(*a))
    for core in (0, 1, 7):
        view = chip.view(core)
        _, plan, levels = _planned(dict(M=op.M, N=op.N, K=op.K), mapping, view, "fp16")
        steps = list(compile_gemm(op, plan, view, None, barrier=False).steps())
        costs = tile_costs(view, plan, levels)
        assert {b for s in steps for c in s.computes for b, *_ in c.sram_traffic} <= set(
            view.components
        )
        for key, cached in costs.items():
            assert cached == _uncached(view, plan, levels, key)
    assert len(computed) == len(costs)  # the kinds of one core: the others reuse them
