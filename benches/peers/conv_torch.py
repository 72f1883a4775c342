"""conv2d forward + backward (input, weight and bias gradients) in PyTorch, f32, CPU: a batch of 64
images of 28x28, 32 channels in and out, kernel 3, padding 1 — the shapes of benches/conv.rs. The
FLOP count is the three products only (forward, input gradient, weight gradient; 2 per
multiply-add), as tapegrad counts them, so the GFLOP/s figures compare directly.

Usage: python benches/peers/conv_torch.py [THREADS] [STEPS]  (torch.set_num_threads, default 2, the
machine's cores; run it with 1 and with 2. STEPS timed steps, default 200: PyTorch's step time
swings between runs, 15 steps gave medians from 135 to 279 GFLOP/s on the same machine)."""
import statistics
import sys
import time

import torch

N, C, HW, K = 64, 32, 28, 3


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(3)
    x = torch.rand(N, C, HW, HW, requires_grad=True)
    w = (torch.rand(C, C, K, K) * 0.1).requires_grad_()
    b = torch.rand(C, requires_grad=True)

    def step():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.conv2d(x, w, b, padding=1).sum().backward()

    step()
    flops = 3 * 2 * N * C * HW * HW * C * K * K
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rates = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        rates.append(flops / (time.perf_counter() - t) * 1e-9)
    q = sorted(rates)
    deciles = ", ".join(f"{q[int(len(q) * f)]:.1f}" for f in (0.1, 0.25, 0.75, 0.9))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: conv2d fwd+bwd "
          f"{statistics.median(rates):.1f} GFLOP/s (median of {steps}), best {max(rates):.1f}; "
          f"10/25/75/90th percentiles {deciles}")


if __name__ == "__main__":
    main()
