"""ZigZag 3.9.1's golden cases as accsim rebuilds them: the nests counted in closed form, the
mappings run on the engine, and both latencies split into terms. Shared by the tests
(tests/mapping/test_zigzag_golden.py, test_nest_engine.py) and benchmarks/vs_zigzag.py, which
prints what the tests assert; not itself a test module."""

import json
import math
from pathlib import Path

from simulator import simulate
from simulator.components import build_machine
from simulator.mapping.hierarchy import port_bytes
from simulator.mapping.nest import Level, Loop, Nest, count, transfer_sizes
from simulator.mapping.zigzag_words import cell_bits, cell_words, nest_transfers, port_bits
from simulator.spec import load_arch
from tests.mapping.zigzag_names import EYERISS_LEVEL, GENERIC_LEVEL, TPU_LEVEL, ZIGZAG_DIM

DATA = Path(__file__).parents[1] / "data"
TPU = "zigzag-tpu-like"
EYERISS_ARCH = str(DATA / "zigzag-eyeriss-like.yaml")
GENERIC_ARCH = str(DATA / "zigzag-generic-array.yaml")


def _golden(name: str) -> dict:
    return {c["id"]: c for c in json.loads((DATA / name).read_text())["cases"]}


CASES = _golden("zigzag_golden.json")
EYERISS_CASES = _golden("zigzag_eyeriss_golden.json")
GENERIC_CASES = _golden("zigzag_generic_golden.json")
# ZigZag's four directions -> accsim's names in a nest's counted moves
DIRECTION = {
    "rd_out_to_low": "read_low",
    "wr_in_by_low": "write_low",
    "rd_out_to_high": "read_high",
    "wr_in_by_high": "write_high",
}


def golden_nest(case: dict, machine, names: dict) -> Nest:
    """A golden case's nest as ZigZag ran it: its temporal loops, its spatial unrolling, and each
    role's levels holding the loops ZigZag gave them (`names`: ZigZag memory -> component)."""
    zigzag = case["zigzag"]
    mapping = zigzag["temporal_mapping"]
    temporal = tuple(Loop(ZIGZAG_DIM[d], s) for level in mapping["input"] for d, s in level)
    # ZigZag lowers an unrolling that does not divide its dim to one that does (K 72 on 32 rows
    # runs 24 wide, 3 times): the size it ran is the dim over its temporal loops
    trips = {d: math.prod(x.factor for x in temporal if x.dim == d) for d in "MNK"}
    spatial = {
        axis: Loop(d, case["case"][d] // trips[d])
        for axis, (d, _) in case["case"]["spatial"].items()
    }
    levels = {}
    for role, held in mapping.items():
        cut, chain = 0, []
        for memory, loops in zip(zigzag["levels"][role], held):
            cut += len(loops)
            component = machine.components[names[memory["memory"]]]
            serves = frozenset() if component.kind == "regfile" else frozenset(spatial)
            chain.append(Level(component.name, cut, serves))
        levels[role] = tuple(chain)
    return Nest(temporal, spatial, levels)


def formats(case: dict) -> tuple[str, str, str]:
    """A golden case's operand, partial-sum and final-output formats (ZigZag's precisions)."""
    precision = case["case"]["precision"]
    return f"int{precision['I']}", f"int{precision['O']}", f"int{precision['O_final']}"


def nest_words(nest: Nest, machine, fmts: tuple[str, str, str]) -> dict:
    """(level, role, direction) -> the port words `accounting: zigzag` charges a whole-layer
    nest (its outermost level DRAM), in closed form."""
    words = {}
    for role, levels in nest.levels.items():
        moves = count(nest, role)
        per_level = nest_transfers(role, moves, transfer_sizes(nest, role))
        for level, m, own in zip(levels, moves, per_level):
            elements = {d: getattr(m, d) for d in DIRECTION.values()}
            bits = cell_bits(role, elements, *fmts)
            port = port_bits(machine.components[level.name])
            for direction, n in cell_words(role, elements, own, bits, port).items():
                words[(level.name, role, direction)] = n
    return words


def level_energy(machine, level: str, direction: str, elements: int, fmt: str) -> float:
    """pJ of `elements` moved in `direction` at `level`, in its port words of `fmt`."""
    action = "read" if direction.startswith("read") else "write"
    component = machine.components[level]
    return port_bytes(component, elements, fmt) * component.energy_pj(action)


def tpu_format(role, direction, moves, i) -> str:
    """int8 operands, int16 partial sums, int8 outputs once complete (tpu_like's O_final)."""
    if role != "output":
        return "int8"
    final = (direction == "read_high" and moves[i].final_up) or (
        direction == "write_low" and i > 0 and moves[i - 1].final_up
    )
    return "int8" if final else "int16"


def generic_cells(case: dict, machine) -> dict:
    """(role, ZigZag memory, direction) -> (accsim elements, ZigZag's, accsim pJ, ZigZag's)."""
    nest = golden_nest(case, machine, GENERIC_LEVEL)
    cells = {}
    for role, levels in nest.levels.items():
        moves = count(nest, role)
        for i, (level, golden) in enumerate(zip(levels, case["zigzag"]["levels"][role])):
            for zigzag_dir, direction in DIRECTION.items():
                elements = getattr(moves[i], direction)
                fmt = "int32" if role == "output" else "int8"  # O and O_final are 32 bits
                cells[(role, golden["memory"], zigzag_dir)] = (
                    elements,
                    golden["elements"][zigzag_dir],
                    level_energy(machine, level.name, direction, elements, fmt),
                    golden["energy_pj"][zigzag_dir],
                )
    return cells


# ----- eyeriss_like: the forced fold-nest cases as accsim mappings, run on the engine ----------
EYERISS_ENGINE = {
    "eyeriss-gemm64x256x192-ws-folds": {
        "loop_order": ["M", "N", "K"],
        "tile": {"M": 64, "N": 8, "K": 192},
    },
    "eyeriss-gemm224x224x192-ws-folds": {  # one tile; double-buffered it would not fit
        "loop_order": ["M", "N", "K"],
        "tile": {"M": 224, "N": 224, "K": 192},
        "double_buffering": False,
    },
}


def engine_run(case_id: str):
    case = EYERISS_CASES[case_id]["case"]
    return simulate(
        EYERISS_ARCH,
        f"gemm:M={case['M']},N={case['N']},K={case['K']},dtype=int8",
        EYERISS_ENGINE[case_id],
        numerics=False,
    )


def latency_terms(case: dict, report) -> dict[str, int]:
    """Both latencies, each rebuilt by hand from its own model (docs/memory-hierarchy.md).

    accsim: the output buffer's port bounds the array (its bytes over 16 B per cycle), and the
    first DMA load and the last store are not hidden (bytes over 8 B per cycle, plus 1 cycle of
    DRAM latency each). ZigZag: every cycle reads and writes one partial-sum vector on that
    port, each rounded up to whole 128-bit words, and each N fold but the last drains its
    outputs (the last is its offloading); DRAM transfers made once are free beyond on- and
    offloading."""
    shape, zigzag = case["case"], case["zigzag"]
    levels = report.levels.groupby(["level", "operand", "action"])["bytes"].sum()
    tile = EYERISS_ENGINE[case["id"]]["tile"]
    first_load = shape["K"] * (tile["M"] + tile["N"])  # int8 input and weight tiles
    last_store = 2 * tile["M"] * tile["N"]  # int16 outputs
    cols = shape.get("spatial", {"D1": ["N", 14]})["D1"][1]
    ideal = shape["M"] * shape["N"] * shape["K"] // (12 * cols)  # cycles on the used PEs
    drain = levels[("output_buffer", "output", "drain")] // 16
    n_folds = shape["N"] // cols
    return {
        "accsim_port": int(levels["output_buffer"].sum()) // 16,
        "accsim_dma": (first_load + last_store) // 8 + 2,
        "zigzag_port": 2 * ideal * math.ceil(cols * 16 / 128) + drain * (n_folds - 1) // n_folds,
        "zigzag_loading": int(zigzag["data_onloading"] + zigzag["data_offloading"]),
    }


# ----- ZigZag's own (LOMA) mappings as `nest:` mappings on the engine ---------------------------
# case id -> (arch, golden case, level names, output dtype)
DEFAULTS = {
    "gemm512-default": (TPU, CASES["gemm512-default"], TPU_LEVEL, "int8"),
    "gemm256x1024x128-default": (TPU, CASES["gemm256x1024x128-default"], TPU_LEVEL, "int8"),
    "gemm128x512x256-default": (TPU, CASES["gemm128x512x256-default"], TPU_LEVEL, "int8"),
    "gemm60x64x96-default": (TPU, CASES["gemm60x64x96-default"], TPU_LEVEL, "int8"),
    "gemm200x96x64-default": (TPU, CASES["gemm200x96x64-default"], TPU_LEVEL, "int8"),
    "eyeriss-gemm224x224x192-default": (
        EYERISS_ARCH,
        EYERISS_CASES["eyeriss-gemm224x224x192-default"],
        EYERISS_LEVEL,
        "int16",
    ),
    "eyeriss-gemm112x168x96-default": (
        EYERISS_ARCH,
        EYERISS_CASES["eyeriss-gemm112x168x96-default"],
        EYERISS_LEVEL,
        "int16",
    ),
    "eyeriss-gemm100x70x60-default": (
        EYERISS_ARCH,
        EYERISS_CASES["eyeriss-gemm100x70x60-default"],
        EYERISS_LEVEL,
        "int16",
    ),
    "eyeriss-gemm56x98x36-default": (
        EYERISS_ARCH,
        EYERISS_CASES["eyeriss-gemm56x98x36-default"],
        EYERISS_LEVEL,
        "int16",
    ),
}


def engine_mapping(case: dict) -> dict:
    """ZigZag's temporal mapping as an accsim mapping: the loops every role's DMA-filled level
    (the one under DRAM) holds are the nest; the loops above are the DMA tile loops (outermost
    first). A local SRAM ZigZag lets drain while the array works is double-buffered."""
    mapping = case["zigzag"]["temporal_mapping"]
    loops = [(ZIGZAG_DIM[d], n) for level in mapping["input"] for d, n in level]
    inside = min(sum(len(level) for level in held[:-1]) for held in mapping.values())
    outer = [d for d, _ in reversed(loops[inside:])]
    return {
        "loop_order": list(dict.fromkeys(outer + ["M", "N", "K"])),
        "double_buffering": False,  # one tile's weights fill tpu_like's registers
        "nest": [list(loop) for loop in loops[:inside]],
        **(
            {"levels": {"output_buffer": {"double_buffer": True}}}
            if "sram_8KB" in str(case)
            else {}
        ),
    }


def run_default(case_id: str, accounting: str = "realistic"):
    arch, case, _, out = DEFAULTS[case_id]
    shape = case["case"]
    workload = f"gemm:M={shape['M']},N={shape['N']},K={shape['K']},dtype=int8,output_dtype={out}"
    mapping = {**engine_mapping(case), "accounting": accounting}
    return simulate(arch, workload, mapping, numerics=False)


# ----- every golden case, and those the engine runs as ZigZag ran them ---------------------------
GOLDEN = {
    case_id: (arch, case, names)
    for arch, cases, names in (
        (TPU, CASES, TPU_LEVEL),
        (EYERISS_ARCH, EYERISS_CASES, EYERISS_LEVEL),
        (GENERIC_ARCH, GENERIC_CASES, GENERIC_LEVEL),
    )
    for case_id, case in cases.items()
}
FOLDS = {  # the forced fold nests as accsim's own fold mappings
    "gemm512-ws-folds": {"loop_order": ["M", "N", "K"], "tile": {"M": 512, "N": 512, "K": 32}},
    "gemm128x256x256-ws-folds": {
        "loop_order": ["M", "N", "K"],
        "tile": {"M": 128, "N": 256, "K": 32},
    },
    **EYERISS_ENGINE,
}


def unrolled_as_ran(case: dict) -> bool:
    """Whether ZigZag ran each spatial dim over the whole array edge or the whole dim: a `nest:`
    runs over whole array edges, so a narrower unrolling (N 300 on 256 columns runs 150 wide)
    is another mapping on the engine (docs/memory-hierarchy.md)."""
    arch, _, names = GOLDEN[case["id"]]
    machine = build_machine(load_arch(arch))
    nest = golden_nest(case, machine, names)
    unit = next(c for c in machine.components.values() if c.kind == "systolic_array")
    edge = {"D1": unit.cols, "D2": unit.rows}
    return all(
        nest.spatial[axis].factor in (edge[axis], case["case"][dim])
        for axis, (dim, _) in case["case"]["spatial"].items()
    )


def engine_mappings() -> dict[str, dict]:
    """Golden case id -> the accsim mapping that runs it on the engine: the fold mappings
    above, and ZigZag's own mappings as `nest:` where they ran as the array unrolls them."""
    runs = dict(FOLDS)
    for case_id, (_, case, _) in GOLDEN.items():
        if case_id not in runs and not case["case"].get("temporal") and unrolled_as_ran(case):
            runs[case_id] = engine_mapping(case)
    return runs


def run_golden(case_id: str, accounting: str):
    """A golden case's engine run (engine_mappings) under `accounting`."""
    arch, case, _ = GOLDEN[case_id]
    shape = case["case"]
    out = formats(case)[2]
    workload = f"gemm:M={shape['M']},N={shape['N']},K={shape['K']},dtype=int8,output_dtype={out}"
    mapping = {**engine_mappings()[case_id], "accounting": accounting}
    return simulate(arch, workload, mapping, numerics=False)


def counted_pj(report) -> float:
    """What ZigZag's cost model counts of a report: its MACs and its per-level table (under
    `accounting: zigzag`, ZigZag's words; the engine's energy table charges the data moved)."""
    macs = report.energy.energy_pj[report.energy.part == "mac"].sum()
    return macs + report.levels.energy_pj.sum()


def own_mapping_terms(case_id: str) -> dict[str, int]:
    """accsim's cycles rebuilt by hand (docs/memory-hierarchy.md): per DMA tile the nest's
    iterations plus the skew, or the busiest port where it is slower (eyeriss_like's output
    register: each 16-bit sum a 24-bit access, reads, updates and drains over its two ports per
    PE); all of the DMA at 8 B a cycle (what loading each tile before and storing it after
    would add: streaming hides part of it). ZigZag's: ideal + port stalls (its
    latency_computation) + on- and offloading."""
    arch, case, names, out = DEFAULTS[case_id]
    machine = build_machine(load_arch(arch))
    unit = next(c for c in machine.components.values() if c.kind == "systolic_array")
    shape, zigzag = case["case"], case["zigzag"]
    nest = engine_mapping(case)["nest"]
    per_tile = math.prod(n for _, n in nest)
    tiles = shape["M"] * shape["N"] * shape["K"] // (per_tile * unit.rows * unit.cols)
    regs = machine.components[names["rf_16B"]] if "rf_16B" in names else None
    port = 0
    if regs is not None:
        accesses = sum(
            level["elements"][d]
            for level in zigzag["levels"]["output"]
            if level["memory"] == "rf_16B"
            for d in ("rd_out_to_low", "wr_in_by_low", "rd_out_to_high")
        )
        port = math.ceil(accesses / (unit.rows * unit.cols * 2))
    skew = tiles * (unit.rows + unit.cols - 2)  # fill and drain once per tile; ZigZag: per layer
    compute = max(tiles * per_tile + skew, port)
    out_bytes = 1 if out == "int8" else 2
    dram = shape["M"] * shape["K"] + shape["K"] * shape["N"] + shape["M"] * shape["N"] * out_bytes
    return {
        "accsim_compute": compute,
        "accsim_skew": skew if compute > port else 0,
        "accsim_dma": dram // 8,
        "zigzag_compute": int(zigzag["latency_computation"]),
        "zigzag_loading": int(zigzag["data_onloading"] + zigzag["data_offloading"]),
    }
