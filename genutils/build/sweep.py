"""Parameter sweeps: every point of a grid as one papermill execution on a Dask distributed cluster.

    genbook sweep xor_grokking -g lr 0.01,0.1 -g seeds 2,4             # a LocalCluster on this machine
    genbook sweep xor_grokking -g lr 0.01,0.1 --scheduler tcp://host:8786   # an existing cluster

Each point is a `genbook run -p NAME VALUE ...` of one chapter: the same resolution of parameters,
the same execution (`runner._execute`) and the same cache, so a point already run by either command
is not run again, and an interrupted or half-failed sweep resumes where it stopped. The whole grid is
checked (names, types, and the chapter's own range checks) before anything is submitted. A point
that fails, or whose worker dies, is reported in its row; the others go on. The result is a tidy
table (one row per point and run: parameters, status, verdict, every scalar statistic, wall time)
written as CSV or Parquet, and optionally a seaborn plot of one statistic over the grid.
"""
from __future__ import annotations

import itertools
import logging
import os
import re
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..params import ParameterError, parse_cli_value
from . import runner
from .discovery import Chapter, resolve
from .precheck import check_values


def split_values(text: str) -> list[Any]:
    """`0.1,0.2` -> [0.1, 0.2]; commas inside brackets or quotes do not split (`[1,2],[3]` -> two lists)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    values = [parse_cli_value(p.strip()) for p in parts if p.strip()]
    if not values:
        raise ValueError(f"no values in {text!r}")
    return values


def parse_grid(pairs: Sequence[Sequence[str]]) -> dict[str, list[Any]]:
    """`[("lr", "0.1,0.2"), ("seeds", "2,4")]` -> {"lr": [0.1, 0.2], "seeds": [2, 4]}; a name given twice is an error."""
    grid: dict[str, list[Any]] = {}
    for name, text in pairs:
        if name in grid:
            raise ParameterError(name, "is given twice in the grid (list all its values after one -g)")
        try:
            grid[name] = split_values(text)
        except ValueError as exc:
            raise ParameterError(name, str(exc)) from None
    if not grid:
        raise ValueError("a sweep needs at least one -g NAME VALUES")
    return grid


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first name varying slowest."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*grid.values())]


def point_id(point: dict[str, Any]) -> str:
    """A file-name-safe name for a point: `lr=0.1,seeds=2`."""
    text = ",".join(f"{k}={v!r}" for k, v in point.items())
    return re.sub(r"[^A-Za-z0-9=,._+-]+", "_", text)[:180]


def check_grid(chapter: Chapter, profile: str, points: list[dict[str, Any]], runs: Sequence[str]) -> None:
    """Refuse the grid before any submission: unknown names, wrong types, then impossible values."""
    effective = [resolve(chapter, profile, point, run)[0] for point in points for run in runs]
    for values, error in zip(effective, check_values(chapter.path, effective)):
        if error:
            shown = {k: values[k] for k in points[0]}
            raise ParameterError(_named(error), f"{error.split(': ', 1)[-1]} (grid point {shown})")


def _named(error: str) -> str:
    match = re.match(r"parameter '([^']+)'", error)
    return match.group(1) if match else "grid"


def _client(scheduler: str | None, workers: int):
    """A Dask client: to `scheduler` if given, else to a LocalCluster of `workers` one-thread processes on loopback."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    # A point whose worker dies is reported, not retried on another worker (rerunning resumes it).
    dask.config.set({"distributed.scheduler.allowed-failures": 0})
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster), cluster


def rows(results: list[tuple[dict[str, Any], runner.Result]]) -> list[dict[str, Any]]:
    """One tidy row per point and run: the grid values, status, verdict, scalar statistics, wall time."""
    out = []
    for point, r in results:
        stats = (r.record or {}).get("statistics", {})
        row = {**point, "run": r.run, "status": r.status,
               "verdict": r.verdict, "wall_time_s": round(r.wall_time_s, 2)}
        row.update({f"stat.{k}": v for k, v in stats.items() if isinstance(v, (int, float, bool)) or v is None})
        row.update(notebook=str(r.notebook or ""), error=r.error)
        out.append(row)
    return out


def run_sweep(chapter: Chapter, grid: dict[str, list[Any]], *, profile: str = "cpu",
              runs: Sequence[str] = ("main",), scheduler: str | None = None, workers: int | None = None,
              out_dir: Path | None = None, use_cache: bool = True, timeout: int | None = 1800,
              show_progress: bool = True) -> list[tuple[dict[str, Any], runner.Result]]:
    """Run every grid point (and run) of `chapter` on Dask; return (point, Result) pairs in grid order."""
    from tqdm.auto import tqdm

    points = grid_points(grid)
    check_grid(chapter, profile, points, runs)
    out_dir = Path(out_dir or runner.WORK / "sweeps" / chapter.slug / profile)
    planned, pending = [], []
    for point in points:
        for run in runs:
            out = out_dir / f"{point_id(point)}{'.null' if run == 'falsification' else ''}.ipynb"
            res, task = runner.plan_run(chapter, profile, point, run, out, use_cache)
            planned.append((point, res))
            if task is not None:
                pending.append((res, task))
    if not pending:
        return planned

    workers = workers or os.cpu_count() or 1
    client, cluster = _client(scheduler, min(workers, len(pending)))
    threads = 1 if scheduler else max(1, (os.cpu_count() or 1) // min(workers, len(pending)))
    bar = tqdm(total=len(pending), desc=f"sweep {chapter.slug} ({profile})", unit="point",
               disable=not show_progress, file=sys.stderr)
    futures = {}
    try:
        from distributed import as_completed

        with runner.stop_on_sigterm():  # SIGTERM stops a sweep as Ctrl-C does
            for res, task in pending:
                fut = client.submit(runner._execute, *task.args(res.label, threads, timeout), pure=False,
                                    key=f"genbook-{chapter.slug}-{task.out.stem}-{uuid.uuid4().hex[:8]}")
                futures[fut] = (res, task)
            for fut in as_completed(futures):
                res, task = futures[fut]
                try:
                    res.status, res.record, res.error, res.run_time_s = fut.result()
                except Exception as exc:  # noqa: BLE001 - a failed or killed point fails alone
                    res.status = "failed"
                    res.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
                res.notebook = task.out if task.out.exists() else None
                bar.set_postfix_str(f"{res.verdict}")
                bar.update()
    except KeyboardInterrupt:
        client.cancel(list(futures), force=True)
        raise
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
        for _, task in pending:
            runner.partial_path(task.out).unlink(missing_ok=True)
    return planned


def write_table(results: list[tuple[dict[str, Any], runner.Result]], path: Path):
    """The tidy table as CSV, or Parquet when `path` ends in .parquet; returns the DataFrame."""
    import pandas as pd

    frame = pd.DataFrame(rows(results))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return frame


def plot_statistic(frame, grid: dict[str, list[Any]], statistic: str, path: Path) -> Path:
    """A seaborn plot of one statistic over the grid: the first grid parameter on x, the second as hue."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    column = f"stat.{statistic}"
    if column not in frame:
        known = sorted(c.removeprefix("stat.") for c in frame if c.startswith("stat."))
        raise ValueError(f"no statistic '{statistic}' in the results; the chapter records: {', '.join(known)}")
    names = list(grid)
    data = frame[frame.status != "failed"].copy()
    if not all(isinstance(v, (int, float)) for v in grid[names[0]]):
        data[names[0]] = data[names[0]].astype(str)  # lists, strings: one category each
    hue = names[1] if len(names) > 1 else ("run" if data.run.nunique() > 1 else None)
    if hue:
        data[hue] = data[hue].astype(str)
    fig, ax = plt.subplots(figsize=(6, 4))
    sns.lineplot(data=data, x=names[0], y=column, hue=hue, style="run" if hue != "run" and data.run.nunique() > 1
                 else None, marker="o", ax=ax)
    ax.set(xlabel=names[0], ylabel=statistic, title=f"{statistic} over the sweep")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
