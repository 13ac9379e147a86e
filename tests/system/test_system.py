"""Systems of chips: the Megatron split, the link network, and whole runs whose numbers are
checked against hand-derived shapes, the ring all-reduce bound and the pieces they add up from."""

import pytest

from simulator import simulate
from simulator.cli import main
from simulator.errors import UnsupportedError
from simulator.spec import load_arch, load_workload
from simulator.system.links import link_arch, neighbour_link
from simulator.system.shard import shard

TINY = {
    "kind": "transformer",
    "name": "tiny",
    "hidden": 256,
    "heads": 4,
    "ffn": 1024,
    "layers": 2,
    "norm": "layernorm",
    "mlp": "gelu",
    "context": 64,
    "dtype": "bf16",
}


def _system(count=4, tp=None, stages=1, topology="switch", links=12):
    return load_arch(
        {
            "name": "tiny-system",
            "system": {
                "chip": "datacenter-hbm",
                "count": count,
                "tensor_parallel": tp,
                "pipeline_stages": stages,
                "links": {"kind": "nvlink3", "count": links, "topology": topology},
            },
        }
    )


def test_gpt3_layer_splits_as_megatron_over_four_chips():
    gpt3 = load_workload("gpt-3-175b-prefill")
    part = shard(gpt3, 4, 1, "test")
    ops = {op.name: op for op in part.workload.ops}
    assert ops["L0.q_proj"].N == 12288 // 4 and ops["L0.q_proj"].K == 12288  # column
    assert ops["L0.up_proj"].N == 49152 // 4
    assert ops["L0.o_proj"].K == 12288 // 4 and ops["L0.o_proj"].N == 12288  # row
    assert ops["L0.down_proj"].K == 49152 // 4
    assert ops["L0.attention"].heads == 96 // 4
    assert ops["L0.gelu"].cols == 49152 // 4
    assert ops["L0.attn_norm"].cols == 12288  # norms run whole on every chip
    assert sorted(part.all_reduces) == ["L0.down_proj", "L0.o_proj"]
    assert {op.elements for op in part.all_reduces.values()} == {2048 * 12288}


def test_links_follow_the_tech_table():
    a100s = link_arch(load_arch("a100x4-nvlink"))
    assert a100s.components["links"].link_bandwidth == pytest.approx(12 * 25e9)
    assert a100s.components["links"].topology == "crossbar"
    h100s = link_arch(load_arch("h100x8-nvswitch"))
    assert h100s.components["links"].link_bandwidth == pytest.approx(18 * 25e9)
    tpus = load_arch("tpu-v4-slice")
    assert neighbour_link(tpus)[0] == pytest.approx(50e9)  # one ICI link to each neighbour
    assert link_arch(tpus).components["hbm"].bandwidth == pytest.approx(4 * 1200e9)


def test_tensor_parallel_run_adds_up_and_checks_numerics():
    report = simulate(_system(), TINY, numerics="full")
    s = report.summary
    assert s["numerics_ok"] is True
    assert s["seconds"] == pytest.approx(s["chip_seconds"] + s["all_reduce_seconds"])
    # every MAC of the model is done once over the four chips: 2 layers of q,k,v,o (256x256),
    # up and down (256x1024), attention QK^T and PV (4 heads x 64 x 64 x 64, causal not skipped)
    tokens = 64
    gemm = 2 * tokens * (4 * 256 * 256 + 2 * 256 * 1024)
    attention = 2 * 2 * 4 * tokens * tokens * 64
    assert gemm <= s["macs"] <= gemm + attention
    # with no output_dtype the activations cross the links in the inputs' bf16, as Megatron-LM
    # writes them; a ring all-reduce of S bytes over n chips moves 2 (n-1) / n S through each
    # chip's port; at 32 KiB NCCL runs LL (tests/system/test_nccl.py), 1/4 of NVLink's
    # 12 x 20 GB/s, after 6.6 us
    elements = tokens * 256
    bound = 4 * (6.6e-6 + 2 * 3 / 4 * elements * 2 / (12 * 20e9 / 4))  # 4 all-reduces, bf16
    assert s["all_reduce_seconds"] >= bound
    # 4 chips x 6 chunk sends, each 2 wire bytes per byte of data (LL's 16-byte lines carry 8)
    assert s["link_bytes"] == 4 * 4 * 2 * 3 * (elements // 4) * 2 * 2


@pytest.mark.parametrize(
    ("dtype", "output_dtype", "width"),
    [("bf16", None, 2), ("bf16", "fp32", 4), ("fp8_e4m3", None, 1), ("fp8_e4m3", "fp16", 2)],
)
def test_all_reduce_moves_the_precision_the_gemm_writes(dtype, output_dtype, width):
    # the partial outputs cross the links as the row-split GEMM's output_dtype, else in its
    # inputs' format (fp8 GEMMs writing fp16, as TensorRT-LLM's do, say output_dtype: fp16)
    model = TINY | {"dtype": dtype} | ({"output_dtype": output_dtype} if output_dtype else {})
    part = shard(load_workload(model), 4, 1, "test")
    assert {op.dtype for op in part.all_reduces.values()} == {output_dtype or dtype}
    s = simulate(_system(), model, numerics="off").summary
    # 4 all-reduces of 64 x 256 elements, 4 chips x 6 chunk sends of a quarter each, LL's 2
    # wire bytes per byte of data (16 to 64 KiB all run LL)
    assert s["link_bytes"] == 4 * 4 * 2 * 3 * (64 * 256 // 4) * width * 2


def test_the_row_split_gemm_writes_what_its_all_reduce_moves():
    # no output_dtype: under tensor parallelism a bf16 GEMM writes bf16 C (Megatron-LM's
    # RowParallelLinear all-reduces its matmul's output as it is), so the chip's HBM traffic is
    # A + B + C at 2 bytes each (64 x 256 of A, 256 x 1024 of B per chip, 64 x 1024 of C), not
    # C at the fp32 accumulators' 4
    gemm = {"kind": "gemm", "name": "g", "M": 64, "N": 1024, "K": 1024, "dtype": "bf16",
            "parallel": "row"}  # fmt: skip
    report = simulate(_system(), {"name": "one", "ops": [gemm]}, numerics="off")
    (row,) = report.chip.summary["ops"]
    assert row["dram_bytes"] == 2 * (64 * 256 + 256 * 1024 + 64 * 1024)
    (collective,) = report.links[0].report.program.ops[:1]
    assert collective.details["protocol"] == "LL"  # 128 KiB of bf16 partial sums


@pytest.mark.parametrize(("dtype", "moved"), [("int8", "int32"), ("int4", "int32")])
def test_an_integer_gemm_all_reduces_its_accumulators(dtype, moved):
    gemm = {"kind": "gemm", "name": "g", "M": 16, "N": 256, "K": 256, "dtype": dtype,
            "parallel": "row"}  # fmt: skip
    # no requantization stated: the chip writes its accumulators and the all-reduce moves them
    part = shard(load_workload({"name": "one", "ops": [gemm]}), 4, 1, "test")
    assert part.all_reduces["g"].dtype == moved
    assert part.workload.ops[0].output_dtype is None


def test_an_int16_gemm_without_output_dtype_is_refused():
    gemm = {"kind": "gemm", "name": "g", "M": 16, "N": 256, "K": 256, "dtype": "int16",
            "parallel": "row"}  # fmt: skip
    with pytest.raises(UnsupportedError, match="g accumulates int16 in int64.*output_dtype"):
        shard(load_workload({"name": "one", "ops": [gemm]}), 4, 1, "test")


def test_more_chips_share_the_work():
    one = simulate(_system(count=1), TINY, numerics="off").summary
    four = simulate(_system(count=4), TINY, numerics="off").summary
    assert one["all_reduce_seconds"] == 0
    assert four["chip_seconds"] < one["chip_seconds"]
    assert four["macs"] == one["macs"]


def test_pipeline_stages_hand_activations_over_one_link():
    report = simulate(_system(count=2, tp=1, stages=2), TINY, numerics="off")
    s = report.summary
    assert s["tensor_parallel"] == 1 and s["all_reduce_seconds"] == 0
    assert [row["stage"] for row in s["ops"]] == [0] * 12 + [1] * 12  # 12 ops a layer
    bandwidth, latency, _ = neighbour_link(_system(count=2, tp=1, stages=2))
    assert s["pipeline_hop_seconds"] == pytest.approx(latency + 64 * 256 * 2 / bandwidth)
    assert s["seconds"] == pytest.approx(s["chip_seconds"] + s["pipeline_hop_seconds"])
    assert sum(s["stage_seconds"]) == pytest.approx(s["chip_seconds"])  # the chip's run, cut


@pytest.mark.parametrize("extra", [["--no-numerics"], ["--json"]])
def test_cli_runs_a_system_file(tmp_path, capsys, extra):
    path = tmp_path / "node.yaml"
    path.write_text(
        "name: node\nsystem:\n  chip: datacenter-hbm\n  count: 2\n"
        "  links: {kind: tpu_v4_ici, count: 2, topology: ring}\n"
    )
    assert main(["run", str(path), "gemm:M=64,N=128,K=128,dtype=bf16", *extra]) == 0
    out = capsys.readouterr().out
    assert "tensor-parallel 2" in out or '"tensor_parallel": 2' in out


def test_one_chip_per_group_stands_for_every_chip():
    # simulating each of the four chips' shares on its own gives the system's chip numbers: the
    # slowest chip's time, and the chips' energy and MACs added up
    system = _system()
    report = simulate(system, TINY, numerics="off")
    part = shard(load_workload(TINY), 4, 1, "test").workload
    chips = [simulate(system.chip_arch, part, numerics="off").summary for _ in range(4)]
    s = report.summary
    assert s["chip_seconds"] == max(chip["seconds"] for chip in chips)
    assert s["macs"] == sum(chip["macs"] for chip in chips)
    links = sum(run.report.summary["energy_pj"] for run in report.links)
    assert s["energy_pj"] == pytest.approx(sum(chip["energy_pj"] for chip in chips) + links)


@pytest.mark.parametrize(("dtype", "in_bytes", "c_bytes"), [("bf16", 2, 2), ("int8", 1, 4)])
def test_one_chip_and_a_system_write_the_same_c(dtype, in_bytes, c_bytes):
    # one rule on one chip and on a system: a bf16 GEMM writes bf16 C, an int8 one its int32
    # accumulators; each of 4 chips writes its N / 4 columns of C (64 x 256 of B per chip), the
    # same bytes as its shard run alone on the chip
    gemm = {"kind": "gemm", "name": "g", "M": 64, "N": 1024, "K": 256, "dtype": dtype}
    work = {"name": "one", "ops": [gemm]}
    alone = simulate("datacenter-hbm", work, numerics="off").summary
    assert alone["dram_bytes"] == (64 * 256 + 256 * 1024) * in_bytes + 64 * 1024 * c_bytes
    system = simulate(_system(), work, numerics="off")
    (row,) = system.chip.summary["ops"]
    assert row["dram_bytes"] == (64 * 256 + 256 * 256) * in_bytes + 64 * 256 * c_bytes
    part = shard(load_workload(work), 4, 1, "test").workload
    assert (
        simulate("datacenter-hbm", part, numerics="off").summary["dram_bytes"] == row["dram_bytes"]
    )
