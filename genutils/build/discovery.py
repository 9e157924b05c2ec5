"""Find chapters and resolve their parameters, without executing anything.

A chapter is `studies/<part>/<slug>.py` with `genbook` metadata in its jupytext header (part,
title, paper, claim, profiles, and the falsification run `'null'` with its `null_reason`) and one
cell tagged `parameters` holding the `cpu` defaults. Everything here reads files only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..params import ParameterError, assigned_names, merge_params

LIBRARY = Path(__file__).resolve().parent.parent
ROOT = LIBRARY.parent
STUDIES = ROOT / "studies"
PARTS = ("theory", "dynamics", "ood", "transformers", "llm", "rl_graphs")
PROFILES = ("smoke", "cpu", "gpu")
BOOK_DIR = ROOT / "book"
WORK = Path(os.environ.get("GENBOOK_HOME", ROOT / ".genbook"))


class ChapterError(ValueError):
    """A chapter file breaks the convention (no parameters cell, no genbook metadata, ...)."""


@dataclass(frozen=True)
class Chapter:
    """What the runner knows about a chapter without executing it."""

    path: Path
    slug: str
    part: str
    title: str
    paper: str
    claim: str
    defaults: dict[str, Any]
    profiles: dict[str, dict[str, Any]]
    null: dict[str, Any] | None = None
    null_reason: str = ""

    @property
    def notebook(self) -> Path:
        return self.path.with_suffix(".ipynb")

    @property
    def name(self) -> str:
        return f"{self.part}/{self.slug}"


def load_chapter(path: Path) -> Chapter:
    """Read a chapter's `.py`: its genbook metadata and the defaults in its parameters cell."""
    import jupytext

    path = Path(path)
    nb = jupytext.read(path)
    meta = nb.metadata.get("genbook")
    if not isinstance(meta, dict):
        raise ChapterError(f"{path}: no 'genbook' metadata in the jupytext header")
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ChapterError(f"{path}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    defaults = assigned_names(cells[0].source)
    profiles = {"cpu": {}, **{k: dict(v or {}) for k, v in meta.get("profiles", {}).items()}}
    for profile, overrides in profiles.items():
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise ChapterError(f"{path}: profile '{profile}' sets unknown parameter(s) {', '.join(unknown)}")
    part = meta.get("part", path.parent.name)
    if part != path.parent.name:
        raise ChapterError(f"{path}: metadata says part '{part}' but the file is in '{path.parent.name}'")
    null, reason = _read_null(path, meta, defaults)
    return Chapter(path=path, slug=path.stem, part=part, title=meta.get("title", path.stem),
                   paper=meta.get("paper", ""), claim=meta.get("claim", ""), defaults=defaults, profiles=profiles,
                   null=null, null_reason=reason)


def _read_null(path: Path, meta: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The falsification run's parameter values and its reason; None when the chapter declares none."""
    if None in meta:
        raise ChapterError(f"{path}: a bare `null:` key reads as no key in YAML; write it quoted, `'null':`")
    null, reason = meta.get("null"), str(meta.get("null_reason", "") or "").strip()
    if null is None:
        if reason:
            raise ChapterError(f"{path}: 'null_reason' is given but 'null' (the parameter values) is not")
        return None, ""
    if not isinstance(null, dict) or not null:
        raise ChapterError(f"{path}: 'null' must map parameter names to the values that remove the cause")
    try:
        merge_params(defaults, null, origin=f"the falsification run ('null') of {path}")
    except ParameterError as exc:
        raise ChapterError(f"{path}: {exc}") from None
    if not reason:
        raise ChapterError(f"{path}: 'null' needs a 'null_reason': one sentence on which cause it removes")
    return dict(null), reason


def discover(root: Path = STUDIES, broken: list[ChapterError] | None = None) -> list[Chapter]:
    """Every chapter under `root`, in book order (part, then file name).

    A chapter file that breaks the convention raises ChapterError; pass a list as `broken` to collect
    those errors there instead and get the chapters that load (so one half-edited chapter does not stop
    work on the others).
    """
    paths = [p for p in Path(root).glob("*/*.py") if not p.name.startswith("_")]
    order = {p: i for i, p in enumerate(PARTS)}
    paths.sort(key=lambda p: (order.get(p.parent.name, len(PARTS)), p.name))
    chapters = []
    for path in paths:
        try:
            chapters.append(load_chapter(path))
        except ChapterError as exc:
            if broken is None:
                raise
            broken.append(exc)
        except Exception as exc:  # noqa: BLE001 - an unreadable file (bad YAML, bad syntax) is a broken chapter
            error = ChapterError(f"{path}: cannot be read ({type(exc).__name__}: {exc})")
            if broken is None:
                raise error from exc
            broken.append(error)
    return chapters


def select(chapters: list[Chapter], names: list[str]) -> list[Chapter]:
    """Chapters matching each name (slug, part/slug, a part, or a path); an unknown name is an error."""
    if not names or names == ["all"]:
        return chapters
    chosen: list[Chapter] = []
    for name in names:
        stem = Path(name).with_suffix("").as_posix().removeprefix("studies/")
        hits = [c for c in chapters if stem in (c.slug, c.name, c.part)]
        if not hits:
            raise ChapterError(f"no chapter matches '{name}'; `genbook list` shows them all")
        chosen += [c for c in hits if c not in chosen]
    return chosen


RUNS = ("main", "falsification")


def resolve(chapter: Chapter, profile: str = "cpu", overrides: dict[str, Any] | None = None,
            run: str = "main") -> tuple[dict[str, Any], dict[str, Any]]:
    """(effective parameters, those that differ from the cpu defaults) for a profile and `-p` overrides.

    The falsification run (`run="falsification"`) lays the chapter's `null` values over the same
    parameters: same sizes and seeds, only the cause removed.
    """
    if run not in RUNS:
        raise ValueError(f"run must be one of {', '.join(RUNS)}, got {run!r}")
    if profile not in chapter.profiles:
        raise ParameterError("profile", f"'{profile}' is not a profile of {chapter.name} "
                                        f"(it has {', '.join(chapter.profiles)})")
    overrides = overrides or {}
    layers = [chapter.profiles[profile], overrides]
    if run == "falsification":
        if chapter.null is None:
            raise ParameterError("null", f"{chapter.name} declares no falsification run (genbook.null)")
        clash = sorted(set(overrides) & set(chapter.null))
        if clash:
            raise ParameterError(clash[0], "is set by the falsification run; leave it out with --null")
        layers.append(chapter.null)
    effective = merge_params(chapter.defaults, *layers, origin=f"the parameters of {chapter.name}")
    injected = {k: v for k, v in effective.items() if chapter.defaults[k] != v or k in overrides}
    return effective, injected


def profile_label(profile: str, overrides: dict[str, Any] | None) -> str:
    """`cpu`, or `cpu -p lr=0.2` when single parameters were overridden."""
    if not overrides:
        return profile
    return profile + " " + " ".join(f"-p {k}={v!r}" for k, v in sorted(overrides.items()))


