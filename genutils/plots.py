"""The book's seaborn look and two small helpers every chapter's figures use."""
from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns


def set_theme() -> None:
    """One look for every chapter: white grid, colour-blind palette, readable sizes."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind",
                  rc={"figure.figsize": (7.0, 4.2), "figure.dpi": 100, "axes.titleweight": "bold"})


def subplots(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 4.0, **kw):
    """`plt.subplots` sized per panel, with constrained layout."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), layout="constrained", **kw)


def label(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Label both axes (every chapter plot must) and optionally title the panel."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
