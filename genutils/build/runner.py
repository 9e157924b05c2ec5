"""Execute chapters with papermill, in worker processes, through the cache.

One chapter run executes in one worker process (its kernel is a child of that worker);
a failure is recorded and the batch goes on. Each chapter has a main run and a
falsification run: the same parameters with the values of its ``genbook.null``
metadata on top, which remove the cause the paper names. Discovery and parameters live in
`discovery`, the cache in `cache`; their names are re-exported here for convenience.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..params import ParameterError
from .cache import atomic_copy, cache_key, read_records
from .discovery import (BOOK_DIR, LIBRARY, PARTS, PROFILES, ROOT, RUNS, STUDIES, WORK, Chapter, ChapterError,
                        discover, load_chapter, profile_label, resolve, select)

__all__ = ["BOOK_DIR", "LIBRARY", "PARTS", "PROFILES", "ROOT", "RUNS", "STUDIES", "WORK", "Chapter", "ChapterError",
           "Result", "cache_key", "discover", "load_chapter", "not_falsifiable", "profile_label", "read_records",
           "resolve", "run_chapters", "select", "summary_table", "timing_table"]


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


def _die_with_parent() -> None:
    """In a kernel about to start (Linux): be killed when the worker that started it dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _ipc_kernel_manager(folder: str) -> type:
    """A kernel manager that talks to its kernel over Unix sockets in `folder`, not TCP on loopback,
    and starts kernels that die with their worker (no orphan kernel after an interrupt)."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(folder, "kernel")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if sys.platform.startswith("linux"):
                kw.setdefault("preexec_fn", _die_with_parent)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager


def partial_path(out: Path) -> Path:
    """Where a run writes its notebook until it completes (then renamed to `out`)."""
    return out.with_name(f".{out.stem}.partial.ipynb")


_current_partial: Path | None = None


def _on_sigterm(signum, frame) -> None:
    """Worker: stop now; the kernel dies with this process, the half-written notebook goes."""
    if _current_partial is not None:
        _current_partial.unlink(missing_ok=True)
    os._exit(128 + signum)


def worker_init() -> None:
    """Worker processes leave Ctrl-C to the parent (which stops them with SIGTERM)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)


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
    global _current_partial
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = _current_partial = partial_path(out_path)
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
        atomic_copy(out_path, Path(cache))
    return "ok", records[0], "", seconds


@dataclass(frozen=True)
class Task:
    """A run to execute: the chapter, its run, the values injected, where the notebook goes and its cache file."""

    chapter: Chapter
    run: str
    injected: dict[str, Any]
    out: Path
    cache: Path | None

    def args(self, label: str, threads: int, timeout: int | None) -> tuple:
        """The arguments of `_execute` (plain values, so that any worker process can take them)."""
        return (str(self.chapter.path), self.injected, label, self.run, str(self.out),
                str(self.cache) if self.cache else None, threads, timeout)


def plan_run(ch: Chapter, profile: str, overrides: dict[str, Any] | None, run: str, out: Path,
             use_cache: bool = True) -> tuple[Result, Task | None]:
    """A run's Result, already final when its parameters are refused or its cached notebook is used;
    otherwise the Task that would execute it."""
    label = profile_label(profile, overrides)
    res = Result(chapter=ch.name, part=ch.part, slug=ch.slug, label=label, status="failed", run=run,
                 info={"title": ch.title, "paper": ch.paper, "claim": ch.claim})
    try:
        effective, injected = resolve(ch, profile, overrides, run)
    except ParameterError as exc:
        res.error = str(exc)
        return res, None
    suffix = ".null" if run == "falsification" else ""
    cached = WORK / "cache" / f"{ch.slug}{suffix}-{cache_key(ch, effective, label, run)}.ipynb"
    if use_cache and cached.exists():
        import nbformat

        records = read_records(nbformat.read(cached, as_version=4))
        if len(records) == 1:
            atomic_copy(cached, out)
            res.status, res.record, res.notebook = "cached", records[0], out
            return res, None
    return res, Task(ch, run, injected, out, cached if use_cache else None)


def run_chapters(chapters: list[Chapter], profile: str = "cpu", overrides: dict[str, Any] | None = None, *,
                 runs: tuple[str, ...] = ("main",), jobs: int = 1, out_dir: Path | None = None,
                 use_cache: bool = True, timeout: int | None = 1800, show_progress: bool = True) -> list[Result]:
    """Run chapters (in parallel with `jobs` > 1), using and filling the cache; never raises for one chapter.

    `runs` chooses the main run, the falsification run, or both; results come chapter by chapter, in
    the order of `runs` within a chapter. A falsification run's notebook is `<slug>.null.ipynb`.
    """
    from tqdm.auto import tqdm

    unknown = [r for r in runs if r not in RUNS]
    if unknown or not runs:
        raise ValueError(f"runs must be chosen from {', '.join(RUNS)}, got {runs!r}")
    label = profile_label(profile, overrides)
    out_dir = Path(out_dir or WORK / "runs" / profile)
    cache_dir = WORK / "cache"
    results: dict[tuple[str, str], Result] = {}
    pending = []
    for ch in chapters:
        for run in runs:
            out = out_dir / ch.part / f"{ch.slug}{'.null' if run == 'falsification' else ''}.ipynb"
            results[ch.name, run], task = plan_run(ch, profile, overrides, run, out, use_cache)
            if task is not None:
                pending.append(task)

    workers = max(1, min(jobs, len(pending) or 1))
    threads = max(1, (os.cpu_count() or 1) // workers)  # the cores shared among the kernels running at once
    bar = tqdm(total=len(pending), desc=f"chapters ({label})", unit="run", disable=not show_progress or not pending,
               file=sys.stderr)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=worker_init)
    try:
        with stop_on_sigterm():
            futures = {pool.submit(_execute, *t.args(label, threads, timeout)): (t.chapter, t.run, t.out)
                       for t in pending}
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
    except KeyboardInterrupt:
        stop_pool(pool, [partial_path(t.out) for t in pending], cache_dir)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return [results[ch.name, run] for ch in chapters for run in runs]


class stop_on_sigterm:
    """Within the block, SIGTERM stops the run as Ctrl-C does (a KeyboardInterrupt in the main thread)."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    def __exit__(self, *exc) -> None:
        if getattr(self, "previous", None) is not None:
            signal.signal(signal.SIGTERM, self.previous)
            self.previous = None


def stop_pool(pool: ProcessPoolExecutor, partials: list[Path], cache_dir: Path, grace_s: float = 3.0) -> None:
    """End every worker of `pool` (SIGTERM, then SIGKILL after `grace_s`), and remove what they left half-written.

    Their kernels die with them (see `_die_with_parent`); completed runs stay in the cache, and the cache
    never holds a partial notebook since it is written by atomic rename only.
    """
    procs = list(getattr(pool, "_processes", {}).values())  # the executor exposes no public handle on its workers
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.time() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.time()))
        if p.is_alive():
            p.kill()
            p.join(1.0)
    for path in partials:
        path.unlink(missing_ok=True)
    pids = {str(p.pid) for p in procs}
    for tmp in cache_dir.glob(".*.tmp") if cache_dir.exists() else []:
        if tmp.name.rsplit(".", 2)[-2] in pids:
            tmp.unlink(missing_ok=True)


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
