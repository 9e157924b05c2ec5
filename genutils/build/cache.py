"""The execution cache: keys, stored notebooks and their verdict records.

A run is cached under a key made of the chapter's source, its effective parameters, the profile
label, the run and genutils' own source; only complete, successful runs are written, always by an
atomic rename, so an interrupted run never leaves half a notebook behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..verdict import MIME_TYPE
from .discovery import LIBRARY, ROOT, Chapter

def _genutils_digest() -> str:
    """Hash of the library chapters import (genutils without this build tool, which computes nothing)."""
    h = hashlib.sha256()
    build = Path(__file__).resolve().parent
    for p in sorted(LIBRARY.rglob("*.py")):
        if build in p.resolve().parents:
            continue
        h.update(p.relative_to(ROOT).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(chapter: Chapter, effective: dict[str, Any], label: str, run: str = "main") -> str:
    """Hash of the chapter's source, its effective parameters, the profile label, the run and genutils' source."""
    h = hashlib.sha256()
    h.update(chapter.path.read_bytes())
    h.update(json.dumps(effective, sort_keys=True, default=repr).encode())
    h.update(label.encode())
    h.update(run.encode())
    h.update(_genutils_digest().encode())
    return h.hexdigest()[:20]


def read_records(notebook: Any) -> list[dict[str, Any]]:
    """Every verdict record in an executed notebook's outputs (there should be exactly one)."""
    records = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME_TYPE in data:
                rec = data[MIME_TYPE]
                records.append(json.loads(rec) if isinstance(rec, str) else dict(rec))
    return records


def atomic_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


