# ---
# jupyter:
#   genbook:
#     claim: Third-order (tensor) attention, whose query attends to pairs of keys, learns
#       the triple-wise Match3 task better than ordinary softmax attention of the same
#       width and budget, and keeps that lead when its attention is computed by the
#       bounded-entry polynomial algorithm that makes it near-linear in n.
#     'null':
#       task: match2
#     null_reason: Match2 needs only pairwise interactions, which one ordinary attention
#       unit computes (Sanford et al. 2023), so the triple-wise cause is absent.
#     paper: Alman & Song 2023, arXiv:2310.04064
#     part: transformers
#     profiles:
#       gpu:
#         b_grid:
#         - 0.5
#         - 1
#         - 1.5
#         - 2
#         - 2.5
#         - 3
#         - 4
#         - 6
#         batch: 256
#         degrees:
#         - 1
#         - 2
#         - 3
#         - 4
#         - 6
#         - 8
#         n_err: 256
#         n_time:
#         - 64
#         - 128
#         - 256
#         - 512
#         n_train: 200000
#         seeds: 5
#         seq_len: 16
#         steps: 10000
#         width: 128
#       smoke:
#         b_grid:
#         - 0.5
#         - 2
#         - 4
#         batch: 64
#         bench_steps: 3
#         degrees:
#         - 1
#         - 4
#         dim: 3
#         n_err: 32
#         n_time:
#         - 16
#         - 32
#         - 64
#         n_train: 2000
#         record_every: 20
#         seeds: 1
#         steps: 100
#     title: Tensor attention on Match3, exact and by the bounded-entry polynomial method
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
# # How to capture higher-order correlations? Tensor (Kronecker) attention
#
# **Paper.** Josh Alman and Zhao Song, *How to Capture Higher-order Correlations? Generalizing Matrix
# Softmax Attention to Kronecker Computation*, ICLR 2024
# ([arXiv:2310.04064](https://arxiv.org/abs/2310.04064)). A theory paper: no experiments, no official code.
# The task is the Match3 problem of Sanford, Hsu & Telgarsky (*Representational strengths and limitations
# of transformers*, NeurIPS 2023), which the paper cites as its motivation.
#
# **Claim under test.** Ordinary attention computes $D^{-1}\exp(QK^\top)V$ and so captures *pairwise*
# information. The paper's generalization takes five $n\times d$ matrices $Q, K_1, K_2, V_1, V_2$ and computes
# $$\mathrm{Att} = D^{-1}\exp\!\big(Q\,(K_1\oslash K_2)^\top\big)\,(V_1\oslash V_2),\qquad
#   D=\mathrm{diag}\big(\exp(Q(K_1\oslash K_2)^\top)\,\mathbf 1_{n^2}\big),$$
# where $K_1\oslash K_2\in\mathbb R^{n^2\times d}$ is the column-wise Kronecker product: its row $(j,k)$ is
# $K_1[j]\circ K_2[k]$. Each query attends to *pairs* of keys. The abstract says that "this generalization is
# indeed able to solve problems about detecting triple-wise connections that were shown to be impossible for
# transformers". The straightforward algorithm costs $n^3$, but "in the bounded-entry setting (which arises in
# practice ...) there is actually a near-linear time algorithm": entries bounded by $o(\sqrt[3]{\log n})$ are
# enough for an $n^{1+o(1)}$-time approximation (the upper bound), and entries of size $\Omega(\sqrt[3]{\log n})$
# rule out any $n^{3-o(1)}$ algorithm under SETH (the lower bound).
#
# What this chapter **tests** is the part an experiment can falsify: a one-layer tensor attention *trained* on
# Match3 beats ordinary attention of the same width and budget, **and keeps its lead when its attention is
# computed by the bounded-entry polynomial algorithm** instead of exactly. Whether the learned scores stay small
# enough for that depends on training, not on construction. The algorithm itself (part A) is measured as an
# **instrument check**: its error is Taylor's remainder and its cost is an operation count, so part A can only
# show that the implementation is right, never that the claim holds.
#
# **The paper's evidence.** Definitions and two theorems (upper bound by the polynomial method plus the
# identity $(U_1\oslash U_2)^\top(V_1\oslash V_2) = (U_1^\top V_1)\circ(U_2^\top V_2)$; the lower bound from
# SETH). No figures, no tables of numbers. The capability statement belongs to Sanford et al.: one standard
# attention layer needs embedding dimension or heads growing polynomially in $n$ for Match3, while a
# third-order tensor attention unit solves it. That is a representational statement about large $n$, with
# no training.
#
# **What is scaled down.** Part A: $d = 4$, $n \le 256$. Part B: sequences of $n = 8$ tokens, modulus 52,
# width 32, 2,000 AdamW steps of 128 sequences, 3 seeds per arm trained as one vmapped stack (`cpu`).
# Normalization: the arXiv abstract writes $\exp(Q(K_1\oslash K_2)^\top)$ without a scale. Part A divides
# the scores by $d$ (the convention of Alman & Song's earlier *Fast attention requires bounded entries*).
# The trained layers of part B divide by $\sqrt d$, as usual in transformers. In both parts, $S$ denotes
# the scores that exp is applied to.

# %%
import itertools
import math
import resource
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits
from torch import nn

import genutils as gu
from genutils import many
from genutils.training import lr_schedule

gu.set_theme()
threads = gu.configure_threads()
T_START_WALL, T_START_CPU = time.perf_counter(), time.process_time()

# %% tags=["parameters"]
seed = 0  # base seed; seed s of either arm uses seed + s for its data and initialization
dim = 4  # d of the random inputs in part A
n_err = 64  # n of part A's error table
b_grid = [0.5, 1, 1.5, 2, 3, 4, 6]  # entry bounds B of Q, K1, K2 in part A
degrees = [1, 2, 3, 4, 6]  # Taylor degrees g of the polynomial method (must contain g_fast)
n_time = [32, 64, 128, 256]  # n of part A's timing (at least three)
task = "match3"  # part B task, match3 (triples) or match2 (pairs, the falsification run)
seq_len = 8  # n in part B
modulus = None  # M of the task; None takes the value with positive rate near 0.5 for (task, seq_len)
embed = "fourier"  # token embedding of both arms, fourier (fixed) or learned
width = 32  # d_model of both arms in part B
batch = 128  # sequences per step
n_train = 20000  # training sequences per seed (10 percent of them held out for validation)
n_test = 2000  # fresh test sequences (shared by all models)
steps = 2000  # AdamW steps per model
lr = 0.003  # AdamW learning rate (both arms)
weight_decay = 0.01  # AdamW weight decay (both arms)
seeds = 3  # seeds per arm
g_fast = 4  # the polynomial degree that decides part C
record_every = 50  # steps between train-accuracy probes
bench_steps = 20  # steps timed for the batched-against-sequential comparison (0 skips it)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    dim=gu.Int(min=1, max=6),
    n_err=gu.Int(min=4, max=512),
    b_grid=gu.List(gu.Float(gt=0), min_len=2, increasing=True),
    degrees=gu.List(gu.Int(min=1, max=10), min_len=1, increasing=True),
    n_time=gu.List(gu.Int(min=4, max=1024), min_len=3, increasing=True),
    task=gu.Choice("match3", "match2"),
    seq_len=gu.Int(min=2, max=32),
    modulus=gu.Optional(gu.Int(min=3)),
    embed=gu.Choice("fourier", "learned"),
    width=gu.Int(min=8),
    batch=gu.Int(min=2),
    n_train=gu.Int(min=100),
    n_test=gu.Int(min=100),
    steps=gu.Int(min=20),
    lr=gu.Float(gt=0),
    weight_decay=gu.Float(min=0),
    seeds=gu.Int(min=1, max=10),
    g_fast=gu.Int(min=1, max=10),
    record_every=gu.Int(min=1),
    bench_steps=gu.Int(min=0),
)
AUTO_MODULUS = {("match3", 8): 52, ("match3", 12): 96, ("match3", 16): 170,
                ("match2", 8): 12, ("match2", 12): 17, ("match2", 16): 23}
if P.g_fast not in P.degrees:
    raise gu.ParameterError("degrees", f"must contain g_fast = {P.g_fast}, got {P.degrees}")
if min(P.b_grid) > 1:
    raise gu.ParameterError("b_grid", "needs a bound B <= 1 (check K2 reads the small-entry error there)")
if P.width % 8:
    raise gu.ParameterError("width", f"must be a multiple of 8 (4 heads of even size), got {P.width}")
if P.modulus is None and (P.task, P.seq_len) not in AUTO_MODULUS:
    raise gu.ParameterError("modulus", f"no automatic value for task {P.task} at seq_len {P.seq_len} "
                            f"(known: {sorted(AUTO_MODULUS)}); give an integer")
n_val = P.n_train // 10
if P.batch > P.n_train - n_val:
    raise gu.ParameterError("batch", f"larger than the {P.n_train - n_val} training sequences")
M = P.modulus if P.modulus is not None else AUTO_MODULUS[(P.task, P.seq_len)]
if P.dim ** max(P.degrees) * P.n_err > 2e8:
    raise gu.ParameterError("degrees", f"dim^g_max × n_err = {P.dim ** max(P.degrees) * P.n_err:.2g} features: too large")
device = gu.device()
print(f"device {device}, {threads} torch threads; task {P.task}, n = {P.seq_len}, M = {M}")
P

# %% [markdown]
# ## Part A — the polynomial method on random bounded inputs (instrument checks)
#
# **Exact.** Form $S = Q(K_1\oslash K_2)^\top/d \in\mathbb R^{n\times n^2}$ explicitly (float64, in row
# blocks), $A = \exp(S)$, $\mathrm{Att} = D^{-1}A(V_1\oslash V_2)$. Cost $O(n^3 d)$.
#
# **Polynomial method (the upper bound's algorithm).** Replace $\exp(s)$ by $P_g(s) = \sum_{m\le g} s^m/m!$.
# Each power factorizes:
# $$s_{ijk}^m = \langle Q_i/d,\ K_{1,j}\circ K_{2,k}\rangle^m
#   = \big\langle (Q_i/d)^{\otimes m},\ K_{1,j}^{\otimes m}\circ K_{2,k}^{\otimes m}\big\rangle .$$
# With the features $q_m = (Q/d)^{\otimes m}$, $a_m = K_1^{\otimes m}$, $b_m = K_2^{\otimes m}$ (each row
# flattened to $d^m$ columns), the sum over all $n^2$ pairs $(j,k)$ collapses through
# $(a_m\oslash b_m)^\top(V_1\oslash V_2) = (a_m^\top V_1)\circ(b_m^\top V_2)$:
# $$\text{numerator} = \sum_{m\le g}\tfrac1{m!}\,q_m\big((a_m^\top V_1)\circ(b_m^\top V_2)\big),\qquad
#   \text{denominator} = \sum_{m\le g}\tfrac1{m!}\,q_m\big((a_m^\top\mathbf 1)\circ(b_m^\top\mathbf 1)\big).$$
# No $n\times n^2$ object is formed. The cost is $O(n\cdot\sum_m d^m\cdot d)$, linear in $n$. All $d^m$ monomials
# are kept (no symmetrisation): the rank is $\sum_m d^m$, larger than the paper's binomial count, and the
# result is the same.
#
# **Closed-form error bound (check K2).** Let $s_{\max} = \max|S|$. By Lagrange's remainder,
# $|e^s - P_g(s)| \le r = s_{\max}^{g+1}e^{s_{\max}}/(g+1)!$ for $|s|\le s_{\max}$. Write $N_i, D_i$ for the
# exact numerator and denominator of row $i$ and $\tilde N_i,\tilde D_i$ for the polynomial ones. Because
# $|V_1\circ V_2|\le 1$, we have $|N_i|\le D_i$, and $D_i\ge n^2e^{-s_{\max}}$, so
# $|\tilde N_i - N_i|,\ |\tilde D_i - D_i| \le n^2 r \le \varepsilon D_i$ with
# $\varepsilon = r\,e^{s_{\max}} = s_{\max}^{g+1}e^{2s_{\max}}/(g+1)!$. Then
# $$\Big|\tfrac{\tilde N_i}{\tilde D_i}-\tfrac{N_i}{D_i}\Big|
#   = \Big|\tfrac{(\tilde N_i-N_i)D_i - N_i(\tilde D_i-D_i)}{D_i\tilde D_i}\Big| \le \frac{2\varepsilon}{1-\varepsilon}
#   \quad(\varepsilon<1),$$
# and the relative error $\|\mathrm{Att}_g-\mathrm{Att}\|_{\max}/\|\mathrm{Att}\|_{\max}$ is at most
# $2\varepsilon/((1-\varepsilon)\|\mathrm{Att}\|_{\max})$ (no bound if $\varepsilon\ge1$).

# %%
BLOCK = 64  # rows of S formed at a time by the exact algorithm


def kron_rows(K1: np.ndarray, K2: np.ndarray) -> np.ndarray:
    """K1 ⊘ K2 (n², d): row (j, k) is K1[j] ∘ K2[k]."""
    return (K1[:, None, :] * K2[None, :, :]).reshape(-1, K1.shape[1])


def scores_explicit(Q, K1, K2) -> np.ndarray:
    """S = Q (K1 ⊘ K2)ᵀ / d, the n × n² score matrix."""
    return Q @ kron_rows(K1, K2).T / Q.shape[1]


def attention_exact(Q, K1, K2, V1, V2) -> np.ndarray:
    """D⁻¹ exp(S) (V1 ⊘ V2), forming S block by block (a row shift by its max leaves D⁻¹A unchanged)."""
    KK, VV = kron_rows(K1, K2), kron_rows(V1, V2)
    out = np.empty_like(Q)
    for r in range(0, Q.shape[0], BLOCK):
        S = Q[r:r + BLOCK] @ KK.T / Q.shape[1]
        A = np.exp(S - S.max(1, keepdims=True))
        out[r:r + BLOCK] = (A @ VV) / A.sum(1, keepdims=True)
    return out


def attention_poly_explicit(Q, K1, K2, V1, V2, g: int) -> np.ndarray:
    """D̃⁻¹ P_g(S) (V1 ⊘ V2) from the explicit scores: the reference for check K1."""
    S, VV = scores_explicit(Q, K1, K2), kron_rows(V1, V2)
    Pg = sum(S ** m / math.factorial(m) for m in range(g + 1))
    return (Pg @ VV) / Pg.sum(1, keepdims=True)


def attention_poly_fast(Q, K1, K2, V1, V2, g: int) -> np.ndarray:
    """The polynomial method: D̃⁻¹ P_g(S) (V1 ⊘ V2) by tensor-power features, never forming S."""
    n, d = Q.shape
    Qd = Q / d
    q, a, b = np.ones((n, 1)), np.ones((n, 1)), np.ones((n, 1))
    num, den = np.zeros((n, V1.shape[1])), np.zeros(n)
    for m in range(g + 1):
        if m:
            q = (q[:, :, None] * Qd[:, None, :]).reshape(n, -1)
            a = (a[:, :, None] * K1[:, None, :]).reshape(n, -1)
            b = (b[:, :, None] * K2[:, None, :]).reshape(n, -1)
        c = 1.0 / math.factorial(m)
        num += c * (q @ ((a.T @ V1) * (b.T @ V2)))
        den += c * (q @ (a.sum(0) * b.sum(0)))
    return num / den[:, None]


def inputs(n: int, d: int, B: float, rng: np.random.Generator):
    """Q, K1, K2 uniform in [−B, B]; V1, V2 uniform in [−1, 1]."""
    Q, K1, K2 = (rng.uniform(-B, B, (n, d)) for _ in range(3))
    V1, V2 = (rng.uniform(-1, 1, (n, d)) for _ in range(2))
    return Q, K1, K2, V1, V2


def error_bound(s_max: float, g: int, att_max: float) -> float:
    """The closed-form bound on the relative error (see the derivation above); inf where it does not apply."""
    eps = s_max ** (g + 1) * math.exp(2 * s_max) / math.factorial(g + 1)
    return 2 * eps / ((1 - eps) * att_max) if eps < 1 else math.inf


rng_a = np.random.default_rng(P.seed)
err_rows = []
for B in P.b_grid:
    X = inputs(P.n_err, P.dim, B, rng_a)
    exact = attention_exact(*X)
    s_max = float(np.abs(scores_explicit(*X[:3])).max())
    att_max = float(np.abs(exact).max())
    for g in P.degrees:
        fast = attention_poly_fast(*X, g)
        ref = attention_poly_explicit(*X, g)
        err_rows.append({
            "B": B, "g": g, "s_max": s_max,
            "rel_error": float(np.abs(fast - exact).max() / att_max),
            "bound": error_bound(s_max, g, att_max),
            "k1_rel_diff": float(np.abs(fast - ref).max() / np.abs(ref).max()),
        })
err = pd.DataFrame(err_rows)
print(err.pivot(index="B", columns="g", values="rel_error").map(lambda v: f"{v:.1e}").to_string())
print("max|S| per B:", err.groupby("B").s_max.first().round(2).to_dict())

# %% [markdown]
# **Timing.** CPU time (`time.process_time`, BLAS held to one thread) of the exact algorithm and the
# polynomial method with $g = $ `g_fast` at $B = 1$, median of 3 repeats per $n$. CPU time rather than wall
# time, so other processes on a shared machine do not bend the slopes. The slope of log time against log $n$
# is fitted over the largest three $n$.

# %%
def cpu_time(fn, *args) -> float:
    """Median CPU seconds of three calls."""
    ts = []
    for _ in range(3):
        t0 = time.process_time()
        fn(*args)
        ts.append(time.process_time() - t0)
    return float(np.median(ts))


time_rows = []
with threadpool_limits(limits=1):
    for n in P.n_time:
        X = inputs(n, P.dim, 1.0, np.random.default_rng(P.seed + n))
        time_rows.append({"n": n, "method": "exact", "cpu_s": cpu_time(attention_exact, *X)})
        time_rows.append({"n": n, "method": f"polynomial g={P.g_fast}",
                          "cpu_s": cpu_time(attention_poly_fast, *X, P.g_fast)})
timing = pd.DataFrame(time_rows)


def loglog_slope(df: pd.DataFrame) -> float:
    """Least-squares slope of log time on log n over the largest three n."""
    top = df.sort_values("n").tail(3)
    return float(np.polyfit(np.log(top.n), np.log(np.maximum(top.cpu_s, 1e-7)), 1)[0])


slope_exact = loglog_slope(timing[timing.method == "exact"])
slope_fast = loglog_slope(timing[timing.method != "exact"])
print(timing.pivot(index="n", columns="method", values="cpu_s").map(lambda v: f"{1e3 * v:.2f} ms").to_string())
print(f"fitted slopes (top three n): exact {slope_exact:.2f}, polynomial {slope_fast:.2f}")

# %% [markdown]
# **Figure 1.** Relative error of the polynomial method against the entry bound $B$, one line per degree
# (log scale), with the band $\max|S|\approx 1$ shaded. Look for: errors falling geometrically with $g$ at
# small $B$, and every line pinned near 1 once $B$ is large. This is a check, not evidence.

# %%
fig, ax = gu.subplots(width=6, height=4)
sns.lineplot(data=err, x="B", y="rel_error", hue="g", marker="o", palette="viridis", ax=ax)
near_one = err.groupby("B").s_max.first()
lo_b = near_one[near_one <= 1.0].index.max() if (near_one <= 1.0).any() else min(P.b_grid)
hi_b = near_one[near_one >= 1.0].index.min() if (near_one >= 1.0).any() else max(P.b_grid)
ax.axvspan(lo_b, hi_b, color="grey", alpha=0.2, label="max|S| ≈ 1")
ax.set_yscale("log")
ax.set(xlabel="entry bound B of Q, K1, K2", ylabel="relative error ‖Att_g − Att‖max / ‖Att‖max",
       title=f"polynomial method, n = {P.n_err}, d = {P.dim}")
ax.legend(title="degree g")

# %% [markdown]
# **Figure 2.** CPU time against $n$ (log–log), exact against polynomial, with the fitted slopes. Look for:
# slope near 3 against near 1.

# %%
fig, ax = gu.subplots(width=6, height=4)
timing["label"] = timing.method.map({"exact": f"exact (slope {slope_exact:.2f})"}).fillna(
    f"polynomial g={P.g_fast} (slope {slope_fast:.2f})")
sns.lineplot(data=timing, x="n", y="cpu_s", hue="label", marker="o", ax=ax)
ax.set(xscale="log", yscale="log", xlabel="sequence length n", ylabel="CPU seconds (median of 3)",
       title=f"tensor attention, d = {P.dim}")
ax.legend(title=None)

# %% [markdown]
# ## Part B — Match3 (the evidence)
#
# **Data.** A sequence has $n$ tokens $x_i\in\{0,\dots,M-1\}$, uniform. Under Match3, $y_i = 1$ if some
# positions $j, k$ (any, $j = k$ and $i$ itself allowed) have $x_i + x_j + x_k \equiv 0 \pmod M$. Under Match2
# (the falsification task), $y_i = 1$ if some $j$ has $x_i + x_j\equiv 0$. The vectorised labeller marks which
# residues the pair sums (or the tokens) reach, then looks up $-x_i$. A brute-force triple loop checks it on
# 200 sequences. Each seed has its own `n_train` sequences (10 % held out for validation); all models share
# `n_test` fresh test sequences.

# %%
def make_labels(x: torch.Tensor, which: str, mod: int) -> torch.Tensor:
    """Per-position labels (B, n) of Match3 or Match2, vectorised."""
    reach = (x[:, :, None] + x[:, None, :]) % mod if which == "match3" else x
    present = torch.zeros(x.shape[0], mod, dtype=torch.bool)
    present.scatter_(1, reach.reshape(x.shape[0], -1), True)
    return present.gather(1, (-x) % mod).float()


def brute_labels(x: list[int], which: str, mod: int) -> list[int]:
    """The same labels by enumerating every pair (Match3) or every position (Match2)."""
    n = len(x)
    if which == "match3":
        return [int(any((x[i] + x[j] + x[k]) % mod == 0 for j in range(n) for k in range(n))) for i in range(n)]
    return [int(any((x[i] + x[j]) % mod == 0 for j in range(n))) for i in range(n)]


def sample(n_seq: int, gen_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(gen_seed)
    x = torch.randint(0, M, (n_seq, P.seq_len), generator=g)
    return x, make_labels(x, P.task, M)


data = [sample(P.n_train, P.seed + s) for s in range(P.seeds)]
x_test, y_test = sample(P.n_test, P.seed + 10_000)
labels_agree = all(brute_labels(x.tolist(), P.task, M) == y.int().tolist()
                   for x, y in zip(x_test[:200], y_test[:200]))
pos_rate = float(y_test.mean())
train_rate = float(torch.stack([d[1].mean() for d in data]).mean())
majority = max(pos_rate, 1 - pos_rate)
x_tr = torch.stack([d[0][n_val:] for d in data]).to(device)
y_tr = torch.stack([d[1][n_val:] for d in data]).to(device)
x_val = torch.stack([d[0][:n_val] for d in data]).to(device)
y_val = torch.stack([d[1][:n_val] for d in data]).to(device)
probe = min(1024, x_tr.shape[1])
print(f"positive rate: test {pos_rate:.3f}, train {train_rate:.3f}; majority-class rate {majority:.3f}; "
      f"vectorised labels = brute force on 200 sequences: {labels_agree}")

# %% [markdown]
# **Models.** Both arms have one layer of the same width $w$ = `width`. The token embedding (`embed`) is
# either `fourier`, the fixed map $x\mapsto[\cos, \sin](2\pi f x/M)$ for $f = 1,\dots,w/2$ (only distinct
# frequencies kept, zero-padded), or `learned`. A learned position embedding is added. Then come a pre-LN
# residual attention block, a pre-LN residual MLP ($w\to 2w\to w$, GELU), a final LayerNorm and a logistic
# head at every position.
#
# - **matrix attention**: ordinary non-causal softmax attention, 4 heads of size $w/4$.
# - **tensor attention**: one head as the paper defines it. $q, k_1, k_2, v_1, v_2 \in\mathbb R^{n\times w}$
#   come from one linear map. The scores are $S_{ijk} = \langle q_i, k_{1,j}\circ k_{2,k}\rangle/\sqrt w$ over
#   all $n^2$ pairs (einsum `bic,bjc,bkc->bijk`), the attention is a softmax over the pairs, and the output is
#   $\sum_{jk}A_{ijk}\,v_{1,j}\circ v_{2,k}$ (einsum `bijk,bjc,bkc->bic`). $n^3w$ per sequence.
#   With `degree = g` the same trained layer uses $P_g(S)$ in place of $\exp(S)$:
#   $\tilde D^{-1}P_g(S)V$, exactly what part A's factorized algorithm computes (check K1). Here it is evaluated
#   on the explicit scores, because $n$ is small.
#
# The tensor arm has more attention parameters ($5w^2$ against $3w^2$ for $q,k,v$). Both counts are printed.
# **Training** is the same for both arms: BCE on all positions, AdamW (`lr`, weight decay `weight_decay`,
# β = 0.9, 0.999), a 5 % linear warm-up and then a constant rate, gradient norm clipped at 1, batch `batch`,
# `steps` steps. The `seeds` models of one arm train together as one stack (`genutils.many.train_many`,
# vmap). Seed s has the same initialization seed and the same data in both arms.

# %%
def fourier_table(mod: int, w: int) -> torch.Tensor:
    """(mod, w) fixed features [cos, sin](2π f x / mod), f = 1 … w/2, distinct frequencies only, zero-padded."""
    x = torch.arange(mod, dtype=torch.float64)[:, None]
    cols = []
    for f in range(1, w // 2 + 1):
        if 2 * f < mod:
            cols += [torch.cos(2 * math.pi * f * x / mod), torch.sin(2 * math.pi * f * x / mod)]
        elif 2 * f == mod:
            cols.append(torch.cos(2 * math.pi * f * x / mod))
    table = torch.cat(cols, 1) if cols else torch.zeros(mod, 0, dtype=torch.float64)
    return F.pad(table, (0, w - table.shape[1])).float()


FOURIER = fourier_table(M, P.width)
N_HEADS = 4


class OneLayer(nn.Module):
    """Token + position embedding, one residual attention block (matrix or tensor), residual MLP, logistic head."""

    def __init__(self, kind: str):
        super().__init__()
        w = P.width
        self.kind = kind
        if P.embed == "fourier":
            self.register_buffer("tok_table", FOURIER.clone())
            self.tok = None
        else:
            self.tok = nn.Embedding(M, w)
        self.pos = nn.Parameter(0.02 * torch.randn(P.seq_len, w))
        self.ln_a, self.ln_m, self.ln_f = nn.LayerNorm(w), nn.LayerNorm(w), nn.LayerNorm(w)
        self.qkv = nn.Linear(w, (3 if kind == "matrix" else 5) * w)
        self.proj = nn.Linear(w, w)
        self.mlp = nn.Sequential(nn.Linear(w, 2 * w), nn.GELU(), nn.Linear(2 * w, w))
        self.head = nn.Linear(w, 1)

    def tensor_scores(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """S (B, n, n, n) = ⟨q_i, k1_j ∘ k2_k⟩/√w, and the values v1, v2 (B, n, w)."""
        q, k1, k2, v1, v2 = self.qkv(h).chunk(5, dim=-1)
        S = torch.einsum("bic,bjc,bkc->bijk", q, k1, k2) / math.sqrt(P.width)
        return S, v1, v2

    def attend(self, h: torch.Tensor, degree: int | None = None) -> torch.Tensor:
        B, n, w = h.shape
        if self.kind == "matrix":
            q, k, v = (t.reshape(B, n, N_HEADS, w // N_HEADS).transpose(1, 2) for t in self.qkv(h).chunk(3, -1))
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(w // N_HEADS)).softmax(-1)
            return (att @ v).transpose(1, 2).reshape(B, n, w)
        S, v1, v2 = self.tensor_scores(h)
        if degree is None:
            A = S.reshape(B, n, n * n).softmax(-1).reshape(B, n, n, n)
        else:
            Pg = sum(S ** m / math.factorial(m) for m in range(degree + 1))
            A = Pg / Pg.sum((-2, -1), keepdim=True)
        t = torch.einsum("bijk,bjc->bikc", A, v1)  # sum over j first: n³w, no (B, n, n, n, w) tensor
        return (t * v2[:, None, :, :]).sum(2)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        e = self.tok_table[x] if self.tok is None else self.tok(x)
        return e + self.pos

    def forward(self, x: torch.Tensor, degree: int | None = None) -> torch.Tensor:
        h = self.hidden(x)
        h = h + self.proj(self.attend(self.ln_a(h), degree))
        h = h + self.mlp(self.ln_m(h))
        return self.head(self.ln_f(h)).squeeze(-1)


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, y)


KINDS = ("matrix", "tensor")
n_params = {k: sum(p.numel() for p in OneLayer(k).parameters()) for k in KINDS}
print("parameters per model:", n_params)
sched = lr_schedule("constant", P.steps, warmup=0.05)
TRAIN_CFG = dict(batch_size=P.batch, optimizer="adamw", lr=P.lr, weight_decay=P.weight_decay, schedule=sched,
                 clip=1.0, per_model_data=True)
init_seeds = [P.seed + s for s in range(P.seeds)]
data_seeds = [P.seed + 100 + s for s in range(P.seeds)]


def accuracy(models: many.ManyModels, x: torch.Tensor, y: torch.Tensor, per_model: bool) -> torch.Tensor:
    """Per-model per-position accuracy (K,)."""
    out = models(x, per_model=per_model)
    return ((out > 0).float() == (y if per_model else y[None])).float().mean((1, 2))


def train_arm(kind: str, n_steps: int, which: list[int], record_at=()) -> tuple[many.ManyModels, many.History]:
    """Train the stack of arm `kind` for seeds `which` (indices into init_seeds); record train/val accuracy."""
    models = many.stack(lambda: OneLayer(kind), [init_seeds[i] for i in which], device)
    xs, ys, xv, yv = x_tr[which], y_tr[which], x_val[which], y_val[which]

    def record(m: many.ManyModels, t: int) -> dict[str, torch.Tensor]:
        return {"train_acc": accuracy(m, xs[:, :probe], ys[:, :probe], True),
                "val_acc": accuracy(m, xv, yv, True)}

    hist = many.train_many(models, xs, ys, loss_fn, steps=n_steps, data_seeds=[data_seeds[i] for i in which],
                           record=record, record_at=record_at, desc=f"{kind} attention", **TRAIN_CFG)
    return models, hist


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


# %% [markdown]
# ### Batched against one-by-one training
#
# Before the real runs, and after one untimed warm-up step: `bench_steps` steps of the tensor arm's `seeds`
# models as one stack, then the same steps with each model alone (a stack of one). Wall and CPU times are
# printed. They are not statistics: the record must be the same for the same seed.

# %%
bench = {}
if P.bench_steps:
    all_seeds = list(range(P.seeds))
    train_arm("tensor", 1, all_seeds)
    w0, c0 = clock()
    train_arm("tensor", P.bench_steps, all_seeds)
    w1, c1 = clock()
    for s in all_seeds:
        train_arm("tensor", P.bench_steps, [s])
    w2, c2 = clock()
    bench = {"batched_wall_s": w1 - w0, "batched_cpu_s": c1 - c0, "sequential_wall_s": w2 - w1,
             "sequential_cpu_s": c2 - c1}
    print(f"tensor arm, {P.seeds} models × {P.bench_steps} steps: batched {bench['batched_wall_s']:.2f} s wall "
          f"({bench['batched_cpu_s']:.2f} s CPU), one by one {bench['sequential_wall_s']:.2f} s wall "
          f"({bench['sequential_cpu_s']:.2f} s CPU): speed-up ×{bench['sequential_wall_s'] / bench['batched_wall_s']:.2f}"
          f" wall, ×{bench['sequential_cpu_s'] / max(bench['batched_cpu_s'], 1e-9):.2f} CPU")

# %%
record_at = sorted(set(range(0, P.steps + 1, P.record_every)) | {P.steps, round(0.75 * P.steps)})
trained, curves, train_times = {}, [], {}
for kind in KINDS:
    w0, c0 = clock()
    trained[kind], hist = train_arm(kind, P.steps, list(range(P.seeds)), record_at)
    w1, c1 = clock()
    train_times[kind] = (w1 - w0, c1 - c0)
    fr = hist.frame()
    fr["arm"], fr["seed"] = kind, [init_seeds[i] for i in fr.model]
    curves.append(fr)
    print(f"{kind} attention: {P.seeds} models × {P.steps} steps, {w1 - w0:.1f} s wall, {c1 - c0:.1f} s CPU")
curves = pd.concat(curves, ignore_index=True)

with torch.no_grad():
    acc = {k: accuracy(trained[k], x_test.to(device), y_test.to(device), False).cpu().numpy() for k in KINDS}
# both arms were trained by train_arm with the one TRAIN_CFG, the same width, steps, seeds and embedding
fair_arms = float(len({OneLayer(k).qkv.in_features for k in KINDS}) == 1 and len(set(train_times)) == 2)


def late_gain(kind: str) -> float:
    """Mean train accuracy at the end minus at 75 % of the steps."""
    c = curves[curves.arm == kind].groupby("step").train_acc.mean()
    return float(c.loc[P.steps] - c.loc[round(0.75 * P.steps)])


final = curves[curves.step == P.steps].set_index(["arm", "seed"])[["train_acc", "val_acc"]]
print(final.round(3).to_string())
print(f"test accuracy: matrix {np.round(acc['matrix'], 3)}, tensor {np.round(acc['tensor'], 3)}; "
      f"majority {majority:.3f}; train-accuracy gain over the last 25 %: matrix {late_gain('matrix'):+.3f}, "
      f"tensor {late_gain('tensor'):+.3f}")

# %% [markdown]
# ## Part C — the trained tensor layers under the polynomial method
#
# For every trained tensor model, $\exp$ in its attention is replaced by $P_g$ for each $g$ in `degrees`, and
# the test set is scored again. The decisive degree is `g_fast`. Alongside, the learned scores $|S|$ on the
# test sequences (median, 99th percentile, max): this is the learned analogue of part A's bound $B$.

# %%
poly_rows, s_rows, s_hist = [], [], []
with torch.no_grad():
    xt, yt = x_test.to(device), y_test.to(device)
    for i in range(P.seeds):
        m = trained["tensor"].model(i)
        for g in [None] + list(P.degrees):
            pred = (m(xt, degree=g) > 0).float()
            poly_rows.append({"seed": init_seeds[i], "g": "exact" if g is None else g,
                              "accuracy": float((pred == yt).float().mean())})
        S = m.tensor_scores(m.ln_a(m.hidden(xt)))[0].abs().flatten().cpu()
        qs = torch.quantile(S[torch.randperm(S.numel(), generator=torch.Generator().manual_seed(i))[:2_000_000]],
                            torch.tensor([0.5, 0.99]))
        s_rows.append({"seed": init_seeds[i], "median": float(qs[0]), "q99": float(qs[1]), "max": float(S.max())})
        s_hist.append(pd.DataFrame({"seed": init_seeds[i], "abs_S": S[:: max(1, S.numel() // 50_000)].numpy()}))
poly = pd.DataFrame(poly_rows)
s_stats = pd.DataFrame(s_rows)
s_hist = pd.concat(s_hist, ignore_index=True)
acc_T_g = {g: np.array(poly[poly.g == g].accuracy) for g in P.degrees}
print(poly.pivot(index="seed", columns="g", values="accuracy").round(3).to_string())
print(s_stats.round(3).to_string(index=False))

# %% [markdown]
# ### Instrument checks and time
#
# K1: the factorized algorithm equals the explicit polynomial attention. K2: every error lies below the
# closed-form bound, and the degree-`g_fast` error at $B\le1$ is at most 1e-3. K3: the fitted slopes are
# ≥ 2.3 (exact) and ≤ 1.5 (polynomial); the record keeps whether both pass, since times differ between runs. K4: the labels agree with brute force and the positive rate is in
# [0.4, 0.6]. K5: the same training configuration serves both arms, and the matrix arm has stopped learning:
# its mean train accuracy rises by less than 0.02 over the last 25 % of the steps.

# %%
k1_max = float(err.k1_rel_diff.max())
k2_violations = int((err.rel_error > err.bound * (1 + 1e-9)).sum())
small = err[(err.B <= 1.0) & (err.g == P.g_fast)]
k2_small_err = float(small.rel_error.max())
print(f"K1 max relative difference factorized vs explicit {k1_max:.1e} (per B: "
      f"{err.groupby('B').k1_rel_diff.max().map(lambda v: f'{v:.0e}').to_dict()})")
print(f"K2 bound violations {k2_violations}; degree-{P.g_fast} error at B <= 1: {k2_small_err:.1e}")
print(f"K3 slopes exact {slope_exact:.2f}, polynomial {slope_fast:.2f}")
print(f"K4 labels agree {labels_agree}, positive rate {pos_rate:.3f}; K5 matrix late gain {late_gain('matrix'):+.3f}")

# %% [markdown]
# **Figure 3.** Test accuracy of each trained model (one dot per seed), with the tensor arm under the
# polynomial method of degree `g_fast` beside it and the majority-class rate as a line. Look for: tensor above
# matrix, on the task that needs triples.

# %%
dots = pd.DataFrame(
    [{"model": "matrix attention", "accuracy": a} for a in acc["matrix"]]
    + [{"model": "tensor attention (exact)", "accuracy": a} for a in acc["tensor"]]
    + [{"model": f"tensor attention (P_{P.g_fast})", "accuracy": a} for a in acc_T_g[P.g_fast]])
fig, ax = gu.subplots(width=6, height=4)
sns.stripplot(data=dots, x="model", y="accuracy", size=8, jitter=0.1, ax=ax)
ax.axhline(majority, ls="--", c="grey", label=f"majority class {majority:.2f}")
ax.set(xlabel=None, ylabel="per-position test accuracy",
       title=f"{P.task}, n = {P.seq_len}, M = {M}, width {P.width}, {P.steps} steps")
ax.legend()

# %% [markdown]
# **Figure 4.** Left: the test accuracy of each trained tensor model against the polynomial degree $g$ (dashed
# lines: the same model with exact attention; grey band: the matrix arm's mean ± sd). Right: the distribution
# of the learned $|S|$ on test sequences. Look for: curves that reach the dashed line by $g = $ `g_fast` if
# the learned entries are bounded, and curves left near the majority rate if detecting triples needed sharp
# (large) scores.

# %%
fig, axes = gu.subplots(2, width=5.5, height=4)
ax = axes[0]
pg = poly[poly.g != "exact"].astype({"g": int})
sns.lineplot(data=pg, x="g", y="accuracy", hue="seed", marker="o", palette="tab10", ax=ax, legend=True)
for j, s in enumerate(init_seeds):
    ax.axhline(float(poly[(poly.g == "exact") & (poly.seed == s)].accuracy.iloc[0]), ls="--",
               c=sns.color_palette("tab10")[j % 10], lw=1)
mm, sd = float(acc["matrix"].mean()), float(acc["matrix"].std())
ax.axhspan(mm - sd - 1e-3, mm + sd + 1e-3, color="grey", alpha=0.25, label="matrix arm")
ax.axhline(majority, ls=":", c="k", lw=1)
ax.set(xlabel="polynomial degree g (dashed: exact softmax)", ylabel="test accuracy", title="trained tensor layers")
ax.legend(title="tensor seed", loc="lower right")
ax = axes[1]
sns.histplot(data=s_hist, x="abs_S", hue="seed", bins=60, element="step", palette="tab10", ax=ax)
ax.set(yscale="log", xlabel="|S| = |⟨q_i, k1_j ∘ k2_k⟩| / √w on test sequences", ylabel="count (subsample)",
       title="learned scores")

# %% [markdown]
# **Figure 5.** Train accuracy (solid) and validation accuracy (dashed) during training. Look for: whether the
# matrix arm is still rising at the end (check K5).

# %%
long = curves.melt(id_vars=["step", "arm", "seed"], value_vars=["train_acc", "val_acc"], var_name="split",
                   value_name="accuracy")
fig, ax = gu.subplots(width=6, height=4)
sns.lineplot(data=long, x="step", y="accuracy", hue="arm", style="split", units="seed", estimator=None, ax=ax)
ax.axhline(majority, ls=":", c="grey")
ax.set(xlabel="optimizer step", ylabel="per-position accuracy", title="training curves")

# %% [markdown]
# ## Verdict
#
# Per seed: acc_M (matrix), acc_T (tensor, exact), acc_T^fast (the same tensor model with $P_{g_\text{fast}}$).
# gap = mean acc_T^fast − mean acc_M; gap_exact = mean acc_T − mean acc_M; majority is the test set's
# majority-class rate. `perm_p` is the exact one-sided permutation p-value of the difference of means
# (acc_T^fast against acc_M, all splits of the 2·`seeds` values; 0.05 with 3 against 3 fully separated, 0.5
# with one seed).
#
# - **checks** K1–K5 above (any failure ⇒ `inconclusive`).
# - **supported**: gap ≥ 0.05, every tensor seed's acc_T^fast above every matrix seed's acc_M, perm_p ≤ 0.05,
#   and mean acc_T^fast ≥ majority + 0.1.
# - **contradicted**: mean acc_T ≥ majority + 0.1 (the tensor layer learned the task), and either (i)
#   gap_exact ≤ 0 and gap < 0.05 (no capability advantage), or (ii) gap_exact ≥ 0.05 but gap ≤ 0 (the advantage
#   exists only with unbounded entries).
# - otherwise `inconclusive`.

# %%
def perm_p(a: np.ndarray, b: np.ndarray) -> float:
    """Exact one-sided permutation p-value of mean(a) − mean(b) over all splits of the pooled values."""
    pooled, k = np.concatenate([a, b]), len(a)
    obs = a.mean() - b.mean()
    diffs = [pooled[list(c)].mean() - np.delete(pooled, list(c)).mean()
             for c in itertools.combinations(range(len(pooled)), k)]
    return float(np.mean(np.array(diffs) >= obs - 1e-12))


acc_M, acc_T, acc_Tf = acc["matrix"], acc["tensor"], acc_T_g[P.g_fast]
ci = lambda v: gu.t_interval(v) if len(v) >= 2 else (float("nan"), float("nan"))
statistics = {
    "acc_M": float(acc_M.mean()),
    "acc_T": float(acc_T.mean()),
    "acc_T_fast": float(acc_Tf.mean()),
    "majority": majority,
    "gap": float(acc_Tf.mean() - acc_M.mean()),
    "gap_exact": float(acc_T.mean() - acc_M.mean()),
    "acc_T_over_majority": float(acc_T.mean() - majority),
    "acc_T_fast_over_majority": float(acc_Tf.mean() - majority),
    "separation": float(acc_Tf.min() - acc_M.max()),
    "perm_p": perm_p(acc_Tf, acc_M),
    "k1_max_rel_diff": float(f"{k1_max:.2g}"),  # rounding residue: two significant digits
    "k2_bound_violations": float(k2_violations),
    "k2_small_B_error": float(f"{k2_small_err:.3g}"),
    # timings vary from run to run: the record keeps only whether the fitted slopes pass (margins are wide)
    "k3_slopes_ok": float(slope_exact >= 2.3 and slope_fast <= 1.5),
    "labels_agree": float(labels_agree),
    "positive_rate": pos_rate,
    "fair_arms": fair_arms,
    "matrix_late_gain": late_gain("matrix"),
    "tensor_late_gain": late_gain("tensor"),
    # float32 sums depend on the thread count in the last digits: three significant digits are kept
    "abs_S_q99": float(f"{s_stats.q99.mean():.3g}"),
    "abs_S_max": float(f"{s_stats['max'].max():.3g}"),
    "params_matrix": float(n_params["matrix"]),
    "params_tensor": float(n_params["tensor"]),
    **{f"acc_T_g{g}": float(v.mean()) for g, v in acc_T_g.items()},
}
for name, v in (("acc_M", acc_M), ("acc_T", acc_T), ("acc_T_fast", acc_Tf)):
    lo, hi = ci(v)
    print(f"{name}: mean {v.mean():.3f}, 95 % t-interval [{lo:.3f}, {hi:.3f}], per seed {np.round(v, 3)}")
print(f"matrix vs tensor parameters: {n_params['matrix']} vs {n_params['tensor']}")

RULE = gu.rule(
    supported=gu.all_of(
        gu.cond("gap", ">=", 0.05),
        gu.cond("separation", ">", 0.0),
        gu.cond("perm_p", "<=", 0.05),
        gu.cond("acc_T_fast_over_majority", ">=", 0.1),
    ),
    contradicted=gu.all_of(
        gu.cond("acc_T_over_majority", ">=", 0.1),
        gu.any_of(
            gu.all_of(gu.cond("gap_exact", "<=", 0.0), gu.cond("gap", "<", 0.05)),
            gu.all_of(gu.cond("gap_exact", ">=", 0.05), gu.cond("gap", "<=", 0.0)),
        ),
    ),
    checks={
        "K1_factorized_is_the_polynomial": gu.cond("k1_max_rel_diff", "<=", 1e-9),
        "K2_errors_below_taylor_bound": gu.cond("k2_bound_violations", "<=", 0.0),
        "K2_small_entries_accurate": gu.cond("k2_small_B_error", "<=", 1e-3),
        "K3_exact_cubic_polynomial_linear": gu.cond("k3_slopes_ok", ">=", 1.0),
        "K4_labels_brute_force": gu.cond("labels_agree", ">=", 1.0),
        "K4_positive_rate": gu.cond("positive_rate", "between", [0.4, 0.6]),
        "K5_fair_arms": gu.cond("fair_arms", ">=", 1.0),
        "K5_matrix_arm_converged": gu.cond("matrix_late_gain", "<", 0.02),
    },
)
clause = ("(i) no capability advantage" if statistics["gap_exact"] <= 0 and statistics["gap"] < 0.05 else
          "(ii) the advantage needs unbounded entries" if statistics["gap_exact"] >= 0.05 and statistics["gap"] <= 0
          else "none")
print(f"contradicted clause that holds (if the verdict is contradicted): {clause}")
record = gu.report_verdict(
    chapter="tensor_attention", params=P, rule=RULE, statistics=statistics, seeds=init_seeds,
    headline=["acc_M", "acc_T", "acc_T_fast", "majority", "gap", "gap_exact"],
)
w_end, c_end = clock()
ru = resource.getrusage(resource.RUSAGE_SELF)
print(f"chapter body: {w_end - T_START_WALL:.1f} s wall, {c_end - T_START_CPU:.1f} s CPU; process user+sys "
      f"{ru.ru_utime + ru.ru_stime:.1f} s")

# %% [markdown]
# ### Reading (`cpu`, seed 0, first runs of the pre-registered rule)
#
# - **Main run (Match3): `inconclusive`, because gap = 0.047 < 0.05.** Matrix attention reaches 0.749 / 0.748 /
#   0.747 test accuracy (majority 0.517). It has stopped learning: train accuracy rose +0.004 over the last
#   25 % of the steps, so K5 holds. Tensor attention with exact softmax reaches 0.989 / 0.916 / 0.976 (mean
#   0.960, gap_exact = +0.212) and was still rising (+0.059). So the capability half of the claim shows
#   clearly at this size: a triple-wise layer of the same width learns Match3, and ordinary attention stops
#   at 0.75. The bounded-entry half does not hold as strongly. With the degree-4 polynomial in place of exp,
#   the same trained layers score 0.816 / 0.770 / 0.800 (mean 0.795). That is still above every matrix seed
#   (perm_p = 0.05, separation +0.021), but the lead falls from 0.21 to 0.047, just under the rule's 0.05. It
#   is not `contradicted` either: clause (ii) needs the lead to vanish (gap ≤ 0).
# - **Why: the learned scores are not small.** On test sequences |S| has a median of 2.4–2.6, a 99th
#   percentile of 10–11 and a maximum of 18–26. Part A's polynomial is accurate only up to max|S| ≈ 1.7
#   (B = 1.5: degree-4 error 2.6e-3), and its error is 0.37 by max|S| ≈ 4.8. Accuracy under P_g climbs with the
#   degree (g = 1, 2, 3, 4, 6: 0.58, 0.57, 0.77, 0.80, 0.91 on average) without reaching the exact 0.96. To detect
#   triples, the layer learned sharp scores, outside the regime where the fast algorithm applies. The
#   paper's premise that bounded entries "arise in practice" is not borne out by this trained layer. At
#   g = 6 the lead would be +0.16, but the rule fixed g_fast = 4 in advance. The tensor arm was still
#   learning, and its scores may sharpen further with more steps.
# - **Falsification run (Match2, M = 12): `contradicted` by clause (i)**, as the card expected: both arms
#   solve the pairwise task (1.000 each), gap_exact = 0, gap = −0.003. Here the learned scores are smaller
#   (median 0.54–0.63, 99th percentile 3.9–5.1, max ≤ 8.6), and P_4 already recovers 0.996–1.000. The tensor
#   arm's Match3 lead is therefore not a generic advantage of the larger layer: on pairs it has none.
# - **Checks.** K1: the factorized algorithm equals the explicit polynomial attention to 3e-15. K2: no error
#   above the closed-form bound, and the degree-4 error at B ≤ 1 is 1.6e-5 (the card's prototype: 2e-5).
#   K3: exact slope 3.11 / 2.79, polynomial 0.70 / 1.06 (main / falsification run, CPU time; at n = 256, 286
#   ms against 0.8 ms). K4: labels equal brute force, and the positive rate is 0.517 (0.545 for Match2).
# - **Time.** Both runs ran at once, one thread each, on a machine shared with other sessions (load average
#   about 12 on 2 cores). Each took 107–109 s CPU (user + sys; 226 s for the pair), of which training was
#   39 s (matrix) and 57–59 s (tensor) for the 3-seed stacks of 2,000 steps. Wall time was 680–690 s each,
#   inflated by the load; on two idle cores each run should take about its CPU time. Batched against
#   one-by-one training of the 3 tensor models: ×1.30–1.43 in CPU time and ×1.33–1.36 in wall time (20 steps).

# %% [markdown]
# ### Rule history
#
# - **First rule** (this one, from study card 37 as revised for the falsification convention): committed
#   before the first `cpu` run. The card's earlier rule decided on part A alone (accuracy at small B, failure
#   at large B, time slopes). All three hold by construction, so here they are the checks K1–K3. No chapter
#   ran under that earlier rule. Two details the card left open were fixed before any run. Clause (i) of
#   `contradicted` also asks gap < 0.05, so the two branches cannot both hold. The plateau check K5 reads
#   mean train accuracy at 75 % of the steps against the end.
# - **Budget, set before the first `cpu` run.** The card's `cpu` budget of 1,000 steps was set against a
#   feared cost ("at or over 3 minutes"). A timing probe at the `cpu` sizes with 100 steps measured 1.9 s
#   (matrix) and 3.2 s (tensor) of CPU for the 3-seed stacks, so the default became 2,000 steps, chosen from
#   time alone. The extra steps serve the convergence check K5 of the control. The probe also printed its
#   accuracies (about 0.6 for both arms after 100 steps); they played no part in the choice.
# - **First `cpu` verdicts:** main `inconclusive` (gap 0.047), falsification `contradicted` by clause (i)
#   (numbers in the reading above). The rule has not been changed. The only edit after these runs is the
#   legend of Figure 4.

# %% [markdown]
# ## Faithfulness notes
#
# - **The paper is theory.** Part A measures exactly the polynomial-method algorithm its upper bound uses. It
#   cannot test the SETH lower bound (that *no* algorithm is fast for large entries), only that this one
#   fails. The threshold $\sqrt[3]{\log n}$ is asymptotic: at $n\le 512$ the chapter shows a threshold in $B$
#   (error near 1 once $\max|S|$ is a few units) but not how it depends on $n$.
# - **Approximation.** All $d^m$ monomials are kept (no symmetrisation), so the rank is $\sum_m d^m$. Plain
#   Taylor polynomials of a fixed degree stand in for the paper's low-degree polynomial approximation of exp
#   (in the theorem its degree depends on n and the error target; not re-read here). The error bound is
#   derived here, not quoted.
# - **Part B stands for the motivation.** Sanford et al.'s separation concerns width growing with $n$. One
#   small $n$ and one width cannot prove a lower bound; they can only show a learnability gap. At $n = 8$ and
#   width 32 the lower bound does not bind (width·heads ≫ n), so a `contradicted` by clause (i) means "no
#   learnability advantage at this n and budget", not that the asymptotic separation is false. The gpu profile
#   ($n = 16$, width 128, 10,000 steps, 5 seeds) is the stronger test and was not run here.
# - **Embedding.** `fourier` is a substitution: both arms are handed the modular features, so neither has to
#   discover modular arithmetic. `embed = learned` restores the harder setting of the card's prototype.
# - **Part C** uses the explicit $n\times n^2$ scores with $P_g$ in place of exp. That is the factorized
#   algorithm's output (check K1 shows the equality on part A's inputs), not its running time. The
#   bounded-entry reading is a practical proxy: the paper's $o(\sqrt[3]{\log n})$ condition is asymptotic in
#   $n$, and no single $n$ can test it.
# - **Arms.** The tensor arm has more attention parameters ($5w^2$ against $3w^2$, plus the same projection,
#   MLP and head); the counts are printed and recorded. The falsification run (Match2) is the guard against a
#   lead that comes from parameters or easier optimisation rather than triples.
