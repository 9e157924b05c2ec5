"""Language-model training over in-memory token tensors, for the small transformers of the book.

Sequences are laid out `BOS x₁…x_n SEP y₁…y_m EOS PAD…` (`lm_batch`); a boolean mask marks the
answer tokens y and EOS, the positions the loss and the exact-match score read. The model at
position t predicts token t+1, so the answer token at position t is scored on the logits at t−1
(`lm_targets` does that shift once, writing −100 — cross-entropy's ignore index — elsewhere).

`train_lm` trains one model with AdamW, warm-up and a cosine (or one-cycle) schedule, gradient
clipping and decoupled weight decay, on batches `sample_batch(step)` drawn fresh each step.
`lr_schedule` returns the learning-rate multiplier as a function of the update index, the form
`genutils.many.train_many(schedule=...)` takes, so many models trained at once follow the same
schedule (`pack` + `models.OffsetInput` carry the position offsets there).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .progress import progress

IGNORE = -100
SCHEDULES = ("cosine", "onecycle", "linear", "constant")


@dataclass(frozen=True)
class Specials:
    """The four special tokens, numbered after the task's symbols 0..n_symbols−1."""

    bos: int
    sep: int
    eos: int
    pad: int

    @classmethod
    def after(cls, n_symbols: int) -> "Specials":
        """BOS, SEP, EOS, PAD = n_symbols, n_symbols+1, n_symbols+2, n_symbols+3."""
        return cls(n_symbols, n_symbols + 1, n_symbols + 2, n_symbols + 3)

    @property
    def vocab_size(self) -> int:
        """Symbols plus the four specials (assuming `after` numbering)."""
        return max(self.bos, self.sep, self.eos, self.pad) + 1


class Batch(NamedTuple):
    """Token ids X (B, T), answer mask (B, T) (y and EOS), position offsets (B,)."""

    X: torch.Tensor
    mask: torch.Tensor
    pos_offset: torch.Tensor


def _padded(seqs: Sequence[Sequence[int]] | torch.Tensor, lengths: torch.Tensor | None, fill: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(seqs, torch.Tensor):
        seqs = seqs.long()
        if seqs.ndim != 2:
            raise ValueError(f"token tensors must be (B, n), got shape {tuple(seqs.shape)}")
        if lengths is None:
            lengths = torch.full((seqs.shape[0],), seqs.shape[1], dtype=torch.long)
        return seqs, torch.as_tensor(lengths, dtype=torch.long)
    rows = [list(map(int, s)) for s in seqs]
    n = max((len(r) for r in rows), default=0)
    out = torch.full((len(rows), max(n, 1)), fill, dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            out[i, :len(r)] = torch.tensor(r)
    return out, torch.tensor([len(r) for r in rows], dtype=torch.long)


def lm_batch(xs: Sequence[Sequence[int]] | torch.Tensor, ys: Sequence[Sequence[int]] | torch.Tensor,
             specials: Specials, *, x_lengths: torch.Tensor | None = None, y_lengths: torch.Tensor | None = None,
             length: int | None = None, max_len: int | None = None, random_offsets: bool = False,
             generator: torch.Generator | None = None) -> Batch:
    """Rows `BOS x SEP y EOS PAD…` with the answer mask on y and EOS, and position offsets.

    `xs`, `ys`: lists of token lists, or padded LongTensors (B, n) with `x_lengths` / `y_lengths`
    (vectorized; no Python loop over rows). `length` pads every row to T (default: the longest row).
    With `random_offsets`, each row's offset is uniform on {0, …, max_len − T}, so training sees every
    row of a learned position table; otherwise offsets are 0.
    """
    x, lx = _padded(xs, x_lengths, specials.pad)
    y, ly = _padded(ys, y_lengths, specials.pad)
    B = x.shape[0]
    if y.shape[0] != B:
        raise ValueError(f"xs has {B} rows, ys {y.shape[0]}")
    if (lx > x.shape[1]).any() or (ly > y.shape[1]).any() or (lx < 0).any() or (ly < 0).any():
        raise ValueError("lengths must lie in [0, padded width]")
    need = int((lx + ly).max()) + 3 if B else 3
    T = need if length is None else length
    if T < need:
        raise ValueError(f"length {T} is shorter than the longest row ({need} tokens)")
    X = torch.full((B, T), specials.pad, dtype=torch.long)
    X[:, 0] = specials.bos
    rows = torch.arange(B)[:, None]
    jx = torch.arange(x.shape[1])[None, :].expand(B, -1)
    keep = jx < lx[:, None]
    X[rows.expand_as(jx)[keep], (jx + 1)[keep]] = x[keep]
    X[torch.arange(B), lx + 1] = specials.sep
    jy = torch.arange(y.shape[1])[None, :].expand(B, -1)
    keep = jy < ly[:, None]
    X[rows.expand_as(jy)[keep], (lx[:, None] + 2 + jy)[keep]] = y[keep]
    X[torch.arange(B), lx + ly + 2] = specials.eos
    t = torch.arange(T)[None, :]
    mask = (t >= (lx + 2)[:, None]) & (t <= (lx + ly + 2)[:, None])
    if random_offsets:
        if max_len is None or max_len < T:
            raise ValueError(f"random offsets need max_len >= the row length {T}, got {max_len}")
        offset = torch.randint(0, max_len - T + 1, (B,), generator=generator)
    else:
        offset = torch.zeros(B, dtype=torch.long)
    return Batch(X, mask, offset)


def lm_targets(X: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Targets (B, T) for next-token logits: X[t+1] where the mask marks t+1, else −100 (ignored)."""
    tgt = torch.full_like(X, IGNORE)
    tgt[:, :-1] = torch.where(mask[:, 1:], X[:, 1:], torch.full_like(X[:, 1:], IGNORE))
    return tgt


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the non-ignored targets: logits (B, T, V), targets (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)


def pack(batch: Batch) -> torch.Tensor:
    """One LongTensor (B, 1+T): the offsets in column 0, then the tokens (input of `models.OffsetInput`)."""
    return torch.cat([batch.pos_offset[:, None].to(batch.X), batch.X], dim=1)


def rows_correct(logits: torch.Tensor, X: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(…, B) booleans: argmax at every masked position equals the token there (teacher forcing).

    `logits` (…, B, T, V) may carry leading model dimensions (e.g. K models from `genutils.many`).
    """
    pred = logits[..., :-1, :].argmax(-1)
    ok = (pred == X[:, 1:]) | ~mask[:, 1:]
    return ok.all(-1)


@torch.no_grad()
def exact_match(model: nn.Module, X: torch.Tensor, mask: torch.Tensor, pos_offset: torch.Tensor | None = None,
                *, per_row: bool = False, batch_size: int = 2048) -> float | torch.Tensor:
    """Share of rows whose every masked (answer) token is the argmax under teacher forcing.

    For a deterministic target this equals greedy decoding, at one forward pass. `per_row=True`
    returns the (B,) booleans instead (e.g. for a bootstrap over test sequences).
    """
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    out = []
    for i in range(0, X.shape[0], batch_size):
        xb, mb = X[i:i + batch_size].to(dev), mask[i:i + batch_size].to(dev)
        ob = None if pos_offset is None else pos_offset[i:i + batch_size].to(dev)
        out.append(rows_correct(model(xb, pos_offset=ob), xb, mb).cpu())
    model.train(was)
    rows = torch.cat(out) if out else torch.zeros(0, dtype=torch.bool)
    return rows if per_row else float(rows.float().mean())


def lr_schedule(kind: str, steps: int, warmup: float = 0.1, final: float = 0.0, div_factor: float = 25.0,
                final_div_factor: float = 1e4) -> Callable[[int], float]:
    """The learning-rate multiplier of update t (0-based) out of `steps`, a function t → float.

    - `cosine`: linear warm-up (t+1)/w over w = round(warmup·steps) updates, then a cosine from 1 down
      to `final` at t = steps;
    - `linear`: the same warm-up, then a straight line down to `final`;
    - `constant`: the warm-up, then 1;
    - `onecycle`: `torch.optim.lr_scheduler.OneCycleLR` (cosine annealing, two phases) with
      pct_start = warmup: from 1/div_factor up to 1, then down to 1/(div_factor·final_div_factor).
    """
    if kind not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")
    if steps < 1 or not 0 <= warmup < 1:
        raise ValueError(f"need steps >= 1 and warmup in [0, 1), got steps={steps}, warmup={warmup}")
    if kind == "onecycle":
        start, low = 1.0 / div_factor, 1.0 / (div_factor * final_div_factor)
        up = float(warmup * steps) - 1
        down = float(steps - 1)

        def one_cycle(t: int) -> float:
            if t <= up:
                a, b, pct = start, 1.0, t / up if up > 0 else 1.0
            else:
                a, b, pct = 1.0, low, (t - up) / (down - up) if down > up else 1.0
            return b + (a - b) / 2.0 * (math.cos(math.pi * min(pct, 1.0)) + 1)

        return one_cycle
    w = int(round(warmup * steps))

    def multiplier(t: int) -> float:
        if t < w:
            return (t + 1) / w
        if kind == "constant":
            return 1.0
        p = min(1.0, (t - w) / max(1, steps - w))
        shape = 0.5 * (1 + math.cos(math.pi * p)) if kind == "cosine" else 1 - p
        return final + (1 - final) * shape

    return multiplier


def dataset_batches(data: Batch, batch_size: int, seed: int) -> Callable[[int], Batch]:
    """`sample_batch` over a fixed in-memory dataset, in the order `genutils.many.train_many` draws
    (`many.batch_order` seeded with `seed`), so `train_lm` and `train_many` see the same batches."""
    from .many import batch_order

    order = batch_order(data.X.shape[0], batch_size, torch.Generator().manual_seed(seed))

    def sample(step: int) -> Batch:
        idx = next(order)
        return Batch(data.X[idx], data.mask[idx], data.pos_offset[idx])

    return sample


@dataclass
class TrainLog:
    """Per-step training losses and the rows returned by `record` (each with its `step`)."""

    loss: list[float] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def frame(self):
        """The recorded rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows)


def train_lm(model: nn.Module, sample_batch: Callable[[int], Any], steps: int, lr: float, *,
             weight_decay: float = 0.01, warmup: float = 0.1, schedule: str = "cosine", clip: float | None = 1.0,
             betas: tuple[float, float] = (0.9, 0.98), eps: float = 1e-8,
             loss_fn: Callable[[nn.Module, Any], torch.Tensor] | None = None,
             record: Callable[[nn.Module, int], dict[str, Any]] | None = None, record_at: Sequence[int] = (),
             desc: str = "training") -> TrainLog:
    """Train `model` in place with AdamW for `steps` updates; return the losses and records.

    `sample_batch(step)` gives the batch of that step: by default a `Batch` (X, mask, pos_offset)
    whose loss is the cross-entropy on the masked answer tokens; with `loss_fn(model, batch)` any
    batch and any scalar loss (e.g. a Gaussian NLL on `embeds` inputs). The learning rate is
    `lr · lr_schedule(schedule, steps, warmup)(t)`; gradients are clipped to norm `clip`; weight decay
    is AdamW's decoupled decay on every parameter (as `genutils.many.train_many` applies it).
    `record(model, step)` runs (under no_grad, in eval mode) after `step` updates for each step in
    `record_at` (0 = at initialization).
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    dev = next(model.parameters()).device
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_schedule(schedule, max(steps, 1), warmup))
    log, wanted, losses = TrainLog(), set(record_at), []

    def do_record(t: int) -> None:
        if record is not None and t in wanted:
            was = model.training
            model.eval()
            with torch.no_grad():
                log.rows.append({"step": t, **record(model, t)})
            model.train(was)

    model.train()
    for t in progress(range(steps), desc=desc):
        do_record(t)
        batch = sample_batch(t)
        if loss_fn is None:
            X, mask, off = (b.to(dev) for b in batch)
            loss = lm_loss(model(X, pos_offset=off), lm_targets(X, mask))
        else:
            loss = loss_fn(model, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        losses.append(loss.detach())
    do_record(steps)
    log.loss = torch.stack(losses).float().cpu().tolist() if losses else []
    return log
