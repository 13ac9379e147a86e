"""`import simulator` stays light: the public names load on first use, heavy libraries only when
a run needs them."""

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
