"""The `accsim` command: run a simulation, list presets, sweep, search mappings, import peer files.

Each subcommand family lives in its own module; handlers import the simulator lazily so that
`accsim --help` stays fast.
"""

import argparse
import errno
import gc
import importlib
import math
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from simulator.errors import AccsimError

_EXAMPLES = """examples:
  accsim list                                          the shipped arch, workload and mapping presets
  accsim run tpu-v1-like gemm-1024                     one simulation, its tables
  accsim run a100-like "gemm:M=4096,N=4096,K=4096,dtype=bf16" --no-numerics --json
  accsim sweep array-vs-sram -o results.csv           a shipped design-space sweep (resumable)
  accsim COMMAND --help                                a command's own options
"""


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line (`error: ...`), exit status 2."""

    def error(self, message: str):
        Console(stderr=True, emoji=False).print(
            f"[bold red]error:[/] {escape(self.prog)}: {escape(message)} (see {escape(self.prog)} --help)",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(2)

    def parse_known_args(self, args=None, namespace=None):
        """argparse's parse, then no option or argument given as empty text: an empty `--trace ''`
        or `-o ''` would otherwise read as not given, and the run go on without it."""
        namespace, extras = super().parse_known_args(args, namespace)
        for action in self._actions:
            values = getattr(namespace, action.dest, None)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str) and not value.strip():
                    name = "/".join(action.option_strings) or action.dest
                    omit = " or leave the option out" if action.option_strings else ""
                    self.error(f"argument {name}: empty; give a value{omit}")
        return namespace, extras


def _count(minimum: int):
    """An argparse type: an integer >= `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        if value >= 2**63:  # past int64, as spec/types.py MAX_INT: an OverflowError further on
            raise argparse.ArgumentTypeError(f"must be below 2**63, got {len(text)} digits")
        return value

    parse.__name__ = "integer"
    return parse


def _seed(text: str) -> int:
    """A random seed: an integer in [0, 2**32)."""
    value = _count(0)(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"must be below 2**32, got {value}")
    return value


def _core_counts(text: str) -> list[int]:
    """'1,2,4' -> [1, 2, 4], each a positive integer, each once (a repeat ran twice)."""
    try:
        counts = [_count(1)(part.strip()) for part in text.split(",")]
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    twice = next((n for i, n in enumerate(counts) if n in counts[:i]), None)
    if twice is not None:
        raise argparse.ArgumentTypeError(f"{text!r}: {twice} given twice; give each count once")
    return counts


def _number(text: str, positive: bool, what: str) -> float:
    """`text` as a finite number, > 0 (`positive`) or >= 0; else an argparse error naming `what`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    return _in_range(value, positive, text)


def _in_range(value: float, positive: bool, text: str) -> float:
    """`value` if finite and > 0 (`positive`) or >= 0; else an argparse error quoting `text`."""
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        sign = "positive" if positive else "non-negative"
        raise argparse.ArgumentTypeError(f"must be a finite {sign} number, got {text!r}")
    return value


def _positive(text: str) -> float:
    """An argparse type: a finite number > 0 (rates, coefficients of variation)."""
    return _number(text, True, "a positive number")


def _non_negative(text: str) -> float:
    """An argparse type: a finite number >= 0 (standard deviations)."""
    return _number(text, False, "a non-negative number")


def _ratio(text: str) -> float:
    """An argparse type: a finite number >= 1 (a grid's ratio between neighbours)."""
    value = _number(text, True, "a number >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def _duration(positive: bool):
    """An argparse type: a time in seconds, bare ('0.2') or with a unit ('200 ms', '5us')."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            from simulator.spec.units import parse_quantity

            try:
                value = parse_quantity(text, "time")
            except ValueError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return _in_range(value, positive, text)

    parse.__name__ = "duration"
    return parse


def _scheduler(text: str) -> str:
    """A Dask scheduler address: protocol://host:port (tcp, tls, ws, wss, ucx)."""
    if not re.fullmatch(r"(tcp|tls|ws|wss|ucx)://[\w.\-\[\]:]+:\d{1,5}", text):
        raise argparse.ArgumentTypeError(f"expected an address like tcp://host:8786, got {text!r}")
    return text


def _add_limits(command: argparse.ArgumentParser) -> None:
    """--max-tiles and --max-memory: the cost guards a run refuses to pass (docs/errors.md)."""
    command.add_argument(
        "--max-tiles",
        type=_count(1),
        metavar="N",
        help="refuse runs estimated above N tile steps (default 1,000,000)",
    )
    command.add_argument(
        "--max-memory",
        metavar="SIZE",
        help="refuse runs estimated to need more host memory, e.g. '32 GiB' (default 16 GiB)",
    )


def _add_progress(command: argparse.ArgumentParser) -> None:
    """--no-progress: the bar a run over a second shows on a terminal's stderr (never when piped)."""
    command.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bar (shown on a terminal's stderr once a run takes over a second)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="accsim",
        description="accsim: a cycle-approximate simulator of neural-network accelerators, "
        "with real numerics on every tile.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="simulate a workload on an architecture")
    run.add_argument("arch", help="arch preset name or YAML path (or a SCALE-Sim .cfg)")
    run.add_argument(
        "workload",
        help="workload preset, YAML path, inline 'gemm:M=..,N=..,K=..,dtype=int8' "
        "(or a SCALE-Sim topology .csv)",
    )
    run.add_argument(
        "-m", "--mapping", default=None, help="mapping preset or YAML path (default: auto)"
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a value: components.mxu.rows=64, workload.ops.0.M=512, mapping.dataflow=os",
    )
    run.add_argument(
        "--layers", type=_count(1), metavar="N", help="transformer workloads: simulate N layers"
    )
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument(
        "--per-core",
        action="store_true",
        help="many-core chips: a row for every core's parts and ops (default: one row per part "
        "and per op over all cores)",
    )
    run.add_argument(
        "--trace", metavar="FILE", help="write a Chrome/Perfetto trace of DMA and compute tiles"
    )
    checks = run.add_mutually_exclusive_group()  # two modes at once: the last one won
    checks.add_argument(
        "--numerics",
        choices=["auto", "full", "sample", "off"],
        default="auto",
        help="check the numbers: full (every output), sample (every edge tile and 30 interior "
        "tiles of each GEMM), off (timing only); auto (default) samples GEMMs above 2^33 MACs",
    )
    checks.add_argument(
        "--no-numerics",
        dest="numerics",
        action="store_const",
        const="off",
        help="timing only, the same as --numerics off",
    )
    run.add_argument(
        "--seed", type=_seed, help="seed of the random operands and spiking inputs (default 0)"
    )
    run.add_argument(
        "--dtype", help="ONNX workloads: the precision of every op (default: the graph's)"
    )
    _add_limits(run)
    _add_progress(run)
    run.set_defaults(handler="run:run_command")
    onnx = commands.add_parser("import-onnx", help="convert an ONNX model to a workload YAML")
    onnx.add_argument("model", help="ONNX file (weights optional: only shapes are read)")
    onnx.add_argument("-o", "--output", required=True, help="workload YAML to write")
    onnx.add_argument("--dtype", help="the precision of every op (default: the graph's)")
    onnx.set_defaults(handler="onnx:import_onnx_command")
    imported = commands.add_parser(
        "import-scalesim", help="convert SCALE-Sim .cfg + topology .csv to YAML"
    )
    imported.add_argument("config", help="SCALE-Sim config (.cfg)")
    imported.add_argument("topology", help="SCALE-Sim topology (.csv, GEMM or conv rows)")
    imported.add_argument(
        "-o", "--output", required=True, help="folder for arch.yaml, workload.yaml, mapping.yaml"
    )
    imported.set_defaults(handler="importers:import_scalesim_command")
    sanafe = commands.add_parser(
        "import-sanafe", help="convert SANA-FE 2.x architecture + SNN files to accsim YAML"
    )
    sanafe.add_argument("arch", help="SANA-FE architecture (.yaml)")
    sanafe.add_argument("snn", help="SANA-FE mapped SNN (.yaml)")
    sanafe.add_argument(
        "-o", "--output", required=True, help="folder for arch, workload, network.npz"
    )
    sanafe.add_argument(
        "--steps", type=_count(1), default=100, help="time steps to simulate (default 100)"
    )
    sanafe.add_argument(
        "--timing",
        choices=("detailed", "simple"),
        default="detailed",
        help="SANA-FE timing model the run uses (default detailed, as SANA-FE's)",
    )
    sanafe.set_defaults(handler="importers:import_sanafe_command")
    scale = commands.add_parser(
        "scale", help="strong scaling S(n), E(n) over core counts of a multi-core arch"
    )
    scale.add_argument("arch", help="multi-core arch preset or YAML path")
    scale.add_argument("workload", help="workload preset, YAML path or inline spec")
    scale.add_argument(
        "-m", "--mapping", default=None, help="mapping preset or YAML path (default: auto)"
    )
    scale.add_argument(
        "--cores",
        type=_core_counts,
        default="1,2,4,8,16",
        help="comma-separated core counts (default 1,2,4,8,16)",
    )
    scale.add_argument(
        "--set", action="append", default=[], metavar="PATH=VALUE", help="override a value"
    )
    scale.add_argument("--json", action="store_true", help="print the table as JSON")
    _add_limits(scale)
    _add_progress(scale)
    scale.set_defaults(handler="studies:scale_command")
    listing = commands.add_parser("list", help="list the shipped presets")
    listing.set_defaults(handler="run:list_command")
    sweep = commands.add_parser("sweep", help="run a design-space sweep (resumable)")
    sweep.add_argument("sweep", help="sweep YAML path or shipped sweep name")
    sweep.add_argument("-o", "--output", required=True, help="results file (.parquet or .csv)")
    sweep.add_argument(
        "-j",
        "--jobs",
        type=_count(1),
        default=None,
        help="processes that run points (default: CPUs)",
    )
    sweep.add_argument(
        "--scheduler", type=_scheduler, help="Dask scheduler address, e.g. tcp://host:8786"
    )
    sweep.add_argument("--dask", action="store_true", help="run on a local Dask cluster")
    sweep.add_argument(
        "--limit", type=_count(1), default=None, help="run at most this many new points"
    )
    sweep.add_argument(
        "--max-points",
        type=_count(1),
        default=100_000,
        metavar="N",
        help="refuse sweeps of more than N points (default 100,000)",
    )
    sweep.set_defaults(handler="studies:sweep_command")
    mapper = commands.add_parser("map", help="search mappings; write the best as a mapping YAML")
    mapper.add_argument("arch", help="arch preset name or YAML path")
    mapper.add_argument(
        "workload", help="workload preset, YAML path or inline 'gemm:M=..,N=..,K=..'"
    )
    mapper.add_argument("--objective", default="edp", help="latency, energy or edp (default)")
    mapper.add_argument(
        "--top", type=_count(1), default=5, help="candidates to confirm by simulation"
    )
    mapper.add_argument(
        "--nests",
        type=_count(0),
        help="loop nests to estimate at most on arrays with inner levels (0: none; default 8000)",
    )
    mapper.add_argument("-o", "--output", help="write the best mapping here (YAML)")
    mapper.add_argument(
        "--set", action="append", default=[], metavar="PATH=VALUE", help="override, as for run"
    )
    _add_progress(mapper)
    mapper.set_defaults(handler="studies:map_command")
    calibrate = commands.add_parser(
        "calibrate",
        help="fit a GPU-like arch's launch cost and DRAM efficiency to measured kernel times",
    )
    calibrate.add_argument("arch", help="arch preset name or YAML path (with cores.kernels)")
    calibrate.add_argument("measurements", help="CSV with columns workload,seconds")
    calibrate.add_argument(
        "--launch",
        default=None,
        metavar="TIME",
        help="keep the launch cost fixed (e.g. '0 us') and fit the DRAM efficiency alone",
    )
    calibrate.add_argument(
        "--efficiency",
        type=float,
        default=None,
        metavar="E",
        help="keep the DRAM efficiency fixed (e.g. 0.8) and fit the launch cost alone",
    )
    calibrate.set_defaults(handler="studies:calibrate_command")
    plot = commands.add_parser("plot", help="scatter two columns of sweep results")
    plot.add_argument("results", help="sweep results (.parquet or .csv)")
    plot.add_argument("--x", required=True, help="column on the x axis, e.g. area_mm2")
    plot.add_argument("--y", required=True, help="column on the y axis, e.g. energy_pj")
    plot.add_argument("--color", help="column that colours the points")
    plot.add_argument("--pareto", action="store_true", help="highlight the Pareto front")
    plot.add_argument(
        "--maximize",
        action="append",
        default=[],
        metavar="COLUMN",
        help="--pareto: an axis to maximize",
    )
    plot.add_argument("-o", "--output", required=True, help=".html (or .png with kaleido)")
    plot.add_argument(
        "--cdn",
        action="store_true",
        help="load plotly.js from its CDN when the page opens (small file, needs a network); "
        "default: inline, works offline",
    )
    plot.set_defaults(handler="studies:plot_command")
    schema = commands.add_parser(
        "schema", help="print the JSON Schema of a file kind (for editors and validators)"
    )
    schema.add_argument("kind", choices=["arch", "workload", "mapping", "sweep"])
    schema.add_argument("-o", "--output", help="write it to this file instead of printing it")
    schema.set_defaults(handler="schema:schema_command")
    serving = commands.add_parser(
        "serve", help="serve LLM requests: TTFT, TPOT, throughput, goodput, KV-cache"
    )
    serving.add_argument("arch", help="arch preset name or YAML path")
    serving.add_argument("model", help="model preset (llama-2-7b, llama-3-8b, ...) or config.json")
    source = serving.add_mutually_exclusive_group()
    source.add_argument("--rate", type=_positive, help="arrivals per second (Poisson unless --cv)")
    source.add_argument(
        "--rates", help="comma-separated rates: one run each, and the highest meeting the SLO"
    )
    source.add_argument("--trace", help="CSV of arrival, prompt, output tokens (Azure format ok)")
    source.add_argument(
        "--users", type=_count(1), help="closed loop: N users, one request each at once"
    )
    serving.add_argument(
        "--requests",
        type=_count(1),
        help="requests to serve (default 200; with --trace, at most its rows)",
    )
    serving.add_argument("--prompt-len", type=_count(1), help="prompt tokens (mean; default 512)")
    serving.add_argument("--output-len", type=_count(1), help="output tokens (mean; default 128)")
    serving.add_argument("--prompt-sd", type=_non_negative, help="lognormal sd of prompts")
    serving.add_argument("--output-sd", type=_non_negative, help="lognormal sd of outputs")
    serving.add_argument("--cv", type=_positive, help="gamma gaps' CV (1: Poisson, the default)")
    serving.add_argument(
        "--think", type=_duration(False), help="closed loop: think time (s, or '2 s'; default 0)"
    )
    serving.add_argument(
        "--scheduler",
        default="continuous",
        help="continuous (default), static, chunked or disaggregated",
    )
    serving.add_argument("--max-batch", type=_count(1), default=256, help="sequences per iteration")
    serving.add_argument(
        "--max-tokens",
        type=_count(1),
        default=None,
        help="tokens per iteration (chunked: chunk size)",
    )
    serving.add_argument("--block-size", type=_count(1), default=16, help="KV block (tokens)")
    serving.add_argument("--preemption", default="recompute", help="recompute (default) or swap")
    serving.add_argument(
        "--replicas",
        type=_count(1),
        default=1,
        help="replicas (disaggregated: prefill ones; default 1)",
    )
    serving.add_argument(
        "--decode-replicas", type=_count(1), help="disaggregated: decode replicas (default 1)"
    )
    serving.add_argument(
        "--router", help="round_robin (default) or least_outstanding: picks among replicas"
    )
    serving.add_argument(
        "--pipeline-stages",
        type=_count(1),
        default=1,
        help="pipeline stages per replica (default 1)",
    )
    serving.add_argument(
        "--host-overhead",
        type=_duration(False),
        default=0.0,
        help="runtime CPU time per iteration (s, or '50 us')",
    )
    serving.add_argument(
        "--slo-ttft", type=_duration(True), help="TTFT target for goodput (s, or '200 ms')"
    )
    serving.add_argument(
        "--slo-tpot", type=_duration(True), help="TPOT target for goodput (s, or '50 ms')"
    )
    serving.add_argument(
        "--bucket-ratio", type=_ratio, default=2.0, help="cost grid ratio (1: exact)"
    )
    serving.add_argument("--cost-cache", help="JSON memo of simulated shapes (default: user cache)")
    serving.add_argument(
        "--set", action="append", default=[], metavar="PATH=VALUE", help="override an arch value"
    )
    serving.add_argument("--seed", type=_seed, help="seed of arrivals and lengths (default 0)")
    _add_limits(serving)  # each priced shape is guarded as a run
    serving.add_argument("--json", action="store_true", help="print the summary as JSON")
    serving.set_defaults(handler="serve:serve_command")
    return parser


class _Version(argparse.Action):
    """--version, looked up only when asked: importlib.metadata costs every command ~50 ms."""

    def __init__(self, option_strings, dest):
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show the version and exit",
        )

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"accsim {_version()}")
        parser.exit()


def _version() -> str:
    """The installed distribution's version (the source tree's when run uninstalled)."""
    import importlib.metadata

    try:
        return importlib.metadata.version("accsim")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def entry() -> int:
    """The `accsim` console script: `main` in a process of its own, which may freeze its start-up.
    A run does its BLAS work on one thread (tile kernels and checks, under threadpoolctl), so the
    process starts no OpenBLAS workers unless asked: each spins about 0.1 s of CPU after numpy's
    import, waiting for work that never comes. Set before numpy loads (this module does not
    import it)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    return main(freeze_start_up=True)


def main(argv: list[str] | None = None, freeze_start_up: bool = False) -> int:
    """Run one command: exit 0 (ok), 1 (numerics mismatch), 2 (error). Called in process (tests,
    notebooks), it leaves the caller's garbage collector as it was."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed as one line
        return stop.code if isinstance(stop.code, int) else 2
    console = _Console()
    module, function = args.handler.split(":")
    try:
        handler = getattr(importlib.import_module(f"simulator.cli.{module}"), function)
        if freeze_start_up and not gc.get_freeze_count():
            # What start-up built (modules, pydantic schemas) lives as long as the process: out of
            # the collector, whose full collections would walk it again and again (about a quarter
            # of the CPU of `accsim run tpu-v1-like gemm-1024 --no-numerics`).
            gc.freeze()
        return handler(args, console)
    except AccsimError as error:
        _error(" ".join(str(error).split()))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:  # the reader left (`accsim run ... --json | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 141  # as a shell reports a writer its reader left (128 + SIGPIPE)
    except OSError as error:
        if error.errno not in PATH_ERRORS or not error.filename:
            return _internal(error)
        _error(f"{error.filename}: {error.strerror}")  # a path no file system holds: bad input
        return 2
    except Exception as error:  # noqa: BLE001 - the last resort: reaching it is a bug to fix
        return _internal(error)


PATH_ERRORS = (errno.ENAMETOOLONG, errno.ELOOP)
"""What the file system says of a path given that no file can have (a name of 300 characters,
a loop of symbolic links), from whichever reader or writer probed it first."""


def _internal(error: Exception) -> int:
    """The last resort: reaching it is a bug to fix (one line, the traceback saved)."""
    saved = _save_traceback()
    summary = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    _error(f"internal error: {summary} (please report; traceback saved at {saved})")
    return 2


UNBOUNDED_WIDTH = 10_000
"""Columns of a console that writes to a file or pipe: wider than any table the CLI prints."""


class _Console(Console):
    """rich's Console, but a reader that leaves (`accsim run ... | head`) ends the command as
    `--json` output does (status 141), not with rich's status 1, the status of a numerics
    mismatch. Written to a file or a pipe (no terminal, no COLUMNS), tables take their natural
    width rather than rich's 80 columns, so no number is folded over two lines. Strings print as
    they are, never as markup or emoji codes: names in its tables are the user's text (an op named
    `[bold]g:smile:` showed as `g😄`); its own colours are Text objects."""

    def __init__(self) -> None:
        super().__init__(markup=False, emoji=False)
        if not self.is_terminal and "COLUMNS" not in os.environ:
            self.width = UNBOUNDED_WIDTH

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _error(message: str) -> None:
    Console(stderr=True, emoji=False).print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
    )


def _save_traceback() -> Path:
    """Write the current exception's traceback to a file in the temp folder; return its path."""
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path = Path(tempfile.gettempdir()) / f"accsim-crash-{stamp}.txt"
    path.write_text(traceback.format_exc())
    return path


if __name__ == "__main__":
    sys.exit(main())
