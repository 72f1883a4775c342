"""PyTorch peer of `tapegrad compare --dataset breast_cancer --repeats 10`: the same four losses,
ten seeds, the same protocol (docs/real_data_baselines.md), plain PyTorch on the CPU.

Run from the repository root and time the whole process next to tapegrad's:

    time python benches/peers/compare_torch.py
    time target/release/tapegrad compare --dataset breast_cancer --repeats 10 --no-plots --out /tmp/cmp

Needs torch, numpy and scikit-learn (for train_test_split and StandardScaler, as the reference
protocol). One torch thread per process, as in the reference measurements; `--workers 2` runs two
processes side by side, as tapegrad uses both cores.
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

EPS = 1e-7


def losses(torch):
    def clip(p):
        return p.clamp(EPS, 1 - EPS)

    def bce(y, p):
        p = clip(p)
        return -(y * p.log() + (1 - y) * (1 - p).log()).mean()

    def hinge(y, p):
        return (1 - y * p).clamp(min=0).mean()

    def squared_hinge(y, p):
        return (1 - y * p).clamp(min=0).square().mean()

    def focal(y, p):
        p_t = y * p + (1 - y) * (1 - p)
        pc = clip(p)
        ce = -(y * pc.log() + (1 - y) * (1 - pc).log())
        return ((1 - p_t) ** 2 * ce).mean()

    return {"binary_crossentropy": bce, "hinge": hinge, "squared_hinge": squared_hinge, "binary_focal_crossentropy": focal}


def run(job):
    loss_name, seed, x, y = job
    import torch
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    torch.set_num_threads(1)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_tr)
    x_tr = torch.tensor(scaler.transform(x_tr), dtype=torch.float32)
    x_te = torch.tensor(scaler.transform(x_te), dtype=torch.float32)
    signed = loss_name in ("hinge", "squared_hinge")
    to_t = (lambda v: 2 * v - 1) if signed else (lambda v: v)
    t_tr = torch.tensor(to_t(y_tr), dtype=torch.float32).reshape(-1, 1)
    t_te = torch.tensor(to_t(y_te), dtype=torch.float32).reshape(-1, 1)
    torch.manual_seed(seed)
    hidden = torch.nn.Linear(x.shape[1], 50)
    out = torch.nn.Linear(50, 1)
    bound = (6.0 / x.shape[1]) ** 0.5  # he_uniform, as the protocol
    torch.nn.init.uniform_(hidden.weight, -bound, bound)
    torch.nn.init.xavier_uniform_(out.weight)
    torch.nn.init.zeros_(hidden.bias)
    torch.nn.init.zeros_(out.bias)
    final = torch.tanh if signed else torch.sigmoid
    model = torch.nn.Sequential(hidden, torch.nn.ReLU(), out)
    loss_fn = losses(torch)[loss_name]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n = x_tr.shape[0]
    for _ in range(200):
        perm = torch.randperm(n)
        for i in range(0, n, 32):
            idx = perm[i : i + 32]
            opt.zero_grad()
            loss = loss_fn(t_tr[idx], final(model(x_tr[idx])))
            loss.backward()
            opt.step()
        with torch.no_grad():
            loss_fn(t_te, final(model(x_te)))  # the per-epoch test loss, as Keras' validation_data
    with torch.no_grad():
        p = final(model(x_te))
        pred = (p > 0).float() * 2 - 1 if signed else (p > 0.5).float()
        return loss_name, seed, float((pred == t_te).float().mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="data/breast_cancer.csv")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    start = time.perf_counter()
    data = np.loadtxt(args.csv, delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1]
    names = list(losses(__import__("torch")).keys())
    jobs = [(name, seed, x, y) for name in names for seed in range(args.repeats)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, jobs))
    for name in names:
        acc = sorted(a for (n, _, a) in results if n == name)
        print(f"{name:<28} median {np.median(acc):.3f} min {acc[0]:.3f} max {acc[-1]:.3f}")
    print(f"whole run: {time.perf_counter() - start:.1f} s for {len(jobs)} trainings")


if __name__ == "__main__":
    main()
