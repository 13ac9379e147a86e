"""The numbers docs/models.md quotes: ResNet-18 on edge-npu (MACs, time, energy, DRAM bytes of the
conv inputs vs the feature maps and vs an im2col lowering), MobileNetV2 on three archs
(fallback share, host-link traffic), and both CNNs on two multi-core archs.

    python benchmarks/cnn_models.py
"""

import yaml

import simulator
from simulator.spec import load_workload
from simulator.spec.loader import preset_dir


def resnet18_on_edge_npu() -> None:
    workload = load_workload("resnet18.onnx", dtype="int8")
    report = simulator.simulate("edge-npu", workload, numerics=False)
    s = report.summary
    convs = [op for op in workload.ops if op.kind == "conv2d"]
    feature_maps = sum(op.N * op.C * op.H * op.W for op in convs)  # int8: one byte each
    im2col = sum(op.N * op.P * op.Q * op.C * op.R * op.S for op in convs)
    loaded = sum(  # the input windows every conv step loads (the X tensor's transfers)
        t.dram_bytes
        for op in convs
        for step in report.program_op(op.name).steps()
        for t in step.loads
        if t.tensor.endswith(".X")
    )
    print("ResNet-18 (ZigZag's graph, int8) on edge-npu")
    print(f"  MACs                        {s['macs']:,}")
    print(f"  time                        {s['seconds'] * 1e3:.3f} ms ({s['cycles']:,} cycles)")
    print(f"  energy                      {s['energy_pj'] * 1e-6:.1f} uJ")
    print(f"  MAC utilization             {s['mac_utilization']:.1%}")
    print(f"  DRAM bytes (all ops)        {s['dram_bytes']:,}")
    print(f"  conv feature maps (inputs)  {feature_maps:,} B")
    print(f"  conv input bytes loaded     {loaded:,} B (halo windows, re-reads per filter block)")
    print(f"  im2col input matrices       {im2col:,} B")


def mobilenetv2_on_three_archs() -> None:
    tpu = yaml.safe_load((preset_dir("arch") / "tpu-v1-like.yaml").read_text())
    tpu["name"] = "tpu-v1-like+host"
    tpu["components"]["host"] = {
        "kind": "cpu",
        "cores": 8,
        "vector_width": 8,
        "clock": "3 GHz",
        "memory_bandwidth": "51.2 GB/s",
    }
    tpu["components"]["host_link"] = {"kind": "link", "bandwidth": "15.75 GB/s", "latency": "1 us"}
    tpu["fallback"] = "host"
    print("\nMobileNetV2 (preset, int8) on three archs")
    print("| arch | time (ms) | fallback ops | fallback FLOPs | fallback busy | host link |")
    print("|---|---|---|---|---|---|")
    for arch in ("edge-npu", "edge-npu-host", tpu):
        report = simulator.simulate(arch, "mobilenetv2", numerics=False)
        b = report.boundary or {}
        link = b.get("host_link_bytes", 0)
        print(
            f"| {report.arch_name} | {report.seconds * 1e3:.3f} | {b.get('fallback_ops', 0)} | "
            f"{b.get('fallback_flops_share', 0):.1%} | {b.get('fallback_busy_share', 0):.1%} | "
            f"{link / 1e6:.2f} MB, {b.get('host_link_seconds', 0) * 1e3:.3f} ms |"
        )


def cnns_on_many_cores() -> None:
    print("\nCNNs (presets, int8) on multi-core archs: convs split over the cores")
    print(
        "| arch | workload | cores | time (ms) | MAC utilization | convs split by rows / filters / groups |"
    )
    print("|---|---|---|---|---|---|")
    for arch in ("mesh-4x4", "a100-like"):
        for workload in ("resnet18", "mobilenetv2"):
            report = simulator.simulate(arch, workload, numerics=False)
            splits = {
                p.group: next(iter(p.details["part"]))
                for p in report.program.ops
                if p.kind == "conv2d"
            }
            counts = [sum(d == dim for d in splits.values()) for dim in ("p", "k", "g")]
            print(
                f"| {arch} | {workload} | {len({p.core for p in report.program.ops})} | "
                f"{report.seconds * 1e3:.3f} | {report.summary['mac_utilization']:.1%} | "
                f"{' / '.join(map(str, counts))} |"
            )


if __name__ == "__main__":
    resnet18_on_edge_npu()
    mobilenetv2_on_three_archs()
    cnns_on_many_cores()
