# ---
# jupyter:
#   genbook:
#     claim: The generalization gap of large-batch training comes from too few updates,
#       not from the batch size itself; scaling the learning rate by sqrt(B_L/B_S),
#       Ghost Batch Normalization and as many updates as small-batch training close
#       it, and the distance of the weights from initialization grows like the logarithm
#       of the number of updates.
#     paper: Hoffer, Hubara & Soudry 2017, arXiv:1705.08741
#     part: dynamics
#     profiles:
#       gpu:
#         batch_large: 4096
#         batch_small: 64
#         epochs: 40
#         lr: 0.05
#         num_samples: 40000
#         seed: 0
#         seeds: 5
#       smoke:
#         batch_large: 512
#         batch_small: 64
#         epochs: 3
#         lr: 0.05
#         num_samples: 2000
#         seed: 0
#         seeds: 1
#     title: Large batches generalize worse because they take fewer steps
#   jupytext:
#     notebook_metadata_filter: genbook,kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Train longer, generalize better
#
# **Paper.** Elad Hoffer, Itay Hubara and Daniel Soudry, *Train longer, generalize better: closing the
# generalization gap in large batch training of neural networks*, NeurIPS 2017
# ([arXiv:1705.08741](https://arxiv.org/abs/1705.08741)).
#
# **Claim under test.** Training with a large batch $B_L$ for the same number of *epochs* as a small
# batch $B_S$ generalizes worse (the "generalization gap"). The paper argues the gap comes from the
# number of *updates*, not from the batch size: with the learning rate scaled by $\sqrt{B_L/B_S}$,
# Ghost Batch Normalization (batch-norm statistics over virtual batches of size $B_S$) and as many
# updates as small-batch training ("regime adaptation"), large-batch training generalizes as well as
# small-batch training. Along the way the weights' distance from initialization grows only
# logarithmically with the number of updates ("ultra-slow diffusion").
#
# **The paper's evidence.** Tables 1–2: validation accuracy of small-batch (SB), large-batch (LB) and
# adapted large-batch training on MNIST, CIFAR-10, CIFAR-100 and ImageNet, with batch ratios up to 64×;
# for ResNet-44 on CIFAR-10 small batches reach about 93% and large batches about 86%, and the full
# adaptation recovers about 93% (figures as recalled in the study card, not checked against the paper's
# table here). Fig. 2: $\lVert w_t - w_0\rVert$ against the number of iterations is a straight line on
# a logarithmic time axis, for every batch size.
#
# **What is scaled down.** MNIST-1D (6000 signals) instead of images; a small 1-D convolutional network;
# $B_S = 64$, $B_L = 1024$ (ratio 16×); 8 epochs (`cpu`); 2 seeds; a constant learning rate instead of
# the paper's step schedule.

# %%
import math
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from torch import nn

import genutils as gu
from genutils import many
from genutils.models import Positions, Windows

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; run s uses seed + s for its initialization and minibatch order
num_samples = 6000  # MNIST-1D signals generated, 80 percent for training and 20 percent for testing
batch_small = 64  # B_S, the small batch, also the ghost-batch size
batch_large = 1024  # B_L, the large batch, a multiple of B_S
lr = 0.05  # learning rate of small-batch training
epochs = 8  # epochs of the small-batch and the plain large-batch runs
seeds = 2  # independent repetitions (initialization and minibatch order)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    num_samples=gu.Int(min=100),
    batch_small=gu.Int(min=2),
    batch_large=gu.Int(min=4),
    lr=gu.Float(gt=0),
    epochs=gu.Int(min=1),
    seeds=gu.Int(min=1),
)
n_train = int(P.num_samples * 0.8)
if P.batch_large % P.batch_small or P.batch_large <= P.batch_small:
    raise gu.ParameterError("batch_large", f"must be a multiple of batch_small ({P.batch_small}) larger than it, "
                                           f"got {P.batch_large}")
if P.batch_large > n_train:
    raise gu.ParameterError("batch_large", f"must not exceed the {n_train} training signals, got {P.batch_large}")
ratio = P.batch_large // P.batch_small
momentum, weight_decay = 0.9, 5e-4
device = gu.device()
seed_list = [P.seed + s for s in range(P.seeds)]
print(f"batch ratio B_L/B_S = {ratio}; learning rate for large batches with sqrt scaling = {P.lr * math.sqrt(ratio):.3g}")
P

# %% [markdown]
# ## Data
#
# MNIST-1D is generated procedurally by `genutils.mnist1d` (no download): length-40 signals of the ten
# digit templates, shifted, scaled, sheared and noised; 80% for training, 20% for testing.

# %%
x_train, y_train, x_test, y_test = (t.to(device) for t in gu.mnist1d(P.num_samples, seed=42 + P.seed))
print(f"{len(x_train)} training and {len(x_test)} test signals")

# %% [markdown]
# ## The network, with a pluggable (ghost) batch normalization
#
# Three 1-D convolutions (32 channels; kernel 5, then kernel 3 with stride 2 twice), a linear layer
# 320 → 256, batch normalization, ReLU, and a linear read-out to the 10 classes. Each convolution is
# written as *window extraction* followed by `nn.Linear` on the windows (channels last), so the network
# is a plain `nn.Sequential` of linear layers and parameter-free modules and `genutils.many` trains all
# seeds of one condition as batched matrix products.
#
# **Ghost Batch Normalization** (the paper's Algorithm 1). A batch of $B$ activations is split into
# $B/B_{\text{ghost}}$ *ghost batches*; each is normalised with its own mean and variance,
#
# $$\hat h_i = \frac{h_i - \mu_{g(i)}}{\sqrt{\sigma^2_{g(i)} + \epsilon}},\qquad
#   \mu_g = \frac{1}{B_{\text{ghost}}}\sum_{i\in g} h_i,\quad \sigma^2_g = \frac{1}{B_{\text{ghost}}}\sum_{i\in g}(h_i-\mu_g)^2 .$$
#
# With ghost size equal to the batch size this is ordinary batch normalization. A large batch therefore
# keeps the noisier statistics of small batches, which the paper finds part of what small batches do
# well. At test time the layer normalises with fixed statistics: here the mean and variance of the whole
# training set at the final weights (the population statistics that running averages estimate). The
# layer has no learnable scale and shift (the next linear layer can rescale), which keeps the network a
# plain stack for the batched trainer.

# %%
class GhostBatchNorm(nn.Module):
    """Batch norm over ghost batches of `ghost` rows (None: the whole batch) of a (..., B, F) tensor.

    `collect = True` normalises with, and stores, the statistics of the whole batch it is given (pass the
    training set); `frozen` statistics, once stored, are used for every later call (evaluation).
    """

    def __init__(self, ghost: int | None, eps: float = 1e-5):
        super().__init__()
        self.ghost, self.eps = ghost, eps
        self.collect, self.frozen = False, None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.collect:
            self.frozen = (h.mean(-2, keepdim=True), h.var(-2, unbiased=False, keepdim=True))
        if self.frozen is not None:
            mean, var = self.frozen
            return (h - mean) * torch.rsqrt(var + self.eps)
        b, g = h.shape[-2], min(self.ghost or h.shape[-2], h.shape[-2])
        hg = h.reshape(*h.shape[:-2], b // g, g, h.shape[-1])
        mean, var = hg.mean(-2, keepdim=True), hg.var(-2, unbiased=False, keepdim=True)
        return ((hg - mean) * torch.rsqrt(var + self.eps)).reshape(h.shape)


def make_cnn(ghost: int | None):
    def make() -> nn.Sequential:
        w1 = Windows(40, 5, stride=1, pad=2, first=True)
        w2 = Windows(w1.out_length, 3, stride=2, pad=1)
        w3 = Windows(w2.out_length, 3, stride=2, pad=1)
        return nn.Sequential(w1, nn.Linear(5, 32), nn.ReLU(), w2, nn.Linear(96, 32), nn.ReLU(),
                             w3, nn.Linear(96, 32), nn.ReLU(), Positions(w3.out_length),
                             nn.Linear(w3.out_length * 32, 256), GhostBatchNorm(ghost), nn.ReLU(),
                             nn.Linear(256, 10))
    return make


# the windowed convolutions are the same function as torch's conv1d, and ghost BN with one ghost
# batch is torch's batch norm in training mode
_net = make_cnn(None)()
_x = torch.randn(8, 40)
_h = torch.relu(F.conv1d(_x[:, None], _net[1].weight.reshape(32, 1, 5), _net[1].bias, padding=2))
_h = torch.relu(F.conv1d(_h, _net[4].weight.reshape(32, 32, 3), _net[4].bias, stride=2, padding=1))
assert torch.allclose(_net[5](_net[4](_net[3](_net[2](_net[1](_net[0](_x)))))).reshape(8, -1, 32),
                      _h.transpose(1, 2), atol=1e-5)
_f = torch.randn(128, 256)
assert torch.allclose(GhostBatchNorm(None)(_f), F.batch_norm(_f, None, None, training=True), atol=1e-4)
assert torch.allclose(GhostBatchNorm(32)(_f)[32:64], F.batch_norm(_f[32:64], None, None, training=True), atol=1e-4)
print(sum(p.numel() for p in _net.parameters()), "parameters")

# %% [markdown]
# ## The five training regimes
#
# All runs use SGD with momentum 0.9, weight decay $5\cdot10^{-4}$ and the cross-entropy loss; every
# condition starts seed $s$ from the same initialization and draws its minibatches from the same seed.
#
# | condition | batch | learning rate | batch-norm statistics over | updates |
# |---|---|---|---|---|
# | 1. SB | $B_S$ | $\eta$ | the batch ($B_S$) | $E\cdot n/B_S$ |
# | 2. LB | $B_L$ | $\eta$ | the batch ($B_L$) | $E\cdot n/B_L$ |
# | 3. LB+√lr | $B_L$ | $\eta\sqrt{B_L/B_S}$ | the batch ($B_L$) | $E\cdot n/B_L$ |
# | 4. LB+√lr+GBN | $B_L$ | $\eta\sqrt{B_L/B_S}$ | ghost batches of $B_S$ | $E\cdot n/B_L$ |
# | 5. LB+√lr+GBN+RA | $B_L$ | $\eta\sqrt{B_L/B_S}$ | ghost batches of $B_S$ | $E\cdot n/B_S$ (as SB) |
#
# The $\sqrt{B_L/B_S}$ rule keeps the covariance of the weight update, $\eta^2\,\mathrm{Cov}(g)/B$, the
# same as for small batches. During training we record $\lVert w_t - w_0\rVert$, the Euclidean distance
# of all weights from their initialization, on a logarithmic grid of steps; at the end, test and
# training accuracy with the population batch-norm statistics.

# %%
updates_small = P.epochs * (n_train // P.batch_small)
updates_large = P.epochs * (n_train // P.batch_large)
sqrt_lr = P.lr * math.sqrt(ratio)
CONDITIONS = {  # name: (batch, learning rate, ghost size, updates)
    "SB": (P.batch_small, P.lr, None, updates_small),
    "LB": (P.batch_large, P.lr, None, updates_large),
    "LB+√lr": (P.batch_large, sqrt_lr, None, updates_large),
    "LB+√lr+GBN": (P.batch_large, sqrt_lr, P.batch_small, updates_large),
    "LB+√lr+GBN+RA": (P.batch_large, sqrt_lr, P.batch_small, updates_small),
}


def log_grid(steps: int, points: int = 30) -> list[int]:
    return sorted({0, *np.unique(np.round(np.logspace(0, math.log10(steps), points)).astype(int)).tolist()})


def evaluate(models: many.ManyModels) -> dict[str, torch.Tensor]:
    """Training and test accuracy per model, batch norm frozen at the training set's statistics."""
    bn = next(m for m in models.base if isinstance(m, GhostBatchNorm))
    with torch.no_grad():
        bn.collect = True
        train_acc = (models(x_train).argmax(-1) == y_train).float().mean(1)
        bn.collect = False
        test_acc = (models(x_test).argmax(-1) == y_test).float().mean(1)
    bn.frozen = None
    return {"train_acc": train_acc, "test_acc": test_acc}


def train_condition(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train the `seeds` runs of one condition together; return final accuracies and the distance curve."""
    batch, rate, ghost, steps = CONDITIONS[name]
    models = many.stack(make_cnn(ghost), seed_list, device)
    w0 = {k: v.clone() for k, v in models.params.items()}

    def distance(models: many.ManyModels, step: int) -> dict[str, torch.Tensor]:
        sq = sum(((p - w0[k]) ** 2).flatten(1).sum(1) for k, p in models.params.items())
        return {"distance": sq.sqrt()}

    history = many.train_many(models, x_train, y_train, F.cross_entropy, steps=steps, data_seeds=seed_list,
                              batch_size=batch, lr=rate, momentum=momentum, weight_decay=weight_decay,
                              record=distance, record_at=log_grid(steps), desc=name)
    curve = history.frame().assign(condition=name)
    curve["seed"] = curve.pop("model").map(dict(enumerate(seed_list)))
    acc = {k: v.cpu().numpy() for k, v in evaluate(models).items()}
    final = pd.DataFrame({"condition": name, "seed": seed_list, "batch": batch, "lr": rate,
                          "ghost": ghost or batch, "updates": steps, **acc})
    return final, curve


t0 = time.time()
finals, curves = [], []
for name in gu.progress(CONDITIONS, desc="conditions"):
    final, curve = train_condition(name)
    finals.append(final)
    curves.append(curve)
final, curves = pd.concat(finals, ignore_index=True), pd.concat(curves, ignore_index=True)
print(f"trained {len(CONDITIONS)} conditions × {P.seeds} seeds in {time.time() - t0:.1f} s")
final.groupby("condition", sort=False)[["batch", "lr", "ghost", "updates", "train_acc", "test_acc"]].mean().round(3)

# %% [markdown]
# ## Results
#
# **Figure 1.** Test accuracy per condition (bars: mean over seeds; dots: seeds), with small-batch
# training as the dashed reference. Look for the drop from SB to LB at the same number of epochs, and
# for the adapted large-batch run (right-most) climbing back to the dashed line; the middle bars show
# how much each ingredient recovers before the updates are matched.

# %%
order = list(CONDITIONS)
labels = [f"{c}\n{CONDITIONS[c][3]} updates" for c in order]
fig, ax = gu.subplots(width=9, height=4.5)
sns.barplot(data=final, x="condition", y="test_acc", order=order, errorbar=None, color="C0", alpha=0.6, ax=ax)
sns.stripplot(data=final, x="condition", y="test_acc", order=order, color="k", size=6, ax=ax)
a_sb = final[final.condition == "SB"].test_acc.mean()
ax.axhline(a_sb, color="C3", linestyle="--", label=f"SB mean ({a_sb:.3f})")
low = final.test_acc.min()
ax.set_ylim(max(0.0, low - 0.1), min(1.0, final.test_acc.max() + 0.05))
ax.set_xticks(range(len(order)), labels, fontsize="small")
ax.legend(loc="lower right")
gu.label(ax, "training regime", "test accuracy", f"MNIST-1D, B_S = {P.batch_small}, B_L = {P.batch_large}")

# %% [markdown]
# **Figure 2.** Distance of the weights from their initialization against the number of updates, on a
# logarithmic step axis (mean over seeds), for every condition. Dashed lines are least-squares fits
# $\lVert w_t-w_0\rVert = a + b\log t$ over the second half of the logged steps for SB and for the
# adapted large-batch run. Look for straight lines on this axis (logarithmic growth) and for the
# unadapted large-batch runs stopping early, far from where the small-batch run ends. Conditions 4 and 5
# share initialization, data order, learning rate and ghost size, so condition 4 is exactly the first
# updates of condition 5 and its curve lies under it.

# %%
def fit_r2(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line y = a + b x; returns (a, b, R²)."""
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    return float(a), float(b), float(1 - resid.var() / y.var())


def growth_fits(name: str) -> dict[str, float]:
    """Fit the mean distance curve over the second half of the logged steps against log t and against t."""
    mean = curves[(curves.condition == name) & (curves.step >= 1)].groupby("step").distance.mean()
    t, d = mean.index.to_numpy(float)[len(mean) // 2:], mean.to_numpy()[len(mean) // 2:]
    a, b, r2_log = fit_r2(np.log(t), d)
    _, _, r2_lin = fit_r2(t, d)
    return {"a": a, "b": b, "r2_log": r2_log, "r2_lin": r2_lin, "t_from": t[0], "t_to": t[-1]}


fits = {name: growth_fits(name) for name in ("SB", "LB+√lr+GBN+RA")}
fig, ax = gu.subplots(width=8, height=4.8)
sns.lineplot(data=curves[curves.step >= 1], x="step", y="distance", hue="condition", hue_order=order,
             errorbar=None, marker="o", markersize=3, ax=ax)
for name, f in fits.items():
    t = np.geomspace(f["t_from"], f["t_to"], 50)
    colour = sns.color_palette()[order.index(name)]
    ax.plot(t, f["a"] + f["b"] * np.log(t), color=colour, linestyle="--", linewidth=2.5, alpha=0.7)
ax.set(xscale="log")
gu.label(ax, "number of updates t (log scale)", "distance from initialization ‖w_t − w_0‖",
         "Ultra-slow diffusion: distance grows like log t")
pd.DataFrame(fits).T.round(4)

# %% [markdown]
# ## Verdict
#
# The rule was fixed before running (study card 12), on means over seeds of the test accuracy $A_k$ of
# condition $k$:
#
# - **gap**: $\text{gap} = A_{SB} - A_{LB} \ge 0.05$, else the question does not arise at this scale;
# - **closed**: the residual gap of the adapted run, $(A_{SB} - A_5)/\text{gap}$, is $\le 0.25$;
# - **logarithmic growth**: for SB and for condition 5, a fit of $\lVert w_t-w_0\rVert$ against $\log t$ over
#   the second half of the logged steps has $R^2 \ge 0.9$ and a higher $R^2$ than a fit against $t$;
# - `supported` when all three hold; `contradicted` when the gap exists and condition 5 recovers less than
#   half of it (residual gap $> 0.5$); `inconclusive` otherwise.
#
# Conditions 3 and 4 are reported as the path of the closing; they do not enter the rule.

# %%
acc = final.groupby("condition").test_acc.mean()
gap = acc["SB"] - acc["LB"]


def residual(name: str) -> float:
    """(A_SB − A_k) / gap: 1 means nothing recovered, 0 the gap fully closed (NaN without a gap)."""
    return float((acc["SB"] - acc[name]) / gap) if gap > 0 else float("nan")


diff = final.pivot(index="seed", columns="condition", values="test_acc")
ci_lo, ci_hi = gu.bootstrap_ci((diff["SB"] - diff["LB+√lr+GBN+RA"]).to_numpy())
statistics = {
    "acc_SB": acc["SB"],
    "acc_LB": acc["LB"],
    "acc_LB_sqrt_lr": acc["LB+√lr"],
    "acc_LB_sqrt_lr_GBN": acc["LB+√lr+GBN"],
    "acc_LB_adapted": acc["LB+√lr+GBN+RA"],
    "gap": gap,
    "residual_gap_sqrt_lr": residual("LB+√lr"),
    "residual_gap_GBN": residual("LB+√lr+GBN"),
    "residual_gap_adapted": residual("LB+√lr+GBN+RA"),
    "sb_minus_adapted_ci_lo": ci_lo,
    "sb_minus_adapted_ci_hi": ci_hi,
    "r2_log_SB": fits["SB"]["r2_log"],
    "r2_lin_SB": fits["SB"]["r2_lin"],
    "r2_log_adapted": fits["LB+√lr+GBN+RA"]["r2_log"],
    "r2_lin_adapted": fits["LB+√lr+GBN+RA"]["r2_lin"],
    "r2_log_min": min(f["r2_log"] for f in fits.values()),
    "log_minus_lin_min": min(f["r2_log"] - f["r2_lin"] for f in fits.values()),
    "train_acc_adapted": final[final.condition == "LB+√lr+GBN+RA"].train_acc.mean(),
    "peak_step_adapted": float(curves[curves.condition == "LB+√lr+GBN+RA"].groupby("step").distance.mean().idxmax()),
}
gap_exists = gu.cond("gap", ">=", 0.05)
RULE = gu.rule(
    supported=gu.all_of(gap_exists, gu.cond("residual_gap_adapted", "<=", 0.25),
                        gu.cond("r2_log_min", ">=", 0.9), gu.cond("log_minus_lin_min", ">", 0.0)),
    contradicted=gu.all_of(gap_exists, gu.cond("residual_gap_adapted", ">", 0.5)),
)
print(pd.Series(statistics).round(4).to_string())
record = gu.report_verdict(
    chapter="train_longer", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["gap", "residual_gap_adapted", "r2_log_min", "log_minus_lin_min"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - **Scale.** The paper trains ResNets and wide networks on CIFAR and ImageNet with batch ratios up to
#   64×; here a 1-D CNN on MNIST-1D with a ratio of 16× (`cpu`) and 64× (`gpu`), 2 seeds on `cpu`.
# - **Epochs.** The study card planned 15 epochs on `cpu`; the adapted run costs $B_L/B_S = 16$ times the
#   compute of small-batch training, and on this shared two-core machine 15 epochs took the chapter far
#   over its time budget, so `cpu` uses 8 epochs (600 small-batch updates; the plain large-batch runs get
#   32). This was set from timings before any run of the chapter, not from its results. The `gpu` profile
#   keeps the card's 40 epochs.
# - **Learning-rate schedule.** The paper decays the learning rate in steps and, for regime adaptation,
#   stretches the schedule by $B_L/B_S$; here the rate is constant, so "regime adaptation" is simply
#   training for as many updates as the small-batch run.
# - **Ghost batch norm.** The layer has no learnable scale and shift (so the network stays a plain stack
#   of linear layers for the batched trainer), and at test time it uses the exact training-set statistics
#   at the final weights instead of running averages. Both apply to every condition alike.
# - **Weight decay and a constant rate.** With weight decay, once a run fits its training set the decay
#   term can pull the weights back towards the origin, so the distance from initialization can stop
#   growing or shrink (`peak_step_adapted` reports where the adapted run's mean distance peaks). The
#   paper's logarithmic law describes the initial high-learning-rate phase, before its schedule drops the
#   rate; a run that converges within that phase, as a small problem like this one may, leaves the regime
#   the law describes. The rule still tests the law on the run as trained.
# - **Distance from initialization** is measured over all weights and biases, and the logarithmic law is
#   tested on the second half of a logarithmic step grid, where the paper's Fig. 2 is straight; early
#   steps, where the distance grows faster than $\log t$, are not part of the claim.
# - **Not reproduced:** the paper's random-walk-on-a-random-landscape model, its ImageNet results, and its
#   comparison with learning-rate warm-up; nothing here speaks to whether the gap closes at ImageNet scale.
