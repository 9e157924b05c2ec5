"""Device-agnostic check of chapters: run their code with every tensor on PyTorch's `meta` device.

A CI machine has no GPU, yet every chapter must run wherever `gu.device()` points. With
`GENBOOK_DEVICE=meta`, `gu.device()` returns the meta device: tensors have shapes and dtypes but no
values, operations cost nothing, and an operation that mixes a tensor made on the chosen device with
one made on the CPU raises the same "expected all tensors to be on the same device" error it raises on
CUDA. A chapter runs at its smoke values until its first error; reading a value (`.item()`, NumPy
conversion) is where a meta run must stop and is fine, a device mismatch before that point is a bug.

    python -m genutils.build.devicecheck studies/*/*.py
    # last line: devicecheck: {path: {"cells", "cells_run", "stopped_by", "mismatch"}}
"""
from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path

MISMATCH = re.compile(r"same device|expected device|is on device|on the expected device|"
                      r"found at least two devices|Expected .* device", re.IGNORECASE)


class _TimeUp(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeUp


def check_chapter(path: Path | str, seconds: int = 10) -> dict:
    """Run the chapter's cells at its smoke values on the meta device; report where and why it stopped.

    `seconds` limits the cells from the parameters cell on (the imports before it run unlimited).
    """
    import jupytext
    from IPython.core.inputtransformer2 import TransformerManager

    from .discovery import load_chapter

    chapter = load_chapter(Path(path))
    transform = TransformerManager().transform_cell
    cells = [c for c in jupytext.read(path).cells if c.cell_type == "code"]
    at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {"__name__": "__main__"}
    report = {"cells": len(cells), "cells_run": 0, "stopped_by": "", "mismatch": False}
    signal.signal(signal.SIGALRM, _alarm)
    try:
        for i, cell in enumerate(cells):
            if i == at:
                # The clock starts at the parameters cell: the cells before it import, and an import cut
                # short by the alarm would leave half-initialised modules behind for every later chapter.
                signal.alarm(seconds)
            exec(compile(transform(cell.source), str(path), "exec"), namespace)
            if i == at:
                namespace.update(chapter.profiles.get("smoke", {}))
            report["cells_run"] = i + 1
        report["stopped_by"] = "end"
    except _TimeUp:
        report["stopped_by"] = f"time limit ({seconds} s)"
    except BaseException as exc:  # noqa: BLE001 - where the chapter stops is the result
        report["stopped_by"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        report["mismatch"] = bool(MISMATCH.search(str(exc)))
    finally:
        signal.alarm(0)
    return report


def main(argv: list[str] | None = None) -> int:
    os.environ["GENBOOK_DEVICE"] = "meta"
    os.environ.setdefault("GENBOOK_QUIET", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    results = {}
    for path in argv if argv is not None else sys.argv[1:]:
        cwd = os.getcwd()
        os.chdir(Path(path).parent)
        try:
            results[str(path)] = check_chapter(Path(cwd) / path if not Path(path).is_absolute() else path)
        finally:
            os.chdir(cwd)
    print("devicecheck:", json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
