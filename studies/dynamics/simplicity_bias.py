# ---
# jupyter:
#   genbook:
#     claim: An MLP trained by SGD to convergence on LMS-5 data, where one linear coordinate
#       and many five-slab coordinates each separate the classes perfectly, relies on
#       the linear coordinate alone - randomizing it drops accuracy to chance, randomizing
#       every slab coordinate changes almost nothing - although the slabs are learnable
#       by the same network.
#     'null':
#       lin_corrupt: 0.5
#     null_reason: The linear coordinate is the simple feature the paper says SGD locks
#       onto; flipping its sign on a random half of the points (training and test) makes
#       it independent of the label, so the network must use the slabs and randomizing
#       the linear coordinate can no longer hurt.
#     paper: Shah, Tamuly, Raghunathan, Jain & Netrapalli 2020, arXiv:2006.07710
#     part: dynamics
#     profiles:
#       gpu:
#         depths:
#         - 1
#         - 2
#         - 3
#         - 4
#         dim: 100
#         dom_samples: 5000
#         max_epochs: 300
#         n_test: 20000
#         n_train: 100000
#         n_val: 5000
#         seeds: 5
#         width: 300
#       smoke:
#         depths:
#         - 2
#         dom_samples: 1000
#         dom_steps: 60
#         max_epochs: 40
#         min_epochs: 4
#         n_test: 1000
#         n_train: 4000
#         n_val: 1000
#         seeds: 2
#     title: Simplicity bias - networks use the linear feature and ignore the slabs
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
# # The pitfalls of simplicity bias in neural networks
#
# **Paper.** Harshay Shah, Kaustav Tamuly, Aditi Raghunathan, Prateek Jain and Praneeth Netrapalli,
# *The Pitfalls of Simplicity Bias in Neural Networks*, NeurIPS 2020
# ([arXiv:2006.07710](https://arxiv.org/abs/2006.07710)).
#
# **Claim under test.** Observation (i) of the abstract: "SB of SGD and variants can be extreme: neural
# networks can exclusively rely on the simplest feature and remain invariant to all predictive complex
# features." On LMS-5 data (one **l**inear coordinate and **m**ultiple 5-**s**lab coordinates, each of which
# alone separates the classes perfectly), randomizing the linear coordinate across test points (the
# *S-randomized* test set) drops a trained MLP's accuracy to chance, while randomizing all slab coordinates
# together (*S^c-randomized*) leaves it at its clean value. Extreme simplicity bias is a statement about the
# *trained* network, so every network here is trained until a convergence criterion on held-out training
# data holds, not for a fixed short budget.
#
# **The paper's evidence.** Section 4 reports, for fully connected networks of several depths and widths
# trained with SGD on LMS-5, standard test accuracy near 100%, S^c-randomized accuracy near the standard
# accuracy and S-randomized accuracy near chance (the same on MS-(5,7) and on MNIST-CIFAR "dominoes", where
# networks use the MNIST half only); Theorem 1 proves it for one-hidden-layer networks on a simplified LSN
# dataset. The exact rows of the paper's table could not be read here (see the faithfulness notes).
#
# **What is scaled down.** The synthetic setting is the paper's own: the LMS-5 construction of the official
# code (margins 0.1, $d = 50$), 20 000 training points, width 100, depths 1–3, 3 seeds per depth (`cpu`),
# each network trained to convergence (at most 200 epochs). The MNIST-CIFAR dominoes need CIFAR, which is
# not available offline; a small **dominoes** extension stacks an 8×8 scikit-learn digit (the simple half) on
# an MNIST-1D signal (the harder half). It is reported beside the verdict but does not enter it.
#
# **Falsification run.** The cause the paper names is the presence of a simple (linear) feature that SGD
# locks onto. The falsification run flips the sign of the linear coordinate on a random half of the points
# (`lin_corrupt` = 0.5, the official code's `corrupt_lin` knob), which makes it independent of the label and
# leaves everything else as it is: the network then has to use the slabs, randomizing the linear coordinate
# cannot hurt, and the verdict must not be `supported`.

# %%
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from IPython.display import display
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from torch import nn

import genutils as gu
from genutils import many

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; seed s uses seed + s for its data, initialization and minibatch order
n_train = 20000  # LMS training points per seed
n_val = 2000  # held-out points of the training distribution, read by the stopping rule only
n_test = 5000  # LMS test points per seed
dim = 50  # input dimension d, one linear coordinate and d - 1 five-slab coordinates
margin = 0.1  # gamma, the half-gap of the linear coordinate around 0
slab_margin = 0.1  # the half-gap between neighbouring slabs
lin_corrupt = 0.0  # fraction of points whose linear coordinate has its sign flipped (0.5 removes the feature)
depths = [1, 2, 3]  # numbers of hidden layers
width = 100  # hidden units per layer
max_epochs = 200  # cap on passes over the training set
min_epochs = 10  # no stop before this many epochs
tol = 0.01  # largest change of a held-out accuracy over the second half of training that counts as converged
fit_acc = 0.99  # training accuracy a converged network must reach
batch_size = 256  # minibatch size
lr = 0.1  # SGD step size
momentum = 0.9  # SGD momentum
seeds = 3  # independent repetitions per depth
dominoes = True  # run the digits plus MNIST-1D dominoes extension
dom_samples = 5000  # MNIST-1D samples generated, of which classes 0 and 1 are kept
dom_train = 2000  # dominoes training pairs
dom_steps = 300  # SGD steps for the dominoes networks

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_train=gu.Int(min=16),
    n_val=gu.Int(min=10),
    n_test=gu.Int(min=10),
    dim=gu.Int(min=2),
    margin=gu.Float(gt=0, lt=1),
    slab_margin=gu.Float(gt=0, lt=0.25),
    lin_corrupt=gu.Float(min=0, max=0.5),
    depths=gu.List(gu.Int(min=1), increasing=True),
    width=gu.Int(min=2),
    max_epochs=gu.Int(min=2),
    min_epochs=gu.Int(min=2),
    tol=gu.Float(gt=0, lt=1),
    fit_acc=gu.Float(gt=0.5, max=1),
    batch_size=gu.Int(min=1),
    lr=gu.Float(gt=0),
    momentum=gu.Float(min=0, lt=1),
    seeds=gu.Int(min=2),
    dominoes=gu.Bool(),
    dom_samples=gu.Int(min=200),
    dom_train=gu.Int(min=16),
    dom_steps=gu.Int(min=1),
)
if P.batch_size > P.n_train:
    raise gu.ParameterError("batch_size", f"must not exceed n_train = {P.n_train}, got {P.batch_size}")
if P.min_epochs > P.max_epochs:
    raise gu.ParameterError("min_epochs", f"must not exceed max_epochs = {P.max_epochs}, got {P.min_epochs}")
device = gu.device()
steps_per_epoch = P.n_train // P.batch_size
slab_width = (2 - 8 * P.slab_margin) / 5
print(f"{steps_per_epoch} SGD steps per epoch, at most {P.max_epochs} epochs; slab width {slab_width:.3g}, "
      f"slab half-gap {P.slab_margin}, linear half-gap {P.margin}")
P

# %% [markdown]
# ## Data: LMS-5
#
# The label $y \in \{-1, +1\}$ is uniform, and every coordinate lies in $[-1, 1]$.
# Coordinate 1 is **linear**: $x_1 = y\,(\gamma + (1-\gamma)u)$ with $u \sim \mathcal U[0, 1]$, so the
# threshold $x_1 = 0$ separates the classes with half-gap $\gamma$. (With `lin_corrupt` $= c$, the sign of
# $x_1$ is flipped on each point independently with probability $c$; at $c = 0.5$, $x_1$ is independent of $y$.)
# Coordinates $2, \dots, d$ are **5-slabs**, following the official code: $[-1, 1]$ is cut into five slabs of
# width $w = (2 - 8m)/5$ separated by gaps $2m$ ($m$ = `slab_margin`). Class $+1$ sits in the two inner slabs
# (each with probability 1/2), class $-1$ in the centre slab with probability 3/4 and in the two outer slabs
# with probability 1/8 each; each coordinate, independently given $y$, picks its slab and a uniform point in it.
# Every slab coordinate alone separates the classes with the same half-gap $m = 0.1$ as the linear one, but
# only by a rule with four thresholds: the linear coordinate is the simplest feature, not the only one and not
# the most robust one (the 49 slab coordinates together allow a far larger margin). The 3/4 is not arbitrary:
# at $m = 0.1$ it gives both classes the same mean of $x_i^2$ (0.198), so the slab block cannot be read off its
# energy $\sum_i x_i^2$; higher moments still differ (see the control below).
#
# ## Randomized test sets
#
# The paper measures what a trained network *uses* by destroying one feature group at a time while keeping its
# marginal distribution: the **S-randomized** test set permutes $x_1$ across test points (the slabs stay with
# their labels); the **S^c-randomized** test set permutes all slab coordinates jointly across test points
# ($x_1$ stays). A network that ignores the slabs keeps its accuracy on S^c-randomized data; one that relies on
# $x_1$ alone falls to chance on S-randomized data.

# %%
def lms(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of LMS-5 in dimension `dim`: (x of shape (n, d), y in {-1, +1})."""
    y = torch.randint(0, 2, (n,), generator=generator).float() * 2 - 1
    x1 = y * (P.margin + (1 - P.margin) * torch.rand(n, generator=generator))
    flip = torch.rand(n, generator=generator) < P.lin_corrupt
    x1 = torch.where(flip, -x1, x1)
    k = P.dim - 1
    centres = -1 + slab_width / 2 + torch.arange(5) * (slab_width + 2 * P.slab_margin)
    inner = torch.where(torch.rand(n, k, generator=generator) < 0.5, 1, 3)  # class +1: slabs 1 and 3
    r = torch.rand(n, k, generator=generator)  # class -1: slab 2 w.p. 3/4, slabs 0 and 4 w.p. 1/8 each
    outer = torch.where(r < 0.75, 2, torch.where(r < 0.875, 0, 4))
    slab = torch.where(y[:, None] > 0, inner, outer)
    x_slab = centres[slab] + slab_width * (torch.rand(n, k, generator=generator) - 0.5)
    return torch.cat([x1[:, None], x_slab], 1), y


def randomize(x: torch.Tensor, columns: slice, generator: torch.Generator) -> torch.Tensor:
    """A copy of x (n, d) with the given columns permuted jointly across the n rows."""
    out = x.clone()
    out[:, columns] = x[torch.randperm(x.shape[0], generator=generator)][:, columns]
    return out


SIMPLE, COMPLEX = slice(0, 1), slice(1, None)  # S = the linear coordinate, S^c = every slab coordinate

# %% [markdown]
# ## Networks, training and the stopping rule
#
# Fully connected ReLU networks with `depth` hidden layers of `width` units and one output $f(x)$, trained by
# minibatch SGD with momentum 0.9 on the logistic loss $\log(1 + e^{-y f(x)})$, PyTorch's default
# initialization. For each depth, `seeds` networks (each with its own training, held-out and test sets,
# initialization and batch order) are trained together by `genutils.many`, alongside the **control**: the same
# networks on the same data but with $x_1$ permuted across the *training* points, so that only the slabs carry
# the label. The control's clean test accuracy tells whether this architecture, with this optimizer, can learn
# the slab block at all; without it, "the network ignores the slabs" could just mean "the slabs are too hard".
#
# **Convergence.** After every epoch each network is evaluated on its own training set (first 5 000 points)
# and on its held-out split (`n_val` points of the training distribution that it never trains on, with fixed
# S- and S^c-randomized copies). A network has **converged** at epoch $e \ge$ `min_epochs` when its training
# accuracy is at least `fit_acc` and none of its three held-out accuracies (clean, S-randomized,
# S^c-randomized) moved by more than `tol` between epoch $\lfloor e/2 \rfloor$ and epoch $e$: doubling the
# training did not change what it uses. All networks of a depth, main and control, train until every one of
# them has converged (or `max_epochs`), so the control gets the same optimizer and at least the same training
# as the main networks, and the test sets are read only once, at the end.

# %%
def mlp(depth: int, d_in: int):
    def make() -> nn.Sequential:
        layers, n_in = [], d_in
        for _ in range(depth):
            layers += [nn.Linear(n_in, P.width), nn.ReLU()]
            n_in = P.width
        return nn.Sequential(*layers, nn.Linear(n_in, 1))
    return make


def logistic_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of log(1 + exp(−y f(x))), written with softplus."""
    return F.softplus(-y * out.squeeze(-1)).mean()


def accuracy(models: many.ManyModels, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-model accuracy (K,) on per-model data x (K, n, d), y (K, n)."""
    return ((models(x, per_model=True).squeeze(-1) > 0).float() * 2 - 1 == y).float().mean(1)


TEST_SETS = ["clean", "S-randomized", "Sᶜ-randomized"]
seed_list = [P.seed + s for s in range(P.seeds)]
runs = ["main"] * P.seeds + ["control (x₁ permuted in training)"] * P.seeds
train_x, train_x_ctrl, train_y = [], [], []
val, test = {name: [] for name in TEST_SETS + ["y"]}, {name: [] for name in TEST_SETS + ["y"]}
for s in seed_list:
    g = torch.Generator().manual_seed(s)
    x, y = lms(P.n_train + P.n_val, g)
    x_te, y_te = lms(P.n_test, g)
    x, x_val, y, y_val = x[:P.n_train], x[P.n_train:], y[:P.n_train], y[P.n_train:]
    train_x.append(x), train_y.append(y), train_x_ctrl.append(randomize(x, SIMPLE, g))
    for split, xs, ys in ((val, x_val, y_val), (test, x_te, y_te)):
        split["clean"].append(xs), split["y"].append(ys)
        split["S-randomized"].append(randomize(xs, SIMPLE, g))
        split["Sᶜ-randomized"].append(randomize(xs, COMPLEX, g))
# models 0..seeds-1: main; seeds..2·seeds-1: control, on the same points with x₁ permuted
x_all = torch.stack(train_x + train_x_ctrl).to(device)
y_all = torch.stack(train_y + train_y).to(device)
n_fit = min(P.n_train, 5000)
x_fit, y_fit = x_all[:, :n_fit], y_all[:, :n_fit]
val_x = {name: torch.stack(val[name] * 2).to(device) for name in TEST_SETS}
val_y = torch.stack(val["y"] * 2).to(device)
test_x = {name: torch.stack(test[name] * 2).to(device) for name in TEST_SETS}
test_y = torch.stack(test["y"] * 2).to(device)


def converged(curve: list[dict[str, np.ndarray]], e: int) -> np.ndarray:
    """Per model: fits its training set at epoch e and no held-out accuracy moved by more than tol since e // 2."""
    now, half = curve[e], curve[e // 2]
    stable = np.all([np.abs(now[name] - half[name]) <= P.tol for name in TEST_SETS], axis=0)
    return (e >= P.min_epochs) & (now["train"] >= P.fit_acc) & stable


curves, finals, trained, stops = [], [], {}, {}
for depth in P.depths:
    models = many.stack(mlp(depth, P.dim), seed_list + seed_list, device)
    curve: list[dict[str, np.ndarray]] = []

    def measure(models: many.ManyModels, step: int) -> dict[str, torch.Tensor]:
        e = step // steps_per_epoch
        now = {name: accuracy(models, val_x[name], val_y).cpu().numpy() for name in TEST_SETS}
        now["train"] = accuracy(models, x_fit, y_fit).cpu().numpy()
        now["val_loss"] = torch.vmap(logistic_loss)(models(val_x["clean"], per_model=True), val_y).cpu().numpy()
        curve.append(now)
        if e >= 1 and converged(curve, e).all():
            raise many.StopTraining
        return {"train": torch.as_tensor(now["train"])}

    many.train_many(models, x_all, y_all, logistic_loss, steps=P.max_epochs * steps_per_epoch,
                    data_seeds=seed_list + seed_list, per_model_data=True, batch_size=P.batch_size, lr=P.lr,
                    momentum=P.momentum, record=measure,
                    record_at=[e * steps_per_epoch for e in range(P.max_epochs + 1)], desc=f"depth {depth}")
    stop = len(curve) - 1
    done = converged(curve, stop)
    stops[depth] = stop
    with torch.no_grad():
        acc = {name: accuracy(models, test_x[name], test_y).cpu().numpy() for name in TEST_SETS}
        # how often the prediction on the S-randomized test set is just the sign of the (permuted) x₁
        out = models(test_x["S-randomized"], per_model=True).squeeze(-1)
        sign_agree = ((out > 0) == (test_x["S-randomized"][:, :, 0] > 0)).float().mean(1).cpu().numpy()
    finals.append(pd.DataFrame({"depth": depth, "run": runs, "seed": seed_list + seed_list, **acc,
                                "sign(x₁) agreement": sign_agree, "converged": done, "epochs": stop}))
    for e, now in enumerate(curve):
        curves.append(pd.DataFrame({"depth": depth, "run": runs, "seed": seed_list + seed_list, "epoch": e,
                                    **{k: v for k, v in now.items()}}))
    trained[depth] = models
    print(f"depth {depth}: stopped after {stop} epochs; converged: {int(done.sum())} of {len(done)} networks")
final = pd.concat(finals, ignore_index=True)
history = pd.concat(curves, ignore_index=True)
fitted = (history[history.train >= P.fit_acc].groupby(["depth", "run", "seed"]).epoch.min()
          .groupby(["depth", "run"]).max().unstack("run"))
print(f"epoch by which every seed's training accuracy had reached fit_acc = {P.fit_acc}:")
display(fitted)
final.groupby(["depth", "run"])[TEST_SETS + ["sign(x₁) agreement", "epochs"]].agg(["mean", "std"]).round(3)

# %% [markdown]
# ### What the control can and cannot show
#
# The control proves that the slab coordinates, *as a block*, are learnable by the same network and
# optimizer from the same points. It does not prove that the network would learn the 5-slab rule coordinate
# by coordinate: with 49 conditionally independent slab coordinates, any per-coordinate statistic whose mean
# differs between the classes separates them once averaged. The construction matches the classes' mean
# $x_i^2$, but not, say, their mean $|x_i|$ or $x_i^4$. The cell below measures how far such a smooth,
# permutation-symmetric aggregate goes: a logistic regression on three numbers per point (the means of
# $|x_i|$, $x_i^2$ and $x_i^4$ over the slab coordinates), fitted on seed 0's training set and scored on its
# test set. The main networks' S^c-randomized accuracy is the stronger statement: permuting the slab block
# destroys every such aggregate too, so a main network that keeps its accuracy there uses none of them.

# %%
def moments(x: torch.Tensor) -> np.ndarray:
    s = x[:, COMPLEX]
    return torch.stack([s.abs().mean(1), (s ** 2).mean(1), (s ** 4).mean(1)], 1).numpy()


aggregate = LogisticRegression(max_iter=2000).fit(moments(train_x[0]), train_y[0].numpy())
aggregate_acc = aggregate.score(moments(test["clean"][0]), test["y"][0].numpy())
energy_gap = float((test["clean"][0][:, COMPLEX] ** 2).mean(1)[test["y"][0] > 0].mean()
                   - (test["clean"][0][:, COMPLEX] ** 2).mean(1)[test["y"][0] < 0].mean())
print(f"aggregate of the slab block (means of |x|, x², x⁴): test accuracy {aggregate_acc:.3f}; "
      f"class gap in mean x² {energy_gap:+.4f}")

# %% [markdown]
# ## Results
#
# **Figure 1.** Test accuracy of the converged networks per depth on the clean, S-randomized and S^c-randomized
# test sets, for the main networks and for the control (mean ± s.d. over seeds; the dotted line is chance).
# Look for the main networks' S-randomized accuracy at 0.5 while their S^c-randomized accuracy stays at the
# clean level, and for the control's clean accuracy near 1: the slab block was learnable, yet the main networks
# ignore it.

# %%
long = final.melt(id_vars=["depth", "run", "seed"], value_vars=TEST_SETS, var_name="test set",
                  value_name="accuracy")
fig, axes = gu.subplots(ncols=2, width=5, height=4.2)
for ax, run in zip(axes, ["main", "control (x₁ permuted in training)"]):
    sns.pointplot(data=long[long.run == run], x="depth", y="accuracy", hue="test set", errorbar="sd",
                  dodge=0.4, linestyle="none", markers=["o", "s", "D"], ax=ax, legend=ax is axes[0])
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set(ylim=(0.3, 1.03))
    gu.label(ax, "hidden layers (depth)", "test accuracy", run)

# %% [markdown]
# **Figure 2.** Held-out accuracies during training, the curves the stopping rule reads (mean ± s.d. over
# seeds and depths; each depth stops at its own epoch, so late epochs average over fewer depths). Look, in
# the main networks, for the S-randomized curve staying near 0.5 all the way to the stop, long after the
# training set is fitted (the clean, S^c-randomized and training curves lie on top of each other at 1): more
# training does not make them pick up the slabs. The control shows how long the slabs take to be learned
# when they are the only signal.

# %%
curve_long = history.melt(id_vars=["epoch", "depth", "seed", "run"], value_vars=TEST_SETS + ["train"],
                          var_name="accuracy on", value_name="accuracy")
curve_long["accuracy on"] = curve_long["accuracy on"].replace(
    {"train": "training set", **{name: f"held-out, {name}" for name in TEST_SETS}})
fig, axes = gu.subplots(ncols=2, width=5.5, height=4)
for ax, run in zip(axes, ["main", "control (x₁ permuted in training)"]):
    sns.lineplot(data=curve_long[curve_long.run == run], x="epoch", y="accuracy", hue="accuracy on",
                 errorbar="sd", ax=ax, legend=ax is axes[0])
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set(ylim=(0.3, 1.03))
    gu.label(ax, "epoch", "accuracy", run)

# %% [markdown]
# **Explorer.** Figure 2 one depth at a time (Figure 2 pools the depths): move the slider over the number of
# hidden layers to see that depth's held-out curves, main networks (left) and control (right), with its final
# accuracies beside them. Look for the S-randomized curve of the main networks staying near 0.5 at every depth.

# %%
def depth_frame(depth: int, axes) -> None:
    for ax, run in zip(axes, ["main", "control (x₁ permuted in training)"]):
        sns.lineplot(data=curve_long[(curve_long.run == run) & (curve_long.depth == depth)], x="epoch", y="accuracy",
                     hue="accuracy on", errorbar="sd", ax=ax, legend=ax is axes[0])
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
        gu.label(ax, "epoch", "accuracy", f"{run}, depth {depth}")


gu.explore(P.depths, depth_frame, label="hidden layers", ncols=2, width=5.5,
           numbers=lambda d: final[final.depth == d].groupby("run")[TEST_SETS].mean().round(3))

# %% [markdown]
# **Figure 3.** Two-dimensional slices of the learned functions (seed 0, deepest network): the predicted class
# over the plane $(x_1, x_2)$, with the other slab coordinates $x_3, \dots, x_d$ fixed at those of one test
# point of class $+1$ (top) or of class $-1$ (bottom). The shaded bands are the two slabs of class $+1$ in $x_2$.
# Orange is "predicts +1", blue "predicts −1". Look for a vertical boundary near $x_1 = 0$ in both rows for the
# main network (it reads $x_1$), and for the control a prediction set by the fixed slab coordinates, whatever
# $x_1$ is. In the falsification run both columns should look like the control.

# %%
grid = torch.linspace(-1.2, 1.2, 161)
g1, g2 = torch.meshgrid(grid, grid, indexing="xy")
x_te0, y_te0 = test["clean"][0], test["y"][0]
centres = -1 + slab_width / 2 + torch.arange(5) * (slab_width + 2 * P.slab_margin)
fig, axes = gu.subplots(ncols=2, nrows=2, width=4.4, height=3.8)
for row, cls in enumerate([1.0, -1.0]):
    anchor = x_te0[(y_te0 == cls).nonzero()[0, 0]]
    plane = anchor.expand(g1.numel(), -1).clone()
    plane[:, 0], plane[:, 1] = g1.reshape(-1), g2.reshape(-1)
    with torch.no_grad():
        out = trained[P.depths[-1]](plane.to(device)).squeeze(-1).cpu()
    for col, (i, name) in enumerate([(0, "main"), (P.seeds, "control")]):
        ax = axes[row, col]
        ax.contourf(g1, g2, (out[i] > 0).float().reshape(g1.shape), levels=[-0.5, 0.5, 1.5],
                    colors=["#c6dbef", "#fdd0a2"])
        for c in centres[[1, 3]]:
            ax.axhspan(c - slab_width / 2, c + slab_width / 2, color="k", alpha=0.12, linewidth=0)
        ax.axvline(0, color="grey", linestyle=":", linewidth=1)
        gu.label(ax, "x₁ (linear coordinate)", "x₂ (a slab coordinate)",
                 f"{name}; x₃…x_d from class {int(cls):+d}")

# %% [markdown]
# ## Extension: digits + MNIST-1D dominoes
#
# The paper's MNIST-CIFAR dominoes stack an easy image (MNIST) on a hard one (CIFAR) of the same label. Here a
# *domino* concatenates a scikit-learn 8×8 digit (64 pixels, the simple half) and an MNIST-1D signal
# (40 values, the harder half), both of class 0 or both of class 1; each half is standardized. Training pairs
# are drawn (with replacement) from the two training pools, test pairs from held-out pools. A depth-2 MLP is
# trained on the dominoes for a fixed `dom_steps` steps (not to convergence: this is an illustration), and a
# control with the digit half permuted across training pairs; both are tested on clean, S-randomized (digit
# half permuted) and S^c-randomized (MNIST-1D half permuted) dominoes.

# %%
dom = None
if P.dominoes:
    digits = load_digits()
    keep = digits.target < 2
    dx, dy = torch.tensor(digits.data[keep], dtype=torch.float32), torch.tensor(digits.target[keep])
    split = torch.randperm(len(dy), generator=torch.Generator().manual_seed(P.seed))
    n_dig = int(0.6 * len(dy))
    m_xtr, m_ytr, m_xte, m_yte = gu.mnist1d(P.dom_samples, seed=42 + P.seed)
    pools = {"train": (dx[split[:n_dig]], dy[split[:n_dig]], m_xtr[m_ytr < 2], m_ytr[m_ytr < 2]),
             "test": (dx[split[n_dig:]], dy[split[n_dig:]], m_xte[m_yte < 2], m_yte[m_yte < 2])}
    mu_d, sd_d = pools["train"][0].mean(0), pools["train"][0].std(0) + 1e-3
    mu_m, sd_m = pools["train"][2].mean(0), pools["train"][2].std(0) + 1e-3

    def dominoes_set(part: str, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n dominoes: [standardized digit | standardized MNIST-1D signal] of one shared class, label ±1."""
        xd, yd, xm, ym = pools[part]
        cls = torch.randint(0, 2, (n,), generator=generator)
        halves = []
        for x_pool, y_pool, mu, sd in ((xd, yd, mu_d, sd_d), (xm, ym, mu_m, sd_m)):
            pick = torch.empty(n, dtype=torch.long)
            for c in (0, 1):
                idx = (y_pool == c).nonzero().squeeze(1)
                mask = cls == c
                pick[mask] = idx[torch.randint(0, len(idx), (int(mask.sum()),), generator=generator)]
            halves.append((x_pool[pick] - mu) / sd)
        return torch.cat(halves, 1), cls.float() * 2 - 1

    DIGIT, MNIST1D = slice(0, 64), slice(64, None)
    dxs, dxs_ctrl, dys, dtests = [], [], [], {"clean": [], "S-randomized": [], "Sᶜ-randomized": [], "y": []}
    for s in seed_list:
        g = torch.Generator().manual_seed(10_000 + s)
        x, y = dominoes_set("train", P.dom_train, g)
        x_te, y_te = dominoes_set("test", 2000, g)
        dxs.append(x), dys.append(y), dxs_ctrl.append(randomize(x, DIGIT, g))
        dtests["clean"].append(x_te), dtests["y"].append(y_te)
        dtests["S-randomized"].append(randomize(x_te, DIGIT, g))
        dtests["Sᶜ-randomized"].append(randomize(x_te, MNIST1D, g))
    dom_y = torch.stack(dtests["y"] * 2).to(device)
    dom_models = many.stack(mlp(2, 104), seed_list + seed_list, device)
    many.train_many(dom_models, torch.stack(dxs + dxs_ctrl).to(device), torch.stack(dys + dys).to(device),
                    logistic_loss, steps=P.dom_steps, data_seeds=seed_list + seed_list, per_model_data=True,
                    batch_size=min(P.batch_size, P.dom_train), lr=P.lr / 10, momentum=P.momentum,
                    desc="dominoes")
    with torch.no_grad():
        dom = pd.DataFrame({name: accuracy(dom_models, torch.stack(v * 2).to(device), dom_y).cpu().numpy()
                            for name, v in dtests.items() if name != "y"})
    dom["run"] = ["main"] * P.seeds + ["control (digit permuted in training)"] * P.seeds
    print(f"digit pool: {n_dig} train / {len(dy) - n_dig} test images; MNIST-1D pool: "
          f"{len(pools['train'][3])} train / {len(pools['test'][3])} test signals")
    display(dom.groupby("run").agg(["mean", "std"]).round(3))

# %% [markdown]
# **Figure 4.** Dominoes: accuracy on the three test sets (mean ± s.d. over seeds). Look for the same
# pattern as on LMS: the main network at chance when the digit half is randomized, unchanged when the MNIST-1D
# half is, while the control shows how much the MNIST-1D half alone can give.

# %%
if dom is not None:
    dlong = dom.melt(id_vars="run", var_name="test set", value_name="accuracy")
    fig, ax = gu.subplots(width=6.5, height=4)
    sns.barplot(data=dlong, x="run", y="accuracy", hue="test set", errorbar="sd", ax=ax)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set(ylim=(0, 1.05))
    gu.label(ax, "training run", "test accuracy", "Digits + MNIST-1D dominoes, depth 2")

# %% [markdown]
# ## Verdict
#
# The rule was committed before the first `cpu` run of this version. Per depth, over the `seeds` converged
# networks, with $[\ell, h]$ the 95% $t$-interval of the mean S-randomized test accuracy:
#
# - **reliance on the simple feature**: $h \le 0.60$, mean S^c-randomized accuracy ≥ mean clean accuracy
#   − 0.10, and mean clean accuracy ≥ 0.95;
# - **slabs learnable**: the control's mean clean test accuracy ≥ 0.90;
# - `supported` when both hold for every depth; `contradicted` when, for some depth, the control learns the
#   slabs and $\ell \ge 0.80$ (the network uses the slabs too); `inconclusive` otherwise.
# - **check** (the claim is about trained networks): every network, main and control, met the convergence
#   criterion before `max_epochs`; if any did not, the verdict is `inconclusive` whatever the accuracies say.
#
# The aggregate baseline and the dominoes extension are reported beside the verdict; they do not enter it.

# %%
means = final.groupby(["depth", "run"])[TEST_SETS].mean()
statistics, reliance, learnable, uses_slabs = {}, [], [], []
for depth in P.depths:
    main, ctrl = means.loc[(depth, "main")], means.loc[(depth, "control (x₁ permuted in training)")]
    lo, hi = gu.t_interval(final[(final.depth == depth) & (final.run == "main")]["S-randomized"].to_numpy())
    statistics.update({
        f"clean_d{depth}": main["clean"],
        f"s_rand_d{depth}": main["S-randomized"],
        f"s_rand_lo_d{depth}": lo,
        f"s_rand_hi_d{depth}": hi,
        f"sc_rand_d{depth}": main["Sᶜ-randomized"],
        f"sc_minus_clean_d{depth}": main["Sᶜ-randomized"] - main["clean"],
        f"control_clean_d{depth}": ctrl["clean"],
        f"control_s_rand_d{depth}": ctrl["S-randomized"],
        f"control_sc_rand_d{depth}": ctrl["Sᶜ-randomized"],
        f"epochs_d{depth}": stops[depth],
    })
    reliance.append(gu.all_of(gu.cond(f"s_rand_hi_d{depth}", "<=", 0.60),
                              gu.cond(f"sc_minus_clean_d{depth}", ">=", -0.10),
                              gu.cond(f"clean_d{depth}", ">=", 0.95)))
    learnable.append(gu.cond(f"control_clean_d{depth}", ">=", 0.90))
    uses_slabs.append(gu.all_of(learnable[-1], gu.cond(f"s_rand_lo_d{depth}", ">=", 0.80)))
statistics.update({
    "max_s_rand_hi": max(statistics[f"s_rand_hi_d{d}"] for d in P.depths),
    "max_s_rand_lo": max(statistics[f"s_rand_lo_d{d}"] for d in P.depths),
    "min_sc_minus_clean": min(statistics[f"sc_minus_clean_d{d}"] for d in P.depths),
    "min_control_clean": min(statistics[f"control_clean_d{d}"] for d in P.depths),
    "converged_frac": float(final["converged"].mean()),
    "min_sign_agree_main": float(final[final.run == "main"]["sign(x₁) agreement"].min()),
    "max_epochs_used": max(stops.values()),
    "aggregate_acc": aggregate_acc,
    "slab_energy_gap": energy_gap,
})
if dom is not None:
    dm = dom.groupby("run").mean()
    statistics.update({
        "dominoes_clean": dm.loc["main", "clean"],
        "dominoes_s_rand": dm.loc["main", "S-randomized"],
        "dominoes_sc_rand": dm.loc["main", "Sᶜ-randomized"],
        "dominoes_control_clean": dm.loc["control (digit permuted in training)", "clean"],
    })
RULE = gu.rule(supported=gu.all_of(*reliance, *learnable), contradicted=gu.any_of(*uses_slabs),
               checks={"all_networks_converged": gu.cond("converged_frac", ">=", 1.0)})
record = gu.report_verdict(
    chapter="simplicity_bias", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["max_s_rand_hi", "max_s_rand_lo", "min_sc_minus_clean", "min_control_clean", "converged_frac",
              "max_epochs_used"],
)

# %% [markdown]
# ### Reading of the `cpu` run
#
# Both runs were executed once under the rule above (committed before them); the numbers are from those runs
# on a loaded 2-core machine (main 62 s, falsification 63 s by the chapter's own clock; a first identical run
# took 45 s and 67 s).
#
# - **Main run: `supported`.** At every depth the main networks fit their training set after one epoch and kept
#   training to epoch 48, 36 and 32 (depths 1, 2, 3), when the slowest control had also converged. Their
#   S-randomized test accuracy is 0.496 ± 0.003 (t-interval [0.488, 0.504]) at all three depths, their clean
#   and S^c-randomized accuracies both 1.000, and on the S-randomized test set their prediction equals the
#   sign of the permuted $x_1$ on every test point (`min_sign_agree_main` = 1.0): the converged networks
#   compute sign($x_1$) and nothing else that matters. The controls reach their training set only at epochs
#   16–22, then 0.998–1.000 clean test accuracy. Every network met the convergence criterion.
# - **Falsification run (`lin_corrupt` = 0.5): `contradicted`.** With the linear coordinate made independent of
#   the label, the main networks learn the slab block like the control (clean 0.998–1.000, fitted at epochs
#   17–21): S-randomized accuracy equals the clean one (t-interval lower ends ≥ 0.992) and S^c-randomized
#   accuracy falls to 0.496. The rule can therefore fire `contradicted` at these sizes, and does so when the
#   cause the paper names is removed.
# - **What the control shows, and what it does not.** The slab block is learnable by these networks with this
#   optimizer and data (control clean ≥ 0.997 at every depth), so the main networks' indifference to it is a
#   preference, not an inability. But the three-number moment aggregate of the block alone gives test
#   accuracy 1.000 (`aggregate_acc`), even though the classes' mean $x_i^2$ is matched (gap −0.0009): the control
#   may be reading such an aggregate rather than the 5-slab rule coordinate by coordinate, and Figure 3 is
#   consistent with that (the control's prediction does not follow the slabs of $x_2$; it is set by the other
#   48 coordinates). So the chapter supports "the trained network ignores a learnable block of predictive
#   coordinates", not "it ignores a learnable *5-slab* feature".
# - **Not shown**: what happens over far longer training than doubling after the slowest network settled
#   (a few dozen epochs here), at other widths, learning rates or batch sizes, or with other optimizers.

# %% [markdown]
# ### Rule history
#
# - **This rule** (above) was committed before its first `cpu` run and has not been changed since: main
#   `supported`, falsification `contradicted` (see the reading above). Before it was fixed, one prototype
#   outside the chapter (official-code LMS-5, depth 2, 3 seeds, 32 fixed epochs) had shown the main networks'
#   S-randomized accuracy flat at chance and the control learning the slabs between epochs 8 and 16; that is
#   why the stopping rule requires the training set to be fitted (a control still on its plateau at chance is
#   "stable" but not converged).
# - **Previous rule** (study card 35, chapter before this repair): the same thresholds on *means* over seeds
#   (S-randomized ≤ 0.60, S^c-randomized ≥ clean − 0.10, clean ≥ 0.95, control clean ≥ 0.90 at every depth for
#   `supported`; control ≥ 0.90 and S-randomized ≥ 0.80 at some depth for `contradicted`), on the card's LMS
#   variant (slab centres at −1, −0.5, 0, 0.5, 1 with half-width 0.1, uniform choice of slab), every network
#   trained for a fixed **8 epochs**, no falsification run, and a percentile bootstrap over the 3 × 3 seed
#   values reported beside it. Its `cpu` verdict was **supported**: S-randomized accuracy ≤ 0.544 at all
#   depths, S^c-randomized within 0.046 of clean, control clean accuracy 0.999; 59.5 s.
# - **Why it was replaced** (review of the dynamics part, section 7): (1) 8 epochs, cut from the card's 30 for
#   time, favoured the claim — extreme simplicity bias is a statement about the *trained* network, and
#   logistic-loss training keeps moving after the training set is fitted, so a short budget makes
#   "S-randomized ≤ 0.60" easier; now every network trains until the convergence criterion above holds.
#   (2) There was no parameter that removes the cause; `lin_corrupt` now does, and the falsification run uses
#   it. (3) The card's LMS variant let the control separate the classes by the energy of the slab block
#   ($\sum_i x_i^2$: class +1 sat at $|x_i| = 1$ two times in three, class −1 at 0.5), so "the control learns
#   the slabs" proved less than it said; the data now follow the official code's LMS-5, whose slab
#   probabilities equalize the classes' mean $x_i^2$, and the chapter measures how far a moment aggregate
#   still goes. (4) The bootstrap over 3 seeds per depth is refused by the library; the rule now reads a
#   $t$-interval per depth (upper end for `supported`, lower end for `contradicted`) instead of the means alone.

# %% [markdown]
# ## Faithfulness notes
#
# - **This repair** (review of the dynamics part, section 7): training to a convergence criterion instead of
#   8 epochs, the `lin_corrupt` falsification run, the official code's LMS-5 instead of the card's variant,
#   $t$-intervals instead of a 3-seed bootstrap, and an explicit account of what the control shows; the
#   reasons are in the rule history above.
# - **Data.** The LMS-5 construction follows the official code (`scripts/gendata.py` of
#   github.com/harshays/simplicitybiaspitfalls, read, not copied): coordinates in $[-1, 1]$, linear and slab
#   half-gaps 0.1, slab width $(2 - 8m)/5$, class −1 in the centre slab with probability 3/4, and `corrupt_lin`
#   (here `lin_corrupt`, drawn per point rather than as an exact count). The official code draws the slab
#   block for the whole data set and then permutes rows; here each coordinate is drawn given the label, which
#   gives the same distribution. $d = 50$ (49 slab coordinates) as in the card.
# - **Randomized test sets** are the paper's: a feature group is permuted across test points, which keeps its
#   marginal and breaks its link to the label. The paper also reports AUCs; only accuracies are used here.
# - **Training.** SGD with momentum 0.9, lr 0.1, batch 256, logistic loss, PyTorch's default initialization;
#   the paper's exact optimizer settings and epoch counts were not checked. "Converged" is this chapter's
#   operational criterion (training set fitted, held-out accuracies unchanged within `tol` when training is
#   doubled), read on held-out points of the training distribution, never on the test sets. It cannot exclude a
#   change that would appear only after much longer training (the drift of logistic-loss training toward a
#   max-margin solution is logarithmically slow); the `gpu` profile allows 300 epochs at the paper's larger
#   sizes to push further.
# - **The control** (x₁ permuted in *training*) is the card's, not a table of the paper (the paper argues
#   learnability by training on the slabs alone). It shares architecture, optimizer, data, seeds and stopping
#   rule with the main run, and trains at least as long. What it shows: the slab block is learnable by this
#   network from these points. What it does not show: that the network learns the per-coordinate 5-slab rule
#   (the paper's "complex feature"), since a smooth aggregate of the block separates the classes too
#   (`aggregate_acc`); nor that the main network *would* learn the slabs if trained differently.
# - **Falsification run** (`lin_corrupt` = 0.5): the linear coordinate keeps its marginal but loses all
#   information about the label in training and test, so S-randomized accuracy should stay at the clean level
#   and the verdict should be `contradicted`, with the main networks behaving like the control.
# - **The paper's numbers.** Quoted above is observation (i) of the abstract (from the arXiv full text's
#   abstract as stored). The exact rows of the paper's Section 4 table could not be read: the stored copies of
#   the full text (arXiv 2006.07710 pages, a Hugging Face markdown copy, the SPIQA LaTeX and paragraph
#   extracts, vdocuments) returned only their opening sections, and the official notebook
#   `01_extremeSB_slab_data.ipynb` holds its results as images. The approximate values (≈ 100% / ≈ 100% /
#   ≈ 50%) are the card's reading, not a quotation.
# - **Dominoes**: CIFAR is not available offline, so the digits + MNIST-1D pair stands in for MNIST-CIFAR, with
#   only two classes and small pools (216 training digits at `cpu`, drawn with replacement), a depth-2 network,
#   a step size of lr/10 and a fixed number of steps. It is an illustration beside the verdict, not a test of
#   the paper's image results.
# - **Not tested**: the paper's other observations — that extreme SB explains non-robustness to small
#   perturbations (ii), that SB persists when the simple feature is *less* predictive than the complex ones (iii;
#   `lin_corrupt` between 0 and 0.5 gives the paper's noisy-linear L̂MS data to try it, no rule reads it), and
#   that ensembles and adversarial training fail to mitigate it (iv).
