#!/usr/bin/env python3
"""Run one GEMM through ZigZag 3.9.1 with a forced mapping and print its per-level results as JSON.

Runs inside ZigZag's own venv (never a project dependency); benchmarks/make_zigzag_golden.py calls it:

    ~/venvs/zigzag/bin/python benchmarks/zigzag_runner.py CASE.json

CASE.json: {"hardware": "tpu_like", "M", "N", "K", "precision": {"W", "I", "O", "O_final"},
"spatial": {"D1": [dim, size], "D2": [dim, size]}, "temporal": [[dim, size], ...] innermost first}.
GEMM dims map onto ZigZag's layer dims as C[M, N] = A[M, K] B[K, N] -> O[b][k] += W[k][c] I[b][c]:
M -> B, N -> K, K -> C.
"""

import json
import sys
import tempfile
from pathlib import Path

import yaml
import zigzag
from zigzag.api import get_hardware_performance_zigzag
from zigzag.hardware.architecture.memory_port import DataDirection
from zigzag.mapping.data_movement import DataMoveAttr

ZIGZAG_DIM = {"M": "B", "N": "K", "K": "C"}
OPERAND = {"I": "input", "W": "weight", "O": "output"}


def run(case: dict) -> dict:
    hardware = Path(zigzag.__file__).parent / "inputs" / "hardware" / f"{case['hardware']}.yaml"
    layer = {
        "id": 0,
        "name": "gemm",
        "operator_type": "Gemm",
        "equation": "O[b][k]+=W[k][c]*I[b][c]",
        "loop_dims": ["B", "K", "C"],
        "loop_sizes": [case["M"], case["N"], case["K"]],
        "operand_precision": case["precision"],
        "operand_source": {"I": 0, "W": 0},
    }
    mapping = {
        "name": "default",
        "spatial_mapping": {
            axis: [f"{ZIGZAG_DIM[dim]}, {size}"] for axis, (dim, size) in case["spatial"].items()
        },
        "memory_operand_links": case["operand_links"],
    }
    if case.get("temporal"):
        mapping["temporal_ordering"] = [[ZIGZAG_DIM[d], s] for d, s in case["temporal"]]
    with tempfile.TemporaryDirectory() as tmp:
        workload_path = Path(tmp) / "workload.yaml"
        mapping_path = Path(tmp) / "mapping.yaml"
        workload_path.write_text(yaml.safe_dump([layer]))
        mapping_path.write_text(yaml.safe_dump([mapping]))
        _, _, cmes = get_hardware_performance_zigzag(
            str(workload_path),
            str(hardware),
            str(mapping_path),
            opt="energy",
            dump_folder=tmp,
            lpf_limit=8,
            loma_show_progress_bar=False,
        )
    cme = cmes[0][1][0][0] if isinstance(cmes[0][1], list) and cmes[0][1] else cmes[0][0]
    return summarize(cme)


def summarize(cme) -> dict:
    """Per operand and level: word accesses and energy in ZigZag's four directions; totals."""
    levels = {}
    for layer_op, accesses in cme.memory_word_access.items():
        name = OPERAND[str(layer_op)]
        mem_op = cme.memory_operand_links.layer_to_mem_op(layer_op)
        memories = cme.accelerator.memory_hierarchy.get_memory_levels(mem_op)
        energies = cme.mem_energy_breakdown_further[layer_op]
        movement = cme.mapping.unit_mem_data_movement[layer_op]
        rows = []
        for level, (access, energy) in enumerate(zip(accesses, energies)):
            move = movement[level]
            rows.append(
                {
                    "memory": memories[level].name,
                    "word_accesses": _four(access),
                    "energy_pj": _four(energy),
                    "elements": {
                        d.value: move.get_attribute(DataMoveAttr.DATA_ELEM_MOVE_COUNT).get(d)
                        for d in DataDirection
                    },
                    "precision_bits": {
                        d.value: move.get_attribute(DataMoveAttr.DATA_PRECISION).get(d)
                        for d in DataDirection
                    },
                }
            )
        levels[name] = rows
    temporal = {
        OPERAND[str(op)]: [
            [[str(dim), size] for dim, size in level]
            for level in cme.temporal_mapping.mapping_dic_stationary[op]
        ]
        for op in cme.temporal_mapping.mapping_dic_stationary
    }
    return {
        "zigzag_version": "3.9.1",
        "mac_energy_pj": cme.mac_energy,
        "memory_energy_pj": cme.mem_energy,
        "energy_total_pj": cme.energy_total,
        "ideal_cycle": cme.ideal_cycle,
        "latency_computation": cme.latency_total0,
        "latency_total": cme.latency_total2,
        "systolic_drain_cycle": cme.systolic_drain_cycle,
        "data_onloading": cme.latency_total1 - cme.latency_total0,
        "data_offloading": cme.latency_total2 - cme.latency_total1,
        "levels": levels,
        "temporal_mapping": temporal,
        "ports": _ports(cme),
    }


def _ports(cme) -> list[dict]:
    """Per memory port that moves data: its stall (+) or slack (-) over the layer and each stream
    on it (real and allowed cycles per period, period, period count): ZigZag's latency is the
    ideal cycles plus the largest port stall, plus on- and offloading."""
    ports = []
    for memory, activities, stalls in zip(
        cme.mem_level_list, cme.port_activity_collect, cme.stall_slack_comb_collect
    ):
        for port, streams in activities.items():
            if not streams:
                continue
            ports.append(
                {
                    "memory": memory.name,
                    "port": port,
                    "stall_slack": float(stalls[port]),
                    "streams": [
                        {
                            "operand": OPERAND[str(s.served_op_lv_dir[0])],
                            "direction": s.served_op_lv_dir[2].value,
                            "real": int(s.real_cycle),
                            "allowed": int(s.allowed_cycle),
                            "period": int(s.period),
                            "period_count": int(s.period_count),
                        }
                        for s in streams
                    ],
                }
            )
    return ports


def _four(value) -> dict:
    return {d.value: float(value.get(d)) for d in DataDirection}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(Path(sys.argv[1]).read_text())), indent=1))
