"""Statistics shared by chapters: bootstrap intervals and seed summaries."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


def bootstrap_ci(values: np.ndarray, statistic: Callable[[np.ndarray], float] = np.mean, *,
                 level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic` over the first axis of `values`.

    With one value (or identical values) the interval collapses to that value;
    a chapter should then say it has too few seeds to claim anything.
    """
    x = np.asarray(values, dtype=float)
    if x.shape[0] == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    idx = np.random.default_rng(seed).integers(0, x.shape[0], size=(n_boot, x.shape[0]))
    boots = np.array([statistic(x[i]) for i in idx])
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    return float(lo), float(hi)


def mean_sd(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation (ddof=1; zero for a single seed) along `axis`."""
    x = np.asarray(values, dtype=float)
    sd = x.std(axis=axis, ddof=1) if x.shape[axis] > 1 else np.zeros_like(x.mean(axis=axis))
    return x.mean(axis=axis), sd
