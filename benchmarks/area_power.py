"""accsim's die area, floor-plan shares and busy/idle power beside the published chips.

Run: python benchmarks/area_power.py  (a few minutes: the A100 GEMM is the slow one)
Published numbers are listed with their sources below; none is used by the simulator.
"""

from pathlib import Path

import yaml

import simulator
from simulator import tech
from simulator.components import build_machine
from simulator.components.chip import clock_share, placement_mm2
from simulator.report.power import machine_parts
from simulator.spec import ArchSpec, load_arch

VOLTA_GEMM = Path(__file__).parent / "data" / "calibration" / "accelwattch_volta_gemm.yaml"
# ISAAC busy: every tile working, as in ISAAC's pipeline. VGG-16's conv4_2 (Simonyan and Zisserman,
# ICLR 2015: 512 -> 512 channels, 3x3, 28x28 at a 224x224 input; ISAAC's own benchmark family) in
# ISAAC's 16-bit fixed point: one copy of its weights takes 36 x 32 crossbars, so 14 copies fill all
# 16,128, and a batch of 16 images gives the copies enough output pixels to stay busy.
VGG_CONV4_2 = {
    "name": "vgg16-conv4_2-batch16",
    "ops": [
        {
            "name": "conv4_2",
            "kind": "conv2d",
            "N": 16,
            "C": 512,
            "H": 28,
            "W": 28,
            "K": 512,
            "R": 3,
            "S": 3,
            "padding": 1,
            "dtype": "int16",
            "inputs": [],
        }
    ],
}
# chip, preset, busy workload, published die mm², busy W, idle W, what the published power covers
# ('die': accsim's on-die power; 'board': die + DRAM accesses and devices; 'stack': the DRAM stack
# alone, off the host die: its PIM units, accesses and devices), source
CHIPS = [
    (
        "TPU v1",
        "tpu-v1-like",
        "gemm-4096",
        331.0,
        40.0,
        28.0,
        "die",
        "Jouppi et al., ISCA 2017: die < 331 mm² (Table 2), 40 W busy / 28 W idle per die (Table 2)",
    ),
    (
        "Eyeriss",
        "eyeriss-like",
        "gemm:M=169,N=384,K=2304,dtype=int16",  # AlexNet CONV3 as a GEMM (13x13 outputs, 384 filters, 3x3x256)
        12.25,
        0.278,
        None,
        "die",
        "Chen et al., ISSCC 2016: 3.5 mm x 3.5 mm core (12.25 mm²), 278 mW on AlexNet's conv layers",
    ),
    (
        "A100",
        "a100-like",
        "gemm:M=4096,N=4096,K=4096,dtype=fp16",
        826.0,
        400.0,
        None,
        "board",
        "NVIDIA A100 whitepaper 2020: 826 mm²; 400 W TDP (board, HBM included), drawn under large GEMMs",
    ),
    (
        "H100",
        "h100-like",
        "gemm:M=4096,N=4096,K=4096,dtype=fp16",
        814.0,
        700.0,
        None,
        "board",
        "NVIDIA H100 whitepaper 2022: 814 mm²; H100 SXM5 datasheet: up to 700 W TDP (board, HBM "
        "included; no published measured power of a large fp16 GEMM was found, so the TDP stands)",
    ),
    (
        "ISAAC",
        "isaac-like",
        VGG_CONV4_2,
        62.5,
        55.4,
        None,
        "die",
        "Shafiee et al., ISCA 2016, Table I: 168 tiles, 62.5 mm²; 168 tiles x 330 mW = 55.4 W (the "
        "chip's 65.8 W adds four HyperTransport links, 10.4 W, which the 62.5 mm² also leaves out)",
    ),
    (
        "HBM-PIM",
        "hbm-pim-like",
        "gemv-4096-fp16",
        None,
        5.0,
        None,
        "stack",
        "Kwon et al., ISSCC 2021 (Aquabolt-XL): ~5 W per stack (survey Table 1); die area not compared",
    ),
]

# TPU v1 floor plan (Jouppi et al., ISCA 2017, Figure 2): share of the die, by the accsim component
# (and part) that holds the block: the DRAM port is the dram's PHY and controller, the PCIe interface
# the host link's SerDes
TPU_FLOOR_PLAN = {
    "mxu": ("mxu", None, 0.24),
    "unified_buffer": ("unified_buffer", None, 0.29),
    "accumulators": ("accumulators", None, 0.06),
    "dram port": ("dram", None, 0.03),
    "pcie interface": ("(chip)", "serdes_pcie3_x16", 0.03),
    "activation pipeline": (None, None, 0.06),  # no accsim component: not modelled
    "control": (None, None, 0.02),  # global control: not counted (chip.yaml not_counted)
}
# 6T SRAM bit cells, um², to check the tech table's 45 -> 28 nm area factor against silicon (cited in
# simulator/tech/logic_45nm.yaml: Intel 45 nm, Mistry et al. IEDM 2007; TSMC 28 nm, Wu et al. VLSI 2009)
BIT_CELL_UM2 = {
    node: tech.table("logic_45nm")["sram"]["bit_cell_um2"][node]["value"] for node in (45, 28)
}


def _ratio(ours: float, theirs: float | None) -> str:
    return f"{ours / theirs:.2f}" if theirs else "-"


def mxu_per_pe(tpu) -> None:
    """TPU v1's MXU per PE at 28 nm: accsim's parts beside the floor plan's share, and the node's
    area factor beside published SRAM bit cells (is the scaling or the per-op area short?)."""
    mxu = tpu.machine.components["mxu"]
    pes = mxu.rows * mxu.cols
    parts = tpu.area[tpu.area.component == "mxu"].set_index("part").area_mm2 * 1e6 / pes
    parts = parts[parts > 0]  # an always-on part without area (register_clock)
    published = TPU_FLOOR_PLAN["mxu"][2] * 331.0 * 1e6 / pes
    print("\nTPU v1 MXU per PE at 28 nm (µm²):")
    for part, um2 in parts.items():
        print(f"- {part}: {um2:.0f}")
    print(
        f"- accsim total: {parts.sum():.0f}; floor plan 24 % of 331 mm² / {pes} PEs: {published:.0f}"
    )
    factor = tech.scale_area(1.0, 28.0)
    cells = BIT_CELL_UM2[28] / BIT_CELL_UM2[45]
    print(
        f"- 45 -> 28 nm area factor: tech table {factor:.3f}, SRAM bit cells {cells:.3f} "
        f"({BIT_CELL_UM2[45]} -> {BIT_CELL_UM2[28]} µm²)"
    )


# full die beside the part a preset models: (die, die mm², SMs on the die, SMs enabled, HBM PHY sites,
# stacks enabled, the DRAM component's name). NVIDIA A100 whitepaper 2020: GA100 128 SMs and six HBM2
# PHY sites, the A100 enables 108 and five; H100 whitepaper 2022: GH100 144 SMs and six HBM3 sites,
# the H100 SXM5 enables 132 and five.
FULL_DIES = {
    "A100": ("GA100", 826.0, 128, 108, 6, 5, "hbm"),
    "H100": ("GH100", 814.0, 144, 132, 6, 5, "hbm"),
}


def full_die(chip: str, report) -> None:
    """A GPU preset models the enabled SMs and HBM stacks; scale them to the whole die's."""
    die, published, sms, enabled, sites, stacks, dram = FULL_DIES[chip]
    area = report.area[report.area.on_die]
    sm = area[area.component.str.startswith("core")].area_mm2.sum()
    hbm = area[area.component == dram].area_mm2.sum()
    rest = area.area_mm2.sum() - sm - hbm
    full = sm * sms / enabled + hbm * sites / stacks + rest
    print(
        f"\n{chip} scaled to the whole {die} die (SMs {sm:.1f} x {sms}/{enabled}, HBM PHYs and "
        f"controllers {hbm:.1f} x {sites}/{stacks}, the rest {rest:.1f}): {full:.1f} mm², "
        f"{full / published:.2f} of {published:.0f} mm²"
    )


def crossbar_duty(report) -> float:
    """Share of the crossbar unit's read slots (every crossbar, every input cycle of the run: the
    analog read or the ADCs' conversion, whichever is longer) that read: 1 when every tile is busy
    all the time."""
    xbar = report.machine.components["xbar"]
    reads = report.energy[report.energy.action == "crossbar_read"]["count"].sum()
    return reads * xbar.cycle_s / (xbar.crossbars * report.seconds)


def isaac_busy(report) -> None:
    """ISAAC's busy run beside runs that leave tiles idle: the crossbars used, their duty and the
    die power (what bounds each run is in the docs)."""
    print("\nISAAC: crossbars used, crossbar duty (reads / read slots) and die power:")
    runs = {
        "VGG-16 conv4_2, batch 16 (the busy row)": report,
        "gemm 1024^3 int16 (bound by the 25.6 GB/s links)": simulator.simulate(
            "isaac-like", "gemm:M=1024,N=1024,K=1024,dtype=int16", numerics=False
        ),
        "resnet18 (layers one after another)": simulator.simulate(
            "isaac-like", "resnet18", numerics=False
        ),
    }
    for name, run in runs.items():
        pim = run.summary["pim"]
        print(
            f"- {name}: {pim['crossbars_used']} of {pim['crossbars']} crossbars, "
            f"{pim['replication']} copies, duty {crossbar_duty(run):.1%}, "
            f"die {run.power['die_power_w']:.3g} W"
        )
    details = report.program.ops[0].details
    links = report.machine.components["dram"].spec.bandwidth
    print(
        f"- busy row: one copy is {details['row_tiles']} x {details['col_tiles']} crossbars; the "
        f"links carry {report.summary['dram_bytes'] / 1e6:.1f} MB, "
        f"{report.summary['dram_bytes'] / links * 1e3:.2f} ms of the run's {report.seconds * 1e3:.2f} ms"
    )
    parts = report.breakdown.groupby("part").power_w.sum()
    rest = report.power["die_power_w"] - parts["crossbars"] - parts["clock_network"]
    tile_w = (
        parts["crossbars"] / crossbar_duty(report) / report.machine.components["xbar"].spec.tiles
    )
    print(
        f"- busy row: crossbar parts {parts['crossbars']:.1f} W ({tile_w * 1e3:.0f} mW per tile at "
        f"full duty; Table I: 330 mW with the tile's eDRAM at full bus rate), clock network "
        f"{parts['clock_network']:.1f} W, the rest {rest:.2f} W"
    )


def dram_devices() -> None:
    """Standby and refresh power of each preset's DRAM devices (chip.yaml dram_background), and the
    presets it cannot count: no currents for the technology, or no capacity to count devices by."""
    counted, no_currents, no_capacity = [], [], []
    for path in sorted((Path(__file__).parents[1] / "archs").glob("*.yaml")):
        arch = load_arch(path.stem)
        if not isinstance(arch, ArchSpec):  # a multi-chip system: its chips are presets too
            continue
        machine = build_machine(arch)
        parts = machine_parts(machine)
        for dram in (c for c in machine.components.values() if c.kind == "dram"):
            mw = sum(
                p.static_mw
                for p in parts
                if p.component == dram.name and p.part in ("devices", "refresh")
            )
            entry = f"{path.stem} ({dram.spec.technology})"
            if dram.capacity_bytes is None:
                no_capacity.append(entry)
            else:
                (counted if mw else no_currents).append(f"{entry} {mw * 1e-3:.3g}" if mw else entry)
    print("\nDRAM devices, standby + refresh (W): " + ", ".join(counted))
    print("- no currents for the technology: " + ", ".join(no_currents))
    print("- no capacity stated: " + ", ".join(no_capacity))


def accelwattch_bracket(reports: dict) -> None:
    """The GPU rows' busy power if their tensor arrays drew AccelWattch's Volta tensor power per MAC
    (data/calibration/accelwattch_volta_gemm.yaml, two fits of one kernel) in place of their MACs, PE registers,
    those parts' clock share and the fitted MMA residual; the fit holds its own clock, as sm_active
    does."""
    volta = yaml.safe_load(VOLTA_GEMM.read_text())
    seconds = volta["cycles"] / (volta["clock_mhz"] * 1e6)
    share = clock_share() / (1.0 - clock_share())
    print("\nAccelWattch's Quadro GV100 tensor power per MAC, moved to each GPU's node (busy W):")
    for chip in ("A100", "H100"):
        report = reports[chip]
        arrays = {
            name
            for name, comp in report.machine.components.items()
            if comp.kind == "systolic_array"
        }
        on_arrays = report.breakdown[report.breakdown.component.isin(arrays)]
        clocked = on_arrays[on_arrays.part.isin(["mac", "pe_registers"])].power_w.sum()
        fitted = on_arrays[on_arrays.part == "mma_residual"].power_w.sum()
        own_w = clocked * (1.0 + share) + fitted
        macs_per_s = report.power["achieved_tops"] * 1e12 / 2
        node = report.machine.arch.tech_node
        scale = tech.scale_energy(1.0, node) / tech.scale_energy(1.0, float(volta["node_nm"]))
        cells = []
        for model, fit in volta["models"].items():
            pj = fit["tensor_w"] * seconds / volta["macs"] * 1e12
            watts = report.power["power_w"] - own_w + pj * scale * macs_per_s * 1e-12
            cells.append(f"{model} {pj:.2f} pJ/MAC at 12 nm -> {watts:.0f} W")
        print(
            f"- {chip}: accsim {report.power['power_w']:.0f} W (tensor MACs, PE registers, their "
            f"clock and the MMA residual {own_w:.1f} W); " + "; ".join(cells)
        )


def main() -> None:
    print(
        "| chip | accsim die mm² | published mm² | ratio | accsim busy W | published busy W | ratio "
        "| accsim idle W | published idle W | MAC util | TOPS/W | peak TOPS/mm² |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    reports = {}
    for chip, preset, workload, area, busy, idle, scope, _ in CHIPS:
        report = simulator.simulate(preset, workload, numerics=False)
        reports[chip] = report
        p = report.power
        watts = {"die": p["die_power_w"], "board": p["power_w"], "stack": p["dram_power_w"]}[scope]
        print(
            f"| {chip} | {p['die_area_mm2']:.1f} | {area or '-'} | {_ratio(p['die_area_mm2'], area)} "
            f"| {watts:.3g} ({scope}) | {busy} | {_ratio(watts, busy)} "
            f"| {p['idle_power_w']:.3g} | {idle or '-'} | {report.summary['mac_utilization']:.0%} "
            f"| {p['tops_per_w']:.3g} | {p['peak_tops_per_mm2']:.3g} |"
        )
    loihi = build_machine(load_arch("loihi-like"))
    area = sum(c.area_mm2() for c in loihi.components.values())
    print(f"| Loihi | {area:.1f} | 60.0 | {_ratio(area, 60.0)} | - | - | - | - | - | - | - | - |")

    for chip in FULL_DIES:
        full_die(chip, reports[chip])
    accelwattch_bracket(reports)
    isaac_busy(reports["ISAAC"])
    dram_devices()

    print(
        "\nTPU v1 floor plan (share of the published 331 mm² die; accsim's share of its own die):"
    )
    tpu = reports["TPU v1"]
    die = tpu.power["die_area_mm2"]
    print("| block | accsim mm² | accsim share | published share | published mm² |")
    print("|---|---|---|---|---|")
    for block, (component, part, share) in TPU_FLOOR_PLAN.items():
        rows = tpu.area[tpu.area.component == component]
        mm2 = (rows if part is None else rows[rows.part == part]).area_mm2.sum()
        ours = f"{mm2:.1f} | {mm2 / die:.0%}" if component else "- | -"
        print(f"| {block} | {ours} | {share:.0%} | {share * 331:.0f} |")

    lane_um2 = tech.op_area_um2("fp32_add") + tech.op_area_um2("fp32_mul")
    lanes = tech.scale_area(lane_um2, 28.0) * 256 * 1e-6
    print(
        "- activation pipeline as a 256-lane fp32 vector unit (the MXU's 256-element row of sums per clock), "
        f"not modelled: lanes {lanes:.2f} + placement {placement_mm2(lanes):.2f} mm² against "
        f"{TPU_FLOOR_PLAN['activation pipeline'][2] * 331:.0f} mm²"
    )

    mxu_per_pe(tpu)
    clocked = tpu.energy[tpu.energy.part.isin(["clock_network", "register_clock"])]
    clock = clocked.groupby(["part", "action"]).energy_pj.sum()
    watts = ", ".join(
        f"{part} {action} {pj * 1e-12 / tpu.seconds:.3g} W" for (part, action), pj in clock.items()
    )
    print(f"\nTPU v1 clock (chip.clock_gating: false) in the busy run: {watts}")

    print("\nLeakage by device flavour (chip.devices), TPU v1 idle power (published: 28 W):")
    arch = load_arch("tpu-v1-like")
    for devices in ("lstp", "lop", "hp"):
        chip = arch.chip.model_copy(update={"devices": devices})
        report = simulator.simulate(
            arch.model_copy(update={"chip": chip}), "gemm-256", numerics=False
        )
        print(f"- {devices}: idle {report.power['idle_power_w']:.3g} W")

    print("\nLeakage by junction temperature (chip.temperature; default 360 K, CACTI's):")
    for chip, preset, workload, *_ in CHIPS[:2]:
        arch = load_arch(preset)
        cells = []
        for kelvin in (300.0, 330.0, 360.0):
            spec = arch.model_copy(
                update={"chip": arch.chip.model_copy(update={"temperature": kelvin})}
            )
            p = simulator.simulate(spec, workload, numerics=False).power
            cells.append(
                f"{kelvin:.0f} K: die {p['die_power_w']:.3g} W, idle {p['idle_power_w']:.3g} W"
            )
        print(f"- {chip}: " + "; ".join(cells))

    print("\nWhere the die area goes (part, mm²):")
    for chip, report in reports.items():
        area = report.area[report.area.on_die].groupby("part").area_mm2.sum()
        parts = ", ".join(
            f"{part} {mm2:.3g}"
            for part, mm2 in area.sort_values(ascending=False).items()
            if mm2 > 0
        )
        print(f"- {chip}: {parts}")

    print("\nWhere the power of each busy run goes (component x part, W):")
    for chip, report in reports.items():
        top = report.breakdown.groupby("part").power_w.sum().sort_values(ascending=False)
        parts = ", ".join(f"{part} {w:.3g}" for part, w in top.items() if w > 0)
        print(f"- {chip}: {parts}")
    print("\nSources:")
    for chip, *_, source in CHIPS:
        print(f"- {chip}: {source}")
    print(
        "- Loihi: Davies et al., IEEE Micro 2018: 60 mm², 14 nm (neuro.yaml sets the core area to 60 mm² / 128)"
    )


if __name__ == "__main__":
    main()
