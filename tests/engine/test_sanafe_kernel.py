"""SANA-FE's detailed schedule compiled (engine.sanafe_kernel) against the Python reference
(DetailedNoc.schedule): the same last timestamp, bit for bit, on random meshes and message lists.
Delays are drawn from a few values so that sent times tie often (ties decide the order)."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator.engine import sanafe_kernel
from simulator.engine.sanafe_detailed import DetailedNoc
from simulator.engine.sanafe_kernel import compiled
from simulator.spec.sanafe import import_sanafe, write_import

pytest.importorskip("numba")

DELAYS = [0.0, 1e-9, 2e-9, 1.5e-9, 3e-9, 0.1e-9, 7e-9]  # 0.1 + 0.2-style sums round differently


def _noc(width, height, per_tile, buffer):
    hops = {"east": 1e-9, "west": 2e-9, "north": 3e-9, "south": 4e-9}
    xy = [(t // height, t % height) for t in range(width * height) for _ in range(per_tile)]
    offsets = [c % per_tile for c in range(width * height * per_tile)]
    return DetailedNoc(xy, offsets, height, width, per_tile, hops, buffer)


@settings(max_examples=100, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    buffer=st.integers(0, 2),
    seed=st.integers(0, 2**32 - 1),
    per_core=st.integers(0, 12),
)
def test_compiled_schedule_equals_the_reference(shape, buffer, seed, per_core):
    noc = _noc(*shape, buffer)
    cores = shape[0] * shape[1] * shape[2]
    rng = np.random.default_rng(seed)
    queues, flat = [], []
    for core in range(cores):
        queue = []
        for _ in range(int(rng.integers(0, per_core + 1))):
            generation = DELAYS[rng.integers(len(DELAYS))] + DELAYS[rng.integers(len(DELAYS))]
            if rng.random() < 0.15:  # a placeholder: neuron work with no message
                queue.append((generation, None, 0.0))
                flat.append((generation, -1, 0.0))
                continue
            dst = int(rng.integers(cores))
            processing = DELAYS[rng.integers(1, len(DELAYS))] * float(rng.integers(1, 4))
            queue.append((generation, noc.pair(core, dst), processing))
            flat.append((generation, noc.ids[core, dst], processing))
        queues.append(queue)
    sizes = np.array([len(q) for q in queues], dtype=np.int64)
    stop = np.cumsum(sizes)
    generation = np.array([f[0] for f in flat], dtype=np.float64)
    route = np.array([f[1] for f in flat], dtype=np.int64)
    processing = np.array([f[2] for f in flat], dtype=np.float64)
    table = noc.table() if noc.ids else (np.zeros(1, dtype=np.int64),) * 3 + (np.zeros(1),) * 4
    fast = compiled()(stop - sizes, stop, generation, route, processing, *table, noc.links, cores)
    assert fast == noc.schedule(queues, cores)


@pytest.mark.parametrize("arch", ["chip.yaml", "chip_busy.yaml"])
def test_runs_with_and_without_the_kernel_are_identical(tmp_path, monkeypatch, arch):
    """A whole imported run under the detailed rule: per-step cycles equal bit for bit whether
    the schedule runs compiled or as the Python reference (what runs without numba)."""
    data = Path(__file__).parents[1] / "data" / "sanafe"
    paths = write_import(tmp_path, *import_sanafe(data / arch, data / "net.yaml", 60, "detailed"))
    fast = simulator.simulate(*paths).steps["cycles"].tolist()
    monkeypatch.setattr(sanafe_kernel, "_compiled", False)
    assert simulator.simulate(*paths).steps["cycles"].tolist() == fast
