# ---
# jupyter:
#   genbook:
#     claim: While a network learns, the per-example gradients of its loss are far more
#       coherent (alpha / alpha_perp) on real labels than on random labels of the same
#       inputs at equal training accuracy, although the same network fits both label
#       sets; and winsorized gradient averaging, at a matched step size, slows the fitting
#       of random labels more than the fitting of real ones.
#     'null':
#       label_noise: 1.0
#     null_reason: Replacing every label of the real-label run by a random one removes
#       the structure shared across examples that the paper names as the source of coherent
#       gradients, so both runs train on random labels.
#     paper: Chatterjee & Zielinski 2022, arXiv:2203.10036
#     part: theory
#     profiles:
#       gpu:
#         log_every: 50
#         n_probe: 2000
#         n_train: 4000
#         seeds: 5
#         steps: 10000
#         width: 1024
#         winsor_n: 1000
#         winsor_steps: 3000
#         winsor_width: 256
#       smoke:
#         log_every: 5
#         n_probe: 100
#         n_train: 500
#         seeds: 2
#         steps: 150
#         width: 128
#         winsor_n: 128
#         winsor_steps: 30
#         winsor_width: 16
#     title: Coherent gradients on real labels, incoherent on random ones
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
# # On the generalization mystery in deep learning: coherent gradients
#
# **Paper.** Satrajit Chatterjee and Piotr Zielinski, *On the Generalization Mystery in Deep Learning*,
# 2022 ([arXiv:2203.10036](https://arxiv.org/abs/2203.10036)).
#
# **Claim under test.** A network generalizes when the gradients of different training examples are
# *coherent*, when a step that helps one example also helps many others, and memorizes when they are
# not. The paper's coherence metric $\alpha$, read against its value $\alpha^\perp$ for mutually
# orthogonal gradients, should be much larger on real data than on the same inputs with random labels
# while the network is learning, even though the network can fit both. A second, causal claim: gradient
# descent that suppresses weak gradient directions by *robust averaging* of the per-example gradients
# (winsorizing them, or a median of means) should attenuate the fitting of random labels while leaving
# learning from real labels largely intact.
#
# **The paper's evidence** (ResNet-50 on ImageNet, coherence measured on a sample of 50 000 training
# examples; short quotes from the full text). On real labels $\alpha_m/\alpha_m^\perp$ "starts off low
# (around 1) in early training and then increases to a maximum (about 40)" within the first few epochs,
# returning to about 1 at the end of training; plotted against the training loss, "when the loss comes
# down, $\alpha_m/\alpha_m^\perp$ stays around 20". On random labels it starts near 1, "increases
# slightly (staying usually below 5)" and returns to about 1: "each example helps tens of other examples
# during training, whereas on random data, each example only helps one or two others". Other
# architectures and datasets (its Appendix E) show similar differences, but random-label coherence can be
# "surprisingly high for an extended period", most of all for AlexNet. The paper itself reads coherence
# *against the training loss*, that is at equal progress, which is what the rule below does. The numbers
# of its winsorized-GD experiments were not found (see the faithfulness notes for where we looked).
#
# **What is scaled down.** A ReLU MLP $40 \to 256 \to 256 \to 10$ on the first 1 000 training examples of
# MNIST-1D (a procedurally generated 1-d digit task) instead of ResNets on ImageNet; coherence on a probe
# of 500 training examples instead of 50 000; 1 000 SGD steps; 4 seeds. The winsorized-GD comparison runs
# on a smaller network and data subset still (`winsor_*` parameters), because robust averaging needs
# every per-example gradient coordinate at every step.

# %%
import math

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

import genutils as gu
from genutils import many

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; repetition s uses seed + s for its initialization, batch order and label draws
n_train = 1000  # training examples, the first ones of MNIST-1D's 4000
n_probe = 500  # m, the training examples on which coherence is measured
width = 256  # hidden units in each of the two hidden layers
steps = 1000  # SGD steps
batch_size = 128  # minibatch size (also the sample that winsorizing works across)
lr = 0.05  # SGD learning rate
momentum = 0.9  # SGD momentum
seeds = 4  # independent repetitions (initialization, batch order, random labelling)
log_every = 10  # steps between logged measurements (plus 25 log-spaced early steps)
label_noise = 0.0  # fraction of the real-label run's labels replaced by random ones (1 makes it a random-label run)
winsor_pct = 5.0  # c, the percent of per-example values clipped at each end
winsor_n = 256  # training examples of the winsorized-GD comparison
winsor_width = 32  # hidden width of the winsorized-GD comparison
winsor_steps = 300  # SGD steps of the winsorized-GD comparison

# %%
N_MNIST1D_TRAIN = 4000  # MNIST-1D as the paper of that dataset makes it: 4000 training, 1000 test examples
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_train=gu.Int(min=20, max=N_MNIST1D_TRAIN),
    n_probe=gu.Int(min=2),
    width=gu.Int(min=2),
    steps=gu.Int(min=10),
    batch_size=gu.Int(min=2),
    lr=gu.Float(gt=0),
    momentum=gu.Float(min=0, lt=1),
    seeds=gu.Int(min=1),
    log_every=gu.Int(min=1),
    label_noise=gu.Float(min=0, max=1),
    winsor_pct=gu.Float(gt=0, lt=50),
    winsor_n=gu.Int(min=2, max=N_MNIST1D_TRAIN),
    winsor_width=gu.Int(min=2),
    winsor_steps=gu.Int(min=2),
)
if P.n_probe > P.n_train:
    raise gu.ParameterError("n_probe", f"the probe is a subset of the training set: {P.n_probe} > n_train {P.n_train}")
if P.batch_size > P.n_train:
    raise gu.ParameterError("batch_size", f"must not exceed n_train {P.n_train}, got {P.batch_size}")
if P.batch_size > P.winsor_n:
    raise gu.ParameterError("winsor_n", f"must be at least batch_size {P.batch_size}, got {P.winsor_n}")
if P.log_every > P.steps:
    raise gu.ParameterError("log_every", f"must not exceed steps {P.steps}, got {P.log_every}")
device = gu.device()
seed_list = [P.seed + s for s in range(P.seeds)]
N_LOGSPACED = 25  # the previous rule's log-spaced steps, still logged so that its statistic can be reported
log_spaced = np.unique(np.round(np.logspace(0, math.log10(P.steps), N_LOGSPACED))).astype(int).tolist()
linear_steps = list(range(0, P.steps + 1, P.log_every)) + [P.steps]
log_steps = sorted({*linear_steps, *log_spaced})
print(f"logging at {len(log_steps)} steps ({len(set(linear_steps))} evenly spaced, every {P.log_every})")
P

# %% [markdown]
# ## Data: real, noisy and random labels on the same inputs
#
# MNIST-1D is generated offline by `genutils.mnist1d` (its paper's default: 4 000 training and 1 000 test
# signals of length 40, ten classes). The *random* labels of repetition $s$ are a fixed random permutation
# of the real training labels, so the class balance is unchanged and only the link between input and label
# is destroyed. The *real* labels can be made noisy: with `label_noise` = $q$, a random fraction $q$ of the
# examples have their labels permuted among themselves (by a generator of their own, so a different
# permutation from the random-label run's); $q = 1$, the falsification run, turns the real-label run into a
# second random-label run. Test accuracy is always measured against the real test labels.

# %%
x_all, y_all, x_test, y_test = (t.to(device) for t in gu.mnist1d())
x_train, y_true = x_all[:P.n_train], y_all[:P.n_train]


def shuffled(y: torch.Tensor, s: int) -> torch.Tensor:
    """Random labels for repetition s: the labels y permuted by a generator of its own."""
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(10_000 + s)).to(y.device)
    return y[perm]


def noisy(y: torch.Tensor, s: int, q: float) -> torch.Tensor:
    """The 'real' labels of repetition s: a random fraction q of them permuted among themselves."""
    g = torch.Generator().manual_seed(20_000 + s)
    chosen = torch.randperm(len(y), generator=g)[:round(q * len(y))]
    out = y.clone()
    out[chosen.to(y.device)] = y[chosen[torch.randperm(len(chosen), generator=g)].to(y.device)]
    return out


print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}; class counts "
      f"{torch.bincount(y_true, minlength=10).tolist()}; label_noise {P.label_noise:g}: "
      f"{float((noisy(y_true, P.seed, P.label_noise) != y_true).float().mean()):.2f} of the real-run labels changed")

# %% [markdown]
# ## Per-example gradients, written out
#
# The network is $f(x) = W_3\,\mathrm{relu}(W_2\,\mathrm{relu}(W_1 x + b_1) + b_2) + b_3$ with the
# per-example loss $\ell_i$ the cross-entropy of example $i$. Backpropagation gives, for each layer $l$, the
# error $\delta_{l,i} = \partial \ell_i / \partial z_{l,i}$ at the layer's pre-activation and the layer's
# input $a_{l-1,i}$; the per-example gradient of the layer is an outer product,
#
# $$g_i^{(W_l)} = \delta_{l,i}\, a_{l-1,i}^\top, \qquad g_i^{(b_l)} = \delta_{l,i},
# \qquad \delta_{3,i} = \mathrm{softmax}(f(x_i)) - e_{y_i}.$$
#
# All `2·seeds` networks of a run are held as stacked parameters (shape `(K, ...)`) and evaluated with
# batched matrix products, so one pass gives every network its own $\delta$s and activations.

# %%
def init_params(model_seeds: list[int], width: int) -> list[torch.Tensor]:
    """[W1, b1, W2, b2, W3, b3] stacked over models; model i is PyTorch's default nn.Linear init under seed i."""
    per_model = []
    for s in model_seeds:
        torch.manual_seed(s)
        layers = [nn.Linear(40, width), nn.Linear(width, width), nn.Linear(width, 10)]
        per_model.append([t.detach() for layer in layers for t in (layer.weight, layer.bias)])
    return [torch.stack(ts).to(device) for ts in zip(*per_model)]


def forward(params: list[torch.Tensor], x: torch.Tensor):
    """Outputs (K, n, 10), the inputs a_{l-1} of each layer and the hidden pre-activations; x is (n, 40) or (K, n, 40)."""
    k = params[0].shape[0]
    h = x.expand(k, *x.shape) if x.ndim == 2 else x
    inputs, pre = [], []
    for l in range(3):
        inputs.append(h)
        z = torch.baddbmm(params[2 * l + 1][:, None, :], h, params[2 * l].transpose(1, 2))
        if l < 2:
            pre.append(z)
            h = z.relu()
    return z, inputs, pre


def per_example_errors(params, out, pre, y) -> list[torch.Tensor]:
    """δ_l for l = 1, 2, 3, each (K, n, units): the gradient of each example's own loss at each pre-activation."""
    d3 = out.softmax(-1) - F.one_hot(y, 10).to(out.dtype)
    d2 = torch.bmm(d3, params[4]) * (pre[1] > 0)
    d1 = torch.bmm(d2, params[2]) * (pre[0] > 0)
    return [d1, d2, d3]


# %% [markdown]
# ## The coherence metric
#
# For a sample of $m$ examples with per-example gradients $g_1, \dots, g_m$ (all parameters
# concatenated), the paper's coherence is the expected dot product of two gradients drawn from the sample
# over the expected squared norm of one,
#
# $$\alpha_m = \frac{\mathbb E_{i,j}[g_i\cdot g_j]}{\mathbb E_i[g_i \cdot g_i]}
#   = \frac{\lVert \tfrac1m\sum_i g_i\rVert^2}{\tfrac1m\sum_i \lVert g_i\rVert^2},
# \qquad \alpha_m^\perp = \frac1m .$$
#
# $\alpha_m^\perp$ is the value when the gradients are mutually orthogonal (with equal norms), so
# $\alpha_m/\alpha_m^\perp = m\,\alpha_m$ runs from 1 (every example on its own) to $m$ (all gradients
# identical): roughly, the number of examples in the sample that a step along one example's gradient
# helps. Neither term needs the $m$ gradients stored: the numerator is the squared norm of the ordinary
# mean gradient, and with outer-product gradients $\lVert\delta a^\top\rVert_F^2 = \lVert\delta\rVert^2
# \lVert a\rVert^2$, so
#
# $$\lVert g_i\rVert^2 = \sum_l \lVert\delta_{l,i}\rVert^2\,\big(\lVert a_{l-1,i}\rVert^2 + 1\big).$$

# %%
def coherence(params, x, y) -> torch.Tensor:
    """α_m / α_m^⊥ = m·α_m of every model on the sample (x, y); y is (K, m)."""
    out, inputs, pre = forward(params, x)
    m = y.shape[1]
    mean_sq = torch.zeros(y.shape[0], device=y.device)
    norms_sq = torch.zeros(y.shape, device=y.device)
    for d, a in zip(per_example_errors(params, out, pre, y), inputs):
        mean_sq += (torch.bmm(d.transpose(1, 2), a) / m).square().sum((1, 2)) + d.mean(1).square().sum(1)
        norms_sq += d.square().sum(-1) * (a.square().sum(-1) + 1)
    return m * mean_sq / norms_sq.mean(1)


# %% [markdown]
# A check of the algebra against autograd: `torch.func` computes the per-example gradients of a plain
# `nn.Sequential` with the same weights (vmap over `grad`), and both the gradients and $m\alpha_m$ must
# agree (to a relative 1e-4; the verdict's instrument checks read these two errors).

# %%
def check_against_torch_func(n_check: int = 16) -> dict[str, float]:
    params = init_params([P.seed], P.width)
    x, y = x_train[:n_check], y_true[:n_check]
    net = nn.Sequential(nn.Linear(40, P.width), nn.ReLU(), nn.Linear(P.width, P.width), nn.ReLU(), nn.Linear(P.width, 10))
    names = [n for n, _ in net.named_parameters()]
    theta = {n: p[0] for n, p in zip(names, params)}

    def loss_one(theta, xi, yi):
        return F.cross_entropy(functional_call(net, theta, (xi[None],)), yi[None])

    reference = vmap(grad(loss_one), in_dims=(None, 0, 0))(theta, x, y)
    out, inputs, pre = forward(params, x)
    ours = []
    for d, a in zip(per_example_errors(params, out, pre, y[None]), inputs):
        ours += [torch.einsum("kno,kni->noi", d, a), d[0]]
    flat_ref = torch.cat([reference[n].flatten(1) for n in names], 1)
    flat_ours = torch.cat([g.flatten(1) for g in ours], 1)
    alpha_ref = n_check * flat_ref.mean(0).square().sum() / flat_ref.square().sum(1).mean()
    err = (flat_ours - flat_ref).abs().max().item() / flat_ref.abs().max().item()
    alpha_ours = coherence(params, x, y[None]).item()
    print(f"per-example gradients: max relative difference {err:.2e}; m·α: {alpha_ours:.5f} (ours) vs "
          f"{alpha_ref.item():.5f} (torch.func)")
    return {"grad_check_rel_err": err, "alpha_check_rel_err": abs(alpha_ours / alpha_ref.item() - 1)}


instrument = check_against_torch_func()  # enters the verdict as an instrument check

# %% [markdown]
# ## Training: SGD, with plain, winsorized or norm-matched averaging
#
# SGD with momentum (PyTorch's rule: $v \leftarrow \mu v + \hat g$, $\theta \leftarrow \theta - \eta v$) on
# minibatches of `batch_size`, each network drawing its own batch order from its seed (`many.batch_order`);
# the real- and random-label networks of one repetition share initialization and batch order, so they
# differ only in the labels. The batch gradient $\hat g$ is one of three:
#
# - **plain**: the mean of the per-example gradients;
# - **winsorized** (the paper's robust averaging): for every parameter coordinate separately, the $B$
#   per-example values of the minibatch are clipped to their $c$-th and $(100-c)$-th percentiles (here:
#   the $(k{+}1)$-th smallest and largest values, $k=\lfloor cB/100\rfloor$) before averaging. A direction
#   that only a few examples push along, as memorizing one label needs, is cut back; a direction that many
#   examples share survives;
# - **norm-matched plain** (the control): the plain mean, rescaled tensor by tensor to the norm that the
#   winsorized mean has at the same point. Clipping also shortens the step, and a shorter step alone
#   slows fitting; this arm takes the plain *direction* with the winsorized *step length*, so a difference
#   between it and the winsorized arm is due to which directions winsorizing suppresses, not to its step
#   size.

# %%
MODES = ("plain SGD", "winsorized", "norm-matched plain")


def winsorized_mean(g: torch.Tensor, k: int) -> torch.Tensor:
    """Mean over the last axis after clipping each row to its (k+1)-th smallest and largest values."""
    if k == 0:
        return g.mean(-1)
    hi = g.topk(k + 1, dim=-1).values[..., -1:]
    lo = g.topk(k + 1, dim=-1, largest=False).values[..., -1:]
    return torch.clamp(g, lo, hi).mean(-1)


def batch_gradient(deltas, inputs, k: int, mode: torch.Tensor | None):
    """[gW1, gb1, gW2, gb2, gW3, gb3] for each model by its mode (index into MODES; None: all plain).

    Also returns, per model, the global norm of the winsorized mean over that of the plain mean (or None).
    """
    plain = []
    for d, a in zip(deltas, inputs):
        plain += [torch.bmm(d.transpose(1, 2), a) / d.shape[1], d.mean(1)]
    if mode is None:
        return plain, None
    robust = []
    for d, a in zip(deltas, inputs):  # every per-example gradient coordinate, batch last: (K, out, in, B)
        robust += [winsorized_mean(torch.einsum("kbo,kbi->koib", d, a), k), winsorized_mean(d.transpose(1, 2), k)]
    grads, sq_plain, sq_robust = [], 0.0, 0.0
    for gp, gr in zip(plain, robust):
        shape = (-1,) + (1,) * (gp.ndim - 1)
        n_plain, n_robust = gp.flatten(1).norm(dim=1), gr.flatten(1).norm(dim=1)
        matched = gp * (n_robust / n_plain.clamp_min(1e-30)).view(shape)
        m = mode.view(shape)
        grads.append(torch.where(m == 0, gp, torch.where(m == 1, gr, matched)))
        sq_plain, sq_robust = sq_plain + n_plain.square(), sq_robust + n_robust.square()
    return grads, (sq_robust / sq_plain.clamp_min(1e-30)).sqrt()


def train(x, y, model_seeds, width, n_steps, record, record_at, desc, mode=None, pct=0.0):
    """Train K = len(model_seeds) networks on (x, y[i]) with SGD; record(params, step) -> rows at record_at.

    Returns the recorded rows and, when `mode` is given, each model's mean step shrink (winsorized / plain norm).
    """
    params = init_params(model_seeds, width)
    velocity = [torch.zeros_like(p) for p in params]
    orders = [many.batch_order(x.shape[0], P.batch_size, torch.Generator().manual_seed(s)) for s in model_seeds]
    k_clip = math.floor(pct / 100 * P.batch_size)
    rows, wanted, models = [], set(record_at), torch.arange(len(model_seeds), device=device)[:, None]
    shrink = torch.zeros(len(model_seeds), device=device)
    for t in gu.progress(range(n_steps + 1), desc=desc):
        if t in wanted:
            rows += record(params, t)
        if t == n_steps:
            break
        idx = torch.stack([next(o) for o in orders]).to(device)
        out, inputs, pre = forward(params, x[idx])
        deltas = per_example_errors(params, out, pre, y[models, idx])
        grads, ratio = batch_gradient(deltas, inputs, k_clip, mode)
        if ratio is not None:
            shrink += ratio / n_steps
        for p, v, g in zip(params, velocity, grads):
            v.mul_(P.momentum).add_(g)
            p.sub_(P.lr * v)
    return pd.DataFrame(rows), shrink.cpu().numpy()


@torch.no_grad()
def accuracy(params, x, y) -> torch.Tensor:
    """Accuracy of each model; y is (K, n) or (n,) shared."""
    return (forward(params, x)[0].argmax(-1) == y).float().mean(-1)


# %% [markdown]
# ## The main run: coherence over training, real versus random labels
#
# For each repetition, one network on the real labels (noisy when `label_noise` > 0) and one on the random
# labels, trained together with plain SGD. Every `log_every` steps (and at 25 log-spaced early steps) we
# measure training accuracy (on the labels it is trained on), test accuracy, and $m\alpha_m$ on the probe:
# the first `n_probe` training examples with the labels of that network.

# %%
labels = ["real", "random"] * P.seeds
model_seeds = [s for s in seed_list for _ in range(2)]
y_main = torch.stack([noisy(y_true, s, P.label_noise) if lab == "real" else shuffled(y_true, s)
                      for lab, s in zip(labels, model_seeds)])


def record_main(params, t):
    train_acc = accuracy(params, x_train, y_main)
    test_acc = accuracy(params, x_test, y_test)
    coh = coherence(params, x_train[:P.n_probe], y_main[:, :P.n_probe])
    return [{"step": t, "seed": s, "labels": lab, "train accuracy": float(a), "test accuracy": float(b),
             "coherence": float(c)} for s, lab, a, b, c in zip(model_seeds, labels, train_acc, test_acc, coh)]


main, _ = train(x_train, y_main, model_seeds, P.width, P.steps, record_main, log_steps, "SGD, real and random")
main[main.step.isin(linear_steps[::max(1, len(linear_steps) // 10)])].pivot_table(
    index="step", columns="labels", values=["coherence", "train accuracy"]).round(3)

# %% [markdown]
# ## Results
#
# The *learning phase* of a repetition is the stretch before its real-label network first reaches 90%
# training accuracy (the card's definition); it is shaded in Figure 1 (up to the median over repetitions
# of that step).
#
# **Figure 1.** Left: $\alpha_m/\alpha_m^\perp$ against step (mean and range over repetitions; the dotted
# line at 1 is orthogonal gradients). Right: training and test accuracy. Look for real-label coherence
# above the random-label one while the real-label network learns, for how much of the gap is already
# there at step 0 (before any training), and for the random-label network still reaching 100% training
# accuracy later (it memorizes) with test accuracy at chance.

# %%
def first_reach(df: pd.DataFrame, level: float) -> float:
    hit = df[df["train accuracy"] >= level].step
    return float(hit.min()) if len(hit) else math.inf


def log_ticks(ax) -> None:
    """Plain numbers (0.5, 1, 2, 5 ...) on a logarithmic y axis."""
    lo, hi = ax.get_ylim()
    ticks = [v for v in (0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 200, 500, 1000, 2000)
             if lo <= v <= hi]
    ax.set_yticks(ticks, [f"{v:g}" for v in ticks])
    ax.minorticks_off()


t90 = {s: first_reach(main[(main.seed == s) & (main.labels == "real")], 0.9) for s in seed_list}
shade_end = float(np.median(list(t90.values())))
plot = main.assign(**{"step + 1": main.step + 1})
fig, axes = gu.subplots(ncols=2, width=6, height=4.2)
sns.lineplot(data=plot, x="step + 1", y="coherence", hue="labels", hue_order=["real", "random"],
             errorbar=("pi", 100), ax=axes[0])
axes[0].axhline(1, color="grey", linestyle=":", linewidth=1)
axes[0].set(xscale="log", yscale="log")
log_ticks(axes[0])
gu.label(axes[0], "SGD step + 1 (log scale)", "coherence  α_m / α_m⊥  (log scale)", f"Coherence on {P.n_probe} training examples")
acc = plot.melt(id_vars=["step + 1", "seed", "labels"], value_vars=["train accuracy", "test accuracy"],
                var_name="measured", value_name="accuracy")
sns.lineplot(data=acc, x="step + 1", y="accuracy", hue="labels", hue_order=["real", "random"], style="measured",
             errorbar=("pi", 100), ax=axes[1])
axes[1].set(xscale="log", ylim=(0, 1.03))
gu.label(axes[1], "SGD step + 1 (log scale)", "accuracy", "Training and test accuracy")
for ax in axes:
    if math.isfinite(shade_end):
        ax.axvspan(1, shade_end + 1, color="C2", alpha=0.1, linewidth=0)
        ax.text(math.sqrt(shade_end + 1), 0.02, "learning phase", transform=ax.get_xaxis_transform(),
                ha="center", color="C2", fontsize="small")

# %% [markdown]
# ## Coherence at equal training accuracy
#
# Random labels are fitted later than real ones, and on a logarithmic time axis the first few steps,
# where the networks are still close to initialization, carry much of the picture. At initialization the
# real labels are already more coherent than shuffled ones, simply because inputs of one class resemble
# each other: the class-conditional means of the output-layer gradients $\delta_3 a^\top$ do not cancel.
# That is a property of the data at the starting point, not of learning. The deciding comparison is
# therefore made at *equal progress*, as the paper reads its own curves against the training loss: for
# each training-accuracy level $a \in \{0.2, 0.3, \dots, 0.9\}$ and each network, $c(a)$ is the coherence
# at the moment its training accuracy first reaches $a$ (interpolated geometrically between the two
# logged steps around that moment). For repetition $s$ the ratio is
#
# $$R_s = \exp\Big(\tfrac18 \sum_a \big[\log c_{real}(a) - \log c_{random}(a)\big]\Big),$$
#
# each level weighing the same, and step 0 (accuracy near the chance level 0.1) taking no part.

# %%
LEVELS = np.round(np.arange(0.2, 0.91, 0.1), 2)


def at_accuracy(run: pd.DataFrame, levels: np.ndarray) -> np.ndarray:
    """Coherence of one run at the first moment its training accuracy reaches each level (NaN if never)."""
    run = run.sort_values("step")
    acc, log_c = run["train accuracy"].to_numpy(), np.log(run["coherence"].to_numpy())
    out = np.full(len(levels), np.nan)
    for j, a in enumerate(levels):
        hit = np.flatnonzero(acc >= a)
        if not len(hit):
            continue
        i = hit[0]
        if i == 0:
            out[j] = log_c[0]
        else:
            w = (a - acc[i - 1]) / (acc[i] - acc[i - 1])
            out[j] = (1 - w) * log_c[i - 1] + w * log_c[i]
    return np.exp(out)


matched = pd.DataFrame([{"seed": s, "labels": lab, "train accuracy": a, "coherence": c}
                        for (s, lab), run in main.groupby(["seed", "labels"])
                        for a, c in zip(LEVELS, at_accuracy(run, LEVELS))])
matched.pivot_table(index="train accuracy", columns="labels", values="coherence").round(2)

# %% [markdown]
# **Figure 2.** Coherence against training accuracy (all logged points, those of one repetition joined in
# time order; large markers: the interpolated values at the matched levels, the dashed lines). Look for
# the real-label markers above the random-label ones at every level, not only at the lowest; if
# coherence only tracked the speed of fitting, the two clouds would coincide. Values below 1 mean that the
# per-example gradients partly cancel, as gradients pulling the same kind of input towards different labels
# do.

# %%
fig, ax = gu.subplots(width=7, height=4.2)
HUE = ["real", "random"]  # one colour per label set in every layer of the figure
sns.scatterplot(data=main, x="train accuracy", y="coherence", hue="labels", hue_order=HUE, s=8, alpha=0.4,
                linewidth=0, legend=False, ax=ax)
sns.lineplot(data=main.sort_values("step"), x="train accuracy", y="coherence", hue="labels", hue_order=HUE,
             units="seed", estimator=None, sort=False, legend=False, linewidth=0.6, alpha=0.4, ax=ax)
sns.scatterplot(data=matched, x="train accuracy", y="coherence", hue="labels", hue_order=HUE, style="seed", s=60,
                ax=ax)
for a in LEVELS:
    ax.axvline(a, color="grey", linestyle="--", linewidth=0.5)
ax.axhline(1, color="grey", linestyle=":", linewidth=1)
ax.set(yscale="log")
log_ticks(ax)
sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), frameon=False)
gu.label(ax, "training accuracy on the labels trained on", "coherence  α_m / α_m⊥  (log scale)",
         "Coherence against progress")

# %% [markdown]
# ## Suppressing weak gradient directions: winsorized SGD at a matched step size
#
# A smaller setting (first `winsor_n` training examples, hidden width `winsor_width`, `winsor_steps` steps),
# since winsorizing needs every per-example gradient coordinate at every step. Six networks per
# repetition, same initialization and batch order: real (noisy when `label_noise` > 0) or random labels,
# times plain, winsorized ($c$ = `winsor_pct`) or norm-matched plain averaging. The speed of fitting is
# the *mean training accuracy over 31 evenly spaced steps* of the run (the area under its training curve).
# The slowdown that winsorizing causes on a label set is the norm-matched arm's mean training accuracy
# minus the winsorized arm's; the paper's claim is that it is large on random labels and small on real
# ones, so the deciding quantity is the *selectivity*
#
# $$S_s = \text{slowdown}_{random} - \text{slowdown}_{real}$$
#
# per repetition. Against plain SGD instead of the norm-matched arm, a slowdown would mix the suppressed
# directions with the shorter step; it is reported for comparison.

# %%
w_labels = ["real", "random"]
w_cells = [(arm, s, lab) for arm in range(len(MODES)) for s in seed_list for lab in w_labels]
x_w, y_w_true = x_all[:P.winsor_n], y_all[:P.winsor_n]
y_w = torch.stack([noisy(y_w_true, s, P.label_noise) if lab == "real" else shuffled(y_w_true, s)
                   for _, s, lab in w_cells])
w_mode = torch.tensor([arm for arm, _, _ in w_cells], device=device)
w_steps = sorted({*np.linspace(0, P.winsor_steps, 31).round().astype(int).tolist()})


def record_winsor(params, t):
    tr, te = accuracy(params, x_w, y_w), accuracy(params, x_test, y_test)
    return [{"step": t, "seed": s, "labels": lab, "averaging": MODES[arm], "train accuracy": float(a),
             "test accuracy": float(b)} for (arm, s, lab), a, b in zip(w_cells, tr, te)]


winsor, w_shrink = train(x_w, y_w, [s for _, s, _ in w_cells], P.winsor_width, P.winsor_steps, record_winsor,
                         w_steps, "plain, winsorized, norm-matched", mode=w_mode, pct=P.winsor_pct)
speed = winsor.groupby(["averaging", "labels", "seed"])["train accuracy"].mean().rename("mean train accuracy")
final = winsor[winsor.step == P.winsor_steps].set_index(["averaging", "labels", "seed"])
w_summary = pd.concat([speed, final[["train accuracy", "test accuracy"]].add_prefix("final ")], axis=1)
w_summary.groupby(["averaging", "labels"]).mean().round(3)

# %% [markdown]
# **Figure 3.** Training accuracy against step on random labels (left, memorization) and on real labels
# (right, learning), for the three kinds of averaging (mean and range over repetitions). Look for the
# winsorized curve well below the norm-matched one on the left and close to it on the right; the gap
# between plain SGD and the norm-matched arm is what the shorter step alone does.

# %%
fig, axes = gu.subplots(ncols=2, width=5.5, height=4)
for ax, lab in zip(axes, ("random", "real")):
    sns.lineplot(data=winsor[winsor.labels == lab], x="step", y="train accuracy", hue="averaging",
                 hue_order=list(MODES), errorbar=("pi", 100), ax=ax)
    ax.set_ylim(0, 1.03)
    gu.label(ax, "SGD step", f"training accuracy ({lab} labels)",
             "Memorization of random labels" if lab == "random" else "Learning real labels")

# %% [markdown]
# ## Verdict
#
# The rule was fixed before the `cpu` run (it replaces the card's rule; see the rule history below).
# Per repetition: $R_s$, the real/random coherence ratio at equal training accuracy, and $S_s$, the
# selectivity of winsorizing at a matched step size. $R$ is the geometric mean of the $R_s$ with a 95%
# t-interval over repetitions (on $\log R_s$); $S$ is the mean of the $S_s$ with its t-interval.
#
# - `supported` when $R \ge 2$ and its interval lies above 1, both networks end at $\ge 0.99$ training
#   accuracy (mean over repetitions: the network can memorize, yet its gradients are far more coherent on
#   real labels at equal progress), and $S \ge 0.05$ with its interval above 0 (winsorizing costs the
#   random-label run at least 5 points more mean training accuracy than the real-label run, at the same
#   step size);
# - `contradicted` when $R \le 1.2$ (no coherence gap at equal progress) or $S \le 0$ (winsorizing, at a
#   matched step size, slows real labels as much as random ones);
# - `inconclusive` otherwise. Instrument checks: the per-example gradients and $m\alpha_m$ agree with
#   `torch.func` to a relative 1e-4 (a failure makes the verdict inconclusive).
#
# Reported beside the verdict, not deciding: the ratio at step 0 (`coherence_ratio_init`, the part of the
# gap present before training), the time-uniform ratio over the evenly spaced steps of the learning phase,
# and the previous rule's log-spaced statistic.

# %%
def t_bounds(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return gu.t_interval(values) if len(values) >= 2 else (math.nan, math.nan)


per_seed = []
for s in seed_list:
    run = main[main.seed == s].pivot(index="step", columns="labels", values="coherence")
    m_s = matched[matched.seed == s].pivot(index="train accuracy", columns="labels", values="coherence").dropna()
    uniform = [t for t in set(linear_steps) if 0 < t < t90[s]] or [t for t in set(linear_steps) if t > 0]
    old_phase = [t for t in {0, *log_spaced} if t < t90[s]]  # the previous rule's learning phase
    sp = w_summary["mean train accuracy"].xs(s, level="seed")
    slow = {lab: sp[("norm-matched plain", lab)] - sp[("winsorized", lab)] for lab in w_labels}
    per_seed.append({
        "seed": s, "t90": t90[s], "levels": len(m_s),
        "log_R": float(np.mean(np.log(m_s["real"]) - np.log(m_s["random"]))),
        "c_real_matched": float(np.exp(np.log(m_s["real"]).mean())),
        "c_random_matched": float(np.exp(np.log(m_s["random"]).mean())),
        "ratio_init": run.loc[0, "real"] / run.loc[0, "random"],
        "U_real": run.loc[uniform, "real"].mean(), "U_random": run.loc[uniform, "random"].mean(),
        "E_real_logspaced": run.loc[old_phase, "real"].mean(), "E_random_logspaced": run.loc[old_phase, "random"].mean(),
        "slowdown_random": slow["random"], "slowdown_real": slow["real"], "S": slow["random"] - slow["real"],
        "slowdown_random_vs_plain": sp[("plain SGD", "random")] - sp[("winsorized", "random")],
        "slowdown_real_vs_plain": sp[("plain SGD", "real")] - sp[("winsorized", "real")],
    })
per_seed = pd.DataFrame(per_seed)
curve = main.groupby(["step", "labels"]).coherence.mean().unstack()
last = main[main.step == P.steps].groupby("labels")[["train accuracy", "test accuracy", "coherence"]].mean()
log_lo, log_hi = t_bounds(per_seed.log_R)
s_lo, s_hi = t_bounds(per_seed.S)
w_end = w_summary.groupby(["averaging", "labels"]).mean()
shrink_winsorized = float(np.mean([r for (arm, _, _), r in zip(w_cells, w_shrink) if arm == 1]))
statistics = {
    "coherence_ratio": math.exp(per_seed.log_R.mean()),
    "coherence_ratio_lo": math.exp(log_lo),
    "coherence_ratio_hi": math.exp(log_hi),
    "coherence_ratio_min_seed": math.exp(per_seed.log_R.min()),
    "matched_levels_min": per_seed.levels.min(),
    "coherence_real_matched": math.exp(np.log(per_seed.c_real_matched).mean()),
    "coherence_random_matched": math.exp(np.log(per_seed.c_random_matched).mean()),
    "coherence_ratio_init": math.exp(np.log(per_seed.ratio_init).mean()),
    "coherence_ratio_time_uniform": per_seed.U_real.mean() / per_seed.U_random.mean(),
    "coherence_ratio_logspaced": per_seed.E_real_logspaced.mean() / per_seed.E_random_logspaced.mean(),
    "t90_mean": float(per_seed.t90.replace(math.inf, np.nan).mean()),
    "final_train_real": last.loc["real", "train accuracy"],
    "final_train_random": last.loc["random", "train accuracy"],
    "final_test_real": last.loc["real", "test accuracy"],
    "final_coherence_real": last.loc["real", "coherence"],
    "final_coherence_random": last.loc["random", "coherence"],
    "peak_coherence_real": curve["real"].max(),
    "peak_coherence_random": curve["random"].max(),
    "peak_step_random": float(curve["random"].idxmax()),
    "winsor_selectivity": per_seed.S.mean(),
    "winsor_selectivity_lo": s_lo,
    "winsor_selectivity_hi": s_hi,
    "winsor_slowdown_random": per_seed.slowdown_random.mean(),
    "winsor_slowdown_real": per_seed.slowdown_real.mean(),
    "winsor_slowdown_random_vs_plain": per_seed.slowdown_random_vs_plain.mean(),
    "winsor_slowdown_real_vs_plain": per_seed.slowdown_real_vs_plain.mean(),
    "winsor_step_shrink": shrink_winsorized,
    **{f"winsor_{lab}_final_train_{key}": w_end.loc[(arm, lab), "final train accuracy"]
       for arm, key in zip(MODES, ("plain", "winsorized", "matched")) for lab in w_labels},
    **{f"winsor_real_test_{key}": w_end.loc[(arm, "real"), "final test accuracy"]
       for arm, key in zip(MODES, ("plain", "winsorized", "matched"))},
    **instrument,
}
statistics = {k: float(v) for k, v in statistics.items()}
print(per_seed.round(3).to_string(index=False))

RULE = gu.rule(
    supported=gu.all_of(
        gu.cond("coherence_ratio", ">=", 2.0),
        gu.cond("coherence_ratio_lo", ">", 1.0),
        gu.cond("final_train_real", ">=", 0.99),
        gu.cond("final_train_random", ">=", 0.99),
        gu.cond("winsor_selectivity", ">=", 0.05),
        gu.cond("winsor_selectivity_lo", ">", 0.0),
    ),
    contradicted=gu.any_of(
        gu.cond("coherence_ratio", "<=", 1.2),
        gu.cond("winsor_selectivity", "<=", 0.0),
    ),
    checks={
        "per_example_gradients_match_torch_func": gu.cond("grad_check_rel_err", "<", 1e-4),
        "coherence_matches_torch_func": gu.cond("alpha_check_rel_err", "<", 1e-4),
    },
)
record = gu.report_verdict(
    chapter="coherent_gradients", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["coherence_ratio", "coherence_ratio_lo", "coherence_ratio_init", "final_train_random",
              "winsor_selectivity", "winsor_selectivity_lo"],
)

# %% [markdown]
# ## Rule history
#
# - **Card 18's rule (previous chapter, replaced).** $E$ = the mean of $\alpha_m/\alpha_m^\perp$ over the
#   logged steps before the real-label network reaches 90% training accuracy, logged steps spaced
#   logarithmically from step 0, for both label sets, averaged over 2 seeds; `supported` when
#   $E_{real} \ge 2E_{random}$ and both networks end at $\ge 0.99$ training accuracy, `contradicted` when
#   $E_{real} \le 1.2E_{random}$; the winsorized comparison reported, not gated. Its `cpu` verdict:
#   **supported**, ratio 2.88 ($E_{real}$ 2.77 vs $E_{random}$ 0.96), both networks fit to 1.0 (cpu
#   170 s on a loaded machine, about 30 s alone). Replaced after review: with log-spaced steps the first
#   few steps dominate $E$, and at step 0 real labels are already more coherent than shuffled ones
#   (class-conditional gradient means do not cancel), so the ratio was partly a property of the
#   initialization; the rule had no falsification run; and the winsorized claim, part of the paper's
#   causal argument, was not gated, while its only control (plain SGD) also differed in step size. The
#   statistic is still reported as `coherence_ratio_logspaced` (now over 4 seeds).
# - **This rule** (above), committed before its first `cpu` run (commit af1c622): the ratio at equal
#   training accuracy with a t-interval over 4 seeds, a `label_noise` falsification run, and winsorized
#   SGD gated against a norm-matched plain-SGD control. Its first `cpu` run, recorded here as history
#   (the verdict box above is the live result): **inconclusive**, $R$ = 1.62 (95% t-interval 1.32 to
#   1.98; matched coherence 2.48 real vs 1.53 random), below the pre-registered 2 although its interval
#   excludes 1; both networks fit to 1.0; $S$ = 0.064 (0.049 to 0.079), passing. Beside it, the step-0
#   ratio was 3.06 and the previous rule's log-spaced statistic 3.03: most of the old gap was present
#   before training, as the review suspected; at equal accuracy the real labels keep a clear lead only
#   at the low levels (0.2 to 0.4, where the random-label network's gradients partly cancel), and the
#   two are close from about 0.6 on (Figure 2). The falsification run ($q$ = 1): **contradicted**,
#   $R$ = 0.98 (0.84 to 1.15), $S$ = 0.004 (-0.011 to 0.019). Wall times 235 s and 302 s on a heavily
#   loaded 2-core machine (load average about 8). The rule was not changed after this run.

# %% [markdown]
# ## Faithfulness notes
#
# - **This repair.** (1) The deciding coherence ratio is read at equal training accuracy (levels 0.2 to
#   0.9, equally weighted) instead of over log-spaced steps, so the first steps and step 0 no longer
#   dominate; the step-0 ratio and a time-uniform ratio are reported beside it. (2) A `label_noise` knob
#   permutes a fraction of the real-label run's labels; the falsification run sets it to 1, which turns
#   the real-label runs (main and winsorized comparison) into random-label runs and should make the rule
#   fail. (3) Winsorized SGD is gated against plain SGD whose step is rescaled, tensor by tensor, to the
#   winsorized step's norm, since clipping every coordinate also shortens the step (`winsor_step_shrink`
#   is the mean ratio of the two norms). (4) The paper's numbers are quoted from its full text. (5) Four
#   seeds instead of two, with t-intervals.
# - A 3-layer MLP on MNIST-1D stands in for ResNets on ImageNet and CIFAR, and coherence is measured on
#   a probe of `n_probe` training examples rather than the paper's 50 000. The metric is the paper's
#   $\alpha_m/\alpha_m^\perp$ over all parameters, computed exactly (checked against `torch.func`
#   per-example gradients above), not estimated. Its scale depends on the probe size: if the gradients of
#   examples of one class were identical and orthogonal across classes, $m\alpha_m$ would be about $m/10$,
#   so values are comparable only at equal $m$ (the `smoke` profile, with $m$ = 100 and a narrower
#   network trained for 150 steps, tests only the code path).
# - Sizes differ from the study card's `cpu` row (2 000 examples, width 512, 3 000 steps): on this
#   shared 2-core machine that run took several minutes, so the chapter uses 1 000 examples, width 256 and
#   1 000 steps, chosen (in the previous version) from how fast plain SGD fits the random labels, before
#   any coherence was measured at them; the `gpu` profile keeps the card's larger sizes.
# - Equal training accuracy is measured on the labels each network is trained on; a level is reached
#   early by the real-label network and late by the random-label one, so the comparison pairs different
#   times, by design. Coherence between logged steps is interpolated geometrically.
# - The random-label network memorizes late, and its coherence can rise while it does
#   (`peak_coherence_random`, at step `peak_step_random`): the authors' follow-up study
#   (arXiv:2008.01217) reports random-label coherence in the hundreds on ImageNet, since the network finds
#   patterns shared by groups of randomly labelled examples. The matched-accuracy comparison includes that
#   stretch (levels up to 0.9), so it is a harder test than the previous one.
# - Winsorized SGD runs at a much smaller scale than the main experiment (`winsor_n` examples, width
#   `winsor_width`), because it materializes every per-example gradient coordinate at every step. The
#   percentile is taken as the $(k{+}1)$-th order statistic of the $B$ values with
#   $k = \lfloor cB/100 \rfloor$. The norm-matched control matches the step length at its own point of
#   the trajectory (its own per-example gradients, winsorized, give the length), not a replay of the
#   winsorized run's lengths. The slowdowns compare areas under training curves, which saturate: real
#   labels are fitted fast by every arm and leave less room to slow down, which favours a positive
#   selectivity; the falsification run, where both label sets are random, shows how much selectivity this
#   design yields without real structure. The paper's median-of-means variants (M3, RM3) are not run.
# - The paper's own numbers: the coherence values quoted at the top are from a stored copy of the full
#   text of arXiv:2203.10036 (a mirror at wenku.csdn.net, found with the `pages` search; the paper's
#   section and figure numbers were not visible in that excerpt, so none are cited). The numbers of its
#   winsorized-GD experiments were not found: searches of the stored pages for winsorized gradient descent
#   and robust averaging in this paper returned its abstract, the authors' blog post and other papers
#   (among them the authors' large-scale follow-up, arXiv:2003.07422), not that section.
# - Not reproduced: the paper's theory of algorithmic stability, its explanations of early stopping,
#   easy and hard examples and learning with noisy labels, and its per-layer coherence analysis. The
#   chapter shows a difference in coherence between real and random labels and a selective effect of
#   robust averaging at small scale; it does not show that coherence *causes* generalization at the
#   paper's scale.
