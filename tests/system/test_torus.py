"""A 3-D torus (TPU v4's ICI): all-reduces ring by ring along the dimensions, each dimension's time
against the ring closed form 2 (n - 1) / n x bytes / link bandwidth, and the link traffic by hand."""

import math

import pytest

from simulator import simulate
from simulator.errors import SpecError
from simulator.spec import load_arch
from simulator.system.links import neighbour_link

ROW_SPLIT = {  # one row-split GEMM: its 1024 x 2048 bf16 output (4 MiB) is all-reduced
    "name": "row-split",
    "ops": [{"kind": "gemm", "name": "g", "M": 1024, "N": 2048, "K": 1024, "dtype": "bf16",
             "output_dtype": "bf16", "parallel": "row"}],
}  # fmt: skip
BYTES = 1024 * 2048 * 2


def _torus(dims, tp=None):
    return load_arch(
        {
            "name": "torus",
            "system": {
                "chip": "datacenter-hbm",
                "count": math.prod(dims),
                "tensor_parallel": tp,
                "pipeline_stages": math.prod(dims) // (tp or math.prod(dims)),
                "links": {"kind": "tpu_v4_ici", "count": 6, "topology": "torus", "dims": dims},
            },
        }
    )


def test_a_tpu_v4_cube_has_one_50_gbps_link_to_each_of_six_neighbours():
    bandwidth, _, _ = neighbour_link(_torus([4, 4, 4]))
    assert bandwidth == pytest.approx(50e9)  # Jouppi et al. 2023: 6 ICI links per chip


@pytest.mark.parametrize("dims", [[2, 2, 2], [4, 2, 2]])
def test_each_dimension_runs_a_ring_near_its_closed_form(dims):
    system = _torus(dims)
    report = simulate(system, ROW_SPLIT, numerics="full")
    assert report.summary["numerics_ok"] is True  # every ring's sums against numpy
    bandwidth, latency, _ = neighbour_link(system)
    assert [run.copies for run in report.links] == [math.prod(dims) // n for n in dims]
    share = 1
    for run, n in zip(report.links, dims, strict=True):
        # reduce-scatter then all-gather (or, along the last dimension, an all-reduce) of the
        # previous dimension's chunk: 2 (n - 1) rounds of bytes / (share n) on one link each
        closed = 2 * (n - 1) / n * BYTES / share / bandwidth
        moved = run.report.seconds - 2 * (n - 1) * latency
        assert closed <= moved <= 1.6 * closed  # chunks pipelined in pieces: fill and drain
        # every chip of every line sends 2 (n - 1) chunks of bytes / (share n)
        assert run.report.summary["noc"]["core_to_core_bytes"] * run.copies == (
            math.prod(dims) * 2 * (n - 1) * BYTES // (share * n)
        )
        share *= n
    assert report.all_reduce_seconds == pytest.approx(sum(r.report.seconds for r in report.links))


def test_a_group_spans_the_first_dimensions():
    two_layers = {
        "name": "two-layers",
        "meta": {"layers": 2},
        "ops": [
            {**ROW_SPLIT["ops"][0], "name": "L0.g"},
            {**ROW_SPLIT["ops"][0], "name": "L1.g", "inputs": ["L0.g"], "K": 2048},
        ],
    }
    report = simulate(_torus([2, 2, 2], tp=4), two_layers, numerics="off")
    assert [run.copies for run in report.links] == [2, 2]  # X then Y; Z joins the two stages
    assert report.summary["stage_seconds"][1] > report.summary["stage_seconds"][0]
    with pytest.raises(SpecError, match="must span the first dims"):
        _torus([2, 4, 2], tp=4)
