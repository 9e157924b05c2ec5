"""Graphs: seeded generators in torch, edge splits, augmentations, a GCN encoder and evaluation heads.

Generators follow networkx's conventions (undirected simple graphs, no self-loops) but draw with a
``torch.Generator`` so that a seed fixes the graph on any machine; networkx is used only by the tests.
An undirected graph is held as ``pairs``, a (2, E) long tensor of node pairs with ``pairs[0] < pairs[1]``;
:func:`to_undirected` gives the (2, 2E) ``edge_index`` that message passing (PyTorch Geometric) expects.

- :func:`dcsbm`: degree-corrected stochastic block model with equal blocks, a chosen mean degree and
  edge homophily, Pareto degree propensities; :func:`planted_partition` is its θ = 1 special case.
- :func:`topic_features`: bag-of-words node features, one Dirichlet topic per block.
- :func:`edge_split`, :func:`sample_non_edges`: link-prediction splits with uniform negatives.
- :func:`drop_edges`, :func:`mask_features`: the usual graph augmentations.
- :func:`normalized_adjacency`, :class:`GCN`: D^-1/2 (A + I) D^-1/2 and a GCN encoder (PyG ``GCNConv``
  when torch-geometric is importable, the same algebra by sparse matmul otherwise).
- :func:`logistic_probe`, :func:`link_probe`, :func:`roc_auc`, :func:`kmeans`, :func:`nmi`, :func:`ari`:
  frozen-embedding evaluation heads, all in torch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

try:  # PyTorch Geometric is pure Python; its GCNConv runs without the optional compiled extensions
    from torch_geometric.nn import GCNConv as _GCNConv
except ImportError:  # pragma: no cover - exercised only where torch-geometric is absent
    _GCNConv = None

HAS_PYG = _GCNConv is not None


@dataclass
class SBMGraph:
    """A generated graph: undirected `pairs` (2, E) with i < j, block `labels` (n,), propensities `theta` (n,),
    the block connectivity `omega` (k, k) and the exact `expected_degree` (n,) of the model that drew it."""

    pairs: torch.Tensor
    labels: torch.Tensor
    theta: torch.Tensor
    omega: torch.Tensor
    expected_degree: torch.Tensor

    @property
    def n_nodes(self) -> int:
        return int(self.labels.numel())

    @property
    def edge_index(self) -> torch.Tensor:
        return to_undirected(self.pairs)


def to_undirected(pairs: torch.Tensor) -> torch.Tensor:
    """(2, E) pairs → (2, 2E) edge_index holding both directions."""
    return torch.cat([pairs, pairs.flip(0)], 1)


def degrees(pairs: torch.Tensor, n_nodes: int) -> torch.Tensor:
    """Degree of every node of the undirected graph given by `pairs`."""
    return torch.bincount(pairs.reshape(-1), minlength=n_nodes)


def edge_homophily(pairs: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of edges whose endpoints share a label."""
    return float((labels[pairs[0]] == labels[pairs[1]]).float().mean())


def pareto_propensities(n: int, exponent: float, generator: torch.Generator) -> torch.Tensor:
    """n draws with density ∝ θ^(−exponent) on θ ≥ 1 (the degree tail exponent), exponent > 2."""
    if exponent <= 2:
        raise ValueError(f"degree exponent must exceed 2 (finite mean degree), got {exponent}")
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return (1 - u).pow(-1 / (exponent - 1))


def dcsbm(n_nodes: int, n_classes: int, avg_deg: float, homophily: float, *, degree_exponent: float | None = 2.5,
          generator: torch.Generator, theta: torch.Tensor | None = None, calibrate: bool = True,
          chunk: int = 2048) -> SBMGraph:
    """Degree-corrected SBM: `n_classes` equal blocks (labels), edge {i, j} present independently with
    probability min(1, θ_i θ_j ω_{c_i c_j}).

    θ has mean 1 inside every block (Pareto tail `degree_exponent`; None gives θ = 1, a planted partition;
    a given `theta` (n,) is used as it is, rescaled to mean 1 per block);
    ω_in = h·d / m and ω_out = (1 − h)·d / (n − m) for block size m, so that before clipping at 1 the expected
    mean degree is `avg_deg` (d) and the expected fraction of intra-block edges is `homophily` (h), up to the
    missing self-pairs. Clipping at 1 (pairs of hubs) lowers the mean degree; with `calibrate` ω is scaled by
    a common factor (fixed-point iteration, to 0.1 %) so that the expected mean degree *after* clipping is
    `avg_deg`. `expected_degree` is computed from the clipped probabilities, exactly.
    Pairs are drawn in row chunks (O(n²) Bernoulli draws, O(chunk · n) memory), on the CPU.
    """
    if n_nodes < 2 or n_classes < 1 or n_nodes % n_classes:
        raise ValueError(f"n_nodes ({n_nodes}) must be a positive multiple of n_classes ({n_classes})")
    if not 0 <= homophily <= 1 or avg_deg <= 0:
        raise ValueError("need 0 <= homophily <= 1 and avg_deg > 0")
    m = n_nodes // n_classes
    labels = torch.arange(n_classes).repeat_interleave(m)
    if theta is not None:
        theta = theta.detach().double().cpu()
    elif degree_exponent is None:
        theta = torch.ones(n_nodes, dtype=torch.float64)
    else:
        theta = pareto_propensities(n_nodes, degree_exponent, generator)
    theta = theta / theta.view(n_classes, m).mean(1).repeat_interleave(m)
    w_in = homophily * avg_deg / m
    w_out = (1 - homophily) * avg_deg / (n_nodes - m) if n_classes > 1 else 0.0
    omega = torch.full((n_classes, n_classes), w_out, dtype=torch.float64)
    omega.fill_diagonal_(w_in)

    def probabilities(start: int, stop: int, om: torch.Tensor) -> torch.Tensor:
        idx = torch.arange(start, stop)
        p = (theta[idx, None] * theta[None, :] * om[labels[idx]][:, labels]).clamp_(max=1.0)
        p[torch.arange(stop - start), idx] = 0.0
        return p

    if calibrate:
        for _ in range(50):
            mean_deg = sum(float(probabilities(a, min(a + chunk, n_nodes), omega).sum())
                           for a in range(0, n_nodes, chunk)) / n_nodes
            if abs(mean_deg / avg_deg - 1) < 1e-3:
                break
            omega = omega * (avg_deg / mean_deg)
    rows, cols, expected = [], [], torch.zeros(n_nodes, dtype=torch.float64)
    for start in range(0, n_nodes, chunk):
        stop = min(start + chunk, n_nodes)
        idx = torch.arange(start, stop)
        p = probabilities(start, stop, omega)
        expected[idx] = p.sum(1)
        draw = torch.rand(p.shape, generator=generator, dtype=torch.float64) < p
        draw &= idx[:, None] < torch.arange(n_nodes)[None, :]  # upper triangle: each pair drawn once
        r, c = draw.nonzero(as_tuple=True)
        rows.append(r + start), cols.append(c)
    pairs = torch.stack([torch.cat(rows), torch.cat(cols)])
    return SBMGraph(pairs=pairs, labels=labels, theta=theta.float(), omega=omega, expected_degree=expected)


def planted_partition(n_nodes: int, n_classes: int, p_in: float, p_out: float, *,
                      generator: torch.Generator) -> SBMGraph:
    """Planted partition (networkx's `planted_partition_graph`): equal blocks, edge probability p_in inside a
    block and p_out between blocks."""
    m = n_nodes // n_classes
    d = p_in * m + p_out * (n_nodes - m)
    h = p_in * m / d if d > 0 else 0.0
    return dcsbm(n_nodes, n_classes, d, h, degree_exponent=None, generator=generator, calibrate=False)


def dirichlet(alpha: float, shape: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """Rows of Dirichlet(alpha, …, alpha) draws, from normalized Gamma variates (NumPy, seeded by `generator`)."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    g = np.random.default_rng(seed).gamma(alpha, size=shape)
    g = np.maximum(g, 1e-300)
    return torch.as_tensor(g / g.sum(1, keepdims=True), dtype=torch.float64)


def topic_features(labels: torch.Tensor, n_feats: int, words_per_node: int, signal: float, *,
                   generator: torch.Generator, concentration: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary bag-of-words features: block c has a topic t_c ~ Dirichlet(`concentration`) over `n_feats` words;
    node i draws `words_per_node` words (with replacement) from q = signal·t_{c_i} + (1 − signal)/n_feats and
    keeps their presence. Returns (x of shape (n, n_feats), float32 in {0, 1}; topics (k, n_feats)).
    P(x_iw = 1) = 1 − (1 − q_{c_i w})^words_per_node."""
    if not 0 <= signal <= 1:
        raise ValueError(f"signal must be in [0, 1], got {signal}")
    k = int(labels.max()) + 1
    topics = dirichlet(concentration, (k, n_feats), generator)
    q = signal * topics + (1 - signal) / n_feats
    words = torch.multinomial(q[labels].float(), words_per_node, replacement=True, generator=generator)
    x = torch.zeros(labels.numel(), n_feats)
    x.scatter_(1, words, 1.0)
    return x, topics


def pair_ids(pairs: torch.Tensor, n_nodes: int) -> torch.Tensor:
    """A unique integer per undirected pair (min · n + max)."""
    a, b = torch.minimum(pairs[0], pairs[1]), torch.maximum(pairs[0], pairs[1])
    return a * n_nodes + b


def sample_non_edges(n_nodes: int, exclude: torch.Tensor, count: int, *, generator: torch.Generator) -> torch.Tensor:
    """`count` distinct uniform pairs i < j that are not in `exclude` (2, E), by rejection."""
    banned = set(pair_ids(exclude, n_nodes).tolist())
    out: list[int] = []
    seen: set[int] = set()
    while len(out) < count:
        a = torch.randint(0, n_nodes, (2 * (count - len(out)) + 16,), generator=generator)
        b = torch.randint(0, n_nodes, a.shape, generator=generator)
        for i, j in zip(a.tolist(), b.tolist()):
            if i == j:
                continue
            key = min(i, j) * n_nodes + max(i, j)
            if key in banned or key in seen:
                continue
            seen.add(key)
            out.append(key)
            if len(out) == count:
                break
    ids = torch.tensor(out, dtype=torch.long)
    return torch.stack([ids // n_nodes, ids % n_nodes])


def edge_split(pairs: torch.Tensor, n_nodes: int, *, val_frac: float = 0.1, test_frac: float = 0.1,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Link-prediction split: a random `val_frac` and `test_frac` of the edges held out, each with as many
    uniformly sampled non-edges of the full graph (validation and test negatives disjoint).
    Keys: train_pos, val_pos, val_neg, test_pos, test_neg, all (2, ·) pairs with i < j."""
    e = pairs.shape[1]
    perm = torch.randperm(e, generator=generator)
    n_val, n_test = int(round(val_frac * e)), int(round(test_frac * e))
    val_pos, test_pos = pairs[:, perm[:n_val]], pairs[:, perm[n_val:n_val + n_test]]
    train_pos = pairs[:, perm[n_val + n_test:]]
    neg = sample_non_edges(n_nodes, pairs, n_val + n_test, generator=generator)
    return {"train_pos": train_pos, "val_pos": val_pos, "val_neg": neg[:, :n_val], "test_pos": test_pos,
            "test_neg": neg[:, n_val:]}


def drop_edges(pairs: torch.Tensor, p: float, *, generator: torch.Generator) -> torch.Tensor:
    """Each undirected edge removed independently with probability p (both directions together)."""
    keep = torch.rand(pairs.shape[1], generator=generator, device="cpu") >= p
    return pairs[:, keep.to(pairs.device)]


def mask_features(x: torch.Tensor, p: float, *, generator: torch.Generator) -> torch.Tensor:
    """Each feature column zeroed with probability p, the same columns for every node (GRACE's masking)."""
    keep = (torch.rand(x.shape[1], generator=generator, device="cpu") >= p).to(x.device, x.dtype)
    return x * keep


def normalized_adjacency(edge_index: torch.Tensor, n_nodes: int, *, self_loops: bool = True) -> torch.Tensor:
    """Sparse (COO) D^-1/2 (A + I) D^-1/2 of a directed edge_index (use :func:`to_undirected` for graphs)."""
    ei = edge_index
    if self_loops:
        loop = torch.arange(n_nodes, device=ei.device)
        ei = torch.cat([ei, torch.stack([loop, loop])], 1)
    w = torch.ones(ei.shape[1], device=ei.device)
    deg = torch.zeros(n_nodes, device=ei.device).index_add_(0, ei[1], w)
    dinv = deg.clamp(min=1e-12).rsqrt()
    vals = dinv[ei[0]] * w * dinv[ei[1]]
    return torch.sparse_coo_tensor(ei.flip(0), vals, (n_nodes, n_nodes)).coalesce()


class _SparseGCNConv(nn.Module):
    """GCN layer by sparse matmul: Â X W + b (the fallback when torch-geometric is absent)."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out, bias=False)
        self.bias = nn.Parameter(torch.zeros(d_out))
        nn.init.xavier_uniform_(self.lin.weight)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        a = normalized_adjacency(edge_index, x.shape[0])
        return torch.sparse.mm(a, self.lin(x)) + self.bias


def gcn_conv(d_in: int, d_out: int, *, use_pyg: bool | None = None) -> nn.Module:
    """One GCN layer: PyG's GCNConv where installed (or `use_pyg`), the sparse-matmul fallback otherwise."""
    use_pyg = HAS_PYG if use_pyg is None else use_pyg
    if use_pyg and not HAS_PYG:
        raise ImportError("torch-geometric is not installed")
    return _GCNConv(d_in, d_out) if use_pyg else _SparseGCNConv(d_in, d_out)


class GCN(nn.Module):
    """GCN encoder: `len(dims) − 1` GCN layers, each followed by PReLU (the last too, as in GRACE's encoder).

    `forward(x, edge_index)`; `edge_index` holds both directions of every edge."""

    def __init__(self, dims: list[int], *, use_pyg: bool | None = None, last_activation: bool = True):
        super().__init__()
        self.convs = nn.ModuleList(gcn_conv(a, b, use_pyg=use_pyg) for a, b in zip(dims[:-1], dims[1:]))
        n_act = len(self.convs) if last_activation else len(self.convs) - 1
        self.acts = nn.ModuleList(nn.PReLU(b) for b in dims[1:1 + n_act])

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if i < len(self.acts):
                x = self.acts[i](x)
        return x


# --- evaluation heads on frozen embeddings ------------------------------------------------------------------

def _standardize(z_fit: torch.Tensor, *zs: torch.Tensor) -> list[torch.Tensor]:
    mu, sd = z_fit.mean(0), z_fit.std(0).clamp(min=1e-6)
    return [(z - mu) / sd for z in (z_fit, *zs)]


def fit_logistic(x: torch.Tensor, y: torch.Tensor, n_classes: int, *, l2: float = 1e-4,
                 steps: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression by full-batch LBFGS from zero: mean cross-entropy + l2·‖W‖². (W, b)."""
    x = x.detach().double()
    w = torch.zeros(x.shape[1], n_classes, dtype=torch.float64, device=x.device, requires_grad=True)
    b = torch.zeros(n_classes, dtype=torch.float64, device=x.device, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=steps, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(x @ w + b, y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def logistic_probe(z_train: torch.Tensor, y_train: torch.Tensor, *evals: tuple[torch.Tensor, torch.Tensor],
                   n_classes: int, l2: float = 1e-4, steps: int = 200) -> list[float]:
    """Accuracy of a logistic regression fitted on (z_train, y_train), on each (z, y) in `evals`.
    Embeddings are standardized with the training nodes' mean and s.d."""
    zs = _standardize(z_train, *[z for z, _ in evals])
    w, b = fit_logistic(zs[0], y_train, n_classes, l2=l2, steps=steps)
    return [float(((z.double() @ w + b).argmax(1) == y).float().mean()) for z, (_, y) in zip(zs[1:], evals)]


def roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """ROC-AUC (Mann-Whitney U with mid-ranks for ties) of `scores` for binary `labels`."""
    s = scores.detach().double().cpu().numpy()
    y = labels.detach().cpu().numpy().astype(bool)
    from scipy.stats import rankdata

    r = rankdata(s)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def hadamard(z: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Edge features z_i ⊙ z_j for every pair."""
    return z[pairs[0]] * z[pairs[1]]


def link_probe(z: torch.Tensor, train_pos: torch.Tensor, train_neg: torch.Tensor,
               *evals: tuple[torch.Tensor, torch.Tensor], l2: float = 1e-4, steps: int = 200) -> list[float]:
    """ROC-AUC of a logistic regression on Hadamard products of endpoint embeddings, fitted on train_pos vs
    train_neg, on each (pos, neg) in `evals`. Features standardized on the training pairs."""
    f_tr = torch.cat([hadamard(z, train_pos), hadamard(z, train_neg)])
    y_tr = torch.cat([torch.ones(train_pos.shape[1]), torch.zeros(train_neg.shape[1])]).long().to(z.device)
    f_ev = [torch.cat([hadamard(z, p), hadamard(z, n)]) for p, n in evals]
    zs = _standardize(f_tr, *f_ev)
    w, b = fit_logistic(zs[0], y_tr, 2, l2=l2, steps=steps)
    out = []
    for f, (p, n) in zip(zs[1:], evals):
        logit = f.double() @ w + b
        lab = torch.cat([torch.ones(p.shape[1]), torch.zeros(n.shape[1])])
        out.append(roc_auc(logit[:, 1] - logit[:, 0], lab))
    return out


def kmeans(x: torch.Tensor, k: int, *, restarts: int = 10, iters: int = 100,
           generator: torch.Generator) -> torch.Tensor:
    """Lloyd's k-means with k-means++ seeding, `restarts` runs batched together; the assignment of the run
    with the lowest within-cluster sum of squares. Returns labels (n,)."""
    x = x.detach().double()
    n = x.shape[0]
    r = restarts
    idx = torch.empty(r, k, dtype=torch.long)
    idx[:, 0] = torch.randint(0, n, (r,), generator=generator)
    centres = x[idx[:, :1]]  # (r, 1, d)
    for j in range(1, k):  # k-means++: next centre with probability ∝ squared distance to the nearest one
        d2 = torch.cdist(x[None].expand(r, -1, -1), centres).pow(2).min(2).values  # (r, n)
        pick = torch.multinomial((d2 + 1e-12).cpu().float(), 1, generator=generator).squeeze(1)
        centres = torch.cat([centres, x[pick.to(x.device)][:, None]], 1)
    xb = x[None].expand(r, -1, -1)
    assign = torch.cdist(xb, centres).argmin(2)
    for _ in range(iters):
        onehot = nn.functional.one_hot(assign, k).double()  # (r, n, k)
        counts = onehot.sum(1)  # (r, k)
        new = onehot.transpose(1, 2) @ x / counts.clamp(min=1)[..., None]
        centres = torch.where(counts[..., None] > 0, new, centres)
        new_assign = torch.cdist(xb, centres).argmin(2)
        if torch.equal(new_assign, assign):
            break
        assign = new_assign
    inertia = (xb - torch.gather(centres, 1, assign[..., None].expand(-1, -1, x.shape[1]))).pow(2).sum((1, 2))
    return assign[int(inertia.argmin())]


def _contingency(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    a = np.unique(a.cpu().numpy(), return_inverse=True)[1]
    b = np.unique(b.cpu().numpy(), return_inverse=True)[1]
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)
    return table


def nmi(a: torch.Tensor, b: torch.Tensor) -> float:
    """Normalized mutual information with the arithmetic-mean normalization (sklearn's default)."""
    t = _contingency(a, b)
    n = t.sum()
    pij, pi, pj = t / n, t.sum(1) / n, t.sum(0) / n
    nz = pij > 0
    mi = float((pij[nz] * np.log(pij[nz] / np.outer(pi, pj)[nz])).sum())
    h = lambda p: float(-(p[p > 0] * np.log(p[p > 0])).sum())  # noqa: E731
    ha, hb = h(pi), h(pj)
    if ha == 0 and hb == 0:
        return 1.0
    return max(mi, 0.0) / ((ha + hb) / 2) if ha + hb > 0 else 0.0


def ari(a: torch.Tensor, b: torch.Tensor) -> float:
    """Adjusted Rand index."""
    t = _contingency(a, b)
    comb = lambda v: v * (v - 1) / 2  # noqa: E731
    s_ij, s_a, s_b, s_n = comb(t).sum(), comb(t.sum(1)).sum(), comb(t.sum(0)).sum(), comb(t.sum())
    expected = s_a * s_b / s_n if s_n > 0 else 0.0
    top = (s_a + s_b) / 2
    return 1.0 if top == expected else float((s_ij - expected) / (top - expected))


def l2_normalize(z: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit norm."""
    return z / z.norm(dim=1, keepdim=True).clamp(min=1e-12)


__all__ = [
    "GCN", "HAS_PYG", "SBMGraph", "ari", "dcsbm", "degrees", "drop_edges", "edge_homophily", "edge_split",
    "fit_logistic", "gcn_conv", "hadamard", "kmeans", "l2_normalize", "link_probe", "logistic_probe",
    "mask_features", "nmi", "normalized_adjacency", "pair_ids", "pareto_propensities", "planted_partition",
    "roc_auc", "sample_non_edges", "to_undirected", "topic_features",
]

