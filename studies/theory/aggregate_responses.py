# ---
# jupyter:
#   genbook:
#     claim: With only bag-averaged responses, the instance-level loss is the bag-level
#       loss plus a within-bag spread regularizer, so the bag-level estimator is unbiased
#       with high variance and the instance-level one biased with low variance; an interpolating
#       estimator with the right weight beats both, and proportional-regime theory gives
#       the risks exactly.
#     'null':
#       within_bag_spread: 0.0
#     null_reason: The trade-off comes from the within-bag spread regularizer that aggregation
#       creates; bags whose instances share one feature vector (spread 0, same sizes
#       and seeds) make it vanish, so the instance-level loss equals the bag-level one
#       and no interpolation weight can beat both ends.
#     paper: Javanmard, Chen, Mirrokni, Badanidiyuru & Fu 2024, arXiv:2401.11081
#     part: theory
#     profiles:
#       gpu:
#         bag_sizes:
#         - 1
#         - 2
#         - 4
#         - 8
#         - 16
#         - 32
#         dim: 200
#         n: 8000
#         n_rhos: 41
#         reps: 1000
#         select_reps: 500
#         snrs:
#         - 0.5
#         - 1.0
#         - 4.0
#         - 16.0
#       smoke:
#         bag_sizes:
#         - 2
#         - 10
#         dim: 20
#         n: 400
#         n_rhos: 5
#         reps: 20
#         select_reps: 10
#         snrs:
#         - 4.0
#     title: Bag-level versus instance-level losses for aggregate responses
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
# # Learning from aggregate responses: instance-level versus bag-level losses
#
# **Paper.** Adel Javanmard, Lin Chen, Vahab Mirrokni, Ashwinkumar Badanidiyuru and Gang Fu, *Learning
# from Aggregate responses: Instance Level versus Bag Level Loss Functions*, ICLR 2024
# ([arXiv:2401.11081](https://arxiv.org/abs/2401.11081)).
#
# **Claim under test.** When the $n$ training responses are only released as averages over bags of $k$
# samples, a learner can fit the bag averages with bag-averaged predictions (*bag-level loss*) or fit
# every individual prediction to its bag's average (*instance-level loss*). In the paper's words
# (abstract), "the instance-level loss can be perceived as a regularized form of the bag-level loss",
# which lets the authors "compare the two approaches with respect to the bias and variance of the
# resulting estimators and to introduce a novel interpolating estimator that combines the two
# approaches"; "for linear regression tasks, we provide a precise characterization of the risk of the
# interpolating estimator in an asymptotic regime where the size of the training set grows in
# proportion to the feature dimension." The testable part: the bag-level estimator is unbiased with
# high variance, the instance-level one biased with low variance, and the interpolating estimator with
# a well-chosen weight $\rho$ beats **both** ends.
#
# **The paper's evidence.** A decomposition lemma (instance loss = bag loss + regularizer), an asymptotic
# characterisation of the bias, variance and risk of the interpolating estimator for linear regression
# with Gaussian features, and figures of those quantities against the bag size and the interpolation
# weight, theory against simulation; a differentially private variant (Laplace noise on the bag
# responses) and its optimal bag size. The paper's full text (its theorem, its figures and their numbers)
# was not available here: the `pages`, `docs` and `code` search corpora hold only its abstract
# (OpenReview, `openreview.net/forum?id=E60SIDItyT`) and a third-party summary, so the quotes above are
# from the abstract and no figure of the paper is compared number for number.
#
# **What is scaled down.** The paper's own linear-Gaussian setting, at $d = 50$, $n = 1000$ (`cpu`),
# bag sizes $k \in \{1, 2, 5, 10, 20\}$ (so $m/d = n/(kd)$ runs from 20 down to 1), two SNRs, 100 draws on
# which the weight $\rho$ is chosen and 200 fresh draws on which everything is scored. The private variant
# is not reproduced.
#
# **What decides.** The bias/variance ordering of the two ends follows from the algebra below (bag-level
# least squares is *exactly* unbiased given the features, and its variance can only fall when the
# regularizer is added), so it is an instrument check here, not evidence. The evidence is whether the
# interpolating estimator, with $\rho$ chosen on held-out draws, beats the better of the two ends by a
# margin on fresh draws, in the cells where bags comfortably outnumber dimensions ($m/d \ge 2$); the
# cell $m = d$, where bag-level least squares has infinite risk and any shrinkage wins, is shown but not
# counted.
#
# **Falsification run.** The cause the paper names is the regularizer that aggregation creates, the
# within-bag spread of the predictions. The parameter `within_bag_spread` $s$ scales the within-bag
# deviations of the features (keeping every $x_i \sim \mathcal N(0, I_d)$; instances of one bag then have
# correlation $1 - s^2$). The falsification run sets $s = 0$: every bag's instances share one feature
# vector, the regularizer is identically zero, aggregation loses nothing, the instance-level loss is $k$
# times the bag-level loss, and no weight can beat both ends. Same bag sizes, draws and seeds.

# %%
import math
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch

import genutils as gu

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed of the single generator that draws every design, bagging and noise
dim = 50  # d, the feature dimension
n = 1000  # training samples, split into n/k bags of k
bag_sizes = [1, 2, 5, 10, 20]  # bag sizes k; each must divide n and leave at least d bags
snrs = [1.0, 4.0]  # signal-to-noise ratios, the squared norm of θ* over σ²
n_rhos = 21  # log-spaced interpolation weights in [rho_min, 1]; ρ of 0 is added
rho_min = 1e-4  # smallest nonzero interpolation weight
noise_sd = 1.0  # σ, the standard deviation of the response noise
within_bag_spread = 1.0  # s, scale of the within-bag feature deviations; 1 iid features, 0 identical within a bag
select_reps = 100  # held-out draws on which the interpolation weight is chosen
reps = 200  # fresh draws (features, bagging, noise) on which every estimator is scored
n_theory = 400  # ρ points of the fine grid on which the theory's best ρ is found

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    dim=gu.Int(min=2),
    n=gu.Int(min=4),
    bag_sizes=gu.List(gu.Int(min=1), min_len=2, increasing=True),
    snrs=gu.List(gu.Float(gt=0), min_len=1, increasing=True),
    n_rhos=gu.Int(min=3),
    rho_min=gu.Float(gt=0, lt=1),
    noise_sd=gu.Float(gt=0),
    within_bag_spread=gu.Float(min=0, max=1),
    select_reps=gu.Int(min=2),
    reps=gu.Int(min=2),
    n_theory=gu.Int(min=10),
)
for k in P.bag_sizes:
    if P.n % k:
        raise gu.ParameterError("bag_sizes", f"bag size {k} does not divide n = {P.n}")
    if P.n // k < P.dim:
        raise gu.ParameterError("bag_sizes", f"bag size {k} leaves {P.n // k} bags for d = {P.dim} dimensions; "
                                             "the bag-level estimator needs at least d bags")
GATED = [k for k in P.bag_sizes if k >= 2 and P.n // k >= 2 * P.dim]  # the cells that decide: k ≥ 2, m/d ≥ 2
if not GATED:
    raise gu.ParameterError("bag_sizes", "needs at least one bag size k ≥ 2 with n/k ≥ 2d bags "
                                         "(k = 1 is plain regression; m/d < 2 is not gated)")
rhos = np.concatenate([[0.0], np.logspace(math.log10(P.rho_min), 0.0, P.n_rhos)])
INNER = [i for i, r in enumerate(rhos) if 0 < r < 1]  # the interpolating weights strictly inside (0, 1)
device = gu.device()
P

# %% [markdown]
# ## The setting and the three estimators
#
# Features $x_i \sim \mathcal N(0, I_d)$, responses $y_i = \theta_*^\top x_i + \sigma\varepsilon_i$ with
# $\lVert\theta_*\rVert^2 = \mathrm{SNR}\cdot\sigma^2$. The $n$ samples are split at random into $m = n/k$ bags
# $B_a$ of size $k$, and only the bag responses $\bar y_a = \frac1k\sum_{i\in B_a} y_i$ are released
# (the features $x_i$ are not private). Write $\bar x_a$ for the bag mean of the features. For a linear
# model the two losses are
#
# $$\mathcal L_{\rm bag}(\theta) = \sum_a \Big(\bar y_a - \tfrac1k\textstyle\sum_{i\in B_a}\theta^\top x_i\Big)^2
#   = \sum_a (\bar y_a - \theta^\top \bar x_a)^2,
# \qquad
# \mathcal L_{\rm inst}(\theta) = \sum_a \sum_{i\in B_a} (\bar y_a - \theta^\top x_i)^2 .$$
#
# **The decomposition.** Expanding the square around the bag mean of the predictions,
#
# $$\mathcal L_{\rm inst}(\theta) = k\,\mathcal L_{\rm bag}(\theta)
#   + \underbrace{\sum_a\sum_{i\in B_a} \big(\theta^\top (x_i - \bar x_a)\big)^2}_{\mathcal R(\theta)\,:\ \text{within-bag spread}} ,$$
#
# so the instance-level loss is the bag-level loss with a data-dependent ridge penalty that pulls
# $\theta$ towards directions in which the features of a bag agree. The **interpolating estimator**
# weighs that penalty by $\rho$:
#
# $$\hat\theta_\rho = \arg\min_\theta\; k\,\mathcal L_{\rm bag}(\theta) + \rho\,\mathcal R(\theta)
#   = \big(k\bar X^\top \bar X + \rho X_c^\top X_c\big)^{-1} k \bar X^\top \bar y ,$$
#
# with $\bar X$ the $m\times d$ matrix of bag means and $X_c$ the $n\times d$ matrix of within-bag deviations
# $x_i - \bar x_a$. $\rho = 0$ is bag-level least squares, $\rho = 1$ instance-level least squares.
# All draws of one bag size are fitted together: the Gram matrices are batched over draws and one
# batched Cholesky solve per $\rho$ solves them all.
#
# **The within-bag spread knob.** Given iid $x_i$, the chapter uses the features
# $x'_i = c_k\,\bar x_a + s\,(x_i - \bar x_a)$ with $c_k = \sqrt{k - s^2(k-1)}$, so that every $x'_i$ is still
# $\mathcal N(0, I_d)$ and two instances of one bag have correlation $1 - s^2$. At $s = 1$ (the paper's
# setting, the default) $x'_i = x_i$; at $s = 0$ (the falsification run) all instances of bag $a$ equal
# $\sqrt k\,\bar x_a$, the regularizer $\mathcal R$ is identically zero, and every $\rho$ gives the same
# estimator.

# %%
def bag_scale(k: int) -> float:
    """c_k, the factor on the bag means that keeps every instance N(0, I) at within-bag spread s."""
    return math.sqrt(k - P.within_bag_spread**2 * (k - 1))


def bag(x: torch.Tensor, y: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bag means x̄_a, ȳ_a and within-bag deviations x_i − x̄_a, for bags of k consecutive rows.

    x has shape (draws, n, d), y shape (draws, n) or (draws, n, r) for r response vectors at once.
    """
    draws, n_, d = x.shape
    xb = x.reshape(draws, n_ // k, k, d)
    x_bar = xb.mean(dim=2)
    y_bar = y.reshape(draws, n_ // k, k, *y.shape[2:]).mean(dim=2)
    return x_bar, y_bar, (xb - x_bar[:, :, None]).reshape(draws, n_, d)


def with_spread(x: torch.Tensor, k: int) -> torch.Tensor:
    """x'_i = c_k x̄_a + s (x_i − x̄_a) for bags of k consecutive rows: N(0, I) rows, within-bag correlation 1 − s²."""
    draws, n_, d = x.shape
    xb = x.reshape(draws, n_ // k, k, d)
    x_bar = xb.mean(dim=2, keepdim=True)
    return (bag_scale(k) * x_bar + P.within_bag_spread * (xb - x_bar)).reshape(draws, n_, d)


def grams(x_bar: torch.Tensor, y_bar: torch.Tensor, x_dev: torch.Tensor, k: int):
    """The pieces of the normal equations: k X̄ᵀX̄, X_cᵀX_c and k X̄ᵀȳ."""
    y_bar = y_bar if y_bar.dim() == 3 else y_bar[..., None]
    return k * x_bar.mT @ x_bar, x_dev.mT @ x_dev, k * x_bar.mT @ y_bar


def interpolating_fit(gram_bag, gram_dev, rhs, rho: float) -> torch.Tensor:
    """θ̂_ρ = (k X̄ᵀX̄ + ρ X_cᵀX_c)⁻¹ k X̄ᵀȳ: ρ = 0 bag-level, ρ = 1 instance-level.

    The matrix is symmetric positive definite (at least d bags), so a Cholesky solve does it.
    """
    return torch.cholesky_solve(rhs, torch.linalg.cholesky(gram_bag + rho * gram_dev))


# %% [markdown]
# **The decomposition, numerically.** On one draw ($k = $ the largest bag size, the features at this run's
# spread $s$) and a random $\theta$, both sides of the identity agree to rounding, and so does its matrix form
# $X_c^\top X_c = X^\top X - k\bar X^\top\bar X$ (the simulation uses it to get $X_c^\top X_c$ cheaply); the closed
# form at $\rho = 0$ and $\rho = 1$ is the same as ordinary least squares on $(\bar x_a, \bar y_a)$ and on
# $(x_i, \bar y_{a(i)})$.

# %%
g = torch.Generator().manual_seed(P.seed)
k_demo = max(P.bag_sizes)
theta_star = torch.randn(P.dim, generator=g, dtype=torch.float64)
theta_star *= P.noise_sd * math.sqrt(P.snrs[-1]) / theta_star.norm()
x = with_spread(torch.randn(1, P.n, P.dim, generator=g, dtype=torch.float64), k_demo)
y = x[0] @ theta_star + P.noise_sd * torch.randn(P.n, generator=g, dtype=torch.float64)
x_bar, y_bar, x_dev = bag(x, y[None], k_demo)
theta = torch.randn(P.dim, generator=g, dtype=torch.float64)
y_rep = y_bar[0].repeat_interleave(k_demo)  # ȳ_{a(i)} for every instance i
loss_inst = ((y_rep - x[0] @ theta) ** 2).sum()
loss_bag = ((y_bar[0] - x_bar[0] @ theta) ** 2).sum()
spread = ((x_dev[0] @ theta) ** 2).sum()
print(f"within-bag spread s = {P.within_bag_spread:g}:  L_inst = {loss_inst:.6f}   k·L_bag + R = "
      f"{k_demo * loss_bag + spread:.6f}   (k·L_bag = {k_demo * loss_bag:.3f}, R = {spread:.3f})")
gb, gd, r = grams(x_bar, y_bar, x_dev, k_demo)
ols_bag = torch.linalg.lstsq(x_bar[0], y_bar[0][:, None]).solution[:, 0]
ols_inst = torch.linalg.lstsq(x[0], y_rep[:, None]).solution[:, 0]
print(f"max |X_cᵀX_c − (XᵀX − k X̄ᵀX̄)| = {(gd - (x.mT @ x - gb)).abs().max():.2e}")
print(f"max |θ̂_0 − OLS(x̄, ȳ)| = {(interpolating_fit(gb, gd, r, 0.0)[0, :, 0] - ols_bag).abs().max():.2e}")
print(f"max |θ̂_1 − OLS(x, ȳ_a(i))| = {(interpolating_fit(gb, gd, r, 1.0)[0, :, 0] - ols_inst).abs().max():.2e}")

# %% [markdown]
# ## The theory, in a few lines
#
# Because $x$ is Gaussian, the scaled bag means $\sqrt k\,\bar x_a$ are $m$ independent $\mathcal N(0, I_d)$
# vectors, independent of the within-bag deviations, which carry $m(k-1)$ more independent
# $\mathcal N(0, I_d)$ directions. So at $s = 1$, $k\bar X^\top\bar X = A$ and $X_c^\top X_c = B$ are independent
# Wishart matrices with $m$ and $m(k-1)$ degrees of freedom, $k\bar X^\top \bar y = A\theta_* + \sigma Z_1^\top\xi$
# with $\xi\sim\mathcal N(0, I_m)$, and
#
# $$\hat\theta_\rho - \theta_* = -\rho (A+\rho B)^{-1} B\,\theta_* \;+\; \sigma (A+\rho B)^{-1} Z_1^\top \xi .$$
#
# The first term is the **bias** (the error of the fit to noise-free bag responses, *exactly* zero at
# $\rho = 0$ whatever the features), the second the **variance** (what the noise adds). With
# $\lambda_1 = m/d$ and $\lambda_2 = m(k-1)/d$, let $g>0$ solve
#
# $$\lambda_1 \frac{g}{1+g} + \lambda_2 \frac{\rho g}{1+\rho g} = 1,
# \qquad q_1 = \frac{g}{1+g},\quad q_2 = \frac{\rho g}{1+\rho g},\quad D = 1 - \lambda_1 q_1^2 - \lambda_2 q_2^2 .$$
#
# Then, as $n, d\to\infty$ with $n/d$ and $k$ fixed,
#
# $$\mathrm{Bias}^2 \to \lVert\theta_*\rVert^2\,\frac{\lambda_2 q_2^2\,\big(\lambda_2(1-q_2) + \lambda_1 q_1\big)}{D},
# \qquad \mathrm{Var} \to \sigma^2\,\frac{\lambda_1 q_1^2}{D},
# \qquad \mathrm{Risk} = \mathbb E\lVert\hat\theta_\rho-\theta_*\rVert^2 = \mathrm{Bias}^2 + \mathrm{Var}.$$
#
# (Sketch: $g$ is the limit of $\tfrac1d\operatorname{tr}(A+\rho B)^{-1}\cdot d$, the Stieltjes transform of
# the sum of two free Marchenko–Pastur laws; conditionally on $B$, $(A + \rho B)^{-1}$ has the deterministic
# equivalent $(\tfrac{\lambda_1}{1+g} I + \rho B/d)^{-1}$, and the variance and bias are derivatives of
# $\tfrac1d\operatorname{tr}(sA + \rho B + t\rho^2B^2)^{-1}$ in $s$ and $t$.) Checks: at $\rho = 0$ the bias is 0
# and $\mathrm{Var} = \sigma^2\frac{d}{m-d}$, ordinary least squares on $m$ bags, infinite when $m \le d$; at
# $\rho = 1$, $q_1 = q_2 = d/n$, $\mathrm{Var} = \frac{\sigma^2}{k}\frac{d}{n-d}$, and for $n\gg d$ the bias tends to
# $(1-1/k)^2\lVert\theta_*\rVert^2$: instance-level least squares shrinks $\theta_*$ by the factor $1/k$. Near
# $\rho = 0$ the bias grows like $\rho^2$ while the variance falls like $\rho$, so the best $\rho$ is never 0,
# but how much it gains is a matter of $m/d$ and SNR, which is what the simulation measures.
#
# **At spread $s$.** The matrices become $c_k^2 A$ and $s^2 B$ and the noise term is multiplied by $c_k$, so
# $\hat\theta_\rho$ at spread $s$ is $\hat\theta_{\rho_e}$ at spread 1 with the noise scaled by $1/c_k$, where
# $\rho_e = \rho s^2/c_k^2$: bias² is the formula at $\rho_e$, variance the formula at $\rho_e$ divided by $c_k^2$.
# At $s = 0$, $\rho_e = 0$ for every $\rho$: bag-level least squares on $m$ distinct features with noise
# variance $\sigma^2/k$.
#
# The formulas are this chapter's own derivation (the paper's theorem could not be read here), so their
# agreement with the simulation is an instrument check of the chapter, not evidence for the paper.

# %%
def theory(k: int, rho: np.ndarray, snr: float) -> dict[str, np.ndarray]:
    """Asymptotic bias², variance and risk of θ̂_ρ for bag size k at this run's spread (d, n from the parameters)."""
    lam1, lam2 = P.n / k / P.dim, P.n * (k - 1) / k / P.dim
    scale2 = bag_scale(k) ** 2
    rho = np.asarray(rho, dtype=float) * P.within_bag_spread**2 / scale2  # ρ_e, the weight at spread 1
    lo, hi = np.full(rho.shape, -60.0), np.full(rho.shape, 60.0)  # bisection on log g
    for _ in range(200):
        mid = (lo + hi) / 2
        gm = np.exp(mid)
        below = lam1 * gm / (1 + gm) + lam2 * rho * gm / (1 + rho * gm) < 1
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    gm = np.exp((lo + hi) / 2)
    q1, q2 = gm / (1 + gm), rho * gm / (1 + rho * gm)
    denom = 1 - lam1 * q1**2 - lam2 * q2**2
    with np.errstate(divide="ignore", invalid="ignore"):
        bias2 = snr * P.noise_sd**2 * lam2 * q2**2 * (lam2 * (1 - q2) + lam1 * q1) / denom
        var = P.noise_sd**2 * lam1 * q1**2 / denom / scale2
    diverges = (rho == 0) & (lam1 <= 1)  # bag-level least squares with m ≤ d
    bias2, var = np.where(diverges, 0.0, bias2), np.where(diverges, np.inf, var)
    return {"bias2": bias2, "variance": var, "risk": bias2 + var}


for k in P.bag_sizes:
    t = theory(k, np.array([0.0, 1.0]), 1.0)
    m = P.n // k
    ols = P.dim / (m - P.dim) / bag_scale(k) ** 2 if m > P.dim else math.inf
    print(f"k = {k:>2}: theory Var(ρ=0) = {t['variance'][0]:.4f} (d/(m−d)/c² = {ols:.4f}), "
          f"Var(ρ=1) = {t['variance'][1]:.4f}"
          + (f" ((1/k)·d/(n−d) = {P.dim / (P.n - P.dim) / k:.4f})" if P.within_bag_spread == 1 else ""))

rho_grid = np.logspace(math.log10(P.rho_min), 0.0, P.n_theory)
RHO_THEORY = {(k, snr): float(rho_grid[int(np.argmin(theory(k, rho_grid, snr)["risk"]))])
              for k in P.bag_sizes for snr in P.snrs}  # the theory's best ρ per cell, fixed before any draw

# %% [markdown]
# ## The simulation
#
# One generator draws, in order, a unit direction $u$ for $\theta_*$, then the **selection draws** and then
# the **scoring draws**; each draw is new features, new noise and, per bag size, a random permutation that
# assigns samples to bags. The estimator is linear in the responses, so each draw is fitted twice per $\rho$
# in one solve: to the noise-free bag responses of $u$ (giving the bias vector) and to the bag-averaged
# pure noise (giving the variance vector); the fit to $y = \theta_*^\top x + \sigma\varepsilon$ with
# $\theta_* = \sigma\sqrt{\mathrm{SNR}}\,u$ is $\sigma\sqrt{\mathrm{SNR}}$ times the first plus $\sigma$ times the
# second, for every SNR at once. Per cell $(k, \mathrm{SNR}, \rho)$ we report the mean over draws of the
# squared bias vector, of the squared variance vector, and of the actual squared error
# $\lVert\hat\theta_\rho - \theta_*\rVert^2$ (the risk, equal to the excess test MSE for isotropic features).
#
# **Choosing $\rho$.** Per cell, $\hat\rho$ is the grid weight strictly inside $(0, 1)$ with the smallest mean
# risk on the `select_reps` selection draws; it is then scored, with both ends, on the `reps` scoring
# draws, which the choice never saw. The theory's best $\rho^\star$ (fine grid, no draws) is scored beside it.

# %%
def simulate(gen: torch.Generator, u: torch.Tensor, draws: int, extra: dict[int, list[float]]) -> dict:
    """Per bag size k: per draw and per ρ (the grid, then `extra[k]`), ‖bias‖², bias·noise and ‖noise‖²."""
    chunk = max(1, min(draws, int(5e7 // (P.n * P.dim))))  # draws per batch, bounds memory
    acc = {k: [] for k in P.bag_sizes}
    s2 = P.within_bag_spread**2
    for start in gu.progress(range(0, draws, chunk), desc="draws"):
        c = min(chunk, draws - start)
        x = torch.randn(c, P.n, P.dim, generator=gen, dtype=torch.float64)
        eps = torch.randn(c, P.n, generator=gen, dtype=torch.float64)
        perms = {k: torch.rand(c, P.n, generator=gen).argsort(dim=1) for k in P.bag_sizes}
        x, eps = x.to(device), eps.to(device)
        gram_all = x.mT @ x  # Σ_i x_i x_iᵀ, the same for every bagging
        for k in P.bag_sizes:
            idx = perms[k].to(device)
            xk = torch.gather(x, 1, idx[..., None].expand(-1, -1, P.dim))
            x_bar = xk.reshape(c, P.n // k, k, P.dim).mean(dim=2)
            e_bar = torch.gather(eps, 1, idx).reshape(c, P.n // k, k).mean(dim=2)
            gb0 = k * x_bar.mT @ x_bar
            ck = bag_scale(k)
            gb = ck**2 * gb0  # k X̄'ᵀX̄' for the bag means c_k x̄_a
            gd = s2 * (gram_all - gb0)  # the decomposition in matrix form, X_cᵀX_c = XᵀX − k X̄ᵀX̄, times s²
            r = torch.stack([gb @ u, ck * k * (x_bar.mT @ e_bar[..., None])[..., 0]], dim=2)  # noise-free, noise
            parts = []
            for rho in [*rhos, *extra.get(k, [])]:
                fit = interpolating_fit(gb, gd, r, float(rho))
                e_bias, e_noise = fit[..., 0] - u, fit[..., 1]
                parts.append(torch.stack([(e_bias**2).sum(1), (e_bias * e_noise).sum(1), (e_noise**2).sum(1)], 1))
            acc[k].append(torch.stack(parts, dim=1).cpu())  # (draws, ρ, 3)
    return {k: torch.cat(v).double().numpy() for k, v in acc.items()}


def sq_error(parts: np.ndarray, snr: float) -> np.ndarray:
    """‖θ̂_ρ − θ*‖² per draw (and per ρ) from the three pieces, for θ* = σ √SNR u."""
    bb, bn, nn = parts[..., 0], parts[..., 1], parts[..., 2]
    return P.noise_sd**2 * (snr * bb + 2 * math.sqrt(snr) * bn + nn)


t0 = time.time()
gen = torch.Generator().manual_seed(P.seed)
u = torch.randn(P.dim, generator=gen, dtype=torch.float64)
u = (u / u.norm()).to(device)
held_out = simulate(gen, u, P.select_reps, {})
extra = {k: [RHO_THEORY[k, snr] for snr in P.snrs] for k in P.bag_sizes}
scored = simulate(gen, u, P.reps, extra)

rows, chosen = [], {}
for k in P.bag_sizes:
    for snr in P.snrs:
        sel_risk = sq_error(held_out[k], snr).mean(axis=0)
        chosen[k, snr] = min(INNER, key=lambda i: sel_risk[i])  # ρ̂: chosen on the selection draws only
        err = sq_error(scored[k], snr)
        for i, rho in enumerate(rhos):
            rows.append({"k": k, "m/d": P.n / k / P.dim, "snr": snr, "rho_index": i, "rho": rho,
                         "bias2": P.noise_sd**2 * snr * scored[k][:, i, 0].mean(),
                         "variance": P.noise_sd**2 * scored[k][:, i, 2].mean(), "risk": err[:, i].mean(),
                         "risk_se": err[:, i].std(ddof=1) / math.sqrt(P.reps), "selection_risk": sel_risk[i]})
sim = pd.DataFrame(rows)
for col in ("bias2", "variance", "risk"):
    sim[f"{col}_theory"] = np.nan
for (k, snr), cell in sim.groupby(["k", "snr"]):
    th = theory(k, cell.rho.to_numpy(), snr)
    for col in ("bias2", "variance", "risk"):
        sim.loc[cell.index, f"{col}_theory"] = th[col]
print(f"simulated {len(P.bag_sizes)} bag sizes × {len(rhos)} weights × ({P.select_reps} selection + "
      f"{P.reps} scoring) draws in {time.time() - t0:.1f} s")
sim[sim.rho.isin([0.0, 1.0])].round(4)

# %% [markdown]
# ## Results
#
# **The deciding comparison, cell by cell.** For every cell with $k \ge 2$: the weight $\hat\rho$ chosen on the
# selection draws, the theory's $\rho^\star$, and on the scoring draws the risks of the two ends and of
# $\hat\rho$, with the relative gain $1 - \mathrm{risk}(\hat\rho)/\min(\mathrm{risk}(0), \mathrm{risk}(1))$ and its 95%
# t-interval over the scoring draws (per draw: the better end's error minus $\hat\rho$'s, divided by the better
# end's mean risk). The better end is picked on the scoring draws themselves, which can only favour the ends.
# `gated` marks the cells that decide ($m/d \ge 2$).

# %%
i_inst = len(rhos) - 1
cells, gated_gain, gated_gain_theory = [], [], []
for k in [k for k in P.bag_sizes if k >= 2]:
    for snr in P.snrs:
        err = sq_error(scored[k], snr)
        e_bag, e_inst, e_sel = err[:, 0], err[:, i_inst], err[:, chosen[k, snr]]
        e_theory = err[:, len(rhos) + P.snrs.index(snr)]
        end = e_bag if e_bag.mean() <= e_inst.mean() else e_inst
        rel, rel_theory = (end - e_sel) / end.mean(), (end - e_theory) / end.mean()
        lo, hi = gu.t_interval(rel)
        cells.append({"k": k, "m/d": P.n / k / P.dim, "snr": snr, "gated": k in GATED,
                      "rho_hat": rhos[chosen[k, snr]], "rho_theory": RHO_THEORY[k, snr],
                      "risk_bag": e_bag.mean(), "risk_inst": e_inst.mean(), "risk_rho_hat": e_sel.mean(),
                      "better_end": "bag" if end is e_bag else "instance",
                      "gain": rel.mean(), "gain_lo": lo, "gain_hi": hi, "gain_rho_theory": rel_theory.mean()})
        if k in GATED:
            gated_gain.append(rel)
            gated_gain_theory.append(rel_theory)
cells = pd.DataFrame(cells)
gain_per_draw = np.mean(gated_gain, axis=0)  # per scoring draw: the mean relative gain over the gated cells
gain_lo, gain_hi = gu.t_interval(gain_per_draw)
print(cells.round(4).to_string(index=False))
print(f"\nmean relative gain over the {len(gated_gain)} gated cells: {gain_per_draw.mean():.4f} "
      f"[{gain_lo:.4f}, {gain_hi:.4f}] (95% t-interval over {P.reps} scoring draws); "
      f"median cell {cells[cells.gated].gain.median():.4f}")

# %% [markdown]
# **Figure 1.** Bias², variance and risk against the interpolation weight $\rho$ at the largest SNR, one
# panel per bag size $k \ge 2$, on the scoring draws: lines are the theory, dots the simulation (mean over
# draws); the star is the weight $\hat\rho$ chosen on the held-out draws, at its scored risk. The left edge is
# $\rho = 0$ (bag-level), the right edge $\rho = 1$ (instance-level). Look for the bias rising and the
# variance falling with $\rho$, the dots on the lines, and a risk minimum strictly inside, deepest when
# $m/d$ is small (large $k$), where bag-level variance is largest. At $m = d$ the bag-level risk is off
# the scale (infinite in theory); a triangle on the top edge marks it. (In the falsification run every
# $\rho$ gives the same estimator: flat curves and zero bias, which the log axis does not draw.)

# %%
zero_at = P.rho_min / 10  # where ρ = 0 is drawn on the log axis
snr_show = P.snrs[-1]
ks = [k for k in P.bag_sizes if k > 1]
quantities = {"bias2": "bias²", "variance": "variance", "risk": "risk"}
fig, axes = gu.subplots(ncols=len(ks), width=3.8, height=4.0, sharey=True)
axes = np.atleast_1d(axes)
shown = sim[(sim.snr == snr_show) & (sim.k > 1)]
floor = shown.variance.min() / 3
ceiling = 3 * shown[shown.rho > 0].risk.max()  # the bag-level risk at m = d would squash the axis
for ax, k in zip(axes, ks):
    th = theory(k, np.concatenate([[0.0], rho_grid]), snr_show)
    x_th = np.concatenate([[zero_at], rho_grid])
    cell = sim[(sim.k == k) & (sim.snr == snr_show)].assign(x=lambda d: d.rho.where(d.rho > 0, zero_at))
    for j, (col, name) in enumerate(quantities.items()):
        ax.plot(x_th[1:], th[col][1:], color=f"C{j}", label=f"{name} (theory)")
        ax.plot(x_th[0], th[col][0], color=f"C{j}", marker="_", markersize=14)
        sns.scatterplot(x=cell.x, y=cell[col], color=f"C{j}", ax=ax, s=22, label=f"{name} (simulation)")
    pick = cell[cell.rho_index == chosen[k, snr_show]].iloc[0]
    ax.plot(pick.rho, pick.risk, marker="*", markersize=14, color="black", linestyle="none",
            label="ρ̂ chosen on held-out draws")
    ax.axvline(zero_at, color="grey", linestyle=":", linewidth=1)
    ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set(xscale="log", yscale="log", ylim=(floor, ceiling))
    bag_risk = cell[cell.rho == 0].risk.iloc[0]
    if bag_risk > ceiling:  # mark the off-scale bag-level risk at the top edge
        ax.plot(zero_at, ceiling, marker="^", color="C2", clip_on=False)
        ax.annotate(f"bag-level risk {bag_risk:.3g} (theory {th['risk'][0]:.3g})", (zero_at, ceiling),
                    xytext=(0.2, 0.985), textcoords="axes fraction", fontsize="x-small", color="C2",
                    va="top", arrowprops={"arrowstyle": "->", "color": "C2"})
    decades = list(range(math.ceil(math.log10(P.rho_min)), 1, 2))
    ax.set_xticks([zero_at] + [10.0**e for e in decades])
    ax.set_xticklabels(["0\nbag"] + [f"1e{e}" if e else "1\ninst." for e in decades])
    ax.xaxis.set_minor_formatter("")
    gated_text = "" if k in GATED else " (not gated)"
    gu.label(ax, "interpolation weight ρ", "squared error", f"k = {k}, m/d = {P.n / k / P.dim:g}{gated_text}")
handles, labels = axes[0].get_legend_handles_labels()
for ax in axes:
    if ax.get_legend() is not None:
        ax.get_legend().remove()
fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize="small")
fig.suptitle(f"Bias, variance and risk along the interpolation path (SNR = {snr_show:g})")

# %% [markdown]
# **Explorer.** The risk along the interpolation path at one bag size at a time, for every SNR (Figure 1
# shows the largest SNR only): lines are the theory, dots the simulation (mean over scoring draws), $\rho = 0$
# drawn at the left edge; beside it, that bag size's row of the deciding comparison. Look for the minimum
# inside the path and how the gain changes with $k$ and the SNR.

# %%
def bag_frame(k: int, ax) -> None:
    cell = sim[sim.k == k].assign(x=lambda d: d.rho.where(d.rho > 0, zero_at), SNR=lambda d: d.snr.map("{:g}".format))
    sns.lineplot(data=cell, x="x", y="risk_theory", hue="SNR", ax=ax, legend=False)
    sns.scatterplot(data=cell, x="x", y="risk", hue="SNR", ax=ax, s=24)
    ax.set(xscale="log", yscale="log")
    gu.label(ax, "interpolation weight ρ (left edge: ρ = 0, bag-level)", "risk (squared error)", f"k = {k}, m/d = {P.n / k / P.dim:g}")


gu.explore(ks, bag_frame, label="bag size k", numbers=lambda k: cells[cells.k == k].set_index("snr")[
    ["rho_hat", "risk_bag", "risk_inst", "risk_rho_hat", "gain", "gain_lo", "gain_hi"]].T)

# %% [markdown]
# **Figure 2.** Risk of the bag-level, instance-level and interpolating estimators against the bag size
# (below each $k$: bags per dimension $m/d$), one panel per SNR. Lines are theory (the interpolating one at
# the theory's $\rho^\star$), dots the scoring draws (the interpolating one at $\hat\rho$, chosen on the held-out
# draws). The grey band holds the cells with $m/d < 2$, shown but not gated. Look for bag-level risk
# exploding as $m/d \to 1$ (a point beyond the top edge is drawn on it, its value written beside it),
# instance-level risk growing with $k$ through its bias, and the interpolating estimator under both.

# %%
dot_rows, theory_rows = [], []
for (k, snr), cell in sim.groupby(["k", "snr"]):
    for name, row in (("bag-level (ρ = 0)", cell[cell.rho == 0].iloc[0]),
                      ("instance-level (ρ = 1)", cell[cell.rho == 1].iloc[0]),
                      ("interpolating (ρ̂ / ρ*)", cell[cell.rho_index == chosen[k, snr]].iloc[0])):
        dot_rows.append({"k": k, "snr": snr, "estimator": name, "risk": row.risk})
    th0, th_star = theory(k, np.array([0.0, 1.0]), snr), theory(k, np.array([RHO_THEORY[k, snr]]), snr)
    for name, value in (("bag-level (ρ = 0)", th0["risk"][0]), ("instance-level (ρ = 1)", th0["risk"][1]),
                        ("interpolating (ρ̂ / ρ*)", th_star["risk"][0])):
        theory_rows.append({"k": k, "snr": snr, "estimator": name, "risk": value})
dots, theory_best = pd.DataFrame(dot_rows), pd.DataFrame(theory_rows)
top = 10 * dots[dots.estimator != "bag-level (ρ = 0)"].risk.max()  # bag-level at m = d goes beyond
degenerate = [k for k in P.bag_sizes if k >= 2 and k not in GATED]
fig, axes = gu.subplots(ncols=len(P.snrs), width=4.6, height=4.2, sharey=True)
axes = np.atleast_1d(axes)
for ax, snr in zip(axes, P.snrs):
    th = theory_best[(theory_best.snr == snr) & np.isfinite(theory_best.risk)]
    sns.lineplot(data=th, x="k", y="risk", hue="estimator", ax=ax, legend=False)
    here = dots[dots.snr == snr]
    sns.scatterplot(data=here.assign(risk=here.risk.clip(upper=top)), x="k", y="risk", hue="estimator",
                    ax=ax, s=40, legend=ax is axes[-1])
    for _, row in here[here.risk > top].iterrows():  # off-scale points sit on the top edge, value written
        ax.annotate(f"{row.risk:.3g} ↑", (row.k, top), xytext=(-8, -16), textcoords="offset points",
                    fontsize="x-small", ha="right")
    if degenerate:
        left = math.sqrt(min(degenerate) * max(k for k in P.bag_sizes if k < min(degenerate)))
        ax.axvspan(left, max(P.bag_sizes) * 1.3, color="grey", alpha=0.12, linewidth=0)
    ax.set(xscale="log", yscale="log")
    if (dots.risk > top).any():
        ax.set_ylim(top=1.5 * top)
    ax.set_xticks(P.bag_sizes)
    ax.set_xticklabels([f"{k}\n{P.n / k / P.dim:g}" for k in P.bag_sizes])
    ax.xaxis.set_minor_formatter("")
    gu.label(ax, "bag size k  (below: m/d)", "risk  E‖θ̂ − θ*‖²", f"SNR = {snr:g}")
axes[-1].legend(fontsize="small", title="estimator")

# %% [markdown]
# **Figure 3.** The deciding evidence: relative gain of the interpolating estimator at $\hat\rho$ over the
# better end, per cell with $k \ge 2$ (95% t-intervals over the scoring draws), and, on the right, the mean
# over the gated cells with its interval. Dashed lines: the margin 0.05 that `supported` needs, the 0.02
# below which `contradicted` fires. Look for the gated intervals above zero and the mean above the margin;
# the $m = d$ cell (not gated) is where the gain is largest and least informative.

# %%
fig, ax = gu.subplots(width=7.5, height=4.2)
labels = [f"k={k}\nm/d={P.n / k / P.dim:g}" for k in ks] + ["mean over\ngated cells"]
width = 0.7 / len(P.snrs)
for j, snr in enumerate(P.snrs):
    part = cells[cells.snr == snr].set_index("k").loc[ks]
    xs = np.arange(len(ks)) + (j - (len(P.snrs) - 1) / 2) * width
    ax.errorbar(xs, part.gain, yerr=[part.gain - part.gain_lo, part.gain_hi - part.gain], fmt="o",
                color=sns.color_palette("viridis", len(P.snrs))[j], capsize=3, label=f"SNR = {snr:g}")
ax.errorbar([len(ks)], [gain_per_draw.mean()], yerr=[[gain_per_draw.mean() - gain_lo], [gain_hi - gain_per_draw.mean()]],
            fmt="D", color="black", capsize=4, label="mean over gated cells")
if degenerate:
    ax.axvspan(ks.index(min(degenerate)) - 0.5, len(ks) - 0.5, color="grey", alpha=0.12, linewidth=0)
for level, style in ((0.05, "--"), (0.02, ":"), (0.0, "-")):
    ax.axhline(level, color="grey", linestyle=style, linewidth=1)
ax.set_xticks(range(len(labels)))
ax.set_xticklabels(labels, fontsize="small")
ax.legend(fontsize="small")
gu.label(ax, "cell", "relative gain over the better end", "Interpolation with ρ chosen on held-out draws")

# %% [markdown]
# **Figure 4.** The interpolation weight against the bag size, per SNR: the theory's $\rho^\star$ (lines, fine
# grid) and $\hat\rho$ chosen on the held-out draws (dots, on the simulation grid). Look for $\rho$ strictly
# between 0 and 1 and far below 1, larger at low SNR (more noise calls for more of the within-bag
# penalty), and the dots following the theory's trend with $k$.

# %%
fig, ax = gu.subplots(width=6.5, height=4.2)
rho_th = pd.DataFrame([{"k": k, "snr": snr, "rho": RHO_THEORY[k, snr]} for k in ks for snr in P.snrs])
rho_hat = cells[["k", "snr", "rho_hat"]].rename(columns={"rho_hat": "rho"})
sns.lineplot(data=rho_th, x="k", y="rho", hue="snr", palette="viridis", ax=ax, legend=False)
sns.scatterplot(data=rho_hat, x="k", y="rho", hue="snr", palette="viridis", ax=ax, s=50)
ax.set(xscale="log", yscale="log")
ax.set_xticks(ks)
ax.xaxis.set_major_formatter("{x:g}")
ax.xaxis.set_minor_formatter("")
lo, hi = ax.get_ylim()
ticks = (10.0 ** np.arange(-6, 1)[:, None] * np.array([1, 2, 5])).ravel()  # 1-2-5 ticks
ax.set_yticks(ticks[(ticks >= lo) & (ticks <= hi)])
ax.set_ylim(lo, hi)
ax.yaxis.set_major_formatter("{x:g}")
ax.yaxis.set_minor_formatter("")
ax.legend(title="SNR")
gu.label(ax, "bag size k", "interpolation weight ρ", "Theory's ρ* (lines) and held-out ρ̂ (dots)")

# %% [markdown]
# ## Verdict
#
# The rule, revised before its first `cpu` run (the rule history below keeps the earlier one). The gated
# cells are those with $k \ge 2$ and $m/d \ge 2$ (`cpu`: $k$ = 2, 5, 10 at both SNRs, six cells).
#
# - **evidence, interpolation beats both ends**: with $\hat\rho$ chosen on the selection draws and everything
#   scored on fresh draws, `gain_mean` is the mean over the gated cells of
#   $1 - \mathrm{risk}(\hat\rho)/\min(\mathrm{risk}(0), \mathrm{risk}(1))$, and `gain_lo`, `gain_hi` its 95% t-interval
#   over the scoring draws (the draws are independent; the cells share them). `gain_median` is the median
#   cell's gain.
# - `supported` if `gain_lo` > 0.05 and `gain_median` > 0.05: the interpolation beats the better end by more
#   than 5% on average, with confidence, and in at least half the cells;
# - `contradicted` if `gain_hi` < 0.02: with confidence, the best interpolation is no better than the better
#   end by even 2%;
# - `inconclusive` otherwise, or if an instrument check fails.
# - **instrument checks** (hold by the algebra, or test the chapter's own derivation):
#   `bag_bias2_rel_max`, the largest bias² of bag-level least squares over $\lVert\theta_*\rVert^2$, is at most
#   $10^{-10}$ (exactly unbiased given the features); `var_order_rel_max`, the largest
#   $[\mathrm{Var}(1) - \mathrm{Var}(0)]/\mathrm{Var}(0)$, is at most $10^{-6}$ (adding the regularizer cannot raise
#   the variance: $(A+\rho B)^{-1}A(A+\rho B)^{-1} \preceq A^{-1}$); `median_rel_err`, the median over all simulated
#   $(k \ge 2, \mathrm{SNR}, \rho)$ points of $|\mathrm{risk(sim)} - \mathrm{risk(theory)}|/\mathrm{risk(theory)}$, is at
#   most 0.15 (points where the theory is infinite, bag-level with $m \le d$, are left out).
#
# Reported, not gated: the strict orderings of the old rule (`bias_gap_min`, `var_gap_max`), the gain at the
# theory's $\rho^\star$, the gain in the $m/d < 2$ cells, and how far $\hat\rho$ sits from $\rho^\star$.
# Reachability: the theory itself predicts gains from about 3% ($k$ = 2, SNR 4) to 49% ($k$ = 10, SNR 1) in
# the gated cells, and gains below 2% at higher SNR or more bags per dimension, so both branches can fire
# through what the simulation measures; in the falsification run every $\rho$ is the same estimator and the
# gain is zero.

# %%
points = sim[sim.k > 1]
finite = np.isfinite(points.risk_theory)
rel_err = ((points.risk - points.risk_theory).abs() / points.risk_theory)[finite]
ends = sim[(sim.k > 1) & sim.rho.isin([0.0, 1.0])].pivot_table(index=["k", "snr"], columns="rho",
                                                                 values=["bias2", "variance"])
theta_norm2 = np.array([P.noise_sd**2 * snr for _, snr in ends.index])
gated_cells = cells[cells.gated]
statistics = {
    "gain_mean": float(gain_per_draw.mean()),
    "gain_lo": gain_lo,
    "gain_hi": gain_hi,
    "gain_median": float(gated_cells.gain.median()),
    "gain_min": float(gated_cells.gain.min()),
    "gain_rho_theory_mean": float(np.mean(gated_gain_theory, axis=0).mean()),
    "gain_not_gated_max": float(cells[~cells.gated].gain.max()) if (~cells.gated).any() else float("nan"),
    "rho_log_gap_median": float(np.median(np.abs(np.log10(gated_cells.rho_hat / gated_cells.rho_theory)))),
    "n_gated_cells": int(len(gated_cells)),
    "bag_bias2_rel_max": float((ends["bias2"][0.0].to_numpy() / theta_norm2).max()),
    "var_order_rel_max": float(((ends["variance"][1.0] - ends["variance"][0.0]) / ends["variance"][0.0]).max()),
    "bias_gap_min": float((ends["bias2"][1.0] - ends["bias2"][0.0]).min()),
    "var_gap_max": float((ends["variance"][1.0] - ends["variance"][0.0]).max()),
    "median_rel_err": float(rel_err.median()),
    "max_rel_err": float(rel_err.max()),
    "n_infinite_theory": int((~finite).sum()),
}
RULE = gu.rule(
    supported=gu.all_of(gu.cond("gain_lo", ">", 0.05), gu.cond("gain_median", ">", 0.05)),
    contradicted=gu.cond("gain_hi", "<", 0.02),
    checks={
        "bag_level_unbiased_given_x": gu.cond("bag_bias2_rel_max", "<=", 1e-10),
        "regularizer_lowers_variance": gu.cond("var_order_rel_max", "<=", 1e-6),
        "theory_matches_simulation": gu.cond("median_rel_err", "<=", 0.15),
    },
)
record = gu.report_verdict(
    chapter="aggregate_responses", params=P, rule=RULE, statistics=statistics, seeds=[P.seed],
    headline=["gain_mean", "gain_lo", "gain_hi", "gain_median", "median_rel_err"],
)

# %% [markdown]
# ### Rule history
#
# - **First rule** (study card 46): `supported` when, in every cell with $k \ge 2$, bias²(instance) >
#   bias²(bag) and variance(instance) < variance(bag), the smallest over cells of
#   risk(best $\rho$ in $(0,1)$)/min(risk(bag), risk(instance)) was at most 0.8, no cell's best interpolation
#   exceeded that minimum by more than 2 standard errors, and the median theory–simulation relative error
#   was at most 0.15; `contradicted` when the bias–variance ordering was reversed in any cell. Its `cpu`
#   verdict was **supported**: bias gap 0.263 > 0, variance gap −0.087 < 0, best interpolation 0.44× the
#   better end, theory relative error 0.007; 53.8 s.
# - **Why it changed** (review of the theory part, section 9): conditional on the features, bag-level least
#   squares with $m \ge d$ is exactly unbiased and the variance ordering follows from the algebra, so the
#   `contradicted` branch (ordering reversed) could not fire and the ordering is now an instrument check;
#   "interpolation helps" was the *minimum* over cells, met in the degenerate $m = d$ cell (bag-level risk
#   infinite) whatever happened elsewhere, so it is now the mean (with a t-interval) and the median over
#   the cells with $m/d \ge 2$; the best $\rho$ was picked on the draws it was scored on, so it is now
#   chosen on separate held-out draws; the theory–simulation agreement tests the chapter's own derivation,
#   so it is a check, not evidence; and a falsification run (`within_bag_spread` = 0) was added.
# - **Current rule, first `cpu` verdicts** (rule unchanged after them): main run **supported**, mean gain over
#   the six gated cells 0.217 [0.207, 0.227], median cell 0.196, smallest cell 0.028 ($k$ = 2, SNR 4), gain at
#   the theory's $\rho^\star$ 0.218, theory median relative error 0.011, checks pass; 10.3 s. Falsification run
#   **contradicted**, gain 0 [0, 0] in every cell, checks pass; 7.7 s.

# %% [markdown]
# ## Faithfulness notes
#
# - **The paper's text.** Only the abstract (OpenReview) and a third-party summary were found (search
#   corpora `pages`, `docs` and `code`, by title, arXiv id 2401.11081, OpenReview id and key phrases), so
#   the paper's exact scaling of the two losses, its parametrisation of the interpolating weight, its
#   closed-form risk and its figures could not be copied or compared number for number. The chapter uses the
#   study card's reading, $k\mathcal L_{\rm bag} + \rho\mathcal R$, which makes $\rho = 0$ bag-level and $\rho = 1$
#   instance-level exactly as the decomposition lemma does; if the paper weighs the two terms differently,
#   its $\rho$ is a monotone reparametrisation of this one and the comparison of the three estimators is
#   unchanged.
# - The asymptotic formulas are derived in this chapter (free-probability / deterministic-equivalent
#   calculation, sketched in the theory section) rather than transcribed from the paper's theorem; they
#   reproduce the known endpoints (least squares on $m$ bags; shrinkage by $1/k$ at $\rho = 1$). Because
#   they are the chapter's own, their agreement with simulation is an instrument check. Finite-$d$ effects
#   are largest near $m = d$, where bag-level least squares has exact variance $\sigma^2 d/(m-d-1)$ and, at
#   $m = d$, no finite mean at all.
# - **This repair** (review, theory part, section 9): the bias/variance ordering became instrument checks
#   (it holds by the algebra); the evidence is the gain of the interpolating estimator over the better end
#   in the cells with $m/d \ge 2$, with $\rho$ chosen on separate held-out draws (`select_reps`) and scored on
#   fresh draws, summarised by its mean over cells with a t-interval over draws and by the median cell;
#   `contradicted` fires when that gain is confidently below 2%. The parameter `within_bag_spread` was added
#   for the falsification run; at its default 1 the features are the paper's iid Gaussians and nothing else
#   changes. The theory's $\rho^\star$ is also scored, as a second, draw-free way of choosing the weight.
# - **The falsification run** ($s = 0$: the instances of a bag share one feature vector) removes the
#   within-bag spread regularizer itself, so all weights give one estimator and the gain is zero by
#   construction. It shows the rule reads `contradicted` when the paper's cause is absent; it is not a test
#   that could have surprised us. The measured adversary of the claim is the SNR (with little noise the
#   bag-level estimator has little variance to trade): at the `cpu` sizes, `-p snrs "[64.0, 256.0]"` gave
#   `contradicted` (mean gain 0.0085 [0.0045, 0.0125]) and `-p snrs "[16.0]"` gave `inconclusive` (0.047
#   [0.038, 0.055], median cell 0.033), so all three outcomes are reached through what the simulation
#   measures, not only through the falsification knob.
# - Choosing $\hat\rho$ on held-out draws of the same distribution picks the weight that is best in
#   expectation (an oracle for the weight, not cross-validation on one data set); the paper's claim is about
#   "the right weight", so this is the quantity it speaks of. A learner with one data set would have to
#   estimate $\rho$ from it and would do somewhat worse.
# - **Deviation from the card.** The card defines bias² $= \lVert\mathbb E\hat\theta - \theta_*\rVert^2$ with the
#   expectation over everything (features, bagging and noise). Here bias and variance are taken
#   conditionally on the features, as in the proportional-asymptotics literature: bias² is the squared
#   error of the fit to noise-free bag responses and variance what the noise adds, each averaged over
#   draws; the risk is the same under both definitions. Reason: at the card's $k = 20$ ($m = d = 50$) the
#   bag-level estimator has infinite variance, so the unconditional mean over 200 draws does not settle.
# - The card's parameter `rhos` (a count) is split into `n_rhos` and `rho_min`; $\rho = 0$ is always added.
# - Samples are bagged by a random permutation per draw and bag size; the same feature and noise draws are
#   reused across bag sizes and SNRs (common random numbers), which sharpens comparisons between cells but
#   makes the cells' errors correlated; the t-interval of the mean gain is taken over draws, the
#   independent unit, so it accounts for that. The per-draw gain divides by the better end's mean risk on
#   the scoring draws, treated as fixed in the interval (a ratio-estimator approximation, small at 200 draws).
# - Not reproduced: the label-differential-privacy mechanism (Laplace noise on $\bar y_a$) and its optimal
#   bag size, the overparametrised regime $m < d$ with minimum-norm solutions, non-Gaussian or
#   non-isotropic features, and non-random (curated) bags.
