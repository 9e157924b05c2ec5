"""`genbook`: list, run and build the chapters of the book."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..params import ParameterError, parse_cli_value
from . import runner
from .runner import (PROFILES, ChapterError, Result, discover, not_falsifiable, run_chapters, select,
                     summary_table, timing_table)


def _overrides(pairs: list[list[str]] | None) -> dict:
    return {name: parse_cli_value(value) for name, value in (pairs or [])}


def cmd_list(args: argparse.Namespace) -> int:
    chapters = discover()
    width = max((len(c.name) for c in chapters), default=10)
    for c in chapters:
        profiles = sorted(c.profiles, key=lambda p: PROFILES.index(p) if p in PROFILES else len(PROFILES))
        print(f"{c.name.ljust(width)}  [{', '.join(profiles)}]  {c.title}")
        if args.null:
            null = ", ".join(f"{k}={v!r}" for k, v in c.null.items()) if c.null else "none declared"
            print(f"{''.ljust(width)}  null: {null}" + (f" ({c.null_reason})" if c.null_reason else ""))
    print(f"{len(chapters)} chapters")
    return 0


def _runs(args: argparse.Namespace) -> tuple[str, ...]:
    return {"main": ("main",), "null": ("falsification",), "both": ("main", "falsification")}[args.runs]


def _not_falsifiable(results: list[Result]) -> list[str]:
    """Chapters whose main and falsification runs are both `supported`."""
    by = {(r.chapter, r.run): r for r in results}
    return [name for (name, run), r in by.items() if run == "main" and not_falsifiable(r, by.get((name, "falsification")))]


def _loadable(names: list[str]) -> list:
    """The chapters named; a broken chapter file elsewhere is reported but does not stop the run."""
    broken: list[ChapterError] = []
    chapters = discover(broken=broken)
    try:
        return select(chapters, names)
    finally:
        for exc in broken:
            print(f"genbook: warning: skipped a broken chapter: {exc}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    chapters = _loadable(args.chapters)
    results = run_chapters(chapters, args.profile, _overrides(args.param), runs=_runs(args), jobs=args.jobs,
                           out_dir=args.out, use_cache=not args.no_cache, timeout=args.timeout)
    print(summary_table(results))
    for r in results:
        if r.notebook:
            print(f"  {r.chapter}{' (null)' if r.run == 'falsification' else ''}: {r.notebook}")
    flagged = _not_falsifiable(results)
    if flagged:
        print(f"not falsifiable (supported with the cause removed too): {', '.join(flagged)}")
    return 1 if any(r.status == "failed" for r in results) else 0


def cmd_build(args: argparse.Namespace) -> int:
    from .book import build_html, place_notebooks, scoreboard_markdown, write_toc
    from .runner import BOOK_DIR

    t0 = time.time()
    chapters = discover()
    results = run_chapters(chapters, args.profile, runs=("main", "falsification"), jobs=args.jobs,
                           use_cache=not args.no_cache, timeout=args.timeout)
    place_notebooks(chapters, results)
    write_toc(chapters)
    (BOOK_DIR / "scoreboard.md").write_text(scoreboard_markdown(chapters, results))
    status = build_html(strict=not args.no_strict)
    print(summary_table(results))
    print("\nTiming (wall s: the chapter's own, from kernel start to verdict; run s: this build's execution)")
    print(timing_table(results))
    print(f"book: {BOOK_DIR / '_build' / 'html' / 'index.html'}  ({time.time() - t0:.1f} s in all, "
          f"profile {args.profile})")
    flagged = _not_falsifiable(results)
    if flagged:
        print(f"not falsifiable (supported with the cause removed too; marked on the scoreboard): "
              f"{', '.join(flagged)}")
    failed = [r.chapter + (" (null)" if r.run == "falsification" else "") for r in results if r.status == "failed"]
    if failed:
        print(f"failed chapters (shown in the book with their error): {', '.join(failed)}", file=sys.stderr)
    return status or (1 if failed else 0)


def cmd_sweep(args: argparse.Namespace) -> int:
    from . import sweep

    chapters = _loadable([args.chapter])
    if len(chapters) != 1:
        raise ChapterError(f"a sweep takes one chapter; '{args.chapter}' matches {len(chapters)}")
    chapter, grid = chapters[0], sweep.parse_grid(args.grid or [])
    out = args.out or runner.WORK / "sweeps" / chapter.slug / args.profile
    table = args.table or out / "sweep.csv"
    if table.suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401 - only its presence is checked
        except ImportError:
            raise ChapterError("a .parquet table needs pyarrow (pip install pyarrow); or write .csv") from None
    t0 = time.time()
    results = sweep.run_sweep(chapter, grid, profile=args.profile, runs=_runs(args), scheduler=args.scheduler,
                              workers=args.workers, out_dir=out, use_cache=not args.no_cache, timeout=args.timeout)
    frame = sweep.write_table(results, table)
    shown = [c for c in frame.columns if c in grid or c in ("run", "status", "verdict", "wall_time_s")]
    print(frame[shown].to_string(index=False))
    failed = frame[frame.status == "failed"]
    for _, row in failed.iterrows():
        print(f"  failed: {sweep.point_id({k: row[k] for k in grid})} ({row.run}): {row.error}", file=sys.stderr)
    print(f"table: {table}  ({len(frame)} runs, {len(failed)} failed, {time.time() - t0:.1f} s)")
    if args.plot:
        print(f"plot: {sweep.plot_statistic(frame, grid, args.plot, table.with_suffix('.png'))}")
    return 1 if len(failed) else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genbook", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="every chapter with its part, profiles and title")
    lst.add_argument("--null", action="store_true", help="also show each chapter's falsification run")
    lst.set_defaults(func=cmd_list)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--profile", choices=PROFILES, default="cpu", help="parameter profile (default: cpu)")
        sp.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="runs executed at once, each kernel with cores/jobs threads (default: every core)")
        sp.add_argument("--no-cache", action="store_true", help="execute even if a cached run exists")
        sp.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default: 1800)")

    run = sub.add_parser("run", help="execute chapters with papermill")
    run.add_argument("chapters", nargs="+", help="slug, part/slug, a part name, a path, or 'all'")
    common(run)
    run.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="override one parameter (a Python literal); repeatable")
    run.add_argument("--out", type=Path, help="folder for executed notebooks (default: .genbook/runs/PROFILE)")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--null", dest="runs", action="store_const", const="null",
                       help="the falsification run: the chapter's genbook.null values, which remove the cause")
    which.add_argument("--both", dest="runs", action="store_const", const="both",
                       help="the main run and the falsification run")
    run.set_defaults(runs="main")
    run.set_defaults(func=cmd_run)

    sw = sub.add_parser("sweep", help="run a chapter over a grid of parameter values on Dask (one point a task)")
    sw.add_argument("chapter", help="slug or part/slug")
    sw.add_argument("-g", "--grid", nargs=2, action="append", metavar=("NAME", "VALUES"),
                    help="a parameter and its comma-separated values (Python literals); repeat for a product grid")
    common(sw)
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="an existing Dask scheduler (e.g. tcp://host:8786); default: a LocalCluster here")
    sw.add_argument("--workers", type=int, help="LocalCluster worker processes (default: every core)")
    sw.add_argument("--out", type=Path, help="folder for the notebooks and the table (default: .genbook/sweeps/SLUG/PROFILE)")
    sw.add_argument("--table", type=Path, help="the results table, .csv or .parquet (default: OUT/sweep.csv)")
    sw.add_argument("--plot", metavar="STATISTIC", help="also plot this recorded statistic over the grid (OUT/sweep.png)")
    which = sw.add_mutually_exclusive_group()
    which.add_argument("--null", dest="runs", action="store_const", const="null", help="the falsification run at each point")
    which.add_argument("--both", dest="runs", action="store_const", const="both", help="both runs at each point")
    sw.set_defaults(runs="main", func=cmd_sweep)

    build = sub.add_parser("build", help="run every chapter, then build the HTML book with its scoreboard")
    common(build)
    build.add_argument("--no-strict", action="store_true", help="do not treat Sphinx warnings as errors")
    build.set_defaults(func=cmd_build)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "jobs", 1) < 1:
        parser().error("--jobs must be at least 1")
    try:
        return args.func(args)
    except ValueError as exc:  # ChapterError, ParameterError and other refusals of bad input
        print(f"genbook: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("genbook: interrupted: the runs in progress were stopped with their kernels; completed runs stay "
              "cached, nothing partial was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
