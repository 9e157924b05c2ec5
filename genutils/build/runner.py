"""Find chapters, resolve their parameters, execute them with papermill, cache the results.

One chapter runs in one worker process (its kernel is a child of that worker);
a failure is recorded and the batch goes on. Each chapter has a main run and a
falsification run: the same parameters with the values of its ``genbook.null``
metadata on top, which remove the cause the paper names. A run is cached under a key made of
the chapter's source, its effective parameters, the profile label and genutils'
own source; only complete, successful runs are ever written to the cache, and
always by an atomic rename. The key covers the library chapters import, not this build
tool (``genutils.build``), so a change to the runner or the book never reruns a chapter.
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

from ..params import ParameterError, assigned_names, merge_params
from ..verdict import MIME_TYPE

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


@dataclass
class Result:
    """The outcome of running one chapter."""

    chapter: str
    part: str
    slug: str
    label: str
    status: str  # ok | cached | failed
    run: str = "main"  # main | falsification
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


def _execute(path: str, injected: dict[str, Any], label: str, run: str, out: str, cache: str | None,
             threads: int, timeout: int | None) -> tuple[str, dict | None, str, float]:
    """Worker: run one chapter with papermill. Returns (status, record, error, seconds)."""
    import jupytext
    import nbformat
    import papermill

    os.environ.update(GENBOOK_PROFILE=label, GENBOOK_RUN=run, GENBOOK_QUIET="1", GENBOOK_THREADS=str(threads),
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
    if records[0].get("run", "main") != run:
        return "failed", None, f"the record says run {records[0].get('run')!r}, expected {run!r}", seconds
    if cache:
        _atomic_copy(out_path, Path(cache))
    return "ok", records[0], "", seconds


def run_chapters(chapters: list[Chapter], profile: str = "cpu", overrides: dict[str, Any] | None = None, *,
                 runs: tuple[str, ...] = ("main",), jobs: int = 1, out_dir: Path | None = None,
                 use_cache: bool = True, timeout: int | None = 1800, show_progress: bool = True) -> list[Result]:
    """Run chapters (in parallel with `jobs` > 1), using and filling the cache; never raises for one chapter.

    `runs` chooses the main run, the falsification run, or both; results come chapter by chapter, in
    the order of `runs` within a chapter. A falsification run's notebook is `<slug>.null.ipynb`.
    """
    from tqdm.auto import tqdm
    import nbformat

    unknown = [r for r in runs if r not in RUNS]
    if unknown or not runs:
        raise ValueError(f"runs must be chosen from {', '.join(RUNS)}, got {runs!r}")
    label = profile_label(profile, overrides)
    out_dir = Path(out_dir or WORK / "runs" / profile)
    cache_dir = WORK / "cache"
    threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    results: dict[tuple[str, str], Result] = {}
    pending = []
    for ch in chapters:
        for run in runs:
            res = Result(chapter=ch.name, part=ch.part, slug=ch.slug, label=label, status="failed", run=run,
                         info={"title": ch.title, "paper": ch.paper, "claim": ch.claim})
            results[ch.name, run] = res
            try:
                effective, injected = resolve(ch, profile, overrides, run)
            except ParameterError as exc:
                res.error = str(exc)
                continue
            suffix = ".null" if run == "falsification" else ""
            out = out_dir / ch.part / f"{ch.slug}{suffix}.ipynb"
            cached = cache_dir / f"{ch.slug}{suffix}-{cache_key(ch, effective, label, run)}.ipynb"
            if use_cache and cached.exists():
                records = read_records(nbformat.read(cached, as_version=4))
                if len(records) == 1:
                    _atomic_copy(cached, out)
                    res.status, res.record, res.notebook = "cached", records[0], out
                    continue
            pending.append((ch, run, injected, out, cached if use_cache else None))

    bar = tqdm(total=len(pending), desc=f"chapters ({label})", unit="run", disable=not show_progress or not pending,
               file=sys.stderr)
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(pending) or 1))) as pool:
        futures = {pool.submit(_execute, str(ch.path), injected, label, run, str(out), str(c) if c else None,
                               threads, timeout): (ch, run, out) for ch, run, injected, out, c in pending}
        for fut in as_completed(futures):
            ch, run, out = futures[fut]
            res = results[ch.name, run]
            try:
                res.status, res.record, res.error, res.run_time_s = fut.result()
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails its chapter only
                res.status, res.error = "failed", f"{type(exc).__name__}: {exc}"
            res.notebook = out if out.exists() else None
            bar.set_postfix_str(f"{ch.slug}{' (null)' if run == 'falsification' else ''}: {res.verdict}")
            bar.update()
    bar.close()
    return [results[ch.name, run] for ch in chapters for run in runs]


def not_falsifiable(main: Result, null: Result | None) -> bool:
    """A chapter whose falsification run is `supported` as well: its verdict certifies the design, not the paper."""
    return main.verdict == "supported" and null is not None and null.verdict == "supported"


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
    from ..verdict import headline_text

    rows = [("chapter", "run", "status", "verdict", "statistic", "wall s")]
    for r in results:
        stat = headline_text(r.record) if r.record else r.error
        run = "null" if r.run == "falsification" else "main"
        rows.append((r.chapter, run, r.status, r.verdict, stat[:80], f"{r.wall_time_s:.1f}"))
    total = sum(r.wall_time_s for r in results)
    rows.append(("total", "", f"{sum(r.status != 'failed' for r in results)}/{len(results)} ran", "", "",
                 f"{total:.1f}"))
    return _format_table(rows, rule_before_last=True)


def timing_table(results: list[Result]) -> str:
    """Where the time goes: chapters slowest first (own wall time, and the run's time with kernel start-up
    when it ran now), then per part and in total, labelled with the profile."""
    label = results[0].label if results else ""
    rows = [("chapter", "profile", "status", "wall s", "run s")]
    for r in sorted(results, key=lambda r: -r.wall_time_s):
        run = f"{r.run_time_s:.1f}" if r.status != "cached" else "cached"
        name = r.chapter + (" (null)" if r.run == "falsification" else "")
        rows.append((name, r.label, r.status, f"{r.wall_time_s:.1f}", run))
    for part in PARTS:
        rs = [r for r in results if r.part == part]
        if rs:
            rows.append((f"part {part} ({len(rs)})", label, "", f"{sum(r.wall_time_s for r in rs):.1f}", ""))
    rows.append((f"total ({len(results)} runs)", label, "", f"{sum(r.wall_time_s for r in results):.1f}",
                 f"{sum(r.run_time_s for r in results):.1f}"))
    return _format_table(rows)
