# ---
# jupyter:
#   genbook:
#     claim: In linear structural equation models, the number of training interventions
#       a learner needs before its approximately invariant linear representation stays
#       approximately invariant on unseen interventions does not grow with the ambient
#       dimension when the intervention sites are a constant-size set, while it grows
#       with the dimension when every variable can be intervened on.
#     'null':
#       restrict_sites: false
#     null_reason: Intervening on every covariate in the restricted arm too removes
#       the constant-size set of intervention sites, the cause the paper names for a
#       number of environments that does not grow with the dimension.
#     paper: Parulekar, Shanmugam & Shakkottai 2023, arXiv:2205.15196
#     part: theory
#     profiles:
#       gpu:
#         dims:
#         - 6
#         - 12
#         - 24
#         - 48
#         - 96
#         ks:
#         - 1
#         - 2
#         - 3
#         - 4
#         - 5
#         - 6
#         - 8
#         - 10
#         - 12
#         - 16
#         - 20
#         - 24
#         - 32
#         - 40
#         - 48
#         - 64
#         - 80
#         - 96
#         - 112
#         - 128
#         - 160
#         - 192
#         n_span_envs: 1000
#         n_test_envs: 2000
#         seeds: 40
#       smoke:
#         dims:
#         - 6
#         - 12
#         ks:
#         - 1
#         - 2
#         - 3
#         - 4
#         - 6
#         - 8
#         - 12
#         - 16
#         - 24
#         n_span_envs: 100
#         n_test_envs: 200
#         seeds: 3
#     title: Invariance learned from a few interventions generalizes, and with restricted
#       intervention sites the number needed does not grow with the dimension
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
# # PAC generalization via invariant representations
#
# **Paper.** Advait Parulekar, Karthikeyan Shanmugam and Sanjay Shakkottai, *PAC Generalization via
# Invariant Representations*, ICML 2023 ([arXiv:2205.15196](https://arxiv.org/abs/2205.15196)).
#
# **Claim under test.** In a linear structural equation model (SEM), a representation of the covariates is
# *invariant* when the best model on top of it is the same in every environment. The paper asks: if a
# representation is $\varepsilon$-approximately invariant on a number of training interventions, drawn from
# a parameterised family, is it still approximately invariant on most unseen interventions of that family?
# It answers with a PAC bound on the number of training interventions, and its abstract (arXiv v3) names the
# point this chapter tests: *"Our results show bounds that do not scale in ambient dimension when
# intervention sites are restricted to lie in a constant size subset of in-degree bounded nodes."* So we
# sweep the ambient dimension $d$ and measure, for a learner of approximately invariant linear
# representations, **how many training environments it needs** before its representation fails on at most
# $\gamma = 5\%$ of unseen interventions, in two arms: intervention sites restricted to a fixed set of 3
# nodes, and unrestricted sites (every covariate can be intervened on).
#
# **The paper's evidence.** The paper is theoretical (a PAC theorem on the number of interventions, a
# sample-complexity corollary, an extension to latent variables). Its theorem statement and its exact
# definition of $\varepsilon$-approximate invariance could not be read here: the stored copies of the paper
# reachable offline (see the faithfulness notes) hold only its opening pages. The chapter therefore quotes
# the abstract, states its own definitions in full, and says below which parts of the argument are its own.
#
# **What is scaled down.** Linear-Gaussian SEMs with $d \in \{6, 12, 24, 48\}$ covariates (`cpu`; up to 96
# on `gpu`), population (closed-form) covariances, up to 96 training interventions, 1000 unseen
# interventions per draw and 20 independent draws of the SEM and its environments.

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
seed = 0  # base seed; draw s uses the SEM weights and environments of seed + s
dims = [6, 12, 24, 48]  # ambient dimensions d, the number of covariates
n_sites = 3  # size of the restricted set of intervention sites, the same at every d
restrict_sites = True  # False intervenes on every covariate in the restricted arm too (the falsification run)
eps = 0.05  # invariance tolerance on unseen environments (relative change of the best head)
train_eps = 0.01  # invariance tolerance the learner must meet on every training environment
gamma = 0.05  # target failure fraction; the number of environments needed is where it is first met
ks = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96]  # training interventions K
n_test_envs = 1000  # unseen interventions per draw
n_span_envs = 300  # interventions used to measure the dimension of the family
restarts = 8  # extra random starts where no start reached train_eps
seeds = 20  # independent draws of the SEM weights and of the environments

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    dims=gu.List(gu.Int(min=6, max=256), min_len=2, increasing=True),
    n_sites=gu.Int(min=1, max=6),
    restrict_sites=gu.Bool(),
    eps=gu.Float(gt=0, lt=1),
    train_eps=gu.Float(gt=0, lt=1),
    gamma=gu.Float(gt=0, lt=1),
    ks=gu.List(gu.Int(min=1), min_len=3, increasing=True),
    n_test_envs=gu.Int(min=20),
    n_span_envs=gu.Int(min=10),
    restarts=gu.Int(min=0),
    seeds=gu.Int(min=2),
)
if P.train_eps >= P.eps:
    raise gu.ParameterError("train_eps", f"must be below eps = {P.eps}: the learner meets a tighter tolerance "
                                         f"on training environments than the one tested, got {P.train_eps}")
FLAT = 0.25  # tolerance on the slope of log K_needed against log d (the rule's "flat")
device = gu.device()
torch.set_default_dtype(torch.float64)
if device.type == "cpu":
    torch.set_num_threads(1)  # batches of small matrices: a second thread only spins, most of all on shared cores
P

# %% [markdown]
# ## The structural equation model
#
# Variables $X_1,\dots,X_d$ and $Y$ follow linear equations with Gaussian noise, $Z = BZ + \operatorname{diag}(\sigma)N$,
# $N \sim \mathcal N(0, I)$, with $B_{ij}$ the weight of $Z_j$ in the equation of $Z_i$; the covariance is
# $\Sigma = (I-B)^{-1}\operatorname{diag}(\sigma^2)(I-B)^{-\top}$. One draw of the graph, nested in $d$ (the SEM
# at $d = 12$ is the one at $d = 24$ restricted to its first 12 covariates):
#
# - $X_1 = N_1$ and $X_2 = 0.5X_1 + N_2$ are the **causal parents** of $Y = X_1 - 0.8X_2 + N_Y$;
# - $X_3$ and $X_4$ are **children** of $Y$ (weight $\pm U(0.6, 1.4)$);
# - from $X_5$ on, two of every three covariates are **effects**: one or two parents among the earlier
#   descendants of $Y$, so every further descendant of $Y$ hangs below $X_3$ or $X_4$; the third is a
#   **cause-side** covariate with one parent among the parents and earlier cause-side covariates (a
#   non-descendant correlated with the parents). In-degree is at most 2 everywhere; weights are
#   $\pm U(0.5, 1)/\sqrt{\text{in-degree}}$ and noise scales $U(0.5, 1)$.
#
# The descendants of $Y$ make pooled least squares lean on them; they are what an intervention breaks.

# %%
def make_sem(rng: np.random.Generator, d_max: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Edge weights B (B[i, j]: weight of variable j in the equation of i; Y is the last index), noise s.d., roles."""
    n, y = d_max + 1, d_max
    B, sd = np.zeros((n, n)), np.ones(n)
    roles = ["parent", "parent", "child", "child"]
    B[1, 0] = 0.5
    B[y, 0], B[y, 1] = 1.0, -0.8
    for j in (2, 3):
        B[j, y] = rng.choice([-1, 1]) * rng.uniform(0.6, 1.4)
        sd[j] = rng.uniform(0.5, 1.0)
    effects, causes = [2, 3], [0, 1]
    for j in range(4, d_max):
        role = "cause-side" if (j - 4) % 3 == 2 else "effect"
        pool = causes if role == "cause-side" else effects
        k = 1 if role == "cause-side" else min(len(pool), 1 + int(rng.random() < 0.5))
        for p in rng.choice(pool, size=k, replace=False):
            B[j, p] = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0) / math.sqrt(k)
        sd[j] = rng.uniform(0.5, 1.0)
        pool.append(j)
        roles.append(role)
    return B, sd, roles


def sub_sem(B: np.ndarray, sd: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The SEM on the first d covariates and Y (a nested sub-DAG: parents always come earlier)."""
    idx = list(range(d)) + [B.shape[0] - 1]
    return B[np.ix_(idx, idx)], sd[idx]


D_MAX = max(P.dims)
SEMS = [make_sem(gu.rng(P.seed + s), D_MAX) for s in range(P.seeds)]
ROLES = SEMS[0][2]
W_CAUSAL = np.zeros(D_MAX)
W_CAUSAL[:2] = (1.0, -0.8)
print("roles of the first 16 covariates:", dict(zip([f"X{j + 1}" for j in range(16)], ROLES[:16])))

# %% [markdown]
# ## The two intervention families
#
# An intervention at a site re-draws that variable's mechanism: each incoming weight becomes
# $\pm U(0.5, 1.5)/\sqrt{\text{in-degree}}$ (random sign) and its noise scale $U(0.3, 1.5)$; $Y$'s own
# equation is never touched, which is what makes an invariant predictor exist. Environments are i.i.d.
# draws of these parameters.
#
# - **Restricted sites**: the same `n_sites` = 3 nodes at every $d$, the two children of $Y$ and the root
#   parent $X_1$ (all of in-degree $\le 1$): a family with 5 parameters whatever $d$. All descendants of $Y$
#   sit below the intervened children, so the number of *shifted* covariates still grows with $d$; only the
#   sites are fixed.
# - **Unrestricted sites**: every covariate is a site; the family has about $2.5d$ parameters.
#
# Both arms use the same random numbers (common random numbers); with `restrict_sites` = False (the
# falsification run) the restricted arm intervenes everywhere and becomes the unrestricted one.

# %%
SITE_ORDER = [2, 3, 0, 1]  # the children of Y, then the parents


def designed_sites(d: int) -> list[int]:
    """The constant-size site set of the restricted arm as designed (used when restrict_sites is True)."""
    return (SITE_ORDER + list(range(4, d)))[:P.n_sites]


def sites(d: int, arm: str) -> list[int]:
    return designed_sites(d) if arm == "restricted" and P.restrict_sites else list(range(d))


def environments(rng: np.random.Generator, B: np.ndarray, sd: np.ndarray, at: list[int], n: int) -> torch.Tensor:
    """Covariances (n, d+1, d+1) of n environments that re-draw the mechanisms at the sites `at`."""
    n_var = B.shape[0]
    site = np.zeros(n_var, bool)
    site[at] = True
    edge = (B != 0) & site[:, None]
    indeg = np.maximum(edge.sum(1, keepdims=True), 1)
    weights = rng.choice([-1.0, 1.0], size=(n, n_var, n_var)) * rng.uniform(0.5, 1.5, size=(n, n_var, n_var))
    Bs = np.where(edge, weights / np.sqrt(indeg), B)
    sds = np.where(site, rng.uniform(0.3, 1.5, size=(n, n_var)), sd)
    if device.type != "cpu":  # CUDA or any other accelerator: torch keeps the matrices where they are
        A = torch.linalg.inv(torch.eye(n_var, device=device) - torch.tensor(Bs, device=device))
    else:  # NumPy's batched inverse is much faster than torch's for many small matrices on CPU
        A = torch.tensor(np.linalg.inv(np.eye(n_var) - Bs))
    return (A * torch.tensor(sds, device=device)[:, None, :] ** 2) @ A.transpose(-1, -2)


# %% [markdown]
# ## Representations and $\varepsilon$-approximate invariance
#
# The class is the linear one-dimensional representations $x \mapsto w^\top x$, $w \in \mathbb R^d$, with a
# scalar head on top. In environment $e$ the best head is the least-squares coefficient
#
# $$c_e(w) = \frac{\mathbb E_e[w^\top X\,Y]}{\mathbb E_e[(w^\top X)^2]} = \frac{w^\top\Sigma^e_{XY}}{w^\top\Sigma^e_{XX}w},$$
#
# and we scale $w$ so that the head is 1: $w$ is **$\varepsilon$-invariant on $e$** when
# $|c_e(w) - 1| \le \varepsilon$. Exact invariance, $c_e(w) = 1$, is $\mathbb E_e[w^\top X\,(Y - w^\top X)] = 0$: the
# IRMv1 condition for squared loss (Arjovsky et al., 2019), in the paper's spirit of "the best model on top of
# the representation is invariant". The causal predictor $w^\star = (1, -0.8, 0, \dots)$ satisfies it in every
# environment, since $Y - w^{\star\top}X = N_Y$ is independent of the parents; the empty representation
# $w = 0$ is trivially invariant.
#
# **Why the sites matter (the mechanism, and a check).** Both $w^\top\Sigma^e_{XY}$ and $w^\top\Sigma^e_{XX}w$ are
# *linear* in the environment's covariance $\Sigma(\theta)$. So whether a fixed $w$ fails on $\theta$ depends on
# $\theta$ only through $\Sigma(\theta)$, which ranges in a linear space of dimension
# $D = \dim\operatorname{span}\{\Sigma(\theta)\}$; the failure sets of all $w$ are intersections of two
# half-spaces in $D$ coordinates, a class of VC dimension $O(D)$, and the usual PAC argument gives a number of
# environments of order $(D\log(1/\gamma) + \log(1/\delta))/\gamma$ for every consistent learner. Exactly: once
# the training covariances span that space, exact invariance on them implies exact invariance everywhere. With
# restricted sites the entries of $\Sigma(\theta)$ are polynomials of bounded degree in the 5 site parameters, so
# $D$ is bounded independently of $d$; with unrestricted sites it grows with $d$. This is our own reading of the
# mechanism behind the abstract's claim (the paper's proof was not reachable); $D$ is a property of the
# generator and enters the verdict only as an instrument check. The evidence is what a learner actually needs,
# which may be anywhere below such bounds.

# %%
def span_dimension(S: torch.Tensor) -> int:
    """Numerical rank of the stacked upper triangles of the covariances S (n, d+1, d+1)."""
    iu = torch.triu_indices(S.shape[-1], S.shape[-1], device=S.device)
    sv = torch.linalg.svdvals(S[:, iu[0], iu[1]])
    return int((sv > 1e-9 * sv[0]).sum())


span_rows = []
B0, sd0, _ = SEMS[0]
for d in P.dims:
    Bd, sdd = sub_sem(B0, sd0, d)
    for arm in ("restricted", "unrestricted"):
        S = environments(np.random.default_rng([P.seed, d, 3]), Bd, sdd, sites(d, arm), P.n_span_envs)
        span_rows.append({"d": d, "arm": arm, "D": span_dimension(S),
                          "cap": min(P.n_span_envs, (d + 1) * (d + 2) // 2)})
    S = environments(np.random.default_rng([P.seed, d, 3]), Bd, sdd, designed_sites(d), P.n_span_envs)
    span_rows.append({"d": d, "arm": "designed restricted sites", "D": span_dimension(S), "cap": 0})
span = pd.DataFrame(span_rows)
span_designed = span[span.arm == "designed restricted sites"]
span = span[span.arm != "designed restricted sites"]
span.pivot(index="d", columns="arm", values="D")

# %% [markdown]
# ## The learner and its baseline
#
# - **Invariance learner.** Given the observational (reference) environment and $K$ training interventions, it
#   returns the $w$ of lowest pooled risk $\frac{1}{K+1}\sum_e \mathbb E_e[(Y - w^\top X)^2]$ among those that are
#   `train_eps`-invariant on all $K + 1$ of them. The feasible set is an intersection of quadrics, so the
#   learner is a local search: a penalty continuation ($\lambda = 1 \to 10^8$ on $\sum_e (w^\top\Sigma^e_{XY} -
#   w^\top\Sigma^e_{XX}w)^2$) with damped Gauss–Newton steps, from three starts (pooled least squares, half of
#   it, and the solution at the previous $K$) plus up to `restarts` random ones where none reached
#   `train_eps`. If no start does, it returns the empty representation $w = 0$ (exactly invariant, counted as
#   not failing); the share of such fallbacks is reported, and where the constraints do not yet pin $w$ down
#   ($K + 1 < d$) an instrument check caps it.
# - **Baseline.** Pooled least squares on all covariates over the same $K + 1$ environments (ERM).
# - **Measured** for each draw, arm, $d$ and $K$: the **failure fraction**, the share of the unseen
#   interventions on which the learned $w$ is not `eps`-invariant; and from it $K_{\text{needed}}$, the first
#   $K$ at which the failure fraction is at most $\gamma$ (interpolated linearly in $\log K$ between grid
#   points). The loop over $K$ stops once every draw has met $\gamma$ at two consecutive grid points.
#
# All draws of one $(d, \text{arm})$ are solved together as one batch.

# %%
def bmv(S: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """S (b, E, d, d) times w (b, d), per environment: (b, E, d)."""
    b, E, d, _ = S.shape
    return torch.bmm(S.reshape(b, E * d, d), w[:, :, None]).reshape(b, E, d)


def fit(Sxx: torch.Tensor, sxy: torch.Tensor, w0: torch.Tensor, lams=(1e0, 1e2, 1e4, 1e6, 1e8), iters: int = 5):
    """Pooled risk + λ Σ_e g_e(w)², λ increasing, damped Gauss–Newton; returns w, max relative violation, pooled risk."""
    Sbar, sbar = Sxx.mean(1), sxy.mean(1)

    def objective(w, lam):
        Sw = bmv(Sxx, w)
        g = ((sxy - Sw) * w[:, None, :]).sum(-1)
        r = -2 * (w * sbar).sum(1) + (w * torch.bmm(Sbar, w[:, :, None])[..., 0]).sum(1)
        return r + lam * (g**2).sum(1), g, r, Sw

    w = w0.clone()
    _, g, _, Sw = objective(w, lams[0])
    for lam in lams:
        f = objective(w, lam)[0]
        for _ in range(iters):
            J = sxy - 2 * Sw
            H = 2 * Sbar + 2 * lam * J.transpose(1, 2) @ J
            grad = (-2 * sbar + 2 * torch.bmm(Sbar, w[:, :, None])[..., 0]
                    + 2 * lam * torch.bmm(J.transpose(1, 2), g[:, :, None])[..., 0])
            step = torch.linalg.solve(H, grad)
            best = (f, w, g, Sw)
            for a in (1.0, 0.4):
                fn, gn, _, Swn = objective(w - a * step, lam)
                better = fn < best[0]
                best = (torch.where(better, fn, best[0]), torch.where(better[:, None], w - a * step, best[1]),
                        torch.where(better[:, None], gn, best[2]), torch.where(better[:, None, None], Swn, best[3]))
            f, w, g, Sw = best
    _, g, r, Sw = objective(w, 0.0)
    violation = (g / (Sw * w[:, None, :]).sum(-1)).abs().amax(1)
    return w, violation, r


def learn(Sxx, sxy, prev, gen):
    """The invariance learner on the environments in Sxx/sxy (reference first); returns w, fallback flags, ERM."""
    erm = torch.linalg.solve(Sxx.mean(1), sxy.mean(1))
    best_w, best_r = None, None
    for w0 in [erm, 0.5 * erm] + ([prev] if prev is not None else []):
        w, v, r = fit(Sxx, sxy, w0)
        r = torch.where(v <= P.train_eps, r, torch.full_like(r, math.inf))
        if best_w is None:
            best_w, best_r = w, r
        else:
            take = r < best_r
            best_w, best_r = torch.where(take[:, None], w, best_w), torch.where(take, r, best_r)
    d = Sxx.shape[-1]
    for rep in range(P.restarts):
        bad = (~torch.isfinite(best_r)).nonzero()[:, 0]
        if len(bad) == 0:
            break
        scale = (0.3 + 0.3 * rep) * erm[bad].norm(dim=1, keepdim=True) / math.sqrt(d)
        w0 = (erm[bad] * torch.rand(len(bad), 1, generator=gen).to(device)
              + scale * torch.randn(len(bad), d, generator=gen).to(device))
        w, v, r = fit(Sxx[bad], sxy[bad], w0)
        ok = v <= P.train_eps
        best_w[bad[ok]], best_r[bad[ok]] = w[ok], r[ok]
    fallback = ~torch.isfinite(best_r)
    return torch.where(fallback[:, None], torch.zeros_like(best_w), best_w), fallback, erm


def head_change(w: torch.Tensor, Txx: torch.Tensor, txy: torch.Tensor) -> torch.Tensor:
    """|c_e(w) − 1| on every unseen environment (b, e); 0 for the empty representation."""
    q = (bmv(Txx, w) * w[:, None, :]).sum(-1)
    c = (txy * w[:, None, :]).sum(-1) / q.clamp_min(1e-300)
    return torch.where((w == 0).all(1, keepdim=True), torch.zeros_like(c), (c - 1).abs())


def risks(w: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Test risk E_e[(Y − wᵀX)²] on every unseen environment (b, e)."""
    v = torch.cat([-w, torch.ones(w.shape[0], 1, device=w.device)], 1)
    return (bmv(T, v) * v[:, None, :]).sum(-1)


def k_needed(fail: np.ndarray) -> float:
    """First K at which the failure fraction is ≤ γ, interpolated in log K; NaN if never (censored)."""
    for i, f in enumerate(fail):
        if np.isnan(f):
            break
        if f <= P.gamma:
            if i == 0:
                return float(P.ks[0])
            lo, hi = math.log(P.ks[i - 1]), math.log(P.ks[i])
            return math.exp(lo + (hi - lo) * (fail[i - 1] - P.gamma) / (fail[i - 1] - f))
    return math.nan


# %%
t0 = time.time()
fail, fallback, rows = {}, {}, []
for d in gu.progress(P.dims, desc="d"):
    subs = [sub_sem(B, sd, d) for B, sd, _ in SEMS]
    for arm in ("restricted", "unrestricted"):
        at = sites(d, arm)
        train = torch.stack([torch.cat([environments(np.random.default_rng([P.seed + s, d, 1]), Bd, sdd, [], 1),
                                        environments(np.random.default_rng([P.seed + s, d, 1]), Bd, sdd, at, max(P.ks))])
                             for s, (Bd, sdd) in enumerate(subs)])
        test = torch.stack([environments(np.random.default_rng([P.seed + s, d, 2]), Bd, sdd, at, P.n_test_envs)
                            for s, (Bd, sdd) in enumerate(subs)])
        Sxx, sxy, Txx, txy = train[..., :d, :d], train[..., :d, d], test[..., :d, :d], test[..., :d, d]
        F = np.full((P.seeds, len(P.ks)), np.nan)
        FB = np.full((P.seeds, len(P.ks)), np.nan)
        gen = torch.Generator().manual_seed(P.seed + d)
        prev, streak = None, 0
        for i, k in enumerate(P.ks):
            w, fb, erm = learn(Sxx[:, :k + 1].contiguous(), sxy[:, :k + 1].contiguous(), prev, gen)
            prev = torch.where(fb[:, None], erm, w)
            change = head_change(w, Txx, txy)
            F[:, i] = (change > P.eps).double().mean(1).cpu().numpy()
            FB[:, i] = fb.double().cpu().numpy()
            streak = streak + 1 if (F[:, i] <= P.gamma).all() else 0
            last = streak >= 2 or i == len(P.ks) - 1
            if last or i == 0:
                r_w, r_erm = risks(w, test), risks(erm, test)
                r_causal = risks(torch.tensor(W_CAUSAL[:d], device=device).expand(P.seeds, d), test)
                erm_fail = (head_change(erm, Txx, txy) > P.eps).double().mean(1)
                for s in range(P.seeds):
                    rows.append({"d": d, "arm": arm, "draw": P.seed + s, "K": k, "at": "last K" if last else "K = 1",
                                 "fail": F[s, i], "erm_fail": float(erm_fail[s]),
                                 "worst_learned": float(r_w[s].max()), "worst_erm": float(r_erm[s].max()),
                                 "worst_causal": float(r_causal[s].max()), "fallback": bool(fb[s])})
            if last:
                break
        fail[d, arm], fallback[d, arm] = F, FB
print(f"{len(P.dims)} dimensions × 2 arms × {P.seeds} draws, K up to {max(P.ks)}: {time.time() - t0:.1f} s")

curves = pd.DataFrame([{"d": d, "arm": arm, "draw": P.seed + s, "K": k, "fail": fail[d, arm][s, i]}
                       for (d, arm) in fail for s in range(P.seeds) for i, k in enumerate(P.ks)
                       if not np.isnan(fail[d, arm][s, i])])
needed = pd.DataFrame([{"d": d, "arm": arm, "draw": P.seed + s, "K_needed": k_needed(fail[d, arm][s])}
                       for (d, arm) in fail for s in range(P.seeds)])
ends = pd.DataFrame(rows)
needed.groupby(["arm", "d"]).K_needed.describe()[["mean", "50%", "min", "max"]].round(2)

# %% [markdown]
# ## Results
#
# **Figure 1.** Failure fraction on unseen interventions against the number $K$ of training interventions
# (log scale), mean over draws with a 95% interval, one line per dimension; the dashed line is $\gamma$. Look
# for the restricted curves (left) lying on top of each other whatever $d$, and the unrestricted ones (right)
# moving right in proportion to $d$.

# %%
fig, axes = gu.subplots(ncols=2, width=5.6, height=4.2, sharey=True)
for ax, arm in zip(axes, ("restricted", "unrestricted")):
    sns.lineplot(data=curves[curves.arm == arm], x="K", y="fail", hue="d", palette="viridis", marker="o",
                 markersize=4, errorbar=("ci", 95), ax=ax, legend=arm == "unrestricted")
    ax.axhline(P.gamma, color="black", linestyle="--", linewidth=1)
    ax.set(xscale="log", ylim=(-0.02, 1.02))
    gu.label(ax, "training interventions K (log scale)", "failure fraction on unseen interventions",
             f"{arm} sites" + ("" if arm == "unrestricted" or P.restrict_sites else " (falsification: all sites)"))
axes[1].legend(title="d", fontsize="small")

# %% [markdown]
# **Figure 2.** The number of environments needed, $K_{\text{needed}}$, against the dimension (both log scale):
# one dot per draw, lines through the medians, and dotted guides of slope 0 and 1 from the smallest $d$. Look
# for the restricted arm following the flat guide and the unrestricted arm the slope-1 guide.

# %%
fig, ax = gu.subplots(width=7, height=4.5)
sns.stripplot(data=needed, x="d", y="K_needed", hue="arm", dodge=True, alpha=0.45, size=4, ax=ax, native_scale=True,
              log_scale=(2, 2), legend=False)
med = needed.groupby(["arm", "d"]).K_needed.median().reset_index()
sns.lineplot(data=med, x="d", y="K_needed", hue="arm", marker="o", ax=ax)
d0 = min(P.dims)
grid = np.array([min(P.dims), max(P.dims)], dtype=float)
for arm, slope in (("restricted", 0.0), ("unrestricted", 1.0)):
    k0 = med[(med.arm == arm) & (med.d == d0)].K_needed.iloc[0]
    ax.plot(grid, k0 * (grid / d0) ** slope, color="grey", linestyle=":", linewidth=1.2)
ax.set_xticks(P.dims, [str(d) for d in P.dims])
ax.minorticks_off()
gu.label(ax, "ambient dimension d (log scale)", "training interventions needed, K_needed (log scale)",
         f"Environments needed to reach a {P.gamma:.0%} failure rate")

# %% [markdown]
# **Figure 3.** The dimension $D$ of the span of the environments' covariances (first draw, `n_span_envs`
# interventions), against $d$; the grey line is the most the measurement can show ($\min$ of the number of
# interventions and the number of covariance entries). Look for $D$ constant in the restricted arm and growing
# in the unrestricted one: this is the complexity the PAC argument pays for, and by construction it is fixed
# by the sites, not by $d$.

# %%
fig, ax = gu.subplots(width=6.5, height=4)
sns.lineplot(data=span, x="d", y="D", hue="arm", marker="o", ax=ax)
ax.plot(span.d.unique(), span.groupby("d").cap.first(), color="grey", linewidth=1, label="measurement cap")
ax.set(xscale="log", yscale="log")
ax.set_xticks(P.dims, [str(d) for d in P.dims])
ax.minorticks_off()
ax.legend(fontsize="small")
gu.label(ax, "ambient dimension d (log scale)", "dim span{Σ(θ)} (log scale)", "Dimension of the intervention family")

# %% [markdown]
# **Table.** At the last $K$ computed for each $(d, \text{arm})$: the learned representation's failure
# fraction, pooled ERM's (it is not invariant), the worst-case test risk over unseen interventions of the
# learned predictor, of ERM and of the causal predictor (means over draws), and the share of draws where the
# learner fell back on the empty representation.

# %%
table = (ends[ends["at"] == "last K"].groupby(["arm", "d"])
         .agg(K=("K", "first"), fail=("fail", "mean"), erm_fail=("erm_fail", "mean"),
              worst_learned=("worst_learned", "mean"), worst_erm=("worst_erm", "mean"),
              worst_causal=("worst_causal", "mean"), fallback=("fallback", "mean")))
table.round(3)

# %% [markdown]
# ## Verdict
#
# The rule below was written and committed before the chapter's first `cpu` run. For each draw and arm,
# `slope` is the least-squares slope of $\log K_{\text{needed}}$ against $\log d$ over `dims`; intervals are
# 95% t-intervals over the draws (`_lo`, `_hi`); `slope_gap` is the paired difference unrestricted minus
# restricted.
#
# - `supported` when the restricted arm's needs do not grow, `restricted_slope_hi` $\le 0.25$ (over an 8-fold
#   range of $d$, at most a $1.7\times$ growth), the unrestricted arm's do, `unrestricted_slope_lo` $> 0.25$
#   (the miniature can see growth), and the restricted arm is flatter, `slope_gap_lo` $> 0$;
# - `contradicted` when the restricted arm's needs grow with $d$: `restricted_slope_lo` $> 0.25$;
# - otherwise `inconclusive`.
#
# Instrument checks (a failure makes the verdict inconclusive): every draw reaches $\gamma$ within `ks`
# (`censored_share` $= 0$); the learner finds a `train_eps`-invariant representation, rather than falling
# back on the empty one, in at least 95% of the cells where the constraints do not yet pin $w$ down
# ($K + 1 < d$; `fallback_share_max`, the larger of the two arms, $\le 0.05$); and the family of the designed
# restricted site set has the same dimension $D$ at every $d$ (`designed_span_dim_range` $= 0$), as fixed sites
# guarantee (measured on that site set in both runs: the falsification run intervenes elsewhere on purpose).

# %%
def arm_slopes(arm: str) -> np.ndarray:
    table_ = needed[needed.arm == arm].pivot(index="draw", columns="d", values="K_needed")
    logk = np.log(table_[P.dims].to_numpy())
    ok = np.isfinite(logk).all(axis=1)
    x = np.log(np.array(P.dims, dtype=float))
    return np.polyfit(x, logk[ok].T, 1)[0] if ok.any() else np.array([])


def fallback_share(arm: str) -> float:
    cells = [fallback[d, arm][:, i] for d in P.dims for i, k in enumerate(P.ks) if k + 1 < d]
    values = np.concatenate(cells) if cells else np.array([])
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else 0.0


slopes = {arm: arm_slopes(arm) for arm in ("restricted", "unrestricted")}
statistics = {}
for arm, s in slopes.items():
    lo, hi = gu.t_interval(s) if s.size >= 2 else (math.nan, math.nan)
    statistics |= {f"{arm}_slope": float(s.mean()) if s.size else math.nan, f"{arm}_slope_lo": lo,
                   f"{arm}_slope_hi": hi}
paired = (slopes["unrestricted"] - slopes["restricted"]
          if slopes["restricted"].size == slopes["unrestricted"].size == P.seeds else np.array([]))
gap_lo, gap_hi = gu.t_interval(paired) if paired.size >= 2 else (math.nan, math.nan)
statistics |= {"slope_gap": float(paired.mean()) if paired.size else math.nan, "slope_gap_lo": gap_lo,
               "slope_gap_hi": gap_hi}
for arm in ("restricted", "unrestricted"):
    for name, d in (("min_d", min(P.dims)), ("max_d", max(P.dims))):
        statistics[f"{arm}_k_needed_{name}"] = float(needed[(needed.arm == arm) & (needed.d == d)].K_needed.median())
statistics["censored_share"] = float(needed.K_needed.isna().mean())
statistics["fallback_share_restricted"] = fallback_share("restricted")
statistics["fallback_share_unrestricted"] = fallback_share("unrestricted")
statistics["fallback_share_max"] = max(statistics["fallback_share_restricted"],
                                       statistics["fallback_share_unrestricted"])
statistics["restricted_span_dim"] = float(span[span.arm == "restricted"].D.iloc[-1])
dims_r = span_designed.D  # the designed site set, whatever restrict_sites says: a check of the generator
statistics["designed_span_dim_range"] = float(dims_r.max() - dims_r.min())
statistics["unrestricted_span_dim_max_d"] = float(span[span.arm == "unrestricted"].D.iloc[-1])
last_r = ends[(ends["at"] == "last K") & (ends.arm == "restricted") & (ends.d == max(P.dims))]
statistics["restricted_worst_risk_vs_erm"] = float(last_r.worst_learned.mean() / last_r.worst_erm.mean())
statistics["restricted_worst_risk_vs_causal"] = float(last_r.worst_learned.mean() / last_r.worst_causal.mean())

RULE = gu.rule(
    supported=gu.all_of(gu.cond("restricted_slope_hi", "<=", FLAT), gu.cond("unrestricted_slope_lo", ">", FLAT),
                        gu.cond("slope_gap_lo", ">", 0.0)),
    contradicted=gu.cond("restricted_slope_lo", ">", FLAT),
    checks={
        "every_draw_reaches_gamma": gu.cond("censored_share", "<=", 0.0),
        "learner_finds_invariant_representations": gu.cond("fallback_share_max", "<=", 0.05),
        "restricted_family_dimension_constant": gu.cond("designed_span_dim_range", "<=", 0.0),
    },
)
print(pd.Series(statistics).round(4).to_string())

record = gu.report_verdict(
    chapter="pac_invariance", params=P, rule=RULE, statistics=statistics,
    seeds=[P.seed + s for s in range(P.seeds)],
    headline=["restricted_slope", "restricted_slope_hi", "unrestricted_slope_lo"],
)

# %% [markdown]
# ### Rule history
#
# - **Previous rule (study card 38), replaced.** On a single hand-made DAG with $d = 6$ and the finite class
#   of all $2^d$ coordinate subsets, every intervention re-drawing all non-$Y$ mechanisms: `supported` when
#   the failure fraction of the chosen subset fell to $\le 0.05$ at the largest $K$, its 95th percentile over
#   draws stayed under the union bound $\ln(|\mathcal H|/\delta)/K$, and the chosen subset's worst-case risk
#   was $\le 0.8\times$ ERM's. Its `cpu` verdict was **supported** (failures at $K = 64$: 0; never above
#   $\ln(|\mathcal H|/\delta)/K$; worst risk against ERM 0.09; 26.1 s). The review (theory, section 8) found
#   that the bound clause *is* the union-bound theorem (it could fail only by Monte-Carlo noise), that the
#   family was easy by the chapter's own account (the never-failing subsets were exactly the invariant ones
#   and all others failed on $\gtrsim 90\%$ of interventions), and that the paper's distinctive claim, the
#   dimension-free number of environments under restricted intervention sites, was untouched. The repair
#   replaces the finite class by the linear class, sweeps $d$, adds the restricted/unrestricted contrast, and
#   demotes the complexity bound to an instrument check (the dimension $D$ of the family).
# - **Current rule** (above), committed before its first `cpu` run; it has not been changed since. Its first
#   `cpu` run: **supported**, restricted slope 0.11 (interval $-0.01$ to 0.23, so within 0.02 of the tolerance),
#   unrestricted slope 0.97 (0.89 to 1.05), paired gap 0.86 (0.71 to 1.00); median $K_{\text{needed}}$ 2.9 at
#   $d = 6$ and 3.8 at $d = 48$ (restricted) against 5.9 and 47 (unrestricted); falsification run
#   **contradicted** (restricted slope 0.97, 0.89 to 1.05). The margin is narrow: the restricted median does
#   creep up at the largest $d$ (Figure 2), and a run at larger $d$ (`gpu`, not run here) is what would tell a
#   slow growth from a flat need.

# %% [markdown]
# ## Faithfulness notes
#
# - **What changed in this repair, and why.** Per the review: the finite class of $2^d$ subsets (infeasible
#   beyond $d \approx 14$, and not the paper's class) became the linear class of one-dimensional
#   representations; one hand-made DAG became a family of nested random DAGs swept over $d$; the union-bound
#   clause, which held by arithmetic, is gone, and the complexity it stood for is measured as the dimension
#   $D$ of the intervention family and used only as a check; the rule now reads the number of environments
#   needed as $d$ grows, in a restricted and an unrestricted arm, with t-intervals over draws; the
#   falsification run (`restrict_sites` = False) intervenes everywhere in the restricted arm. The previous
#   finite-sample variant is dropped: the question here is about environments, not samples per environment.
# - **What could not be checked against the paper.** Searched: the stored web pages (corpus `pages`) for the
#   title, the arXiv id and phrases of the theorem; they hold the paper's opening only (the arXiv v3
#   markdown at hf.zsm.im, the ICML text on an sdsc.edu mirror, arxivlens, liner and tomesphere summaries).
#   The sentence quoted at the top is from the arXiv v3 abstract; the ICML camera-ready abstract, as stored,
#   omits it. So the definition of $\varepsilon$-approximate invariance (the relative change of the best scalar
#   head, the IRMv1 condition), the intervention family, the learner and the span/VC reading of the mechanism
#   are this chapter's, not quoted from the paper; no number from the paper is reproduced, because none was
#   reachable beyond the abstract.
# - **A learner, not the uniform bound.** The paper's guarantee is uniform over every approximately invariant
#   representation; the chapter measures one natural learner (the lowest pooled risk among the
#   `train_eps`-invariant ones). What it needs can sit anywhere below such a bound (compare Figure 2
#   with the dimension $D$ of Figure 3). The feasible set is an intersection of
#   quadrics and the search is local: where the constraints pin $w$ down ($K + 1 \ge d$, mostly in the
#   unrestricted arm at the sizes run) the learner often finds no nontrivial invariant $w$ and returns the
#   empty one, which then counts as not failing; below that, the fallback share is reported and capped by a
#   check. Both arms get the same learner, starts and budget.
# - **Scaled down.** Population covariances (no sampling noise), one-dimensional representations, $d \le 48$
#   (`cpu`) or 96 (`gpu`, not run here), 20 draws; in-degree $\le 2$; the restricted sites are the two children of
#   $Y$ and a root parent. The paper's latent-variable (indirect observation) extension is not shown.
# - **What the substitute cannot show.** A flat curve at these sizes does not prove independence of $d$ for
#   every family: the restricted families here keep the sites' in-degree at most 1, as the abstract's
#   condition asks; sites of growing in-degree, or sites whose number grows slowly with $d$, are not run.
