"""Every shipped preset loads; names, paths, inline text and --set overrides reach their spec."""

from pathlib import Path

import pytest

import simulator
from simulator.spec import ArchSpec, GemmOpSpec, MappingSpec, WorkloadSpec, split_overrides
from simulator.spec.loader import preset_dir
from simulator.spec.snn import SnnSpec
from simulator.spec.system import SystemArchSpec

REPO = Path(__file__).resolve().parents[2]
LOADERS = {
    "arch": (simulator.load_arch, (ArchSpec, SystemArchSpec)),
    "workload": (simulator.load_workload, (WorkloadSpec, SnnSpec)),
    "mapping": (simulator.load_mapping, MappingSpec),
}
PRESETS = [(kind, name) for kind in LOADERS for name in simulator.list_presets(kind)]


@pytest.mark.parametrize(("kind", "name"), PRESETS, ids=[f"{k}:{n}" for k, n in PRESETS])
def test_every_preset_loads_by_name_and_by_path(kind, name):
    load, model = LOADERS[kind]
    by_name = load(name)
    assert isinstance(by_name, model)
    assert by_name.description, "the `accsim list` table shows it"
    assert load(preset_dir(kind) / f"{name}.yaml") == by_name


@pytest.mark.parametrize(
    ("kind", "folder"), [("arch", "archs"), ("workload", "workloads"), ("mapping", "mappings")]
)
def test_preset_dir_finds_every_shipped_yaml(kind, folder):
    shipped = sorted(p.stem for p in (REPO / folder).glob("*.yaml"))
    assert shipped, f"{folder}/ ships no presets"
    assert preset_dir(kind).resolve() == (REPO / folder).resolve()
    assert simulator.list_presets(kind) == shipped


def test_presets_are_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert simulator.load_arch("tpu-v1-like").name == "tpu-v1-like"


def test_tpu_preset_numbers_match_the_paper():
    # Jouppi et al., ISCA 2017: 256x256 MXU, 700 MHz, 24 MiB unified buffer, 34 GB/s DDR3.
    arch = simulator.load_arch("tpu-v1-like")
    assert (arch.components["mxu"].rows, arch.components["mxu"].cols) == (256, 256)
    assert arch.clock == 700e6
    assert arch.components["unified_buffer"].capacity == 24 * 2**20
    assert arch.components["dram"].bandwidth == 34e9


def test_inline_workload_gives_one_gemm_op():
    workload = simulator.load_workload("gemm:M=512,N=256,K=128,dtype=int16")
    assert workload.name == "gemm-512x256x128"
    assert workload.ops == [
        GemmOpSpec(kind="gemm", name="gemm", M=512, N=256, K=128, dtype="int16")
    ]


def test_inline_workload_defaults_to_int8():
    (op,) = simulator.load_workload("gemm:M=64,N=32,K=16").ops
    assert (op.M, op.N, op.K, op.dtype) == (64, 32, 16, "int8")


def test_auto_mapping_leaves_everything_open():
    mapping = simulator.load_mapping(None)
    assert mapping == simulator.load_mapping("auto")
    assert (mapping.dataflow, mapping.tile, mapping.loop_order, mapping.spatial) == (None,) * 4


def test_split_overrides_routes_each_setting_to_its_spec():
    routed = split_overrides(
        ["components.mxu.rows=64", "workload.ops.0.M=64", "mapping.dataflow=os", "arch.clock=1 GHz"]
    )
    assert routed == {
        "arch": [(["components", "mxu", "rows"], 64), (["clock"], "1 GHz")],
        "workload": [(["ops", "0", "M"], 64)],
        "mapping": [(["dataflow"], "os")],
    }


def test_overrides_show_in_the_loaded_specs():
    routed = split_overrides(
        [
            "components.mxu.rows=64",
            "components.unified_buffer.capacity=8 MiB",
            "workload.ops.0.M=64",
            "mapping.dataflow=os",
        ]
    )
    arch = simulator.load_arch("tpu-v1-like", routed["arch"])
    assert arch.components["mxu"].rows == 64
    assert arch.components["unified_buffer"].capacity == 8 * 2**20
    assert simulator.load_workload("gemm-256", routed["workload"]).ops[0].M == 64
    assert simulator.load_mapping("auto", routed["mapping"]).dataflow == "os"


def test_overrides_do_not_touch_the_preset():
    routed = split_overrides(["components.mxu.rows=64"])
    simulator.load_arch("tpu-v1-like", routed["arch"])
    assert simulator.load_arch("tpu-v1-like").components["mxu"].rows == 256


def test_override_of_an_inline_workload():
    routed = split_overrides(["workload.ops.0.K=32"])
    assert simulator.load_workload("gemm:M=64,N=64,K=64", routed["workload"]).ops[0].K == 32


def test_specs_are_immutable():
    arch = simulator.load_arch("tpu-v1-like")
    with pytest.raises(Exception, match="frozen"):
        arch.clock = 1e9
