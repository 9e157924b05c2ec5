"""Offline data generators shared by chapters, all returning torch tensors."""
from __future__ import annotations

import torch


def cluster_data(centres: torch.Tensor, labels: torch.Tensor, n: int, *, noise_sd: float = 1.0,
                 generator: torch.Generator | None = None, batch_shape: tuple[int, ...] = ()
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Points around `centres` (k × d): pick a centre uniformly, add N(0, noise_sd² I) noise.

    Returns (x, y, which) with x of shape (*batch_shape, n, d), the centre's label
    `y` and its index `which`. `batch_shape` draws independent datasets at once
    (one per seed, say) for models trained together.
    """
    if centres.ndim != 2 or labels.shape != centres.shape[:1]:
        raise ValueError(f"centres must be k×d and labels length k, got {tuple(centres.shape)}, {tuple(labels.shape)}")
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    k, d = centres.shape
    which = torch.randint(k, (*batch_shape, n), generator=generator)
    noise = torch.randn(*batch_shape, n, d, generator=generator, dtype=centres.dtype) * noise_sd
    return centres[which] + noise, labels[which], which


def noisy_labels(y: torch.Tensor, rate: float, *, num_classes: int | None = None,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt each label independently with probability `rate`.

    ±1 labels (num_classes=None) flip sign; class indices move to a uniformly
    chosen *other* class. Returns (noisy labels, boolean mask of corrupted entries).
    """
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be in [0, 1], got {rate}")
    flip = torch.rand(y.shape, generator=generator) < rate
    if num_classes is None:
        return torch.where(flip, -y, y), flip
    shift = torch.randint(1, num_classes, y.shape, generator=generator)
    return torch.where(flip, (y + shift) % num_classes, y), flip
