"""Seconds of one training step (forward, backward, SGD update) of a 784-256-256-10 relu MLP with a
softmax cross-entropy head, f32, batch 256, in PyTorch: with BatchNorm1d and Dropout(0.2) after each
hidden layer (as `tapegrad bench`'s BN + Dropout row: Linear, ReLU, BatchNorm1d, Dropout) and
without them. Prints the two medians and their ratio; `tapegrad bench` records them as the peer.

BatchNorm1d gets eps=1e-3 and momentum=0.01 (PyTorch's momentum is the weight of the new batch:
Keras' 0.99 read the other way round); neither changes the cost. Run: /work/torchvenv/bin/python bn_dropout_torch.py
"""
import statistics
import time

import torch

WIDTHS = [784, 256, 256, 10]
BATCH = 256
RATE = 0.2
SAMPLES = 31


def mlp(with_layers):
    layers = []
    for i, (a, b) in enumerate(zip(WIDTHS, WIDTHS[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(WIDTHS):
            layers.append(torch.nn.ReLU())
            if with_layers:
                layers.append(torch.nn.BatchNorm1d(b, eps=1e-3, momentum=0.01))
                layers.append(torch.nn.Dropout(RATE))
    return torch.nn.Sequential(*layers)


def stepper(model, x, y):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def main():
    torch.set_num_threads(2)
    torch.manual_seed(3)
    x = torch.rand(BATCH, WIDTHS[0])
    y = torch.randint(0, WIDTHS[-1], (BATCH,))
    with_step = stepper(mlp(True), x, y)
    without_step = stepper(mlp(False), x, y)
    for _ in range(3):
        with_step()
        without_step()
    a, b = [], []
    for _ in range(SAMPLES):
        t = time.perf_counter()
        with_step()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        without_step()
        b.append(time.perf_counter() - t)
    wa, wb = statistics.median(a), statistics.median(b)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}: "
        f"with BatchNorm1d + Dropout {wa * 1e3:.3f} ms, without {wb * 1e3:.3f} ms, ratio {wa / wb:.3f}"
    )


if __name__ == "__main__":
    main()
