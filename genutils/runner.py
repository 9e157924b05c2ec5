"""Find chapters, resolve their parameters, execute them with papermill, cache the results.

One chapter runs in one worker process (its kernel is a child of that worker);
a failure is recorded and the batch goes on. A run is cached under a key made of
the chapter's source, its effective parameters, the profile label and genutils'
own source; only complete, successful runs are ever written to the cache, and
always by an atomic rename.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .params import ParameterError, assigned_names, merge_params
from .verdict import MIME_TYPE

ROOT = Path(__file__).resolve().parent.parent
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
    return Chapter(path=path, slug=path.stem, part=part, title=meta.get("title", path.stem),
                   paper=meta.get("paper", ""), claim=meta.get("claim", ""), defaults=defaults, profiles=profiles)


def discover(root: Path = STUDIES) -> list[Chapter]:
    """Every chapter under `root`, in book order (part, then file name)."""
    paths = [p for p in Path(root).glob("*/*.py") if not p.name.startswith("_")]
    order = {p: i for i, p in enumerate(PARTS)}
    paths.sort(key=lambda p: (order.get(p.parent.name, len(PARTS)), p.name))
    return [load_chapter(p) for p in paths]


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


def resolve(chapter: Chapter, profile: str = "cpu", overrides: dict[str, Any] | None = None
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(effective parameters, those that differ from the cpu defaults) for a profile and `-p` overrides."""
    if profile not in chapter.profiles:
        raise ParameterError("profile", f"'{profile}' is not a profile of {chapter.name} "
                                        f"(it has {', '.join(chapter.profiles)})")
    overrides = overrides or {}
    effective = merge_params(chapter.defaults, chapter.profiles[profile], overrides,
                             origin=f"the parameters of {chapter.name}")
    injected = {k: v for k, v in effective.items() if chapter.defaults[k] != v or k in overrides}
    return effective, injected


def profile_label(profile: str, overrides: dict[str, Any] | None) -> str:
    """`cpu`, or `cpu -p lr=0.2` when single parameters were overridden."""
    if not overrides:
        return profile
    return profile + " " + " ".join(f"-p {k}={v!r}" for k, v in sorted(overrides.items()))


def _genutils_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(p.relative_to(ROOT).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(chapter: Chapter, effective: dict[str, Any], label: str) -> str:
    """Hash of the chapter's source, its effective parameters, the profile label and genutils' source."""
    h = hashlib.sha256()
    h.update(chapter.path.read_bytes())
    h.update(json.dumps(effective, sort_keys=True, default=repr).encode())
    h.update(label.encode())
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


@dataclass
class Result:
    """The outcome of running one chapter."""

    chapter: str
    part: str
    slug: str
    label: str
    status: str  # ok | cached | failed
    notebook: Path | None = None
    record: dict[str, Any] | None = None
    error: str = ""
    run_time_s: float = 0.0
    info: dict[str, str] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return self.record["verdict"] if self.record else "failed"

    @property
    def wall_time_s(self) -> float:
        """The chapter's own wall time (from its record), else the time the run took."""
        return float(self.record["wall_time_s"]) if self.record else self.run_time_s


def _atomic_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _ipc_kernel_manager(folder: str) -> type:
    """A kernel manager that talks to its kernel over Unix sockets in `folder`, not TCP on loopback."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(folder, "kernel")

    return IPCKernelManager


def _execute(path: str, injected: dict[str, Any], label: str, out: str, cache: str | None,
             threads: int, timeout: int | None) -> tuple[str, dict | None, str, float]:
    """Worker: run one chapter with papermill. Returns (status, record, error, seconds)."""
    import jupytext
    import nbformat
    import papermill

    os.environ.update(GENBOOK_PROFILE=label, GENBOOK_QUIET="1", GENBOOK_THREADS=str(threads),
                      OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    # Idle OpenMP threads sleep instead of spinning: on shared or oversubscribed cores spinning
    # threads made small-tensor chapters 5-15x slower (measured while several chapters ran at once).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.stem}.partial.ipynb")
    t0 = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="genbook-") as sockets:
            papermill.execute_notebook(jupytext.read(path), str(partial), parameters=injected,
                                       cwd=str(Path(path).parent), kernel_name="python3", language="python",
                                       progress_bar=False, log_output=False, execution_timeout=timeout,
                                       kernel_manager_class=_ipc_kernel_manager(sockets))
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised into the batch
        if partial.exists():
            os.replace(partial, out_path)
        name = type(exc).__name__
        msg = f"{exc.ename}: {exc.evalue}" if hasattr(exc, "ename") else f"{name}: {exc}"
        return "failed", None, msg.strip().splitlines()[0][:500], time.time() - t0
    seconds = time.time() - t0
    records = read_records(nbformat.read(partial, as_version=4))
    os.replace(partial, out_path)
    if len(records) != 1:
        return "failed", None, f"the chapter emitted {len(records)} verdict records, expected exactly 1", seconds
    if cache:
        _atomic_copy(out_path, Path(cache))
    return "ok", records[0], "", seconds


def run_chapters(chapters: list[Chapter], profile: str = "cpu", overrides: dict[str, Any] | None = None, *,
                 jobs: int = 1, out_dir: Path | None = None, use_cache: bool = True,
                 timeout: int | None = 1800, show_progress: bool = True) -> list[Result]:
    """Run chapters (in parallel with `jobs` > 1), using and filling the cache; never raises for one chapter."""
    from tqdm.auto import tqdm
    import nbformat

    label = profile_label(profile, overrides)
    out_dir = Path(out_dir or WORK / "runs" / profile)
    cache_dir = WORK / "cache"
    threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    results: dict[str, Result] = {}
    pending = []
    for ch in chapters:
        res = Result(chapter=ch.name, part=ch.part, slug=ch.slug, label=label, status="failed",
                     info={"title": ch.title, "paper": ch.paper, "claim": ch.claim})
        results[ch.name] = res
        try:
            effective, injected = resolve(ch, profile, overrides)
        except ParameterError as exc:
            res.error = str(exc)
            continue
        out = out_dir / ch.part / f"{ch.slug}.ipynb"
        cached = cache_dir / f"{ch.slug}-{cache_key(ch, effective, label)}.ipynb"
        if use_cache and cached.exists():
            records = read_records(nbformat.read(cached, as_version=4))
            if len(records) == 1:
                _atomic_copy(cached, out)
                res.status, res.record, res.notebook = "cached", records[0], out
                continue
        pending.append((ch, injected, out, cached if use_cache else None))

    bar = tqdm(total=len(pending), desc=f"chapters ({label})", unit="ch", disable=not show_progress or not pending,
               file=sys.stderr)
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(pending) or 1))) as pool:
        futures = {pool.submit(_execute, str(ch.path), injected, label, str(out), str(c) if c else None,
                               threads, timeout): (ch, out) for ch, injected, out, c in pending}
        for fut in as_completed(futures):
            ch, out = futures[fut]
            res = results[ch.name]
            try:
                res.status, res.record, res.error, res.run_time_s = fut.result()
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails its chapter only
                res.status, res.error = "failed", f"{type(exc).__name__}: {exc}"
            res.notebook = out if out.exists() else None
            bar.set_postfix_str(f"{ch.slug}: {res.verdict}")
            bar.update()
    bar.close()
    return [results[ch.name] for ch in chapters]


def _format_table(rows: list[tuple[str, ...]], rule_before_last: bool = False) -> str:
    """Left-aligned plain-text columns, a rule under the header (and above a totals row if asked)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    rule = "  ".join("-" * w for w in widths)
    lines.insert(1, rule)
    if rule_before_last:
        lines.insert(len(lines) - 1, rule)
    return "\n".join(lines)


def summary_table(results: list[Result]) -> str:
    """A plain-text table: chapter, status, verdict, deciding statistic, wall time, plus a total."""
    from .verdict import headline_text

    rows = [("chapter", "status", "verdict", "statistic", "wall s")]
    for r in results:
        stat = headline_text(r.record) if r.record else r.error
        rows.append((r.chapter, r.status, r.verdict, stat[:80], f"{r.wall_time_s:.1f}"))
    total = sum(r.wall_time_s for r in results)
    rows.append(("total", f"{sum(r.status != 'failed' for r in results)}/{len(results)} ran", "", "", f"{total:.1f}"))
    return _format_table(rows, rule_before_last=True)


def timing_table(results: list[Result]) -> str:
    """Where the time goes: chapters slowest first (own wall time, and the run's time with kernel start-up
    when it ran now), then per part and in total, labelled with the profile."""
    label = results[0].label if results else ""
    rows = [("chapter", "profile", "status", "wall s", "run s")]
    for r in sorted(results, key=lambda r: -r.wall_time_s):
        run = f"{r.run_time_s:.1f}" if r.status != "cached" else "cached"
        rows.append((r.chapter, r.label, r.status, f"{r.wall_time_s:.1f}", run))
    for part in PARTS:
        rs = [r for r in results if r.part == part]
        if rs:
            rows.append((f"part {part} ({len(rs)})", label, "", f"{sum(r.wall_time_s for r in rs):.1f}", ""))
    rows.append((f"total ({len(results)} chapters)", label, "", f"{sum(r.wall_time_s for r in results):.1f}",
                 f"{sum(r.run_time_s for r in results):.1f}"))
    return _format_table(rows)
