"""Write SANA-FE's DVS-gesture network as a SANA-FE 2.x SNN file, from the weights SANA-FE ships.

SANA-FE's wheel carries examples/dvs_challenge.npz: four 3x3 convolutions and a dense layer
(integer weights), the per-layer thresholds, and the 1,024 input biases of one DVS frame. This
script lays them out as SANA-FE's own DVS example does (snn/dvs.yaml in its repository): a 32x32
input layer of biased LIF neurons, conv 3x3/2 -> 15x15x16, 3x3 -> 13x13x32, 3x3 -> 11x11x64,
3x3 -> 9x9x11, dense -> 11; leak 4095/4096, hard reset to 0. 18,678 neurons. The mapping puts the
layers on 1 + 4 + 13 + 22 + 1 + 1 = 42 cores of SANA-FE's loihi.yaml in contiguous runs (the
example's own per-core split, from the Loihi toolchain, is not reproduced).

    python benchmarks/sanafe_dvs.py PATH/TO/dvs_challenge.npz dvs.yaml
"""

import sys
from pathlib import Path

import numpy as np

LAYERS = [  # name, neurons, cores, synapse unit
    ("0", 32 * 32, 1, "loihi_conv_synapse"),
    ("1", 15 * 15 * 16, 4, "loihi_conv_synapse"),
    ("2", 13 * 13 * 32, 13, "loihi_conv_synapse"),
    ("3", 11 * 11 * 64, 22, "loihi_conv_synapse"),
    ("4", 9 * 9 * 11, 1, "loihi_conv_synapse"),
    ("5", 11, 1, "loihi_dense_synapse"),
]
CONVS = [  # source, input (width, height, channels), stride, weights
    ("0", (32, 32, 1), 2, "conv1"),
    ("1", (15, 15, 16), 1, "conv2"),
    ("2", (13, 13, 32), 1, "conv3"),
    ("3", (11, 11, 64), 1, "conv4"),
]
CORES_PER_TILE = 4
LEAK = 0.99975585937  # 4095/4096 as SANA-FE's example writes it


def _flow(values) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def write_dvs(npz: Path, out: Path) -> None:
    data = np.load(npz)
    thresholds = data["thresholds"].tolist()
    lines = ["network:", "  name: dvs_gesture", "  groups:"]
    for (name, size, _, _), threshold in zip(LAYERS, thresholds):
        lines += [
            f"  - name: {name}",
            f"    attributes: {{threshold: {threshold}, reset: 0, reset_mode: hard, leak_decay: {LEAK}}}",
            "    neurons:",
        ]
        if name == "0":
            lines += [f"    - {{{i}: {{bias: {int(b)}}}}}" for i, b in enumerate(data["inputs"])]
        else:
            lines.append(f"    - 0..{size - 1}: {{}}")
    lines.append("  edges:")
    for (source, (width, height, channels), stride, key), (target, *_rest) in zip(
        CONVS, LAYERS[1:]
    ):
        kernel = data[key]  # [kh, kw, c_in, c_out], SANA-FE's filter layout
        lines += [
            f"  - {source} -> {target}:",
            "      type: conv2d",
            f"      input_width: {width}",
            f"      input_height: {height}",
            f"      input_channels: {channels}",
            f"      kernel_width: {kernel.shape[1]}",
            f"      kernel_height: {kernel.shape[0]}",
            f"      kernel_count: {kernel.shape[3]}",
            f"      stride_width: {stride}",
            f"      stride_height: {stride}",
            f"      weight: {_flow(kernel.ravel())}",
        ]
    lines += ["  - 4 -> 5:", "      type: dense", f"      weight: {_flow(data['dense1'].ravel())}"]
    lines.append("mappings:")
    core = 0
    for name, size, cores, synapse in LAYERS:
        chunk = -(-size // cores)
        for start in range(0, size, chunk):
            stop = min(size, start + chunk) - 1
            tile, offset = divmod(core, CORES_PER_TILE)
            lines.append(
                f"- {name}.{start}..{stop}: {{core: '{tile}.{offset}', soma: loihi_lif, synapse: {synapse}}}"
            )
            core += 1
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_dvs(Path(sys.argv[1]), Path(sys.argv[2]))
