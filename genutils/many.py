"""Train many small models of one architecture at once.

K models (K seeds, or K values of a scalar hyperparameter) are held as one set of
stacked parameters, shape (K, ...) per tensor. A step evaluates every model at once
-- batched matrix products for a plain `nn.Sequential` of `nn.Linear` layers and
parameter-free activations, `torch.func.vmap` over `functional_call` for any other
module -- and one backward pass of the summed losses gives each model its own
gradient, since the models share no parameter. Each model keeps its own
initialization seed, its own data order and, if asked, its own learning rate and
weight decay, and ends with the same parameters (to float tolerance) as `train_one`
gives it trained alone.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .progress import progress

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def build(make_model: Callable[[], nn.Module], seed: int, device: torch.device | str = "cpu") -> nn.Module:
    """One model, initialised from `seed` (the same rule `stack` uses for each of its models)."""
    torch.manual_seed(seed)
    return make_model().to(device)


@dataclass
class ManyModels:
    """K models of one architecture: stacked parameters and buffers, callable on a batch."""

    base: nn.Module
    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]

    @property
    def k(self) -> int:
        return next(iter(self.params.values())).shape[0]

    @property
    def is_plain_mlp(self) -> bool:
        """A Sequential of Linear layers and parameter-free modules: the batched-matmul path applies."""
        return isinstance(self.base, nn.Sequential) and not self.buffers and all(
            isinstance(m, nn.Linear) or not any(True for _ in m.parameters()) for m in self.base)

    def _one(self, params, buffers, x):
        return functional_call(self.base, (params, buffers), (x,))

    def _mlp(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, layer in enumerate(self.base):
            if isinstance(layer, nn.Linear):
                w = params[f"{i}.weight"]
                h = h.expand(w.shape[0], *h.shape) if h.ndim == 2 else h
                if layer.bias is None:
                    h = torch.bmm(h, w.transpose(1, 2))
                else:
                    h = torch.baddbmm(params[f"{i}.bias"][:, None, :], h, w.transpose(1, 2))
            else:
                h = layer(h)
        return h

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor, per_model: bool = False) -> torch.Tensor:
        """Outputs (K, n, ...) of every model under `params`; `x` shared, or (K, n, ...) if `per_model`."""
        if self.is_plain_mlp and x.ndim == (3 if per_model else 2):
            return self._mlp(params, x)
        return vmap(self._one, in_dims=(0, 0, 0 if per_model else None))(params, self.buffers, x)

    def __call__(self, x: torch.Tensor, per_model: bool = False) -> torch.Tensor:
        """Outputs (K, n, ...): `x` is shared by all models, or (K, n, ...) with `per_model=True`."""
        return self.forward(self.params, x, per_model)

    def model(self, i: int) -> nn.Module:
        """Model i as an ordinary nn.Module (a copy), e.g. to inspect or to compare."""
        m = copy.deepcopy(self.base)
        m.load_state_dict({name: t[i].detach().clone() for name, t in {**self.params, **self.buffers}.items()},
                          assign=True)
        return m


def stack(make_model: Callable[[], nn.Module], seeds: Sequence[int], device: torch.device | str = "cpu"
          ) -> ManyModels:
    """K = len(seeds) models, model i initialised exactly as `build(make_model, seeds[i])`."""
    if not seeds:
        raise ValueError("stack needs at least one seed")
    models = [build(make_model, s, device) for s in seeds]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().clone() for k, v in params.items()}
    base = copy.deepcopy(models[0]).to("meta").requires_grad_(False)
    return ManyModels(base=base, params=params, buffers=buffers)


def batch_order(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless minibatch indices: a fresh permutation each epoch, the last partial batch dropped."""
    if not 0 < batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    while True:
        perm = torch.randperm(n, generator=generator)
        for i in range(n // batch_size):
            yield perm[i * batch_size:(i + 1) * batch_size]


class BatchOrders:
    """`batch_order` for K models at once: (K, batch) indices per step, one stacked draw per epoch.

    Model i sees exactly the batches `batch_order(n, batch_size, Generator().manual_seed(seeds[i]))`
    gives; the permutations of an epoch are drawn together and sliced, so a step costs one index op.
    """

    def __init__(self, n: int, batch_size: int, seeds: Sequence[int], device: torch.device | str = "cpu"):
        if not 0 < batch_size <= n:
            raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
        self.n, self.batch_size, self.device = n, batch_size, device
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]
        self.per_epoch, self.i, self.perms = n // batch_size, 0, None

    def __next__(self) -> torch.Tensor:
        if self.perms is None or self.i == self.per_epoch:
            self.perms = torch.stack([torch.randperm(self.n, generator=g) for g in self.generators]).to(self.device)
            self.i = 0
        b = self.batch_size
        out = self.perms[:, self.i * b:(self.i + 1) * b]
        self.i += 1
        return out


def _per_model(value: float | Sequence[float], k: int, name: str, device) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float32, device=device).flatten()
    if t.numel() == 1:
        t = t.expand(k)
    if t.numel() != k:
        raise ValueError(f"{name} must be one value or {k} values (one per model), got {t.numel()}")
    return t


class StopTraining(Exception):
    """Raise from a `record` callback to end `train_many` early (e.g. once every model fits)."""


@dataclass
class History:
    """Per-model metrics recorded during training: rows of {step, model, name: value}."""

    rows: list[dict] = field(default_factory=list)

    def add(self, step: int, metrics: dict[str, torch.Tensor]) -> None:
        values = {name: v.detach().float().cpu().tolist() for name, v in metrics.items()}
        k = len(next(iter(values.values())))
        self.rows += [{"step": step, "model": i, **{n: v[i] for n, v in values.items()}} for i in range(k)]

    def frame(self):
        """The history as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows)


OPTIMIZERS = ("sgd", "adam", "adamw")


def train_many(models: ManyModels, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, *, steps: int,
               data_seeds: Sequence[int], batch_size: int | None = None, per_model_data: bool = False,
               optimizer: str = "sgd", lr: float | Sequence[float] = 0.1,
               weight_decay: float | Sequence[float] = 0.0, momentum: float = 0.0,
               betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
               schedule: Callable[[int], float] | None = None, clip: float | None = None,
               record: Callable[[ManyModels, int], dict[str, torch.Tensor]] | None = None,
               record_at: Sequence[int] = (), desc: str = "training") -> History:
    """Train all K models in place for `steps` steps; return the per-model metrics of `record`.

    `loss_fn(outputs, targets)` is the ordinary single-model loss (a scalar).
    Data are shared by all models, or one dataset per model ((K, n, ...) with
    `per_model_data=True`); model i draws its minibatches from `data_seeds[i]`
    (full batch when `batch_size` is None). `lr` and `weight_decay` may differ
    per model. SGD (with momentum), Adam and AdamW (decoupled weight decay) match
    `torch.optim` step for step; `schedule(t)` multiplies the learning rate of update
    t (as `torch.optim.lr_scheduler.LambdaLR`), and `clip` caps each model's gradient
    norm (as `torch.nn.utils.clip_grad_norm_`). The update is one `torch._foreach_*`
    call per operation over all tensors, not a Python loop over parameters.
    `record(models, step)` returns metrics of shape (K,), taken after `step`
    updates for each step in `record_at` (0 is the initialization); it may
    raise `StopTraining` to end training there.
    """
    k, device = models.k, next(iter(models.params.values())).device
    if len(data_seeds) != k:
        raise ValueError(f"need one data seed per model: {k} models, {len(data_seeds)} seeds")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be a positive gradient norm or None, got {clip!r}")
    n = x.shape[1] if per_model_data else x.shape[0]
    lr_cpu, wd_cpu = _per_model(lr, k, "lr", "cpu"), _per_model(weight_decay, k, "weight_decay", "cpu")
    # Decisions and scalars come from the CPU copies: no device synchronisation inside the loop.
    use_wd, same_lr, lr_value = bool((wd_cpu != 0).any()), bool((lr_cpu == lr_cpu[0]).all()), float(lr_cpu[0])
    lr_k, wd_k = lr_cpu.to(device), wd_cpu.to(device)
    full = batch_size is None
    orders = None if full else BatchOrders(n, batch_size, data_seeds, device)

    batched = per_model_data or not full  # minibatches differ per model even when the data are shared
    per_model_loss = vmap(loss_fn, in_dims=(0, 0 if batched else None))
    params = list(models.params.values())
    views = [(k,) + (1,) * (p.ndim - 1) for p in params]
    wd = [wd_k.view(v) for v in views]
    m_buf = [torch.zeros_like(p) for p in params]
    v_buf = [torch.zeros_like(p) for p in params] if optimizer != "sgd" else []
    history, wanted = History(), set(record_at)
    rows = torch.arange(k, device=device)[:, None]

    for t in progress(range(steps + 1), desc=desc):
        if record is not None and t in wanted:
            try:
                with torch.no_grad():
                    history.add(t, record(models, t))
            except StopTraining:
                break
        if t == steps:
            break
        if full:
            xb, yb = x, y
        else:
            idx = next(orders)
            xb, yb = (x[rows, idx], y[rows, idx]) if per_model_data else (x[idx], y[idx])
        live = {name: p.detach().requires_grad_() for name, p in models.params.items()}
        losses = per_model_loss(models.forward(live, xb, per_model=batched), yb)
        grads = list(torch.autograd.grad(losses.sum(), list(live.values())))
        with torch.no_grad():
            mult = 1.0 if schedule is None else float(schedule(t))
            lr_t = lr_k * mult
            if clip is not None:
                norm = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0).sqrt()
                coef = (clip / (norm + 1e-6)).clamp(max=1.0)
                torch._foreach_mul_(grads, [coef.view(v) for v in views])
            if use_wd and optimizer == "adamw":
                torch._foreach_mul_(params, [(1 - lr_t * wd_k).view(v) for v in views])
            elif use_wd:
                torch._foreach_add_(grads, torch._foreach_mul(params, wd))
            if optimizer == "sgd":
                if momentum:
                    if t == 0:
                        torch._foreach_copy_(m_buf, grads)
                    else:
                        torch._foreach_mul_(m_buf, momentum)
                        torch._foreach_add_(m_buf, grads)
                    grads = m_buf
                if same_lr:
                    torch._foreach_add_(params, grads, alpha=-lr_value * mult)
                else:
                    torch._foreach_sub_(params, torch._foreach_mul(grads, [lr_t.view(v) for v in views]))
            else:
                torch._foreach_lerp_(m_buf, grads, 1 - betas[0])
                torch._foreach_mul_(v_buf, betas[1])
                torch._foreach_addcmul_(v_buf, grads, grads, value=1 - betas[1])
                c1, c2 = 1 - betas[0] ** (t + 1), (1 - betas[1] ** (t + 1)) ** 0.5
                denom = torch._foreach_sqrt(v_buf)
                torch._foreach_div_(denom, c2)
                torch._foreach_add_(denom, eps)
                if same_lr:
                    torch._foreach_addcdiv_(params, m_buf, denom, value=-lr_value * mult / c1)
                else:
                    step = torch._foreach_div(m_buf, denom)
                    torch._foreach_mul_(step, [(lr_t / c1).view(v) for v in views])
                    torch._foreach_sub_(params, step)
    return history


def train_one(make_model: Callable[[], nn.Module], x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, *,
              seed: int, data_seed: int, steps: int, batch_size: int | None = None, optimizer: str = "sgd",
              lr: float = 0.1, weight_decay: float = 0.0, momentum: float = 0.0,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
              schedule: Callable[[int], float] | None = None, clip: float | None = None,
              device: torch.device | str = "cpu") -> nn.Module:
    """The reference: one model with `torch.optim`, the same init and data order as in `train_many`."""
    model = build(make_model, seed, device)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    sched = None if schedule is None else torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    order = None if batch_size is None else batch_order(x.shape[0], batch_size, torch.Generator().manual_seed(data_seed))
    for _ in range(steps):
        idx = None if order is None else next(order).to(x.device)
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
    return model
