"""Chapters and genutils run wherever `gu.device()` points: checked on PyTorch's meta device.

The meta device has shapes but no values, so a device mismatch (a tensor made on the CPU meeting one
made on the chosen device) raises just as on CUDA, at no compute cost. Library code runs whole on it;
a chapter runs until it first reads a value, and must not hit a mismatch before that.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genutils import many
from genutils.build import runner

from conftest import CHAPTERS

BUGGY = textwrap.dedent('''\
    # ---
    # jupyter:
    #   genbook:
    #     part: theory
    #     title: A chapter that forgets the device
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---

    # %%
    import torch
    import genutils as gu

    # %% tags=["parameters"]
    n = 4

    # %%
    P = gu.check_params(globals(), n=gu.Int(min=1))

    # %%
    weights = torch.zeros(P.n, device=gu.device())
    shift = torch.ones(P.n)  # made on the CPU: a bug on any other device
    print((weights + shift).sum().item())
    ''')


def _devicecheck(paths):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "genutils.build.devicecheck", *map(str, paths)],
                          capture_output=True, text=True, env=env, cwd=runner.ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("devicecheck: ")][-1]
    return json.loads(line.removeprefix("devicecheck: "))


@pytest.fixture(scope="module")
def meta_reports():
    return _devicecheck([c.path for c in CHAPTERS])


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapter_has_no_device_mismatch_on_meta(chapter, meta_reports):
    report = meta_reports[str(chapter.path)]
    assert not report["mismatch"], f"{chapter.name} mixes devices: {report['stopped_by']}"
    assert report["cells_run"] >= 2, f"{chapter.name} stopped before its parameter check: {report['stopped_by']}"


def test_the_check_finds_a_tensor_left_on_the_cpu(tmp_path):
    path = tmp_path / "theory" / "buggy.py"
    path.parent.mkdir()
    path.write_text(BUGGY)
    (report,) = _devicecheck([path]).values()
    assert report["mismatch"] and "expected device" in report["stopped_by"], report


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_the_many_models_trainer_runs_whole_on_meta(optimizer):
    def mlp():
        return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))

    models = many.stack(mlp, [0, 1], device="meta")
    x, y = torch.randn(64, 6, device="meta"), torch.randint(3, (64,), device="meta")
    many.train_many(models, x, y, F.cross_entropy, steps=3, batch_size=16, data_seeds=[0, 1], optimizer=optimizer,
                    lr=[0.1, 0.2], weight_decay=0.1, momentum=0.9, clip=1.0, schedule=lambda t: 1 / (t + 1))
    assert all(p.device.type == "meta" for p in models.params.values())
