"""The auto mapper's plans memoized by shape: a layer stack repeats a few GEMM shapes many times,
and serving prices the same batch shapes again and again, so each distinct shape is searched once."""

from collections import OrderedDict

from simulator.components import Machine
from simulator.mapping.auto import auto_plan
from simulator.mapping.gemm import GemmPlan
from simulator.spec.mapping import MappingSpec
from simulator.spec.workload import GemmOpSpec

_LIMIT = 1024
_PLANS: OrderedDict[tuple, tuple[MappingSpec, object, GemmPlan]] = OrderedDict()


def planned(op: GemmOpSpec, mapping: MappingSpec, machine: Machine) -> GemmPlan:
    """auto_plan(op, mapping, machine), searched once per (shape, dtypes, mapping, arch, core view).

    A plan depends on the op only through M, N, K, dtype and output_dtype. Specs are frozen, so
    identity names them; each entry holds its mapping and arch, so an id cannot be reused while
    the entry lives."""
    key = (
        id(mapping),
        id(machine.arch),
        tuple(machine.components),
        op.M,
        op.N,
        op.K,
        op.dtype,
        op.output_dtype,
    )
    entry = _PLANS.get(key)
    if entry is not None:
        _PLANS.move_to_end(key)
        return entry[2]
    plan = auto_plan(op, mapping, machine)
    _PLANS[key] = (mapping, machine.arch, plan)
    if len(_PLANS) > _LIMIT:
        _PLANS.popitem(last=False)
    return plan
