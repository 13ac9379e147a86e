"""ReLU MLP -> rate-coded SNN by weight/threshold normalisation, and the batched reference that
measures how often the converted SNN agrees with the ANN.

Each layer's weights are rescaled so that its largest activation (a high percentile over
calibration data, or the largest the weights allow) maps to one spike per step at threshold 1:
W_l <- W_l * lambda_{l-1} / lambda_l, b_l <- b_l / lambda_l (Diehl et al., IJCNN 2015; Rueckauer
et al., Front. Neurosci. 2017). Neurons are integrate-and-fire with reset by subtraction, so a
neuron's rate tracks its ReLU activation / lambda_l.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import SpecError
from simulator.numerics.lif import RESET_CODES, LifParams
from simulator.spec.npzio import load_arrays


@dataclass(frozen=True)
class AnnModel:
    """A ReLU MLP and its data: weights [inputs, outputs] per layer; inputs scaled to [0, 1]."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    x_test: np.ndarray
    y_test: np.ndarray
    x_norm: np.ndarray
    test_accuracy: float

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]


def load_ann(path: Path) -> AnnModel:
    """Read an MLP .npz (w0, b0, w1, b1, ..., x_test, y_test, x_norm, x_scale)."""
    data = load_arrays(path)
    layers = sorted(int(k[1:]) for k in data if k.startswith("w") and k[1:].isdigit())
    missing = [k for k in ("x_test", "y_test", "x_norm") if k not in data]
    if not layers or missing:
        raise SpecError(
            f"{path}: an ANN file needs w0, b0, ..., x_test, y_test, x_norm; missing {missing or ['w0']}"
        )
    scale = float(data["x_scale"]) if "x_scale" in data else 1.0
    return AnnModel(
        weights=[data[f"w{i}"].astype(np.float64) for i in layers],
        biases=[data[f"b{i}"].astype(np.float64) for i in layers],
        x_test=data["x_test"].astype(np.float64) / scale,
        y_test=data["y_test"].astype(np.int64),
        x_norm=data["x_norm"].astype(np.float64) / scale,
        test_accuracy=float(data["test_accuracy"]) if "test_accuracy" in data else float("nan"),
    )


def activations(model: AnnModel, x: np.ndarray) -> list[np.ndarray]:
    """ReLU activations of every layer for inputs x [B, inputs] (the last layer's logits too)."""
    out, a = [], x
    for w, b in zip(model.weights, model.biases):
        a = np.maximum(a @ w + b, 0.0)  # [B, in] @ [in, out] -> [B, out]
        out.append(a)
    return out


def ann_predict(model: AnnModel, x: np.ndarray) -> np.ndarray:
    """The ANN's class for each input (argmax of the last layer's pre-activation)."""
    a = x
    for w, b in list(zip(model.weights, model.biases))[:-1]:
        a = np.maximum(a @ w + b, 0.0)
    return np.argmax(a @ model.weights[-1] + model.biases[-1], axis=1)


def normalise(model: AnnModel, method: str, percentile: float):
    """Weights and biases rescaled for threshold-1 integrate-and-fire neurons."""
    if method == "data":
        lambdas = []
        for a in activations(model, model.x_norm):
            positive = a[a > 0]
            lambdas.append(float(np.percentile(positive, percentile)) if positive.size else 1.0)
    else:
        lambdas, previous = [], 1.0
        for w, b in zip(model.weights, model.biases):
            top = np.max(np.maximum(w, 0.0).sum(axis=0) * previous + np.maximum(b, 0.0))
            lambdas.append(float(top) if top > 0 else 1.0)
            previous = lambdas[-1]
    weights, biases, previous = [], [], 1.0
    for w, b, lam in zip(model.weights, model.biases, lambdas):
        weights.append(w * previous / lam)
        biases.append(b / lam)
        previous = lam
    return weights, biases


def snn_predict(counts: np.ndarray, potentials: np.ndarray) -> np.ndarray:
    """Class per input from output spike counts [B, classes], ties broken by the potential."""
    counts, potentials = np.atleast_2d(counts), np.atleast_2d(potentials)
    best = counts == counts.max(axis=1, keepdims=True)
    return np.argmax(np.where(best, potentials, -np.inf), axis=1)


def batch_reference(params: LifParams, dense: np.ndarray, inputs: np.ndarray, steps: int):
    """Float64 LIF run of a small network for a batch of inputs at once: spike counts and final
    potentials [B, n]. dense: [n, n] weights (source, target); inputs: [B, steps, n] bool."""
    batch, n = inputs.shape[0], params.size
    scale = float(2**params.frac_bits)
    theta = params.threshold * scale
    bias = params.bias * scale
    top = None if params.potential_bits is None else 2.0 ** (params.potential_bits - 1)
    subtract = params.reset == RESET_CODES["subtract"]
    zero = params.reset == RESET_CODES["zero"]
    lif = ~params.is_input
    leaky = bool(np.any(params.decay != 1.0))
    v = np.zeros((batch, n))
    refractory = np.zeros((batch, n))
    current = np.zeros((batch, n))
    counts = np.zeros((batch, n))
    for t in range(steps):
        if t > 0 and leaky:
            v = np.trunc(v * params.decay)
        free = lif & (refractory == 0)
        v = np.where(free, v + bias + current * scale, v)
        if top is not None:
            v = np.clip(v, -top, top - 1)
        fire = free & (v > theta)
        size = np.where(fire, 1.0, 0.0)
        if params.spike_bits > 1:
            crossings = np.floor(v / np.maximum(theta, 1.0))
            size = np.where(fire, np.minimum(crossings, 2.0**params.spike_bits - 1), 0.0)
        v = np.where(fire & subtract, v - size * theta, v)
        v = np.where(fire & zero, params.reset_value * scale, v)
        refractory = np.maximum(np.where(fire, params.refractory + 1.0, refractory) - 1.0, 0.0)
        spikes = inputs[:, t, :] & params.is_input
        size = np.where(spikes, 1.0, size)
        counts += (fire | spikes).astype(np.float64)
        current = size @ dense  # [B, n] @ [n, n] -> [B, n]
    return counts, v / scale
