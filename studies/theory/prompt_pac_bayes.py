# ---
# jupyter:
#   genbook:
#     claim: With a language-model prior over discrete prompts, the Occam (point-mass
#       PAC-Bayes) bound on a prompted classifier's test error is tight even after greedy
#       prompt search on the training set, clearly tighter than with a uniform prior
#       over the same prompts, and the prompt with the best bound has near-best test
#       error.
#     'null':
#       prior: uniform
#     null_reason: A uniform prior over prompts of each length replaces the language-model
#       prior, the cause the paper names for the tight bounds, in the bound, the bound-regularised
#       search and the bound-based selection.
#     paper: Akinwande, Jiang, Sam & Kolter 2023 (ICLR 2024), arXiv:2310.03957
#     part: theory
#     profiles:
#       gpu:
#         batch_size: 1024
#         caption_len: 8
#         max_prompt_len: 5
#         n_seeds: 8
#         n_test: 20000
#         n_train: 10000
#         pretrain_samples: 200000
#         pretrain_steps: 10000
#         vocab_size: 1000
#       smoke:
#         caption_len: 4
#         max_prompt_len: 2
#         n_seeds: 2
#         n_test: 1000
#         n_train: 500
#         pretrain_samples: 2000
#         pretrain_steps: 100
#         vocab_size: 40
#     title: Prompts as discrete hypotheses with a language-model prior
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
# # Understanding prompt engineering may not require rethinking generalization
#
# **Paper.** Victor Akinwande, Yiding Jiang, Dylan Sam and J. Zico Kolter, *Understanding prompt
# engineering may not require rethinking generalization*, ICLR 2024
# ([arXiv:2310.03957](https://arxiv.org/abs/2310.03957)).
#
# **Claim under test.** A prompted zero-shot classifier (CLIP with one text prompt per class) is a
# *discrete* hypothesis: a few tokens from a finite vocabulary. Put a language model's probability on
# prompts as the PAC-Bayes prior and take the chosen prompt as a point-mass posterior; the KL term is then
# just $-\ln P_{\text{LM}}(\text{prompt})$. The abstract's words: "the discrete nature of prompts, combined
# with a PAC-Bayes prior given by a language model, results in generalization bounds that are remarkably
# tight", for hand-crafted prompts and for prompts from a greedy search on the training set, and "the
# models with the best bound typically also have the best test performance". The cause the paper names is
# the **language-model prior**, so this chapter tests three things against a control that lacks it, a
# uniform prior over the same prompts: (1) the bound with the language-model prior is tight, (2) it is
# clearly tighter than the uniform prior's bound, each prior getting its own bound-guided search over the
# same candidates, and (3) the prompt the bound selects has test error close to the best candidate's.
#
# **The paper's evidence.** Tables of training error, test error and bound for CLIP on CIFAR-10,
# CIFAR-100, OfficeHome and ImageNet, with hand-crafted prompts and prompts from a greedy token-by-token
# search, LLaMA-7B as the prior, and the uniform-convergence bound (a uniform prior over prompts) beside
# it. The arXiv full text was not in the stored material we could search; the first author's own
# write-up of the paper (CMU CSD PhD blog, 28 April 2025) says: "on CIFAR-10, a prompt found via greedy
# search has a training error of 2.3%, a test error of 2.8%, and a PAC-Bayes bound of just 8.6%. On
# ImageNet, with a much larger class set, the bound is still within 6% of the test error", bounds
# "sometimes within 2–6% of the actual test error", and "if we simply assign a uniform probability (i.e.
# uniform convergence) to every prompt, we obtain looser bounds". The ICLR reviews put the size of that
# last effect in proportion: "the numbers between the UC and the PAC-Bayes ... most of them are within a
# factor of 2 or 3", and one reviewer read the model-selection figure as showing the bound "no more
# useful than just looking at the training error".
#
# **What is scaled down, and what is substituted.** There is no CLIP and no LLM here. The chapter
# builds both, at toy scale: "images" are MNIST-1D signals, each with a short generated caption; a
# CLIP-like dual encoder (a 1-D CNN and a bag-of-words text encoder) is trained contrastively on 20 000
# captioned signals and then frozen; the prior is a bigram language model fitted to the same captions.
# The downstream task is 10-way digit classification on fresh signals, with 2 000 training examples for
# the prompt search and the bound and 5 000 test examples; the whole pipeline (corpus, encoder, language
# model, labelled samples) is repeated for `n_seeds` = 5 seeds (`cpu`).

# %%
import itertools
import math
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from matplotlib import pyplot as plt
from mnist1d.data import get_dataset_args, get_templates
from scipy.ndimage import gaussian_filter1d
from scipy.special import gammaln, log_ndtr
from scipy.stats import kendalltau
from torch import nn

import genutils as gu

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; seed i of the n_seeds runs uses seed + 1000 i for everything it draws
n_seeds = 5  # independent repetitions of the whole pipeline (corpus, encoder, prior, labelled samples)
prior = "lm"  # the prior of the bound, the bound-guided search and the selection, lm or uniform
vocab_size = 200  # words in the vocabulary (10 digit words, 9 attribute words, the rest filler)
caption_len = 6  # most tokens in one caption
pretrain_samples = 20000  # captioned signals in the contrastive pretraining corpus
pretrain_steps = 1500  # contrastive (InfoNCE) steps
batch_size = 256  # pretraining batch (pairs per InfoNCE step)
lr = 0.003  # Adam learning rate of the dual encoder (cosine decay to zero)
embed_dim = 32  # joint embedding dimension of the dual encoder
digit_caption_prob = 0.8  # probability that a caption names its digit
attribute_caption_prob = 0.5  # probability that a caption names each of the four attributes
n_train = 2000  # labelled signals for the prompt search and the bound
n_test = 5000  # labelled signals for the test error
max_prompt_len = 3  # most tokens in one class prompt (the class word included)
delta = 0.05  # the bounds hold with probability at least 1 minus delta
probe_l2s = [0.0001, 0.001, 0.01, 0.1]  # L2 penalties tried for the linear probe (the continuous baseline)
gibbs_nodes = 32  # Gauss-Hermite nodes for the probe's exact Gibbs error

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_seeds=gu.Int(min=2),
    prior=gu.Choice("lm", "uniform"),
    vocab_size=gu.Int(min=21),
    caption_len=gu.Int(min=2),
    pretrain_samples=gu.Int(min=100),
    pretrain_steps=gu.Int(min=1),
    batch_size=gu.Int(min=2),
    lr=gu.Float(gt=0),
    embed_dim=gu.Int(min=2),
    digit_caption_prob=gu.Float(min=0, max=1),
    attribute_caption_prob=gu.Float(min=0, max=1),
    n_train=gu.Int(min=10),
    n_test=gu.Int(min=10),
    max_prompt_len=gu.Int(min=2, max=6),
    delta=gu.Float(gt=0, lt=1),
    probe_l2s=gu.List(gu.Float(min=0), min_len=1),
    gibbs_nodes=gu.Int(min=8),
)
if P.batch_size > P.pretrain_samples:
    raise gu.ParameterError("batch_size", f"{P.batch_size} exceeds pretrain_samples {P.pretrain_samples}")
device = gu.device()
torch.set_num_threads(1)  # every tensor here is small: one thread is faster than two, and robust on shared cores
SEEDS = [P.seed + 1000 * i for i in range(P.n_seeds)]
TREATMENT, CONTROL = P.prior, {"lm": "uniform", "uniform": "lm"}[P.prior]
P

# %% [markdown]
# ## Data: MNIST-1D signals that remember how they were made
#
# MNIST-1D draws a digit template (12 points), pads it with $p \in [36, 60]$ zeros and stretches the
# result to 72 points, scales it by $1 + 0.4(u - \tfrac12)$, shifts it circularly by $k \in [0, 48)$,
# fills the padding with correlated noise, adds white noise, shears it and subsamples to 40 points. The
# function below is that transform, written out vectorised with the same templates and arguments as the
# `mnist1d` package (it reproduces the package's `transform` to $10^{-15}$ when given the same random
# draws), so that the transform's arguments can be *kept* and turned into words: the shift $k$ becomes
# *left / centre / right*, the scale *small / large*, the padding *wide / narrow* (less padding leaves a
# wider digit) and the sign of the shear *rising / falling*.

# %%
ARGS = get_dataset_args()
TEMPLATES = get_templates()["x"]  # (10 digits, 12 points)
FRAME = ARGS.template_len + ARGS.padding[1]  # 72 points before the final subsampling


def mnist1d_signals(n: int, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """n MNIST-1D signals (n, 40) and the arguments that made them."""
    a = {
        "digit": rng.integers(0, 10, n),
        "pad": rng.integers(ARGS.padding[0], ARGS.padding[1] + 1, n),
        "scale_u": rng.random(n),
        "shift": rng.integers(0, ARGS.max_translation, n),
        "shear_u": rng.random(n),
    }
    rows = np.arange(n)[:, None]
    # pad the template with zeros and stretch it to FRAME points (linear interpolation)
    padded = np.zeros((n, FRAME + 1))
    padded[:, :ARGS.template_len] = TEMPLATES[a["digit"]] + 1e-8
    length = ARGS.template_len + a["pad"]
    pos = np.linspace(0, 1, FRAME)[None, :] * (length[:, None] - 1)
    i0 = np.minimum(np.floor(pos).astype(int), length[:, None] - 2)
    frac = pos - i0
    x = padded[rows, i0] * (1 - frac) + padded[rows, i0 + 1] * frac
    x = x * (1 + ARGS.scale_coeff * (a["scale_u"][:, None] - 0.5))  # scale
    x = x[rows, (np.arange(FRAME)[None, :] - a["shift"][:, None]) % FRAME]  # circular shift
    corr = gaussian_filter1d(ARGS.corr_noise_scale * rng.standard_normal((n, FRAME)), 2, axis=1)
    x = np.where(x != 0, x, corr) + ARGS.iid_noise_scale * rng.standard_normal((n, FRAME))
    x = x - ARGS.shear_scale * (a["shear_u"][:, None] - 0.5) * np.linspace(-0.5, 0.5, FRAME)[None, :]  # shear
    grid = np.linspace(0, 1, ARGS.final_seq_length) * (FRAME - 1)
    j0 = np.minimum(np.floor(grid).astype(int), FRAME - 2)
    g = grid - j0
    return x[:, j0] * (1 - g) + x[:, j0 + 1] * g, a


# %% [markdown]
# ## Captions, and the vocabulary they are written in
#
# The vocabulary has `vocab_size` words: ten digit words, nine attribute words, and fillers. Fillers
# follow a Zipf law (*a* is the most common). A caption names its digit with probability
# `digit_caption_prob` and each attribute with probability `attribute_caption_prob`; the named words
# come in random order, each after a filler ("a seven the left with small"), and the caption is cut at
# `caption_len` tokens. So, as with web captions, a signal's caption often does not name its class, and
# the words follow a loose grammar that a bigram model can learn.

# %%
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ATTRIBUTE_WORDS = ["left", "centre", "right", "small", "large", "wide", "narrow", "rising", "falling"]
NAMED_FILLERS = ["a", "the", "signal", "of", "with", "and", "this", "shape", "trace", "curve", "in", "that",
                 "its", "plot", "wave", "line", "form", "some", "pattern", "sample", "glyph", "mark", "stroke",
                 "figure", "here", "written", "drawn", "seen", "like", "as"]
n_fillers = P.vocab_size - len(DIGIT_WORDS) - len(ATTRIBUTE_WORDS)
FILLERS = (NAMED_FILLERS + [f"w{i:03d}" for i in range(n_fillers)])[:n_fillers]
VOCAB = DIGIT_WORDS + ATTRIBUTE_WORDS + FILLERS
WORD = {w: i for i, w in enumerate(VOCAB)}
V = len(VOCAB)
PAD = V  # padding index of the text encoder; in the language model the same index is <s> / </s>
filler_ids = np.array([WORD[w] for w in FILLERS])
zipf = 1.0 / np.arange(1, n_fillers + 1)
zipf /= zipf.sum()


def attribute_words(a: dict[str, np.ndarray]) -> np.ndarray:
    """The five content words of each signal: digit, shift, scale, width, shear (n, 5) word ids."""
    third = ARGS.max_translation / 3
    shift = np.where(a["shift"] < third, WORD["left"], np.where(a["shift"] < 2 * third, WORD["centre"], WORD["right"]))
    scale = np.where(a["scale_u"] < 0.5, WORD["small"], WORD["large"])
    width = np.where(a["pad"] <= sum(ARGS.padding) // 2, WORD["wide"], WORD["narrow"])
    shear = np.where(a["shear_u"] < 0.5, WORD["rising"], WORD["falling"])
    return np.stack([a["digit"], shift, scale, width, shear], axis=1)


def captions(a: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (n, caption_len), PAD after the end, and the caption lengths."""
    n = len(a["digit"])
    content = attribute_words(a)
    named = rng.random((n, 5)) < np.array([P.digit_caption_prob] + [P.attribute_caption_prob] * 4)
    order = np.argsort(rng.random((n, 5)) + 2 * ~named, axis=1)  # named words first, in random order
    content = np.take_along_axis(content, order, axis=1)
    n_named = named.sum(1)
    tokens = np.empty((n, 10), dtype=np.int64)
    tokens[:, 0::2] = rng.choice(filler_ids, size=(n, 5), p=zipf)  # a filler before each named word
    tokens[:, 1::2] = content
    nothing_named = n_named == 0
    tokens[nothing_named, 1] = rng.choice(filler_ids, size=nothing_named.sum(), p=zipf)  # two fillers
    lengths = np.minimum(2 * np.maximum(n_named, 1), P.caption_len)
    tokens = tokens[:, :P.caption_len].copy()
    tokens[np.arange(P.caption_len)[None, :] >= lengths[:, None]] = PAD
    return tokens, lengths


# %% [markdown]
# ## The pretrained model: a CLIP-like dual encoder
#
# Signal encoder $f$: a small 1-D CNN. Text encoder $g$: the mean of learned word embeddings followed by
# a linear map. Both outputs are normalised, and training minimises CLIP's symmetric InfoNCE loss over a
# batch of $B$ pairs,
#
# $$\mathcal L = \tfrac12\Big[\mathrm{CE}\big(\tau^{-1} F G^\top, I\big) + \mathrm{CE}\big(\tau^{-1} G F^\top, I\big)\Big],
# \qquad F_i = \frac{f(x_i)}{\lVert f(x_i)\rVert},\ G_i = \frac{g(t_i)}{\lVert g(t_i)\rVert},$$
#
# with a learned temperature $\tau$. After `pretrain_steps` steps the encoder is frozen: nothing below
# changes a weight of it. The same cell fits the prior (next section) on the same captions, and draws the
# labelled signals of the downstream task; `build_world(s)` does all of it for one seed.

# %%
class SignalEncoder(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, 32, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv1d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 10, 128), nn.ReLU(), nn.Linear(128, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TextEncoder(nn.Module):
    """g(t) = A · mean of the word embeddings of t + b (a bag of words)."""

    def __init__(self, d: int):
        super().__init__()
        self.emb = nn.Embedding(V + 1, d, padding_idx=PAD)
        self.proj = nn.Linear(d, d)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.proj(self.emb(tokens).sum(1) / lengths[:, None])


def fit_bigram(cap: np.ndarray) -> np.ndarray:
    """log P(next | previous) with add-one smoothing; row and column PAD are <s> and </s>: (V+1, V+1)."""
    edge = np.full((len(cap), 1), PAD)
    with_bounds = np.concatenate([edge, cap, edge], 1)  # <s> caption </s>, PAD after the end
    prev, nxt = with_bounds[:, :-1].ravel(), with_bounds[:, 1:].ravel()
    first = np.arange(with_bounds.shape[1] - 1)[None, :].repeat(len(cap), 0).ravel() == 0
    keep = (prev != PAD) | first  # <s> -> w1 is a real transition; PAD -> PAD after the end is not
    counts = np.zeros((V + 1, V + 1))
    np.add.at(counts, (prev[keep], nxt[keep]), 1)
    return np.log((counts + 1) / (counts.sum(1, keepdims=True) + V + 1))


def build_world(s: int) -> SimpleNamespace:
    """Seed s: pretraining corpus, frozen dual encoder, bigram prior, labelled train and test signals."""
    rng_data = gu.rng(s)
    x_pre, a_pre = mnist1d_signals(P.pretrain_samples, rng_data)
    cap_pre, len_pre = captions(a_pre, rng_data)
    x_mean, x_sd = x_pre.mean(), x_pre.std()  # MNIST-1D standardises with one mean and sd
    x_tr, a_tr = mnist1d_signals(P.n_train, gu.rng(s + 1))
    x_te, a_te = mnist1d_signals(P.n_test, gu.rng(s + 2))

    def as_input(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((x - x_mean) / x_sd, dtype=torch.float32)[:, None, :].to(device)

    torch.manual_seed(s)
    f_enc, g_enc = SignalEncoder(P.embed_dim).to(device), TextEncoder(P.embed_dim).to(device)
    log_inv_tau = nn.Parameter(torch.tensor(math.log(1 / 0.07), device=device))
    opt = torch.optim.Adam([*f_enc.parameters(), *g_enc.parameters(), log_inv_tau], lr=P.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=P.pretrain_steps)
    xs_pre = as_input(x_pre)
    tok_pre = torch.as_tensor(cap_pre).to(device)
    lens_pre = torch.as_tensor(len_pre, dtype=torch.float32).to(device)
    g_batches = torch.Generator().manual_seed(s)
    t0, losses = time.time(), []
    for _ in gu.progress(range(P.pretrain_steps), desc=f"InfoNCE, seed {s}"):
        idx = torch.randperm(P.pretrain_samples, generator=g_batches)[:P.batch_size].to(device)
        fx = F.normalize(f_enc(xs_pre[idx]), dim=1)
        gt = F.normalize(g_enc(tok_pre[idx], lens_pre[idx]), dim=1)
        logits = log_inv_tau.clamp(max=math.log(100)).exp() * fx @ gt.T
        target = torch.arange(len(idx), device=device)
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    with torch.no_grad():  # frozen from here on: signal embeddings, word embeddings and the text map, in float64
        f_enc.eval()
        S_tr = F.normalize(f_enc(as_input(x_tr)), dim=1).double().cpu()
        S_te = F.normalize(f_enc(as_input(x_te)), dim=1).double().cpu()
        E_words = g_enc.emb.weight[:V].double().cpu()
        A_text, b_text = g_enc.proj.weight.double().cpu(), g_enc.proj.bias.double().cpu()
    return SimpleNamespace(seed=s, S_tr=S_tr, S_te=S_te, y_tr=torch.as_tensor(a_tr["digit"]),
                           y_te=torch.as_tensor(a_te["digit"]), E_words=E_words, A_text=A_text, b_text=b_text,
                           LOGP=fit_bigram(cap_pre), losses=losses, pretrain_s=time.time() - t0,
                           examples=[(int(a_pre["digit"][i]), words(cap_pre[i])) for i in range(5)])


def words(ids) -> str:
    return " ".join(VOCAB[i] for i in ids if i != PAD)


# %% [markdown]
# ## Two priors over prompts
#
# **The language-model prior** is a bigram model of the pretraining captions,
# $P(w_1 \dots w_L) = P(w_1 \mid \langle s\rangle)\prod_{i=2}^{L} P(w_i \mid w_{i-1})\; P(\langle/s\rangle \mid w_L)$,
# with add-one smoothing. The end token makes it a proper distribution over prompts of every length, as
# the bound needs ($\sum_t P(t) \le 1$). The text encoder is a bag of words, so the classifier depends only
# on *which* words a prompt holds; every prompt is therefore written in the word order the language model
# likes best (the bound holds for every word sequence at once, so choosing the order by the prior alone is
# free).
#
# **The uniform prior** (the control) knows nothing about language: it puts probability $1/L_{\max}$ on
# each length $L \le L_{\max}$ = `max_prompt_len` and spreads it evenly over the $\binom{V+L-1}{L}$ distinct
# bags of $L$ words, which are exactly the distinct classifiers of that length. This is the strongest
# uniform prior for this classifier; a uniform prior over word *sequences*, as in the paper's
# uniform-convergence bound, would charge $\ln L!$ more per prompt.
#
# A classifier is one prompt per class, $h = (t_0, \dots, t_9)$, and its prior is the product
# $P(h) = \prod_k P(t_k)$, so that $\mathrm{KL}(\delta_h \Vert P) = -\ln P(h) = -\sum_k \ln P(t_k)$.

# %%
class BigramPrior:
    """−ln P(prompt) under a bigram model, each prompt in its most probable word order."""

    name = "lm"

    def __init__(self, logp: np.ndarray):
        self.logp = logp

    def seq_cost(self, seq) -> float:
        ext = [PAD, *seq, PAD]
        return -float(sum(self.logp[a, b] for a, b in zip(ext[:-1], ext[1:])))

    def best_order(self, prompt) -> list:
        return list(min(set(itertools.permutations(prompt)), key=self.seq_cost))

    def cost(self, prompt) -> float:
        return self.seq_cost(self.best_order(prompt))

    def insertion_costs(self, prompt) -> np.ndarray:
        """(V,) −ln P of `prompt` with word v inserted where the model likes it best (prompt in best order)."""
        ext = [PAD, *prompt, PAD]
        base = self.seq_cost(prompt)
        delta_pos = [self.logp[a, b] - self.logp[a, :V] - self.logp[:V, b] for a, b in zip(ext[:-1], ext[1:])]
        return base + np.min(delta_pos, axis=0)


class UniformPrior:
    """−ln P(prompt) = ln L_max + ln C(V+L−1, L): uniform over lengths, then over bags of words."""

    name = "uniform"

    def cost(self, prompt) -> float:
        L = len(prompt)
        if L > P.max_prompt_len:
            return math.inf
        return float(math.log(P.max_prompt_len) + gammaln(V + L) - gammaln(L + 1) - gammaln(V))

    def best_order(self, prompt) -> list:
        return list(prompt)

    def insertion_costs(self, prompt) -> np.ndarray:
        return np.full(V, self.cost([*prompt, 0]))


def nlp_set(prior_, prompts) -> float:
    return sum(prior_.cost(t) for t in prompts)


# %% [markdown]
# ## The prompted classifier and its bound
#
# A prompt set $h = (t_0,\dots,t_9)$ classifies a signal by $\hat y(x) = \arg\max_k \cos\big(f(x), g(t_k)\big)$.
# Its training error $\hat r(h)$ on the $n$ = `n_train` examples and a prior give the Occam bound (the
# PAC-Bayes bound with a point-mass posterior): with probability at least $1-\delta$ over the sample,
# simultaneously for *every* prompt set $h$,
#
# $$\mathrm{kl}\big(\hat r(h)\,\Vert\,R(h)\big) \le \frac{-\ln P(h) + \ln\frac1\delta}{n}
# \qquad\Longrightarrow\qquad R(h) \le \mathrm{kl}^{-1}\Big(\hat r(h),\ \frac{-\ln P(h) + \ln\frac1\delta}{n}\Big),$$
#
# where $\mathrm{kl}(q\Vert p)$ is the binary relative entropy and $\mathrm{kl}^{-1}(q, c)$ the largest
# $p$ with $\mathrm{kl}(q\Vert p)\le c$ (found by bisection). Because it holds for all $h$ at once, it
# holds for a prompt chosen *by searching the training set*, and for the prompt with the smallest bound.
# Beside it, the looser square-root form $R(h) \le \hat r(h) + \sqrt{(-\ln P(h) + \ln\frac1\delta)/(2n)}$.
#
# What the bound's distance to the test error is made of: $\text{bound} - \text{test} =
# [\mathrm{kl}^{-1}(\hat r, c) - \hat r] - [\text{test} - \hat r]$. The first bracket is arithmetic once
# $\hat r$ and $-\ln P(h)$ are known; the measurements are which prompts the search finds, their training
# error, and what each prior charges for them.

# %%
def binary_kl(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    q, p = np.clip(q, 1e-12, 1 - 1e-12), np.clip(p, 1e-12, 1 - 1e-12)
    return q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))


def kl_inverse_upper(q, c) -> np.ndarray:
    """Largest p ≥ q with kl(q‖p) ≤ c, by bisection (vectorised over q and c)."""
    q, c = np.broadcast_arrays(np.asarray(q, float), np.asarray(c, float))
    lo, hi = q.copy(), np.ones_like(q)
    for _ in range(60):
        mid = (lo + hi) / 2
        over = binary_kl(q, mid) > c
        hi, lo = np.where(over, mid, hi), np.where(over, lo, mid)
    return hi


def occam_kl_bound(train_err, kl_nats, n: int, delta: float) -> np.ndarray:
    return kl_inverse_upper(train_err, (np.asarray(kl_nats) + math.log(1 / delta)) / n)


def occam_sqrt_bound(train_err, kl_nats, n: int, delta: float) -> np.ndarray:
    return np.asarray(train_err) + np.sqrt((np.asarray(kl_nats) + math.log(1 / delta)) / (2 * n))


def text_embeddings(w, prompts) -> torch.Tensor:
    """g(t_k) for each prompt, normalised: (classes, d)."""
    means = torch.stack([w.E_words[list(t)].mean(0) for t in prompts])
    return F.normalize(means @ w.A_text.T + w.b_text, dim=1)


def errors(w, prompts) -> tuple[float, float]:
    """(training error, test error) of the prompted classifier."""
    T = text_embeddings(w, prompts)
    return tuple(float(((S @ T.T).argmax(1) != y).double().mean()) for S, y in ((w.S_tr, w.y_tr), (w.S_te, w.y_te)))


# %% [markdown]
# ## Candidates: hand-crafted prompts and three greedy searches
#
# **Hand-crafted prompts**, fixed before any data is seen: the class word alone and five short
# templates ("a ⟨digit⟩", "the ⟨digit⟩", "this ⟨digit⟩", "a ⟨digit⟩ signal", "the ⟨digit⟩ shape"), those
# with at most `max_prompt_len` words.
#
# **Greedy search**, as in the paper: prompts grow one word at a time. Each class's prompt starts from its
# class word; in each of `max_prompt_len` − 1 rounds the classes are visited in turn, every vocabulary
# word $v$ is tried in class $k$'s prompt (the other nine fixed), and the best word is kept if it improves
# the objective. All $V$ candidates of a class are scored at once: their text embeddings are
# $A\,(\Sigma_k + e_v)/(L_k+1) + b$, and a signal goes to class $k$ exactly when its cosine with the
# candidate beats its best cosine with the other nine prompts. Three objectives:
#
# - **plain greedy**: the training error alone (ties to the lower word id), which knows no prior;
# - **LM-bound greedy**: the Occam-kl bound under the language-model prior, i.e. training error
#   regularised by $-\ln P_{\text{LM}}$ (the paper also runs a search regularised by the language model);
# - **uniform-bound greedy**: the same under the uniform prior, so that the control gets the same search
#   budget, guided by its own prior.
#
# Every state the three searches pass through, with the hand-crafted prompt sets, forms one common
# **candidate pool**. Each prior then *selects* the candidate with its smallest bound. No random edits enter
# the pool: the candidates are what a prompt engineer would actually compare.

# %%
TEMPLATES_TEXT = ["{d}", "a {d}", "the {d}", "this {d}", "a {d} signal", "the {d} shape"]


def hand_crafted() -> list[tuple[str, list]]:
    sets = []
    for tpl in TEMPLATES_TEXT:
        prompts = [[WORD[x] if x != "{d}" else d for x in tpl.split()] for d in range(10)]
        if len(prompts[0]) <= P.max_prompt_len:
            sets.append((f"'{tpl.replace('{d}', '<digit>')}'", prompts))
    return sets


def greedy_search(w, prior_=None) -> list[list]:
    """States (prompt sets) of a greedy search from the class names; prior_ None: plain training error."""
    prompts = [[d] for d in range(10)]
    scores = w.S_tr @ text_embeddings(w, prompts).T  # (n, classes)
    err = float((scores.argmax(1) != w.y_tr).double().mean())
    costs = [prior_.cost(t) for t in prompts] if prior_ else None
    objective = err if prior_ is None else float(occam_kl_bound(err, sum(costs), P.n_train, P.delta))
    states = []
    for _ in range(P.max_prompt_len - 1):
        for k in range(10):
            if len(prompts[k]) >= P.max_prompt_len:
                continue
            others = scores.clone()
            others[:, k] = -math.inf
            best_other, arg_other = others.max(1)
            cand = w.E_words[prompts[k]].sum(0)[None, :] + w.E_words  # (V, d): one candidate per added word
            cand_T = F.normalize((cand / (len(prompts[k]) + 1)) @ w.A_text.T + w.b_text, dim=1)
            cand_scores = w.S_tr @ cand_T.T  # (n, V)
            correct = torch.where(cand_scores > best_other[:, None], (w.y_tr == k)[:, None],
                                  (arg_other == w.y_tr)[:, None])
            cand_err = 1 - correct.double().mean(0).numpy()
            if prior_ is None:
                cand_obj = cand_err
            else:
                kl = sum(costs) - costs[k] + prior_.insertion_costs(prompts[k])
                cand_obj = occam_kl_bound(cand_err, kl, P.n_train, P.delta)
            v = int(np.argmin(cand_obj))
            if cand_obj[v] < objective - 1e-12:
                prompts[k] = prior_.best_order([*prompts[k], v]) if prior_ else [*prompts[k], v]
                scores[:, k] = cand_scores[:, v]
                err = float((scores.argmax(1) != w.y_tr).double().mean())
                if prior_ is None:
                    objective = err
                else:
                    costs[k] = prior_.cost(prompts[k])
                    objective = float(occam_kl_bound(err, sum(costs), P.n_train, P.delta))
                states.append([list(t) for t in prompts])
    return states


def candidate_pool(w) -> pd.DataFrame:
    """Every candidate prompt set with its errors, both priors' charges and both priors' bounds."""
    priors = {"lm": BigramPrior(w.LOGP), "uniform": UniformPrior()}
    named = [(name, "hand-crafted", p, False) for name, p in hand_crafted()]
    for label, prior_ in (("plain greedy", None), ("LM-bound greedy", priors["lm"]),
                          ("uniform-bound greedy", priors["uniform"])):
        states = greedy_search(w, prior_) or [[[d] for d in range(10)]]  # no accepted step: the class names
        named += [(f"{label}, step {i + 1}", label, p, i == len(states) - 1) for i, p in enumerate(states)]
    rows, seen = [], {}
    for name, source, prompts, final in named:
        key = tuple(tuple(sorted(t)) for t in prompts)
        if key in seen:  # the same classifier reached twice: one row, which remembers whose final state it is
            if final:
                rows[seen[key]]["final_of"].append(source)
            continue
        seen[key] = len(rows)
        tr, te = errors(w, prompts)
        row = {"name": name, "source": source, "prompts": [priors["lm"].best_order(t) for t in prompts],
               "train_err": tr, "test_err": te, "tokens": sum(len(t) for t in prompts),
               "final_of": [source] if final else []}
        for pn, prior_ in priors.items():
            kl = nlp_set(prior_, prompts)
            row[f"kl_{pn}"] = kl
            row[f"bound_{pn}"] = float(occam_kl_bound(tr, kl, P.n_train, P.delta))
            row[f"sqrt_{pn}"] = float(occam_sqrt_bound(tr, kl, P.n_train, P.delta))
        rows.append(row)
    return pd.DataFrame(rows)


def final_state(pool: pd.DataFrame, source: str) -> pd.Series:
    return pool[[source in f for f in pool.final_of]].iloc[0]


# %% [markdown]
# ## Per seed: what each prior certifies and selects
#
# For the treatment prior $T$ = `prior` and the control $C$ (the other prior), on each seed's pool:
#
# - $h_T$ = the candidate with the smallest $T$-bound; its **gap** = bound − test error;
# - the **advantage** of $T$ = (smallest $C$-bound) − (smallest $T$-bound): how much lower a test error
#   $T$ certifies than $C$ can, each choosing its best candidate from the same pool (which holds each
#   prior's own bound-guided search);
# - the **selection regret** = test error of $h_T$ − the smallest test error in the pool: how far the
#   bound's choice is from the best prompt available. Beside it, the regret of choosing by training error.

# %%
def summarise(w, pool: pd.DataFrame) -> dict:
    out = {"seed": w.seed, "n_candidates": len(pool), "best_test_err": pool.test_err.min(),
           "pretrain_final_loss": float(np.mean(w.losses[-50:]))}
    for role, pn in (("t", TREATMENT), ("c", CONTROL)):
        sel = pool.loc[pool[f"bound_{pn}"].idxmin()]
        out |= {f"{role}_bound": sel[f"bound_{pn}"], f"{role}_test_err": sel.test_err, f"{role}_train_err": sel.train_err,
                f"{role}_kl_nats": sel[f"kl_{pn}"], f"{role}_gap": sel[f"bound_{pn}"] - sel.test_err,
                f"{role}_regret": sel.test_err - pool.test_err.min(), f"{role}_selected": sel["name"]}
    out["advantage"] = out["c_bound"] - out["t_bound"]
    by_train = pool.loc[pool.train_err.idxmin()]
    out["train_selected_regret"] = by_train.test_err - pool.test_err.min()
    plain = final_state(pool, "plain greedy")
    out |= {"greedy_test_err": plain.test_err, "greedy_bound": plain[f"bound_{TREATMENT}"],
            "greedy_gap": plain[f"bound_{TREATMENT}"] - plain.test_err,
            "greedy_control_bound": plain[f"bound_{CONTROL}"]}
    out["tau"] = kendalltau(pool[f"bound_{TREATMENT}"], pool.test_err)[0]
    # instrument quantities: the bound holds for every candidate, the kl inversion is exact, kl ≤ square-root form
    slack = np.concatenate([pool.bound_lm - pool.test_err, pool.bound_uniform - pool.test_err])
    out["bound_violations"] = int((slack < 0).sum())
    resid = []
    for pn in ("lm", "uniform"):
        c = (pool[f"kl_{pn}"] + math.log(1 / P.delta)) / P.n_train
        inside = pool[f"bound_{pn}"] < 1 - 1e-9
        resid.append(np.max(np.abs(binary_kl(pool.train_err[inside].to_numpy(), pool[f"bound_{pn}"][inside].to_numpy())
                                  - c[inside].to_numpy()), initial=0.0))
    out["kl_inversion_residual"] = float(max(resid))
    out["kl_above_sqrt"] = int(((pool.bound_lm > pool.sqrt_lm + 1e-9) | (pool.bound_uniform > pool.sqrt_uniform + 1e-9)).sum())
    return out


t0 = time.time()
worlds, pools, per_seed = [], [], []
for s in SEEDS:
    w = build_world(s)
    pool = candidate_pool(w)
    worlds.append(w)
    pools.append(pool.assign(seed=s))
    per_seed.append(summarise(w, pool))
per_seed = pd.DataFrame(per_seed)
w0, pool0 = worlds[0], pools[0]
print(f"{P.n_seeds} seeds in {time.time() - t0:.1f} s (pretraining {np.mean([w.pretrain_s for w in worlds]):.1f} s "
      f"per seed); InfoNCE loss at the end {per_seed.pretrain_final_loss.mean():.2f} (chance {math.log(P.batch_size):.2f})")
for digit, text in w0.examples:
    print(f"  seed {w0.seed} caption of a {digit}: '{text}'")
per_seed[["seed", "n_candidates", "t_selected", "t_train_err", "t_test_err", "t_bound", "t_gap", "c_selected",
          "c_test_err", "c_bound", "advantage", "t_regret", "train_selected_regret"]].round(4)

# %% [markdown]
# The first seed's pool, sorted by the treatment prior's bound (prompts written in the language model's
# preferred word order):

# %%
show = pool0.sort_values(f"bound_{TREATMENT}").head(10).copy()
show["prompt for 'seven'"] = [words(p[7]) for p in show.prompts]
show[["name", "prompt for 'seven'", "train_err", "test_err", "kl_lm", "kl_uniform", "bound_lm", "bound_uniform"]].round(4)

# %% [markdown]
# ## The continuous baseline: a linear probe with a Gaussian PAC-Bayes posterior
#
# Reported beside the verdict, on the first seed only (it does not enter the rule). The probe is
# multinomial logistic regression on the same frozen, normalised signal embeddings
# ($W \in \mathbb R^{(d+1)\times 10}$ with the bias), fitted on the same $n$ examples with an L2 penalty
# $\lambda\lVert W\rVert^2$, one fit for each $\lambda$ in `probe_l2s`. Its PAC-Bayes bound uses the
# posterior $Q = \mathcal N(\hat W, \sigma^2 I)$ and the prior $\mathcal N(0, \sigma_p^2 I)$, for which, with
# $D = 10(d+1)$ weights,
#
# $$\mathrm{KL}(Q\Vert P) = \tfrac12\Big[D\frac{\sigma^2}{\sigma_p^2} + \frac{\lVert \hat W\rVert^2}{\sigma_p^2} - D + D\ln\frac{\sigma_p^2}{\sigma^2}\Big],
# \qquad \mathrm{kl}\big(\hat r(Q)\Vert R(Q)\big) \le \frac{\mathrm{KL}(Q\Vert P) + \ln\frac{2\sqrt n}{\delta'}}{n}$$
#
# (Maurer's form of the PAC-Bayes-kl bound, which bounds the *Gibbs* classifier that draws its weights
# from $Q$). To give the baseline its best bound, $\lambda$, $\sigma$ and $\sigma_p$ are all chosen from fixed
# grids to make the bound smallest, and the union bound over the whole grid is paid:
# $\delta' = \delta / |\text{grid}|$. The Gibbs error needs no sampling: a draw of $W$ moves the logits
# $\ell$ of $\tilde x = (x, 1)$ by $s\,\varepsilon$ with $s = \sigma\lVert\tilde x\rVert$ and
# $\varepsilon \sim \mathcal N(0, I_{10})$, so, conditioning on the true class's noise $\varepsilon_y = z$,
#
# $$\Pr_{W\sim Q}\big[\hat y(x) = y\big] = \int \varphi(z) \prod_{j\ne y} \Phi\Big(\frac{\ell_y - \ell_j}{s} + z\Big)\,dz,$$
#
# a smooth one-dimensional integral that Gauss–Hermite quadrature with `gibbs_nodes` nodes evaluates to
# near machine precision.

# %%
def with_bias(S: torch.Tensor) -> torch.Tensor:
    return torch.cat([S, torch.ones(len(S), 1, dtype=S.dtype)], 1)


def fit_probe(l2: float) -> torch.Tensor:
    """Multinomial logistic regression, mean cross-entropy + l2·‖W‖², full-batch L-BFGS in float64."""
    W = torch.zeros(X_tr.shape[1], 10, dtype=torch.float64, requires_grad=True)
    lbfgs = torch.optim.LBFGS([W], lr=1, max_iter=500, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        loss = F.cross_entropy(X_tr @ W, y_tr) + l2 * (W**2).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)
    return W.detach()


nodes, weights = np.polynomial.hermite_e.hermegauss(P.gibbs_nodes)  # weight exp(−z²/2)
weights = weights / math.sqrt(2 * math.pi)


def gibbs_error(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, sigma: float) -> float:
    """Exact mean error of the Gibbs classifier Q = N(W, σ²I) on (X, y), by Gauss–Hermite quadrature."""
    logits, yy = (X @ W).numpy(), y.numpy()
    margin = logits[np.arange(len(yy)), yy][:, None] - logits  # ℓ_y − ℓ_j, zero at j = y
    s = sigma * X.norm(dim=1).numpy()[:, None]
    others = np.arange(10)[None, :] != yy[:, None]
    log_phi = log_ndtr(margin[:, None, :] / s[:, :, None] + nodes[None, :, None])  # (n, nodes, classes)
    p_correct = np.exp(np.where(others[:, None, :], log_phi, 0.0).sum(2)) @ weights
    return float(1 - p_correct.mean())


S_tr, S_te, y_tr, y_te = w0.S_tr, w0.S_te, w0.y_tr, w0.y_te  # the first seed
X_tr, X_te = with_bias(S_tr), with_bias(S_te)
sigmas = np.logspace(-3, 1, 17)
sigma_priors = np.logspace(-2, 2, 17)
grid_size = len(P.probe_l2s) * len(sigmas) * len(sigma_priors)
probe_rows, probe_fits, W_hats = [], [], {}
for l2 in P.probe_l2s:
    W_hats[l2] = W_hat = fit_probe(l2)
    D, norm2 = W_hat.numel(), float((W_hat**2).sum())
    probe_fits.append({"l2": l2, "train_err": float(((X_tr @ W_hat).argmax(1) != y_tr).double().mean()),
                       "test_err": float(((X_te @ W_hat).argmax(1) != y_te).double().mean()), "norm2": norm2})
    for sigma in sigmas:
        gibbs_tr = gibbs_error(W_hat, X_tr, y_tr, sigma)
        sp2, s2 = sigma_priors**2, sigma**2
        kl = 0.5 * (D * s2 / sp2 + norm2 / sp2 - D + D * np.log(sp2 / s2))
        bounds = kl_inverse_upper(gibbs_tr, (kl + math.log(2 * math.sqrt(P.n_train) * grid_size / P.delta)) / P.n_train)
        j = int(np.argmin(bounds))
        probe_rows.append({"l2": l2, "sigma": sigma, "sigma_prior": sigma_priors[j], "kl_nats": kl[j],
                           "gibbs_train_err": gibbs_tr, "bound": bounds[j]})
probe = pd.DataFrame(probe_rows)
probe_fits = pd.DataFrame(probe_fits).set_index("l2")
best_l2 = probe.loc[probe.bound.idxmin(), "l2"]
best_curve = probe[probe.l2 == best_l2].copy()  # the test set is touched only for the chosen penalty, to report
best_curve["gibbs_test_err"] = [gibbs_error(W_hats[best_l2], X_te, y_te, sg) for sg in best_curve.sigma]
best_probe = best_curve.loc[best_curve.bound.idxmin()]
best_fit = probe_fits.loc[best_l2]
print(probe_fits.round(4).to_string())
print(f"best probe bound {best_probe.bound:.3f} at λ = {best_probe.l2:g}, σ = {best_probe.sigma:.3g}, "
      f"σ_p = {best_probe.sigma_prior:.3g} (KL {best_probe.kl_nats:.0f} nats); Gibbs test error "
      f"{best_probe.gibbs_test_err:.3f}, mean-weight probe test error {best_fit.test_err:.3f}")

# %% [markdown]
# ## Results
#
# **Figure 1.** Training error, test error and the Occam-kl bound under each prior for the hand-crafted
# "a ⟨digit⟩" prompts and the final state of each greedy search (bars: mean over the seeds, whiskers:
# one standard deviation). Look for the test error sitting just above the training error (the search
# does not overfit), and for how far each prior's bound sits above it: the gap between the two bound
# bars of one prompt set is what the language model's knowledge of the captions is worth.

# %%
NICE = {"lm": "LM-prior bound", "uniform": "uniform-prior bound"}
fig1 = []
for pool in pools:
    picks = [("'a <digit>'", pool[pool.name == "'a <digit>'"].iloc[0])] + [
        (f"{src}\n(final)", final_state(pool, src)) for src in ("plain greedy", "LM-bound greedy", "uniform-bound greedy")]
    for label, r in picks:
        for col, measure in (("train_err", "training error"), ("test_err", "test error"),
                             ("bound_lm", NICE["lm"]), ("bound_uniform", NICE["uniform"])):
            fig1.append({"prompt set": label, "measure": measure, "error": r[col], "seed": r.seed})
fig1 = pd.DataFrame(fig1)
fig, ax = gu.subplots(width=9, height=4.5)
sns.barplot(data=fig1, x="prompt set", y="error", hue="measure", errorbar="sd", ax=ax)
ax.set_ylim(0, min(1.0, 1.3 * fig1.error.max()))
ax.legend(ncols=4, fontsize="small", loc="upper center")
gu.label(ax, "prompt set", "error rate (chance: 0.9)",
         f"Errors and bounds, {P.n_seeds} seeds (n = {P.n_train}, δ = {P.delta})")

# %% [markdown]
# **Figure 2.** Each prior's bound against the test error for every candidate of the first seed's pool,
# with the identity line; the star is the candidate that prior selects. Look for the language-model
# prior's points lying closer above $y = x$ than the uniform prior's, and for the star sitting at the
# low end of the test-error axis.

# %%
fig, axes = gu.subplots(ncols=2, width=6, height=5.5)
lim = [max(0.0, pool0.test_err.min() - 0.03), min(1.0, max(pool0.bound_lm.max(), pool0.bound_uniform.max()) + 0.02)]
for ax, pn in zip(axes, ("lm", "uniform")):
    sns.scatterplot(data=pool0, x="test_err", y=f"bound_{pn}", hue="source", style="source", s=45, ax=ax)
    sel = pool0.loc[pool0[f"bound_{pn}"].idxmin()]
    ax.scatter([sel.test_err], [sel[f"bound_{pn}"]], marker="*", s=300, color="k", zorder=5, label="selected")
    ax.plot(lim, lim, color="grey", linestyle="--", linewidth=1, label="bound = test error")
    ax.set(xlim=lim, ylim=lim)
    ax.legend(fontsize="x-small")
    tau_pn = kendalltau(pool0[f"bound_{pn}"], pool0.test_err)[0]
    gu.label(ax, "test error", f"Occam-kl bound, {NICE[pn].split()[0]} prior",
             f"{NICE[pn]} (seed {w0.seed}): τ = {tau_pn:.2f}, selected gap {sel[f'bound_{pn}'] - sel.test_err:.3f}")

# %% [markdown]
# **Figure 3.** What the two priors charge for one class prompt, against its length (first seed's bigram
# model). Grey: prompts sampled from the bigram model itself; orange: random word strings; blue: the
# class prompts of the candidate pool. The dashed line is the uniform prior's charge,
# $\ln L_{\max} + \ln\binom{V+L-1}{L}$. Look for the pool's prompts costing less than the uniform price:
# that is the only way the language-model prior can tighten the bound, and random strings show it can
# also cost more.

# %%
lm0 = BigramPrior(w0.LOGP)
rng_lm = gu.rng(P.seed + 5)


def sample_lm(logp: np.ndarray, n: int) -> list:
    """n prompts drawn from the bigram model (all n chains advanced together; empty ones dropped)."""
    cum = np.cumsum(np.exp(logp), axis=1)
    cum /= cum[:, -1:]
    seqs, w_, alive = [], np.full(n, PAD), np.ones(n, dtype=bool)
    for _ in range(P.max_prompt_len):
        w_ = np.where(alive, (cum[w_] < rng_lm.random(n)[:, None]).sum(1), PAD)
        alive &= w_ != PAD
        seqs.append(np.where(alive, w_, PAD))
    return [[int(v) for v in row if v != PAD] for row in np.stack(seqs, 1) if row[0] != PAD]


samples = sample_lm(w0.LOGP, 300)
random_strings = [list(rng_lm.integers(0, V, size=int(rng_lm.integers(1, P.max_prompt_len + 1)))) for _ in range(300)]
pool_prompts = {tuple(t) for p in pool0.prompts for t in p}
prior_df = pd.DataFrame(
    [{"length": len(t), "−ln P": lm0.seq_cost(t), "prompt": "sampled from the bigram model"} for t in samples]
    + [{"length": len(t), "−ln P": lm0.cost(t), "prompt": "random word string"} for t in random_strings]
    + [{"length": len(t), "−ln P": lm0.cost(t), "prompt": "class prompt in the pool"} for t in pool_prompts])
prior_df["length (jittered)"] = prior_df.length + gu.rng(P.seed + 6).uniform(-0.15, 0.15, len(prior_df))
fig, ax = gu.subplots(width=7, height=4.5)
sns.scatterplot(data=prior_df, x="length (jittered)", y="−ln P", hue="prompt", style="prompt",
                alpha=0.7, palette=["0.6", "C1", "C0"], ax=ax)
lengths = np.arange(1, P.max_prompt_len + 1)
ax.plot(lengths, [UniformPrior().cost([0] * L) for L in lengths], color="k", linestyle="--", linewidth=1,
        label="uniform prior")
ax.legend(fontsize="small")
gu.label(ax, "prompt length (words)", "−ln P(prompt) under the bigram prior (nats)",
         "What the language-model prior charges")

# %% [markdown]
# **Figure 4.** The two deciding measurements on every seed: the treatment prior's advantage (how much
# lower a test error it certifies than the control prior) and its selection regret (test error of the
# prompt it selects minus the best test error in the pool), beside the regret of selecting by training
# error. Dashed lines: the rule's thresholds. Look for the advantage above its line on every seed and the
# regret below its line.

# %%
fig, axes = gu.subplots(ncols=2, width=5.5, height=4)
sns.stripplot(x=["all seeds"] * len(per_seed), y=per_seed.advantage, ax=axes[0], size=8, color="C0")
axes[0].axhline(0.01, color="grey", linestyle="--", linewidth=1)
axes[0].axhline(0, color="k", linewidth=0.8)
gu.label(axes[0], "seeds", f"advantage of the {TREATMENT} prior", "smallest control bound − smallest treatment bound")
regrets = per_seed.melt(id_vars="seed", value_vars=["t_regret", "train_selected_regret"], var_name="chosen by",
                        value_name="regret")
regrets["chosen by"] = regrets["chosen by"].map({"t_regret": f"{TREATMENT}-prior bound",
                                                 "train_selected_regret": "training error"})
sns.stripplot(data=regrets, x="chosen by", y="regret", ax=axes[1], size=8, hue="chosen by", legend=False)
axes[1].axhline(0.02, color="grey", linestyle="--", linewidth=1)
gu.label(axes[1], "selection by", "test error − best test error in the pool", "Selection regret per seed")

# %% [markdown]
# **Figure 5.** The continuous baseline (first seed): for each L2 penalty $\lambda$, the probe's
# PAC-Bayes-kl bound against the posterior width $\sigma$ (best prior width at each); the Gibbs test error
# of the $\lambda$ with the best bound in grey; the bound of the prompt the treatment prior selects
# (dashed) and the best-bound probe's mean-weight test error (dotted). Look for the trade-off that keeps
# the probe's bound high: a narrow posterior keeps the Gibbs error low but pays a large KL, a wide one
# pays little KL but its random weights misclassify.

# %%
plot_probe = probe.assign(**{"L2 penalty λ": probe.l2.map(lambda v: f"{v:g}")})
fig, ax = gu.subplots(width=10, height=4.5)
sns.lineplot(data=plot_probe, x="sigma", y="bound", hue="L2 penalty λ", marker="o", markersize=4, ax=ax,
             palette="viridis")
ax.plot(best_curve.sigma, best_curve.gibbs_test_err, color="0.5", linestyle="-.",
        label=f"Gibbs test error (λ = {best_l2:g})")
ax.axhline(per_seed.t_bound.iloc[0], color="C3", linestyle="--", linewidth=1.2,
           label=f"selected prompt: Occam-kl bound ({TREATMENT} prior)")
ax.axhline(best_fit.test_err, color="k", linestyle=":", linewidth=1.2, label="probe (mean weights): test error")
ax.set(xscale="log", ylim=(0, 1.02))
ax.legend(fontsize="small", title="bound for each L2 penalty λ,\nand references", title_fontsize="small",
          loc="upper left", bbox_to_anchor=(1.01, 1))
gu.label(ax, "posterior width σ (log scale)", "error rate / bound", "Linear probe: Gaussian PAC-Bayes bound")

# %% [markdown]
# ## Verdict
#
# The rule was fixed before the first `cpu` run. $T$ = `prior` (the language model in the main run),
# $C$ = the other prior; each statistic is measured on every seed and summarised by its mean and a 95 %
# Student-t interval over the `n_seeds` seeds.
#
# - **tight**: the gap of $h_T$ (bound − test error) has its upper end ≤ 0.10, and the mean bound is
#   < 0.5 (non-vacuous for a 10-way task, where chance error is 0.9);
# - **what the prior buys**: the advantage of $T$ over $C$ has its lower end ≥ 0.01 (at least a point
#   of certified test error, on the same candidates, each prior with its own bound-guided search);
# - **selection**: the regret of $h_T$ has its upper end ≤ 0.02 (the bound's choice is within two points
#   of the best candidate);
# - `supported` when all three hold; `contradicted` when the advantage's upper end is < 0.01 (the prior
#   does not buy even a point), or the regret's lower end is > 0.05 (the bound picks a clearly worse
#   prompt), or the gap's lower end is > 0.3 (the bound is loose);
#   `inconclusive` otherwise.
# - **instrument checks** (hold by construction when the code is right; a failure makes the verdict
#   inconclusive): no candidate's bound, under either prior, lies below its test error
#   (`bound_violations` = 0; the bound holds with probability $1-\delta$ per seed, and its slack here is
#   far above the test set's resolution); the kl inversion solves $\mathrm{kl}(\hat r\Vert B) = c$ to
#   $10^{-9}$; the kl form never exceeds the square-root form (Pinsker); and the encoder is usable (the
#   best candidate's mean test error < 0.5), without which nothing here is about prompts.
#
# Much of "tight" is arithmetic: given $\hat r$ and $-\ln P(h)$, the bound is a formula, and the gap is
# that formula's excess over $\hat r$ minus the generalization gap. That is why the rule does not rest on
# it alone: the advantage compares two priors on the same measured prompts, and the regret asks whether the
# bound's ranking matches the test set. In the falsification run ($T$ = uniform, $C$ = language model) the
# same measurements are read with the roles swapped, so it is `contradicted` exactly when the language
# model certifies clearly more than the uniform prior.
#
# Reported beside the rule: the plain greedy search's final state under both priors (the paper's "prompts
# generated through simple greedy search"), the regret of selecting by training error, Kendall's $\tau$
# between bound and test error over the pool, and the probe's bound (first seed).

# %%
def interval(col: str) -> dict:
    lo, hi = gu.t_interval(per_seed[col].to_numpy(float))
    return {"mean": float(per_seed[col].mean()), "ci_lo": lo, "ci_hi": hi}


statistics = {}
for col, name in (("t_gap", "gap"), ("advantage", "advantage"), ("t_regret", "regret")):
    statistics |= {f"{name}_{k}": v for k, v in interval(col).items()}
statistics |= {
    "bound_mean": per_seed.t_bound.mean(),
    "test_err_mean": per_seed.t_test_err.mean(),
    "train_err_mean": per_seed.t_train_err.mean(),
    "kl_nats_mean": per_seed.t_kl_nats.mean(),
    "control_bound_mean": per_seed.c_bound.mean(),
    "control_gap_mean": per_seed.c_gap.mean(),
    "control_regret_mean": per_seed.c_regret.mean(),
    "control_kl_nats_mean": per_seed.c_kl_nats.mean(),
    "train_selected_regret_mean": per_seed.train_selected_regret.mean(),
    "greedy_test_err_mean": per_seed.greedy_test_err.mean(),
    "greedy_bound_mean": per_seed.greedy_bound.mean(),
    "greedy_gap_mean": per_seed.greedy_gap.mean(),
    "greedy_control_bound_mean": per_seed.greedy_control_bound.mean(),
    "tau_mean": per_seed.tau.mean(),
    "n_candidates_mean": per_seed.n_candidates.mean(),
    "best_test_err_mean": per_seed.best_test_err.mean(),
    "bound_violations": int(per_seed.bound_violations.sum()),
    "kl_inversion_residual": float(per_seed.kl_inversion_residual.max()),
    "kl_above_sqrt": int(per_seed.kl_above_sqrt.sum()),
    "probe_test_err": float(best_fit.test_err),
    "probe_gibbs_test_err": float(best_probe.gibbs_test_err),
    "probe_bound": float(best_probe.bound),
    "pretrain_final_loss": per_seed.pretrain_final_loss.mean(),
}
tight = gu.all_of(gu.cond("gap_ci_hi", "<=", 0.10), gu.cond("bound_mean", "<", 0.5))
buys = gu.cond("advantage_ci_lo", ">=", 0.01)
selection = gu.cond("regret_ci_hi", "<=", 0.02)
RULE = gu.rule(
    supported=gu.all_of(tight, buys, selection),
    contradicted=gu.any_of(gu.cond("advantage_ci_hi", "<", 0.01), gu.cond("regret_ci_lo", ">", 0.05),
                           gu.cond("gap_ci_lo", ">", 0.3)),
    checks={"bound_holds_on_test": gu.cond("bound_violations", "<=", 0),
            "kl_inversion_exact": gu.cond("kl_inversion_residual", "<=", 1e-9),
            "kl_not_above_sqrt": gu.cond("kl_above_sqrt", "<=", 0),
            "encoder_usable": gu.cond("best_test_err_mean", "<", 0.5)},
)
print(f"treatment prior: {TREATMENT}; control prior: {CONTROL}")
print(pd.Series(statistics).round(4).to_string())

record = gu.report_verdict(
    chapter="prompt_pac_bayes", params=P, rule=RULE, statistics=statistics, seeds=SEEDS,
    headline=["gap_ci_hi", "advantage_mean", "advantage_ci_lo", "regret_ci_hi", "bound_mean", "test_err_mean"],
)

# %% [markdown]
# **Reading the verdict.** The three parts can fail separately, and the record keeps all of them.
# Tightness and near-best selection, if they hold under *both* priors, say only that this discrete
# hypothesis space is small next to $n$; the paper's cause is the language-model prior, and the
# advantage is the part that isolates it. Figure 3 shows what decides it here: under the bigram, a
# natural two-word prompt ("a seven") costs about what the uniform prior charges for the class word
# alone, and whether the language model can buy more depends on whether good classifiers need longer
# prompts (at `cpu`, Figure 1: the uniform prior's search stops after few insertions; the class word
# already classifies well). CLIP needs multi-token templates, and a uniform prior over its 49 408 tokens charges
# about 10.8 nats per token; the `gpu` profile moves toward that regime (1000 words, prompts of up to
# five), which the `cpu` profile cannot reach.
#
# ### Rule history
#
# - **Until this repair** (study card 26, one seed): `supported` when the greedy prompt's Occam-kl bound
#   − test error ≤ 0.10 with the bound < 0.5, and Kendall's τ between bound and test error over the
#   candidates ≥ 0.5; `contradicted` when that gap > 0.3. Its `cpu` verdict was **supported**: gap 0.071
#   (bound 0.160, test error 0.089), τ 0.80, in 22.9 s. It was replaced, following the review, because
#   (i) the cause the paper names, the language-model prior, was never separated from the mere smallness
#   of a discrete hypothesis space: there was no uniform-prior control; (ii) "tight" was close to
#   arithmetic, fixed by $n$ and $-\ln P$ once the search does not overfit; (iii) τ was carried by 60
#   random edits of the prompts, which spread test errors widely, while τ over the hand-crafted and greedy
#   states alone was mostly noise, and the paper's own use of the bound (pick the prompt with the best
#   bound) was reported but not gated; (iv) one seed.
# - **This rule** (above) was written and committed before its first `cpu` run, which gave
#   **contradicted**: the language-model prior's advantage over the uniform prior was 0.0020 (95 %
#   t-interval 0.0001 to 0.0039, upper end below 0.01), although both other parts held: gap 0.082
#   (upper end 0.089 ≤ 0.10; bound 0.165, test error 0.083) and selection regret 0.006 (upper end
#   0.0097 ≤ 0.02); checks all passed; 224 s on a heavily loaded machine (load average about 9 on 2 cores;
#   pretraining took 36 s per seed there against about 9 s measured earlier with less load). The
#   falsification run (`prior: uniform`) was **contradicted** too (advantage −0.0020, upper end −0.0001;
#   141 s), and in it the uniform prior's bound was as tight (gap upper end 0.093) and its choice as good
#   (regret upper end 0.0098): under the previous rule, which read only tightness and ranking, the
#   falsification run would have been `supported` as well. The rule is unchanged.

# %% [markdown]
# ## Faithfulness notes
#
# - **What changed in this repair.** A uniform prior over the same prompts is now the control, and the
#   `prior` parameter chooses which prior plays the treatment (the falsification run sets it to
#   `uniform`); each prior gets its own bound-guided greedy search over the same candidate pool; the
#   model-selection test is the paper's (does the prompt with the best bound have near-best test error?)
#   over hand-crafted prompts and search states only, with no random edits; the whole pipeline runs on
#   `n_seeds` seeds with t-intervals; the vocabulary grew from 60 to 200 words at `cpu` (and 1000 at
#   `gpu`), because the mechanism rests on a vocabulary large enough that knowing nothing about language
#   is expensive (CLIP has 49 408 tokens); the probe runs on the first seed only, as a reported contrast.
# - **No CLIP, no LLM.** The pretrained model and the language-model prior are built in the chapter at
#   toy scale (a 1-D CNN and a bag-of-words text encoder trained contrastively on generated captions; a
#   bigram model of those captions). The absolute numbers say nothing about CLIP on CIFAR or ImageNet;
#   what carries over is the structure of the argument: a discrete hypothesis, a language prior fitted
#   without the downstream labels, a point-mass Occam bound, and a greedy search on training data. A
#   bigram model of a loose caption grammar knows much less than LLaMA knows about English, so the
#   advantage it can buy over a uniform prior is smaller than the paper's.
# - **What this miniature cannot show.** Its text encoder is a bag of words and its class words alone
#   classify about as well as any template, so a prior that makes templates cheap has little to buy; in
#   CLIP, templates matter and the vocabulary is 250 times larger. A contradiction here says the paper's
#   cause is not at work in this miniature, not that it is absent from CLIP.
# - **The uniform control is the strongest of its kind.** It is uniform over bags of words, the distinct
#   classifiers of this bag-of-words encoder, not over word sequences; it is restricted to the lengths
#   the searches can reach; and its own search minimises its own bound. The language-model prior, for its
#   part, writes each prompt in its most probable word order, which is free for the same reason.
# - **The bound.** The chapter reports the kl (Langford–Seeger) form of the Occam bound and the
#   square-root form beside it. The paper writes its bound in McAllester's PAC-Bayes form; with a
#   point-mass posterior all of these reduce to training error plus a term in $-\ln P(h)/n$, and the kl
#   form is the tightest of them. The bound is valid for searched and for selected prompts because it holds
#   for all prompt sets at once; the priors are fixed (the bigram fitted on the pretraining captions)
#   before the labelled examples are drawn.
# - **One prompt per class.** As the study card asks, the hypothesis is a set of ten class prompts and
#   the prior charges all ten, which makes $-\ln P(h)$ about ten times a single prompt's cost; with CLIP,
#   the paper's prompts share a template and differ in the class name.
# - **Greedy search.** It starts from the class words and inserts the word that most improves its
#   objective, for `max_prompt_len` − 1 rounds over the classes. The plain search is the paper's simple
#   greedy search on training accuracy; the bound-guided searches stand for the paper's search
#   regularised by the language model's likelihood (the first author's write-up: "we make this more
#   explicit and guide the search toward hypotheses that generalize better by incorporating the KL term
#   into the greedy search"), here minimising the bound itself.
# - **Model selection.** The regret is measured against the smallest test error in a pool of tens of
#   candidates, which the test set's noise ($\sqrt{e(1-e)/n_{\text{test}}} \approx 0.004$) biases slightly
#   low, so the regret errs against the claim. With few, similar candidates Kendall's τ is mostly noise,
#   which is why it is reported and not gated.
# - **Captions.** The card's "noisy / clean" words were replaced by *rising / falling* (the shear's sign)
#   and *wide / narrow* (the padding): in MNIST-1D every signal gets the same noise levels, so noise is
#   not a per-signal transform argument that a caption could name. Captions have variable length, at
#   most `caption_len` tokens, so that the bigram model learns where sentences end and is a proper prior
#   over prompts of every length.
# - **The continuous baseline** is a linear probe on the frozen features, with $10(d+1)$ weights (330 at
#   `embed_dim` 32), far fewer than the fine-tuned CLIP the paper contrasts with; small linear models
#   can get non-vacuous PAC-Bayes bounds, so this contrast is weaker than the paper's, and it does not
#   enter the verdict. Its bound is the best over grids of L2 penalty, posterior width and prior width,
#   with the union bound paid; it covers the Gibbs (random-weight) classifier, and the deterministic
#   probe's test error is reported beside it and may well be lower than the prompt's.
# - **One thread.** The chapter runs torch on one CPU thread: its tensors are small, and on shared cores
#   two threads were several times slower than one. Results do not depend on it.
