# ---
# jupyter:
#   genbook:
#     claim: On an underspecified task where a simple spurious block and a nonlinear
#       core explain the training labels equally well, the OOD accuracy of the head
#       that DivDis or D-BAT selects depends strongly on the spurious ratio of the unlabeled
#       data, with method-specific sweet spots, and more heads do not recover what two
#       heads lose.
#     'null':
#       train_spurious_ratio: 0.5
#     null_reason: With the spurious block independent of the label in the training
#       data the task is no longer underspecified, so there are no training-equivalent
#       hypotheses for the unlabeled data to arbitrate between, the mechanism behind
#       the sensitivity.
#     paper: Benoit, Jiang, Atanov, Kar, Rigotti & Zamir 2024 (ICLR), arXiv:2312.16313
#     part: ood
#     profiles:
#       gpu:
#         div_weight_sweep:
#         - 0.1
#         - 0.3
#         - 1.0
#         - 3.0
#         - 10.0
#         many_heads: 16
#         n_test: 20000
#         n_train: 10000
#         n_unlabeled: 10000
#         ratios:
#         - 0.0
#         - 0.1
#         - 0.25
#         - 0.5
#         - 0.75
#         - 0.9
#         - 1.0
#         seeds: 10
#         steps: 4000
#         width: 256
#       smoke:
#         many_heads: 4
#         n_test: 1000
#         n_train: 500
#         n_unlabeled: 500
#         ratios:
#         - 0.0
#         - 0.5
#         - 0.9
#         seeds: 2
#         steps: 200
#         width: 64
#     title: Diversification - DivDis and D-BAT depend on the unlabeled data, more heads
#       do not help
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
# # Unraveling the key components of OOD generalization via diversification
#
# **Paper.** Harold Benoit, Liangze Jiang, Andrei Atanov, Oğuzhan Fatih Kar, Mattia Rigotti and Amir Zamir,
# *Unraveling the Key Components of OOD Generalization via Diversification*, ICLR 2024
# ([arXiv:2312.16313](https://arxiv.org/abs/2312.16313)).
#
# **Claim under test.** Diversification methods — DivDis (Lee et al. 2023) and D-BAT (Pagliardini et al. 2023) —
# train several hypotheses that agree on the labelled data and disagree on unlabeled data, then select one.
# The abstract: "(1) diversification methods are highly sensitive to the distribution of the unlabeled data used
# for diversification and can underperform significantly when away from a method-specific sweet spot … (4) in
# practice, the above pitfalls cannot be alleviated by increasing the number of diverse hypotheses." This
# chapter tests (1) and (4) on an underspecified task: the OOD accuracy of the selected head depends strongly on
# the spurious ratio $r$ of the unlabeled data, with different sweet spots for DivDis and D-BAT, and many heads
# do not recover what two heads lose away from the sweet spot. Claims (2)–(3) (architecture and pretraining,
# and their co-dependence with the data) are not tested here.
#
# **The paper's evidence.** Synthetic and real experiments (Waterbirds, Office-Home) in a common two-stage
# framework (diversify, then select); "using the second-best choice [of architecture/pretraining] leads to an up
# to 20% absolute drop in accuracy". The body of the paper, and so the location of the sweet spots in its
# synthetic figure, could not be read here (the search tool returns only the opening of the stored full text):
# the sweet spots are pre-registered from the losses' definitions (see the verdict section).
#
# **What is scaled down.** Waterbirds with ResNets becomes a dominoes-style vector task: a nonlinear *core* (an
# MNIST-1D signal, label = digit ≥ 5) beside a linearly separable *spurious block*; MLP trunks of width `width`;
# 2 heads, and `many_heads` for the heads test; `seeds` seeds trained as one stack.
#
# **Falsification run.** The cause the paper names is underspecification: two hypotheses explain the training
# data equally well, and the unlabeled data must arbitrate. With `train_spurious_ratio` = 0.5 the spurious block
# carries no label information in training, the core is the only solution, and the unlabeled data have nothing
# to arbitrate; the shortcut check fails by design, and the drops are printed so a reader sees flat curves too.

# %%
import itertools

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
seed = 0  # base seed; seed s uses seed + s for its data, initialisations and batches
n_train = 2000  # labelled training samples
n_unlabeled = 2000  # unlabeled samples per spurious ratio
n_select = 32  # labelled balanced samples for choosing a head
n_test = 4000  # balanced test samples
train_spurious_ratio = 1.0  # P(s equals y) in the labelled training data (0.5 removes the shortcut)
spurious_strength = 2.0  # amplitude of the spurious block along its direction
ratios = [0.0, 0.25, 0.5, 0.75, 0.9]  # spurious ratios r, the P(s equals y) of the unlabeled data
far_ratio = 0.9  # the ratio away from both sweet spots, for the heads test
many_heads = 8  # number of heads (models, for D-BAT) in the heads test
width = 128  # trunk width
steps = 800  # Adam steps per model
lr = 0.001  # Adam step size, every arm
div_weight = 1.0  # the diversity weights of both methods (fixed a priori, never tuned)
div_weight_sweep = []  # descriptive sweep of div_weight (empty: off)
seeds = 5  # independent runs

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_train=gu.Int(min=64),
    n_unlabeled=gu.Int(min=64),
    n_select=gu.Int(min=4),
    n_test=gu.Int(min=100),
    train_spurious_ratio=gu.Float(min=0.5, max=1),
    spurious_strength=gu.Float(min=0),
    ratios=gu.List(gu.Float(min=0, max=1), increasing=True),
    far_ratio=gu.Float(min=0, max=1),
    many_heads=gu.Int(min=3, max=32),
    width=gu.Int(min=4),
    steps=gu.Int(min=1),
    lr=gu.Float(gt=0),
    div_weight=gu.Float(min=0),
    div_weight_sweep=gu.List(gu.Float(min=0), min_len=0),
    seeds=gu.Int(min=2),
)
SWEET = {"DivDis": 0.5, "D-BAT": 0.0}
for r in (*SWEET.values(), P.far_ratio):
    if r not in P.ratios:
        raise gu.ParameterError("ratios", f"must contain the sweet spots 0.0 and 0.5 and far_ratio = {P.far_ratio}")
device = gu.device()
seed_list = [P.seed + s for s in range(P.seeds)]
S, BATCH = P.seeds, 128
P

# %% [markdown]
# ## Data: a core that needs a nonlinear feature, a spurious block that does not
#
# The **core** is an MNIST-1D signal (40 values, `genutils.domains`) with label $y = 1[\text{digit} \ge 5]$,
# rendered with less translation and background noise than MNIST-1D's defaults (`max_translation` 4,
# `corr_noise` 0.1; see the notes: at the defaults this MLP reaches only ≈ 0.70 on the core, below the card's own
# learnability check). The **spurious block** is 10 inputs $\pm$`spurious_strength`$\cdot u + N(0, 0.5^2 I)$ with
# $u$ a fixed unit vector per seed and the sign $s$, which agrees with $y$ with probability $r$
# (`genutils.domains.correlated_values`, exclusive, so $P(s = y) = r$ exactly). Splits:
#
# - labelled training data: `n_train` samples, $P(s = y)$ = `train_spurious_ratio` (1: both features explain the
#   labels, the task is underspecified);
# - unlabeled diversification data: `n_unlabeled` samples at each ratio $r$ in `ratios`;
# - head-selection data (DivDis's disambiguation step, used by both methods): `n_select` labelled samples, $s ⟂ y$;
# - test: `n_test` samples, $s ⟂ y$; the metric is the mean accuracy over the four $(y, s)$ groups (balanced
#   accuracy), the worst group reported beside it.

# %%
CORE_STYLE = domains.Style1D(max_translation=4, corr_noise=0.1)


def make_split(n: int, ratio: float, rng: np.random.Generator, u: np.ndarray) -> dict[str, torch.Tensor]:
    d = domains.domain1d(n, CORE_STYLE, rng)
    y = (d.y >= 5).long().numpy()
    s = domains.correlated_values(y, ratio, 2, rng, exclusive=True)
    block = (2 * s[:, None] - 1) * P.spurious_strength * u + 0.5 * rng.standard_normal((n, 10))
    return {"core": d.x, "block": torch.tensor(block, dtype=torch.float32), "y": torch.tensor(y),
            "s": torch.tensor(s)}


def seed_data(s: int) -> dict[str, dict[str, torch.Tensor]]:
    rng = np.random.default_rng(s)
    u = rng.standard_normal(10)
    u /= np.linalg.norm(u)
    splits = {"train": make_split(P.n_train, P.train_spurious_ratio, rng, u),
              "select": make_split(P.n_select, 0.5, rng, u), "test": make_split(P.n_test, 0.5, rng, u),
              **{f"unl{r}": make_split(P.n_unlabeled, r, rng, u) for r in P.ratios}}
    mu, sd = splits["train"]["core"].mean(0), splits["train"]["core"].std(0)
    for split in splits.values():
        split["x"] = torch.cat([(split["core"] - mu) / sd, split["block"]], 1)
    return splits


per_seed = [seed_data(s) for s in seed_list]
data = {name: {k: torch.stack([d[name][k] for d in per_seed]).to(device) for k in ("x", "y", "s")}
        for name in per_seed[0]}
print({name: tuple(v["x"].shape) for name, v in data.items()})

# %% [markdown]
# ## Models: one stack of trunks for all seeds
#
# A trunk is an MLP 50 → `width` → `width` (ReLU) with $K$ linear heads of two logits. The `seeds` trunks are
# trained together as stacked tensors (one batched matrix product per layer, one Adam over all of them, which
# is the same as one Adam per seed because Adam acts elementwise); each seed draws its own batches. Every
# model gets `steps` Adam steps at `lr`, batches of 128 labelled and 128 unlabeled samples.

# %%
class StackedMLP(nn.Module):
    """S independent MLPs d_in → width → width → heads × 2, evaluated at once on (S, n, d_in) inputs."""

    def __init__(self, heads: int, init_seed: int, d_in: int = 50):
        super().__init__()
        g = torch.Generator().manual_seed(init_seed)

        def linear(n_in: int, n_out: int) -> tuple[nn.Parameter, nn.Parameter]:
            bound = n_in ** -0.5
            w = (torch.rand(S, n_in, n_out, generator=g) * 2 - 1) * bound
            b = (torch.rand(S, 1, n_out, generator=g) * 2 - 1) * bound
            return nn.Parameter(w.to(device)), nn.Parameter(b.to(device))

        self.w1, self.b1 = linear(d_in, P.width)
        self.w2, self.b2 = linear(P.width, P.width)
        self.w3, self.b3 = linear(P.width, 2 * heads)
        self.heads = heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(torch.baddbmm(self.b1, x, self.w1))
        h = torch.relu(torch.baddbmm(self.b2, h, self.w2))
        return torch.baddbmm(self.b3, h, self.w3).unflatten(-1, (self.heads, 2))  # (S, n, heads, 2)


def batch(split: dict[str, torch.Tensor], g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of 128 per seed (each seed its own indices)."""
    idx = torch.randint(0, split["x"].shape[1], (S, BATCH), generator=g).to(device)
    rows = torch.arange(S, device=device)[:, None]
    return split["x"][rows, idx], split["y"][rows, idx]


def ce_all_heads(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every head on its labels, averaged over heads and samples, summed over seeds."""
    s, n, k, _ = logits.shape
    return F.cross_entropy(logits.reshape(-1, 2), y[:, :, None].expand(s, n, k).reshape(-1)) * s


def train(model: StackedMLP, loss_fn, unlabeled: dict | None, tag: int, labelled: dict | None = None) -> StackedMLP:
    """`steps` Adam steps of loss_fn(model, labelled batch, unlabeled batch); labelled defaults to the training split."""
    labelled = data["train"] if labelled is None else labelled
    opt = torch.optim.Adam(model.parameters(), lr=P.lr)
    g = torch.Generator().manual_seed(1_000_003 * P.seed + tag)
    for _ in range(P.steps):
        xl, yl = batch(labelled, g)
        xu = batch(unlabeled, g)[0] if unlabeled is not None else None
        loss = loss_fn(model, xl, yl, xu)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


# %% [markdown]
# ## The two diversification methods (written out)
#
# **DivDis.** One trunk, $K$ heads $h_1 \dots h_K$. Loss = mean cross-entropy of all heads on the labelled batch
# $+\ \lambda \sum_{i<j} I(h_i; h_j) + \lambda \sum_i \mathrm{KL}(\bar p_i \,\|\, \text{uniform})$, where
# $I(h_i; h_j)$ is the mutual information of the heads' predictions estimated from their joint prediction matrix
# on the unlabeled batch, $P_{ij}(a, b) = \text{mean}_x\, p_i(a|x)\, p_j(b|x)$, and $\bar p_i$ is head $i$'s mean
# prediction there (the regulariser that keeps a head from escaping the MI term by predicting one class).
#
# **D-BAT.** $K$ separate models trained in sequence; model 1 is ERM; model $k$ minimises cross-entropy on the
# labelled data $+\ \alpha\, \text{mean}_{x,\, j<k} -\log\big(p_j(0|x)\,p_k(1|x) + p_j(1|x)\,p_k(0|x)\big)$ over
# unlabeled $x$ and the earlier (frozen) models $j$: the models must agree on the training data and disagree
# off it. $\lambda = \alpha =$ `div_weight`, fixed a priori (nothing on the training distribution can tune them).
#
# **Selection.** Each method's heads (models) are scored on the `n_select` balanced labelled samples; the best
# one is *selected*. The oracle (best head on the test set) is reported as an upper bound, not used by the rule.

# %%
def erm_loss(model, xl, yl, xu):
    return ce_all_heads(model(xl), yl)


def divdis_loss(weight: float):
    def loss(model, xl, yl, xu):
        sup = ce_all_heads(model(xl), yl)
        p = model(xu).softmax(-1)                                      # (S, n, K, 2)
        joint = torch.einsum("snia,snjb->sijab", p, p) / p.shape[1]     # (S, K, K, 2, 2)
        marg = p.mean(1)                                               # (S, K, 2)
        outer = marg[:, :, None, :, None] * marg[:, None, :, None, :]
        mi = (joint * (torch.log(joint + 1e-8) - torch.log(outer + 1e-8))).sum((-1, -2))
        k = p.shape[2]
        pairs = torch.triu(torch.ones(k, k, dtype=torch.bool, device=p.device), 1)
        reg = (marg * (torch.log(marg + 1e-8) - np.log(0.5))).sum(-1)
        return sup + weight * (mi[:, pairs].sum() + reg.sum())
    return loss


def dbat_loss(weight: float, frozen: list[StackedMLP]):
    def loss(model, xl, yl, xu):
        sup = ce_all_heads(model(xl), yl)
        pk = model(xu).softmax(-1)[:, :, 0]                            # (S, n, 2)
        with torch.no_grad():
            pj = torch.stack([m(xu).softmax(-1)[:, :, 0] for m in frozen])  # (J, S, n, 2)
        agree_off = pj[..., 0] * pk[None, ..., 1] + pj[..., 1] * pk[None, ..., 0]
        return sup + weight * (-torch.log(agree_off + 1e-8)).mean((0, 2)).sum()
    return loss


def group_accuracy(pred: torch.Tensor, split: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Per seed: mean and worst accuracy over the four (y, s) groups; pred (S, n)."""
    accs = []
    for yv, sv in itertools.product((0, 1), (0, 1)):
        m = ((split["y"] == yv) & (split["s"] == sv)).float()
        accs.append(((pred == split["y"]).float() * m).sum(1) / m.sum(1).clamp(min=1))
    accs = torch.stack(accs, 1)
    return accs.mean(1), accs.min(1).values


def head_predictions(models: list[StackedMLP], x: torch.Tensor) -> torch.Tensor:
    """Predictions of every head of every model, (S, n, total heads)."""
    with torch.no_grad():
        return torch.cat([m(x).argmax(-1) for m in models], -1)


def evaluate(models: list[StackedMLP]) -> dict[str, np.ndarray]:
    """Selected-head and oracle balanced test accuracy per seed, and per-head group accuracies."""
    sel = head_predictions(models, data["select"]["x"])
    test = head_predictions(models, data["test"]["x"])
    sel_acc = torch.stack([group_accuracy(sel[:, :, h], data["select"])[0] for h in range(sel.shape[-1])], 1)
    test_acc = torch.stack([group_accuracy(test[:, :, h], data["test"])[0] for h in range(test.shape[-1])], 1)
    worst = torch.stack([group_accuracy(test[:, :, h], data["test"])[1] for h in range(test.shape[-1])], 1)
    pick = sel_acc.argmax(1)
    rows = torch.arange(S)
    return {"selected": test_acc[rows, pick].cpu().numpy(), "worst": worst[rows, pick].cpu().numpy(),
            "oracle": test_acc.max(1).values.cpu().numpy(), "preds": test}


# %% [markdown]
# ## Running the conditions
#
# References: ERM (one head, labelled data only) and the **core check** (the same MLP trained with the spurious
# block permuted across the labelled samples, so only the core carries the label). Then both methods with
# $K = 2$ at every ratio, and with $K$ = `many_heads` at `far_ratio`. D-BAT's model 1 is the ERM model itself
# (it sees no unlabeled data), and its $K$ = `many_heads` sequence at `far_ratio` extends the $K = 2$ one there.

# %%
def run_conditions(weight: float, tag0: int, heads_test: bool = True) -> tuple[list[dict], dict]:
    results, preds = [], {}
    erm = train(StackedMLP(1, 10 * tag0 + 1), erm_loss, None, tag0 + 1)
    for i, r in enumerate(gu.progress(P.ratios, desc=f"ratios (weight {weight:g})")):
        unl = data[f"unl{r}"]
        dd = train(StackedMLP(2, 10 * tag0 + 100 + i), divdis_loss(weight), unl, tag0 + 100 + i)
        models = [erm]
        n_models = P.many_heads if (heads_test and r == P.far_ratio) else 2
        for k in range(1, n_models):
            models.append(train(StackedMLP(1, 10 * tag0 + 1000 + 50 * i + k), dbat_loss(weight, models[:]), unl,
                                tag0 + 1000 + 50 * i + k))
            if k == 1:
                ev = evaluate(models)
                results.append({"method": "D-BAT", "ratio": r, "K": 2, **ev})
                preds[("D-BAT", r)] = ev["preds"]
        if n_models > 2:
            results.append({"method": "D-BAT", "ratio": r, "K": n_models, **evaluate(models)})
        ev = evaluate([dd])
        results.append({"method": "DivDis", "ratio": r, "K": 2, **ev})
        preds[("DivDis", r)] = ev["preds"]
        if heads_test and r == P.far_ratio:
            many = train(StackedMLP(P.many_heads, 10 * tag0 + 200), divdis_loss(weight), unl, tag0 + 200)
            results.append({"method": "DivDis", "ratio": r, "K": P.many_heads, **evaluate([many])})
    return results, {"erm": erm, "preds": preds}


results, extra = run_conditions(P.div_weight, 0)
erm_acc = evaluate([extra["erm"]])
permuted = {k: v.clone() for k, v in data["train"].items()}
g = torch.Generator().manual_seed(P.seed)
for s in range(S):
    permuted["x"][s, :, 40:] = data["train"]["x"][s, torch.randperm(P.n_train, generator=g).to(device), 40:]
core_model = train(StackedMLP(1, 7), erm_loss, None, 7, labelled=permuted)
core_acc = evaluate([core_model])

rows = []
for res in results:
    for i, s in enumerate(seed_list):
        rows.append({"method": res["method"], "ratio": res["ratio"], "K": res["K"], "seed": s,
                     "selected": res["selected"][i], "oracle": res["oracle"][i], "worst group": res["worst"][i]})
table = pd.DataFrame(rows)
print(f"ERM balanced test accuracy {erm_acc['selected'].mean():.3f} (worst group {erm_acc['worst'].mean():.3f}); "
      f"core-only MLP {core_acc['selected'].mean():.3f}")
display(table.groupby(["method", "K", "ratio"])[["selected", "oracle", "worst group"]].mean().round(3))

# %% [markdown]
# ## Results
#
# **Figure 1.** Balanced test accuracy of the selected head against the spurious ratio $r$ of the unlabeled data,
# $K = 2$ (solid; mean and 95% interval over seeds), the oracle head dashed, ERM as a grey band. Look for each
# method's peak — where its unlabeled data suit its loss — and for the fall away from it.

# %%
two = table[table.K == 2]
fig, ax = gu.subplots(width=7, height=4.3)
sns.lineplot(data=two, x="ratio", y="selected", hue="method", marker="o", errorbar=("ci", 95), ax=ax)
sns.lineplot(data=two, x="ratio", y="oracle", hue="method", linestyle="--", errorbar=None, ax=ax, legend=False)
lo, hi = np.percentile(erm_acc["selected"], [0, 100])
ax.axhspan(lo, hi, color="grey", alpha=0.25, label="ERM (range over seeds)")
ax.axhline(0.5, color="k", linestyle=":", linewidth=0.8)
ax.legend(loc="best")
gu.label(ax, "spurious ratio r of the unlabeled data, P(s = y)", "balanced test accuracy",
         "Selected head (solid) and oracle head (dashed)")

# %% [markdown]
# **Figure 2.** The heads test at $r$ = `far_ratio`: selected-head accuracy with 2 heads and with `many_heads`
# (dots are seeds). Look for whether more heads close the gap to the sweet spot (the dotted lines: each method's
# mean accuracy at its sweet spot).

# %%
far = table[(table.ratio == P.far_ratio)]
fig, ax = gu.subplots(width=6, height=4)
sns.pointplot(data=far, x="method", y="selected", hue="K", dodge=0.3, errorbar=("ci", 95), linestyle="none", ax=ax)
sns.stripplot(data=far, x="method", y="selected", hue="K", dodge=True, alpha=0.4, legend=False, ax=ax)
for i, m in enumerate(["D-BAT", "DivDis"]):
    sweet = two[(two.method == m) & (two.ratio == SWEET[m])].selected.mean()
    ax.hlines(sweet, i - 0.4, i + 0.4, color="k", linestyle=":")
gu.label(ax, "method", "balanced test accuracy (selected head)", f"Heads test at r = {P.far_ratio}")

# %% [markdown]
# **Figure 3.** What the heads learned (seed 0, $K = 2$): each head's accuracy on the four test groups $(y, s)$,
# at three ratios. A head that reads the spurious block is right on the groups with $s = y$ and wrong on the
# others; a core head is right on all four.

# %%
show = [r for r in (0.0, 0.5, P.far_ratio) if r in P.ratios]
fig, axes = gu.subplots(ncols=len(show), nrows=2, width=3.2, height=2.4)
for col, r in enumerate(show):
    for row, m in enumerate(["DivDis", "D-BAT"]):
        pr = extra["preds"][(m, r)][0]                          # (n, heads) of seed 0
        grid = np.zeros((pr.shape[-1], 4))
        for gi, (yv, sv) in enumerate(itertools.product((0, 1), (0, 1))):
            mask = (data["test"]["y"][0] == yv) & (data["test"]["s"][0] == sv)
            grid[:, gi] = (pr[mask] == yv).float().mean(0).cpu().numpy()
        sns.heatmap(grid, vmin=0, vmax=1, annot=True, fmt=".2f", cbar=False, ax=axes[row, col],
                    xticklabels=["y0 s0", "y0 s1", "y1 s0", "y1 s1"], yticklabels=[f"h{h + 1}" for h in range(len(grid))])
        gu.label(axes[row, col], "test group", "head", f"{m}, r = {r}")

# %% [markdown]
# ### Sweep over the diversity weight (descriptive)
#
# With `div_weight_sweep`, both methods are rerun with $K = 2$ at every ratio for each weight. Look for whether
# the sweet spots move with the weight: the rule uses `div_weight` only.

# %%
if P.div_weight_sweep:
    sweep_rows = []
    for j, w in enumerate(P.div_weight_sweep):
        res, _ = run_conditions(w, 10_000 * (j + 1), heads_test=False)
        sweep_rows += [{"weight": w, "method": x["method"], "ratio": x["ratio"], "selected": float(x["selected"].mean())}
                       for x in res if x["K"] == 2]
    sweep = pd.DataFrame(sweep_rows)
    fig, ax = gu.subplots(width=7, height=4)
    sns.lineplot(data=sweep, x="ratio", y="selected", hue="weight", style="method", marker="o", palette="viridis", ax=ax)
    gu.label(ax, "spurious ratio r of the unlabeled data", "balanced test accuracy (selected head)",
             "Diversity-weight sweep")
    display(sweep.pivot_table(index=["method", "weight"], columns="ratio", values="selected").round(3))

# %% [markdown]
# ## Verdict
#
# The rule was committed before the first `cpu` run. acc_m(r, K) is the balanced test accuracy of method m's
# selected head; per seed, then mean and 95% $t$-interval over seeds. Sweet spots, pre-registered from the losses'
# definitions (the paper's figure could not be read): **DivDis at r = 0.5** (the core and spurious hypotheses are
# independent there, so two heads that use them satisfy the mutual-information term exactly) and **D-BAT at
# r = 0** (fully counter-correlated data: disagreeing with the spurious model everywhere *is* the core rule).
#
# - **S, sensitivity**: for each method, drop_m = acc_m(r*_m, 2) − acc_m(`far_ratio`, 2) has its interval above 0
#   and mean ≥ 0.10; and the sweet spots are method-specific: I = [acc_DivDis(0.5) − acc_DivDis(0)] +
#   [acc_D-BAT(0) − acc_D-BAT(0.5)] has its interval above 0.
# - **H, more heads do not fix it**: for each method, gain_m = acc_m(`far_ratio`, `many_heads`) − acc_m(`far_ratio`, 2)
#   has its interval's upper bound below 0.5 × mean drop_m.
# - `supported` when S and H hold; `contradicted` when for both methods the drop interval lies inside
#   [−0.05, 0.05] (insensitive to the unlabeled data), or for either method the gain interval lies above
#   0.5 × mean drop_m (more heads recover at least half the loss); `inconclusive` otherwise (including a
#   sensitivity with sweet spots elsewhere than pre-registered).
# - Checks (failing one makes the verdict `inconclusive`): the core is learnable — the core-only MLP reaches
#   balanced test accuracy ≥ 0.85; the shortcut is present — ERM's balanced test accuracy ≤ 0.70.

# %%
def acc(method: str, r: float, k: int) -> np.ndarray:
    return table[(table.method == method) & (table.ratio == r) & (table.K == k)].sort_values("seed").selected.to_numpy()


statistics, s_parts, h_parts, flat, recover = {}, [], [], [], []
for m, tag in (("DivDis", "divdis"), ("D-BAT", "dbat")):
    drop = acc(m, SWEET[m], 2) - acc(m, P.far_ratio, 2)
    gain = acc(m, P.far_ratio, P.many_heads) - acc(m, P.far_ratio, 2)
    d_lo, d_hi = gu.t_interval(drop)
    g_lo, g_hi = gu.t_interval(gain)
    statistics.update({f"drop_{tag}": float(drop.mean()), f"drop_{tag}_lo": d_lo, f"drop_{tag}_hi": d_hi,
                       f"gain_{tag}": float(gain.mean()), f"gain_{tag}_lo": g_lo, f"gain_{tag}_hi": g_hi,
                       f"gain_{tag}_hi_minus_half_drop": g_hi - 0.5 * float(drop.mean()),
                       f"gain_{tag}_lo_minus_half_drop": g_lo - 0.5 * float(drop.mean()),
                       **{f"acc_{tag}_r{r:g}": float(acc(m, r, 2).mean()) for r in P.ratios},
                       f"acc_{tag}_far_many": float(acc(m, P.far_ratio, P.many_heads).mean())})
    s_parts += [gu.cond(f"drop_{tag}_lo", ">", 0), gu.cond(f"drop_{tag}", ">=", 0.10)]
    h_parts.append(gu.cond(f"gain_{tag}_hi_minus_half_drop", "<", 0))
    flat.append(gu.all_of(gu.cond(f"drop_{tag}_lo", ">=", -0.05), gu.cond(f"drop_{tag}_hi", "<=", 0.05)))
    recover.append(gu.cond(f"gain_{tag}_lo_minus_half_drop", ">", 0))
specific = (acc("DivDis", 0.5, 2) - acc("DivDis", 0.0, 2)) + (acc("D-BAT", 0.0, 2) - acc("D-BAT", 0.5, 2))
i_lo, i_hi = gu.t_interval(specific)
statistics.update({"specificity": float(specific.mean()), "specificity_lo": i_lo, "specificity_hi": i_hi,
                   "erm_balanced": float(erm_acc["selected"].mean()), "erm_worst": float(erm_acc["worst"].mean()),
                   "core_only": float(core_acc["selected"].mean())})
RULE = gu.rule(
    supported=gu.all_of(*s_parts, gu.cond("specificity_lo", ">", 0), *h_parts),
    contradicted=gu.any_of(gu.all_of(*flat), *recover),
    checks={"core_learnable": gu.cond("core_only", ">=", 0.85), "shortcut_present": gu.cond("erm_balanced", "<=", 0.70)},
)
record = gu.report_verdict(
    chapter="diversification_components", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["drop_divdis", "drop_dbat", "specificity", "gain_divdis", "gain_dbat", "erm_balanced", "core_only"],
)

# %% [markdown]
# ### Reading of the `cpu` run
#
# Both runs were executed once under the rule above (committed before them), 5 seeds each; about 110 s of CPU
# time per run (600 s of wall time each on a 2-core machine shared with eight other jobs, load 8–13).
#
# - **Main run: `supported`.** The checks hold (ERM balanced accuracy 0.501, worst group 0.000: it reads the
#   spurious block; the core-only MLP reaches 0.923). D-BAT is strongly sensitive to the unlabeled data: its
#   selected head falls from 0.957 at r = 0 through 0.826, 0.710, 0.611 to 0.546 at r = 0.9 (drop 0.411
#   [0.358, 0.464]). DivDis falls less: 0.696 at r = 0 to 0.576 at r = 0.9 (drop 0.117 [0.087, 0.146]). Eight
#   heads recover nothing at r = 0.9 (gains +0.010 [−0.045, +0.064] for D-BAT, −0.020 [−0.080, +0.041] for
#   DivDis). **A caveat a reader should weigh:** DivDis's curve is a *plateau* over r ∈ [0, 0.5] (0.696,
#   0.688, 0.692), not a peak at the pre-registered 0.5; the specificity statistic I = 0.244 [0.215, 0.272]
#   clears zero on D-BAT's side alone (DivDis contributes −0.004). So "different sweet spots" holds here only in
#   the weak sense that D-BAT needs counter-correlated data while DivDis tolerates anything up to balanced;
#   a rule that asked each method to peak at its own spot would not have said `supported`.
# - **Falsification run (`train_spurious_ratio` 0.5): `inconclusive`** by the shortcut check (ERM 0.927), and
#   the evidence is flat too: D-BAT's drop is 0.000 (its selected model is the ERM model at every ratio),
#   DivDis's −0.009 [−0.051, +0.033]; without underspecification the unlabeled data stop mattering.
#
# ## Faithfulness notes
#
# - Waterbirds/Office-Home with ResNet/ViT backbones and pretraining choices are replaced by an MNIST-1D dominoes
#   task with MLP trunks; claims (2)–(3) (architecture and pretraining, their co-dependence with the data, the
#   "up to 20% drop") are not tested, and the card's descriptive 1-D CNN trunk is left out of this version.
# - The core is rendered with `max_translation` 4 and `corr_noise` 0.1 instead of MNIST-1D's 48 and 0.25: at the
#   defaults a prototype MLP (2,000 samples, 800 steps) reached 0.70 balanced accuracy on the core, below the
#   card's own learnability check (0.85), and a core that cannot be learned leaves no core hypothesis for
#   diversification to find. With the change the prototype reached 0.94 (a logistic regression 0.66, so the core
#   still needs a nonlinear feature). Chosen from the core alone, before any diversification run.
# - Sweet spots are pre-registered from the losses' definitions; a different location with the same sensitivity
#   is reported as `inconclusive`, not as support.
# - Head selection uses 32 balanced labelled samples (DivDis's own disambiguation), disjoint from the test split;
#   the diversity weights are fixed, not tuned, because no training-distribution signal can tune them. D-BAT's
#   K > 2 extension follows the D-BAT paper's sequential pairwise form; its model 1 is the ERM model.
#
# ## Rule history
#
# - Version 1 (this one), committed before the first `cpu` run: the card's rule, with the card's pre-registered
#   sweet spots.
