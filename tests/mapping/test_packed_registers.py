"""A register level that packs narrow elements (`packed`, a GPU's MMA operand fragments) moves
their bytes through its ports; an unpacked one moves a whole word per element (ZigZag's), both
checked by hand on a one-SM GPU-like chip."""

import pytest

import simulator
from tests.mapping.test_cta import gpu_doc


def one_sm(packed: bool) -> dict:
    """`gpu_doc`'s chip with one SM whose 8x8 array reads A and B from a 4-byte-wide register
    level (`frag`, 64 KiB, packed or not) filled from shared memory."""
    doc = gpu_doc(cores=1)
    components = doc["cores"]["components"]
    components["tc"]["input_precision"] += ["fp8_e4m3"]
    components["frag"] = {
        "kind": "regfile",
        "unit": "tc",
        "holds": ["input", "weight"],
        "capacity": "64 KiB",
        "instances": "array",
        "width": "4 B",
        "ports": 64,
        "packed": packed,
    }
    return doc


def frag_read_bytes(packed: bool, dtype: str, K: int) -> int:
    gemm = {
        "name": "g",
        "ops": [{"kind": "gemm", "name": "g", "M": 64, "N": 64, "K": K, "dtype": dtype}],
    }
    report = simulator.simulate(one_sm(packed), gemm, numerics=False)
    levels = report.levels
    reads = levels[(levels.level == "core0.frag") & (levels.action == "read")]
    return int(reads["bytes"].sum())


@pytest.mark.parametrize("dtype, size", [("fp8_e4m3", 1), ("bf16", 2)])
def test_packed_fragments_move_their_bytes_unpacked_a_word_each(dtype, size):
    """A 64x64 output-stationary tile on an 8x8 array is 64 folds; each fold reads 8 rows of A and
    8 columns of B per k, so 64 x 16 x 256 = 262,144 elements over K = 256: 1 B each in fp8 and
    2 B in bf16 when packed (PTX: four e4m3 or two bf16 a 32-bit register), 4 B each unpacked."""
    elements = 64 * 16 * 256
    assert frag_read_bytes(True, dtype, 256) == elements * size
    assert frag_read_bytes(False, dtype, 256) == elements * 4


def test_nvidia_presets_pack_their_operand_fragments():
    for arch in ("gv100-like", "a100-like", "h100-like", "b200-like"):
        assert simulator.load_arch(arch).cores.components["frag"].packed
