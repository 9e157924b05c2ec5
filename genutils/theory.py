"""Closed forms that several chapters compare simulations with."""
from __future__ import annotations

import numpy as np


def marchenko_pastur_support(ratio: float, variance: float = 1.0) -> tuple[float, float]:
    """Edges [a, b] of the continuous part of the Marchenko–Pastur law (see `marchenko_pastur_pdf`)."""
    if ratio <= 0 or variance <= 0:
        raise ValueError(f"ratio and variance must be positive, got {ratio}, {variance}")
    return variance * (1 - np.sqrt(ratio)) ** 2, variance * (1 + np.sqrt(ratio)) ** 2


def marchenko_pastur_pdf(x: np.ndarray, ratio: float, variance: float = 1.0) -> np.ndarray:
    """Density of the eigenvalues of S = ZᵀZ/n for Z ∈ R^{n×p} with i.i.d. entries of variance `variance`.

    `ratio` = p/n. For ratio > 1 a point mass 1 − 1/ratio sits at 0 and is not
    included here, so the density integrates to min(1, 1/ratio).
    """
    a, b = marchenko_pastur_support(ratio, variance)
    x = np.asarray(x, dtype=float)
    inside = (x > a) & (x < b) & (x > 0)
    out = np.zeros_like(x)
    xi = x[inside]
    out[inside] = np.sqrt((b - xi) * (xi - a)) / (2 * np.pi * variance * ratio * xi)
    return out


def marchenko_pastur_atom(ratio: float) -> float:
    """Mass of the eigenvalue atom at zero: 1 − 1/ratio when p > n, else 0."""
    return max(0.0, 1.0 - 1.0 / ratio)
