# ---
# jupyter:
#   genbook:
#     claim: From one reference Adam run, a first- or second-order Taylor expansion
#       of the updates around the stored checkpoints estimates the final parameters
#       and test loss that other orders of the same batches would give, well enough
#       to rank the orders without retraining.
#     'null':
#       taylor_order: 0
#     null_reason: The estimate's power is its Taylor expansion around the reference
#       run; the zeroth order keeps no expansion and predicts the reference for every
#       order, so it should not pass.
#     paper: Yang, Li, Yang, Chen & Gong 2025, arXiv:2505.22042
#     part: dynamics
#     profiles:
#       gpu:
#         n_batches: 200
#         n_orders: 100
#         n_train: 20000
#         proj_dim: 2048
#         width: 128
#       smoke:
#         n_batches: 10
#         n_orders: 3
#         n_train: 400
#         proj_dim: 64
#         width: 16
#     title: Estimating the effect of the training order without retraining
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
# # Estimating the effects of sample training orders without retraining
#
# **Paper.** Hao Yang, Haoxuan Li, Mengyue Yang, Xu Chen and Mingming Gong, *Estimating the Effects of
# Sample Training Orders for Large Language Models without Retraining*, 2025
# ([arXiv:2505.22042](https://arxiv.org/abs/2505.22042)).
#
# **Claim under test.** Train once, on batches $B_0,\dots,B_{T-1}$ in a reference order, and keep the
# checkpoints $\theta_t$. For any other order $l_0,\dots,l_{T-1}$ of the same batches, a first- or
# second-order Taylor expansion of the Adam updates around the stored checkpoints (the paper's FUT
# framework, with random projections to make the storage affordable) estimates the parameters the
# other order would have produced, and hence its performance, well enough to rank orders and to study
# how the position of a sample in the stream affects how well it is memorised, without retraining.
#
# **The paper's evidence.** A 0.64B-parameter LLaMA-like model on WikiText-103: perplexities estimated
# by FUT track those of models actually retrained on other orders, the second-order expansion is closer
# than the first, and the estimator is then used to search curricula and to chart memorisation against
# position. The agreement numbers are in the paper's tables; we could not retrieve its full text
# offline, so we quote none here and compare only qualitatively.
#
# **What is scaled down.** MNIST-1D instead of WikiText-103, a tanh MLP of about 2,700 parameters
# (`cpu`) instead of 0.64B, one pass over $T = 40$ batches of 50 samples, and 20 random orders plus a
# reversed and a curriculum order, each of which we also retrain for real. The model is small enough
# that every Hessian-vector product the expansion needs is computed exactly.

# %%
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from scipy import stats as sps
from torch.func import grad, jvp, vmap

import genutils as gu

gu.set_theme()
torch.set_default_dtype(torch.float64)

# %% tags=["parameters"]
seed = 0  # base seed for data split, batches, initialization, orders and projection
n_train = 2000  # training samples, split into n_batches equal batches
n_test = 500  # test samples for the final test loss
n_batches = 40  # T, the number of Adam steps (one pass, one batch per step)
width = 32  # hidden units in each of the two tanh layers
lr = 0.001  # Adam learning rate (betas 0.9 and 0.999, eps 1e-8)
n_orders = 20  # random orders that are both estimated and retrained
proj_dim = 256  # dimension k of the random projection used for storage
taylor_order = 2  # the expansion order whose estimate the verdict reads (0 is the no-expansion baseline)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_train=gu.Int(min=20),
    n_test=gu.Int(min=10),
    n_batches=gu.Int(min=3),
    width=gu.Int(min=2),
    lr=gu.Float(gt=0, max=1),
    n_orders=gu.Int(min=3),
    proj_dim=gu.Int(min=1),
    taylor_order=gu.Int(min=0, max=2),
)
if P.n_train % P.n_batches:
    raise gu.ParameterError("n_train", f"must be a multiple of n_batches ({P.n_batches}), got {P.n_train}")
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
T, b = P.n_batches, P.n_train // P.n_batches
P

# %% [markdown]
# ## Data, model and batches
#
# MNIST-1D (generated offline): length-40 signals, ten classes. The training set is shuffled once and cut
# into $T$ fixed batches $B_0,\dots,B_{T-1}$; an *order* is a permutation $l$ of the batch indices, and
# training on it means one Adam step on $B_{l_t}$ at step $t$. The model is a two-hidden-layer tanh MLP
# written as a function of one flat parameter vector, so that gradients, Hessian-vector products and
# third-derivative terms are plain `torch.func` transforms. (Tanh rather than ReLU so that the second-order
# term is not zero almost everywhere.) Computations are in float64 so that the estimator's error is not
# confused with rounding.

# %%
g = torch.Generator().manual_seed(P.seed)
n_total = int(round((P.n_train + P.n_test) / 0.8))
x_tr, y_tr, x_te, y_te = gu.mnist1d(n_total, seed=P.seed)
x_tr, y_tr = x_tr[: P.n_train].double(), y_tr[: P.n_train]
x_te, y_te = x_te[: P.n_test].double(), y_te[: P.n_test]
perm = torch.randperm(P.n_train, generator=g)
XB, YB = x_tr[perm].reshape(T, b, -1), y_tr[perm].reshape(T, b)  # batch j is XB[j], YB[j]
sample_id = perm.reshape(T, b)  # which training sample sits in which batch

shapes = [(P.width, 40), (P.width,), (P.width, P.width), (P.width,), (10, P.width), (10,)]
sizes = [int(np.prod(s)) for s in shapes]
n_params = sum(sizes)


def forward(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2, w3, b3 = (p.reshape(s) for p, s in zip(theta.split(sizes), shapes))
    h = torch.tanh(x @ w1.T + b1)
    h = torch.tanh(h @ w2.T + b2)
    return h @ w3.T + b3


def batch_loss(theta, x, y):
    return F.cross_entropy(forward(theta, x), y)


def init_params() -> torch.Tensor:
    """PyTorch's default Linear initialization: uniform in ±1/sqrt(fan_in) for weights and biases."""
    parts = []
    for w_shape, b_shape in zip(shapes[::2], shapes[1::2]):
        bound = 1 / np.sqrt(w_shape[1])
        parts += [(torch.rand(s, generator=g) * 2 - 1) * bound for s in (w_shape, b_shape)]
    return torch.cat([p.flatten() for p in parts])


theta0 = init_params()
grad_fn = grad(batch_loss)
print(f"{n_params} parameters, {T} batches of {b}, {P.n_test} test samples")

# %% [markdown]
# ## Orders
#
# Order 0 is the reference $0,1,\dots,T-1$. The others: the reversed order, a curriculum order (batches
# sorted from easy to hard by their loss at initialization), and `n_orders` uniformly random
# permutations. All of them are retrained for real; all but the reference are also estimated.

# %%
init_difficulty = torch.stack([batch_loss(theta0, XB[j], YB[j]) for j in range(T)])
orders = [torch.arange(T), torch.arange(T).flip(0), torch.argsort(init_difficulty)]
orders += [torch.randperm(T, generator=g) for _ in range(P.n_orders)]
ORD = torch.stack(orders)  # (K, T): ORD[k, t] is the batch used at step t by order k
kind = ["reference", "reversed", "curriculum"] + ["random"] * P.n_orders
K = len(orders)

# %% [markdown]
# ## Ground truth: Adam on every order
#
# Adam with bias correction, written out: $m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t$,
# $v_{t+1} = \beta_2 v_t + (1-\beta_2) g_t^2$, and
# $\theta_{t+1} = \theta_t - \eta\,\Gamma_t$ with the update direction
# $\Gamma_t = \hat m_{t+1}/(\sqrt{\hat v_{t+1}} + \epsilon)$, $\hat m = m/(1-\beta_1^{t+1})$,
# $\hat v = v/(1-\beta_2^{t+1})$. All $K$ orders are trained at once (`vmap` over orders), from the
# same $\theta_0$, keeping every iterate.

# %%
def adam_direction(m, v, g_t, t):
    m = BETA1 * m + (1 - BETA1) * g_t
    v = BETA2 * v + (1 - BETA2) * g_t**2
    m_hat, v_hat = m / (1 - BETA1 ** (t + 1)), v / (1 - BETA2 ** (t + 1))
    return m, v, m_hat / (v_hat.sqrt() + EPS)


def retrain(order: torch.Tensor) -> torch.Tensor:
    """Adam on every order in `order` (K, T); returns the trajectories (T + 1, K, p)."""
    k = order.shape[0]
    theta, m, v = theta0.expand(k, -1).clone(), torch.zeros(k, n_params), torch.zeros(k, n_params)
    traj = [theta]
    for t in gu.progress(range(T), desc="retrain"):
        gt = vmap(grad_fn)(theta, XB[order[:, t]], YB[order[:, t]])
        m, v, direction = adam_direction(m, v, gt, t)
        theta = theta - P.lr * direction
        traj.append(theta)
    return torch.stack(traj)


t0 = time.perf_counter()
true_traj = retrain(ORD)
retrain_seconds = time.perf_counter() - t0
ref = true_traj[:, 0]  # the stored reference checkpoints θ_0 … θ_T
print(f"retraining {K} orders: {retrain_seconds:.2f} s")

# %% [markdown]
# ## The estimator (FUT)
#
# Write $\gamma_t$ for the estimated parameters under the new order and $\delta_t = \gamma_t - \theta_t$
# for their distance from the reference checkpoint of the same step. The Adam update direction is a
# function of the parameters through the gradients it accumulates; FUT expands it around the stored
# checkpoint. We expand each gradient the new run would compute,
#
# $$\nabla L(\gamma_t; B_{l_t}) \approx \nabla L(\theta_t; B_{l_t}) + H(\theta_t; B_{l_t})\,\delta_t
#   \;\Big[+\; \tfrac12\,\nabla^3 L(\theta_t; B_{l_t})[\delta_t, \delta_t]\Big],$$
#
# (first order; bracket added for second order) and push the expanded gradients through Adam's moment
# recursion above, so the moments $m, v$ of the new order are carried along exactly as Adam would
# (they are cheap, elementwise), and $\gamma_{t+1} = \gamma_t - \eta\,\Gamma_t$. Everything on the right
# is evaluated at the stored reference checkpoint $\theta_t$ — nothing is ever evaluated at the new
# parameters $\gamma_t$, which is what makes the estimate retraining-free: the gradient, Hessian and
# third-derivative terms of each (checkpoint, batch) pair can be stored once and reused for every order.
# The *zeroth-order* variant (stored gradients only, $\delta_t$ ignored) is a baseline: if the Taylor
# terms did not help, the estimator would be no better than it.
#
# **Random projection.** Storing $H(\theta_t;B_j)$ is $p\times p$ per pair. FUT stores Johnson–Lindenstrauss
# projections instead: with $S\in\mathbb R^{k\times p}$, entries $\mathcal N(0, 1/k)$ (so
# $\mathbb E\,S^\top S = I$), one stores the $p\times k$ sketch $H S^\top$ and applies
# $H\delta \approx (H S^\top)(S\delta)$. Computationally that is one Hessian-vector product in the
# direction $S^\top S\delta$, which is how we evaluate it; we report the first-order estimator with this
# storage at $k =$ `proj_dim` next to exact storage.

# %%
def taylor_grad(theta_t, x, y, delta, order: int):
    g_of = lambda th: grad_fn(th, x, y)  # noqa: E731
    if order == 0:
        return g_of(theta_t)
    if order == 1:
        g0, h_delta = jvp(g_of, (theta_t,), (delta,))
        return g0 + h_delta
    hvp_at = lambda th: jvp(g_of, (th,), (delta,))  # noqa: E731  returns (g, H delta)
    (g0, h_delta), (_, third) = jvp(hvp_at, (theta_t,), (delta,))
    return g0 + h_delta + 0.5 * third


S = torch.randn(P.proj_dim, n_params, generator=g) / np.sqrt(P.proj_dim)


def estimate(order: torch.Tensor, taylor_order: int, project: bool = False) -> torch.Tensor:
    """FUT estimate of the trajectories (T + 1, K, p) for the orders (K, T), from the reference checkpoints."""
    k = order.shape[0]
    gamma, m, v = theta0.expand(k, -1).clone(), torch.zeros(k, n_params), torch.zeros(k, n_params)
    traj = [gamma]
    step = vmap(taylor_grad, in_dims=(None, 0, 0, 0, None))
    for t in gu.progress(range(T), desc=f"FUT order {taylor_order}"):
        delta = gamma - ref[t]
        if project:
            delta = (delta @ S.T) @ S
        gt = step(ref[t], XB[order[:, t]], YB[order[:, t]], delta, taylor_order)
        m, v, direction = adam_direction(m, v, gt, t)
        gamma = gamma - P.lr * direction
        traj.append(gamma)
    return torch.stack(traj)


variants = {"zeroth order": (0, False), "first order": (1, False), "second order": (2, False),
            f"first order, projected k={P.proj_dim}": (1, True)}
est_traj, est_seconds = {}, {}
for name, (o, proj) in variants.items():
    t0 = time.perf_counter()
    est_traj[name] = estimate(ORD, o, proj)
    est_seconds[name] = time.perf_counter() - t0
print({k: f"{s:.2f} s" for k, s in est_seconds.items()})

# %% [markdown]
# ## Measurements
#
# For each order: final test loss of the retrained model and of each estimate, and the relative parameter
# error $\lVert\gamma_t - \theta'_t\rVert / \lVert\theta'_t - \theta_t\rVert$, the error of the estimate
# measured against how far the true run $\theta'$ moved away from the reference $\theta$ (1 would mean the
# estimate is as far off as simply answering "the reference"). The reference order itself is excluded.

# %%
test_loss = lambda th: vmap(batch_loss, in_dims=(0, None, None))(th, x_te, y_te)  # noqa: E731
others = torch.arange(1, K)
rows = []
for k in others.tolist():
    rows.append({"order": k, "kind": kind[k], "estimator": "retrained (true)",
                 "test loss": float(test_loss(true_traj[-1, k : k + 1])[0]), "rel. error": 0.0})
spread = (true_traj[:, others] - ref[:, None]).norm(dim=-1)  # (T + 1, K - 1)
rel_err = {}
for name, tr in est_traj.items():
    rel_err[name] = ((tr[:, others] - true_traj[:, others]).norm(dim=-1) / spread.clamp(min=1e-30)).numpy()
    losses = test_loss(tr[-1, others])
    for i, k in enumerate(others.tolist()):
        rows.append({"order": k, "kind": kind[k], "estimator": name, "test loss": float(losses[i]),
                     "rel. error": float(rel_err[name][-1, i])})
res = pd.DataFrame(rows)
wide = res.pivot(index="order", columns="estimator", values="test loss")
ref_test = float(test_loss(ref[-1:])[0])
print(f"reference final test loss {ref_test:.4f}; true test loss across orders: "
      f"range {wide['retrained (true)'].min():.4f}–{wide['retrained (true)'].max():.4f}")
summary = res[res.estimator != "retrained (true)"].groupby("estimator").agg(
    median_rel_error=("rel. error", "median"), max_rel_error=("rel. error", "max"))
summary["spearman"] = [sps.spearmanr(wide[e], wide["retrained (true)"])[0] for e in summary.index]
summary["pearson"] = [sps.pearsonr(wide[e], wide["retrained (true)"])[0] for e in summary.index]
summary["seconds per order"] = [est_seconds[e] / K for e in summary.index]
print(f"retraining: {retrain_seconds / K:.4f} s per order")
summary.round(4)

# %% [markdown]
# ## Results
#
# **Figure 1.** Estimated against true final test loss, one point per order, for the first- and
# second-order estimators (the diagonal is perfect agreement). Look for the points lying along the
# diagonal *across the spread of true losses*: agreement on the ranking, not only on the overall level.

# %%
long = wide.reset_index().melt(id_vars=["order", "retrained (true)"],
                               value_vars=["first order", "second order"], var_name="estimator",
                               value_name="estimated test loss")
fig, ax = gu.subplots(width=6, height=5)
sns.scatterplot(data=long, x="retrained (true)", y="estimated test loss", hue="estimator", style="estimator",
                s=50, alpha=0.8, ax=ax)
lo = min(long["retrained (true)"].min(), long["estimated test loss"].min())
hi = max(long["retrained (true)"].max(), long["estimated test loss"].max())
ax.plot([lo, hi], [lo, hi], color="grey", linestyle=":", linewidth=1)
gu.label(ax, "true final test loss (retrained on the order)", "FUT-estimated final test loss",
         "One point per training order")

# %% [markdown]
# **Figure 2.** Relative parameter error along training, $\lVert\gamma_t-\theta'_t\rVert/\lVert\theta'_t-\theta_t\rVert$,
# median over orders with the interquartile band, for every estimator, from step 2 (after the first step
# every estimate is exact, since $\delta_0 = 0$). Look for the Taylor estimators
# staying well below 1 (the zeroth-order baseline) and the second-order curve below the first.

# %%
err_rows = [{"step": t, "estimator": name, "relative error": float(e[t, i])}
            for name, e in rel_err.items() for t in range(2, T + 1) for i in range(len(others))]
err_df = pd.DataFrame(err_rows)
fig, ax = gu.subplots(width=7.5, height=4.5)
sns.lineplot(data=err_df, x="step", y="relative error", hue="estimator", estimator="median",
             errorbar=("pi", 50), ax=ax)
ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
ax.set(yscale="log")
gu.label(ax, "Adam step t", "‖γ_t − θ'_t‖ / ‖θ'_t − θ_t‖ (log scale)", "Estimation error along training")

# %% [markdown]
# ## The paper's use: position against memorisation
#
# For every order, the final training loss of each batch's samples against the step at which the batch
# was seen, true and estimated (second order). Batches differ in difficulty far more than positions
# differ in effect, so we centre: a batch's *memorisation score* under an order is its mean final loss
# under that order minus its mean over all the random orders (negative = better memorised than usual).
# Averaged over the random orders, this isolates the effect of position. A curve rising with position means
# batches seen early end up fitted better (primacy, e.g. from Adam's large bias-corrected first steps); a
# falling one means recency. The statistic `position_slope_true` is the slope of the true curve. Look for
# the estimated curve following the true one, including its shape, not only its level.

# %%
per_sample = vmap(lambda th, x, y: F.cross_entropy(forward(th, x), y, reduction="none"),
                  in_dims=(0, None, None))
random_orders = torch.tensor([k for k in range(K) if kind[k] == "random"])
pos_rows = []
for label, final in [("retrained (true)", true_traj[-1, random_orders]),
                     ("second order (estimated)", est_traj["second order"][-1, random_orders])]:
    losses = per_sample(final, XB.reshape(P.n_train, -1), YB.reshape(-1)).reshape(-1, T, b)  # (orders, batch, b)
    for i, k in enumerate(random_orders.tolist()):
        position = torch.argsort(ORD[k])  # position[j] is the step at which batch j was used
        for j in range(T):
            pos_rows.append({"curve": label, "order": k, "batch": j, "position": int(position[j]),
                             "loss": float(losses[i, j].mean())})
pos = pd.DataFrame(pos_rows)
pos["loss"] -= pos.groupby(["curve", "batch"]).loss.transform("mean")
fig, ax = gu.subplots(width=7.5, height=4.5)
sns.lineplot(data=pos, x="position", y="loss", hue="curve", style="curve", markers=True, errorbar="se", ax=ax)
ax.axhline(0.0, color="grey", linestyle=":", linewidth=1)
gu.label(ax, "step at which the batch was seen", "final loss minus the batch's mean over orders",
         "Memorisation by position (random orders)")
curve = pos.groupby(["curve", "position"]).loss.mean().unstack(0)

# %% [markdown]
# ## Verdict
#
# The rule was fixed before running (study card 06), on the random, reversed and curriculum orders:
#
# - **estimation**: Spearman correlation between the second-order estimated and the true final test loss
#   across orders ≥ 0.7, and the median final relative parameter error of the second-order estimator ≤ 0.5;
# - `supported` when estimation holds; `contradicted` when that Spearman correlation is below 0.3 (the
#   estimates do not rank the orders); `inconclusive` otherwise.
#
# Reported beside the rule, not in it: whether the second order beats the first (median relative error),
# the first-order, zeroth-order and projected estimators, and the agreement of the memorisation curves.
# Wall-clock costs are printed above but kept out of the record, since they are not reproducible numbers.

# %%
statistics = {
    "spearman_second": float(summary.loc["second order", "spearman"]),
    "pearson_second": float(summary.loc["second order", "pearson"]),
    "median_rel_err_second": float(summary.loc["second order", "median_rel_error"]),
    "spearman_first": float(summary.loc["first order", "spearman"]),
    "median_rel_err_first": float(summary.loc["first order", "median_rel_error"]),
    "median_rel_err_zeroth": float(summary.loc["zeroth order", "median_rel_error"]),
    "spearman_zeroth": float(summary.loc["zeroth order", "spearman"]),
    "median_rel_err_projected": float(summary.loc[f"first order, projected k={P.proj_dim}", "median_rel_error"]),
    "spearman_projected": float(summary.loc[f"first order, projected k={P.proj_dim}", "spearman"]),
    "second_minus_first_rel_err": float(summary.loc["second order", "median_rel_error"]
                                        - summary.loc["first order", "median_rel_error"]),
    "true_test_loss_spread": float(wide["retrained (true)"].max() - wide["retrained (true)"].min()),
    "position_curve_pearson": float(sps.pearsonr(curve["retrained (true)"], curve["second order (estimated)"])[0]),
    "position_slope_true": float(np.polyfit(curve.index, curve["retrained (true)"], 1)[0]),
}
deciding = {0: "zeroth order", 1: "first order", 2: "second order"}[P.taylor_order]
statistics["spearman_deciding"] = float(summary.loc[deciding, "spearman"])
statistics["median_rel_err_deciding"] = float(summary.loc[deciding, "median_rel_error"])
RULE = gu.rule(
    supported=gu.all_of(gu.cond("spearman_deciding", ">=", 0.7), gu.cond("median_rel_err_deciding", "<=", 0.5)),
    contradicted=gu.any_of(gu.cond("spearman_deciding", "<", 0.3), gu.cond("median_rel_err_deciding", ">=", 1.0)),
)
record = gu.report_verdict(
    chapter="training_order", params=P, rule=RULE, statistics=statistics, seeds=[P.seed],
    headline=["spearman_deciding", "median_rel_err_deciding", "median_rel_err_first", "median_rel_err_projected"],
)

# %% [markdown]
# ## Faithfulness notes
#
# - **Falsification run (stopgap, issue "dynamics repaired" still open for this chapter).** The verdict
#   reads the estimator of order `taylor_order` (2 by default); the falsification run reads the
#   zeroth-order estimator, the chapter's own baseline. The rule also contradicts when the deciding
#   estimator is no closer than the reference run (median relative error ≥ 1). If the falsification
#   run is `supported` too, the scoreboard marks the chapter not falsifiable: the zeroth-order baseline
#   here still runs Adam's moments on the new order, which is the review's point that this estimator is
#   easier than the paper's. Implementing the paper's estimator is left for the chapter's repair.
# - **Adam's state.** The card's formula expands the update direction $\Gamma$ as a whole. We expand the
#   *gradients* (to first or second order) around the stored checkpoint and run Adam's moment recursion
#   and normalisation on the expanded gradients exactly. The only approximation is then the Taylor
#   expansion of the loss gradient, which is what the paper's expansion of the update rests on; the
#   elementwise Adam arithmetic costs nothing to carry exactly. We could not retrieve the paper's full text
#   or code offline to check its exact bookkeeping of the moments.
# - **Expansion point.** The expansion is around the reference checkpoint of the *same step*, $\theta_t$,
#   evaluated on the batch the new order uses at that step; this needs the gradient and curvature of every
#   batch at every checkpoint ($T^2$ pairs), stored once for all orders. At this size we evaluate them on the
#   fly from the stored checkpoints instead of storing them, which gives the same numbers.
# - **Random projection.** Implemented as a Johnson–Lindenstrauss sketch of the Hessian term,
#   $H\delta\approx(HS^\top)(S\delta)$, for the first-order estimator only, and reported beside the verdict.
#   With $k$ well below $p$ this reconstruction of $\delta$ is noisy (its relative error is about
#   $\sqrt{p/k}$), so it measures the cost of this particular storage, not necessarily of the paper's.
# - **Cost.** In the miniature both retraining and estimation are vectorised over orders and the estimate
#   needs a Hessian-vector product per step, so estimating is *not* cheaper than retraining here; the
#   paper's saving comes from reusing stored terms at LLM scale, which this chapter does not reproduce.
# - **Scale.** A model about 200,000 times smaller, one pass over few batches with the card's learning rate
#   $10^{-3}$, so the orders move the parameters only a little from the reference; the test is whether the
#   estimator resolves these small differences, which is the hard part of ranking orders. The paper's
#   curriculum search is reduced to ranking the candidate orders (including one curriculum order).
# - **Small effects.** With one pass at $\eta = 10^{-3}$ the test loss only falls from about 2.30 to about
#   2.10 and the orders spread the final test loss over a range printed above (about 0.01 at `cpu`); the
#   verdict tests ranking *within* that spread, and the relative parameter error is measured against the
#   distance between orders, so neither is flattered by the small scale. In this regime the Taylor
#   expansion is expected to be accurate; a larger learning rate or several epochs would be a harder test
#   that the card does not ask for.
# - **Memorisation score.** The card asks for the final per-sample loss against position; raw losses are
#   dominated by batch difficulty at this number of orders, so Figure 3 centres each batch on its mean
#   over orders. Only that figure and two reported statistics use the centring; the verdict does not.
