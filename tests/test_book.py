"""The book builds offline from the smoke runs, strict (-W -n), with a scoreboard row per chapter showing
the main verdict beside the falsification run's."""
import shutil

from conftest import CHAPTERS
from genutils.build import book, runner


def test_book_builds_with_a_complete_scoreboard(tmp_path, smoke_runs):
    src = tmp_path / "book"
    shutil.copytree(runner.BOOK_DIR, src, ignore=shutil.ignore_patterns("_build", "chapters", "_toc.yml",
                                                                         "scoreboard.md"))
    chapters = CHAPTERS
    results = [smoke_runs[c.name, run] for c in chapters for run in runner.RUNS]
    book.place_notebooks(chapters, results, src)
    book.write_toc(chapters, src)
    scoreboard = book.scoreboard_markdown(chapters, results)
    (src / "scoreboard.md").write_text(scoreboard)
    assert book.build_html(src) == 0, "jupyter-book build -W -n failed (see the log above)"
    html = src / "_build" / "html"
    for c in chapters:
        page = (html / "chapters" / c.part / f"{c.slug}.html").read_text()
        assert "Verdict:" in page, f"{c.name}: the verdict box is not on the page"
        assert f"chapters/{c.part}/{c.slug}" in scoreboard
        null = (html / f"{book.null_page(c)}.html").read_text()
        assert "the falsification run" in null and "Verdict:" in null, f"{c.name}: no falsification-run page"
    board = (html / "scoreboard.html").read_text()
    assert "cause removed" in board and "With the cause removed" in board
    assert all(r.record["verdict"] in board for r in results)
