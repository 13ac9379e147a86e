"""Write the CNN workload presets (workloads/resnet18.yaml, resnet50.yaml, mobilenetv2.yaml) from
the public architecture definitions (torchvision's ResNet v1.5 and MobileNetV2), batchnorm folded
into the convolutions as in an inference graph, int8.

    python benchmarks/cnn_presets.py
"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


class Graph:
    """Ops appended in order; each helper returns the new op's name and tracks the map shape."""

    def __init__(self, c: int, hw: int):
        self.ops: list[dict] = []
        self.c, self.hw = c, hw

    def conv(self, name, src, k, r, stride=1, groups=1, c=None, hw=None):
        c, hw = c or self.c, hw or self.hw
        pad = r // 2
        self.ops.append(
            {
                "name": name,
                "kind": "conv2d",
                "C": c,
                "H": hw,
                "W": hw,
                "K": k,
                "R": r,
                "S": r,
                "stride": stride,
                "padding": pad,
                "groups": groups,
                "dtype": "int8",
                "inputs": [src] if src else [],
            }
        )
        self.c, self.hw = k, (hw + 2 * pad - r) // stride + 1
        return name

    def vector(self, name, kind, srcs):
        rows, cols = self.c, self.hw * self.hw
        self.ops.append(
            {
                "name": name,
                "kind": kind,
                "rows": rows,
                "cols": cols,
                "dtype": "int8",
                "inputs": srcs,
            }
        )
        return name

    def pool(self, name, src, mode, r=None, stride=1, padding=0):
        op = {"name": name, "kind": "pool", "mode": mode, "C": self.c, "H": self.hw, "W": self.hw}
        if r:
            op |= {"R": r, "S": r, "stride": stride, "padding": padding}
            self.hw = (self.hw + 2 * padding - r) // stride + 1
        else:
            self.hw = 1
        self.ops.append(op | {"dtype": "int8", "inputs": [src]})
        return name

    def fc(self, name, src, n):
        op = {"name": name, "kind": "gemm", "M": 1, "N": n, "K": self.c, "dtype": "int8"}
        self.ops.append(op | {"inputs": [src]})
        return name


def resnet(blocks: list[int], bottleneck: bool) -> list[dict]:
    """Stem (7x7/2 conv, 3x3/2 max pool), four stages of basic or bottleneck blocks (stride on the
    3x3, a 1x1 downsample where the shape changes), global average pool, 1000-way FC."""
    g = Graph(3, 224)
    x = g.conv("conv1", None, 64, 7, stride=2)
    x = g.vector("relu", "relu", [x])
    x = g.pool("maxpool", x, "max", r=3, stride=2, padding=1)
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks), start=1):
        for b in range(count):
            p = f"layer{stage}.{b}"
            stride = 2 if stage > 1 and b == 0 else 1
            c_in, hw_in, out = g.c, g.hw, planes * (4 if bottleneck else 1)
            if bottleneck:
                y = g.vector(f"{p}/relu1", "relu", [g.conv(f"{p}/conv1", x, planes, 1)])
                y = g.vector(f"{p}/relu2", "relu", [g.conv(f"{p}/conv2", y, planes, 3, stride)])
                y = g.conv(f"{p}/conv3", y, out, 1)
            else:
                y = g.vector(f"{p}/relu1", "relu", [g.conv(f"{p}/conv1", x, planes, 3, stride)])
                y = g.conv(f"{p}/conv2", y, out, 3)
            c, hw = g.c, g.hw
            if stride != 1 or c_in != out:
                x = g.conv(f"{p}/downsample", x, out, 1, stride, c=c_in, hw=hw_in)
            g.c, g.hw = c, hw
            x = g.vector(f"{p}/relu_out", "relu", [g.vector(f"{p}/add", "add", [x, y])])
    x = g.pool("avgpool", x, "avg")
    g.fc("fc", x, 1000)
    return g.ops


def mobilenetv2() -> list[dict]:
    """Stem 3x3/2 conv to 32, inverted residual blocks (t, c, n, s) of the paper's Table 2 (1x1
    expand, 3x3 depthwise, 1x1 project, residual add where shapes match), 1x1 conv to 1280,
    global average pool, 1000-way FC."""
    g = Graph(3, 224)
    x = g.vector("features.0/relu6", "relu", [g.conv("features.0/conv", None, 32, 3, 2)])
    index = 1
    settings = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2))
    settings += ((6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
    for t, c, n, s in settings:
        for i in range(n):
            p, stride, c_in = f"features.{index}", s if i == 0 else 1, g.c
            y = x
            if t != 1:
                y = g.vector(f"{p}/expand_relu6", "relu", [g.conv(f"{p}/expand", y, c_in * t, 1)])
            y = g.conv(f"{p}/depthwise", y, g.c, 3, stride, groups=g.c)
            y = g.vector(f"{p}/depthwise_relu6", "relu", [y])
            y = g.conv(f"{p}/project", y, c, 1)
            x = g.vector(f"{p}/add", "add", [x, y]) if stride == 1 and c_in == c else y
            index += 1
    x = g.vector("features.18/relu6", "relu", [g.conv("features.18/conv", x, 1280, 1)])
    g.fc("classifier", g.pool("avgpool", x, "avg"), 1000)
    return g.ops


PRESETS = {
    "resnet18": (
        "ResNet-18 (torchvision v1.5), 224x224, batchnorm folded, int8",
        resnet([2, 2, 2, 2], bottleneck=False),
    ),
    "resnet50": (
        "ResNet-50 (torchvision v1.5), 224x224, batchnorm folded, int8",
        resnet([3, 4, 6, 3], bottleneck=True),
    ),
    "mobilenetv2": (
        "MobileNetV2 (torchvision, width 1.0), 224x224, batchnorm folded, ReLU6 as relu, int8",
        mobilenetv2(),
    ),
}


def main() -> None:
    header = (
        "# yaml-language-server: $schema=../schemas/workload.schema.json\n"
        "# generated by benchmarks/cnn_presets.py from the torchvision architecture definition\n"
    )
    for name, (description, ops) in PRESETS.items():
        doc = {"name": name, "description": description, "ops": ops}
        path = ROOT / "workloads" / f"{name}.yaml"
        path.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=120))
        convs = [o for o in ops if o["kind"] == "conv2d"]
        print(f"{path.name}: {len(ops)} ops, {len(convs)} convs")


if __name__ == "__main__":
    main()
