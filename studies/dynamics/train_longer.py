# ---
# jupyter:
#   genbook:
#     claim: Large-batch training generalizes worse than small-batch training for the
#       same number of epochs because it takes fewer updates, not because of the batch
#       size; trained to the same training loss, a large batch that is given as many
#       updates as the small batch (regime adaptation) closes the gap, and the weights'
#       distance from initialization grows like log t rather than like a power of t.
#     'null':
#       regime_adaptation: false
#     null_reason: The paper names too few updates as the cause of the gap and regime
#       adaptation (as many updates as the small batch) as what removes it; switching
#       regime adaptation off gives every large-batch arm the small batch's epochs but
#       only 1/r of its updates, so no arm may close the gap and the verdict must not
#       be supported.
#     paper: Hoffer, Hubara & Soudry 2017, arXiv:1705.08741
#     part: dynamics
#     profiles:
#       gpu:
#         batch_large: 2048
#         batch_small: 64
#         epochs: 30
#         lr: 0.05
#         num_samples: 40000
#         seed: 0
#         seeds: 8
#       smoke:
#         batch_large: 128
#         batch_small: 32
#         epochs: 3
#         lr: 0.05
#         num_samples: 2000
#         seed: 0
#         seeds: 2
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

# %%

# %% [markdown]
# # Train longer, generalize better
#
# **Paper.** Elad Hoffer, Itay Hubara and Daniel Soudry, *Train longer, generalize better: closing the
# generalization gap in large batch training of neural networks*, NeurIPS 2017
# ([arXiv:1705.08741](https://arxiv.org/abs/1705.08741)).
#
# **Claim under test.** Training with a large batch $B_L$ for the same number of *epochs* as a small
# batch $B_S$ generalizes worse (the "generalization gap"). The paper argues that the gap comes from the
# number of *updates*, not from the batch size: a large batch trained for as many updates as the small
# batch ("regime adaptation", RA) generalizes as well, and the paper adds two helpers, a learning rate
# scaled by $\sqrt{B_L/B_S}$ and Ghost Batch Normalization (batch-norm statistics over virtual batches of
# size $B_S$). Its evidence for the mechanism is that the weights' distance from initialization grows
# only logarithmically with the number of updates ("ultra-slow diffusion"), where a random walk would
# grow like $\sqrt t$: fewer updates then leave the large-batch weights much closer to where they started.
#
# **The paper's evidence.** In the abstract: "the weight distance from its initialization grows
# logarithmically with the number of weight updates", and the "generalization gap" "stems from the
# relatively small number of updates rather than the batch size, and can be completely eliminated by
# adapting the training regime used"; Ghost Batch Normalization "enables significant decrease in the
# generalization gap without increasing the number of updates"; experiments on MNIST, CIFAR-10,
# CIFAR-100 and ImageNet (Tables 1–2; Fig. 2 plots $\lVert w_t-w_0\rVert$ against iterations on a
# logarithmic axis). The tables' per-network accuracies could not be checked here (see the
# faithfulness notes), so none is quoted.
#
# **What this chapter asks, and what the earlier version did not.** A "gap" between a large-batch run
# that has *not fitted* its training set and a small-batch run that has is an optimisation gap, and more
# updates close it trivially. Here a gap counts only when the plain large-batch run reaches a training
# loss comparable to the small-batch run's; and the decisive arm is the thesis itself, **the large batch
# with the small batch's number of updates and nothing else** (same learning rate, ordinary batch norm).
# The logarithmic law is tested against power laws $t^\lambda$ (the random walk's $\lambda = \tfrac12$
# included), not against a straight line in $t$.
#
# **What is scaled down.** MNIST-1D (6000 signals) instead of images; a small 1-D convolutional network;
# $B_S = 32$, $B_L = 256$ (ratio $r = 8$) on `cpu`, $64$ and $2048$ ($r = 32$) on `gpu`; 12 epochs, so
# that the plain large-batch run still fits its training set; 4 seeds; a constant learning rate instead of
# the paper's step schedule.
#
# **Falsification run.** Regime adaptation switched off (`regime_adaptation = False`): the arms that
# should close the gap get the small batch's epochs only, i.e. $1/r$ of its updates. The paper's cure is
# then absent, so the verdict must not be `supported`.

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
batch_small = 32  # B_S, the small batch, also the ghost-batch size
batch_large = 256  # B_L, the large batch, a multiple of B_S
lr = 0.05  # learning rate of small-batch training and of the plain large-batch arms
epochs = 12  # epochs of the small-batch run and of the large-batch arms without regime adaptation
seeds = 4  # independent repetitions (initialization and minibatch order), paired across arms
regime_adaptation = True  # give the RA arms the small batch's number of updates (False, the falsification run)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    num_samples=gu.Int(min=100),
    batch_small=gu.Int(min=2),
    batch_large=gu.Int(min=4),
    lr=gu.Float(gt=0),
    epochs=gu.Int(min=1),
    seeds=gu.Int(min=2),
    regime_adaptation=gu.Bool(),
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
print(f"batch ratio r = B_L/B_S = {ratio}; learning rate with sqrt scaling = {P.lr * math.sqrt(ratio):.3g}")
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
# seeds (and here two arms) as batched matrix products.
#
# **Ghost Batch Normalization** (the paper's Algorithm 1). A batch of $B$ activations is split into
# $B/B_{\text{ghost}}$ *ghost batches*; each is normalised with its own mean and variance,
#
# $$\hat h_i = \frac{h_i - \mu_{g(i)}}{\sqrt{\sigma^2_{g(i)} + \epsilon}},\qquad
#   \mu_g = \frac{1}{B_{\text{ghost}}}\sum_{i\in g} h_i,\quad \sigma^2_g = \frac{1}{B_{\text{ghost}}}\sum_{i\in g}(h_i-\mu_g)^2 .$$
#
# With ghost size equal to the batch size this is ordinary batch normalization. The layer below takes
# one ghost size per stacked model, so an arm with ghost batches and one without train in the same
# batched call. At test time the layer normalises with fixed statistics: the mean and variance of the
# whole training set at the final weights (the population statistics that running averages estimate).
# The layer has no learnable scale and shift (the next linear layer can rescale), which keeps the network
# a plain stack for the batched trainer.

# %%
class GhostBatchNorm(nn.Module):
    """Batch norm over ghost batches of a (K, B, F) tensor of K stacked models (or a (B, F) tensor).

    `ghost` is None (the whole batch), one ghost size, or a list with one entry per stacked model.
    `collect = True` normalises with, and stores, the statistics of the whole batch it is given (pass the
    training set); `frozen` statistics, once stored, are used for every later call (evaluation).
    """

    def __init__(self, ghost: int | None | list = None, eps: float = 1e-5):
        super().__init__()
        self.ghost, self.eps = ghost, eps
        self.collect, self.frozen = False, None

    def _normalise(self, h: torch.Tensor, ghost: int | None) -> torch.Tensor:
        b, g = h.shape[-2], min(ghost or h.shape[-2], h.shape[-2])
        hg = h.reshape(*h.shape[:-2], b // g, g, h.shape[-1])
        mean, var = hg.mean(-2, keepdim=True), hg.var(-2, unbiased=False, keepdim=True)
        return ((hg - mean) * torch.rsqrt(var + self.eps)).reshape(h.shape)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.collect:
            self.frozen = (h.mean(-2, keepdim=True), h.var(-2, unbiased=False, keepdim=True))
        if self.frozen is not None:
            mean, var = self.frozen
            return (h - mean) * torch.rsqrt(var + self.eps)
        if not isinstance(self.ghost, list):
            return self._normalise(h, self.ghost)
        if h.ndim != 3 or h.shape[0] != len(self.ghost):
            raise ValueError(f"one ghost size per model: {len(self.ghost)} sizes for input {tuple(h.shape)}")
        normalised = {g: self._normalise(h, g) for g in set(self.ghost)}
        return torch.stack([normalised[g][k] for k, g in enumerate(self.ghost)])


def make_cnn() -> nn.Sequential:
    w1 = Windows(40, 5, stride=1, pad=2, first=True)
    w2 = Windows(w1.out_length, 3, stride=2, pad=1)
    w3 = Windows(w2.out_length, 3, stride=2, pad=1)
    return nn.Sequential(w1, nn.Linear(5, 32), nn.ReLU(), w2, nn.Linear(96, 32), nn.ReLU(),
                         w3, nn.Linear(96, 32), nn.ReLU(), Positions(w3.out_length),
                         nn.Linear(w3.out_length * 32, 256), GhostBatchNorm(), nn.ReLU(),
                         nn.Linear(256, 10))


def batch_norm_of(models: many.ManyModels) -> GhostBatchNorm:
    return next(m for m in models.base if isinstance(m, GhostBatchNorm))


# the windowed convolutions are the same function as torch's conv1d; ghost BN with one ghost batch is
# torch's batch norm in training mode, and with one ghost size per model it normalises each model alone
_net = make_cnn()
_x = torch.randn(8, 40)
_h = torch.relu(F.conv1d(_x[:, None], _net[1].weight.reshape(32, 1, 5), _net[1].bias, padding=2))
_h = torch.relu(F.conv1d(_h, _net[4].weight.reshape(32, 32, 3), _net[4].bias, stride=2, padding=1))
assert torch.allclose(_net[5](_net[4](_net[3](_net[2](_net[1](_net[0](_x)))))).reshape(8, -1, 32),
                      _h.transpose(1, 2), atol=1e-5)
_f = torch.randn(128, 256)
assert torch.allclose(GhostBatchNorm(None)(_f), F.batch_norm(_f, None, None, training=True), atol=1e-4)
assert torch.allclose(GhostBatchNorm(32)(_f)[32:64], F.batch_norm(_f[32:64], None, None, training=True), atol=1e-4)
_fk = torch.randn(2, 128, 256)
_mixed = GhostBatchNorm([None, 32])(_fk)
assert torch.allclose(_mixed[0], GhostBatchNorm(None)(_fk[0]), atol=1e-5)
assert torch.allclose(_mixed[1], GhostBatchNorm(32)(_fk[1]), atol=1e-5)
print(sum(p.numel() for p in _net.parameters()), "parameters")

# %% [markdown]
# ## The training regimes
#
# All runs use SGD with momentum 0.9, weight decay $5\cdot10^{-4}$, a constant learning rate and the
# cross-entropy loss; every arm starts seed $s$ from the same initialization and draws its minibatches
# from the same seed, so the arms are paired by seed. With $E$ epochs and $n$ training signals:
#
# | arm | batch | learning rate | batch-norm statistics over | updates |
# |---|---|---|---|---|
# | SB | $B_S$ | $\eta$ | the batch ($B_S$) | $U_S = E\,n/B_S$ |
# | LB | $B_L$ | $\eta$ | the batch ($B_L$) | $U_L = E\,n/B_L = U_S/r$ |
# | LB+√lr | $B_L$ | $\eta\sqrt r$ | the batch ($B_L$) | $U_L$ |
# | LB+√lr+GBN | $B_L$ | $\eta\sqrt r$ | ghost batches of $B_S$ | $U_L$ |
# | **LB+RA** (the thesis) | $B_L$ | $\eta$ | the batch ($B_L$) | $U_S$ |
# | LB+√lr+GBN+RA (the paper's recipe) | $B_L$ | $\eta\sqrt r$ | ghost batches of $B_S$ | $U_S$ |
#
# LB+RA differs from LB *only* in its number of updates, so it isolates the paper's thesis. LB is exactly
# the first $U_L$ updates of LB+RA (same initialization, data order, learning rate and normalization),
# and LB+√lr+GBN the first $U_L$ updates of the recipe, so both are read off as checkpoints of the longer
# runs, and the two RA arms train together in one batched call. Without regime adaptation (the
# falsification run) the RA arms stop after $U_L$ updates and coincide with LB and LB+√lr+GBN.
#
# During training we record $\lVert w_t - w_0\rVert$, the Euclidean distance of all weights from their
# initialization, on a logarithmic grid of steps; at each checkpoint, training loss, training accuracy
# and test accuracy with the population batch-norm statistics.

# %%
per_epoch_small, per_epoch_large = n_train // P.batch_small, n_train // P.batch_large
updates_small, updates_large = P.epochs * per_epoch_small, P.epochs * per_epoch_large
updates_ra = updates_small if P.regime_adaptation else updates_large
sqrt_lr = P.lr * math.sqrt(ratio)
CONDITIONS = {  # name: (batch, learning rate, ghost size, updates)
    "SB": (P.batch_small, P.lr, None, updates_small),
    "LB": (P.batch_large, P.lr, None, updates_large),
    "LB+√lr": (P.batch_large, sqrt_lr, None, updates_large),
    "LB+√lr+GBN": (P.batch_large, sqrt_lr, P.batch_small, updates_large),
    "LB+RA": (P.batch_large, P.lr, None, updates_ra),
    "LB+√lr+GBN+RA": (P.batch_large, sqrt_lr, P.batch_small, updates_ra),
}
print(pd.DataFrame(CONDITIONS, index=["batch", "lr", "ghost", "updates"]).T)


def log_grid(steps: int, points: int = 40) -> list[int]:
    return sorted({0, *np.unique(np.round(np.logspace(0, math.log10(steps), points)).astype(int)).tolist()})


def evaluate(models: many.ManyModels) -> dict[str, np.ndarray]:
    """Training loss and accuracy and test accuracy per model, batch norm frozen at the training set's statistics."""
    bn = batch_norm_of(models)
    with torch.no_grad():
        bn.collect = True
        out = models(x_train)
        bn.collect = False
        test_out = models(x_test)
    bn.frozen = None
    train_loss = F.cross_entropy(out.flatten(0, 1), y_train.repeat(out.shape[0]), reduction="none")
    return {"train_loss": train_loss.view(out.shape[0], -1).mean(1).cpu().numpy(),
            "train_acc": (out.argmax(-1) == y_train).float().mean(1).cpu().numpy(),
            "test_acc": (test_out.argmax(-1) == y_test).float().mean(1).cpu().numpy()}


def train_arms(arms: dict[str, str], batch: int, rates: list[float], ghosts: list, steps: int,
               checkpoints: list[tuple[int, dict[str, str]]]) -> tuple[list[dict], pd.DataFrame]:
    """Train `len(arms)` arms × `seeds` models in one call; evaluate each at its checkpoints.

    `arms` maps a group name to the arm that group is at the end; a checkpoint (t, named) says that after
    t updates group g is the arm named[g]. Model g·S + s is group g, seed s.
    """
    groups = list(arms)
    models = many.stack(make_cnn, seed_list * len(groups), device)
    batch_norm_of(models).ghost = [g for g in ghosts for _ in seed_list]
    w0 = {k: v.clone() for k, v in models.params.items()}
    rows = []

    def record(models: many.ManyModels, step: int) -> dict[str, torch.Tensor]:
        due = [named for t, named in checkpoints if t == step]
        acc = evaluate(models) if due else {}
        for named in due:
            for gi, group in enumerate(groups):
                if group in named:
                    rows.extend({"condition": named[group], "seed": s,
                                 **{k: float(v[gi * P.seeds + i]) for k, v in acc.items()}}
                                for i, s in enumerate(seed_list))
        sq = sum(((p - w0[k]) ** 2).flatten(1).sum(1) for k, p in models.params.items())
        return {"distance": sq.sqrt()}

    history = many.train_many(models, x_train, y_train, F.cross_entropy, steps=steps,
                              data_seeds=seed_list * len(groups), batch_size=batch,
                              lr=[r for r in rates for _ in seed_list], momentum=momentum, weight_decay=weight_decay,
                              record=record, record_at=sorted(set(log_grid(steps)) | {t for t, _ in checkpoints}),
                              desc="+".join(arms.values()))
    curve = history.frame()
    curve["condition"] = curve.model.map(lambda m: arms[groups[m // P.seeds]])
    curve["seed"] = curve.pop("model").map(lambda m: seed_list[m % P.seeds])
    return rows, curve


t0 = time.time()
finals, curves = [], []
runs = [  # (arms, batch, learning rates, ghost sizes, steps, checkpoints)
    ({"sb": "SB"}, P.batch_small, [P.lr], [None], updates_small, [(updates_small, {"sb": "SB"})]),
    ({"plain": "LB+RA", "recipe": "LB+√lr+GBN+RA"}, P.batch_large, [P.lr, sqrt_lr], [None, P.batch_small],
     updates_ra, [(updates_large, {"plain": "LB", "recipe": "LB+√lr+GBN"}),
                  (updates_ra, {"plain": "LB+RA", "recipe": "LB+√lr+GBN+RA"})]),
    ({"sqrt": "LB+√lr"}, P.batch_large, [sqrt_lr], [None], updates_large, [(updates_large, {"sqrt": "LB+√lr"})]),
]
for arms, batch, rates, ghosts, steps, checkpoints in gu.progress(runs, desc="runs"):
    rows, curve = train_arms(arms, batch, rates, ghosts, steps, checkpoints)
    finals += rows
    curves.append(curve)
final, curves = pd.DataFrame(finals), pd.concat(curves, ignore_index=True)
final["updates"] = final.condition.map(lambda c: CONDITIONS[c][3])
print(f"trained {len(CONDITIONS)} arms × {P.seeds} seeds in {time.time() - t0:.1f} s")
order = list(CONDITIONS)
final.groupby("condition")[["updates", "train_loss", "train_acc", "test_acc"]].mean().loc[order].round(4)

# %% [markdown]
# ## Results
#
# **Figure 1.** Left: test accuracy per arm (bars: mean over seeds; dots: seeds), with small-batch training
# as the dashed reference. Right: training loss at the end of each arm (log scale). Look first at the
# right panel: the LB bar must be about as low as SB's for the LB−SB difference on the left to be a
# *generalization* gap; then at LB+RA, which differs from LB only in its number of updates.

# %%
labels = [f"{c}\n{CONDITIONS[c][3]} upd." for c in order]
fig, (ax, ax2) = gu.subplots(2, width=6.5, height=4.8)
sns.barplot(data=final, x="condition", y="test_acc", order=order, errorbar=None, color="C0", alpha=0.6, ax=ax)
sns.stripplot(data=final, x="condition", y="test_acc", order=order, color="k", size=5, ax=ax)
a_sb = final[final.condition == "SB"].test_acc.mean()
ax.axhline(a_sb, color="C3", linestyle="--", label=f"SB mean ({a_sb:.3f})")
ax.set_ylim(max(0.0, final.test_acc.min() - 0.05), min(1.0, final.test_acc.max() + 0.02))
ax.set_xticks(range(len(order)), labels, fontsize="x-small", rotation=30)
ax.legend(loc="lower right")
gu.label(ax, "arm", "test accuracy", f"MNIST-1D, B_S = {P.batch_small}, B_L = {P.batch_large}")
sns.barplot(data=final, x="condition", y="train_loss", order=order, errorbar=None, color="C2", alpha=0.6, ax=ax2)
sns.stripplot(data=final, x="condition", y="train_loss", order=order, color="k", size=5, ax=ax2)
ax2.set(yscale="log")
ax2.set_xticks(range(len(order)), labels, fontsize="x-small", rotation=30)
gu.label(ax2, "arm", "training loss (cross-entropy)", "Did each arm fit its training set?")

# %% [markdown]
# ## Is the growth of $\lVert w_t - w_0\rVert$ logarithmic, or a power law?
#
# A straight line in $t$ is a weak competitor: any concave curve beats it. The paper's contrast is a
# random walk, whose distance grows like $\sqrt t$. We therefore fit the one-parameter family that
# contains both laws (the Box–Cox curves)
#
# $$\lVert w_t - w_0\rVert \approx a + b\,\frac{t^\lambda - 1}{\lambda},$$
#
# which is $a + b\log t$ at $\lambda = 0$, a power law $t^\lambda$ (shifted) for $\lambda > 0$, with the
# random walk at $\lambda = \tfrac12$, and a curve that levels off for $\lambda < 0$. The exponent
# $\hat\lambda$ is chosen by least squares over a grid in $[-2, 2]$ (for each $\lambda$, $a$ and $b$ by
# linear least squares), on the second half of the logarithmic step grid, separately for each seed. The
# logarithmic law predicts $\hat\lambda \approx 0$; a curve like $t^{0.3}$ gives $0.3$ and a saturating one
# a clearly negative value, so neither passes for a logarithm.

# %%
LAMBDAS = np.round(np.linspace(-2, 2, 401), 4)


def boxcox_x(t: np.ndarray, lam: float) -> np.ndarray:
    return np.log(t) if lam == 0 else (t ** lam - 1) / lam


def fit_rss(t: np.ndarray, d: np.ndarray, lam: float) -> tuple[float, float, float]:
    """Least-squares d ≈ a + b·x_λ(t): returns (a, b, residual sum of squares)."""
    x = boxcox_x(t, lam)
    A = np.stack([np.ones_like(x), x], 1)
    (a, b), *_ = np.linalg.lstsq(A, d, rcond=None)
    return float(a), float(b), float(((d - A @ np.array([a, b])) ** 2).sum())


def boxcox_fit(t: np.ndarray, d: np.ndarray) -> dict[str, float]:
    """Best exponent λ̂ on the grid, and R² of the logarithmic (λ = 0) and random-walk (λ = 1/2) fits."""
    rss = np.array([fit_rss(t, d, lam)[2] for lam in LAMBDAS])
    tss = ((d - d.mean()) ** 2).sum()
    return {"lambda": float(LAMBDAS[rss.argmin()]), "r2_log": 1 - fit_rss(t, d, 0.0)[2] / tss,
            "r2_sqrt": 1 - fit_rss(t, d, 0.5)[2] / tss}


def fit_window(name: str) -> np.ndarray:
    steps = np.array(sorted(curves[(curves.condition == name) & (curves.step >= 1)].step.unique()), float)
    return steps[len(steps) // 2:]


# the fitter recovers the exponent of exact curves on the chapter's own fit window (an instrument check)
_t = fit_window("SB")
fitter_error = max(abs(boxcox_fit(_t, f(_t))["lambda"] - lam) for f, lam in
                   [(np.log, 0.0), (lambda t: t ** 0.3, 0.3), (np.sqrt, 0.5), (lambda t: 3 + 2 * t ** -0.5, -0.5)])
_sat = boxcox_fit(_t, 1 - np.exp(-_t / 100))["lambda"]
print(f"fitter: max exponent error on exact curves {fitter_error:.3f}; a saturating 1 - exp(-t/100) gives λ̂ = {_sat:.2f}")

growth = []
for name in ("SB", "LB+RA", "LB+√lr+GBN+RA"):
    window = fit_window(name)
    for s in seed_list:
        c = curves[(curves.condition == name) & (curves.seed == s)].set_index("step").distance
        growth.append({"condition": name, "seed": s, "t_from": window[0], "t_to": window[-1],
                       "points": len(window), **boxcox_fit(window, c.loc[window].to_numpy())})
growth = pd.DataFrame(growth)
growth.groupby("condition")[["lambda", "r2_log", "r2_sqrt", "t_from", "t_to", "points"]].agg(["mean", "std"]).round(3)

# %% [markdown]
# **Figure 2.** Distance of the weights from their initialization against the number of updates (mean over
# seeds), left with a logarithmic step axis (a logarithmic law is a straight line here), right on log–log
# axes (a power law is a straight line there). Dashed: the fit $a + b\log t$ for SB and LB+RA over the
# fitted window (shaded); dotted: the best random-walk fit $a + b\sqrt t$. The grey dash-dotted line marks
# $U_L$, where the unadapted arms stop (LB and LB+√lr+GBN are the first $U_L$ updates of the two RA
# curves). Look for which axes make the small-batch and regime-adapted curves straight, and for how far
# below the small-batch run's end the unadapted arms stop.

# %%
mean_curves = curves[curves.step >= 1].groupby(["condition", "step"]).distance.mean().reset_index()
present = [c for c in order if c in set(mean_curves.condition)]
palette = dict(zip(order, sns.color_palette(n_colors=len(order))))
fig, axes = gu.subplots(2, width=6.5, height=4.8)
for ax, loglog in zip(axes, (False, True)):
    sns.lineplot(data=mean_curves, x="step", y="distance", hue="condition", hue_order=present, palette=palette,
                 marker="o", markersize=3, ax=ax)
    for name in ("SB", "LB+RA"):
        window = fit_window(name)
        d = mean_curves[mean_curves.condition == name].set_index("step").distance.loc[window].to_numpy()
        tt = np.geomspace(window[0], window[-1], 60)
        a, b, _ = fit_rss(window, d, 0.0)
        ax.plot(tt, a + b * np.log(tt), color=palette[name], linestyle="--", linewidth=2.2, alpha=0.8)
        a, b, _ = fit_rss(window, d, 0.5)
        ax.plot(tt, a + b * (tt ** 0.5 - 1) / 0.5, color=palette[name], linestyle=":", linewidth=2.2, alpha=0.8)
    ax.axvspan(*fit_window("SB")[[0, -1]], color="0.9", zorder=0)
    ax.axvline(updates_large, color="0.5", linewidth=1, linestyle="-.")
    ax.set(xscale="log", yscale="log" if loglog else "linear")
    gu.label(ax, "number of updates t (log scale)", "distance from initialization ‖w_t − w_0‖",
             "log–log axes: power laws are straight" if loglog else "log-t axis: log law is straight")

# %% [markdown]
# ## Verdict
#
# The rule was written and committed before the first `cpu` run of this version. All accuracy
# differences are paired by seed (every arm of seed $s$ shares its initialization and data order);
# intervals are 95% Student-$t$ intervals over the seeds.
#
# - **A generalization gap counts** when the gap $A_{SB} - A_{LB}$ (mean test accuracy) is at least
#   0.01, its interval lies above 0, *and* the plain large-batch run has fitted its training set about as
#   well as the small-batch run: training loss of LB at most 0.02 nats above SB's (`fit_excess_LB`).
# - **Regime adaptation closes it** when the residual gap of the thesis arm,
#   $(A_{SB} - A_{LB+RA})/\text{gap}$, is at most 0.25 *and* LB+RA is better than LB (interval of
#   $A_{LB+RA} - A_{LB}$ above 0). **It fails to close it** when the residual gap is at least 0.5 and
#   LB+RA is still worse than SB (interval of $A_{SB} - A_{LB+RA}$ above 0).
# - **The logarithmic law holds** when, for SB and for LB+RA, the interval of the fitted exponent
#   $\hat\lambda$ lies inside $[-0.2, 0.2]$ (`lambda_band_excess` ≤ 0.2). **It fails** when for either arm
#   the interval lies wholly outside that band: a power law ($\hat\lambda > 0.2$) or a curve that levels
#   off ($\hat\lambda < -0.2$) (`lambda_outside` > 0).
# - `supported`: a gap counts, regime adaptation closes it, and the law holds. `contradicted`: a gap
#   counts and regime adaptation fails to close it, or the law fails. Otherwise `inconclusive` (in
#   particular when no generalization gap survives once the large batch fits its training set).
# - **Instrument checks** (failing makes the verdict inconclusive, passing decides nothing): the exponent
#   fitter recovers $\lambda$ of exact curves on the fit window to within 0.02, and the fit window has at
#   least 8 steps.
#
# The √lr, GBN and full-recipe arms are reported as the path of the closing; they do not enter the rule.

# %%
acc = final.pivot(index="seed", columns="condition", values="test_acc")
loss = final.pivot(index="seed", columns="condition", values="train_loss")
gap_per_seed = acc["SB"] - acc["LB"]
gap = float(gap_per_seed.mean())
gap_lo, gap_hi = gu.t_interval(gap_per_seed.to_numpy())
ra_gain_lo, ra_gain_hi = gu.t_interval((acc["LB+RA"] - acc["LB"]).to_numpy())
sb_ra_lo, sb_ra_hi = gu.t_interval((acc["SB"] - acc["LB+RA"]).to_numpy())


def residual(name: str) -> float:
    """(A_SB − A_k) / gap: 1 means nothing recovered, 0 the gap fully closed (NaN without a gap)."""
    return float((acc["SB"] - acc[name]).mean() / gap) if gap > 0 else float("nan")


lam_ci = {name: gu.t_interval(growth[growth.condition == name]["lambda"].to_numpy()) for name in ("SB", "LB+RA")}
statistics = {
    **{f"acc_{k}": float(acc[c].mean()) for k, c in
       [("SB", "SB"), ("LB", "LB"), ("LB_sqrt_lr", "LB+√lr"), ("LB_sqrt_lr_GBN", "LB+√lr+GBN"),
        ("LB_RA", "LB+RA"), ("LB_recipe_RA", "LB+√lr+GBN+RA")]},
    **{f"train_loss_{k}": float(loss[c].mean()) for k, c in [("SB", "SB"), ("LB", "LB"), ("LB_RA", "LB+RA")]},
    "fit_excess_LB": float((loss["LB"] - loss["SB"]).mean()),
    "gap": gap, "gap_ci_lo": gap_lo, "gap_ci_hi": gap_hi,
    "residual_RA": residual("LB+RA"),
    "ra_gain_ci_lo": ra_gain_lo, "ra_gain_ci_hi": ra_gain_hi,
    "sb_minus_ra_ci_lo": sb_ra_lo, "sb_minus_ra_ci_hi": sb_ra_hi,
    "residual_sqrt_lr": residual("LB+√lr"),
    "residual_GBN": residual("LB+√lr+GBN"),
    "residual_recipe_RA": residual("LB+√lr+GBN+RA"),
    "lambda_SB": float(growth[growth.condition == "SB"]["lambda"].mean()),
    "lambda_SB_ci_lo": lam_ci["SB"][0], "lambda_SB_ci_hi": lam_ci["SB"][1],
    "lambda_RA": float(growth[growth.condition == "LB+RA"]["lambda"].mean()),
    "lambda_RA_ci_lo": lam_ci["LB+RA"][0], "lambda_RA_ci_hi": lam_ci["LB+RA"][1],
    "lambda_recipe_RA": float(growth[growth.condition == "LB+√lr+GBN+RA"]["lambda"].mean()),
    "lambda_band_excess": max(max(abs(lo), abs(hi)) for lo, hi in lam_ci.values()),
    "lambda_outside": max(max(lo - 0.2, -0.2 - hi) for lo, hi in lam_ci.values()),
    "r2_log_SB": float(growth[growth.condition == "SB"].r2_log.mean()),
    "r2_sqrt_SB": float(growth[growth.condition == "SB"].r2_sqrt.mean()),
    "r2_log_RA": float(growth[growth.condition == "LB+RA"].r2_log.mean()),
    "r2_sqrt_RA": float(growth[growth.condition == "LB+RA"].r2_sqrt.mean()),
    "fitter_error": fitter_error,
    "fit_window_points": float(growth.points.min()),
    "updates_SB": float(updates_small), "updates_LB": float(updates_large), "updates_RA": float(updates_ra),
}
gap_counts = gu.all_of(gu.cond("gap", ">=", 0.01), gu.cond("gap_ci_lo", ">", 0.0),
                       gu.cond("fit_excess_LB", "<=", 0.02))
closed = gu.all_of(gu.cond("residual_RA", "<=", 0.25), gu.cond("ra_gain_ci_lo", ">", 0.0))
not_closed = gu.all_of(gu.cond("residual_RA", ">=", 0.5), gu.cond("sb_minus_ra_ci_lo", ">", 0.0))
RULE = gu.rule(
    supported=gu.all_of(gap_counts, closed, gu.cond("lambda_band_excess", "<=", 0.2)),
    contradicted=gu.any_of(gu.all_of(gap_counts, not_closed), gu.cond("lambda_outside", ">", 0.0)),
    checks={"exponent_fitter_recovers_exact_curves": gu.cond("fitter_error", "<=", 0.02),
            "fit_window_has_8_steps": gu.cond("fit_window_points", ">=", 8)},
)
print(pd.Series(statistics).round(4).to_string())
record = gu.report_verdict(
    chapter="train_longer", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["gap", "gap_ci_lo", "fit_excess_LB", "residual_RA", "lambda_SB", "lambda_RA"],
)

# %% [markdown]
# ### Rule history
#
# - **Previous rule** (study card 12, before this repair): means over 2 seeds of the test accuracy; `gap`
#   $= A_{SB} - A_{LB} \ge 0.05$; `supported` when the residual gap of the full recipe (√lr + GBN + RA) was
#   $\le 0.25$ and $\lVert w_t-w_0\rVert$ fitted $\log t$ with $R^2 \ge 0.9$ and better than a straight line in
#   $t$, for SB and the recipe; `contradicted` when the gap existed and the residual exceeded 0.5. Its `cpu`
#   verdict (B_S 64, B_L 1024, 8 epochs) was **inconclusive**: gap 0.331, closed by the recipe (residual
#   −0.07); the log fit held for SB ($R^2$ 0.99) but not for the recipe ($R^2$ 0.08); 96–98 s.
# - **Why it was replaced** (review of the dynamics part, §4): the plain large-batch run got 32 updates
#   against SB's 600, so it was under-fit and the 0.33 "gap" was an optimisation gap that more updates
#   close almost by necessity; there was no arm with regime adaptation alone, so "updates, not batch size"
#   was not isolated; and the log-law test could not fail for any concave curve (the reviewer found that
#   $t^{0.3}$ and a saturating $1-e^{-t/100}$ both passed). The new rule gates the gap on a comparable
#   training loss, decides on the LB+RA arm, tests the law against power laws by the fitted exponent,
#   and replaces the 2-seed bootstrap by $t$-intervals over 4 seeds. The sizes changed with it
#   ($B_S$ 32, $B_L$ 256, 12 epochs) so that the plain large batch fits its training set within the
#   chapter's time; this was set from prototype runs of the arms' training curves (noted below), before
#   any run of this chapter.
# - **This rule, first `cpu` run** (B_S 32, B_L 256, 12 epochs, 4 seeds; rule unchanged since): main run
#   **contradicted**, through the log-law leg alone. The regime-adapted arm LB+RA stops moving away from
#   its initialization once it has fitted its training set (its distance peaks near 400 updates and then
#   drifts down): $\hat\lambda = -1.87$, interval $[-2.02, -1.72]$, at the floor of the grid, $R^2$ of the
#   log fit 0.47. The small-batch arm is in between: $\hat\lambda = 0.13$, interval $[-0.07, 0.33]$, neither
#   inside nor outside the band. The gap leg was inconclusive: once the plain large batch has fitted
#   (training loss 0.034 against SB's 0.051, `fit_excess_LB` −0.017) no generalization gap is left (gap
#   −0.004, interval $[-0.041, 0.034]$). More updates still help: LB+RA beats LB by 0.018 (interval
#   $[0.006, 0.029]$) and reaches 0.970 against SB's 0.949, and the full recipe reaches 0.979. The
#   falsification run was **inconclusive** (no gap; the unadapted arms' 216-update curves do fit $\log t$,
#   $\hat\lambda = -0.005$, interval $[-0.11, 0.10]$): not `supported`, as it has to be. Wall time 323 s
#   (main) and 127 s (falsification) on a machine shared with other sessions (load 2.5–6 on 2 cores),
#   above the chapter's 3-minute target; the sizes were left as registered.
# - **How to read it.** The logarithmic law holds here only *before* a run fits its training set (the
#   first 216 updates of the unadapted large batch); after that, weight decay at a constant rate holds
#   the distance in place. The paper restricts its law to the initial high-learning-rate phase, which its
#   step schedule ends; this chapter has no schedule, and its rule tests the law on the runs as trained,
#   so the contradiction is of the law as an account of the whole run at this scale. The gap itself is
#   absent at matched training loss: in this miniature the large-batch "gap" is an optimisation gap.

# %% [markdown]
# ## Faithfulness notes
#
# - **This repair.** (1) A gap counts only if the plain LB run reaches a training loss within 0.02 nats
#   of SB's; the earlier LB arm (32 updates) did not. (2) New arm LB+RA: the large batch with the small
#   batch's number of updates and nothing else, which is the paper's thesis; the full recipe stays as the
#   paper's own condition. (3) The log law is compared with power laws through the Box–Cox exponent
#   instead of with a line. (4) Intervals are $t$-intervals over 4 seeds. (5) A falsification run
#   without regime adaptation. (6) LB and LB+√lr+GBN are read as checkpoints of the RA runs, and the two
#   RA arms train in one batched call (ghost BN takes one ghost size per stacked model), which is what
#   makes the two $r\times$-cost arms affordable.
# - **Sizes, and what prototypes showed.** Before writing the rule, short prototype runs (3 seeds,
#   6000 signals) measured when the plain large batch fits: at $\eta = 0.05$ it reaches training
#   accuracy ≈ 1 after about 200–300 updates for $B_L$ between 256 and 1024, and at that point its test
#   accuracy was within about one point of SB's (e.g. $B_L$ 512: 0.958 against 0.967 for $B_S$ 32 at the
#   same epochs). The gap threshold (0.01) was set knowing that a fitted large batch shows at most a
#   small gap at this scale; the earlier threshold (0.05) would make the question impossible to ask once
#   the gap is measured honestly. A ratio of $r = 8$ on `cpu` is what the time allows: each RA arm costs
#   $r$ times the small-batch run.
# - **Falsification run.** With regime adaptation off, LB+RA *is* LB (the same run, stopped at $U_L$), so
#   its residual gap is 1 by construction: the run checks that the rule cannot call the claim supported
#   without the extra updates, not that the effect is absent for another reason. Its log-law test on
#   LB+RA reads the short curve of the unadapted run.
# - **Learning-rate schedule.** The paper decays the learning rate in steps and, for regime adaptation,
#   stretches the schedule by $B_L/B_S$; here the rate is constant, so regime adaptation is simply
#   training for as many updates as the small-batch run.
# - **Ghost batch norm** has no learnable scale and shift, and at test time uses the exact training-set
#   statistics at the final weights instead of running averages; both apply to every arm alike.
# - **Weight decay and a constant rate.** With weight decay, once a run fits its training set the decay
#   can stop the distance from initialization growing (a negative $\hat\lambda$). The paper's law
#   describes the initial high-learning-rate phase, before its schedule drops the rate; the rule tests
#   the law on the runs as trained, over the second half of a logarithmic step grid (early steps, where
#   the distance grows faster, are not part of the claim).
# - **The paper's numbers.** Quoted above from the abstract (full text copy at arxiv-vanity.com and the
#   NeurIPS abstract page, found with the search tool). The per-network rows of Tables 1–2 (e.g.
#   ResNet-44 on CIFAR-10) were **not found**: searches of the stored pages for the tables' captions and
#   numbers returned only the abstract and introduction, and the official code (github.com/eladhoffer/bigBatch,
#   README and experiment scripts: 100-epoch CIFAR runs at batch 2048, with `--lr_bb_fix` for √lr and
#   `--regime_bb_fix` for regime adaptation) holds no result table.
# - **Not reproduced:** the paper's random-walk-on-a-random-landscape model, its ImageNet results, and its
#   comparison with learning-rate warm-up; nothing here speaks to whether the gap closes at ImageNet scale.
