"""Pooling as channel-block steps on a vector unit: each step pools whole maps of some channels."""

from simulator.components import Machine
from simulator.errors import CapacityError
from simulator.mapping.program import Compute, OpProgram, StepCount, bind
from simulator.mapping.ranges import split
from simulator.mapping.vector_ops import last_of_each, streamed_step, units_that_fit
from simulator.numerics.pool import PoolNumerics
from simulator.spec.mapping import MappingSpec
from simulator.spec.precision import nbytes
from simulator.spec.workload import PoolOpSpec


def pool_work(op: PoolOpSpec, maps: int) -> dict[str, int]:
    """Vector primitives for `maps` channel maps: R S - 1 max (or add) per output, plus a multiply
    by 1 / (R S) per output for the average."""
    r, s = op.window
    outputs = maps * op.P * op.Q
    if op.mode == "max":
        return {"max": outputs * (r * s - 1)}
    return {"add": outputs * (r * s - 1), "mul": outputs}


def compile_pool(
    op: PoolOpSpec,
    mapping: MappingSpec,
    machine: Machine,
    numerics: PoolNumerics | None,
    channels: tuple[int, int] | None = None,
    core: int = 0,
) -> OpProgram:
    """Channel blocks that fit the buffers (double-buffered when the mapping says so); with
    `channels`, core `core`'s range of them only."""
    first, end = channels or (0, op.C)
    unit, fallback = machine.vector_unit_for(op.name, "pool")
    vector = machine.components[unit]
    in_buf, out_buf = machine.buffer_for("input"), machine.buffer_for("output")
    map_in, map_out = nbytes(op.H * op.W, op.dtype), nbytes(op.P * op.Q, op.dtype)
    factor = 2 if mapping.double_buffering else 1
    fit = units_that_fit(in_buf, out_buf, map_in, map_out, factor)
    if fit < 1:
        raise CapacityError(
            f"{op.name}: one {op.H}x{op.W} channel map needs {factor * (map_in + map_out):,} B "
            f"but {in_buf.name} holds {int(in_buf.capacity_bytes):,} B"
        )
    block = min(end - first, int(fit))
    blocks = -(-(end - first) // block) if block else 0
    flops = sum(pool_work(op, op.N * (end - first)).values())

    def steps(start: int = 0):
        for at in range(start, op.N * blocks):
            n, c0 = at // blocks, first + at % blocks * block
            c1 = min(c0 + block, end)
            work = pool_work(op, c1 - c0)
            region = ((n, n + 1), (c0, c1))
            size_in, size_out = map_in * (c1 - c0), map_out * (c1 - c0)
            kernel = numerics and bind(numerics.channels, (n, n + 1), (c0, c1))
            traffic = (
                ((in_buf.name, size_in, size_out),)
                if in_buf.name == out_buf.name
                else ((in_buf.name, size_in, 0), (out_buf.name, 0, size_out))
            )
            compute = Compute(
                unit,
                vector.cycles(work),
                tuple(sorted(work.items())),
                0,
                traffic,
                {"X": region},
                kernel,
            )
            yield streamed_step(
                op.name, region, in_buf.name, out_buf.name, size_in, size_out, compute
            )

    return OpProgram(
        name=f"{op.name}@c{core}" if channels else op.name,
        kind="pool",
        steps=steps,
        resume=steps,
        classes=lambda start: last_of_each(
            blocks, op.N, start, bool(block) and (end - first) % block != 0
        ),
        step_count=StepCount(steps, lambda: op.N * blocks),  # a block per image
        macs=0,
        flops=flops,
        unit=unit,
        double_buffering=mapping.double_buffering,
        barrier=False,
        depends_on=() if channels else tuple(op.inputs),
        core=core,
        group=op.name,
        details={
            "unit": unit,
            "fallback": fallback,
            "fallback_reason": "no vector unit runs pool" if fallback else "",
            "channels_per_step": block,
            "mode": op.mode,
        },
    )


def pool_parts(
    op: PoolOpSpec, mapping: MappingSpec, machine: Machine, cores: int, numerics
) -> list[OpProgram]:
    """Pooling split over `cores` by channels, each part on its core's vector unit."""
    return [
        compile_pool(op, mapping, machine.view(core), numerics, channels=span, core=core)
        for core, span in enumerate(split(op.C, cores))
    ]
