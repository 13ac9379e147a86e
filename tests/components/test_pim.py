"""Near-memory (HBM-PIM) units: lane and bank-bandwidth timing by hand, weights kept off the bus,
and the GEMV speedup over a host reading the same bytes through the external interface."""

import pytest

import simulator
from simulator.components import build_machine
from simulator.errors import UnsupportedError

K = N = 4096


def pim_unit():
    return build_machine(simulator.load_arch("hbm-pim-like")).components["pim"]


def test_peak_is_units_times_lanes_at_300_mhz():
    # Kwon et al., ISSCC 2021: 128 units x 16 fp16 lanes x 300 MHz = 1.2288 TFLOPS
    unit = pim_unit()
    assert unit.peak_macs_per_cycle * 1.2e9 * 2 == pytest.approx(1.2288e12)


def test_gemv_is_balanced_between_lanes_and_bank_bandwidth():
    unit = pim_unit()
    lanes = K * N / (128 * 16) * 4  # PIM cycles at 300 MHz, in 1.2 GHz reference cycles
    banks = K * N * 2 / (1228.8e9 / 1.2e9)  # fp16 weight bytes at the internal bandwidth
    assert lanes == banks == unit.gemm_cycles(1, K, N, "fp16") == 32768
    assert unit.weight_reads(3, K, N, "fp16") == 3 * K * N * 2  # no reuse across rows by default


def test_weights_stay_in_the_banks():
    k, n = 1024, 512
    report = simulator.simulate("hbm-pim-like", f"gemm:M=3,N={n},K={k},dtype=fp16")
    s = report.summary
    assert s["numerics_ok"] and s["coverage_ok"]
    # fp16 input rows in, fp16 results out: a float GEMM writes its inputs' precision, and
    # HBM-PIM's registers hold 16 fp16 lanes of 256 bits (Lee et al., ISCA 2021)
    assert s["dram_bytes"] == 3 * (k * 2 + n * 2)
    bank = report.energy[report.energy.action == "bank_read"]["count"].sum()
    assert bank == s["pim"]["bank_bytes"] == 3 * k * n * 2  # once per row


def test_gemv_speedup_over_the_host_is_the_bandwidth_ratio():
    pim = simulator.simulate("hbm-pim-like", "gemv-4096-fp16", numerics=False).summary
    host = simulator.simulate(
        "hbm-pim-like", "gemv-4096-fp16", {"unit": "host"}, numerics=False
    ).summary
    assert host["roofline_bound"] == "memory"
    assert host["seconds"] >= K * N * 2 / 307.2e9  # every weight byte over the 307.2 GB/s bus
    assert host["seconds"] / pim["seconds"] == pytest.approx(1228.8 / 307.2, rel=0.05)


def test_unsupported_precision_names_the_unit():
    with pytest.raises(UnsupportedError, match=r"pim \(pim\) cannot run gemm in bf16; it supports"):
        simulator.simulate("hbm-pim-like", "gemm:M=4,N=4,K=4,dtype=bf16")


def test_in_bank_read_energy_follows_the_hbm2_currents():
    # DRAMsim3 HBM2_8Gb_x128 at 1.2 V: a 64 B burst in 2 ns at IDD4R - IDD3N = 335 mA, plus one
    # activation (IDD0 x tRC - IDD3N x tRAS - IDD2N x tRP) per 1 KiB row read whole
    burst = (390 - 55) * 1.2 * 2 / 64
    activate = (65 * 48 - 55 * 34 - 40 * 14) * 1.2 / 1024
    assert pim_unit().actions["bank_read"] == pytest.approx(burst + activate, rel=5e-3)
