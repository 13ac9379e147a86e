"""The numbers docs/models.md quotes for convolutions on crossbars: ResNet-18 (preset, int8) on
isaac-like, every conv unrolled ISAAC-style, with the crossbar numerics checked per layer against
the direct convolution.

    python benchmarks/cnn_crossbar.py
"""

import simulator


def resnet18_on_isaac_like() -> None:
    report = simulator.simulate("isaac-like", "resnet18", numerics="full")
    s = report.summary
    layers = report.layers.set_index("layer")
    print("ResNet-18 (preset, int8) on isaac-like, conv and FC layers")
    print(
        "| layer | MACs | row x column tiles | crossbars per copy | copies | busy cycles | "
        "span cycles | energy (uJ) | exact |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for program in report.program.ops:
        if program.kind not in ("conv2d", "gemm"):
            continue
        d, row = program.details, layers.loc[program.name]
        check = report.numerics[program.name]
        print(
            f"| {program.name} | {program.macs:,} | {d['row_tiles']} x {d['col_tiles']} | "
            f"{d['copy_crossbars']} | {d['replication']} | {row.busy_cycles:,} | "
            f"{row.span_cycles:,} | {row.energy_pj * 1e-6:.1f} | "
            f"{'yes' if check.max_abs_error == 0 else f'max err {check.max_abs_error:g}'} |"
        )
    pim = s["pim"]
    print(f"\n  MACs               {s['macs']:,}")
    print(f"  time               {s['seconds'] * 1e3:.3f} ms ({s['cycles']:,} cycles)")
    print(f"  energy             {s['energy_pj'] * 1e-6:.1f} uJ")
    one_copy = sum(
        p.details["copy_crossbars"] for p in report.program.ops if "copy_crossbars" in p.details
    )
    print(f"  crossbars used     {pim['crossbars_used']:,} of {pim['crossbars']:,}")
    print(f"  one weight copy    {one_copy:,} crossbars")
    print(f"  numerics           {'OK' if s['numerics_ok'] else 'FAILED'}")


if __name__ == "__main__":
    resnet18_on_isaac_like()
