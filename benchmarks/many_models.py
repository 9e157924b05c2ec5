"""Benchmark: 10 seeds of a 3-layer MLP on MNIST-1D, trained three ways in one process.

(a) the common idiom: one model at a time, minibatches from a DataLoader;
(b) a tight loop over in-memory tensors, one model at a time (genutils.many.train_one);
(c) all models at once (genutils.many.train_many).
The last line reports the ratios of wall times, the achieved GFLOP/s of (c) and this
machine's float32 matrix-multiply peak measured in the same run. Usage:

    python benchmarks/many_models.py [--models 10] [--steps 300] [--width 128] [--batch 128]
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from genutils import many
from genutils.data import mnist1d


def make_mlp(width: int):
    return lambda: nn.Sequential(nn.Linear(40, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, 10))


def dataloader_idiom(make, x, y, seeds, steps, batch, lr, momentum):
    """(a) One model at a time, the way most tutorials write it."""
    for s in seeds:
        model = many.build(make, s)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, drop_last=True,
                            generator=torch.Generator().manual_seed(s))
        done = 0
        while done < steps:
            for xb, yb in loader:
                opt.zero_grad()
                F.cross_entropy(model(xb), yb).backward()
                opt.step()
                done += 1
                if done == steps:
                    break


def tensor_loop(make, x, y, seeds, steps, batch, lr, momentum):
    """(b) One model at a time over in-memory tensors."""
    for s in seeds:
        many.train_one(make, x, y, F.cross_entropy, seed=s, data_seed=s, steps=steps, batch_size=batch,
                       lr=lr, momentum=momentum)


def all_at_once(make, x, y, seeds, steps, batch, lr, momentum):
    """(c) Every model at once."""
    models = many.stack(make, seeds)
    many.train_many(models, x, y, F.cross_entropy, steps=steps, batch_size=batch, data_seeds=seeds, lr=lr,
                    momentum=momentum)


def matmul_peak(n: int = 1024, repeats: int = 20) -> float:
    """Achieved float32 GFLOP/s of an n×n matrix product, best of `repeats`."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=int, default=10)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--batch", type=int, default=128)
    args = p.parse_args()
    import os

    os.environ["GENBOOK_QUIET"] = "1"
    x, y, _, _ = mnist1d(5000)
    make, seeds = make_mlp(args.width), list(range(args.models))
    work = (make, x, y, seeds, args.steps, args.batch, 0.05, 0.9)
    all_at_once(make, x, y, seeds, 5, args.batch, 0.05, 0.9)  # warm-up (vmap tracing, allocator)
    peak = matmul_peak()
    t_a = timed(dataloader_idiom, *work)
    t_b = timed(tensor_loop, *work)
    t_c = timed(all_at_once, *work)
    w = args.width
    flops = 6 * args.batch * (40 * w + w * w + w * 10) * args.models * args.steps
    print(f"work: {args.models} models × {args.steps} steps, MLP 40-{w}-{w}-10, batch {args.batch}, "
          f"{torch.get_num_threads()} threads")
    print(f"(a) DataLoader, one at a time : {t_a:7.2f} s")
    print(f"(b) tensor loop, one at a time: {t_b:7.2f} s")
    print(f"(c) all at once (vmap)        : {t_c:7.2f} s")
    print(f"ratios: dataloader/many={t_a / t_c:.2f} tensorloop/many={t_b / t_c:.2f} "
          f"gflops={flops / t_c / 1e9:.1f} peak={peak:.1f}")


if __name__ == "__main__":
    main()
