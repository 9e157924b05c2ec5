"""Geometry of point clouds: nearest neighbours, intrinsic dimension, class separation.

Standard estimators that several chapters use as instruments (the chapters'
own claims are about what these numbers predict, not about the estimators).
"""
from __future__ import annotations

import torch


def _distances(x: torch.Tensor) -> torch.Tensor:
    """Exact pairwise Euclidean distances (cdist's matmul shortcut leaves ~1e-8 where 0 is meant)."""
    x = x.double().flatten(1)
    return torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")


def knn_distances(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distances to the k nearest other points, ascending, shape (n, k).

    Exact duplicates (distance < 1e-9) are ignored, so a repeated point does not
    report a zero distance; rows with fewer than k distinct neighbours get inf.
    """
    if not 1 <= k < x.shape[0]:
        raise ValueError(f"k must be in [1, {x.shape[0] - 1}] for {x.shape[0]} points, got {k}")
    dist = _distances(x)
    dist.fill_diagonal_(float("inf"))
    dist[dist < 1e-9] = float("inf")
    return dist.topk(k, dim=1, largest=False).values


def intrinsic_dim_mle(x: torch.Tensor, k: int = 5) -> float:
    """Levina–Bickel maximum-likelihood intrinsic dimension, pooled over points (MacKay–Ghahramani).

    1 / mean over points and j < k of log(T_k / T_j), with T_j the distance to the
    j-th nearest neighbour.
    """
    if k < 2:
        raise ValueError(f"the MLE needs k >= 2 neighbours, got {k}")
    t = knn_distances(x, k)
    t = t[torch.isfinite(t).all(1)]
    return float(1 / torch.log(t[:, -1:] / t[:, :-1]).mean())


def intrinsic_dim_twonn(x: torch.Tensor, discard: float = 0.1) -> float:
    """TwoNN (Facco et al. 2017): slope through the origin of −log(1 − F(μ)) against log μ, μ = T₂/T₁.

    The largest `discard` fraction of ratios is left out, as the authors recommend.
    """
    if not 0 <= discard < 1:
        raise ValueError(f"discard must be in [0, 1), got {discard}")
    t = knn_distances(x, 2)
    mu = (t[:, 1] / t[:, 0])
    mu = mu[torch.isfinite(mu)].sort().values
    n = len(mu)
    keep = int(n * (1 - discard))
    xs = torch.log(mu[:keep])
    ys = -torch.log(1 - torch.arange(1, keep + 1, dtype=torch.float64) / n)
    return float((xs * ys).sum() / (xs * xs).sum())


def min_class_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Smallest distance between two points with different labels (exact duplicates ignored)."""
    dist = _distances(x)
    dist[(y[:, None] == y[None, :]) | (dist < 1e-9)] = float("inf")
    return float(dist.min())
