# ---
# jupyter:
#   genbook:
#     claim: Test error falls as a power law of training-set size, eps(m) = alpha *
#       m^beta + gamma, over a power-law region between a small-data region and an irreducible-error
#       region, and the best model size grows sublinearly with the training-set size.
#     'null':
#       label_noise: 1.0
#     null_reason: The paper's learning curves fall because more data reveals more of
#       a structured task; replacing every training and validation label by a random
#       class removes that structure, so the test error should stay at chance and no
#       falling power law should appear.
#     paper: Hestness, Narang, Ardalani, Diamos, Jun, Kianinejad, Patwary, Yang & Zhou
#       2017, arXiv:1712.00409
#     part: dynamics
#     profiles:
#       gpu:
#         max_epochs: 600
#         n_test: 10000
#         n_val: 5000
#         seeds: 5
#         sizes:
#         - 354
#         - 500
#         - 707
#         - 1000
#         - 1414
#         - 2000
#         - 2828
#         - 4000
#         - 5657
#         - 8000
#         - 11314
#         - 16000
#         - 22627
#         - 32000
#         widths:
#         - 4
#         - 8
#         - 16
#         - 32
#         - 64
#         - 128
#         - 256
#       smoke:
#         max_epochs: 40
#         n_test: 1000
#         n_val: 500
#         patience: 6
#         seeds: 2
#         sizes:
#         - 250
#         - 354
#         - 500
#         - 707
#         - 1000
#         - 1414
#         widths:
#         - 4
#         - 8
#     title: Learning curves are power laws, and the best model grows sublinearly
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
# # Deep learning scaling is predictable, empirically
#
# **Paper.** Joel Hestness, Sharan Narang, Newsha Ardalani, Gregory Diamos, Heewoo Jun, Hassan
# Kianinejad, Md. Mostofa Ali Patwary, Yang Yang and Yanqi Zhou, *Deep Learning Scaling is Predictable,
# Empirically*, 2017 ([arXiv:1712.00409](https://arxiv.org/abs/1712.00409)).
#
# **Claim under test.** The generalization error of a well-tuned model falls as a power law of the
# training-set size $m$,
#
# $$\varepsilon(m) \approx \alpha\, m^{\beta_g} + \gamma ,$$
#
# across a *power-law region* that lies between a *small-data region* (error near chance) and an
# *irreducible-error region* (the curve flattens at $\gamma$); and the number of parameters of the best
# model grows *sublinearly* with $m$, $s(m) \propto m^{\beta_p}$ with $\beta_p < 1$.
#
# **The paper's evidence.** Learning curves over two to three orders of magnitude of $m$ ("shard sizes
# that span 2-3 orders of magnitude in steps of roughly 2×", §3) in four domains (machine translation,
# word and character language models, ImageNet classification, speech recognition), each point the
# best model found by a size and hyperparameter search at that $m$, scored on one validation set. Its
# summary of the exponents (§1): prior theory predicts $\beta_g = -0.5$ or $-1$, while "in real
# applications, we find empirically that $\beta_g$ usually settles between $-0.07$ and $-0.35$,
# exponents that are unexplained by prior theoretical work". The abstract: "model size scales sublinearly
# with data size". (Quoted from the arXiv v1 text, §1 and abstract. The per-domain exponents of its
# figures and the numerical model-size exponents were not recoverable from the stored copies of the full
# text searched for this chapter — the ar5iv and docslib renderings return their opening pages only — so
# they are not printed here.)
#
# **What is scaled down.** One domain: MNIST-1D (10 classes, length-40 signals, generated offline), a
# family of small 1-D CNNs with channel width $c \in \{4, 8, 16, 32\}$ (338 to 8,010 parameters), and
# training sets from 354 to 2,828 examples in steps of $\sqrt 2$ (`cpu`). Every run is trained to
# convergence by early stopping on a validation split of the training pool, with three seeds.
#
# **Falsification run.** `label_noise = 1.0`: every training and validation label is replaced by a
# uniformly random class, so there is no input–label structure for more data to reveal. The test error
# should sit at chance (0.9) at every $m$, and the verdict must not be `supported`.

# %%
import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from torch import nn

import genutils as gu
from genutils import many
from genutils.models import Positions, Windows

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; MNIST-1D and the label noise are drawn with it, repetition s uses seed + s
sizes = [354, 500, 707, 1000, 1414, 2000, 2828]  # training-set sizes m, nested within a repetition
widths = [4, 8, 16, 32]  # CNN channel widths c, the model-size knob
n_val = 2000  # validation examples held out of the training pool, for early stopping and model choice
n_test = 4000  # test examples, used only to report the error
label_noise = 0.0  # share of training and validation labels replaced by a uniformly random class
lr = 0.01  # Adam learning rate, the same for every width and size
batches_per_epoch = 8  # minibatch size is m // batches_per_epoch, so every epoch takes the same steps
eval_every = 2  # epochs between validation checks
patience = 15  # epochs without a new best validation error before a run counts as converged
max_epochs = 400  # cap on a run's length; runs that reach it are counted as not converged
seeds = 3  # repetitions (training-subset order, initialization, minibatch order)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    sizes=gu.List(gu.Int(min=16), min_len=3, increasing=True),
    widths=gu.List(gu.Int(min=1), min_len=2, increasing=True),
    n_val=gu.Int(min=50),
    n_test=gu.Int(min=50),
    label_noise=gu.Float(min=0, max=1),
    lr=gu.Float(gt=0),
    batches_per_epoch=gu.Int(min=1),
    eval_every=gu.Int(min=1),
    patience=gu.Int(min=1),
    max_epochs=gu.Int(min=2),
    seeds=gu.Int(min=2),
)
if min(P.sizes) < P.batches_per_epoch:
    raise gu.ParameterError("sizes", f"every size must hold at least batches_per_epoch = {P.batches_per_epoch} "
                                     f"examples, got {min(P.sizes)}")
if P.patience < P.eval_every:
    raise gu.ParameterError("patience", f"patience ({P.patience} epochs) must cover at least one validation "
                                        f"check (eval_every = {P.eval_every})")
device = gu.device()
n_workers = torch.get_num_threads() if device.type == "cpu" else 2
if device.type == "cpu":
    # Each run is a few small batched products: one intra-op thread per run, and the runs spread over
    # the cores by a thread pool (below); the numbers do not depend on the number of workers.
    torch.set_num_threads(1)
seed_list = [P.seed + s for s in range(P.seeds)]
P

# %% [markdown]
# ## Data: MNIST-1D, a validation split, nested training subsets
#
# MNIST-1D is generated procedurally by `genutils.mnist1d` from the base seed: `max(sizes) + n_val +
# n_test` signals, of which the last `n_test` form the test set and the `n_val` before them the
# validation set; the remaining `max(sizes)` are the training pool. For repetition $s$ the pool is
# shuffled once with seed $s$ and the training set of size $m$ is the first $m$ examples of that order,
# so the sets are *nested*, as when a data set grows. The validation set is disjoint from every training
# subset and is the only data that early stopping and model choice look at; the test set is used only
# to report errors.
#
# With `label_noise` $= q$, each training-pool and validation label is replaced, with probability $q$, by
# a class drawn uniformly at random (seeded); the test labels stay clean. The falsification run uses
# $q = 1$.

# %%
t0 = time.time()
pool = max(P.sizes) + P.n_val + P.n_test
x_train_val, y_train_val, x_test, y_test = gu.mnist1d(pool, seed=P.seed, train_split=(pool - P.n_test) / pool)
noise_gen = torch.Generator().manual_seed(P.seed)
flip = torch.rand(len(y_train_val), generator=noise_gen) < P.label_noise
y_train_val = torch.where(flip, torch.randint(0, 10, (len(y_train_val),), generator=noise_gen), y_train_val)
x_pool, y_pool = x_train_val[:max(P.sizes)], y_train_val[:max(P.sizes)]
x_val, y_val = x_train_val[max(P.sizes):].to(device), y_train_val[max(P.sizes):].to(device)
x_test, y_test = x_test.to(device), y_test.to(device)
orders = {s: torch.randperm(len(x_pool), generator=torch.Generator().manual_seed(s)) for s in seed_list}
print(f"MNIST-1D: {len(x_pool)} training-pool, {len(x_val)} validation and {len(x_test)} test signals of "
      f"length {x_pool.shape[1]}, generated in {time.time() - t0:.1f} s; {int(flip.sum())} of "
      f"{len(flip)} training/validation labels replaced at random (label_noise = {P.label_noise})")

# %% [markdown]
# ## The model family
#
# The MNIST-1D paper's convolutional network, with its channel count $c$ as the size knob: three
# 1-D convolutions (kernel 5, 3, 3; stride 2; padding 1) with ReLU, taking the length-40 signal to
# $c \times 5$ features, then a linear read-out to the 10 classes: $6c^2 + 58c + 10$ parameters. Model
# size is measured in **parameters**, as in the paper.
#
# A convolution is a linear map applied to every sliding window, so it is written here as *window
# extraction* (`genutils.models.Windows`, parameter-free) followed by `nn.Linear` on the windows,
# channels last. The network is then a plain `nn.Sequential` of linear layers and parameter-free
# modules, which `genutils.many` trains as one batched matrix product per layer.

# %%
def make_cnn(c: int):
    def make() -> nn.Sequential:
        w1 = Windows(40, 5, stride=2, pad=1, first=True)
        w2 = Windows(w1.out_length, 3, stride=2, pad=1)
        w3 = Windows(w2.out_length, 3, stride=2, pad=1)
        return nn.Sequential(w1, nn.Linear(5, c), nn.ReLU(), w2, nn.Linear(3 * c, c), nn.ReLU(),
                             w3, nn.Linear(3 * c, c), nn.ReLU(), Positions(w3.out_length),
                             nn.Linear(w3.out_length * c, 10))
    return make


def n_params(c: int) -> int:
    return sum(p.numel() for p in make_cnn(c)().parameters())


# the windowed form is the same function as torch's conv1d
_check = make_cnn(3)()
_x = torch.randn(4, 40)
_ref = F.conv1d(_x[:, None], _check[1].weight.reshape(3, 1, 5), _check[1].bias, stride=2, padding=1)
assert torch.allclose(_check[2](_check[1](_check[0](_x))).reshape(4, -1, 3), torch.relu(_ref).transpose(1, 2), atol=1e-5)
params_of = {c: n_params(c) for c in P.widths}
print(params_of, "parameters per width")

# %% [markdown]
# ## Training every run to convergence
#
# One *cell* is a (width $c$, size $m$) pair; its `seeds` runs share an architecture and are trained
# together by `genutils.many` (one stacked model, each run with its own training subset, initialization
# and minibatch order). Every run uses Adam with learning rate `lr` on the cross-entropy, minibatches of
# $\lfloor m / 8\rfloor$ (`batches_per_epoch` = 8 steps per epoch, whatever $m$), and **early stopping**:
# every `eval_every` epochs the validation error is measured, the parameters at the best validation
# error so far are kept, and a run has converged once `patience` epochs pass without a new best. The
# cell stops when all its runs have converged (or at `max_epochs`, which counts as not converged). The
# reported test error of a run is that of its kept parameters.
#
# The cells are independent (each has its own generators; all initial parameters are drawn in the main
# thread before training), so they run on a thread pool of one worker per core, largest first; the
# results do not depend on the scheduling.

# %%
def error(models: many.ManyModels, x: torch.Tensor, y: torch.Tensor, per_model: bool = False) -> torch.Tensor:
    return (models(x, per_model=per_model).argmax(-1) != y).float().mean(1)


inits = {c: many.stack(make_cnn(c), [1000 * c + s for s in seed_list], device) for c in P.widths}


def train_cell(c: int, m: int) -> list[dict]:
    t_cell = time.time()
    init = inits[c]
    models = many.ManyModels(base=init.base, params={k: v.clone() for k, v in init.params.items()},
                             buffers=init.buffers)
    x = torch.stack([x_pool[orders[s][:m]] for s in seed_list]).to(device)
    y = torch.stack([y_pool[orders[s][:m]] for s in seed_list]).to(device)
    batch = m // P.batches_per_epoch
    per_epoch = m // batch
    k = len(seed_list)
    best_val = torch.full((k,), float("inf"), device=device)
    best_epoch = torch.zeros(k, device=device)
    kept = {name: p.clone() for name, p in models.params.items()}
    last = {"epoch": 0.0, "stopped": False}

    def record(models: many.ManyModels, step: int) -> dict[str, torch.Tensor]:
        epoch = step / per_epoch
        val = error(models, x_val, y_val)
        better = val < best_val
        best_val[better] = val[better]
        best_epoch[better] = epoch
        for name, p in models.params.items():
            kept[name][better] = p[better]
        last["epoch"] = epoch
        if bool(((epoch - best_epoch) >= P.patience).all()):
            last["stopped"] = True
            raise many.StopTraining
        return {"val_error": val}

    steps = P.max_epochs * per_epoch
    many.train_many(models, x, y, F.cross_entropy, steps=steps, data_seeds=[10_000 + s for s in seed_list],
                    batch_size=batch, per_model_data=True, optimizer="adam", lr=P.lr, record=record,
                    record_at=range(0, steps + 1, P.eval_every * per_epoch), desc=f"c = {c}, m = {m}")
    models.params = kept
    test = error(models, x_test, y_test).tolist()
    train = error(models, x, y, per_model=True).tolist()
    return [{"width": c, "params": params_of[c], "m": m, "seed": s, "val_error": float(best_val[i]),
             "test_error": test[i], "train_error": train[i], "best_epoch": float(best_epoch[i]),
             "stop_epoch": last["epoch"], "converged": last["stopped"], "cell_s": time.time() - t_cell}
            for i, s in enumerate(seed_list)]


t0 = time.time()
cells = sorted(((c, m) for c in P.widths for m in P.sizes), key=lambda cm: -cm[1] * params_of[cm[0]])
with ThreadPoolExecutor(max_workers=n_workers) as workers:
    done = list(gu.progress(workers.map(lambda cm: train_cell(*cm), cells), total=len(cells), desc="cells"))
final = pd.DataFrame([row for rows in done for row in rows]).sort_values(["width", "m", "seed"], ignore_index=True)
train_s = time.time() - t0
print(f"trained {len(final)} runs ({len(cells)} cells) in {train_s:.1f} s on {n_workers} worker(s); "
      f"{int((~final.converged).sum())} runs reached max_epochs = {P.max_epochs} without converging")
final.pivot_table(index="m", columns="width", values="test_error").round(3)

# %% [markdown]
# ## The measurements the paper takes
#
# For every repetition $s$ and size $m$, the **best model** is the width with the lowest validation
# error; its test error is the learning-curve point $\varepsilon_s(m)$, and $\varepsilon(m)$ is the mean over
# repetitions. The table also shows the local log-log slope between consecutive sizes: on a power law
# it is constant.
#
# The **best model size** is defined, as in the paper, by validation error, but with one rule constant:
# $s^*_s(m)$ is the parameter count of the *smallest* width whose validation error is within 5% (relative)
# of the best width's at that $m$. A plain arg-min would read the best size off near-ties that the
# validation noise decides; the smallest near-best model is the "smallest model that fits the data as
# well as the best" the paper searches for. If $s^*$ sits at the top (or the bottom) of the grid, the
# grid has cut the staircase off, and the fitted slope is only a lower bound on how fast the best model
# grows.

# %%
NEAR_BEST = 0.05  # rule constant: "near-best" = validation error within 5% of the best width's

chosen = final.loc[final.groupby(["seed", "m"]).val_error.idxmin()]
curve_s = chosen.pivot(index="seed", columns="m", values="test_error").to_numpy()  # (seeds, sizes)
val_s = chosen.pivot(index="seed", columns="m", values="val_error").to_numpy()
m_grid = np.array(P.sizes, dtype=float)
eps = curve_s.mean(0)
val_curve = val_s.mean(0)


def smallest_near_best(group: pd.DataFrame) -> int:
    ok = group.val_error <= (1 + NEAR_BEST) * group.val_error.min()
    return int(group.loc[ok, "width"].min())


size_star = (final.groupby(["seed", "m"]).apply(smallest_near_best, include_groups=False)
             .rename("width").reset_index())
size_star["params"] = size_star.width.map(params_of)
width_star = size_star.pivot(index="seed", columns="m", values="width").to_numpy()
params_star = size_star.pivot(index="seed", columns="m", values="params").to_numpy().astype(float)
local_slope = np.concatenate([[np.nan], np.diff(np.log(eps)) / np.diff(np.log(m_grid))])
summary = pd.DataFrame({"best test error": eps, "best val error": val_curve,
                        "local log-log slope": local_slope,
                        "best width (arg-min val, per seed)": [chosen[chosen.m == m].width.tolist() for m in P.sizes],
                        "smallest near-best width (per seed)": [width_star[:, j].tolist() for j in range(len(P.sizes))]},
                       index=pd.Index(P.sizes, name="m"))
summary.round(3)

# %% [markdown]
# ## Fits: the power law against an exponential, judged on held-out sizes
#
# **Region.** The small-data region is the sizes whose best validation error (mean over repetitions) is
# still above 0.6, two thirds of the chance error 0.9; the power-law region is every size from the first
# one below 0.6 to the largest. (The irreducible-error region needs no cut of its own: the constant
# $\gamma$ of the fit absorbs it.)
#
# **Two forms with three parameters each**, fitted by the same procedure: the power law
# $\varepsilon = \alpha m^{\beta} + \gamma$ and the exponential $\varepsilon = a\,e^{-b m} + c$, the constant in
# $[0, 0.99\min\varepsilon]$. For a fixed constant the other two parameters are those of a straight line
# (through $(\log m, \log(\varepsilon-\gamma))$, or $(m, \log(\varepsilon - c))$); the constant is profiled on a grid
# of 200 values and the one with the smallest squared error in $\log\varepsilon$ is kept.
#
# **Held-out comparison.** Both forms are fitted to the region without its two largest sizes and asked
# to predict those two (an extrapolation by a factor 2 in $m$, which is what the paper uses the law for);
# the score is the root-mean-square error in $\log\varepsilon$, and the statistic is the ratio
# $\text{RMSE}_{\text{power}} / \text{RMSE}_{\text{exp}}$ on the mean curve. A curve that saturates like an
# exponential gives a ratio above 1.
#
# **Exponent.** The power law fitted to each repetition's whole region gives $\beta_s$; the interval is a
# Student-t interval over repetitions. The model-size exponent $\beta_p$ is the slope of
# $\log s^*_s(m)$ against $\log m$ on the region, per repetition, with a t-interval likewise.

# %%
SMALL_DATA_ERROR = 0.6  # rule constant: the small-data region ends below 2/3 of the chance error
N_HOLDOUT = 2  # rule constant: the largest sizes of the region held out of the fit


def fit_form(m: np.ndarray, err: np.ndarray, form: str) -> dict[str, float]:
    """ε = α m^β + γ ('power') or ε = a e^{-b m} + c ('exp'), constant profiled, least squares in log ε."""
    t = np.log(m) if form == "power" else m / m.max()
    log_e = np.log(err)
    best_fit = None
    for const in np.linspace(0, 0.99 * err.min(), 200):
        slope, icept = np.polyfit(t, np.log(err - const), 1)
        loss = float(np.sum((log_e - np.log(np.exp(icept + slope * t) + const)) ** 2))
        if best_fit is None or loss < best_fit["loss"]:
            best_fit = {"slope": slope, "icept": icept, "const": const, "loss": loss, "scale": float(m.max())}
    best_fit["form"] = form
    return best_fit


def predict(fit: dict[str, float], m: np.ndarray) -> np.ndarray:
    t = np.log(m) if fit["form"] == "power" else m / fit["scale"]
    return np.exp(fit["icept"] + fit["slope"] * t) + fit["const"]


def log_rmse(fit: dict[str, float], m: np.ndarray, err: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.log(predict(fit, m)) - np.log(err)) ** 2)))


def interval(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    if len(values) < 2 or not np.all(np.isfinite(values)):
        return float("nan"), float("nan")
    return gu.t_interval(values)


below = np.flatnonzero(val_curve < SMALL_DATA_ERROR)
start = int(below[0]) if len(below) else len(P.sizes)
region = slice(start, len(P.sizes))
m_reg, eps_reg = m_grid[region], eps[region]
n_region = len(m_reg)
nan = float("nan")
fits = {}
holdout_ratio = rmse_power = rmse_exp = beta = gamma = alpha = beta_lo = beta_hi = nan
if n_region >= N_HOLDOUT + 4:
    m_fit, e_fit = m_reg[:-N_HOLDOUT], eps_reg[:-N_HOLDOUT]
    m_out, e_out = m_reg[-N_HOLDOUT:], eps_reg[-N_HOLDOUT:]
    fits = {form: fit_form(m_fit, e_fit, form) for form in ("power", "exp")}
    rmse_power, rmse_exp = (log_rmse(fits[f], m_out, e_out) for f in ("power", "exp"))
    holdout_ratio = rmse_power / max(rmse_exp, 1e-12)
if n_region >= 4:
    whole = fit_form(m_reg, eps_reg, "power")
    beta, gamma, alpha = whole["slope"], whole["const"], math.exp(whole["icept"])
    beta_s = [fit_form(m_reg, curve_s[i, region], "power")["slope"] for i in range(len(seed_list))]
    beta_lo, beta_hi = interval(beta_s)
else:
    beta_s = []

drop_s = curve_s[:, 0] - curve_s[:, -1]
drop_lo, drop_hi = interval(drop_s)

beta_p_s, beta_p_lo, beta_p_hi, beta_p = [], nan, nan, nan
top_censored = bottom_censored = nan
if n_region >= 2:
    beta_p_s = [np.polyfit(np.log(m_reg), np.log(params_star[i, region]), 1)[0] for i in range(len(seed_list))]
    beta_p = float(np.mean(beta_p_s))
    beta_p_lo, beta_p_hi = interval(beta_p_s)
    top_censored = float(np.mean(width_star[:, -1] == max(P.widths)))
    bottom_censored = float(np.mean(width_star[:, start] == min(P.widths)))

print(f"power-law region: m in {P.sizes[start:]} ({n_region} sizes)")
if fits:
    print(f"held out m = {m_out.astype(int).tolist()}: log-RMSE power law {rmse_power:.3f}, exponential "
          f"{rmse_exp:.3f}, ratio {holdout_ratio:.3f}")
print(f"whole-region fit: eps(m) = {alpha:.3g} m^{beta:.3f} + {gamma:.4f}; per-seed beta "
      f"{np.round(beta_s, 3).tolist()}, 95% t-interval [{beta_lo:.3f}, {beta_hi:.3f}]")
print(f"error drop from m = {P.sizes[0]} to {P.sizes[-1]}: per seed {np.round(drop_s, 3).tolist()}, "
      f"interval [{drop_lo:.3f}, {drop_hi:.3f}]")
print(f"model-size exponent beta_p per seed {np.round(beta_p_s, 3).tolist()}, interval [{beta_p_lo:.3f}, "
      f"{beta_p_hi:.3f}]; smallest near-best width at the top of the grid in {top_censored:.0%} of seeds "
      f"(largest m), at the bottom in {bottom_censored:.0%} (first region size)")

# %% [markdown]
# **How sharp is the held-out comparison?** A diagnostic, not in the rule: a parametric bootstrap from
# each fitted form. Curves are drawn from the fitted power law and from the fitted exponential at the
# region's sizes, with log-normal noise of the size measured between repetitions (the standard error of
# the mean log error), and the comparison is rerun on each. The share of exponential draws with a ratio
# $\le 0.5$ is how often the rule could say `supported` for a curve that is really an exponential; the
# share of power-law draws above 1, how often it could say `contradicted` for a real power law.

# %%
false_support = false_contra = noise_sd = nan
if fits:
    noise_sd = float(np.mean(np.std(np.log(curve_s[:, region]), axis=0, ddof=1)) / math.sqrt(len(seed_list)))
    sim_rng = np.random.default_rng(P.seed)
    ratios = {}
    for form in ("power", "exp"):
        truth = predict(fits[form], m_reg)
        draws = []
        for _ in range(100):
            e = truth * np.exp(sim_rng.normal(0, noise_sd, len(m_reg)))
            f = {g: fit_form(m_reg[:-N_HOLDOUT], e[:-N_HOLDOUT], g) for g in ("power", "exp")}
            draws.append(log_rmse(f["power"], m_reg[-N_HOLDOUT:], e[-N_HOLDOUT:])
                         / max(log_rmse(f["exp"], m_reg[-N_HOLDOUT:], e[-N_HOLDOUT:]), 1e-12))
        ratios[form] = np.array(draws)
    false_support = float(np.mean(ratios["exp"] <= 0.5))
    false_contra = float(np.mean(ratios["power"] > 1))
    print(f"noise (s.e. of the mean log error) {noise_sd:.3f}; draws from the fitted exponential with ratio <= 0.5: "
          f"{false_support:.0%}; draws from the fitted power law with ratio > 1: {false_contra:.0%}")

# %% [markdown]
# ## Results
#
# **Figure 1.** Test error against training-set size, both on log scales: one line per width (mean over
# repetitions), the best-model curve $\varepsilon(m)$ (black), the power law (red) and the exponential (blue)
# fitted to the region without its two largest sizes, drawn dashed beyond the fitted range, and the two
# held-out points circled. Look for a straight stretch of the black curve, and for which extrapolation
# passes through the circled points.

# %%
fig, ax = gu.subplots(width=8.5, height=5.2)
palette = sns.color_palette("viridis", len(P.widths))
sns.lineplot(data=final, x="m", y="test_error", hue="width", palette=palette, marker="o", errorbar="sd",
             ax=ax, legend="full")
ax.plot(m_grid, eps, color="black", marker="s", linewidth=2.2, label="best model (by validation)")
left, right = m_grid[0] / 1.2, m_grid[-1] * 1.2
if start > 0:
    edge = np.sqrt(m_grid[start - 1] * m_grid[start]) if start < len(m_grid) else right
    ax.axvspan(left, edge, color="grey", alpha=0.12, label="small-data region")
if fits:
    grid = np.geomspace(m_fit[0], m_grid[-1] * 1.1, 200)
    for form, colour, name in (("power", "C3", "power law"), ("exp", "C0", "exponential")):
        inside = grid <= m_fit[-1]
        ax.plot(grid[inside], predict(fits[form], grid[inside]), color=colour, linewidth=2,
                label=f"{name} fit (held-out log-RMSE {log_rmse(fits[form], m_out, e_out):.3f})")
        ax.plot(grid[~inside], predict(fits[form], grid[~inside]), color=colour, linewidth=1.5, linestyle="--")
    ax.scatter(m_out, e_out, s=220, facecolors="none", edgecolors="C3", linewidths=1.5, zorder=4,
               label="held-out sizes")
ax.set(xscale="log", yscale="log", xlim=(left, right))
ax.legend(fontsize="x-small", ncols=2, title="width c")
gu.label(ax, "training-set size m (log scale)", "test error (log scale)", "MNIST-1D learning curves")

# %% [markdown]
# **Figure 2.** The best model size $s^*(m)$ in parameters against $m$ (log-log): one dot per repetition
# (jittered), the line of slope $\hat\beta_p$ through their geometric mean, slope 1 for comparison
# (dotted), and the largest and smallest models of the grid (grey). Look for a staircase that climbs more
# slowly than the dotted line, and whether it runs into the top of the grid: there the slope is only a
# lower bound.

# %%
fig, ax = gu.subplots(width=7, height=4.6)
rng = np.random.default_rng(0)
for i in range(len(seed_list)):
    ax.scatter(m_grid * np.exp(rng.uniform(-0.04, 0.04, len(m_grid))), params_star[i], s=40, color="black",
               alpha=0.6, label="smallest near-best model" if i == 0 else None, zorder=3)
if n_region >= 2 and np.isfinite(beta_p):
    geo = np.exp(np.log(params_star[:, region]).mean(0))
    icept = np.mean(np.log(geo)) - beta_p * np.mean(np.log(m_reg))
    ax.plot(m_reg, np.exp(icept) * m_reg**beta_p, color="C3", label=f"slope β_p = {beta_p:.2f}")
    ax.plot(m_reg, geo[0] * m_reg / m_reg[0], color="grey", linestyle=":", label="slope 1")
for c in (min(P.widths), max(P.widths)):
    ax.axhline(params_of[c], color="grey", linewidth=1, alpha=0.6)
ax.set(xscale="log", yscale="log", ylim=(params_of[min(P.widths)] / 1.6, params_of[max(P.widths)] * 1.6))
ax.set_yticks([params_of[c] for c in P.widths])
ax.yaxis.set_major_formatter("{x:g}")
ax.yaxis.set_minor_formatter("")
ax.legend(fontsize="small")
gu.label(ax, "training-set size m (log scale)", "parameters of the best model (log scale)",
         "Best model size against data size")

# %% [markdown]
# **Explorer.** The model-size curve at one data size at a time: move the slider over the training-set size
# $m$ to see validation and test error against the model's parameters (mean ± s.d. over repetitions), with
# the best-model error and the chosen widths beside it. Look for the minimum moving to larger models as $m$
# grows (the staircase of Figure 2), and for where it stops moving.

# %%
def size_frame(m: int, ax) -> None:
    long = final[final.m == m].melt(id_vars=["params", "seed"], value_vars=["val_error", "test_error"], var_name="error on")
    sns.lineplot(data=long, x="params", y="value", hue="error on", marker="o", errorbar="sd", ax=ax)
    ax.set(xscale="log", yscale="log")
    gu.label(ax, "parameters of the CNN (log scale)", "error (log scale)", f"m = {m} training examples")


gu.explore(P.sizes, size_frame, label="training-set size m", start=len(P.sizes) // 2,
           numbers=lambda m: summary.loc[m, ["best test error", "best val error", "best width (arg-min val, per seed)",
                                             "smallest near-best width (per seed)"]].to_dict())

# %% [markdown]
# **Figure 3.** Convergence: the epoch at which each run reached its best validation error, by width and
# size (mean over repetitions, bars the spread). Look for every run stopping well before `max_epochs`
# (the dotted line), and for the small widths needing many more epochs than the large ones: a fixed
# step budget would have cut those off.

# %%
fig, ax = gu.subplots(width=7, height=4.4)
sns.lineplot(data=final, x="m", y="best_epoch", hue="width", palette=palette, marker="o", errorbar=("pi", 100),
             ax=ax)
ax.axhline(P.max_epochs, color="grey", linestyle=":", label="max_epochs")
ax.set(xscale="log")
ax.legend(fontsize="small", title="width c")
gu.label(ax, "training-set size m (log scale)", "epoch of the best validation error", "Early stopping")

# %% [markdown]
# ## Verdict
#
# The rule was committed before the first `cpu` run of this version. All its statistics are
# measurements on held-out data; rule constants (0.6, two held-out sizes, 5%, the thresholds below) are
# fixed in the code, not parameters.
#
# - **Power law** (evidence for): the region holds at least 6 sizes; on the two held-out sizes the
#   power law's log-RMSE is at most half the exponential's (`holdout_ratio` $\le 0.5$); the exponent's
#   t-interval lies below 0 (`beta_hi` < 0); and the error falls over the grid by at least 0.05 in every
#   plausible value (`err_drop_lo` $\ge 0.05$).
# - **Model size** (evidence for): the model-size exponent's interval lies inside $(0, 1)$ (`beta_p_lo` > 0,
#   `beta_p_hi` < 1), and the smallest near-best model is inside the grid for every repetition at both
#   ends of the region (`top_censored` = `bottom_censored` = 0), since a cut-off staircase only gives a
#   lower bound on the slope.
# - `supported` when both hold. `contradicted` when any of these holds: the error does not fall
#   (`err_drop_hi` < 0.05, the whole interval below a drop of 0.05); the exponential predicts the held-out
#   sizes better than the power law (`holdout_ratio` > 1); the best model grows at least linearly
#   (`beta_p_lo` $\ge 1$; censoring can only hide growth, so this lower bound stands even when the
#   staircase is cut off). `inconclusive` otherwise.
# - **Instrument check**: at most 10% of the runs reached `max_epochs` without converging.
#
# The paper's exponent range ($-0.35 \le \beta_g \le -0.07$) is not in the rule: the paper reports it as
# what four real applications gave, against $-0.5$ or $-1$ from theory, and the exponent is a property
# of the task; the chapter prints where the miniature's exponent falls.

# %%
frac_unconverged = float((~final.converged).mean())
statistics = {
    "n_region": n_region,
    "region_first_m": float(m_reg[0]) if n_region else nan,
    "holdout_ratio": float(holdout_ratio),
    "rmse_power": float(rmse_power),
    "rmse_exp": float(rmse_exp),
    "beta": float(beta),
    "beta_lo": float(beta_lo),
    "beta_hi": float(beta_hi),
    "alpha": float(alpha),
    "gamma": float(gamma),
    "beta_in_paper_range": float(-0.35 <= beta <= -0.07) if np.isfinite(beta) else nan,
    "err_first": float(eps[0]),
    "err_last": float(eps[-1]),
    "err_drop_lo": float(drop_lo),
    "err_drop_hi": float(drop_hi),
    "beta_p": float(beta_p),
    "beta_p_lo": float(beta_p_lo),
    "beta_p_hi": float(beta_p_hi),
    "top_censored": float(top_censored),
    "bottom_censored": float(bottom_censored),
    "noise_sd": noise_sd,
    "sim_false_support": false_support,
    "sim_false_contradiction": false_contra,
    "frac_unconverged": frac_unconverged,
    "max_best_epoch": float(final.best_epoch.max()),
}
power_law = gu.all_of(
    gu.cond("n_region", ">=", N_HOLDOUT + 4), gu.cond("holdout_ratio", "<=", 0.5),
    gu.cond("beta_hi", "<", 0), gu.cond("err_drop_lo", ">=", 0.05),
)
model_size = gu.all_of(
    gu.cond("beta_p_lo", ">", 0), gu.cond("beta_p_hi", "<", 1),
    gu.cond("top_censored", "<=", 0), gu.cond("bottom_censored", "<=", 0),
)
RULE = gu.rule(
    supported=gu.all_of(power_law, model_size),
    contradicted=gu.any_of(
        gu.cond("err_drop_hi", "<", 0.05), gu.cond("holdout_ratio", ">", 1), gu.cond("beta_p_lo", ">=", 1),
    ),
    checks={"runs_converged": gu.cond("frac_unconverged", "<=", 0.10)},
)
print(pd.Series(statistics).to_string())
print(f"exponent beta = {beta:.3f} against the paper's range for real applications [-0.35, -0.07] "
      f"and theory's -0.5 or -1")

record = gu.report_verdict(
    chapter="scaling_laws", params=P, rule=RULE, statistics=statistics, seeds=seed_list,
    headline=["holdout_ratio", "beta", "beta_hi", "err_drop_hi", "beta_p", "beta_p_lo", "beta_p_hi",
              "top_censored"],
)

# %% [markdown]
# ### Rule history
#
# - **First rule** (study card 27): on the best-over-widths curve of runs trained for one fixed budget
#   of 1,000 Adam steps, one seed, widths 4–32 and sizes 250–16,000: `supported` when a power-law
#   region (from the first size with error below 0.5 to the first doubling that kept more than
#   `flat_ratio` = 90% of the error) held at least 4 sizes with $R^2 \ge 0.95$ and a jackknife interval on
#   $\beta$ below 0, the best *width* never decreased, took at least two values and had log-log slope
#   $\beta_p < 1$, and Spearman $\rho(m, \varepsilon) \le -0.8$; `contradicted` when $\rho > -0.8$ or $\beta_p \ge 1$.
#   Its `cpu` verdict was **supported**: $\beta = -1.18$ [−1.30, −1.07], $R^2$ = 0.9999,
#   $\rho = -1$, best-width slope $\beta_p$ = 0.18 (71.6 s).
# - **Why it was replaced** (review of the dynamics part, §6): the leaves were nearly true by
#   construction. Widths 4–32 against sizes ×64 bound the width slope near 0.5, so $\beta_p < 1$ could not
#   fail; slope in width, not parameters, halved it again; $\rho \le -0.8$ holds for any falling curve;
#   and a 3-parameter fit scored by $R^2$ on a region cut where the curve bends passes for any smooth
#   convex decreasing curve, an exponential included. One step budget for all sizes under-trained the
#   largest sets, so the "irreducible" floor could be a budget floor; `flat_ratio`, which set the region's
#   end, was a parameter a reader could move after seeing the result; the best width was chosen on the
#   test set. The new rule trains every run to convergence on a validation split, scores the power law
#   against an exponential on held-out sizes, measures size in parameters on a grid that lets
#   $\beta_p \ge 1$ come out, refuses a cut-off staircase as evidence for sublinear growth, uses
#   t-intervals over three seeds, and adds the falsification run.
# - **This rule's `cpu` verdicts** (first run, unchanged since): main run **contradicted**: the
#   exponential predicted the two held-out sizes better than the power law (`holdout_ratio` = 1.29,
#   log-RMSE 0.212 against 0.164); falsification run **contradicted**: the error did not fall
#   (`err_drop_hi` = 0.022, test error 0.888 at m = 354 and 0.897 at m = 2,828). Main run 111–122 s over
#   two identical runs (102–111 s of it training), falsification run 37–39 s, on two cores shared with
#   other jobs (load about 0.7–2).
#
# **Reading the main verdict.** The best-model curve falls from 0.588 at m = 354 to 0.139 at 2,828 and
# its local log-log slope steepens from about −0.5 to about −1.1 up to m = 2,000 (−0.65 on the last
# step; the table above): over the sizes the `cpu` profile can afford, the curve is still bending out
# of the small-data region, not yet on a straight line. A power law fitted to 354–1,414 therefore under-predicts the fall to 2,000 and
# 2,828, and an exponential, which steepens on log axes, misses by less. The parametric bootstrap says
# this is not noise (draws from the fitted power law gave a ratio above 1 in 0% of cases) but also that
# the comparison is weak the other way (46% of draws from the fitted exponential would have passed as a
# power law). The whole-region exponent, $\beta = -0.72$ [−0.83, −0.60], is far steeper than the
# paper's $[-0.35, -0.07]$ and inside theory's $-0.5$ to $-1$. The model-size half gives no evidence
# either way: the lowest validation error belongs to the widest model (c = 32) at every size and seed,
# the smallest near-best model is at the top of the grid at m = 2,828 in every repetition, and
# $\beta_p$ = 0.49 with interval [−0.90, 1.88]. So the miniature does not reproduce the claim at this
# scale: over an eight-fold range of data on MNIST-1D the curve is still bending, and with early
# stopping the best CNN here is the largest affordable one. The `gpu` profile
# (354 to 32,000 examples, widths to 256) is the run that could show a straight stretch and an interior
# best size; it has not been run.

# %% [markdown]
# ## Faithfulness notes
#
# - One synthetic task (MNIST-1D) instead of the paper's four domains, and a width sweep of one CNN
#   family with one learning rate instead of the paper's per-size architecture and hyperparameter
#   search. The exponent's value is task-specific; the chapter tests the *form* of the curve (against an
#   exponential, on sizes the fit did not see) and the growth of the best model, and prints where the
#   exponent falls against the paper's $[-0.35, -0.07]$.
# - This repair: early stopping on a validation split (never the test set) instead of one step budget;
#   model choice on validation error; size in parameters; the held-out comparison with an exponential;
#   censoring of the best-size staircase made explicit; intervals over seeds; the `label_noise` knob and
#   the falsification run; `flat_ratio` removed (the region's end is absorbed by the fitted constant, its
#   start is a fixed rule constant).
# - Scaled down for the 3-minute `cpu` budget: sizes 354–2,828 (a factor 8, not the paper's 2–3 orders
#   of magnitude) and widths 4–32 (338 to 8,010 parameters, a factor 24, so a slope $\beta_p$ up to about
#   1.5 can be measured). Training to convergence costs far more than the old fixed budget, and the
#   largest sets and widths dominate the cost. The `gpu` profile (not run here) covers 354–32,000 and
#   widths up to 256 with five seeds.
# - The "best model size" rests on a rule constant (the smallest width within 5% of the best validation
#   error). With early stopping, wider CNNs are rarely worse than narrower ones on this task, so the
#   best size can sit at the top of any affordable grid; the rule then returns no `supported` for the
#   model-size half, and Figure 2 shows the lower bound.
# - A single learning rate for all widths and sizes (`lr` = 0.01, Adam) favours neither arm of the
#   held-out comparison, which fits curves, not models; but it is not the per-size tuning of the paper,
#   and the small widths converge slowly under it (Figure 3).
# - Minibatches are $\lfloor m/8 \rfloor$, so each epoch has eight steps at every size; the paper's batch sizes
#   were fixed per domain. The last partial minibatch of an epoch is dropped (at most 7 examples, a new
#   shuffle each epoch).
# - The held-out comparison extrapolates over a factor 2 in $m$ from at least four fitted sizes; an
#   exponential and a power law that agree on the fitted sizes can both miss, and then the ratio decides
#   nothing (`inconclusive` between 0.5 and 1). Over a factor 8 in $m$ the two forms are not far apart:
#   the parametric-bootstrap diagnostic above prints how often noise of the measured size would make an
#   exponential pass as a power law, or the reverse.
# - With label noise the validation labels are noisy too (they come from the same pool), as in a real
#   data set; the test labels are clean, so the test error measures the true task.
