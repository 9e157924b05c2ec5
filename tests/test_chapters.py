"""Every chapter under studies/: convention, pairing, and real executions at the smoke profile.

Each chapter's main run and its falsification run execute once per session at smoke (two at a
time) and each test reads its result. Determinism is checked on a sample of chapters by a second,
uncached run (all of them with GENBOOK_DETERMINISM=all); impossible parameter values are checked
for every chapter in one Python process, which runs each chapter's cells up to its parameter check.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from genutils.build import runner
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


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_parameter_comments_hold_no_equals_sign(chapter):
    """papermill reads the parameters cell line by line and cannot parse a comment holding `=` (README)."""
    cell = next(c for c in jupytext.read(chapter.path).cells if "parameters" in c.metadata.get("tags", []))
    bad = [line for line in cell.source.splitlines() if "#" in line and "=" in line.split("#", 1)[1]]
    assert not bad, f"comments in the parameters cell contain '=': {bad}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_chapter_declares_a_falsification_run(chapter):
    assert chapter.null, "declare genbook 'null': the parameter values that remove the cause the paper names"
    assert len(chapter.null_reason.split()) >= 5, "null_reason: one sentence saying which cause the values remove"
    assert "seed" not in chapter.null, "the falsification run keeps the main run's seeds"
    for profile in chapter.profiles:
        main, _ = runner.resolve(chapter, profile)
        null, _ = runner.resolve(chapter, profile, run="falsification")
        changed = {k for k in main if main[k] != null[k]}
        assert changed, f"at {profile} the falsification run equals the main run"
        assert changed <= set(chapter.null), "the falsification run differs in its null values only"


@pytest.fixture(scope="session")
def second_smoke_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke-again")
    results = runner.run_chapters(DETERMINISM, "smoke", jobs=JOBS, out_dir=out, use_cache=False)
    return {r.chapter: r for r in results}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
@pytest.mark.parametrize("run", runner.RUNS)
def test_smoke_run_emits_one_consistent_verdict(chapter, run, smoke_runs):
    res = smoke_runs[chapter.name, run]
    assert res.status == "ok", f"{chapter.name} ({run} run) failed at smoke: {res.error}"
    record = res.record
    check_record(record)  # complete fields, and the verdict follows from the statistics by the rule
    assert record["chapter"] == chapter.slug
    assert record["profile"] == "smoke" and record["run"] == run
    effective, _ = runner.resolve(chapter, "smoke", run=run)
    assert record["parameters"] == effective
    assert len(runner.read_records(nbformat.read(res.notebook, as_version=4))) == 1
    json.dumps(record, allow_nan=False)  # the record is strict JSON


def _determinism_sample(chapters, size=6):
    """The chapters whose determinism this session checks: all with GENBOOK_DETERMINISM=all, else `size`
    of them (GENBOOK_DETERMINISM=N for N), chosen by a hash of the checked-out commit so that each commit
    checks another sample while a rerun of the same commit checks the same one."""
    wanted = os.environ.get("GENBOOK_DETERMINISM", str(size))
    if wanted == "all":
        return list(chapters)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=runner.ROOT).stdout
    except OSError:
        head = ""
    ranked = sorted(chapters, key=lambda c: hashlib.sha256((head.strip() + c.name).encode()).hexdigest())
    return ranked[:int(wanted)]


DETERMINISM = _determinism_sample(CHAPTERS)


@pytest.mark.parametrize("chapter", DETERMINISM, ids=[c.name for c in DETERMINISM])
def test_same_seed_gives_the_same_numbers(chapter, smoke_runs, second_smoke_runs):
    a, b = smoke_runs[chapter.name, "main"], second_smoke_runs[chapter.name]
    assert a.status == b.status == "ok"
    assert a.record["statistics"] == b.record["statistics"]
    assert a.record["verdict"] == b.record["verdict"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_unknown_parameter_is_named_before_any_compute(chapter):
    (res,) = runner.run_chapters([chapter], "smoke", {"no_such_parameter": 1}, show_progress=False)
    assert res.status == "failed" and "parameter 'no_such_parameter'" in res.error and res.notebook is None




@pytest.fixture(scope="session")
def bad_seed_errors():
    """Every chapter's cells up to its parameter check, with seed=-1, in one Python process."""
    env = {**os.environ, "MPLBACKEND": "Agg", "GENBOOK_QUIET": "1"}
    done = subprocess.run([sys.executable, "-m", "genutils.build.precheck", "--set", "seed=-1",
                           *[str(c.path) for c in CHAPTERS]],
                          capture_output=True, text=True, env=env, cwd=runner.ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_impossible_value_fails_at_the_parameter_check_naming_the_parameter(chapter, bad_seed_errors):
    error = bad_seed_errors[str(chapter.path)]
    assert "parameter 'seed'" in error, error


def test_the_kernel_reports_an_impossible_value_naming_the_parameter(tmp_path):
    """The same check through a real kernel, for one chapter (the others are checked in one process)."""
    (res,) = runner.run_chapters(CHAPTERS[:1], "smoke", {"seed": -1}, out_dir=tmp_path, use_cache=False,
                                 show_progress=False)
    assert res.status == "failed" and "parameter 'seed'" in res.error, res.error
