# ---
# jupyter:
#   genbook:
#     claim: Across novel concepts, a concept's subjective complexity (the number of
#       its most representative learned attributes needed to recognise it) correlates
#       positively with how well a Bayesian rule learner generalizes it from a few examples
#       and negatively with how well an exemplar-similarity learner does - a crossover,
#       not a shared slope.
#     'null':
#       shuffle_k: true
#     null_reason: Each test concept is credited with another concept's description
#       length, so the concept's own subjective complexity - the cause the paper names
#       - no longer enters the correlation, while data, network, learners and seeds
#       are unchanged.
#     paper: Shi, Xu, Hopcroft, He, Tenenbaum, Zhu, Wu, Han & Zhu 2023 (ICML), arXiv:2211.11033
#     part: ood
#     profiles:
#       gpu:
#         c1: 32
#         episodes: 20
#         img_size: 32
#         ladder_levels: 5
#         n_per_base: 300
#         n_profile: 50
#         n_query_neg: 300
#         n_query_pos: 40
#         rule_max_len: 3
#         seeds: 12
#         train_epochs: 30
#         width: 64
#       smoke:
#         c1: 8
#         episodes: 2
#         ladder_levels: 2
#         n_novel: 24
#         n_per_base: 20
#         n_profile: 10
#         n_query_neg: 40
#         n_query_pos: 10
#         n_val_concepts: 6
#         seeds: 2
#         train_epochs: 2
#         width: 16
#     title: Bayesian generalization - subjective complexity against rule- and similarity-based
#       generalization
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
# # On the complexity of Bayesian generalization
#
# **Paper.** Yu-Zhe Shi, Manjie Xu, John E. Hopcroft, Kun He, Joshua B. Tenenbaum, Song-Chun Zhu, Ying Nian Wu,
# Wenjuan Han and Yixin Zhu, *On the Complexity of Bayesian Generalization*, ICML 2023, PMLR 202:31389–31407
# ([arXiv:2211.11033](https://arxiv.org/abs/2211.11033); venue and pages from the citation in the official
# repository's README).
#
# **Claim under test.** The computational-level claim of the abstract: "representations with relatively high
# subjective complexity outperform those with relatively low subjective complexity in the rule-based
# generalization, while the trend is the opposite in the similarity-based generalization." *Subjective
# complexity* is a concept's description length in a trained network's attribute space: the number of its most
# representative attributes (highest *representativeness of attribute*, RoA) needed to recognise it. The
# miniature tests the **crossover**: across novel concepts, the description length $K_c$ should correlate
# positively with rule-based and negatively with similarity-based few-shot generalization. A shared slope (both
# modes worse, or both better, for longer descriptions) is the obvious alternative and contradicts the claim.
#
# **The paper's evidence.** The full text could not be read here: the stored pages hold only the abstract (the
# official README and an awesome-list entry repeat it); searches by title, arXiv id and distinctive phrases found
# no HTML or PDF copy, so no figure or table number is quoted. What could be verified, from the abstract and the
# official code (github.com/SHI-Yu-Zhe/bayesian-generalization-complexity, read to understand the method, not
# copied):
#
# - six labelled datasets "ordered as the increment of concept-wise visual complexity": LEGO, 2D-Geometric, ACRE,
#   AwA2, Places365, ImageNet-1k; a ResNet-18 trained per dataset (`classifier.py`);
# - attributes are the channels of the last convolutional block after global max pooling; $P(a\mid c)$ is the
#   concept's mean pooled vector normalised over channels; $P(c'\mid a)$ the column-normalised concept×channel
#   matrix; $R(a, c) = P(a\mid c) / (1 - P(c\mid a) + 10^{-12})$, i.e. $P(a\mid c)/\sum_{c'\ne c} P(c'\mid a)$
#   (`hypothesis_space/attribute_representativeness.py`);
# - the description length of a concept is the smallest $K$ such that the trained classifier, fed the feature map
#   masked to the concept's top-$K$ RoA channels, classifies at least a threshold fraction of (up to 50 of) the
#   concept's images as the concept (`subjective_complexity/k_cplx_AR.py`, `cal_k_cplx.py`; the threshold is a
#   command-line argument in percent whose default is 0, so the value used in the paper is not in the code);
# - visual complexity is a concept's mean image entropy (`raw_entropy/`).
#
# The exact rule- and similarity-based generalization procedures of the paper could not be read. The two
# learners below are this book's operationalisation of Tenenbaum's (1999) Bayesian framework ("Rules and
# similarity in concept learning", NIPS 12), which the paper builds on: a rule learner with the size principle
# over conjunctions of binarised attributes, and an exemplar learner with Shepard's exponential generalization
# gradient.
#
# **What is scaled down.** Natural images are replaced by procedural "attribute objects" (6 shapes × 6 hues ×
# 4 textures = 144 categories, 16×16 pixels at `cpu`), ResNet-18 by a two-layer CNN with `width` = 32 attribute
# channels, trained on the *base* categories; generalization is tested on 40 held-out *novel* categories
# (compositions of seen factor values), 5 seeds.
#
# **Falsification run.** `shuffle_k = true` permutes $K_c$ among the test concepts of each seed before the
# correlations: data, network, learners and seeds are unchanged, but the concept's own subjective complexity no
# longer enters, so both correlations should be centred on zero and the verdict should not be `supported`.
# Beside it, not as the declared null, the chapter reports the same analysis on the *untrained* networks (the
# same seeds at initialisation), which asks whether the crossover needs category-conditioned modelling.

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from IPython.display import display
from scipy.stats import rankdata, spearmanr
from sklearn.metrics import roc_auc_score
from torch import nn

import genutils as gu
from genutils import many

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; seed s uses seed + s for its category split, images, network and episodes
img_size = 16  # image side in pixels
pixel_noise = 0.05  # standard deviation of the Gaussian pixel noise
hue_jitter = 0.3  # within-bin hue jitter, as a fraction of the hue bin
n_novel = 48  # novel (held-out) categories per seed, of the 144
n_val_concepts = 8  # novel categories used only to choose the learners' hyperparameters
n_per_base = 50  # training images per base category
n_profile = 20  # profile images per category (RoA, K and the rule learner's reference pool)
width = 32  # attribute channels (second conv layer)
c1 = 16  # first-layer channels
train_epochs = 12  # passes over the base training images
batch_size = 128  # minibatch size
lr = 0.01  # Adam step size
k_threshold = 0.8  # nearest-centroid accuracy that defines the description length K
rule_max_len = 2  # longest conjunction in the rule hypothesis space
rule_noise = 0.05  # epsilon, the rule learner's probability that an example is off-rule
n_shot = 4  # positive examples per episode
episodes = 5  # episodes per concept
n_query_pos = 20  # positive queries per episode
n_query_neg = 100  # negative queries per episode
seeds = 5  # independent runs
shuffle_k = False  # permute K among test concepts before correlating (falsification run)
ladder_levels = 0  # descriptive visual-complexity ladder (0 turns it off)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    img_size=gu.Int(min=12, max=64),
    pixel_noise=gu.Float(min=0, max=1),
    hue_jitter=gu.Float(min=0, lt=1),
    n_novel=gu.Int(min=12, max=96),
    n_val_concepts=gu.Int(min=3),
    n_per_base=gu.Int(min=2),
    n_profile=gu.Int(min=3),
    width=gu.Int(min=4),
    c1=gu.Int(min=1),
    train_epochs=gu.Int(min=0),
    batch_size=gu.Int(min=1),
    lr=gu.Float(gt=0),
    k_threshold=gu.Float(gt=0, max=1),
    rule_max_len=gu.Int(min=1, max=3),
    rule_noise=gu.Float(gt=0, lt=1),
    n_shot=gu.Int(min=1),
    episodes=gu.Int(min=1),
    n_query_pos=gu.Int(min=2),
    n_query_neg=gu.Int(min=2),
    seeds=gu.Int(min=2),
    shuffle_k=gu.Bool(),
    ladder_levels=gu.Int(min=0, max=8),
)
N_SHAPES, N_HUES, N_TEXTURES = 6, 6, 4
N_CAT = N_SHAPES * N_HUES * N_TEXTURES
n_base, n_test = N_CAT - P.n_novel, P.n_novel - P.n_val_concepts
POOL_EP = 2 * (P.n_shot + P.n_query_pos)  # episode images per novel category (support and queries come from here)
if n_test < 5:
    raise gu.ParameterError("n_val_concepts", f"must leave at least 5 test concepts of n_novel = {P.n_novel}")
if P.batch_size > n_base * P.n_per_base:
    raise gu.ParameterError("batch_size", f"must not exceed the {n_base * P.n_per_base} training images")
for name, group in (("n_val_concepts", P.n_val_concepts), ("n_novel", n_test)):
    if (group - 1) * POOL_EP < P.n_query_neg:
        raise gu.ParameterError("n_query_neg", f"needs at most {(group - 1) * POOL_EP} negatives "
                                f"({group} concepts in a group × {POOL_EP} episode images), got {P.n_query_neg}")
device = gu.device()
if device.type == "cpu":
    torch.set_num_threads(1)  # small convolutions: a second thread mostly spins, above all on shared cores
seed_list = [P.seed + s for s in range(P.seeds)]
print(f"{n_base} base and {P.n_novel} novel categories ({P.n_val_concepts} validation, {n_test} test); "
      f"{n_base * P.n_per_base} training images per seed; device {device}")
P

# %% [markdown]
# ## Data: procedural attribute objects
#
# Each image is an RGB canvas of `img_size`² pixels, grey (0.5) background, one object and Gaussian pixel noise
# of s.d. `pixel_noise`. Three discrete factors define the **category**:
#
# - **shape**: disk, square, triangle, cross, ring, bar (horizontal);
# - **hue**: 6 bins on the colour circle, the hue drawn uniformly within ±`hue_jitter` of a bin's width around its
#   centre, saturation 1, value 0.9;
# - **texture**: solid, horizontal stripes, vertical stripes, checker (period ¼ of the canvas, random phase),
#   the "off" half of a stripe pattern drawn at 30% of the colour.
#
# Nuisance per image: object size uniform in 0.45–0.85 of the canvas, centre jittered by ±2 px, stripe phase.
# A category is one (shape, hue, texture) combination: 144 categories. Per seed, `n_novel` categories are held
# out (redrawn until every shape, hue and texture value also appears among the base categories), and the novel
# ones split into `n_val_concepts` validation concepts (hyperparameter choice) and the test concepts (the
# verdict). The generator is written here, vectorised in torch and seeded; `clutter` strokes and extra noise are
# used only by the descriptive visual-complexity ladder at the end.

# %%
SHAPES = ["disk", "square", "triangle", "cross", "ring", "bar"]
TEXTURES = ["solid", "h-stripes", "v-stripes", "checker"]


def factors(cat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shape, hue, texture) indices of category ids cat = shape·24 + hue·4 + texture."""
    cat = np.asarray(cat)
    return cat // (N_HUES * N_TEXTURES), (cat // N_TEXTURES) % N_HUES, cat % N_TEXTURES


def hsv_to_rgb(h: torch.Tensor, s: float = 1.0, v: float = 0.9) -> torch.Tensor:
    """RGB (n, 3) of hues h in [0, 1) at fixed saturation and value."""
    k = (torch.tensor([5.0, 3.0, 1.0])[None, :] + 6 * h[:, None]) % 6
    return v - v * s * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def render(cat: np.ndarray, g: torch.Generator, *, noise: float = None, clutter: int = 0) -> torch.Tensor:
    """Images (n, 3, S, S) of categories `cat` (n,), with fresh nuisance from generator g."""
    noise = P.pixel_noise if noise is None else noise
    shape, hue, texture = (torch.as_tensor(f) for f in factors(cat))
    n, S = len(shape), P.img_size
    grid = torch.arange(S, dtype=torch.float32) + 0.5
    cx = S / 2 + 4 * torch.rand(n, generator=g) - 2
    cy = S / 2 + 4 * torch.rand(n, generator=g) - 2
    half = 0.5 * S * (0.45 + 0.4 * torch.rand(n, generator=g))
    x = grid[None, None, :].expand(n, S, S)
    y = grid[None, :, None].expand(n, S, S)
    u, v = (x - cx[:, None, None]) / half[:, None, None], (y - cy[:, None, None]) / half[:, None, None]
    r = torch.sqrt(u ** 2 + v ** 2)
    masks = torch.stack([
        r <= 1,                                                              # disk
        torch.maximum(u.abs(), v.abs()) <= 0.8,                              # square
        (v >= -0.9) & (v <= 0.7) & (u.abs() <= 0.6 * (v + 0.9)),             # triangle, apex up
        ((u.abs() <= 0.3) & (v.abs() <= 1)) | ((v.abs() <= 0.3) & (u.abs() <= 1)),  # cross
        (r >= 0.5) & (r <= 1),                                               # ring
        (u.abs() <= 1) & (v.abs() <= 0.35),                                  # bar
    ])
    inside = masks[shape, torch.arange(n)]
    period = max(S / 4, 3.0)
    phase = period * torch.rand(n, 2, generator=g)
    sx = torch.floor((x + phase[:, 0, None, None]) / (period / 2)) % 2 == 0
    sy = torch.floor((y + phase[:, 1, None, None]) / (period / 2)) % 2 == 0
    on = torch.stack([torch.ones_like(sx), sy, sx, sx ^ sy])[texture, torch.arange(n)]
    h = ((hue.float() + 0.5 + P.hue_jitter * (2 * torch.rand(n, generator=g) - 1)) / N_HUES) % 1
    rgb = hsv_to_rgb(h)[:, :, None, None] * torch.where(on, 1.0, 0.3)[:, None]
    img = torch.full((n, 3, S, S), 0.5)
    for _ in range(clutter):  # thin strokes of random colour behind the object
        p0, p1 = S * torch.rand(n, 2, generator=g), S * torch.rand(n, 2, generator=g)
        d = p1 - p0
        t = (((x - p0[:, 0, None, None]) * d[:, 0, None, None] + (y - p0[:, 1, None, None]) * d[:, 1, None, None])
             / (d ** 2).sum(1).clamp(min=1e-6)[:, None, None]).clamp(0, 1)
        dist = torch.hypot(x - p0[:, 0, None, None] - t * d[:, 0, None, None],
                           y - p0[:, 1, None, None] - t * d[:, 1, None, None])
        colour = torch.rand(n, 3, generator=g)
        img = torch.where((dist <= 0.5)[:, None], colour[:, :, None, None], img)
    img = torch.where(inside[:, None], rgb, img)
    return img + noise * torch.randn(img.shape, generator=g)


def split_categories(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(base, validation, test) category ids; every factor value appears among the base categories."""
    while True:
        perm = rng.permutation(N_CAT)
        novel, base = perm[:P.n_novel], np.sort(perm[P.n_novel:])
        if all(len(np.unique(f)) == n for f, n in zip(factors(base), (N_SHAPES, N_HUES, N_TEXTURES))):
            return base, novel[:P.n_val_concepts], novel[P.n_val_concepts:]


def image_entropy(img: torch.Tensor, bins: int = 16) -> np.ndarray:
    """Per image: mean over R, G, B of the entropy (bits) of the channel's pixel histogram on [0, 1]."""
    q = (img.clamp(0, 1 - 1e-6) * bins).long().flatten(2)  # (n, 3, S·S)
    counts = F.one_hot(q, bins).sum(2).float()
    p = counts / counts.sum(-1, keepdim=True)
    return (-(p * torch.log2(p.clamp(min=1e-12))).sum(-1)).mean(-1).numpy()


_demo = render(np.arange(0, N_CAT, 7), torch.Generator().manual_seed(P.seed)).clamp(0, 1)
fig, axes = plt.subplots(3, 7, figsize=(9, 4.2), layout="constrained")
for ax, im, c in zip(axes.flat, _demo, np.arange(0, N_CAT, 7)):
    s_, h_, t_ = factors(c)
    ax.imshow(im.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(f"{SHAPES[s_]}/h{h_}/{TEXTURES[t_]}", fontsize=7)
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("Example attribute objects (one image per category shown)")
plt.show()

# %% [markdown]
# ## Model: category-conditioned visual modelling
#
# conv(3→`c1`, 3×3) → ReLU → max-pool 2 → conv(`c1`→`width`, 3×3) → ReLU → global max pool → linear over the
# base categories. Adam (lr `lr`), minibatch `batch_size`, `train_epochs` epochs over `n_per_base` images per base
# category; the `seeds` networks (one per seed, each with its own split, images, initialisation and batch order)
# are trained together by `genutils.many`. The pooled `width`-channel vector $z(x) \ge 0$ is the attribute
# representation, as in the paper (channels of the last conv block after global max pooling). The held-out base
# accuracy on the profile images (never trained on) is the instrument check that the network learned its task.

# %%
class AttributeCNN(nn.Module):
    """Two conv layers, global max pool (the attributes z), a linear head over the base categories."""

    def __init__(self, n_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, P.c1, 3, padding=1)
        self.conv2 = nn.Conv2d(P.c1, P.width, 3, padding=1)
        self.head = nn.Linear(P.width, n_out)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = F.max_pool2d(F.relu(self.conv1(x - 0.5)), 2)
        return F.relu(self.conv2(h)).amax(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@torch.no_grad()
def features(model: AttributeCNN, x: torch.Tensor, chunk: int = 4096) -> np.ndarray:
    """z(x) for images x (n, 3, S, S), float64 numpy (n, width)."""
    model.eval()
    return torch.cat([model.features(x[i:i + chunk].to(device)).cpu() for i in range(0, len(x), chunk)]).double().numpy()


def make_world(s: int) -> dict:
    """One seed's category split and images: training, profile (all 144 categories) and episode pools (novel)."""
    rng = np.random.default_rng(s)
    g = torch.Generator().manual_seed(10_000 + s)
    base, val, test = split_categories(rng)
    novel = np.concatenate([val, test])
    train_cat = np.repeat(base, P.n_per_base)
    prof_cat = np.repeat(np.arange(N_CAT), P.n_profile)
    ep_cat = np.repeat(novel, POOL_EP)
    return dict(base=base, val=val, test=test, novel=novel,
                x_train=render(train_cat, g), y_train=torch.as_tensor(np.searchsorted(base, train_cat)),
                x_prof=render(prof_cat, g), prof_cat=prof_cat, x_ep=render(ep_cat, g), ep_cat=ep_cat)


worlds = [make_world(s) for s in seed_list]
models = many.stack(lambda: AttributeCNN(n_base), seed_list, device)
untrained = [models.model(i).to(device) for i in range(P.seeds)]
n_train = n_base * P.n_per_base
steps = P.train_epochs * (n_train // P.batch_size)
many.train_many(models, torch.stack([w["x_train"] for w in worlds]).to(device),
                torch.stack([w["y_train"] for w in worlds]).to(device), F.cross_entropy, steps=steps,
                data_seeds=seed_list, batch_size=P.batch_size, per_model_data=True, optimizer="adam", lr=P.lr,
                desc="CNNs")
trained = [models.model(i).to(device) for i in range(P.seeds)]
print(f"{steps} Adam steps per network")

# %% [markdown]
# ## Subjective complexity: RoA and the description length $K_c$
#
# From `n_profile` profile images per category (disjoint from the training and episode images),
# $\mathrm{act}(c, a)$ = mean $z_a$ over c's images, for all 144 categories;
# $P(a\mid c) = \mathrm{act}(c,a)/\sum_a \mathrm{act}(c,a)$, $P(c\mid a) = \mathrm{act}(c,a)/\sum_{c'}\mathrm{act}(c',a)$,
# $R(a, c) = P(a\mid c)/(1 - P(c\mid a) + 10^{-12})$ (the official code's formula).
#
# For each novel concept c and $K = 1, \dots,$ `width`: mask $z$ to c's top-$K$ channels by $R(\cdot, c)$ and
# classify c's profile images by the nearest centroid among all novel categories (centroids from their profile
# images under the same mask); $K_c$ is the first $K$ at which the accuracy reaches `k_threshold` (`width` if
# never). The paper feeds the masked features to its trained classifier; novel concepts have no trained output
# unit, hence the nearest-centroid head. On the base categories both heads exist, and the chapter compares them.

# %%
def roa(z_prof: np.ndarray, prof_cat: np.ndarray) -> np.ndarray:
    """R(a, c), (144, width), from profile features."""
    act = np.stack([z_prof[prof_cat == c].mean(0) for c in range(N_CAT)])
    p_a_c = act / (act.sum(1, keepdims=True) + 1e-12)
    p_c_a = act / (act.sum(0, keepdims=True) + 1e-12)
    return p_a_c / (1 - p_c_a + 1e-12)


def masked_accuracy(order: np.ndarray, x: np.ndarray, centroids: np.ndarray, own: int) -> np.ndarray:
    """Accuracy (width,) of nearest-centroid classification of x (n, width) as class `own`, masked to top-K."""
    d2 = ((x[:, None, :] - centroids[None, :, :]) ** 2)[:, :, order].cumsum(-1)  # (n, classes, K)
    return (d2.argmin(1) == own).mean(0)


def head_accuracy(order: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray, own: int) -> np.ndarray:
    """Accuracy (width,) of the trained linear head on x masked to the top-K channels of `order`."""
    contrib = (x[:, None, :] * w[None, :, :])[:, :, order].cumsum(-1) + b[None, :, None]  # (n, classes, K)
    return (contrib.argmax(1) == own).mean(0)


def first_k(acc: np.ndarray) -> int:
    hit = np.flatnonzero(acc >= P.k_threshold)
    return int(hit[0]) + 1 if hit.size else P.width


def complexity(z_prof: np.ndarray, world: dict, model: AttributeCNN) -> dict:
    """RoA, K_c and accuracy curves for the novel concepts; K by both heads for the base categories."""
    R, cat = roa(z_prof, world["prof_cat"]), world["prof_cat"]
    means = np.stack([z_prof[cat == c].mean(0) for c in range(N_CAT)])
    orders = np.argsort(-R, axis=1, kind="stable")
    novel, base = world["novel"], world["base"]
    curves = {c: masked_accuracy(orders[c], z_prof[cat == c], means[novel], i) for i, c in enumerate(novel)}
    w = model.head.weight.detach().cpu().double().numpy()
    bias = model.head.bias.detach().cpu().double().numpy()
    k_head = [first_k(head_accuracy(orders[c], z_prof[cat == c], w, bias, i)) for i, c in enumerate(base)]
    k_cent = [first_k(masked_accuracy(orders[c], z_prof[cat == c], means[base], i)) for i, c in enumerate(base)]
    return dict(R=R, curves=curves, K={c: first_k(a) for c, a in curves.items()},
                base_k_head=np.array(k_head), base_k_centroid=np.array(k_cent))


# %% [markdown]
# ## Two modes of generalization (Tenenbaum's Bayesian framework)
#
# An **episode** for a concept c gives `n_shot` positive examples X from c's episode pool; the queries are
# `n_query_pos` other images of c and `n_query_neg` images of the other novel categories of the same group
# (validation concepts against validation concepts, test against test, so tuning never sees a test image).
# Each learner scores $p(y \in C \mid X)$ for every query, and the score is the AUC of positive against
# negative queries (rank formula, equal to sklearn's `roc_auc_score`, checked below), averaged over `episodes`.
#
# **Rule-based** (hypotheses are rules, size principle). Binarise $b_a(x) = 1[z_a(x) > q_a]$ with $q_a$ the
# `bin_quantile` quantile of channel a over the base profile images. Hypotheses: every conjunction of 1 … L
# channels being on, kept if its extension $|h|$ in the reference pool (all $N$ profile images, base and novel)
# is non-empty. With a uniform prior and noise $\varepsilon$ = `rule_noise`,
# $p(h\mid X) \propto \prod_{x\in X}\big[(1-\varepsilon)\,1[x\in h]/|h| + \varepsilon/N\big]$ and
# $p(y \in C\mid X) = \sum_h p(h\mid X)\,1[y \in h]$.
#
# **Similarity-based** (exemplar model, Shepard's law). $z$ standardised by the base profile images' mean and s.d.;
# $p(y\in C\mid X) = \frac{1}{|X|}\sum_{x\in X} \exp(-\lVert z(y)-z(x)\rVert_2/\tau)$.
#
# **Tuning, the same budget for both**: the rule learner picks `bin_quantile` ∈ {0.5, 0.7, 0.9} × L ∈ {1,
# `rule_max_len`} (six settings), the exemplar learner τ ∈ {0.125, 0.25, 0.5, 1, 2, 4} × the median pairwise
# distance of the reference pool (six settings); each picks, per seed, the setting with the best mean AUC over
# the validation concepts' episodes. The test concepts are never used for tuning.

# %%
QUANTILES, TAU_FACTORS = (0.5, 0.7, 0.9), (0.125, 0.25, 0.5, 1.0, 2.0, 4.0)
LENGTHS = sorted({1, P.rule_max_len})


def hypotheses(max_len: int) -> torch.Tensor:
    """Conjunctions as channel-index rows (H, max_len), shorter ones padded by repeating their first channel."""
    rows = []
    for length in range(1, max_len + 1):
        for combo in itertools.combinations(range(P.width), length):
            rows.append(list(combo) + [combo[0]] * (max_len - length))
    return torch.tensor(rows)


HYP = hypotheses(P.rule_max_len)
N_HYP = {L: sum(len(list(itertools.combinations(range(P.width), k))) for k in range(1, L + 1)) for L in LENGTHS}


def membership(bits: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """(n, H) float: image i satisfies conjunction h."""
    hyp = HYP.to(bits.device)
    return torch.cat([bits[i:i + chunk][:, hyp].all(-1).float() for i in range(0, len(bits), chunk)])


def auc_rows(scores: np.ndarray, n_pos: int) -> np.ndarray:
    """AUC per row of scores (E, n_pos + n_neg), positives first; ties count one half (Mann-Whitney)."""
    ranks = rankdata(scores, axis=1)
    n_neg = scores.shape[1] - n_pos
    return (ranks[:, :n_pos].sum(1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def draw_episodes(group: np.ndarray, ep_cat: np.ndarray, rng: np.random.Generator) -> dict:
    """Per concept of `group`: support (E, n_shot) and query (E, n_pos + n_neg) indices into the episode pool."""
    out = {}
    for c in group:
        own, other = np.flatnonzero(ep_cat == c), np.flatnonzero(np.isin(ep_cat, group) & (ep_cat != c))
        sup, qry = [], []
        for _ in range(P.episodes):
            pos = rng.choice(own, P.n_shot + P.n_query_pos, replace=False)
            neg = rng.choice(other, P.n_query_neg, replace=False)
            sup.append(pos[:P.n_shot]), qry.append(np.concatenate([pos[P.n_shot:], neg]))
        out[c] = (np.array(sup), np.array(qry))
    return out


def rule_aucs(member_ep: torch.Tensor, sizes: torch.Tensor, n_pool: int, eps: dict, n_hyp: int) -> dict:
    """Mean AUC per concept of the size-principle rule learner over the first n_hyp hypotheses."""
    m, size = member_ep[:, :n_hyp], sizes[:n_hyp]
    keep = size > 0
    m, size = m[:, keep], size[keep]
    out = {}
    for c, (sup, qry) in eps.items():
        ms = m[torch.as_tensor(sup)]  # (E, n_shot, H)
        loglik = torch.log((1 - P.rule_noise) * ms / size + P.rule_noise / n_pool).sum(1)
        post = torch.softmax(loglik, dim=-1)
        scores = torch.bmm(m[torch.as_tensor(qry)], post[:, :, None])[:, :, 0]
        out[c] = float(auc_rows(scores.cpu().double().numpy(), P.n_query_pos).mean())
    return out


def sim_aucs(zs_ep: torch.Tensor, tau: float, eps: dict) -> dict:
    """Mean AUC per concept of the exponential exemplar learner."""
    out = {}
    for c, (sup, qry) in eps.items():
        d = torch.cdist(zs_ep[torch.as_tensor(qry)], zs_ep[torch.as_tensor(sup)])  # (E, nq, n_shot)
        scores = torch.exp(-d / tau).mean(-1)
        out[c] = float(auc_rows(scores.cpu().numpy(), P.n_query_pos).mean())
    return out


def analyse(model: AttributeCNN, world: dict, s: int) -> dict:
    """Everything measured for one network: base accuracy, K_c, tuned AUCs of both learners per test concept."""
    z_prof, z_ep = features(model, world["x_prof"]), features(model, world["x_ep"])
    cat = world["prof_cat"]
    is_base = np.isin(cat, world["base"])
    with torch.no_grad():
        logits = model.head(torch.as_tensor(z_prof[is_base], dtype=torch.float32, device=device))
    base_acc = float((logits.argmax(1).cpu().numpy() == np.searchsorted(world["base"], cat[is_base])).mean())
    cx = complexity(z_prof, world, model)
    rng = np.random.default_rng(20_000 + s)
    eps_val, eps_test = (draw_episodes(grp, world["ep_cat"], rng) for grp in (world["val"], world["test"]))
    # rule learner: one membership table per binarisation quantile, conjunction caps by slicing
    rule = {}
    for q in QUANTILES:
        thr = np.quantile(z_prof[is_base], q, axis=0)
        m_pool = membership(torch.as_tensor(z_prof > thr, device=device))
        m_ep = membership(torch.as_tensor(z_ep > thr, device=device))
        sizes = m_pool.sum(0)
        for L in LENGTHS:
            rule[(q, L)] = {grp: rule_aucs(m_ep, sizes, len(z_prof), e, N_HYP[L])
                            for grp, e in (("val", eps_val), ("test", eps_test))}
    # exemplar learner: tau relative to the median pairwise distance of the reference pool
    mu, sd = z_prof[is_base].mean(0), z_prof[is_base].std(0) + 1e-6
    zs_prof = torch.as_tensor((z_prof - mu) / sd, dtype=torch.float32, device=device)
    zs_ep = torch.as_tensor((z_ep - mu) / sd, dtype=torch.float32, device=device)
    sub = zs_prof[torch.as_tensor(rng.choice(len(zs_prof), min(1000, len(zs_prof)), replace=False))]
    med = float(torch.pdist(sub).median())
    sim = {f: {grp: sim_aucs(zs_ep, f * med, e) for grp, e in (("val", eps_val), ("test", eps_test))}
           for f in TAU_FACTORS}
    best_rule = max(rule, key=lambda k: np.mean(list(rule[k]["val"].values())))
    best_sim = max(sim, key=lambda k: np.mean(list(sim[k]["val"].values())))
    test = world["test"]
    k_test = np.array([cx["K"][c] for c in test])
    return dict(base_acc=base_acc, cx=cx, test=test, K=k_test,
                auc_rule=np.array([rule[best_rule]["test"][c] for c in test]),
                auc_sim=np.array([sim[best_sim]["test"][c] for c in test]),
                best_rule=best_rule, best_sim=best_sim, median_dist=med,
                val_rule=np.mean(list(rule[best_rule]["val"].values())),
                val_sim=np.mean(list(sim[best_sim]["val"].values())),
                entropy=np.array([image_entropy(world["x_prof"][torch.as_tensor(cat == c)]).mean() for c in test]),
                eps_test=eps_test, z_ep=z_ep)


# the rank AUC equals sklearn's roc_auc_score (one random row, with ties)
_s = np.round(np.random.default_rng(0).random((1, 30)), 1)
assert abs(auc_rows(_s, 10)[0] - roc_auc_score(np.r_[np.ones(10), np.zeros(20)], _s[0])) < 1e-12

results = {"trained": [analyse(m, w, s) for m, w, s in zip(trained, worlds, seed_list)],
           "untrained": [analyse(m, w, s) for m, w, s in zip(untrained, worlds, seed_list)]}
print("chosen settings (trained): rule (quantile, L) =", [r["best_rule"] for r in results["trained"]],
      "; tau factor =", [r["best_sim"] for r in results["trained"]])

# %% [markdown]
# ## Correlations per seed
#
# Per seed: $\rho_{\rm rule}$ = Spearman($K_c$, AUC$_{\rm rule}(c)$) and $\rho_{\rm sim}$ = Spearman($K_c$,
# AUC$_{\rm sim}(c)$) over the test concepts. With `shuffle_k`, $K_c$ is permuted among the test concepts of the
# seed first (one permutation per seed, shared by both modes). The table shows three rows per seed: the trained
# network as measured, the same with $K$ shuffled (what the falsification run reads), and the untrained network.
# `frac_capped` is the share of test concepts whose masked accuracy never reached `k_threshold` ($K_c$ = `width`);
# `rho_*_uncapped` repeat the correlations without them (added after the first `cpu` run, descriptive only).

# %%
def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho; NaN when either side is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


rows, concept_rows = [], []
for variant, res in results.items():
    for s, r in zip(seed_list, res):
        perm = np.random.default_rng(30_000 + s).permutation(len(r["K"]))
        for label_, k in (("as measured", r["K"]), ("K shuffled", r["K"][perm])):
            if variant == "untrained" and label_ == "K shuffled":
                continue
            high = k > np.median(k)
            if not high.any():  # many ties at the top: the high half is the concepts at the median or above
                high = k >= np.median(k)
            if high.all():
                high = np.zeros_like(high)
            rows.append(dict(
                network=variant, K=label_, seed=s, rho_rule=spearman(k, r["auc_rule"]),
                rho_sim=spearman(k, r["auc_sim"]), auc_rule=r["auc_rule"].mean(), auc_sim=r["auc_sim"].mean(),
                gap_rule=r["auc_rule"][high].mean() - r["auc_rule"][~high].mean() if high.any() else np.nan,
                gap_sim=r["auc_sim"][high].mean() - r["auc_sim"][~high].mean() if high.any() else np.nan,
                distinct_k=len(np.unique(r["K"])), mean_k=r["K"].mean(), base_acc=r["base_acc"],
                frac_capped=float((r["K"] == P.width).mean()),
                rho_rule_uncapped=spearman(k[k < P.width], r["auc_rule"][k < P.width]),
                rho_sim_uncapped=spearman(k[k < P.width], r["auc_sim"][k < P.width])))
            if variant == "trained" and label_ == "as measured":
                concept_rows += [dict(seed=s, concept=c, K=kc, half="high K" if hc else "low K",
                                      rule=ar, similarity=asim, entropy=e)
                                 for c, kc, hc, ar, asim, e in zip(r["test"], k, high, r["auc_rule"], r["auc_sim"],
                                                                   r["entropy"])]
per_seed = pd.DataFrame(rows)
concepts = pd.DataFrame(concept_rows)
display(per_seed.round(3))
display(per_seed.groupby(["network", "K"])[["rho_rule", "rho_sim", "auc_rule", "auc_sim", "gap_rule", "gap_sim",
                                             "distinct_k", "mean_k", "base_acc", "frac_capped", "rho_rule_uncapped",
                                             "rho_sim_uncapped"]].mean().round(3))

# %% [markdown]
# **Figure 1.** Per test concept, mean AUC against its description length $K_c$, one colour per seed, with a
# least-squares line per seed (trained networks, $K$ as measured). Look for: lines rising in the rule panel and
# falling in the similarity panel.

# %%
fig, axes = gu.subplots(2, width=5.2, height=4)
palette = sns.color_palette("colorblind", P.seeds)
for ax, mode in zip(axes, ["rule", "similarity"]):
    sns.scatterplot(data=concepts, x="K", y=mode, hue="seed", palette=palette, ax=ax, s=25, legend=mode == "rule")
    for colour, (s, d) in zip(palette, concepts.groupby("seed")):
        if d["K"].nunique() > 1:
            slope, icpt = np.polyfit(d["K"], d[mode], 1)
            ks = np.linspace(d["K"].min(), d["K"].max(), 10)
            ax.plot(ks, icpt + slope * ks, color=colour, linewidth=1.2)
    gu.label(ax, "description length K_c (channels)", f"AUC, {mode}-based learner", f"{mode}-based generalization")
plt.show()

# %% [markdown]
# **Figure 2.** Interaction plot: mean AUC of the low-$K$ and high-$K$ halves of the test concepts (median
# split per seed: high means above the median, or at it when no concept is above) in each mode, points at the mean over seeds with 95% $t$-intervals. Look for: crossing lines
# (rule rising from low to high $K$, similarity falling).

# %%
halves = concepts.groupby(["seed", "half"])[["rule", "similarity"]].mean().reset_index()
halves = halves.melt(id_vars=["seed", "half"], var_name="mode", value_name="AUC")
fig, ax = gu.subplots(width=5.5, height=4)
for i, (mode, d) in enumerate(halves.groupby("mode")):
    xs, ms, errs = [], [], []
    for j, half in enumerate(["low K", "high K"]):
        v = d[d.half == half]["AUC"].to_numpy()
        if len(v) >= 2:
            lo, hi = gu.t_interval(v)
            xs.append(j), ms.append(v.mean()), errs.append((hi - lo) / 2)
    ax.errorbar(np.array(xs) + 0.03 * i, ms, yerr=errs, marker="o", capsize=4, label=mode)
ax.set_xticks([0, 1], ["low K", "high K"])
ax.legend(title="learner")
gu.label(ax, "half of the test concepts", "mean AUC over seeds", "Interaction of mode and description length")
plt.show()

# %% [markdown]
# **Figure 3.** $\rho_{\rm rule}$ and $\rho_{\rm sim}$ per seed (dots) with the mean and its 95% $t$-interval
# (bars): trained networks with $K$ as measured, with $K$ shuffled (the falsification statistic, computed here in
# the same pass) and untrained networks. Look for: the "as measured" rule interval above 0 and similarity interval
# below 0, while the shuffled intervals straddle 0.

# %%
long = per_seed.assign(run=per_seed.network + ", " + per_seed.K).melt(
    id_vars=["run", "seed"], value_vars=["rho_rule", "rho_sim"], var_name="mode", value_name="rho")
fig, ax = gu.subplots(width=7, height=4)
sns.stripplot(data=long, x="run", y="rho", hue="mode", dodge=True, ax=ax, alpha=0.6)
runs_order = list(dict.fromkeys(long.run))
for i, run in enumerate(runs_order):
    for j, mode in enumerate(["rho_rule", "rho_sim"]):
        v = long[(long.run == run) & (long["mode"] == mode)]["rho"].dropna().to_numpy()
        if len(v) >= 2:
            lo, hi = gu.t_interval(v)
            ax.errorbar(i + (j - 0.5) * 0.4, v.mean(), yerr=[[v.mean() - lo], [hi - v.mean()]], color="black",
                        marker="_", markersize=14, capsize=5)
ax.axhline(0, color="grey", linestyle=":")
gu.label(ax, "network and K", "Spearman rho (K_c, AUC) per seed", "Correlations per seed, mean ± 95% t-interval")
plt.show()

# %% [markdown]
# **Figure 4.** One test concept (seed 0's first): its channels sorted by RoA $R(a, c)$ (left) and the
# nearest-centroid accuracy on its profile images when $z$ is masked to the top-$K$ channels (right); the dashed
# line marks $K_c$ and the dotted one `k_threshold`. Look for: a few channels with high RoA that carry most of the
# recognition, i.e. an accuracy curve that climbs steeply and then flattens.

# %%
r0 = results["trained"][0]
c0 = r0["test"][0]
fig, axes = gu.subplots(2, width=5, height=3.6)
axes[0].bar(np.arange(1, P.width + 1), np.sort(r0["cx"]["R"][c0])[::-1], color="C0")
axes[0].axvline(r0["cx"]["K"][c0] + 0.5, color="black", linestyle="--")
gu.label(axes[0], "channel rank by RoA", "R(a, c)", f"RoA row of {SHAPES[factors(c0)[0]]}/h{factors(c0)[1]}/"
         f"{TEXTURES[factors(c0)[2]]}")
axes[1].plot(np.arange(1, P.width + 1), r0["cx"]["curves"][c0], marker="o", markersize=3)
axes[1].axhline(P.k_threshold, color="grey", linestyle=":")
axes[1].axvline(r0["cx"]["K"][c0], color="black", linestyle="--")
gu.label(axes[1], "K (top-K RoA channels kept)", "nearest-centroid accuracy", f"K_c = {r0['cx']['K'][c0]}")
plt.show()

# %% [markdown]
# **Base categories: the two heads.** On the base categories the trained linear head exists, so $K$ can be
# computed the paper's way (the trained classifier on masked features) and this chapter's way (nearest
# centroid among the base categories). Their rank agreement tells how far the substitution matters; it is
# descriptive, not in the verdict.

# %%
agree = [spearman(r["cx"]["base_k_head"], r["cx"]["base_k_centroid"]) for r in results["trained"]]
print("Spearman(K by trained head, K by nearest centroid) over base categories, per seed:", np.round(agree, 3))
print("mean K over base categories, head / centroid:",
      np.round([r["cx"]["base_k_head"].mean() for r in results["trained"]], 2),
      np.round([r["cx"]["base_k_centroid"].mean() for r in results["trained"]], 2))
vis = [spearman(r["K"], r["entropy"]) for r in results["trained"]]
print("Spearman(K_c, visual complexity V_c) over test concepts, per seed:", np.round(vis, 3))

# %% [markdown]
# ## Descriptive: a visual-complexity ladder
#
# The paper's representational-level claim (the description length is an inverted U in visual complexity over six
# datasets) is shown here only descriptively (`ladder_levels` > 0, the `gpu` profile; `smoke` runs two levels
# to keep the code path alive). Level ℓ = 0, 1, … adds ℓ clutter strokes and multiplies the pixel noise by
# 1 + ℓ; one network per level (seed `seed`, the same split) is trained as above; the figure shows mean $K_c$ over
# the novel concepts against mean image entropy $V_c$, with a quadratic fit (an inverted U if the $x^2$
# coefficient is negative and the vertex lies inside the range). **Figure 5** (if run). Look for: the shape of
# the curve, remembering that the generator's knob sets the x-axis.

# %%
ladder = None
if P.ladder_levels > 0:
    lw = worlds[0]
    g = torch.Generator().manual_seed(40_000 + P.seed)
    levels = list(range(P.ladder_levels))
    lx, lprof, lent = [], [], []
    for lev in levels:
        kw = dict(noise=P.pixel_noise * (1 + lev), clutter=lev)
        lx.append(render(np.repeat(lw["base"], P.n_per_base), g, **kw))
        lprof.append(render(lw["prof_cat"], g, **kw))
    lmodels = many.stack(lambda: AttributeCNN(n_base), [P.seed] * len(levels), device)
    many.train_many(lmodels, torch.stack(lx).to(device), torch.stack([lw["y_train"]] * len(levels)).to(device),
                    F.cross_entropy, steps=steps, data_seeds=[P.seed + 100 * lev for lev in levels],
                    batch_size=P.batch_size, per_model_data=True, optimizer="adam", lr=P.lr, desc="ladder")
    lrows = []
    for lev in levels:
        z = features(lmodels.model(lev).to(device), lprof[lev])
        cx = complexity(z, {**lw}, lmodels.model(lev))
        nov = np.isin(lw["prof_cat"], lw["novel"])
        lrows.append(dict(level=lev, mean_K=np.mean(list(cx["K"].values())),
                          mean_V=image_entropy(lprof[lev][torch.as_tensor(nov)]).mean()))
    ladder = pd.DataFrame(lrows)
    display(ladder.round(3))
    fig, ax = gu.subplots(width=5.5, height=4)
    ax.plot(ladder.mean_V, ladder.mean_K, "o")
    if len(ladder) >= 3:
        a2, a1, a0 = np.polyfit(ladder.mean_V, ladder.mean_K, 2)
        vs = np.linspace(ladder.mean_V.min(), ladder.mean_V.max(), 50)
        ax.plot(vs, a0 + a1 * vs + a2 * vs ** 2, color="C1")
        vertex = -a1 / (2 * a2)
        print(f"quadratic fit: x² coefficient {a2:.3g}, vertex at V = {vertex:.3g} "
              f"(range {ladder.mean_V.min():.3g}–{ladder.mean_V.max():.3g})")
    gu.label(ax, "mean visual complexity V (bits)", "mean description length K_c", "Visual-complexity ladder")
    plt.show()

# %% [markdown]
# ## Verdict
#
# The rule was committed before the first `cpu` run. Over the `seeds` seeds, $\rho_{\rm rule}$ and
# $\rho_{\rm sim}$ (trained networks; $K$ shuffled when `shuffle_k`), each with the 95% $t$-interval of its mean
# (df = seeds − 1):
#
# - `supported` when the $\rho_{\rm rule}$ interval lies above 0 **and** the $\rho_{\rm sim}$ interval lies below 0;
# - `contradicted` when the $\rho_{\rm rule}$ interval lies below 0 **or** the $\rho_{\rm sim}$ interval lies
#   above 0 (in particular a shared slope: both modes worse, or both better, with longer descriptions);
# - `inconclusive` otherwise.
# - **instrument checks** (failing any makes the verdict `inconclusive`): mean held-out base accuracy ≥ 0.8; mean
#   test AUC ≥ 0.6 in both modes; the median over seeds of the number of distinct $K_c$ values among the test
#   concepts ≥ 5 (a rank correlation with $K$ needs spread in $K$).
#
# The mean of $\rho_{\rm rule} - \rho_{\rm sim}$ with its interval, the median-split gaps, the untrained networks
# and the shuffled-$K$ statistic of the main run are reported beside the verdict and do not enter it.

# %%
main = per_seed[(per_seed.network == "trained") & (per_seed.K == ("K shuffled" if P.shuffle_k else "as measured"))]
untr = per_seed[per_seed.network == "untrained"]


def interval(v: np.ndarray) -> tuple[float, float]:
    v = np.asarray(v, dtype=float)
    return gu.t_interval(v) if np.isfinite(v).all() else (float("nan"), float("nan"))


statistics = {}
for name, v in (("rho_rule", main.rho_rule), ("rho_sim", main.rho_sim),
                ("rho_diff", main.rho_rule - main.rho_sim), ("untrained_rho_rule", untr.rho_rule),
                ("untrained_rho_sim", untr.rho_sim)):
    lo, hi = interval(v)
    statistics.update({name: float(np.mean(v)), f"{name}_lo": lo, f"{name}_hi": hi})
statistics.update({
    "base_acc": float(main.base_acc.mean()),
    "auc_rule": float(main.auc_rule.mean()),
    "auc_sim": float(main.auc_sim.mean()),
    "distinct_k_median": float(main.distinct_k.median()),
    "mean_k": float(main.mean_k.mean()),
    "gap_rule": float(main.gap_rule.mean()),
    "gap_sim": float(main.gap_sim.mean()),
    "untrained_auc_rule": float(untr.auc_rule.mean()),
    "untrained_auc_sim": float(untr.auc_sim.mean()),
    "base_k_head_vs_centroid": float(np.nanmean(agree)),
    "frac_k_capped": float(main.frac_capped.mean()),
    "rho_rule_uncapped": float(main.rho_rule_uncapped.mean()),
    "rho_sim_uncapped": float(main.rho_sim_uncapped.mean()),
    "rho_k_visual": float(np.nanmean(vis)),
})
if not P.shuffle_k:
    shuf = per_seed[(per_seed.network == "trained") & (per_seed.K == "K shuffled")]
    statistics.update({"shuffled_rho_rule": float(shuf.rho_rule.mean()), "shuffled_rho_sim": float(shuf.rho_sim.mean())})
RULE = gu.rule(
    supported=gu.all_of(gu.cond("rho_rule_lo", ">", 0), gu.cond("rho_sim_hi", "<", 0)),
    contradicted=gu.any_of(gu.cond("rho_rule_hi", "<", 0), gu.cond("rho_sim_lo", ">", 0)),
    checks={"base_accuracy": gu.cond("base_acc", ">=", 0.8),
            "rule_learner_works": gu.cond("auc_rule", ">=", 0.6),
            "exemplar_learner_works": gu.cond("auc_sim", ">=", 0.6),
            "k_has_spread": gu.cond("distinct_k_median", ">=", 5)},
)
record = gu.report_verdict(
    chapter="bayesian_generalization", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["rho_rule", "rho_rule_lo", "rho_rule_hi", "rho_sim", "rho_sim_lo", "rho_sim_hi", "rho_diff",
              "base_acc", "distinct_k_median"],
)

# %% [markdown]
# ### Reading of the `cpu` run
#
# Both runs were executed under the rule above, committed before them; the numbers are deterministic (a second
# identical run reproduced every statistic). Each run took about 53 s of CPU time (the two together 94 s user +
# 12 s system, one torch thread each) and 330–400 s of wall time on the 2 shared cores under a load of about 12.
#
# - **Main run: `contradicted`, by a shared slope.** $\rho_{\rm rule}$ = −0.30 (95% $t$-interval [−0.44, −0.17])
#   and $\rho_{\rm sim}$ = −0.49 ([−0.58, −0.40]); every one of the five seeds is negative in both modes (rule
#   −0.16 to −0.47, similarity −0.39 to −0.59). Test concepts with longer descriptions are generalized *worse*
#   by both learners. The rule learner is less hurt than the exemplar learner ($\rho_{\rm rule} - \rho_{\rm
#   sim}$ = 0.19, [0.005, 0.37]), which is the direction of the claim, but there is no crossover. All instrument
#   checks pass: held-out base accuracy 0.954 (0.938–0.969 per seed), mean test AUC 0.938 (rule) and 0.994
#   (similarity), 15 distinct $K_c$ values per seed (median), mean $K_c$ 9.7 of 32 channels, 10.5% of the test
#   concepts never reaching the 0.8 threshold ($K_c$ = 32). Without those capped concepts the correlations stay
#   negative (−0.34 rule, −0.42 similarity, means over seeds; descriptive, added after this run).
# - **The exemplar learner is near its ceiling.** Its AUCs are 0.95–1.00, so its negative slope is made of
#   differences of a few thousandths (median-split gap −0.005, against −0.028 for the rule learner); Spearman
#   reads only their order, which is consistent across seeds, but the effect size is small.
# - **Falsification run (`shuffle_k`): `inconclusive`.** With $K_c$ permuted among the test concepts, and the same
#   networks, learners and AUCs, $\rho_{\rm rule}$ = −0.017 ([−0.20, 0.17]) and $\rho_{\rm sim}$ = 0.001
#   ([−0.13, 0.14]): both intervals cover 0, so the negative correlations of the main run come from the concepts'
#   own $K_c$, not from the interval machinery.
# - **Untrained networks** (beside the verdict): the same analysis at initialisation gives $\rho_{\rm rule}$ =
#   −0.10 ([−0.22, 0.02]) and $\rho_{\rm sim}$ = −0.29 ([−0.52, −0.06]), AUCs 0.835 and 0.935, mean $K_c$ 24.8
#   (57% capped). Training makes both slopes steeper; it does not turn either positive.
# - **What the substitution of the head does.** On the base categories, $K$ computed the paper's way (the trained
#   linear head on masked features) and this chapter's way (nearest centroid) do not agree in rank (Spearman
#   0.01 on average, −0.09 to 0.23 per seed; mean $K$ 6.2 against 11.1). The nearest-centroid $K_c$ is therefore
#   *not* a stand-in for the paper's description length concept by concept; it measures how many top-RoA
#   channels it takes to tell a concept from the other novel ones. Read that way, a long description marks a
#   concept that is confusable with its neighbours in the learned space, and both learners, which must reject
#   those neighbours' images, do worse on it. This is a plausible mechanism for the shared slope, not a tested one.
# - **Visual complexity** (image entropy) correlates negatively with $K_c$ across test concepts ($\rho$ = −0.30,
#   negative in every seed): in this generator, busier-looking concepts (stripes, checkers) get shorter
#   descriptions.
# - **Not shown**: anything about natural images or ResNets, the paper's own learners, other thresholds than 0.8,
#   or the `gpu` scale (not run here).

# %% [markdown]
# ### Rule history
#
# - **This rule** (above, the study card's) was committed (commit eebbaec) before its first `cpu` run and has not
#   been changed: main `contradicted`, falsification `inconclusive` (see the reading above). Between that commit
#   and the first `cpu` run the training defaults changed (lr 0.003 → 0.01, 8 → 12 epochs, one torch thread on
#   CPU) after a training-only calibration of the held-out base accuracy (see the faithfulness notes). After the
#   first `cpu` run three descriptive statistics were added (`frac_k_capped`, `rho_rule_uncapped`,
#   `rho_sim_uncapped`); the rule does not read them, and the rerun reproduced every other statistic.

# %% [markdown]
# ## Faithfulness notes
#
# - **What the card said that the sources correct.** The card listed the venue as not verified: the official
#   repository's README cites the paper as ICML 2023, PMLR 202:31389–31407. The card's description of the code
#   holds: RoA from globally max-pooled channels of the last conv block, $R = P(a\mid c)/(1-P(c\mid a)+10^{-12})$,
#   the description length as the first $K$ whose masked accuracy reaches a threshold, up to 50 images per
#   concept (the `gpu` profile's `n_profile`). The threshold itself is a command-line argument (default 0), so
#   `k_threshold` = 0.8 is the card's choice, not the paper's. In the official code the masked *feature map* goes
#   through ResNet's average pool and trained head; here the pooled vector is masked and a nearest-centroid head
#   is used for novel concepts (compared with the trained head on base categories above).
# - **Training budget: changed from the card before the first `cpu` run.** The card's `cpu` training (Adam
#   lr 0.003, 8 epochs, 296 steps) left the held-out base accuracy at 0.70 and 0.58 on two seeds in a
#   training-only calibration (no correlation was computed), below the card's own 0.8 check; lr 0.01 with 12
#   epochs (444 steps) gave 0.96 and 0.94. Those are the defaults; the rule was not changed. The choice read only
#   the networks' accuracy on their own (base) task, never a novel concept.
# - **No natural images.** Six real datasets of rising visual complexity are replaced by one procedural family
#   with compositional categories, so concepts differ in how the representation happens to encode them, not in
#   their real-world complexity. The network is a two-layer CNN, not a ResNet-18.
# - **The learners are this book's.** The paper's rule- and similarity-based procedures could not be read; the
#   size-principle rule learner and the exponential exemplar learner are textbook forms of Tenenbaum (1999) over
#   the learned channels, each tuned on validation concepts with six settings. Negatives in an episode come from
#   the other novel concepts of the same group (validation or test), a detail the card left open, so that tuning
#   never sees a test-concept image.
# - **K on novel concepts** uses a nearest-centroid head among the novel categories, with centroids from the
#   same profile images it classifies (as the paper classifies the concept's own images with a classifier trained
#   on them).
# - **The falsification run** permutes $K_c$ among the test concepts; it can tell whether the interval machinery
#   invents a correlation, not whether another network would show one. The untrained networks beside it ask
#   whether the pattern needs category-conditioned training.
# - **The inverted U** is descriptive only: with a generator the "visual complexity" axis is a knob the chapter
#   sets (clutter strokes and noise; the card's "more hue/texture values" is not implemented, since it would change
#   the category set), and a few levels of one family do not test a claim about natural datasets.
# - A reader must not conclude anything about human generalization.
