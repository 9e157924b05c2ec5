# ---
# jupyter:
#   genbook:
#     claim: Clustering each class by the network's early softmax output and upsampling
#       once the cluster with the higher loss (USEFUL) improves in-distribution test
#       accuracy over plain training and over random upsampling of the same size, with
#       SGD and with SAM.
#     'null':
#       upsample_slow: false
#     null_reason: USEFUL credits duplicating the slow-learnable cluster; duplicating
#       the fast-learnable cluster instead (same clustering, same seeds) removes that
#       cause.
#     paper: Nguyen, Haddad, Gan & Mirzasoleiman 2024, arXiv:2404.17768
#     part: dynamics
#     profiles:
#       gpu:
#         cluster_epoch: 8
#         epochs: 100
#         num_samples: 40000
#         optimizers:
#         - sgd
#         - sam
#         seeds: 10
#       smoke:
#         cluster_epoch: 1
#         epochs: 3
#         num_samples: 2000
#         optimizers:
#         - sgd
#         seeds: 1
#     title: Upsampling the slow-learned cluster (USEFUL)
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
# # Changing the training distribution to reduce simplicity bias (USEFUL)
#
# **Paper.** Dang Nguyen, Paymon Haddad, Eric Gan and Baharan Mirzasoleiman, *Changing the Training
# Data Distribution to Reduce Simplicity Bias Improves In-distribution Generalization*, NeurIPS 2024
# ([arXiv:2404.17768](https://arxiv.org/abs/2404.17768)).
#
# **Claim under test.** Early in training a network has learned the "fast" (simple) features; the
# examples carrying them can be separated from the rest by the network's *output* at that time. USEFUL
# (UpSample Early For Uniform Learning) trains for a few epochs, clusters every class into two groups by
# the network's output, keeps the cluster with the lower mean loss as "fast-learnable", duplicates the
# other ("slow-learnable") cluster once, and retrains from scratch on this new distribution. Learning the
# features more uniformly this way is meant to improve *in-distribution* test accuracy, with SGD and with
# SAM (which the paper proves to be itself less simplicity-biased than gradient descent).
#
# **The paper's evidence.** A theorem on a two-layer CNN (SAM learns fast and slow features more evenly
# than GD early on), and tables of test error for ResNet18 on CIFAR-10, STL10, CINIC10 and Tiny-ImageNet
# and ResNet34 on CIFAR-100, where USEFUL lowers the error of SGD and of SAM, by a few tenths of a
# point to about a point of test error on CIFAR-10, and stacks with SAM variants and
# TrivialAugment. The clustering is done after roughly 5-10% of the training epochs (epoch 8 of 200 for
# CIFAR-10 in their setup). The exact table entries were not available offline when this chapter was
# written; see the faithfulness notes.
#
# **What is scaled down.** MNIST-1D (6000 signals, `cpu`) instead of CIFAR images; a three-layer 1-D
# CNN instead of ResNet18; 30 epochs with the clustering at epoch 3 (10%); 3 paired seeds; SGD only on
# `cpu` (SAM doubles the cost and runs in the `gpu` profile, or pass `optimizers=["sgd", "sam"]`). A control the
# paper does not run is added: **random upsampling** of a subset of the same size, because the upsampled
# set gives USEFUL more updates per epoch than plain training.

# %%
import math
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from torch import nn

import genutils as gu
from genutils import many
from genutils.models import Positions, Windows

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; seed s uses seed + s for its initialization, minibatch order and random subset
num_samples = 6000  # MNIST-1D signals generated, 80 percent for training and 20 percent for testing
epochs = 30  # training epochs of every run (cosine step-size schedule over these epochs)
cluster_epoch = 3  # epoch after which the early outputs are clustered
optimizers = ["sgd"]  # base optimizers compared, sgd and or sam (sam runs in the gpu profile)
sam_rho = 0.05  # SAM neighbourhood radius rho
lr = 0.05  # initial step size
batch_size = 128  # minibatch size
seeds = 3  # paired seeds (plain, USEFUL and random upsampling share the initialization)
upsample_slow = True  # duplicate the slow-learnable cluster (USEFUL); False duplicates the fast one

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    num_samples=gu.Int(min=200),
    epochs=gu.Int(min=1),
    cluster_epoch=gu.Int(min=1),
    optimizers=gu.List(gu.Choice("sgd", "sam")),
    sam_rho=gu.Float(gt=0),
    lr=gu.Float(gt=0),
    batch_size=gu.Int(min=2),
    seeds=gu.Int(min=1),
    upsample_slow=gu.Bool(),
)
if P.cluster_epoch > P.epochs:
    raise gu.ParameterError("cluster_epoch", f"must not exceed epochs ({P.epochs}), got {P.cluster_epoch}")
if len(set(P.optimizers)) != len(P.optimizers):
    raise gu.ParameterError("optimizers", f"must not repeat an optimizer, got {P.optimizers}")
n_train = int(P.num_samples * 0.8)
if P.batch_size > n_train:
    raise gu.ParameterError("batch_size", f"must not exceed the {n_train} training signals, got {P.batch_size}")
momentum, weight_decay = 0.9, 5e-4
device = gu.device()
seed_list = [P.seed + s for s in range(P.seeds)]
P

# %% [markdown]
# ## Data and network
#
# MNIST-1D is generated procedurally by `genutils.mnist1d` (no download): length-40 signals of the ten
# digit templates, shifted, scaled, sheared and noised; 80% for training, 20% for testing. The data set
# is the same for every seed; seeds change the initialization and the minibatch order.
#
# The network: conv 5×32 (stride 1), conv 3×32 (stride 2), conv 3×32 (stride 2), ReLUs, and a linear
# read-out 320 → 10. Each convolution is written as window extraction (`genutils.models.Windows`)
# followed by `nn.Linear`, so the network is a plain stack of linear layers that `genutils.many` evaluates
# for many models at once as batched matrix products; the next cell checks it against `conv1d`.

# %%
x_train, y_train, x_test, y_test = (t.to(device) for t in gu.mnist1d(P.num_samples, seed=42))
n_classes = 10
print(f"{len(x_train)} training and {len(x_test)} test signals")


def make_cnn() -> nn.Sequential:
    w1 = Windows(40, 5, stride=1, pad=2, first=True)
    w2 = Windows(w1.out_length, 3, stride=2, pad=1)
    w3 = Windows(w2.out_length, 3, stride=2, pad=1)
    return nn.Sequential(w1, nn.Linear(5, 32), nn.ReLU(), w2, nn.Linear(96, 32), nn.ReLU(),
                         w3, nn.Linear(96, 32), nn.ReLU(), Positions(w3.out_length),
                         nn.Linear(w3.out_length * 32, n_classes))


_net, _x = make_cnn(), torch.randn(8, 40)
_h = torch.relu(F.conv1d(_x[:, None], _net[1].weight.reshape(32, 1, 5), _net[1].bias, padding=2))
_h = torch.relu(F.conv1d(_h, _net[4].weight.reshape(32, 32, 3), _net[4].bias, stride=2, padding=1))
assert torch.allclose(_net[5](_net[4](_net[3](_net[2](_net[1](_net[0](_x)))))).reshape(8, -1, 32),
                      _h.transpose(1, 2), atol=1e-5)
print(sum(p.numel() for p in _net.parameters()), "parameters")

# %% [markdown]
# ## Training: SGD and SAM, many models at once
#
# Every run uses the cross-entropy loss, momentum 0.9, weight decay $5\cdot10^{-4}$, batch 128 and the
# step size $\eta_e = \eta\,\tfrac12\bigl(1+\cos(\pi e/E)\bigr)$ in epoch $e = 0,\dots,E-1$.
#
# - **SGD**: $m \leftarrow 0.9\,m + g + \lambda w$, $\;w \leftarrow w - \eta_e m$, with $g = \nabla L_B(w)$.
# - **SAM** (Foret et al.): first ascend to the worst point of a ball of radius $\rho$,
#   $\hat\epsilon = \rho\, \nabla L_B(w) / \lVert\nabla L_B(w)\rVert$, then take the SGD step above with
#   $g = \nabla L_B(w + \hat\epsilon)$, the gradient at the perturbed weights (two gradients per step).
#
# Each model $k$ trains on its own list of training indices $I_k$ (with repeats once upsampled): each
# epoch it draws a fresh permutation of $I_k$ from its own generator and takes $\lfloor |I_k|/B \rfloor$
# steps. Models of one stack are stepped together; a model whose epoch is shorter than another's sits
# out the remaining steps of that epoch (its update and momentum are masked), so every model follows
# exactly the schedule it would follow alone.

# %%
def cosine_lr(epoch: int) -> float:
    return P.lr * 0.5 * (1 + math.cos(math.pi * epoch / P.epochs))


def train(optimizer: str, index_sets: list[torch.Tensor], init_seeds: list[int], order_seeds: list[int],
          epochs: int, desc: str, after_epoch=None) -> many.ManyModels:
    """Train one model per index set (initialised from init_seeds) for `epochs` epochs; return the stack."""
    models = many.stack(make_cnn, init_seeds, device)
    k = models.k
    params = models.params
    names = list(params)
    buf = {n: torch.zeros_like(p) for n, p in params.items()}
    started = torch.zeros(k, dtype=torch.bool, device=device)
    gens = [torch.Generator().manual_seed(s) for s in order_seeds]
    steps_k = torch.tensor([len(ix) // P.batch_size for ix in index_sets], device=device)
    rows = torch.arange(k, device=device)[:, None]

    def grads_at(w: dict[str, torch.Tensor], xb, yb) -> dict[str, torch.Tensor]:
        w = {n: p.detach().requires_grad_() for n, p in w.items()}
        logits = models.forward(w, xb, per_model=True)  # (K, B, 10)
        losses = F.cross_entropy(logits.transpose(1, 2), yb, reduction="none").mean(1)
        return dict(zip(names, torch.autograd.grad(losses.sum(), list(w.values()))))

    for epoch in gu.progress(range(epochs), desc=desc):
        eta = cosine_lr(epoch)
        perms = [ix[torch.randperm(len(ix), generator=g)].to(device) for ix, g in zip(index_sets, gens)]
        for b in range(int(steps_k.max())):
            active = b < steps_k  # (K,)
            idx = torch.stack([pm[(b if b < len(pm) // P.batch_size else 0) * P.batch_size:][:P.batch_size]
                               for pm in perms])  # (K, B); inactive models get a dummy batch
            xb, yb = x_train[idx], y_train[idx]
            g = grads_at(params, xb, yb)
            if optimizer == "sam":
                norm = torch.sqrt(sum(v.flatten(1).pow(2).sum(1) for v in g.values())) + 1e-12  # (K,)
                shape = lambda p: (k,) + (1,) * (p.ndim - 1)  # noqa: E731
                perturbed = {n: p + P.sam_rho * g[n] / norm.view(shape(p)) for n, p in params.items()}
                g = grads_at(perturbed, xb, yb)
            with torch.no_grad():
                for n, p in params.items():
                    mask = active.view((k,) + (1,) * (p.ndim - 1))
                    d = g[n] + weight_decay * p
                    first = (~started).view_as(mask)
                    new_buf = torch.where(first, d, momentum * buf[n] + d)
                    buf[n] = torch.where(mask, new_buf, buf[n])
                    p.sub_(torch.where(mask, eta * buf[n], torch.zeros_like(p)))
            started |= active
        if after_epoch is not None:
            after_epoch(models, epoch + 1)
    return models


def outputs(models: many.ManyModels, x: torch.Tensor) -> torch.Tensor:
    """Logits (K, n, 10) of every model on the shared inputs x."""
    with torch.no_grad():
        return models(x)


# %% [markdown]
# ## USEFUL: cluster by early output, upsample the slow cluster once
#
# 1. Train with the chosen optimizer on the original training set for `cluster_epoch` epochs (the same
#    schedule as the full run, stopped early).
# 2. For every class $c$, take the softmax outputs $p(x_i)\in\mathbb R^{10}$ of its training examples and
#    run $k$-means with $k=2$ (scikit-learn, 10 restarts, seeded).
# 3. The cluster with the higher mean cross-entropy loss $-\log p_{y_i}(x_i)$ is **slow-learnable**; the
#    other holds the examples whose (simple) features were learned early.
# 4. The new training set is the original set plus one extra copy of every slow-learnable example.
# 5. Retrain from the **same initialization** on the new set for `epochs` epochs.
#
# **Controls.** (a) *plain*: the original set; (b) *random*: the original set plus one extra copy of a
# uniformly random subset of the same size as USEFUL's slow clusters. Random upsampling gives the same
# number of updates per epoch as USEFUL, so only the choice of *which* examples differs.

# %%
def useful_clusters(logits: torch.Tensor, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per training example: its k-means cluster label within its class and whether it is slow-learnable."""
    probs = logits.softmax(-1).cpu().numpy()
    loss = F.cross_entropy(logits, y_train, reduction="none").cpu().numpy()
    labels_np, y_np = np.zeros(len(probs), dtype=int), y_train.cpu().numpy()
    slow = np.zeros(len(probs), dtype=bool)
    for c in range(n_classes):
        members = np.flatnonzero(y_np == c)
        km = KMeans(n_clusters=2, n_init=10, random_state=seed).fit(probs[members])
        labels_np[members] = km.labels_
        slow_label = int(np.argmax([loss[members][km.labels_ == j].mean() if (km.labels_ == j).any() else -np.inf
                                    for j in range(2)]))
        slow[members] = km.labels_ == slow_label
    return labels_np, slow


CONDITIONS = ["plain", "USEFUL", "random"]
finals, learn_epochs, early = [], {}, {}
t0 = time.time()
for opt in P.optimizers:
    # step 1: early training on the original set, all seeds at once
    all_idx = torch.arange(n_train)
    early_models = train(opt, [all_idx] * P.seeds, seed_list, seed_list, P.cluster_epoch, f"{opt}: early")
    early_logits = outputs(early_models, x_train)
    index_sets, n_up = {c: [] for c in CONDITIONS}, []
    for i, s in enumerate(seed_list):
        # steps 2-4: cluster, pick the slow cluster, upsample it once; and the random control
        labels_np, slow = useful_clusters(early_logits[i], s)
        early[(opt, s)] = (early_logits[i].softmax(-1).cpu().numpy(), labels_np, slow)
        slow_idx = torch.from_numpy(np.flatnonzero(slow if P.upsample_slow else ~slow))
        rand_idx = torch.randperm(n_train, generator=torch.Generator().manual_seed(10_000 + s))[:len(slow_idx)]
        index_sets["plain"].append(all_idx)
        index_sets["USEFUL"].append(torch.cat([all_idx, slow_idx]))
        index_sets["random"].append(torch.cat([all_idx, rand_idx]))
        n_up.append(len(slow_idx))
    # step 5: retrain from the same initialization; the three conditions of every seed in one stack
    stack_sets = [ix for c in CONDITIONS for ix in index_sets[c]]
    first_right = torch.full((P.seeds, n_train), float("nan"))

    def track(models: many.ManyModels, epoch: int) -> None:
        """First epoch after which each training example is classified correctly by the plain runs."""
        right = (outputs(models, x_train)[:P.seeds].argmax(-1) == y_train).cpu()
        first_right[right & first_right.isnan()] = epoch

    models = train(opt, stack_sets, seed_list * len(CONDITIONS), seed_list * len(CONDITIONS), P.epochs,
                   f"{opt}: plain, USEFUL, random", after_epoch=track)
    test_acc = (outputs(models, x_test).argmax(-1) == y_test).float().mean(1).cpu().numpy()
    train_acc = (outputs(models, x_train).argmax(-1) == y_train).float().mean(1).cpu().numpy()
    for j, (cond_name, s) in enumerate([(c, s) for c in CONDITIONS for s in seed_list]):
        finals.append({"optimizer": opt.upper(), "condition": cond_name, "seed": s, "test_acc": test_acc[j],
                       "train_acc": train_acc[j], "upsampled": 0 if cond_name == "plain" else n_up[j % P.seeds],
                       "steps_per_epoch": len(stack_sets[j]) // P.batch_size})
    for i, s in enumerate(seed_list):
        learn_epochs[(opt, s)] = first_right[i].numpy()
final = pd.DataFrame(finals)
print(f"trained in {time.time() - t0:.1f} s")
final.groupby(["optimizer", "condition"], sort=False)[["upsampled", "steps_per_epoch", "train_acc", "test_acc"]].mean().round(4)

# %% [markdown]
# ## Results
#
# **Figure 1.** Final test accuracy of every seed under plain training, USEFUL and random upsampling, one
# panel per optimizer; a line joins the three runs of one seed (same initialization). Look for the lines
# rising from *random* to *USEFUL*: that is the effect of choosing the slow cluster, with the number of
# updates held fixed. The step from *plain* to *random* is what extra updates alone buy.

# %%
order = ["plain", "random", "USEFUL"]
opts = list(final.optimizer.unique())
fig, axes = gu.subplots(ncols=len(opts), width=4.6, height=4.2, squeeze=False)
for ax, opt in zip(axes[0], opts):
    sub = final[final.optimizer == opt]
    for s, runs in sub.groupby("seed"):
        runs = runs.set_index("condition").loc[order]
        ax.plot(range(len(order)), runs.test_acc, color="grey", alpha=0.6, marker="o", markersize=4)
    sns.pointplot(data=sub, x="condition", y="test_acc", order=order, errorbar=None, color="C3",
                  markers="D", linestyles="", ax=ax)
    gu.label(ax, "training set", "test accuracy", f"{opt}: seeds (grey), mean (red)")

# %% [markdown]
# **Figure 2.** The clustering step for one class (the first seed, first optimizer): the softmax outputs
# of its training examples after `cluster_epoch` epochs, projected on their first two principal
# components, coloured by $k$-means cluster. Look for where $k$-means cuts the class: the slow-learnable
# cluster (the one USEFUL duplicates) lies on the side away from the confident outputs of the
# fast-learnable examples.

# %%
opt0, s0 = P.optimizers[0], seed_list[0]
probs0, labels0, slow0 = early[(opt0, s0)]
y_np = y_train.cpu().numpy()
cls = int(np.bincount(y_np[slow0], minlength=n_classes).argmax())  # the class with the largest slow cluster
members = np.flatnonzero(y_np == cls)
xy = PCA(n_components=2).fit_transform(probs0[members])
fig, ax = gu.subplots(width=6, height=4.6)
group = np.where(slow0[members], "slow-learnable (upsampled)", "fast-learnable")
kinds = ["fast-learnable", "slow-learnable (upsampled)"]
sns.scatterplot(x=xy[:, 0], y=xy[:, 1], hue=group, style=group, hue_order=kinds, style_order=kinds, s=18, ax=ax)
ax.legend(loc="best", framealpha=0.9)
gu.label(ax, "principal component 1 of early softmax output", "principal component 2",
         f"class {cls}, {opt0.upper()}, after epoch {P.cluster_epoch}")

# %% [markdown]
# **Figure 3.** When the plain runs first classify each training example correctly (epoch after which it
# is first right; examples never right sit at the right edge), split by the early cluster. Look for the
# slow-learnable cluster being learned later: the check that the early output does separate the examples
# whose features are learned late.

# %%
rows = []
for (opt, s), first in learn_epochs.items():
    slow = early[(opt, s)][2]
    first = np.where(np.isnan(first), P.epochs + 1, first)
    rows.append(pd.DataFrame({"optimizer": opt.upper(), "seed": s, "first epoch right": first,
                              "cluster": np.where(slow, "slow-learnable", "fast-learnable")}))
learn = pd.concat(rows, ignore_index=True)
fig, axes = gu.subplots(ncols=len(opts), width=4.6, height=4.0, squeeze=False)
for ax, opt in zip(axes[0], opts):
    sns.ecdfplot(data=learn[learn.optimizer == opt], x="first epoch right", hue="cluster",
                 hue_order=["fast-learnable", "slow-learnable"], ax=ax)
    gu.label(ax, "first epoch classified correctly", "fraction of examples", f"{opt}, plain runs")

# %% [markdown]
# ## Verdict
#
# The rule was fixed before running (study card 49). For each optimizer, over the paired seeds, the
# differences in final test accuracy *USEFUL − plain* and *USEFUL − random*, with percentile-bootstrap 95%
# intervals of the mean.
#
# - `supported` when, for SGD, the mean gain over random upsampling is > 0 and its interval excludes 0,
#   and, where SAM runs, SAM's mean gain over random is not negative;
# - `contradicted` when the interval of the gain over random lies entirely below 0 (SGD, or SAM where it
#   runs);
# - `inconclusive` otherwise, including when USEFUL beats plain training but not random upsampling (then
#   extra updates explain the gain).
#
# One addition to the card: both branches need at least 3 seeds (`n_seeds`), since a bootstrap interval
# over one or two differences says nothing. The gain over plain training and the learning-time gap of
# the clusters (median first-correct epoch, slow minus fast) are reported and do not enter the rule.

# %%
statistics = {"n_seeds": P.seeds, "sam_ran": float("sam" in P.optimizers)}
for opt in ("sgd", "sam"):
    sub = final[final.optimizer == opt.upper()].pivot(index="seed", columns="condition", values="test_acc")
    for other in ("plain", "random"):
        key = f"{opt}_gain_{other}"
        if len(sub):
            diff = (sub["USEFUL"] - sub[other]).to_numpy()
            lo, hi = gu.t_interval(diff) if len(diff) >= 2 else (float("nan"), float("nan"))
            statistics.update({f"{key}_mean": diff.mean(), f"{key}_lo": lo, f"{key}_hi": hi})
        else:
            statistics.update({f"{key}_mean": float("nan"), f"{key}_lo": float("nan"), f"{key}_hi": float("nan")})
    if len(sub):
        lt = learn[learn.optimizer == opt.upper()]
        med = lt.groupby(["seed", "cluster"])["first epoch right"].median().unstack()
        statistics[f"{opt}_learning_gap"] = float((med["slow-learnable"] - med["fast-learnable"]).mean())
        statistics[f"{opt}_upsampled_fraction"] = float(
            final[(final.optimizer == opt.upper()) & (final.condition == "USEFUL")].upsampled.mean() / n_train)
    else:
        statistics[f"{opt}_learning_gap"] = statistics[f"{opt}_upsampled_fraction"] = float("nan")

enough = gu.cond("n_seeds", ">=", 3)
RULE = gu.rule(
    supported=gu.all_of(
        enough,
        gu.cond("sgd_gain_random_mean", ">", 0), gu.cond("sgd_gain_random_lo", ">", 0),
        gu.any_of(gu.cond("sam_ran", "<", 0.5), gu.cond("sam_gain_random_mean", ">=", 0)),
    ),
    contradicted=gu.all_of(
        enough,
        gu.any_of(gu.cond("sgd_gain_random_hi", "<", 0),
                  gu.all_of(gu.cond("sam_ran", ">", 0.5), gu.cond("sam_gain_random_hi", "<", 0))),
    ),
)
record = gu.report_verdict(
    chapter="useful_upsampling", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["sgd_gain_random_mean", "sgd_gain_random_lo", "sgd_gain_plain_mean", "sam_gain_random_mean",
              "sam_gain_plain_mean"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - **Falsification run (stopgap, issue "dynamics repaired" still open for this chapter).** Added the
#   `upsample_slow` switch: its falsification value duplicates the fast-learnable cluster instead of the
#   slow one, removing the cause USEFUL names. The seed interval is now a t-interval (a percentile
#   bootstrap over 3 seeds passes a null effect one time in eight). The rule is otherwise unchanged;
#   the two sub-claims and more seeds are left for the chapter's repair.
# - **Scale.** A 1-D CNN of about 10k parameters on MNIST-1D, 30 epochs, 3 seeds (`cpu`), instead of
#   ResNets on CIFAR-scale images for 200 epochs. No data augmentation, so the paper's combination with
#   TrivialAugment is not tested.
# - **Clustering.** As in the paper: per class, $k$-means with $k=2$ on the network outputs at an early
#   epoch (here the softmax outputs, 10% of training), the higher-loss cluster upsampled by a factor of 2,
#   and training restarted from the same initialization. The early run uses the same optimizer as the
#   final run (SGD clusters for SGD, SAM clusters for SAM).
# - **Added control.** Random upsampling of a subset of the same size is not in the paper's main
#   tables; it is added because the upsampled set has more examples per epoch, hence more updates. It is
#   what the verdict compares against; the gain over plain training is reported beside it.
# - **SAM.** The original single-ascent SAM with the perturbation normalised over all parameters of a
#   model, weight decay applied in the descent step only; no adaptive or per-layer variants.
# - **The paper's numbers.** The paper's exact table entries (test error per data set, optimizer and
#   method) are not quoted here: they were not available offline when the chapter was written.
# - **Budget.** With SGD and SAM the `cpu` run took about 200 s on this machine's shared cores already
#   at 6000 signals (the card's 8000 would cost a third more), over the three-minute budget. So the `cpu`
#   default uses 6000 signals and SGD only, the fallback the study card names; SAM runs in the `gpu`
#   profile. Without SAM the rule's SAM clause is vacuous. This was a budget change made after a timed
#   run; the rule was not changed.
# - **Statistics.** Three seeds give a coarse bootstrap interval: it excludes 0 essentially only when
#   all three paired differences share a sign. The `gpu` profile runs 10 seeds on 40k signals.
