"""Ctrl-C or SIGTERM stops a run: every worker and kernel ends, nothing partial stays, nothing is cached."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

SLOW = textwrap.dedent('''\
    # ---
    # jupyter:
    #   genbook:
    #     part: theory
    #     title: A chapter that waits
    #     'null':
    #       pause: 0.5
    #     null_reason: A shorter pause.
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---

    # %%
    import os, pathlib, time
    import genutils as gu

    # %% tags=["parameters"]
    pause = 60.0

    # %%
    P = gu.check_params(globals(), pause=gu.Float(min=0))
    pathlib.Path(os.environ["SLOW_MARKER"]).write_text(str(os.getpid()))
    time.sleep(P.pause)
    gu.report_verdict(chapter="slow", params=P, rule=gu.rule(supported=gu.cond("pause", ">", 0)),
                      statistics={"pause": P.pause}, seeds=[0])
    ''')

DRIVERS = {
    "run": ("import sys; from pathlib import Path; from genutils.build import runner; "
            "runner.run_chapters(runner.discover(Path(sys.argv[1])), 'cpu', runs=runner.RUNS, jobs=2, "
            "show_progress=False)"),
    "sweep": ("import sys; from pathlib import Path; from genutils.build import runner, sweep; "
              "sweep.run_sweep(runner.discover(Path(sys.argv[1]))[0], {'pause': [30.0, 40.0]}, workers=2, "
              "out_dir=runner.WORK / 'runs', show_progress=False)"),
}


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


@pytest.mark.parametrize("command, sig", [("run", signal.SIGINT), ("run", signal.SIGTERM), ("sweep", signal.SIGINT)])
def test_a_signal_stops_the_run_its_workers_and_kernels(tmp_path, command, sig):
    studies, home, marker = tmp_path / "studies", tmp_path / "home", tmp_path / "started"
    (studies / "theory").mkdir(parents=True)
    (studies / "theory" / "slow.py").write_text(SLOW)
    env = {**os.environ, "GENBOOK_HOME": str(home), "SLOW_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVERS[command], str(studies)], env=env,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not marker.exists():  # a kernel is executing the chapter
            assert proc.poll() is None and time.time() < deadline, "the slow chapter never started"
            time.sleep(0.2)
        time.sleep(0.5)
        started = _descendants(proc.pid)
        kernels = [p for p in started if "ipykernel" in " ".join(p.cmdline())]
        kernels += [psutil.Process(int(marker.read_text()))]
        assert kernels, "no kernel seen among the run's processes"
        t0 = time.time()
        proc.send_signal(sig)
        proc.wait(timeout=10)
        stop_s = time.time() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert stop_s < 10, f"the {command} took {stop_s:.1f} s to stop"
    assert proc.returncode != 0
    gone, alive = psutil.wait_procs(started + kernels, timeout=5)
    assert not alive, f"still running after the signal: {[p.cmdline()[:3] for p in alive]}"
    runs = home / "runs"
    left = [p.name for p in runs.rglob("*")] if runs.exists() else []
    assert not [n for n in left if "partial" in n], f"partial notebooks left: {left}"
    cache = home / "cache"
    assert not (cache.exists() and any(cache.iterdir())), "an interrupted run reached the cache"


def test_the_command_line_says_interrupted_and_exits_130(monkeypatch, capsys):
    from genutils.build import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_list", interrupted)
    assert cli.main(["list"]) == 130
    assert "interrupted" in capsys.readouterr().err
