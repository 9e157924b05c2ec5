"""Assemble the Jupyter Book: executed chapters, the generated toc and scoreboard, the HTML build."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .runner import BOOK_DIR as BOOK, PARTS, ROOT, Chapter, Result, not_falsifiable
from ..verdict import MIME_TYPE, _format, describe, evaluate, headline_text

BOOK = ROOT / "book"
PART_TITLES = {
    "theory": "Theory: bounds, measures and exact learning curves",
    "dynamics": "Dynamics: training, data and what networks learn",
    "ood": "Out of distribution",
    "transformers": "Transformers and length generalization",
    "llm": "Language models",
    "rl_graphs": "Reinforcement learning and graphs",
}
_BADGE = {"supported": "{bdg-success}`supported`", "contradicted": "{bdg-danger}`contradicted`",
          "inconclusive": "{bdg-warning}`inconclusive`", "failed": "{bdg-dark}`failed`"}
_NOT_FALSIFIABLE = "{bdg-danger-line}`not falsifiable`"
_NO_NULL = "{bdg-secondary}`none declared`"


def _by_run(chapters: list[Chapter], results: list[Result]) -> list[tuple[Chapter, Result, Result | None]]:
    """(chapter, main result, falsification result or None) per chapter, from a flat list of results."""
    by = {(r.chapter, r.run): r for r in results}
    rows = []
    for ch in chapters:
        if (ch.name, "main") not in by:
            raise KeyError(f"no main run of {ch.name} among the results")
        rows.append((ch, by[ch.name, "main"], by.get((ch.name, "falsification"))))
    return rows


def null_page(ch: Chapter) -> str:
    """The book path (without suffix) of a chapter's falsification-run page."""
    return f"chapters/{ch.part}/{ch.slug}-null"


def _demote_headings(source: str) -> str:
    return re.sub(r"^(#{1,5}) ", r"#\1 ", source, flags=re.MULTILINE)


def _falsification_notebook(ch: Chapter, res: Result) -> Any:
    """The falsification run's executed notebook under a heading that says what was changed and why."""
    import nbformat

    nb = nbformat.read(res.notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _demote_headings(cell.source)
    values = ", ".join(f"`{k} = {v!r}`" for k, v in (ch.null or {}).items())
    verdict = f"**{res.record['verdict']}**" if res.record else f"failed ({res.error})"
    intro = (f"# {ch.title}: the falsification run\n\n"
             f"This page is the chapter {{doc}}`{ch.title} <{ch.slug}>` executed at the same profile, with the same "
             f"sizes and seeds, and only these values changed: {values}. {ch.null_reason}\n\n"
             f"If the paper's cause is what produced the main verdict, this run should not be `supported`. "
             f"Its verdict: {verdict}.")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(intro))
    return nb


LONG_CELL = 30  # code cells longer than this many lines are collapsed in the book (a click shows them)
_ARXIV = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5})", re.IGNORECASE)


def built_from(root: Path = ROOT) -> str:
    """The commit the book is built from (short hash), marked when chapters or genutils have uncommitted
    changes; `unknown` outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "studies", "genutils"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def paper_markdown(paper: str) -> str:
    """The paper reference, linked to arXiv when it names an arXiv identifier."""
    m = _ARXIV.search(paper)
    return f"[{paper}](https://arxiv.org/abs/{m[1]})" if m else paper


def verdict_card_html(record: dict[str, Any]) -> str:
    """The book's verdict box: the outcome and the numbers that decided it first, the rule after.

    (The chapter's own box, `genutils.verdict.record_html`, is what JupyterLab shows; the book redraws it
    from the same record so that it reads at a glance.)"""
    import html

    v, stats = record["verdict"], record["statistics"]
    marks = {True: "holds", False: "fails", None: "unknown"}
    branches = "".join(
        f'<tr class="{marks[evaluate(record["rule"][b], stats)]}"><th>{b} if</th>'
        f'<td><code>{html.escape(describe(record["rule"][b]))}</code></td>'
        f'<td>{marks[evaluate(record["rule"][b], stats)]}</td></tr>' for b in ("supported", "contradicted"))
    checks = record["rule"].get("checks", {})
    results = {name: evaluate(c, stats) for name, c in checks.items()}
    check_rows = "".join(
        f'<tr class="{ {True: "holds", False: "fails", None: "unknown"}[results[n]]}"><th>check <code>'
        f'{html.escape(n)}</code></th><td><code>{html.escape(describe(c))}</code></td>'
        f'<td>{ {True: "passes", False: "FAILS", None: "unknown"}[results[n]]}</td></tr>' for n, c in checks.items())
    passed = sum(r is True for r in results.values())
    check_line = (f"instrument checks: {passed} of {len(checks)} pass" if checks else "no instrument checks")
    headline = "".join(f"<li><code>{html.escape(n)}</code> = <b>{_format(stats.get(n))}</b></li>"
                       for n in record["headline"])
    all_stats = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{_format(x)}</td></tr>"
                        for k, x in stats.items())
    run = "falsification run (cause removed)" if record.get("run") == "falsification" else "main run"
    return (f'<div class="genbook-verdict genbook-verdict-{v}">'
            f'<div class="genbook-verdict-head"><span class="genbook-verdict-word">Verdict: {v}</span>'
            f'<span class="genbook-verdict-meta">{run} · profile <code>{html.escape(record["profile"])}</code> · '
            f'{len(record["seeds"])} seeds · {record["wall_time_s"]:.1f} s · {check_line}</span></div>'
            f'<ul class="genbook-verdict-stats">{headline}</ul>'
            f'<table class="genbook-verdict-rule">{branches}<tr><th>inconclusive</th><td>otherwise</td><td></td></tr>'
            f'{check_rows}</table>'
            f'<details><summary>all statistics</summary><table>{all_stats}</table></details></div>')


def _badge(res: Result | None) -> str:
    return _BADGE[res.verdict] if res is not None else "not run"


def run_card(ch: Chapter, res: Result, null: Result | None, page: str, commit: str) -> str:
    """The markdown cell under a chapter's title: both verdicts, the paper, the run (profile, wall time,
    commit) and a button that downloads the executed notebook. `page` is the page's book path."""
    depth = page.count("/")
    source = "../" * depth + f"_sources/{page}.ipynb"
    falsification = res.run == "falsification"
    other = f"{{doc}}`the main run <{ch.slug}>`" if falsification else (
        f"{{doc}}`the falsification run <{ch.slug}-null>`" if null is not None and null.notebook is not None else "")
    verdicts = (f"**Verdict** {_badge(res)}" if falsification else
                f"**Verdict** {_badge(res)} · **with the cause removed** {_badge(null) if ch.null else _NO_NULL}"
                + (f" {_NOT_FALSIFIABLE}" if null is not None and not_falsifiable(res, null) else ""))
    wall = f"{res.wall_time_s:.1f} s"
    record = res.record or {}
    lines = [":::{container} genbook-runcard",
             verdicts + (f" · {other}" if other else ""),
             "",
             f"**Paper** {paper_markdown(ch.paper)}",
             "",
             f"**Run** profile `{_cell(res.label)}` · wall time {wall} · {len(record.get('seeds', []))} seeds · "
             f"built from commit `{commit}`",
             "",
             f'<a class="genbook-download" href="{source}" download="{ch.slug}{"-null" if falsification else ""}.ipynb">'
             f"Download the executed notebook (.ipynb)</a>",
             ":::"]
    return "\n".join(lines)


def _present(nb: Any, card: str) -> Any:
    """The book's presentation of an executed notebook: the run card under the title, the verdict box
    redrawn, long code cells collapsed."""
    import nbformat

    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    lines = first.source.split("\n") if first is not None else []
    heading = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
    if heading is not None:  # right under the title
        first.source = "\n".join(lines[:heading + 1] + ["", card, ""] + lines[heading + 1:])
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(card))
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if cell.source.count("\n") + 1 > LONG_CELL and "hide-input" not in tags:
            tags.append("hide-input")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME_TYPE in data and "text/html" in data:
                rec = data[MIME_TYPE]
                data["text/html"] = verdict_card_html(json.loads(rec) if isinstance(rec, str) else dict(rec))
    return nb


def place_notebooks(chapters: list[Chapter], results: list[Result], book: Path = BOOK) -> None:
    """Copy each executed notebook to book/chapters/<part>/<slug>.ipynb, and its falsification run (when it
    ran) to <slug>-null.ipynb, each with a run card under its title (verdicts, paper, profile, wall time,
    commit, a download button), the verdict box redrawn and long code cells collapsed; stale ones are
    removed first."""
    import nbformat

    target = book / "chapters"
    shutil.rmtree(target, ignore_errors=True)
    commit = built_from()
    for ch, res, null in _by_run(chapters, results):
        dst = target / ch.part / f"{ch.slug}.ipynb"
        dst.parent.mkdir(parents=True, exist_ok=True)
        nb = nbformat.read(res.notebook if res.notebook else ch.notebook, as_version=4)
        page = f"chapters/{ch.part}/{ch.slug}"
        nbformat.write(_present(nb, run_card(ch, res, null, page, commit)), dst)
        if null is not None and null.notebook is not None:
            nb = _present(_falsification_notebook(ch, null), run_card(ch, null, null, null_page(ch), commit))
            nbformat.write(nb, book / f"{null_page(ch)}.ipynb")


def write_toc(chapters: list[Chapter], book: Path = BOOK) -> None:
    """The toc: intro, scoreboard, then each part page with its chapters (and their falsification runs)."""
    lines = ["# Generated by `genbook build`; do not edit.", "format: jb-book", "root: intro", "parts:",
             "  - caption: The book", "    chapters:", "      - file: scoreboard"]
    for part in PARTS:
        lines += [f"  - caption: {json.dumps(PART_TITLES[part])}", "    chapters:", f"      - file: parts/{part}"]
        members = [c for c in chapters if c.part == part]
        if members:
            lines.append("        sections:")
            for c in members:
                lines.append(f"          - file: chapters/{part}/{c.slug}")
                if (book / f"{null_page(c)}.ipynb").exists():
                    lines += ["            sections:", f"              - file: {null_page(c)}"]
    (book / "_toc.yml").write_text("\n".join(lines) + "\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _null_values(ch: Chapter) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in (ch.null or {}).items())


def _stats_both(r: Result, n: Result | None) -> str:
    """The deciding statistics, one per line: the main run's value, then the falsification run's."""
    if r.record is None:
        return f"error: {_cell(r.error)}"
    rows = []
    for name in r.record["headline"]:
        main = _format(r.record["statistics"].get(name))
        null = _format(n.record["statistics"].get(name)) if n is not None and n.record else ""
        rows.append(f"<code>{name}</code> {main}" + (f" · {null}" if null else ""))
    if n is not None and n.record is None:
        rows.append(f"falsification error: {_cell(n.error)}")
    return "<br>".join(rows)


def scoreboard_markdown(chapters: list[Chapter], results: list[Result]) -> str:
    """The scoreboard page: per part, one row per chapter with both verdicts, then counts and timing."""
    rows = _by_run(chapters, results)
    lines = ["---", "html_theme.sidebar_secondary.remove: true", "---", "",
             "# Scoreboard", "",
             "Every chapter's verdict, computed by its own rule from its own measurements in the run that built "
             "this page, beside the verdict of its **falsification run**: the same sizes and seeds with the "
             "parameter values that remove the cause the paper names (shown under its verdict; the reason is on "
             "the run's page). A chapter that is `supported` with its cause removed as well is marked *not "
             "falsifiable*: its verdict certifies the design, not the paper. *Deciding statistics* are the "
             "numbers the rule reads, main run first, then the falsification run (after the dot); *wall time* "
             "is the chapter's own, from kernel start to verdict (main run + falsification run).", ""]
    for part in PARTS:
        members = [row for row in rows if row[0].part == part]
        if not members:
            continue
        tally = {v: sum(r.verdict == v for _, r, _ in members) for v in _BADGE}
        lines += [f"## {PART_TITLES[part]}", "",
                  f"{len(members)} chapter{'s' if len(members) != 1 else ''}: "
                  + ", ".join(f"{k} {v}" for v, k in tally.items() if k) + ".", "",
                  "| chapter | verdict | with the cause removed | deciding statistics (main · removed) "
                  "| profile, wall time |", "|---|---|---|---|---|"]
        for ch, r, n in members:
            if ch.null is None:
                null_badge = _NO_NULL
            else:
                null_badge = _BADGE[n.verdict] if n is not None else "not run"
                if n is not None and not_falsifiable(r, n):
                    null_badge += f" {_NOT_FALSIFIABLE}"
                values = _cell(_null_values(ch))
                if n is not None and n.notebook is not None:
                    null_badge += f"<br><small>{{doc}}`{values} <{null_page(ch)}>`</small>"
                else:
                    null_badge += f"<br><small>{values}</small>"
            wall = r.wall_time_s + (n.wall_time_s if n is not None else 0.0)
            lines.append(f"| {{doc}}`{_cell(ch.title)} <chapters/{ch.part}/{ch.slug}>`<br><small>{_cell(ch.paper)}"
                         f"</small> | {_BADGE[r.verdict]} | {null_badge} | <small>{_stats_both(r, n)}</small> | "
                         f"`{_cell(r.label)}`<br>{wall:.0f} s |")
        lines.append("")
    counts = {v: sum(r.verdict == v for _, r, _ in rows) for v in _BADGE}
    null_counts = {v: sum(n is not None and n.verdict == v for _, _, n in rows) for v in _BADGE}
    flagged = [ch for ch, r, n in rows if not_falsifiable(r, n)]
    missing = [ch for ch, _, _ in rows if ch.null is None]
    lines += ["## Totals", "",
              "**All chapters:** " + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ".", "",
              "**With the cause removed:** " + (", ".join(f"{n} {v}" for v, n in null_counts.items() if n) or "none run")
              + ".", "",
              f"**Not falsifiable:** {len(flagged)}" + (" (" + ", ".join(
                  f"{{doc}}`{_cell(ch.title)} <chapters/{ch.part}/{ch.slug}>`" for ch in flagged) + ")" if flagged else "")
              + "." + (f" **No falsification run declared:** {len(missing)}." if missing else ""), "",
              "## Timing", "", "| part | chapters | wall time (s) |", "|---|---|---|"]
    for part in PARTS:
        rs = [r for r in results if r.part == part]
        if rs:
            lines.append(f"| {part} | {len({r.chapter for r in rs})} | {sum(r.wall_time_s for r in rs):.1f} |")
    lines.append(f"| **all** | {len(rows)} | {sum(r.wall_time_s for r in results):.1f} |")
    return "\n".join(lines) + "\n"


def build_html(book: Path = BOOK, strict: bool = True) -> int:
    """Run `jupyter-book build` (warnings as errors, nitpicky references); returns its exit status."""
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(book), "--builder", "html", "--keep-going"]
    if strict:
        cmd += ["-W", "-n"]
    return subprocess.run(cmd, cwd=ROOT).returncode
