"""Chip parts beyond the datapath, checked against the table entries they come from."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator import tech
from simulator.components import build_machine
from simulator.components.chip import (
    held_by_register_levels,
    issued_instructions,
    leakage_mw_per_mm2,
    pe_register_bits,
    pe_register_pj_per_mac,
    register_clock_mw,
    register_roles,
    serdes_parts,
    temperature_factor,
    transistor_mm2,
)
from simulator.components.systolic import SystolicArray
from simulator.report.power import machine_parts
from simulator.spec import load_arch
from simulator.spec.arch import SystolicArraySpec
from simulator.spec.chip import ChipSpec


def parts_of(preset):
    machine = build_machine(load_arch(preset))
    return machine, {(p.component, p.part): p for p in machine_parts(machine)}


# CACTI 7 tech_params/45nm.dat, itrs-lop: NMOS off current + gate current (A/um) at 300 and 360 K
LOP_360 = (1.27e-8 + 9.82e-8) / (4.03e-9 + 3.24e-8)


def test_leakage_density_is_cactis_leakage_over_its_area():
    # CACTI 7, 1 MiB at 45 nm: itrs-lop 20.4 mW, itrs-hp 497 mW, over 3.26 mm²
    assert leakage_mw_per_mm2("lop", 45) == pytest.approx(20.4 / 3.26, rel=2e-3)
    assert leakage_mw_per_mm2("hp", 45) == pytest.approx(497 / 3.26, rel=2e-3)
    # at 28 nm: energy factor 0.518 over area factor 0.368
    assert leakage_mw_per_mm2("lop", 28) == pytest.approx(6.26 * 0.518 / 0.368)


def test_tpu_v1_pe_registers_and_ddr3_devices():
    machine, parts = parts_of("tpu-v1-like")
    # int8 input, two int8 weights (double-buffered), int32 accumulator
    assert pe_register_bits(machine.components["mxu"]) == 8 + 2 * 8 + 32
    # 8 GiB of 2 Gbit DDR3 devices = 32 devices x 45 mA x 1.5 V
    assert parts["dram", "devices"].static_mw == pytest.approx(32 * 45 * 1.5)
    assert not parts["dram", "devices"].on_die
    # refresh: a 4 Gbit DDR3L device (DRAMsim3 currents) over 2 Gbit devices:
    # (IDD5 235 - IDD3N 38 mA) x 1.35 V x tRFC / tREFI (208 / 6240 clocks), per bit
    per_4gbit = (235 - 38) * 1.35 * 208 / 6240
    assert parts["dram", "refresh"].static_mw == pytest.approx(32 * per_4gbit / 2, rel=2e-3)
    assert not parts["dram", "refresh"].on_die


def test_a100_hbm_standby_and_refresh():
    # 80 GiB of HBM2E counted as 80 DRAMsim3 HBM2 channels of 1 GiB: IDD3N 55 mA x 1.2 V standby,
    # (IDD5 250 - IDD3N 55 mA) x 1.2 V x tRFC 260 / tREFI 3900 ns refresh
    _, parts = parts_of("a100-like")
    assert parts["hbm", "devices"].static_mw == pytest.approx(80 * 55 * 1.2)
    assert parts["hbm", "refresh"].static_mw == pytest.approx(80 * 195 * 1.2 * 260 / 3900)


def test_lpddr4_standby_and_refresh_on_three_rails():
    # 128 GB of LPDDR4 counted in x16 channels of 6 Gb (DRAMPower's Micron memspec): 159 devices.
    # Standby IDD3N on VDD1 1.8 V, VDD2 1.1 V, VDDQ 1.1 V; refresh (IDD5 - IDD3N) per rail over
    # tRFCab 448 / tREFIab 6246 clocks
    _, parts = parts_of("cloud-ai100-like")
    devices = math.ceil(128e9 * 8 / (6 * 2**30))
    assert devices == 159
    standby = 2.25 * 1.8 + 30 * 1.1 + 0.75 * 1.1
    refresh = ((10 - 2.25) * 1.8 + (90 - 30) * 1.1) * 448 / 6246
    assert parts["ddr", "devices"].static_mw == pytest.approx(devices * standby)
    assert parts["ddr", "refresh"].static_mw == pytest.approx(devices * refresh, rel=1e-4)
    assert not parts["ddr", "devices"].on_die


def test_dram_without_tabulated_currents_draws_no_background():
    # hbm3's standby and refresh currents are not transcribed: the parts exist with 0 mW
    _, parts = parts_of("h100-like")
    dram = next(name for name, part in parts if part == "refresh")
    assert parts[dram, "devices"].static_mw == parts[dram, "refresh"].static_mw == 0.0


def test_a100_serdes_area_and_always_on_power():
    _, parts = parts_of("a100-like")
    nvlink = parts["(chip)", "serdes_nvlink3"]
    # LLMCompass: 1.888 mm² of PHY per NVLink3; 12 x 25 GB/s x 2 directions x 8 bit x 5 pJ/bit
    assert nvlink.area_mm2 == pytest.approx(12 * 1.888)
    assert nvlink.static_mw == pytest.approx(12 * 25e9 * 2 * 8 * 5e-12 * 1e3)
    pcie = parts["(chip)", "serdes_pcie4_x16"]
    assert pcie.area_mm2 == pytest.approx(16 * 0.48)
    # controllers: 74.632 M transistors per NVLink3, 3.9625 M per PCIe 4 lane, at 96.3 M/mm² (7 nm)
    assert parts["(chip)", "link_controller_nvlink3"].area_mm2 == pytest.approx(12 * 74.632 / 96.3)
    assert parts["(chip)", "link_controller_pcie4_x16"].area_mm2 == pytest.approx(
        16 * 3.9625 / 96.3, rel=1e-3
    )


def test_tpu_v1_pcie3_host_port_takes_lanes_times_the_lane_area():
    # 16 lanes x 0.22 mm² (Gangasani et al.); always on: 5 pJ/bit x 15.75 GB/s (8 GT/s x 128/130 x 16
    # lanes / 8, as PCI-SIG rounds it), both ways
    _, parts = parts_of("tpu-v1-like")
    pcie = parts["(chip)", "serdes_pcie3_x16"]
    assert pcie.area_mm2 == pytest.approx(16 * 0.22)
    assert pcie.static_mw == pytest.approx(5.0 * 2 * 15.75e9 * 8 * 1e-9)


def test_tpu_v4_ici_takes_lanes_times_the_lane_area():
    # no LLMCompass figure for ICI: 4 lanes of 0.22 mm² (Gangasani et al.) per link, no controller
    chip = ChipSpec.model_validate({"links": [{"kind": "tpu_v4_ici", "count": 6}]})
    (ici,) = serdes_parts(chip, 7, 1.0)
    assert ici.part == "serdes_tpu_v4_ici" and ici.area_mm2 == pytest.approx(6 * 4 * 0.22)


def test_a100_hbm2e_phy_and_controller_per_stack():
    # 2039 GB/s over 409.6 GB/s stacks: 5 stacks; LLMCompass: 10.45 mm² PHY and 552.743 M
    # controller transistors per stack, at 96.3 M transistors per mm² (7 nm, Khan and Mann)
    _, parts = parts_of("a100-like")
    assert parts["hbm", "memory_phy"].area_mm2 == pytest.approx(5 * 10.45)
    assert parts["hbm", "memory_controller"].area_mm2 == pytest.approx(5 * 552.743 / 96.3)


def test_h100_hbm3_stacks_follow_the_bandwidth():
    # 3350 GB/s over 16 x 51.2 GB/s = 819.2 GB/s HBM3 stacks: 5 stacks (4.09 rounded up); 4 nm
    # takes the table's smallest node, 5 nm (138.2 M/mm²)
    _, parts = parts_of("h100-like")
    dram = next(c for c, name in parts if name == "memory_phy")
    assert parts[dram, "memory_phy"].area_mm2 == pytest.approx(5 * 10.45)
    assert parts[dram, "memory_controller"].area_mm2 == pytest.approx(5 * 552.743 / 138.2)


def test_transistor_density_is_loglog_between_nodes():
    assert transistor_mm2(96.3, 7) == pytest.approx(1.0)
    # 6 nm: log-log between 7 nm (96.3) and 5 nm (138.2)
    density = math.exp(math.log(96.3) + math.log(138.2 / 96.3) * math.log(6 / 7) / math.log(5 / 7))
    assert transistor_mm2(1.0, 6) == pytest.approx(1 / density)
    assert transistor_mm2(1.0, 3) == pytest.approx(1 / 138.2)  # below the table: 5 nm


def test_simt_control_on_gpu_like_cores_only():
    # a100-like runs GPU-like kernels: 108 SMs x 128 lanes x 996,200 transistors at 96.3 M/mm²,
    # which hold the SMs' SFUs: their cells and white space are taken out of simt_control
    _, a100 = parts_of("a100-like")
    control = sum(p.area_mm2 for (c, name), p in a100.items() if name == "simt_control")
    sfu = sum(p.area_mm2 for (c, name), p in a100.items() if name == "sfu")
    assert control + sfu / 0.7 == pytest.approx(108 * 128 * 996_200 / 96.3e6)
    assert a100["core0.alu", "simt_control"].static_mw == pytest.approx(
        a100["core0.alu", "simt_control"].area_mm2 * leakage_mw_per_mm2("lop", 7, 360)
    )
    _, tpu = parts_of("tpu-v5p-like")  # systolic cores without GPU-like kernels
    assert not any(name == "simt_control" for _, name in tpu)


def test_gpu_like_cores_pay_dallys_30_pj_per_thread_instruction():
    # Dally's 30 pJ at 45 nm is per thread (an HFMA's 1.5 pJ is one lane's FMA), so a warp
    # instruction pays 32 x 30 pJ; an MMA's operand reads are counted per byte apart, so it pays
    # 32 x (30 - 3 reads of 8 pJ at 40 nm moved to 45 nm by the energy factors, 8 / 0.8635).
    # 256³ fp16 MACs in m16n8k16 MMAs (2,048 MACs each): 8,192 MMAs, x 0.0935 at 7 nm (a100-like).
    gemm = "gemm:M=256,N=256,K=256,dtype=fp16"
    report = simulator.simulate("a100-like", gemm, numerics=False)
    issue = report.energy[report.energy.part == "instruction_issue"]
    mma = issue[issue.component.str.endswith(".tc")]
    to_45nm = tech.scale_energy(1.0, 45.0) / tech.scale_energy(1.0, 40.0)
    assert mma["count"].sum() == pytest.approx(256**3 / 2048)
    per_thread = 30 - 3 * 8 * to_45nm  # 2.21 pJ
    assert mma.energy_pj.sum() == pytest.approx(256**3 / 2048 * 32 * per_thread * 0.0935)
    machine, _ = parts_of("a100-like")
    alu = machine.components["core0.alu"]
    assert (
        issued_instructions(alu, "exp", 96, (16, 8, 16)) == 3
    )  # one warp instruction per 32 elements
    assert issued_instructions(alu, "leakage", 1.0, (16, 8, 16)) == 0
    softmax = simulator.simulate("a100-like", "softmax:rows=64,cols=256", numerics=False)
    vector = softmax.energy[softmax.energy.part == "instruction_issue"]
    assert vector["count"].sum() > 0
    assert vector.energy_pj.sum() == pytest.approx(vector["count"].sum() * 32 * 30 * 0.0935)
    tpu = simulator.simulate("tpu-v5p-like", gemm, numerics=False)  # systolic, not SIMT
    assert not (tpu.energy.part == "instruction_issue").any()


def test_gpu_like_mmas_read_and_write_their_operands_in_the_register_file():
    # 256³ fp16 MACs in m16n8k16 MMAs: each reads A 16x16 and B 16x8 fp16 and C 16x8 fp32 (1,280 B)
    # and writes D 16x8 fp32 (512 B); Gebhart's 8 / 11 pJ per 32-bit access at 40 nm, moved to 7 nm
    gemm = "gemm:M=256,N=256,K=256,dtype=fp16"
    report = simulator.simulate("a100-like", gemm, numerics=False)
    rows = report.energy[report.energy.part == "mma_operands"].groupby("action")
    mmas = 256**3 / 2048
    to_7nm = tech.scale_energy(1.0, 7.0) / tech.scale_energy(1.0, 40.0)
    assert rows["count"].sum()["rf_read"] == pytest.approx(
        mmas * (16 * 16 * 2 + 16 * 8 * 2 + 16 * 8 * 4)
    )
    assert rows["count"].sum()["rf_write"] == pytest.approx(mmas * 16 * 8 * 4)
    assert rows.energy_pj.sum()["rf_read"] == pytest.approx(mmas * 1280 * 8 / 4 * to_7nm)
    assert rows.energy_pj.sum()["rf_write"] == pytest.approx(mmas * 512 * 11 / 4 * to_7nm)
    # gv100-like issues Volta's HMMA.884 (m8n8k4, 256 MACs): A 8x4 and B 4x8 fp16, C 8x8 fp32 read
    # (384 B), D 8x8 fp32 written (256 B), eight times the instructions per MAC
    volta = simulator.simulate("gv100-like", gemm, numerics=False).energy
    volta_rf = volta[volta.part == "mma_operands"].groupby("action")["count"].sum()
    assert volta_rf["rf_read"] == pytest.approx(256**3 / 256 * (8 * 4 * 2 * 2 + 8 * 8 * 4))
    assert volta_rf["rf_write"] == pytest.approx(256**3 / 256 * 8 * 8 * 4)
    issued = volta[(volta.part == "instruction_issue") & volta.component.str.endswith(".tc")]
    assert issued["count"].sum() == pytest.approx(256**3 / 256)
    # the register file's own rows keep only what the MMA does not do: fragment loads
    levels = report.energy[report.energy.component.str.endswith((".frag", ".rf"))]
    dynamic = levels[levels.action != "leakage"]
    assert set(zip(dynamic.component.str.split(".").str[1], dynamic.action)) <= {("frag", "write")}
    # the datapath's own per-PE accumulator is not the register file: it keeps its reads
    acc = report.energy[report.energy.component.str.endswith(".acc")]
    assert (acc.action == "read").any()
    tpu = simulator.simulate("tpu-v5p-like", gemm, numerics=False)  # systolic, not SIMT
    assert not (tpu.energy.part == "mma_operands").any()


def test_gpu_like_cores_pay_accelwattchs_active_sm_power_per_busy_cycle():
    # AccelWattch's Quadro GV100 (12 nm, 80 SMs, 1132 MHz): 48.95 W with every SM's tensor cores active,
    # 0.283 W per idle SM; the difference per SM cycle, moved to 7 nm, per cycle a 32 x 32 array works
    gemm = "gemm:M=256,N=256,K=256,dtype=fp16"
    report = simulator.simulate("a100-like", gemm, numerics=False)
    active = report.energy[report.energy.part == "sm_active"]
    per_cycle = (48.94875596 / 80 - 0.28279166) / 1132e6 * 1e12
    to_7nm = tech.scale_energy(1.0, 7.0) / tech.scale_energy(1.0, 12.0)
    assert active["count"].sum() == pytest.approx(256**3 / 1024)
    assert active.energy_pj.sum() == pytest.approx(256**3 / 1024 * per_cycle * to_7nm)
    # its figure holds its own clock: the clock network's share is of the other parts
    clock = report.energy[report.energy.part == "clock_network"].energy_pj.sum()
    clocked = report.energy[
        report.energy.on_die
        & (report.energy.op != "(static)")
        & ~report.energy.part.isin(["sm_active", "mma_residual", "clock_network"])
    ].energy_pj.sum()
    assert clock == pytest.approx(clocked / 3)


def test_gpu_like_cores_pay_the_gv100_fitted_mma_residual_per_issue_slot():
    # 1.19 pJ per issue slot at 12 nm (fitted on AccelWattch's measured Quadro GV100 fp16 GEMMs,
    # one MAC a slot), moved to the node by the energy factors: 7 nm on a100-like, 12 nm unchanged
    # on gv100-like, 5 nm on h100-like, whose fp8 MMA carries two MACs a slot (its rate 2: PTX's
    # m16n8k32 e4m3 beside m16n8k16 bf16), so half as much per MAC; none on a TPU
    cases = (("a100-like", 7.0, "fp16", 1), ("gv100-like", 12.0, "fp16", 1))
    cases += (("h100-like", 5.0, "bf16", 1), ("h100-like", 5.0, "fp8_e4m3", 2))
    for arch, node, dtype, rate in cases:
        gemm = f"gemm:M=256,N=256,K=256,dtype={dtype}"
        report = simulator.simulate(arch, gemm, numerics=False)
        residual = report.energy[report.energy.part == "mma_residual"]
        to_node = tech.scale_energy(1.0, node) / tech.scale_energy(1.0, 12.0)
        assert residual["count"].sum() == pytest.approx(256**3)
        assert residual.energy_pj.sum() == pytest.approx(256**3 * 1.19 / rate * to_node)
    tpu = simulator.simulate("tpu-v5p-like", gemm, numerics=False)
    assert not (tpu.energy.part == "mma_residual").any()


def test_side_units_are_llmcompass_transistor_counts():
    # a100-like SM: 64 INT32 units of 177,690 and 32 FP64 units of 685,300 transistors, at 7 nm
    _, parts = parts_of("a100-like")
    side = parts["core0.alu", "side_units"]
    assert side.area_mm2 == pytest.approx((64 * 177_690 + 32 * 685_300) / 96.3e6)
    _, tpu = parts_of("tpu-v1-like")  # no side units stated: no part
    assert not any(name == "side_units" for _, name in tpu)


def test_leakage_at_temperature_follows_cactis_currents():
    assert temperature_factor("lop", 300) == 1.0
    assert temperature_factor("lop", 360) == pytest.approx(LOP_360)
    # hp: the gate current does not move with temperature in CACTI's table
    assert temperature_factor("hp", 360) == pytest.approx((6.42e-7 + 3.59e-8) / (2.8e-7 + 3.59e-8))
    # linear between the 10 K rows: 355 K is halfway between 350 and 360 K
    at_350 = (1.08e-8 + 8.38e-8) / (4.03e-9 + 3.24e-8)
    assert temperature_factor("lop", 355) == pytest.approx((at_350 + LOP_360) / 2)
    assert temperature_factor("lop", 400) == pytest.approx(
        (2.03e-8 + 1.54e-7) / (4.03e-9 + 3.24e-8)
    )
    assert leakage_mw_per_mm2("lop", 45, 360) == pytest.approx(20.4 / 3.26 * LOP_360, rel=2e-3)


@settings(max_examples=20, deadline=None)
@given(
    low=st.floats(300, 400),
    high=st.floats(300, 400),
    devices=st.sampled_from(["lstp", "lop", "hp"]),
)
def test_leakage_never_falls_as_the_chip_heats(low, high, devices):
    low, high = sorted((low, high))
    assert temperature_factor(devices, low) <= temperature_factor(devices, high) * (1 + 1e-12)


def test_the_sram_leaks_at_the_chip_temperature():
    # the unified buffer's CACTI leakage is at 300 K; the default chip runs at 360 K (CACTI's default)
    machine, parts = parts_of("tpu-v1-like")
    ub = machine.components["unified_buffer"]
    assert parts["unified_buffer", "array"].static_mw == pytest.approx(ub.leakage_mw() * LOP_360)
    cool = load_arch("tpu-v1-like")
    cool = cool.model_copy(update={"chip": cool.chip.model_copy(update={"temperature": 300.0})})
    cool_parts = {(p.component, p.part): p for p in machine_parts(build_machine(cool))}
    assert cool_parts["unified_buffer", "array"].static_mw == pytest.approx(ub.leakage_mw())


def test_isaac_crossbars_do_not_leak_on_top_of_table_i_powers():
    # ISAAC's Table I powers are totals (leakage included), as its eDRAM's stated 0 mW says; the
    # digital array beside them (not in ISAAC) still leaks at the device density
    _, parts = parts_of("isaac-like")
    crossbars = [p for (c, _), p in parts.items() if c == "xbar"]
    assert crossbars and all(p.static_mw == 0 for p in crossbars if p.part == "crossbars")
    assert parts["edram", "array"].static_mw == 0
    assert parts["digital", "mac"].static_mw > 0


def test_declared_register_levels_are_not_counted_twice():
    # eyeriss-like declares the PEs' ifmap, filter and psum scratchpads as register levels
    machine, parts = parts_of("eyeriss-like")
    assert ("pe_array", "pe_registers") not in parts
    assert parts["filter_spad", "registers"].area_mm2 > 0


# Stillmaker-Baas area factors (node_scaling.yaml) at 45 / 32 / 28 / 65 nm; 40 nm is the log-log point
# between 45 and 32 nm, the flip-flop's (Aladdin) and the DDR3 PHY's (McPAT) node.
AREA_28, AREA_65 = 0.368, 1.5
AREA_40 = math.exp(math.log(0.46) * math.log(40 / 45) / math.log(32 / 45))


def test_tpu_v1_placement_is_cells_over_utilization():
    # per PE: Horowitz int8 multiplier 282 + int32 adder 137 µm² at 45 nm, and 56 flip-flop bits
    # (8 + 2 x 8 + 32) of 5.98 µm² at 40 nm; placed at 70 % utilization
    _, parts = parts_of("tpu-v1-like")
    cells_um2 = (282 + 137) * AREA_28 + 56 * 5.98 * AREA_28 / AREA_40
    white = 65536 * cells_um2 * 1e-6 * (1 / 0.7 - 1)
    assert parts["mxu", "placement"].area_mm2 == pytest.approx(white, rel=1e-3)
    assert parts["mxu", "placement"].static_mw == 0.0  # white space holds no devices
    assert white == pytest.approx(8.86, abs=0.01)


def test_tpu_v1_ddr3_phy_and_controller():
    # McPAT: a 16-bit DDR3 PHY is 1.3 mm² at 40 nm, 80 % of it I/O that does not shrink; a DDR
    # controller is 0.15 mm² per 72-bit channel at 65 nm. TPU v1: two 64-bit DDR3 channels at 28 nm.
    _, parts = parts_of("tpu-v1-like")
    phy = 2 * 64 * 1.3 / 16 * (0.8 + 0.2 * AREA_28 / AREA_40)
    controller = 2 * 0.15 * 64 / 72 * AREA_28 / AREA_65
    assert parts["dram", "memory_phy"].area_mm2 == pytest.approx(phy, rel=1e-3)
    assert parts["dram", "memory_controller"].area_mm2 == pytest.approx(controller, rel=1e-3)
    assert parts["dram", "memory_phy"].on_die and parts["dram", "memory_controller"].on_die
    assert parts["dram", "memory_controller"].static_mw == pytest.approx(
        controller * leakage_mw_per_mm2("lop", 28) * LOP_360
    )


def test_memory_interface_off_die_or_without_a_cited_figure():
    _, eyeriss = parts_of("eyeriss-like")  # chip: memory_interface_on_die: false
    assert ("dram", "memory_phy") not in eyeriss
    _, groq = parts_of("groq-lpu-like")  # its 'dram' is on-chip SRAM: no HBM interface
    assert not any(part == "memory_phy" for _, part in groq)
    _, edge = parts_of("edge-npu")  # LPDDR5: no cited PHY area
    assert not any(part == "memory_phy" for _, part in edge)


ENERGY_40 = math.exp(math.log(0.654) * math.log(40 / 45) / math.log(32 / 45))  # 45 -> 32 nm log-log


def test_tpu_v1_ungated_registers_draw_aladdins_internal_power_every_cycle():
    # 56 bits per PE x 65536 PEs at 700 MHz, each 7.94 fJ per cycle at 40 nm (ALADDIN power_func.h
    # REG_1ns_int_power), moved to 28 nm with the energy factors (0.518 / 40 nm's)
    _, parts = parts_of("tpu-v1-like")
    per_bit_pj = 7.94e-3 * 0.518 / ENERGY_40
    watts = 56 * 65536 * 700e6 * per_bit_pj * 1e-12
    assert parts["mxu", "register_clock"].static_mw * 1e-3 == pytest.approx(watts, rel=1e-3)
    assert parts["mxu", "register_clock"].area_mm2 == 0.0
    assert ("mxu", "register_clock") not in parts_of("tpu-v4-like")[1]  # it gates its clock


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 512),
    cols=st.integers(1, 512),
    node=st.sampled_from([45.0, 28.0, 16.0, 7.0]),
    dtype=st.sampled_from(["int8", "bf16", "fp16", "fp32"]),
)
def test_an_ungated_array_at_full_activity_pays_the_gated_register_energy(rows, cols, node, dtype):
    """Internal power every cycle plus the switching part per MAC = Aladdin's whole figure per MAC."""
    spec = SystolicArraySpec(kind="systolic_array", rows=rows, cols=cols, input_precision=[dtype])
    unit = SystolicArray("mxu", spec, 1e9, node)
    per_cycle = register_clock_mw(unit) * 1e9 / unit.clock_hz / (rows * cols)  # pJ per PE
    ungated = per_cycle + pe_register_pj_per_mac(unit, ungated=True)
    assert ungated == pytest.approx(pe_register_pj_per_mac(unit))


def test_sfus_are_oberman_and_sius_interpolator_in_horowitz_cells():
    # per SFU: a squarer and two multipliers (3 fp32 multipliers, 7,700 um² each at 45 nm) and a
    # three-term sum (2 fp32 adders, 4,184 um²); a100-like: 16 per SM at 7 nm (area factor 0.059)
    machine, parts = parts_of("a100-like")
    alu = machine.components["core0.alu"]
    cells = (3 * 7_700 + 2 * 4_184) * 1e-6 * tech.scale_area(1.0, 7) * 16
    assert parts["core0.alu", "sfu"].area_mm2 == pytest.approx(cells)
    assert parts["core0.alu", "sfu"].static_mw == pytest.approx(
        cells * leakage_mw_per_mm2("lop", 7, 360)
    )
    # placement white space around the lanes' and the SFUs' cells
    lanes = 128 * (7_700 + 4_184) * 1e-6 * tech.scale_area(1.0, 7)
    assert parts["core0.alu", "placement"].area_mm2 == pytest.approx(
        (lanes + cells) * (1 / 0.7 - 1)
    )
    # an exp, div or rsqrt on an SFU: 3 x 3.7 + 2 x 0.9 pJ at 45 nm, not the lanes' 4 + 4 polynomial
    for op in ("exp", "div", "rsqrt"):
        assert alu.actions[op] == pytest.approx(tech.scale_energy(12.9, 7))
    _, tpu = parts_of("tpu-v5p-like")  # vector units without SFUs: no part
    assert not any(name == "sfu" for _, name in tpu)


def test_a_softmax_on_sfus_pays_their_energy_per_exp_and_div():
    # softmax over 64 rows of 256, as PyTorch 2.0's warp kernel runs it: each of the 16,384
    # elements takes an expf (1 exp2 on the SFUs, as ptxas compiles it) and an IEEE division (1
    # reciprocal)
    softmax = simulator.simulate("a100-like", "softmax:rows=64,cols=256", numerics=False)
    e = softmax.energy
    sfu = e[(e.part == "sfu") & (e.op != "(static)")]  # the static row is the SFUs' leakage
    assert sfu["count"].sum() == pytest.approx(2 * 64 * 256)
    assert sfu.energy_pj.sum() == pytest.approx(2 * 64 * 256 * tech.scale_energy(12.9, 7))
    assert set(sfu.action) == {"exp", "div"}
    lanes = e[e.part == "lanes"]
    assert not lanes.action.isin(["exp", "div", "rsqrt"]).any()


@pytest.mark.parametrize("arch", ["a100-like", "eyeriss-like", "tpu-v4-like", "tpu-v1-like"])
def test_register_roles_in_one_pass_are_each_arrays_scan(arch):
    """`register_roles` (one pass) gives every array the roles a scan of all components for that
    array finds: its core's regfiles with instances pe on that array's name."""
    components = build_machine(load_arch(arch)).components
    roles = register_roles(components)
    for name, comp in components.items():
        if comp.kind != "systolic_array":
            continue
        core, _, local = name.rpartition(".")
        scanned = set()
        for other, level in components.items():
            spec = getattr(level, "spec", None)
            if level.kind == "regfile" and spec.instances == "pe" and spec.unit == local:
                if other.rpartition(".")[0] == core:
                    scanned |= set(spec.holds)
        assert roles.get(name, set()) == scanned
        assert held_by_register_levels(components, name) == scanned
    assert any(roles.values()) or arch == "tpu-v1-like"
