# ---
# jupyter:
#   genbook:
#     claim: The inductive bias a task requires, -log2 P(test loss <= eps) for hypotheses
#       that fit the training data, is estimated accurately by fitting a scaled non-central
#       chi-squared law to the test losses of sampled hypotheses, also hundreds of bits
#       deep where sampling cannot reach, and tasks of higher input dimension require
#       more inductive bias.
#     'null':
#       intrinsic_dim: 1
#     null_reason: Holds the intrinsic dimension of the inputs at 1 (a curved line through
#       the input space) while the ambient dimension d still grows, which removes the
#       cause the paper names (more input dimensions to generalize over), so the predicted
#       rise of inductive bias with d should vanish.
#     paper: Boopathy, Yue, Hwang, Iyer & Fiete 2024, arXiv:2406.15941
#     part: theory
#     profiles:
#       gpu:
#         depths:
#         - 30
#         - 100
#         - 300
#         - 600
#         dims:
#         - 1
#         - 2
#         - 4
#         - 8
#         - 16
#         - 32
#         - 64
#         mc_levels:
#         - 0.1
#         - 0.01
#         - 0.001
#         - 0.0001
#         n_fit: 10000
#         n_is: 20000
#         n_mc: 500000
#         n_test: 400
#         seeds: 12
#       smoke:
#         depths:
#         - 30
#         - 100
#         dims:
#         - 1
#         - 4
#         - 16
#         mc_levels:
#         - 0.1
#         - 0.01
#         n_fit: 300
#         n_is: 1000
#         n_mc: 20000
#         n_test: 100
#         seeds: 3
#     title: How many bits of inductive bias a task needs
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
# # Towards exact computation of inductive bias
#
# **Paper.** Akhilan Boopathy, William Yue, Jaedong Hwang, Abhiram Iyer and Ila Fiete, *Towards Exact
# Computation of Inductive Bias*, IJCAI 2024 ([arXiv:2406.15941](https://arxiv.org/abs/2406.15941);
# code: [FieteLab/Exact-Inductive-Bias](https://github.com/FieteLab/Exact-Inductive-Bias)).
# This chapter has no separate study card; its design (claim, miniature, parameters, rule,
# falsification) is written here and in the closing notes.
#
# **Claim under test.** Put a distribution $p_h$ on the hypotheses of a class that fit the training
# data. The inductive bias a task requires to reach test loss $\varepsilon$ is the information needed to
# single out a well-generalizing hypothesis,
#
# $$I(\varepsilon) = -\log_2 \Pr_{h\sim p_h}\big[e(h) \le \varepsilon\big]\ \text{bits}.$$
#
# The paper's central claim is a *direct* estimator, without bounds: sample hypotheses, fit a scaled
# non-central $\chi^2$ law to their test losses, and read the probability off the fitted CDF, which
# reaches tails hundreds of bits deep that direct sampling can never see. Its side result: tasks with
# more input dimensions require more inductive bias. The chapter tests both: (1) the estimator against
# the *exact* value in the deep tail, and (2) the rise with dimension, with a control in which the
# ambient dimension grows while the intrinsic dimension stays fixed.
#
# **The paper's evidence.** From the text (abstract): the method "involves modeling the loss
# distribution of random hypotheses drawn from a hypothesis space to estimate the required inductive bias
# for a task relative to these hypotheses. Unlike prior work, our method provides a direct estimate of
# inductive bias without using bounds"; and "Consistent with prior results, our empirical results
# demonstrate that higher dimensional tasks require greater inductive bias." The experiments section
# says: "Consistent with prior work, we find that tasks with higher dimensional inputs require more
# inductive bias. We empirically find that neural networks encode massive amounts of inductive bias
# relative to other expressive model classes." The estimator is the official `utils.py`:
# maximum-likelihood fit of a scaled non-central $\chi^2$ with location 0, then $-\log\mathrm{CDF}(\varepsilon)$
# (natural log in the code), with a normal approximation when the log-CDF underflows; for kernel
# hypothesis spaces (`kernel_inductive_bias.py`) the hypotheses are RBF Gaussian-process functions that
# fit the training set (posterior mean plus Gaussian fluctuations with the posterior covariance), 10,000
# samples, scored by test mean squared error. The results (inverted pendulum, MNIST, CIFAR-10, Omniglot;
# Fig. 3 and Table 1, against the upper bound of Boopathy et al. 2023) are in bits; **their numerical
# values were not found**: the stored full texts (the IJCAI text and the ar5iv page of 2406.15941,
# searched in the `pages` corpus) only returned their opening, the official repository holds no results,
# and the ICLR 2024 review thread mentions Fig. 3 and Table 1 without quoting values.
#
# **Miniature.** Synthetic, well-specified Gaussian-process regression tasks in
# $d \in \{1,\dots,32\}$ ambient input dimensions, 64 training and 200 test points, instead of real
# datasets; 1,000 sampled hypotheses per fit (the code's default is 10,000); 6 tasks per $d$. Because the
# test loss of a GP hypothesis is exactly a generalized $\chi^2$ variable, the estimator can be compared
# with the exact law at any depth: its saddlepoint evaluation, itself checked against direct Monte-Carlo
# where probabilities are measurable and against exponentially tilted importance sampling in the deep
# tail. The inputs either fill all $d$ dimensions (`intrinsic_dim = 0`, the main run) or lie on a curved
# $k$-dimensional manifold inside them (`intrinsic_dim = k`, the control).
#
# | parameter | meaning | smoke | cpu (default) | gpu |
# |---|---|---|---|---|
# | `dims` | ambient input dimensions $d$ | 1, 4, 16 | 1, 2, 4, 8, 16, 32 | 1, …, 64 |
# | `intrinsic_dim` | 0: inputs fill $\mathbb R^d$; $k$: a $k$-dim. manifold | 0 | 0 | 0 |
# | `n_train`, `n_test` | training points fitted, test points scored | 64, 100 | 64, 200 | 64, 400 |
# | `n_fit` | hypotheses the $\chi^2$ law is fitted to | 300 | 1,000 | 10,000 |
# | `n_mc`, `mc_levels` | Monte-Carlo hypotheses; probabilities checked | 20,000; 0.1, 0.01 | 40,000; 0.1, 0.01, 0.001 | 500,000; down to 10⁻⁴ |
# | `depths` | exact inductive bias (bits) at which the estimator is scored | 30, 100 | 30, 100, 300 | 30, 100, 300, 600 |
# | `n_is` | importance samples per deep check of the reference | 1,000 | 4,000 | 20,000 |
# | `eps`, `lengthscale` | threshold of the trend; RBF length scale | 0.5, 0.5 | 0.5, 0.5 | 0.5, 0.5 |
# | `seeds` | tasks per $d$ | 3 | 6 | 12 |
#
# **Rule (fixed before the `cpu` run; details in the Verdict section).** `supported` when the estimator
# is accurate in the deep tail (median relative error against the exact law $\le 0.2$ and 90th
# percentile $\le 0.5$ over tasks and depths) *and* the inductive bias at `eps` rises with $d$ (Spearman
# $\rho \ge 0.9$, and the lower end of the 95% $t$-interval of the rise from the smallest to the largest
# $d$ at least 10 bits); `contradicted` when the median relative error exceeds 0.5, or the upper end of
# that interval is below 10 bits, or $\rho \le 0$. Two instrument checks guard the reference.
#
# **Falsification run.** `intrinsic_dim = 1`: the same tasks, sizes and seeds, but the inputs lie on a
# curved line through $\mathbb R^d$, so the ambient dimension still grows while there is only one
# dimension to generalize over. If the rise in the main run comes from the dimension the model must
# generalize over, as the paper (and its 2023 predecessor) says, it must vanish here.

# %%
import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.ticker import LogLocator, NullLocator
from scipy import linalg, optimize, special, stats

import genutils as gu
from genutils.geometry import intrinsic_dim_twonn

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; task s of dimension index i uses seed + 1000 i + s
dims = [1, 2, 4, 8, 16, 32]  # ambient input dimensions d of the tasks
intrinsic_dim = 0  # 0: inputs fill all d dimensions; k: inputs lie on a curved k-dimensional manifold
n_train = 64  # training points every hypothesis must fit
n_test = 200  # test points that define the test loss
lengthscale = 0.5  # RBF kernel length scale (inputs have mean squared norm 1)
n_fit = 1000  # sampled hypotheses whose losses the chi-squared law is fitted to
n_mc = 40000  # further hypotheses for the direct Monte-Carlo check
mc_levels = [0.1, 0.01, 0.001]  # probabilities at which the references meet Monte-Carlo
depths = [30, 100, 300]  # exact inductive bias in bits at which the estimator is scored
n_is = 4000  # importance samples per deep check of the saddlepoint reference
eps = 0.5  # loss threshold for the dimension trend, in units of the target variance (1)
seeds = 6  # independent tasks per dimension

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    dims=gu.List(gu.Int(min=1), min_len=2, increasing=True),
    intrinsic_dim=gu.Int(min=0),
    n_train=gu.Int(min=2),
    n_test=gu.Int(min=10),
    lengthscale=gu.Float(gt=0),
    n_fit=gu.Int(min=50),
    n_mc=gu.Int(min=1000),
    mc_levels=gu.List(gu.Float(gt=0, lt=1), min_len=1),
    depths=gu.List(gu.Float(min=2), min_len=1, increasing=True),
    n_is=gu.Int(min=100),
    eps=gu.Float(gt=0),
    seeds=gu.Int(min=2),
)
if P.n_mc * min(P.mc_levels) < 20:
    raise gu.ParameterError("mc_levels", f"n_mc · min(mc_levels) = {P.n_mc * min(P.mc_levels):g} < 20 hypotheses "
                                         "below the threshold: Monte-Carlo cannot measure that level; raise n_mc")
P

# %% [markdown]
# ## The task and the hypothesis space
#
# **Inputs.** With `intrinsic_dim = 0`, $x \sim \mathcal N(0, I_d/d)$, so $\mathbb E|x|^2 = 1$ at every $d$:
# the data fill all $d$ dimensions. With `intrinsic_dim = k`, a latent $u \sim \mathcal N(0, I_k/k)$ is
# mapped into $\mathbb R^d$ by a random, curved embedding,
# $x = \sqrt{2/d}\,\cos(\Omega^\top u + \beta)$ with $\Omega_{ij} \sim \mathcal N(0,1)$ and
# $\beta_j \sim U[0, 2\pi)$: again $\mathbb E|x|^2 = 1$, and the map is locally isometric on average
# ($\mathbb E|dx|^2 = |du|^2$), but every ambient coordinate is a different nonlinear function of the
# same $k$ latent ones. So the data have intrinsic dimension $\min(k, d)$ however large $d$ is, while the
# ambient Euclidean geometry the kernel sees still changes with $d$.
#
# **Target and hypotheses.** The target $f^\*$ is a draw from the Gaussian-process prior with the RBF
# kernel $k(x,x') = \exp(-|x-x'|^2/2\ell^2)$, drawn jointly on the $n$ training and $m$ test points. The
# hypothesis space is that same GP, and $p_h$ is the GP prior conditioned on fitting the $n$ training
# labels exactly (the paper's kernel-based sampling). On the test points a hypothesis is
#
# $$h = \mu + \Sigma^{1/2} z,\quad \mu = K_{*X}K_{XX}^{-1}y,\quad
#   \Sigma = K_{**} - K_{*X}K_{XX}^{-1}K_{X*},\quad z\sim\mathcal N(0, I_m),$$
#
# and its test loss is $e(h) = \tfrac1m\lVert h - f^\*\rVert^2$. In the eigenbasis $\Sigma = U\Lambda U^\top$,
# with $b = U^\top(\mu - f^\*)$,
#
# $$e(h) = \frac1m\sum_{i=1}^m \big(b_i + \sqrt{\lambda_i}\, z_i\big)^2,$$
#
# a *generalized* $\chi^2$ variable: a weighted sum of non-central $\chi^2_1$ terms with different
# weights. The paper models it by a single scaled non-central $\chi^2$; here the exact law is known, which
# is what lets us check that model at any depth. (Sampling in the eigenbasis is the same distribution as
# the official code's $\mu + \mathrm{sqrtm}(\Sigma)z$.)

# %%
def rbf(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RBF kernel matrix exp(-|a_i - b_j|² / 2ℓ²)."""
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.exp(-np.maximum(sq, 0) / (2 * P.lengthscale**2))


def make_inputs(d: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` inputs in R^d: filling R^d (intrinsic_dim 0) or on a curved intrinsic_dim-manifold."""
    if P.intrinsic_dim == 0:
        return rng.standard_normal((count, d)) / math.sqrt(d)
    k = P.intrinsic_dim
    u = rng.standard_normal((count, k)) / math.sqrt(k)
    omega, beta = rng.standard_normal((k, d)), rng.uniform(0, 2 * math.pi, d)
    return math.sqrt(2 / d) * np.cos(u @ omega + beta)


def make_task(d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One task: the inputs, and the test-loss law's weights w_i = λ_i/m and offsets b_i (see above)."""
    n, m = P.n_train, P.n_test
    x = make_inputs(d, n + m, rng)
    k = rbf(x, x)
    f = linalg.cholesky(k + 1e-8 * np.eye(n + m), lower=True) @ rng.standard_normal(n + m)
    kxx, ksx, kss = k[:n, :n] + 1e-8 * np.eye(n), k[n:, :n], k[n:, n:]
    solve = linalg.cho_solve(linalg.cho_factor(kxx, lower=True), ksx.T)  # K_XX⁻¹ K_X*
    mu, sigma = solve.T @ f[:n], kss - ksx @ solve
    lam, u = np.linalg.eigh((sigma + sigma.T) / 2)
    return x, np.clip(lam, 0, None) / m, u.T @ (mu - f[n:])


def sample_losses(w: np.ndarray, b: np.ndarray, count: int, rng: np.random.Generator,
                  chunk: int = 20000) -> np.ndarray:
    """Test losses of `count` hypotheses h ~ p_h: (1/m)|b + √λ z|², drawn in chunks."""
    m, scale, out = len(b), np.sqrt(w * len(b)), []
    for start in range(0, count, chunk):
        z = rng.standard_normal((min(chunk, count - start), m))
        out.append(((b + scale * z) ** 2).sum(1) / m)
    return np.concatenate(out)


# %% [markdown]
# ## The paper's estimator
#
# Fit $e \approx s\cdot\chi'^2_k(\lambda)$ (degrees of freedom $k$, non-centrality $\lambda$, scale $s$,
# location fixed at 0) to the `n_fit` sampled losses by maximum likelihood, then
#
# $$\hat I(\varepsilon) = -\log_2 F_{k,\lambda}(\varepsilon / s).$$
#
# As in the official code, when the log-CDF underflows we fall back on Sankaran's normal approximation
# of the non-central $\chi^2$ (its $z^2/2$ form, converted to bits). One change to the optimizer, not
# to the estimator: scipy's default starting point sometimes stops at a visibly worse optimum (seen while
# prototyping), so the MLE is also started from the moment-matched $(k, \lambda, s)$ and the fit with the
# higher likelihood is kept.

# %%
def moment_start(x: np.ndarray) -> tuple[float, float, float]:
    """(k, λ, s) of the scaled non-central χ² whose first three moments match the sample's."""
    m, v, m3 = x.mean(), x.var(), ((x - x.mean()) ** 3).mean()
    disc = v * v - m * m3 / 2  # s solves m s² − v s + m3/8 = 0
    if disc > 0:
        s = (v - math.sqrt(disc)) / (2 * m)
        nc = v / (2 * s * s) - m / s if s > 0 else -1.0
        if s > 0 and nc >= 0 and m / s - nc > 0:
            return m / s - nc, max(nc, 1e-3), s
    s = v / (2 * m)
    return m / s, 1e-3, s


def fit_ncx2(losses: np.ndarray) -> tuple[float, float, float]:
    """MLE of a scaled non-central χ² with loc 0 (best of scipy's default start and the moment start)."""
    k0, nc0, s0 = moment_start(losses)
    fits = [stats.ncx2.fit(losses, floc=0), stats.ncx2.fit(losses, k0, nc0, floc=0, scale=s0)]
    df, nc, _, scale = max(fits, key=lambda p: stats.ncx2.logpdf(losses, *p).sum())
    return df, nc, scale


def bias_bits(eps_: float, df: float, nc: float, scale: float) -> float:
    """Î(ε) = −log₂ CDF(ε) of the fitted law; Sankaran's normal approximation where the log-CDF underflows."""
    log_cdf = stats.ncx2.logcdf(eps_, df, nc, loc=0, scale=scale)
    if np.isfinite(log_cdf):
        return float(-log_cdf / math.log(2))
    e = eps_ / scale
    h = 1 - 2 / 3 * (df + nc) * (df + 3 * nc) / (df + 2 * nc) ** 2
    p = (df + 2 * nc) / (df + nc) ** 2
    mm = (h - 1) * (1 - 3 * h)
    z = ((e / (df + nc)) ** h - (1 + h * p * (h - 1 - 0.5 * (2 - h) * mm * p))) / (h * math.sqrt(2 * p) * (1 + 0.5 * mm * p))
    return float(z**2 / 2 / math.log(2))


# %% [markdown]
# ## The exact law, its saddlepoint, and two checks of it
#
# **Saddlepoint.** Write $e = c + \sum_i w_i (z_i + \delta_i)^2$ ($w_i = \lambda_i/m$, $\delta_i = b_i/\sqrt{\lambda_i}$,
# and $c$ the constant from directions without fluctuation). Its cumulant generating function is exact,
# $K(t) = \sum_i\big[-\tfrac12\log(1-2tw_i) + \delta_i^2 w_i t/(1-2tw_i)\big]$, and with the saddlepoint
# $K'(\hat t) = \varepsilon - c$, $r = \mathrm{sign}(\hat t)\sqrt{2(\hat t(\varepsilon-c) - K(\hat t))}$ and
# $u = \hat t\sqrt{K''(\hat t)}$, the Barndorff-Nielsen form $F(\varepsilon) \approx \Phi\big(r + \log(u/r)/r\big)$
# gives the CDF with a relative error that stays small however deep the tail, computed in logs so it
# never underflows. This is the *reference*: the exact inductive bias $I(\varepsilon)$.
#
# **Depths.** For each task and each depth $D$ in `depths` we solve $I(\varepsilon_D) = D$ on the exact law
# and score the estimator there: $\hat I(\varepsilon_D)$ against $D$. A fit to 1,000 samples sees
# probabilities down to about $10^{-3}$ (10 bits); 100 or 300 bits deep it extrapolates by factors of
# $2^{90}$ and more, which is the regime of the paper's numbers.
#
# **Check 1, Monte-Carlo.** With `n_mc` fresh hypotheses, $I_{MC} = -\log_2 \hat p$ at the empirical
# $q$-quantiles $\varepsilon_q$, $q$ in `mc_levels`; the saddlepoint must agree there.
#
# **Check 2, tilted importance sampling.** Deep in the tail, draw $y_i = z_i + \delta_i$ from the
# exponentially tilted law $\mathcal N\big(\delta_i/(1-2\hat tw_i),\, 1/(1-2\hat tw_i)\big)$, under which the
# threshold is typical, and reweight by $\exp(K(\hat t) - \hat t S)$, $S = \sum_i w_i y_i^2$:
# $\Pr[e \le \varepsilon] = \mathbb E_{\text{tilt}}\big[e^{K(\hat t) - \hat t S}\,\mathbf 1\{S \le \varepsilon - c\}\big]$
# exactly, estimated from `n_is` draws. It shares nothing with the saddlepoint formula but the law.

# %%
class GeneralizedChi2:
    """e = c + Σ w_i (z_i + δ_i)², z ~ N(0, I): saddlepoint CDF, its inverse in bits, tilted sampling."""

    def __init__(self, w: np.ndarray, b: np.ndarray):
        m = len(b)
        keep = w > 1e-14 * w.max()
        self.c = float((b[~keep] ** 2).sum() / m)  # directions without fluctuation contribute a constant
        self.w, self.d2 = w[keep], b[keep] ** 2 / m / w[keep]
        self.mean = self.c + float(np.sum(self.w * (1 + self.d2)))

    def cgf(self, t: float, k: int = 0) -> float:
        """K(t) (k = 0) or its k-th derivative, k = 1, 2."""
        w, d2, a = self.w, self.d2, 1 - 2 * t * self.w
        if k == 0:
            return float(np.sum(-0.5 * np.log(a) + d2 * w * t / a))
        if k == 1:
            return float(np.sum(w / a + d2 * w / a**2))
        return float(np.sum(2 * w**2 / a**2 + 4 * d2 * w**2 / a**3))

    def saddle(self, e: float) -> float:
        """The t with K'(t) = e (e measured above c)."""
        if e < self.cgf(0.0, 1):
            lo = -1.0
            while self.cgf(lo, 1) > e:
                lo *= 2
            bracket = (lo, 0.0)
        else:
            bracket = (0.0, (1 - 1e-12) / (2 * self.w.max()))
        return optimize.brentq(lambda t: self.cgf(t, 1) - e, *bracket, xtol=1e-300, rtol=1e-14)

    def bits(self, eps_: float) -> float:
        """Exact inductive bias −log₂ P(e ≤ ε), by the saddlepoint (Barndorff-Nielsen r*)."""
        e = eps_ - self.c
        if e <= 0:
            return math.inf
        t = self.saddle(e)
        r = math.copysign(math.sqrt(max(2 * (t * e - self.cgf(t)), 0.0)), t)
        u = t * math.sqrt(self.cgf(t, 2))
        if abs(r) < 1e-6 or abs(u) < 1e-6 or u / r <= 0:
            return float(-special.log_ndtr(r) / math.log(2))  # at the centre: the normal term alone
        return float(-special.log_ndtr(r + math.log(u / r) / r) / math.log(2))

    def eps_at_bits(self, depth: float) -> float:
        """The threshold ε with exact inductive bias `depth` bits."""
        lo, span = self.c, self.mean - self.c
        frac = 0.5
        while self.bits(lo + frac * span) < depth:
            frac /= 2
        return optimize.brentq(lambda x: self.bits(self.c + x * span) - depth, frac, 1.0, xtol=1e-15,
                               rtol=1e-12) * span + self.c

    def tilted_is_bits(self, eps_: float, count: int, rng: np.random.Generator) -> float:
        """−log₂ P(e ≤ ε) by importance sampling from the law tilted at the saddlepoint of ε."""
        e = eps_ - self.c
        t = self.saddle(e)
        a = 1 - 2 * t * self.w
        y = np.sqrt(self.d2) / a + rng.standard_normal((count, len(self.w))) / np.sqrt(a)
        s = (self.w * y**2).sum(1)
        log_w = self.cgf(t) - t * s
        below = s <= e
        if not below.any():
            return math.nan
        return float(-(special.logsumexp(log_w[below]) - math.log(count)) / math.log(2))


# %% [markdown]
# ## The experiment
#
# For every dimension and task: draw the task, sample `n_fit` hypotheses and fit the law, sample `n_mc`
# more for Monte-Carlo, and evaluate (a) the estimator, the saddlepoint and Monte-Carlo at the Monte-Carlo
# quantile thresholds, (b) the estimator and the importance-sampling check at the exact depths, and (c)
# the estimator and the exact law at the fixed threshold $\varepsilon$ = `eps` (half the target's
# variance, i.e. $R^2 \ge 0.5$ on the test set) for the trend in $d$. We also measure the intrinsic
# dimension of each task's inputs (TwoNN, `genutils.geometry`) to see that the control keeps it fixed.
# For the first task of each $d$ we keep whole curves $I(\varepsilon)$ for Figure 2.

# %%
def run_task(i: int, d: int, s: int) -> dict[str, list]:
    """Everything measured on task s of dimension index i, from its own seeded generator."""
    task_seed = P.seed + 1000 * i + s
    rng = np.random.default_rng(task_seed)
    x, w, b = make_task(d, rng)
    law = GeneralizedChi2(w, b)
    fit_losses = sample_losses(w, b, P.n_fit, rng)
    df, nc, scale = fit_ncx2(fit_losses)
    mc = sample_losses(w, b, P.n_mc, rng)
    out = {"rows": [], "gaps": [], "deep": [], "curves": [], "hist": []}
    for q in P.mc_levels:
        eps_q = float(np.quantile(mc, q))
        out["gaps"].append({"d": d, "seed": task_seed, "level q": q, "I_mc": -math.log2(np.mean(mc <= eps_q)),
                            "I_fit": bias_bits(eps_q, df, nc, scale), "I_saddle": law.bits(eps_q)})
    for depth in P.depths:
        eps_d = law.eps_at_bits(depth)
        out["deep"].append({"d": d, "seed": task_seed, "depth": depth, "eps": eps_d, "I_exact": law.bits(eps_d),
                            "I_fit": bias_bits(eps_d, df, nc, scale),
                            "I_is": law.tilted_is_bits(eps_d, P.n_is, rng)})
    out["rows"].append({"d": d, "seed": task_seed, "mean loss": fit_losses.mean(), "df": df, "nc": nc,
                        "scale": scale, "I_fit": bias_bits(P.eps, df, nc, scale), "I_exact": law.bits(P.eps),
                        "intrinsic dim (TwoNN)": intrinsic_dim_twonn(torch.from_numpy(x))})
    if s == 0:
        lo = law.eps_at_bits(max(P.depths))
        for e in np.geomspace(lo, 1.1 * fit_losses.mean(), 40):
            frac = np.mean(mc <= e)
            out["curves"].append({"d": d, "eps": e, "fitted χ² (paper)": bias_bits(e, df, nc, scale),
                                  "exact law (saddlepoint)": law.bits(e),
                                  "Monte-Carlo": -math.log2(frac) if frac * P.n_mc >= 20 else np.nan})
        out["hist"].append((d, fit_losses, (df, nc, scale)))
    return out


# Tasks are independent and each has its own generator, so they run on a thread pool (scipy's χ²
# density and numpy's sampling release the GIL) and the results do not depend on the scheduling.
t0 = time.time()
jobs = [(i, d, s) for i, d in enumerate(P.dims) for s in range(P.seeds)]
with ThreadPoolExecutor(max_workers=torch.get_num_threads()) as pool:
    done = list(gu.progress(pool.map(lambda job: run_task(*job), jobs), total=len(jobs), desc="tasks"))
rows, gap_rows, deep_rows, curve_rows, hist_rows = ([r for o in done for r in o[key]]
                                                    for key in ("rows", "gaps", "deep", "curves", "hist"))
results, gaps, deep, curves = (pd.DataFrame(r) for r in (rows, gap_rows, deep_rows, curve_rows))
deep["rel. error"] = (deep.I_fit - deep.I_exact) / deep.I_exact
gaps["gap (bits)"] = gaps.I_fit - gaps.I_mc
print(f"{len(results)} tasks in {time.time() - t0:.1f} s")
results.round(3)

# %% [markdown]
# ## Results
#
# **Figure 1.** Test losses of the `n_fit` sampled hypotheses for a few dimensions (first task), with the
# fitted scaled non-central $\chi^2$ density. Look for how the losses move up and concentrate as $d$
# grows (the training points pin down less of the function), and whether the fitted curve follows the
# histogram's left flank: the tail the estimator extrapolates.

# %%
shown = [h for h in hist_rows if h[0] in {P.dims[0], P.dims[len(P.dims) // 2], P.dims[-1]}]
fig, axes = gu.subplots(ncols=len(shown), width=4.2, height=3.4)
for ax, (d, losses, (df, nc, scale)) in zip(np.atleast_1d(axes), shown):
    sns.histplot(losses, stat="density", bins=40, ax=ax, color="C0", alpha=0.5, label="sampled hypotheses")
    grid = np.linspace(losses.min() * 0.8, losses.max() * 1.05, 300)
    ax.plot(grid, stats.ncx2.pdf(grid, df, nc, loc=0, scale=scale), color="C3", label="fitted χ²")
    gu.label(ax, "test loss e(h)", "density", f"d = {d}")
np.atleast_1d(axes)[0].legend(fontsize="small")

# %% [markdown]
# **Figure 2.** Inductive bias $I(\varepsilon)$ in bits against the threshold $\varepsilon$ (first task of each
# $d$, down to the deepest of `depths`): the paper's fitted estimator (line), the exact law by
# saddlepoint (dashed) and direct Monte-Carlo (dots, only where at least 20 of the `n_mc` hypotheses
# fall below $\varepsilon$). Look for the three coinciding where the dots exist, and for how far the line
# strays from the dashed curve beyond them, hundreds of bits deep.

# %%
ncols = min(3, len(P.dims))
nrows = math.ceil(len(P.dims) / ncols)
fig, axes = gu.subplots(ncols=ncols, nrows=nrows, width=3.9, height=3.1, squeeze=False)
for ax, (d, c) in zip(axes.flat, curves.groupby("d")):
    sns.lineplot(data=c, x="eps", y="fitted χ² (paper)", ax=ax, color="C0", label="fitted χ² (paper)")
    sns.lineplot(data=c, x="eps", y="exact law (saddlepoint)", ax=ax, color="C3", linestyle="--",
                 label="exact law (saddlepoint)")
    sns.scatterplot(data=c, x="eps", y="Monte-Carlo", ax=ax, color="k", s=18, label="Monte-Carlo", zorder=3)
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 3)))
    ax.yaxis.set_major_formatter("{x:g}")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.legend().set_visible(ax is axes.flat[0])
    gu.label(ax, "loss threshold ε", "I(ε), bits", f"d = {d}")
for ax in list(axes.flat)[len(P.dims):]:
    ax.set_visible(False)

# %% [markdown]
# **Figure 3.** The estimator's relative error $\hat I(\varepsilon_D)/D - 1$ at each exact depth $D$ (one dot per
# task, colour = $d$); the grey band is the $\pm 0.2$ of the rule. Look for dots inside the band at
# every depth; a negative error means the fitted law puts too much mass in the lower tail (it
# underestimates the inductive bias).

# %%
fig, ax = gu.subplots(width=7, height=4)
sns.stripplot(data=deep.assign(depth=deep.depth.map("{:g}".format)), x="depth", y="rel. error", hue="d",
              dodge=True, ax=ax, palette="viridis")
ax.axhspan(-0.2, 0.2, color="grey", alpha=0.15, zorder=0)
ax.axhline(0, color="grey", linewidth=1)
gu.label(ax, "exact inductive bias D, bits", "Î(ε_D) / D − 1", "The paper's estimator against the exact law")

# %% [markdown]
# **Figure 4.** Left: the inductive bias needed to reach test loss $\varepsilon$ = `eps` against the ambient
# input dimension (mean ± s.d. over tasks), from the paper's estimator and from the exact law. Right:
# the measured intrinsic dimension of the inputs. Look for a rise with $d$ in the main run, where the
# intrinsic dimension grows with $d$; in the falsification run (`intrinsic_dim = 1`) the right panel
# stays flat, and the paper's cause predicts the left one stays flat too.

# %%
trend = results.melt(id_vars=["d", "seed"], value_vars=["I_fit", "I_exact"], var_name="method", value_name="bits")
trend["method"] = trend.method.map({"I_fit": "fitted χ² (paper)", "I_exact": "exact law (saddlepoint)"})
fig, axes = gu.subplots(ncols=2, width=5.2, height=4.2)
sns.lineplot(data=trend, x="d", y="bits", hue="method", style="method", marker="o", errorbar="sd", ax=axes[0])
sns.lineplot(data=results, x="d", y="intrinsic dim (TwoNN)", marker="o", errorbar="sd", ax=axes[1], color="C2")
axes[1].plot(P.dims, P.dims if P.intrinsic_dim == 0 else [min(P.intrinsic_dim, d) for d in P.dims],
             color="grey", linestyle=":", label="by construction")
axes[1].legend(fontsize="small")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter("{x:g}")
gu.label(axes[0], "ambient input dimension d (log scale)", f"inductive bias I(ε = {P.eps:g}), bits",
         "Inductive bias against dimension")
gu.label(axes[1], "ambient input dimension d (log scale)", "intrinsic dimension of the inputs",
         "What the model must generalize over")

# %% [markdown]
# ## Verdict
#
# The rule was fixed before the `cpu` run and committed with this chapter (see "Rule history" below):
#
# - **deep-tail accuracy** (evidence: the paper's claim is that its estimator computes inductive bias
#   where sampling cannot): over every task and depth $D$ in `depths`, the relative error
#   $|\hat I(\varepsilon_D) - D| / D$ against the exact law; its median `deep_rel_err_median` must be $\le 0.2$
#   and its 90th percentile `deep_rel_err_p90` $\le 0.5$;
# - **trend** (evidence): Spearman $\rho$ between $d$ and the task-mean $\hat I(\varepsilon)$ at least 0.9, and
#   the lower end `trend_gain_lo` of the 95% Student-$t$ interval (over the `seeds` task pairs) of
#   $\hat I(\varepsilon)$ at the largest $d$ minus at the smallest at least **10 bits** (the minimum effect:
#   a thousandfold smaller fraction of well-generalizing hypotheses, small beside the paper's
#   hundreds of bits and far above the estimator's noise);
# - `supported` when both hold; `contradicted` when `deep_rel_err_median` > 0.5 (the estimator misses the
#   exact value by more than half where the paper's numbers live), or `trend_gain_hi` < 10 bits (the
#   rise is confidently smaller than the minimum effect), or $\rho \le 0$; otherwise `inconclusive`;
# - **instrument checks** (they hold when the reference is computed right; a failure makes the verdict
#   `inconclusive`): the saddlepoint matches Monte-Carlo at the measurable levels (median absolute gap
#   $\le 0.25$ bits) and matches tilted importance sampling at the exact depths (largest absolute gap
#   $\le 0.5$ bits).
#
# Reported, not deciding: the estimator's gap to Monte-Carlo at the measurable levels (the old rule's
# statistic), the exact law's own rise with $d$, and the measured intrinsic dimension at the largest $d$.

# %%
mean_fit = results.groupby("d").I_fit.mean()
rho = stats.spearmanr(mean_fit.index, mean_fit.values).statistic if mean_fit.nunique() > 1 else float("nan")
first = results[results.d == P.dims[0]].sort_values("seed")
last = results[results.d == P.dims[-1]].sort_values("seed")
gain = last.I_fit.to_numpy() - first.I_fit.to_numpy()
gain_lo, gain_hi = gu.t_interval(gain)
exact_gain = last.I_exact.to_numpy() - first.I_exact.to_numpy()
abs_rel = deep["rel. error"].abs()
statistics = {
    "deep_rel_err_median": float(abs_rel.median()),
    "deep_rel_err_p90": float(abs_rel.quantile(0.9)),
    "deep_rel_err_at_max_depth": float(abs_rel[deep.depth == max(P.depths)].median()),
    "deep_signed_rel_err_median": float(deep["rel. error"].median()),
    "rho_trend": float(rho),
    "trend_gain": float(gain.mean()),
    "trend_gain_lo": gain_lo,
    "trend_gain_hi": gain_hi,
    "bits_at_min_d": float(first.I_fit.mean()),
    "bits_at_max_d": float(last.I_fit.mean()),
    "exact_gain": float(exact_gain.mean()) if np.all(np.isfinite(exact_gain)) else float("nan"),
    "intrinsic_dim_at_max_d": float(last["intrinsic dim (TwoNN)"].mean()),
    "mc_gap_median": float(gaps["gap (bits)"].abs().median()),
    "mc_gap_max": float(gaps["gap (bits)"].abs().max()),
    "saddle_vs_mc_gap_median": float((gaps.I_saddle - gaps.I_mc).abs().median()),
    "saddle_vs_is_gap_max": float((deep.I_is - deep.I_exact).abs().max()),
}
accurate = gu.all_of(gu.cond("deep_rel_err_median", "<=", 0.2), gu.cond("deep_rel_err_p90", "<=", 0.5))
rises = gu.all_of(gu.cond("rho_trend", ">=", 0.9), gu.cond("trend_gain_lo", ">=", 10.0))
RULE = gu.rule(
    supported=gu.all_of(accurate, rises),
    contradicted=gu.any_of(gu.cond("deep_rel_err_median", ">", 0.5), gu.cond("trend_gain_hi", "<", 10.0),
                           gu.cond("rho_trend", "<=", 0.0)),
    checks={"saddlepoint_matches_monte_carlo": gu.cond("saddle_vs_mc_gap_median", "<=", 0.25),
            "saddlepoint_matches_tilted_sampling": gu.cond("saddle_vs_is_gap_max", "<=", 0.5)},
)
print(deep.groupby(["d", "depth"])["rel. error"].median().unstack().round(3))
print(results.groupby("d")[["I_fit", "I_exact", "intrinsic dim (TwoNN)"]].mean().round(2))

record = gu.report_verdict(
    chapter="exact_inductive_bias", params=P, rule=RULE, statistics=statistics,
    seeds=sorted(results.seed.unique().tolist()),
    headline=["deep_rel_err_median", "deep_rel_err_p90", "rho_trend", "trend_gain_lo", "trend_gain_hi"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - **This repair** (review of part "theory", section 2). (1) The old rule gated only the shallow regime,
#   where a one-law fit to 1,000 samples nearly interpolates (two of its three levels lay inside the fit
#   sample); the deep-tail accuracy, the only test of "exact computation" at the paper's depths, was
#   computed but not gated. Now the estimator is scored against the exact law at fixed depths of 30 to
#   300 bits (`cpu`), and that decides. (2) The old trend had no minimum effect size (a 10⁻⁶-bit rise
#   passed): now the rise must be at least 10 bits with confidence. (3) The rise was close to built in:
#   with $x \sim \mathcal N(0, I/d)$ and a fixed length scale, distances concentrate as $d$ grows and the
#   posterior tends to the prior whatever the estimator does. That *is* the geometry of generalizing over
#   more dimensions, the cause the paper names, but it needed a control: the falsification run keeps
#   the ambient dimension growing while the inputs lie on a one-dimensional curve. (4) The percentile
#   bootstrap over 4 tasks became a Student-$t$ interval over 6. (5) The references became instrument
#   checks (saddlepoint against Monte-Carlo and against tilted importance sampling): they test the code
#   against the exact law, not the paper. (6) There is no study card 05 in the shared folder, although
#   an older commit said one was written; the design now lives in this chapter.
# - The estimator is the official one: maximum-likelihood scaled non-central $\chi^2$ with location 0 and
#   $-\log\mathrm{CDF}(\varepsilon)$, with the same Sankaran fallback; the chapter reports bits
#   ($\log_2$) where the code returns nats. The only change is the optimizer's extra, moment-matched
#   starting point (the higher-likelihood fit wins). This can only move the fit towards the true
#   maximum-likelihood one.
# - The hypothesis space is the paper's kernel one (RBF Gaussian process conditioned to fit the training
#   set), but the posterior is computed in closed form (Cholesky) rather than by the official code's Adam
#   fit of $\alpha$ and $a_x$, and the tasks are synthetic and well specified: the target is itself a
#   draw from the GP prior. The inverted-pendulum, MNIST, CIFAR-10 and Omniglot results, the comparison
#   with the 2023 upper bound, the neural-network hypothesis spaces and the paper's approximation-error
#   bounds are not reproduced, and the paper's own numbers could not be quoted (see the top).
# - Scaled down: 1,000 fitted hypotheses instead of the code's 10,000 (the `gpu` profile uses 10,000),
#   200 test points, 64 training points, $d \le 32$. With more hypotheses the fit may reach deeper; the
#   verdict speaks for this budget. The `gpu` profile (the machine's 16 cores do the work: the method is
#   scipy on the CPU, tasks run on a thread pool) was sized by estimate and has not been run.
# - The exact reference is a saddlepoint approximation; its error is checked, not assumed: against
#   Monte-Carlo down to $10^{-3}$ and against an unbiased tilted importance sampler at every scored depth.
# - **What the deep-tail check shows** (at `cpu`, when this was written; Figure 3 and the printed table
#   are the live numbers): the one-law fit is accurate where the posterior is close to the prior and
#   many directions carry comparable weight ($d \ge 16$: within about ±0.2 even 300 bits deep), and it
#   underestimates the inductive bias badly where a few directions dominate the loss ($d \le 4$, and
#   every task of the one-dimensional control: per-dimension medians from −0.48 to −0.98 at 300
#   bits). Where the estimator fails it fails low (the fitted law's lower tail is too heavy), so on
#   these tasks it is not even an upper bound. Whether it is "exact" depends on the task, not only on
#   the number of samples.
# - **What the control can and cannot show.** In the falsification run the inputs' measured intrinsic
#   dimension stays near 1 at every ambient $d$ (Figure 4, right), and the inductive bias at
#   $\varepsilon$ = `eps` stays at zero: ambient dimension alone does not create the rise. Because those
#   one-dimensional tasks are easy, the control sits at the floor; it cannot show that a plateau at a
#   non-zero level stays flat, and a curved embedding is one choice of manifold among many.
# - The trend is for one kernel, one length scale, a fixed training budget and a fixed threshold, and
#   the control's curved embedding is one choice among many. A reader must not read the absolute bit
#   counts as properties of real tasks.
#
# ### Rule history
#
# - **Previous rule** (before this repair; the card it cited did not exist): `supported` when the median
#   absolute gap between $\hat I$ and Monte-Carlo over $q \in \{0.1, 0.01, 0.001\}$ was $\le 0.5$ bits,
#   Spearman $\rho(d, \hat I(0.5)) \ge 0.9$ and the lower end of a percentile bootstrap (over 4 tasks) of
#   the rise $d = 1 \to 32$ was above 0; `contradicted` when that median gap exceeded 1.5 bits or
#   $\rho \le 0$. Its `cpu` verdict: **supported**, median gap to Monte-Carlo 0.30 bits, $\rho = 1.0$, rise
#   $d = 1 \to 32$ of 114.5 bits [110.3, 118.5], wall time 58.7 s. Replaced because it gated only the
#   shallow, nearly in-sample regime, left the deep tail ungated, had no minimum effect size, no control
#   for the built-in geometry, and a bootstrap over 4 values.
# - **Current rule**: as in the Verdict section, committed before its first `cpu` run (commit
#   "exact_inductive_bias (05): pre-register new rule ..."), unchanged since. Its first `cpu` verdicts:
#   main run **inconclusive**: the rise holds (ρ = 1.0, rise $d = 1 \to 32$ of 111.0 bits, 95% $t$-interval
#   [102.2, 119.8], exact law 109.7 bits) but the deep-tail accuracy misses the bar (median relative
#   error 0.228 > 0.2, 90th percentile 0.83 > 0.5; not above the 0.5 that would contradict);
#   falsification run (`intrinsic_dim = 1`) **contradicted**: no rise (interval of the rise within
#   ±3·10⁻⁹ bits, far below 10) and the estimator off by a median 0.85 in the deep tail. Both instrument
#   checks passed in both runs (saddlepoint against Monte-Carlo: median gap 0.05 bits; against tilted
#   importance sampling: largest gap 0.16 and 0.44 bits).
