# ---
# jupyter:
#   genbook:
#     claim: A linear student trained by gradient descent follows the exact random-matrix
#       learning curve, and its late-time error blows up at alpha = P/N near 1 while
#       early stopping keeps it bounded.
#     'null':
#       snr: 1000000000.0
#     null_reason: Label noise is what the small eigenvalues near alpha = 1 amplify;
#       a noiseless teacher (snr 1e9) removes it, so no overtraining peak at alpha =
#       1 should remain.
#     paper: Advani & Saxe 2017, arXiv:1710.03667
#     part: theory
#     profiles:
#       gpu:
#         alphas:
#         - 0.25
#         - 0.5
#         - 0.75
#         - 0.85
#         - 0.9
#         - 0.95
#         - 1.0
#         - 1.05
#         - 1.1
#         - 1.2
#         - 1.25
#         - 1.5
#         - 2.0
#         - 4.0
#         n_features: 2000
#         n_theory: 8000
#         seeds: 20
#         steps: 10000
#       smoke:
#         alphas:
#         - 0.5
#         - 1.0
#         - 2.0
#         n_features: 100
#         n_theory: 500
#         seeds: 2
#         steps: 300
#     title: Overtraining peaks where examples equal parameters
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
# # High-dimensional dynamics of generalization error
#
# **Paper.** Madhu S. Advani and Andrew M. Saxe, *High-dimensional dynamics of generalization error in
# neural networks*, 2017 ([arXiv:1710.03667](https://arxiv.org/abs/1710.03667); Neural Networks, 2020).
#
# **Claim under test.** A linear student learning a noisy linear teacher by gradient descent, with $N$
# parameters and $P = \alpha N$ examples, has a generalization error $E_g(t)$ that follows an exact
# random-matrix (Marchenko–Pastur) prediction over training time. Overtraining is worst when the number
# of examples equals the number of parameters ($\alpha \approx 1$): the error at long training times blows
# up there, while early stopping keeps it bounded.
#
# **The paper's evidence.** Section 3 and Figs. 2–4: $E_g(t)$ for several $\alpha$ and signal-to-noise
# ratios, theory against simulations with $N$ in the hundreds, and a peak of the asymptotic error at
# $\alpha = 1$ that early stopping removes.
#
# **What is scaled down.** Nothing in kind: this is the paper's own linear setting, at $N = 300$ (`cpu`)
# instead of the paper's larger sizes, with 10 independent draws per $\alpha$.
#
# **Falsification run.** The blow-up is noise amplified by the small eigenvalues of $X^\top X$, so the
# falsification run removes the label noise (`snr` = $10^9$) and keeps everything else: with no noise to
# fit, the late-time error should no longer peak at $\alpha \approx 1$ and the verdict must not be `supported`.

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
seed = 0  # base seed; draw s of ratio α uses seed + 1000·(index of α) + s
n_features = 300  # N, the dimension of the simulated student
n_theory = 2000  # quadrature points for the Marchenko–Pastur expectation
alphas = [0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 4.0]  # ratios P/N
snr = 4.0  # signal-to-noise ratio σ_w² : σ_ε², teacher variance σ_w² is 1
init_sd = 0.0  # σ_0, standard deviation of the student's initial weights
lr = 0.1  # gradient-descent step size
steps = 3000  # gradient-descent steps
seeds = 10  # independent (teacher, inputs, noise) draws per α

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_features=gu.Int(min=2),
    n_theory=gu.Int(min=10),
    alphas=gu.List(gu.Float(gt=0), min_len=3, increasing=True),
    snr=gu.Float(gt=0),
    init_sd=gu.Float(min=0),
    lr=gu.Float(gt=0),
    steps=gu.Int(min=10),
    seeds=gu.Int(min=1),
)
sigma_w2, sigma_eps2 = 1.0, 1.0 / P.snr
lam_max = (1 + math.sqrt(max(P.alphas))) ** 2
if P.lr * lam_max >= 2:
    raise gu.ParameterError("lr", f"lr·λ_max = {P.lr * lam_max:.2f} ≥ 2 makes gradient descent diverge "
                                  f"at α = {max(P.alphas)}; lower lr below {2 / lam_max:.3f}")
device = gu.device()
record_at = np.unique(np.round(np.logspace(0, math.log10(P.steps), 40)).astype(int))
record_at = np.concatenate([[0], record_at])
P

# %% [markdown]
# ## The setting
#
# A teacher $\bar w \in \mathbb{R}^N$ with entries $\mathcal N(0, \sigma_w^2)$ labels inputs
# $X \in \mathbb{R}^{P\times N}$ with entries $\mathcal N(0, 1/N)$: $y = X\bar w + \varepsilon$,
# $\varepsilon \sim \mathcal N(0, \sigma_\varepsilon^2 I)$. The student starts at $w(0)$ with entries
# $\mathcal N(0,\sigma_0^2)$ and runs full-batch gradient descent on $\tfrac12\lVert y - Xw\rVert^2$:
#
# $$w \leftarrow w + \eta\, X^\top (y - Xw).$$
#
# A fresh input has covariance $I/N$, so the expected test error is known exactly without a test set:
# $E_g(t) = \lVert w(t) - \bar w\rVert^2 / N + \sigma_\varepsilon^2$.
#
# ## The theory, in a few lines
#
# Write the error $e = w - \bar w$ in the eigenbasis of $X^\top X$ (eigenvalue $\lambda$). Gradient descent
# becomes $e_\lambda \leftarrow (1-\eta\lambda)\,e_\lambda + \eta\, n_\lambda$, with $n_\lambda$ the
# projection of $X^\top\varepsilon$, of variance $\lambda\sigma_\varepsilon^2$. Its solution is
# $e_\lambda(t) = e_\lambda(0)(1-\eta\lambda)^t + \tfrac{n_\lambda}{\lambda}\big(1-(1-\eta\lambda)^t\big)$, so
#
# $$E_g(t) = \mathbb E_\lambda\Big[(\sigma_w^2+\sigma_0^2)(1-\eta\lambda)^{2t}
#   + \frac{\sigma_\varepsilon^2}{\lambda}\big(1-(1-\eta\lambda)^t\big)^2\Big] + \sigma_\varepsilon^2 .$$
#
# As $N\to\infty$ the eigenvalues of $X^\top X$ follow the Marchenko–Pastur law on
# $[(1-\sqrt\alpha)^2, (1+\sqrt\alpha)^2]$, with an atom of mass $1-\alpha$ at zero when $\alpha<1$ (those
# modes keep their initial error). The second term is the culprit: at $\alpha = 1$ the density reaches
# down to $\lambda = 0$, and the noise amplified by $1/\lambda$ is fitted slowly, then fully.
#
# We take the expectation by quadrature on the continuous part, with the substitution
# $\lambda = \lambda_- + (\lambda_+-\lambda_-)(1-\cos\theta)/2$ that makes the integrand smooth even at
# $\alpha=1$; the density is `genutils.marchenko_pastur_pdf`, written for $S = Z^\top Z/n$, and
# $X^\top X = \alpha S$ with ratio $p/n = 1/\alpha$.

# %%
def mp_quadrature(alpha: float, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Nodes λ and weights of the continuous MP law of XᵀX (ratio α), and the mass of the atom at 0."""
    lo, hi = (1 - math.sqrt(alpha)) ** 2, (1 + math.sqrt(alpha)) ** 2
    theta = (np.arange(n) + 0.5) * math.pi / n
    lam = lo + (hi - lo) * (1 - np.cos(theta)) / 2
    dlam = (hi - lo) * np.sin(theta) / 2 * (math.pi / n)
    density = gu.marchenko_pastur_pdf(lam / alpha, ratio=1 / alpha) / alpha
    return lam, density * dlam, gu.marchenko_pastur_atom(1 / alpha)


def theory_curve(alpha: float, t: np.ndarray) -> np.ndarray:
    """E_g(t) from the mode-by-mode solution averaged over the Marchenko–Pastur law."""
    lam, weight, atom = mp_quadrature(alpha, P.n_theory)
    decay = (1 - P.lr * lam)[:, None] ** t[None, :]
    signal = (sigma_w2 + P.init_sd**2) * decay**2
    noise = sigma_eps2 / lam[:, None] * (1 - decay) ** 2
    return weight @ (signal + noise) + atom * (sigma_w2 + P.init_sd**2) + sigma_eps2


for a in (0.5, 1.0, 2.0):
    _, w, atom = mp_quadrature(a, P.n_theory)
    print(f"α = {a}: continuous mass {w.sum():.4f} + atom {atom:.4f} = {w.sum() + atom:.4f}")

# %% [markdown]
# ## The simulation
#
# All `seeds` draws of one $\alpha$ are trained together as a batch of independent problems (one
# `einsum` per step), in float64 so that the slow, small-eigenvalue modes are not lost to rounding.

# %%
def simulate(alpha: float, alpha_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent on `seeds` independent draws.

    Returns E_g at `record_at`, shape (seeds, times), and each draw's error at t = ∞: gradient descent
    from w(0) converges to the least-squares solution nearest w(0), w(∞) = w(0) + X⁺(y − X w(0)).
    """
    n, p = P.n_features, max(1, round(alpha * P.n_features))
    g = torch.Generator().manual_seed(P.seed + 1000 * alpha_index)
    s = P.seeds
    teacher = torch.randn(s, n, generator=g, dtype=torch.float64) * math.sqrt(sigma_w2)
    x = torch.randn(s, p, n, generator=g, dtype=torch.float64) / math.sqrt(n)
    y = torch.einsum("spn,sn->sp", x, teacher) + torch.randn(s, p, generator=g, dtype=torch.float64) * math.sqrt(sigma_eps2)
    w = torch.randn(s, n, generator=g, dtype=torch.float64) * P.init_sd
    teacher, x, y, w = (v.to(device) for v in (teacher, x, y, w))
    w_inf = w + torch.einsum("snp,sp->sn", torch.linalg.pinv(x), y - torch.einsum("spn,sn->sp", x, w))
    limit = ((w_inf - teacher) ** 2).mean(dim=1) + sigma_eps2
    errors, wanted = [], set(record_at.tolist())
    for t in range(P.steps + 1):
        if t in wanted:
            errors.append(((w - teacher) ** 2).mean(dim=1) + sigma_eps2)
        residual = y - torch.einsum("spn,sn->sp", x, w)
        w = w + P.lr * torch.einsum("spn,sp->sn", x, residual)
    return torch.stack(errors, dim=1).cpu().numpy(), limit.cpu().numpy()


t0 = time.time()
rows, theory_rows, limit_rows = [], [], []
for i, alpha in enumerate(gu.progress(P.alphas, desc="α")):
    sim, limit = simulate(alpha, i)
    theory = theory_curve(alpha, record_at.astype(float))
    for s in range(P.seeds):
        rows += [{"alpha": alpha, "seed": P.seed + 1000 * i + s, "t": t, "E_g": e} for t, e in zip(record_at, sim[s])]
        limit_rows.append({"alpha": alpha, "seed": P.seed + 1000 * i + s, "late": limit[s]})
    theory_rows += [{"alpha": alpha, "t": t, "E_g": e} for t, e in zip(record_at, theory)]
sim_df, theory_df, limit_df = pd.DataFrame(rows), pd.DataFrame(theory_rows), pd.DataFrame(limit_rows)
print(f"simulated {len(P.alphas)} ratios × {P.seeds} draws in {time.time() - t0:.1f} s")

# %% [markdown]
# ## Results
#
# **Figure 1.** Simulated error (dots: mean ± 1 s.d. over draws) against theory (lines). Look for the
# dots sitting on the lines, and for $\alpha$ near 1 the U-shape that turns into a late blow-up.

# %%
plot_sim = sim_df.assign(step=sim_df.t + 1)
plot_theory = theory_df.assign(step=theory_df.t + 1)
fig, ax = gu.subplots(width=8, height=5)
palette = sns.color_palette("viridis", len(P.alphas))
sns.lineplot(data=plot_theory, x="step", y="E_g", hue="alpha", palette=palette, ax=ax, legend=False)
sns.lineplot(data=plot_sim, x="step", y="E_g", hue="alpha", palette=palette, ax=ax, errorbar="sd",
             marker="o", linestyle="", err_style="bars", markersize=4)
ax.set(xscale="log", yscale="log")
ax.legend(title="α = P/N", ncols=2, fontsize="small")
gu.label(ax, "gradient-descent step + 1", "generalization error $E_g(t)$", "Theory (lines) and simulation (dots)")

# %% [markdown]
# **Figure 2.** Late-time error $L(\alpha)$ and early-stopped error $S(\alpha)$ (minimum over the simulated
# steps). $L$ is each draw's error at $t = \infty$, where gradient descent has reached the least-squares
# solution nearest $w(0)$: the blow-up is measured where it is complete, so its size does not depend on how
# many steps were simulated. Look for $L$ peaking at $\alpha \approx 1$ while $S$ stays bounded, the gap
# closing away from 1 (log scale: the peak can be orders of magnitude tall).

# %%
per_seed = (sim_df.groupby(["alpha", "seed"]).E_g.agg(early_stopped="min").reset_index()
            .merge(limit_df, on=["alpha", "seed"]))
summary = per_seed.melt(id_vars=["alpha", "seed"], var_name="error", value_name="E_g")
fig, ax = gu.subplots(width=7, height=4.5)
sns.lineplot(data=summary, x="alpha", y="E_g", hue="error", marker="o", errorbar="sd", ax=ax)
ax.set(xscale="log", yscale="log")
ax.set_xticks([a for a in (0.25, 0.5, 1, 2, 4) if min(P.alphas) <= a <= max(P.alphas)], minor=False)
ax.xaxis.set_major_formatter("{x:g}")
ax.xaxis.set_minor_formatter("")
gu.label(ax, "α = P/N (log scale)", "generalization error", "Late-time versus early-stopped error")

# %% [markdown]
# **Explorer.** Figure 1 one ratio at a time: move the slider over $\alpha$ to see the simulated error
# (dots, mean ± 1 s.d.) on the theory curve, and the numbers beside it: the late-time error $L$, the
# early-stopped error $S$ and their ratio. Look for the curve turning up at late times only near $\alpha = 1$.

# %%
def alpha_frame(alpha: float, ax) -> None:
    sns.lineplot(data=plot_theory[plot_theory.alpha == alpha], x="step", y="E_g", color="C0", ax=ax, label="theory")
    sns.lineplot(data=plot_sim[plot_sim.alpha == alpha], x="step", y="E_g", errorbar="sd", marker="o", linestyle="",
                 err_style="bars", color="C3", ax=ax, label="simulation")
    ax.set(xscale="log", yscale="log")
    gu.label(ax, "gradient-descent step + 1", "generalization error $E_g(t)$", f"α = {alpha:g}")


gu.explore(P.alphas, alpha_frame, label="α = P/N", start=P.alphas.index(min(P.alphas, key=lambda a: abs(math.log(a)))),
           numbers=lambda a: {"L (t = ∞, median)": per_seed[per_seed.alpha == a].late.median(),
                              "S (early-stopped, median)": per_seed[per_seed.alpha == a].early_stopped.median(),
                              "L / S": per_seed[per_seed.alpha == a].late.median()
                              / per_seed[per_seed.alpha == a].early_stopped.median()})

# %% [markdown]
# **Figure 3.** Eigenvalues of $X^\top X$ for one simulated draw at three ratios, with the
# Marchenko–Pastur density. Look for the mass piling up near $\lambda = 0$ at $\alpha = 1$: those modes
# carry the $\sigma_\varepsilon^2/\lambda$ noise term that blows up.

# %%
fig, axes = gu.subplots(ncols=3, width=4, height=3.4)
g = torch.Generator().manual_seed(P.seed)
for ax, alpha in zip(axes, (0.5, 1.0, 2.0)):
    n, p = P.n_features, round(alpha * P.n_features)
    x = torch.randn(p, n, generator=g, dtype=torch.float64) / math.sqrt(n)
    eig = torch.linalg.eigvalsh(x.T @ x).numpy()
    sns.histplot(eig[eig > 1e-9], stat="density", bins=40, ax=ax, color="C0", alpha=0.5)
    grid = np.linspace(1e-3, (1 + math.sqrt(alpha)) ** 2, 400)
    ax.plot(grid, gu.marchenko_pastur_pdf(grid / alpha, ratio=1 / alpha) / alpha / min(1.0, alpha), color="C3")
    ax.set_ylim(0, 1.5 if alpha == 1.0 else None)
    gu.label(ax, "eigenvalue λ of XᵀX", "density (nonzero part)", f"α = {alpha}")

# %% [markdown]
# ## Verdict
#
# The rule, revised for the falsification convention before its first `cpu` run (the rule history below
# keeps the first one):
#
# - **evidence, the overtraining peak**: with $L(\alpha)$ the median over draws of the $t=\infty$ error and
#   $S(\alpha)$ the median early-stopped error, $\arg\max_\alpha L(\alpha) \in [0.8, 1.25]$, $L/S \ge 2$ at
#   the $\alpha$ nearest 1, and $L/S \le 1.2$ at the smallest and at the largest $\alpha$;
# - **instrument checks, theory against simulation** over the simulated steps: the largest relative gap
#   $\max_t |E_{sim}(t) - E_{th}(t)| / E_{th}(t)$ between the mean simulated curve and theory has a median
#   over $\alpha$ of at most 0.10, and at the $\alpha$ nearest 1 (where the median hides a bad fit) at most
#   0.25. The theory is exact as $N\to\infty$, so agreement checks the code and the finite-$N$ instrument;
#   it is not evidence for the paper;
# - `supported` if the peak holds; `contradicted` if it does not; `inconclusive` if a check fails.
#
# Medians over draws, not means: at $\alpha$ = 1 the $t=\infty$ error of one draw is set by its smallest
# eigenvalue and is heavy-tailed from draw to draw. The relative-gap checks are written for a noisy teacher:
# without noise (the falsification run) the error itself decays towards zero at $\alpha \ge 1$, finite-$N$
# differences become large relative to it, and the check may fail there, making that run inconclusive.

# %%
mean_sim = sim_df.groupby(["alpha", "t"]).E_g.mean().unstack()
theory_wide = theory_df.set_index(["alpha", "t"]).E_g.unstack()
rel_gap = ((mean_sim - theory_wide).abs() / theory_wide).max(axis=1)
late = per_seed.groupby("alpha").late.median()
early = per_seed.groupby("alpha").early_stopped.median()
ratio = late / early
nearest_one = min(P.alphas, key=lambda a: abs(math.log(a)))

statistics = {
    "peak_alpha": float(late.idxmax()),
    "blowup_at_1": float(ratio[nearest_one]),
    "ratio_far_low": float(ratio[min(P.alphas)]),
    "ratio_far_high": float(ratio[max(P.alphas)]),
    "median_rel_err": float(rel_gap.median()),
    "rel_err_near_1": float(rel_gap[nearest_one]),
    "max_rel_err": float(rel_gap.max()),
    "late_at_last_step_near_1": float(sim_df[(sim_df.alpha == nearest_one) & (sim_df.t == P.steps)].E_g.median()),
}
peak = gu.all_of(
    gu.cond("peak_alpha", "between", (0.8, 1.25)),
    gu.cond("blowup_at_1", ">=", 2.0),
    gu.cond("ratio_far_low", "<=", 1.2),
    gu.cond("ratio_far_high", "<=", 1.2),
)
RULE = gu.rule(supported=peak, contradicted=gu.not_(peak),
               checks={"theory_matches_simulation": gu.cond("median_rel_err", "<=", 0.10),
                       "theory_matches_near_alpha_1": gu.cond("rel_err_near_1", "<=", 0.25)})
print(pd.DataFrame({"max rel. gap": rel_gap, "L (t = ∞)": late, "S (early-stopped)": early, "L/S": ratio}).round(3))

record = gu.report_verdict(
    chapter="overtraining_dynamics", params=P, rule=RULE, statistics=statistics,
    seeds=sorted(sim_df.seed.unique().tolist()),
    headline=["peak_alpha", "blowup_at_1", "ratio_far_low", "ratio_far_high"],
)

# %% [markdown]
# ### Rule history
#
# - **First rule** (study card 20, before the falsification convention): `supported` if the median
#   relative gap $\le 0.10$ *and* the peak held, with $L(\alpha)$ the mean error at the last simulated step;
#   `contradicted` if agreement held and the peak did not. Its `cpu` verdict was **supported** (median
#   relative error 0.027, peak at $\alpha$ = 1.1, $L/S$ at $\alpha$ = 1 of 3.95; 46.8 s).
# - **Why it changed** (review of the theory part): agreement with a theorem that is exact as
#   $N\to\infty$ is an instrument check, not evidence, so it moved to `checks`, where it can only make the
#   verdict inconclusive; the median over $\alpha$ hid a bad fit near $\alpha$ = 1, so that point is
#   checked on its own; and the late error at a fixed step count made the size of the blow-up a choice
#   of `steps` (the smoke profile could not reach $L/S \ge 2$), so $L$ is now the $t=\infty$ error.

# %% [markdown]
# ## Faithfulness notes
#
# - This is the paper's own linear teacher–student setting at smaller $N$. The theory is exact only as
#   $N\to\infty$: at $N = 300$ the smallest eigenvalues fluctuate from draw to draw, which matters most at
#   $\alpha = 1$ and late times, so gaps of a few percent are expected there.
# - Time is discrete (gradient descent with step $\eta$), so the theory uses $(1-\eta\lambda)^t$ instead
#   of the paper's continuous-time $e^{-\lambda t}$; the chapter refuses an $\eta$ with
#   $\eta\lambda_{\max} \ge 2$, where gradient descent diverges.
# - The theory's expectation is a quadrature over the Marchenko–Pastur density (`n_theory` points), not
#   the eigenvalues of one large sampled instance.
# - This repair (falsification convention): $L$ is the exact $t=\infty$ limit of each draw's gradient
#   descent (the least-squares solution nearest $w(0)$, by a pseudo-inverse), summarised by medians over
#   draws; theory–simulation agreement became an instrument check, gated also at $\alpha \approx 1$; the
#   falsification run removes the label noise.
# - Not tested: the paper's claim that small initial weights are needed to avoid overtraining (the
#   `init_sd` parameter is there to try it, no rule reads it).
# - Not reproduced: the paper's nonlinear and deep-linear networks and its analysis of their
#   effective dynamics; a reader must not conclude from this chapter that the same curves hold
#   quantitatively for nonlinear networks.
