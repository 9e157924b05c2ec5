# ---
# jupyter:
#   genbook:
#     claim: EK-FAC influence estimates agree with exact inverse-Gauss-Newton influence
#       about as well as a converged LiSSA at a fraction of its cost, and in a language
#       model a candidate training sequence that states a held-out fact in the flipped
#       order has near-zero influence on a query for that fact.
#     'null':
#       both_orders: true
#       curvature: none
#     null_reason: Part A's estimator drops the curvature EK-FAC approximates (influence
#       from damped gradient dot products), which should lose the accuracy claim, and
#       Part B's corpus states every training fact in both orders, the exposure under
#       which a model could learn that flipped statements carry the same fact, so flipped
#       candidates should no longer have near-zero influence.
#     paper: Grosse, Bae, Anil, Elhage, Tamkin et al. 2023, arXiv:2308.03296
#     part: dynamics
#     profiles:
#       gpu:
#         lissa_depth: 4000
#         lm_steps: 5000
#         n_facts: 500
#         n_heldout: 100
#         n_loo: 200
#         n_queries: 100
#         n_train: 4000
#         width: 64
#       smoke:
#         lissa_depth: 100
#         lm_steps: 300
#         loo_steps: 50
#         n_facts: 20
#         n_heldout: 10
#         n_loo: 5
#         n_queries: 5
#         n_train: 300
#         train_steps: 200
#         width: 16
#     title: Influence functions with EK-FAC, and the word-order limit
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
# # Studying large language model generalization with influence functions
#
# **Paper.** Roger Grosse, Juhan Bae, Cem Anil, Nelson Elhage, Alex Tamkin, Amirhossein Tajdini, Benoit
# Steiner, Dustin Li, Esin Durmus, Ethan Perez, Evan Hubinger, Kamilė Lukošiūtė, Karina Nguyen, Nicholas
# Joseph, Sam McCandlish, Jared Kaplan and Samuel R. Bowman, *Studying Large Language Model
# Generalization with Influence Functions*, Anthropic, 2023
# ([arXiv:2308.03296](https://arxiv.org/abs/2308.03296)).
#
# **Claim under test**, in three parts, each reported on its own:
#
# 1. *accuracy*: the eigenvalue-corrected Kronecker-factored curvature (EK-FAC) gives influence
#    estimates about as accurate as the traditional iterative estimator (LiSSA), once LiSSA has converged;
# 2. *cost*: its inverse-Hessian-vector products (IHVPs) cost a small fraction of LiSSA's;
# 3. *word order*: for a query about a fact the model has not memorised, a candidate training sequence
#    that states the fact with its key phrases in the query's order is influential, while one that
#    states it in the flipped order has near-zero influence.
#
# **The paper's words.** The abstract: "EK-FAC achieves similar accuracy to traditional influence
# function estimators despite the IHVP computation being orders of magnitude faster", and "we identify
# a surprising limitation: influences decay to near-zero when the order of key phrases is flipped".
# Influence answers "how would the model's parameters (and hence its outputs) change if a given
# sequence were *added* to the training set?". The accuracy comparison is made (as the study card
# describes it; not checked against the full text) on small models against the proximal Bregman
# response function (PBRF), the quantity influence functions linearize.
# The word-order experiments score synthetic candidate sequences, not in the training set, built
# around a fictional fact (prompt "The first President of the Republic of Astrobia was", completion
# "Zorald Pfaff") for the paper's 810M and 52B models. The full text was not reachable from this
# machine (searched: the `pages` and `docs` corpora return only the abstract, via
# huggingface.co/papers/2308.03296 and anthropic.com); a reader's notes on the paper (GitHub
# repository wnma3mz/blog_posts, secondary) record that the synthetic sequences are not in the
# training set and that, in the paper's English/Mandarin ordering experiment, flipping the order cut
# influence by at least an order of magnitude. No per-figure correlation values could be quoted.
#
# **What is scaled down.** Part A uses a 40 → 32 → 10 tanh network on 1000 MNIST-1D points (1642
# parameters, `cpu`), small enough to form and invert the exact damped Gauss-Newton matrix, the
# curvature all the paper's estimators target; warm-started leave-one-out retraining plays the PBRF.
# Part B pretrains a 2-layer causal transformer (d = 64) on a synthetic corpus of 100 one-order facts
# plus mentions of every entity, then scores candidate sequences for 20 held-out facts.

# %%
import math
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from scipy import stats as sps
from torch import nn
from torch.func import jvp, vjp, vmap

import genutils as gu

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed for data, initialization and label sampling
n_train = 1000  # training points of Part A (MNIST-1D)
width = 32  # hidden width of the Part A MLP
n_queries = 20  # test points used as influence queries in Part A
damping = 1e-3  # damping lambda added to the curvature, the same for every Part A estimator
weight_decay = 1e-2  # L2 coefficient in the Part A training loss (keeps the curvature positive definite)
train_steps = 1500  # full-batch Adam steps before the L-BFGS polish (Part A)
curvature = "ekfac"  # Part A estimator under test: ekfac, kfac (no eigenvalue correction) or none (damping only)
lissa_depth = 2000  # deepest LiSSA recursion of the depth sweep (Hessian-vector products per query)
lissa_batch = 100  # minibatch size of each LiSSA Gauss-Newton-vector product
n_loo = 40  # training points removed and retrained for the ground truth (Part A)
loo_steps = 600  # warm-started gradient-descent steps of each leave-one-out retraining
n_facts = 100  # facts in the Part B training corpus
n_heldout = 20  # held-out facts of Part B, one query each (never in the training corpus)
both_orders = False  # Part B corpus: each training fact in one order (False) or in both orders (True)
lm_steps = 1000  # Adam steps of the Part B transformer
label_draws = 4  # sampled labels per token for the Part B Fisher statistics

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_train=gu.Int(min=50, max=4000),
    width=gu.Int(min=2),
    n_queries=gu.Int(min=2, max=1000),
    damping=gu.Float(gt=0),
    weight_decay=gu.Float(min=0),
    train_steps=gu.Int(min=10),
    curvature=gu.Choice("ekfac", "kfac", "none"),
    lissa_depth=gu.Int(min=16),
    lissa_batch=gu.Int(min=1),
    n_loo=gu.Int(min=3),
    loo_steps=gu.Int(min=10),
    n_facts=gu.Int(min=4),
    n_heldout=gu.Int(min=10),
    both_orders=gu.Bool(),
    lm_steps=gu.Int(min=10),
    label_draws=gu.Int(min=1),
)
if P.n_loo > P.n_train:
    raise gu.ParameterError("n_loo", f"cannot remove more points than there are ({P.n_train}), got {P.n_loo}")
if P.lissa_batch > P.n_train:
    raise gu.ParameterError("lissa_batch", f"must be at most n_train = {P.n_train}, got {P.lissa_batch}")
device = gu.device()
torch.manual_seed(P.seed)
P

# %% [markdown]
# ## Influence, and the curvature it needs
#
# Upweight a training example $z$ by $\varepsilon$ in the training objective $\mathcal J(\theta)$. To first
# order the optimum moves by $-\varepsilon\,(\mathbf G+\lambda I)^{-1}\nabla_\theta \mathcal L(z)$, and the
# loss of a query $q$ changes by $-\varepsilon\,\nabla\mathcal L(q)^\top(\mathbf G+\lambda I)^{-1}\nabla\mathcal L(z)$.
# Following the paper's sign (influence on the query's log-likelihood), we call
#
# $$\mathcal I(z, q) = \nabla_\theta \mathcal L(q)^\top(\mathbf G+\lambda I)^{-1}\nabla_\theta \mathcal L(z)$$
#
# the influence of $z$ on $q$: positive when more weight on $z$ makes $q$ more likely. Removing $z$ from $n$
# training points is $\varepsilon = -1/n$, so it raises the query loss by about $\mathcal I/n$; a candidate
# $z$ that is not in the training set is scored the same way (the paper's "what if it were added").
#
# As in the paper, $\mathbf G$ is the Gauss-Newton Hessian (GNH) of the training loss, which for a
# softmax cross-entropy equals the Fisher $\mathbb E_{x}\,\mathbb E_{\hat y\sim p_\theta(\cdot|x)}[g\,g^\top]$,
# $g = \nabla_\theta \log p_\theta(\hat y|x)$; it is what the PBRF linearizes and is positive semi-definite.
#
# **EK-FAC.** For a linear layer with input $a$ (with a trailing 1 for the bias) and output gradient $s$,
# the per-example weight gradient is $s\,a^\top$. K-FAC approximates the layer's block of $\mathbf G$ by
# $A\otimes S$ with $A = \mathbb E[aa^\top]$, $S = \mathbb E[ss^\top]$. With eigenbases $A = Q_A\Lambda_AQ_A^\top$,
# $S = Q_S\Lambda_SQ_S^\top$, K-FAC's eigenvalues are the products $(\Lambda_S)_i(\Lambda_A)_j$; EK-FAC keeps the
# Kronecker eigenbasis but refits the eigenvalues to the per-example gradients,
# $\Lambda^*_{ij} = \mathbb E\big[(Q_S^\top\,g\,Q_A)_{ij}^2\big]$ (the *eigenvalue correction*), and then
#
# $$(\mathbf G+\lambda I)^{-1}\,\mathrm{vec}(V) \approx Q_S\Big[\frac{Q_S^\top V Q_A}{\Lambda^*+\lambda}\Big]Q_A^\top .$$
#
# The code below collects $a$ and $s$ with hooks on every `nn.Linear` it is given, so the same EK-FAC
# serves the MLP of Part A and the transformer's MLP layers in Part B. `eigen_correction=False` swaps
# $\Lambda^*$ for K-FAC's products (used in Part A only, where each example has one input vector).

# %%
def layer_io(model: nn.Module, layers: dict[str, nn.Linear], loss_fn) -> tuple[dict, dict]:
    """Inputs a (with a trailing 1 for the bias) and output gradients s of every layer in `layers`,
    each shaped (n, tokens, features), for the summed per-example losses `loss_fn(model)` returns."""
    acts, outs, handles = {}, {}, []
    for name, layer in layers.items():
        def hook(module, inputs, output, name=name):
            acts[name], outs[name] = inputs[0].detach(), output
        handles.append(layer.register_forward_hook(hook))
    try:
        losses = loss_fn(model)
        grads = torch.autograd.grad(losses.sum(), [outs[k] for k in layers])
    finally:
        for h in handles:
            h.remove()
    n = losses.shape[0]
    a_out, s_out = {}, {}
    for name, s in zip(layers, grads):
        a = torch.cat([acts[name], torch.ones_like(acts[name][..., :1])], dim=-1)
        a_out[name], s_out[name] = a.reshape(n, -1, a.shape[-1]), s.detach().reshape(n, -1, s.shape[-1])
    return a_out, s_out


def layer_grads(model: nn.Module, layers: dict[str, nn.Linear], loss_fn) -> dict[str, torch.Tensor]:
    """Per-example gradients Σ_t s_t a_tᵀ of every layer, shape (n, out, in + 1), bias as the last column."""
    a, s = layer_io(model, layers, loss_fn)
    return {k: torch.einsum("nto,nti->noi", s[k], a[k]) for k in layers}


class EKFAC:
    """Eigenvalue-corrected K-FAC for a set of linear layers (Grosse et al. 2023, Sec. 2.2-2.3)."""

    def __init__(self, fisher_batches: list[tuple[dict, dict, torch.Tensor]], n_examples: int,
                 eigen_correction: bool = True):
        """fisher_batches: (a, s, w) triples from `layer_io` on pseudo-labels (labels drawn from the model,
        or every label), w the (examples,) weight of each row; weights sum to n_examples overall.
        eigen_correction=False gives K-FAC (products of the factors' eigenvalues; one token per example)."""
        self.qa, self.qs, self.lam = {}, {}, {}
        for name in fisher_batches[0][0]:
            A = sum(torch.einsum("nti,ntj,n->ij", a[name], a[name], w) for a, _, w in fisher_batches) / n_examples
            S = sum(torch.einsum("nti,ntj,n->ij", s[name], s[name], w) for _, s, w in fisher_batches) / n_examples
            eig_a, self.qa[name] = torch.linalg.eigh(A)
            eig_s, self.qs[name] = torch.linalg.eigh(S)
            if eigen_correction:  # second moments of per-example gradients in the Kronecker eigenbasis;
                # Q_Sᵀ (Σ_t s_t a_tᵀ) Q_A = Σ_t (Q_Sᵀ s_t)(Q_Aᵀ a_t)ᵀ, so rotate the vectors, not the gradients
                self.lam[name] = sum(torch.einsum("n,noi->oi", w, torch.einsum(
                    "nto,nti->noi", s[name] @ self.qs[name], a[name] @ self.qa[name]) ** 2)
                    for a, s, w in fisher_batches) / n_examples
            else:
                if any(a[name].shape[1] > 1 for a, _, _ in fisher_batches):
                    raise ValueError("the K-FAC switch is written for one input vector per example")
                self.lam[name] = torch.outer(eig_s, eig_a).clamp_min(0)

    def ihvp(self, grads: dict[str, torch.Tensor], damping: dict[str, float]) -> dict[str, torch.Tensor]:
        """(G + λI)⁻¹ applied to every row of `grads`, in the original parameter basis."""
        return {k: self.qs[k] @ ((self.qs[k].T @ g @ self.qa[k]) / (self.lam[k] + damping[k])) @ self.qa[k].T
                for k, g in grads.items()}


def flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.flatten(1) for g in grads.values()], dim=1)


# %% [markdown]
# ## Part A: EK-FAC against the exact answer on a small MLP
#
# MNIST-1D (generated offline), `n_train` training points and `n_queries` test points as queries. The
# network is $40\to\text{width}\to10$ with a tanh hidden layer, trained to a stationary point of
# $\mathcal J(\theta) = \frac1n\sum_i \mathcal L(z_i) + \frac{w}{2}\lVert\theta\rVert^2$ (full-batch Adam, then
# L-BFGS), in float64. The weight decay $w$ adds $wI$ to the curvature of every estimator.

# %%
dt = torch.float64
n_samples = max(math.ceil(P.n_train / 0.8), math.ceil(P.n_queries / 0.2)) + 20  # the generator drops a few
x_all, y_all, x_te_all, y_te_all = gu.mnist1d(n_samples, seed=P.seed + 42)
assert len(x_all) >= P.n_train and len(x_te_all) >= P.n_queries
x_tr, y_tr = x_all[: P.n_train].to(device, dt), y_all[: P.n_train].to(device)
x_q, y_q = x_te_all[: P.n_queries].to(device, dt), y_te_all[: P.n_queries].to(device)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(40, P.width), nn.Linear(P.width, 10)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


torch.manual_seed(P.seed)
mlp = MLP().to(device, dt)
mlp_layers = {"fc1": mlp.fc1, "fc2": mlp.fc2}
n_params = sum(p.numel() for p in mlp.parameters())


def objective() -> torch.Tensor:
    return F.cross_entropy(mlp(x_tr), y_tr) + P.weight_decay / 2 * sum((p**2).sum() for p in mlp.parameters())


opt = torch.optim.Adam(mlp.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, P.train_steps)
for _ in gu.progress(range(P.train_steps), desc="train MLP"):
    opt.zero_grad()
    objective().backward()
    opt.step()
    sched.step()
lbfgs = torch.optim.LBFGS(mlp.parameters(), lr=1, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15,
                          history_size=50, line_search_fn="strong_wolfe")


def closure():
    lbfgs.zero_grad()
    loss = objective()
    loss.backward()
    return loss


lbfgs.step(closure)
grad_norm = torch.cat([p.grad.flatten() for p in mlp.parameters()]).norm().item() if closure() else 0.0
with torch.no_grad():
    train_acc = (mlp(x_tr).argmax(1) == y_tr).float().mean().item()
    query_acc = (mlp(x_q).argmax(1) == y_q).float().mean().item()
print(f"{n_params} parameters; objective {objective().item():.4f}, gradient norm {grad_norm:.2e}; "
      f"train accuracy {train_acc:.3f}, query accuracy {query_acc:.3f}")

# %% [markdown]
# Per-example gradients of the training and query losses are shared by all estimators (so not timed);
# each estimator's IHVPs $u_q$ for all queries are timed from scratch, and the scores $u_q^\top\nabla\mathcal L(z)$
# for every training point are then formed the same way for all:
#
# - **exact**: form $\mathbf G = \frac1n\sum_i\sum_c p_{ic}\,g_{ic}g_{ic}^\top + wI$ from the gradients
#   $g_{ic}$ of $-\log p(c|x_i)$ for every class $c$ (the expectation over labels done exactly), and solve
#   $(\mathbf G+\lambda I)\,u_q = \nabla\mathcal L(q)$;
# - **LiSSA** (Agarwal et al. 2017, the paper's baseline): the recursion
#   $v \leftarrow \nabla\mathcal L(q) + \big(1-\tfrac{w+\lambda}{\sigma}\big)v - \tfrac1\sigma\mathbf G_Bv$,
#   $\mathbf G_B v = \frac1b\sum_{i\in B} J_i^\top(\mathrm{diag}\,p_i - p_ip_i^\top)J_iv$ a Gauss-Newton-vector product on a
#   random minibatch of `lissa_batch` points, computed matrix-free (for this two-layer network the
#   Jacobian-vector and vector-Jacobian products are written out as a few batched matrix products, the
#   fastest form on a CPU, so LiSSA's wall time is not inflated by autodiff overhead); $\sigma$ above the
#   top eigenvalue (power iteration, run once for all queries), and $u_q = v/\sigma$. Its fixed point is
#   the exact answer, approached at a rate $1-(w+\lambda)/\sigma$ per step in the flattest directions,
#   so **the depth is swept**: the estimate is kept, with the wall time so far, at depths 8, 16, 32, …
#   up to `lissa_depth`;
# - **EK-FAC** as above, with the same exact label expectation for $A$, $S$ and $\Lambda^*$ (`curvature`
#   `kfac`: K-FAC's eigenvalues instead; `none`: no curvature, $u_q = \nabla\mathcal L(q)/(w+\lambda)$, the
#   damped gradient dot product). K-FAC and the no-curvature scores are also computed in every run as
#   diagnostics, to show what the eigenvalue correction and the curvature each add at this size.

# %%
def mlp_ce(x, y):
    return lambda m: F.cross_entropy(m(x), y, reduction="none")


train_g = layer_grads(mlp, mlp_layers, mlp_ce(x_tr, y_tr))
query_g = layer_grads(mlp, mlp_layers, mlp_ce(x_q, y_q))
train_flat, query_flat = flat(train_g), flat(query_g)
with torch.no_grad():
    probs = F.softmax(mlp(x_tr), dim=1)  # (n, 10)
classes = torch.arange(10, device=device)
x_rep, y_rep, w_rep = x_tr.repeat_interleave(10, 0), classes.repeat(P.n_train), probs.flatten()
timings = {}

# exact
t0 = time.perf_counter()
pseudo_flat = flat(layer_grads(mlp, mlp_layers, mlp_ce(x_rep, y_rep)))
G = (pseudo_flat * w_rep[:, None]).T @ pseudo_flat / P.n_train + P.weight_decay * torch.eye(n_params, device=device, dtype=dt)
u_exact = torch.linalg.solve(G + P.damping * torch.eye(n_params, device=device, dtype=dt), query_flat.T).T
timings["exact"] = time.perf_counter() - t0
infl_exact = u_exact @ train_flat.T
eig_G = torch.linalg.eigvalsh(G)

# %%
def logits_fn(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The MLP as a function of its flat parameter vector (weight and bias of each layer, bias last)."""
    w1b = theta[: P.width * 41].view(P.width, 41)
    w2b = theta[P.width * 41:].view(10, P.width + 1)
    h = torch.tanh(x @ w1b[:, :40].T + w1b[:, 40])
    return h @ w2b[:, :P.width].T + w2b[:, P.width]


theta_star = torch.cat([torch.cat([mlp.fc1.weight, mlp.fc1.bias[:, None]], 1).flatten(),
                        torch.cat([mlp.fc2.weight, mlp.fc2.bias[:, None]], 1).flatten()]).detach()
assert torch.allclose(logits_fn(theta_star, x_q), mlp(x_q))
W1b, W2b = theta_star[: P.width * 41].view(P.width, 41), theta_star[P.width * 41:].view(10, P.width + 1)


def linearize(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """What the Gauss-Newton products need from the forward pass at θ*, computed once for all steps."""
    x1 = torch.cat([x, torch.ones_like(x[:, :1])], 1)  # (n, 41)
    h = torch.tanh(x1 @ W1b.T)
    h1 = torch.cat([h, torch.ones_like(h[:, :1])], 1)
    return x1, h1, 1 - h**2, F.softmax(h1 @ W2b.T, dim=1)


def gnh_vp(lin: tuple[torch.Tensor, ...], V: torch.Tensor) -> torch.Tensor:
    """Rows of V multiplied by the Gauss-Newton matrix (1/b) Σ Jᵀ (diag p − ppᵀ) J of the linearized points
    `lin` (a minibatch of `linearize`'s rows), matrix-free."""
    x1, h1, dh, p = lin
    dW1, dW2 = V[:, : P.width * 41].view(-1, P.width, 41), V[:, P.width * 41:].view(-1, 10, P.width + 1)
    jv = torch.einsum("bj,qcj->qbc", h1, dW2) + torch.einsum("qbw,cw->qbc", (x1 @ dW1.transpose(1, 2)) * dh, W2b[:, :P.width])
    hjv = p * jv - p * (p * jv).sum(-1, keepdim=True)  # (diag p − ppᵀ) J v
    g2 = torch.einsum("qbc,bj->qcj", hjv, h1)
    g1 = torch.einsum("qbw,bi->qwi", torch.einsum("qbc,cw->qbw", hjv, W2b[:, :P.width]) * dh, x1)
    return torch.cat([g1.flatten(1), g2.flatten(1)], 1) / x1.shape[0]


# instrument check: the matrix-free product on the full batch equals the formed matrix
probe = torch.randn(3, n_params, generator=torch.Generator().manual_seed(P.seed + 5), dtype=dt).to(device)
eye_w = P.weight_decay * torch.eye(n_params, device=device, dtype=dt)
gnh_product_error = ((gnh_vp(linearize(x_tr), probe) - probe @ (G - eye_w)).norm() / (probe @ (G - eye_w)).norm()).item()

depths = sorted({2**k for k in range(3, 40) if 2**k < P.lissa_depth} | {P.lissa_depth})
lissa_u, lissa_t = {}, {}
t0 = time.perf_counter()
lin_tr = linearize(x_tr)  # one forward pass at θ*, reused by every product
gen = torch.Generator().manual_seed(P.seed + 1)
v = torch.randn(n_params, generator=gen, dtype=dt).to(device)
for _ in range(30):  # power iteration for the top eigenvalue of the full GNH, once for all queries
    v = gnh_vp(lin_tr, v[None])[0]
    top = v.norm().item()
    v = v / top
sigma = 1.5 * top + P.weight_decay + P.damping
shrink = 1 - (P.weight_decay + P.damping) / sigma
vq = query_flat.clone()
for d in gu.progress(range(1, P.lissa_depth + 1), desc="LiSSA"):
    batch = torch.randint(P.n_train, (P.lissa_batch,), generator=gen).to(device)
    vq = query_flat + shrink * vq - gnh_vp(tuple(t[batch] for t in lin_tr), vq) / sigma
    if d in depths:
        lissa_t[d] = time.perf_counter() - t0
        lissa_u[d] = vq / sigma
timings["LiSSA"] = lissa_t[P.lissa_depth]

# the estimator under test, timed
est_name = {"ekfac": "EK-FAC", "kfac": "K-FAC", "none": "no curvature"}[P.curvature]
lam = {k: P.weight_decay + P.damping for k in mlp_layers}
t0 = time.perf_counter()
if P.curvature == "none":
    u_est = query_flat / (P.weight_decay + P.damping)
else:
    ekfac = EKFAC([(*layer_io(mlp, mlp_layers, mlp_ce(x_rep, y_rep)), w_rep)], P.n_train, P.curvature == "ekfac")
    u_est = flat(ekfac.ihvp(query_g, lam))
timings[est_name] = time.perf_counter() - t0
# diagnostics in every run: the other two approximate estimators (untimed)
diag_u = {"EK-FAC": EKFAC([(*layer_io(mlp, mlp_layers, mlp_ce(x_rep, y_rep)), w_rep)], P.n_train, True),
          "K-FAC": EKFAC([(*layer_io(mlp, mlp_layers, mlp_ce(x_rep, y_rep)), w_rep)], P.n_train, False)}
diag_u = {k: flat(e.ihvp(query_g, lam)) for k, e in diag_u.items()}
diag_u["no curvature"] = query_flat / (P.weight_decay + P.damping)
print({k: f"{v:.3f} s" for k, v in timings.items()}, f"top GNH eigenvalue {eig_G[-1]:.3g}, sigma {sigma:.3g}, "
      f"slowest LiSSA contraction per step {shrink:.5f}; matrix-free product error {gnh_product_error:.1e}")


def spearman_rows(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    return np.array([sps.spearmanr(x, y).statistic for x, y in zip(a.cpu().numpy(), b.cpu().numpy())])


def pearson_rows(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    return np.array([sps.pearsonr(x, y).statistic for x, y in zip(a.cpu().numpy(), b.cpu().numpy())])


infl_lissa_d = {d: u @ train_flat.T for d, u in lissa_u.items()}
estimates = {est_name: u_est @ train_flat.T, "LiSSA": infl_lissa_d[P.lissa_depth]}
rho = {k: spearman_rows(v, infl_exact) for k, v in estimates.items()}
r = {k: pearson_rows(v, infl_exact) for k, v in estimates.items()}
rho_diag = {k: float(np.median(spearman_rows(u @ train_flat.T, infl_exact))) for k, u in diag_u.items()}
sweep = pd.DataFrame([{"depth": d, "seconds": lissa_t[d], "median Spearman ρ with exact": np.median(spearman_rows(v, infl_exact)),
                       "IHVP relative error": ((lissa_u[d] - u_exact).norm(dim=1) / u_exact.norm(dim=1)).median().item()}
                      for d, v in infl_lissa_d.items()])
print(sweep.round(4).to_string(index=False))
print("median Spearman ρ with exact, all approximate estimators:", {k: round(v, 4) for k, v in rho_diag.items()})
rho_sweep = sweep["median Spearman ρ with exact"]
# LiSSA's depth to convergence, measured: the first depth whose ρ is within 0.02 of the final one,
# and, as a diagnostic, the first depth that reaches the estimator's own accuracy (full depth if none)
depth_converged = int(sweep["depth"][(rho_sweep - rho_sweep.iloc[-1]).abs() <= 0.02].iloc[0])
reach = sweep[rho_sweep >= np.median(rho[est_name])]
depth_equal = int(reach["depth"].iloc[0] if len(reach) else P.lissa_depth)
# cost in multiply-adds of the work each estimator needs, counted for an efficient implementation of each
# (the shared per-example query and training gradients are not counted for either); p = parameters,
# (o, i) = each layer's output and input sizes
shapes = [(P.width, 41), (10, P.width + 1)]
n_pairs, Q = 10 * P.n_train, P.n_queries  # (example, label) pairs of the exact label expectation


def lissa_macs(d: int) -> int:
    """One forward pass to linearize, 30 full-batch products (jvp + vjp, 2p each) for σ, and d steps of
    Q minibatch products."""
    return P.n_train * n_params + 30 * P.n_train * 2 * n_params + d * Q * P.lissa_batch * 2 * n_params


def est_macs(curvature: str) -> int:
    """Counted as an efficient implementation does it, sharing each example's forward pass and input-side
    statistics across its 10 labels: one forward pass (p) per example and a backward pass (2p) per pair;
    A from the inputs and S from the output gradients; their eigendecompositions (~9k³); then EK-FAC's
    correction (rotate a per example and s per pair, square the outer products) or K-FAC's outer product
    of eigenvalues; and the Q preconditioned query gradients (two rotations per layer)."""
    if curvature == "none":
        return Q * n_params
    n = P.n_train
    fit = n * n_params + n_pairs * 2 * n_params + sum(n * i * i + n_pairs * o * o + 9 * (i**3 + o**3) for o, i in shapes)
    fit += sum(n * i * i + n_pairs * (o * o + 2 * o * i) if curvature == "ekfac" else o * i for o, i in shapes)
    return fit + Q * sum(2 * (o * o * i + o * i * i) for o, i in shapes)


wall_at = dict(zip(sweep["depth"], sweep["seconds"]))
print(f"LiSSA converged at depth {depth_converged} ({lissa_macs(depth_converged):.3g} multiply-adds, "
      f"{wall_at[depth_converged]:.3f} s) and reached {est_name}'s accuracy at depth {depth_equal}; {est_name}: "
      f"{est_macs(P.curvature):.3g} multiply-adds, {timings[est_name]:.3f} s. Wall-time ratio "
      f"{timings[est_name] / wall_at[depth_converged]:.3g} (this run only: wall time varies between runs and is not recorded)")

# %% [markdown]
# **Ground truth beyond the linearization.** For `n_loo` training points spread over the ranks of the exact
# influence on query 0, retrain from the converged weights with that point removed, and alongside a
# control copy that keeps every point; all copies run the same `loo_steps` full-batch gradient-descent
# steps together (their parameters stacked into one batch), so drift from incomplete convergence cancels
# in the difference $\Delta\mathcal L(q) = \mathcal L_q(\theta_{-z}) - \mathcal L_q(\theta_{\text{control}})$,
# which influence predicts to be $\mathcal I(z,q)/n$.

# %%
order = torch.argsort(infl_exact[0])
loo_idx = order[torch.linspace(0, P.n_train - 1, P.n_loo).round().long()]
K = P.n_loo + 1
weights = torch.ones(K, P.n_train, device=device, dtype=dt)
weights[torch.arange(P.n_loo), loo_idx] = 0.0
theta = theta_star.repeat(K, 1).requires_grad_(True)
step = 1.0 / sigma
batched_logits = vmap(logits_fn, in_dims=(0, None))
for _ in gu.progress(range(P.loo_steps), desc="leave-one-out retraining"):
    ce = F.cross_entropy(batched_logits(theta, x_tr).flatten(0, 1), y_tr.repeat(K), reduction="none").view(K, -1)
    loss = ((ce * weights).sum(1) / weights.sum(1)).sum() + P.weight_decay / 2 * (theta**2).sum()
    (g,) = torch.autograd.grad(loss, theta)
    with torch.no_grad():
        theta -= step * g
with torch.no_grad():
    ql = F.cross_entropy(batched_logits(theta, x_q[:1]).flatten(0, 1), y_q[:1].repeat(K), reduction="none")
delta_loo = (ql[:-1] - ql[-1]).cpu().numpy()
print(f"final gradient norm of the control copy: {g[-1].norm():.2e}")

# %% [markdown]
# ## Results, Part A
#
# **Figure 1.** Each estimator against the exact influence of every training point on one query (query 0),
# with Spearman's ρ in the title (LiSSA at full depth, then the three approximate estimators, whichever
# `curvature` the verdict reads). Look for EK-FAC's points on the diagonal about as tightly as LiSSA's,
# for K-FAC to show what the eigenvalue correction adds, and for the no-curvature panel to show how much
# worse ignoring the curvature is.

# %%
panels = {"LiSSA": estimates["LiSSA"][0], **{k: (u[0] @ train_flat.T) for k, u in diag_u.items()}}
fig, axes = gu.subplots(ncols=4, width=3.6, height=3.7)
ex0 = infl_exact[0].cpu().numpy()
for ax, (name, est), c in zip(axes, panels.items(), ["C1", "C0", "C3", "C2"]):
    est0 = est.cpu().numpy()
    sns.scatterplot(x=ex0, y=est0, s=10, alpha=0.6, ax=ax, color=c)
    lim = [ex0.min(), ex0.max()]
    ax.plot(lim, lim, color="grey", linestyle=":", linewidth=1)
    gu.label(ax, "exact influence I(z, q₀)", f"{name} influence", f"{name}: ρ = {sps.spearmanr(ex0, est0).statistic:.3f}")

# %% [markdown]
# **Figure 2.** Left: LiSSA's depth sweep, the median Spearman ρ with the exact influence against the wall
# time spent (power iteration included), with the approximate estimator's ρ and time as a star. Look for
# LiSSA's curve to flatten (converged) before the comparison is read, and for where it crosses the
# star's height: that is LiSSA's cost at equal accuracy (the rule reads its cost to convergence).
# Right: ρ per query for each estimator.

# %%
corr_df = pd.concat([pd.DataFrame({"estimator": k, "Spearman ρ with exact": v}) for k, v in rho.items()])
fig, axes = gu.subplots(ncols=2, width=4.6, height=3.9)
sns.lineplot(data=sweep, x="seconds", y="median Spearman ρ with exact", marker="o", ax=axes[0], color="C1", label="LiSSA")
for _, row in sweep.iterrows():
    axes[0].annotate(str(int(row["depth"])), (row["seconds"], row["median Spearman ρ with exact"]), fontsize=7,
                     textcoords="offset points", xytext=(3, -9))
axes[0].scatter([timings[est_name]], [np.median(rho[est_name])], marker="*", s=160, color="C0", label=est_name, zorder=3)
axes[0].set_xscale("log")
axes[0].legend()
gu.label(axes[0], "wall time for all queries (s, log; labels: LiSSA depth)", "median Spearman ρ with exact", "Accuracy against cost")
sns.stripplot(data=corr_df, x="estimator", y="Spearman ρ with exact", hue="estimator", ax=axes[1], legend=False)
gu.label(axes[1], "estimator", "Spearman ρ with exact", "Accuracy per query")

# %% [markdown]
# **Figure 3.** The change of query 0's loss when a point is removed and the network retrained, against
# the change each estimator predicts ($\mathcal I/n$). Look for the points along the diagonal: influence
# predicts what retraining does, not only what another approximation says.

# %%
loo_rows = []
for name, est in {"exact": infl_exact, est_name: estimates[est_name], "LiSSA": estimates["LiSSA"]}.items():
    pred = (est[0, loo_idx] / P.n_train).cpu().numpy()
    loo_rows += [{"estimator": name, "predicted ΔL": p_, "retrained ΔL": d_} for p_, d_ in zip(pred, delta_loo)]
loo_df = pd.DataFrame(loo_rows)
loo_r = {k: sps.pearsonr(g_["predicted ΔL"], g_["retrained ΔL"]).statistic for k, g_ in loo_df.groupby("estimator")}
fig, ax = gu.subplots(width=5.5, height=4.5)
sns.scatterplot(data=loo_df, x="predicted ΔL", y="retrained ΔL", hue="estimator", style="estimator", ax=ax)
lim = [min(loo_df["predicted ΔL"].min(), delta_loo.min()), max(loo_df["predicted ΔL"].max(), delta_loo.max())]
ax.plot(lim, lim, color="grey", linestyle=":", linewidth=1)
gu.label(ax, "predicted change of query loss, I/n", "change after leave-one-out retraining",
         "Retraining: r = " + ", ".join(f"{k} {v:.2f}" for k, v in loo_r.items()))

# %% [markdown]
# ## Part B: word order in a tiny language model
#
# The paper asks how adding a candidate sequence would change a query that the model has *not*
# memorised. The miniature keeps that shape:
#
# - **pretraining corpus**: `n_facts` facts between entity tokens, each stated in one order, half as
#   "BOS $A_i$ r $B_i$" and half as "BOS $B_i$ r′ $A_i$" (r′ the reversed relation, so both relation tokens
#   are known); plus a *mention* of every entity, "BOS f $E$ f" with random filler tokens f (the entity
#   is both predicted and read there), so that every entity token, including those of the held-out
#   facts, is a known token (as "Zorald" and "Pfaff" are known sub-word tokens to the paper's models). With `both_orders` every fact
#   is stated in both orders instead.
# - **held-out facts** $j$ = 1 … `n_heldout`: their entities are mentioned but the facts never appear.
#   Query: "BOS $A_j$ r" → $B_j$, the loss being that of the completion token only.
# - **candidates** (not in the corpus), scored against every query: *same order* "BOS $A_j$ r $B_j$" and
#   *flipped order* "BOS $B_j$ r′ $A_j$", the same fact with its key phrases in the other order. The loss
#   of a candidate is its full next-token loss, as for a training sequence.
#
# A 2-layer causal transformer (d = 64, 4 heads, MLP width 256) is trained by AdamW on the summed
# next-token loss. Influence is computed with EK-FAC over the MLP layers (the paper's choice), labels
# sampled from the model for the Fisher statistics, and damping $0.1\times$ the mean eigenvalue of each
# layer (the paper's heuristic). For query $j$, the *excess influence* of a candidate type is the
# influence of fact $j$'s own candidate minus the mean influence of the other held-out facts' candidates
# of the same type on the same query, which removes what any sequence of that shape does (for example,
# shifting the relation tokens' statistics).

# %%
nf, nh, n_fill = P.n_facts, P.n_heldout, 20
BOS, REL, INV = 0, 1, 2
tok_fill = 3 + torch.arange(n_fill)
ent = 3 + n_fill + torch.arange(2 * (nf + nh))
tok_A, tok_B = ent[:nf], ent[nf:2 * nf]  # training facts
hA, hB = ent[2 * nf:2 * nf + nh], ent[2 * nf + nh:]  # held-out facts
vocab = int(ent[-1]) + 1
gen_b = torch.Generator().manual_seed(P.seed + 2)


def col(*cols):
    """Stack token columns into sequences; an int column is broadcast."""
    n = max(len(c) for c in cols if torch.is_tensor(c))
    return torch.stack([c if torch.is_tensor(c) else torch.full((n,), c) for c in cols], 1)


fwd_facts, inv_facts = col(BOS, tok_A, REL, tok_B), col(BOS, tok_B, INV, tok_A)
if P.both_orders:
    facts = torch.cat([fwd_facts, inv_facts])
else:
    facts = torch.cat([fwd_facts[0::2], inv_facts[1::2]])  # each fact in one order
fill = lambda k: tok_fill[torch.randint(n_fill, (len(ent), k), generator=gen_b)]  # noqa: E731
mentions = torch.cat([torch.full((len(ent), 1), BOS), fill(1), ent[:, None], fill(1)], 1)  # "BOS f E f"
corpus = torch.cat([facts, mentions]).to(device)
queries = col(BOS, hA, REL, hB).to(device)  # the last token is the completion
cand_same, cand_flip = col(BOS, hA, REL, hB).to(device), col(BOS, hB, INV, hA).to(device)
print(f"vocabulary {vocab}, corpus {tuple(corpus.shape)} ({len(facts)} fact sequences), {nh} held-out queries")


class Block(nn.Module):
    def __init__(self, d=64, heads=4):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.fc_in, self.fc_out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.fc_out(F.gelu(self.fc_in(self.ln2(x))))


class TinyLM(nn.Module):
    def __init__(self, vocab, d=64, layers=2, length=4):
        super().__init__()
        self.emb, self.pos = nn.Embedding(vocab, d), nn.Parameter(torch.randn(length, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d) for _ in range(layers)])
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, tokens):
        t = tokens.shape[1]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=tokens.device), 1)
        x = self.emb(tokens) + self.pos[:t]
        for b in self.blocks:
            x = b(x, mask)
        return self.head(self.ln(x))


def seq_loss(tokens, positions=None):
    """Per-sequence next-token loss summed over the predicted positions (1, 2, 3), or only over `positions`."""
    def fn(m):
        logits = m(tokens[:, :-1])
        ce = F.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten(), reduction="none").view(len(tokens), -1)
        return ce[:, [p - 1 for p in (positions or (1, 2, 3))]].sum(1)
    return fn


torch.manual_seed(P.seed + 3)
lm = TinyLM(vocab).to(device)
opt = torch.optim.AdamW(lm.parameters(), lr=3e-3, weight_decay=0.01)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, P.lm_steps)
for _ in gu.progress(range(P.lm_steps), desc="train transformer"):
    opt.zero_grad()
    seq_loss(corpus)(lm).mean().backward()
    opt.step()
    sched.step()
lm.eval()
facts = facts.to(device)
with torch.no_grad():
    acc_facts = (lm(facts[:, :-1])[:, -1].argmax(1) == facts[:, -1]).float().mean().item()
    q_logits = lm(queries[:, :-1])[:, -1]
    acc_heldout = (q_logits.argmax(1) == queries[:, -1]).float().mean().item()
    loss_heldout = F.cross_entropy(q_logits, queries[:, -1]).item()
print(f"completion accuracy on training facts {acc_facts:.2f}; held-out queries: accuracy {acc_heldout:.2f}, "
      f"loss {loss_heldout:.2f} nats (log of the entity count: {math.log(len(ent)):.2f})")

# %%
lm_layers = {f"block{i}.{k}": getattr(b, k) for i, b in enumerate(lm.blocks) for k in ("fc_in", "fc_out")}
fisher_batches = []
for d in range(P.label_draws):  # replace every target token by a sample from the model's prediction
    g_ = torch.Generator().manual_seed(P.seed + 100 + d)
    with torch.no_grad():
        p_ = F.softmax(lm(corpus[:, :-1]), -1)
    sampled = torch.multinomial(p_.flatten(0, 1).cpu(), 1, generator=g_).view(len(corpus), -1).to(device)
    fake = torch.cat([corpus[:, :1], sampled], 1)
    fisher_batches.append((*layer_io(lm, lm_layers, seq_loss(fake)),
                           torch.full((len(corpus),), 1.0 / P.label_draws, device=device)))
ek_lm = EKFAC(fisher_batches, len(corpus))
lm_damp = {k: 0.1 * v.mean().item() for k, v in ek_lm.lam.items()}
u_q = flat(ek_lm.ihvp(layer_grads(lm, lm_layers, seq_loss(queries, positions=(3,))), lm_damp))


def influence_on_queries(cands, positions=None) -> np.ndarray:
    """(query, candidate) influence matrix of the candidates' loss (all positions, or only `positions`)."""
    return (u_q @ flat(layer_grads(lm, lm_layers, seq_loss(cands, positions))).T).detach().cpu().numpy()


def excess(M: np.ndarray) -> np.ndarray:
    """Per query j: influence of fact j's own candidate minus the mean over the other facts' candidates."""
    off = (M.sum(1) - np.diag(M)) / (len(M) - 1)
    return np.diag(M) - off


I_same, I_flip = influence_on_queries(cand_same), influence_on_queries(cand_flip)
ex_same, ex_flip = excess(I_same), excess(I_flip)
# diagnostic: each predicted position of the candidates on its own (they add up to the full loss)
token_rows = []
for kind, cands, labels in [("same order", cand_same, ["A_j after BOS", "r after A_j", "B_j after A_j r"]),
                            ("flipped order", cand_flip, ["B_j after BOS", "r′ after B_j", "A_j after B_j r′"])]:
    for pos, lab in zip((1, 2, 3), labels):
        token_rows.append({"candidate": kind, "predicted token": lab,
                           "excess influence / same-order mean": excess(influence_on_queries(cands, (pos,))).mean() / ex_same.mean()})
token_df = pd.DataFrame(token_rows)
pair = np.stack([ex_flip, ex_same], 1)
flip_ratio = float(ex_flip.mean() / ex_same.mean())
flip_lo, flip_hi = gu.bootstrap_ci(pair, lambda x: x[:, 0].mean() / x[:, 1].mean(), seed=P.seed)
same_lo, same_hi = gu.bootstrap_ci(ex_same, seed=P.seed)
print(f"excess influence: same order {ex_same.mean():.3g} (95% CI {same_lo:.3g} to {same_hi:.3g}), flipped "
      f"{ex_flip.mean():.3g}; flipped / same = {flip_ratio:.3f} (95% CI {flip_lo:.3f} to {flip_hi:.3f})")
print(token_df.round(4).to_string(index=False))

# %% [markdown]
# ## Results, Part B
#
# **Figure 4.** Left: excess influence of each held-out fact's own candidate on its query, divided by the
# mean same-order excess (dots are queries; bars are means with 95% bootstrap intervals over queries).
# Look for a flipped bar near zero, next to a same-order bar at one. Right: the same ratio split over
# the three predicted tokens of each candidate (a diagnostic, not in the rule): which part of a
# candidate carries its influence.

# %%
norm = ex_same.mean()
bars = pd.concat([pd.DataFrame({"candidate": "same order\nBOS A_j r B_j", "relative excess influence": ex_same / norm}),
                  pd.DataFrame({"candidate": "flipped order\nBOS B_j r′ A_j", "relative excess influence": ex_flip / norm})])
fig, axes = gu.subplots(ncols=2, width=5.0, height=4.2)
sns.barplot(data=bars, x="candidate", y="relative excess influence", hue="candidate", errorbar=("ci", 95), seed=P.seed,
            ax=axes[0], alpha=0.6, legend=False)
sns.stripplot(data=bars, x="candidate", y="relative excess influence", color="k", size=3, alpha=0.5, ax=axes[0])
axes[0].axhline(0, color="grey", linewidth=1)
gu.label(axes[0], "candidate sequence for held-out fact j", "excess influence on query j / same-order mean",
         f"Word order: flipped / same = {flip_ratio:.3f}")
sns.barplot(data=token_df, y="predicted token", x="excess influence / same-order mean", hue="candidate", ax=axes[1])
axes[1].axvline(0, color="grey", linewidth=1)
gu.label(axes[1], "excess influence / same-order mean", "predicted token of the candidate", "Which tokens carry it")

# %% [markdown]
# ## Verdict
#
# The rule (fixed before the `cpu` run of this design) reads three sub-claims, each from measurements
# that could come out either way, and reports each one:
#
# - **accuracy**: `supported` when the median over queries of Spearman(EK-FAC, exact) ≥ 0.7 and ≥ 0.8 × the
#   median Spearman(LiSSA at full depth, exact); `contradicted` when it is < 0.4 or < 0.6 × LiSSA's (the
#   estimator read is the one `curvature` names: EK-FAC in the main run);
# - **cost** (`cost_ratio`): the multiply-adds EK-FAC needs for all queries' IHVPs (fitting its factors
#   included) over those LiSSA needs to converge, at the first depth of its sweep whose median ρ is
#   within 0.02 of the final one (linearization and power iteration included): the two estimators at the
#   settings whose accuracies the first sub-claim compares. LiSSA's depth is measured, so the ratio
#   depends on the curvature and can fail (a well-conditioned problem lets LiSSA converge in a few
#   steps). Cost is counted in multiply-adds rather than seconds because the book requires the same
#   numbers from the same seed and wall time differs from run to run; the wall times are printed and
#   drawn in Figure 2. `supported` when ≤ 0.1 (the least that "orders of magnitude faster" can mean),
#   `contradicted` when ≥ 1 (not cheaper at all). LiSSA's cost to reach EK-FAC's own accuracy is reported
#   beside it (`cost_ratio_equal_accuracy`);
# - **word order**: flipped / same-order mean excess influence, with a 95% bootstrap interval over the
#   held-out queries. "Near zero" is read as below a tenth of the same-order influence: `supported` when
#   the interval's upper end is ≤ 0.1, `contradicted` when its lower end is > 0.1.
#
# The chapter is `supported` when all three are, `contradicted` when any one is, `inconclusive`
# otherwise. **Instrument checks** (a failing one makes the verdict inconclusive): LiSSA has converged
# (its median ρ moved by at most 0.02 over the last doubling of depth), so EK-FAC is compared with a
# finished control; LiSSA's matrix-free product equals the formed Gauss-Newton matrix (relative error
# < 1e-8); the MLP sits at a stationary point; the transformer learned its training facts
# (completion accuracy ≥ 0.9); the held-out queries are not memorised (loss ≥ 1 nat, true by
# construction: those facts are not in the corpus); the same-order candidate's excess influence is
# positive (its interval above 0), nearly true by construction since it contains the query's own loss.
# Leave-one-out agreement, Pearson correlations, the no-curvature baseline and the exact solve's time are
# reported beside the verdict and do not enter the rule, as do the K-FAC and no-curvature correlations.

# %%
from genutils.verdict import decide

statistics = {
    "rho_est_exact": float(np.median(rho[est_name])),
    "rho_lissa_exact": float(np.median(rho["LiSSA"])),
    "rho_ratio": float(np.median(rho[est_name]) / np.median(rho["LiSSA"])),
    "rho_diag_ekfac_exact": rho_diag["EK-FAC"],
    "rho_diag_kfac_exact": rho_diag["K-FAC"],
    "rho_diag_no_curvature_exact": rho_diag["no curvature"],
    "pearson_est_exact": float(np.median(r[est_name])),
    "pearson_lissa_exact": float(np.median(r["LiSSA"])),
    "lissa_last_doubling_rho_change": float(rho_sweep.iloc[-1] - rho_sweep.iloc[-2]),
    "lissa_ihvp_relative_error": float(sweep["IHVP relative error"].iloc[-1]),
    "gnh_product_error": gnh_product_error,
    "lissa_depth_converged": depth_converged,
    "lissa_depth_equal_accuracy": depth_equal,
    "macs_est": est_macs(P.curvature),
    "macs_lissa_converged": lissa_macs(depth_converged),
    "cost_ratio": est_macs(P.curvature) / lissa_macs(depth_converged),
    "cost_ratio_equal_accuracy": est_macs(P.curvature) / lissa_macs(depth_equal),
    "loo_r_exact": float(loo_r["exact"]),
    "loo_r_est": float(loo_r[est_name]),
    "loo_r_lissa": float(loo_r["LiSSA"]),
    "mlp_grad_norm": grad_norm,
    "same_excess_mean": float(ex_same.mean()),
    "same_excess_lo": same_lo,
    "flip_excess_mean": float(ex_flip.mean()),
    "flip_ratio": flip_ratio,
    "flip_ratio_lo": flip_lo,
    "flip_ratio_hi": flip_hi,
    "lm_acc_training_facts": acc_facts,
    "heldout_query_acc": acc_heldout,
    "heldout_query_loss": loss_heldout,
}
SUBCLAIMS = {
    "accuracy": (gu.all_of(gu.cond("rho_est_exact", ">=", 0.7), gu.cond("rho_ratio", ">=", 0.8)),
                 gu.any_of(gu.cond("rho_est_exact", "<", 0.4), gu.cond("rho_ratio", "<", 0.6))),
    "cost": (gu.cond("cost_ratio", "<=", 0.1), gu.cond("cost_ratio", ">=", 1.0)),
    "word order": (gu.cond("flip_ratio_hi", "<=", 0.1), gu.cond("flip_ratio_lo", ">", 0.1)),
}
CHECKS = {
    "lissa_converged": gu.cond("lissa_last_doubling_rho_change", "between", (-0.02, 0.02)),
    "gnh_product_matches_matrix": gu.cond("gnh_product_error", "<", 1e-8),
    "mlp_stationary": gu.cond("mlp_grad_norm", "<", 1e-3),
    "lm_learned_training_facts": gu.cond("lm_acc_training_facts", ">=", 0.9),
    "queries_not_memorised": gu.cond("heldout_query_loss", ">=", 1.0),
    "same_order_influence_positive": gu.cond("same_excess_lo", ">", 0.0),
}
RULE = gu.rule(supported=gu.all_of(*(s for s, _ in SUBCLAIMS.values())),
               contradicted=gu.any_of(*(c for _, c in SUBCLAIMS.values())), checks=CHECKS)
print(pd.DataFrame([{"sub-claim": k, "evidence alone says": decide(gu.rule(s, c), statistics)}
                    for k, (s, c) in SUBCLAIMS.items()]).to_string(index=False))
record = gu.report_verdict(
    chapter="influence_functions", params=P, rule=RULE, statistics=statistics, seeds=[P.seed],
    headline=["rho_est_exact", "rho_lissa_exact", "cost_ratio", "flip_ratio", "flip_ratio_hi"],
)

# %% [markdown]
# **Reading the `cpu` verdicts** (seed 0; numbers from the runs of commit 94299f1). Main run
# **inconclusive**: EK-FAC's median ρ with the exact influence is 0.722 against a converged LiSSA's 0.968
# (ratio 0.745, between the 0.6 and 0.8 bars), so "about as accurate" is neither shown nor refuted at
# this size. K-FAC does as well (0.718), so the eigenvalue correction buys nothing here, while dropping
# the curvature costs a lot (0.339). Cost: 1.0e8 multiply-adds for EK-FAC against 1.8e9 for LiSSA to
# converge (depth 256), ratio 0.057, supported; but this run's wall times gave 0.25 (0.17 s against
# 0.68 s), and LiSSA reached EK-FAC's own accuracy at depth 32 (ratio 0.33 there), so the margin is
# modest. Word order: the flipped candidates' excess influence is 0.0007 of the same-order one (interval
# −0.0009 to 0.0025), supported. The split over tokens shows that nearly all of the same-order candidate's
# influence comes from its completion token, and none of the flipped candidate's tokens carries any.
# Falsification run **contradicted**, through accuracy alone (no curvature: ρ 0.339, ratio 0.350).
# Stating every training fact in both orders did *not* bring the flipped influence back (0.0017,
# interval −0.0016 to 0.0051): a model taught both orders of other facts still gets no help on a new
# fact from its flipped statement, as the reversal-curse literature would predict. The word-order
# sub-claim therefore has no working falsification in this chapter: its contradicted branch (flipped
# influence above a tenth of the same-order influence) is reachable only if a flipped candidate's
# gradient lined up with the query's, and nothing tried here made it do so.

# %% [markdown]
# ### Rule history
#
# - **First rule** (study card 17): accuracy as above but against LiSSA at a fixed depth of 1000; cost as
#   a count of network passes, $10n / \big(2Q(30n + \text{depth}\cdot\text{batch})\big) \le 0.5$; word order as
#   forward ≥ 5 × flipped influence with the flipped influence within 2 s.d. of unrelated pairs, where
#   the "forward query" was the training sequence itself. Its `cpu` verdict was **contradicted**
#   (EK-FAC vs exact ρ 0.72, but 0.74 × LiSSA's, below 0.8; the flipped-order influence far above the
#   forward one; 143.6 s on a loaded machine, 74 s in a later build).
# - **Why it was replaced** (review of the dynamics part, section 5): the forward queries were training
#   sequences the model had memorised, so their gradient, and the forward influence, was ≈ 0 by
#   construction, and the fact's BOS → $A_i$ term helped the flipped query trivially; the paper instead
#   scores candidate sequences against queries the model has not memorised, so Part B was redesigned
#   that way (held-out facts, candidates in both orders). The cost leaf was a closed formula of the
#   parameters that could not fail; LiSSA's side is now measured (the depth at which its sweep converged),
#   and the wall times are shown beside it. LiSSA ran at one
#   depth that might not have converged, which flatters EK-FAC's ratio; it is now swept and its
#   convergence is an instrument check. The falsification run (no curvature in Part A, every fact in
#   both orders in Part B) was added with this repair.
# - **Rule of this repair as first committed** (d807b77): the same three sub-claims and thresholds, but
#   the cost read as per-example network passes (a jvp, a vjp or a backward pass through one example
#   counted as one), with LiSSA's measured depth to convergence; the corpus held two mentions per entity
#   and the transformer trained for 2000 steps. Its `cpu` verdicts: main **inconclusive** (accuracy
#   inconclusive, ρ 0.722 = 0.745 × LiSSA's 0.968; cost supported, 0.0092; word order supported,
#   flipped / same 0.003, interval 0.0004 to 0.0056), falsification **contradicted** (no-curvature ρ
#   0.339; word order still supported, 0.002); 163 s and 215 s, both runs together on a machine loaded
#   by other jobs.
# - **Why the cost changed** (after that run): the pass count treated EK-FAC's fit as ten backward
#   passes per example and missed its real work, while the same run's wall times had EK-FAC *slower*
#   than LiSSA to convergence (0.60 s against 0.40 s). Looking into it showed both implementations
#   wasteful in ways that distort a cost comparison: EK-FAC rotated every per-example gradient matrix
#   (the rotation factorizes into rotating a and s), and LiSSA recomputed the forward pass at every step
#   (the linearization point is fixed). Both were made efficient, and the cost is now counted in
#   multiply-adds of all the work each estimator does. This makes the cost sub-claim harder to pass,
#   not easier. To keep the `cpu` profile near 90 s, the corpus now holds one mention per entity
#   ("BOS f E f", which still makes each entity both read and predicted) and the transformer trains
#   for 1000 steps (it recalls all training facts well before that); the accuracy and word-order rules
#   are unchanged.
# - **Amended rule** (94299f1, the rule shown above), `cpu`: main **inconclusive** (accuracy inconclusive,
#   cost supported 0.057, word order supported 0.0007), falsification **contradicted** (accuracy); 58 s and
#   70 s with both runs side by side on a machine shared with other jobs. Read above.

# %% [markdown]
# ## Faithfulness notes
#
# - **This repair.** Part B was redesigned so that influence is measured the paper's way: candidate
#   sequences that are not in the training set, scored against queries about facts the model has not
#   seen, with the candidate stating the fact in the query's order or in the flipped order. The cost
#   reads LiSSA's measured depth to convergence instead of a formula of the parameters alone, and
#   LiSSA's Gauss-Newton-vector product is written out in matrix form (it was a vmapped jvp/vjp, whose
#   overhead would have flattered EK-FAC in any timing). LiSSA's depth is
#   swept, and its convergence checked, before EK-FAC is compared with it. A falsification run and an
#   instrument-check list were added; `curvature` (EK-FAC, K-FAC or none) and `both_orders` are new parameters.
# - **Exact means the exact damped Gauss-Newton Hessian**, not the full Hessian: EK-FAC and LiSSA, in the
#   paper and here, both approximate the GNH (the curvature of the PBRF), so the exact GNH inverse is the
#   answer they are trying to reach; the full Hessian of a non-convex network can be indefinite.
#   Leave-one-out retraining (Figure 3) is the check against the true, nonlinear response. The paper's
#   ground truth is the PBRF itself; here the exact GNH answer is affordable, which is the point of the
#   miniature, and LiSSA converges to it, so "about as accurate as LiSSA" becomes "about as accurate as
#   the exact answer".
# - The exact Fisher expectation over labels is taken in Part A (ten classes); the paper samples one label
#   per token, as Part B does (`label_draws` samples). `kronfluence` is not installed here, so EK-FAC is
#   written out above, following the paper's Section 2.
# - **Cost.** The issue asked for wall time; the rule reads multiply-adds with LiSSA's measured depth to
#   convergence instead, because wall time varies between runs of the same seed and the book's tests
#   require identical statistics. The wall times of this run are printed and plotted (Figure 2) so a
#   reader can compare the two. The count is for an efficient implementation of each estimator (LiSSA
#   linearizes once; EK-FAC shares each example's forward pass across its labels), which the chapter's
#   code nearly is; the ratio depends on `n_queries`, since EK-FAC's fit is paid once and LiSSA's steps
#   are paid per query. At this size EK-FAC's factors are tiny (41 × 41 and 32 × 32 for the
#   first layer) and the exact solve is itself cheap; the paper's cost argument is about models where
#   neither exact solves nor deep LiSSA recursions are affordable.
# - Leave-one-out retraining is warm-started gradient descent with a control copy, a stand-in for the PBRF
#   objective; with `loo_steps` steps the slowest curvature directions are not fully re-equilibrated.
#   It does not enter the rule.
# - **Part B is a caricature** of the paper's synthetic "Astrobia" sequences: a fact is two entity tokens
#   joined by a relation token, the flipped statement uses a reversed-relation token (as English would
#   say "Zorald Pfaff was the first President of …"), and the model is a 2-layer transformer trained
#   from scratch on a few hundred sequences, not a pretrained LLM. Influence is restricted to the MLP
#   layers (as in the paper) with the paper's damping heuristic, 0.1 × the mean eigenvalue, rather than
#   Part A's fixed `damping`. TF-IDF filtering and query batching, the paper's other scaling devices,
#   are not shown. Figure 4 (right) splits a candidate's influence over its predicted tokens; in this
#   three-token format the flipped candidate's first term, predicting $B_j$ right after BOS, is the only
#   one that puts probability on the query's completion directly.
# - **The falsification run** changes two things at once, one per sub-claim it targets: Part A's estimator
#   drops the curvature (damped gradient dot products), and every training fact is stated in both orders
#   in Part B. The first falsification designed for Part A was K-FAC (EK-FAC without its eigenvalue
#   correction), as the issue suggested; a smoke run before the rule was committed showed it inert at
#   this size (median ρ 0.582 for K-FAC, 0.581 for EK-FAC), so removing the correction removes nothing
#   the rule can see here, and K-FAC is instead reported in every run as a diagnostic. The cost sub-claim
#   has no cause to remove. Read the sub-claim table of each run to see which sub-claim moved.
# - **The word-order null did not bite.** `both_orders` was the suggestion and was fixed before
#   any run; the flipped influence stayed near zero under it (see the reading of the verdicts). The
#   falsification run is `contradicted` only through its Part A change.
# - One seed; the statistics are over queries (Part A: medians over `n_queries`; Part B: bootstrap over
#   `n_heldout` held-out facts), not over repeated trainings.
