# ---
# jupyter:
#   genbook:
#     claim: In a factor model, maximum-likelihood pretraining on m unlabeled inputs
#       followed by least squares on the learned k-dimensional representation reaches
#       an excess risk of order k/n plus a term shrinking with m, far below the D/n
#       of supervised least squares on the raw D-dimensional inputs when m is much larger
#       than n.
#     paper: Ge, Tang, Fan & Jin 2023, arXiv:2303.01566
#     part: theory
#     profiles:
#       gpu:
#         dim: 400
#         latent: 10
#         m_list:
#         - 0
#         - 25
#         - 100
#         - 1000
#         - 10000
#         - 100000
#         n_list:
#         - 20
#         - 29
#         - 42
#         - 60
#         - 87
#         - 126
#         - 182
#         - 263
#         - 380
#         - 549
#         - 794
#         - 1147
#         - 1657
#         - 2395
#         - 3460
#         - 5000
#         n_test: 100000
#         reps: 100
#       smoke:
#         dim: 50
#         m_list:
#         - 0
#         - 1000
#         n_list:
#         - 20
#         - 100
#         - 400
#         n_test: 5000
#         reps: 3
#     title: Unlabeled data buys a low-dimensional regression
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
# # On the provable advantage of unsupervised pretraining
#
# **Paper.** Jiawei Ge, Shange Tang, Jianqing Fan and Chi Jin, *On the Provable Advantage of Unsupervised
# Pretraining*, ICLR 2024 (spotlight) ([arXiv:2303.01566](https://arxiv.org/abs/2303.01566)).
#
# **Claim under test.** Pretraining picks a latent-variable model $\phi\in\Phi$ by maximum likelihood on
# $m$ unlabeled inputs; the downstream task then fits a predictor $\psi\in\Psi$ on the learned
# representation by empirical risk minimisation on $n$ labeled pairs. Under an "informative" condition
# this two-stage procedure pays for the complexity $\mathcal C_\Phi$ of the latent model with the
# *unlabeled* sample and only for the complexity $\mathcal C_\Psi$ of the downstream class with the
# labeled one, while plain supervised learning pays for the whole composition $\mathcal C_{\Phi\circ\Psi}$
# with the $n$ labeled points. When $m \gg n$ and $\mathcal C_{\Phi\circ\Psi} \gg \mathcal C_\Psi$,
# pretraining wins. We test it on the paper's own first example, the factor model: $x$ lives in
# $D$ dimensions, but all that matters for $y$ is a $k$-dimensional latent factor.
#
# **The paper's evidence.** Theoretical only. The main theorem bounds the downstream excess risk of
# MLE + ERM by $\tilde O\big(\sqrt{\mathcal C_\Phi/m} + \sqrt{\mathcal C_\Psi/n}\big)$, against
# $\tilde O\big(\sqrt{\mathcal C_{\Phi\circ\Psi}/n}\big)$ for supervised learning (abstract), and instantiates it
# for factor models with linear regression downstream, Gaussian mixture models and contrastive
# learning. In the factor model the latent class is indexed by a $D\times k$ loading matrix and the
# downstream class by a $k$-vector, so $\mathcal C_\Phi$ grows with $D$ and $k$ while $\mathcal C_\Psi$ grows
# with $k$ only. The evidence is theoretical; no experiment carries the claim.
#
# **What is scaled down.** Nothing in kind: the factor model with Gaussian latent factors, probabilistic
# PCA as the maximum-likelihood pretraining, least squares downstream; $D = 100$, $k = 5$ (`cpu`),
# $n$ from 20 to 1000 labeled points, $m$ from 25 to 20 000 unlabeled ones, 20 independent draws per cell.
# The paper's bound is a worst-case $\tilde O$; here the supervised and the well-pretrained curves also have
# exact expectations, drawn beside the simulation.

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
seed = 0  # base seed; draw r uses seed + r for its factor model and all of its samples
dim = 100  # D, dimension of the observed input x
latent = 5  # k, dimension of the latent factor z
noise_x = 1.0  # sigma_x, noise of x around A z
noise_y = 0.5  # sigma_y, noise of y around the latent signal
n_list = [20, 50, 100, 200, 400, 1000]  # labeled sample sizes n
m_list = [0, 25, 100, 1000, 20000]  # unlabeled sample sizes m; 0 marks plain supervised learning
reps = 20  # independent draws per cell (factor model, unlabeled, labeled and test samples)
n_test = 20000  # test inputs on which the excess risk is measured

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    dim=gu.Int(min=3),
    latent=gu.Int(min=1),
    noise_x=gu.Float(gt=0),
    noise_y=gu.Float(min=0),
    n_list=gu.List(gu.Int(min=2), min_len=2, increasing=True),
    m_list=gu.List(gu.Int(min=0), min_len=2, increasing=True),
    reps=gu.Int(min=1),
    n_test=gu.Int(min=10),
)
D, k = P.dim, P.latent
if k >= D:
    raise gu.ParameterError("latent", f"the latent dimension must be below dim = {D}, got {k}")
if P.m_list[0] != 0:
    raise gu.ParameterError("m_list", f"must start with 0, the supervised baseline, got {P.m_list}")
if P.m_list[1] < k + 2:
    raise gu.ParameterError("m_list", f"probabilistic PCA needs at least latent + 2 = {k + 2} unlabeled points, "
                                      f"got {P.m_list[1]}")
if P.n_list[0] < k + 3:
    raise gu.ParameterError("n_list", f"least squares on the k + 1 = {k + 1} pretrained features needs "
                                      f"n ≥ latent + 3 = {k + 3}, got {P.n_list[0]}")
m_pre = P.m_list[1:]  # unlabeled sizes that pretrain
n_max = max(P.n_list)
device = gu.device()
if device.type == "cpu":
    torch.set_num_threads(1)  # matrices of side D: a second thread only spins, most of all on a shared machine
f64 = torch.float64
RIDGE_T = torch.logspace(-3, 4, 36, dtype=f64)  # ridge penalty per labeled point, λ = t·n
P

# %% [markdown]
# ## The factor model
#
# Each draw $r$ fixes a loading matrix $A\in\mathbb R^{D\times k}$ and a downstream coefficient
# $\beta\in\mathbb R^k$, both with entries $\mathcal N(0,1)$. Then
#
# $$z\sim\mathcal N(0, I_k),\qquad x = Az + \sigma_x\varepsilon,\qquad y = \beta^\top z + \sigma_y\eta .$$
#
# Unlabeled data are inputs $x$ alone; labeled data are pairs $(x, y)$. Everything is jointly Gaussian, so
# the Bayes predictor is linear: with $\Sigma_{xx} = AA^\top + \sigma_x^2 I$,
#
# $$f^\star(x) = \mathbb E[y\mid x] = \gamma^\top x,\quad \gamma = \Sigma_{xx}^{-1}A\beta = A(A^\top A + \sigma_x^2 I)^{-1}\beta,
# \qquad \sigma_\star^2 = \mathrm{Var}(y\mid x) = \sigma_y^2 + \sigma_x^2\,\beta^\top(A^\top A+\sigma_x^2 I)^{-1}\beta .$$
#
# **Measured.** The excess risk of a predictor $f$ is $\mathcal E(f) = \mathbb E[(y - f(x))^2] - \sigma_\star^2
# = \mathbb E[(f(x) - f^\star(x))^2]$. We estimate the last form on `n_test` fresh test inputs: it is the test
# MSE minus the Bayes MSE with the label noise, which cancels in expectation, taken out. Every predictor
# here is affine, $f(x) = w^\top x + b$, so the test average is a quadratic form in $d = w - \gamma$ with the
# test inputs' first and second moments, computed once per draw; all the predictors of a draw are scored
# in one batch.

# %%
class Draw:
    """One factor model (A, β) with its Bayes predictor and the test inputs' moments."""

    def __init__(self, r: int):
        self.g = torch.Generator(device=device).manual_seed(P.seed + r)
        self.A = self.randn(D, k)
        self.beta = self.randn(k)
        gram = self.A.T @ self.A
        inner = torch.linalg.inv(gram + P.noise_x**2 * torch.eye(k, dtype=f64, device=device))
        self.gamma = self.A @ inner @ self.beta
        self.bayes_mse = P.noise_y**2 + P.noise_x**2 * float(self.beta @ inner @ self.beta)
        lam, V = torch.linalg.eigh(gram)  # AᵀA = V diag(λ) Vᵀ: the signal strength of each factor
        self.lam, self.beta_rot = lam.cpu().numpy(), (V.T @ self.beta).cpu().numpy()
        x_test = self.inputs(P.n_test)
        self.test_mean, self.test_second = x_test.mean(0), x_test.T @ x_test / P.n_test

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self.g, dtype=f64, device=device)

    def inputs(self, count: int, with_labels: bool = False):
        z = self.randn(count, k)
        x = z @ self.A.T + P.noise_x * self.randn(count, D)
        return (x, z @ self.beta + P.noise_y * self.randn(count)) if with_labels else x

    def excess(self, w: torch.Tensor, b: torch.Tensor) -> np.ndarray:
        """Mean of (wᵀx + b − γᵀx)² over the test inputs, for a batch of slopes w (..., D) and intercepts b (...)."""
        d = w - self.gamma
        quad = torch.einsum("...i,ij,...j->...", d, self.test_second, d)
        return (quad + 2 * b * (d @ self.test_mean) + b * b).cpu().numpy()


# %% [markdown]
# ## Pretraining: maximum likelihood for the factor model
#
# The latent-variable class $\Phi$ is probabilistic PCA, $x\sim\mathcal N(\mu, WW^\top + \sigma^2 I)$ with
# $W\in\mathbb R^{D\times k}$, exactly the factor model's law. Its maximum-likelihood estimate from the
# unlabeled sample has a closed form (Tipping & Bishop, 1999): with $\hat\mu$ the sample mean and
# $\hat S = \frac1m\sum_i (x_i-\hat\mu)(x_i-\hat\mu)^\top = U\,\mathrm{diag}(\ell_1\ge\dots\ge\ell_D)\,U^\top$,
#
# $$\hat\sigma^2 = \frac{1}{D-k}\sum_{j>k}\ell_j,\qquad \hat W = U_k\,(L_k - \hat\sigma^2 I)^{1/2},$$
#
# unique up to a rotation of the latent space, which the downstream task absorbs (the paper's
# "informative" condition is about exactly this invariance). The learned representation is the posterior
# mean of the factor,
#
# $$\hat\phi(x) = \mathbb E_{\hat W,\hat\sigma^2}[z\mid x] = \hat M^{-1}\hat W^\top(x-\hat\mu),\qquad \hat M = \hat W^\top\hat W + \hat\sigma^2 I .$$
#
# The unlabeled samples of one draw are nested (the first 25 points are part of the first 100, and so
# on), so the sample covariance for every $m$ comes from running sums; the fits for all $m$ are one
# batched eigen-decomposition.

# %%
def ppca_mle(totals: torch.Tensor, scatters: torch.Tensor, ms: torch.Tensor):
    """Closed-form PPCA MLE from Σx (batch, D) and Σxxᵀ (batch, D, D) of m points; returns μ̂, Ŵ, M̂."""
    mu = totals / ms[:, None]
    cov = scatters / ms[:, None, None] - mu[:, :, None] * mu[:, None, :]
    ell, U = torch.linalg.eigh(cov)
    ell, U = ell.flip(-1), U.flip(-1)  # descending
    sigma2 = ell[:, k:].mean(-1)
    W = U[:, :, :k] * (ell[:, :k] - sigma2[:, None]).clamp(min=0).sqrt()[:, None, :]
    M = W.transpose(1, 2) @ W + sigma2[:, None, None] * torch.eye(k, dtype=f64, device=device)
    return mu, W, M


def encode(x: torch.Tensor, mu: torch.Tensor, W: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """Posterior means E[z | x] under each fitted PPCA: (batch, points, k)."""
    return torch.linalg.solve(M, W.transpose(1, 2) @ (x[None] - mu[:, None]).transpose(1, 2)).transpose(1, 2)


# %% [markdown]
# ## Downstream: least squares, on the representation and on the raw inputs
#
# *Pretrained.* $\Psi$ is the affine maps of the $k$-dimensional representation: least squares of $y$ on
# $[\hat\phi(x), 1]$ with the $n$ labeled pairs, by the normal equations of the centred features. It is an
# affine map of $x$, $w = \hat W\hat M^{-1}a$, $b = c - w^\top\hat\mu$, which is how its excess risk is measured.
#
# *Supervised.* $\Phi\circ\Psi$ is all affine maps of $x$: least squares of $y$ on $[x, 1]$ (minimum-norm
# when $n \le D+1$, which interpolates and spikes near $n = D$). As a fairer baseline, ridge regression
# with an unpenalised intercept, its penalty $\lambda = t\,n$ chosen from 36 values of $t$ in
# $[10^{-3}, 10^4]$ by the exact leave-one-out error $\frac1n\sum_i\big((y_i-\hat y_i)/(1-H_{ii})\big)^2$. Both come
# from the eigen-decomposition $X_c^\top X_c = V\,\mathrm{diag}(e)\,V^\top$ of the centred design: with
# $Q = X_cV$ and $u = V^\top X_c^\top y$, the ridge slope is $V\,\mathrm{diag}\big(1/(e+\lambda)\big)\,u$, the fitted
# values are $Q\,\mathrm{diag}\big(1/(e+\lambda)\big)\,u$ and $H_{ii} = \frac1n + \sum_q Q_{iq}^2/(e_q+\lambda)$; least squares is
# $\lambda \to 0$ on the directions with $e_q > 0$. Ridge shrinks the weak, noise-only directions of $x$ more
# than the strong factor directions, so it is a supervised learner that can partly find the latent
# structure by itself. Every labeled size is handled in one batch: the first $n$ rows, the others masked.

# %%
def first_rows(x: torch.Tensor, ns: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Row mask (len(ns), rows) selecting the first n rows, and the counts n as a tensor."""
    counts = torch.tensor(ns, dtype=f64, device=device)
    mask = (torch.arange(x.shape[-2], device=device)[None, :] < counts[:, None]).to(f64)
    return mask, counts


def supervised_fits(x: torch.Tensor, y: torch.Tensor):
    """Minimum-norm least squares and leave-one-out ridge on the first n pairs, for every n in n_list."""
    mask, n = first_rows(x, P.n_list)
    xbar = mask @ x / n[:, None]
    ybar = mask @ y / n
    xc = (x[None] - xbar[:, None]) * mask[:, :, None]  # (sizes, rows, D), zero beyond row n
    yc = (y[None] - ybar[:, None]) * mask
    e, V = torch.linalg.eigh(xc.transpose(1, 2) @ xc)
    keep = e > e[:, -1:] * 1e-10
    u = (V.transpose(1, 2) @ (xc.transpose(1, 2) @ yc[..., None]))[..., 0]  # (sizes, D)
    inv_e = torch.where(keep, 1 / e.clamp(min=1e-300), torch.zeros_like(e))
    w_ols = (V @ (inv_e * u)[..., None])[..., 0]
    lam = RIDGE_T.to(device)[None, :, None] * n[:, None, None]  # (sizes, penalties, 1)
    filt = torch.where(keep[:, None, :], 1 / (e[:, None, :] + lam), torch.zeros_like(lam))  # (sizes, pen., D)
    Q = xc @ V
    fitted = Q @ (filt * u[:, None, :]).transpose(1, 2)  # (sizes, rows, penalties)
    hat = 1 / n[:, None, None] + (Q**2) @ filt.transpose(1, 2)
    loo = ((((yc[..., None] - fitted) / (1 - hat)) ** 2) * mask[..., None]).sum(1) / n[:, None]
    best = torch.nan_to_num(loo, nan=math.inf).argmin(1)  # 1 − H_ii can vanish as λ → 0 when n ≤ D
    pick = torch.arange(len(P.n_list), device=device)
    w_ridge = (V @ (filt[pick, best] * u)[..., None])[..., 0]
    b_ols, b_ridge = ybar - (xbar * w_ols).sum(-1), ybar - (xbar * w_ridge).sum(-1)
    return (w_ols, b_ols), (w_ridge, b_ridge), RIDGE_T[best.cpu()].numpy()


def pretrained_fits(features: torch.Tensor, y: torch.Tensor):
    """Least squares of y on [features, 1] for every m (batch) and every n in n_list: slopes and intercepts."""
    mask, n = first_rows(features, P.n_list)
    fbar = torch.einsum("si,mia->msa", mask, features) / n[None, :, None]  # (m's, sizes, k)
    ybar = mask @ y / n
    gram = torch.einsum("si,mia,mib->msab", mask, features, features) - n[None, :, None, None] * (
        fbar[..., :, None] * fbar[..., None, :])
    cross = torch.einsum("si,mia,i->msa", mask, features, y) - n[None, :, None] * fbar * ybar[None, :, None]
    a = torch.linalg.solve(gram, cross[..., None])[..., 0]
    return a, ybar[None, :] - (fbar * a).sum(-1)


# %% [markdown]
# ## The experiment
#
# For each of the `reps` draws: a factor model, its test inputs, `max(n_list)` labeled pairs (the first
# $n$ are used for size $n$) and `max(m_list)` unlabeled inputs (the first $m$ for size $m$). Supervised
# and pretrained learners see the same labeled pairs, so every comparison is paired within a draw.

# %%
def run_draw(r: int) -> tuple[list[dict], dict]:
    draw = Draw(r)
    x_lab, y_lab = draw.inputs(n_max, with_labels=True)
    (w_ols, b_ols), (w_ridge, b_ridge), ridge_t = supervised_fits(x_lab, y_lab)
    rows = []
    for i, (n, e_ols, e_ridge) in enumerate(zip(P.n_list, draw.excess(w_ols, b_ols), draw.excess(w_ridge, b_ridge))):
        rows.append({"rep": r, "n": n, "m": 0, "method": "supervised OLS", "excess": e_ols})
        rows.append({"rep": r, "n": n, "m": 0, "method": "supervised ridge (LOO)", "excess": e_ridge,
                     "ridge_t": ridge_t[i]})
    totals, scatters, seen = [], [], 0
    total = torch.zeros(D, dtype=f64, device=device)
    scatter = torch.zeros(D, D, dtype=f64, device=device)
    for m in m_pre:
        x_unl = draw.inputs(m - seen)
        total, scatter, seen = total + x_unl.sum(0), scatter + x_unl.T @ x_unl, m
        totals.append(total)
        scatters.append(scatter)
    ms = torch.tensor(m_pre, dtype=f64, device=device)
    mu, W, M = ppca_mle(torch.stack(totals), torch.stack(scatters), ms)
    a, c = pretrained_fits(encode(x_lab, mu, W, M), y_lab)  # (m's, sizes, k), (m's, sizes)
    w = (W[:, None] @ torch.linalg.solve(M[:, None], a[..., None]))[..., 0]  # (m's, sizes, D)
    b = c - (w * mu[:, None, :]).sum(-1)
    excess = draw.excess(w, b)
    for i, m in enumerate(m_pre):
        for j, n in enumerate(P.n_list):
            rows.append({"rep": r, "n": n, "m": m, "method": f"pretrained, m = {m}", "excess": excess[i, j]})
    truth = {"rep": r, "bayes_mse": draw.bayes_mse, "lam": draw.lam, "beta_rot": draw.beta_rot}
    return rows, truth


t0 = time.time()
rows, truths = [], []
for r in gu.progress(range(P.reps), desc="draws"):
    new_rows, truth = run_draw(r)
    rows += new_rows
    truths.append(truth)
df = pd.DataFrame(rows)
seeds = [P.seed + r for r in range(P.reps)]
print(f"{P.reps} draws × {len(P.n_list)} labeled sizes × {len(P.m_list)} settings in {time.time() - t0:.1f} s; "
      f"mean Bayes MSE {np.mean([t['bayes_mse'] for t in truths]):.3f}")
df.pivot_table(index="n", columns="method", values="excess", aggfunc="median").round(4)

# %% [markdown]
# ## The predictions
#
# Because everything is Gaussian, both learners have exact expected excess risks.
#
# *Least squares with an intercept on $p$ Gaussian features with covariance $\Sigma$, residual variance
# $s^2$:* given the design, the slope error has covariance $s^2 S_c^{-1}$, with $S_c$ the centred scatter
# matrix, Wishart on $n-1$ degrees of freedom, so $\mathbb E\,\mathrm{tr}(\Sigma S_c^{-1}) = p/(n-p-2)$; the intercept
# adds $s^2/n$, and a fresh input, measured from the training mean, has covariance $(1+1/n)\Sigma$. Hence
#
# $$\mathbb E\,\mathcal E = s^2\,g(n, p),\qquad g(n,p) = \frac1n + \Big(1+\frac1n\Big)\frac{p}{n-p-2}\qquad(n > p+2).$$
#
# Supervised least squares has $p = D$ and $s^2 = \sigma_\star^2$: $\sigma_\star^2 D/n$ plays the part of the
# paper's $\mathcal C_{\Phi\circ\Psi}/n$. Pretrained least squares has $p = k$; given the learned subspace,
# $y$ is still linear in $\hat\phi(x)$ plus independent Gaussian noise, with variance
# $\sigma_\star^2 + a(m)$, where $a(m)$ is the excess risk of the *best* predictor built on the learned
# subspace:
#
# $$\mathbb E\,\mathcal E_{\text{pre}} = a(m) + \big(\sigma_\star^2 + a(m)\big)\,g(n, k).$$
#
# Here $\sigma_\star^2 k/n$ plays the part of $\mathcal C_\Psi/n$ and $a(m)$ that of $\mathcal C_\Phi/m$. For $a(m)$ we
# use the spiked-covariance limit (Paul, 2007): with $\lambda_j$ the eigenvalues of $A^\top A$,
# $\ell_j = \lambda_j/\sigma_x^2$ and $c = D/m$, the $j$-th sample eigenvector keeps a fraction
# $\rho_j = (1 - c/\ell_j^2)/(1 + c/\ell_j)$ of its squared length in the true factor subspace. The rest
# projects $x$ onto pure noise, which acts like measurement error of variance
# $v_j = \sigma_x^2(1-\rho_j)/\rho_j$ on that factor's coordinate; with $\tilde\beta = V^\top\beta$ the coefficients
# along $A^\top A$'s eigenvectors,
#
# $$a(m) \approx \sum_{j=1}^k \tilde\beta_j^2\,\frac{\lambda_j}{\lambda_j+\sigma_x^2}\cdot\frac{v_j}{\lambda_j+\sigma_x^2+v_j}
# \;\approx\; \frac{\sigma_x^4 D}{m}\sum_j\frac{\tilde\beta_j^2}{\lambda_j(\lambda_j+\sigma_x^2)} \quad(m\to\infty).$$
#
# The first two formulas are exact finite-sample expectations; $a(m)$ is a large-$D$, first-order
# approximation. All are averaged over the draws' $(A, \beta)$.

# %%
def g(n: float, p: int) -> float:
    return 1 / n + (1 + 1 / n) * p / (n - p - 2) if n > p + 2 else float("nan")


def subspace_error(m: float, truth: dict) -> float:
    """a(m): excess risk of the best predictor on the PPCA subspace learned from m points (spiked limit)."""
    if not np.isfinite(m):
        return 0.0
    lam, s2, c = truth["lam"], P.noise_x**2, D / m
    ell = lam / s2
    rho = np.clip((1 - c / ell**2) / (1 + c / ell), 0.0, 1.0)
    v = np.where(rho > 0, s2 * (1 - rho) / np.maximum(rho, 1e-300), np.inf)
    share = np.where(np.isfinite(v), v / (lam + s2 + v), 1.0)
    return float(np.sum(truth["beta_rot"] ** 2 * lam / (lam + s2) * share))


def theory_supervised(n: float) -> float:
    return float(np.mean([t["bayes_mse"] * g(n, D) for t in truths]))


def theory_pretrained(n: float, m: float) -> float:
    return float(np.mean([subspace_error(m, t) + (t["bayes_mse"] + subspace_error(m, t)) * g(n, k)
                          for t in truths]))


theory_rows = [{"n": n, "m": 0, "method": "supervised OLS", "theory": theory_supervised(n)} for n in P.n_list]
theory_rows += [{"n": n, "m": m, "method": f"pretrained, m = {m}", "theory": theory_pretrained(n, m)}
                for m in m_pre for n in P.n_list]
theory_df = pd.DataFrame(theory_rows)
print("a(m), mean over draws:", {m: round(float(np.mean([subspace_error(m, t) for t in truths])), 5) for m in m_pre})

# %% [markdown]
# ## Results
#
# **Figure 1.** Excess risk against the number of labeled points (mean over draws ± 1 s.e.), pretrained
# learners in colour, one line per unlabeled size $m$, supervised least squares and ridge dashed; the
# dotted lines are the two exact predictions, supervised least squares $\sigma_\star^2 g(n, D)$ (for
# $n > D + 2$) and pretrained at the largest $m$. Look for the pretrained lines falling like $k/n$ far
# below the supervised ones, the least-squares spike at $n \approx D$, and ridge in between.

# %%
n_ticks = P.n_list if len(P.n_list) <= 8 else P.n_list[::3]
methods = ["supervised OLS", "supervised ridge (LOO)"] + [f"pretrained, m = {m}" for m in m_pre]
palette = dict(zip(methods, ["#444444", "#999999"] + sns.color_palette("viridis", len(m_pre))))
dashes = {mth: (4, 2) if mth.startswith("supervised") else "" for mth in methods}
fig, ax = gu.subplots(width=10, height=5.2)
sns.lineplot(data=df, x="n", y="excess", hue="method", style="method", hue_order=methods, style_order=methods,
             palette=palette, dashes=dashes, markers=True, errorbar="se", ax=ax)
n_grid = np.geomspace(min(P.n_list), n_max, 200)
ax.plot(n_grid, [theory_supervised(n) for n in n_grid], ":", color="black", linewidth=2,
        label="predicted, supervised OLS")
ax.plot(n_grid, [theory_pretrained(n, m_pre[-1]) for n in n_grid], ":", color="#1b7f3b", linewidth=2.5,
        label=f"predicted, pretrained m = {m_pre[-1]}")
ax.set(xscale="log", yscale="log")
ax.axvline(D, color="grey", linewidth=0.8, label="n = D")
ax.set_xticks(n_ticks, [str(n) for n in n_ticks])
ax.xaxis.set_minor_formatter("")
ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
gu.label(ax, "labeled points n (log scale)", "excess test risk (log scale)",
         f"Pretrained versus supervised, D = {D}, k = {k}")

# %% [markdown]
# **Figure 2.** Excess risk against the number of unlabeled points at two fixed labeled sizes (mean over
# draws ± 1 s.e.), with the prediction $a(m) + (\sigma_\star^2 + a(m))g(n,k)$ (dotted), its $m\to\infty$ floor
# $\sigma_\star^2 g(n,k)$ (dash-dot) and supervised ridge at the same $n$ (dashed). Look for the
# $\mathcal C_\Phi/m$ part decaying and flattening into the $\mathcal C_\Psi/n$ floor, and for how few unlabeled
# points it takes to beat the supervised learner.

# %%
n_panels = sorted({P.n_list[len(P.n_list) // 2], n_max})
fig, axes = gu.subplots(ncols=len(n_panels), width=4.8, height=4, squeeze=False)
m_grid = np.geomspace(m_pre[0], max(m_pre[-1], 10 * m_pre[0]), 200)
pre = df[df.m > 0]
for ax, n in zip(axes[0], n_panels):
    sns.lineplot(data=pre[pre.n == n], x="m", y="excess", marker="o", errorbar="se", ax=ax,
                 color=palette[methods[-1]], label="pretrained (simulated)")
    ax.plot(m_grid, [theory_pretrained(n, m) for m in m_grid], ":", color="black", linewidth=2, label="predicted")
    ax.axhline(theory_pretrained(n, math.inf), color="black", linestyle="-.", linewidth=1, label="m → ∞ floor")
    ridge_mean = df[(df.method == "supervised ridge (LOO)") & (df.n == n)].excess.mean()
    ax.axhline(ridge_mean, color="#999999", linestyle="--", linewidth=1.5, label="supervised ridge")
    ax.set(xscale="log", yscale="log")
    ax.legend(fontsize="small")
    gu.label(ax, "unlabeled points m (log scale)", "excess test risk (log scale)", f"n = {n} labeled points")

# %% [markdown]
# **Figure 3.** Simulation against prediction, cell by cell: the mean excess risk over draws divided by its
# predicted expectation, with a 95% bootstrap interval over draws, for every cell where a prediction
# exists. Look for the points on the line at 1 (the grey band is ±15%); the exact formulas (supervised
# least squares, pretrained at large $m$) should sit there, the first-order $a(m)$ may drift at the
# smallest $m$. The pretrained points at one $n$ share their labeled pairs, so they move together.

# %%
sim_mean = df.groupby(["method", "n"]).excess.mean().rename("simulated").reset_index()
compare = sim_mean.merge(theory_df, on=["method", "n"]).dropna(subset=["theory"])
compare["ratio"] = compare.simulated / compare.theory
intervals = []
for (method, n), cell in df.groupby(["method", "n"]):
    if (method, n) in set(zip(compare.method, compare.n)):
        lo, hi = gu.bootstrap_ci(cell.excess.to_numpy(), seed=P.seed)
        intervals.append({"method": method, "n": n, "lo": lo, "hi": hi})
compare = compare.merge(pd.DataFrame(intervals), on=["method", "n"])
compare["ratio_lo"], compare["ratio_hi"] = compare.lo / compare.theory, compare.hi / compare.theory
fig, ax = gu.subplots(width=10, height=4.2)
ax.axhspan(0.85, 1.15, color="grey", alpha=0.15)
ax.axhline(1.0, color="black", linewidth=1)
shown = [mth for mth in methods if mth in set(compare.method)]
for j, mth in enumerate(shown):
    part = compare[compare.method == mth]
    offset = 1 + 0.04 * (j - (len(shown) - 1) / 2)
    ax.errorbar(part.n * offset, part.ratio, yerr=[part.ratio - part.ratio_lo, part.ratio_hi - part.ratio],
                fmt="o", color=palette[mth], label=mth, capsize=2, markersize=4)
ax.set(xscale="log")
ax.set_xticks(n_ticks, [str(n) for n in n_ticks])
ax.xaxis.set_minor_formatter("")
ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
gu.label(ax, "labeled points n (log scale)", "simulated mean / predicted", "Agreement with the closed forms")

# %% [markdown]
# ## Verdict
#
# The rule was fixed before running (study card 48), on medians over draws of the excess risk. A cell
# $(n, m)$ *qualifies* when $n \ge 2D$ and $m \ge 10n$.
#
# - **advantage**: in every qualifying cell, the pretrained excess risk is at most 1/3 of supervised least
#   squares' and at most 1/2 of supervised ridge's at the same $n$ (`worst_ratio_ols` ≤ 1/3,
#   `worst_ratio_ridge` ≤ 1/2, the largest ratios over the qualifying cells);
# - **rate**: at the largest $m$, the least-squares slope of log median excess risk against $\log n$ over
#   $n \ge 4k$ lies in $[-1.3, -0.7]$ (`slope`; a bootstrap interval over draws is reported beside it);
# - **agreement** (the project's theory-against-simulation check, added to the card's rule): the median,
#   over the cells with an exact prediction (supervised least squares at $n \ge 2D$, pretrained at the
#   largest $m$ at $n \ge 4k$), of $|\text{mean}/\text{prediction} - 1|$ is at most 0.15 (`agreement_rel_err`);
# - `supported` when advantage, rate and agreement hold; `contradicted` when pretraining is not better
#   than ridge in any qualifying cell (`best_ratio_ridge` ≥ 1); `inconclusive` otherwise.
#
# Reported beside the verdict, not part of it: **m matters**, the ratio of the median excess risk with the
# smallest and with the largest $m$ at the largest $n$ (`m_matters_ratio` > 1 means the
# $\mathcal C_\Phi/m$ term is visible), and the largest gap between simulation and the first-order $a(m)$
# prediction at the largest $n$ (`m_term_rel_err`).

# %%
median = df.groupby(["method", "n"]).excess.median()
qualifying = [(n, m) for n in P.n_list for m in m_pre if n >= 2 * D and m >= 10 * n]
ratio_ols = [median[(f"pretrained, m = {m}", n)] / median[("supervised OLS", n)] for n, m in qualifying]
ratio_ridge = [median[(f"pretrained, m = {m}", n)] / median[("supervised ridge (LOO)", n)] for n, m in qualifying]

rate_ns = [n for n in P.n_list if n >= 4 * k]
best_m = f"pretrained, m = {m_pre[-1]}"
per_draw = df[df.method == best_m].pivot(index="rep", columns="n", values="excess")[rate_ns].to_numpy()


def slope_of_medians(values: np.ndarray) -> float:
    return float(np.polyfit(np.log(rate_ns), np.log(np.median(values, axis=0)), 1)[0])


slope = slope_of_medians(per_draw) if len(rate_ns) >= 2 else float("nan")
slope_lo, slope_hi = gu.bootstrap_ci(per_draw, slope_of_medians, seed=P.seed) if len(rate_ns) >= 2 else (np.nan,) * 2

exact_cells = compare[((compare.method == "supervised OLS") & (compare.n >= 2 * D))
                      | ((compare.method == best_m) & (compare.n >= 4 * k))]
m_term_cells = compare[compare.method.str.startswith("pretrained") & (compare.n == n_max)]
statistics = {
    "qualifying_cells": len(qualifying),
    "worst_ratio_ols": max(ratio_ols) if qualifying else float("nan"),
    "worst_ratio_ridge": max(ratio_ridge) if qualifying else float("nan"),
    "best_ratio_ridge": min(ratio_ridge) if qualifying else float("nan"),
    "slope": slope,
    "slope_ci_low": slope_lo,
    "slope_ci_high": slope_hi,
    "agreement_rel_err": float((exact_cells.ratio - 1).abs().median()) if len(exact_cells) else float("nan"),
    "agreement_cells": len(exact_cells),
    "m_matters_ratio": (float(median[(f"pretrained, m = {m_pre[0]}", n_max)] / median[(best_m, n_max)])
                        if len(m_pre) > 1 else float("nan")),
    "m_term_rel_err": float((m_term_cells.ratio - 1).abs().max()),
    "median_ridge_t_at_n_max": float(df[(df.method == "supervised ridge (LOO)") & (df.n == n_max)].ridge_t.median()),
}
advantage = gu.all_of(gu.cond("worst_ratio_ols", "<=", 1 / 3), gu.cond("worst_ratio_ridge", "<=", 0.5))
rate = gu.cond("slope", "between", (-1.3, -0.7))
agreement = gu.cond("agreement_rel_err", "<=", 0.15)
RULE = gu.rule(supported=gu.all_of(advantage, rate, agreement),
               contradicted=gu.cond("best_ratio_ridge", ">=", 1.0))
print(pd.DataFrame({"n": [n for n, _ in qualifying], "m": [m for _, m in qualifying],
                    "pretrained / OLS": ratio_ols, "pretrained / ridge": ratio_ridge}).round(3).to_string(index=False))
print(compare[["method", "n", "simulated", "theory", "ratio"]].round(4).to_string(index=False))

record = gu.report_verdict(
    chapter="unsupervised_pretraining", params=P, rule=RULE, statistics=statistics, seeds=seeds,
    headline=["worst_ratio_ols", "worst_ratio_ridge", "slope", "agreement_rel_err", "m_matters_ratio"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - The factor model is the paper's own first instance, with probabilistic PCA as the maximum-likelihood
#   pretraining and least squares as the downstream ERM. The Gaussian-mixture and contrastive instances
#   are not run. Least squares on the learned features stands in for a general ERM class $\Psi$.
# - The paper's bounds carry square roots, $\tilde O(\sqrt{\mathcal C_\Phi/m} + \sqrt{\mathcal C_\Psi/n})$; the
#   study card wrote them without (the transcription of the abstract lost the roots). Squared loss in
#   this well-specified Gaussian model enjoys the classical fast rate, so the excess risk falls like
#   $k/n$, not $\sqrt{k/n}$: a slope near $-1$ is *consistent with* the paper's upper bound, and sharper than
#   it. The miniature tests the comparison the paper makes ($\mathcal C_\Psi = k$ against
#   $\mathcal C_{\Phi\circ\Psi} = D$ at the labeled sample), not the paper's constants: the factor-model
#   theorem's exact polynomial factors were not available offline when this chapter was written, so none
#   are quoted.
# - The excess risk is measured as the test average of $(f(x) - f^\star(x))^2$, which equals test MSE minus
#   Bayes MSE in expectation; the label noise of a test set only adds variance, so it is left out.
# - The study card suggested choosing the ridge penalty on a held-out validation split; here it is chosen
#   by exact leave-one-out on all $n$ labeled points instead. With $n = 20$ a split would leave a handful
#   of validation points; leave-one-out makes the baseline stronger, not weaker.
# - The card's rule reads medians over draws (robust to the least-squares spike near $n = D$); the closed
#   forms are expectations, so the agreement check and Figures 1–3 use means. The agreement condition
#   itself is an addition to the card's rule, made before the `cpu` run; it can only make `supported`
#   harder to reach.
# - $a(m)$ is a first-order, large-dimension approximation (the spiked-covariance limit), used only for
#   the dotted curve of Figure 2 and `m_term_rel_err`; the verdict's agreement check uses only the exact
#   formulas.
# - Each draw has its own $A$ and $\beta$ with entries $\mathcal N(0,1)$, so the factors are strong
#   ($\lambda_j \approx D$ against noise $\sigma_x^2 = 1$); with weaker factors pretraining needs more unlabeled
#   data, and with factors below the spiked-covariance threshold ($\ell_j^2 < D/m$) PCA finds nothing.
#   A reader must not conclude that unlabeled data help this much whatever the signal strength.
