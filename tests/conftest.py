"""Test-session set-up: no network for this process or any child (chapter kernels included)."""
import os
import sys
from pathlib import Path

GUARD = Path(__file__).parent / "netguard"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(GUARD))
import sitecustomize as netguard  # noqa: E402  - the guard module, installed on import

assert netguard.socket.getaddrinfo is netguard._getaddrinfo


import pytest  # noqa: E402

from genutils.build import runner  # noqa: E402

# GENBOOK_TEST_CHAPTERS=slug,part/slug,... limits the chapter tests while a chapter is being written.
_only = [n for n in os.environ.get("GENBOOK_TEST_CHAPTERS", "").split(",") if n]
CHAPTERS = runner.select(runner.discover(), _only)
JOBS = 2  # chapters executed at once (this machine has 2 cores)


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory):
    """Every chapter's main and falsification runs executed once at smoke, uncached, shared by the chapter
    and book tests; keyed by (part/slug, run)."""
    out = tmp_path_factory.mktemp("smoke")
    results = runner.run_chapters(CHAPTERS, "smoke", runs=runner.RUNS, jobs=JOBS, out_dir=out, use_cache=False)
    return {(r.chapter, r.run): r for r in results}


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory, smoke_runs):
    """The book built once, strictly (-W -n), from the smoke runs, in a scratch copy of book/; shared by the
    book and browser tests. Attributes: src, html (the built site), status (jupyter-book's exit status),
    scoreboard (its markdown) and results."""
    import shutil
    from types import SimpleNamespace

    from genutils.build import book

    src = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(runner.BOOK_DIR, src, ignore=shutil.ignore_patterns("_build", "chapters", "_toc.yml",
                                                                         "scoreboard.md"))
    results = [smoke_runs[c.name, run] for c in CHAPTERS for run in runner.RUNS]
    book.place_notebooks(CHAPTERS, results, src)
    book.write_toc(CHAPTERS, src)
    scoreboard = book.scoreboard_markdown(CHAPTERS, results)
    (src / "scoreboard.md").write_text(scoreboard)
    status = book.build_html(src)
    return SimpleNamespace(src=src, html=src / "_build" / "html", status=status, scoreboard=scoreboard,
                           results=results)
