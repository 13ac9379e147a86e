"""Train, once, the small ReLU MLP that the snn-mnist-mlp workload converts to a spiking network.

Data: scikit-learn's bundled 8 x 8 digits (1,797 images, 16 grey levels; no download). A 64-64-10
ReLU MLP is trained on 70 % of it; the file keeps the weights, the held-out 30 % as test inputs and
300 training images for data-based normalisation. The simulator only reads the result,
simulator/data/digits_mlp.npz; it never trains. Needs the dev extra (scikit-learn):

    python benchmarks/train_snn_mlp.py            # rewrites simulator/data/digits_mlp.npz
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

OUT = Path(__file__).resolve().parents[1] / "simulator" / "data" / "digits_mlp.npz"
SEED = 0
HIDDEN = 64
CALIBRATION = 300  # training images kept for data-based normalisation


def main() -> None:
    digits = load_digits()
    pixels = digits.data.astype(np.uint8)  # [1797, 64], grey levels 0..16
    x_train, x_test, y_train, y_test = train_test_split(
        pixels, digits.target, test_size=0.3, random_state=SEED, stratify=digits.target
    )
    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), activation="relu", max_iter=2000, random_state=SEED
    )
    model.fit(x_train / 16.0, y_train)
    accuracy = model.score(x_test / 16.0, y_test)
    np.savez_compressed(
        OUT,
        w0=model.coefs_[0].astype(np.float32),  # [64, HIDDEN]
        b0=model.intercepts_[0].astype(np.float32),
        w1=model.coefs_[1].astype(np.float32),  # [HIDDEN, 10]
        b1=model.intercepts_[1].astype(np.float32),
        x_test=x_test,  # [540, 64] uint8
        y_test=y_test.astype(np.uint8),
        x_norm=x_train[:CALIBRATION],
        x_scale=np.float32(16.0),  # input = pixel / x_scale, in [0, 1]
        test_accuracy=np.float32(accuracy),
    )
    print(f"wrote {OUT}: 64-{HIDDEN}-10 ReLU MLP, test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
