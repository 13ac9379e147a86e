"""The parts of a chip beyond its components' datapaths (simulator/tech/chip.yaml): per-PE registers,
placement white space around synthesized cells, DDR and HBM PHYs and controllers, SIMT control of
GPU-like cores (its area and the energy of issuing instructions) and their INT32/FP64 side units,
special-function units,
leakage per area at the junction temperature, always-on SerDes and link controllers, DRAM devices'
standby and refresh power. Pure costs, no run state."""

import math
from dataclasses import dataclass

from simulator import tech
from simulator.components.base import Component
from simulator.spec.chip import ChipSpec
from simulator.spec.precision import precision

CHIP = "(chip)"  # the component name of chip-level parts (clock network, SerDes)
OFF_DIE = (
    "dram",
    "pim",
)  # on the DRAM dies: HBM-PIM's units sit beside the banks, not on the host die
DATAPATH_PART = {
    "systolic_array": "mac",
    "vector": "lanes",
    "sram": "array",
    "noc": "routers",
    "crossbar": "crossbars",
    "pim": "lanes",
    "neuro_core": "core",
    "dram": "interface",
    "regfile": "registers",
}


@dataclass(frozen=True, slots=True)
class Part:
    """One (component, part) of the chip: its area and the power it draws whenever the chip is on."""

    component: str
    part: str
    area_mm2: float
    static_mw: float
    on_die: bool  # False for the DRAM devices (reported apart from the die)


def _table() -> dict:
    return tech.table("chip")


def _from_40nm_area(um2: float, node_nm: float) -> float:
    """Aladdin's register figures are at 40 nm: move them to `node_nm` with the area factors."""
    return tech.scale_area(um2, node_nm) / tech.scale_area(1.0, 40.0)


def _energy_from_node(pj: float, from_nm: float, node_nm: float) -> float:
    """An energy published at `from_nm`, moved to `node_nm` with the energy factors."""
    return tech.scale_energy(pj, node_nm) / tech.scale_energy(1.0, from_nm)


def _from_40nm_energy(pj: float, node_nm: float) -> float:
    return _energy_from_node(pj, 40.0, node_nm)


def held_by_register_levels(components: dict[str, Component], unit_name: str) -> set[str]:
    """Operand roles that declared per-PE register levels (kind: regfile, instances: pe) of array
    `unit_name` hold; their registers are counted there, not again as PE registers. A row, column
    or array level (a column's accumulators) sits outside the PEs, whose pipeline registers stay.
    Core units are named 'core3.mxu'."""
    return set(register_roles(components).get(unit_name, ()))


def register_roles(components: dict[str, Component]) -> dict[str, set[str]]:
    """`held_by_register_levels` of every array that has such levels, in one pass over the
    components (a many-core chip asks for each of its arrays: one pass each was quadratic)."""
    roles: dict[str, set[str]] = {}
    for name, comp in components.items():
        if comp.kind == "regfile" and comp.spec.instances == "pe" and "." not in comp.spec.unit:
            prefix = name.rpartition(".")[0]
            unit = f"{prefix}.{comp.spec.unit}" if prefix else comp.spec.unit
            roles.setdefault(unit, set()).update(comp.spec.holds)
    return roles


def pe_register_bits(unit, held: set[str] = frozenset()) -> int:
    """Register bits in one PE: input + stationary operand (x2 when double-buffered) + accumulator,
    less the roles a declared register level already holds."""
    widest = max(unit.spec.input_precision, key=lambda p: precision(p).bits)
    operand = precision(widest).bits
    copies = 2 if _table()["pe_registers"]["double_buffered_stationary"] else 1
    bits = {
        "input": operand,
        "weight": copies * operand,
        "output": precision(unit.accumulator(widest)).bits,
    }
    return sum(b for role, b in bits.items() if role not in held)


def _flipflop() -> dict:
    return tech.table("logic_45nm")["registers"]["flipflop_pj_per_bit"]


def pe_register_pj_per_mac(unit, held: set[str] = frozenset(), ungated: bool = False) -> float:
    """Energy of the PE registers written by one MAC (each register once), at the arch node; on a
    chip that does not gate its clock only the switching part (the internal part is drawn every
    cycle, written or not: register_clock_mw)."""
    per_bit = _flipflop()["switching_pj_per_bit" if ungated else "value"]
    return _from_40nm_energy(per_bit * pe_register_bits(unit, held), unit.node_nm)


def register_clock_mw(unit, held: set[str] = frozenset()) -> float:
    """Internal power of an ungated array's PE registers: every flip-flop is clocked each cycle,
    busy or idle (Aladdin's internal power per bit per cycle)."""
    per_bit = _from_40nm_energy(_flipflop()["internal_pj_per_bit"], unit.node_nm)
    pj_per_s = per_bit * pe_register_bits(unit, held) * unit.rows * unit.cols * unit.clock_hz
    return pj_per_s * 1e-9  # 1 mW = 1e9 pJ/s


def pe_register_area_mm2(unit, held: set[str] = frozenset()) -> float:
    """Area of every PE's registers in the array."""
    per_bit = _flipflop()["area_um2_per_bit"]
    pes = unit.rows * unit.cols
    return _from_40nm_area(per_bit * pe_register_bits(unit, held), unit.node_nm) * pes * 1e-6


def placed_cell_area_mm2(comp, pe_registers_mm2: float) -> float:
    """Area of `comp` built from per-cell tables (Horowitz operators, Aladdin flip-flops), which a
    placed block spreads over cells / utilization; 0 where the arch states the area itself."""
    if comp.kind == "systolic_array":
        own = comp.area_mm2() if comp.spec.mac_area is None else 0.0
        return own + pe_registers_mm2
    if comp.kind == "vector":
        lanes = comp.area_mm2() if comp.spec.area is None else 0.0
        return lanes + comp.sfu_area_mm2()
    return 0.0


def placement_mm2(cell_mm2: float) -> float:
    """White space and routing around `cell_mm2` of placed standard cells."""
    return cell_mm2 * (1.0 / float(_table()["placement"]["utilization"]) - 1.0)


def transistor_mm2(mtr: float, node_nm: float) -> float:
    """Area of `mtr` million logic transistors at `node_nm` (Khan and Mann's densities; nodes
    below the table take its smallest node's density)."""
    table = _table()["transistor_density"]["mtr_per_mm2"]
    points = sorted((float(node), float(density)) for node, density in table.items())
    return mtr / tech.loglog(points, node_nm, extrapolate=False)


def hbm_stacks(dram) -> int:
    """1024-bit HBM stacks behind `dram`: its stated channels over one stack's (dram.yaml), else its
    bandwidth over one stack's at the preset's pin rate, each rounded up."""
    preset = tech.dram_preset(dram.spec.technology)
    if dram.spec.channels is not None:
        return math.ceil(dram.spec.channels / preset["default_channels"])
    stack = preset["default_channels"] * preset["channel_bandwidth_gbps"] * 1e9
    return max(1, math.ceil(dram.bandwidth_bytes_per_s / stack - 1e-9))


def memory_interface_mm2(dram, node_nm: float) -> tuple[float, float] | None:
    """On-die PHY and controller area (mm²) of a DDR3/DDR4 interface with `dram.channels` 64-bit
    channels (McPAT's IP-based model) or of an HBM interface per stack (LLMCompass); None for
    technologies without a cited figure."""
    table = _table()["memory_interface"]
    if dram.spec.technology in table["hbm_technologies"]:
        stacks = hbm_stacks(dram)
        controller = transistor_mm2(table["hbm_controller_mtr_per_stack"], node_nm)
        return stacks * table["hbm_phy_mm2_per_stack"], stacks * controller
    if dram.spec.technology not in table["technologies"]:
        return None
    bits = 64 * dram.channels
    io = table["ddr_phy_io_share"]
    per_bit_40 = table["ddr_phy_mm2_per_16_bits_40nm"] / 16
    phy = (
        bits
        * per_bit_40
        * (io + (1 - io) * tech.scale_area(1.0, node_nm) / tech.scale_area(1.0, 40.0))
    )
    per_channel_65 = table["ddr_controller_mm2_per_72_bit_channel_65nm"] * 64 / 72
    controller = (
        dram.channels * per_channel_65 * tech.scale_area(1.0, node_nm) / tech.scale_area(1.0, 65.0)
    )
    return phy, controller


def temperature_k(chip: ChipSpec) -> float:
    """The junction temperature leakage is evaluated at: the chip's, else the table's default."""
    default = _table()["leakage"]["temperature"]["default_k"]
    return float(chip.temperature if chip.temperature is not None else default)


def temperature_factor(devices: str, kelvin: float) -> float:
    """Leakage at `kelvin` over leakage at 300 K for `devices`: CACTI's off plus gate current per um,
    linear between its 10 K steps (300-400 K)."""
    table = _table()["leakage"]["temperature"]
    current = [
        off + gate
        for off, gate in zip(
            table["i_off_n_a_per_um"][devices], table["i_g_on_n_a_per_um"][devices], strict=True
        )
    ]
    step = (kelvin - 300.0) / 10.0
    low = min(int(step), len(current) - 2)
    at = current[low] + (step - low) * (current[low + 1] - current[low])
    return at / current[0]


def leakage_mw_per_mm2(devices: str, node_nm: float, kelvin: float = 300.0) -> float:
    """Static power density of `devices` (lstp / lop / hp) at `node_nm` and `kelvin`."""
    density = _table()["leakage"]["mw_per_mm2_45nm"][devices]["value"]
    scale = tech.scale_energy(1.0, node_nm) / tech.scale_area(1.0, node_nm)
    return density * scale * temperature_factor(devices, kelvin)


SRAM_DEVICES = "lop"  # the flavour of the CACTI runs behind the SRAM's leakage (logic_45nm.yaml)


def own_leakage_mw(comp: Component, chip: ChipSpec) -> float:
    """A component's own leakage at the chip's temperature: a stated figure as given, the SRAM's
    CACTI figure (300 K) moved to the chip's temperature."""
    mw = comp.leakage_mw()
    if comp.kind == "sram" and comp.spec.leakage is None:
        mw *= temperature_factor(SRAM_DEVICES, temperature_k(chip))
    return mw


def clock_share() -> float:
    """Clock network's share of dynamic power (the rest is the logic and SRAM it clocks)."""
    return float(_table()["clock_network"]["fraction_of_dynamic_power"])


UNGATED_PARTS = (
    "mac",
    "pe_registers",
    "lanes",
    "sfu",
    "instruction_issue",
)  # clocked every cycle when ungated


def datapath_part(comp: Component, action: str) -> str:
    """The part a component's own energy row belongs to: its datapath's, except the exp / div /
    rsqrt a vector unit runs on its special-function units."""
    if comp.kind == "vector" and comp.on_sfu(action):
        return "sfu"
    return DATAPATH_PART.get(comp.kind, comp.kind)


def full_activity_pj_per_cycle(components: dict[str, Component]) -> float:
    """Dynamic energy per reference cycle of every MAC array (at its costliest precision, each
    MAC plus its PE registers, times that precision's `rate`), vector lane (an fp32 add and
    multiply) and special-function unit (one op) working at once."""
    total, roles = 0.0, register_roles(components)
    for name, comp in components.items():
        if comp.kind == "systolic_array":
            regs = pe_register_pj_per_mac(comp, roles.get(name, set()))
            per_pe = max(
                comp.rate(action.removeprefix("mac_")) * (pj + regs)
                for action, pj in comp.actions.items()
            )
            total += comp.peak_macs_per_cycle * per_pe
        elif comp.kind == "vector":
            lane = comp.actions["add"] + comp.actions["mul"]
            sfu = (comp.spec.sfu or 0) * comp.actions["exp"]
            total += (comp.lanes * lane + sfu) * comp.clock_hz / comp.ref_clock_hz
    return total


def ungated_clock_mw(components: dict[str, Component], chip: ChipSpec) -> float:
    """Clock tree power that an ungated chip draws whether busy or not: the clock's share of its
    datapath's full-activity dynamic power; 0 where the chip gates its clock."""
    if chip.clock_gating or not components:
        return 0.0
    share = clock_share()
    ref_hz = next(iter(components.values())).ref_clock_hz
    pj_per_s = share / (1.0 - share) * full_activity_pj_per_cycle(components) * ref_hz
    return pj_per_s * 1e-9  # 1 mW = 1e9 pJ/s


def serdes_parts(chip: ChipSpec, node_nm: float, density: float) -> list[Part]:
    """SerDes of each link kind: PHY area per link (LLMCompass) or lanes x area per lane; power =
    pJ/bit x line rate, both ways; and the link controller where LLMCompass counts one."""
    table = _table()["serdes"]
    parts = []
    for ports in chip.links:
        link = tech.table("noc")["chip_to_chip"][ports.kind]
        per_link = table["phy_mm2_per_link"].get(ports.kind)
        if per_link is None:
            per_link = table["lanes_per_link"][ports.kind]["value"] * table["area_mm2_per_lane"]
        bits_per_s = 2 * 8e9 * link["bandwidth_gbps_per_direction"] * ports.count
        mw = link["energy_pj_per_bit"] * bits_per_s * 1e-9  # pJ/bit x bit/s = 1e-12 W = 1e-9 mW
        parts.append(Part(CHIP, f"serdes_{ports.kind}", per_link * ports.count, mw, True))
        mtr = table["controller_mtr_per_link"].get(ports.kind)
        if mtr:
            area = transistor_mm2(mtr, node_nm) * ports.count
            parts.append(Part(CHIP, f"link_controller_{ports.kind}", area, density * area, True))
    return parts


def simt_control_mm2(comp, node_nm: float) -> float:
    """Control area (scheduling, dispatch, instruction caches, operand collection, LD/ST) of a
    GPU-like core's vector unit: its lanes x LLMCompass's control transistors per lane, less its
    SFUs' placed area, which that count holds and the `sfu` part counts."""
    per_lane = _table()["simt_control"]["transistors_per_lane"]
    sfu = comp.sfu_area_mm2() + placement_mm2(comp.sfu_area_mm2())
    return max(0.0, transistor_mm2(comp.lanes * per_lane / 1e6, node_nm) - sfu)


def instruction_issue_pj(node_nm: float, mma: bool) -> float:
    """Fetch, decode, schedule and operand fetch of one warp instruction at `node_nm`: Dally's
    per-thread overhead x the warp's threads; an MMA's operand reads are mma_operands', so it pays
    the overhead less the three register reads the per-thread figure holds."""
    table = _table()["instruction_issue"]
    per_thread = table["pj_per_thread_instruction_45nm"]
    if mma:
        rf = _table()["mma_operands"]
        read_45 = _energy_from_node(rf["read_pj_per_32_bits_40nm"], float(rf["node_nm"]), 45.0)
        per_thread -= table["operand_reads_per_thread"] * read_45
    return tech.scale_energy(per_thread * table["warp_threads"], node_nm)


def issued_instructions(comp, action: str, count: float, mma_shape: tuple[int, int, int]) -> float:
    """Warp instructions that issue `count` of `action` on a GPU-like core's unit: one MMA per
    m x n x k MACs (the arch's `mma_shape`), one vector instruction per warp of elements; 0 for
    anything else."""
    table = _table()["instruction_issue"]
    if comp.kind == "systolic_array" and action.startswith("mac_"):
        return count / math.prod(mma_shape)
    if comp.kind == "vector" and action in comp.actions:
        return count / table["warp_threads"]
    return 0.0


def mma_shape_at(comp, dtype: str, mma_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """The MMA instruction shape for operands of `dtype`: the arch's (m, n, k) with k times the
    unit's `rate` at `dtype` (Hopper's fp8 mma is m16n8k32 beside bf16's m16n8k16: twice the
    MACs per instruction in the same cycles)."""
    m, n, k = mma_shape
    return m, n, k * comp.rate(dtype)


def mma_operand_bytes(comp, dtype: str, mma_shape: tuple[int, int, int]) -> tuple[int, int]:
    """Register-file bytes one MMA instruction of `comp` (a GPU-like core's tensor unit) of shape
    `mma_shape` reads (A, B and C fragments) and writes (D) for operands of `dtype`."""
    m, n, k = mma_shape
    operand = precision(dtype).bits // 8
    accumulator = precision(comp.accumulator(dtype)).bits // 8
    return (m * k + k * n) * operand + m * n * accumulator, m * n * accumulator


def mma_operand_pj_per_byte(node_nm: float) -> tuple[float, float]:
    """Main register file read and write energy per byte (Gebhart et al., 40 nm) at `node_nm`."""
    table = _table()["mma_operands"]
    return tuple(
        _energy_from_node(table[key] / 4, float(table["node_nm"]), node_nm)
        for key in ("read_pj_per_32_bits_40nm", "write_pj_per_32_bits_40nm")
    )


def sm_active_pj_per_cycle(node_nm: float) -> float:
    """Energy of a GPU-like core per cycle its tensor array works, beyond its accesses and an idle
    SM (AccelWattch's Volta activation power), at `node_nm`."""
    table = _table()["sm_active"]
    watts = table["tensor_active_w_per_chip"] / table["sms"] - table["idle_core_w"]
    pj = watts / (table["clock_mhz"] * 1e6) * 1e12
    return _energy_from_node(pj, float(table["node_nm"]), node_nm)


def mma_residual_pj_per_mac(node_nm: float) -> float:
    """Energy per MAC at the array's base rate (one issue slot) of a GPU-like core's MMA path
    beyond its counted parts, fitted on measured Quadro GV100 fp16 GEMMs
    (benchmarks/gpu_power_fit.py), moved to `node_nm`."""
    table = _table()["mma_residual"]
    return _energy_from_node(table["pj_per_mac"], float(table["node_nm"]), node_nm)


def mma_made_access(comp, action: str) -> bool:
    """Whether access `action` of `comp` on a GPU-like core is one its array's MMA instructions make
    themselves (so mma_operands counts it): a read of a register level outside the PEs (the
    register file), or a write of the output it holds."""
    if comp.kind != "regfile" or comp.spec.instances == "pe":
        return False
    return action == "read" or (action == "write" and "output" in comp.spec.holds)


def dram_background_mw(dram) -> tuple[float, float] | None:
    """Standby and refresh power (mW) of the DRAM devices behind `dram`; None where no figure is
    tabulated."""
    entry = _table()["dram_background"].get(dram.spec.technology)
    if entry is None or dram.capacity_bytes is None:
        return None
    devices = -(-8 * dram.capacity_bytes // entry["device_bits"])
    return devices * entry["mw_per_device"], devices * entry["refresh_mw_per_device"]


def side_units_mm2(comp, node_nm: float) -> float:
    """Area of the INT32 / FP64 units a vector unit holds beside its modelled lanes."""
    per_unit = _table()["side_units"]["transistors"]
    mtr = sum(per_unit[kind] * count for kind, count in comp.spec.side_units.items()) / 1e6
    return transistor_mm2(mtr, node_nm)


def chip_parts(
    components: dict[str, Component], chip: ChipSpec, node_nm: float, simt: bool = False
) -> list[Part]:
    """Every (component, part) with its area and always-on power. A datapath's own leakage (where the
    component states one, or its action energies hold it) is kept; parts without one leak at the
    device flavour's density. `simt`:
    the cores run GPU-like (SIMT) kernels, so their vector units carry SIMT control."""
    density = leakage_mw_per_mm2(chip.devices, node_nm, temperature_k(chip))
    parts, roles = [], register_roles(components)
    for name, comp in components.items():
        if comp.kind == "dram":
            standby, refresh = dram_background_mw(comp) or (0.0, 0.0)
            parts.append(Part(name, "devices", 0.0, standby, False))
            parts.append(Part(name, "refresh", 0.0, refresh, False))
            interface = chip.memory_interface_on_die and memory_interface_mm2(comp, node_nm)
            if interface:
                phy, controller = interface
                parts.append(Part(name, "memory_phy", phy, 0.0, True))
                parts.append(
                    Part(name, "memory_controller", controller, density * controller, True)
                )
            continue
        area = comp.area_mm2()
        stated = getattr(getattr(comp, "spec", None), "leakage", None) is not None
        stated = stated or comp.leakage_in_actions
        on_die = comp.kind not in OFF_DIE
        own = own_leakage_mw(comp, chip)
        own = own if stated or own or not on_die else density * area
        parts.append(Part(name, DATAPATH_PART.get(comp.kind, comp.kind), area, own, on_die))
        regs = 0.0
        if comp.kind == "systolic_array":
            regs = pe_register_area_mm2(comp, roles.get(name, set()))
            if regs:
                parts.append(Part(name, "pe_registers", regs, density * regs, True))
            if regs and not chip.clock_gating:
                clocked = register_clock_mw(comp, roles.get(name, set()))
                parts.append(Part(name, "register_clock", 0.0, clocked, True))
        white = placement_mm2(placed_cell_area_mm2(comp, regs))
        if white:
            parts.append(Part(name, "placement", white, 0.0, True))
        if comp.kind == "vector" and comp.spec.sfu:
            sfu = comp.sfu_area_mm2()
            parts.append(Part(name, "sfu", sfu, density * sfu, True))
        if comp.kind == "vector" and comp.spec.side_units:
            side = side_units_mm2(comp, node_nm)
            parts.append(Part(name, "side_units", side, density * side, True))
        if simt and comp.kind == "vector" and "." in name:
            control = simt_control_mm2(comp, node_nm)
            parts.append(Part(name, "simt_control", control, density * control, True))
    clock = ungated_clock_mw(components, chip)
    if clock:
        parts.append(Part(CHIP, "clock_network", 0.0, clock, True))
    return parts + serdes_parts(chip, node_nm, density)


def not_counted() -> dict[str, str]:
    """Parts the tables have no cited number for, by name, with the reason."""
    return dict(_table()["not_counted"])
