# ---
# jupyter:
#   genbook:
#     claim: Training on texts that each show a random combination of two or three skills
#       teaches a model to compose more skills than it ever saw together, and to compose
#       held-out skills that never appeared in that composition data, compared with
#       the same model trained without the composition data.
#     'null':
#       k_train:
#       - 1
#     null_reason: F becomes single-skill texts over the same training skills, so the
#       treatment gets the same extra practice on those skills but never sees two skills
#       composed.
#     paper: Zhao, Kaur, Yu, Goyal & Arora 2024, arXiv:2409.19808 (NeurIPS 2024)
#     part: transformers
#     profiles:
#       gpu:
#         d_model: 128
#         k_eval:
#         - 4
#         - 5
#         - 6
#         max_len: 64
#         n_boot: 1000
#         n_eval: 2000
#         n_layers: 4
#         seeds: 3
#         steps: 10000
#       smoke:
#         bench_steps: 2
#         k_eval:
#         - 4
#         max_len: 48
#         n_boot: 100
#         n_eval: 100
#         seeds: 1
#         steps: 150
#     title: Skill composition learned from examples of two and three skills
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
# # Can models learn skill composition from examples?
#
# **Paper.** Haoyu Zhao, Simran Kaur, Dingli Yu, Anirudh Goyal and Sanjeev Arora, *Can Models Learn Skill
# Composition from Examples?*, NeurIPS 2024 ([arXiv:2409.19808](https://arxiv.org/abs/2409.19808)). No
# official code was found.
#
# **Claim under test.** Fine-tuning on texts that each exhibit a random combination of **k = 2 or 3
# skills** teaches a model to compose **more** skills (k = 4, 5) than it ever saw together, and to compose
# **held-out skills** that never appeared in the fine-tuning data, compared with the same model without
# that composition data. The distinctive part, on which the rule decides, is composing *more* skills than
# were ever seen together: credit is given only for the skills shown *beyond* the largest k of the
# composition data (k₀ = 3 for k = 4, 5 over training skills; k₀ = 2 for held-out skills, which appear at
# most in pairs). A model that has only learned to write three segments earns up to 3/4 of the skill
# fraction at k = 4 without composing anything beyond its training k; that design-implied gain is reported,
# not decisive.
#
# **The paper's evidence.** The abstract: "(1) Training on combinations of k = 2 and 3 skills results in
# noticeable improvements in the ability to compose texts with k = 4 and 5 skills, despite models never
# having seen such examples during training. (2) When skill categories are split into training and
# held-out groups, models significantly improve at composing texts with held-out skills during testing
# despite having only seen training skills during fine-tuning." The Figure 1 caption (as reproduced by a
# third-party summary, liner.com): skills are split into S_train and S_held-out, topics into T_train and
# T_held-out; training texts contain only training skills and topics, "each text exhibits at most 3
# skills"; the models are LLaMA-2-13B-Chat and Mistral-7B-Instruct-v0.2; evaluation uses held-out skills
# and topics with up to 5 requested skills. A third-party reproducibility summary (ri.k117.org) quotes the
# data as "13,957 text pieces, each composed of randomly selected k skills with k = 1, 2, 3" and the
# evaluation as SKILL-MIX(k), k = 2, 3, 4, 5, "for all the models fine-tuned on … D_SKILL-MIX(1),
# D_SKILL-MIX(2), …", i.e. the paper compares fine-tuning data up to k = 1, 2, 3, which is the analogue of
# this chapter's falsification run (k = 1 only). The paper's full-marks ratios per table were **not
# found** (only the abstract and introduction of the stored arXiv HTML could be read here).
#
# **What is scaled down.** Natural language and GPT-4 (writer and grader) become a program: a text is a
# short token sequence, a skill a checkable motif bent by the topic. A 2-layer, width-64 transformer is
# trained from scratch for 1,500 steps of 64 sequences on a mixture of "pretraining" data (each skill
# alone, a little k = 2) and, for the treatment, composition data (k = 2, 3 over training skills); two
# seeds per arm, all four models trained as one stacked model (`genutils.many`).

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
                               train_lm)

gu.set_theme()
threads = gu.configure_threads()

# %% tags=["parameters"]
seed = 0  # base seed; seed index s uses seed + s for its skills' words, data, prompts and initialization
steps = 1500  # optimizer steps per model
batch = 64  # sequences per step
p_k2 = 0.1  # share of k 2 texts (over all skills) in the pretraining mixture P
k_train = [2, 3]  # k values of the composition data F (falsification run: [1])
k_eval = [4, 5]  # k values of E1 (training skills at unseen k), each at least 4
n_eval = 300  # sampled texts per evaluation set and model
d_model = 64  # transformer width
n_layers = 2  # transformer blocks
n_heads = 4  # attention heads
lr = 0.001  # peak AdamW learning rate of the one-cycle schedule
max_len = 64  # rows of the learned position table (random offsets in training cover them)
seeds = 2  # seeds per condition (both arms share a seed's skills, prompts and initialization)
n_boot = 1000  # bootstrap resamples of the texts, per seed
bench_steps = 10  # steps of one-by-one training timed per model (0 skips the comparison)

# %%
P = gu.check_params(
    globals(),
    seed=gu.Int(min=0),
    steps=gu.Int(min=10),
    batch=gu.Int(min=2),
    p_k2=gu.Float(min=0, max=1),
    k_train=gu.List(gu.Int(min=1, max=3), min_len=1, increasing=True),
    k_eval=gu.List(gu.Int(min=4, max=8), min_len=1, increasing=True),
    n_eval=gu.Int(min=20),
    d_model=gu.Int(min=8),
    n_layers=gu.Int(min=1),
    n_heads=gu.Int(min=1),
    lr=gu.Float(gt=0, max=1),
    max_len=gu.Int(min=16),
    seeds=gu.Int(min=1),
    n_boot=gu.Int(min=100),
    bench_steps=gu.Int(min=0),
)
if P.d_model % P.n_heads:
    raise gu.ParameterError("n_heads", f"must divide d_model = {P.d_model}, got {P.n_heads}")
K_MAX = max(P.k_eval + [4])  # longest requested k at evaluation (E2 goes to k = 4)
T_TRAIN = 5 * max(P.k_train + [2]) + 5  # BOS t SK s… SEP text EOS of the longest training text
NEED = 5 * K_MAX + 8  # prompt (k + 4) + 4k + 4 sampled tokens
if P.max_len < NEED:
    raise gu.ParameterError("max_len", f"must hold the longest evaluation sequence (k = {K_MAX}): {NEED} tokens, got {P.max_len}")
K0_E1, K0_E2 = 3, 2  # fixed by the study card, not by k_train
device = gu.device()
print(f"device {device}, {threads} threads; training rows {T_TRAIN} tokens, longest evaluation row {NEED}")
P

# %% [markdown]
# ## The organism: words, topics, skills, a writer and a grader
#
# Vocabulary: 16 word tokens w0…w15, 8 topic tokens t0…t7, 15 skill tokens s0…s14, SK, and BOS, SEP, EOS,
# PAD. Topic j owns four **filler** words w_{(2j+q) mod 16}, q = 0…3, and one **marker** word
# w_{(5j+3) mod 16}. Skill i is a fixed pair of words (a_i, b_i), a ≠ b, the 15 pairs distinct, drawn per
# seed. **Showing skill i on topic j** means writing the segment a_i, marker_j, b_i, f with f a random
# filler of topic j, so a skill's rendition depends on the topic. Categories: A = s0–s4 and B = s5–s9 are
# the *training* skills, C = s10–s14 the *held-out* skills.
#
# - **Writer** (GPT-4's role in the paper): for a topic and an ordered skill list S, the text is the
#   segments of S in the listed order (4k words); for k = 0, four filler words.
# - **Grader** (GPT-4's role): a required skill is *found* when its triple (a_i, marker_j, b_i) occurs as
#   three consecutive words; *full marks* when the text has length 4k, every required triple is found and
#   every other word is a filler of the topic; *skill fraction* = share of required triples found.
# - **Sequence**: `BOS t SK s_a s_b … SEP text EOS`, loss on the text and EOS.

# %%
N_WORDS, N_TOPICS, N_SKILLS = 16, 8, 15
TOPIC0, SKILL0 = N_WORDS, N_WORDS + N_TOPICS
SK = SKILL0 + N_SKILLS
SP = Specials.after(SK + 1)  # BOS, SEP, EOS, PAD after SK
V = SP.vocab_size
FILLERS = torch.tensor([[(2 * j + q) % N_WORDS for q in range(4)] for j in range(N_TOPICS)])
MARKER = torch.tensor([(5 * j + 3) % N_WORDS for j in range(N_TOPICS)])
IS_FILLER = torch.zeros(N_TOPICS, V, dtype=torch.bool)
IS_FILLER[torch.arange(N_TOPICS)[:, None], FILLERS] = True
CAT_A, CAT_B, CAT_C = torch.arange(0, 5), torch.arange(5, 10), torch.arange(10, 15)
TRAIN_SKILLS, ALL_SKILLS = torch.cat([CAT_A, CAT_B]), torch.arange(N_SKILLS)


def skill_pairs(s: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b) words (15,) of the 15 skills of seed index s: distinct ordered pairs with a != b."""
    g = torch.Generator().manual_seed(7919 * (P.seed + s) + 1)
    pairs = torch.tensor([(a, b) for a in range(N_WORDS) for b in range(N_WORDS) if a != b])
    pick = pairs[torch.randperm(len(pairs), generator=g)[:N_SKILLS]]
    return pick[:, 0], pick[:, 1]


def draw_prompts(n: int, ks: list[int], probs: list[float], pool: torch.Tensor, g: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n prompts: topics (n,), k (n,) drawn from `ks` with `probs`, distinct skills (n, max k) from `pool` (-1 past k)."""
    k = torch.tensor(ks)[torch.multinomial(torch.tensor(probs, dtype=torch.float), n, replacement=True, generator=g)]
    topic = torch.randint(N_TOPICS, (n,), generator=g)
    width = max(max(ks), 1)
    skills = pool[torch.rand(n, len(pool), generator=g).argsort(1)[:, :width]]
    skills = torch.where(torch.arange(width)[None, :] < k[:, None], skills, torch.full_like(skills, -1))
    return topic, k, skills


def write(topic: torch.Tensor, k: torch.Tensor, skills: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
          g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The writer: texts (n, 4·max(k, 1)) and their lengths (4k, or 4 for k = 0), for skill words a, b (15,)."""
    n, width = skills.shape
    fill = FILLERS[topic[:, None], torch.randint(4, (n, width), generator=g)]  # (n, width) one filler per segment
    s = skills.clamp(min=0)
    seg = torch.stack([a[s], MARKER[topic][:, None].expand(n, width), b[s], fill], dim=-1)  # (n, width, 4)
    text = seg.reshape(n, 4 * width)
    zero = k == 0
    text[zero, :4] = FILLERS[topic[zero][:, None], torch.randint(4, (int(zero.sum()), 4), generator=g)]
    return text, torch.where(zero, torch.full_like(k, 4), 4 * k)


def prompt_tokens(topic: torch.Tensor, k: torch.Tensor, skills: torch.Tensor) -> torch.Tensor:
    """x = [t, SK, s_1 … s_k] (n, 2 + width), padded with PAD past k."""
    s_tok = torch.where(skills >= 0, SKILL0 + skills, torch.full_like(skills, SP.pad))
    return torch.cat([(TOPIC0 + topic)[:, None], torch.full_like(topic, SK)[:, None], s_tok], dim=1)


def grade(text: torch.Tensor, length: torch.Tensor, topic: torch.Tensor, skills: torch.Tensor, a: torch.Tensor,
          b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The grader, batched over leading dims (…, n): found (…, n, k) per required skill and full marks (…, n).

    `text` (…, n, L) tokens, `length` (…, n), `topic` (…, n), `skills` (…, n, k) all required, `a`, `b`
    (…, 15) the skill words of each model (broadcast over n).
    """
    L = text.shape[-1]
    req_a = torch.gather(a[..., None, :].expand(*skills.shape[:-1], a.shape[-1]), -1, skills)
    req_b = torch.gather(b[..., None, :].expand(*skills.shape[:-1], b.shape[-1]), -1, skills)
    mk = MARKER.to(text.device)[topic]
    p = torch.arange(L - 2, device=text.device)
    valid = (p + 2) < length[..., None]  # (…, n, L-2)
    match = ((text[..., None, :-2] == req_a[..., None]) & (text[..., None, 1:-1] == mk[..., None, None])
             & (text[..., None, 2:] == req_b[..., None]) & valid[..., None, :])  # (…, n, k, L-2)
    found = match.any(-1)
    start = match.any(-2)  # (…, n, L-2): a required triple starts here
    covered = torch.zeros(text.shape, dtype=torch.bool, device=text.device)
    for d in range(3):
        covered[..., d:L - 2 + d] |= start
    in_len = torch.arange(L, device=text.device) < length[..., None]
    filler = IS_FILLER.to(text.device)[topic[..., None], text.clamp(max=V - 1)]
    k = skills.shape[-1]
    full = (length == 4 * k) & found.all(-1) & (~in_len | covered | filler).all(-1)
    return found, full


# %% [markdown]
# ## Data: "pretraining" P and composition data F
#
# - **P** (both arms): 45 % k = 1 over all 15 skills, `p_k2` = 10 % k = 2 over all 15 skills, 45 % k = 0
#   (topic only, four fillers). This is the "base model knows each skill and composes a little".
# - **F** (the treatment's extra data): k ∈ `k_train` = {2, 3} in equal shares, skills from A ∪ B only.
# - **Control**: every example from P. **Treatment**: each example from F with probability ½, else from P.
#   Both arms of a seed share that seed's skill words and initialization, and row i of the treatment's data
#   is row i of the control's unless its coin sends it to F: a paired comparison.
#
# Each model gets `steps × batch` fresh rows (each seen once), padded to the longest training row
# (20 tokens), with a random position offset uniform on {0, …, `max_len` − 20} so that the longer texts of
# k = 4, 5 at evaluation (offset 0) do not land on untrained rows of the position table (card 13).

# %%
ARMS = ("control", "treatment")
MODELS = [(arm, s) for arm in ARMS for s in range(P.seeds)]
init_seeds = [P.seed + s for arm, s in MODELS]  # both arms of seed s start from the same weights
PAIRS = {s: skill_pairs(s) for s in range(P.seeds)}
n_rows = P.steps * P.batch
p_share = [(1 - P.p_k2) / 2, (1 - P.p_k2) / 2, P.p_k2]


def lm_rows(topic, k, skills, a, b, g):
    """The `lm_batch` rows of prompts (topic, k, skills), texts written by the writer, random offsets."""
    text, tlen = write(topic, k, skills, a, b, g)
    return lm_batch(prompt_tokens(topic, k, skills), text, SP, x_lengths=k + 2, y_lengths=tlen, length=T_TRAIN,
                    max_len=P.max_len, random_offsets=True, generator=g)


def skill_counts(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """From token rows: k (number of skill tokens in the prompt) and whether any held-out skill (C) occurs."""
    is_skill = (X >= SKILL0) & (X < SKILL0 + N_SKILLS)
    held = is_skill & (X >= SKILL0 + 10)
    return is_skill.sum(1), held.any(1)


train_sets, h2 = {}, {"F_heldout_rows": 0, "F_bad_k_rows": 0, "P_k3_rows": 0}
for s in range(P.seeds):
    a, b = PAIRS[s]
    g = torch.Generator().manual_seed(7919 * (P.seed + s) + 2)
    data_P = lm_rows(*draw_prompts(n_rows, [0, 1, 2], p_share, ALL_SKILLS, g), a, b, g)
    data_F = lm_rows(*draw_prompts(n_rows, P.k_train, [1 / len(P.k_train)] * len(P.k_train), TRAIN_SKILLS, g),
                     a, b, g)
    coin = torch.rand(n_rows, generator=g) < 0.5
    kP, _ = skill_counts(data_P.X)
    kF, heldF = skill_counts(data_F.X)
    h2["P_k3_rows"] += int((kP >= 3).sum())
    h2["F_heldout_rows"] += int(heldF.sum())
    h2["F_bad_k_rows"] += int((~torch.isin(kF, torch.tensor(P.k_train))).sum())
    train_sets[("control", s)] = data_P
    train_sets[("treatment", s)] = data_P._replace(X=torch.where(coin[:, None], data_F.X, data_P.X),
                                                   mask=torch.where(coin[:, None], data_F.mask, data_P.mask),
                                                   pos_offset=torch.where(coin, data_F.pos_offset, data_P.pos_offset))
print(f"{n_rows} training rows per model; share from F in the treatment {float(coin.float().mean()):.3f}; "
      f"H2 counts (all must be 0): {h2}")
example = train_sets[("treatment", 0)].X[:4]
print("first treatment rows:", example.tolist())

# %% [markdown]
# ## The model and its training
#
# `TinyGPT` (card 13): width `d_model` = 64, 2 layers, 4 heads, learned positions (`max_len` = 64 rows).
# AdamW (β = 0.9, 0.98, weight decay 0.01), one-cycle schedule peaking at `lr` = 10⁻³ after 10 % of the
# steps, gradient norm clipped at 1; cross-entropy on text and EOS. All models of the run (2 arms × `seeds`)
# are trained **at once** by `genutils.many.train_many` (stacked parameters, vmap), each with its own data,
# same steps, batch and schedule. Below, that is timed against training the models one by one.

# %%
def make_model() -> torch.nn.Module:
    return OffsetInput(TinyGPT(V, P.d_model, P.n_layers, P.n_heads, 4 * P.d_model, P.max_len, pos="learned"))


X_train = torch.stack([pack(train_sets[m]) for m in MODELS]).to(device)
Y_train = torch.stack([lm_targets(train_sets[m].X, train_sets[m].mask) for m in MODELS]).to(device)
models = many.stack(make_model, init_seeds, device)
opt = dict(optimizer="adamw", lr=P.lr, weight_decay=0.01, betas=(0.9, 0.98), clip=1.0,
           schedule=lr_schedule("onecycle", P.steps, warmup=0.1))
wall0, cpu0 = time.perf_counter(), time.process_time()
many.train_many(models, X_train, Y_train, lm_loss, steps=P.steps, data_seeds=init_seeds, batch_size=P.batch,
                per_model_data=True, desc=f"{len(MODELS)} transformers at once", **opt)
if device.type == "cuda":
    torch.cuda.synchronize()
train_wall, train_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
print(f"{len(MODELS)} models × {P.steps} steps trained together: {train_wall:.1f} s wall, {train_cpu:.1f} s CPU")
del X_train, Y_train

# %%
bench = {}
if P.bench_steps:
    seq_wall = seq_cpu = 0.0
    for m, s_init in zip(MODELS, init_seeds):
        alone = many.build(make_model, s_init, device).model
        rows = (P.bench_steps + 1) * P.batch
        d = train_sets[m]
        short = d._replace(X=d.X[:rows], mask=d.mask[:rows], pos_offset=d.pos_offset[:rows])
        clock = {}

        def stamp(model, t):  # the first step (allocations) is left out of the timing
            if device.type == "cuda":
                torch.cuda.synchronize()
            clock[t] = (time.perf_counter(), time.process_time())
            return {}

        train_lm(alone, dataset_batches(short, P.batch, s_init), P.bench_steps + 1, P.lr, schedule="onecycle",
                 desc="one model", record=stamp, record_at=[1, P.bench_steps + 1])
        seq_wall += clock[P.bench_steps + 1][0] - clock[1][0]
        seq_cpu += clock[P.bench_steps + 1][1] - clock[1][1]
    bench = {"speedup_wall": (seq_wall / P.bench_steps) / (train_wall / P.steps),
             "speedup_cpu": (seq_cpu / P.bench_steps) / (train_cpu / P.steps)}
    print(f"ms per step of all {len(MODELS)} models: together {1e3 * train_wall / P.steps:.1f} wall, "
          f"{1e3 * train_cpu / P.steps:.1f} CPU; one by one {1e3 * seq_wall / P.bench_steps:.1f} wall, "
          f"{1e3 * seq_cpu / P.bench_steps:.1f} CPU -> speed-up x{bench['speedup_wall']:.2f} wall, "
          f"x{bench['speedup_cpu']:.2f} CPU (not part of the verdict)")
del train_sets

# %% [markdown]
# ## Evaluation: sampled texts, graded
#
# For each evaluation set, `n_eval` prompts per seed (shared by both arms of the seed), and every model
# writes one text per prompt by sampling at temperature 1, up to 4k + 4 new tokens or EOS (offset 0). The
# grader then scores the text. Sets:
#
# - **E0**: k = 1 over all skills (the base knows each skill: gate G1);
# - **AB2**, **E3**: k = 2 and 3 over A ∪ B (seen k, mostly unseen combinations);
# - **E1**: k ∈ `k_eval` = {4, 5} over A ∪ B (unseen k);
# - **E2**: k = 2, 3, 4 over C (held-out skills; they appeared at most in pairs, in P);
# - **EF**: prompts drawn exactly as F is (k ∈ `k_train` over A ∪ B, `n_eval` in all, equal shares): the
#   treatment's own training distribution (gate G2).
#
# **Excess** (the deciding statistic): for a text requiring k skills of which m distinct required triples
# are found, excess = max(0, m − k₀)/(k − k₀), with k₀ = 3 on E1 and k₀ = 2 on E2, fixed by the card.

# %%
SETS = ([("E0", 1, ALL_SKILLS, P.n_eval), ("AB2", 2, TRAIN_SKILLS, P.n_eval), ("E3", 3, TRAIN_SKILLS, P.n_eval)]
        + [("E1", k, TRAIN_SKILLS, P.n_eval) for k in P.k_eval]
        + [("E2", k, CAT_C, P.n_eval) for k in (2, 3, 4)]
        + [("EF", k, TRAIN_SKILLS, P.n_eval // len(P.k_train)) for k in P.k_train])
A_ALL = torch.stack([PAIRS[s][0] for _, s in MODELS])  # (K, 15) skill words of each model
B_ALL = torch.stack([PAIRS[s][1] for _, s in MODELS])


@torch.no_grad()
def sample(prompts: torch.Tensor, n_new: int, g: torch.Generator, chunk: int = 1000) -> torch.Tensor:
    """Every model continues its prompts (K, n, Lp) by `n_new` tokens at temperature 1 -> (K, n, n_new).

    Full forward per new token; the uniform draws come from a CPU generator (deterministic), the token is
    the inverse-CDF pick of the model's next-token distribution. Stops early once every row has an EOS.
    """
    outs = []
    for i in range(0, prompts.shape[1], chunk):
        seq = prompts[:, i:i + chunk].to(device)
        Kn, n, Lp = seq.shape
        done = torch.zeros(Kn, n, dtype=torch.bool, device=device)
        for _ in range(n_new):
            x = torch.cat([torch.zeros(Kn, n, 1, dtype=seq.dtype, device=device), seq], -1)
            probs = torch.softmax(models(x, per_model=True)[:, :, -1, :].float(), -1)
            u = torch.rand(Kn, n, 1, generator=g).to(device)
            tok = (probs.cumsum(-1) < u).sum(-1).clamp(max=V - 1)
            seq = torch.cat([seq, tok[..., None]], -1)
            done |= tok == SP.eos
            if bool(done.all()):
                break
        new = seq[:, :, Lp:]
        if new.shape[-1] < n_new:
            new = torch.cat([new, torch.full((Kn, n, n_new - new.shape[-1]), SP.pad, device=device)], -1)
        outs.append(new.cpu())
    return torch.cat(outs, 1)


def text_lengths(gen: torch.Tensor) -> torch.Tensor:
    """Tokens before the first EOS (all of them if none)."""
    is_eos = gen == SP.eos
    first = torch.where(is_eos.any(-1), is_eos.float().argmax(-1), torch.full(gen.shape[:-1], gen.shape[-1]))
    return first.long()


def full_prompts(topic: torch.Tensor, k: torch.Tensor, skills: torch.Tensor) -> torch.Tensor:
    """`BOS t SK s_1 … s_k SEP` rows (n, k + 4) of prompts with one k."""
    bos, sep = torch.full_like(topic, SP.bos)[:, None], torch.full_like(topic, SP.sep)[:, None]
    return torch.cat([bos, prompt_tokens(topic, k, skills), sep], 1)


rows, store, h1 = [], {}, {"writer_full_min": 1.0, "random_full_max": 0.0}
eval_wall0, eval_cpu0 = time.perf_counter(), time.process_time()
for si, (name, k, pool, n) in enumerate(SETS):
    per_seed = {}
    for s in range(P.seeds):
        g = torch.Generator().manual_seed(7919 * (P.seed + s) + 100 + si)
        per_seed[s] = draw_prompts(n, [k], [1.0], pool, g)
        # H1 on 1,000 fresh prompts of this set: writer texts get full marks, random strings (almost) never
        t1, k1, sk1 = draw_prompts(1000, [k], [1.0], pool, g)
        a, b = PAIRS[s]
        wt, wl = write(t1, k1, sk1, a, b, g)
        _, wfull = grade(wt, wl, t1, sk1, a, b)
        _, rfull = grade(torch.randint(N_WORDS, wt.shape, generator=g), wl, t1, sk1, a, b)
        h1["writer_full_min"] = min(h1["writer_full_min"], float(wfull.float().mean()))
        h1["random_full_max"] = max(h1["random_full_max"], float(rfull.float().mean()))
    topic = torch.stack([per_seed[s][0] for _, s in MODELS])  # (K, n): both arms of a seed share prompts
    skills = torch.stack([per_seed[s][2] for _, s in MODELS])  # (K, n, k)
    prompts = torch.stack([full_prompts(*per_seed[s]) for _, s in MODELS])
    gen = sample(prompts, 4 * k + 4, torch.Generator().manual_seed(7919 * P.seed + 31 * si + 5))
    ln = text_lengths(gen)
    found, full = grade(gen, ln, topic, skills, A_ALL, B_ALL)
    store[(name, k)] = {"found": found, "full": full, "gen": gen, "len": ln, "skills": skills, "topic": topic}
    m_found = found.sum(-1)
    for i, (arm, s) in enumerate(MODELS):
        rows.append(pd.DataFrame({"set": name, "k": k, "arm": arm, "seed": s, "m": m_found[i].numpy(),
                                  "skill_fraction": m_found[i].numpy() / k, "full_marks": full[i].float().numpy(),
                                  "length": ln[i].numpy()}))
eval_wall, eval_cpu = time.perf_counter() - eval_wall0, time.process_time() - eval_cpu0
res = pd.concat(rows, ignore_index=True)
print(f"evaluation (sampling and grading): {eval_wall:.1f} s wall, {eval_cpu:.1f} s CPU; H1 {h1}")
summary = res.groupby(["set", "k", "arm"])[["full_marks", "skill_fraction"]].mean().unstack("arm").round(3)
summary

# %% [markdown]
# ## Results
#
# **Figure 1.** Skill fraction (left) and full-marks ratio (right) per evaluation set and k, control against
# treatment, with 95 % bootstrap intervals over texts (all seeds pooled). Look for: the treatment far above
# the control on E1 and E2, both high on E0.

# %%
res["where"] = res["set"] + " k" + res["k"].astype(str)
order = list(dict.fromkeys(res["where"]))
fig, axes = gu.subplots(ncols=2, width=7, height=4)
for ax, col in zip(axes, ["skill_fraction", "full_marks"]):
    sns.barplot(data=res, x="where", y=col, hue="arm", order=order, ax=ax, errorbar=("ci", 95),
                n_boot=P.n_boot, seed=P.seed)
    ax.tick_params(axis="x", rotation=60)
    gu.label(ax, "evaluation set and k", col.replace("_", " "), col.replace("_", " ") + " per set")
    ax.set_ylim(0, 1.05)

# %% [markdown]
# **Figure 2.** Skill fraction against the number k of requested training skills (A ∪ B; k = 1 is the part
# of E0 over A ∪ B), with the cap baseline min(k, 3)/k dashed: a writer that shows exactly three skills.
# Look for: the control's fraction dropping like 1/k (it shows one skill or two); the treatment's staying
# *above the dashed line* past k = 3 if it composes beyond its training k; on the line, it has learned
# "three segments" and no more.

# %%
e0_ab = store[("E0", 1)]["skills"][..., 0] < 10  # (K, n) E0 prompts whose skill is in A ∪ B
res_e0 = res[res.set == "E0"].copy()
res_e0["ab"] = np.concatenate([e0_ab[i].numpy() for i in range(len(MODELS))])
curve = pd.concat([res_e0[res_e0.ab], res[res.set.isin(["AB2", "E3", "E1"])]])
fig, ax = gu.subplots(width=6, height=4)
sns.lineplot(data=curve, x="k", y="skill_fraction", hue="arm", marker="o", ax=ax, errorbar=("ci", 95),
             n_boot=P.n_boot, seed=P.seed)
kk = np.arange(1, max(P.k_eval) + 1)
ax.plot(kk, np.minimum(kk, K0_E1) / kk, "k--", label="cap baseline min(k, 3)/k")
ax.legend()
gu.label(ax, "requested skills k (training skills A ∪ B)", "skill fraction", "composition beyond the training k?")

# %% [markdown]
# **Figure 3.** Three sampled texts per arm (seed 0) for one k = 4 prompt of E1; found motifs
# (a, marker, b) in brackets, other words plain. Look for: how many segments each arm writes and which
# skills it drops.

# %%
def render(tokens: list[int], length: int, found_starts: set[int]) -> str:
    """Tokens of a text as words, with the found required triples in brackets."""
    out, i = [], 0
    names = {SP.eos: "EOS", SP.pad: "PAD", SP.bos: "BOS", SP.sep: "SEP", SK: "SK"}
    def word(t):
        if t < N_WORDS:
            return f"w{t}"
        if t < SKILL0:
            return f"t{t - TOPIC0}"
        return f"s{t - SKILL0}" if t < SK else names.get(t, str(t))
    while i < length:
        if i in found_starts:
            out.append("[" + " ".join(word(t) for t in tokens[i:i + 3]) + "]")
            i += 3
        else:
            out.append(word(tokens[i]))
            i += 1
    return " ".join(out)


k_show = P.k_eval[0]
st = store[("E1", k_show)]
p0 = full_prompts(st["topic"][0, :1], torch.tensor([k_show]), st["skills"][0, :1])  # seed 0's first prompt
show = sample(p0[None].expand(len(MODELS), 3, -1).contiguous(), 4 * k_show + 4, torch.Generator().manual_seed(P.seed + 11))
s_len = text_lengths(show)
shown_rows = []
a_req, b_req = A_ALL[:, st["skills"][0, 0]], B_ALL[:, st["skills"][0, 0]]
mk0 = int(MARKER[st["topic"][0, 0]])
for i, (arm, s) in enumerate(MODELS):
    if s != 0:
        continue
    for r in range(3):
        toks, ln_r = show[i, r].tolist(), int(s_len[i, r])
        starts = {p for p in range(ln_r - 2) for q in range(k_show)
                  if toks[p] == int(a_req[i, q]) and toks[p + 1] == mk0 and toks[p + 2] == int(b_req[i, q])}
        found_r, full_r = grade(show[i, r][None], s_len[i, r][None], st["topic"][0, :1], st["skills"][0, :1],
                                A_ALL[i], B_ALL[i])
        shown_rows.append({"arm": arm, "sample": r, "text": render(toks, ln_r, starts),
                           "m found": int(found_r.sum()), "full marks": bool(full_r[0])})
prompt_words = " ".join(f"s{int(x)}" for x in st["skills"][0, 0])
print(f"prompt: topic t{int(st['topic'][0, 0])} (marker w{mk0}), skills {prompt_words}; motifs "
      + ", ".join(f"s{int(x)} = (w{int(A_ALL[0, x])}, m, w{int(B_ALL[0, x])})" for x in st["skills"][0, 0]))
pd.DataFrame(shown_rows)

# %% [markdown]
# **Figure 4.** Distinct required skills found, m, at k = 4 and 5 (E1), per arm. Look for: mass at m ≥ 4
# (excess over the training k) against a pile-up at m = 3.

# %%
e1 = res[res.set == "E1"]
fig, axes = gu.subplots(ncols=len(P.k_eval), width=4.5, height=3.6, squeeze=False)
for ax, kv in zip(axes[0], P.k_eval):
    sns.histplot(data=e1[e1.k == kv], x="m", hue="arm", discrete=True, multiple="dodge", stat="probability",
                 common_norm=False, shrink=0.8, ax=ax)
    ax.axvline(K0_E1 + 0.5, ls="--", c="grey")
    gu.label(ax, f"skills found m (of k = {kv})", "share of texts", f"E1, k = {kv}")

# %% [markdown]
# ## Verdict
#
# Per text, excess = max(0, m − k₀)/(k − k₀) with k₀ = 3 on E1 and k₀ = 2 on E2 (fixed by the card). Per
# seed s: gain_E1 = treatment − control mean excess on E1, averaged over k ∈ `k_eval`; gain_E2 = the same
# on E2 at k = 3. 95 % percentile-bootstrap intervals over texts (`n_boot` resamples; each arm and k
# resampled independently); t-intervals over seeds are printed when seeds ≥ 3.
#
# - **checks** (a failure makes the verdict `inconclusive`; passing them is never evidence): H1 the writer's
#   texts for 1,000 random prompts per evaluation set all get full marks and uniformly random word strings
#   of the same length get full marks < 0.01; H2 F holds no skill from C and only k ∈ `k_train`, P no
#   k ≥ 3; G1 the E0 skill fraction ≥ 0.8 in both arms (mean over seeds); G2 the treatment's EF full marks
#   ≥ 0.5 (mean over seeds): it learned its own training distribution, else it is under-trained and its
#   failure to extrapolate says nothing.
# - **supported**: in **every** seed gain_E1 ≥ 0.15 and gain_E2 ≥ 0.15, each with bootstrap lower bound > 0.
# - **contradicted**: seed-mean gain_E1 ≤ 0.02 and seed-mean gain_E2 ≤ 0.02.
# - otherwise `inconclusive`, naming a split outcome ("finding 1 reproduced, finding 2 not", or the reverse).
#
# Reported beside it, not deciding: the paper's metrics (full marks and skill fraction per set and k), the
# earlier rule's skill-fraction gain on E1 next to the cap baseline, E2 at k = 2 and 4.

# %%
def excess(m: np.ndarray, k: int, k0: int) -> np.ndarray:
    return np.maximum(0, m - k0) / (k - k0)


def per_text(set_name: str, k: int, arm: str, s: int, col: str = "m") -> np.ndarray:
    r = res[(res.set == set_name) & (res.k == k) & (res.arm == arm) & (res.seed == s)]
    return r[col].to_numpy(dtype=float)


rng = np.random.default_rng(P.seed)


def boot_means(x: np.ndarray) -> np.ndarray:
    return x[rng.integers(0, len(x), (P.n_boot, len(x)))].mean(1)


statistics, seed_rows = {}, []
for s in range(P.seeds):
    g1 = [excess(per_text("E1", k, "treatment", s), k, K0_E1).mean() - excess(per_text("E1", k, "control", s), k, K0_E1).mean()
          for k in P.k_eval]
    g1_boot = np.mean([boot_means(excess(per_text("E1", k, "treatment", s), k, K0_E1))
                       - boot_means(excess(per_text("E1", k, "control", s), k, K0_E1)) for k in P.k_eval], axis=0)
    t2, c2 = excess(per_text("E2", 3, "treatment", s), 3, K0_E2), excess(per_text("E2", 3, "control", s), 3, K0_E2)
    g2, g2_boot = t2.mean() - c2.mean(), boot_means(t2) - boot_means(c2)
    row = {"seed": s, "gain_E1": float(np.mean(g1)), "gain_E1_lo": float(np.percentile(g1_boot, 2.5)),
           "gain_E1_hi": float(np.percentile(g1_boot, 97.5)), "gain_E2": float(g2),
           "gain_E2_lo": float(np.percentile(g2_boot, 2.5)), "gain_E2_hi": float(np.percentile(g2_boot, 97.5))}
    seed_rows.append(row)
    statistics.update({f"{key}_s{s}": v for key, v in row.items() if key != "seed"})
per_seed_gains = pd.DataFrame(seed_rows)
for key in ("gain_E1", "gain_E2"):
    statistics[f"{key}_mean"] = float(per_seed_gains[key].mean())
    statistics[f"{key}_min"] = float(per_seed_gains[key].min())
    statistics[f"{key}_lo_min"] = float(per_seed_gains[f"{key}_lo"].min())
    if P.seeds >= 3:
        lo, hi = gu.t_interval(per_seed_gains[key].to_numpy())
        statistics[f"{key}_t_lo"], statistics[f"{key}_t_hi"] = lo, hi
        print(f"{key}: t-interval over {P.seeds} seeds [{lo:.3f}, {hi:.3f}]")

arm_means = res.groupby(["set", "k", "arm"])[["skill_fraction", "full_marks"]].mean()
for (set_name, k, arm), r in arm_means.iterrows():
    statistics[f"sf_{set_name}_k{k}_{arm}"] = float(r.skill_fraction)
    statistics[f"full_{set_name}_k{k}_{arm}"] = float(r.full_marks)
ef = res[(res.set == "EF") & (res.arm == "treatment")]
statistics["EF_full_treatment"] = float(ef.groupby("seed").full_marks.mean().mean())
statistics["EF_full_control"] = float(res[(res.set == "EF") & (res.arm == "control")].groupby("seed").full_marks.mean().mean())
e0 = res[res.set == "E0"].groupby(["arm", "seed"]).skill_fraction.mean().groupby("arm").mean()
statistics["E0_sf_control"], statistics["E0_sf_treatment"] = float(e0["control"]), float(e0["treatment"])
statistics["E0_sf_min_arm"] = float(e0.min())
for arm in ARMS:
    statistics[f"excess_E1_{arm}"] = float(np.mean([excess(per_text("E1", k, arm, s), k, K0_E1).mean()
                                                    for k in P.k_eval for s in range(P.seeds)]))
    statistics[f"excess_E2k3_{arm}"] = float(np.mean([excess(per_text("E2", 3, arm, s), 3, K0_E2).mean()
                                                      for s in range(P.seeds)]))
    statistics[f"excess_E2k4_{arm}"] = float(np.mean([excess(per_text("E2", 4, arm, s), 4, K0_E2).mean()
                                                      for s in range(P.seeds)]))
# the earlier rule's statistic (skill-fraction gain on E1) and the cap baseline of a three-segment writer
statistics["sf_gain_E1"] = float(np.mean([statistics[f"sf_E1_k{k}_treatment"] - statistics[f"sf_E1_k{k}_control"]
                                          for k in P.k_eval]))
statistics["cap_baseline_E1"] = float(np.mean([min(k, K0_E1) / k for k in P.k_eval]))
statistics["sf_E1_treatment"] = float(np.mean([statistics[f"sf_E1_k{k}_treatment"] for k in P.k_eval]))
statistics.update({k: float(v) for k, v in h1.items()})
statistics.update({k: float(v) for k, v in h2.items()})
print(per_seed_gains.round(3).to_string(index=False))

finding1 = statistics["gain_E1_min"] >= 0.15 and statistics["gain_E1_lo_min"] > 0
finding2 = statistics["gain_E2_min"] >= 0.15 and statistics["gain_E2_lo_min"] > 0
split = {(True, False): "finding 1 reproduced, finding 2 not", (False, True): "finding 2 reproduced, finding 1 not",
         (True, True): "both findings pass their evidence thresholds", (False, False): "neither finding passes"}
print(f"{split[(finding1, finding2)]}; treatment E1 skill fraction {statistics['sf_E1_treatment']:.3f} against the "
      f"cap baseline {statistics['cap_baseline_E1']:.3f} (earlier rule's skill-fraction gain {statistics['sf_gain_E1']:+.3f})")
print(f"timings: training {train_wall:.1f} s wall / {train_cpu:.1f} s CPU, evaluation {eval_wall:.1f} s wall / "
      f"{eval_cpu:.1f} s CPU; {bench}")

RULE = gu.rule(
    supported=gu.all_of(
        gu.cond("gain_E1_min", ">=", 0.15), gu.cond("gain_E1_lo_min", ">", 0.0),
        gu.cond("gain_E2_min", ">=", 0.15), gu.cond("gain_E2_lo_min", ">", 0.0),
    ),
    contradicted=gu.all_of(
        gu.cond("gain_E1_mean", "<=", 0.02), gu.cond("gain_E2_mean", "<=", 0.02),
    ),
    checks={
        "H1_writer_gets_full_marks": gu.cond("writer_full_min", ">=", 1.0),
        "H1_random_strings_fail": gu.cond("random_full_max", "<", 0.01),
        "H2_F_no_heldout_skill": gu.cond("F_heldout_rows", "<=", 0),
        "H2_F_only_k_train": gu.cond("F_bad_k_rows", "<=", 0),
        "H2_P_no_k3": gu.cond("P_k3_rows", "<=", 0),
        "G1_base_knows_each_skill": gu.cond("E0_sf_min_arm", ">=", 0.8),
        "G2_treatment_learned_F": gu.cond("EF_full_treatment", ">=", 0.5),
    },
)
record = gu.report_verdict(
    chapter="skill_composition", params=P, rule=RULE, statistics=statistics,
    seeds=[P.seed + s for s in range(P.seeds)],
    headline=["gain_E1_mean", "gain_E2_mean", "gain_E1_lo_min", "gain_E2_lo_min", "EF_full_treatment",
              "E0_sf_min_arm", "sf_gain_E1"],
)

# %% [markdown]
# ### Reading (`cpu`, seed 0, two seeds per arm, first runs of the pre-registered rule)
#
# - **Main run: `inconclusive`, "neither finding passes" — finding 1 half there, finding 2 absent.** Every
#   check and gate holds: the writer always gets full marks and random strings never; F has no held-out
#   skill and only k = 2, 3; P no k ≥ 3; E0 skill fraction 0.97 (control) and 0.99 (treatment); the
#   treatment's own training distribution EF at full marks 0.72 (k = 2: 0.83, k = 3: 0.60), so it is not
#   under-trained. **Finding 1 (more skills than seen together):** excess on E1 is 0.000 for the control in
#   both seeds (it never shows a fourth skill) and 0.123 for the treatment; gain_E1 = 0.092 (bootstrap
#   0.071–0.114) in seed 0 and 0.155 (0.128–0.182) in seed 1: positive in both, but above the 0.15 bar in
#   only one. The treatment's full marks at k = 4 are 0.107 against 0 for the control (k = 5: 0.003 vs 0).
#   **Finding 2 (held-out skills):** gain_E2 at k = 3 is 0.030 (0.007–0.053) and 0.020 (0.007–0.037):
#   real but tiny; E2 full marks at k = 3 are 0.018 (treatment) and 0 (control).
# - **The earlier rule would have said more than the data do.** The skill-fraction gain on E1 is +0.45
#   (treatment 0.66 at k = 4, 0.49 at k = 5; control 0.15, 0.10), well past that rule's 0.15, but the
#   treatment's E1 skill fraction (0.577) is *below* the cap baseline of a writer that shows exactly three
#   skills (0.675): most of that gain is "write three segments", the design-implied gain. Figure 3 shows
#   it: the treatment writes three segments for a four-skill prompt, the control one or none.
# - **Falsification run (`k_train = [1]`): `contradicted`.** With F made of single-skill texts over the
#   same skills, both arms master that distribution (EF full marks 0.99) and E0 (0.98), and neither shows
#   a single skill beyond k₀: gain_E1 = 0.000 in both seeds, gain_E2 = −0.010 and 0.000 (seed mean −0.005);
#   the E1 skill fractions are 0.15 and 0.13. So the deciding statistic does not reward extra single-skill
#   practice; what the main run's treatment gained came from the composition examples.
# - **A design effect on finding 2.** The treatment draws half its examples from F, so it sees P (the only
#   place held-out skills C appear, alone or in pairs) half as often: its E2 full marks at k = 2 fall to
#   0.24 against the control's 0.59 (the same halving shows in the falsification run: AB2 0.16 vs 0.53).
#   The held-out skills are thus *less* practised by the treatment, which works against finding 2 here;
#   the card's reading (the slot-wise skill lookup for C is learned only at prompt slots 1–2) is a further
#   plausible cause. The gpu profile (d 128, 4 layers, 10,000 steps, 3 seeds) is where both findings get a
#   fairer test; it was not run.
# - **Time.** On a heavily loaded machine (load 13–19 on 2 cores): main run 1,160 s wall, falsification
#   960 s wall, run side by side (`-j 2`, one thread each); CPU time 328 s user + 7 s sys for both, about
#   165 s a run, of which training 145 s (main) and 127 s (falsification) for the 4 stacked models × 1,500
#   steps, evaluation 21 s and 15 s. On idle cores the training step measured 84 ms CPU (one thread) for
#   the stack, i.e. ≈ 126 s, so a run is ≈ 150–165 s one-thread CPU, near the 3-minute budget.
# - **Batched against one-by-one.** 10 steps of each model trained alone by `train_lm` against the stack:
#   ×1.15 and ×1.29 wall, ×0.96 and ×0.85 CPU time (one thread each, loaded machine): with four small
#   models on one thread, the stack saves little; the timing is noisy under this load.

# %% [markdown]
# ### Rule history
#
# - **First rule** (this one, from study card 44 as revised for the falsification convention), committed
#   before the first `cpu` run (commit 26665b0). First `cpu` verdicts: main `inconclusive` (gain_E1 0.092
#   and 0.155, gain_E2 0.030 and 0.020, all gates passing), falsification `contradicted` (gains 0.000 and
#   −0.005). The rule has not been changed. The card's earlier rule (skill-fraction gain ≥ 0.15 on E1) was never run
#   in this chapter: it was replaced in the card because a treatment that has only learned to write three
#   segments earns up to ≈ 0.5 of it at k = 4 without composing beyond its training k. Its statistic is
#   still printed (`sf_gain_E1`, beside the cap baseline).

# %% [markdown]
# ## Faithfulness notes
#
# - **The organism.** A text is a short token sequence, a skill a checkable motif bent by the topic, and
#   GPT-4's roles (writer and grader) are programs; lost are natural language, the meaning and variety of
#   real skills (every skill here is the same kind of thing), GPT-4's noisy writing and grading, and scale
#   (7B/13B pretrained models). A positive result would show the *data-side* mechanism in a 2-layer model,
#   not that LLMs acquire it the same way.
# - **One run instead of pretraining then fine-tuning.** The paper fine-tunes a pretrained chat model; here
#   "pretraining" (P) and "fine-tuning" (F) data are mixed in one run of the same length for both arms. A
#   two-stage schedule (P first, then P + F) is not implemented.
# - **Held-out skills.** "Held-out skill category" means held-out skill tokens whose single-skill (and a
#   little k = 2) behaviour was learned in P but never composed at k ≥ 3, the closest analogue the organism
#   allows. The paper also holds out topics; the organism does not split topics. Texts list skills in
#   prompt order; the paper's texts weave skills together in free order.
# - **Grader.** Two topics (t0 and t5) have a marker that is also one of their fillers; the grader reads
#   the exact triple (a_i, marker, b_i), so this does not change a grade.
# - **Sizes.** The card's cpu sizes (1,500 steps, 2 seeds per arm, `n_eval` 300, lr 10⁻³) are kept, with
#   nothing cut; the four models are trained as one stack. No hyperparameter was tuned: a check of a
#   larger learning rate on the training distributions (EF, E0) was started before the first `cpu` run
#   and stopped unread (the machine was too loaded); lr stayed at the card's 10⁻³, and G2 passed with it.
# - **Both arms share a seed's skill words, evaluation prompts and initial weights**; row i of the
#   treatment's data is row i of the control's unless its coin sends it to F. The treatment therefore sees
#   P half as often, including the only examples of the held-out skills (see the reading). The gpu profile (10,000 steps, d 128, 4 layers, 3 seeds, k up to 6,
#   `n_eval` 2,000) was not run here.
