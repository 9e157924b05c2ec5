"""`genbook sweep`: grids checked before submission, points run on a real Dask LocalCluster (loopback),
failures isolated per point, the cache shared with `genbook run`, a tidy table and a plot."""
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from genutils.build import cli, runner, sweep
from genutils.params import ParameterError

FIXTURES = Path(__file__).parent / "fixtures" / "studies"

FLAKY = textwrap.dedent('''\
    # ---
    # jupyter:
    #   genbook:
    #     part: theory
    #     title: A chapter that fails or kills its worker on request
    #     'null':
    #       scale: 0.1
    #     null_reason: A small scale.
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---

    # %%
    import os, signal
    import genutils as gu

    # %% tags=["parameters"]
    crash = 0
    scale = 1.0

    # %%
    P = gu.check_params(globals(), crash=gu.Int(min=0, max=2), scale=gu.Float(gt=0))

    # %%
    if P.crash == 1:
        raise RuntimeError("this point fails")
    if P.crash == 2:
        os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent is the Dask worker
    gu.report_verdict(chapter="flaky", params=P, rule=gu.rule(supported=gu.cond("x", ">=", 1.0),
                      contradicted=gu.cond("x", "<", 1.0)), statistics={"x": 2 * P.scale}, seeds=[0])
    ''')


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "WORK", tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def tiny():
    return next(c for c in runner.discover(FIXTURES) if c.slug == "tiny")


@pytest.fixture
def no_cluster(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(sweep, "_client", refuse)


def test_values_split_on_top_level_commas_only():
    assert sweep.split_values("0.1, 2,abc") == [0.1, 2, "abc"]
    assert sweep.split_values("[1,2],[3],'a,b'") == [[1, 2], [3], "a,b"]
    assert sweep.grid_points(sweep.parse_grid([("a", "1,2"), ("b", "x,y")])) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    with pytest.raises(ParameterError, match="parameter 'a': is given twice"):
        sweep.parse_grid([("a", "1"), ("a", "2")])


@pytest.mark.parametrize("grid, message", [
    ({"valeu": [1.0]}, "parameter 'valeu'"),
    ({"value": ["big"]}, "parameter 'value'"),
    ({"value": [0.5, -1.0]}, r"parameter 'value'.*grid point \{'value': -1.0\}"),
    ({"seed": [0, -3]}, r"parameter 'seed'"),
])
def test_a_bad_grid_fails_before_anything_is_submitted(tiny, home, no_cluster, grid, message):
    with pytest.raises(ParameterError, match=message):
        sweep.run_sweep(tiny, grid, profile="smoke", show_progress=False)


def test_points_run_on_a_local_cluster_fail_alone_and_resume_from_the_cache(tmp_path, home, monkeypatch):
    (tmp_path / "studies" / "theory").mkdir(parents=True)
    (tmp_path / "studies" / "theory" / "flaky.py").write_text(FLAKY)
    (flaky,) = runner.discover(tmp_path / "studies")
    grid = {"crash": [0, 1, 2], "scale": [0.25]}
    results = sweep.run_sweep(flaky, grid, workers=2, out_dir=tmp_path / "out", show_progress=False)
    frame = pd.DataFrame(sweep.rows(results))
    ok = frame[frame.crash == 0]
    assert list(ok.status) == ["ok"] and list(ok.verdict) == ["contradicted"] and list(ok["stat.x"]) == [0.5]
    failed = frame[frame.crash == 1]
    assert (failed.status == "failed").all() and failed.error.str.contains("this point fails").all()
    killed = frame[frame.crash == 2]
    assert (killed.status == "failed").all() and killed.error.str.contains("KilledWorker").all(), killed.error
    assert not list((tmp_path / "out").glob(".*partial*"))

    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started although every good point is cached")

    monkeypatch.setattr(sweep, "_client", refuse)
    again = sweep.run_sweep(flaky, {"crash": [0], "scale": [0.25]}, out_dir=tmp_path / "out2",
                            show_progress=False)
    assert [r.status for _, r in again] == ["cached"]
    (run,) = runner.run_chapters([flaky], "cpu", {"crash": 0, "scale": 0.25}, out_dir=tmp_path / "run",
                                 show_progress=False)
    assert run.status == "cached", "genbook run -p shares the sweep's cache"


def test_both_runs_at_every_point_make_a_tidy_table_and_a_plot(tmp_path, home, tiny):
    grid = sweep.parse_grid([("seed", "0,1")])
    results = sweep.run_sweep(tiny, grid, profile="smoke", runs=runner.RUNS, workers=2, out_dir=tmp_path / "o",
                              show_progress=False)
    table = tmp_path / "t.csv"
    frame = sweep.write_table(results, table)
    back = pd.read_csv(table)
    assert list(back.columns[:4]) == ["seed", "run", "status", "verdict"]
    assert len(back) == 4 and list(back.run) == ["main", "falsification"] * 2
    assert list(back.verdict) == ["supported", "contradicted"] * 2  # smoke value 0.75 doubled; null 0.25
    assert list(back["stat.doubled"]) == [1.5, 0.5, 1.5, 0.5]
    png = sweep.plot_statistic(frame, grid, "doubled", tmp_path / "p.png")
    assert png.stat().st_size > 1000
    with pytest.raises(ValueError, match="no statistic 'nope'.*doubled"):
        sweep.plot_statistic(frame, grid, "nope", tmp_path / "q.png")


def test_the_command_refuses_a_bad_grid_naming_the_parameter(capsys, no_cluster):
    assert cli.main(["sweep", "aggregate_responses", "-g", "seed", "-1", "--profile", "smoke"]) == 2
    assert "parameter 'seed'" in capsys.readouterr().err
