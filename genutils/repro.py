"""Reproducibility: seeds, device choice, thread count, and the environment for the record."""
from __future__ import annotations

import os
import platform
import random
import sys
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch Generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def rng(seed: int) -> np.random.Generator:
    """A NumPy generator for one independent stream (seed it per experiment, not globally)."""
    return np.random.default_rng(seed)


def device(prefer: str | None = None) -> torch.device:
    """`cuda` when available (or `prefer` if given, e.g. from GENBOOK_DEVICE), else `cpu`."""
    prefer = prefer or os.environ.get("GENBOOK_DEVICE")
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads() -> int:
    """Use GENBOOK_THREADS torch threads when the runner sets it (parallel chapters share cores)."""
    n = os.environ.get("GENBOOK_THREADS")
    if n:
        torch.set_num_threads(max(1, int(n)))
    return torch.get_num_threads()


def environment() -> dict[str, Any]:
    """What produced the numbers: versions, platform, device and threads."""
    dev = device()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }
