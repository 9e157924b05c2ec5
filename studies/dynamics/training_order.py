# ---
# jupyter:
#   genbook:
#     claim: From one reference Adam run, a first- or second-order Taylor expansion
#       of the Adam update term around the stored reference checkpoints estimates the
#       final parameters and test loss that other orders of the same batches would give,
#       better than the zeroth-order estimate without the expansion, and well enough
#       to rank the orders without retraining.
#     'null':
#       taylor_order: 0
#     null_reason: The paper credits the Taylor expansion around the reference run;
#       at taylor_order 0 the deciding estimate is the zeroth-order one, the stored
#       update terms summed in the new order with no expansion, so it cannot beat the
#       zeroth-order baseline and the verdict must not be supported.
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
#         n_orders: 10
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
# checkpoints $\theta_t$. Write Adam's step as $\theta_{t+1} = \theta_t - \eta\,\Gamma(\theta_t, B_t)$, with
# $\Gamma$ the *update term*. For any other order $l_0,\dots,l_{T-1}$ of the same batches, the paper (its
# framework FUT) estimates the parameters $\gamma_t$ of the new run by expanding the update term around the
# stored reference checkpoint of the same step,
#
# $$\Gamma(\gamma_t, B_{l_t}) \approx \Gamma(\theta_t, B_{l_t}) + (\gamma_t - \theta_t)\,\nabla_\theta\Gamma(\theta_t, B_{l_t})
#   \;\Big[+\;\tfrac12 (\gamma_t-\theta_t)^\top\nabla^2_\theta\Gamma(\theta_t, B_{l_t})(\gamma_t-\theta_t)\Big],$$
#
# (its Eq. 3, first order; the bracket is the second-order variant), $\gamma_{t+1} = \gamma_t - \eta\,\Gamma(\gamma_t, B_{l_t})$,
# with the terms of all $T^2$ (checkpoint, batch) pairs computed once and stored through random projections.
# The claim: this estimates the parameters, and hence the performance, of arbitrary orders well enough to
# rank them and to study how a sample's position affects its memorisation, without retraining.
# What we test is the part the paper credits to the expansion: **the Taylor-expanded estimate must beat the
# zeroth-order estimate** (the same stored update terms, summed in the new order, without the expansion),
# both in parameter error and in how well it ranks the orders.
#
# **The paper's evidence.** A 0.64B-parameter LLaMA-like model on WikiText-103: perplexities estimated by
# FUT against those of models retrained on other orders, first against second order, then a curriculum
# search and a chart of memorisation against position. The equation above is quoted from the paper's
# method section as summarised in public reviews of arXiv:2505.22042v1; the agreement *numbers* we could
# not find: the stored copy of the arXiv HTML full text we can search holds only its opening (abstract and
# the start of the introduction), and the summaries we found (themoonlight.io, sciencestack.ai,
# tomesphere.com) state that FUT "closely reproduces retraining outcomes" without numbers. So we quote none
# and compare only with the paper's qualitative claim.
#
# **What is scaled down.** MNIST-1D instead of WikiText-103, a tanh MLP of about 2,800 parameters
# (`cpu`) instead of 0.64B, one pass over $T = 40$ batches of 50 samples, and 20 random orders plus a
# reversed and a curriculum order, each of which we also retrain for real. The model is small enough that
# every derivative the expansion needs is computed exactly, by Jacobian-vector products.

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
gu.configure_threads()
torch.set_default_dtype(torch.float64)
device = gu.device()

# %% tags=["parameters"]
seed = 0  # base seed for data split, batches, initialization, orders and projection
n_train = 2000  # training samples, split into n_batches equal batches
n_test = 500  # test samples for the final test loss
n_batches = 40  # T, the number of Adam steps (one pass, one batch per step)
width = 32  # hidden units in each of the two tanh layers
lr = 0.001  # Adam learning rate (betas 0.9 and 0.999, eps 1e-8)
n_orders = 20  # random orders that are both estimated and retrained (plus a reversed and a curriculum order)
proj_dim = 256  # dimension k of the random projection used for storage
taylor_order = 2  # order of the paper's expansion that the verdict reads (0 is the zeroth-order baseline itself)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_train=gu.Int(min=20),
    n_test=gu.Int(min=10),
    n_batches=gu.Int(min=3),
    width=gu.Int(min=2),
    lr=gu.Float(gt=0, max=1),
    n_orders=gu.Int(min=8),
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
# written as a function of one flat parameter vector, so that gradients and their first and second
# directional derivatives are plain `torch.func` transforms. (Tanh rather than ReLU so that second
# derivatives are not zero almost everywhere.) Computations are in float64 so that the estimator's error
# is not confused with rounding.

# %%
g = torch.Generator().manual_seed(P.seed)
n_total = int(round((P.n_train + P.n_test) / 0.8))
x_tr, y_tr, x_te, y_te = gu.mnist1d(n_total, seed=P.seed)
x_tr, y_tr = x_tr[: P.n_train].double(), y_tr[: P.n_train]
x_te, y_te = x_te[: P.n_test].double().to(device), y_te[: P.n_test].to(device)
perm = torch.randperm(P.n_train, generator=g)
XB = x_tr[perm].reshape(T, b, -1).to(device)  # batch j is XB[j], YB[j]
YB = y_tr[perm].reshape(T, b).to(device)

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
    return torch.cat([p.flatten() for p in parts]).to(device)


theta0 = init_params()
grad_fn = grad(batch_loss)
print(f"{n_params} parameters, {T} batches of {b}, {P.n_test} test samples, device {device}")

# %% [markdown]
# ## Orders
#
# Order 0 is the reference $0,1,\dots,T-1$. The others: the reversed order, a curriculum order (batches
# sorted from easy to hard by their loss at initialization), and `n_orders` uniformly random
# permutations. All of them are retrained for real; all are estimated, and all but the reference are
# scored (at least 10, so that a rank correlation over them means something).

# %%
init_difficulty = torch.stack([batch_loss(theta0, XB[j], YB[j]) for j in range(T)]).cpu()
orders = [torch.arange(T), torch.arange(T).flip(0), torch.argsort(init_difficulty)]
orders += [torch.randperm(T, generator=g) for _ in range(P.n_orders)]
ORD = torch.stack(orders).to(device)  # (K, T): ORD[k, t] is the batch used at step t by order k
kind = ["reference", "reversed", "curriculum"] + ["random"] * P.n_orders
K = len(orders)

# %% [markdown]
# ## Ground truth: Adam on every order
#
# Adam with bias correction, written out: $m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t$,
# $v_{t+1} = \beta_2 v_t + (1-\beta_2) g_t^2$, and $\theta_{t+1} = \theta_t - \eta\,\Gamma_t$ with the update
# term $\Gamma_t = \hat m_{t+1}/(\sqrt{\hat v_{t+1}} + \epsilon)$, $\hat m = m/(1-\beta_1^{t+1})$,
# $\hat v = v/(1-\beta_2^{t+1})$. All $K$ orders are trained at once (`vmap` over orders), from the same
# $\theta_0$, keeping every iterate. Of the reference run we also keep Adam's moments $m_t, v_t$ at every
# checkpoint: they are part of its stored state.

# %%
def adam_direction(m, v, g_t, t):
    m = BETA1 * m + (1 - BETA1) * g_t
    v = BETA2 * v + (1 - BETA2) * g_t**2
    m_hat, v_hat = m / (1 - BETA1 ** (t + 1)), v / (1 - BETA2 ** (t + 1))
    return m, v, m_hat / (v_hat.sqrt() + EPS)


def retrain(order: torch.Tensor):
    """Adam on every order in `order` (K, T); the trajectories (T + 1, K, p) and the moments of order 0."""
    k = order.shape[0]
    theta, m, v = theta0.expand(k, -1).clone(), torch.zeros(k, n_params), torch.zeros(k, n_params)
    m, v = m.to(device), v.to(device)
    traj, m0, v0 = [theta], [m[0]], [v[0]]
    for t in gu.progress(range(T), desc="retrain"):
        gt = vmap(grad_fn)(theta, XB[order[:, t]], YB[order[:, t]])
        m, v, direction = adam_direction(m, v, gt, t)
        theta = theta - P.lr * direction
        traj.append(theta)
        m0.append(m[0])
        v0.append(v[0])
    return torch.stack(traj), torch.stack(m0), torch.stack(v0)


t0 = time.perf_counter()
true_traj, m_ref, v_ref = retrain(ORD)
retrain_seconds = time.perf_counter() - t0
ref = true_traj[:, 0]  # the stored reference checkpoints θ_0 … θ_T (m_ref, v_ref: its Adam state before each step)
print(f"retraining {K} orders: {retrain_seconds:.2f} s")

# %% [markdown]
# ## The paper's estimator (FUT)
#
# Everything the estimator may use comes from the reference run: its checkpoints $\theta_t$ and its Adam
# state $(m_t, v_t)$ before step $t$. The update term of batch $B$ at checkpoint $t$ is the Adam step the
# reference run would have taken on $B$ from its own state,
#
# $$\Gamma_t(\theta, B) = \frac{\hat m}{\sqrt{\hat v}+\epsilon},\qquad
#   m = \beta_1 m_t + (1-\beta_1)\nabla L(\theta;B),\quad v = \beta_2 v_t + (1-\beta_2)\nabla L(\theta;B)^2,$$
#
# a function of the parameters $\theta$ (through the gradient) with the reference state held fixed; this is
# what makes the $T^2$ terms $\Gamma_t(\theta_t, B_j)$, $\nabla_\theta\Gamma_t(\theta_t, B_j)$ storable once for every
# order. The estimate for order $l$ starts at $\gamma_0 = \theta_0$ and steps
# $\gamma_{t+1} = \gamma_t - \eta\,[\text{Taylor expansion of } \Gamma_t(\cdot, B_{l_t}) \text{ around } \theta_t \text{ at } \gamma_t]$,
# of order 0, 1 or 2 in $\delta_t = \gamma_t - \theta_t$. The expansion is of the *whole* update term,
# Adam's normalisation included; the moments of the new order are never formed. At order 0 the estimate is
# the **zeroth-order baseline**: the stored update terms $\Gamma_t(\theta_t, B_{l_t})$ summed in the new order,
# with no account of how far the new run has moved from the reference. If the expansion is what makes FUT
# work, orders 1 and 2 must beat it.
#
# **Random projection.** Storing $\nabla_\theta\Gamma_t(\theta_t, B_j)$ is $p\times p$ per pair. FUT stores
# Johnson–Lindenstrauss projections instead: with $S\in\mathbb R^{k\times p}$, entries $\mathcal N(0, 1/k)$ (so
# $\mathbb E\,S^\top S = I$), one stores the $p\times k$ sketch $J S^\top$ and applies
# $J\delta \approx (J S^\top)(S\delta)$, computed here as one Jacobian-vector product in the direction $S^\top S\delta$.
# We report the first-order estimator with this storage at $k=$ `proj_dim` next to exact storage.
#
# **A second arm (reported, not in the verdict): gradient expansion with Adam run on the new order.** The
# chapter's earlier estimator expands only the *gradient*,
# $\nabla L(\gamma_t;B_{l_t}) \approx \nabla L(\theta_t;B_{l_t}) + H(\theta_t;B_{l_t})\,\delta_t$, and runs Adam's moment
# recursion exactly on the expanded gradients of the new order. It needs the same stored quantities but
# carries the new order's own optimizer state, an easier task than the paper's; we keep it at orders 0 and 1
# to show how much of the order effect that bookkeeping captures alone.

# %%
def taylor(f, at, delta, order: int):
    """f(at + delta) expanded around `at` to the given order, by Jacobian-vector products."""
    if order == 0:
        return f(at)
    if order == 1:
        value, first = jvp(f, (at,), (delta,))
        return value + first
    (value, first), (_, second) = jvp(lambda th: jvp(f, (th,), (delta,)), (at,), (delta,))
    return value + first + 0.5 * second


def fut_update(theta_t, x, y, m_t, v_t, delta, t: int, order: int):
    """The paper's expanded update term: Γ_t(·, B) around the reference checkpoint, reference Adam state."""
    return taylor(lambda th: adam_direction(m_t, v_t, grad_fn(th, x, y), t)[2], theta_t, delta, order)


def grad_expanded(theta_t, x, y, delta, order: int):
    """The second arm's expanded gradient around the reference checkpoint."""
    return taylor(lambda th: grad_fn(th, x, y), theta_t, delta, order)


S = (torch.randn(P.proj_dim, n_params, generator=g) / np.sqrt(P.proj_dim)).to(device)
fut_step = vmap(fut_update, in_dims=(None, 0, 0, None, None, 0, None, None))
grad_step = vmap(grad_expanded, in_dims=(None, 0, 0, 0, None))


def estimate(arm: str, order: int, project: bool = False):
    """Estimate every order's run from the reference; final parameters (K, p) and error ‖γ_t − θ'_t‖ (T + 1, K)."""
    gamma = theta0.expand(K, -1).clone()
    m, v = torch.zeros(K, n_params, device=device), torch.zeros(K, n_params, device=device)
    err = [torch.zeros(K, device=device)]
    for t in gu.progress(range(T), desc=f"{arm} order {order}"):
        delta = gamma - ref[t]
        if project:
            delta = (delta @ S.T) @ S
        x, y = XB[ORD[:, t]], YB[ORD[:, t]]
        if arm == "FUT":
            update = fut_step(ref[t], x, y, m_ref[t], v_ref[t], delta, t, order)
        else:
            m, v, update = adam_direction(m, v, grad_step(ref[t], x, y, delta, order), t)
        gamma = gamma - P.lr * update
        err.append((gamma - true_traj[t + 1]).norm(dim=-1))
    return gamma, torch.stack(err)


variants = {"FUT, order 0 (baseline)": ("FUT", 0, False), "FUT, order 1": ("FUT", 1, False),
            "FUT, order 2": ("FUT", 2, False), f"FUT, order 1, projected k={P.proj_dim}": ("FUT", 1, True),
            "gradient-expanded, order 0": ("grad", 0, False), "gradient-expanded, order 1": ("grad", 1, False)}
final, abs_err, est_seconds = {}, {}, {}
for name, (arm, o, proj) in variants.items():
    t0 = time.perf_counter()
    final[name], abs_err[name] = estimate(arm, o, proj)
    est_seconds[name] = time.perf_counter() - t0
print({k: f"{s:.2f} s" for k, s in est_seconds.items()})
BASELINE = "FUT, order 0 (baseline)"
DECIDING = {0: BASELINE, 1: "FUT, order 1", 2: "FUT, order 2"}[P.taylor_order]

# %% [markdown]
# ## Measurements
#
# For each order: final test loss of the retrained model and of each estimate, and the relative parameter
# error $\lVert\gamma_t - \theta'_t\rVert / \lVert\theta'_t - \theta_t\rVert$: the error of the estimate measured
# against how far the true run $\theta'$ moved away from the reference $\theta$ (1 is as far off as simply
# answering "the reference"). The reference order itself is not scored (the estimate of it is exact by
# construction, which we check).

# %%
test_loss = lambda th: vmap(batch_loss, in_dims=(0, None, None))(th, x_te, y_te)  # noqa: E731
others = torch.arange(1, K, device=device)
spread = (true_traj[:, others] - ref[:, None]).norm(dim=-1)  # (T + 1, K - 1)
rows = [{"order": int(k), "kind": kind[int(k)], "estimator": "retrained (true)", "test loss": float(loss),
         "rel. error": 0.0} for k, loss in zip(others.tolist(), test_loss(true_traj[-1, others]).tolist())]
rel_err = {}
for name in variants:
    rel_err[name] = (abs_err[name][:, others] / spread.clamp(min=1e-30)).cpu().numpy()
    losses = test_loss(final[name][others]).tolist()
    rows += [{"order": int(k), "kind": kind[int(k)], "estimator": name, "test loss": losses[i],
              "rel. error": float(rel_err[name][-1, i])} for i, k in enumerate(others.tolist())]
res = pd.DataFrame(rows)
wide = res.pivot(index="order", columns="estimator", values="test loss")
ref_test = float(test_loss(ref[-1:])[0])
print(f"reference final test loss {ref_test:.4f}; true test loss across orders: "
      f"range {wide['retrained (true)'].min():.4f}–{wide['retrained (true)'].max():.4f}")
summary = res[res.estimator != "retrained (true)"].groupby("estimator").agg(
    median_rel_error=("rel. error", "median"), mean_rel_error=("rel. error", "mean"),
    max_rel_error=("rel. error", "max"))
summary["spearman"] = [sps.spearmanr(wide[e], wide["retrained (true)"])[0] for e in summary.index]
summary["pearson"] = [sps.pearsonr(wide[e], wide["retrained (true)"])[0] for e in summary.index]
summary["seconds per order"] = [est_seconds[e] / K for e in summary.index]
print(f"retraining: {retrain_seconds / K:.4f} s per order")
summary.loc[list(variants)].round(4)

# %% [markdown]
# ## Results
#
# **Figure 1.** Estimated against true final test loss, one point per order, for the paper's estimator at
# orders 0, 1 and 2 and for the gradient-expanded arm at order 1 (the dotted diagonal is perfect agreement).
# Look for the expanded estimates lying along the diagonal *across the spread of true losses*, and for them
# doing so better than the zeroth-order baseline: agreement on the ranking, not only on the overall level.

# %%
shown = [BASELINE, "FUT, order 1", "FUT, order 2", "gradient-expanded, order 1"]
long = wide.reset_index().melt(id_vars=["order", "retrained (true)"], value_vars=shown, var_name="estimator",
                               value_name="estimated test loss")
fig, ax = gu.subplots(width=6.5, height=5)
sns.scatterplot(data=long, x="retrained (true)", y="estimated test loss", hue="estimator", style="estimator",
                s=50, alpha=0.8, ax=ax)
lo = min(long["retrained (true)"].min(), long["estimated test loss"].min())
hi = max(long["retrained (true)"].max(), long["estimated test loss"].max())
ax.plot([lo, hi], [lo, hi], color="grey", linestyle=":", linewidth=1)
gu.label(ax, "true final test loss (retrained on the order)", "estimated final test loss",
         "One point per training order")

# %% [markdown]
# **Figure 2.** Relative parameter error along training, $\lVert\gamma_t-\theta'_t\rVert/\lVert\theta'_t-\theta_t\rVert$,
# median over orders with the interquartile band, for every estimator, from step 2 (after the first step
# every estimate is exact, since $\delta_0 = 0$ and Adam's state is zero). Look for the paper's expanded
# estimators falling below its zeroth-order baseline; the dotted line at 1 is the error of answering "the
# reference run".

# %%
err_rows = [{"step": t, "estimator": name, "relative error": float(e[t, i])}
            for name, e in rel_err.items() for t in range(2, T + 1) for i in range(len(others))]
err_df = pd.DataFrame(err_rows)
fig, ax = gu.subplots(width=8, height=4.5)
sns.lineplot(data=err_df, x="step", y="relative error", hue="estimator", estimator="median",
             errorbar=("pi", 50), ax=ax)
ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
ax.set(yscale="log")
gu.label(ax, "Adam step t", "‖γ_t − θ'_t‖ / ‖θ'_t − θ_t‖ (log scale)", "Estimation error along training")

# %% [markdown]
# ## The paper's use: position against memorisation
#
# For every random order, the final training loss of each batch's samples against the step at which the
# batch was seen: true, estimated by the deciding FUT estimator, and by the gradient-expanded arm. Batches
# differ in difficulty far more than positions differ in effect, so we centre: a batch's *memorisation
# score* under an order is its mean final loss under that order minus its mean over all the random orders
# (negative = better memorised than usual). Averaged over the random orders, this isolates the effect of
# position. A curve rising with position means batches seen early end up fitted better (primacy); a falling
# one means recency. Look for the estimated curves following the true one, including its shape.

# %%
per_sample = vmap(lambda th, x, y: F.cross_entropy(forward(th, x), y, reduction="none"),
                  in_dims=(0, None, None))
random_orders = [k for k in range(K) if kind[k] == "random"]
curves = {"retrained (true)": true_traj[-1, random_orders], f"{DECIDING} (estimated)": final[DECIDING][random_orders],
          "gradient-expanded, order 1 (estimated)": final["gradient-expanded, order 1"][random_orders]}
pos_rows = []
for label, params_final in curves.items():
    losses = per_sample(params_final, XB.reshape(P.n_train, -1), YB.reshape(-1)).reshape(-1, T, b).mean(-1).cpu()
    for i, k in enumerate(random_orders):
        position = torch.argsort(ORD[k]).cpu()  # position[j] is the step at which batch j was used
        pos_rows += [{"curve": label, "order": k, "batch": j, "position": int(position[j]),
                      "loss": float(losses[i, j])} for j in range(T)]
pos = pd.DataFrame(pos_rows)
pos["loss"] -= pos.groupby(["curve", "batch"]).loss.transform("mean")
fig, ax = gu.subplots(width=8, height=4.5)
sns.lineplot(data=pos, x="position", y="loss", hue="curve", style="curve", markers=True, errorbar="se", ax=ax)
ax.axhline(0.0, color="grey", linestyle=":", linewidth=1)
gu.label(ax, "step at which the batch was seen", "final loss minus the batch's mean over orders",
         "Memorisation by position (random orders)")
curve = pos.groupby(["curve", "position"]).loss.mean().unstack(0)

# %% [markdown]
# ## Verdict
#
# The rule was written and committed before the first `cpu` run of this version. The deciding estimator is
# the paper's FUT at order `taylor_order` (2 by default); the baseline is FUT at order 0. The unit is an
# order (the reversed, the curriculum and the `n_orders` random orders):
#
# - **error gain**: per order, the baseline's final relative parameter error minus the deciding
#   estimator's; its mean with a 95% $t$-interval over orders;
# - **rank gain**: Spearman(deciding estimate, true final test loss) minus Spearman(baseline, true), with a
#   percentile bootstrap interval (2000 resamples of the orders);
# - `supported` when the deciding estimator ranks the orders (Spearman ≥ 0.7), beats the baseline's
#   parameter error by a margin (lower end of the error-gain interval ≥ 0.1, a tenth of the distance between
#   orders) and ranks better than it (lower end of the rank-gain interval > 0);
# - `contradicted` when it does not rank the orders (Spearman < 0.3), or ranks them no better than the
#   baseline (upper end of the rank-gain interval ≤ 0), or its error is not smaller by the margin (upper
#   end of the error-gain interval < 0.1) while the baseline's median error leaves room for the margin
#   (≥ 0.2); `inconclusive` otherwise.
#
# Instrument checks (hold by construction; failing one makes the verdict `inconclusive`): every estimate is
# exact after the first step, and every estimate of the reference order is exact to the end.
# Reported beside the rule: whether the second order beats the first (paired error difference with a
# $t$-interval), the projected and the gradient-expanded estimators, and the memorisation curves.
# Wall-clock costs are printed above but kept out of the record, since they are not reproducible numbers.

# %%
def spearman(a, b_):
    return float(sps.spearmanr(a, b_)[0])


truth = wide["retrained (true)"].to_numpy()
dec, base = wide[DECIDING].to_numpy(), wide[BASELINE].to_numpy()
err_gain = rel_err[BASELINE][-1] - rel_err[DECIDING][-1]
err_gain_lo, err_gain_hi = gu.t_interval(err_gain)
rank_gain_lo, rank_gain_hi = gu.bootstrap_ci(
    np.column_stack([truth, dec, base]), lambda a: spearman(a[:, 1], a[:, 0]) - spearman(a[:, 2], a[:, 0]),
    seed=P.seed)
second_vs_first = rel_err["FUT, order 1"][-1] - rel_err["FUT, order 2"][-1]
step1 = max(float((abs_err[n][1] / (true_traj[1] - theta0).norm(dim=-1)).max()) for n in variants)
reference_exact = max(float(abs_err[n][-1, 0] / (ref[-1] - theta0).norm()) for n in variants)
projected = f"FUT, order 1, projected k={P.proj_dim}"
statistics = {
    "spearman_deciding": float(summary.loc[DECIDING, "spearman"]),
    "pearson_deciding": float(summary.loc[DECIDING, "pearson"]),
    "median_rel_err_deciding": float(summary.loc[DECIDING, "median_rel_error"]),
    "spearman_baseline": float(summary.loc[BASELINE, "spearman"]),
    "median_rel_err_baseline": float(summary.loc[BASELINE, "median_rel_error"]),
    "err_gain": float(err_gain.mean()), "err_gain_ci_lo": err_gain_lo, "err_gain_ci_hi": err_gain_hi,
    "rank_gain": float(summary.loc[DECIDING, "spearman"] - summary.loc[BASELINE, "spearman"]),
    "rank_gain_ci_lo": rank_gain_lo, "rank_gain_ci_hi": rank_gain_hi,
    "spearman_fut1": float(summary.loc["FUT, order 1", "spearman"]),
    "median_rel_err_fut1": float(summary.loc["FUT, order 1", "median_rel_error"]),
    "spearman_fut2": float(summary.loc["FUT, order 2", "spearman"]),
    "median_rel_err_fut2": float(summary.loc["FUT, order 2", "median_rel_error"]),
    "second_vs_first_err_gain": float(second_vs_first.mean()),
    "second_vs_first_ci_lo": gu.t_interval(second_vs_first)[0],
    "second_vs_first_ci_hi": gu.t_interval(second_vs_first)[1],
    "spearman_projected": float(summary.loc[projected, "spearman"]),
    "median_rel_err_projected": float(summary.loc[projected, "median_rel_error"]),
    "spearman_grad0": float(summary.loc["gradient-expanded, order 0", "spearman"]),
    "median_rel_err_grad0": float(summary.loc["gradient-expanded, order 0", "median_rel_error"]),
    "spearman_grad1": float(summary.loc["gradient-expanded, order 1", "spearman"]),
    "median_rel_err_grad1": float(summary.loc["gradient-expanded, order 1", "median_rel_error"]),
    "true_test_loss_spread": float(truth.max() - truth.min()),
    "n_orders_scored": float(len(truth)),
    "position_curve_pearson_deciding": float(sps.pearsonr(curve["retrained (true)"],
                                                          curve[f"{DECIDING} (estimated)"])[0]),
    "position_curve_pearson_grad1": float(sps.pearsonr(curve["retrained (true)"],
                                                       curve["gradient-expanded, order 1 (estimated)"])[0]),
    "position_slope_true": float(np.polyfit(curve.index, curve["retrained (true)"], 1)[0]),
    "first_step_rel_err": step1,
    "reference_order_rel_err": reference_exact,
}
MARGIN = 0.1
RULE = gu.rule(
    supported=gu.all_of(gu.cond("spearman_deciding", ">=", 0.7), gu.cond("err_gain_ci_lo", ">=", MARGIN),
                        gu.cond("rank_gain_ci_lo", ">", 0.0)),
    contradicted=gu.any_of(
        gu.cond("spearman_deciding", "<", 0.3),
        gu.cond("rank_gain_ci_hi", "<=", 0.0),
        gu.all_of(gu.cond("err_gain_ci_hi", "<", MARGIN), gu.cond("median_rel_err_baseline", ">=", 2 * MARGIN)),
    ),
    checks={"estimates_exact_after_first_step": gu.cond("first_step_rel_err", "<=", 1e-8),
            "reference_order_estimated_exactly": gu.cond("reference_order_rel_err", "<=", 1e-8)},
)
print(pd.Series(statistics).round(4).to_string())
record = gu.report_verdict(
    chapter="training_order", params=P, rule=RULE, statistics=statistics, seeds=[P.seed],
    headline=["spearman_deciding", "spearman_baseline", "err_gain", "err_gain_ci_lo", "err_gain_ci_hi",
              "rank_gain_ci_lo", "median_rel_err_deciding", "median_rel_err_grad1"],
)

# %% [markdown]
# ### Rule history
#
# - **Previous rule** (study card 06, first version of the chapter): on the chapter's own estimator (the
#   gradient expanded to second order, Adam's moments run exactly on the new order), `supported` when
#   Spearman(estimate, true final test loss) ≥ 0.7 and the median final relative parameter error ≤ 0.5;
#   `contradicted` when that Spearman was below 0.3 (a stopgap later added: or the median error ≥ 1);
#   smoke had 5 scored orders. Its `cpu` verdict was **supported**: Spearman 1.000, median relative
#   error 0.0034, 86.9 s. A stopgap falsification run (the zeroth-order estimator) was added later.
# - **Why it was replaced** (review of the dynamics part, §2): (1) the estimator was not the paper's: the
#   paper expands the whole Adam update term around the reference run, reusing the reference run's update
#   terms, while the chapter expanded only the gradient and carried Adam's moments of the new order exactly,
#   which removes the paper's hardest approximation; (2) the zeroth-order baseline the chapter itself named
#   was not in the rule, and with exact moments much of the order effect is captured at zeroth order, so a
#   pass could come from bookkeeping; (3) at smoke, Spearman over 5 orders means little. The new rule reads
#   the paper's estimator, requires it to beat the zeroth-order baseline by a margin with intervals, scores
#   at least 10 orders at every profile, and keeps the old estimator as a reported second arm.
# - **This rule, first `cpu` run** (rule unchanged since; 22 scored orders): main run **contradicted**,
#   through the error leg. The paper's estimator at second order misses most of the distance between
#   orders (median relative error 0.795) and its zeroth-order baseline almost as much (0.799): error gain
#   −0.002, interval $[-0.013, 0.008]$, confidently below the 0.1 margin. Its ranking is mediocre and not
#   clearly better than the baseline's: Spearman 0.59 against 0.47, rank gain 0.12, interval
#   $[-0.05, 0.39]$. Second order did not beat first (error difference −0.008, interval $[-0.018, 0.003]$);
#   the projected first-order estimate (k = 256) ranked at 0.52. The falsification run was
#   **contradicted** too (both gains exactly 0), so not `supported`, as it must be. The second arm, with
#   the new order's own Adam moments, reached Spearman 0.997 and median error 0.043 at first order,
#   against 0.59 and 0.46 at its zeroth order. Both checks held. Wall time 104 s (main) and 108 s
#   (falsification), on a machine shared with other sessions (load 4–5 on 2 cores); smoke 9.3 s and 9.2 s.
# - **How to read it.** The Taylor expansion is not what fails: in the second arm it removes nine tenths of
#   the zeroth-order error. What fails is expanding the update term with the reference run's optimizer
#   state held fixed: the new order's update then carries the reference run's momentum, and its error is
#   set by that mismatch, which no order of expansion in $\gamma_t-	heta_t$ can repair. The contradiction is
#   of the paper's estimator as we read it (see the notes), at one pass over small batches.

# %% [markdown]
# ## Faithfulness notes
#
# - **This repair.** The verdict now reads the paper's estimator, which expands the Adam update term
#   $\Gamma_t(\cdot, B)$ as a whole around the reference checkpoint with the reference run's optimizer state held
#   fixed (our reading of its Eq. 3: the update term is a function of the parameters and the batch, and
#   the only state available for all $T^2$ stored pairs is the reference run's). The rule compares it with
#   its own zeroth-order baseline; `taylor_order` chooses which expansion decides; smoke scores 12 orders;
#   the previous estimator stays as a reported arm ("gradient-expanded"). Before the rule was written, a
#   prototype at the `cpu` sizes (run once, not tuned) showed the paper's estimator at a median relative
#   error near 0.8 at every order of the expansion, against under 0.05 for the gradient-expanded arm at
#   order 1; the rule's thresholds were set from the question, not from those numbers, and are symmetric
#   (the margin that `supported` needs is the one whose confident absence `contradicted` reads).
# - **Adam's state.** We could not read the paper's own bookkeeping of the moments (its full text and code
#   were not reachable from the stored copies; see the top). If FUT instead linearises the moment recursion
#   of the new order, its estimator lies between our two arms; the gradient-expanded arm is the limiting case
#   where the moments are carried exactly.
# - **Falsification run.** `taylor_order: 0` makes the deciding estimator the baseline itself, so both gains
#   are exactly zero and the verdict cannot be `supported`; this removes the cause the paper names (the
#   expansion) but tests nothing beyond the rule's arithmetic. The evidence that the expansion matters lies
#   in the main run's gains and their intervals.
# - **Expansion point.** The expansion is around the reference checkpoint of the *same step*, evaluated on
#   the batch the new order uses at that step; this needs terms of every batch at every checkpoint ($T^2$
#   pairs), stored once for all orders. At this size we evaluate them on the fly from the stored checkpoints
#   and moments instead of storing them, which gives the same numbers.
# - **Random projection.** A Johnson–Lindenstrauss sketch of the Jacobian term,
#   $J\delta\approx(JS^\top)(S\delta)$, for the first-order estimator only, reported beside the verdict. With $k$
#   well below $p$ this reconstruction of $\delta$ is noisy (relative error about $\sqrt{p/k}$), so it measures
#   the cost of this particular storage, not necessarily of the paper's.
# - **Cost.** Retraining and estimation are both vectorised over orders here, and each estimate needs
#   Jacobian-vector products per step, so estimating is *not* cheaper than retraining at this size; the
#   paper's saving comes from reusing stored terms at LLM scale, which this chapter does not reproduce.
# - **Scale.** A model about 200,000 times smaller, one pass over 40 batches of 50 at the card's learning
#   rate $10^{-3}$, so the orders move the parameters only a little from the reference and the final test
#   loss differs between orders by about 0.01 (printed above). In this regime a Taylor expansion of the
#   gradient is accurate, so what separates the arms is the optimizer state, not the expansion. Small
#   batches make the batches' gradients, and hence the reference run's moments and the new order's, differ
#   more than they would with the large batches of LLM training; runs with larger batches are the natural
#   next check of whether the paper's estimator improves when the moments of different orders agree (the
#   `gpu` profile doubles the batch to 100 and has 200 steps, but has not been run).
# - **Memorisation score.** The card asks for the final per-sample loss against position; raw losses are
#   dominated by batch difficulty at this number of orders, so Figure 3 centres each batch on its mean over
#   orders. Only that figure and three reported statistics use the centring; the verdict does not.
