"""Neuromorphic cores: energy and latency of one inference against input spike rate, and the same
network as dense int8 GEMMs on edge-npu, so the crossover shows; placement; simulation speed.

    python benchmarks/neuro.py          # about a minute on a 2-core machine

The network is the snn-mnist-mlp preset (a 64-64-10 ReLU MLP on the 8x8 digits, converted). On
edge-npu the same MLP is two int8 GEMMs (64x64, 64x10) at batch 1, weights read from DRAM, and at
batch 64 (the per-inference share).
"""

import time

import numpy as np

import simulator

RATES = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
STEPS = (25, 100)


def dense_mlp(batch: int) -> dict:
    """The MLP's layers as GEMMs: [batch, 64] @ [64, 64] then [batch, 64] @ [64, 10], int8."""
    return {
        "name": f"digits-mlp-int8-b{batch}",
        "ops": [
            {"kind": "gemm", "name": "hidden", "M": batch, "N": 64, "K": 64, "dtype": "int8"},
            {
                "kind": "gemm",
                "name": "output",
                "M": batch,
                "N": 10,
                "K": 64,
                "dtype": "int8",
                "inputs": ["hidden"],
            },
        ],
    }


def snn(arch: str, rate: float, steps: int, placement: str = "fill", numerics: bool = True) -> dict:
    overrides = [(["input_rate"], rate), (["time_steps"], steps), (["placement"], placement)]
    return simulator.simulate(
        arch, simulator.load_workload("snn-mnist-mlp", overrides), numerics=numerics
    ).summary


def crossover(rates, energies, level: float) -> str:
    """The input rate where the SNN's energy reaches `level` (linear between measured rates)."""
    energies = np.asarray(energies)
    above = np.flatnonzero(energies >= level)
    if not above.size:
        return f"above {rates[-1]}"
    i = above[0]
    if i == 0:
        return f"below {rates[0]} (the SNN costs more at every rate)"
    r0, r1, e0, e1 = rates[i - 1], rates[i], energies[i - 1], energies[i]
    return f"{r0 + (r1 - r0) * (level - e0) / (e1 - e0):.3f}"


def main() -> None:
    dense = {b: simulator.simulate("edge-npu", dense_mlp(b)).summary for b in (1, 64)}
    batch1 = dense[1]["energy_pj"]
    batch64 = dense[64]["energy_pj"] / 64
    print(
        f"edge-npu, dense int8: batch 1 {batch1 / 1e3:,.1f} nJ and {dense[1]['seconds'] * 1e6:.2f} µs per inference "
        f"(weights from DRAM); batch 64 {batch64 / 1e3:,.1f} nJ per inference\n"
    )
    print(
        "| input rate | "
        + " | ".join(f"loihi-like T={t}: nJ, µs, ANN agreement" for t in STEPS)
        + " | truenorth-like T=100: nJ, ms | edge-npu b1 nJ | edge-npu b64 nJ |"
    )
    print("|---" * (len(STEPS) + 4) + "|")
    curves = {t: [] for t in STEPS}
    for rate in RATES:
        cells = []
        for t in STEPS:
            s = snn("loihi-like", rate, t)
            curves[t].append(s["energy_pj"])
            cells.append(
                f"{s['energy_pj'] / 1e3:,.1f}, {s['seconds'] * 1e6:,.1f}, {s['ann_agreement']:.1%}"
            )
        tn = snn("truenorth-like", rate, 100, numerics=False)
        cells.append(f"{tn['energy_pj'] / 1e3:,.1f}, {tn['seconds'] * 1e3:,.0f}")
        print(
            f"| {rate} | " + " | ".join(cells) + f" | {batch1 / 1e3:,.1f} | {batch64 / 1e3:,.1f} |"
        )
    print()
    for t in STEPS:
        print(
            f"loihi-like T={t} reaches edge-npu's batch-1 energy at input rate {crossover(RATES, curves[t], batch1)}; "
            f"its batch-64 share at {crossover(RATES, curves[t], batch64)}"
        )
    print("\nplacement on loihi-like (T=100, input rate 1.0):\n")
    print(
        "| placement | cores | packets within a core | between cores | hops | traffic nJ | energy nJ | latency µs |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for placement in ("fill", "layer", "spread"):
        s = snn("loihi-like", 1.0, 100, placement, numerics=False)
        traffic = (
            s["energy_by_category"]["spike_traffic_intra_core"]
            + s["energy_by_category"]["spike_traffic_inter_core"]
        )
        print(
            f"| {placement} | {s['cores_used']} | {s['packets_intra_core']:,} "
            f"| {s['packets_inter_core']:,} | {s['hops']:,} "
            f"| {traffic / 1e3:,.1f} | {s['energy_pj'] / 1e3:,.1f} | {s['seconds'] * 1e6:,.1f} |"
        )
    print("\nsimulation time of one 100-step inference of snn-mnist-mlp on loihi-like:")
    for numerics in (False, True):
        start = time.perf_counter()
        simulator.simulate("loihi-like", "snn-mnist-mlp", numerics=numerics)
        label = (
            "with numerics (float64 reference + agreement on 540 test inputs)"
            if numerics
            else "timing only"
        )
        print(f"  {label}: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
