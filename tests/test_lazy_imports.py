"""`import simulator` stays light: the public names load on first use, heavy libraries only when
a run needs them."""

import os
import subprocess
import sys

HEAVY = ("pandas", "pydantic", "ml_dtypes", "plotly", "pyarrow", "simpy")


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_simulator_loads_no_heavy_library():
    loaded = _modules_after("import simulator")
    assert not loaded & set(HEAVY)


def test_cli_help_loads_no_heavy_library():
    loaded = _modules_after("from simulator.cli import build_parser\nbuild_parser().format_help()")
    assert not loaded & set(HEAVY)


def test_a_timing_only_int8_run_does_not_import_ml_dtypes():
    loaded = _modules_after(
        "import simulator\n"
        "simulator.simulate('tpu-v1-like', 'gemm:M=64,N=64,K=64,dtype=int8', numerics=False)"
    )
    assert "simpy" in loaded and "ml_dtypes" not in loaded


OTHER_MAPPERS = (  # not mapping.shifted: the engine reads core classes' members through it
    "simulator.mapping.attention",
    "simulator.mapping.conv",
    "simulator.mapping.pool",
    "simulator.mapping.vector_ops",
    "simulator.mapping.partition",
    "simulator.mapping.cta",
    "simulator.mapping.collective",
    "simulator.mapping.host",
    "simulator.mapping.footprint",
    "simulator.mapping.crossbar",
    "simulator.mapping.pim",
    "simulator.numerics.attention",
    "simulator.numerics.conv",
    "simulator.numerics.pool",
    "simulator.numerics.vector_ops",
    "simulator.numerics.crossbar",
    "simulator.numerics.collective",
)
"""What a single-core GEMM run does not use: other op kinds' mappers and numerics, multi-core
partitions, host fallbacks, CNN footprints, crossbars and PIM units."""


def test_a_timing_only_gemm_run_loads_only_the_gemm_mapper():
    loaded = _modules_after(
        "import contextlib, io\n"
        "from simulator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['run', 'tpu-v1-like', 'gemm-256', '--no-numerics'])"
    )
    assert "simulator.mapping.gemm" in loaded
    assert not loaded & set(OTHER_MAPPERS)


def test_the_mappers_load_where_their_ops_run():
    """The lazy imports still find every mapper: a conv, pool, vector op and attention on one
    core, a multi-core GEMM, a crossbar GEMM."""
    loaded = _modules_after(
        "import simulator\n"
        "cnn = {'name': 'c', 'ops': [\n"
        "    {'name': 'conv', 'kind': 'conv2d', 'C': 3, 'H': 16, 'W': 16, 'K': 8, 'R': 3,"
        " 'S': 3, 'dtype': 'int8'},\n"
        "    {'name': 'relu', 'kind': 'relu', 'rows': 8, 'cols': 196, 'dtype': 'int8'},\n"
        "    {'name': 'pool', 'kind': 'pool', 'mode': 'max', 'C': 8, 'H': 14, 'W': 14, 'R': 2,"
        " 'S': 2, 'stride': 2, 'dtype': 'int8'}]}\n"
        "simulator.simulate('edge-npu', cnn, numerics=False)\n"
        "simulator.simulate('edge-npu', 'gemm:M=64,N=64,K=64,dtype=int8', numerics=False)\n"
        "simulator.simulate('mesh-4x4', 'gemm:M=64,N=64,K=64,dtype=int8', numerics=False)\n"
        "simulator.simulate('isaac-like', 'gemm:M=64,N=64,K=64,dtype=int8', numerics=False)\n"
        "simulator.simulate('datacenter-hbm', simulator.load_workload('llama-2-7b-decode',"
        " [(['layers'], 1)]), numerics=False)"
    )
    expected = {
        "simulator.mapping.conv",
        "simulator.mapping.pool",
        "simulator.mapping.vector_ops",
        "simulator.mapping.attention",
        "simulator.mapping.partition",
        "simulator.mapping.crossbar",
    }
    assert expected <= loaded


def test_checking_an_fp16_run_does_not_import_ml_dtypes():
    """numpy knows fp16 and fp32 (their unit roundoffs included): ml_dtypes only for bf16, fp8, int4."""
    loaded = _modules_after(
        "import simulator\n"
        "simulator.simulate('edge-npu', 'gemm:M=64,N=64,K=64,dtype=fp16', numerics=True)"
    )
    assert "ml_dtypes" not in loaded


def test_a_summary_and_accsim_run_do_not_import_pandas():
    """The summary's sums come from plain rows: pandas (and pyarrow with it) load only for a table."""
    loaded = _modules_after(
        "import simulator\n"
        "simulator.simulate('tpu-v1-like', 'gemm:M=64,N=64,K=64,dtype=int8', numerics=False).summary"
    )
    assert not loaded & {"pandas", "pyarrow"}
    loaded = _modules_after(
        "import contextlib, io\n"
        "from simulator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['run', 'tpu-v1-like', 'gemm-256', '--no-numerics', '--json'])\n"
        "    main(['run', 'tpu-v1-like', 'gemm-256', '--no-numerics'])"
    )
    assert not loaded & {"pandas", "pyarrow"}  # the tables of `accsim run` are plain rows too


def test_public_names_resolve_lazily():
    import simulator

    assert set(simulator.__all__) <= set(dir(simulator))
    assert simulator.simulate.__module__ == "simulator.api"
    assert issubclass(simulator.CapacityError, simulator.AccsimError)


def test_the_command_line_freezes_its_start_up_out_of_the_collector():
    """The console script freezes what its start-up built (modules, schemas) once, before the run;
    `main` called in process (tests, notebooks) leaves the caller's collector as it was."""
    script = (
        "import gc\nfrom simulator.cli import entry, main\nimport sys\n"
        "main(['list'])\nin_process = gc.get_freeze_count()\n"
        "sys.argv = ['accsim', 'list']\nentry()\nfrozen = gc.get_freeze_count()\n"
        "entry()\nprint(in_process, frozen, gc.get_freeze_count())"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    in_process, frozen, again = map(int, out.stdout.split()[-3:])
    assert in_process == 0 and frozen > 0 and again == frozen  # frozen once, not at every call


def test_a_gemm_run_loads_no_spiking_system_or_scalesim_module():
    """What a GEMM run never uses loads only for the runs that do (about 60 ms of a start-up)."""
    loaded = _modules_after(
        "import contextlib, io\n"
        "from simulator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['run', 'tpu-v1-like', 'gemm-256', '--no-numerics'])\n"
        "import simulator\n"
        "simulator.simulate('tpu-v1-like', 'gemm:M=64,N=64,K=64,dtype=int8', numerics=False)"
    )
    lazy = {
        "simulator.engine.spiking",
        "simulator.mapping.snn",
        "simulator.report.spiking",
        "simulator.report.system",
        "simulator.spec.snn",
        "simulator.spec.system",
        "simulator.spec.scalesim",
        "simulator.system",
        "configparser",
    }
    assert not loaded & lazy


def test_a_timing_only_accsim_run_skips_what_only_other_paths_use():
    """Transformer and ONNX import, the progress bar of a terminal and numpy's random generators
    (numerics on) stay unloaded when `accsim run` of a GEMM preset prints to a pipe."""
    loaded = _modules_after(
        "import contextlib, io\n"
        "from simulator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['run', 'tpu-v1-like', 'gemm-256', '--no-numerics'])"
    )
    skipped = {"simulator.spec.transformer", "simulator.spec.onnx", "rich.progress", "numpy.random"}
    assert "simulator.engine.run" in loaded and not loaded & skipped


def test_the_command_line_starts_no_blas_workers_unless_asked():
    """The console script runs BLAS on one thread (idle OpenBLAS workers spin after numpy's
    import); a user's OPENBLAS_NUM_THREADS is kept."""
    script = (
        "import os, sys\nfrom simulator.cli import entry\n"
        "sys.argv = ['accsim', 'list']\nentry()\n"
        "import numpy\nfrom threadpoolctl import threadpool_info\n"
        "blas = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], max(blas))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split()[-2:] == ["1", "1"]
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "OPENBLAS_NUM_THREADS": "2"},
    )
    assert out.stdout.split()[-2] == "2"


def test_a_timing_only_csv_sweep_loads_no_pandas(tmp_path):
    """A sweep's processes fork and exit cheaper the less memory they map: a CSV sweep of GEMM
    points, its worker included, never needs pandas, pyarrow, plotly or the serving layer."""
    loaded = _modules_after(
        "from simulator.sweep import load_sweep, run_sweep\n"
        f"out = run_sweep(load_sweep('array-vs-sram'), {str(tmp_path / 'r.csv')!r}, jobs=2,"
        " limit=4)\n"
        "assert out.ran == 4 and out.failed == 0\n"
    )
    assert "simulator.sweep.workers" in loaded
    assert not loaded & {"pandas", "pyarrow", "plotly", "simulator.serving"}
