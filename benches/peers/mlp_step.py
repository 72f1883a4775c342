"""GFLOP/s of one training step (forward, backward, SGD update) of a 784-1024-1024-10 relu MLP
with a softmax cross-entropy head, f32, batch 256, in PyTorch: the figure `tapegrad bench` puts
beside its own MLP row. The FLOP count is the matrix products only, as tapegrad counts them."""
import statistics
import time

import torch

WIDTHS = [784, 1024, 1024, 10]
BATCH = 256


def flops(widths, batch):
    total = 0
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        total += 2 * batch * a * b  # forward
        total += 2 * batch * a * b  # weight gradient
        if i > 0:
            total += 2 * batch * a * b  # input gradient (not for the first layer)
    return total


def main():
    torch.manual_seed(3)
    layers = []
    for i, (a, b) in enumerate(zip(WIDTHS, WIDTHS[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(WIDTHS):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.rand(BATCH, WIDTHS[0])
    y = torch.randint(0, WIDTHS[-1], (BATCH,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    step()
    f = flops(WIDTHS, BATCH)
    rates = []
    for _ in range(15):
        t = time.perf_counter()
        step()
        rates.append(f / (time.perf_counter() - t) * 1e-9)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: {statistics.median(rates):.1f} GFLOP/s")


if __name__ == "__main__":
    main()
