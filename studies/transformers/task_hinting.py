# ---
# jupyter:
#   genbook:
#     claim: Training a transformer on sorting together with a simpler related auxiliary
#       task (for every input element, emit it and its successor in sorted order) improves
#       sorting accuracy on sequences longer than any seen in training, at matched in-distribution
#       competence, compared with training on sorting alone.
#     'null':
#       hint_task: perm
#     null_reason: The hinted arm's auxiliary task keeps the hint's format, length and
#       share but loses its successor content, the cause the paper names.
#     paper: Awasthi & Gupta 2023, arXiv:2310.00726
#     part: transformers
#     profiles:
#       gpu:
#         conditions:
#         - baseline
#         - hinted
#         - useless_hint
#         d_model: 128
#         eval_every: 500
#         max_len: 224
#         n_layers: 4
#         n_test: 2000
#         n_val: 1000
#         steps: 10000
#         test_lens:
#         - 10
#         - 20
#         - 30
#         - 40
#         - 100
#         time_steps: 20
#         train_len: 20
#         vocab_k: 20
#       smoke:
#         eval_every: 50
#         max_len: 48
#         n_test: 100
#         n_val: 100
#         seeds: 1
#         steps: 150
#         test_lens:
#         - 3
#         - 6
#         - 9
#         - 12
#         time_steps: 3
#         train_len: 6
#     title: Task hinting - a successor hint for length generalization in sorting
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
# # Improving length generalization in transformers via task hinting
#
# **Paper.** Pranjal Awasthi and Anupam Gupta, *Improving Length-Generalization in Transformers via Task
# Hinting*, 2023 ([arXiv:2310.00726](https://arxiv.org/abs/2310.00726)). No official code was found.
#
# **Claim under test.** "While training the model on task-specific data, it is helpful to simultaneously train
# the model to solve a simpler but related auxiliary task as well" (abstract). For sorting, the auxiliary task
# that helps is the *successor* task: for every input element, output the element and the element that follows
# it in sorted order. The distinctive, testable part is that the gain is a gain in **length generalization** —
# it shows at lengths never seen in training *when both models are equally good at the training lengths* — and
# that it comes from the hint's **content** (the successor relation, a sub-step of sorting), not merely from
# multitask training on longer outputs: "while several auxiliary tasks may seem natural a priori, their
# effectiveness in improving length generalization differs dramatically" (abstract).
#
# **The paper's evidence.** From the abstract: trained on sequences of length at most 20, sorting accuracy on
# length 100 rises "from less than 1% (for standard training) to more than 92% (via task hinting)"; probing and
# visualization, a theoretical construction, and "a small number of length dependent parameters" add further
# gains; the approach also helps "beyond sorting". A third-party summary (sciencestack.ai, 2310.00726) gives
# 92.6 % at length 100 *with repetitions* and names the construction's primitives (copy, min, identity +
# successor) and a length-dependent tempered softmax, and an increment task. The paper's body — which other
# auxiliary tasks it tried, their numbers, the model sizes and training lengths of its runs — was **not found**:
# every stored copy we could reach (ar5iv, a Markdown mirror, catalyzex, emergentmind, arxivlens) could be read
# at its abstract only. So the miniature is compared with the abstract's qualitative claim, and the gpu arm
# with a counting task is called *this chapter's natural-looking alternative hint*, not the paper's.
#
# **What is scaled down.** Two-layer, width-64 transformers, sorting sequences of 1–8 symbols from an alphabet
# of 10 (repetitions common), tested at 4, 8, 12 and 16 symbols, three seeds per arm, all six models trained
# together in one batched stack; the paper trains on lengths up to 20 and tests to 100 with larger models.

# %%
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch

import genutils as gu
from genutils import many
from genutils.models import OffsetInput, TinyGPT
from genutils.training import (Specials, dataset_batches, lm_batch, lm_loss, lm_targets, lr_schedule, pack,
                               rows_correct, train_lm)

gu.set_theme()

# %% tags=["parameters"]
seed = 0  # base seed; model (arm a, seed s) uses seed + 1000 * a + s for its init, data and permutation
vocab_k = 10  # symbol alphabet K (inputs i.i.d. uniform on 0..K-1, so repetitions are common)
train_len = 8  # training lengths are uniform on 1..train_len
test_lens = [4, 8, 12, 16]  # test lengths; must contain train_len, 1.5 * train_len and 2 * train_len
steps = 700  # optimizer steps per model (the same for every arm)
lr = 0.003  # peak learning rate of the one-cycle schedule
batch = 64  # sequences per step
d_model = 64  # transformer width
n_layers = 2  # transformer blocks
n_heads = 4  # attention heads
max_len = 48  # rows of the learned position table (random offsets in training cover them)
n_test = 300  # test sequences per length
seeds = 3  # models per arm
conditions = ["baseline", "hinted"]  # arms; the first two are always baseline and hinted
hint_task = "successor"  # auxiliary task of the hinted arm: successor (the paper's) or perm (falsification)
eval_every = 100  # steps between checkpoints
n_val = 300  # validation sort sequences (length train_len) scored at every checkpoint
id_gate = 0.8  # the lowest matched in-distribution level tau that still allows a verdict
time_steps = 10  # steps of one-by-one training timed per model, for the batched-vs-sequential comparison

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    vocab_k=gu.Int(min=2),
    train_len=gu.Int(min=2),
    test_lens=gu.List(gu.Int(min=1), min_len=3, increasing=True),
    steps=gu.Int(min=10),
    lr=gu.Float(gt=0, max=1),
    batch=gu.Int(min=2),
    d_model=gu.Int(min=8),
    n_layers=gu.Int(min=1),
    n_heads=gu.Int(min=1),
    max_len=gu.Int(min=8),
    n_test=gu.Int(min=10),
    seeds=gu.Int(min=1),
    conditions=gu.List(gu.Choice("baseline", "hinted", "useless_hint"), min_len=2),
    hint_task=gu.Choice("successor", "perm"),
    eval_every=gu.Int(min=1),
    n_val=gu.Int(min=10),
    id_gate=gu.Float(gt=0, max=1),
    time_steps=gu.Int(min=1),
)
if P.conditions[:2] != ["baseline", "hinted"] or len(set(P.conditions)) != len(P.conditions):
    raise gu.ParameterError("conditions", f"must start with baseline, hinted and not repeat an arm, got {P.conditions}")
if P.train_len % 2:
    raise gu.ParameterError("train_len", f"must be even (the deciding test length is 1.5 * train_len), got {P.train_len}")
L_OOD, L_2X = 3 * P.train_len // 2, 2 * P.train_len
if not {P.train_len, L_OOD, L_2X} <= set(P.test_lens):
    raise gu.ParameterError("test_lens", f"must contain train_len, 1.5 and 2 times it ({P.train_len}, {L_OOD}, {L_2X}), got {P.test_lens}")
if P.d_model % P.n_heads:
    raise gu.ParameterError("n_heads", f"must divide d_model = {P.d_model}, got {P.n_heads}")
if "useless_hint" in P.conditions and P.vocab_k < P.train_len:
    raise gu.ParameterError("vocab_k", f"the COUNT hint writes counts 0..train_len-1 as symbols: need vocab_k >= train_len = {P.train_len}, got {P.vocab_k}")
if P.eval_every > P.steps:
    raise gu.ParameterError("eval_every", f"must be at most steps = {P.steps}, got {P.eval_every}")
T_TRAIN = 3 * P.train_len + 4  # BOS TASK x SEP y EOS with the 2n-token hint at n = train_len
T_TEST = 2 * max(P.test_lens) + 4  # the longest sort test row
if P.max_len < max(T_TRAIN, T_TEST):
    raise gu.ParameterError("max_len", f"must hold the longest training row ({T_TRAIN} tokens) and test row ({T_TEST}), got {P.max_len}")

K = P.vocab_k
END, SORT, HINT, COUNT = K, K + 1, K + 2, K + 3  # END closes the successor chain; then the three TASK tokens
SP = Specials(bos=K + 4, sep=K + 5, eos=K + 6, pad=K + 7)
ARM_CODE = {"baseline": 0, "hinted": 1, "useless_hint": 2}  # fixed, so a seed never depends on the arm list
AUX = {"baseline": None, "hinted": P.hint_task, "useless_hint": "count"}
device = gu.device()
print(f"training rows of {T_TRAIN} tokens (sort rows padded to the hint's length), test rows up to {T_TEST}; "
      f"vocabulary {SP.vocab_size}; device {device}")
P

# %% [markdown]
# ## Tasks and sequences
#
# Inputs x are n symbols drawn i.i.d. uniformly from {0, …, K−1} (repetitions are common: at n = 8 and K = 10
# most inputs repeat a symbol). Every example is one sequence `BOS TASK x₁…x_n SEP y EOS` (then padding); the
# loss and the scores read only the answer tokens y and EOS.
#
# - **SORT** (the main task): y = sorted(x), ascending.
# - **HINT, `successor`** (the paper's hint, in this chapter's precise reading of "identity + successor"): let s be
#   the stable sort of x and rank(i) the position of x_i in s; y = x₁, s_{rank(1)+1}, x₂, s_{rank(2)+1}, …, x_n,
#   s_{rank(n)+1}, with s_{n+1} = END, a special token. Each element is copied and followed by its successor
#   in sorted order, 2n tokens.
# - **HINT, `perm`** (the falsification run): y = x₁, π(x₁), …, x_n, π(x_n) with π a fixed random permutation of
#   the K symbols drawn per model — the same TASK token, format, 2n-token length and identity copy, but an
#   element-local relabelling with no sorted-order content.
# - **COUNT** (`gpu` only, the `useless_hint` arm; this chapter's natural-looking alternative hint): y_i = the number
#   of elements of x smaller than x_i, written as a symbol, n tokens.
#
# Training lengths are uniform on 1…`train_len`. In the hinted arms each example is SORT or the auxiliary task
# with probability ½, so sorting gets half the examples of the baseline: the comparison is at equal compute, which
# favours the baseline on sort data. Every training row is padded to the hint's length, 3·train_len + 4 tokens,
# in every arm, so all models have one shape and draw their position offsets from the same range.

# %%
def sort_targets(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Rows of sorted(x[:n]) (entries past a row's length unused)."""
    valid = torch.arange(x.shape[1])[None, :] < n[:, None]
    return torch.where(valid, x, K + 1).sort(1).values


def successor_hint(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Rows x₁, succ(1), x₂, succ(2), …: succ(i) = s[rank(i) + 1] of the stable sort s, END after the last."""
    rows, width = x.shape
    valid = torch.arange(width)[None, :] < n[:, None]
    s, order = torch.where(valid, x, K + 1).sort(dim=1, stable=True)  # padding sorts after every symbol
    rank = torch.empty_like(order).scatter_(1, order, torch.arange(width).expand(rows, -1))
    nxt = rank + 1
    succ = torch.cat([s, s[:, :1]], 1).gather(1, nxt)
    succ = torch.where(nxt < n[:, None], succ, torch.full_like(succ, END))
    return torch.stack([x, succ], 2).reshape(rows, 2 * width)


def perm_hint(x: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    """Rows x₁, π(x₁), x₂, π(x₂), …."""
    return torch.stack([x, pi[x]], 2).reshape(x.shape[0], 2 * x.shape[1])


def count_hint(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Rows of c_i = #{j ≤ n : x_j < x_i}."""
    valid = torch.arange(x.shape[1])[None, :] < n[:, None]
    return ((x[:, None, :] < x[:, :, None]) & valid[:, None, :]).sum(2)


def rows_for(kind: str | None, x: torch.Tensor, n: torch.Tensor, aux: torch.Tensor, pi: torch.Tensor | None,
             *, length: int):
    """`lm_batch` rows (offsets 0) of inputs x (lengths n): SORT where `aux` is False, else the `kind` task."""
    width = x.shape[1]
    y = torch.full((x.shape[0], 2 * width), SP.pad, dtype=torch.long)
    y[:, :width] = sort_targets(x, n)
    ly, token = n.clone(), torch.full_like(n, SORT)
    if kind is not None and bool(aux.any()):
        if kind == "successor":
            ya, la, tok = successor_hint(x, n), 2 * n, HINT
        elif kind == "perm":
            ya, la, tok = perm_hint(x, pi), 2 * n, HINT
        else:
            ya, la, tok = count_hint(x, n), n, COUNT
        y[aux, :ya.shape[1]] = ya[aux]
        ly = torch.where(aux, la, ly)
        token = torch.where(aux, torch.full_like(n, tok), token)
    xin = torch.cat([token[:, None], x], 1)
    return lm_batch(xin, y, SP, x_lengths=n + 1, y_lengths=ly, length=length)


# %% [markdown]
# The generator is vectorized; below it is checked row by row against properties written plainly (instrument
# check C1, not evidence): for the successor hint, the (element, successor) pairs as a multiset equal the
# consecutive pairs (s_r, s_{r+1}) of the sorted input with s_{n+1} = END, and the elements come in input order;
# for `perm`, the pairs invert to x under π⁻¹; for COUNT, the counts are recounted; SORT answers equal Python's
# `sorted`; and the layout (BOS, TASK, SEP, EOS, answer mask, padding) is right.

# %%
def row_errors(kind: str | None, batch, pi: torch.Tensor | None, limit: int) -> int:
    """Rows (of the first `limit`) whose layout or answer breaks the plainly written property."""
    inv = None if pi is None else {int(b): a for a, b in enumerate(pi.tolist())}
    bad = 0
    for i in range(min(limit, batch.X.shape[0])):
        row = batch.X[i].tolist()
        try:
            sep, eos = row.index(SP.sep), row.index(SP.eos)
        except ValueError:
            bad += 1
            continue
        tok, x, y = row[1], row[2:sep], row[sep + 1:eos]
        ok = (row[0] == SP.bos and all(t == SP.pad for t in row[eos + 1:])
              and batch.mask[i].nonzero().flatten().tolist() == list(range(sep + 1, eos + 1))
              and all(0 <= v < K for v in x))
        if tok == SORT:
            ok = ok and y == sorted(x)
        elif tok == HINT and kind == "successor":
            s = sorted(x) + [END]
            pairs = sorted(zip(y[0::2], y[1::2]))
            ok = ok and len(y) == 2 * len(x) and y[0::2] == x and pairs == sorted(zip(s[:-1], s[1:]))
        elif tok == HINT and kind == "perm":
            ok = ok and len(y) == 2 * len(x) and y[0::2] == x and [inv[b] for b in y[1::2]] == x
        elif tok == COUNT and kind == "count":
            ok = ok and y == [sum(v < u for v in x) for u in x]
        else:
            ok = False
        bad += not ok
    return bad


def draw_pi(model_seed: int) -> torch.Tensor:
    """The fixed relabelling π of one model (`perm`), from its own generator."""
    return torch.randperm(K, generator=torch.Generator().manual_seed(50_000 + model_seed))


# C1 on 1,000 random inputs of lengths 1..2*train_len for each auxiliary kind (all rows auxiliary)
g_c1 = torch.Generator().manual_seed(P.seed + 77)
c1_errors = {}
for kind in ["successor", "perm", "count"]:
    n = torch.randint(1, L_2X + 1, (1000,), generator=g_c1)
    x = torch.randint(K, (1000, L_2X), generator=g_c1)
    pi = draw_pi(P.seed)
    b = rows_for(kind, x, n, torch.ones(1000, dtype=torch.bool), pi, length=6 * P.train_len + 4)
    c1_errors[kind] = row_errors(kind, b, pi, 1000)
b = rows_for(None, x, n, torch.zeros(1000, dtype=torch.bool), None, length=6 * P.train_len + 4)
c1_errors["sort"] = row_errors(None, b, None, 1000)
print("C1 rows breaking the property (of 1,000 each):", c1_errors)

# %% [markdown]
# ## The model and its training
#
# One `TinyGPT` per arm and seed (`genutils.models`): a nanoGPT-style decoder (pre-LayerNorm, causal attention
# through PyTorch's fused `scaled_dot_product_attention`, GPT-2 initialization), width 64, 2 layers, 4 heads,
# a learned table of `max_len` = 48 absolute positions. Each training row gets a random position offset,
# uniform on {0, …, 48 − 28}, so every row of the table that a test sequence uses is trained; test rows start
# at offset 0. AdamW (β = 0.9, 0.98, weight decay 0.01), a one-cycle schedule peaking at lr 3·10⁻³ after 10 % of
# the steps, gradient norm clipped at 1, cross-entropy on the answer tokens and EOS; batch 64, `steps` steps,
# every sequence fresh (`steps × batch` drawn per model, each seen once).
#
# All models of the run — every arm and seed, one shape — are trained **at once** by `genutils.many`
# (parameters stacked, `torch.func.vmap` over the model), each with its own initialization, data and batch
# order. Each model draws its lengths and inputs, its task coins, its π and its offsets from four separate
# generators seeded by its model seed: the baseline models are therefore bit-identical in the main and
# falsification runs, and the hinted models of the two runs see the same inputs, coins and offsets and differ
# only in the hint's content.
#
# **Checkpoints.** Every `eval_every` steps each model is scored, under teacher forcing, on a validation set of
# `n_val` fresh sort sequences of length train_len (ID_val, used only to choose the matched checkpoint) and on
# the sort test sets at 1.5 and 2 × train_len (the same sequences at every checkpoint and for every model).

# %%
MODELS = [(arm, s) for arm in P.conditions for s in range(P.seeds)]  # model k: (arm, seed index)
model_seeds = [P.seed + 1000 * ARM_CODE[arm] + s for arm, s in MODELS]


def make_model() -> torch.nn.Module:
    return OffsetInput(TinyGPT(SP.vocab_size, P.d_model, P.n_layers, P.n_heads, 4 * P.d_model, P.max_len, pos="learned"))


def training_set(arm: str, k_seed: int):
    """The `steps × batch` training rows of one model, with offsets, and its π (or None)."""
    rows = P.steps * P.batch
    g_x, g_task = torch.Generator().manual_seed(k_seed), torch.Generator().manual_seed(20_000 + k_seed)
    g_off = torch.Generator().manual_seed(30_000 + k_seed)
    n = torch.randint(1, P.train_len + 1, (rows,), generator=g_x)
    x = torch.randint(K, (rows, P.train_len), generator=g_x)
    kind = AUX[arm]
    aux = torch.rand(rows, generator=g_task) < 0.5 if kind is not None else torch.zeros(rows, dtype=torch.bool)
    pi = draw_pi(k_seed) if kind == "perm" else None
    b = rows_for(kind, x, n, aux, pi, length=T_TRAIN)
    off = torch.randint(0, P.max_len - T_TRAIN + 1, (rows,), generator=g_off)
    return b._replace(pos_offset=off), pi, aux


train_sets, perms, gen_bad = [], [], 0
row_hits = torch.zeros(P.max_len, dtype=torch.long)
aux_share = []
for (arm, s), k_seed in zip(MODELS, model_seeds):
    data, pi, aux = training_set(arm, k_seed)
    gen_bad += row_errors(AUX[arm], data, pi, 200)
    used = data.X != SP.pad
    row_hits += torch.bincount((data.pos_offset[:, None] + torch.arange(T_TRAIN))[used], minlength=P.max_len)
    train_sets.append(data)
    perms.append(pi)
    aux_share.append(float(aux.float().mean()))
print("share of auxiliary examples per model:", dict(zip([f"{a}{s}" for a, s in MODELS], np.round(aux_share, 3))))


def sort_test(n_len: int, rows: int, seed_: int):
    """`rows` fresh sort sequences of exactly `n_len` symbols, offset 0 (one set shared by all models)."""
    g = torch.Generator().manual_seed(seed_)
    x = torch.randint(K, (rows, n_len), generator=g)
    n = torch.full((rows,), n_len)
    return rows_for(None, x, n, torch.zeros(rows, dtype=torch.bool), None, length=2 * n_len + 4)


val_set = sort_test(P.train_len, P.n_val, P.seed + 90_001)
test_sets = {m: sort_test(m, P.n_test, P.seed + 100_000 + m) for m in P.test_lens}
for m, b in test_sets.items():
    gen_bad += row_errors(None, b, None, 100)
gen_bad += row_errors(None, val_set, None, 100)
ON = {name: (pack(b).to(device), b.X.to(device), b.mask.to(device))
      for name, b in [("val", val_set)] + [(m, test_sets[m]) for m in P.test_lens]}


def scores(m: many.ManyModels, name, chunk: int = 1000) -> torch.Tensor:
    """(K, rows) teacher-forced exact-match booleans of every model on one shared set."""
    xp, X, mask = ON[name]
    out = [rows_correct(m(xp[i:i + chunk]), X[i:i + chunk], mask[i:i + chunk]) for i in range(0, X.shape[0], chunk)]
    return torch.cat(out, 1)


def checkpoint(m: many.ManyModels, t: int) -> dict[str, torch.Tensor]:
    return {"id_val": scores(m, "val").float().mean(1), "ood": scores(m, L_OOD).float().mean(1),
            "ood_2x": scores(m, L_2X).float().mean(1)}


record_at = sorted(set(range(P.eval_every, P.steps + 1, P.eval_every)) | {P.steps})
X_train = torch.stack([pack(d) for d in train_sets]).to(device)
Y_train = torch.stack([lm_targets(d.X, d.mask) for d in train_sets]).to(device)
models = many.stack(make_model, model_seeds, device)
opt = dict(optimizer="adamw", lr=P.lr, weight_decay=0.01, betas=(0.9, 0.98), clip=1.0,
           schedule=lr_schedule("onecycle", P.steps, warmup=0.1))
wall0, cpu0 = time.perf_counter(), time.process_time()
hist = many.train_many(models, X_train, Y_train, lm_loss, steps=P.steps, data_seeds=model_seeds, batch_size=P.batch,
                       per_model_data=True, record=checkpoint, record_at=record_at,
                       desc=f"{len(MODELS)} transformers at once", **opt)
if device.type == "cuda":
    torch.cuda.synchronize()
batched_wall, batched_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
print(f"{len(MODELS)} models × {P.steps} steps trained together (with {len(record_at)} checkpoints): "
      f"{batched_wall:.1f} s wall, {batched_cpu:.1f} s CPU")
traj = hist.frame()
traj["arm"] = [MODELS[k][0] for k in traj.model]
traj["seed"] = [MODELS[k][1] for k in traj.model]

# %% [markdown]
# **Batched against one-by-one.** The same models trained one at a time by `train_lm` (AdamW from `torch.optim`,
# the same schedule, data and batch order) for `time_steps` steps each, after one untimed step; the ratio of time
# per step of all models is the gain of training them together, in this run, on this machine (the batched time
# includes its checkpoints, so the ratio is a lower bound).

# %%
seq_wall = seq_cpu = 0.0
for data, k_seed in zip(train_sets, model_seeds):
    alone = many.build(make_model, k_seed, device).model
    rows = (P.time_steps + 1) * P.batch
    short = data._replace(X=data.X[:rows], mask=data.mask[:rows], pos_offset=data.pos_offset[:rows])
    clock = {}

    def stamp(model, t):  # the first step (allocations, kernel choice) is left out of the timing
        if device.type == "cuda":
            torch.cuda.synchronize()
        clock[t] = (time.perf_counter(), time.process_time())
        return {}

    train_lm(alone, dataset_batches(short, P.batch, k_seed), P.time_steps + 1, P.lr, schedule="onecycle",
             desc="one model", record=stamp, record_at=[1, P.time_steps + 1])
    seq_wall += clock[P.time_steps + 1][0] - clock[1][0]
    seq_cpu += clock[P.time_steps + 1][1] - clock[1][1]
speedup_wall = (seq_wall / P.time_steps) / (batched_wall / P.steps)
speedup_cpu = (seq_cpu / P.time_steps) / (batched_cpu / P.steps)
print(pd.DataFrame({
    "how": ["together (genutils.many)", "one by one (train_lm)"],
    "wall ms per step of all models": [1e3 * batched_wall / P.steps, 1e3 * seq_wall / P.time_steps],
    "CPU ms per step of all models": [1e3 * batched_cpu / P.steps, 1e3 * seq_cpu / P.time_steps],
}).round(1).to_string(index=False))
print(f"speed-up of batched training: {speedup_wall:.2f}x wall, {speedup_cpu:.2f}x CPU time "
      f"({torch.get_num_threads()} threads; timings are not part of the verdict)")

# %% [markdown]
# ## Measurements at the end of training
#
# Sort exact match at every test length (teacher forced: every answer token and EOS the argmax; for a
# deterministic answer this equals greedy decoding, which check C2 verifies on 100 sequences per model and
# length by actually decoding), token accuracy per answer position, and the auxiliary task's own exact match
# and token accuracy at length train_len (on `n_val` fresh rows of each model's own auxiliary task).

# %%
final, tok_acc = {}, {}
with torch.no_grad():
    for m in P.test_lens:
        xp, X, mask = ON[m]
        logits = torch.cat([models(xp[i:i + 500]) for i in range(0, X.shape[0], 500)], 1)  # (K, rows, T, V)
        final[m] = rows_correct(logits, X, mask).float().mean(1).cpu()
        cols = mask[0, 1:].nonzero().flatten()
        tok_acc[m] = (logits[:, :, :-1].argmax(-1) == X[None, :, 1:])[:, :, cols].float().mean(1).cpu()  # (K, m+1)


def greedy_correct(name, rows: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """(K, rows) greedy-decoding exact match and teacher-forced exact match on the first `rows` of a set."""
    xp, X, mask = ON[name]
    xp, X, mask = xp[:rows], X[:rows], mask[:rows]
    answer = mask[0].nonzero().flatten()  # answer positions (y and EOS), the same in every row of a set
    buf = xp.clone()[None].repeat(len(MODELS), 1, 1)
    buf[:, :, 1 + int(answer[0]):] = SP.pad  # erase the answer: the model writes it
    with torch.no_grad():
        for p in answer.tolist():
            out = models(buf, per_model=True)  # (K, rows, T, V); token p is predicted at position p - 1
            buf[:, :, 1 + p] = out[:, :, p - 1].argmax(-1)
        tf = rows_correct(models(xp), X, mask)
    greedy = (buf[:, :, 1:][:, :, answer] == X[None, :, answer]).all(-1)
    return greedy.cpu(), tf.cpu()


greedy_mismatch, greedy_em = 0, {}
for m in P.test_lens:
    gr, tf = greedy_correct(m)
    greedy_mismatch += int((gr != tf).sum())
    greedy_em[m] = gr.float().mean(1)
print(f"C2: rows where greedy decoding and teacher forcing disagree: {greedy_mismatch} "
      f"(of {len(MODELS) * len(P.test_lens) * min(100, P.n_test)})")

aux_em, aux_tok = {}, {}
with torch.no_grad():
    for k, ((arm, s), k_seed) in enumerate(zip(MODELS, model_seeds)):
        if AUX[arm] is None:
            continue
        g = torch.Generator().manual_seed(P.seed + 60_000 + k_seed)
        x = torch.randint(K, (P.n_val, P.train_len), generator=g)
        b = rows_for(AUX[arm], x, torch.full((P.n_val,), P.train_len), torch.ones(P.n_val, dtype=torch.bool),
                     perms[k], length=T_TRAIN)
        gen_bad += row_errors(AUX[arm], b, perms[k], 50)
        one = models.model(k).to(device).eval()
        X, mask = b.X.to(device), b.mask.to(device)
        lg = one(pack(b).to(device))
        aux_em[k] = float(rows_correct(lg, X, mask).float().mean())
        hit = (lg[:, :-1].argmax(-1) == X[:, 1:]) & mask[:, 1:]
        aux_tok[k] = float(hit.sum() / mask[:, 1:].sum())

ends = pd.DataFrame([{"arm": arm, "seed": s, **{f"EM n={m}": float(final[m][k]) for m in P.test_lens},
                      "aux EM (n=train_len)": aux_em.get(k, float("nan")),
                      "aux token acc": aux_tok.get(k, float("nan"))} for k, (arm, s) in enumerate(MODELS)])
print(ends.round(3).to_string(index=False))

# %% [markdown]
# ## The matched-competence read
#
# τ = min(0.9, the lowest over all models of their best ID_val over checkpoints). Check C3 asks τ ≥ `id_gate`:
# every model learned to sort at the training length. Each model's **deciding checkpoint** is the first at which
# its ID_val ≥ τ (chosen on validation only); OOD_r is its sort exact match at 1.5 × train_len there. Then
# Δ = mean over hinted seeds of OOD_r − mean over baseline seeds, with a 95 % Welch t-interval over seeds (printed,
# not deciding), and the separation = the lowest hinted OOD_r − the highest baseline OOD_r (> 0 means every hinted
# seed beats every baseline seed; with 3 seeds per arm an exact permutation test at p = 1/20).

# %%
best = traj.groupby("model").id_val.max()
tau = float(min(0.9, best.min()))
picked = {}
for k in range(len(MODELS)):
    rows_k = traj[(traj.model == k) & (traj.id_val >= tau)].sort_values("step")
    picked[k] = rows_k.iloc[0] if len(rows_k) else None
read = pd.DataFrame([{"arm": arm, "seed": s, "best ID_val": float(best[k]),
                      "deciding step": int(picked[k].step) if picked[k] is not None else -1,
                      "ID_val there": float(picked[k].id_val) if picked[k] is not None else float("nan"),
                      "OOD_r (1.5x)": float(picked[k].ood) if picked[k] is not None else float("nan"),
                      "2x there": float(picked[k].ood_2x) if picked[k] is not None else float("nan")}
                     for k, (arm, s) in enumerate(MODELS)])
print(f"tau = {tau:.3f} (id_gate {P.id_gate})")
print(read.round(3).to_string(index=False))


def welch(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """95 % Welch t-interval for mean(a) − mean(b); NaN with fewer than two values per side."""
    from scipy.stats import t as student_t

    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    d = a.mean() - b.mean()
    if va + vb == 0:
        return float(d), float(d)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = student_t.ppf((1 + level) / 2, df) * np.sqrt(va + vb)
    return float(d - half), float(d + half)


def arm_values(arm: str, col: str, frame: pd.DataFrame = read) -> np.ndarray:
    return frame[frame.arm == arm][col].to_numpy(dtype=float)


last = traj[traj.step == traj.step.max()]
last_by = pd.DataFrame({"arm": [MODELS[k][0] for k in last.model], "ood": last.ood.to_numpy(),
                        "id_val": last.id_val.to_numpy(), "ood_2x": last.ood_2x.to_numpy()})
o_h, o_b = arm_values("hinted", "OOD_r (1.5x)"), arm_values("baseline", "OOD_r (1.5x)")
delta = float(o_h.mean() - o_b.mean())
lo, hi = welch(o_h, o_b)
statistics = {
    "n_seeds": float(P.seeds), "tau": tau, "delta": delta, "delta_lo": lo, "delta_hi": hi,
    "separation": float(o_h.min() - o_b.max()),
    "ood_hinted": float(o_h.mean()), "ood_baseline": float(o_b.mean()),
    "delta_2x": float(arm_values("hinted", "2x there").mean() - arm_values("baseline", "2x there").mean()),
    "delta_end": float(arm_values("hinted", "ood", last_by).mean() - arm_values("baseline", "ood", last_by).mean()),
    "id_gain_end": float(arm_values("hinted", "id_val", last_by).mean() - arm_values("baseline", "id_val", last_by).mean()),
    "aux_em": float(np.mean([aux_em[k] for k, (a, _) in enumerate(MODELS) if a == "hinted"])),
    "aux_token_acc": float(np.mean([aux_tok[k] for k, (a, _) in enumerate(MODELS) if a == "hinted"])),
    "c1_errors": float(sum(c1_errors.values()) + gen_bad), "greedy_mismatch": float(greedy_mismatch),
    "min_row_hits": float(row_hits[:T_TEST].min()),
}
statistics["end_gain_minus_matched"] = statistics["delta_end"] - delta
if "useless_hint" in P.conditions:
    o_u = arm_values("useless_hint", "OOD_r (1.5x)")
    statistics["delta_useless"] = float(o_u.mean() - o_b.mean())
print({k: round(v, 4) for k, v in statistics.items()})

# %% [markdown]
# ## Results
#
# **Figure 1.** Sort exact match against test length at the end of training, one line per arm (mean over seeds,
# thin lines per seed); the dotted line is the longest training length. Look for the hinted curve staying up
# longer to the right of the line.

# %%
curve = pd.DataFrame([{"arm": arm, "seed": s, "test length n": m, "exact match": float(final[m][k])}
                      for k, (arm, s) in enumerate(MODELS) for m in P.test_lens])
fig, ax = gu.subplots(width=7.5, height=4.2)
sns.lineplot(data=curve, x="test length n", y="exact match", hue="arm", units="seed", estimator=None,
             alpha=0.35, linewidth=1, legend=False, ax=ax)
sns.lineplot(data=curve, x="test length n", y="exact match", hue="arm", marker="o", errorbar=None, linewidth=2.5, ax=ax)
ax.axvline(P.train_len, color="grey", linestyle=":", linewidth=1)
ax.set(ylim=(-0.03, 1.05), xticks=P.test_lens)
gu.label(ax, "test length n (symbols to sort)", "sort exact match (end of training)",
         f"Trained on n = 1..{P.train_len}; hinted arm's hint: {P.hint_task}")

# %% [markdown]
# **Figure 2.** Token accuracy (teacher forced) at each answer position of a sort of length 2 × train_len, y₁ … y_n
# then EOS, per arm (mean over seeds). Look for where in the output each model breaks: at the first positions
# past train_len (positions never produced in training), or all along the answer.

# %%
tok = pd.DataFrame([{"arm": arm, "seed": s, "answer position (n + 1 = EOS)": j + 1, "token accuracy": float(v)}
                    for k, (arm, s) in enumerate(MODELS) for j, v in enumerate(tok_acc[L_2X][k].tolist())])
fig, ax = gu.subplots(width=7.5, height=4.0)
sns.lineplot(data=tok, x="answer position (n + 1 = EOS)", y="token accuracy", hue="arm", marker="o", errorbar=None, ax=ax)
ax.axvline(P.train_len, color="grey", linestyle=":", linewidth=1)
ax.set(ylim=(-0.03, 1.05))
gu.label(ax, "answer position j (n + 1 is EOS)", "token accuracy", f"Where the sort of n = {L_2X} goes wrong")

# %% [markdown]
# **Figure 3.** OOD exact match at 1.5 × train_len against ID_val, one trajectory over checkpoints per model,
# coloured by arm; the vertical line is the matched level τ and the large dots are the deciding checkpoints.
# Look for the hinted runs lying above the baseline runs *at the same ID_val*; if the trajectories coincide, an
# end-of-training gain was an in-distribution gain.

# %%
fig, ax = gu.subplots(width=7.5, height=4.6)
sns.lineplot(data=traj, x="id_val", y="ood", hue="arm", units="seed", estimator=None, sort=False, marker=".", ax=ax)
sns.scatterplot(data=read, x="ID_val there", y="OOD_r (1.5x)", hue="arm", s=120, legend=False, ax=ax)
ax.axvline(tau, color="grey", linestyle=":", linewidth=1)
ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
gu.label(ax, f"ID_val (sort exact match at n = {P.train_len}, validation)", f"sort exact match at n = {L_OOD}",
         f"Matched-competence read (tau = {tau:.2f})")

# %% [markdown]
# ## Verdict
#
# The rule was fixed before the first `cpu` run (study card 32, revised for the falsification convention).
#
# Instrument checks — failing one makes the verdict `inconclusive`; passing them is never evidence:
# - **C1** the generators are right (every checked row of the 1,000 per kind, of the training sets and of the
#   test sets keeps the property above);
# - **C2** teacher-forced exact match equals greedy-decoding exact match on 100 test sequences per model and length;
# - **C3** matched competence exists: τ ≥ `id_gate` (every model learned to sort at the training length);
# - (by construction) every position row a test sequence uses was trained (row-hit count > 0).
#
# Evidence, at each model's deciding checkpoint (first with ID_val ≥ τ):
# - **supported** when Δ ≥ 0.15 **and** every hinted seed's OOD_r exceeds every baseline seed's, with at least 3 seeds
#   per arm (with 1 seed, as at `smoke`, `supported` is not available);
# - **contradicted** when Δ ≤ 0.03 (at equal in-distribution competence the hint does not help with length);
# - `inconclusive` otherwise.
#
# Reported beside the verdict, not deciding: Δ at 2 × train_len (at the same checkpoints); Δ_end (the last
# checkpoint, the earlier rule's reading) and Δ_end − Δ; the ID gain at the last checkpoint; the hint task's own
# exact match and token accuracy; at `gpu`, the useless-hint arm's Δ.

# %%
RULE = gu.rule(
    supported=gu.all_of(gu.cond("n_seeds", ">=", 3), gu.cond("delta", ">=", 0.15), gu.cond("separation", ">", 0)),
    contradicted=gu.cond("delta", "<=", 0.03),
    checks={
        "C1_generators_correct": gu.cond("c1_errors", "<=", 0),
        "C2_teacher_forced_equals_greedy": gu.cond("greedy_mismatch", "<=", 0),
        "C3_matched_competence": gu.cond("tau", ">=", P.id_gate),
        "test_position_rows_trained": gu.cond("min_row_hits", ">", 0),
    },
)
print(f"Δ = {delta:.3f}, 95 % Welch interval [{lo:.3f}, {hi:.3f}]; separation {statistics['separation']:.3f}; "
      f"Δ at 2x {statistics['delta_2x']:.3f}; Δ_end {statistics['delta_end']:.3f}; "
      f"ID gain at the end {statistics['id_gain_end']:.3f}")
record = gu.report_verdict(
    chapter="task_hinting", params=P, rule=RULE, statistics=statistics, seeds=model_seeds,
    headline=["delta", "separation", "tau", "ood_hinted", "ood_baseline", "delta_end"],
)

# %% [markdown]
# ### Rule history
#
# - **Pre-registered rule** (above, from study card 32 as revised for the falsification convention; committed
#   before the first `cpu` run). The card's earlier rule — OOD mean over all OOD lengths at the last step, margin
#   0.15 — was never run in this chapter: it let an in-distribution gain pass as a length gain (the card's
#   prototype: 0.51 → 0.95 at train_len).
# - **Settings fixed before that run, on time only.** The card's `cpu` default of 1,200 steps was timed at 0.16 s
#   CPU per step for the six-model stack on one thread (rows padded to 28 tokens), about 190 s of training alone,
#   and a 200-step run of the whole chapter projected about 170 s CPU at 800 steps; following the card ("cuts
#   `steps` (not seeds)") the default is 700 steps (and 10 timed one-by-one steps). No accuracy was looked at to
#   choose it.
# - **First `cpu` run of the pre-registered rule** (commit b811a68; the rule has not changed since):
#   **inconclusive**, and the falsification run **inconclusive**, both by check C3 — no model learned to sort at the
#   training length within 700 steps, so there is no matched competence to read at. Best ID_val over checkpoints:
#   baseline 0.130 / 0.207 / 0.440, hinted (successor) 0.170 / 0.300 / 0.423, so τ = 0.130 against the gate 0.8.
#   Read at that (low) matched level anyway: Δ = 0.006 (95 % Welch [−0.009, 0.020]), separation −0.007, Δ at 2 × 0.000;
#   at the last checkpoint Δ_end = −0.040 and the ID gain 0.036. Sort exact match at the end, n = 4 / 8 / 12 / 16:
#   baseline seeds 0.73–0.89 / 0.12–0.46 / 0.00–0.14 / 0.00–0.01, hinted 0.76–0.97 / 0.19–0.49 / 0.00–0.03 / 0.00.
#   The successor hint itself was not learned (exact match 0.0, token accuracy 0.62). Had C3 passed, Δ = 0.006 ≤ 0.03
#   would have read `contradicted`; with C3 failing it is no evidence either way.
#   Falsification run (`perm`): the baseline models are bit-identical to the main run's (same numbers), the `perm`
#   models reached best ID_val 0.653 / 0.750 / 0.353 (an end-of-training ID gain of 0.327 over the baseline, against
#   0.036 for the successor hint), Δ = 0.006 ([−0.014, 0.025]), Δ_end = 0.020; the perm hint's own exact match 0.002
#   (token accuracy 0.76). So at this budget the element-local hint helped *in-distribution* learning more than the
#   successor hint did, and neither moved sort accuracy past the training length.
#   Times: both runs side by side, one thread each, at load 10–13 on 2 cores: 962 s wall for the pair (the machine
#   was shared), 326 s CPU (user + sys) for both, about 163 s each, of which 143–144 s is the batched training with
#   its checkpoints. Batched against one-by-one on one thread: 0.85–0.86× CPU, 0.98–1.00× wall (no gain for six
#   small models on one CPU thread). More steps would cost more than the 3-minute budget allows; the settings were
#   not changed after this run (that would be tuning after seeing the result). The `gpu` profile (train_len 20,
#   10,000 steps, width 128, 4 layers, the COUNT arm) is where the claim can be read.

# %% [markdown]
# ## Faithfulness notes
#
# - **Scale.** Lengths 1–8 tested at 12 and 16 at `cpu` (1–20 tested to 100 at `gpu`), against the paper's 20 → 100;
#   two layers of width 64 trained for 700 steps of 64 sequences (the card asked 1,200; cut on time). Do not read the
#   miniature as evidence about 5 × extrapolation. At this budget the models do not learn to sort at the training
#   length (ID exact match 0.13–0.49), so the `cpu` verdict is `inconclusive` by check C3, as the card warned it might
#   be: the `cpu` run proves the pipeline and the matched-competence read, not the claim.
# - **Not found in the paper.** Its model sizes, training lengths per run, the other auxiliary tasks and their numbers
#   (only the abstract was readable).
# - **The hint.** "Identity + successor" is this chapter's reading (each element, then its successor in the stable
#   sort, END after the largest); the paper's exact hint format was not found. Its probing, its construction and the
#   length-dependent temperature are not reproduced.
# - **Equal compute.** Both arms get the same steps, batch and schedule; the hinted arm spends half its examples on the
#   hint, so it sees half as many sort examples.
# - **The falsification hint.** `perm` keeps everything the successor hint changes relative to the baseline — the
#   TASK token, half the examples, 2n-token outputs (contexts as long as a sort of 1.5 × train_len, the obvious
#   confound for a length effect), the identity copy — and drops only the sorted-order relation.
# - **Positions.** A learned absolute table with random training offsets (offset 0 at test); all rows padded to the
#   hint's length in every arm so that the offset ranges are the same.
# - **The useless hint (`gpu`).** COUNT is this chapter's natural-looking alternative; whether the paper tried it is
#   not known.
