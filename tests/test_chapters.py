"""Every chapter under studies/: convention, pairing, and a real execution at the smoke profile.

The smoke runs happen once per session (two chapters at a time) and each test reads its
result; determinism is checked by a second, uncached run with the same parameters.
"""
import json

import jupytext
import nbformat
import pytest

from genutils import runner
from genutils.verdict import check_record

from conftest import CHAPTERS, JOBS

IDS = [c.name for c in CHAPTERS]


def test_the_book_has_chapters():
    assert CHAPTERS, "no chapter found under studies/"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_py_and_ipynb_agree(chapter):
    assert chapter.notebook.exists(), f"{chapter.notebook} is missing: run `jupytext --sync {chapter.path}`"
    text = jupytext.read(chapter.path)
    nb = nbformat.read(chapter.notebook, as_version=4)

    def cells(notebook):
        return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in notebook.cells]

    assert cells(text) == cells(nb), f"{chapter.path} and its .ipynb differ: run `jupytext --sync`"
    assert text.metadata["genbook"] == nb.metadata["genbook"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code"), \
        "committed notebooks carry no outputs"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_chapter_follows_the_convention(chapter):
    assert {"smoke", "cpu", "gpu"} <= set(chapter.profiles), "every chapter has smoke and gpu profiles"
    assert chapter.title and chapter.paper and chapter.claim, "title, paper and claim belong in the metadata"
    assert "seed" in chapter.defaults, "every chapter has a `seed` parameter"
    assert all(v is not ... for v in chapter.defaults.values()), "parameter defaults must be literals"


@pytest.fixture(scope="session")
def second_smoke_runs(tmp_path_factory, smoke_runs):
    out = tmp_path_factory.mktemp("smoke-again")
    results = runner.run_chapters(CHAPTERS, "smoke", jobs=JOBS, out_dir=out, use_cache=False)
    return {r.chapter: r for r in results}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_smoke_run_emits_one_consistent_verdict(chapter, smoke_runs):
    res = smoke_runs[chapter.name]
    assert res.status == "ok", f"{chapter.name} failed at smoke: {res.error}"
    record = res.record
    check_record(record)  # complete fields, and the verdict follows from the statistics by the rule
    assert record["chapter"] == chapter.slug
    assert record["profile"] == "smoke"
    effective, _ = runner.resolve(chapter, "smoke")
    assert record["parameters"] == effective
    assert len(runner.read_records(nbformat.read(res.notebook, as_version=4))) == 1
    json.dumps(record, allow_nan=False)  # the record is strict JSON


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_same_seed_gives_the_same_numbers(chapter, smoke_runs, second_smoke_runs):
    a, b = smoke_runs[chapter.name], second_smoke_runs[chapter.name]
    assert a.status == b.status == "ok"
    assert a.record["statistics"] == b.record["statistics"]
    assert a.record["verdict"] == b.record["verdict"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_unknown_parameter_is_named_before_any_compute(chapter):
    (res,) = runner.run_chapters([chapter], "smoke", {"no_such_parameter": 1}, show_progress=False)
    assert res.status == "failed" and "parameter 'no_such_parameter'" in res.error and res.notebook is None


@pytest.fixture(scope="session")
def bad_seed_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("bad")
    results = runner.run_chapters(CHAPTERS, "smoke", {"seed": -1}, jobs=JOBS, out_dir=out, use_cache=False)
    return {r.chapter: r for r in results}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_impossible_value_fails_in_the_kernel_naming_the_parameter(chapter, bad_seed_runs):
    res = bad_seed_runs[chapter.name]
    assert res.status == "failed" and "parameter 'seed'" in res.error, res.error
