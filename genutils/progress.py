"""Progress bars that show in JupyterLab and a terminal, and stay quiet in batch runs."""
from __future__ import annotations

import os
from collections.abc import Iterable

from tqdm.auto import tqdm


def progress(iterable: Iterable | None = None, **kwargs) -> tqdm:
    """`tqdm` over `iterable`; disabled when GENBOOK_QUIET=1 (the runner sets it for executed notebooks)."""
    kwargs.setdefault("disable", os.environ.get("GENBOOK_QUIET") == "1")
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)
