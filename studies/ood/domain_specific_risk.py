# ---
# jupyter:
#   genbook:
#     claim: In a family of domains whose best hypothesis differs between domains (an
#       adaptivity gap), domain-specific heads with per-sample min-entropy selection
#       and online steering (DRM) beat ERM given the same steering and an equally large
#       plain ensemble on held-out domains, while keeping the accuracy on the source
#       domains.
#     'null':
#       n_families: 1
#     null_reason: With one label map for the cue in every domain, one pooled hypothesis
#       is optimal everywhere and the adaptivity gap the paper names disappears; styles,
#       sizes and seeds are unchanged.
#     paper: Zhang, Wang, Liang, Zhang, Yu, Wang, Tao & Xie 2023 (KDD), arXiv:2208.08661
#     part: ood
#     profiles:
#       gpu:
#         eval_every: 250
#         lr_grid:
#         - 0.0003
#         - 0.001
#         - 0.003
#         n_per_domain: 10000
#         n_test_per_domain: 10000
#         seeds: 10
#         steps: 8000
#         width: 512
#       smoke:
#         eval_every: 50
#         heldout_domains:
#         - 0
#         lr_grid:
#         - 0.001
#         n_per_domain: 300
#         n_test_per_domain: 300
#         seeds: 2
#         steps: 200
#         width: 64
#     title: Domain-specific risk minimization - separate source hypotheses, steered
#       online
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
# # Domain-specific risk minimization for out-of-distribution generalization
#
# **Paper.** Yi-Fan Zhang, Jindong Wang, Jian Liang, Zhang Zhang, Baosheng Yu, Liang Wang, Dacheng Tao and Xing
# Xie, *Domain-Specific Risk Minimization for Out-of-Distribution Generalization*, KDD 2023
# ([arXiv:2208.08661](https://arxiv.org/abs/2208.08661)).
#
# **Claim under test.** "During training, DRM models the distributions of different source domains separately;
# for inference, DRM performs online model steering using the source hypothesis for each arriving target
# sample", and it "significantly outperforms competitive baselines" while it "achieves either comparable or
# superior accuracies on all source domains compared to vanilla empirical risk minimization". The cause the paper
# names is the **adaptivity gap**: when the best hypothesis differs between domains, one pooled hypothesis is far
# from the target's optimum; per-domain hypotheses, per-sample selection and online adaptation shrink it. Tested
# here: DRM beats ERM given the *same* online steering, its selection beats an equally large plain ensemble, and
# it keeps source accuracy — in a family of domains built to have an adaptivity gap.
#
# **The paper's evidence.** DomainBed (PACS, VLCS, OfficeHome, TerraIncognita, DomainNet) with ResNet-50 and the
# source-domain accuracy comparison with ERM; the table numbers could not be read here (only the abstract and the
# authors' code, read for the method and not copied). From the code: a shared featurizer and $D + 1$ linear heads,
# head $i$ trained on domain $i$'s minibatch and the extra head on all; inference picks per sample the head of
# lowest entropy; online steering pseudo-labels each arriving batch where the combined prediction is confident
# (≥ β) and updates the heads (featurizer frozen) with step size lr·α before predicting the batch.
#
# **What is scaled down.** DomainBed images become four MNIST-1D domains of the shared family
# (`genutils.domains`) with a 10-input *cue* whose label map depends on the domain's family; an MLP featurizer of
# width `width`; leave-one-domain-out over `heldout_domains`; `seeds` seeds trained as one stack.
#
# **Falsification run.** With `n_families` = 1 every domain's cue follows the same label map: one pooled hypothesis
# is optimal for every domain and the adaptivity gap disappears (the gap check should fail). If DRM still won
# here, its advantage would be generic self-training, not the mechanism the paper names.

# %%
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

import genutils as gu
from genutils import domains, many

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; seed s uses seed + s for its data, initialisations, batches and stream order
n_per_domain = 1500  # samples per source domain (80% training, 20% validation)
n_test_per_domain = 1500  # samples of the held-out domain
n_families = 2  # label maps of the cue, one per family of domains (1 removes the adaptivity gap)
cue_strength = 2.0  # amplitude of the cue's one-hot
cue_agreement = 0.9  # probability that the cue follows its family's label map
width = 128  # featurizer width
steps = 1000  # Adam steps per training
eval_every = 100  # checkpoint interval for early stopping on the source validation split
stream_batch = 32  # test batch size for online steering
heldout_domains = [0, 1, 2, 3]  # domains held out in turn
lr_grid = [0.001, 0.003]  # learning rates tried for every arm
seeds = 5  # independent runs

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    n_per_domain=gu.Int(min=50),
    n_test_per_domain=gu.Int(min=50),
    n_families=gu.Int(min=1, max=2),
    cue_strength=gu.Float(min=0),
    cue_agreement=gu.Float(min=0, max=1),
    width=gu.Int(min=4),
    steps=gu.Int(min=1),
    eval_every=gu.Int(min=1),
    stream_batch=gu.Int(min=2),
    heldout_domains=gu.List(gu.Int(min=0, max=3), increasing=True),
    lr_grid=gu.List(gu.Float(gt=0), increasing=True),
    seeds=gu.Int(min=2),
)
if P.eval_every > P.steps:
    raise gu.ParameterError("eval_every", f"must not exceed steps = {P.steps}")
device = gu.device()
seed_list = [P.seed + s for s in range(P.seeds)]
S, N_DOMAINS, BATCH_PER_DOMAIN = P.seeds, 4, 64
BETAS, ALPHAS = [0.5, 0.8], [0.1, 1.0]
P

# %% [markdown]
# ## Domains with an adaptivity gap
#
# Four domains of MNIST-1D signals (10 classes), each with its own style so that a domain is identifiable from
# the signal: D0 plain, D1 a background wave of one cycle, D2 a wave of three cycles, D3 blurred, shifted up and
# damped. Every sample also carries a **cue**, 10 inputs `cue_strength`·onehot(π_f(y)) + N(0, 0.5²), where the
# value follows its family's label map π_f with probability `cue_agreement`, else a random class
# (`genutils.domains.correlated_values` and `cue_block`). Families: D0, D1 use π_A = identity, D2, D3 a fixed
# derangement π_B(y) = y + 3 mod 10. Within a family the cue is highly predictive; pooled over families it is
# ambiguous — that is the adaptivity gap. Each held-out domain has one sibling among the sources (and the other
# family has two). With `n_families` = 1, all four domains use π_A.

# %%
STYLES = [domains.Style1D(),
          domains.Style1D(wave_amp=0.4, wave_freq=1.0, wave_phase=0.0),
          domains.Style1D(wave_amp=0.4, wave_freq=3.0, wave_phase=0.0),
          domains.Style1D(blur=1.5, gain=0.7, offset=0.3)]
FAMILY = [0, 0, 1, 1] if P.n_families == 2 else [0, 0, 0, 0]
MAPS = [np.arange(10), (np.arange(10) + 3) % 10]
SIBLING = {0: 1, 1: 0, 2: 3, 3: 2}


def domain_data(d: int, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    sig = domains.domain1d(n, STYLES[d], rng)
    cue = domains.correlated_values(sig.y, P.cue_agreement, 10, rng, mapping=MAPS[FAMILY[d]])
    return torch.cat([sig.x, domains.cue_block(cue, 10, P.cue_strength, 0.5, rng)], 1), sig.y


def seed_domains(s: int) -> list[dict[str, torch.Tensor]]:
    """Per domain: training, validation and test tensors of one seed."""
    rng = np.random.default_rng(s)
    out = []
    for d in range(N_DOMAINS):
        x, y = domain_data(d, P.n_per_domain + P.n_test_per_domain, rng)
        n_tr = int(0.8 * P.n_per_domain)
        out.append({"x_tr": x[:n_tr], "y_tr": y[:n_tr], "x_val": x[n_tr:P.n_per_domain],
                    "y_val": y[n_tr:P.n_per_domain], "x_te": x[P.n_per_domain:], "y_te": y[P.n_per_domain:]})
    return out


raw = [seed_domains(s) for s in seed_list]
DATA = [{k: torch.stack([raw[i][d][k] for i in range(S)]).to(device) for k in raw[0][d]} for d in range(N_DOMAINS)]
print({k: tuple(v.shape) for k, v in DATA[0].items()})

# %% [markdown]
# ## Arms
#
# Every arm has the same featurizer (MLP 50 → `width` → `width`, ReLU), optimiser (Adam, weight decay 1e-4),
# steps, domain-balanced batches (64 per source domain) and learning-rate grid, and is early-stopped on the
# source domains' validation split. The `seeds` models of an arm are one stack (`genutils.many`), each seed with
# its own batches, checkpoint and learning-rate choice.
#
# - `ERM`: one head on the pooled batch.
# - `Ensemble`: $D + 1$ heads on the shared featurizer, every head trained on the pooled batch from its own
#   initialisation; prediction = mean of the heads' softmaxes. Same parameter count as DRM, no domain specificity.
# - `DRM-select` (the paper's training): $D$ domain heads and one pooled head; head $i$ sees only source domain
#   $i$'s part of the batch, the pooled head all of it, loss = mean over domains of
#   [CE(head_i) + CE(head_all)]/2. At test time each sample takes the prediction of its **lowest-entropy head**
#   among all $D + 1$ (the pooled head included, as in the authors' code).
# - `DRM`: DRM-select plus **online steering**: per arriving batch of `stream_batch` test samples, the selected
#   prediction is the pseudo-label wherever its confidence ≥ β; every head takes one Adam step (step size
#   lr·α, featurizer frozen) on the cross-entropy to those pseudo-labels; then the batch is predicted.
# - `ERM+steer`: ERM's model with the same steering of its head — separates the steering from the domain-specific
#   modelling.
#
# β ∈ {0.5, 0.8} × α ∈ {0.1, 1} is chosen per seed by running the steering on the source validation split as a
# stream. Every choice is made per held-out domain and seed on source data only.

# %%
def make_net(heads: int):
    return lambda: nn.Sequential(nn.Linear(50, P.width), nn.ReLU(), nn.Linear(P.width, P.width), nn.ReLU(),
                                 nn.Linear(P.width, 10 * heads))


def logits(models: many.ManyModels, x: torch.Tensor, params: dict | None = None) -> torch.Tensor:
    """(S, n, heads, 10) for per-seed inputs x (S, n, 50)."""
    out = models.forward(models.params if params is None else params, x, per_model=True)
    return out.unflatten(-1, (-1, 10))


def ce(lg: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits (S, n, 10) against y (S, n), summed over seeds."""
    return F.cross_entropy(lg.reshape(-1, 10), y.reshape(-1)) * lg.shape[0]


def arm_loss(arm: str, lg: torch.Tensor, y: torch.Tensor, dom: torch.Tensor, sources: list[int]) -> torch.Tensor:
    if arm == "ERM":
        return ce(lg[:, :, 0], y)
    if arm == "Ensemble":
        return sum(ce(lg[:, :, h], y) for h in range(lg.shape[2])) / lg.shape[2]
    per_domain = []
    for i, d in enumerate(sources):      # DRM: head i on domain i, the last head on everything
        m = dom == d
        per_domain.append((ce(lg[:, m, i], y[:, m]) + ce(lg[:, m, -1], y[:, m])) / 2)
    return sum(per_domain) / len(per_domain)


def predict(arm: str, lg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities (S, n, 10), index of the head used (S, n)) for an arm's logits."""
    p = lg.softmax(-1)
    if arm == "ERM":
        return p[:, :, 0], torch.zeros(p.shape[:2], dtype=torch.long, device=p.device)
    if arm == "Ensemble":
        return p.mean(2), torch.zeros(p.shape[:2], dtype=torch.long, device=p.device)
    ent = -(p * p.clamp_min(1e-12).log()).sum(-1)     # every head: the D domain heads and the pooled one
    head = ent.argmin(-1)
    return p.gather(2, head[..., None, None].expand(-1, -1, 1, 10))[:, :, 0], head


def source_split(sources: list[int], part: str) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.cat([DATA[d][f"x_{part}"] for d in sources], 1)
    y = torch.cat([DATA[d][f"y_{part}"] for d in sources], 1)
    return x, y


def train_arm(arm: str, sources: list[int], lr: float, tag: int) -> tuple[many.ManyModels, np.ndarray]:
    """Train one stacked arm; returns it at each seed's best validation checkpoint, and that accuracy."""
    heads = 1 if arm == "ERM" else len(sources) + 1
    models = many.stack(make_net(heads), [1000 * s + tag for s in seed_list], device)
    for p in models.params.values():
        p.requires_grad_(True)
    opt = torch.optim.Adam(models.params.values(), lr=lr, weight_decay=1e-4)
    g = torch.Generator().manual_seed(7919 * P.seed + tag)
    x_val, y_val = source_split(sources, "val")
    best_acc = torch.full((S,), -1.0, device=device)
    best = {k: v.detach().clone() for k, v in models.params.items()}
    rows = torch.arange(S, device=device)[:, None]
    dom = torch.tensor(sources, device=device).repeat_interleave(BATCH_PER_DOMAIN)
    for step in range(1, P.steps + 1):
        xs, ys = [], []
        for d in sources:
            idx = torch.randint(0, DATA[d]["x_tr"].shape[1], (S, BATCH_PER_DOMAIN), generator=g).to(device)
            xs.append(DATA[d]["x_tr"][rows, idx]), ys.append(DATA[d]["y_tr"][rows, idx])
        loss = arm_loss(arm, logits(models, torch.cat(xs, 1)), torch.cat(ys, 1), dom, sources)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % P.eval_every == 0 or step == P.steps:
            with torch.no_grad():
                acc = (predict(arm, logits(models, x_val))[0].argmax(-1) == y_val).float().mean(1)
                better = acc > best_acc
                best_acc = torch.where(better, acc, best_acc)
                for k, v in models.params.items():
                    best[k] = torch.where(better.view(-1, *[1] * (v.ndim - 1)), v.detach(), best[k])
    models.params = best
    return models, best_acc.cpu().numpy()


# %% [markdown]
# ### Online steering (written out)

# %%
HEAD_KEYS = ("4.weight", "4.bias")


def steer(arm: str, models: many.ManyModels, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor, beta: float,
          alpha: float, order: torch.Tensor) -> torch.Tensor:
    """Stream x (S, n, 50) in batches; adapt the heads on confident pseudo-labels, then predict each batch.

    A per-seed Adam (step size lr·α, a tensor of shape (S,)) on the head parameters only; returns correctness (S, n)
    in stream order. The models are not changed (a copy of the head is steered).
    """
    params = {k: v.detach().clone() for k, v in models.params.items()}
    heads = {k: params[k].clone().requires_grad_(True) for k in HEAD_KEYS}
    m1 = {k: torch.zeros_like(v) for k, v in heads.items()}
    m2 = {k: torch.zeros_like(v) for k, v in heads.items()}
    step_size = (lr * alpha).to(device)
    rows = torch.arange(S, device=device)[:, None]
    correct = []
    for t, start in enumerate(range(0, x.shape[1], P.stream_batch), start=1):
        idx = order[:, start:start + P.stream_batch]
        xb, yb = x[rows, idx], y[rows, idx]
        lg = logits(models, xb, {**params, **heads})
        prob, _ = predict(arm, lg.detach())
        conf, pseudo = prob.max(-1)
        keep = (conf >= beta).float()
        if arm == "ERM":
            per = F.cross_entropy(lg[:, :, 0].reshape(-1, 10), pseudo.reshape(-1), reduction="none")
        else:   # every head towards the selected pseudo-label
            n_heads = lg.shape[2]
            per = sum(F.cross_entropy(lg[:, :, h].reshape(-1, 10), pseudo.reshape(-1), reduction="none")
                      for h in range(n_heads)) / n_heads
        loss = (per.view(S, -1) * keep).sum(1) / keep.sum(1).clamp(min=1)
        grads = torch.autograd.grad(loss.sum(), list(heads.values()))
        with torch.no_grad():
            for (k, v), gr in zip(heads.items(), grads):
                m1[k].mul_(0.9).add_(gr, alpha=0.1)
                m2[k].mul_(0.999).addcmul_(gr, gr, value=0.001)
                hat1, hat2 = m1[k] / (1 - 0.9 ** t), m2[k] / (1 - 0.999 ** t)
                v -= step_size.view(-1, *[1] * (v.ndim - 1)) * hat1 / (hat2.sqrt() + 1e-8)
            pred = predict(arm, logits(models, xb, {**params, **heads}))[0].argmax(-1)
        correct.append(pred == yb)
    return torch.cat(correct, 1)


def stream_order(n: int, tag: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(104_729 * P.seed + tag)
    return torch.stack([torch.randperm(n, generator=g) for _ in range(S)]).to(device)


# %% [markdown]
# ## Leave one domain out
#
# For each held-out domain: train ERM, Ensemble and DRM at every learning rate of `lr_grid`, keep per seed the
# learning rate with the best source-validation accuracy, tune β and α of the steered arms on the source
# validation stream, then evaluate every arm once on the held-out domain's stream.

# %%
ARMS = ["ERM", "ERM+steer", "Ensemble", "DRM-select", "DRM"]
results, routes, curves = [], [], []
for h in gu.progress(P.heldout_domains, desc="held-out domains"):
    sources = [d for d in range(N_DOMAINS) if d != h]
    chosen = {}
    for arm in ("ERM", "Ensemble", "DRM"):
        trained = [train_arm(arm, sources, lr, tag=100 * h + 10 * i + ("ERM", "Ensemble", "DRM").index(arm))
                   for i, lr in enumerate(P.lr_grid)]
        accs = np.stack([a for _, a in trained])                    # (lrs, S)
        pick = accs.argmax(0)
        models = trained[0][0]
        models.params = {k: torch.stack([trained[pick[s]][0].params[k][s] for s in range(S)])
                         for k in models.params}
        chosen[arm] = (models, torch.tensor([P.lr_grid[i] for i in pick]), accs.max(0))
    x_val, y_val = source_split(sources, "val")
    x_te, y_te = DATA[h]["x_te"], DATA[h]["y_te"]
    val_order, te_order = stream_order(x_val.shape[1], 1000 + h), stream_order(x_te.shape[1], 2000 + h)
    with torch.no_grad():
        lg_te = {arm: logits(chosen[arm][0], x_te) for arm in chosen}
        lg_val = {arm: logits(chosen[arm][0], x_val) for arm in chosen}
    acc = {"ERM": (predict("ERM", lg_te["ERM"])[0].argmax(-1) == y_te).float().mean(1),
           "Ensemble": (predict("Ensemble", lg_te["Ensemble"])[0].argmax(-1) == y_te).float().mean(1),
           "DRM-select": (predict("DRM", lg_te["DRM"])[0].argmax(-1) == y_te).float().mean(1)}
    source_acc = {"ERM": (predict("ERM", lg_val["ERM"])[0].argmax(-1) == y_val).float().mean(1),
                  "DRM-select": (predict("DRM", lg_val["DRM"])[0].argmax(-1) == y_val).float().mean(1)}
    for arm, base in (("ERM+steer", "ERM"), ("DRM", "DRM")):
        models, lrs, _ = chosen[base]
        key = "ERM" if base == "ERM" else "DRM"
        grid = {(b, a): steer(key, models, x_val, y_val, lrs, b, a, val_order).float().mean(1)
                for b in BETAS for a in ALPHAS}
        scores = torch.stack(list(grid.values()))                     # (configs, S)
        best = scores.argmax(0)
        configs = list(grid)
        runs = {c: steer(key, models, x_te, y_te, lrs, *c, te_order) for c in set(configs[i] for i in best.tolist())}
        corr = torch.stack([runs[configs[best[s]]][s] for s in range(S)])
        acc[arm] = corr.float().mean(1)
        running = corr.float().cumsum(1) / torch.arange(1, corr.shape[1] + 1, device=device)
        curves += [{"held-out": h, "arm": arm, "seed": seed_list[s], "samples seen": int(i + 1),
                    "running accuracy": float(running[s, i])}
                   for s in range(S) for i in range(0, corr.shape[1], max(1, corr.shape[1] // 50))]
    _, head = predict("DRM", lg_te["DRM"])
    sib_head = sources.index(SIBLING[h])
    sibling_oracle = (lg_te["DRM"][:, :, sib_head].argmax(-1) == y_te).float().mean(1)
    for s in range(S):
        results += [{"held-out": h, "seed": seed_list[s], "arm": arm, "accuracy": float(acc[arm][s])} for arm in ARMS]
        results.append({"held-out": h, "seed": seed_list[s], "arm": "source: ERM",
                        "accuracy": float(source_acc["ERM"][s])})
        results.append({"held-out": h, "seed": seed_list[s], "arm": "source: DRM-select",
                        "accuracy": float(source_acc["DRM-select"][s])})
        results.append({"held-out": h, "seed": seed_list[s], "arm": "sibling-head oracle",
                        "accuracy": float(sibling_oracle[s])})
        for i, d in enumerate([*sources, None]):
            routes.append({"held-out": h, "seed": seed_list[s], "head of domain": f"D{d}" if d is not None else "pooled",
                           "share": float((head[s] == i).float().mean()), "sibling": d == SIBLING[h]})
table = pd.DataFrame(results)
route = pd.DataFrame(routes)
curve = pd.DataFrame(curves)
display(table.pivot_table(index="arm", columns="held-out", values="accuracy").round(3))

# %% [markdown]
# ## Results
#
# **Figure 1.** Accuracy on each held-out domain for the five arms (mean and 95% interval over seeds). Look for DRM
# above ERM+steer and DRM-select above Ensemble on every domain.

# %%
fig, ax = gu.subplots(width=7.5, height=4.2)
sns.pointplot(data=table[table.arm.isin(ARMS)], x="held-out", y="accuracy", hue="arm", hue_order=ARMS, dodge=0.5,
              linestyle="none", errorbar=("ci", 95), ax=ax)
gu.label(ax, "held-out domain", "test accuracy", "Leave-one-domain-out accuracy")

# %% [markdown]
# **Figure 2.** Routing: the share of held-out samples whose lowest-entropy head belongs to each source domain or
# is the pooled head (mean over seeds). Look for most of the mass on the held-out domain's sibling (same cue map),
# marked with a star.

# %%
mean_route = route.groupby(["held-out", "head of domain", "sibling"]).share.mean().reset_index()
fig, ax = gu.subplots(width=6.5, height=4)
sns.barplot(data=mean_route, x="held-out", y="share", hue="head of domain", ax=ax)
for patch, (_, row) in zip(ax.patches, mean_route.sort_values(["head of domain", "held-out"]).iterrows()):
    if row.sibling:
        ax.annotate("★", (patch.get_x() + patch.get_width() / 2, patch.get_height()), ha="center", va="bottom")
gu.label(ax, "held-out domain", "share of samples routed to the head", "Per-sample min-entropy routing")

# %% [markdown]
# **Figure 3.** Running accuracy along the test stream for the two steered arms (mean over seeds and held-out
# domains). Look for whether the gap between them opens as steering proceeds or is there from the first batch.

# %%
fig, ax = gu.subplots(width=6.5, height=4)
sns.lineplot(data=curve, x="samples seen", y="running accuracy", hue="arm", errorbar=("ci", 95), ax=ax)
gu.label(ax, "held-out samples seen in the stream", "running accuracy", "Online steering")

# %% [markdown]
# **Figure 4.** Accuracy on the source domains' validation split, DRM-select against ERM (dots are seeds and
# held-out domains). Look for DRM-select on or above the diagonal: the paper's "comparable or superior" claim.

# %%
src = table[table.arm.isin(["source: ERM", "source: DRM-select"])].pivot_table(
    index=["held-out", "seed"], columns="arm", values="accuracy").reset_index()
fig, ax = gu.subplots(width=4.6, height=4.4)
sns.scatterplot(data=src, x="source: ERM", y="source: DRM-select", hue="held-out", palette="deep", ax=ax)
lims = [src[["source: ERM", "source: DRM-select"]].min().min() - 0.01, src[["source: ERM", "source: DRM-select"]].max().max() + 0.01]
ax.plot(lims, lims, color="grey", linestyle=":")
gu.label(ax, "ERM source accuracy", "DRM-select source accuracy", "Source domains")

# %% [markdown]
# ## Verdict
#
# The rule was committed before the first `cpu` run. Per seed, accuracies are averaged over the held-out domains;
# across seeds, mean and 95% $t$-interval.
#
# - **A**, steering with domain-specific hypotheses beats steering alone: acc(DRM) − acc(ERM+steer), interval above 0;
# - **B**, domain specificity, not head count: acc(DRM-select) − acc(Ensemble), interval above 0;
# - **C**, source domains kept: acc_source(DRM-select) − acc_source(ERM), lower bound ≥ −0.02.
# - `supported` when A, B and C hold; `contradicted` when the A interval or the B interval lies below 0, or C's
#   upper bound < −0.02; `inconclusive` otherwise.
# - Check (failing it makes the verdict `inconclusive`; it checks the generator, not DRM): the adaptivity gap
#   exists — the sibling-head oracle (DRM's head of the held-out domain's sibling applied to every held-out
#   sample) beats ERM by ≥ 0.03 on average.
#
# acc(DRM) − acc(ERM), the paper's headline comparison, is reported beside the verdict.

# %%
per_seed = table.groupby(["seed", "arm"]).accuracy.mean().unstack()
diffs = {"A": per_seed["DRM"] - per_seed["ERM+steer"], "B": per_seed["DRM-select"] - per_seed["Ensemble"],
         "C": per_seed["source: DRM-select"] - per_seed["source: ERM"], "headline": per_seed["DRM"] - per_seed["ERM"],
         "gap": per_seed["sibling-head oracle"] - per_seed["ERM"]}
statistics = {}
for name, v in diffs.items():
    lo, hi = gu.t_interval(v.to_numpy())
    statistics.update({f"{name}_mean": float(v.mean()), f"{name}_lo": lo, f"{name}_hi": hi})
statistics.update({f"acc_{arm.replace(' ', '_').replace(':', '').replace('+', '_')}": float(per_seed[arm].mean())
                   for arm in per_seed.columns})
statistics["sibling_routing"] = float(route[route.sibling].share.mean())
display(pd.DataFrame(diffs).describe().loc[["mean", "std", "min", "max"]].round(3))
RULE = gu.rule(
    supported=gu.all_of(gu.cond("A_lo", ">", 0), gu.cond("B_lo", ">", 0), gu.cond("C_lo", ">=", -0.02)),
    contradicted=gu.any_of(gu.cond("A_hi", "<", 0), gu.cond("B_hi", "<", 0), gu.cond("C_hi", "<", -0.02)),
    checks={"adaptivity_gap": gu.cond("gap_mean", ">=", 0.03)},
)
record = gu.report_verdict(
    chapter="domain_specific_risk", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["A_mean", "A_lo", "B_mean", "B_lo", "C_lo", "headline_mean", "gap_mean", "sibling_routing"],
)

# %% [markdown]
# ### Reading of the `cpu` run (version 2)
#
# 5 seeds, 4 held-out domains; about 180 s of CPU per run (1,100 s of wall time each while eight other jobs
# shared the 2 cores).
#
# - **Main run: `contradicted`, by leg C.** The family has a large adaptivity gap (the sibling-head oracle beats
#   ERM by 0.221 [0.120, 0.322]) and DRM's routing finds the sibling for 38% of held-out samples, but neither
#   mechanism leg clears zero: A (DRM − ERM+steer) = +0.013 [−0.033, +0.059], B (DRM-select − Ensemble) = +0.009
#   [−0.028, +0.046]. Per domain the picture is mixed: DRM wins clearly where ERM is lost (held-out D2: 0.283
#   against 0.082; D0: 0.356 against 0.316) and loses clearly where ERM is right (D1: 0.586 against 0.784). And
#   the source domains are not kept: per-sample min-entropy routing sends source samples to the wrong family's
#   head often enough that DRM-select scores 0.756 on the source validation split against ERM's 0.882
#   (C = −0.126 [−0.148, −0.103]), the opposite of the paper's "comparable or superior accuracies on all source
#   domains". The headline comparison acc(DRM) − acc(ERM) is +0.021 [−0.022, +0.064].
# - **Falsification run (`n_families` 1): `inconclusive`.** The gap check fails as designed (−0.008); without
#   the gap DRM-select keeps the sources (C = −0.005) and B is small but positive (+0.032 [+0.006, +0.057]),
#   A is zero. Held-out D3 (blurred, shifted, damped) is hard for every arm in both runs (below chance in the
#   main run, where its cue map is the derangement and no arm reads its family correctly).
#
# ## Faithfulness notes
#
# - DomainBed images and ResNet-50 are replaced by MNIST-1D domains and an MLP. The adaptivity gap is built into the
#   generator (family-specific cue maps) on purpose: the miniature tests whether DRM's *mechanism* exploits such a
#   gap better than fair alternatives, not whether real benchmarks have one — the paper's empirical claim that they
#   do cannot be checked here. Each held-out domain has a sibling among the sources; with a truly novel labelling
#   rule no source hypothesis could close the gap.
# - The domains' styles are fixed (the card lets seeds draw them); seeds draw the data, initialisations, batches and
#   stream order.
# - Steering follows the authors' `DRM` class (heads only, one step per batch, pseudo-labels where the confidence
#   ≥ β), with a per-seed Adam written out so that each seed steers with its own chosen learning rate; `DRMFull`
#   (all parameters) is not run. Inference uses the per-sample lowest-entropy head among all $D + 1$ heads, the
#   paper's "source hypothesis for each arriving target sample"; the authors' `forward` picks the head of lowest
#   *mean* entropy over a test batch instead (in DomainBed a batch comes from one domain), which a per-sample rule
#   generalises.
# - Tuning is per held-out domain and seed on the source domains' validation split only; nothing chosen for one
#   held-out domain is reused for another. The paper's bound and theory are not evaluated.
#
# ## Rule history
#
# - Version 1, committed before the first `cpu` run: the card's rule; DRM-select chose among the $D$ *domain*
#   heads only, leaving the pooled head out of the selection and of the steering. Its `cpu` run gave
#   **`contradicted`** by leg C: source accuracy 0.749 for DRM-select against 0.882 for ERM (C = −0.133
#   [−0.156, −0.110]); A = +0.004 [−0.061, +0.069], B = +0.000 [−0.045, +0.045]; the gap check held
#   (sibling-head oracle − ERM = 0.217). The falsification run was not executed under version 1.
# - Version 2 (this one): the rule is unchanged; the implementation now follows the card ("the entropy of every
#   head's softmax") and the authors' code, which select among all $D + 1$ heads and steer every head. The
#   omission was found by reading the authors' `DRM.forward` after the version-1 run, so the fix is made with that
#   run's numbers known: a reader should weigh version 2's verdict with that in mind.
