"""Time per epoch of the digits CNN of examples/digits_cnn.rs in PyTorch (CPU, f32), and, with
--tapegrad, of tapegrad's example in the same run, the two alternating round by round.

The network, data and training are the example's: the 1,797 8x8 digits of data/digits.csv, a
stratified 75/25 split (1,347 training images), pixels standardised per position on the training
part, Conv2d(1->16, 3, padding 1) + ReLU -> MaxPool2d(2) -> Conv2d(16->32, 3, padding 1) + ReLU ->
Flatten -> Linear(512->10), cross-entropy on the logits (the example's softmax + sparse categorical
cross-entropy), Adam (learning rate 0.001), batches of 32 reshuffled every epoch. An epoch is the
training pass only (forward, backward, update per batch), as the example times `fit` for one epoch.

Run from the repository root:

    cargo build --release --example digits_cnn
    python benches/peers/digits_cnn_torch.py --tapegrad target/release/examples/digits_cnn

Options: --threads N (torch.set_num_threads, default 2), --rounds R (default 5), --epochs E per
round (default 6); each round runs tapegrad's E epochs (a fresh process) and then torch's E epochs.
The first epoch of every round is left out of the medians (warm-up).
"""
import argparse
import os
import platform
import statistics
import subprocess
import time

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def load_digits():
    data = np.loadtxt(os.path.join(ROOT, "data", "digits.csv"), delimiter=",", skiprows=1, dtype=np.float64)
    return data[:, :64], data[:, 64].astype(np.int64)


def stratified_split(y, test_size, seed):
    """Per class, a seeded permutation; the first 25% of each class (rounded) go to the test part."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        rows = rows[rng.permutation(len(rows))]
        k = int(round(len(rows) * test_size))
        test.extend(rows[:k])
        train.extend(rows[k:])
    return np.array(train), np.array(test)


def make_model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(512, 10),
    )


def torch_epochs(x_train, y_train, x_test, y_test, epochs, seed):
    torch.manual_seed(seed)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x_train.shape[0]
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        for s in range(0, n, 32):
            idx = order[s:s + 32]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    return times, acc


def tapegrad_epochs(binary, epochs, seed):
    out = subprocess.run([binary, "--quiet", "--epochs", str(epochs), "--seed", str(seed)],
                         check=True, capture_output=True, text=True).stdout
    return [float(line.split()[1]) for line in out.splitlines() if line.startswith("epoch_seconds")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tapegrad", help="path of the built digits_cnn example")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=6)
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    x, y = load_digits()
    train, test = stratified_split(y, 0.25, 0)
    mean, std = x[train].mean(0), x[train].std(0)
    std[std == 0] = 1.0
    to_images = lambda rows: torch.tensor((x[rows] - mean) / std, dtype=torch.float32).reshape(-1, 1, 8, 8)
    x_train, x_test = to_images(train), to_images(test)
    y_train, y_test = torch.tensor(y[train]), torch.tensor(y[test])

    tg, th, accs = [], [], []
    for r in range(a.rounds):
        if a.tapegrad:
            tg.extend(tapegrad_epochs(a.tapegrad, a.epochs, r)[1:])
        times, acc = torch_epochs(x_train, y_train, x_test, y_test, a.epochs, r)
        th.extend(times[1:])
        accs.append(acc)

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {len(train)} training images, batch 32, "
          f"{a.rounds} rounds x {a.epochs} epochs (first of each round left out)")
    th_ms = statistics.median(th) * 1e3
    print(f"torch    per epoch: median {th_ms:.1f} ms, best {min(th) * 1e3:.1f} ms "
          f"(test accuracy after {a.epochs} epochs: {statistics.mean(accs) * 100:.1f}%)")
    if tg:
        tg_ms = statistics.median(tg) * 1e3
        print(f"tapegrad per epoch: median {tg_ms:.1f} ms, best {min(tg) * 1e3:.1f} ms")
        print(f"tapegrad / torch time per epoch: {tg_ms / th_ms:.2f}")


if __name__ == "__main__":
    main()
