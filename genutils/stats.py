"""Statistics shared by chapters: intervals over seeds and seed summaries.

With few seeds use :func:`t_interval` (Student's t on the mean). A percentile
bootstrap over fewer than 10 values is refused: with 3 seeds its lower bound is
the smallest value, so a null effect would pass one time in eight.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


MIN_BOOTSTRAP_VALUES = 10


def bootstrap_ci(values: np.ndarray, statistic: Callable[[np.ndarray], float] = np.mean, *,
                 level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic` over the first axis of `values` (at least 10 of them).

    Identical values collapse the interval to that value.
    """
    x = np.asarray(values, dtype=float)
    if x.shape[0] < MIN_BOOTSTRAP_VALUES:
        raise ValueError(f"bootstrap_ci got {x.shape[0]} values; a percentile bootstrap needs at least "
                         f"{MIN_BOOTSTRAP_VALUES} to mean anything: use t_interval, or more seeds")
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


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t interval for the mean of `values` (independent draws, e.g. one per seed).

    Needs at least two values; identical values give a zero-width interval at their mean.
    """
    from scipy.stats import t as student_t

    x = np.asarray(values, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"t_interval needs at least 2 values, got {x.size}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    half = student_t.ppf((1 + level) / 2, df=x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)
