# ---
# jupyter:
#   genbook:
#     claim: In single-source domain generalization on style-shifted digits, adding
#       UDIM's unknown-domain inconsistency term to SAM raises mean target-domain accuracy
#       over SAM, and beyond SAM trained on the same perturbed instances without the
#       term.
#     'null':
#       syn_lr: 0.0
#     null_reason: With a zero perturbation step the crafted unknown domains coincide
#       with the source, so there is no unknown-domain landscape to align (only a gradient-norm
#       penalty on source samples remains) and sam_aug becomes SAM on duplicated data.
#     paper: Shin, Bae, Na, Kim & Moon 2024 (ICLR), arXiv:2403.07329
#     part: ood
#     profiles:
#       gpu:
#         epochs: 100
#         n_trials: 3
#         run_sweep: true
#         seeds: 10
#         sources:
#         - clean
#         - colour
#         - inverted
#         - blur_noise
#         - texture
#       smoke:
#         epochs: 3
#         n_trials: 1
#         seeds: 2
#     title: UDIM - aligning the source loss landscape with crafted unknown domains
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
# # UDIM: unknown domain inconsistency minimization
#
# **Paper.** Seungjae Shin, HeeSun Bae, Byeonghu Na, Yoon-Yeong Kim and Il-Chul Moon, *Unknown Domain
# Inconsistency Minimization for Domain Generalization*, ICLR 2024
# ([arXiv:2403.07329](https://arxiv.org/abs/2403.07329)).
#
# **Claim under test.** SAM flattens the loss landscape of the *source* domain. UDIM adds a second objective:
# "UDIM reduces the loss landscape inconsistency between source domain and unknown domains. As unknown domains
# are inaccessible, these domains are empirically crafted by perturbing instances from the source domain
# dataset. In particular, by aligning the loss landscape acquired in the source domain to the loss landscape of
# perturbed domains, we expect to achieve generalization grounded on these flat minima for the unknown domains."
# The abstract adds that "UDIM consistently outperforms SAM variants across multiple DG benchmark datasets" and
# that "UDIM shows statistically significant improvements in scenarios with more restrictive domain
# information". Tested here in the most restrictive setting, a single source domain: (a) SAM + UDIM beats SAM
# on unseen target domains, and (b) the gain is not explained by merely training on the same perturbed
# instances (the `sam_aug` arm).
#
# **The paper's evidence.** Target-domain accuracy tables in the leave-one-out (multi-source) and single-source
# settings against SAM variants (SAM, SAGM, GAM and others), a theorem that SAM + UDIM upper-bounds the DG
# objective, and Fig. 1 (parameter- and data-space views). The stored copies of the paper (arXiv HTML and two
# review pages) hold the abstract and introduction only: **the table numbers were not found**. The official
# code (`aailabkaist/UDIM`, read for the method, not copied) runs PACS with a ResNet, batch 16, lr 3e-5,
# `advstyle` (per-channel style statistics are the perturbed quantities), `syn_lr` 10, `worst_weight` 1,
# SAM ρ 0.05, 3 seeds.
#
# **What is scaled down.** PACS with a pretrained ResNet becomes scikit-learn's 8×8 digits rendered in five
# styles by the shared generator (`genutils.domains.render_digits`) and a two-layer CNN trained from scratch.
# Source `clean` (white on black); targets `colour`, `inverted`, `blur_noise`, `texture`.
#
# **Falsification run.** The cause the paper names is the crafted unknown domain. With `syn_lr` = 0 the
# perturbed instances equal the source ones: the variance-distance term vanishes, only a gradient-norm penalty
# on source samples remains, and `sam_aug` is SAM on duplicated data. A `supported` here would say the gain
# comes from a generic regulariser, not from the unknown domains.

# %%
import copy

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

import genutils as gu
from genutils import domains

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; seed s uses seed + s for its split, initialisation and batch order
sources = ["clean"]  # source domains, each run separately (targets are the other four)
epochs = 30  # training epochs, read at the last epoch (all arms)
batch_size = 64  # batch size
lr = 0.003  # Adam learning rate of the SAM-family arms
rho = 0.05  # SAM radius used by udim (and by the landscape diagnostic)
syn_lr = 0.5  # style-perturbation step, normalised per image, in units of the channel std
warmup_frac = 0.2  # share of the steps with plain SAM before UDIM starts
n_trials = 1  # configurations per arm (the first n_trials of each grid)
erm_lrs = [0.003, 0.001, 0.0003]  # ERM learning-rate grid
sam_rhos = [0.05, 0.02, 0.1]  # SAM radius grid of sam and sam_aug
udim_weights = [1.0, 0.3, 3.0]  # worst_weight grid of udim
seeds = 6  # repetitions
run_sweep = False  # rerun udim at other syn_lr multiples (descriptive)
sweep_factors = [0.5, 2.0]  # syn_lr multiples of the sweep

# %%
DOMAINS = {
    "clean": domains.ImageStyle(fg=(1.0, 1.0, 1.0), bg=(0.0, 0.0, 0.0), noise=0.02, jitter=0.05),
    "colour": domains.ImageStyle(fg=(0.9, 0.3, 0.1), bg=(0.1, 0.2, 0.6), noise=0.02, jitter=0.05),
    "inverted": domains.ImageStyle(fg=(0.3, 0.3, 0.3), bg=(0.8, 0.8, 0.8), noise=0.02, jitter=0.05),
    "blur_noise": domains.ImageStyle(fg=(1.0, 1.0, 1.0), bg=(0.0, 0.0, 0.0), blur=0.8, noise=0.15, jitter=0.05),
    "texture": domains.ImageStyle(fg=(0.8, 0.8, 0.2), bg=(0.2, 0.2, 0.2), grating=0.3, noise=0.02, jitter=0.05),
}
IN_FAMILY = ["colour", "inverted"]  # differ from clean only in per-channel statistics

P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    sources=gu.List(gu.Choice(*DOMAINS)),
    epochs=gu.Int(min=1, max=1000),
    batch_size=gu.Int(min=8, max=1024),
    lr=gu.Float(gt=0, max=0.1),
    rho=gu.Float(gt=0, max=1),
    syn_lr=gu.Float(min=0, max=5),
    warmup_frac=gu.Float(min=0, max=1),
    n_trials=gu.Int(min=1, max=3),
    erm_lrs=gu.List(gu.Float(gt=0, max=0.1), min_len=3),
    sam_rhos=gu.List(gu.Float(gt=0, max=1), min_len=3),
    udim_weights=gu.List(gu.Float(min=0, max=100), min_len=3),
    seeds=gu.Int(min=2),
    run_sweep=gu.Bool(),
    sweep_factors=gu.List(gu.Float(min=0, max=10)),
)
if len(set(P.sources)) != len(P.sources):
    raise gu.ParameterError("sources", "lists a domain twice")
device = gu.device()
images, labels = domains.digit_images()
seed_list = [P.seed + s for s in range(P.seeds)]
ARMS = ["erm", "sam", "sam_aug", "udim"]
print(f"{len(labels)} digits, sources {P.sources}, {P.seeds} seeds, {P.n_trials} trials per arm, "
      f"{P.epochs} epochs; device {device}")
P

# %% [markdown]
# ## Data: one digit set, five styles
#
# Intensity $I$ = pixel/16 is drawn as a three-channel image
# $x_c = b_c + (f_c - b_c)\,\mathrm{blur}_\sigma(I) + a\,g\,(1-\mathrm{blur}_\sigma(I)) + \mathcal N(0, s^2)$
# (foreground $f$, background $b$, blur σ, grating $g$ of amplitude $a$, noise $s$; $f$ and $b$ jittered by
# U(±0.05) per image). `clean` f = 1, b = 0, s = 0.02; `colour` f = (0.9, 0.3, 0.1), b = (0.1, 0.2, 0.6);
# `inverted` f = 0.3, b = 0.8; `blur_noise` σ = 0.8, s = 0.15; `texture` f = (0.8, 0.8, 0.2), b = 0.2,
# a = 0.3 (the card leaves s unset for colour, inverted and texture: 0.02 as for clean). Per seed the digit
# indices are split 70/30; the 70% are drawn in the source style and split 85/15 into training and
# source-validation; the 30% are drawn in every domain (source test and the targets), so no target image
# shares its digit instance with a training image.

# %%
def make_data(s: int, source: str) -> dict:
    """Tensors of one seed and source: train, val (source style) and test in every domain."""
    order = np.random.default_rng(s).permutation(len(labels))
    n_fit = int(0.7 * len(labels))
    fit, test = order[:n_fit], order[n_fit:]
    n_tr = int(0.85 * n_fit)
    rng = np.random.default_rng(1_000 + s)
    x_fit = domains.render_digits(images[fit], DOMAINS[source], rng)
    y_fit = torch.tensor(labels[fit])
    out = {"train": (x_fit[:n_tr].to(device), y_fit[:n_tr].to(device)),
           "val": (x_fit[n_tr:].to(device), y_fit[n_tr:].to(device))}
    y_test = torch.tensor(labels[test]).to(device)
    for name, style in DOMAINS.items():
        out[name] = (domains.render_digits(images[test], style, rng).to(device), y_test)
    return out


# %% [markdown]
# ## Model and the four arms
#
# conv3×3(3→16)–ReLU–conv3×3(16→32)–ReLU–global average pool (the 32-d feature $h$)–linear(32→10); Adam,
# batch `batch_size`, `epochs` epochs, the same initialisation and batch order per seed for every arm, read at
# the last epoch.
#
# - `erm`: cross-entropy.
# - `sam` (Foret et al. 2021): gradient at $\theta + \rho\, g/\lVert g\rVert$, $g$ the batch gradient.
# - `udim`, the paper's method, per step (as in the official code's `IADA_FINAL` optimizer):
#   1. **craft the unknown domain**: write each source image as $x = \mu + \sigma\,\hat x$ with per-channel
#      mean μ and std σ; take the gradient of $L(\theta; \tilde x) + \rho \lVert \nabla_\theta L(\theta;
#      \tilde x)\rVert$ (a first-order stand-in for the SAM loss) with respect to (μ, σ), normalise it per
#      image to unit length, and step *up* by `syn_lr`·σ: $\tilde x = \tilde\mu + \tilde\sigma\,\hat x$.
#   2. the SAM gradient on the clean batch.
#   3. the **inconsistency gradient** on $[x; \tilde x]$: with per-sample gradients of the last layer (closed
#      form, $(p - e_y)\otimes h$ for the weights, $p - e_y$ for the bias), their per-parameter second
#      moments about the clean half's mean, $v_S$ and $v_{\tilde S}$; the Fishr-style distance
#      $\tfrac12\sum_{d\in\{S,\tilde S\}} \mathrm{mean}(v_d - \bar v)^2$ plus, per parameter tensor, the mean
#      squared per-sample gradient norm of the perturbed half divided by its size — differentiated through
#      the whole network.
#   4. update with SAM grad + `worst_weight` × inconsistency grad. The first `warmup_frac` of the steps are
#      plain SAM (the code starts UDIM from a checkpoint after a SAM phase).
# - `sam_aug`: step 1 exactly as `udim`, then SAM on $[x; \tilde x]$ — the same perturbed instances, no
#   inconsistency term; it isolates the paper's named mechanism.
#
# Tuning with equal budget, on the source-validation split only: `erm` tries the first `n_trials` learning
# rates of `erm_lrs`; `sam` and `sam_aug` the first `n_trials` radii of `sam_rhos` (at `lr`); `udim` the first
# `n_trials` weights of `udim_weights` (at `lr`, `rho`). The configuration with the highest source-validation
# accuracy is kept (ties: lower validation loss); the targets are evaluated only for it.

# %%
class CNN(nn.Module):
    """The architecture, used only to draw each model's initialisation (and to count its parameters)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(32, 10)


def init_stack(model_seeds: list[int]) -> list[torch.Tensor]:
    """Stacked parameters (K, ...) of K CNNs; model i is initialised after torch.manual_seed(model_seeds[i])."""
    nets = []
    for s in model_seeds:
        torch.manual_seed(s)
        nets.append(list(CNN().parameters()))
    return [torch.stack([p.detach() for p in ps]).to(device).requires_grad_(True) for ps in zip(*nets)]


def features(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Every model on its own inputs: x (K, n, 3, H, W) -> pooled features (K, n, 32), by grouped convolutions."""
    w1, b1, w2, b2 = params[:4]
    k, n = x.shape[:2]
    z = x.transpose(0, 1).reshape(n, k * 3, *x.shape[-2:])
    z = F.relu(F.conv2d(z, w1.flatten(0, 1), b1.flatten(), padding=1, groups=k))
    z = F.relu(F.conv2d(z, w2.flatten(0, 1), b2.flatten(), padding=1, groups=k))
    return z.mean((2, 3)).view(n, k, -1).transpose(0, 1)


def head(params: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    return torch.einsum("knd,kcd->knc", h, params[4]) + params[5][:, None]


def losses(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each model on its own batch, (K,)."""
    out = head(params, features(params, x))
    return F.cross_entropy(out.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)


def per_model(v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A (K,) vector shaped to broadcast against the stacked tensor t."""
    return v.view(-1, *[1] * (t.ndim - 1))


def norms(grads) -> torch.Tensor:
    """Each model's gradient norm over all its parameters, (K,)."""
    return torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads))


def sam_grads(params, x, y, r: torch.Tensor) -> list[torch.Tensor]:
    """SAM's gradient per model: the loss gradient at θ + r·g/‖g‖, g the batch gradient at θ (r per model)."""
    g = torch.autograd.grad(losses(params, x, y).sum(), params)
    scale = r / (norms(g) + 1e-12)
    shifted = [(p.detach() + per_model(scale, gi) * gi).requires_grad_(True) for p, gi in zip(params, g)]
    return list(torch.autograd.grad(losses(shifted, x, y).sum(), shifted))


def craft_unknown(params, x, y, r: torch.Tensor, step: float) -> torch.Tensor:
    """UDIM step 1: move each image's per-channel mean and std up the SAM-loss surrogate by `step`·σ."""
    if step == 0:
        return x.clone()
    mu = x.mean((-2, -1), keepdim=True)
    sig = (x.var((-2, -1), keepdim=True) + 1e-5).sqrt()
    normed = (x - mu) / sig
    a_mu, a_sig = mu.clone().requires_grad_(True), sig.clone().requires_grad_(True)
    loss = losses(params, normed * a_sig + a_mu, y)
    g = torch.autograd.grad(loss.sum(), params, create_graph=True)
    g_mu, g_sig = torch.autograd.grad((loss + r * norms(g)).sum(), [a_mu, a_sig])
    d = torch.cat([g_mu, g_sig], 2).flatten(2)                      # (K, n, 6): the style gradient per image
    d = d / (d.norm(dim=2, keepdim=True) + 1e-12)
    d_mu, d_sig = d[..., :3, None, None], d[..., 3:, None, None]
    return (normed * (sig + step * sig * d_sig) + mu + step * sig * d_mu).detach()


def inconsistency(params, x: torch.Tensor, x_syn: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """UDIM step 3 per model, (K,): last-layer gradient-variance distance between x and x̃, plus x̃'s gradient norms."""
    n = x.shape[1]
    h = features(params, torch.cat([x, x_syn], 1))
    r = head(params, h).softmax(-1) - F.one_hot(torch.cat([y, y], 1), 10).to(h.dtype)
    g_w = (r[..., :, None] * h[..., None, :]).flatten(2)          # per-sample weight gradients, (K, 2n, 320)
    grads = torch.cat([g_w, r], 2)                                  # with the bias', (K, 2n, 330)
    mean_src = grads[:, :n].mean(1, keepdim=True)
    v_src = ((grads[:, :n] - mean_src) ** 2).mean(1)
    v_syn = ((grads[:, n:] - mean_src) ** 2).mean(1)
    v_bar = (v_src + v_syn) / 2
    distance = (((v_src - v_bar) ** 2).mean(1) + ((v_syn - v_bar) ** 2).mean(1)) / 2
    grad_norms = (g_w[:, n:] ** 2).sum(2).mean(1) / g_w.shape[2] + (r[:, n:] ** 2).sum(2).mean(1) / r.shape[2]
    return distance + grad_norms


class Adam:
    """torch.optim.Adam's update (β = 0.9, 0.999, ε = 1e-8), elementwise, with a learning rate per model."""

    def __init__(self, params: list[torch.Tensor], lr: torch.Tensor):
        self.params, self.lr, self.t = params, lr, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m.mul_(0.9).add_(g, alpha=0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            denom = (v.sqrt() / np.sqrt(1 - 0.999 ** self.t)).add_(1e-8)
            p.sub_(per_model(self.lr, p) / (1 - 0.9 ** self.t) * m / denom)


def train(arm: str, cfgs: list[float], model_seeds: list[int], data: dict, step_size: float) -> tuple[list, dict]:
    """Train K models of one arm at once, model i with configuration cfgs[i] (lr for erm, ρ for sam and
    sam_aug, worst_weight for udim), initialisation and batch order of model_seeds[i], data[...][i]."""
    params = init_stack(model_seeds)
    cfg = torch.tensor(cfgs, dtype=torch.float32, device=device)
    opt = Adam(params, cfg if arm == "erm" else torch.full_like(cfg, P.lr))
    rho_udim = torch.full_like(cfg, P.rho)
    x, y = data["train"]
    k, n = y.shape
    gens = [torch.Generator().manual_seed(20_000 + s) for s in model_seeds]
    n_batches = max(1, n // P.batch_size)
    rows = torch.arange(k, device=device)[:, None]
    total, t, gaps = P.epochs * n_batches, 0, []
    for _ in range(P.epochs):
        order = torch.stack([torch.randperm(n, generator=g)[: n_batches * P.batch_size] for g in gens])
        order = order.view(k, n_batches, -1).to(device)
        for b in range(n_batches):
            xb, yb = x[rows, order[:, b]], y[rows, order[:, b]]
            if arm == "erm":
                grads = torch.autograd.grad(losses(params, xb, yb).sum(), params)
            elif arm == "sam":
                grads = sam_grads(params, xb, yb, cfg)
            elif arm == "sam_aug":
                xs = craft_unknown(params, xb, yb, cfg, step_size)
                gaps.append((xs - xb).abs().mean().item())
                grads = sam_grads(params, torch.cat([xb, xs], 1), torch.cat([yb, yb], 1), cfg)
            elif t < P.warmup_frac * total:                               # udim's plain-SAM warm-up
                grads = sam_grads(params, xb, yb, rho_udim)
            else:
                xs = craft_unknown(params, xb, yb, rho_udim, step_size)
                gaps.append((xs - xb).abs().mean().item())
                g_sam = sam_grads(params, xb, yb, rho_udim)
                g_inc = torch.autograd.grad((cfg * inconsistency(params, xb, xs, yb)).sum(), params)
                grads = [a + c for a, c in zip(g_sam, g_inc)]           # cfg (worst_weight) is inside g_inc
            opt.step(grads)
            t += 1
    params = [p.detach() for p in params]
    xv, yv = data["val"]
    with torch.no_grad():
        out = head(params, features(params, xv))
        val_loss = F.cross_entropy(out.flatten(0, 1), yv.flatten(), reduction="none").view(yv.shape).mean(1)
    return params, {"val_acc": (out.argmax(-1) == yv).float().mean(1).cpu().numpy(),
                    "val_loss": val_loss.cpu().numpy(), "gap": float(np.mean(gaps)) if gaps else np.nan}


GRIDS = {"erm": P.erm_lrs, "sam": P.sam_rhos, "sam_aug": P.sam_rhos, "udim": P.udim_weights}


def accuracy(params, xy) -> np.ndarray:
    """Accuracy of each model on its own data, (K,)."""
    with torch.no_grad():
        return (head(params, features(params, xy[0])).argmax(-1) == xy[1]).float().mean(1).cpu().numpy()


def select(arm: str, data: dict, step_size: float) -> tuple[list, list, dict]:
    """Train the first n_trials configurations of the arm's grid for every seed (all at once); keep, per seed,
    the best on source validation (ties: lower validation loss). Returns the kept models stacked over seeds."""
    grid = GRIDS[arm][: P.n_trials]
    model_seeds = [s for s in seed_list for _ in grid]
    rep = {key: tuple(t.repeat_interleave(len(grid), 0) for t in xy) for key, xy in data.items()}
    params, info = train(arm, [c for _ in seed_list for c in grid], model_seeds, rep, step_size)
    keep = [max(range(i * len(grid), (i + 1) * len(grid)), key=lambda j: (info["val_acc"][j], -info["val_loss"][j]))
            for i in range(len(seed_list))]
    chosen = [grid[j % len(grid)] for j in keep]
    return [p[keep] for p in params], chosen, {"val_acc": info["val_acc"][keep], "gap": info["gap"]}


# %% [markdown]
# ## Landscape inconsistency (diagnostic)
#
# For a trained model, ε̂ = ρ·g/‖g‖ with g the gradient of the source test loss; the inconsistency on target T
# is $|L_T(\theta+\hat\varepsilon) - L_S(\theta+\hat\varepsilon)|$, and the same on the crafted $\tilde x$ of the
# source test set. Does aligning on $\tilde x$ transfer to the real targets?

# %%
def landscape(params, data: dict, source: str, step_size: float) -> dict[str, np.ndarray]:
    """|L_T(θ + ε̂) − L_S(θ + ε̂)| per model for every target and for the crafted x̃ of the source test set."""
    params = [p.clone().requires_grad_(True) for p in params]
    xs, ys = data[source]
    r = torch.full((ys.shape[0],), P.rho, device=device)
    x_syn = craft_unknown(params, xs, ys, r, step_size)
    g = torch.autograd.grad(losses(params, xs, ys).sum(), params)
    scale = r / (norms(g) + 1e-12)
    shifted = [(p + per_model(scale, gi) * gi).detach() for p, gi in zip(params, g)]
    with torch.no_grad():
        l_src = losses(shifted, xs, ys)
        out = {name: (losses(shifted, *data[name]) - l_src).abs().cpu().numpy() for name in DOMAINS if name != source}
        out["crafted x̃"] = (losses(shifted, x_syn, ys) - l_src).abs().cpu().numpy()
    return out


# %% [markdown]
# ## Run
#
# Per source, every arm trains all its `seeds` × `n_trials` models at once (stacked parameters, grouped
# convolutions, an Adam step that is elementwise and so the same as one optimizer per model).

# %%
rows, choice_rows, land_rows, examples, kept = [], [], [], None, {}
for source in P.sources:
    per_seed_data = [make_data(s, source) for s in seed_list]
    data = {key: tuple(torch.stack([d[key][i] for d in per_seed_data]) for i in (0, 1)) for key in per_seed_data[0]}
    targets = [d for d in DOMAINS if d != source]
    for arm in gu.progress(ARMS, desc=f"arms ({source})"):
        params, chosen, info = select(arm, data, P.syn_lr)
        kept[(source, arm)] = (params, chosen)
        choice_rows += [{"seed": s, "source": source, "arm": arm, "config": c, "val_acc": float(v), "gap": info["gap"]}
                        for s, c, v in zip(seed_list, chosen, info["val_acc"])]
        for name in [source, *targets]:
            role = "source" if name == source else (
                "in-family" if (source == "clean" and name in IN_FAMILY) else "target")
            rows += [{"seed": s, "source": source, "arm": arm, "domain": "source test" if name == source else name,
                      "role": role, "accuracy": float(a)} for s, a in zip(seed_list, accuracy(params, data[name]))]
        if arm in ("sam", "udim"):
            for name, vals in landscape(params, data, source, P.syn_lr).items():
                land_rows += [{"seed": s, "source": source, "arm": arm, "domain": name, "inconsistency": float(v)}
                              for s, v in zip(seed_list, vals)]
    if examples is None:
        udim_params = [p[:1].clone().requires_grad_(True) for p in kept[(source, "udim")][0]]
        x6, y6 = data[source][0][:1, :6], data[source][1][:1, :6]
        syn = craft_unknown(udim_params, x6, y6, torch.full((1,), P.rho, device=device), P.syn_lr)
        examples = {"source": source, "x": {d: data[d][0][0, :6] for d in DOMAINS}, "syn": syn[0]}
acc = pd.DataFrame(rows)
choices = pd.DataFrame(choice_rows)
land = pd.DataFrame(land_rows)
tgt = acc[acc.role != "source"]
MTA = tgt.groupby(["seed", "source", "arm"]).accuracy.mean().unstack("arm").groupby("seed").mean()[ARMS]
SRC = acc[acc.role == "source"].groupby(["seed", "arm"]).accuracy.mean().unstack("arm")[ARMS]
display(pd.DataFrame({"source acc": SRC.mean(), "MTA": MTA.mean()}).round(3))
display(tgt.groupby(["arm", "domain"]).accuracy.mean().unstack("domain").loc[ARMS].round(3))
display(choices.groupby(["arm", "config"]).size().rename("times selected").to_frame())

# %% [markdown]
# ## Results
#
# **Figure 1.** Accuracy on each target domain for the four arms (mean and 95% interval over seeds), the
# in-family targets (colour, inverted: only per-channel statistics differ from `clean`) beside the others; the
# dashed line is the mean source-test accuracy. Look for `udim` above `sam`, and whether any gain is confined
# to the in-family targets.

# %%
order = [d for d in ["colour", "inverted", "blur_noise", "texture"] if d in set(tgt.domain)]
order += sorted(set(tgt.domain) - set(order))
fig, ax = gu.subplots(width=7.5, height=4.2)
sns.pointplot(data=tgt, x="domain", y="accuracy", hue="arm", hue_order=ARMS, order=order, dodge=0.45,
              linestyle="none", errorbar=("ci", 95), ax=ax)
ax.axhline(SRC.values.mean(), color="grey", linestyle="--", linewidth=1, label="source test (all arms)")
ax.legend(loc="best", fontsize=8)
gu.label(ax, "target domain (first two: in the per-channel style family)", "accuracy", "Target accuracy per domain")

# %% [markdown]
# **Figure 2.** Paired per-seed differences in mean target accuracy (dots), with mean and 95% $t$-interval
# (bars): Δ_sam = MTA(udim) − MTA(sam), Δ_aug = MTA(udim) − MTA(sam_aug), Δ_erm = MTA(udim) − MTA(erm). Look for
# intervals that clear the zero line.

# %%
deltas = pd.DataFrame({"Δ_sam": MTA["udim"] - MTA["sam"], "Δ_aug": MTA["udim"] - MTA["sam_aug"],
                       "Δ_erm": MTA["udim"] - MTA["erm"]})
dlong = deltas.melt(var_name="difference", value_name="value")
fig, ax = gu.subplots(width=6, height=4)
sns.stripplot(data=dlong, x="difference", y="value", color="grey", alpha=0.6, ax=ax)
for i, name in enumerate(deltas.columns):
    lo, hi = gu.t_interval(deltas[name].to_numpy())
    m = deltas[name].mean()
    ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], fmt="o", color="C3", capsize=6)
ax.axhline(0, color="k", linewidth=0.8)
gu.label(ax, "paired difference", "mean target accuracy", "UDIM against the other arms")

# %% [markdown]
# **Figure 3.** Example images: six source test digits, the same digits in each target style, and the
# "unknown domain" UDIM crafts from them with the final `udim` model of the first seed (channels clipped to
# [0, 1] for display). Look for how far the crafted styles move and whether they resemble any real target.

# %%
src_name = examples["source"]
rows_img = [(f"{src_name} (source)", examples["x"][src_name])]
rows_img += [(d, examples["x"][d]) for d in DOMAINS if d != src_name]
rows_img.append(("crafted x̃", examples["syn"]))
fig, axes = gu.subplots(ncols=6, nrows=len(rows_img), width=1.2, height=1.2)
for r, (name, xs) in enumerate(rows_img):
    for c in range(6):
        axes[r, c].imshow(xs[c].detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy())
        axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name, fontsize=8)
fig.suptitle("Source, targets and the crafted unknown domain")

# %% [markdown]
# **Figure 4.** Landscape inconsistency $|L_T(\theta+\hat\varepsilon) - L_S(\theta+\hat\varepsilon)|$ on each
# real target and on the crafted $\tilde x$, for the selected `sam` and `udim` models (mean over seeds; log
# scale). Look for `udim` lower on $\tilde x$ (what it optimises) and whether it is also lower on the real targets.

# %%
fig, ax = gu.subplots(width=7, height=4)
sns.barplot(data=land, x="domain", y="inconsistency", hue="arm", hue_order=["sam", "udim"], errorbar=("ci", 95), ax=ax)
ax.set_yscale("log")
gu.label(ax, "domain", "|L_T - L_S| at the SAM-perturbed weights", "Loss-landscape inconsistency")
display(land.groupby(["arm", "domain"]).inconsistency.mean().unstack("domain").round(3))

# %% [markdown]
# ### Sweep over the perturbation step (descriptive)
#
# With `run_sweep`, `udim` is retrained at its selected `worst_weight` with `syn_lr` multiplied by each of
# `sweep_factors`, per seed and source, and its MTA is reported beside the main run's.

# %%
if P.run_sweep:
    sweep_rows = []
    for source in P.sources:
        per_seed_data = [make_data(s, source) for s in seed_list]
        data = {key: tuple(torch.stack([d[key][i] for d in per_seed_data]) for i in (0, 1)) for key in per_seed_data[0]}
        params, chosen = kept[(source, "udim")]
        for f in [1.0, *P.sweep_factors]:
            if f != 1.0:
                params = train("udim", chosen, seed_list, data, P.syn_lr * f)[0]
            mta = np.mean([accuracy(params, data[t]) for t in DOMAINS if t != source], axis=0)
            sweep_rows += [{"seed": s, "source": source, "syn_lr": P.syn_lr * f, "MTA": float(m)}
                           for s, m in zip(seed_list, mta)]
    sweep = pd.DataFrame(sweep_rows)
    fig, ax = gu.subplots(width=6, height=4)
    sns.pointplot(data=sweep, x="syn_lr", y="MTA", errorbar=("ci", 95), ax=ax)
    ax.axhline(MTA["sam"].mean(), color="C1", linestyle="--", label="sam (main run)")
    ax.legend()
    gu.label(ax, "syn_lr", "mean target accuracy of udim", "Sweep over the perturbation step")
    display(sweep.groupby("syn_lr").MTA.mean().round(3))

# %% [markdown]
# ## Verdict
#
# The rule (the card's) was fixed and committed before the first `cpu` run. Over seeds (at `gpu` first
# averaged over sources per seed), with $[\ell, h]$ the 95% $t$-interval of the mean of a paired difference:
#
# - `supported` when Δ_sam has $\ell > 0$ and mean ≥ 0.01, **and** Δ_aug has mean > 0 (the inconsistency term
#   adds something beyond the perturbed data);
# - `contradicted` when Δ_sam has $h < 0$ (SAM reliably better), **or** Δ_sam has $\ell > 0$ but Δ_aug has
#   $h < 0$ (the gain is the augmentation's and the inconsistency term hurts);
# - `inconclusive` otherwise.
# - Checks (failing one makes the verdict `inconclusive`): every selected model's source test accuracy ≥ 0.85;
#   ERM's MTA at least 0.10 below its source accuracy (there is a shift to generalise across); the crafted
#   $\tilde x$ differ from $x$ (mean |x̃ − x| > 0) when `syn_lr` > 0.
#
# Δ_erm, the in-family and out-of-family MTAs, and the landscape diagnostic are reported, not gated.

# %%
statistics = {}
for name, key in [("Δ_sam", "dsam"), ("Δ_aug", "daug"), ("Δ_erm", "derm")]:
    lo, hi = gu.t_interval(deltas[name].to_numpy())
    statistics.update({f"{key}_mean": float(deltas[name].mean()), f"{key}_lo": lo, f"{key}_hi": hi})
fam = tgt.assign(fam=np.where(tgt.role == "in-family", "in", "out")).groupby(["fam", "arm"]).accuracy.mean()
gap = float(choices[choices.arm.isin(["udim", "sam_aug"])].gap.mean())
statistics.update({
    **{f"MTA_{a}": float(MTA[a].mean()) for a in ARMS},
    **{f"src_{a}": float(SRC[a].mean()) for a in ARMS},
    **{f"MTA_{f}_{a}": float(fam[(f, a)]) for f in ("in", "out") for a in ARMS if (f, a) in fam.index},
    "min_source_acc": float(acc[acc.role == "source"].accuracy.min()),
    "erm_shift": float(SRC["erm"].mean() - MTA["erm"].mean()),
    "perturb_gap": gap,
    "perturb_ok": float(P.syn_lr == 0 or gap > 0),
    **{f"land_{a}_{k}": float(v) for (a, k), v in land.groupby(["arm", "domain"]).inconsistency.mean().items()},
})
RULE = gu.rule(
    supported=gu.all_of(gu.cond("dsam_lo", ">", 0), gu.cond("dsam_mean", ">=", 0.01), gu.cond("daug_mean", ">", 0)),
    contradicted=gu.any_of(gu.cond("dsam_hi", "<", 0),
                           gu.all_of(gu.cond("dsam_lo", ">", 0), gu.cond("daug_hi", "<", 0))),
    checks={"selected_models_learned_source": gu.cond("min_source_acc", ">=", 0.85),
            "shift_present": gu.cond("erm_shift", ">=", 0.10),
            "perturbation_moves_inputs": gu.cond("perturb_ok", ">=", 1)},
)
record = gu.report_verdict(
    chapter="udim", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["dsam_mean", "dsam_lo", "dsam_hi", "daug_mean", "daug_hi", "derm_mean", "MTA_udim", "MTA_sam"],
)

# %% [markdown]
# ### Reading of the `cpu` run
#
# Both runs under the rule above (committed before the first `cpu` run), 6 seeds, source `clean`, one
# configuration per arm (the paper's ρ 0.05 and `worst_weight` 1), 30 epochs; about 110 s of one-thread CPU
# per run (222 s user+sys for the pair), 336 s and 294 s of wall time on the shared 2-core machine.
#
# - **Main run: `contradicted`**, by the rule's second branch. UDIM does beat SAM: Δ_sam = +0.035 [+0.029,
#   +0.042] (MTA 0.275 against 0.240; ERM 0.223, Δ_erm = +0.052 [+0.027, +0.077]). But SAM on the *same*
#   perturbed instances without the inconsistency term does better still: Δ_aug = −0.040 [−0.076, −0.004]
#   (MTA(sam_aug) 0.315). The gain over SAM is the augmentation's; the inconsistency term, which replaces the
#   SAM loss on x̃ by aligning last-layer gradient statistics, gives part of it back. The gains sit on the
#   *out-of-family* targets (blur_noise 0.56 → 0.66 udim / 0.69 sam_aug; texture 0.14 → 0.19 / 0.25); the
#   in-family targets stay near chance for every arm (colour 0.11–0.21, inverted 0.10–0.12): a CNN trained on
#   white-on-black digits does not read inverted contrast, and the positive-σ style steps never produce it.
#   The landscape diagnostic moves as the paper describes — UDIM's inconsistency on x̃ is 0.30 against SAM's
#   0.93, and it is lower on every real target too (inverted 5.6 against 7.9, colour 2.2 against 3.5) — but a
#   flatter cross-domain landscape did not buy more accuracy than plain augmentation. Checks held: the lowest
#   selected source accuracy 0.852, ERM's shift 0.663, mean |x̃ − x| 0.091.
# - **Falsification run (`syn_lr` 0): `inconclusive`**, and no effect left: Δ_sam = −0.002 [−0.020, +0.015],
#   Δ_aug = −0.003 [−0.023, +0.016]; `sam_aug` (SAM on duplicated data) matches SAM (0.241 against 0.240; not
#   identical only because float rounding of a mean over a doubled batch compounds over training). The remaining
#   gradient-norm penalty on source samples alone does nothing for the targets, so the main run's Δ_sam comes
#   from the crafted domains — as the paper says — but through the data, not through the inconsistency term.
#
# The first `cpu` run (20 epochs, see the rule history) read the same way on the evidence — Δ_sam = +0.028
# [+0.008, +0.048], Δ_aug = −0.052 [−0.080, −0.024] — and was `inconclusive` by the source-accuracy check
# (lowest selected model 0.802); its falsification run was `inconclusive` (Δ_sam −0.001 [−0.025, +0.023]).
#
# ## Faithfulness notes
#
# - PACS with a pretrained ResNet-18/50 becomes rendered 8×8 digits with a two-layer CNN trained from scratch;
#   the domains are synthetic. `colour` and `inverted` differ from `clean` only in per-channel affine
#   statistics, but with a *negative* scale in some channels (colour's blue channel, all of inverted's), which
#   UDIM's small positive-σ steps cannot reach; they are "in family" only loosely. `blur_noise` and `texture`
#   are out of family.
# - Per-sample last-layer gradients are computed in closed form instead of with BackPACK. As in the code, the
#   perturbed half's second moment is taken about the *clean* half's mean (so a mean shift of the gradients
#   counts too), and the distance is the mean over all 330 last-layer parameters.
# - The perturbation normalises the style gradient per image and steps in units of the channel std (the code
#   takes a plain SGD step of size `syn_lr` = 10 on the style statistics of ResNet-normalised images); read as
#   written, the code's `advstyle` branch appears to build x̃ from the style statistics *before* that step, so
#   x̃ may there equal x — the chapter implements the paper's description (x̃ from the stepped statistics).
# - The code's SAM step inside UDIM uses the radius of a linear schedule; here ρ is constant, and UDIM starts
#   after a `warmup_frac` share of plain-SAM steps instead of from a checkpoint.
# - The theorem (SAM + UDIM bounds the DG objective) is not checked numerically.
# - Selection on source validation follows DomainBed's training-domain protocol, which can pick configurations
#   that are best in domain and not out of it — for every arm alike.
# - Departures from the card, all fixed before the first `cpu` run and before any target number was read: (i)
#   `lr` 3e-3 instead of 1e-3 for the SAM-family arms — a source-only calibration found ERM and SAM at lr 1e-3
#   reaching only 0.65–0.69 source accuracy after 30 epochs (below the 0.85 check), ERM at 3e-3 0.90; (ii) at
#   `cpu` the budget (about 25 ms of one-thread CPU per UDIM or sam_aug step, the double backward of the
#   perturbation dominating) allows `n_trials` = 1 for 6 seeds — the card's own fallback, the same for every
#   arm (no arm is tuned, so the protocol's "equal tuning budget" is one configuration each); (iii) so that one trial means the paper's defaults, the grids are
#   listed with them first: ρ ∈ (0.05, 0.02, 0.1), `worst_weight` ∈ (1, 0.3, 3), ERM lr (3e-3, 1e-3, 3e-4).
#   `gpu` restores 3 trials, 100 epochs, 10 seeds and all five sources.
# - The models of one arm (seeds × trials) are trained at once as stacked parameters with grouped
#   convolutions and an elementwise Adam with a learning rate per model; this is the same computation as
#   training them one by one (no parameter is shared).
#
# ## Rule history
#
# - Version 1 (this one), committed before the first `cpu` run: the card's rule unchanged. The rule never
#   changed; one parameter did. The first `cpu` run used 20 epochs (cut for the budget) and was `inconclusive`
#   by the check that every selected model reaches 0.85 source accuracy (lowest 0.802; falsification run
#   `inconclusive`). `epochs` went back to the card's 30 — a fix of the failed convergence check, decided on
#   source accuracy, committed before the rerun — and the rerun is the one reported above (`contradicted`;
#   falsification `inconclusive`).
