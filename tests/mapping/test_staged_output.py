"""An output register level that stages its write-back through an SRAM (`stages_through`, a GPU
epilogue): one accumulator copy in the registers, the copy being stored in the SRAM."""

import json

import pytest

import simulator
from simulator.components import build_machine
from simulator.errors import SpecError
from simulator.mapping.gemm import plan_from
from simulator.spec import load_arch, load_mapping
from simulator.spec.workload import GemmOpSpec
from tests.mapping.test_cta import gemm, gpu_doc


def staged_gpu(rf="64 KiB", staged="smem", cores=4, tiles=((64, 64),)):
    """test_cta's tiny GPU, its register level staging the output through `staged` (None: not
    staged; 'epi': a 32 KiB SRAM of its own, holding no operand)."""
    doc = gpu_doc(cores=cores, tiles=tiles)
    components = doc["cores"]["components"]
    components["rf"]["capacity"] = rf
    if staged:
        components["rf"]["stages_through"] = staged
    if staged == "epi":
        components["epi"] = {"kind": "sram", "capacity": "32 KiB", "holds": []}
    return load_arch(doc)


def footprint(arch, double_buffering=True, output_dtype=None, order="MNK"):
    """Bytes per buffer of a 64x64x32 tile of an int8 GEMM on core 0."""
    op = GemmOpSpec(kind="gemm", name="g", M=128, N=128, K=64, output_dtype=output_dtype)
    mapping = load_mapping(None).model_copy(update={"double_buffering": double_buffering})
    machine = build_machine(arch).view(0)
    plan = plan_from(op, mapping, machine, {"M": 64, "N": 64, "K": 32}, list(order))
    return plan.footprint(machine)


# by hand: A 64x32 int8 = 2,048 B and B 32x64 int8 = 2,048 B in smem; C 64x64 int32 = 16,384 B
A = B = 64 * 32
C = 64 * 64 * 4


def test_a_double_buffered_output_doubles_its_register_level_without_staging():
    assert footprint(staged_gpu(staged=None)) == {"core0.smem": 2 * (A + B), "core0.rf": 2 * C}


def test_a_staged_output_keeps_one_copy_in_registers_and_passes_through_the_operand_space():
    assert footprint(staged_gpu()) == {"core0.smem": 2 * (A + B), "core0.rf": C}


def test_a_staging_sram_without_operands_holds_the_tile_as_it_is_written_back():
    """int32 outputs: 16,384 B; requantized to int8: 64 x 64 x 1 B; with K outside the N loop a
    tile leaves unfinished (a spill of int32 partial sums), so the staging holds accumulators."""
    expected = {"core0.smem": 2 * (A + B), "core0.rf": C}
    assert footprint(staged_gpu(staged="epi")) == expected | {"core0.epi": C}
    narrow = footprint(staged_gpu(staged="epi"), output_dtype="int8")
    assert narrow == expected | {"core0.epi": 64 * 64}
    spilling = footprint(staged_gpu(staged="epi"), output_dtype="int8", order="MKN")
    assert spilling == expected | {"core0.epi": C}


def test_a_single_buffered_output_is_stored_from_its_registers_staged_or_not():
    expected = {"core0.smem": A + B, "core0.rf": C}
    assert footprint(staged_gpu(), double_buffering=False) == expected
    assert footprint(staged_gpu(staged=None), double_buffering=False) == expected


def test_staging_lets_a_tile_fill_the_register_level():
    """16 KiB of registers hold one 64x64 int32 tile: staged, a 64x64 CTA keeps that tile; not
    staged, two copies must fit, so the tile halves. Both match numpy; staged, the DRAM bytes are
    the four CTAs' operands and C once."""
    shape = gemm(128, 128, 64)
    staged = simulator.simulate(staged_gpu("16 KiB"), shape, numerics=True)
    plain = simulator.simulate(staged_gpu("16 KiB", staged=None), shape, numerics=True)
    assert staged.summary["numerics_ok"] and plain.summary["numerics_ok"]
    assert {row.map_tile for row in staged.ops.itertuples()} == {'{"M": 64, "N": 64, "K": 64}'}
    plain_tiles = [json.loads(row.map_tile) for row in plain.ops.itertuples()]
    assert all(tile["M"] * tile["N"] <= 64 * 32 for tile in plain_tiles)
    ctas = 4  # each reads its 64x64 int8 A and B blocks; C leaves once, as int32
    assert staged.summary["dram_bytes"] == ctas * 2 * 64 * 64 + 128 * 128 * 4


def test_a_split_k_gemm_stages_its_partials_and_matches_numpy():
    """One tile on 4 cores, K split 4 ways: the partial tiles leave through the staging SRAM."""
    report = simulator.simulate(staged_gpu(), gemm(64, 64, 1024), numerics=True)
    assert report.summary["numerics_ok"]
    partial = 64 * 64 * 4
    moved = {
        kind: sum(op[kind] for op in report.record.op_dram.values()) for kind in ("spill", "reload")
    }
    assert moved == {"spill": 3 * partial, "reload": 3 * partial}


@pytest.mark.parametrize(
    "level, value, message",
    [
        ("rf", "hbm", "rf.stages_through: 'hbm' is not an sram of this core"),
        ("rf", "alu", "rf.stages_through: 'alu' is not an sram of this core"),
        ("acc", "smem", "acc.stages_through: only the level DMA fills with the output"),
    ],
)
def test_a_bad_staging_level_is_a_spec_error(level, value, message):
    doc = gpu_doc()
    components = doc["cores"]["components"]
    components["acc"] = {"kind": "regfile", "unit": "tc", "holds": ["output"], "capacity": "4 B"}
    components = {"acc": components.pop("acc"), **components}  # acc inside rf (rf is the outer)
    doc["cores"]["components"] = components
    components[level]["stages_through"] = value
    with pytest.raises(SpecError, match=message):
        load_arch(doc)


def test_staging_on_a_level_without_the_output_is_a_spec_error():
    doc = gpu_doc()
    doc["cores"]["components"]["frag"] = {
        "kind": "regfile", "unit": "tc", "holds": ["input"], "capacity": "1 KiB",
        "stages_through": "smem",
    }  # fmt: skip
    with pytest.raises(SpecError, match="stages_through is for a level holding the output"):
        load_arch(doc)


@pytest.mark.parametrize("staging", ["smem", "epi"])
def test_a_split_k_gemm_with_narrow_outputs_spills_its_partials_as_accumulators(staging):
    """int8 outputs are written back 1 B an element, but a split-K slice's partial tile leaves
    as int32, whichever SRAM it passes through."""
    workload = gemm(64, 64, 1024)
    workload["ops"][0]["output_dtype"] = "int8"
    report = simulator.simulate(staged_gpu(staged=staging), workload, numerics=True)
    assert report.summary["numerics_ok"]
    spilled = sum(op["spill"] for op in report.record.op_dram.values())
    assert spilled == 3 * 64 * 64 * 4


@pytest.mark.parametrize("staging", ["smem", "epi"])
def test_a_loop_order_that_spills_stages_its_partial_sums(staging):
    """K outside N: each 64x64 output tile leaves unfinished once (int32 out and back)."""
    mapping = {"tile": {"M": 64, "N": 64, "K": 32}, "loop_order": ["M", "K", "N"]}
    workload = gemm(64, 128, 64)
    workload["ops"][0]["output_dtype"] = "int8"
    arch = staged_gpu(staged=staging, cores=1, tiles=((64, 128),))
    report = simulator.simulate(arch, workload, mapping, numerics=True)
    assert report.summary["numerics_ok"]
    moved = {k: sum(op[k] for op in report.record.op_dram.values()) for k in ("spill", "store")}
    assert moved == {"spill": 2 * 64 * 64 * 4, "store": 64 * 128}


def test_flash_attention_keeps_one_copy_of_s_and_o_in_staged_registers():
    """d = 32, bf16, 16 KiB of registers, 64 KiB of shared memory. Not staged, S and O get half the
    registers: 8 KiB, 4,096 bf16 elements, Bc = 4096 / (4 x 32) = 32; staged, all 16 KiB: Bc = 64
    (S 32x64 and O 32x32 in fp32 are 12 KiB), Br = min(Bc, d) = 32 both times; O leaves through
    Q's shared memory, so it adds none."""
    workload = {"name": "a", "ops": [{"kind": "attention", "name": "attn", "heads": 1}]}
    workload["ops"][0] |= {"q_len": 128, "head_dim": 32, "dtype": "bf16"}
    blocks = {}
    for staged in (True, False):
        arch = staged_gpu("16 KiB", staged="smem" if staged else None)
        report = simulator.simulate(arch, workload, numerics=True)
        assert report.summary["numerics_ok"]
        (row,) = (
            report.ops[["map_block_q", "map_block_kv"]].drop_duplicates().itertuples(index=False)
        )
        blocks[staged] = tuple(row)
    assert blocks == {True: (32, 64), False: (32, 32)}
