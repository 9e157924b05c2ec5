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


def mnist1d(num_samples: int = 5000, *, seed: int = 42, train_split: float = 0.8
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST-1D generated procedurally (no download): (x_train, y_train, x_test, y_test), float32 / int64.

    Inputs are length-40 signals, labels the ten digit classes; the default
    arguments reproduce the dataset of the MNIST-1D paper (5000 samples, seed 42).
    """
    from mnist1d.data import get_dataset_args, make_dataset

    if num_samples < 10:
        raise ValueError(f"num_samples must be at least 10, got {num_samples}")
    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = num_samples, seed, train_split
    d = make_dataset(args)
    return (torch.tensor(d["x"], dtype=torch.float32), torch.tensor(d["y"], dtype=torch.int64),
            torch.tensor(d["x_test"], dtype=torch.float32), torch.tensor(d["y_test"], dtype=torch.int64))
