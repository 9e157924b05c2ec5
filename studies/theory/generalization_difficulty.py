# ---
# jupyter:
#   genbook:
#     claim: The inductive bias complexity of a task grows exponentially with the intrinsic
#       dimension of its data manifold but only polynomially in the resolution per dimension,
#       and estimated from samples it recovers that growth on manifolds of known dimension.
#     paper: Boopathy, Liu, Hwang, Ge, Mohammedsaleh & Fiete 2023, arXiv:2305.01034
#     part: theory
#     profiles:
#       gpu:
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
#         n_points: 8000
#         resolutions:
#         - 4
#         - 8
#         - 16
#         - 32
#         - 64
#         - 128
#         - 256
#         seeds: 10
#         synth_dims:
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
#       smoke:
#         dims:
#         - 1
#         - 2
#         - 3
#         - 4
#         - 5
#         - 6
#         mnist1d_samples: 1000
#         n_points: 500
#         resolutions:
#         - 4
#         - 8
#         - 16
#         - 32
#         seeds: 1
#         synth_dims:
#         - 1
#         - 2
#         - 3
#         - 4
#     title: Generalization difficulty grows exponentially in intrinsic dimension
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
# **Claim under test.** The *inductive bias complexity* of a task, the number of bits needed to single
# out a well-generalizing hypothesis among all hypotheses that fit the training data, grows
# **exponentially in the intrinsic dimension** $m$ of the data manifold but only **polynomially in the
# resolution** per dimension $R/\delta$. Estimated from samples (intrinsic dimension by nearest-neighbour
# maximum likelihood, $\delta$ as the smallest distance between classes) it should recover that growth.
#
# **The paper's evidence.** A closed-form estimate for classification (Section 4; reproduced below from
# the official code), applied to benchmarks in Fig. 5: with the official code's parameters (MNIST
# $m = 14$, SVHN $m = 19$, CIFAR-10 $m = 27$, ImageNet $m = 48$) the formula gives about
# $1.5\cdot10^{16}$, $1.2\cdot10^{31}$, $3.4\cdot10^{32}$ and $3.6\cdot10^{41}$ bits, the order
# MNIST < CIFAR-10 < ImageNet; the values printed in the paper's text were not found in the stored
# text (they are recomputed below). Fig. 7 shows difficulty rising exponentially with the number of
# observed dimensions (Cartpole) and falling only slowly with the number of training points (ImageNet).
#
# **What is scaled down.** Nothing is trained (the measure is model-agnostic). The formula is evaluated
# on a grid of $m$ and $R/\delta$; on synthetic spheres of known $m \le 8$ and $\delta$ (2000 points
# each, 3 samples per $m$, `cpu`), where it is compared with the same formula fed with estimated
# quantities; and on two small real datasets, scikit-learn's digits and MNIST-1D, instead of MNIST,
# CIFAR-10 and ImageNet.

# %%
import math
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
from scipy.special import gammaln
from scipy.stats import spearmanr
from sklearn.datasets import load_digits

import genutils as gu
from genutils.geometry import intrinsic_dim_mle, min_class_distance

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; sample s of synthetic dimension m uses seed + 100·m + s
error = 0.01  # target test error ε (the formula's ε / L_L)
n_formula = 1000  # training points n in the closed-form sweep (two classes)
dims = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]  # intrinsic dimensions m of the closed-form sweep
resolutions = [4, 8, 16, 32, 64, 128]  # resolutions R/δ of the closed-form sweep
synth_dims = [1, 2, 3, 4, 5, 6, 7, 8]  # intrinsic dimensions of the synthetic spheres
synth_resolution = 10.0  # R/δ of the synthetic spheres (R is 1, the class gap δ is 1/this)
stripes = 4  # alternating class slabs on each synthetic sphere
n_points = 2000  # samples per synthetic sphere (also its n in the formula)
ambient = 40  # dimension of the space the spheres are embedded in
k_neighbours = 5  # k of the nearest-neighbour intrinsic-dimension estimator
seeds = 3  # independent samples per synthetic dimension
mnist1d_samples = 5000  # MNIST-1D size, 80% of it used as the training set

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    error=gu.Float(gt=0, lt=1),
    n_formula=gu.Int(min=1),
    dims=gu.List(gu.Int(min=1), min_len=4, increasing=True),
    resolutions=gu.List(gu.Float(gt=1), min_len=3, increasing=True),
    synth_dims=gu.List(gu.Int(min=1), min_len=3, increasing=True),
    synth_resolution=gu.Float(gt=2),
    stripes=gu.Int(min=2),
    n_points=gu.Int(min=50),
    ambient=gu.Int(min=2),
    k_neighbours=gu.Int(min=3),
    seeds=gu.Int(min=1),
    mnist1d_samples=gu.Int(min=100),
)
if P.ambient < max(P.synth_dims) + 1:
    raise gu.ParameterError("ambient", f"must be at least max(synth_dims) + 1 = {max(P.synth_dims) + 1} "
                                       f"to embed the {max(P.synth_dims)}-sphere, got {P.ambient}")
if P.k_neighbours >= P.n_points:
    raise gu.ParameterError("k_neighbours", f"must be below n_points = {P.n_points}, got {P.k_neighbours}")
LOG10_2 = math.log10(2)
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
# in log space (binomials through $\log\Gamma$), since $E$ overflows for large $m$; when $n$ points already
# pin down every dimension ($\dim\Theta_q \le 0$) the estimate is not positive and is left out of plots.

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


# The benchmark values, from the official code's parameters (n, R, m, classes, δ, ε).
benchmarks = {"MNIST": (60000, 17.179, 14, 10, 2.3987, 0.001), "SVHN": (73257, 53.869, 19, 10, 1.5767, 0.01),
              "CIFAR-10": (50000, 54.916, 27, 10, 2.7506, 0.01), "ImageNet": (1280901, 943.59, 48, 1000, 65.0, 0.1)}
bench = pd.DataFrame([{"task": t, "m": m, "log10 bits": float(difficulty_log10(m, R / dl, n, c, e, radius=R))}
                      for t, (n, R, m, c, dl, e) in benchmarks.items()])
bench

# %% [markdown]
# ## The closed form over intrinsic dimension and resolution
#
# One grid: $m$ over `dims`, $R/\delta$ over `resolutions`, two classes, $n$ = `n_formula`, $\varepsilon$ = `error`.

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
# ## Synthetic manifolds of known dimension and resolution
#
# A task with known $m$ and $\delta$: points uniform on the $m$-sphere of radius $R = 1$ in
# $\mathbb R^{m+1}$, carried into $\mathbb R^{40}$ by a random isometry. The class of a point alternates
# across `stripes` slabs along its first coordinate, and every point closer than $\delta/2$ to a slab
# boundary is discarded, so two points of different classes are at least $\delta = R/$`synth_resolution`
# apart and the population infimum is exactly $\delta$.
#
# From the samples alone we then estimate, as the official code does:
# - the intrinsic dimension by nearest-neighbour maximum likelihood: with $T_j(x)$ the distance from $x$
#   to its $j$-th neighbour, $\hat m = \big[\operatorname{mean}_{x,\,j<k}\log\big(T_k(x)/T_j(x)\big)\big]^{-1}$;
# - $\hat\delta$ as the smallest distance between two sample points of different classes;
# - $R$ as the largest norm.
#
# As in the official code, $\hat m$ is rounded to the nearest integer before it enters the formula. Both
# estimators are shared instruments, `genutils.geometry.intrinsic_dim_mle` and `min_class_distance` (exact
# pairwise distances, exact duplicates ignored).
#
# The difficulty computed from $(\hat m, \hat\delta, \hat R)$ is compared with the one from the true
# $(m, \delta, R)$, both with $n$ = `n_points`.

# %%
def sphere_task(m: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n_points on the m-sphere of radius 1, embedded in R^ambient, with striped two-class labels."""
    delta = 1.0 / P.synth_resolution
    edges = torch.linspace(-1.0, 1.0, P.stripes + 1, dtype=torch.float64)[1:-1]
    kept = []
    while sum(len(k) for k in kept) < P.n_points:
        z = torch.randn(2 * P.n_points, m + 1, generator=generator, dtype=torch.float64)
        z = z / z.norm(dim=1, keepdim=True)
        far = (z[:, :1] - edges[None]).abs().min(dim=1).values >= delta / 2
        kept.append(z[far])
    z = torch.cat(kept)[: P.n_points]
    y = torch.bucketize(z[:, 0].contiguous(), edges) % 2
    basis, _ = torch.linalg.qr(torch.randn(P.ambient, m + 1, generator=generator, dtype=torch.float64))
    return z @ basis.T, y


t0 = time.time()
rows = []
for m in gu.progress(P.synth_dims, desc="synthetic m"):
    for s in range(P.seeds):
        run_seed = P.seed + 100 * m + s
        x, y = sphere_task(m, torch.Generator().manual_seed(run_seed))
        m_hat, delta_hat, r_hat = intrinsic_dim_mle(x, P.k_neighbours), min_class_distance(x, y), float(x.norm(dim=1).max())
        rows.append({
            "m": m, "seed": run_seed, "m_hat": m_hat, "delta_hat": delta_hat,
            "true": float(difficulty_log10(m, P.synth_resolution, P.n_points, 2, P.error)),
            "estimated": float(difficulty_log10(round(m_hat), r_hat / delta_hat, P.n_points, 2, P.error, radius=r_hat)),
        })
synth = pd.DataFrame(rows)
print(f"{len(synth)} synthetic tasks in {time.time() - t0:.1f} s")
synth.groupby("m")[["m_hat", "delta_hat", "true", "estimated"]].mean().round(3)

# %% [markdown]
# **Figure 3.** Left: estimated against true intrinsic dimension (one dot per sample), with the identity.
# Right: the difficulty from the true quantities (line) and from the estimated ones (dots, mean ± s.d.
# over samples). Look for the estimates following the line and for the same straight-line growth in $m$.

# %%
fig, axes = gu.subplots(ncols=2, width=5, height=4.2)
sns.scatterplot(data=synth, x="m", y="m_hat", ax=axes[0], s=40)
lim = [0, max(P.synth_dims) + 1]
axes[0].plot(lim, lim, color="grey", linestyle="--", linewidth=1)
gu.label(axes[0], "true intrinsic dimension m", "estimated m̂ (MLE)", "Intrinsic dimension")
long = synth.melt(id_vars=["m", "seed"], value_vars=["true", "estimated"], var_name="from", value_name="log10_bits")
sns.lineplot(data=long[long["from"] == "true"], x="m", y="log10_bits", ax=axes[1], label="true (m, δ)", color="C0")
sns.lineplot(data=long[long["from"] == "estimated"], x="m", y="log10_bits", ax=axes[1], label="estimated (m̂, δ̂)",
             color="C3", marker="o", linestyle="", err_style="bars", errorbar="sd")
gu.label(axes[1], "true intrinsic dimension m", "log10 inductive bias complexity (bits)",
         f"Sphere tasks, R/δ = {P.synth_resolution:g}")

# %% [markdown]
# ## Two real datasets
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
    m_hat, delta_hat, r_hat = intrinsic_dim_mle(x, P.k_neighbours), min_class_distance(x, y), float(x.norm(dim=1).max())
    real_rows.append({"dataset": name, "n": len(x), "ambient": x.shape[1], "m_hat": m_hat, "delta_hat": delta_hat,
                      "R": r_hat, "log10_bits": float(difficulty_log10(round(m_hat), r_hat / delta_hat, len(x), 10,
                                                                       P.error, radius=r_hat))})
real = pd.DataFrame(real_rows)
real.round(3)

# %% [markdown]
# **Figure 4.** For each dataset, the difficulty it would have at every integer intrinsic dimension
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
# The rule was fixed before running (study card 08).
#
# - **A, polynomial in resolution** (closed form): for every $m$ in `dims` the local log-log exponent
#   $p_{\rm top}(m)$ between the two largest resolutions satisfies $\max_m |p_{\rm top}/m - 1| \le 0.25$
#   (over the $m$ where the $n$ training points pin down at most 10% of the hypothesis space, see the
#   amendment below),
#   and it does not accelerate: $\max_m p_{\rm top}/p_{\rm mid} \le 1.25$, $p_{\rm mid}$ taken between the
#   third- and second-largest resolutions;
# - **B, exponential in $m$** (closed form, largest resolution): the straight-line fit of $\log_{10}\tilde I$
#   on $m$ has $R^2 \ge 0.95$; every added dimension at least doubles $\tilde I$; and the local exponent
#   $d\log\tilde I/d\log m$ at the top of `dims` is at least 1.3 times the one at the middle (a polynomial
#   in $m$ gives 1);
# - **C, theory against data** (synthetic spheres): median $|\hat m - m|/m \le 0.15$; the fit of
#   $\log_{10}\tilde I_{\rm est}$ (mean over samples) on $m$ has $R^2 \ge 0.9$ and at least half the slope
#   of $\log_{10}\tilde I_{\rm true}$;
# - `supported` when A, B and C hold; `contradicted` when A or B fails (the formula does not scale as
#   claimed); `inconclusive` otherwise. The real datasets are reported and do not enter the rule.
#
# **Amendment after the first `cpu` run.** The card required $|p_{\rm top}/m - 1| \le 0.25$ for *every* $m$.
# The first `cpu` run gave `contradicted` from $m = 1$ alone ($p_{\rm top} = 1.46$; all other $m$ within 6%
# of $m$, and no acceleration anywhere). The cause is the formula, not a failure of polynomial scaling:
# the difficulty is proportional to $\dim\Theta - nD$, so its local exponent is
# $m\cdot\dim\Theta/(\dim\Theta - nD)$, larger than $m$ wherever the $n$ training points pin down a sizable
# share of the hypothesis space (31% at $m = 1$ here). The exponent check now skips such $m$ (share above
# 10%). The same run failed part C as well, so this change cannot by itself turn the verdict into `supported`.

# %%
def slope_r2(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y on x and the fit's R²."""
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    return float(slope), float(1 - resid.var() / y.var())


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

per_m = synth.groupby("m")[["true", "estimated"]].mean().dropna()  # m where both estimates are positive
if len(per_m) >= 3:
    true_slope, _ = slope_r2(per_m.index.to_numpy(float), per_m["true"].to_numpy())
    est_slope, est_r2 = slope_r2(per_m.index.to_numpy(float), per_m["estimated"].to_numpy())
else:  # too few dimensions with a positive estimate to fit a growth rate
    true_slope, est_slope, est_r2 = 1.0, float("nan"), float("nan")
by_name = real.set_index("dataset")

statistics = {
    "poly_exponent_err": float((p_top[ok] / p_top[ok].index - 1).abs().max()) if ok.any() else float("nan"),
    "poly_accel": float((p_top[ok] / p_mid[ok]).max()) if ok.any() else float("nan"),
    "poly_m_checked": int(ok.sum()),
    "poly_exponent_err_all_m": float((p_top / p_top.index - 1).abs().max()),
    "exp_r2": exp_r2,
    "exp_slope": exp_slope,
    "exp_min_factor": float(10 ** step_factor.min()),
    "dim_superpoly": float(local_loglog[-1] / local_loglog[middle]),
    "est_dim_err": float(((synth.m_hat - synth.m).abs() / synth.m).median()),
    "est_r2": est_r2,
    "est_slope_ratio": est_slope / true_slope,
    "est_log_err": float(((synth.estimated - synth.true).abs() / synth.true).median()),
    "est_m_fitted": len(per_m),
    "spearman_m_est": float(spearmanr(synth.m, synth.estimated, nan_policy="omit").statistic),
    "digits_m_hat": float(by_name.loc["digits", "m_hat"]),
    "mnist1d_m_hat": float(by_name.loc["MNIST-1D", "m_hat"]),
    "digits_log10_bits": float(by_name.loc["digits", "log10_bits"]),
    "mnist1d_log10_bits": float(by_name.loc["MNIST-1D", "log10_bits"]),
    "paper_order_holds": float(bench.set_index("task")["log10 bits"].loc[["MNIST", "CIFAR-10", "ImageNet"]]
                               .is_monotonic_increasing),
}
poly = gu.all_of(gu.cond("poly_exponent_err", "<=", 0.25), gu.cond("poly_accel", "<=", 1.25))
expo = gu.all_of(gu.cond("exp_r2", ">=", 0.95), gu.cond("exp_min_factor", ">=", 2.0),
                 gu.cond("dim_superpoly", ">=", 1.3))
data = gu.all_of(gu.cond("est_dim_err", "<=", 0.15), gu.cond("est_r2", ">=", 0.9),
                 gu.cond("est_slope_ratio", ">=", 0.5))
RULE = gu.rule(supported=gu.all_of(poly, expo, data), contradicted=gu.not_(gu.all_of(poly, expo)))
print(pd.DataFrame({"p_mid": p_mid, "p_top": p_top, "p_top / m": p_top / p_top.index}).round(3))

record = gu.report_verdict(
    chapter="generalization_difficulty", params=P, rule=RULE, statistics=statistics,
    seeds=sorted(synth.seed.unique().tolist()),
    headline=["poly_exponent_err", "exp_min_factor", "est_dim_err", "est_slope_ratio", "digits_m_hat", "mnist1d_m_hat"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - The formula is the paper's classification estimate exactly as the official code computes it
#   (`difficulty`, `count_eigenvalues`, `log_wasserstein`), rewritten in log space so that large $m$ does
#   not overflow. The paper's own derivation has several approximation steps (a bound by a ball around
#   $\theta^*$, a Wasserstein estimate $W \approx c R n^{-1/m}$, Lipschitz constants); this chapter checks the
#   scaling of the final estimate and its estimators, not the tightness of those steps.
# - Parts A and B are properties of a closed form, so they test that the formula has the scaling the paper
#   states; they cannot fail for sampling reasons. Part C is the empirical part: it asks whether the
#   quantities the formula needs can be read off samples of a manifold whose answer is known.
# - $\delta$ is estimated by the sample minimum distance between classes (the official `sample_delta`), not
#   by the extreme-value estimate the paper uses for benchmarks. With a few thousand points in higher $m$ the
#   closest pair of opposite classes is rarely as close as the population infimum, so $\hat\delta$ is biased
#   upwards and the estimated difficulty downwards; the printed table shows by how much. Because the
#   resolution enters as $(R/\delta)^m$, a $\hat\delta$ a few times too large removes about $m$ times as many
#   orders of magnitude, so in Figure 3 the estimated difficulty flattens in high $m$ even though $\hat m$
#   itself is close to $m$. Part C tests exactly this pipeline; when it fails, the chapter says the data-side
#   estimate did not recover the growth at this sample size, not that the formula is wrong. More points
#   (the `gpu` profile) or the paper's extreme-value estimate of $\delta$ are the obvious next steps.
# - Part A's exponent check skips intrinsic dimensions where the training points pin down more than 10% of
#   the hypothesis space (only $m = 1$ at `cpu`); this was changed after the first `cpu` run, as the
#   amendment in the verdict section says, and `poly_exponent_err_all_m` keeps the card's original statistic.
# - The synthetic manifolds are spheres, the geometry the paper's eigenfunction count assumes; real data
#   are not spheres, so for digits and MNIST-1D the numbers inherit that modelling assumption. The digits
#   and MNIST-1D values are not comparable with the paper's MNIST/CIFAR-10/ImageNet numbers, which the
#   chapter only recomputes from the official code's parameters.
# - No network is trained: the chapter does not show that the measure predicts the test error or sample
#   complexity of any model, nor does it reproduce the reinforcement-learning and meta-learning results.
# - The "exponential in $m$" statement holds where the frequency cutoff $M = 2\pi R/\delta$ is large compared
#   with $m$: $E \approx 2M^m/m!$, so the growth factor per dimension is about $2\pi (R/\delta)/m$ and slowly
#   shrinks as $m$ grows (visible as the gentle bend in Figure 1).
