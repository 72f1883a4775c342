"""Nanoseconds per recorded op (forward + backward) on one-element values: a chain of n
elementwise ops (x * c, + x, tanh, - c, repeated), then backward, as tapegrad's `op_chain`.
PyTorch eager and micrograd; prints the median of several timed batches."""
import statistics
import time


def chain_torch(n):
    import torch

    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    h = x
    for i in range(n):
        k = i % 4
        if k == 0:
            h = h * 0.9
        elif k == 1:
            h = h + x
        elif k == 2:
            h = torch.tanh(h)
        else:
            h = h - 0.1
    h.backward()
    return x.grad.item()


def chain_micrograd(n):
    from micrograd.engine import Value

    x = Value(0.3)
    h = x
    for i in range(n):
        k = i % 4
        if k == 0:
            h = h * 0.9
        elif k == 1:
            h = h + x
        elif k == 2:
            h = h.tanh()
        else:
            h = h - 0.1
    h.backward()
    return x.grad


def ns_per_op(f, n, samples=15, reps=20):
    f(n)
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        for _ in range(reps):
            f(n)
        times.append((time.perf_counter() - t) / reps / n * 1e9)
    return statistics.median(times)


if __name__ == "__main__":
    for n in (100, 1000):
        print(f"torch, chain of {n}: {ns_per_op(chain_torch, n):.0f} ns per op")
        try:
            print(f"micrograd, chain of {n}: {ns_per_op(chain_micrograd, n):.0f} ns per op")
        except ImportError:
            print("micrograd not installed (pip install micrograd)")
