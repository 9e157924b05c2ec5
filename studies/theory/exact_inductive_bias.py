# ---
# jupyter:
#   genbook:
#     claim: The inductive bias a task requires, -log2 P(test loss <= eps) for hypotheses
#       that fit the training data, is estimated by fitting a scaled non-central chi-squared
#       law to the test losses of sampled hypotheses; the estimate matches direct Monte-Carlo
#       where that can be measured, and tasks with more input dimensions require more
#       inductive bias.
#     paper: Boopathy, Yue, Hwang, Iyer & Fiete 2024, arXiv:2406.15941
#     part: theory
#     profiles:
#       gpu:
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
#         n_mc: 1000000
#         n_test: 400
#         seeds: 10
#       smoke:
#         dims:
#         - 1
#         - 4
#         - 16
#         mc_levels:
#         - 0.1
#         - 0.01
#         n_fit: 300
#         n_mc: 20000
#         n_test: 100
#         seeds: 2
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
#
# **Claim under test.** Put a distribution $p_h$ on the hypotheses of a class that fit the training
# data. The inductive bias a task requires to reach test loss $\varepsilon$ is the information needed to
# single out a well-generalizing hypothesis,
#
# $$I(\varepsilon) = -\log_2 \Pr_{h\sim p_h}\big[e(h) \le \varepsilon\big]\ \text{bits}.$$
#
# The paper estimates it without bounds: sample hypotheses, fit a scaled non-central $\chi^2$ law to their
# test losses, and read the probability off the fitted CDF, which reaches far into tails that direct
# sampling can never see. Its empirical finding: tasks with more input dimensions require more
# inductive bias.
#
# **The paper's evidence.** The estimator, as in the official `utils.py`: maximum-likelihood fit of a
# scaled non-central $\chi^2$ with location 0, then $-\log \mathrm{CDF}(\varepsilon)$ (natural log in the
# code), with a normal approximation when the log-CDF underflows. For kernel hypothesis spaces
# (`kernel_inductive_bias.py`) the hypotheses are RBF Gaussian-process functions constrained to fit the
# training set (posterior mean plus Gaussian fluctuations with the posterior covariance), 10,000 of
# them by default, scored by test mean squared error. The experiments (inverted pendulum, MNIST,
# CIFAR-10, Omniglot; Fig. 3 and Table 1, compared with the upper bound of Boopathy et al. 2023) give
# inductive bias in the hundreds to many thousands of bits; the table's values and the exact figure for
# the dimensionality trend were not found in the text available here.
#
# **What is scaled down.** Synthetic, well-specified Gaussian-process regression tasks in
# $d \in \{1,\dots,32\}$ dimensions with 64 training and 200 test points instead of real datasets; 1,000
# sampled hypotheses per fit; 4 tasks per $d$. Because the test loss of a GP hypothesis is exactly a
# generalized $\chi^2$ variable, the chapter can check the estimator twice: against direct Monte-Carlo
# (100,000 hypotheses) where probabilities are measurable, and against a saddlepoint evaluation of the
# exact law in the deep tail.

# %%
import math
import time

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import LogLocator, NullLocator
from scipy import linalg, optimize, special, stats

import genutils as gu

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; task s of dimension index i uses seed + 1000 i + s
dims = [1, 2, 4, 8, 16, 32]  # input dimensions d of the tasks
n_train = 64  # training points every hypothesis must fit
n_test = 200  # test points that define the test loss
lengthscale = 0.5  # RBF kernel length scale (inputs have mean squared norm 1)
n_fit = 1000  # sampled hypotheses whose losses the chi-squared law is fitted to
n_mc = 100000  # further hypotheses for the direct Monte-Carlo check
mc_levels = [0.1, 0.01, 0.001]  # probabilities at which the estimator is checked against Monte-Carlo
eps = 0.5  # loss threshold for the dimension trend, in units of the target variance (1)
seeds = 4  # independent tasks per dimension

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    dims=gu.List(gu.Int(min=1), min_len=2, increasing=True),
    n_train=gu.Int(min=2),
    n_test=gu.Int(min=10),
    lengthscale=gu.Float(gt=0),
    n_fit=gu.Int(min=50),
    n_mc=gu.Int(min=1000),
    mc_levels=gu.List(gu.Float(gt=0, lt=1), min_len=1),
    eps=gu.Float(gt=0),
    seeds=gu.Int(min=1),
)
if P.n_mc * min(P.mc_levels) < 20:
    raise gu.ParameterError("mc_levels", f"n_mc · min(mc_levels) = {P.n_mc * min(P.mc_levels):g} < 20 hypotheses "
                                         "below the threshold: Monte-Carlo cannot measure that level; raise n_mc")
P

# %% [markdown]
# ## The task and the hypothesis space
#
# For dimension $d$, inputs are $x \sim \mathcal N(0, I_d/d)$ (so $\mathbb E|x|^2 = 1$ at every $d$) and the
# target $f^\*$ is a draw from the Gaussian-process prior with the RBF kernel
# $k(x,x') = \exp(-|x-x'|^2/2\ell^2)$, drawn jointly on the $n$ training and $m$ test points. The
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
# is what lets us check that model. (Sampling in the eigenbasis is the same distribution as the official
# code's $\mu + \mathrm{sqrtm}(\Sigma)z$.)

# %%
def rbf(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RBF kernel matrix exp(-|a_i - b_j|² / 2ℓ²)."""
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.exp(-np.maximum(sq, 0) / (2 * P.lengthscale**2))


def make_task(d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One task: returns the test-loss law's weights w_i = λ_i/m and offsets b_i (see the formula above)."""
    n, m = P.n_train, P.n_test
    x = rng.standard_normal((n + m, d)) / math.sqrt(d)
    k = rbf(x, x)
    f = linalg.cholesky(k + 1e-8 * np.eye(n + m), lower=True) @ rng.standard_normal(n + m)
    kxx, ksx, kss = k[:n, :n] + 1e-8 * np.eye(n), k[n:, :n], k[n:, n:]
    solve = linalg.cho_solve(linalg.cho_factor(kxx, lower=True), ksx.T)  # K_XX⁻¹ K_X*
    mu, sigma = solve.T @ f[:n], kss - ksx @ solve
    lam, u = np.linalg.eigh((sigma + sigma.T) / 2)
    return np.clip(lam, 0, None) / m, u.T @ (mu - f[n:])


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
# ## Two references: direct Monte-Carlo and the exact law's saddlepoint
#
# **Monte-Carlo.** With `n_mc` fresh hypotheses, $I_{MC}(\varepsilon) = -\log_2 \hat p$, $\hat p$ the
# fraction with loss $\le\varepsilon$. It only exists while $\hat p \gtrsim 20/n_{MC}$: about 12 bits here.
# We compare at the thresholds $\varepsilon_q$ = the empirical $q$-quantile of the Monte-Carlo losses, for
# $q$ in `mc_levels`. The fit uses 1,000 hypotheses, so at $q = 10^{-3}$ it already extrapolates beyond
# its own sample.
#
# **Saddlepoint.** For $e = \sum_i w_i (z_i + \delta_i)^2$ ($w_i = \lambda_i/m$, $\delta_i = b_i/\sqrt{\lambda_i}$) the
# cumulant generating function is exact,
# $K(t) = \sum_i\big[-\tfrac12\log(1-2tw_i) + \delta_i^2 w_i t/(1-2tw_i)\big]$, and the Lugannani–Rice formula
# gives the CDF from the saddlepoint $K'(\hat t) = \varepsilon$:
# $F(\varepsilon) \approx \Phi(r) + \varphi(r)(1/r - 1/u)$, $r = \mathrm{sign}(\hat t)\sqrt{2(\hat t\varepsilon - K(\hat t))}$,
# $u = \hat t\sqrt{K''(\hat t)}$. Its relative error is small and does not grow in the tail, so it is the
# reference where Monte-Carlo cannot reach; we check it against Monte-Carlo too.

# %%
def saddlepoint_bits(eps_: float, w: np.ndarray, b: np.ndarray) -> float:
    """−log₂ P(e ≤ ε) for e = Σ w_i (z_i + δ_i)², by the Lugannani–Rice saddlepoint formula."""
    m = len(b)
    keep = w > 1e-14 * w.max()
    e = eps_ - (b[~keep] ** 2).sum() / m  # directions without fluctuation contribute a constant
    if e <= 0:
        return math.inf
    w, d2 = w[keep], b[keep] ** 2 / m / w[keep]
    cgf = lambda t: np.sum(-0.5 * np.log1p(-2 * t * w) + d2 * w * t / (1 - 2 * t * w))  # noqa: E731
    cgf1 = lambda t: np.sum(w / (1 - 2 * t * w) + d2 * w / (1 - 2 * t * w) ** 2)  # noqa: E731
    cgf2 = lambda t: np.sum(2 * w**2 / (1 - 2 * t * w) ** 2 + 4 * d2 * w**2 / (1 - 2 * t * w) ** 3)  # noqa: E731
    if e < cgf1(0.0):
        lo = -1.0
        while cgf1(lo) > e:
            lo *= 2
        bracket = (lo, 0.0)
    else:
        bracket = (0.0, (1 - 1e-12) / (2 * w.max()))
    t = optimize.brentq(lambda t: cgf1(t) - e, *bracket, xtol=1e-300, rtol=1e-14)
    if abs(t) < 1e-12:
        return 1.0  # ε at the mean of a near-symmetric law: P ≈ 1/2
    r = math.copysign(math.sqrt(max(2 * (t * e - cgf(t)), 0.0)), t)
    u = t * math.sqrt(cgf2(t))
    log_phi = special.log_ndtr(r)
    log_cdf = log_phi + math.log1p(math.exp(stats.norm.logpdf(r) - log_phi) * (1 / r - 1 / u))
    return float(-log_cdf / math.log(2))


# %% [markdown]
# ## The experiment
#
# For every dimension and task: draw the task, sample `n_fit` hypotheses and fit the law, sample `n_mc`
# more for Monte-Carlo, and evaluate the three measures at the Monte-Carlo quantile thresholds and at the
# fixed threshold $\varepsilon$ = `eps` (half the target's variance, i.e. $R^2 \ge 0.5$ on the test set).
# For the first task of each $d$ we also keep whole curves $I(\varepsilon)$ for Figure 2.

# %%
t0 = time.time()
rows, gap_rows, curve_rows, hist_rows = [], [], [], []
for i, d in enumerate(gu.progress(P.dims, desc="dimension")):
    for s in range(P.seeds):
        task_seed = P.seed + 1000 * i + s
        rng = np.random.default_rng(task_seed)
        w, b = make_task(d, rng)
        fit_losses = sample_losses(w, b, P.n_fit, rng)
        df, nc, scale = fit_ncx2(fit_losses)
        mc = sample_losses(w, b, P.n_mc, rng)
        for q in P.mc_levels:
            eps_q = float(np.quantile(mc, q))
            measured = -math.log2(np.mean(mc <= eps_q))
            gap_rows.append({"d": d, "seed": task_seed, "level q": q, "I_mc": measured,
                             "I_fit": bias_bits(eps_q, df, nc, scale), "I_saddle": saddlepoint_bits(eps_q, w, b)})
        rows.append({"d": d, "seed": task_seed, "mean loss": fit_losses.mean(), "df": df, "nc": nc, "scale": scale,
                     "I_fit": bias_bits(P.eps, df, nc, scale), "I_saddle": saddlepoint_bits(P.eps, w, b)})
        if s == 0:
            grid = fit_losses.mean() * np.linspace(0.25, 1.1, 35)
            for e in grid:
                frac = np.mean(mc <= e)
                curve_rows.append({"d": d, "eps": e, "fitted χ² (paper)": bias_bits(e, df, nc, scale),
                                   "exact law (saddlepoint)": saddlepoint_bits(e, w, b),
                                   "Monte-Carlo": -math.log2(frac) if frac * P.n_mc >= 20 else np.nan})
            hist_rows.append((d, fit_losses, (df, nc, scale)))
results, gaps, curves = pd.DataFrame(rows), pd.DataFrame(gap_rows), pd.DataFrame(curve_rows)
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
# $d$): the paper's fitted estimator (line), the exact law by saddlepoint (dashed) and direct Monte-Carlo
# (dots, only where at least 20 of the `n_mc` hypotheses fall below $\varepsilon$). Look for the three
# coinciding where the dots exist, and for how far the line strays from the dashed curve beyond them.

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
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter("{x:g}")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.legend().set_visible(ax is axes.flat[0])
    gu.label(ax, "loss threshold ε", "I(ε), bits", f"d = {d}")
for ax in list(axes.flat)[len(P.dims):]:
    ax.set_visible(False)

# %% [markdown]
# **Figure 3.** The estimator's error where Monte-Carlo can measure the probability:
# $\hat I(\varepsilon_q) - I_{MC}(\varepsilon_q)$ in bits, per dimension and level $q$ (one dot per task).
# Look for dots near zero; a negative gap means the fit puts too much mass in the lower tail.

# %%
fig, ax = gu.subplots(width=7, height=4)
sns.stripplot(data=gaps, x="d", y="gap (bits)", hue="level q", dodge=True, ax=ax, palette="viridis")
ax.axhline(0, color="grey", linewidth=1)
gu.label(ax, "input dimension d", "fitted minus Monte-Carlo, bits", "Estimator against direct Monte-Carlo")

# %% [markdown]
# **Figure 4.** The inductive bias needed to reach test loss $\varepsilon$ = `eps` against the input
# dimension (mean ± s.d. over tasks), from the paper's estimator and from the exact law. Look for a rise
# with $d$: the paper's trend.

# %%
trend = results.melt(id_vars=["d", "seed"], value_vars=["I_fit", "I_saddle"], var_name="method", value_name="bits")
trend["method"] = trend.method.map({"I_fit": "fitted χ² (paper)", "I_saddle": "exact law (saddlepoint)"})
fig, ax = gu.subplots(width=7, height=4.2)
sns.lineplot(data=trend, x="d", y="bits", hue="method", style="method", marker="o", errorbar="sd", ax=ax)
ax.set_xscale("log", base=2)
ax.xaxis.set_major_formatter("{x:g}")
gu.label(ax, "input dimension d (log scale)", f"inductive bias I(ε = {P.eps:g}), bits",
         "More input dimensions, more inductive bias")

# %% [markdown]
# ## Verdict
#
# The rule was fixed before the `cpu` run (study card 05):
#
# - **accuracy**: the gaps $\hat I(\varepsilon_q) - I_{MC}(\varepsilon_q)$ over every dimension, task and level;
#   their median absolute value `median_abs_gap` must be $\le 0.5$ bits;
# - **trend**: Spearman $\rho$ between $d$ and the task-mean $\hat I(\varepsilon)$ at least 0.9, and the lower end
#   of the bootstrap 95% interval (over tasks) of $\hat I(\varepsilon)$ at the largest $d$ minus at the smallest
#   above 0;
# - `supported` when both hold; `contradicted` when `median_abs_gap` > 1.5 bits (the estimator misses
#   probabilities that can be measured) or $\rho \le 0$ (no rise with $d$); otherwise `inconclusive`.
#
# Reported beside the verdict, not deciding: the estimator's median relative error against the exact law
# at $\varepsilon$ (deep tail), and the saddlepoint's own gap to Monte-Carlo (a check of that reference).

# %%
mean_fit = results.groupby("d").I_fit.mean()
rho = stats.spearmanr(mean_fit.index, mean_fit.values).statistic if mean_fit.nunique() > 1 else float("nan")
first = results[results.d == P.dims[0]].I_fit.to_numpy()
last = results[results.d == P.dims[-1]].I_fit.to_numpy()
gain = last - first
gain_lo, gain_hi = gu.bootstrap_ci(gain, seed=P.seed)
deep = results[np.isfinite(results.I_saddle) & (results.I_saddle > 1)]
rel_deep = ((deep.I_fit - deep.I_saddle).abs() / deep.I_saddle).median() if len(deep) else float("nan")
statistics = {
    "median_abs_gap": float(gaps["gap (bits)"].abs().median()),
    "max_abs_gap": float(gaps["gap (bits)"].abs().max()),
    "rho_trend": float(rho),
    "trend_gain": float(gain.mean()),
    "trend_gain_lo": gain_lo,
    "trend_gain_hi": gain_hi,
    "bits_at_min_d": float(first.mean()),
    "bits_at_max_d": float(last.mean()),
    "deep_tail_rel_err": float(rel_deep),
    "saddle_vs_mc_median_gap": float((gaps.I_saddle - gaps.I_mc).abs().median()),
}
accuracy = gu.cond("median_abs_gap", "<=", 0.5)
rises = gu.all_of(gu.cond("rho_trend", ">=", 0.9), gu.cond("trend_gain_lo", ">", 0.0))
RULE = gu.rule(
    supported=gu.all_of(accuracy, rises),
    contradicted=gu.any_of(gu.cond("median_abs_gap", ">", 1.5), gu.cond("rho_trend", "<=", 0.0)),
)
print(gaps.groupby(["d", "level q"])["gap (bits)"].mean().unstack().round(2))
print(results.groupby("d")[["I_fit", "I_saddle"]].mean().round(1))

record = gu.report_verdict(
    chapter="exact_inductive_bias", params=P, rule=RULE, statistics=statistics,
    seeds=sorted(results.seed.unique().tolist()),
    headline=["median_abs_gap", "rho_trend", "trend_gain_lo", "deep_tail_rel_err"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - The estimator is the official one: maximum-likelihood scaled non-central $\chi^2$ with location 0 and
#   $-\log\mathrm{CDF}(\varepsilon)$, with the same Sankaran fallback; the chapter reports bits
#   ($\log_2$) where the code returns nats. The only change is the optimizer's extra, moment-matched
#   starting point (the higher-likelihood fit wins), added because scipy's default start alone stopped at
#   worse optima on some prototype tasks. This can only move the fit towards the true maximum-likelihood
#   one.
# - The hypothesis space is the paper's kernel one (RBF Gaussian process conditioned to fit the training
#   set), but the posterior is computed in closed form (Cholesky) rather than by the official code's Adam
#   fit of $\alpha$ and $a_x$, and the tasks are synthetic and well specified: the target is itself a
#   draw from the GP prior. The inverted-pendulum, MNIST, CIFAR-10 and Omniglot results, the comparison
#   with the 2023 upper bound, the neural-network hypothesis spaces and the paper's approximation-error
#   bounds are not reproduced.
# - "Exact" here has two readings. Where probabilities can be measured (down to about $10^{-3}$, 10 bits),
#   the chapter checks the estimator against Monte-Carlo. Far in the tail, where the paper's numbers
#   live (tens to thousands of bits), only the known generalized-$\chi^2$ law of this hypothesis space
#   (evaluated by saddlepoint, itself checked against Monte-Carlo) can check it; a one-law fit to 1,000
#   samples need not extrapolate 50 or 100 bits deep, and `deep_tail_rel_err` says how far it strays.
# - The trend in $d$ is for one kernel, one length scale, a fixed training budget and a fixed threshold;
#   it saturates once the training points say almost nothing about the test points (then $p_h$ is close to
#   the prior). A reader must not read the absolute bit counts as properties of real tasks.
