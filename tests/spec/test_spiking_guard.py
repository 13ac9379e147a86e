"""The cost guard on a spiking network's run (spec/guards.py: check_spiking_cost): its time steps
against the engine-step limit, their records (and the numerics check's batch) against the host
memory limit, refused before anything is drawn; nothing shipped is refused."""

import pytest

import simulator
from simulator.components import build_machine
from simulator.errors import CapacityError
from simulator.mapping.snn import compile_network
from simulator.numerics.snn_check import agreement_bytes_per_step
from simulator.spec.guards import DEFAULT_LIMITS, TIME_STEP_BYTES, Limits, check_spiking_cost


def _digits(steps: int):
    return simulator.load_workload("snn-digits-mlp", [(["time_steps"], steps)])


def test_time_steps_up_to_the_limit_pass_and_one_more_is_refused():
    check_spiking_cost(_digits(1000), Limits(max_tiles=1000))
    with pytest.raises(CapacityError) as refused:
        check_spiking_cost(_digits(1001), Limits(max_tiles=1000))
    assert str(refused.value).endswith(
        "snn-digits-mlp.yaml (from --set time_steps): time_steps: 1,001 time steps to simulate, above the limit of "
        "1,000 engine steps (each time step is at least one); lower time_steps, or raise the "
        "limit with --max-tiles"
    )


def test_the_records_of_many_time_steps_pass_the_memory_limit():
    """10^8 steps of at least TIME_STEP_BYTES each: 59.6 GiB by hand, above 16 GiB."""
    steps = 10**8
    limits = Limits(max_tiles=10**9)
    with pytest.raises(CapacityError, match=r"about 59\.6 GiB of host memory, above the limit"):
        check_spiking_cost(_digits(steps), limits)
    check_spiking_cost(_digits(steps), Limits(max_tiles=10**9, max_memory=steps * TIME_STEP_BYTES))


def test_the_agreement_batch_counts_its_test_inputs_and_neurons():
    """The digits MLP (64 inputs, 64 hidden, 10 outputs: 138 neurons) checked on every test
    input (the run's own sample among them): a byte a neuron per input per step."""
    workload = _digits(4)
    core = next(
        c for c in build_machine(simulator.load_arch("loihi-like")).components.values()
        if c.kind == "neuro_core"
    )  # fmt: skip
    net = compile_network(workload, core, 0)
    assert agreement_bytes_per_step(net) == len(net.ann.model.x_test) * (64 + 64 + 10)


@pytest.mark.parametrize("arch", ["loihi-like", "truenorth-like"])
@pytest.mark.parametrize("workload", ["snn-digits-mlp", "snn-mnist-mlp"])
def test_no_shipped_spiking_run_is_refused(arch, workload):
    spec = simulator.load_workload(workload)
    machine = build_machine(simulator.load_arch(arch))
    core = next(c for c in machine.components.values() if c.kind == "neuro_core")
    net = compile_network(spec, core, 0)
    check_spiking_cost(spec, DEFAULT_LIMITS, agreement_bytes_per_step(net))
