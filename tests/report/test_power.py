"""Area and power: breakdowns sum to the totals, a power cap holds, throttling follows V and f."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator
from simulator import tech
from simulator.errors import CapacityError
from simulator.report import power
from simulator.spec.loader import preset_dir
from tests.conftest import tiny_arch

GEMM = "gemm:M=64,N=64,K=512,dtype=int8"
MAPPING = {"dataflow": "os", "tile": {"M": 64, "N": 64, "K": 512}}


def fast_arch(**chip):
    """The tiny 8x8 array with DRAM fast enough that the GEMM is compute-bound."""
    spec = tiny_arch(bandwidth="700 GB/s")
    return {**spec, "chip": chip} if chip else spec


@pytest.fixture(scope="module")
def report():
    return simulator.simulate(fast_arch(), GEMM, MAPPING, numerics=False)


def test_breakdowns_sum_to_the_totals(report):
    s = report.summary
    assert report.breakdown.energy_pj.sum() == pytest.approx(s["energy_pj"])
    assert report.area[report.area.on_die].area_mm2.sum() == pytest.approx(s["area_mm2"])
    assert report.breakdown.area_mm2.sum() == pytest.approx(s["area_mm2"])
    power = s["power"]
    assert power["die_power_w"] + power["dram_power_w"] == pytest.approx(power["power_w"])
    assert report.breakdown.power_w.sum() == pytest.approx(power["power_w"])


def test_the_timeline_holds_all_the_energy(report):
    line = report.power_timeline
    joules = (line.power_w * (line.end_s - line.start_s)).sum()
    assert joules == pytest.approx(report.summary["energy_pj"] * 1e-12)
    assert report.power["peak_power_w"] >= report.power["power_w"] * (1 - 1e-9)


def test_efficiency_numbers_follow_their_definitions(report):
    s, p = report.summary, report.power
    joules = s["energy_pj"] * 1e-12
    assert p["achieved_tops"] == pytest.approx(2 * 64 * 64 * 512 / s["seconds"] / 1e12)
    assert p["tops_per_w"] == pytest.approx(p["achieved_tops"] / (joules / s["seconds"]))
    assert p["edp_js"] == pytest.approx(joules * s["seconds"])
    assert p["peak_tops_per_mm2"] == pytest.approx(2 * 64 * 700e6 / 1e12 / s["area_mm2"])


def test_a_cap_above_the_power_changes_nothing(report):
    capped = simulator.simulate(fast_arch(tdp="1000 W"), GEMM, MAPPING, numerics=False)
    assert capped.cycles == report.cycles and capped.throttle is None
    assert capped.summary["energy_pj"] == report.summary["energy_pj"]


def test_throttled_run_is_slower_by_the_clock_and_cheaper_per_op_by_v_squared(report):
    uncapped_w = report.power["power_w"]
    points = [{"clock": "700 MHz", "voltage": "0.9 V"}, {"clock": "350 MHz", "voltage": "0.7 V"}]
    chip = {"tdp": f"{uncapped_w * 0.9 * 1e3} mW", "operating_points": points}
    capped = simulator.simulate(fast_arch(**chip), GEMM, MAPPING, numerics=False)
    assert capped.throttle["clock_hz"] == 350e6
    assert capped.power["power_w"] <= uncapped_w * 0.9
    # compute-bound: the same cycles at half the clock (DRAM moves twice the bytes per cycle, so the
    # transfers at the ends shrink a little in cycles)
    assert capped.seconds / report.seconds == pytest.approx(2.0, rel=0.02)
    mac = report.energy[report.energy.action == "mac_int8"].pj_per_count.iloc[0]
    mac_capped = capped.energy[capped.energy.action == "mac_int8"].pj_per_count.iloc[0]
    assert mac_capped / mac == pytest.approx((0.7 / 0.9) ** 2)
    assert 1.0 == pytest.approx(mac, rel=1e-12)  # the arch's 1 pJ MAC at the nominal point


@settings(max_examples=6, deadline=None)
@given(share=st.floats(0.3, 0.95))
def test_power_never_exceeds_the_cap(report, share):
    idle, full = report.power["idle_power_w"], report.power["power_w"]
    cap_w = idle + share * (full - idle)
    capped = simulator.simulate(fast_arch(tdp=f"{cap_w * 1e3} mW"), GEMM, MAPPING, numerics=False)
    assert capped.power["power_w"] <= cap_w * (1 + 1e-9)
    assert capped.throttle["clock_ratio"] < 1.0


def test_a_cap_below_static_power_is_an_error(report):
    cap_mw = report.power["idle_power_w"] * 1e3 * 0.5
    with pytest.raises(CapacityError, match="below the chip's static power"):
        simulator.simulate(fast_arch(tdp=f"{cap_mw} mW"), GEMM, MAPPING, numerics=False)


def test_operating_points_must_include_the_arch_clock():
    chip = {"tdp": "1000 W", "operating_points": [{"clock": "500 MHz", "voltage": "0.8 V"}]}
    with pytest.raises(simulator.errors.SpecError, match="chip.operating_points"):
        simulator.simulate(fast_arch(**chip), GEMM, MAPPING, numerics=False)


def test_the_trace_carries_the_power_timeline():
    report = simulator.simulate(fast_arch(), GEMM, MAPPING, numerics=False, trace=True)
    events = report.chrome_trace()["traceEvents"]
    counters = [e for e in events if e["ph"] == "C" and e["name"] == "power (W)"]
    assert len(counters) == len(report.power_timeline)
    total = sum(e["args"]["dynamic"] + e["args"]["static"] for e in counters)
    assert total == pytest.approx(report.power_timeline.power_w.sum())


def test_each_op_reports_its_power_over_its_span(report):
    row = report.ops.iloc[0]
    assert row.power_w == pytest.approx(row.energy_pj * 1e-12 / row.seconds)


PRESET_RUNS = [
    ("tpu-v1-like", "gemm-256"),  # DDR3 devices: standby and refresh
    ("a100-like", "gemm:M=256,N=256,K=256,dtype=fp16"),  # HBM2E devices, SerDes, 108 cores
    ("hbm-pim-like", "gemv-4096-fp16"),  # units beside the banks (off the host die)
    ("isaac-like", "gemm:M=128,N=128,K=128,dtype=int16"),  # crossbars with stated leakage
    ("h100-like", "softmax:rows=64,cols=256"),  # SFUs, NVLink4 and PCIe 5 SerDes, HBM3
    ("cloud-ai100-like", "gemm-256"),  # LPDDR4 devices: standby and refresh on three rails
    (
        "isaac-like",  # a conv over 8 copies of its weights, like the area_power busy row
        {
            "name": "conv",
            "ops": [
                {
                    "kind": "conv2d",
                    "name": "c",
                    "C": 512,
                    "H": 4,
                    "W": 4,
                    "K": 512,
                    "R": 3,
                    "S": 3,
                    "padding": 1,
                    "dtype": "int16",
                }
            ],
        },
    ),
]


@pytest.mark.parametrize(
    ("preset", "workload"), PRESET_RUNS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(PRESET_RUNS)]
)
def test_shipped_presets_sum_their_parts(preset, workload):
    """On the shipped chips too: the breakdown holds every pJ and mm², the idle power is every part's
    always-on power (DRAM standby and refresh included), and die + DRAM is the whole."""
    report = simulator.simulate(preset, workload, numerics=False)
    s, p = report.summary, report.power
    assert report.breakdown.energy_pj.sum() == pytest.approx(s["energy_pj"])
    # the breakdown also lists parts off the host die (HBM-PIM's units sit on the DRAM dies)
    assert report.breakdown.area_mm2.sum() == pytest.approx(report.area.area_mm2.sum())
    assert report.area[report.area.on_die].area_mm2.sum() == pytest.approx(s["area_mm2"])
    assert p["idle_power_w"] == pytest.approx(report.area.static_mw.sum() * 1e-3)
    assert p["die_power_w"] + p["dram_power_w"] == pytest.approx(p["power_w"])
    static = report.energy[report.energy.op == "(static)"]
    refresh = static[static.action == "refresh"].energy_pj.sum() * 1e-12 / s["seconds"]
    on_file = report.area[report.area.part == "refresh"].static_mw.sum() * 1e-3
    assert refresh == pytest.approx(on_file)


def test_an_ungated_clock_runs_every_cycle_at_its_full_activity_share(report):
    ungated = simulator.simulate(fast_arch(clock_gating=False), GEMM, MAPPING, numerics=False)
    assert ungated.cycles == report.cycles
    e = ungated.energy
    regs = report.energy[report.energy.part == "pe_registers"].pj_per_count.iloc[0]
    row = e[(e.action == "clock_ungated") & (e.part == "clock_network")]
    # Duarte's 25 % share of the 8x8 array's full-activity energy (64 MACs of 1 pJ plus their
    # registers) every cycle at 700 MHz
    clock_w = 0.25 / 0.75 * 64 * (1.0 + regs) * 1e-12 * 700e6
    assert row.energy_pj.iloc[0] * 1e-12 / ungated.seconds == pytest.approx(clock_w)
    # the registers' flip-flops are clocked every cycle too: Aladdin's internal power (7.94 of its
    # 9.0 fJ per bit per cycle) is drawn busy or idle, and a MAC's write pays the switching 1.06
    switching = e[e.part == "pe_registers"].pj_per_count.iloc[0]
    assert switching == pytest.approx(regs * 1.06 / 9.0, rel=1e-3)
    internal_w = 64 * (regs - switching) * 1e-12 * 700e6
    flops = e[e.part == "register_clock"]
    assert flops.energy_pj.sum() * 1e-12 / ungated.seconds == pytest.approx(internal_w)
    # idle power rises by exactly these; the per-op clock no longer covers the MACs and registers
    idle = report.power["idle_power_w"] + clock_w + internal_w
    assert ungated.power["idle_power_w"] == pytest.approx(idle)
    dynamic = e[(e.op != "(static)") & e.on_die & (e.part != "clock_network")]
    gated_parts = dynamic[~dynamic.part.isin(["mac", "pe_registers"])].energy_pj.sum()
    per_op_clock = e[e.action == "clock"].energy_pj.sum()
    assert per_op_clock == pytest.approx(gated_parts / 3)
    assert ungated.breakdown.energy_pj.sum() == pytest.approx(ungated.summary["energy_pj"])


def test_an_ungated_clock_follows_v_squared_when_throttled(report):
    points = [{"clock": "700 MHz", "voltage": "0.9 V"}, {"clock": "350 MHz", "voltage": "0.7 V"}]
    full = simulator.simulate(fast_arch(clock_gating=False), GEMM, MAPPING, numerics=False)
    cap = f"{full.power['power_w'] * 0.9 * 1e3} mW"
    chip = {"clock_gating": False, "tdp": cap, "operating_points": points}
    capped = simulator.simulate(fast_arch(**chip), GEMM, MAPPING, numerics=False)
    # per second: half the cycles, each at (0.7/0.9)² the energy: the tree and the flip-flops it clocks
    for part in ("clock_network", "register_clock"):
        per_s = [
            r.energy[(r.energy.action == "clock_ungated") & (r.energy.part == part)].pj_per_count
            for r in (full, capped)
        ]
        assert per_s[1].iloc[0] / per_s[0].iloc[0] == pytest.approx(0.5 * (0.7 / 0.9) ** 2)
    assert capped.power["power_w"] <= full.power["power_w"] * 0.9


def test_gpu_register_operands_and_active_sms_follow_v_squared_when_throttled():
    # a100-like under a cap just below its power, with a lower operating point: the MMAs' register-file
    # traffic and the active SMs' power are dynamic, so each pays (0.7 / 0.8)² per byte and per cycle
    spec = yaml.safe_load((preset_dir("arch") / "a100-like.yaml").read_text())
    gemm = "gemm:M=256,N=256,K=256,dtype=fp16"
    full = simulator.simulate(spec, gemm, numerics=False)
    points = [{"clock": "1.41 GHz", "voltage": "0.8 V"}, {"clock": "1.0 GHz", "voltage": "0.7 V"}]
    chip = {**spec["chip"], "tdp": f"{full.power['power_w'] * 0.97} W", "operating_points": points}
    capped = simulator.simulate({**spec, "chip": chip}, gemm, numerics=False)
    assert capped.throttle["clock_hz"] == 1.0e9
    assert capped.power["power_w"] <= full.power["power_w"] * 0.97
    for part in ("mma_operands", "sm_active"):
        per = [r.energy[r.energy.part == part].pj_per_count.max() for r in (full, capped)]
        assert per[1] / per[0] == pytest.approx((0.7 / 0.8) ** 2)


def rated_arch(rate: int, **chip):
    """fast_arch whose array runs int8 at `rate` MACs a PE a cycle."""
    spec = fast_arch(**chip)
    pe = {**spec["components"]["pe"], "rate": {"int8": rate}}
    return {**spec, "components": {**spec["components"], "pe": pe}}


@settings(max_examples=8, deadline=None)
@given(
    pj=st.floats(0.01, 5.0),
    rate=st.sampled_from([1, 2, 4]),
    shape=st.tuples(*[st.sampled_from([8, 24, 64]) for _ in range(3)]),
)
def test_a_chip_mma_residual_is_paid_per_issue_slot_and_holds_its_own_clock(pj, rate, shape):
    # chip.mma_residual on a chip without GPU-like cores: a row per MAC at its pJ over the array's
    # rate at the precision (nominal supply), and nothing else moves (not the clock network's
    # share: the figure holds its own clock)
    m, n, k = shape
    gemm = f"gemm:M={m},N={n},K={k},dtype=int8"
    plain = simulator.simulate(rated_arch(rate), gemm, numerics=False)
    paid = simulator.simulate(rated_arch(rate, mma_residual=f"{pj!r} pJ"), gemm, numerics=False)
    residual = paid.energy[paid.energy.part == "mma_residual"]
    macs = plain.energy[plain.energy.action == "mac_int8"]["count"].sum()
    assert macs >= m * n * k and residual["count"].sum() == macs
    assert residual.energy_pj.sum() == pytest.approx(macs * pj / rate)
    rest = paid.energy[paid.energy.part != "mma_residual"].reset_index(drop=True)
    assert rest.equals(plain.energy) and paid.cycles == plain.cycles


def test_a_chip_mma_residual_follows_v_squared_when_throttled(report):
    points = [{"clock": "700 MHz", "voltage": "0.9 V"}, {"clock": "350 MHz", "voltage": "0.7 V"}]
    chip = {"tdp": f"{report.power['power_w'] * 0.9e3} mW", "operating_points": points}
    capped = simulator.simulate(
        fast_arch(**chip, mma_residual="0.5 pJ"), GEMM, MAPPING, numerics=False
    )
    assert capped.throttle["clock_hz"] == 350e6
    per = capped.energy[capped.energy.part == "mma_residual"].pj_per_count.unique()
    assert per.tolist() == pytest.approx([0.5 * (0.7 / 0.9) ** 2])


def test_a_chip_mma_residual_replaces_the_gv100_fit_on_gpu_like_cores():
    # a100-like's own 0.3 pJ a slot, at the arch node (no node scaling): fp16 one MAC a slot, int8
    # two (its array's rate), as chip.yaml's GV100 figure is
    spec = yaml.safe_load((preset_dir("arch") / "a100-like.yaml").read_text())
    chip = {**spec["chip"], "mma_residual": "0.3 pJ"}
    for dtype, rate in (("fp16", 1), ("int8", 2)):
        gemm = f"gemm:M=256,N=256,K=256,dtype={dtype}"
        own = simulator.simulate({**spec, "chip": chip}, gemm, numerics=False)
        residual = own.energy[own.energy.part == "mma_residual"]
        assert residual["count"].sum() == 256**3
        assert residual.energy_pj.sum() == pytest.approx(256**3 * 0.3 / rate)


SOFTMAX = "softmax:rows=64,cols=256"  # 16,384 exponentials and 64 divisions


def sfu_arch(sfu=8, **chip):
    """edge-npu with `sfu` special-function units beside its 64 lanes (none for 0)."""
    doc = yaml.safe_load((preset_dir("arch") / "edge-npu.yaml").read_text())
    if sfu:
        doc["components"]["vector"]["sfu"] = sfu
    return {**doc, "chip": chip} if chip else doc


@pytest.fixture(scope="module")
def sfu_report():
    return simulator.simulate(sfu_arch(), SOFTMAX, numerics=False)


def test_sfu_parts_sum_into_the_totals(sfu_report):
    s, p = sfu_report.summary, sfu_report.power
    assert (sfu_report.area.part == "sfu").any()
    assert sfu_report.breakdown.energy_pj.sum() == pytest.approx(s["energy_pj"])
    assert sfu_report.breakdown.area_mm2.sum() == pytest.approx(s["area_mm2"])
    assert sfu_report.breakdown.power_w.sum() == pytest.approx(p["power_w"])
    assert p["idle_power_w"] == pytest.approx(sfu_report.area.static_mw.sum() * 1e-3)


@settings(max_examples=4, deadline=None)
@given(share=st.floats(0.3, 0.95))
def test_power_with_sfus_never_exceeds_the_cap(sfu_report, share):
    idle, full = sfu_report.power["idle_power_w"], sfu_report.power["power_w"]
    cap_w = idle + share * (full - idle)
    capped = simulator.simulate(sfu_arch(tdp=f"{cap_w * 1e3} mW"), SOFTMAX, numerics=False)
    assert capped.power["power_w"] <= cap_w * (1 + 1e-9)
    sfu = capped.energy[(capped.energy.part == "sfu") & (capped.energy.action == "exp")]
    nominal = sfu_report.energy[sfu_report.energy.action == "exp"]
    # a cap without operating points lowers the clock at the nominal voltage: the same pJ per exp
    assert sfu.pj_per_count.iloc[0] == pytest.approx(nominal.pj_per_count.iloc[0])


def test_an_ungated_clock_drives_the_sfus_every_cycle_too():
    # the tree's full-activity share grows by the SFUs' one op each per cycle: 8 x 12.9 pJ at
    # 45 nm moved to 16 nm, x 1/3, at 1 GHz
    with_sfu, without = (
        simulator.simulate(sfu_arch(n, clock_gating=False), "gemm-256", numerics=False)
        for n in (8, 0)
    )

    def tree_w(r):
        rows = r.energy[(r.energy.part == "clock_network") & (r.energy.action == "clock_ungated")]
        return rows.energy_pj.sum() * 1e-12 / r.seconds

    extra_w = 8 * tech.scale_energy(12.9, 16) / 3 * 1e-12 * 1e9
    assert with_sfu.cycles == without.cycles
    assert tree_w(with_sfu) - tree_w(without) == pytest.approx(extra_w)


@pytest.fixture(scope="module")
def gpu_report():
    return simulator.simulate("a100-like", "gemm:M=256,N=512,K=256,dtype=fp16", numerics=False)


@settings(max_examples=10, deadline=None)
@given(data=st.data(), voltage=st.sampled_from([1.0, 0.875]))
def test_gpu_datapath_rows_do_not_depend_on_the_rows_beside_them(gpu_report, data, voltage):
    # what a row adds is worked out once per (component, action) and reused: any subset of the
    # rows in any order gives each row's companions as that row alone gives them
    machine = gpu_report.machine
    rows = [
        (op, name, action, count, machine.components[name].energy_pj(action), 0.0)
        for (op, name, action), count in sorted(gpu_report.record.counts.items())
    ]
    picked = data.draw(st.permutations(rows))[:60]
    simt = machine.arch.cores.kernels

    def datapath(rows):
        return power._datapath_rows(rows, machine, voltage, simt, False)

    assert datapath(picked) == [out for row in picked for out in datapath([row])]
    assert any(row[2] == "mma_operands" for row in datapath(rows))  # the SIMT rows are there
