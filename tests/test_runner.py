"""The runner on two fixture chapters: one that works, one that fails half-way."""
import shutil
from pathlib import Path

import jupytext
import nbformat
import papermill
import pytest

from genutils.build import runner
from genutils.build.cli import _runs, main, parser
from genutils.params import ParameterError

FIXTURES = Path(__file__).parent / "fixtures" / "studies"


@pytest.fixture
def chapters():
    return {c.slug: c for c in runner.discover(FIXTURES)}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "WORK", tmp_path)
    return tmp_path


def test_discover_reads_metadata_and_defaults(chapters):
    assert [c.name for c in runner.discover(FIXTURES)] == ["theory/tiny", "dynamics/broken"]
    tiny = chapters["tiny"]
    assert tiny.defaults == {"seed": 0, "value": 1.0}
    assert tiny.profiles == {"cpu": {}, "smoke": {"value": 0.75}}
    assert tiny.title.startswith("A tiny chapter")
    assert tiny.null == {"value": 0.25} and tiny.null_reason.startswith("A small value")
    assert chapters["broken"].null is None


def _write(tmp_path, text, part="theory", name="bad.py"):
    path = tmp_path / part / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


HEADER = "# ---\n# jupyter:\n#   genbook:\n#     part: {part}\n#     profiles:\n#       smoke: {{{smoke}}}\n# ---\n\n"


@pytest.mark.parametrize("header, body, message", [
    ("", "# %% tags=['parameters']\nseed = 0\n", "no 'genbook' metadata"),
    (HEADER.format(part="theory", smoke=""), "# %%\nseed = 0\n", "exactly one cell tagged 'parameters'"),
    (HEADER.format(part="theory", smoke="sed: 1"), "# %% tags=['parameters']\nseed = 0\n", "unknown parameter(s) sed"),
    (HEADER.format(part="ood", smoke=""), "# %% tags=['parameters']\nseed = 0\n", "part 'ood'"),
    (HEADER.replace("#     part", "#     null:\n#       seed: 1\n#     part").format(part="theory", smoke=""),
     "# %% tags=['parameters']\nseed = 0\n", "write it quoted"),
    (HEADER.replace("#     part", "#     'null':\n#       sed: 1\n#     null_reason: x\n#     part").format(
        part="theory", smoke=""), "# %% tags=['parameters']\nseed = 0\n", "parameter 'sed'"),
    (HEADER.replace("#     part", "#     'null':\n#       seed: 1\n#     part").format(part="theory", smoke=""),
     "# %% tags=['parameters']\nseed = 0\n", "needs a 'null_reason'"),
    (HEADER.replace("#     part", "#     'null':\n#       seed: 'one'\n#     null_reason: x\n#     part").format(
        part="theory", smoke=""), "# %% tags=['parameters']\nseed = 0\n", "expected a value like the default 0"),
])
def test_broken_conventions_are_reported(tmp_path, header, body, message):
    with pytest.raises(runner.ChapterError) as err:
        runner.load_chapter(_write(tmp_path, header + body))
    assert message in str(err.value)


def test_select_by_slug_part_and_path(chapters):
    all_ = runner.discover(FIXTURES)
    assert [c.slug for c in runner.select(all_, ["tiny"])] == ["tiny"]
    assert [c.slug for c in runner.select(all_, ["dynamics"])] == ["broken"]
    assert [c.slug for c in runner.select(all_, ["studies/theory/tiny.py", "tiny"])] == ["tiny"]
    assert len(runner.select(all_, ["all"])) == 2
    with pytest.raises(runner.ChapterError, match="no chapter matches 'tinny'"):
        runner.select(all_, ["tinny"])


def test_resolve_layers_profile_then_overrides(chapters):
    tiny = chapters["tiny"]
    assert runner.resolve(tiny, "smoke") == ({"seed": 0, "value": 0.75}, {"value": 0.75})
    assert runner.resolve(tiny, "smoke", {"seed": 3}) == ({"seed": 3, "value": 0.75}, {"seed": 3, "value": 0.75})
    assert runner.resolve(tiny, "cpu") == ({"seed": 0, "value": 1.0}, {})
    with pytest.raises(ParameterError, match="'gpu' is not a profile"):
        runner.resolve(tiny, "gpu")
    with pytest.raises(ParameterError, match="parameter 'valeu'"):
        runner.resolve(tiny, "cpu", {"valeu": 2.0})


def test_batch_isolates_failures_and_caches_only_complete_runs(chapters, home):
    batch = [chapters["tiny"], chapters["broken"]]
    first = runner.run_chapters(batch, "smoke", jobs=2, show_progress=False)
    tiny, broken = first
    assert tiny.status == "ok" and tiny.record["verdict"] == "supported"
    assert tiny.record["statistics"] == {"doubled": 1.5, "value": 0.75} and tiny.record["profile"] == "smoke"
    assert broken.status == "failed" and "this chapter breaks on purpose" in broken.error
    assert broken.notebook is not None and broken.notebook.exists()  # kept, to show the error
    cached = sorted(p.name for p in (home / "cache").iterdir())
    assert len(cached) == 1 and cached[0].startswith("tiny-")

    second = runner.run_chapters(batch, "smoke", jobs=2, show_progress=False)
    assert [r.status for r in second] == ["cached", "failed"]
    assert second[0].record == tiny.record

    # A cache entry without a verdict record (half-written, say) is never trusted.
    entry = next((home / "cache").iterdir())
    nbformat.write(nbformat.v4.new_notebook(), entry)
    third = runner.run_chapters([chapters["tiny"]], "smoke", show_progress=False)
    assert third[0].status == "ok"
    assert not [p for p in (home / "cache").iterdir() if p.name.startswith(".")]  # no temporary files left


def test_falsification_run_lays_the_null_values_over_the_profile(chapters, home):
    tiny = chapters["tiny"]
    assert runner.resolve(tiny, "smoke", run="falsification") == ({"seed": 0, "value": 0.25}, {"value": 0.25})
    assert runner.resolve(tiny, "smoke", {"seed": 2}, run="falsification")[0] == {"seed": 2, "value": 0.25}
    with pytest.raises(ParameterError, match="set by the falsification run"):
        runner.resolve(tiny, "smoke", {"value": 2.0}, run="falsification")
    with pytest.raises(ParameterError, match="declares no falsification run"):
        runner.resolve(chapters["broken"], "smoke", run="falsification")
    main, null = runner.run_chapters([tiny], "smoke", runs=runner.RUNS, jobs=2, show_progress=False)
    assert (main.run, main.verdict, null.run, null.verdict) == ("main", "supported", "falsification", "contradicted")
    assert null.record["run"] == "falsification" and null.record["parameters"]["value"] == 0.25
    assert null.notebook.name == "tiny.null.ipynb" and main.notebook.name == "tiny.ipynb"
    assert null.record["checks"] == {"value_positive": True}
    again = runner.run_chapters([tiny], "smoke", runs=("falsification",), show_progress=False)
    assert again[0].status == "cached" and again[0].record == null.record  # each run has its own cache entry
    assert not runner.not_falsifiable(main, null) and runner.not_falsifiable(main, main)


def test_scoreboard_shows_both_verdicts_and_marks_a_chapter_that_cannot_fail(chapters):
    from genutils.build import book

    tiny, broken = chapters["tiny"], chapters["broken"]

    def result(ch, run, verdict):
        record = {"verdict": verdict, "statistics": {"s": 1.0}, "headline": ["s"], "wall_time_s": 1.0}
        return runner.Result(ch.name, ch.part, ch.slug, "smoke", "ok", run=run, record=record)

    board = book.scoreboard_markdown([tiny, broken], [
        result(tiny, "main", "supported"), result(tiny, "falsification", "supported"),
        result(broken, "main", "supported")])
    assert "| chapter | verdict | with the cause removed | deciding statistics" in board
    assert "`not falsifiable`" in board and "**Not falsifiable:** 1 (" in board
    assert "none declared" in board and "**No falsification run declared:** 1." in board
    board = book.scoreboard_markdown([tiny], [result(tiny, "main", "supported"),
                                              result(tiny, "falsification", "contradicted")])
    assert "**Not falsifiable:** 0." in board and "{bdg-danger}`contradicted`" in board


def test_bad_parameters_fail_before_any_kernel_starts(chapters, home):
    (res,) = runner.run_chapters([chapters["tiny"]], "smoke", {"valeu": 2.0}, show_progress=False)
    assert res.status == "failed" and "parameter 'valeu'" in res.error and res.notebook is None
    (res,) = runner.run_chapters([chapters["tiny"]], "smoke", {"value": "big"}, show_progress=False)
    assert res.status == "failed" and "parameter 'value'" in res.error


def test_plain_papermill_run_rejects_an_unknown_parameter(chapters, tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="parameter 'valeu': unknown"):
        papermill.execute_notebook(jupytext.read(chapters["tiny"].path), str(tmp_path / "out.ipynb"),
                                   parameters={"valeu": 2.0}, kernel_name="python3", progress_bar=False)


def test_cli_errors_are_clear(capsys):
    assert main(["run", "no_such_chapter"]) == 2
    assert "no chapter matches 'no_such_chapter'" in capsys.readouterr().err


def test_cli_lists_the_book_chapters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "theory/overtraining_dynamics" in out and "[smoke, cpu, gpu]" in out
    assert main(["list", "--null"]) == 0
    assert "null: " in capsys.readouterr().out


def test_cli_runs_the_falsification_run(capsys, home):
    assert main(["run", str(FIXTURES / "theory" / "tiny.py"), "--profile", "smoke", "--null"]) == 2
    assert "no chapter matches" in capsys.readouterr().err  # fixtures are not book chapters
    assert _runs(parser().parse_args(["run", "x", "--null"])) == ("falsification",)
    assert _runs(parser().parse_args(["run", "x", "--both"])) == ("main", "falsification")
    assert _runs(parser().parse_args(["run", "x"])) == ("main",)
    with pytest.raises(SystemExit):
        parser().parse_args(["run", "x", "--null", "--both"])


def test_timing_table_sorts_by_wall_time_and_totals_by_part():
    rs = [runner.Result("theory/a", "theory", "a", "smoke", "ok", record={"wall_time_s": 3.0}, run_time_s=7.0),
          runner.Result("dynamics/b", "dynamics", "b", "smoke", "cached", record={"wall_time_s": 5.0}),
          runner.Result("theory/c", "theory", "c", "smoke", "failed", error="x", run_time_s=1.5)]
    lines = runner.timing_table(rs).splitlines()
    assert [ln.split()[0] for ln in lines[2:5]] == ["dynamics/b", "theory/a", "theory/c"]
    assert lines[-3].split()[-1] == "4.5"  # part theory: 3.0 + the failed run's 1.5
    assert lines[-1].split()[-2:] == ["9.5", "8.5"]
    null = runner.Result("theory/a", "theory", "a", "smoke", "ok", run="falsification",
                         record={"wall_time_s": 1.0, "statistics": {"s": 2.0}, "headline": ["s"], "verdict": "x"})
    assert "theory/a (null)" in runner.timing_table(rs + [null])
    assert "null" in runner.summary_table([null])


def test_a_broken_chapter_file_is_collected_not_fatal(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "studies")
    (tmp_path / "studies" / "theory" / "half.py").write_text("# ---\n# jupyter:\n#   genbook: [\n# ---\n")
    with pytest.raises(runner.ChapterError, match="half.py"):
        runner.discover(tmp_path / "studies")
    broken = []
    assert [c.slug for c in runner.discover(tmp_path / "studies", broken=broken)] == ["tiny", "broken"]
    assert len(broken) == 1 and "half.py" in str(broken[0])
