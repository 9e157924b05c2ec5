# ---
# jupyter:
#   genbook:
#     claim: Training on targets that mix the one-hot label with the model's own prediction
#       from the previous epoch, with a mixing weight growing linearly over training,
#       improves accuracy and the calibration and ranking of confidence over plain cross-entropy
#       at no extra training cost.
#     paper: Kim, Ji, Yoon & Hwang 2021 (ICCV), arXiv:2006.12000
#     part: dynamics
#     profiles:
#       gpu:
#         epochs: 200
#         num_samples: 40000
#         seeds: 10
#       smoke:
#         epochs: 5
#         num_samples: 2000
#         regimes:
#         - mlp
#         seeds: 1
#     title: Progressive self-distillation against plain cross-entropy
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
# # Self-knowledge distillation with progressive refinement of targets (PS-KD)
#
# **Paper.** Kyungyul Kim, ByeongMoon Ji, Doyoung Yoon and Sangheum Hwang, *Self-Knowledge Distillation
# with Progressive Refinement of Targets*, ICCV 2021 ([arXiv:2006.12000](https://arxiv.org/abs/2006.12000);
# official code github.com/lgcnsai/PS-KD-Pytorch).
#
# **Claim under test.** Train a network on soft targets
# $\tilde y_t(x) = (1-\alpha_t)\,\mathrm{onehot}(y) + \alpha_t\, p_{t-1}(x)$, where $p_{t-1}(x)$ is the
# model's own softmax output for $x$ at the previous epoch and $\alpha_t = \alpha_T\, t/T$ grows linearly
# over the $T$ epochs: the student becomes its own teacher. Against plain cross-entropy on the same
# network and schedule this improves accuracy *and* the quality of the confidence: lower expected
# calibration error (ECE) and a lower area under the risk–coverage curve (AURC, a ranking measure).
#
# **The paper's evidence.** CIFAR-100, PreAct ResNet-18, 300 epochs (first results table; the same rows in
# the official repository's README): baseline top-1 error 24.18, NLL 1.10, ECE 11.84 %, AURC 67.65 (×10³);
# with PS-KD ($\alpha_T = 0.8$) top-1 error 20.82, NLL 0.76, ECE 1.77 %, AURC 52.10. Similar gains are
# reported for ResNet-101, DenseNet-121, ResNeXt-29 and PyramidNet-200 (though ECE is *worse* with PS-KD for
# ResNeXt-29: 9.18 against 4.17), on ImageNet, for object detection and for machine translation.
#
# **What is scaled down.** MNIST-1D (10 classes, length-40 signals, generated offline) instead of
# CIFAR-100; two small networks instead of ResNets — a 1-D CNN (the well-fit regime) and an MLP that
# over-fits; 8000 samples, 30 epochs and 3 paired seeds (`cpu`) instead of 50 000 images and 300 epochs.
# The method itself, $\alpha_T = 0.8$, and the metrics are the paper's.

# %%
import math

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from scipy import stats as sps
from torch import nn

import genutils as gu
from genutils import many

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; pair s uses seed + s for initialization and data order
num_samples = 8000  # MNIST-1D samples in all, 80 percent train and 20 percent test
regimes = ["cnn", "mlp"]  # which networks to train
epochs = 30  # T, training epochs
alpha_T = 0.8  # final mixing weight of the model's own past prediction
seeds = 3  # paired seeds, each trained with CE and with PS-KD
cnn_channels = 32  # channels of each convolution of the CNN
mlp_width = 256  # hidden units of each of the two MLP layers
lr = 0.05  # initial SGD step size, cosine-annealed to 0 over the epochs
momentum = 0.9  # SGD momentum
weight_decay = 5e-4  # L2 weight decay
batch_size = 128  # minibatch size
ece_bins = 15  # equal-width confidence bins for ECE and the reliability diagram
record_points = 10  # number of epochs at which test metrics are recorded during training

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    num_samples=gu.Int(min=200),
    regimes=gu.List(gu.Choice("cnn", "mlp"), min_len=1),
    epochs=gu.Int(min=1),
    alpha_T=gu.Float(min=0, max=1),
    seeds=gu.Int(min=1),
    cnn_channels=gu.Int(min=1),
    mlp_width=gu.Int(min=1),
    lr=gu.Float(gt=0),
    momentum=gu.Float(min=0, lt=1),
    weight_decay=gu.Float(min=0),
    batch_size=gu.Int(min=1),
    ece_bins=gu.Int(min=2),
    record_points=gu.Int(min=1),
)
if len(set(P.regimes)) != len(P.regimes):
    raise gu.ParameterError("regimes", f"each regime at most once, got {P.regimes}")
if P.batch_size > 0.8 * P.num_samples:
    raise gu.ParameterError("batch_size", f"larger than the training set ({int(0.8 * P.num_samples)} points)")
device = gu.device()
x_train, y_train, x_test, y_test = (t.to(device) for t in gu.mnist1d(P.num_samples))
n_train, n_classes = len(y_train), 10
record_epochs = sorted({max(1, round(P.epochs * (i + 1) / P.record_points)) for i in range(P.record_points)})
print(f"{n_train} training and {len(y_test)} test signals; test metrics recorded after epochs {record_epochs}")
P

# %% [markdown]
# ## The networks
#
# - `cnn`: conv (kernel 5, `cnn_channels`) → ReLU → conv (kernel 3, stride 2) → ReLU → conv (kernel 3,
#   stride 2) → ReLU → linear to 10 classes.
# - `mlp`: 40 → `mlp_width` → `mlp_width` → 10 with ReLUs.
#
# All $2\times$`seeds` networks of one regime (CE and PS-KD for every seed) are trained together:
# `genutils.many.stack` initialises model $k$ exactly as the module built under its seed and stacks the
# parameters into tensors of shape (K, ...). The MLP runs on batched matrix products. For the CNN we
# write the convolutions out as batched matrix products too (im2col: the kernel taps side by side, one product per layer), which on a CPU is much
# faster than a vectorised `conv1d`; the next cell checks that this forward equals the plain modules.

# %%
def make_model(regime: str) -> nn.Module:
    if regime == "mlp":
        w = P.mlp_width
        return nn.Sequential(nn.Linear(40, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, n_classes))
    c = P.cnn_channels
    return nn.Sequential(
        nn.Unflatten(1, (1, 40)),
        nn.Conv1d(1, c, 5, padding=2), nn.ReLU(),
        nn.Conv1d(c, c, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(c, c, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(c * 10, n_classes),
    )


def conv_bmm(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor, stride: int) -> torch.Tensor:
    """Conv1d of K models at once, channels last: h (K, B, L, Cin), w (K, Cout, Cin, k), 'same' padding."""
    k_models, batch, length, c_in = h.shape
    ksize = w.shape[-1]
    pad = ksize // 2
    hp = F.pad(h, (0, 0, pad, pad))
    out_len = (length + 2 * pad - ksize) // stride + 1
    # im2col: tap i reads positions stride*j + i of the padded input; taps side by side, then one matmul
    cols = torch.cat([hp[:, :, i: i + stride * (out_len - 1) + 1: stride] for i in range(ksize)], dim=-1)
    w_mat = w.permute(0, 3, 2, 1).reshape(k_models, ksize * c_in, -1)  # (K, k·Cin, Cout), tap-major
    out = torch.baddbmm(b[:, None], cols.reshape(k_models, batch * out_len, -1), w_mat)
    return out.reshape(k_models, batch, out_len, -1)


def forward(models: many.ManyModels, params: dict, xb: torch.Tensor) -> torch.Tensor:
    """Logits (K, B, 10) of every model on its own minibatch xb (K, B, 40)."""
    if models.is_plain_mlp:
        return models.forward(params, xb, per_model=True)
    h = xb[..., None]  # (K, B, 40, 1)
    for name, stride in (("1", 1), ("3", 2), ("5", 2)):
        h = torch.relu(conv_bmm(h, params[f"{name}.weight"], params[f"{name}.bias"], stride))
    h = h.transpose(2, 3).flatten(2)  # channel-major flattening, as nn.Flatten on (B, C, L)
    return torch.baddbmm(params["8.bias"][:, None], h, params["8.weight"].transpose(1, 2))


for regime in P.regimes:
    check = many.stack(lambda: make_model(regime), [0, 1], device)
    xb = x_train[:16].expand(2, 16, 40)
    slow = torch.stack([check.model(i).to(device)(x_train[:16]) for i in range(2)])
    gap = (forward(check, check.params, xb) - slow).abs().max().item()
    assert gap < 1e-4, f"{regime}: fast forward differs from the modules by {gap}"
    print(f"{regime}: {sum(p[0].numel() for p in check.params.values())} parameters; fast forward matches (max gap {gap:.1e})")

# %% [markdown]
# ## The method: PS-KD and its control
#
# Each training example $i$ keeps $p(x_i)$, the softmax output the model gave it at its last visit,
# initialised to the one-hot label. In epoch $t = 1,\dots,T$ the example is trained on
#
# $$\tilde y_t(x_i) = (1-\alpha_t)\,\mathrm{onehot}(y_i) + \alpha_t\, p_{t-1}(x_i), \qquad \alpha_t = \alpha_T\,\frac{t}{T},$$
#
# with the soft cross-entropy $-\sum_c \tilde y_{t,c}\log \mathrm{softmax}(f(x_i))_c$, and after the step
# its stored $p$ is replaced by the (detached) softmax of this forward pass — the official code's update.
# **Control:** the same code with $\alpha_T = 0$, which is plain cross-entropy. Within a pair, CE and PS-KD
# start from the same initialization and see the same minibatches; the only difference is $\alpha_T$.
# Both use SGD with momentum, weight decay and a cosine step-size schedule, and cost the same per step
# (PS-KD stores one $n\times 10$ table).
#
# ## The measurements (test set)
#
# - **accuracy**, and **NLL** (mean negative log-likelihood of the true class);
# - **ECE**: confidences $\max_c p_c$ split into `ece_bins` equal-width bins $B_m$,
#   $\mathrm{ECE} = \sum_m \frac{|B_m|}{n}\,\big|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)\big|$;
# - **AURC**: sort test points by confidence, most confident first; the risk at coverage $k/n$ is the
#   error rate among the first $k$; AURC is the mean of that risk over $k = 1..n$ (lower means confidence
#   ranks errors last). Reported ×10³ like the paper.

# %%
def calibration_bins(probs: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per model and bin: count, summed confidence, summed correctness. probs (K, n, C)."""
    conf, pred = probs.max(-1)
    correct = (pred == y).float()
    idx = (conf * P.ece_bins).ceil().long().clamp(1, P.ece_bins) - 1
    zeros = torch.zeros(probs.shape[0], P.ece_bins, device=probs.device)
    return (zeros.scatter_add(1, idx, torch.ones_like(conf)), zeros.scatter_add(1, idx, conf),
            zeros.scatter_add(1, idx, correct))


def metrics(logits: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """accuracy, NLL, ECE and AURC (×10³) of each of K models; logits (K, n, C)."""
    probs = logits.softmax(-1)
    conf, pred = probs.max(-1)
    wrong = (pred != y).float()
    count, conf_sum, correct_sum = calibration_bins(probs, y)
    ece = (conf_sum - correct_sum).abs().sum(1) / y.shape[-1]
    order = conf.argsort(dim=1, descending=True, stable=True)
    risk = wrong.gather(1, order).cumsum(1) / torch.arange(1, y.shape[-1] + 1, device=y.device)
    nll = F.cross_entropy(logits.transpose(1, 2), y.expand(logits.shape[0], -1), reduction="none").mean(1)
    return {"accuracy": 1 - wrong.mean(1), "NLL": nll, "ECE": ece, "AURC": 1000 * risk.mean(1)}


# %%
def train_regime(regime: str) -> tuple[pd.DataFrame, torch.Tensor]:
    """Train CE and PS-KD for every seed; return test metrics per recorded epoch and the final test probs."""
    pair_seeds = [P.seed + s for s in range(P.seeds)]
    methods = ["CE"] * P.seeds + ["PS-KD"] * P.seeds
    models = many.stack(lambda: make_model(regime), pair_seeds * 2, device)  # pair shares its init
    k = models.k
    alpha_final = torch.tensor([0.0] * P.seeds + [P.alpha_T] * P.seeds, device=device)[:, None, None]
    params = {name: p.requires_grad_() for name, p in models.params.items()}
    opt = torch.optim.SGD(params.values(), lr=P.lr, momentum=P.momentum, weight_decay=P.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=P.epochs)
    onehot = F.one_hot(y_train, n_classes).float()
    past = onehot.expand(k, -1, -1).clone()  # p_{t-1}(x_i) per model, initialised to the label
    orders = [torch.Generator().manual_seed(s) for s in pair_seeds]
    rows_k = torch.arange(k, device=device)[:, None]
    records = []
    for epoch in gu.progress(range(1, P.epochs + 1), desc=regime):
        alpha = alpha_final * epoch / P.epochs  # α_t, zero for the CE models
        perms = torch.stack([torch.randperm(n_train, generator=g) for g in orders]).repeat(2, 1).to(device)
        for b in range(n_train // P.batch_size):
            idx = perms[:, b * P.batch_size:(b + 1) * P.batch_size]  # (K, B), shared within a pair
            logits = forward(models, params, x_train[idx])
            targets = (1 - alpha) * onehot[idx] + alpha * past[rows_k, idx]
            loss = -(targets * logits.log_softmax(-1)).sum(-1).mean(1)  # soft CE per model
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()  # models share no parameter: each gets its own gradient
            opt.step()
            past[rows_k, idx] = logits.detach().softmax(-1)
        schedule.step()
        if epoch in record_epochs:
            with torch.no_grad():
                m = metrics(forward(models, params, x_test.expand(k, -1, -1)), y_test)
                train_pred = forward(models, params, x_train.expand(k, -1, -1)).argmax(-1)
                m["train accuracy"] = (train_pred == y_train).float().mean(1)
            records += [{"regime": regime, "epoch": epoch, "method": methods[i], "seed": pair_seeds[i % P.seeds],
                         **{name: v[i].item() for name, v in m.items()}} for i in range(k)]
    with torch.no_grad():
        probs = forward(models, params, x_test.expand(k, -1, -1)).softmax(-1)
    return pd.DataFrame(records), probs


history, final_probs = [], {}
for regime in P.regimes:
    df, final_probs[regime] = train_regime(regime)
    history.append(df)
history = pd.concat(history, ignore_index=True)
final = history[history.epoch == P.epochs].drop(columns="epoch")
final.groupby(["regime", "method"])[["train accuracy", "accuracy", "NLL", "ECE", "AURC"]].agg(["mean", "std"]).round(4)

# %% [markdown]
# ## Results
#
# **Figure 1.** Final test accuracy of each seed under CE and PS-KD, a line joining the two networks of a
# pair (same initialization, same minibatches). Look for the lines' slope: rising lines in every pair
# would mean PS-KD is more accurate.

# %%
def paired_plot(ax, regime: str, metric: str, ylabel: str) -> None:
    d = final[final.regime == regime]
    wide = d.pivot(index="seed", columns="method", values=metric)
    for _, row in wide.iterrows():
        ax.plot([0, 1], [row["CE"], row["PS-KD"]], color="grey", linewidth=1, zorder=1)
    sns.stripplot(data=d, x="method", y=metric, hue="method", order=["CE", "PS-KD"], jitter=False, size=7,
                  ax=ax, legend=False, zorder=2)
    ax.set_xlim(-0.4, 1.4)
    gu.label(ax, "training target", ylabel, f"{regime}")


fig, axes = gu.subplots(ncols=len(P.regimes), width=3.8, height=3.8, squeeze=False)
for ax, regime in zip(axes[0], P.regimes):
    paired_plot(ax, regime, "accuracy", "test accuracy")

# %% [markdown]
# **Figure 2.** The same pairs for calibration error (ECE, top) and the ranking measure (AURC ×10³,
# bottom); lower is better for both. Look for falling lines: PS-KD's confidence better calibrated and
# ranking its errors last.

# %%
fig, axes = gu.subplots(ncols=len(P.regimes), nrows=2, width=3.8, height=3.4, squeeze=False)
for j, regime in enumerate(P.regimes):
    paired_plot(axes[0, j], regime, "ECE", "test ECE")
    paired_plot(axes[1, j], regime, "AURC", "test AURC (×10³)")

# %% [markdown]
# **Figure 3.** Reliability diagrams for the first seed: accuracy against mean confidence in each
# confidence bin (bins with fewer than 10 test points left out), the diagonal being perfect calibration.
# Points below the diagonal mean over-confidence, points above it under-confidence: look for which method
# stays closer to the diagonal in each regime, and on which side it leaves it.

# %%
rows = []
for regime in P.regimes:
    count, conf_sum, correct_sum = (t.cpu().numpy() for t in calibration_bins(final_probs[regime], y_test))
    for i, method in ((0, "CE"), (P.seeds, "PS-KD")):
        for b in np.flatnonzero(count[i] >= 10):
            rows.append({"regime": regime, "method": method, "confidence": conf_sum[i, b] / count[i, b],
                         "accuracy": correct_sum[i, b] / count[i, b], "points": count[i, b]})
reliability = pd.DataFrame(rows)
fig, axes = gu.subplots(ncols=len(P.regimes), width=4.2, height=4, squeeze=False)
for ax, regime in zip(axes[0], P.regimes):
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    sns.lineplot(data=reliability[reliability.regime == regime], x="confidence", y="accuracy", hue="method",
                 hue_order=["CE", "PS-KD"], marker="o", ax=ax)
    ax.set(xlim=(0, 1.02), ylim=(0, 1.02))
    gu.label(ax, "mean confidence in bin", "accuracy in bin", f"{regime}, seed {P.seed}")

# %% [markdown]
# **Figure 4.** Test accuracy and ECE during training (mean ± s.d. over seeds). PS-KD's targets differ from
# CE's only as $\alpha_t$ grows, so look for the curves separating late in training, and for where the
# over-fitting MLP's CE calibration degrades.

# %%
long = history.melt(id_vars=["regime", "epoch", "method", "seed"], value_vars=["accuracy", "ECE"],
                    var_name="metric", value_name="value")
fig, axes = gu.subplots(ncols=len(P.regimes), nrows=2, width=3.8, height=3.2, squeeze=False)
for j, regime in enumerate(P.regimes):
    for i, metric in enumerate(["accuracy", "ECE"]):
        ax = axes[i, j]
        sns.lineplot(data=long[(long.regime == regime) & (long.metric == metric)], x="epoch", y="value",
                     hue="method", hue_order=["CE", "PS-KD"], marker="o", errorbar="sd", ax=ax,
                     legend=(i == 0 and j == 0))
        gu.label(ax, "epoch", f"test {metric}", regime)

# %% [markdown]
# ## Verdict
#
# The rule was fixed before running (study card 07). Per regime, take the paired differences
# PS-KD − CE over seeds and a 95% interval for their mean: a paired $t$ interval when there are fewer than
# 5 seeds, a percentile bootstrap otherwise (with one seed there is no interval and the rule cannot
# decide).
#
# - **accuracy claim** holds in a regime when the mean accuracy difference is $> 0$ and its interval
#   excludes 0; it is contradicted there when the interval lies entirely below 0;
# - **calibration claim** holds when the mean ECE difference is $< 0$ and its interval excludes 0 (it is
#   contradicted when the interval lies entirely above 0);
# - `supported` when both claims hold in at least one regime and neither is contradicted in any;
#   `contradicted` when accuracy is contradicted in every regime trained; `inconclusive` otherwise.
#
# AURC and NLL differences are reported beside the rule; the counts of regimes in which each sub-claim
# holds are shown with the verdict, since a miniature may reproduce one and not the other.

# %%
def paired_interval(diff: np.ndarray) -> tuple[float, float]:
    n = len(diff)
    if n < 2:
        return float("nan"), float("nan")
    if n < 5:
        half = sps.t.ppf(0.975, n - 1) * diff.std(ddof=1) / math.sqrt(n)
        return float(diff.mean() - half), float(diff.mean() + half)
    return gu.bootstrap_ci(diff, seed=P.seed)


statistics, table = {}, []
for regime in P.regimes:
    d = final[final.regime == regime]
    for metric in ("accuracy", "ECE", "AURC", "NLL"):
        wide = d.pivot(index="seed", columns="method", values=metric)
        diff = (wide["PS-KD"] - wide["CE"]).to_numpy()
        lo, hi = paired_interval(diff)
        key = {"accuracy": "acc", "ECE": "ece", "AURC": "aurc", "NLL": "nll"}[metric]
        statistics |= {f"{regime}_{key}_diff": float(diff.mean()), f"{regime}_{key}_lo": lo, f"{regime}_{key}_hi": hi}
        table.append({"regime": regime, "metric": metric, "CE": wide["CE"].mean(), "PS-KD": wide["PS-KD"].mean(),
                      "mean diff": diff.mean(), "95% low": lo, "95% high": hi})


def acc_holds(r):
    return gu.all_of(gu.cond(f"{r}_acc_diff", ">", 0), gu.cond(f"{r}_acc_lo", ">", 0))


def acc_contradicted(r):
    return gu.cond(f"{r}_acc_hi", "<", 0)


def ece_holds(r):
    return gu.all_of(gu.cond(f"{r}_ece_diff", "<", 0), gu.cond(f"{r}_ece_hi", "<", 0))


def ece_contradicted(r):
    return gu.cond(f"{r}_ece_lo", ">", 0)


def holds(condition) -> bool:
    return bool(gu.verdict.evaluate(condition, statistics))


statistics |= {
    "regimes_accuracy_holds": sum(holds(acc_holds(r)) for r in P.regimes),
    "regimes_calibration_holds": sum(holds(ece_holds(r)) for r in P.regimes),
    "regimes_accuracy_contradicted": sum(holds(acc_contradicted(r)) for r in P.regimes),
}
RULE = gu.rule(
    supported=gu.all_of(
        gu.any_of(*[gu.all_of(acc_holds(r), ece_holds(r)) for r in P.regimes]),
        *[gu.not_(gu.any_of(acc_contradicted(r), ece_contradicted(r))) for r in P.regimes],
    ),
    contradicted=gu.all_of(*[acc_contradicted(r) for r in P.regimes]),
)
print(pd.DataFrame(table).set_index(["regime", "metric"]).round(4))

record = gu.report_verdict(
    chapter="ps_kd", params=P, rule=RULE, statistics=statistics,
    seeds=sorted(final.seed.unique().tolist()),
    headline=[*[f"{r}_{m}_diff" for r in P.regimes for m in ("acc", "ece", "aurc")],
              "regimes_accuracy_holds", "regimes_calibration_holds", "regimes_accuracy_contradicted"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - The method is the paper's, as in the official code: per-example memory of the last softmax output
#   initialised to the label, $\alpha_t = \alpha_T t/T$ with $\alpha_T = 0.8$, soft cross-entropy, and the
#   memory overwritten by the output of the training forward pass. The control differs only in $\alpha_T = 0$.
# - The task is far easier than CIFAR-100: 10 classes of synthetic 1-D signals, where the model's own
#   predictions carry less "dark knowledge" about similar classes than on 100 ambiguous image classes. The
#   paper trains 300 epochs with a step schedule and data augmentation; here training is 30 epochs
#   (`cpu`; 200 on `gpu`) with a cosine schedule and no augmentation.
# - One change from the study card, to fit the shared 2-core budget: `epochs` 30 instead of 60 (`gpu`: 200).
#   The card's data size (8000 samples) and CNN (32 channels) are kept; CE reaches about 95% test accuracy
#   with the CNN (training accuracy about 99%), the card's well-fit regime. The MLP reaches about 70% test
#   rather than the card's ~60%, which came from a 4000-sample prototype; it is the over-fitting regime
#   (training accuracy about 93% under CE, a 23-point gap, and the larger CE calibration error). Both
#   methods get the same reduction, so the paired comparison is unchanged in kind.
# - How the sizing was chosen, in full: a first, cheaper setting (4000 samples, 40 epochs, 16-channel CNN)
#   left the CNN under-fit at about 85% and gave `inconclusive` (accuracy lower with PS-KD in the CNN, ECE
#   lower with PS-KD in the MLP); a 32-channel CNN on 4000 samples reached about 90%, PS-KD again less
#   accurate. The setting here was then chosen to restore the card's data and network within the budget,
#   not for its verdict, which was the same or less favourable to PS-KD in every setting tried.
# - MNIST-1D is the package's default dataset draw (its seed 42) for every pair: seeds vary the
#   initialization and the minibatch order, not the data.
# - With 3 seeds the paired $t$ interval is wide ($t_{0.975,2} \approx 4.3$); small differences will be
#   called inconclusive rather than found.
# - Not reproduced: ImageNet, other backbones, detection and translation, and the paper's gradient
#   analysis (hard-example mining); a reader should not conclude anything about those from this chapter.
