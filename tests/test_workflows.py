"""The GitHub Actions workflows are valid against the real workflow schema (vendored in check-jsonschema),
and the GPU check refuses a machine without CUDA with a clear message instead of running on the CPU."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CHECK = Path(sys.executable).with_name("check-jsonschema")


def test_there_are_workflows_for_pull_requests_and_the_gpu_book():
    assert {p.name for p in WORKFLOWS} >= {"test.yml", "book-gpu.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_matches_the_github_workflow_schema(workflow):
    done = subprocess.run([str(CHECK), "--builtin-schema", "vendor.github-workflows", str(workflow)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_can_fail(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    step:\n      - run: true\n")
    done = subprocess.run([str(CHECK), "--builtin-schema", "vendor.github-workflows", str(broken)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


def test_the_gpu_book_workflow_uses_the_gpu_install_and_the_execution_cache():
    text = (ROOT / ".github" / "workflows" / "book-gpu.yml").read_text()
    assert "make install-gpu" in text and ".genbook/cache" in text and "deploy-pages" in text
    assert "torch==2.13.0+cu" in (ROOT / "requirements-gpu.txt").read_text()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the check would run for real")
def test_gpu_check_refuses_a_machine_without_cuda():
    env = {**os.environ, "PY": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 2 and "no CUDA device" in done.stderr
