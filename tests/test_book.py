"""The book builds offline from the smoke runs, strict (-W -n), with a scoreboard row per chapter showing
the main verdict beside the falsification run's, and each chapter page with its run card."""
from conftest import CHAPTERS
from genutils.build import book


def test_book_builds_with_a_complete_scoreboard(smoke_book):
    assert smoke_book.status == 0, "jupyter-book build -W -n failed (see the log above)"
    html, scoreboard, results = smoke_book.html, smoke_book.scoreboard, smoke_book.results
    for c in CHAPTERS:
        page = (html / "chapters" / c.part / f"{c.slug}.html").read_text()
        assert "Verdict:" in page, f"{c.name}: the verdict box is not on the page"
        assert "genbook-runcard" in page and "built from commit" in page, f"{c.name}: no run card"
        assert f"_sources/chapters/{c.part}/{c.slug}.ipynb" in page, f"{c.name}: no download button"
        assert f"chapters/{c.part}/{c.slug}" in scoreboard
        null = (html / f"{book.null_page(c)}.html").read_text()
        assert "the falsification run" in null and "Verdict:" in null, f"{c.name}: no falsification-run page"
    board = (html / "scoreboard.html").read_text()
    assert "cause removed" in board and "With the cause removed" in board
    assert all(r.record["verdict"] in board for r in results)


def test_presentation_helpers():
    import nbformat

    from genutils import verdict

    assert book.paper_markdown("Advani & Saxe 2017, arXiv:1710.03667") == \
        "[Advani & Saxe 2017, arXiv:1710.03667](https://arxiv.org/abs/1710.03667)"
    assert book.paper_markdown("A book, 1999") == "A book, 1999"
    rule = verdict.rule(supported=verdict.cond("gain", ">", 0.1), contradicted=verdict.cond("gain", "<=", 0.1),
                        checks={"exact": verdict.cond("err", "<", 1e-6)})
    record = verdict.make_record(chapter="c", parameters={}, verdict_rule=rule, statistics={"gain": 0.25, "err": 0.0},
                                 seeds=[0, 1], started=0.0, profile="smoke", environment={})
    card = book.verdict_card_html(record)
    assert "Verdict: supported" in card and "genbook-verdict-supported" in card
    assert "<code>gain</code> = <b>0.25</b>" in card and "instrument checks: 1 of 1 pass" in card
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title\nText."),
                                         nbformat.v4.new_code_cell("x = 1\n" * 40), nbformat.v4.new_code_cell("y")])
    out = book._present(nb, "CARD")
    assert out.cells[0].source == "# Title\n\nCARD\n\nText."
    assert "hide-input" in out.cells[1].metadata["tags"] and "hide-input" not in out.cells[2].metadata.get("tags", [])
