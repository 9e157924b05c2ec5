# ---
# jupyter:
#   genbook:
#     claim: An MLP trained by SGD on LMS data, where one linear coordinate and many
#       k-slab coordinates each separate the classes perfectly, relies on the linear
#       coordinate alone - randomizing it drops accuracy to chance, randomizing every
#       slab coordinate changes almost nothing - although the slabs are learnable.
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
#         epochs: 60
#         n_test: 20000
#         n_train: 100000
#         seeds: 5
#         width: 300
#       smoke:
#         depths:
#         - 2
#         dom_samples: 1000
#         dom_steps: 60
#         epochs: 5
#         n_test: 1000
#         n_train: 4000
#         seeds: 1
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
# **Claim under test.** Simplicity bias of SGD can be *extreme*: a network can rely exclusively on the
# simplest predictive feature and stay invariant to all more complex ones, even when those are equally
# predictive and learnable. On LMS-$k$ data (one **l**inear coordinate and **m**ultiple $k$-**s**lab
# coordinates, each of which alone separates the classes perfectly, the slabs with a *larger* margin),
# randomizing the linear coordinate across test points (the *S-randomized* test set) drops an MLP's
# accuracy to chance, while randomizing all slab coordinates together (*S^c-randomized*) leaves it at
# its clean value.
#
# **The paper's evidence.** Section 4, Table 1: for fully connected networks of several depths and widths
# trained with SGD on LMS-5, the standard test accuracy is about 100%, the $S^c$-randomized accuracy also
# about 100%, and the S-randomized accuracy about 50% (chance; AUC about 0.5). The same pattern holds on
# MS-(5,7) (a 5-slab as the simple feature, 7-slabs as the complex ones) and on MNIST-CIFAR "dominoes"
# (an MNIST digit stacked on a CIFAR image of the same label), where networks use the MNIST half only.
# Theorem 1 proves it for one-hidden-layer networks on a simplified LSN dataset.
#
# **What is scaled down.** The synthetic setting is the paper's at its own kind of scale: $d = 50$,
# $k = 5$, 20 000 training points, width 100, depths 1–3, 8 epochs (the card's 30 did not fit the time
# budget on a shared machine), 3 seeds per depth (`cpu`). The
# MNIST-CIFAR dominoes need CIFAR, which is not available offline; a small **dominoes** extension stacks
# an 8×8 scikit-learn digit (the simple half) on an MNIST-1D signal (the harder half), both of class 0
# vs 1. It is reported beside the verdict but does not enter it.

# %%
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from IPython.display import display
from sklearn.datasets import load_digits
from torch import nn

import genutils as gu
from genutils import many

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; seed s uses seed + s for its data, initialization and minibatch order
n_train = 20000  # LMS training points
n_test = 5000  # LMS test points
dim = 50  # input dimension d, one linear coordinate and d - 1 slab coordinates
slabs = 5  # k, the number of slabs per slab coordinate
margin = 0.1  # gamma, the margin of the linear coordinate
slab_noise = 0.1  # w, the half-width of each slab
depths = [1, 2, 3]  # numbers of hidden layers
width = 100  # hidden units per layer
epochs = 8  # passes over the training set
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
    n_test=gu.Int(min=10),
    dim=gu.Int(min=2),
    slabs=gu.Int(min=3),
    margin=gu.Float(gt=0, lt=1),
    slab_noise=gu.Float(gt=0),
    depths=gu.List(gu.Int(min=1), increasing=True),
    width=gu.Int(min=2),
    epochs=gu.Int(min=1),
    batch_size=gu.Int(min=1),
    lr=gu.Float(gt=0),
    momentum=gu.Float(min=0, lt=1),
    seeds=gu.Int(min=1),
    dominoes=gu.Bool(),
    dom_samples=gu.Int(min=200),
    dom_train=gu.Int(min=16),
    dom_steps=gu.Int(min=1),
)
gap = 2 / (P.slabs - 1)
if P.slab_noise >= gap / 2:
    raise gu.ParameterError("slab_noise", f"slabs of half-width {P.slab_noise} overlap (centres are {gap:.3g} "
                                          f"apart); use slab_noise < {gap / 2:.3g}")
if P.batch_size > P.n_train:
    raise gu.ParameterError("batch_size", f"must not exceed n_train = {P.n_train}, got {P.batch_size}")
device = gu.device()
steps = P.epochs * (P.n_train // P.batch_size)
steps_per_epoch = P.n_train // P.batch_size
record_at = sorted({0, *(steps_per_epoch * e for e in np.unique(np.geomspace(1, P.epochs, 8).astype(int)))})
print(f"{steps} SGD steps per network; slab centres {gap:.3g} apart, slab margin {gap / 2 - P.slab_noise:.3g} "
      f"against the linear margin {P.margin}")
P

# %% [markdown]
# ## Data: LMS-$k$
#
# The label $y \in \{-1, +1\}$ is uniform. Coordinate 1 is **linear**: $x_1 = y\,u$ with
# $u \sim \mathcal U[\gamma, 1]$, so the threshold $x_1 = 0$ separates the classes with margin $\gamma$.
# Coordinates $2, \dots, d$ are **$k$-slabs**: $k$ centres $c_j = -1 + 2j/(k-1)$ equally spaced on
# $[-1, 1]$, the centres with even $j$ belonging to $y = +1$ and odd $j$ to $y = -1$; each coordinate,
# independently, picks one of its label's centres uniformly and adds $\mathcal U[-w, w]$ noise. Every
# slab coordinate alone separates the classes too, with margin $1/(k-1) - w$ (0.15 here, above the linear
# margin 0.1), but only by a piecewise rule with $k - 1$ thresholds: the linear coordinate is the simplest
# feature, not the most robust one.
#
# ## Randomized test sets
#
# The paper measures what a trained network *uses* by destroying one feature group at a time while
# keeping its marginal distribution: the **S-randomized** test set permutes $x_1$ across test points (the
# slabs stay with their labels); the **S^c-randomized** test set permutes all slab coordinates jointly
# across test points ($x_1$ stays). A network that ignores the slabs keeps its accuracy on S^c-randomized
# data; one that relies on $x_1$ alone falls to chance on S-randomized data.

# %%
def lms(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of LMS-k in dimension `dim`: (x of shape (n, d), y in {-1, +1})."""
    y = torch.randint(0, 2, (n,), generator=generator).float() * 2 - 1
    x1 = y * (P.margin + (1 - P.margin) * torch.rand(n, generator=generator))
    centres = torch.linspace(-1, 1, P.slabs)
    pos, neg = centres[0::2], centres[1::2]  # even-index centres for y = +1, odd for y = -1
    pick_pos = pos[torch.randint(0, len(pos), (n, P.dim - 1), generator=generator)]
    pick_neg = neg[torch.randint(0, len(neg), (n, P.dim - 1), generator=generator)]
    slab = torch.where(y[:, None] > 0, pick_pos, pick_neg)
    slab = slab + P.slab_noise * (2 * torch.rand(n, P.dim - 1, generator=generator) - 1)
    return torch.cat([x1[:, None], slab], 1), y


def randomize(x: torch.Tensor, columns: slice, generator: torch.Generator) -> torch.Tensor:
    """A copy of x (n, d) with the given columns permuted jointly across the n rows."""
    out = x.clone()
    out[:, columns] = x[torch.randperm(x.shape[0], generator=generator)][:, columns]
    return out


SIMPLE, COMPLEX = slice(0, 1), slice(1, None)  # S = the linear coordinate, S^c = every slab coordinate

# %% [markdown]
# ## Networks and training
#
# Fully connected ReLU networks with `depth` hidden layers of `width` units and one output $f(x)$, trained
# by minibatch SGD with momentum 0.9 on the logistic loss $\log(1 + e^{-y f(x)})$, PyTorch's default
# initialization. For each depth, `seeds` networks (each with its own training set, test set, initialization
# and batch order) are trained together by `genutils.many`, alongside the **control**: the same networks on
# the same data but with $x_1$ permuted across the *training* points, so that only the slabs carry the
# label. The control's clean test accuracy tells whether this architecture, at this budget, can learn the
# slabs at all; without it, "the network ignores the slabs" could just mean "the slabs are too hard".

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


seed_list = [P.seed + s for s in range(P.seeds)]
train_x, train_x_ctrl, train_y, tests = [], [], [], {"clean": [], "S-randomized": [], "Sᶜ-randomized": []}
for s in seed_list:
    g = torch.Generator().manual_seed(s)
    x, y = lms(P.n_train, g)
    x_te, y_te = lms(P.n_test, g)
    train_x.append(x), train_y.append(y), train_x_ctrl.append(randomize(x, SIMPLE, g))
    tests["clean"].append(x_te)
    tests["S-randomized"].append(randomize(x_te, SIMPLE, g))
    tests["Sᶜ-randomized"].append(randomize(x_te, COMPLEX, g))
    tests.setdefault("y", []).append(y_te)
x_all = torch.stack(train_x + train_x_ctrl).to(device)  # models 0..seeds-1: main; seeds..2·seeds-1: control
y_all = torch.stack(train_y + train_y).to(device)
test_x = {name: torch.stack(v + v).to(device) for name, v in tests.items() if name != "y"}
test_y = torch.stack(tests["y"] + tests["y"]).to(device)

rows, trained = [], {}
for depth in P.depths:
    models = many.stack(mlp(depth, P.dim), seed_list + seed_list, device)

    def measure(models: many.ManyModels, step: int) -> dict[str, torch.Tensor]:
        return {name: accuracy(models, xt, test_y) for name, xt in test_x.items()}

    history = many.train_many(models, x_all, y_all, logistic_loss, steps=steps, data_seeds=seed_list + seed_list,
                              per_model_data=True, batch_size=P.batch_size, lr=P.lr, momentum=P.momentum,
                              record=measure, record_at=record_at, desc=f"depth {depth}")
    df = history.frame()
    df["run"] = np.where(df.model < P.seeds, "main", "control (x₁ permuted in training)")
    df["seed"] = df.model.map(dict(enumerate(seed_list + seed_list)))
    df["depth"], df["epoch"] = depth, df.step / steps_per_epoch
    rows.append(df.drop(columns="model"))
    trained[depth] = models
history = pd.concat(rows, ignore_index=True)
final = history[history.step == steps]
final.groupby(["depth", "run"])[["clean", "S-randomized", "Sᶜ-randomized"]].agg(["mean", "std"]).round(3)

# %% [markdown]
# ## Results
#
# **Figure 1.** Final test accuracy per depth on the clean, S-randomized and S^c-randomized test sets, for
# the main networks and for the control (mean ± s.d. over seeds; the dotted line is chance). Look for the
# main networks' S-randomized accuracy at 0.5 while their S^c-randomized accuracy stays at the clean level,
# and for the control's clean accuracy near 1: the slabs were learnable, yet the main networks ignore them.

# %%
long = final.melt(id_vars=["depth", "run", "seed"], value_vars=["clean", "S-randomized", "Sᶜ-randomized"],
                  var_name="test set", value_name="accuracy")
fig, axes = gu.subplots(ncols=2, width=5, height=4.2)
for ax, run in zip(axes, ["main", "control (x₁ permuted in training)"]):
    sns.pointplot(data=long[long.run == run], x="depth", y="accuracy", hue="test set", errorbar="sd",
                  dodge=0.4, linestyle="none", markers=["o", "s", "D"], ax=ax, legend=ax is axes[0])
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set(ylim=(0.3, 1.03))
    gu.label(ax, "hidden layers (depth)", "test accuracy", run)

# %% [markdown]
# **Figure 2.** Accuracy on the three test sets during training (main networks, mean over seeds and depths
# ± s.d.). Look for the S-randomized curve staying near 0.5 throughout: the network never picks up the slabs,
# neither early nor after the linear coordinate has fitted the training set.

# %%
curve = history[history.run == "main"].melt(id_vars=["epoch", "depth", "seed"],
                                             value_vars=["clean", "S-randomized", "Sᶜ-randomized"],
                                             var_name="test set", value_name="accuracy")
curve["epoch + 1"] = curve.epoch + 1
fig, ax = gu.subplots(width=7, height=4)
sns.lineplot(data=curve, x="epoch + 1", y="accuracy", hue="test set", marker="o", errorbar="sd", ax=ax)
ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
ax.set(xscale="log", ylim=(0.3, 1.03))
gu.label(ax, "epoch + 1 (log scale)", "test accuracy", "Main networks during training")

# %% [markdown]
# **Figure 3.** Two-dimensional slices of the learned functions (seed 0, deepest network): the predicted class
# over the plane $(x_1, x_2)$, with the other slab coordinates $x_3, \dots, x_d$ fixed at those of one test
# point of class $+1$ (top) or of class $-1$ (bottom). The shaded bands are the slabs of class $+1$ in $x_2$.
# Orange is "predicts +1", blue "predicts −1". Look for a vertical boundary near $x_1 = 0$ in both rows for the
# main network (it reads $x_1$; the fixed slabs only shift the threshold a little, which is the small drop on the
# S^c-randomized set), and for the control a prediction set by the fixed slab coordinates, whatever $x_1$ is.

# %%
grid = torch.linspace(-1.2, 1.2, 161)
g1, g2 = torch.meshgrid(grid, grid, indexing="xy")
x_te0, y_te0 = tests["clean"][0], tests["y"][0]
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
        for c in torch.linspace(-1, 1, P.slabs)[0::2]:
            ax.axhspan(c - P.slab_noise, c + P.slab_noise, color="k", alpha=0.12, linewidth=0)
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
# trained on the dominoes, and a control with the digit half permuted across training pairs; both are tested on
# clean, S-randomized (digit half permuted) and S^c-randomized (MNIST-1D half permuted) dominoes.

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
# The rule was fixed before running (study card 35), on means over seeds for each depth:
#
# - **reliance on the simple feature**: S-randomized accuracy ≤ 0.60, S^c-randomized accuracy ≥ clean
#   accuracy − 0.10, and clean accuracy ≥ 0.95;
# - **slabs learnable**: the control's clean test accuracy ≥ 0.90;
# - `supported` when both hold for every depth; `contradicted` when, for some depth, the control learns the
#   slabs and the main network's S-randomized accuracy is ≥ 0.80 (it uses the slabs too); `inconclusive`
#   otherwise.
#
# The dominoes extension is reported beside the verdict; it does not enter the rule.

# %%
means = final.groupby(["depth", "run"])[["clean", "S-randomized", "Sᶜ-randomized"]].mean()
statistics, reliance, learnable, uses_slabs = {}, [], [], []
for depth in P.depths:
    main, ctrl = means.loc[(depth, "main")], means.loc[(depth, "control (x₁ permuted in training)")]
    statistics.update({
        f"clean_d{depth}": main["clean"],
        f"s_rand_d{depth}": main["S-randomized"],
        f"sc_rand_d{depth}": main["Sᶜ-randomized"],
        f"sc_minus_clean_d{depth}": main["Sᶜ-randomized"] - main["clean"],
        f"control_clean_d{depth}": ctrl["clean"],
        f"control_s_rand_d{depth}": ctrl["S-randomized"],
    })
    reliance.append(gu.all_of(gu.cond(f"s_rand_d{depth}", "<=", 0.60),
                              gu.cond(f"sc_minus_clean_d{depth}", ">=", -0.10),
                              gu.cond(f"clean_d{depth}", ">=", 0.95)))
    learnable.append(gu.cond(f"control_clean_d{depth}", ">=", 0.90))
    uses_slabs.append(gu.all_of(learnable[-1], gu.cond(f"s_rand_d{depth}", ">=", 0.80)))
main_final = final[final.run == "main"]
statistics.update({
    "max_s_rand": main_final.groupby("depth")["S-randomized"].mean().max(),
    "min_sc_minus_clean": (main_final.groupby("depth")["Sᶜ-randomized"].mean()
                           - main_final.groupby("depth")["clean"].mean()).min(),
    "min_control_clean": means.xs("control (x₁ permuted in training)", level="run")["clean"].min(),
    "s_rand_ci_low": gu.bootstrap_ci(main_final["S-randomized"].to_numpy())[0],
    "s_rand_ci_high": gu.bootstrap_ci(main_final["S-randomized"].to_numpy())[1],
})
if dom is not None:
    dm = dom.groupby("run").mean()
    statistics.update({
        "dominoes_clean": dm.loc["main", "clean"],
        "dominoes_s_rand": dm.loc["main", "S-randomized"],
        "dominoes_sc_rand": dm.loc["main", "Sᶜ-randomized"],
        "dominoes_control_clean": dm.loc["control (digit permuted in training)", "clean"],
    })
RULE = gu.rule(supported=gu.all_of(*reliance, *learnable), contradicted=gu.any_of(*uses_slabs))
record = gu.report_verdict(
    chapter="simplicity_bias", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["max_s_rand", "min_sc_minus_clean", "min_control_clean"]
    + (["dominoes_s_rand", "dominoes_sc_rand"] if dom is not None else []),
)

# %% [markdown]
# ## Faithfulness notes
#
# - The LMS-$k$ construction follows the study card's reading of the paper (linear coordinate with margin
#   $\gamma$, $k$ alternating slabs of half-width $w$ per other coordinate); the paper's exact scaling of the
#   coordinates and its optimizer settings may differ in detail. The S- and S^c-randomized test sets are the
#   paper's: a feature group is permuted across test points, which keeps its marginal and breaks its link
#   to the label.
# - The control (x₁ permuted in *training*) is the card's, not a table of the paper: the paper argues
#   learnability by training on the slabs alone in its appendix. Here it shares architecture, data, seeds and
#   budget with the main run, so it isolates the presence of the linear feature.
# - Figure 3 fixes the other slab coordinates at a test point, as the card asks. A first draft used a diagonal
#   slice ($x_2 = \dots = x_d = s$) instead; it is off the data distribution, and there the control predicted
#   $-1$ near $s = 0$ (a $+1$ slab), a hint that with 49 slab coordinates the control can also separate the
#   classes by an aggregate such as $\sum_i x_i^2$ (class $+1$ sits at $\pm1$ two times in three) rather than
#   slab by slab. Either way the control's accuracy comes from the slab coordinates: it falls to chance on the
#   S^c-randomized test set.
# - The paper's numbers above are given as approximate values (about 100% / 100% / 50%) because the exact
#   rows of Table 1 could not be checked offline.
# - Dominoes: CIFAR is not available offline, so the digits + MNIST-1D pair stands in for MNIST-CIFAR, with
#   only two classes and small pools (216 training digits at `cpu`, drawn with replacement), a depth-2 network
#   and a step size of lr/10 (chosen before running, since the standardized 104-dimensional inputs are larger
#   than LMS's). It is an
#   illustration beside the verdict, not a test of the paper's image results.
