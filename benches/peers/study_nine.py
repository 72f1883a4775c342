"""Seconds for the tutorial's nine experiments, whole process, in PyTorch (or Keras with KERAS=1):
the figure `tapegrad bench` puts beside its study row. Same data (scikit-learn's generators with the
tutorial's seeds), models (relu hidden layer with He-uniform weights), SGD(0.01, momentum 0.9),
batch 32, epochs (100; 200 for the circles), test set scored after every epoch."""
import os
import time

import numpy as np
from sklearn.datasets import make_blobs, make_circles, make_regression
from sklearn.preprocessing import StandardScaler

START = time.perf_counter()


def data():
    X, y = make_regression(n_samples=1000, n_features=20, noise=0.1, random_state=1)
    X = StandardScaler().fit_transform(X)
    y = StandardScaler().fit_transform(y.reshape(-1, 1))
    reg = (X[:500], y[:500], X[500:], y[500:])
    X, y = make_circles(n_samples=1000, noise=0.1, random_state=1)
    circ = (X[:500], y[:500].reshape(-1, 1), X[500:], y[500:].reshape(-1, 1))
    X, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2, random_state=2)
    blobs = (X[:500], y[:500], X[500:], y[500:])
    return reg, circ, blobs


EXPERIMENTS = [
    ("regression_mse", "reg", "mse", 100),
    ("regression_msle", "reg", "msle", 100),
    ("regression_mae", "reg", "mae", 100),
    ("circles_bce", "circ", "bce", 200),
    ("circles_hinge", "circ_signed", "hinge", 200),
    ("circles_squared_hinge", "circ_signed", "squared_hinge", 200),
    ("blobs_cce", "blobs", "cce", 100),
    ("blobs_sparse_cce", "blobs", "sparse_cce", 100),
    ("blobs_kld", "blobs", "kld", 100),
]


def run_torch(sets):
    import torch

    torch.manual_seed(1)
    reg, circ, blobs = sets

    def model(inp, hidden, out, head):
        lin = torch.nn.Linear(inp, hidden)
        torch.nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
        layers = [lin, torch.nn.ReLU(), torch.nn.Linear(hidden, out)]
        if head is not None:
            layers.append(head)
        return torch.nn.Sequential(*layers).double()

    eps = 1e-7

    def loss_of(kind, p, t):
        if kind == "mse":
            return ((p - t) ** 2).mean()
        if kind == "mae":
            return (p - t).abs().mean()
        if kind == "msle":
            return ((torch.log1p(p.clamp(min=eps)) - torch.log1p(t.clamp(min=eps))) ** 2).mean()
        if kind == "bce":
            q = p.clamp(eps, 1 - eps)
            return -(t * q.log() + (1 - t) * (1 - q).log()).mean()
        if kind == "hinge":
            return (1 - t * p).clamp(min=0).mean()
        if kind == "squared_hinge":
            return ((1 - t * p).clamp(min=0) ** 2).mean()
        if kind in ("cce", "sparse_cce"):
            q = p.clamp(eps, 1 - eps)
            return -(t * q.log()).sum(1).mean()
        if kind == "kld":
            return (t.clamp(eps, 1) * (t.clamp(eps, 1) / p.clamp(eps, 1)).log()).sum(1).mean()
        raise ValueError(kind)

    for name, family, kind, epochs in EXPERIMENTS:
        if family == "reg":
            xtr, ytr, xte, yte = reg
            net = model(20, 25, 1, None)
        elif family.startswith("circ"):
            xtr, ytr, xte, yte = circ
            if family == "circ_signed":
                ytr, yte = 2 * ytr - 1, 2 * yte - 1
                net = model(2, 50, 1, torch.nn.Tanh())
            else:
                net = model(2, 50, 1, torch.nn.Sigmoid())
        else:
            xtr, ytr, xte, yte = blobs
            ytr, yte = np.eye(3)[ytr], np.eye(3)[yte]
            net = model(2, 50, 3, torch.nn.Softmax(dim=1))
        xtr, ytr, xte, yte = (torch.tensor(a, dtype=torch.float64) for a in (xtr, ytr, xte, yte))
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        n = xtr.shape[0]
        for _ in range(epochs):
            perm = torch.randperm(n)
            for s in range(0, n, 32):
                idx = perm[s : s + 32]
                opt.zero_grad()
                loss_of(kind, net(xtr[idx]), ytr[idx]).backward()
                opt.step()
            with torch.no_grad():
                loss_of(kind, net(xte), yte).item()
        print(name, "done")


def run_keras(sets):
    import keras

    reg, circ, blobs = sets
    losses = {"mse": "mean_squared_error", "msle": "mean_squared_logarithmic_error", "mae": "mean_absolute_error",
              "bce": "binary_crossentropy", "hinge": "hinge", "squared_hinge": "squared_hinge",
              "cce": "categorical_crossentropy", "sparse_cce": "sparse_categorical_crossentropy", "kld": "kl_divergence"}
    for name, family, kind, epochs in EXPERIMENTS:
        if family == "reg":
            xtr, ytr, xte, yte = reg
            shape, out, act = 20, 1, "linear"
            hidden = 25
        elif family.startswith("circ"):
            xtr, ytr, xte, yte = circ
            shape, out, hidden = 2, 1, 50
            act = "tanh" if family == "circ_signed" else "sigmoid"
            if family == "circ_signed":
                ytr, yte = 2 * ytr - 1, 2 * yte - 1
        else:
            xtr, ytr, xte, yte = blobs
            shape, out, hidden, act = 2, 3, 50, "softmax"
            if kind != "sparse_cce":
                ytr, yte = keras.utils.to_categorical(ytr), keras.utils.to_categorical(yte)
        model = keras.Sequential([keras.Input((shape,)), keras.layers.Dense(hidden, activation="relu", kernel_initializer="he_uniform"),
                                  keras.layers.Dense(out, activation=act)])
        model.compile(loss=losses[kind], optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9))
        model.fit(xtr, ytr, validation_data=(xte, yte), epochs=epochs, batch_size=32, verbose=0)
        print(name, "done")


if __name__ == "__main__":
    sets = data()
    (run_keras if os.environ.get("KERAS") else run_torch)(sets)
    print(f"nine experiments, whole process: {time.perf_counter() - START:.1f} s")
