"""Benchmark: 10 seeds of a 3-layer MLP on MNIST-1D, trained four ways in one process.

(a) the common idiom: one model at a time, minibatches from a DataLoader;
(b) a tight loop over in-memory tensors, one model at a time (genutils.many.train_one);
(c) all models at once (genutils.many.train_many);
(d) PyTorch's own model-ensembling idiom, the strongest peer of (c): parameters stacked with
    `torch.func.stack_module_state`, per-model gradients from `vmap(grad(loss))`, and a
    functional SGD-momentum step with `torch._foreach_*` over the stacked tensors.
The last line reports the ratios of wall times, the achieved GFLOP/s of (c) and this
machine's float32 matrix-multiply peak measured in the same run. Usage:

    python benchmarks/many_models.py [--models 10] [--steps 300] [--width 128] [--batch 128] [--device cuda]
"""
from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap
from torch.utils.data import DataLoader, TensorDataset

from genutils import many
from genutils.data import mnist1d


def make_mlp(width: int):
    return lambda: nn.Sequential(nn.Linear(40, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, 10))


def dataloader_idiom(make, x, y, seeds, steps, batch, lr, momentum):
    """(a) One model at a time, the way most tutorials write it."""
    for s in seeds:
        model = many.build(make, s, x.device)
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
                       lr=lr, momentum=momentum, device=x.device)


def all_at_once(make, x, y, seeds, steps, batch, lr, momentum):
    """(c) Every model at once."""
    models = many.stack(make, seeds)
    many.train_many(models, x, y, F.cross_entropy, steps=steps, batch_size=batch, data_seeds=seeds, lr=lr,
                    momentum=momentum)


def torchfunc_idiom(make, x, y, seeds, steps, batch, lr, momentum):
    """(d) torch.func ensembling: stack_module_state + vmap(grad(...)) + a foreach SGD-momentum step."""
    models = [many.build(make, s, x.device) for s in seeds]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def loss(p, b, xb, yb):
        return F.cross_entropy(functional_call(base, (p, b), (xb,)), yb)

    per_model_grad = vmap(grad(loss))
    orders = [many.batch_order(x.shape[0], batch, torch.Generator().manual_seed(s)) for s in seeds]
    names = list(params)
    values = [params[n].detach() for n in names]
    bufs = [torch.zeros_like(v) for v in values]
    for t in range(steps):
        idx = torch.stack([next(o) for o in orders]).to(x.device)
        g = per_model_grad(dict(zip(names, values)), buffers, x[idx], y[idx])
        g = [g[n] for n in names]
        with torch.no_grad():
            if t == 0:
                torch._foreach_copy_(bufs, g)
            else:
                torch._foreach_mul_(bufs, momentum)
                torch._foreach_add_(bufs, g)
            torch._foreach_add_(values, bufs, alpha=-lr)
    return dict(zip(names, values))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, n: int = 1024, repeats: int = 20) -> float:
    """Achieved float32 GFLOP/s of an n×n matrix product, best of `repeats`."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def timed(fn, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): on a shared machine the CPU time is the steadier."""
    device = args[1].device
    sync(device)
    t, c = time.perf_counter(), time.process_time()
    fn(*args)
    sync(device)
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=int, default=10)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import os

    os.environ["GENBOOK_QUIET"] = "1"
    device = torch.device(args.device)
    x, y, _, _ = mnist1d(5000)
    x, y = x.to(device), y.to(device)
    make, seeds = make_mlp(args.width), list(range(args.models))
    work = (make, x, y, seeds, args.steps, args.batch, 0.05, 0.9)
    for warm in (all_at_once, torchfunc_idiom):  # warm-up (vmap tracing, allocator)
        warm(make, x, y, seeds, 5, args.batch, 0.05, 0.9)
    peak = matmul_peak(device)
    (t_a, c_a), (t_b, c_b) = timed(dataloader_idiom, *work), timed(tensor_loop, *work)
    (t_c, c_c), (t_d, c_d) = timed(all_at_once, *work), timed(torchfunc_idiom, *work)
    w = args.width
    flops = 6 * args.batch * (40 * w + w * w + w * 10) * args.models * args.steps
    print(f"work: {args.models} models × {args.steps} steps, MLP 40-{w}-{w}-10, batch {args.batch}, "
          f"{torch.get_num_threads()} threads, {device.type}")
    print(f"(a) DataLoader, one at a time : {t_a:7.2f} s wall {c_a:7.2f} s CPU")
    print(f"(b) tensor loop, one at a time: {t_b:7.2f} s wall {c_b:7.2f} s CPU")
    print(f"(c) all at once (genutils)    : {t_c:7.2f} s wall {c_c:7.2f} s CPU")
    print(f"(d) torch.func vmap(grad)     : {t_d:7.2f} s wall {c_d:7.2f} s CPU")
    print(f"CPU-time ratios: dataloader/many={c_a / c_c:.2f} tensorloop/many={c_b / c_c:.2f} "
          f"torchfunc/many={c_d / c_c:.2f}")
    print(f"ratios: dataloader/many={t_a / t_c:.2f} tensorloop/many={t_b / t_c:.2f} torchfunc/many={t_d / t_c:.2f} "
          f"gflops={flops / t_c / 1e9:.1f} peak={peak:.1f}")


if __name__ == "__main__":
    main()
