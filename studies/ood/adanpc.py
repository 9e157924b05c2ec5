# ---
# jupyter:
#   genbook:
#     claim: Over a series of gradually rotating digit domains, a kNN classifier whose
#       memory of training features grows with confidently pseudo-labelled test features
#       (AdaNPC) is more accurate than the same kNN with a fixed memory and than continual
#       Tent.
#     'null':
#       rotation_step: 0
#     null_reason: With every target domain at the source angle there is no drift for
#       the memory to follow, the cause the paper names; appending in-distribution features
#       can then add little, and the drift check fails by design.
#     paper: Zhang, Wang, Jin, Yuan, Zhang, Wang, Jin & Tan 2023 (ICML), arXiv:2304.12566
#     part: ood
#     profiles:
#       gpu:
#         epochs: 60
#         n_domains: 9
#         run_sweep: true
#         seeds: 20
#       smoke:
#         epochs: 3
#         n_domains: 3
#         rotation_step: 20
#         seeds: 2
#     title: AdaNPC - a growing kNN memory follows a drifting series of domains
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
# # AdaNPC: a non-parametric classifier for test-time adaptation
#
# **Paper.** Yi-Fan Zhang, Xue Wang, Kexin Jin, Kun Yuan, Zhang Zhang, Liang Wang, Rong Jin and Tieniu Tan,
# *AdaNPC: Exploring Non-Parametric Classifier for Test-Time Adaptation*, ICML 2023
# ([arXiv:2304.12566](https://arxiv.org/abs/2304.12566)).
#
# **Claim under test.** AdaNPC classifies a test feature by a k-nearest-neighbour vote over a memory of
# training features; in the abstract's words, it "recalls K closed samples from the memory to vote for the
# prediction, and then the test feature and predicted label are added to the memory", so that "the sample
# distribution in the memory can gradually change from the training distribution towards the test
# distribution", and "when the adaptation target is a series of domains, the adaptation accuracy of AdaNPC is
# 50% higher than advanced TTA methods". Tested here on a series of gradually drifting target domains:
# (a) the memory *update* — not the kNN classifier as such — raises accuracy over the same kNN without the
# update, and (b) AdaNPC beats Tent-style entropy minimisation run continually over the same series.
#
# **The paper's evidence.** DomainBed benchmarks (PACS, VLCS, OfficeHome, TerraIncognita) with several
# backbones, an experiment on a series of target domains (the "50% higher" of the abstract), and a theoretical
# argument that the memory update shrinks the distance to the target. The table numbers and the dataset behind
# the series result could not be read here (only the abstract was found); the official code (DomainBed/T3A
# based, read for the method, not copied) keeps L2-normalised features, takes the cosine top-k neighbours,
# weights them by a softmax of similarity over a temperature, and appends every test sample whose confidence
# passes a threshold; nothing is evicted.
#
# **What is scaled down.** DomainBed images and ResNet/ViT backbones become scikit-learn's 8×8 digits and a
# two-layer CNN with BatchNorm; the series of domains is a rotation drift in `rotation_step`° steps
# (`genutils.domains.rotate`), each domain a disjoint group of test digits so that no instance is seen twice.
# All arms start from the same trained backbone per seed and see the same unlabelled stream, batch by batch,
# each domain once.
#
# **Falsification run.** The cause the paper names is a test distribution that drifts away from the training
# one, which a growing memory can follow. With `rotation_step` = 0 every domain sits at the source angle:
# nothing to follow, so the update should add little, and the drift check fails by design (the verdict is
# then `inconclusive`; Δ_mem is printed so that a gain without drift would still be visible).

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
seed = 0  # base seed; seed s uses seed + s for its split, backbone and stream order
epochs = 30  # backbone training epochs (the best source-validation epoch is kept)
n_domains = 6  # target domains in the series
rotation_step = 10.0  # angle increment per domain in degrees (0 removes the drift)
source_jitter = 10.0  # training images are rotated by a fresh uniform angle in plus or minus this
batch_size = 30  # stream batch size
temp = 0.1  # kNN softmax temperature
beta = 0.8  # confidence (vote share) a test sample needs to enter the memory
k_grid = [5, 10, 20]  # neighbour counts tried for both kNN arms
tent_lrs = [0.0001, 0.001, 0.01]  # Adam step sizes tried for Tent
seeds = 10  # repetitions
run_sweep = False  # rerun the streams over several rotation steps (descriptive)
sweep_steps = [5.0, 10.0, 15.0, 30.0]  # rotation steps of the sweep

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    epochs=gu.Int(min=1),
    n_domains=gu.Int(min=2, max=12),
    rotation_step=gu.Float(min=0, max=45),
    source_jitter=gu.Float(min=0, max=45),
    batch_size=gu.Int(min=2, max=64),
    temp=gu.Float(gt=0),
    beta=gu.Float(min=0, max=1),
    k_grid=gu.List(gu.Int(min=1, max=200), increasing=True),
    tent_lrs=gu.List(gu.Float(gt=0), increasing=True),
    seeds=gu.Int(min=2),
    run_sweep=gu.Bool(),
    sweep_steps=gu.List(gu.Float(min=0, max=45), increasing=True),
)
device = gu.device()
images, labels = domains.digit_images()
n_test_pool = int(0.25 * len(labels))
if n_test_pool // (P.n_domains + 1) < P.batch_size:
    raise gu.ParameterError("n_domains", f"leaves fewer than batch_size = {P.batch_size} test digits per domain")
seed_list = [P.seed + s for s in range(P.seeds)]
angles = [t * P.rotation_step for t in range(1, P.n_domains + 1)]
print(f"target series: {P.n_domains} domains at {angles} degrees; {len(labels)} digits, {P.seeds} seeds")
P

# %% [markdown]
# ## Data: a drifting series of rotated digits
#
# Per seed the 1,797 digits are split 60/15/25 into a training pool, a source-validation pool and a test pool.
# The source domain is the upright digit, rotated by a fresh uniform angle in ±`source_jitter`° each training
# epoch. The test pool is cut into $T + 1$ disjoint groups: group 0 stays at the source angle (it measures the
# backbone and, after the stream, forgetting); group $t = 1 \dots T$ is domain $t$, rotated by
# $\theta_t = t\cdot$`rotation_step`. The stream visits the domains in order, each once, in batches of
# `batch_size`, without labels. A **validation stream** for tuning (never the test stream) is built the same
# way from the source-validation pool, rotated to $-\theta_t$: the same drift in the other direction.

# %%
def split_pools(s: int) -> dict[str, np.ndarray]:
    """Index pools of one seed: train, val and the T + 1 test groups (group 0 at the source angle)."""
    order = np.random.default_rng(s).permutation(len(labels))
    n_tr, n_val = int(0.6 * len(labels)), int(0.15 * len(labels))
    test = order[n_tr + n_val:]
    return {"train": order[:n_tr], "val": order[n_tr:n_tr + n_val],
            **{f"test{t}": g for t, g in enumerate(np.array_split(test, P.n_domains + 1))}}


def as_tensor(idx: np.ndarray, angle: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Images of the given indices rotated by `angle` degrees, as (n, 1, 8, 8), and their labels."""
    x = domains.rotate(images[idx], angle) if angle else torch.tensor(images[idx], dtype=torch.float32)
    return x[:, None].to(device), torch.tensor(labels[idx]).to(device)


def stream(groups: list[np.ndarray], domain_angles: list[float]) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
    """The batches of a series: (domain index, images, labels), domain by domain, in order."""
    out = []
    for t, (idx, angle) in enumerate(zip(groups, domain_angles)):
        x, y = as_tensor(idx, angle)
        out += [(t, x[i:i + P.batch_size], y[i:i + P.batch_size]) for i in range(0, len(y), P.batch_size)]
    return out


# %% [markdown]
# ## Backbone
#
# conv3×3(1→16)–BN–ReLU–conv3×3(16→32)–BN–ReLU–global average pool (the 32-d feature)–linear(32→10); Adam
# 1e-3, batch 64, `epochs` epochs with rotation jitter, keeping the epoch with the best accuracy on the
# source-validation pool (upright). One backbone per seed, shared by every arm.

# %%
class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.head = nn.Linear(32, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def train_backbone(s: int, pools: dict[str, np.ndarray]) -> tuple[Backbone, float]:
    """The backbone of seed s, at its best source-validation epoch, and that accuracy."""
    torch.manual_seed(s)
    model = Backbone().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(10_000 + s)
    idx = pools["train"]
    x_val, y_val = as_tensor(pools["val"], 0.0)
    best, best_state = -1.0, None
    for _ in range(P.epochs):
        jitter = rng.uniform(-P.source_jitter, P.source_jitter, len(idx))
        x = domains.rotate(images[idx], jitter)[:, None].to(device)
        y = torch.tensor(labels[idx]).to(device)
        model.train()
        for b in np.array_split(rng.permutation(len(idx)), max(1, len(idx) // 64)):
            loss = F.cross_entropy(model(x[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x_val).argmax(1) == y_val).float().mean().item()
        if acc > best:
            best, best_state = acc, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model.eval(), best


# %% [markdown]
# ## The arms
#
# Every arm sees the same batches in the same order and predicts each batch before it may learn from it.
#
# - `source`: the backbone's linear head, no adaptation.
# - `knn_static`: cosine kNN over the memory of the training pool's features (upright), the $k$ most
#   similar entries voting with weights softmax(similarity / `temp`); the memory never changes.
# - `adanpc` (the paper's method): the same kNN; after each batch, every sample whose confidence — the
#   winning class's share of the weighted vote — is at least `beta` is appended to the memory with its
#   *predicted* label. The memory persists across domains and nothing is evicted.
# - `tent`: continual Tent (Wang et al. 2021) — BatchNorm uses the batch's statistics, only the BN affine
#   parameters are trained, one Adam step per batch on the mean prediction entropy, never reset.
# - `adanpc_oracle` (descriptive): appends every test sample with its *true* label — what the pseudo-labels cost.
#
# Tuning, three configurations per arm, chosen per seed by mean accuracy over the validation stream:
# $k \in$ `k_grid` for the two kNN arms (each chooses its own), the Adam step size in `tent_lrs` for Tent.

# %%
def knn_vote(z: torch.Tensor, memory: torch.Tensor, mem_labels: torch.Tensor, k: int) -> torch.Tensor:
    """Class vote shares (b, 10) of normalised features z against a normalised memory."""
    sim, idx = (z @ memory.T).topk(min(k, len(memory)), dim=1)
    w = torch.softmax(sim / P.temp, dim=1)
    return torch.zeros(len(z), 10, device=z.device).scatter_add_(1, mem_labels[idx], w)


def run_knn(backbone: Backbone, batches, memory: torch.Tensor, mem_labels: torch.Tensor, k: int,
            update: str) -> dict:
    """Stream the batches through a kNN arm; update is "none", "pseudo" (AdaNPC) or "oracle"."""
    correct, domain, added, added_right, added_domain = [], [], 0, [], []
    with torch.no_grad():
        for t, x, y in batches:
            z = F.normalize(backbone.features(x), dim=1)
            votes = knn_vote(z, memory, mem_labels, k)
            conf, pred = votes.max(1)
            correct.append((pred == y).cpu()), domain.append(torch.full((len(y),), t))
            if update == "pseudo":
                keep = conf >= P.beta
                memory, mem_labels = torch.cat([memory, z[keep]]), torch.cat([mem_labels, pred[keep]])
                added += int(keep.sum())
                added_right.append((pred[keep] == y[keep]).cpu()), added_domain.append(torch.full((int(keep.sum()),), t))
            elif update == "oracle":
                memory, mem_labels = torch.cat([memory, z]), torch.cat([mem_labels, y])
    out = {"correct": torch.cat(correct), "domain": torch.cat(domain), "memory": memory, "mem_labels": mem_labels,
           "added": added}
    if update == "pseudo":
        out["added_right"], out["added_domain"] = torch.cat(added_right), torch.cat(added_domain)
    return out


def tent_model(backbone: Backbone, lr: float) -> tuple[Backbone, torch.optim.Optimizer]:
    """A copy of the backbone prepared for Tent: batch-statistics BN, only BN affine parameters trainable."""
    model = copy.deepcopy(backbone)
    model.train()
    params = []
    for m in model.modules():
        for p in m.parameters(recurse=False):
            p.requires_grad_(isinstance(m, nn.BatchNorm2d))
            if isinstance(m, nn.BatchNorm2d):
                params.append(p)
        if isinstance(m, nn.BatchNorm2d):
            m.track_running_stats, m.running_mean, m.running_var = False, None, None
    return model, torch.optim.Adam(params, lr=lr)


def run_tent(backbone: Backbone, batches, lr: float) -> dict:
    """Continual Tent over the batches: predict with the batch's forward pass, then one entropy step."""
    model, opt = tent_model(backbone, lr)
    correct, domain = [], []
    for t, x, y in batches:
        out = model(x)
        p = out.softmax(1)
        loss = -(p * out.log_softmax(1)).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        correct.append((out.argmax(1) == y).detach().cpu()), domain.append(torch.full((len(y),), t))
    return {"correct": torch.cat(correct), "domain": torch.cat(domain), "model": model}


def run_source(backbone: Backbone, batches) -> dict:
    with torch.no_grad():
        correct = [(backbone(x).argmax(1) == y).cpu() for _, x, y in batches]
    return {"correct": torch.cat(correct), "domain": torch.cat([torch.full((len(y),), t) for t, _, y in batches])}


def domain_acc(result: dict) -> np.ndarray:
    """Accuracy per domain of the series."""
    c, d = result["correct"].float(), result["domain"]
    return np.array([c[d == t].mean().item() for t in range(int(d.max()) + 1)])


# %% [markdown]
# ## Running every seed
#
# Per seed: split, backbone, tuning on the validation stream, then one pass of each tuned arm over the test
# stream, then each adapted classifier on the held-back source-angle group (forgetting).

# %%
ARMS = ["source", "knn_static", "adanpc", "tent", "adanpc_oracle"]


def run_series(backbone: Backbone, pools: dict, step: float, memory, mem_labels, choice: dict | None = None) -> dict:
    """Tune on the validation stream (unless `choice` is given), then run every arm on the test stream."""
    series = [t * step for t in range(1, P.n_domains + 1)]
    test_batches = stream([pools[f"test{t}"] for t in range(1, P.n_domains + 1)], series)
    if choice is None:
        val_groups = np.array_split(pools["val"], P.n_domains)
        val_batches = stream(val_groups, [-a for a in series])
        choice = {
            "knn_static": max(P.k_grid, key=lambda k: domain_acc(run_knn(backbone, val_batches, memory, mem_labels, k,
                                                                          "none")).mean()),
            "adanpc": max(P.k_grid, key=lambda k: domain_acc(run_knn(backbone, val_batches, memory, mem_labels, k,
                                                                      "pseudo")).mean()),
            "tent": max(P.tent_lrs, key=lambda lr: domain_acc(run_tent(backbone, val_batches, lr)).mean()),
        }
    results = {
        "source": run_source(backbone, test_batches),
        "knn_static": run_knn(backbone, test_batches, memory, mem_labels, choice["knn_static"], "none"),
        "adanpc": run_knn(backbone, test_batches, memory, mem_labels, choice["adanpc"], "pseudo"),
        "tent": run_tent(backbone, test_batches, choice["tent"]),
        "adanpc_oracle": run_knn(backbone, test_batches, memory, mem_labels, choice["adanpc"], "oracle"),
    }
    return {"results": results, "choice": choice, "angles": series, "n_stream": len(results["source"]["correct"])}


rows, seed_rows, memory_rows, info_rows, pca_data = [], [], [], [], None
backbones = {}
for s in gu.progress(seed_list, desc="seeds"):
    pools = split_pools(s)
    backbone, val_acc = train_backbone(s, pools)
    backbones[s] = (backbone, pools)
    x_tr, y_tr = as_tensor(pools["train"], 0.0)
    with torch.no_grad():
        memory = F.normalize(backbone.features(x_tr), dim=1)
    out = run_series(backbone, pools, P.rotation_step, memory, y_tr)
    res = out["results"]
    x0, y0 = as_tensor(pools["test0"], 0.0)
    with torch.no_grad():
        z0 = F.normalize(backbone.features(x0), dim=1)
        after = {"source": (backbone(x0).argmax(1) == y0).float().mean().item(),
                 "knn_static": (knn_vote(z0, memory, y_tr, out["choice"]["knn_static"]).argmax(1) == y0).float().mean().item(),
                 "adanpc": (knn_vote(z0, res["adanpc"]["memory"], res["adanpc"]["mem_labels"], out["choice"]["adanpc"])
                            .argmax(1) == y0).float().mean().item(),
                 "adanpc_oracle": (knn_vote(z0, res["adanpc_oracle"]["memory"], res["adanpc_oracle"]["mem_labels"],
                                            out["choice"]["adanpc"]).argmax(1) == y0).float().mean().item(),
                 "tent": np.mean([(res["tent"]["model"](x0[i:i + P.batch_size]).argmax(1) == y0[i:i + P.batch_size])
                                  .float().mean().item() for i in range(0, len(y0), P.batch_size)])}
    for arm in ARMS:
        acc = domain_acc(res[arm])
        rows += [{"seed": s, "arm": arm, "domain": t + 1, "angle": a, "accuracy": v}
                 for t, (a, v) in enumerate(zip(out["angles"], acc))]
        seed_rows.append({"seed": s, "arm": arm, "MA": acc.mean(), "MA_late": acc[-max(1, P.n_domains // 3):].mean(),
                          "first": acc[0], "last": acc[-1], "source_after": after[arm]})
    ad = res["adanpc"]
    for t in range(P.n_domains):
        sel = ad["added_domain"] == t
        memory_rows.append({"seed": s, "domain": t + 1, "angle": out["angles"][t], "appended": int(sel.sum()),
                            "pseudo-label accuracy": ad["added_right"][sel].float().mean().item() if sel.any() else np.nan})
    info_rows.append({"seed": s, "val_acc": val_acc, "added_frac": ad["added"] / out["n_stream"],
                      **{f"choice_{k}": v for k, v in out["choice"].items()}})
    if pca_data is None:
        pca_data = (ad["memory"].cpu(), len(memory), ad["added_domain"])
per_domain = pd.DataFrame(rows)
per_seed = pd.DataFrame(seed_rows)
mem = pd.DataFrame(memory_rows)
info = pd.DataFrame(info_rows).set_index("seed")
MA = per_seed.pivot(index="seed", columns="arm", values="MA")
display(per_seed.groupby("arm")[["MA", "MA_late", "first", "last", "source_after"]].mean().round(3).loc[ARMS])
display(info.round(3))

# %% [markdown]
# ## Results
#
# **Figure 1.** Accuracy on each target domain of the series, in stream order (mean and 95% interval over
# seeds). Look for `source` and `knn_static` falling with the angle, and whether `adanpc` falls more slowly;
# `adanpc_oracle` (true labels appended) marks what a perfect memory update would give.

# %%
fig, ax = gu.subplots(width=7, height=4.2)
sns.lineplot(data=per_domain, x="angle", y="accuracy", hue="arm", hue_order=ARMS, style="arm", markers=True,
             dashes=False, errorbar=("ci", 95), ax=ax)
gu.label(ax, "rotation of the target domain (degrees, stream order)", "accuracy", "Accuracy along the series")

# %% [markdown]
# **Figure 2.** The paired differences per seed (dots) with their mean and 95% $t$-interval (bar):
# Δ_mem = MA(adanpc) − MA(knn_static), Δ_tent = MA(adanpc) − MA(tent), Δ_src = MA(adanpc) − MA(source), MA the
# mean accuracy over the series. Look for intervals that clear the zero line.

# %%
deltas = pd.DataFrame({"Δ_mem": MA["adanpc"] - MA["knn_static"], "Δ_tent": MA["adanpc"] - MA["tent"],
                       "Δ_src": MA["adanpc"] - MA["source"]})
dlong = deltas.melt(var_name="difference", value_name="value")
fig, ax = gu.subplots(width=6, height=4)
sns.stripplot(data=dlong, x="difference", y="value", color="grey", alpha=0.6, ax=ax)
for i, name in enumerate(deltas.columns):
    lo, hi = gu.t_interval(deltas[name].to_numpy())
    ax.errorbar(i, deltas[name].mean(), yerr=[[deltas[name].mean() - lo], [hi - deltas[name].mean()]], fmt="o",
                color="C3", capsize=6)
ax.axhline(0, color="k", linewidth=0.8)
gu.label(ax, "paired difference", "mean accuracy over the series", "AdaNPC against the other arms")

# %% [markdown]
# **Figure 3.** What enters the memory: the number of test samples appended in each domain (left) and the
# accuracy of their pseudo-labels (right), mean over seeds. Look for how the pseudo-label accuracy changes
# along the series — errors that enter the memory vote in every later domain.

# %%
fig, axes = gu.subplots(ncols=2, width=4.8, height=3.8)
sns.barplot(data=mem, x="angle", y="appended", color="C2", errorbar=("ci", 95), ax=axes[0])
gu.label(axes[0], "rotation of the domain (degrees)", "samples appended", "Memory growth")
sns.pointplot(data=mem, x="angle", y="pseudo-label accuracy", color="C3", errorbar=("ci", 95), ax=axes[1])
axes[1].set(ylim=(0, 1.02))
gu.label(axes[1], "rotation of the domain (degrees)", "accuracy of appended pseudo-labels", "Memory quality")

# %% [markdown]
# **Figure 4.** The memory of seed 0 after the stream, in the plane of its first two principal components: the
# training features (grey) and the appended test features coloured by domain. Look for the appended features
# moving away from the training cloud as the angle grows — the memory "walking" with the drift.

# %%
feats, n_train_mem, added_dom = pca_data
centred = feats - feats[:n_train_mem].mean(0)
_, _, v = torch.linalg.svd(centred[:n_train_mem], full_matrices=False)
xy = (centred @ v[:2].T).numpy()
fig, ax = gu.subplots(width=6, height=4.6)
ax.scatter(xy[:n_train_mem, 0], xy[:n_train_mem, 1], s=6, color="lightgrey", label="training memory")
if len(added_dom):
    sc = ax.scatter(xy[n_train_mem:, 0], xy[n_train_mem:, 1], s=10, c=(added_dom.numpy() + 1) * P.rotation_step,
                    cmap="viridis")
    fig.colorbar(sc, ax=ax, label="domain rotation (degrees)")
ax.legend(loc="best")
gu.label(ax, "principal component 1", "principal component 2", "Memory after the stream (seed 0)")

# %% [markdown]
# ### Sweep over the rotation step (descriptive)
#
# With `run_sweep`, each seed's backbone is reused and the whole series (tuning included) is rerun at every
# step in `sweep_steps`. Look for where AdaNPC's advantage over the static memory peaks: a small step leaves
# little to adapt to, a large one makes the pseudo-labels wrong.

# %%
if P.run_sweep:
    sweep_rows = []
    for s in gu.progress(seed_list, desc="sweep"):
        backbone, pools = backbones[s]
        x_tr, y_tr = as_tensor(pools["train"], 0.0)
        with torch.no_grad():
            memory = F.normalize(backbone.features(x_tr), dim=1)
        for step in P.sweep_steps:
            res = run_series(backbone, pools, step, memory, y_tr)["results"]
            sweep_rows += [{"seed": s, "step": step, "arm": arm, "MA": domain_acc(res[arm]).mean()} for arm in ARMS]
    sweep = pd.DataFrame(sweep_rows)
    fig, ax = gu.subplots(width=6.5, height=4)
    sns.lineplot(data=sweep, x="step", y="MA", hue="arm", hue_order=ARMS, marker="o", errorbar=("ci", 95), ax=ax)
    gu.label(ax, "rotation step per domain (degrees)", "mean accuracy over the series", "Sweep over the drift speed")
    display(sweep.groupby(["step", "arm"]).MA.mean().unstack().round(3))

# %% [markdown]
# ## Verdict
#
# The rule was fixed (committed) before the first `cpu` run. Over seeds, with $[\ell, h]$ the 95% $t$-interval
# of the mean of a paired difference:
#
# - `supported` when Δ_mem has $\ell > 0$ and mean ≥ 0.02 (the memory update helps beyond kNN itself) **and**
#   Δ_tent has $\ell > 0$ (AdaNPC beats continual entropy minimisation);
# - `contradicted` when Δ_mem has $h < 0$ (appending pseudo-labelled features hurts: error accumulation) **or**
#   Δ_tent has $h < 0$ (Tent is better over the series);
# - `inconclusive` otherwise.
# - Checks (failing one makes the verdict `inconclusive`): the backbone's mean accuracy on the source-angle
#   test group ≥ 0.9; the `source` arm's accuracy on the last domain at least 0.2 below its accuracy on the
#   first (there is drift to adapt to); `adanpc` appended at least 20% of the stream on average (β did not
#   silence the mechanism).
#
# The ratio MA(adanpc)/MA(tent) (the paper's "50% higher" is a ratio of 1.5), MA_late and Δ_src are reported
# beside the verdict; they do not gate it.

# %%
src = per_seed[per_seed.arm == "source"].set_index("seed")
statistics = {}
for name in deltas.columns:
    lo, hi = gu.t_interval(deltas[name].to_numpy())
    statistics.update({f"{name[2:]}_mean": float(deltas[name].mean()), f"{name[2:]}_lo": lo, f"{name[2:]}_hi": hi})
late = per_seed.pivot(index="seed", columns="arm", values="MA_late")
statistics.update({
    **{f"MA_{arm}": float(MA[arm].mean()) for arm in ARMS},
    "MA_late_adanpc": float(late["adanpc"].mean()), "MA_late_knn_static": float(late["knn_static"].mean()),
    "MA_late_tent": float(late["tent"].mean()),
    "ratio_adanpc_tent": float(MA["adanpc"].mean() / MA["tent"].mean()),
    "source_angle_acc": float(src["source_after"].mean()),
    "source_drop": float((src["first"] - src["last"]).mean()),
    "added_frac": float(info["added_frac"].mean()),
    "pseudo_label_acc": float(mem["pseudo-label accuracy"].mean()),
    **{f"forget_{arm}": float(per_seed[per_seed.arm == arm].source_after.mean()) for arm in ARMS},
})
RULE = gu.rule(
    supported=gu.all_of(gu.cond("mem_lo", ">", 0), gu.cond("mem_mean", ">=", 0.02), gu.cond("tent_lo", ">", 0)),
    contradicted=gu.any_of(gu.cond("mem_hi", "<", 0), gu.cond("tent_hi", "<", 0)),
    checks={"backbone_learned_source": gu.cond("source_angle_acc", ">=", 0.9),
            "drift_present": gu.cond("source_drop", ">=", 0.2),
            "memory_grows": gu.cond("added_frac", ">=", 0.2)},
)
record = gu.report_verdict(
    chapter="adanpc", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["mem_mean", "mem_lo", "tent_mean", "tent_lo", "ratio_adanpc_tent", "source_drop", "added_frac"],
)

# %% [markdown]
# ### Reading of the `cpu` run
#
# Both runs were executed once under the rule above (committed before them), 10 seeds each, about 100 s of
# wall time each on the 2-core machine while other work shared it.
#
# - **Main run: `inconclusive`.** The memory update helps beyond the kNN classifier: Δ_mem = +0.034
#   [+0.014, +0.053] (MA 0.494 against 0.461 for the static memory; over the last third of the series 0.242
#   against 0.194), with 58% of the stream appended and 59% of the appended pseudo-labels right. But AdaNPC
#   only ties continual Tent: Δ_tent = +0.000 [−0.027, +0.027], a ratio MA(adanpc)/MA(tent) of 1.00 against the
#   paper's 1.5. The drift is real (the `source` arm falls from 0.88 at 10° to 0.14 at 60°), and a perfect
#   update (`adanpc_oracle`, 0.636) shows how much the pseudo-labels leave on the table. Tent forgets more
#   (0.861 on the upright group after the stream, against 0.963 for AdaNPC, whose memory still holds every
#   training feature).
# - **Falsification run (`rotation_step` 0): `inconclusive`**, by the drift check as designed; the memory's gain
#   shrinks to Δ_mem = +0.003 [+0.001, +0.004], below the 0.02 the rule asks for, so without drift the update
#   would not have been called useful even without the check. (Here AdaNPC beats Tent, Δ_tent = +0.056: on
#   undrifted data batch-statistics BatchNorm with batches of 30 costs Tent accuracy.)
#
# ## Faithfulness notes
#
# - DomainBed images with ResNet/ViT backbones become 8×8 rotated digits with a two-layer CNN; the series of
#   domains is a rotation drift in small steps, the setting where a growing memory can follow the shift. A gain
#   here says nothing about abrupt shifts (the `gpu` sweep shows how it degrades with larger steps).
# - The backbone is trained with a linear head and cross-entropy, not with the paper's kNN training objective;
#   the confidence is the winning class's vote share rather than the code's softmax over vote scores;
#   neighbours come from an exact search (no FAISS). The memory grows without bound, as in the code.
# - Tent runs continually (no reset), as a TTA method faced with a series must; an episodic Tent would be a
#   different comparison. It predicts each batch with the forward pass that also computes its update, as in the
#   Tent code.
# - Departure from the card: one test group is held back at the source angle (the card's check and forgetting
#   need a source-angle test set that the stream does not use), so each domain has ⌊450/(T+1)⌋ digits.
# - Both kNN arms and Tent get three configurations each, chosen on a validation stream that drifts the other
#   way; the test stream is never used for a choice. `temp` and `beta` are fixed (the card's values).
# - The paper's theory is not checked; the "50% higher" is reported as a ratio beside the verdict.
#
# ## Rule history
#
# - Version 1 (this one), committed before the first `cpu` run: the card's rule unchanged.
