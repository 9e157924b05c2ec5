# ---
# jupyter:
#   genbook:
#     claim: A task's inductive bias complexity, computed from its data alone, grows
#       exponentially with the intrinsic dimension and polynomially with the resolution,
#       and it orders tasks as a trained learner's test error at a fixed data budget
#       orders them.
#     'null':
#       labels: first
#     null_reason: The labels depend on the first circle of the torus only, so the target
#       no longer varies over the intrinsic dimensions that the measure counts, while
#       the inputs (and so the estimated dimension, radius and resolution) stay as they
#       were.
#     paper: Boopathy, Liu, Hwang, Ge, Mohammedsaleh & Fiete 2023, arXiv:2305.01034
#     part: theory
#     profiles:
#       gpu:
#         cells:
#         - 2
#         - 4
#         - 8
#         - 16
#         dims:
#         - 1
#         - 2
#         - 3
#         - 4
#         - 5
#         - 6
#         - 7
#         - 8
#         - 9
#         - 10
#         - 11
#         - 12
#         - 13
#         - 14
#         - 15
#         - 16
#         mnist1d_samples: 10000
#         n_test: 4000
#         n_train: 8000
#         resolutions:
#         - 4
#         - 8
#         - 16
#         - 32
#         - 64
#         - 128
#         - 256
#         seeds: 10
#         steps: 1500
#         task_dims:
#         - 1
#         - 2
#         - 3
#         - 4
#         - 5
#         - 6
#         - 7
#         - 8
#         width: 128
#       smoke:
#         cells:
#         - 2
#         - 4
#         dims:
#         - 1
#         - 2
#         - 3
#         - 4
#         - 5
#         - 6
#         mnist1d_samples: 1000
#         n_test: 300
#         n_train: 300
#         resolutions:
#         - 4
#         - 8
#         - 16
#         - 32
#         seeds: 2
#         steps: 100
#         task_dims:
#         - 1
#         - 2
#         - 3
#         width: 16
#     title: Generalization difficulty from data, against a learner's test error
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
# # A model-agnostic measure of generalization difficulty
#
# **Paper.** Akhilan Boopathy, Kevin Liu, Jaedong Hwang, Shu Ge, Asaad Mohammedsaleh and Ila Fiete,
# *Model-agnostic Measure of Generalization Difficulty*, ICML 2023
# ([arXiv:2305.01034](https://arxiv.org/abs/2305.01034); official code
# [FieteLab/inductive-bias-complexity](https://github.com/FieteLab/inductive-bias-complexity)).
#
# **Claim under test.** The *inductive bias complexity* $\tilde I$ of a task, the number of bits needed to
# single out a well-generalizing hypothesis among all hypotheses that fit the training data, "scales
# exponentially with the intrinsic dimensionality of the space over which the model must generalize but
# only polynomially in resolution per dimension, showing that tasks which require generalizing over many
# dimensions are drastically more difficult than tasks involving more detail in fewer dimensions"
# (abstract). Computed from a task's data alone, it should therefore **order tasks as a learner's
# difficulty orders them**: the tasks it calls hard should be the ones a trained model fails at, given the
# same number of training points. The scaling in dimension and resolution is a property of the paper's
# closed form and is checked here as an instrument; the ordering is the empirical claim, and it decides.
#
# **The paper's evidence.** The paper applies the measure "empirically" and reports that it "formally
# quantifies intuitively expected trends, e.g. that in terms of required inductive bias, MNIST < CIFAR10 <
# Imagenet and fully observable Markov decision processes (MDPs) < partially observable MDPs", and that
# "classification of complex images < few-shot meta-learning with simple images" (abstract). For images,
# $R$ is "the maximum norm of the training data points", $m$ comes from "the decay rate of nearest neighbor
# distances in the training set" (Pope et al., 2021; "For ImageNet, we choose n = 40000 and k = 200"),
# $\delta$ "is set to the inter-class margin for classification tasks", and $\varepsilon$ is fixed per task
# type (their Appendix D, Table 3) — all quoted from the ICML text as excerpted by the `pages` corpus
# (ri.k117.org summary of the ICML paper). The benchmark values themselves are bar charts (Fig. 5); the
# stored text gave no printed values, so they are recomputed below from the official code's parameters.
# Fig. 6 reads the inductive bias a model architecture provides off the test error it reaches, and
# Fig. 7 shows $\tilde I$ rising exponentially with the number of observed dimensions (Cartpole) and
# falling slowly with the number of training points (ImageNet). The paper never trains a model on a family
# of tasks of known dimension to check that the measure ranks them as the model's error does; that is
# the test this chapter adds.
#
# **The study (this chapter is its card; no separate card exists).**
# - *Data*: a family of binary tasks on flat tori $(S^1)^m$ of known intrinsic dimension
#   $m \in$ `task_dims`, embedded isometrically in $\mathbb R^{16}$, with a checkerboard label of `cells`
#   cells per circle (the resolution axis): $n$ = `n_train` training and `n_test` test points per task, a
#   fresh sample per seed.
# - *The measure*: the paper's classification estimate, fed with $\hat m$ (nearest-neighbour maximum
#   likelihood), $\hat\delta$ (smallest distance between classes) and $\hat R$ (largest norm) estimated from
#   the training points, as the official code does.
# - *The learner*: a ReLU MLP (two hidden layers of `width`), the same recipe for every task (full-batch
#   Adam, `steps` steps, learning rate `lr`), all tasks and seeds trained at once with `genutils.many`;
#   its test error at the fixed budget $n$ is its difficulty. A 1-nearest-neighbour classifier is
#   reported beside it and does not enter the rule.
# - *Seeds*: `seeds` replicates; replicate $r$ redraws every task's sample, embedding and network.
# - *Falsification run*: labels that depend on the first circle only (`labels = "first"`). The inputs are
#   the same, so the measure (which sees only $\hat m, \hat\delta, \hat R, n$) barely moves, but the target no
#   longer varies over the dimensions the measure counts.
#
# **What is scaled down.** Tori of dimension up to 6 with 2000 training points (`cpu`) instead of image
# benchmarks with $m$ of 14 to 48; one architecture; digits and MNIST-1D instead of MNIST, CIFAR-10 and
# ImageNet for the measure on real data. The reinforcement-learning and meta-learning results are not
# reproduced.

# %%
import math
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from scipy.special import gammaln
from scipy.stats import spearmanr
from sklearn.datasets import load_digits
from torch import nn

import genutils as gu
from genutils import many
from genutils.geometry import intrinsic_dim_mle, min_class_distance

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; replicate r of the task (m, cells s) uses seed + 10000·m + 100·s + r
error = 0.01  # target test error ε (the formula's ε / L_L)
n_formula = 1000  # training points n in the closed-form sweep (two classes)
dims = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]  # intrinsic dimensions m of the closed-form sweep
resolutions = [4, 8, 16, 32, 64, 128]  # resolutions R/δ of the closed-form sweep
task_dims = [1, 2, 3, 4, 5, 6]  # intrinsic dimensions m of the torus tasks
cells = [2, 4, 8]  # checkerboard cells per circle (the resolution axis of the tasks)
gap = 0.2  # width of the empty band around each cell boundary, as a fraction of a cell
labels = "all"  # all: checkerboard over every circle; first: stripes along the first circle only
n_train = 2000  # training points per task (the learner's budget and the formula's n)
n_test = 2000  # fresh test points per task
ambient = 16  # dimension of the space the tori are embedded in
k_neighbours = 5  # k of the nearest-neighbour intrinsic-dimension estimator
seeds = 4  # replicates: each redraws every task's sample, embedding and network
width = 64  # hidden units per layer of the MLP learner
steps = 400  # full-batch Adam steps of the learner
lr = 0.01  # Adam learning rate of the learner
mnist1d_samples = 5000  # MNIST-1D size, 80% of it used as the training set

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    error=gu.Float(gt=0, lt=1),
    n_formula=gu.Int(min=1),
    dims=gu.List(gu.Int(min=1), min_len=4, increasing=True),
    resolutions=gu.List(gu.Float(gt=1), min_len=3, increasing=True),
    task_dims=gu.List(gu.Int(min=1), min_len=2, increasing=True),
    cells=gu.List(gu.Int(min=2, max=98), min_len=1, increasing=True),
    gap=gu.Float(gt=0, lt=1),
    labels=gu.Choice("all", "first"),
    n_train=gu.Int(min=50),
    n_test=gu.Int(min=50),
    ambient=gu.Int(min=2),
    k_neighbours=gu.Int(min=3),
    seeds=gu.Int(min=2, max=99),
    width=gu.Int(min=2),
    steps=gu.Int(min=1),
    lr=gu.Float(gt=0),
    mnist1d_samples=gu.Int(min=100),
)
if P.ambient < 2 * max(P.task_dims):
    raise gu.ParameterError("ambient", f"must be at least 2·max(task_dims) = {2 * max(P.task_dims)} "
                                       f"to embed the {max(P.task_dims)}-torus, got {P.ambient}")
if any(s % 2 for s in P.cells):
    raise gu.ParameterError("cells", f"must be even, so that the checkerboard closes around each circle; got {P.cells}")
if len(P.task_dims) * len(P.cells) < 6:
    raise gu.ParameterError("task_dims", "task_dims × cells must give at least 6 tasks to rank, "
                                         f"got {len(P.task_dims)} × {len(P.cells)}")
if P.k_neighbours >= P.n_train:
    raise gu.ParameterError("k_neighbours", f"must be below n_train = {P.n_train}, got {P.k_neighbours}")
device = gu.device()
P

# %% [markdown]
# ## The measure
#
# A hypothesis $\theta$ is a function on the data manifold; $e(\theta, q)$ and $e(\theta, p)$ are its
# errors on the training set and on the test distribution. The inductive bias complexity is the
# information needed to pick a hypothesis that generalizes, given that it fits:
#
# $$\tilde I = -\log_2 \mathbb P\big(e(\theta,p)\le\varepsilon \,\big|\, e(\theta,q)\le\varepsilon_{\rm train}\big).$$
#
# The paper bounds it by the information needed to land within $\varepsilon/(L_{\mathcal L} L_f W(p,q))$ of
# the true hypothesis $\theta^*$ ($L_{\mathcal L}$, $L_f$ Lipschitz constants of the loss and of the
# hypotheses, $W$ the Wasserstein distance between the training set and the test distribution). The
# hypothesis space is every linear combination of Laplace–Beltrami eigenfunctions of the data manifold,
# modelled as an $m$-sphere of radius $R$, up to the frequency $M = 2\pi R/\delta$ that resolves the
# smallest distance $\delta$ between classes. On the $m$-sphere the eigenvalues are $k(k+m-1)$, so the
# highest degree is $K = \big(\sqrt{(m-1)^2+4M^2}-(m-1)\big)/2$ and the number of eigenfunctions is
# $E = \binom{m+K}{m} + \binom{m+K-1}{m}$, which grows like $M^m$. For $d$ classes ($D = d-1$ outputs,
# outputs bounded by $B = 1$) and $n$ training points the classification estimate is
#
# $$\tilde I \approx \underbrace{(2 D d\,E - nD)}_{\dim\Theta_q}\Big[\log_2 B + \tfrac12\log_2 D + \tfrac12\log_2 d
#   - \log_2\varepsilon + \log_2 \underbrace{\tfrac{K\sqrt D}{R}}_{L_f} + \log_2 \underbrace{c\,R\,n^{-1/m}}_{W}\Big],
# \qquad c = \sqrt{\tfrac m6}\Big(\tfrac{2\pi^{(m+1)/2} d}{\Gamma(\frac{m+1}{2})}\Big)^{1/m}.$$
#
# The first factor, the dimension of the hypothesis space left after fitting the $n$ training points,
# carries the scaling: $E \sim M^m$ is polynomial of degree $m$ in the resolution, and exponential in $m$
# at a fixed resolution. The bracket is the number of bits per remaining dimension. Below it is written
# in log space (binomials through $\log\Gamma$), since $E$ overflows for large $m$. When the $n$ points
# already pin down every dimension ($\dim\Theta_q \le 0$) the estimate is not positive: the data supply all
# the information, and for ranking tasks we read it as $\tilde I = 0$ (the key $\log_{10}(1+\tilde I)$ is 0).

# %%
def log10_binom(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log10 of the generalized binomial coefficient C(a, b), through log-gamma."""
    return (gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)) / math.log(10)


def log10_hypothesis_dim(m, resolution, classes):
    """log10 dim Θ = log10(2·D·d·E): coefficients of every eigenfunction up to M = 2πR/δ, per output."""
    m, res = np.asarray(m, dtype=float), np.asarray(resolution, dtype=float)
    M = 2 * math.pi * res
    K = (np.sqrt((m - 1) ** 2 + 4 * M**2) - (m - 1)) / 2
    log10_E = np.logaddexp(log10_binom(m + K, m) * math.log(10),
                           log10_binom(m + K - 1, m) * math.log(10)) / math.log(10)
    return math.log10(2 * (classes - 1) * classes) + log10_E


def difficulty_log10(m, resolution, n, classes, err, radius=1.0):
    """log10 of the inductive bias complexity in bits (NaN where the estimate is not positive).

    m: intrinsic dimension, resolution: R/δ, n: training points, classes: d, err: target error ε.
    Arguments broadcast, so one call evaluates a whole grid.
    """
    m, res, n = (np.asarray(v, dtype=float) for v in (m, resolution, n))
    D = classes - 1
    M = 2 * math.pi * res                                   # maximum frequency 2πR/δ
    K = (np.sqrt((m - 1) ** 2 + 4 * M**2) - (m - 1)) / 2    # highest spherical-harmonic degree
    log2_W = (0.5 * np.log(m / 6) + (math.log(2) + (m + 1) / 2 * math.log(math.pi) + math.log(classes)
              - gammaln((m + 1) / 2)) / m + math.log(radius) - np.log(n) / m) / math.log(2)
    log2_Lf = np.log2(K * math.sqrt(D) / radius)
    bits_per_dim = 0.5 * math.log2(D) + 0.5 * math.log2(classes) - math.log2(err) + log2_Lf + log2_W
    # dim Θ_q = dim Θ − n·D, formed in log space: log10 dim Θ + log10(1 − nD / dim Θ)
    log10_full = log10_hypothesis_dim(m, res, classes)
    frac = n * D / 10.0 ** np.minimum(log10_full, 300.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        log10_dim_q = log10_full + np.log10(1 - frac)
        out = log10_dim_q + np.log10(bits_per_dim)
    return np.where((frac < 1) & (bits_per_dim > 0), out, np.nan)


def difficulty_key(m, resolution, n, classes, err, radius=1.0):
    """log10(1 + max(Ĩ, 0)): the measure as a ranking key, 0 where the data already pin the hypothesis down."""
    v = difficulty_log10(m, resolution, n, classes, err, radius)
    v = np.where(np.isnan(v), -np.inf, np.minimum(v, 300.0))  # not positive: 0 bits, key log10(1) = 0
    return np.logaddexp(0.0, v * math.log(10)) / math.log(10)


# The benchmark values, from the official code's parameters (n, R, m, classes, δ, ε).
benchmarks = {"MNIST": (60000, 17.179, 14, 10, 2.3987, 0.001), "SVHN": (73257, 53.869, 19, 10, 1.5767, 0.01),
              "CIFAR-10": (50000, 54.916, 27, 10, 2.7506, 0.01), "ImageNet": (1280901, 943.59, 48, 1000, 65.0, 0.1)}
bench = pd.DataFrame([{"task": t, "m": m, "log10 bits": float(difficulty_log10(m, R / dl, n, c, e, radius=R))}
                      for t, (n, R, m, c, dl, e) in benchmarks.items()])
bench

# %% [markdown]
# ## Instrument: the closed form over intrinsic dimension and resolution
#
# One grid: $m$ over `dims`, $R/\delta$ over `resolutions`, two classes, $n$ = `n_formula`, $\varepsilon$ = `error`.
# What this grid shows follows from the formula alone, so it is an instrument check (does the code have
# the scaling the paper states?), not evidence about learning.

# %%
mm, rr = np.meshgrid(np.array(P.dims, float), np.array(P.resolutions, float), indexing="ij")
grid = difficulty_log10(mm, rr, P.n_formula, 2, P.error)
theory = pd.DataFrame({"m": mm.ravel().astype(int), "resolution": rr.ravel(), "log10_bits": grid.ravel()})
theory.pivot(index="m", columns="resolution", values="log10_bits").round(2)

# %% [markdown]
# **Figure 1.** $\log_{10}$ of the difficulty against intrinsic dimension, one line per resolution.
# Look for nearly straight lines, the signature of exponential growth in $m$, steeper at finer
# resolution (the base of the exponential is roughly the number of resolvable cells per dimension).

# %%
fig, ax = gu.subplots(width=7.5, height=4.5)
sns.lineplot(data=theory.dropna(), x="m", y="log10_bits", hue="resolution", marker="o",
             palette="viridis", ax=ax, legend="full")
ax.legend(title="R/δ", ncols=2, fontsize="small")
gu.label(ax, "intrinsic dimension m", "log10 inductive bias complexity (bits)",
         "Exponential in the intrinsic dimension")

# %% [markdown]
# **Figure 2.** The same grid against $\log_{10}(R/\delta)$, one line per $m$; dashed grey segments have
# slope exactly $m$. Look for straight lines parallel to their dashed references: a polynomial of degree
# about $m$ in the resolution, not an exponential (which would bend upwards on these axes).

# %%
fig, ax = gu.subplots(width=7.5, height=4.5)
plot = theory.dropna().assign(log10_res=lambda d: np.log10(d.resolution))
palette = sns.color_palette("rocket_r", len(P.dims))
sns.lineplot(data=plot, x="log10_res", y="log10_bits", hue="m", marker="o", palette=palette, ax=ax)
x_top = np.log10(P.resolutions[-2:])
for m_val, colour in zip(P.dims, palette):
    y_top = theory[(theory.m == m_val) & (theory.resolution == P.resolutions[-1])].log10_bits.iloc[0]
    if np.isfinite(y_top):
        ax.plot(x_top, y_top - m_val * (x_top[1] - x_top), color="grey", linestyle="--", linewidth=1)
ax.legend(title="m", ncols=2, fontsize="small")
gu.label(ax, "log10 resolution R/δ", "log10 inductive bias complexity (bits)",
         "Polynomial in the resolution (dashed: slope m)")

# %% [markdown]
# ## A family of tasks of known dimension and resolution
#
# A task is a pair $(m, s)$. Angles $\vartheta \in [0, 2\pi)^m$ are drawn uniformly and the point
# $(\cos\vartheta_1, \sin\vartheta_1, \dots, \cos\vartheta_m, \sin\vartheta_m)$ of the flat torus $(S^1)^m$ is
# carried into $\mathbb R^{16}$ by a random isometry, so the intrinsic dimension is exactly $m$ and every
# point has norm $R = \sqrt m$. Each circle is cut into $s$ equal arcs (cell $c_i = \lfloor s\vartheta_i/2\pi\rfloor$)
# and every point within `gap`/2 of a cell boundary, on any circle, is discarded (redrawn), so the inputs
# have the same distribution whatever the labels. The label is
#
# - `labels = "all"` (main run): the checkerboard $y = (c_1 + \dots + c_m) \bmod 2$, which changes across
#   every boundary of every circle, so a learner must resolve all $m$ directions at resolution $s$;
# - `labels = "first"` (falsification run): stripes $y = c_1 \bmod 2$, the same boundaries along the first
#   circle only.
#
# With angular gap $g = 2\pi\cdot$`gap`$/s$ the true class margin of the checkerboard is the chord
# $\delta = 2\sin(g/2)$. From the training points alone, as the official code does, we estimate
# $\hat m$ (Levina–Bickel maximum likelihood with `k_neighbours` neighbours, rounded to an integer before
# it enters the formula), $\hat\delta$ (the smallest distance between two training points of different
# classes) and $\hat R$ (the largest norm), and evaluate $\tilde I$ at $n$ = `n_train`, $d = 2$,
# $\varepsilon$ = `error`. The estimators are the shared instruments `genutils.geometry.intrinsic_dim_mle`
# and `min_class_distance`.

# %%
def torus_task(m: int, s: int, n: int, generator: torch.Generator, basis: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """n points of the m-torus embedded by `basis` (ambient × 2m), away from the cell boundaries; their cells."""
    width_cell = 2 * math.pi / s
    kept, have = [], 0
    while have < n:
        theta = torch.rand(4 * n, m, generator=generator, dtype=torch.float64) * 2 * math.pi
        offset = torch.remainder(theta, width_cell)
        far = (torch.minimum(offset, width_cell - offset) >= P.gap * width_cell / 2).all(dim=1)
        kept.append(theta[far])
        have += int(far.sum())
    theta = torch.cat(kept)[:n]
    x = torch.cat([torch.cos(theta), torch.sin(theta)], dim=1) @ basis.T
    return x, torch.floor(theta / width_cell).long()


def task_labels(cell: torch.Tensor) -> torch.Tensor:
    """Checkerboard over every circle (labels = all) or stripes along the first circle (labels = first)."""
    return (cell.sum(dim=1) if P.labels == "all" else cell[:, 0]) % 2


t0 = time.time()
tasks, x_train, y_train, x_test, y_test = [], [], [], [], []
for m in gu.progress(P.task_dims, desc="tasks (m)"):
    for s in P.cells:
        for r in range(P.seeds):
            task_seed = P.seed + 10000 * m + 100 * s + r
            g = torch.Generator().manual_seed(task_seed)
            basis, _ = torch.linalg.qr(torch.randn(P.ambient, 2 * m, generator=g, dtype=torch.float64))
            x, c = torus_task(m, s, P.n_train, g, basis)
            xt, ct = torus_task(m, s, P.n_test, g, basis)
            y, yt = task_labels(c), task_labels(ct)
            xd = x.to(device)
            m_hat = intrinsic_dim_mle(xd, P.k_neighbours)
            delta_hat, r_hat = min_class_distance(xd, y.to(device)), float(x.norm(dim=1).max())
            delta_true = 2 * math.sin(math.pi * P.gap / s)
            tasks.append({
                "m": m, "cells": s, "replicate": r, "seed": task_seed, "m_hat": m_hat,
                "delta_hat": delta_hat, "R_hat": r_hat, "delta_true": delta_true,
                "measure": float(difficulty_key(round(m_hat), r_hat / delta_hat, P.n_train, 2, P.error, radius=r_hat)),
                "measure_true": float(difficulty_key(m, math.sqrt(m) / delta_true, P.n_train, 2, P.error,
                                                     radius=math.sqrt(m))),
            })
            x_train.append(x.float())
            y_train.append(y)
            x_test.append(xt.float())
            y_test.append(yt)
tasks = pd.DataFrame(tasks)
x_train, y_train = torch.stack(x_train).to(device), torch.stack(y_train).to(device)
x_test, y_test = torch.stack(x_test).to(device), torch.stack(y_test).to(device)
print(f"{len(tasks)} task samples ({len(P.task_dims)} dimensions × {len(P.cells)} resolutions × {P.seeds} "
      f"replicates) drawn and measured in {time.time() - t0:.1f} s")
tasks.groupby(["m", "cells"])[["m_hat", "delta_true", "delta_hat", "measure", "measure_true"]].mean().round(3)

# %% [markdown]
# **Figure 3.** Left: estimated against true intrinsic dimension (one dot per task sample), with the
# identity. Right: the measure computed from the data, $\log_{10}(1+\tilde I)$, against $m$, one line per
# resolution. Look for $\hat m$ following the identity, and for the measure rising steeply in $m$ and more
# gently with the number of cells; where it is 0 the $n$ points already pin the hypothesis space down.

# %%
fig, axes = gu.subplots(ncols=2, width=5, height=4.2)
sns.scatterplot(data=tasks, x="m", y="m_hat", hue="cells", palette="viridis", ax=axes[0], s=40)
lim = [0, max(P.task_dims) + 1]
axes[0].plot(lim, lim, color="grey", linestyle="--", linewidth=1)
gu.label(axes[0], "true intrinsic dimension m", "estimated m̂ (MLE)", "Intrinsic dimension from data")
sns.lineplot(data=tasks, x="m", y="measure", hue="cells", palette="viridis", marker="o", errorbar="sd", ax=axes[1])
gu.label(axes[1], "true intrinsic dimension m", "log10(1 + Ĩ), Ĩ in bits, from data",
         "The measure of each task")

# %% [markdown]
# ## The learner
#
# Every task sample gets its own MLP (input 16, two ReLU layers of `width`, two logits), initialised from
# the task's seed, and the same recipe: full-batch Adam on the cross-entropy for `steps` steps at learning
# rate `lr`, no early stopping, nothing tuned per task and nothing looking at the test points. All
# networks train together as one stack of batched matrix products (`genutils.many`, one dataset per
# network). The learner's difficulty for a task is its test error at this fixed budget of `n_train`
# points. A 1-nearest-neighbour classifier on the same points is computed alongside: it has no inductive
# bias beyond locality, the closest thing to the measure's "all band-limited functions" hypothesis space.

# %%
def make_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(P.ambient, P.width), nn.ReLU(), nn.Linear(P.width, P.width), nn.ReLU(),
                         nn.Linear(P.width, 2))


t0 = time.time()
model_seeds = tasks.seed.tolist()
mlps = many.stack(make_mlp, model_seeds, device)
many.train_many(mlps, x_train, y_train, F.cross_entropy, steps=P.steps, data_seeds=model_seeds,
                per_model_data=True, optimizer="adam", lr=P.lr, desc="MLPs")
with torch.no_grad():
    tasks["mlp_train_err"] = (mlps(x_train, per_model=True).argmax(-1) != y_train).float().mean(1).cpu().numpy()
    tasks["mlp_test_err"] = (mlps(x_test, per_model=True).argmax(-1) != y_test).float().mean(1).cpu().numpy()
    nearest = torch.stack([torch.cdist(xt, xs).argmin(dim=1) for xt, xs in zip(x_test, x_train)])
    tasks["knn_test_err"] = (torch.gather(y_train, 1, nearest) != y_test).float().mean(1).cpu().numpy()
print(f"{len(tasks)} MLPs trained and evaluated in {time.time() - t0:.1f} s")
tasks.groupby(["m", "cells"])[["measure", "mlp_train_err", "mlp_test_err", "knn_test_err"]].mean().round(3)

# %% [markdown]
# **Figure 4.** Left: the measure of each task (mean over replicates). Right: the MLP's test error on it.
# If the claim holds the two maps have the same ordering: dark where the other is dark, and the steep
# direction of the left map (more dimensions) is also the direction in which the learner fails first.

# %%
fig, axes = gu.subplots(ncols=2, width=5, height=4)
mean_task = tasks.groupby(["m", "cells"])[["measure", "mlp_test_err"]].mean().reset_index()
sns.heatmap(mean_task.pivot(index="m", columns="cells", values="measure"), annot=True, fmt=".1f",
            cmap="mako_r", ax=axes[0], cbar_kws={"label": "log10(1 + Ĩ)"})
gu.label(axes[0], "cells per circle s", "intrinsic dimension m", "Measure from data")
sns.heatmap(mean_task.pivot(index="m", columns="cells", values="mlp_test_err"), annot=True, fmt=".2f",
            cmap="mako_r", vmin=0, vmax=0.5, ax=axes[1], cbar_kws={"label": "test error"})
gu.label(axes[1], "cells per circle s", "intrinsic dimension m", f"MLP test error at n = {P.n_train}")

# %% [markdown]
# **Figure 5.** Learner test error against the measure, one dot per task sample (colour: $m$; marker:
# cells per circle), for the MLP (left) and 1-nearest-neighbour (right). Look for a monotone rise from
# no error at small $\tilde I$ to chance (0.5) at large $\tilde I$, and for dots of the same measure but
# different $(m, s)$ landing at the same error.

# %%
fig, axes = gu.subplots(ncols=2, width=5.2, height=4.2)
for ax, col, name in ((axes[0], "mlp_test_err", "MLP"), (axes[1], "knn_test_err", "1-nearest neighbour")):
    sns.scatterplot(data=tasks, x="measure", y=col, hue="m", style="cells", palette="rocket_r", s=45, ax=ax,
                    legend=ax is axes[0])
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    gu.label(ax, "measure from data, log10(1 + Ĩ)", "test error", f"{name}, n = {P.n_train}")
axes[0].legend(fontsize="x-small", ncols=2)

# %% [markdown]
# ## Two real datasets (reported, not in the rule)
#
# scikit-learn's digits (8×8 images, pixels scaled to $[0, 1]$, all 1797 images as the training set) and
# MNIST-1D (40-sample signals, the 80% training split), ten classes each: intrinsic dimension, $\delta$
# and $R$ are estimated as above, and the difficulty is evaluated at $\varepsilon$ = `error`.

# %%
digits_x, digits_y = load_digits(return_X_y=True)
x_m1d, y_m1d, _, _ = gu.mnist1d(P.mnist1d_samples)
datasets = {"digits": (torch.tensor(digits_x / 16.0), torch.tensor(digits_y)),
            "MNIST-1D": (x_m1d.double(), y_m1d)}
real_rows = []
for name, (x, y) in datasets.items():
    xd, yd = x.to(device), y.to(device)
    m_hat, delta_hat, r_hat = intrinsic_dim_mle(xd, P.k_neighbours), min_class_distance(xd, yd), float(x.norm(dim=1).max())
    real_rows.append({"dataset": name, "n": len(x), "ambient": x.shape[1], "m_hat": m_hat, "delta_hat": delta_hat,
                      "R": r_hat, "log10_bits": float(difficulty_log10(round(m_hat), r_hat / delta_hat, len(x), 10,
                                                                       P.error, radius=r_hat))})
real = pd.DataFrame(real_rows)
real.round(3)

# %% [markdown]
# **Figure 6.** For each dataset, the difficulty it would have at every integer intrinsic dimension
# (its own $n$, $R$ and $\hat\delta$ held fixed), with its estimated $\hat m$ marked. Look for how far
# apart a few extra dimensions put two tasks of similar size and resolution.

# %%
fig, ax = gu.subplots(width=7.5, height=4.5)
m_axis = np.arange(1, 21)
for colour, row in zip(("C0", "C1"), real.itertuples()):
    curve = difficulty_log10(m_axis, row.R / row.delta_hat, row.n, 10, P.error, radius=row.R)
    ax.plot(m_axis, curve, color=colour, label=f"{row.dataset} (R/δ̂ = {row.R / row.delta_hat:.1f}, n = {row.n})")
    ax.scatter([round(row.m_hat)], [row.log10_bits], color=colour, s=90, zorder=3, edgecolor="black")
    ax.annotate(f"m̂ = {row.m_hat:.1f}", (round(row.m_hat), row.log10_bits), textcoords="offset points",
                xytext=(-60, 8))
ax.legend(fontsize="small")
gu.label(ax, "intrinsic dimension m", "log10 inductive bias complexity (bits)", "Digits and MNIST-1D")

# %% [markdown]
# ## Verdict
#
# The rule below was written and committed before the first `cpu` run of this design.
#
# **Evidence** (the tasks, the measure computed from their data, and the trained MLPs). Within each
# replicate $r$ (one sample of every task, every network freshly initialised) two numbers, then a 95%
# Student-$t$ interval over the `seeds` replicates:
# - $\rho_r$, the Spearman rank correlation, across the tasks, between the measure from data and the
#   MLP's test error (if the learner's errors are all equal, there is no ordering to match: $\rho_r = 0$);
# - $\Delta_r$, the *hard–easy gap*: the MLP's mean test error on the third of the tasks the measure
#   ranks hardest minus that on the third it ranks easiest. A rank correlation alone cannot tell
#   "slightly harder" from "drastically harder"; the paper claims the latter.
#
# - `supported` when the interval of $\rho$ lies at or above 0.6 **and** that of $\Delta$ at or above 0.10
#   (the tasks the measure calls hardest cost the learner at least 10 points of error more, a fifth of the
#   way to chance);
# - `contradicted` when the interval of $\rho$ lies wholly below 0.4 **or** that of $\Delta$ wholly below
#   0.05 (the measure's ordering is not the learner's, or the tasks it calls drastically harder are not
#   clearly harder for the learner);
# - `inconclusive` otherwise.
#
# **Instrument checks** (each failing or unmeasurable check makes the verdict `inconclusive`; passing them
# never makes it `supported`):
# - the closed form is polynomial in resolution: over the $m$ in `dims` where the `n_formula` points pin
#   down at most 10% of the hypothesis space, the local log-log exponent between the two largest
#   resolutions is within 25% of $m$, and it does not accelerate (ratio to the previous one $\le 1.25$);
# - the closed form is exponential in $m$ at the largest resolution: linear fit of $\log_{10}\tilde I$ on
#   $m$ with $R^2 \ge 0.95$, every added dimension at least doubling $\tilde I$, and the local
#   $d\log\tilde I/d\log m$ at the top of `dims` at least 1.3 times the one in the middle;
# - the formula with the official code's benchmark parameters orders MNIST < CIFAR-10 < ImageNet;
# - the dimension estimator works on these tasks: median $|\hat m - m|/m \le 0.15$;
# - the learner fits its training data: mean training error over all tasks $\le 0.05$.
#
# ### Rule history
#
# 1. **The pre-registered rule of the first version** (formula parts A and B, data part C on spheres of
#    known $m$; `supported` when A, B and C hold, `contradicted` when A or B fails). Part A required
#    $|p_{\rm top}/m - 1| \le 0.25$ for *every* $m$. Its first `cpu` run gave **`contradicted`**, from
#    $m = 1$ alone: local exponent 1.46, an artifact of the formula's factor $\dim\Theta - nD$ (the local
#    exponent is $m\,\dim\Theta/(\dim\Theta - nD)$, and at $m = 1$ the training points pinned down 31% of
#    the hypothesis space), all other $m$ within 6% of $m$.
# 2. **The amended rule (changed after that run)**: part A skipped the $m$ where more than 10% of the
#    hypothesis space is pinned down. Its `cpu` run gave **`inconclusive`** (22.4 s): the formula passed
#    (polynomial in resolution, exponent error 0.056; exponential in $m$, $R^2$ 0.997) and the data side
#    failed (the difficulty from estimated quantities on spheres had $R^2$ 0.84 < 0.9 against $m$ and
#    0.42 < 0.5 of the true slope).
# 3. **This rule**, replacing both for the reasons of the review: parts A and B are algebra on the paper's
#    own formula and could not fail for any reason about data or learning, so they are now instrument
#    checks (A in its amended form, which as a check can only withhold a verdict, never produce
#    `supported`); the old data part could never produce `contradicted`; and none of it asked whether the
#    measure tracks how hard a task is to *learn*, which is the paper's empirical claim. The deciding
#    evidence is now a trained learner's test error on tasks of known dimension and resolution.
#    Committed before its first `cpu` run (commit 7f9f2d9), which gave: main run **`supported`**
#    ($\rho$ 0.91, interval [0.86, 0.96]; $\Delta$ 0.42, [0.39, 0.45]; all checks passed; 41.6 s),
#    falsification run **`contradicted`** ($\rho$ 0.39, [0.35, 0.43]; $\Delta$ 0.002, [−0.003, 0.007]: every
#    stripe task stayed below 1.2% error while the measure still spanned 0 to 8 orders of magnitude). The
#    rule was not changed after these runs.

# %%
def slope_r2(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y on x and the fit's R²."""
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    return float(slope), float(1 - resid.var() / y.var())


# Instrument: the closed form's scaling.
wide = theory.pivot(index="m", columns="resolution", values="log10_bits")
log_res = np.log10(np.array(P.resolutions, float))
p_top = (wide.iloc[:, -1] - wide.iloc[:, -2]) / (log_res[-1] - log_res[-2])
p_mid = (wide.iloc[:, -2] - wide.iloc[:, -3]) / (log_res[-2] - log_res[-3])
# share of the hypothesis space the training data pin down (n·D / dim Θ) at the second-largest resolution
pinned = P.n_formula / 10.0 ** log10_hypothesis_dim(wide.index.to_numpy(float), P.resolutions[-2], 2)
ok = p_top.notna() & p_mid.notna() & (pinned <= 0.1)
top = wide.iloc[:, -1].dropna()
m_top = top.index.to_numpy(float)
exp_slope, exp_r2 = slope_r2(m_top, top.to_numpy())
step_factor = np.diff(top.to_numpy()) / np.diff(m_top)  # log10 of the growth factor per added dimension
local_loglog = np.diff(top.to_numpy()) / np.diff(np.log10(m_top))  # d log I / d log m between neighbours
middle = len(local_loglog) // 2


# Evidence: per replicate, rank agreement and hard-easy gap between the measure and a learner's error.
def spearman_or_zero(a: pd.Series, b: pd.Series) -> float:
    """Spearman ρ; 0 when either side is constant (no ordering to agree with)."""
    return 0.0 if a.nunique() < 2 or b.nunique() < 2 else float(spearmanr(a, b).statistic)


def hard_easy_gap(frame: pd.DataFrame, key: str, err: str) -> float:
    """Mean error on the third of tasks the key ranks hardest minus that on the third it ranks easiest."""
    ordered = frame.sort_values(key, kind="stable")
    third = len(ordered) // 3
    return float(ordered[err].iloc[-third:].mean() - ordered[err].iloc[:third].mean())


per_rep = pd.DataFrame([{
    "replicate": r,
    "rho": spearman_or_zero(g.measure, g.mlp_test_err),
    "gap": hard_easy_gap(g, "measure", "mlp_test_err"),
    "rho_true": spearman_or_zero(g.measure_true, g.mlp_test_err),
    "rho_dim_only": spearman_or_zero(g.m_hat, g.mlp_test_err),
    "rho_knn": spearman_or_zero(g.measure, g.knn_test_err),
    "gap_knn": hard_easy_gap(g, "measure", "knn_test_err"),
} for r, g in tasks.groupby("replicate")])
rho_lo, rho_hi = gu.t_interval(per_rep.rho)
gap_lo, gap_hi = gu.t_interval(per_rep.gap)
print(per_rep.round(3).to_string(index=False))

statistics = {
    # evidence
    "rho_mean": float(per_rep.rho.mean()), "rho_lo": rho_lo, "rho_hi": rho_hi,
    "gap_mean": float(per_rep.gap.mean()), "gap_lo": gap_lo, "gap_hi": gap_hi,
    # reported beside the evidence
    "rho_true_mean": float(per_rep.rho_true.mean()),
    "rho_dim_only_mean": float(per_rep.rho_dim_only.mean()),
    "rho_knn_mean": float(per_rep.rho_knn.mean()),
    "gap_knn_mean": float(per_rep.gap_knn.mean()),
    "mlp_test_err_min": float(mean_task.mlp_test_err.min()),
    "mlp_test_err_max": float(mean_task.mlp_test_err.max()),
    "measure_min": float(mean_task.measure.min()), "measure_max": float(mean_task.measure.max()),
    # instrument
    "poly_exponent_err": float((p_top[ok] / p_top[ok].index - 1).abs().max()) if ok.any() else float("nan"),
    "poly_accel": float((p_top[ok] / p_mid[ok]).max()) if ok.any() else float("nan"),
    "poly_m_checked": int(ok.sum()),
    "poly_exponent_err_all_m": float((p_top / p_top.index - 1).abs().max()),
    "exp_r2": exp_r2, "exp_slope": exp_slope,
    "exp_min_factor": float(10 ** step_factor.min()),
    "dim_superpoly": float(local_loglog[-1] / local_loglog[middle]),
    "paper_order_holds": float(bench.set_index("task")["log10 bits"].loc[["MNIST", "CIFAR-10", "ImageNet"]]
                               .is_monotonic_increasing),
    "est_dim_err": float(((tasks.m_hat - tasks.m).abs() / tasks.m).median()),
    "mlp_train_err_mean": float(tasks.mlp_train_err.mean()),
    # real datasets, reported only
    "digits_m_hat": float(real.set_index("dataset").loc["digits", "m_hat"]),
    "mnist1d_m_hat": float(real.set_index("dataset").loc["MNIST-1D", "m_hat"]),
    "digits_log10_bits": float(real.set_index("dataset").loc["digits", "log10_bits"]),
    "mnist1d_log10_bits": float(real.set_index("dataset").loc["MNIST-1D", "log10_bits"]),
}
RULE = gu.rule(
    supported=gu.all_of(gu.cond("rho_lo", ">=", 0.6), gu.cond("gap_lo", ">=", 0.10)),
    contradicted=gu.any_of(gu.cond("rho_hi", "<", 0.4), gu.cond("gap_hi", "<", 0.05)),
    checks={
        "formula_polynomial_in_resolution": gu.all_of(gu.cond("poly_exponent_err", "<=", 0.25),
                                                      gu.cond("poly_accel", "<=", 1.25)),
        "formula_exponential_in_dimension": gu.all_of(gu.cond("exp_r2", ">=", 0.95),
                                                      gu.cond("exp_min_factor", ">=", 2.0),
                                                      gu.cond("dim_superpoly", ">=", 1.3)),
        "formula_orders_benchmarks_as_paper": gu.cond("paper_order_holds", ">=", 1.0),
        "dimension_estimator_works": gu.cond("est_dim_err", "<=", 0.15),
        "learner_fits_training_data": gu.cond("mlp_train_err_mean", "<=", 0.05),
    },
)

record = gu.report_verdict(
    chapter="generalization_difficulty", params=P, rule=RULE, statistics=statistics,
    seeds=sorted(tasks.seed.unique().tolist()),
    headline=["rho_mean", "rho_lo", "gap_mean", "gap_lo", "rho_knn_mean", "est_dim_err"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - **What changed in this repair, and why** (review of the theory chapters, section 3). The deciding
#   evidence used to be algebra on the paper's own formula (parts A and B, which "cannot fail for sampling
#   reasons") plus a data-side part that could never produce `contradicted`, and part A had been amended
#   after a first `contradicted` run. The formula's scaling is now a set of instrument checks; the verdict
#   reads a trained learner's test error on a family of tasks of known intrinsic dimension and resolution,
#   against the measure computed from the same data, and can come out either way. The spheres of the old
#   part C are replaced by flat tori, where a checkerboard label of known resolution covers every
#   dimension evenly (on a high-dimensional sphere the coordinates concentrate near 0 and most cells would
#   be empty). The rule history above keeps both earlier rules and their `cpu` verdicts. The old text said
#   the rule was "fixed before running (study card 08)"; no card 08 exists, and this chapter now carries
#   the card's content in its opening and closing cells.
# - **The falsification run** keeps every input, size and seed and changes only the labels, to stripes
#   along the first circle. The measure depends on the labels only through $\hat\delta$, which hardly moves,
#   so it still calls the high-$m$ tasks hard; an MLP, whose bias towards functions of few directions suits
#   a one-circle target, should find them all easy. If the rule still said `supported` there, the ordering
#   in the main run would be no evidence for the measure.
# - **Formula.** The paper's classification estimate exactly as the official code computes it
#   (`difficulty`, `count_eigenvalues`, `log_wasserstein` in `task_difficulty.py`), in log space. Its
#   derivation has several approximation steps (a ball around $\theta^*$, $W \approx cRn^{-1/m}$, Lipschitz
#   constants, a sphere as the manifold); the chapter checks the final estimate's scaling and its ordering
#   of tasks, not the tightness of those steps. A non-positive estimate is read as 0 bits when ranking.
# - **Estimators.** $\delta$ is the sample minimum distance between classes (the official `sample_delta`;
#   the official code masks distances below 1, the shared estimator only exact duplicates), not the
#   extreme-value estimate the paper uses for benchmarks. With a few thousand points in higher $m$ the
#   closest opposite pair is farther apart than the true margin, so $\hat\delta$ is biased upwards and the
#   measure downwards at high $m$ (compare `delta_hat` with `delta_true`, and `rho_true_mean`, which uses
#   the true $m$, $\delta$ and $R$). The tori are not spheres; the formula's eigenfunction count assumes a
#   sphere, as it does for the paper's images.
# - **The learner.** One MLP recipe for all tasks, trained without early stopping and without looking at
#   test points; the check `learner_fits_training_data` guards against reading optimisation failure as
#   generalisation failure. Test error at one budget saturates at 0 (easy tasks) and 0.5 (chance): ranks
#   inside a saturated group carry noise, which lowers $\rho$ and is why the hard–easy gap is read too.
#   `rho_dim_only_mean` (rank by $\hat m$ alone) shows how much of the agreement the dimension alone
#   explains, beyond the resolution term of the measure.
# - **Scaled down.** Tori of $m \le 6$ (`cpu`; 8 at `gpu`) and $n$ = 2000 (8000 at `gpu`) instead of image
#   benchmarks with $m$ from 14 to 48; one architecture; digits and MNIST-1D instead of MNIST, CIFAR-10
#   and ImageNet for the measure on real data (reported only; their values are not comparable with the
#   paper's, which the chapter recomputes from the official code's parameters).
# - **What this cannot show.** That the measure's absolute number of bits means anything for a given
#   model (the paper's values, $10^{16}$ bits and more, far exceed any model); that it orders real
#   benchmarks as models do; anything about the reinforcement-learning and meta-learning comparisons.
#   A `supported` verdict here says the measure ranks these synthetic tasks as this MLP's error does, at
#   this budget.
# - **Shared pieces.** `genutils.geometry` (dimension and margin estimators), `genutils.many` (all
#   learners at once), `gu.t_interval`. The torus task generator lives in this chapter; it would suit
#   `genutils.data` if another chapter needs tasks of known intrinsic dimension.
# - **Reading the two runs.** With the checkerboard the measure ranks the tasks as the MLP's error does
#   (and the true-quantity measure does as well, `rho_true_mean` 0.91), better than $\hat m$ alone (0.73):
#   its resolution term matters. One mismatch is visible in Figure 4: 2 cells per circle stay easy for the
#   MLP up to $m = 6$ although the measure rates $(m = 6, s = 2)$ above $(m = 3, s = 8)$, which the MLP
#   fails. With stripes the MLP's errors collapse to near 0 everywhere and the verdict flips, but the
#   1-nearest-neighbour learner still agrees with the measure (`rho_knn_mean` 0.98, hard–easy gap 0.24):
#   the measure describes a learner with no inductive bias beyond locality, and a learner whose bias fits
#   the target can beat its ranking. That is what "inductive bias complexity" promises, and also the
#   limit of reading it as the difficulty of a task for a given model.
# - **Prototype** (while writing the rule; 2 seeds, then 5, loaded machine): with the checkerboard, the
#   MLP's test error went from 0 at $m \le 2$ to chance at $m \ge 4$ with 8 cells, while 2 cells stayed
#   easy up to $m = 6$; with stripes every task stayed below 1% error. Timings at `cpu` (machine shared
#   with other jobs): 41.6 s main, 39.8 s falsification; smoke about 11 s each.
